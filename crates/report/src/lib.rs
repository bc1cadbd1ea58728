//! Documents for superiors (对上报送), part one: the spreadsheets.
//!
//! - [`responsibility`]: the 责任分工表 of the current framework version, in the
//!   document's own layout; `fazhi import` reads it back into the same library.
//! - [`ledger`]: the 任务台账 of a round (all units or one), with the unit ranking and the
//!   totals, every number from [`fazhi_domain::stats`] over [`Store::round_facts`].
//!
//! Who may export what is the caller's decision (a liaison: its own unit's 台账 only);
//! the functions here take the scope as given, write the file through a temporary file
//! and record the export in the audit log.

pub mod ledger;
pub mod responsibility;
pub mod sheet;

use std::path::Path;

use chrono::NaiveDate;
use fazhi_domain::stats::LightRules;
use fazhi_store::{Actor, AuditAction, RoundId, Store, StoreError, TaskFilter};
use serde::Serialize;

pub use ledger::{LedgerExport, write_ledger};
pub use responsibility::{ResponsibilityExport, write_responsibility};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("无法生成电子表格：{0}")]
    Xlsx(String),
    #[error("无法写入文件 {0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
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
        ReportError::Invalid("还没有导入指标体系，请管理员先导入责任分工表".into())
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
    let mut filter = params.filter.clone();
    let round: RoundId = match filter.round {
        Some(r) => r,
        None => {
            store
                .active_round()
                .await?
                .ok_or_else(|| ReportError::Invalid("还没有进行中的创建轮次，请指定轮次".into()))?
                .id
        }
    };
    filter.round = Some(round);
    let scope = match filter.unit {
        Some(u) => store.unit(u).await?.name,
        None => "全部责任单位".to_string(),
    };
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
