//! 佐证材料: files (streamed into the file store) and web links added to a task, new
//! versions of either, review by the office or the lead unit, deletion, and downloads
//! that answer Range requests.

use axum::Form;
use axum::body::Body;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use fazhi_files::{FileError, sanitize_file_name};
use fazhi_store::{EvidenceContent, NewEvidence, Verdict};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::AppState;
use crate::access::{EvidenceReviewer, EvidenceUnit, EvidenceViewer, TaskUnit, TaskViewer};
use crate::error::{WebError, WebResult};
use crate::http_range::{RangeRequest, requested_range};
use crate::views::{flash, opt_date};

#[derive(Deserialize)]
pub struct LinkForm {
    title: String,
    doc_number: Option<String>,
    doc_date: Option<String>,
    url: String,
    published_on: Option<String>,
}

pub(crate) fn new_evidence(
    title: String,
    doc_number: Option<String>,
    doc_date: Option<NaiveDate>,
) -> NewEvidence {
    NewEvidence {
        title,
        doc_number: doc_number
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        doc_date,
    }
}

pub async fn add_link(
    State(state): State<AppState>,
    TaskUnit(TaskViewer { cu, task: id, .. }): TaskUnit,
    Form(f): Form<LinkForm>,
) -> WebResult<Response> {
    let meta = new_evidence(f.title, f.doc_number, opt_date(&f.doc_date, "成文日期")?);
    state
        .store
        .add_evidence(
            id,
            meta,
            EvidenceContent::Link {
                url: f.url.trim().to_string(),
                published_on: opt_date(&f.published_on, "发布日期")?,
            },
            &cu.user.actor(),
        )
        .await?;
    flash(&state, &cu, "网页链接已添加为佐证材料").await?;
    Ok(Redirect::to(&format!("/tasks/{id}#evidence")).into_response())
}

#[derive(Deserialize)]
pub struct RelinkForm {
    url: String,
    published_on: Option<String>,
}

/// Replace a link evidence item by a new link (a new version; earlier ones stay listed).
pub async fn relink(
    State(state): State<AppState>,
    EvidenceUnit(EvidenceViewer {
        cu,
        evidence: id,
        task,
        ..
    }): EvidenceUnit,
    Form(f): Form<RelinkForm>,
) -> WebResult<Response> {
    let published_on = opt_date(&f.published_on, "发布日期")?;
    let url = fazhi_store::evidence::check_url(&f.url)?;
    let current = state.store.evidence(id).await?;
    if current
        .current()
        .is_some_and(|v| v.url.as_deref() == Some(url.as_str()) && v.published_on == published_on)
    {
        return Err(WebError::BadRequest(
            "网址和发布日期都与当前版本相同，无需更新".into(),
        ));
    }
    let version = state
        .store
        .replace_link_evidence(id, &url, published_on, &cu.user.actor())
        .await?;
    flash(
        &state,
        &cu,
        format!("已更换链接，作为第{version}版，此前的版本仍可查阅"),
    )
    .await?;
    Ok(Redirect::to(&format!("/tasks/{task}#evidence")).into_response())
}

#[derive(Deserialize)]
pub struct ReviewForm {
    verdict: String,
    note: Option<String>,
}

pub async fn review(
    State(state): State<AppState>,
    EvidenceReviewer(EvidenceViewer {
        cu,
        evidence: id,
        task,
        ..
    }): EvidenceReviewer,
    Form(f): Form<ReviewForm>,
) -> WebResult<Response> {
    let verdict = match f.verdict.as_str() {
        "ok" => Verdict::Ok,
        "needs_more" => Verdict::NeedsMore,
        other => return Err(WebError::BadRequest(format!("不认识的审核结论“{other}”"))),
    };
    let note = f.note.as_deref().map(str::trim).filter(|s| !s.is_empty());
    state
        .store
        .review_evidence(id, verdict, note, &cu.user.actor())
        .await?;
    flash(&state, &cu, "审核意见已保存").await?;
    Ok(Redirect::to(&format!("/tasks/{task}#evidence")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    EvidenceUnit(EvidenceViewer {
        cu,
        evidence: id,
        task,
        ..
    }): EvidenceUnit,
) -> WebResult<Response> {
    state.store.delete_evidence(id, &cu.user.actor()).await?;
    flash(&state, &cu, "佐证材料已删除（历史版本仍保留在日志中）").await?;
    Ok(Redirect::to(&format!("/tasks/{task}#evidence")).into_response())
}

impl From<FileError> for WebError {
    fn from(e: FileError) -> Self {
        use std::io::ErrorKind as K;
        match e.io_kind() {
            Some(K::StorageFull | K::QuotaExceeded | K::FileTooLarge) => {
                tracing::error!(error = %e, "file store full");
                return WebError::InsufficientStorage(
                    "服务器的文件存储空间已满，文件没有保存。请联系系统管理员清理或扩容后重新上传。"
                        .into(),
                );
            }
            Some(K::PermissionDenied | K::ReadOnlyFilesystem) => {
                tracing::error!(error = %e, "file store not writable");
                return WebError::Unavailable(
                    "服务器无法写入文件存储（权限不足或只读），文件没有保存。请联系系统管理员。"
                        .into(),
                );
            }
            _ => {}
        }
        if e.is_client_error() {
            WebError::BadRequest(e.to_string())
        } else {
            WebError::Internal(e.to_string())
        }
    }
}

/// Longest multipart text field, in bytes, read before anything else is checked.
const MAX_TEXT_FIELD_BYTES: usize = 4096;
/// Longest title and 文号, in characters (the store's limits, checked before the file).
pub(crate) const MAX_TITLE_CHARS: usize = 200;
pub(crate) const MAX_DOC_NUMBER_CHARS: usize = 100;

/// The next part of an upload form; a part whose headers cannot be read (a file name
/// with a line break or another control character) gets a message saying so.
pub(crate) async fn next_part<'a>(
    multipart: &'a mut Multipart,
) -> WebResult<Option<axum::extract::multipart::Field<'a>>> {
    multipart.next_field().await.map_err(|e| {
        let text = e.body_text();
        if text.to_ascii_lowercase().contains("header") {
            WebError::BadRequest(
                "文件名或表单内容含有不允许的字符（如换行符、制表符等控制字符），请给文件改名后重新上传"
                    .into(),
            )
        } else {
            WebError::BadRequest(format!("上传中断：{text}"))
        }
    })
}

/// Multipart field text: UTF-8, at most `max_chars` characters without control
/// characters, read with a byte limit so a form field cannot be used to send a file.
async fn text_field(
    mut field: axum::extract::multipart::Field<'_>,
    what: &str,
    max_chars: usize,
) -> WebResult<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| WebError::BadRequest(format!("表单内容读取失败：{e}")))?
    {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
            return Err(WebError::BadRequest(format!(
                "{what}过长（最多{max_chars}字）"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        WebError::BadRequest(format!(
            "{what}含有无法识别的字符（不是UTF-8编码的文字），请重新输入"
        ))
    })?;
    checked_text(text, what, max_chars)
}

/// A one-line form text: at most `max_chars` characters, no line breaks or control
/// characters.
pub(crate) fn checked_text(text: String, what: &str, max_chars: usize) -> WebResult<String> {
    if text.chars().count() > max_chars {
        return Err(WebError::BadRequest(format!(
            "{what}过长（最多{max_chars}字）"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(WebError::BadRequest(format!(
            "{what}不能含有换行或控制字符"
        )));
    }
    Ok(text)
}

/// Stream one uploaded file field into the file store, under the upload limit; returns
/// its cleaned name and what was stored.
async fn store_file(
    state: &AppState,
    field: axum::extract::multipart::Field<'_>,
) -> WebResult<(String, fazhi_files::StoredBlob)> {
    let raw = field.file_name().unwrap_or("");
    if raw.chars().any(char::is_control) {
        return Err(WebError::BadRequest(
            "文件名含有不允许的控制字符（如换行符、制表符），请给文件改名后重新上传".into(),
        ));
    }
    let name = sanitize_file_name(raw);
    let blob = state
        .files
        .put_stream(field, state.config.max_upload_bytes)
        .await?;
    Ok((name, blob))
}

/// Whether the file's bytes are still in the file store, asked by the store once it holds
/// the file's row (a concurrent clean-up may just have removed the same content).
fn still_stored<'a>(state: &'a AppState, sha256: &'a str) -> fazhi_store::BlobPresence<'a> {
    Box::pin(async move { state.files.exists(sha256).await.unwrap_or(false) })
}

/// The result of an upload, after removing what it stored when it failed.
pub(crate) async fn discard_on_error<T>(
    state: &AppState,
    stored: Option<(String, fazhi_files::StoredBlob)>,
    result: WebResult<T>,
) -> WebResult<T> {
    if result.is_err() {
        discard(state, stored).await;
    }
    result
}

/// After a failed upload: remove the file it stored, unless the same content was there
/// before (another item's) or something refers to it by now. What a crash leaves is
/// collected by the housekeeping task.
async fn discard(state: &AppState, stored: Option<(String, fazhi_files::StoredBlob)>) {
    let Some((_, blob)) = stored else { return };
    if blob.deduplicated {
        return;
    }
    let forgotten = state
        .store
        .forget_unreferenced_blob_with(&blob.sha256, state.files.delete(&blob.sha256))
        .await;
    match forgotten {
        Ok(_) => {}
        Err(e) => tracing::warn!("上传失败后未能删除文件 {}：{e}", blob.sha256),
    }
}

/// Store the form's file field: one file a request, so a second one is refused.
async fn take_file(
    state: &AppState,
    field: axum::extract::multipart::Field<'_>,
    stored: &mut Option<(String, fazhi_files::StoredBlob)>,
) -> WebResult<()> {
    if stored.is_some() {
        return Err(WebError::BadRequest("一次只能上传一个文件".into()));
    }
    *stored = Some(store_file(state, field).await?);
    Ok(())
}

/// Upload a file as a new evidence item. The text fields should come before the file in
/// the form (browsers send fields in document order), so the file can be streamed straight
/// into the store; any failure after that removes the stored file again.
pub async fn upload(
    State(state): State<AppState>,
    TaskUnit(TaskViewer { cu, task, .. }): TaskUnit,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let result = async {
        // Refuse before reading the body: a refused upload must not leave a stored file.
        state.store.ensure_accepts_material(task).await?;
        let mut stored = None;
        let result = upload_parts(&state, &cu, task, &mut multipart, &mut stored).await;
        let name = discard_on_error(&state, stored, result).await?;
        flash(&state, &cu, format!("已上传“{name}”")).await?;
        Ok(format!("/tasks/{task}#evidence"))
    }
    .await;
    answer_upload(&headers, result)
}

/// Header set by the page's script when it sends an upload itself to show its progress
/// (`static/app.js`): it is answered in JSON, `{"location": …}` to go to or
/// `{"error": …}` to show on the form; a plain form post gets the redirect or error page.
const SCRIPTED_UPLOAD: &str = "x-fazhi-upload";

fn answer_upload(headers: &HeaderMap, result: WebResult<String>) -> Response {
    let scripted = headers.contains_key(SCRIPTED_UPLOAD);
    match (result, scripted) {
        (Ok(location), true) => {
            axum::Json(serde_json::json!({ "location": location })).into_response()
        }
        (Ok(location), false) => Redirect::to(&location).into_response(),
        (Err(e), true) => e.into_api_response(),
        (Err(e), false) => e.into_response(),
    }
}

async fn upload_parts(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    task: fazhi_store::TaskId,
    multipart: &mut Multipart,
    stored: &mut Option<(String, fazhi_files::StoredBlob)>,
) -> WebResult<String> {
    let (mut title, mut doc_number, mut doc_date) = (String::new(), None, None);
    while let Some(field) = next_part(multipart).await? {
        match field.name().unwrap_or("") {
            "title" => title = text_field(field, "材料名称", MAX_TITLE_CHARS).await?,
            "doc_number" => {
                doc_number = Some(text_field(field, "文号", MAX_DOC_NUMBER_CHARS).await?)
            }
            "doc_date" => {
                let raw = text_field(field, "成文日期", 40).await?;
                doc_date = opt_date(&Some(raw), "成文日期")?;
            }
            "file" => take_file(state, field, stored).await?,
            _ => {}
        }
    }
    let Some((name, blob)) = stored.as_ref().filter(|(_, b)| b.size > 0) else {
        return Err(WebError::BadRequest(
            "请选择要上传的文件（文件不能为空）".into(),
        ));
    };
    if title.trim().is_empty() {
        title = name.clone();
    }
    record_file(
        state,
        cu,
        task,
        new_evidence(title, doc_number, doc_date),
        name,
        blob,
    )
    .await?;
    Ok(name.clone())
}

/// Records a stored file as a new evidence item of `task`.
pub(crate) async fn record_file(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    task: fazhi_store::TaskId,
    meta: NewEvidence,
    name: &str,
    blob: &fazhi_files::StoredBlob,
) -> WebResult<()> {
    state
        .store
        .put_blob(&blob.sha256, blob.size, blob.content_type)
        .await?;
    // Whether the bytes were already stored is not said: the file may be another unit's.
    state
        .store
        .add_evidence_checked(
            task,
            meta,
            EvidenceContent::File {
                blob_sha256: blob.sha256.clone(),
                original_name: Some(name.to_string()),
            },
            &cu.user.actor(),
            Some(still_stored(state, &blob.sha256)),
        )
        .await?;
    Ok(())
}

/// Replace an evidence item's file with a new version; earlier versions stay readable.
pub async fn replace(
    State(state): State<AppState>,
    EvidenceUnit(EvidenceViewer {
        cu,
        evidence: id,
        task,
        ..
    }): EvidenceUnit,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let result = async {
        state.store.ensure_accepts_material(task).await?;
        let mut stored = None;
        let result = replace_parts(&state, &cu, id, &mut multipart, &mut stored).await;
        let (name, version) = discard_on_error(&state, stored, result).await?;
        flash(
            &state,
            &cu,
            format!("已上传“{name}”作为第{version}版，此前的版本仍可查阅"),
        )
        .await?;
        Ok(format!("/tasks/{task}#evidence"))
    }
    .await;
    answer_upload(&headers, result)
}

async fn replace_parts(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    id: fazhi_store::EvidenceId,
    multipart: &mut Multipart,
    stored: &mut Option<(String, fazhi_files::StoredBlob)>,
) -> WebResult<(String, u32)> {
    while let Some(field) = next_part(multipart).await? {
        if field.name() == Some("file") {
            take_file(state, field, stored).await?;
        }
    }
    let Some((name, blob)) = stored.as_ref().filter(|(_, b)| b.size > 0) else {
        return Err(WebError::BadRequest(
            "请选择新版本的文件（文件不能为空）".into(),
        ));
    };
    let version = record_version(state, cu, id, name, blob).await?;
    Ok((name.clone(), version))
}

/// Records a stored file as a new version of the evidence item `id`; returns its number.
pub(crate) async fn record_version(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    id: fazhi_store::EvidenceId,
    name: &str,
    blob: &fazhi_files::StoredBlob,
) -> WebResult<u32> {
    state
        .store
        .put_blob(&blob.sha256, blob.size, blob.content_type)
        .await?;
    Ok(state
        .store
        .replace_evidence_checked(
            id,
            EvidenceContent::File {
                blob_sha256: blob.sha256.clone(),
                original_name: Some(name.to_string()),
            },
            &cu.user.actor(),
            Some(still_stored(state, &blob.sha256)),
        )
        .await?)
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
    EvidenceViewer {
        cu: _,
        evidence: id,
        task: _,
        role: _,
    }: EvidenceViewer,
    Query(q): Query<DownloadQuery>,
    headers: HeaderMap,
) -> WebResult<Response> {
    let e = state.store.evidence(id).await?;
    if e.deleted {
        return Err(WebError::NotFound("这份材料已删除".into()));
    }
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
    // A range is only valid for the representation the client has (If-Range).
    let range = requested_range(&headers, &etag, blob.size);
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
