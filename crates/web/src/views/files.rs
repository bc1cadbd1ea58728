//! Evidence files: streamed uploads (never buffered whole; hashed on the way to the file
//! store) and streamed downloads, both behind the task's access rules.

use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_domain::task::ActorRole;
use fazhi_files::{FileError, sanitize_file_name};
use fazhi_store::{EvidenceContent, EvidenceId, TaskId};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::flash;
use super::work::{evidence_access, new_evidence, opt_date, task_access};
use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;

impl From<FileError> for WebError {
    fn from(e: FileError) -> Self {
        if e.is_client_error() {
            WebError::BadRequest(e.to_string())
        } else {
            WebError::Internal(e.to_string())
        }
    }
}

/// Multipart field text, limited so a form field cannot be used to send a file.
async fn text_field(field: axum::extract::multipart::Field<'_>) -> WebResult<String> {
    let text = field
        .text()
        .await
        .map_err(|e| WebError::BadRequest(format!("表单内容读取失败：{e}")))?;
    if text.chars().count() > 500 {
        return Err(WebError::BadRequest("表单文字过长（最多500字）".into()));
    }
    Ok(text)
}

/// Stream one uploaded file field into the file store, under the upload limit; returns
/// its cleaned name and what was stored.
async fn store_file(
    state: &AppState,
    field: axum::extract::multipart::Field<'_>,
) -> WebResult<(String, fazhi_files::StoredBlob)> {
    let name = sanitize_file_name(field.file_name().unwrap_or(""));
    let blob = state
        .files
        .put_stream(field, state.config.max_upload_bytes)
        .await?;
    Ok((name, blob))
}

/// Upload a file as a new evidence item. The text fields must come before the file in the
/// form (browsers send fields in document order), so the file can be streamed straight
/// into the store.
pub async fn upload(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> WebResult<Response> {
    let task = TaskId(id);
    if task_access(&state, &cu.user, task).await? != ActorRole::ResponsibleUnit {
        return Err(WebError::Forbidden("只有本单位可以提交佐证材料".into()));
    }
    // Refuse before reading the body: a refused upload must not leave a stored file.
    state.store.ensure_accepts_material(task).await?;
    let (mut title, mut doc_number, mut doc_date) = (String::new(), None, None);
    let mut stored = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(format!("上传中断：{e}")))?
    {
        match field.name().unwrap_or("") {
            "title" => title = text_field(field).await?,
            "doc_number" => doc_number = Some(text_field(field).await?),
            "doc_date" => doc_date = opt_date(&Some(text_field(field).await?), "成文日期")?,
            "file" => stored = Some(store_file(&state, field).await?),
            _ => {}
        }
    }
    let Some((name, blob)) = stored.filter(|(_, b)| b.size > 0) else {
        return Err(WebError::BadRequest(
            "请选择要上传的文件（文件不能为空）".into(),
        ));
    };
    if title.trim().is_empty() {
        title = name.clone();
    }
    state
        .store
        .put_blob(&blob.sha256, blob.size, blob.content_type)
        .await?;
    state
        .store
        .add_evidence(
            task,
            new_evidence(title, doc_number, doc_date),
            EvidenceContent::File {
                blob_sha256: blob.sha256.clone(),
                original_name: Some(name.clone()),
            },
            &cu.user.actor(),
        )
        .await?;
    let dedup = if blob.deduplicated {
        "（与已有文件内容相同，只保存一份）"
    } else {
        ""
    };
    flash(&state, &cu, format!("已上传“{name}”{dedup}")).await?;
    Ok(Redirect::to(&format!("/tasks/{task}")).into_response())
}

/// Replace an evidence item's file with a new version; earlier versions stay readable.
pub async fn replace(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> WebResult<Response> {
    let id = EvidenceId(id);
    let (task, role) = evidence_access(&state, &cu.user, id).await?;
    if role != ActorRole::ResponsibleUnit {
        return Err(WebError::Forbidden(
            "只有本单位可以更新自己的佐证材料".into(),
        ));
    }
    state.store.ensure_accepts_material(task).await?;
    let mut stored = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(format!("上传中断：{e}")))?
    {
        if field.name() == Some("file") {
            stored = Some(store_file(&state, field).await?);
        }
    }
    let Some((name, blob)) = stored.filter(|(_, b)| b.size > 0) else {
        return Err(WebError::BadRequest(
            "请选择新版本的文件（文件不能为空）".into(),
        ));
    };
    state
        .store
        .put_blob(&blob.sha256, blob.size, blob.content_type)
        .await?;
    let version = state
        .store
        .replace_evidence(
            id,
            EvidenceContent::File {
                blob_sha256: blob.sha256.clone(),
                original_name: Some(name.clone()),
            },
            &cu.user.actor(),
        )
        .await?;
    flash(
        &state,
        &cu,
        format!("已上传“{name}”作为第{version}版，此前的版本仍可查阅"),
    )
    .await?;
    Ok(Redirect::to(&format!("/tasks/{task}")).into_response())
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    inline: Option<String>,
    version: Option<u32>,
}

/// Types a browser shows safely by itself.
pub fn previewable(content_type: &str) -> bool {
    matches!(
        content_type,
        "application/pdf"
            | "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "video/mp4"
            | "audio/mpeg"
            | "audio/wav"
            | "audio/mp4"
    )
}

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

pub async fn download(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
    headers: HeaderMap,
) -> WebResult<Response> {
    let id = EvidenceId(id);
    evidence_access(&state, &cu.user, id).await?;
    let e = state.store.evidence(id).await?;
    let wanted = q.version.unwrap_or(e.current_version);
    let v = e
        .versions
        .iter()
        .find(|v| v.version == wanted)
        .ok_or_else(|| WebError::NotFound("没有这个版本".into()))?;
    let (Some(sha), Some(blob)) = (&v.blob_sha256, &v.blob) else {
        return Err(WebError::NotFound("这份材料是网页链接，没有文件".into()));
    };
    // Content-addressed: the SHA-256 is a strong validator of the bytes.
    let etag = format!("\"{sha}\"");
    let range = match headers.get(header::RANGE).and_then(|r| r.to_str().ok()) {
        // A range is only valid for the representation the client has (If-Range).
        Some(_)
            if headers
                .get(header::IF_RANGE)
                .is_some_and(|ir| ir.as_bytes() != etag.as_bytes()) =>
        {
            RangeRequest::Full
        }
        Some(r) => parse_range(r, blob.size),
        None => RangeRequest::Full,
    };
    let mut resp = match range {
        RangeRequest::Full => {
            let stream = state.files.get_stream(sha).await?;
            let len = stream.len();
            let mut resp = Response::new(Body::from_stream(stream.into_stream()));
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            resp
        }
        RangeRequest::Partial(r) => {
            let stream = state.files.get_range(sha, r).await?;
            let (len, total, r) = (stream.len(), stream.size, stream.range.clone());
            let mut resp = Response::new(Body::from_stream(stream.into_stream()));
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = resp.headers_mut();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            if let Ok(v) =
                HeaderValue::from_str(&format!("bytes {}-{}/{total}", r.start, r.end - 1))
            {
                h.insert(header::CONTENT_RANGE, v);
            }
            resp
        }
        RangeRequest::Unsatisfiable => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let h = resp.headers_mut();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", blob.size)) {
                h.insert(header::CONTENT_RANGE, v);
            }
            resp
        }
    };
    let name = v
        .original_name
        .clone()
        .unwrap_or_else(|| format!("{}.bin", e.title));
    let inline = q.inline.is_some() && previewable(&blob.content_type);
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        utf8_percent_encode(&name, NON_ALPHANUMERIC)
    );
    let h = resp.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(if inline {
            &blob.content_type
        } else {
            "application/octet-stream"
        })
        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Uploaded content never runs as a page of this site.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; object-src 'self'",
        ),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

/// Sizes as people read them.
pub fn human_size(bytes: &u64) -> String {
    fazhi_files::human_size(*bytes)
}

#[cfg(test)]
mod tests {
    use super::{RangeRequest, parse_range};

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
