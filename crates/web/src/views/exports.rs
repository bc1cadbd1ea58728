//! 导出: the spreadsheets for superiors from the web. The 责任分工表 of the current
//! framework (county roles) and the 任务台账 of the round in progress (the county roles:
//! all units or one; a liaison: its own unit only). The file is written by `fazhi_report`
//! (which records the export in the audit log) to a temporary file, which is opened,
//! unlinked and streamed: nothing stays behind, and memory does not grow with the file.

use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fazhi_domain::unit::UnitKind;
use fazhi_report::{LedgerParams, ReportError, export_ledger, export_responsibility};
use fazhi_store::{TaskFilter, UnitId, UserRole};
use serde::Deserialize;

use crate::AppState;
use crate::access::CountyReader;
use crate::error::{WebError, WebResult};
use crate::http_range::attachment;
use crate::session::CurrentUser;
use crate::views::{Layout, render};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Template)]
#[template(path = "exports/page.html")]
struct ExportsPage {
    layout: Option<Layout>,
    is_liaison: bool,
    round: Option<String>,
    own_unit: Option<String>,
    units: Vec<(i64, String)>,
}

pub async fn page(State(state): State<AppState>, cu: CurrentUser) -> WebResult<impl IntoResponse> {
    let round = state.store.active_round().await?.map(|r| r.name);
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
        own_unit,
        units,
    })
}

/// `GET /exports/responsibility.xlsx`: the 责任分工表 (county roles).
pub async fn responsibility(
    State(state): State<AppState>,
    CountyReader(cu): CountyReader,
) -> WebResult<Response> {
    let temp = TempFile::new(&state, "responsibility")?;
    export_responsibility(&state.store, &temp.path, &cu.user.actor())
        .await
        .map_err(report_error)?;
    let name = format!("法治政府建设示范创建责任分工表-{}.xlsx", state.today());
    temp.send(&name, "responsibility.xlsx").await
}

#[derive(Deserialize)]
pub struct LedgerQuery {
    /// A unit's id, or empty for all units.
    unit: Option<String>,
}

/// `GET /exports/ledger.xlsx[?unit=ID]`: the 任务台账 of the round in progress.
pub async fn ledger(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<LedgerQuery>,
) -> WebResult<Response> {
    let asked = match q.unit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            Some(UnitId(s.parse().map_err(|_| {
                WebError::BadRequest(format!("单位编号“{s}”无效"))
            })?))
        }
    };
    let unit = match cu.user.role {
        UserRole::Liaison => {
            let own = cu.user.unit_id.ok_or_else(WebError::forbidden)?;
            if asked.is_some_and(|u| u != own) {
                return Err(WebError::Forbidden("联络员只能导出本单位的任务台账".into()));
            }
            Some(own)
        }
        UserRole::Admin | UserRole::Observer => asked,
    };
    let scope = match unit {
        Some(u) => state.store.unit(u).await?.name,
        None => "全部单位".to_string(),
    };
    let params = LedgerParams {
        filter: TaskFilter {
            unit,
            ..Default::default()
        },
        as_of: state.today(),
        warn_workdays: state.config.warn_workdays,
    };
    let temp = TempFile::new(&state, "ledger")?;
    export_ledger(&state.store, &params, &temp.path, &cu.user.actor())
        .await
        .map_err(report_error)?;
    let name = format!(
        "法治政府建设示范创建任务台账-{scope}-{}.xlsx",
        state.today()
    );
    temp.send(&name, "ledger.xlsx").await
}

fn report_error(e: ReportError) -> WebError {
    match e {
        ReportError::Store(e) => e.into(),
        ReportError::Invalid(m) => WebError::BadRequest(m),
        other => WebError::internal(other),
    }
}

/// A file under the data directory's `tmp/`, removed when dropped (also on an error).
struct TempFile {
    path: std::path::PathBuf,
}

impl TempFile {
    fn new(state: &AppState, what: &str) -> WebResult<TempFile> {
        let dir = state.config.data_dir.join("tmp");
        std::fs::create_dir_all(&dir).map_err(WebError::internal)?;
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| WebError::internal(e.to_string()))?;
        let path = dir.join(format!("export-{what}-{}.xlsx", hex::encode(random)));
        Ok(TempFile { path })
    }

    /// Opens the written file, unlinks it (the open handle keeps it readable) and streams
    /// it as a download named `name`.
    async fn send(self, name: &str, fallback: &str) -> WebResult<Response> {
        let file = tokio::fs::File::open(&self.path)
            .await
            .map_err(WebError::internal)?;
        let len = file.metadata().await.map_err(WebError::internal)?.len();
        drop(self);
        let mut resp = Response::new(Body::from_stream(super::packages::file_stream(file, len)));
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
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
