//! 断点续传: large evidence files sent in chunks by the page's script (`static/app.js`), so
//! a dropped connection costs one chunk, not the whole recording.
//!
//! 1. `POST /tasks/{id}/uploads` (a new item) or `POST /evidence/{id}/uploads` (a new
//!    version) announces the file: name, size (checked against the upload limit before any
//!    byte is sent) and, for a new item, its title, 文号 and 成文日期.
//! 2. `PATCH /uploads/{token}` with `Upload-Offset: n` sends the bytes from `n`; a chunk
//!    counts only if it starts where the upload stands (409 with the real offset otherwise).
//! 3. `GET /uploads/{token}` tells how far it got, to resume after a drop or a reload.
//! 4. `POST /uploads/{token}/finish` assembles the chunks into the file store (hashing them on
//!    the way) and records the evidence, as the plain upload form does.
//! 5. `POST /uploads/{token}/cancel` drops it. Abandoned uploads are removed by the
//!    housekeeping after [`KEEP_IDLE`].
//!
//! Each chunk is held in memory once (at most [`MAX_CHUNK_BYTES`]); how many are held at a
//! time is bounded by [`CHUNKS_IN_MEMORY`], so memory does not grow with file size or with
//! the number of uploads.

use std::sync::LazyLock;
use std::time::Duration;

use axum::Form;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fazhi_files::{ChunkRef, StoredBlob, sanitize_file_name};
use fazhi_store::{Appended, NewUpload, Upload};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::AppState;
use crate::access::{EvidenceUnit, EvidenceViewer, TaskUnit, TaskViewer, UploadOwner};
use crate::error::{WebError, WebResult};
use crate::views::evidence::{
    MAX_DOC_NUMBER_CHARS, MAX_TITLE_CHARS, checked_text, discard_on_error, new_evidence,
    record_file, record_version,
};
use crate::views::{flash, opt_date};

/// Chunk size the page's script sends.
pub const CHUNK_BYTES: u64 = 8 * 1024 * 1024;
/// Largest chunk accepted (a client may send bigger ones than the script does).
pub const MAX_CHUNK_BYTES: usize = 16 * 1024 * 1024;
/// Chunks being received at one time, across all uploads: a bound on the memory they hold.
pub const CHUNKS_IN_MEMORY: usize = 16;
/// Longest a chunk may take to arrive once it holds a memory slot (8 MiB at 15 KiB/s), so
/// a stalled or deliberately slow sender cannot keep a slot.
const CHUNK_READ_TIMEOUT: Duration = Duration::from_secs(600);
/// Uploads not touched for this long are removed by the housekeeping.
pub const KEEP_IDLE: chrono::Duration = chrono::Duration::days(3);
/// A `finish` not done after this long is taken to have died with its server.
const FINISH_STALE_AFTER: chrono::Duration = chrono::Duration::hours(1);
/// How long a chunk waits for a memory slot before the client is told to retry.
const SLOT_WAIT: Duration = Duration::from_secs(30);

static CHUNK_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(CHUNKS_IN_MEMORY));

const OFFSET_HEADER: &str = "upload-offset";

fn answer(result: WebResult<serde_json::Value>) -> Response {
    match result {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => e.into_api_response(),
    }
}

fn state_of(upload: &Upload) -> serde_json::Value {
    let mut state = json!({
        "upload": upload.token,
        "file_name": upload.file_name,
        "size": upload.size,
        "offset": upload.received,
        "chunk_bytes": CHUNK_BYTES,
        "done": upload.done,
    });
    if upload.done {
        state["location"] = location_of(upload).into();
    }
    state
}

fn location_of(upload: &Upload) -> String {
    format!("/tasks/{}#evidence", upload.task)
}

/// The announced size: a whole number of bytes, not empty, within the upload limit.
fn checked_size(state: &AppState, raw: &str) -> WebResult<u64> {
    let size: u64 = raw
        .trim()
        .parse()
        .map_err(|_| WebError::BadRequest("文件大小无效".into()))?;
    if size == 0 {
        return Err(WebError::BadRequest(
            "请选择要上传的文件（文件不能为空）".into(),
        ));
    }
    let limit = state.config.max_upload_bytes;
    if size > limit {
        return Err(WebError::BadRequest(format!(
            "文件超过大小上限 {}，请压缩或拆分后再上传",
            fazhi_files::human_size(limit)
        )));
    }
    Ok(size)
}

fn checked_name(raw: &str) -> WebResult<String> {
    if raw.chars().any(char::is_control) {
        return Err(WebError::BadRequest(
            "文件名含有不允许的控制字符（如换行符、制表符），请给文件改名后重新上传".into(),
        ));
    }
    Ok(sanitize_file_name(raw))
}

#[derive(Deserialize)]
pub struct StartForm {
    name: String,
    size: String,
    title: Option<String>,
    doc_number: Option<String>,
    doc_date: Option<String>,
}

fn optional_text(raw: Option<String>, what: &str, max: usize) -> WebResult<Option<String>> {
    match raw.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(text) => Ok(Some(checked_text(text, what, max)?)),
        None => Ok(None),
    }
}

/// What an announcement becomes, checked: the file's name and size first (before any byte
/// is sent), the task still taking material, at most a few open uploads per user.
async fn announce(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    task: fazhi_store::TaskId,
    replaces: Option<fazhi_store::EvidenceId>,
    (name, size): (&str, &str),
    meta: (Option<String>, Option<String>, Option<chrono::NaiveDate>),
) -> Response {
    answer(
        async {
            state.store.ensure_accepts_material(task).await?;
            let (title, doc_number, doc_date) = meta;
            let upload = state
                .store
                .upload_create(NewUpload {
                    token: crate::session::random_token()?,
                    task,
                    replaces,
                    user: cu.user.id,
                    file_name: checked_name(name)?,
                    size: checked_size(state, size)?,
                    title,
                    doc_number,
                    doc_date,
                })
                .await?;
            Ok(state_of(&upload))
        }
        .await,
    )
}

/// Announces a file for a new evidence item of the task.
pub async fn start(
    State(state): State<AppState>,
    TaskUnit(TaskViewer { cu, task, .. }): TaskUnit,
    Form(f): Form<StartForm>,
) -> Response {
    let meta = (|| {
        Ok::<_, WebError>((
            optional_text(f.title, "材料名称", MAX_TITLE_CHARS)?,
            optional_text(f.doc_number, "文号", MAX_DOC_NUMBER_CHARS)?,
            opt_date(&f.doc_date, "成文日期")?,
        ))
    })();
    match meta {
        Ok(meta) => announce(&state, &cu, task, None, (&f.name, &f.size), meta).await,
        Err(e) => e.into_api_response(),
    }
}

#[derive(Deserialize)]
pub struct StartVersionForm {
    name: String,
    size: String,
}

/// Announces a file as a new version of the evidence item.
pub async fn start_version(
    State(state): State<AppState>,
    EvidenceUnit(EvidenceViewer {
        cu, evidence, task, ..
    }): EvidenceUnit,
    Form(f): Form<StartVersionForm>,
) -> Response {
    let none = (None, None, None);
    announce(&state, &cu, task, Some(evidence), (&f.name, &f.size), none).await
}

/// How far the upload got.
pub async fn status(UploadOwner { upload, .. }: UploadOwner) -> Response {
    answer(Ok(state_of(&upload)))
}

/// Receives the bytes from `Upload-Offset` on.
pub async fn append(
    State(state): State<AppState>,
    UploadOwner { upload, .. }: UploadOwner,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let offset = headers
        .get(OFFSET_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(offset) = offset else {
        return WebError::BadRequest("缺少 Upload-Offset（本段的起始位置）".into())
            .into_api_response();
    };
    if upload.done {
        return answer(Ok(state_of(&upload)));
    }
    if offset != upload.received {
        return mismatch(upload.received);
    }
    // Wait for a memory slot before reading the body, so a crowd of senders waits instead
    // of filling memory.
    let Ok(Ok(_slot)) = tokio::time::timeout(SLOT_WAIT, CHUNK_SLOTS.acquire()).await else {
        return WebError::Unavailable("服务器正忙，请稍后继续上传".into()).into_api_response();
    };
    let read = tokio::time::timeout(
        CHUNK_READ_TIMEOUT,
        axum::body::to_bytes(body, MAX_CHUNK_BYTES),
    )
    .await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            return WebError::BadRequest(format!("本段内容读取失败（网络中断或超过16 MB）：{e}"))
                .into_api_response();
        }
        Err(_) => {
            return WebError::BadRequest("本段在10分钟内没有传完，请检查网络后继续".into())
                .into_api_response();
        }
    };
    if bytes.is_empty() {
        return answer(Ok(json!({ "offset": upload.received })));
    }
    let len = bytes.len() as u64;
    let key = match state.files.put_chunk(&upload.token, offset, bytes).await {
        Ok(key) => key,
        Err(e) => return WebError::from(e).into_api_response(),
    };
    let appended = state
        .store
        .upload_append(&upload.token, offset, len, &key)
        .await;
    match appended {
        Ok(Appended::Received(end)) => answer(Ok(json!({ "offset": end }))),
        Ok(Appended::OffsetMismatch(now_at)) => {
            let _ = state.files.delete_chunk(&key).await;
            mismatch(now_at)
        }
        Err(e) => {
            let _ = state.files.delete_chunk(&key).await;
            WebError::from(e).into_api_response()
        }
    }
}

fn mismatch(received: u64) -> Response {
    (
        StatusCode::CONFLICT,
        axum::Json(json!({
            "error": format!("本段的起始位置与服务器不一致（服务器已收到 {received} 字节），请从该位置继续"),
            "offset": received,
        })),
    )
        .into_response()
}

/// Assembles the chunks into one stored file and records the evidence.
pub async fn finish(
    State(state): State<AppState>,
    UploadOwner { cu, upload }: UploadOwner,
) -> Response {
    answer(
        async {
            if upload.done {
                // A retried finish (its answer was lost): the file is stored already.
                return Ok(json!({ "location": location_of(&upload) }));
            }
            if !upload.is_complete() {
                return Err(WebError::Conflict(format!(
                    "文件尚未传完（已收到 {} / {}），请继续上传",
                    fazhi_files::human_size(upload.received),
                    fazhi_files::human_size(upload.size)
                )));
            }
            state.store.ensure_accepts_material(upload.task).await?;
            if !state
                .store
                .upload_claim_finish(&upload.token, FINISH_STALE_AFTER)
                .await?
            {
                return Err(WebError::Conflict(
                    "这个文件正在保存，请稍候刷新页面查看".into(),
                ));
            }
            let result = assemble_and_record(&state, &cu, &upload).await;
            if result.is_err() {
                let _ = state.store.upload_release_finish(&upload.token).await;
            }
            let message = result?;
            // Done first (a retried finish must not store it again), then the chunks go.
            state.store.upload_mark_done(&upload.token).await?;
            if let Err(e) = state.files.delete_upload(&upload.token).await {
                tracing::warn!(
                    "未能删除上传 {} 的分片（清理任务会再删）：{e}",
                    upload.token
                );
            }
            flash(&state, &cu, message).await?;
            Ok(json!({ "location": location_of(&upload) }))
        }
        .await,
    )
}

async fn assemble_and_record(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    upload: &Upload,
) -> WebResult<String> {
    let chunks = state.store.upload_chunks(&upload.token).await?;
    let mut expected = 0;
    for c in &chunks {
        if c.offset != expected {
            return Err(WebError::internal(format!(
                "上传 {} 的分片不连续（{} 处）",
                upload.token, expected
            )));
        }
        expected += c.len;
    }
    if expected != upload.size {
        return Err(WebError::internal(format!(
            "上传 {} 的分片共 {expected} 字节，应为 {}",
            upload.token, upload.size
        )));
    }
    let refs = chunks
        .into_iter()
        .map(|c| ChunkRef {
            object_key: c.object_key,
            len: c.len,
        })
        .collect();
    let blob: StoredBlob = state
        .files
        .put_chunks(refs, state.config.max_upload_bytes)
        .await?;
    let name = upload.file_name.clone();
    let stored = Some((name.clone(), blob.clone()));
    let recorded = async {
        match upload.replaces {
            None => {
                let title = upload.title.clone().unwrap_or_else(|| name.clone());
                let meta = new_evidence(title, upload.doc_number.clone(), upload.doc_date);
                record_file(state, cu, upload.task, meta, &name, &blob).await?;
                Ok(format!("已上传“{name}”"))
            }
            Some(id) => {
                let version = record_version(state, cu, id, &name, &blob).await?;
                Ok(format!(
                    "已上传“{name}”作为第{version}版，此前的版本仍可查阅"
                ))
            }
        }
    }
    .await;
    discard_on_error(state, stored, recorded).await
}

/// Drops the upload.
pub async fn cancel(
    State(state): State<AppState>,
    UploadOwner { upload, .. }: UploadOwner,
) -> Response {
    answer(
        remove(&state, &upload.token)
            .await
            .map(|()| json!({ "cancelled": true })),
    )
}

/// Removes an upload: its chunk objects first, then its record (what a failure between the
/// two leaves is found by [`purge_abandoned`]).
async fn remove(state: &AppState, token: &str) -> WebResult<()> {
    state.files.delete_upload(token).await?;
    state.store.upload_forget(token).await?;
    Ok(())
}

/// Housekeeping: uploads idle for [`KEEP_IDLE`], and chunk folders whose upload record is
/// gone (a crash between the two deletions). Returns how many uploads went.
pub async fn purge_abandoned(state: &AppState) -> WebResult<u64> {
    let mut removed = 0;
    for upload in state
        .store
        .uploads_idle_since(chrono::Utc::now() - KEEP_IDLE)
        .await?
    {
        remove(state, &upload.token).await?;
        removed += 1;
    }
    for token in state.files.list_uploads().await? {
        if !state.store.upload_exists(&token).await? {
            state.files.delete_upload(&token).await?;
            removed += 1;
        }
    }
    Ok(removed)
}
