//! Importing a new version of the 责任分工表: upload, preview with every repair and doubt,
//! confirm; and the list of framework versions.

use crate::AppState;
use crate::access::Admin;
use crate::error::{WebError, WebResult};
use crate::session::random_token;
use crate::views::{Layout, flash, render};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_import::compare::{Change, Comparison, DiffPiece, compare};
use fazhi_import::{ImportOptions, ImportOutput, Severity};
use fazhi_store::FrameworkInfo;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    layout: Option<Layout>,
    csrf: String,
    preview: Option<Preview>,
    error: Option<String>,
    max_mb: usize,
}

pub struct Preview {
    pub token: String,
    pub file_name: String,
    pub output: ImportOutput,
    pub counts: Vec<(String, usize)>,
    pub warnings: usize,
    /// The incoming table against the current version, when there is one.
    pub comparison: Option<Comparison>,
}

impl Preview {
    /// The comparison's summary line.
    pub fn change_summary(&self) -> String {
        self.comparison
            .as_ref()
            .map(Comparison::summary)
            .unwrap_or_default()
    }
}

const LEVELS: [&str; 6] = [
    "一级指标",
    "二级指标",
    "三级指标",
    "四级指标",
    "五级指标",
    "六级指标",
];

fn counts(out: &ImportOutput) -> Vec<(String, usize)> {
    let c = out.framework.level_counts();
    let Some((leaves, headings)) = c.split_last() else {
        return Vec::new();
    };
    let mut v: Vec<(String, usize)> = headings
        .iter()
        .enumerate()
        .map(|(i, n)| (LEVELS.get(i).copied().unwrap_or("下级指标").to_string(), *n))
        .collect();
    v.push(("末级指标（考核项）".into(), *leaves));
    v.push(("责任单位".into(), out.framework.units.len()));
    v
}

pub async fn form(State(state): State<AppState>, Admin(cu): Admin) -> WebResult<impl IntoResponse> {
    render(&ImportPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        preview: None,
        error: None,
        max_mb: state.config.max_import_bytes / (1024 * 1024),
    })
}

/// Keep only safe characters of an uploaded file name, for display and the extension.
fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .take(120)
        .collect();
    if cleaned.trim().is_empty() {
        "未命名文件".into()
    } else {
        cleaned
    }
}

/// Step 1: upload, parse and show what would be imported. The file waits under the
/// data directory for the confirmation.
pub async fn preview(
    State(state): State<AppState>,
    Admin(cu): Admin,
    mut multipart: Multipart,
) -> WebResult<Response> {
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(format!("上传中断或文件过大：{e}")))?
    {
        if field.name() == Some("file") {
            let name = clean_file_name(field.file_name().unwrap_or(""));
            let bytes = field
                .bytes()
                .await
                .map_err(|e| WebError::BadRequest(format!("上传中断或文件过大：{e}")))?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let layout = Layout::build(&state, &cu).await?;
    let max_mb = state.config.max_import_bytes / (1024 * 1024);
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(render(&ImportPage {
            layout,
            csrf: cu.csrf.clone(),
            preview: None,
            error: Some("请选择要导入的文件".into()),
            max_mb,
        })?
        .into_response());
    };
    let output = match import_off_thread(&bytes, &file_name).await? {
        Ok(o) => o,
        Err(e) => {
            return Ok(render(&ImportPage {
                layout,
                csrf: cu.csrf.clone(),
                preview: None,
                error: Some(format!("“{file_name}”无法导入：{e}")),
                max_mb,
            })?
            .into_response());
        }
    };
    let token = random_token()?;
    // In the file store, not on this instance's disk: the confirmation may reach another.
    state
        .files
        .put_preview(&token, &file_name, bytes.clone().into())
        .await?;
    let warnings = output
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    Ok(render(&ImportPage {
        layout,
        csrf: cu.csrf.clone(),
        preview: Some(Preview {
            token,
            file_name,
            counts: counts(&output),
            warnings,
            comparison: state
                .store
                .current_framework()
                .await?
                .map(|current| compare(&current.to_domain(), &output.framework)),
            output,
        }),
        error: None,
        max_mb,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    token: String,
}

/// Step 2: store the previewed file as a new framework version.
pub async fn confirm(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Form(form): Form<ConfirmForm>,
) -> WebResult<Response> {
    if form.token.len() != 64 || !form.token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::BadRequest("导入编号无效，请重新上传文件".into()));
    }
    let Some((file_name, bytes)) = state.files.get_preview(&form.token).await? else {
        return Err(WebError::BadRequest(
            "找不到待导入的文件（可能已导入或已过期），请重新上传".into(),
        ));
    };
    let output = import_off_thread(&bytes, &file_name)
        .await?
        .map_err(|e| WebError::BadRequest(format!("“{file_name}”无法导入：{e}")))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let id = state
        .store
        .import_library(&output, &file_name, &sha, &cu.user.actor())
        .await?;
    if let Err(e) = state.files.delete_preview(&form.token).await {
        tracing::warn!("导入后未能删除预览文件（清理任务会再删）：{e}");
    }
    // A round in progress stays on its version until the office confirms how its tasks
    // map to the new one.
    if let Some(round) = state.store.active_round().await? {
        flash(
            &state,
            &cu,
            format!(
                "已导入“{file_name}”，成为第{id}版指标体系（当前使用）。正在办理的“{}”仍按第{}版办理：请核对下面的指标对应关系，确认后本轮改用新版本，任务和已做的工作都保留。",
                round.name, round.framework_id
            ),
        )
        .await?;
        return Ok(Redirect::to(&format!("/admin/rounds/{}/remap", round.id)).into_response());
    }
    flash(
        &state,
        &cu,
        format!("已导入“{file_name}”，成为第{id}版指标体系（当前使用）。此前的版本仍保留。"),
    )
    .await?;
    Ok(Redirect::to("/admin/frameworks").into_response())
}

#[derive(Template)]
#[template(path = "admin/frameworks.html")]
struct FrameworksPage {
    layout: Option<Layout>,
    versions: Vec<FrameworkInfo>,
}

pub async fn frameworks(
    State(state): State<AppState>,
    Admin(cu): Admin,
) -> WebResult<impl IntoResponse> {
    render(&FrameworksPage {
        layout: Layout::build(&state, &cu).await?,
        versions: state.store.frameworks().await?,
    })
}

/// Import on a blocking thread: a PDF or old .doc goes through pdftotext or LibreOffice
/// (up to a minute or two), and a large table takes a while to check: neither may hold up
/// the server's request threads.
async fn import_off_thread(
    bytes: &[u8],
    file_name: &str,
) -> Result<Result<ImportOutput, fazhi_import::ImportError>, WebError> {
    let (bytes, name) = (bytes.to_vec(), file_name.to_string());
    tokio::task::spawn_blocking(move || {
        fazhi_import::import_bytes(&bytes, Some(&name), &ImportOptions::default())
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))
}
