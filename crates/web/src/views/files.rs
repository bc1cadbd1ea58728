//! Evidence files: streamed uploads (never buffered whole; hashed on the way to the file
//! store) and streamed downloads, both behind the task's access rules.

use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
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

pub async fn download(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
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
    let stream = state.files.get_stream(sha).await?;
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
    let mut resp = Response::new(Body::from_stream(stream.into_stream()));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(if inline {
            &blob.content_type
        } else {
            "application/octet-stream"
        })
        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.size));
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
