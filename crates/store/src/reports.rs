//! Progress reports (进展填报): 工作进展, 存在问题, 下步计划 and a percentage. Append-only:
//! a report is never changed or deleted; a new one supersedes it.

use chrono::{DateTime, Utc};
use fazhi_domain::task::TaskStatus;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::progress_report;
use crate::error::{StoreError, StoreResult};
use crate::guard::{ensure_editable, find_task, touch, writable_task};
use crate::text::clean_text;
use crate::types::{Actor, ReportId, TaskId, UserId, enum_from_str, now};

/// Longest part of a report, in characters.
const MAX_PART_CHARS: usize = 10_000;

/// A report to add. `progress` is required; `problems` and `next_steps` may be blank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReport {
    /// 工作进展
    pub progress: String,
    /// 存在问题
    pub problems: String,
    /// 下步计划
    pub next_steps: String,
    /// 完成进度, 0–100.
    pub percent: u8,
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressReport {
    pub id: ReportId,
    pub task_id: TaskId,
    pub at: DateTime<Utc>,
    pub author_user_id: Option<UserId>,
    pub author_name: String,
    pub progress: String,
    pub problems: String,
    pub next_steps: String,
    pub percent: u8,
}

impl TryFrom<progress_report::Model> for ProgressReport {
    type Error = StoreError;
    fn try_from(m: progress_report::Model) -> StoreResult<Self> {
        Ok(ProgressReport {
            id: ReportId(m.id),
            task_id: TaskId(m.task_id),
            at: m.at,
            author_user_id: m.author_user_id.map(UserId),
            author_name: m.author_name,
            progress: m.progress,
            problems: m.problems,
            next_steps: m.next_steps,
            percent: u8::try_from(m.percent)
                .map_err(|_| StoreError::Corrupt(format!("完成进度 {}", m.percent)))?,
        })
    }
}

/// The task's reports, newest first.
pub(crate) async fn reports_of(
    conn: &impl ConnectionTrait,
    task_id: i64,
) -> StoreResult<Vec<ProgressReport>> {
    progress_report::Entity::find()
        .filter(progress_report::Column::TaskId.eq(task_id))
        .order_by_desc(progress_report::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(ProgressReport::try_from)
        .collect()
}

impl Store {
    /// Adds a progress report to a task that is 办理中 or 退回 (in the active round).
    pub async fn add_report(
        &self,
        task_id: TaskId,
        new: NewReport,
        author: &Actor,
    ) -> StoreResult<ReportId> {
        let progress = clean_text(&new.progress, "工作进展", MAX_PART_CHARS, true)?;
        let problems = clean_text(&new.problems, "存在问题", MAX_PART_CHARS, false)?;
        let next_steps = clean_text(&new.next_steps, "下步计划", MAX_PART_CHARS, false)?;
        if new.percent > 100 {
            return Err(StoreError::invalid("完成进度应在0到100之间"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        let t = writable_task(conn, task_id).await?;
        ensure_editable(enum_from_str::<TaskStatus>(&t.status)?)?;
        let row = progress_report::ActiveModel {
            task_id: Set(t.id),
            at: Set(now()),
            author_user_id: Set(author.user_id.map(|u| u.0)),
            author_name: Set(author.name.clone()),
            progress: Set(progress),
            problems: Set(problems),
            next_steps: Set(next_steps),
            percent: Set(i16::from(new.percent)),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        touch(&tx, t.id).await?;
        let report = ProgressReport::try_from(row)?;
        append_audit(
            &tx,
            AuditEntry::new(
                author,
                "report.add",
                "progress_report",
                Some(report.id.to_string()),
            )
            .after(&report),
        )
        .await?;
        tx.commit().await?;
        Ok(report.id)
    }

    /// The task's reports, newest first.
    pub async fn reports(&self, task_id: TaskId) -> StoreResult<Vec<ProgressReport>> {
        let conn = self.connection();
        find_task(conn, task_id).await?;
        reports_of(conn, task_id.0).await
    }
}
