//! HTTP `Range` requests (RFC 9110 §14) for evidence and package downloads: a recording
//! can be seeked, a large download resumed.

use axum::http::{HeaderMap, header};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// What a `Range` request header asks of a file of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range (none, another unit, several ranges): the whole file, 200.
    Full,
    /// One satisfiable range, half-open and within the file: 206.
    Partial(std::ops::Range<u64>),
    /// A malformed byte range or one that lies outside the file: 416.
    Unsatisfiable,
}

/// Reads a `Range` header (RFC 9110 §14.2) for a file of `size` bytes: `bytes=a-b`,
/// `bytes=a-` and `bytes=-n` are served; several ranges are answered with the whole file.
pub fn parse_range(header: &str, size: u64) -> RangeRequest {
    let header = header.trim();
    let Some((unit, spec)) = header.split_once('=') else {
        return RangeRequest::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        // A unit we do not understand is ignored.
        return RangeRequest::Full;
    }
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Unsatisfiable;
    };
    let digits = |s: &str| -> Option<Option<u64>> {
        match s.trim() {
            "" => Some(None),
            d if d.bytes().all(|b| b.is_ascii_digit()) => d.parse().ok().map(Some),
            _ => None,
        }
    };
    let (Some(first), Some(last)) = (digits(first), digits(last)) else {
        return RangeRequest::Unsatisfiable;
    };
    match (first, last) {
        // bytes=-n: the last n bytes.
        (None, Some(n)) if n > 0 && size > 0 => RangeRequest::Partial(size.saturating_sub(n)..size),
        (Some(a), None) if a < size => RangeRequest::Partial(a..size),
        (Some(a), Some(b)) if a <= b && a < size => {
            RangeRequest::Partial(a..b.saturating_add(1).min(size))
        }
        _ => RangeRequest::Unsatisfiable,
    }
}

/// The range to serve of a file of `size` bytes whose strong validator is `etag`: the
/// `Range` header's, unless `If-Range` names another representation (then the whole file).
pub fn requested_range(headers: &HeaderMap, etag: &str, size: u64) -> RangeRequest {
    match headers.get(header::RANGE).and_then(|r| r.to_str().ok()) {
        Some(_)
            if headers
                .get(header::IF_RANGE)
                .is_some_and(|ir| ir.as_bytes() != etag.as_bytes()) =>
        {
            RangeRequest::Full
        }
        Some(r) => parse_range(r, size),
        None => RangeRequest::Full,
    }
}

/// `Content-Disposition` of a download: the UTF-8 name (RFC 6266 `filename*`, which every
/// current browser reads, Chinese included) and an ASCII `fallback` for older clients.
pub fn attachment(name: &str, fallback: &str) -> String {
    let ascii: String = fallback
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, NON_ALPHANUMERIC)
    )
}

#[cfg(test)]
mod tests {
    use super::{RangeRequest, attachment, parse_range};

    #[test]
    fn attachment_names_carry_chinese_and_an_ascii_fallback() {
        assert_eq!(
            attachment("汇编 1.zip", "pkg\"-1.zip"),
            "attachment; filename=\"pkg-1.zip\"; filename*=UTF-8''%E6%B1%87%E7%BC%96%201%2Ezip"
        );
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        use RangeRequest::*;
        let cases: &[(&str, u64, RangeRequest)] = &[
            ("bytes=0-0", 10, Partial(0..1)),
            ("bytes=0-9", 10, Partial(0..10)),
            ("bytes=2-5", 10, Partial(2..6)),
            ("bytes=2-500", 10, Partial(2..10)),
            ("bytes=9-", 10, Partial(9..10)),
            ("bytes=-3", 10, Partial(7..10)),
            ("bytes=-30", 10, Partial(0..10)),
            ("BYTES = 1-2", 10, Partial(1..3)),
            ("bytes=10-", 10, Unsatisfiable),
            ("bytes=10-20", 10, Unsatisfiable),
            ("bytes=5-3", 10, Unsatisfiable),
            ("bytes=-0", 10, Unsatisfiable),
            ("bytes=-", 10, Unsatisfiable),
            ("bytes=a-b", 10, Unsatisfiable),
            ("bytes=+1-2", 10, Unsatisfiable),
            ("bytes=1", 10, Unsatisfiable),
            ("bytes=99999999999999999999999-", 10, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=0-1,4-5", 10, Full),
            ("items=0-1", 10, Full),
            ("garbage", 10, Full),
        ];
        for (header, size, want) in cases {
            assert_eq!(
                &parse_range(header, *size),
                want,
                "{header} of {size} bytes"
            );
        }
    }
}
