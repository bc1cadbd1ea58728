//! Static files, embedded in the binary so the platform is one file to deploy.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "vendor/htmx-2.0.8.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/vendor/htmx-2.0.8.min.js"),
    ),
    (
        "vendor/pico-2.1.1.blue.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/vendor/pico-2.1.1.blue.min.css"),
    ),
    (
        "vendor/echarts-6.1.0.common.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/vendor/echarts-6.1.0.common.min.js"),
    ),
    (
        "vendor/echarts-LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../static/vendor/echarts-LICENSE.txt"),
    ),
    (
        "vendor/echarts-NOTICE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../static/vendor/echarts-NOTICE.txt"),
    ),
    (
        "vendor/echarts-LICENSE-d3.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../static/vendor/echarts-LICENSE-d3.txt"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../static/favicon.svg"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/dashboard.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/app.js"),
    ),
];

/// Files worth compressing for the wire: text over a few KiB (echarts is 700 KiB, about a
/// third gzipped, which a liaison's phone on a county network feels).
const COMPRESS_OVER: usize = 4096;

/// The gzip form of each file, made once on first request (not at start: most requests
/// never need echarts).
fn gzipped(index: usize) -> Option<&'static [u8]> {
    static CACHE: std::sync::OnceLock<Vec<Option<Vec<u8>>>> = std::sync::OnceLock::new();
    let all = CACHE.get_or_init(|| {
        FILES
            .iter()
            .map(|(_, mime, bytes)| {
                let text = mime.starts_with("text/") || mime.starts_with("image/svg");
                (text && bytes.len() > COMPRESS_OVER)
                    .then(|| gzip(bytes))
                    .flatten()
            })
            .collect()
    });
    all.get(index)?.as_deref()
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// Whether the client takes gzip: `Accept-Encoding` names `gzip` (or only `*`) with a
/// quality above 0; an explicit `gzip` entry wins over `*`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let quality = parts
            .find_map(|p| p.strip_prefix("q=").map(str::trim))
            .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        if coding.eq_ignore_ascii_case("gzip") {
            gzip = Some(quality > 0.0);
        } else if coding == "*" {
            any = Some(quality > 0.0);
        }
    }
    gzip.or(any).unwrap_or(false)
}

pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = FILES.iter().position(|(name, _, _)| *name == path) else {
        return (StatusCode::NOT_FOUND, "未找到文件").into_response();
    };
    let (_, mime, bytes) = FILES[index];
    let common = [
        (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        ),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    match gzipped(index).filter(|_| accepts_gzip(&headers)) {
        Some(compressed) => (
            common,
            [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
            compressed,
        )
            .into_response(),
        None => (common, bytes).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_sent_only_to_clients_that_take_it() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&h)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, gzip;q=0.8"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("gzip;q=0.000"));
        assert!(!with("gzip;q=0, *"), "an explicit refusal wins over *");
        assert!(!with("br"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn large_text_files_are_compressed_and_decompress_to_themselves() {
        use std::io::Read;
        let index = FILES
            .iter()
            .position(|(n, _, _)| n.starts_with("vendor/echarts-6"))
            .unwrap();
        let compressed = gzipped(index).expect("echarts is compressed");
        assert!(
            compressed.len() * 2 < FILES[index].2.len(),
            "{}",
            compressed.len()
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(compressed)
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == FILES[index].2);
        // Small files go as they are.
        let small = FILES
            .iter()
            .position(|(_, _, b)| b.len() <= COMPRESS_OVER)
            .expect("a small file");
        assert!(gzipped(small).is_none());
    }
}
