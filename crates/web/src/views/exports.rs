//! 导出: the documents for superiors from the web (and, through the same functions, from
//! `/api/v1/exports`). The 责任分工表 of the current framework (county roles), the 任务台账
//! and the 工作进展报告 of the round in progress (the county roles: all units or one; a
//! liaison: its own unit only). The file is written by `fazhi_report` (which records the
//! export in the audit log) to a temporary file, which is opened, unlinked and streamed:
//! nothing stays behind, and memory does not grow with the file.

use askama::Template;
use axum::Form;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fazhi_domain::unit::UnitKind;
use fazhi_report::{
    LedgerParams, PdfSettings, ReportError, ReportFormat, ReportOptions, ReportParams,
    export_ledger, export_report, export_responsibility,
};
use fazhi_store::{RoundId, TaskFilter, UnitId, UserRole};
use serde::Deserialize;

use crate::AppState;
use crate::access::CountyReader;
use crate::error::{WebError, WebResult};
use crate::http_range::attachment;
use crate::session::CurrentUser;
use crate::views::{Layout, opt_date, render};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Template)]
#[template(path = "exports/page.html")]
struct ExportsPage {
    layout: Option<Layout>,
    is_liaison: bool,
    round: Option<String>,
    own_unit: Option<String>,
    units: Vec<(i64, String)>,
    csrf: String,
    today: String,
    default_issuer: String,
    /// Rounds not in progress (closed or earlier): id and name, newest first.
    earlier: Vec<(i64, String)>,
}

pub async fn page(State(state): State<AppState>, cu: CurrentUser) -> WebResult<impl IntoResponse> {
    let rounds = state.store.rounds().await?;
    let round = rounds.iter().find(|r| r.is_active).map(|r| r.name.clone());
    let earlier = rounds
        .iter()
        .filter(|r| !r.is_active)
        .map(|r| (r.id.0, r.name.clone()))
        .collect();
    let is_liaison = cu.user.role == UserRole::Liaison;
    let own_unit = match cu.user.unit_id {
        Some(u) if is_liaison => Some(state.store.unit(u).await?.name),
        _ => None,
    };
    let units = if is_liaison {
        Vec::new()
    } else {
        state
            .store
            .units()
            .await?
            .into_iter()
            .filter(|u| u.kind != UnitKind::Group && !u.disabled)
            .map(|u| (u.id.0, u.name))
            .collect()
    };
    render(&ExportsPage {
        layout: Layout::build(&state, &cu).await?,
        is_liaison,
        round,
        default_issuer: own_unit
            .clone()
            .unwrap_or_else(|| fazhi_report::progress::DEFAULT_COUNTY_ISSUER.to_string()),
        own_unit,
        units,
        csrf: cu.csrf.clone(),
        today: state.today().to_string(),
        earlier,
    })
}

/// `GET /exports/responsibility.xlsx`: the 责任分工表 (county roles).
pub async fn responsibility(
    State(state): State<AppState>,
    CountyReader(cu): CountyReader,
) -> WebResult<Response> {
    responsibility_file(&state, &cu).await
}

/// The 责任分工表 as a download (the caller has checked the county role).
pub async fn responsibility_file(state: &AppState, cu: &CurrentUser) -> WebResult<Response> {
    let temp = TempFile::new(state, "responsibility", "xlsx")?;
    export_responsibility(&state.store, &temp.path, &cu.user.actor())
        .await
        .map_err(report_error)?;
    let name = format!("法治政府建设示范创建责任分工表-{}.xlsx", state.today());
    temp.send(&name, "responsibility.xlsx", XLSX).await
}

#[derive(Deserialize)]
pub struct LedgerQuery {
    /// A unit's id, or empty for all units.
    unit: Option<String>,
    /// An earlier or closed round's id; empty: the round in progress.
    round: Option<String>,
}

/// `GET /exports/ledger.xlsx[?unit=ID]`: the 任务台账 of the round in progress.
pub async fn ledger(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<LedgerQuery>,
) -> WebResult<Response> {
    let asked = parse_unit(q.unit.as_deref())?;
    let round = parse_round(q.round.as_deref())?;
    ledger_file(&state, &cu, asked, round).await
}

/// An id from a form or query field (`what` names it in the refusal); empty is none.
fn parse_id(raw: Option<&str>, what: &str) -> WebResult<Option<i64>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| WebError::BadRequest(format!("{what}编号“{s}”无效"))),
    }
}

/// A unit id from a form or query field; empty is none.
pub fn parse_unit(raw: Option<&str>) -> WebResult<Option<UnitId>> {
    Ok(parse_id(raw, "单位")?.map(UnitId))
}

/// A round id from a form or query field; empty is the round in progress.
pub fn parse_round(raw: Option<&str>) -> WebResult<Option<RoundId>> {
    Ok(parse_id(raw, "轮次")?.map(RoundId))
}

/// Whose tasks an export may cover: the county roles any unit or all; a liaison its own
/// unit only (asking for another is refused, asking for none means its own).
pub fn export_unit(
    cu: &CurrentUser,
    asked: Option<UnitId>,
    what: &str,
) -> WebResult<Option<UnitId>> {
    match cu.user.role {
        UserRole::Liaison => {
            let own = cu.user.unit_id.ok_or_else(WebError::forbidden)?;
            if asked.is_some_and(|u| u != own) {
                return Err(WebError::Forbidden(format!("联络员只能导出本单位的{what}")));
            }
            Ok(Some(own))
        }
        UserRole::Admin | UserRole::Observer => Ok(asked),
    }
}

async fn scope_name(state: &AppState, unit: Option<UnitId>) -> WebResult<String> {
    Ok(match unit {
        Some(u) => state.store.unit(u).await?.name,
        None => "全部单位".to_string(),
    })
}

/// The 任务台账 of the round in progress as a download, for the unit `asked` (checked
/// against the caller's role here).
pub async fn ledger_file(
    state: &AppState,
    cu: &CurrentUser,
    asked: Option<UnitId>,
    round: Option<RoundId>,
) -> WebResult<Response> {
    let unit = export_unit(cu, asked, "任务台账")?;
    let scope = scope_name(state, unit).await?;
    let params = LedgerParams {
        filter: TaskFilter {
            unit,
            round,
            ..Default::default()
        },
        as_of: state.today(),
        warn_workdays: state.config.warn_workdays,
    };
    let temp = TempFile::new(state, "ledger", "xlsx")?;
    export_ledger(&state.store, &params, &temp.path, &cu.user.actor())
        .await
        .map_err(report_error)?;
    let name = format!(
        "法治政府建设示范创建任务台账-{scope}-{}.xlsx",
        state.today()
    );
    temp.send(&name, "ledger.xlsx", XLSX).await
}

/// The 工作进展报告 form (the API's query maps onto it): every field optional.
#[derive(Debug, Default, Deserialize)]
pub struct ReportRequest {
    /// `docx` (Word, the default) or `pdf`.
    pub format: Option<String>,
    /// One unit's report (a liaison: its own, the default); empty: the whole county.
    pub unit: Option<String>,
    /// The date the numbers are judged on, `2026-06-30` (default today).
    pub as_of: Option<String>,
    /// 标题 (default 关于法治政府建设示范创建工作进展情况的报告).
    pub title: Option<String>,
    /// 发文机关署名.
    pub issuer: Option<String>,
    /// 主送机关.
    pub recipient: Option<String>,
    /// 成文日期 (default the as-of date).
    pub date: Option<String>,
    /// A free 说明 paragraph printed before the numbers.
    pub note: Option<String>,
    /// An earlier or closed round's id (default the round in progress).
    pub round: Option<String>,
}

/// `POST /exports/report`: the 工作进展报告 (.docx or .pdf) of the round in progress.
pub async fn report(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(f): Form<ReportRequest>,
) -> WebResult<Response> {
    report_file(&state, &cu, f).await
}

fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The 工作进展报告 as a download; the request is checked (format, dates, lengths, the
/// unit against the caller's role) before any work.
pub async fn report_file(
    state: &AppState,
    cu: &CurrentUser,
    f: ReportRequest,
) -> WebResult<Response> {
    let format = match f.format.as_deref().map(str::trim) {
        None | Some("") | Some("docx") => ReportFormat::Docx,
        Some("pdf") => ReportFormat::Pdf,
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "格式“{other}”无效，应为 docx（Word）或 pdf"
            )));
        }
    };
    let unit = export_unit(cu, parse_unit(f.unit.as_deref())?, "工作进展报告")?;
    let round = parse_round(f.round.as_deref())?;
    let as_of = opt_date(&f.as_of, "统计截至日期")?.unwrap_or_else(|| state.today());
    if as_of > state.today() {
        return Err(WebError::BadRequest(format!(
            "统计截至日期 {as_of} 在今天之后，请选今天或以前的日期"
        )));
    }
    let options = ReportOptions {
        title: text(f.title),
        issuer: text(f.issuer),
        recipient: text(f.recipient),
        date: opt_date(&f.date, "成文日期")?,
        note: f
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
    };
    options.validate().map_err(WebError::BadRequest)?;
    let scope = scope_name(state, unit).await?;
    let params = ReportParams {
        filter: TaskFilter {
            unit,
            round,
            ..Default::default()
        },
        as_of,
        warn_workdays: state.config.warn_workdays,
        format,
        options,
        pdf: PdfSettings::from_env(),
    };
    let ext = format.extension();
    let temp = TempFile::new(state, "report", ext)?;
    export_report(&state.store, &params, &temp.path, &cu.user.actor())
        .await
        .map_err(report_error)?;
    let name = format!("法治政府建设示范创建工作进展报告-{scope}-{as_of}.{ext}");
    temp.send(&name, &format!("report.{ext}"), format.content_type())
        .await
}

fn report_error(e: ReportError) -> WebError {
    match e {
        ReportError::Store(e) => e.into(),
        ReportError::Invalid(m) => WebError::BadRequest(m),
        ReportError::NotReady(m) => WebError::Conflict(m),
        // No CJK font on the server: the message names the package to install.
        ReportError::Document(fazhi_document::DocumentError::NoCjkFont) => {
            WebError::Unavailable(fazhi_document::DocumentError::NoCjkFont.to_string())
        }
        other => WebError::internal(other),
    }
}

/// A file under the data directory's `tmp/`, removed when dropped (also on an error).
struct TempFile {
    path: std::path::PathBuf,
}

impl TempFile {
    fn new(state: &AppState, what: &str, ext: &str) -> WebResult<TempFile> {
        let dir = state.config.data_dir.join("tmp");
        std::fs::create_dir_all(&dir).map_err(WebError::internal)?;
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| WebError::internal(e.to_string()))?;
        let path = dir.join(format!("export-{what}-{}.{ext}", hex::encode(random)));
        Ok(TempFile { path })
    }

    /// Opens the written file, unlinks it (the open handle keeps it readable) and streams
    /// it as a download named `name`.
    async fn send(
        self,
        name: &str,
        fallback: &str,
        content_type: &'static str,
    ) -> WebResult<Response> {
        let file = tokio::fs::File::open(&self.path)
            .await
            .map_err(WebError::internal)?;
        let len = file.metadata().await.map_err(WebError::internal)?.len();
        drop(self);
        let mut resp = Response::new(Body::from_stream(super::packages::file_stream(file, len)));
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&attachment(name, fallback)).map_err(WebError::internal)?,
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
