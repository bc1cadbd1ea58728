//! Static files, embedded in the binary so the platform is one file to deploy.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
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

pub async fn serve(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == path) {
        Some((_, mime, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "未找到文件").into_response(),
    }
}
