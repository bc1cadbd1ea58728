//! Documents for superiors (对上报送).
//!
//! - [`responsibility`]: the 责任分工表 of the current framework version, in the
//!   document's own layout; `fazhi import` reads it back into the same library.
//! - [`ledger`]: the 任务台账 of a round (all units or one), with the unit ranking and the
//!   totals, every number from [`fazhi_domain::stats`] over [`Store::round_facts`].
//! - [`progress`]: the 工作进展报告 (a 公文, .docx or .pdf through `fazhi-document`), from
//!   the same statistics.
//!
//! Who may export what is the caller's decision (a liaison: its own unit's 台账 only);
//! the functions here take the scope as given, write the file through a temporary file
//! and record the export in the audit log.

pub mod ledger;
pub mod ledger_template;
pub mod progress;
pub mod responsibility;
pub mod sheet;

use std::path::Path;

use chrono::NaiveDate;
use fazhi_domain::stats::LightRules;
use fazhi_store::{Actor, AuditAction, RoundId, Store, StoreError, TaskFilter};
use serde::Serialize;

pub use fazhi_document::PdfSettings;
pub use ledger::{LedgerExport, write_ledger};
pub use ledger_template::ledger_template;
pub use progress::{ReportOptions, ReportSubject, progress_report};
pub use responsibility::{ResponsibilityExport, write_responsibility};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("无法生成电子表格：{0}")]
    Xlsx(String),
    #[error("无法写入文件 {0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The document engine (fonts missing, layout failed): its message is for users.
    #[error(transparent)]
    Document(#[from] fazhi_document::DocumentError),
    #[error("{0}")]
    Invalid(String),
    /// The request is fine but the data is not there yet (no framework, no round in
    /// progress): the message says what to do first.
    #[error("{0}")]
    NotReady(String),
}

pub type ReportResult<T> = Result<T, ReportError>;

/// Exports the 责任分工表 of the current framework version to `out` (audited
/// `export.responsibility`).
pub async fn export_responsibility(
    store: &Store,
    out: &Path,
    actor: &Actor,
) -> ReportResult<ResponsibilityExport> {
    let fw = store.current_framework().await?.ok_or_else(|| {
        ReportError::NotReady("还没有导入指标体系，请管理员先导入责任分工表".into())
    })?;
    let done = write_responsibility(&fw, out)?;
    store
        .record_export(
            AuditAction::ExportResponsibility,
            "framework",
            Some(fw.info.id.to_string()),
            serde_json::json!({ "format": "xlsx", "export": &done }),
            actor,
        )
        .await?;
    Ok(done)
}

/// What a 任务台账 covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerParams {
    /// The task list's filters; `round: None` is the round in progress.
    pub filter: TaskFilter,
    /// The county's date the lights and the dates are judged on.
    pub as_of: NaiveDate,
    /// Working days of warning before a due date (黄灯).
    pub warn_workdays: u32,
}

/// Exports the 任务台账 to `out` (audited `export.ledger`, with the scope).
pub async fn export_ledger(
    store: &Store,
    params: &LedgerParams,
    out: &Path,
    actor: &Actor,
) -> ReportResult<LedgerExport> {
    let (filter, round, scope) = resolve_scope(store, &params.filter).await?;
    let calendar = store.calendar().await?;
    let rules = LightRules {
        calendar: &calendar,
        warn_workdays: params.warn_workdays,
    };
    let facts = store.round_facts(&filter, params.as_of, &calendar).await?;
    let stats = facts.stats(rules);
    let done = write_ledger(&facts, &stats, rules, &scope, out)?;
    store
        .record_export(
            AuditAction::ExportLedger,
            "round",
            Some(round.to_string()),
            serde_json::json!({ "format": "xlsx", "filter": &filter, "export": &done }),
            actor,
        )
        .await?;
    Ok(done)
}

/// The filter with its round filled in (the round in progress when none), the round, and
/// the scope in words (the unit's name, or 全部责任单位).
async fn resolve_scope(
    store: &Store,
    filter: &TaskFilter,
) -> ReportResult<(TaskFilter, RoundId, String)> {
    let mut filter = filter.clone();
    let round: RoundId = match filter.round {
        // An earlier (or closed) round: it must exist.
        Some(r) => store.round(r).await?.id,
        None => {
            store
                .active_round()
                .await?
                .ok_or_else(|| ReportError::NotReady("还没有进行中的创建轮次，请指定轮次".into()))?
                .id
        }
    };
    filter.round = Some(round);
    let scope = match filter.unit {
        Some(u) => store.unit(u).await?.name,
        None => "全部责任单位".to_string(),
    };
    Ok((filter, round, scope))
}

/// The 工作进展报告's file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// Word (.docx), naming the standard 公文 fonts.
    Docx,
    /// PDF, embedding the free CJK fonts of the machine.
    Pdf,
}

impl ReportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Docx => "docx",
            ReportFormat::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            ReportFormat::Pdf => "application/pdf",
        }
    }
}

/// What a 工作进展报告 covers and how it is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportParams {
    /// `round: None` is the round in progress; `unit`: one unit's report.
    pub filter: TaskFilter,
    pub as_of: NaiveDate,
    pub warn_workdays: u32,
    pub format: ReportFormat,
    pub options: ReportOptions,
    #[serde(skip)]
    pub pdf: PdfSettings,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportExport {
    pub title: String,
    pub round_name: String,
    pub scope: String,
    pub as_of: NaiveDate,
    pub format: ReportFormat,
    pub tasks: usize,
    pub approved: usize,
    pub bytes: u64,
}

/// Writes the 工作进展报告 to `out` (audited `export.report`, with scope and options).
/// The options are checked before any work; the layout runs on the blocking pool.
pub async fn export_report(
    store: &Store,
    params: &ReportParams,
    out: &Path,
    actor: &Actor,
) -> ReportResult<ReportExport> {
    params.options.validate().map_err(ReportError::Invalid)?;
    let (filter, round, scope) = resolve_scope(store, &params.filter).await?;
    let calendar = store.calendar().await?;
    let rules = LightRules {
        calendar: &calendar,
        warn_workdays: params.warn_workdays,
    };
    let facts = store.round_facts(&filter, params.as_of, &calendar).await?;
    let stats = facts.stats(rules);
    let unit_name = filter.unit.map(|_| scope.as_str());
    let doc = progress_report(
        &ReportSubject {
            round_name: &facts.round.name,
            unit: unit_name,
            as_of: params.as_of,
            tasks: &facts.tasks,
            stats: &stats,
            rules,
        },
        &params.options,
    );
    let title = doc.title.clone();
    let format = params.format;
    let settings = params.pdf.clone();
    let path = out.to_path_buf();
    tokio::task::spawn_blocking(move || match format {
        ReportFormat::Docx => fazhi_document::docx::write_docx(&doc, &path),
        ReportFormat::Pdf => fazhi_document::pdf::write_pdf(&doc, &settings, &path),
    })
    .await
    .map_err(|e| ReportError::Io(e.to_string()))??;
    let bytes = std::fs::metadata(out)
        .map_err(|e| ReportError::Io(format!("{}：{e}", out.display())))?
        .len();
    let done = ReportExport {
        title,
        round_name: facts.round.name.clone(),
        scope,
        as_of: params.as_of,
        format,
        tasks: stats.tasks,
        approved: stats.approved,
        bytes,
    };
    store
        .record_export(
            AuditAction::ExportReport,
            "round",
            Some(round.to_string()),
            serde_json::json!({
                "format": format,
                "filter": &filter,
                "options": &params.options,
                "export": &done,
            }),
            actor,
        )
        .await?;
    Ok(done)
}
