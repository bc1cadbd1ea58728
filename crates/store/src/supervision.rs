//! Supervision: 督办单 (issued by the office, acknowledged by the unit, escalated level by
//! level). The holiday years the office adds are in [`crate::calendar_years`], the calendar
//! feed tokens in [`crate::feeds`].

use chrono::{DateTime, NaiveDate, Utc};
use fazhi_domain::supervision::NoticeLevel;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::{supervision_notice, task};
use crate::error::{StoreError, StoreResult};
use crate::guard::find_task;
use crate::text::clean_text;
use crate::types::{Actor, NoticeId, TaskId, UnitId, now};

/// A 督办单.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: NoticeId,
    pub task_id: TaskId,
    pub level: NoticeLevel,
    pub message: String,
    /// The unit should answer by then.
    pub respond_by: Option<NaiveDate>,
    /// The notice this one escalates.
    pub previous_notice_id: Option<NoticeId>,
    pub issued_at: DateTime<Utc>,
    pub issued_by_name: String,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by_name: Option<String>,
    pub ack_note: Option<String>,
}

impl TryFrom<supervision_notice::Model> for Notice {
    type Error = StoreError;
    fn try_from(m: supervision_notice::Model) -> StoreResult<Self> {
        Ok(Notice {
            id: NoticeId(m.id),
            task_id: TaskId(m.task_id),
            level: m.level.parse::<NoticeLevel>().map_err(|_| {
                StoreError::Corrupt(format!("督办单 #{} 的级别“{}”无法识别", m.id, m.level))
            })?,
            message: m.message,
            respond_by: m.respond_by,
            previous_notice_id: m.previous_notice_id.map(NoticeId),
            issued_at: m.issued_at,
            issued_by_name: m.issued_by_name,
            acknowledged_at: m.acknowledged_at,
            acknowledged_by_name: m.acknowledged_by_name,
            ack_note: m.ack_note,
        })
    }
}

impl Notice {
    /// Not acknowledged and its answer date has passed.
    pub fn overdue_on(&self, today: &NaiveDate) -> bool {
        self.acknowledged_at.is_none() && self.respond_by.is_some_and(|d| d < *today)
    }
}

async fn notices_where(
    conn: &impl ConnectionTrait,
    task_ids: Option<Vec<i64>>,
) -> StoreResult<Vec<Notice>> {
    let mut q = supervision_notice::Entity::find().order_by_desc(supervision_notice::Column::Id);
    if let Some(ids) = task_ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        q = q.filter(supervision_notice::Column::TaskId.is_in(ids));
    }
    q.all(conn)
        .await?
        .into_iter()
        .map(Notice::try_from)
        .collect()
}

impl Store {
    /// Issues a 督办单 for a task. When the task has an earlier notice, the new one must be
    /// of a higher level (escalation) and links to it; the same or a lower level is refused
    /// while the earlier one is not acknowledged.
    pub async fn issue_notice(
        &self,
        task_id: TaskId,
        level: NoticeLevel,
        message: &str,
        respond_by: Option<NaiveDate>,
        actor: &Actor,
    ) -> StoreResult<NoticeId> {
        let message = clean_text(message, "督办事项", 2000, true)?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let t = find_task(conn, task_id).await?;
        let previous = notices_where(conn, Some(vec![t.id]))
            .await?
            .into_iter()
            .next();
        if let Some(p) = &previous
            && p.acknowledged_at.is_none()
            && level <= p.level
        {
            return Err(StoreError::invalid(format!(
                "该任务已有未签收的{}级督办单（#{}），只能升级为更高级别",
                p.level.label(),
                p.id
            )));
        }
        let row = supervision_notice::ActiveModel {
            task_id: Set(t.id),
            level: Set(level.as_str().into()),
            message: Set(message),
            respond_by: Set(respond_by),
            previous_notice_id: Set(previous.as_ref().map(|p| p.id.0)),
            issued_at: Set(now()),
            issued_by_user_id: Set(actor.user_id.map(|u| u.0)),
            issued_by_name: Set(actor.name.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        let notice = Notice::try_from(row)?;
        let action = match &previous {
            Some(p) if level > p.level => "notice.escalate",
            _ => "notice.issue",
        };
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                action,
                "supervision_notice",
                Some(notice.id.to_string()),
            )
            .before(
                previous
                    .as_ref()
                    .map(|p| serde_json::json!({"id": p.id, "level": p.level})),
            )
            .after(&notice),
        )
        .await?;
        tx.commit().await?;
        Ok(notice.id)
    }

    /// The task a notice belongs to (for access checks).
    pub async fn notice_task(&self, id: NoticeId) -> StoreResult<TaskId> {
        supervision_notice::Entity::find_by_id(id.0)
            .one(self.connection())
            .await?
            .map(|n| TaskId(n.task_id))
            .ok_or_else(|| StoreError::not_found(format!("督办单 #{id}")))
    }

    /// The unit acknowledges a notice (签收督办单), with an optional answer; earlier notices
    /// of the task still open are acknowledged with it (the escalation superseded them).
    pub async fn acknowledge_notice(
        &self,
        id: NoticeId,
        note: &str,
        actor: &Actor,
    ) -> StoreResult<()> {
        let note = clean_text(note, "签收说明", 2000, false)?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = supervision_notice::Entity::find_by_id(id.0)
            .one(conn)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("督办单 #{id}")))?;
        if row.acknowledged_at.is_some() {
            return Err(StoreError::invalid("该督办单已签收"));
        }
        let task_id = row.task_id;
        let acknowledge = |row: supervision_notice::Model, ack_note: Option<String>| {
            let mut active: supervision_notice::ActiveModel = row.into();
            active.acknowledged_at = Set(Some(now()));
            active.acknowledged_by_user_id = Set(actor.user_id.map(|u| u.0));
            active.acknowledged_by_name = Set(Some(actor.name.clone()));
            active.ack_note = Set(ack_note);
            active.update(conn)
        };
        let notice = Notice::try_from(acknowledge(row, (!note.is_empty()).then_some(note)).await?)?;
        // An escalated notice supersedes the earlier ones of the task: acknowledging it
        // settles them too, so the unit is not asked to sign each level.
        let earlier = supervision_notice::Entity::find()
            .filter(supervision_notice::Column::TaskId.eq(task_id))
            .filter(supervision_notice::Column::Id.lt(id.0))
            .filter(supervision_notice::Column::AcknowledgedAt.is_null())
            .all(conn)
            .await?;
        let also: Vec<NoticeId> = earlier.iter().map(|n| NoticeId(n.id)).collect();
        for n in earlier {
            acknowledge(n, Some(format!("随督办单 #{id} 一并签收"))).await?;
        }
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                "notice.acknowledge",
                "supervision_notice",
                Some(id.to_string()),
            )
            .after(serde_json::json!({"notice": notice, "also_acknowledged": also})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The notices of a task, newest first.
    pub async fn task_notices(&self, task_id: TaskId) -> StoreResult<Vec<Notice>> {
        notices_where(self.connection(), Some(vec![task_id.0])).await
    }

    /// All notices (office view), newest first.
    pub async fn all_notices(&self) -> StoreResult<Vec<Notice>> {
        notices_where(self.connection(), None).await
    }

    /// Notices of a unit's tasks not yet acknowledged, newest first.
    pub async fn open_notices_of_unit(&self, unit: UnitId) -> StoreResult<Vec<Notice>> {
        let conn = self.connection();
        let ids: Vec<i64> = task::Entity::find()
            .filter(task::Column::UnitId.eq(unit.0))
            .all(conn)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            out.extend(
                notices_where(conn, Some(chunk.to_vec()))
                    .await?
                    .into_iter()
                    .filter(|n| n.acknowledged_at.is_none()),
            );
        }
        out.sort_by_key(|n| std::cmp::Reverse(n.id));
        Ok(out)
    }
}
