//! Supervision: 督办单 (issued by the office, acknowledged by the unit, escalated level by
//! level), the holiday arrangements the office adds for new years, and private calendar
//! feed tokens.

use chrono::{DateTime, NaiveDate, Utc};
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::supervision::NoticeLevel;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::{calendar_feed, calendar_year, supervision_notice, task};
use crate::error::{StoreError, StoreResult};
use crate::tasks::{clean_text, find_task};
use crate::types::{Actor, TaskId, UnitId, UserId, now};

/// A 督办单.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub task_id: TaskId,
    pub level: NoticeLevel,
    pub message: String,
    /// The unit should answer by then.
    pub respond_by: Option<NaiveDate>,
    /// The notice this one escalates.
    pub previous_notice_id: Option<i64>,
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
            id: m.id,
            task_id: TaskId(m.task_id),
            level: NoticeLevel::parse(&m.level).ok_or_else(|| {
                StoreError::Corrupt(format!("督办单 #{} 的级别“{}”无法识别", m.id, m.level))
            })?,
            message: m.message,
            respond_by: m.respond_by,
            previous_notice_id: m.previous_notice_id,
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

/// A year of holiday arrangement added by the office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedCalendarYear {
    pub year: i32,
    /// e.g. `国办发明电〔2026〕7号`.
    pub source: String,
    pub csv: String,
    pub added_at: DateTime<Utc>,
    pub added_by_name: String,
}

impl From<calendar_year::Model> for AddedCalendarYear {
    fn from(m: calendar_year::Model) -> Self {
        AddedCalendarYear {
            year: m.year,
            source: m.source,
            csv: m.csv,
            added_at: m.added_at,
            added_by_name: m.added_by_name,
        }
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

/// The shipped arrangements plus `years`; a stored year that no longer merges is an error
/// naming it.
fn calendar_with(years: &[AddedCalendarYear]) -> StoreResult<HolidayCalendar> {
    let mut cal = HolidayCalendar::china_builtin();
    for y in years {
        let corrupt = |e| StoreError::Corrupt(format!("{}年节假日安排：{e}", y.year));
        cal.merge(&HolidayCalendar::parse_csv(&y.csv).map_err(corrupt)?)
            .map_err(corrupt)?;
        cal.declare_year(y.year);
    }
    Ok(cal)
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
    ) -> StoreResult<i64> {
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
            previous_notice_id: Set(previous.as_ref().map(|p| p.id)),
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
    pub async fn notice_task(&self, id: i64) -> StoreResult<TaskId> {
        supervision_notice::Entity::find_by_id(id)
            .one(self.connection())
            .await?
            .map(|n| TaskId(n.task_id))
            .ok_or_else(|| StoreError::not_found(format!("督办单 #{id}")))
    }

    /// The unit acknowledges a notice (签收督办单), with an optional answer; earlier notices
    /// of the task still open are acknowledged with it (the escalation superseded them).
    pub async fn acknowledge_notice(&self, id: i64, note: &str, actor: &Actor) -> StoreResult<()> {
        let note = clean_text(note, "签收说明", 2000, false)?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = supervision_notice::Entity::find_by_id(id)
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
            .filter(supervision_notice::Column::Id.lt(id))
            .filter(supervision_notice::Column::AcknowledgedAt.is_null())
            .all(conn)
            .await?;
        let also: Vec<i64> = earlier.iter().map(|n| n.id).collect();
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

    /// Years of holiday arrangements the office added.
    pub async fn added_calendar_years(&self) -> StoreResult<Vec<AddedCalendarYear>> {
        Ok(calendar_year::Entity::find()
            .order_by_asc(calendar_year::Column::Year)
            .all(self.connection())
            .await?
            .into_iter()
            .map(AddedCalendarYear::from)
            .collect())
    }

    /// The working-day calendar in force: the shipped arrangements plus the years the
    /// office added. A stored year that no longer merges is an error naming it.
    pub async fn calendar(&self) -> StoreResult<HolidayCalendar> {
        calendar_with(&self.added_calendar_years().await?)
    }

    /// Adds (or, for a year the office added before, replaces) the arrangement of `year`.
    /// The CSV (`date,kind,name`) must parse, contain entries of that year, and agree with
    /// the other years' data; a year shipped with the program cannot be replaced.
    pub async fn set_calendar_year(
        &self,
        year: i32,
        source: &str,
        csv: &str,
        actor: &Actor,
    ) -> StoreResult<usize> {
        let source = clean_text(source, "依据（通知文号）", 200, true)?;
        if !(2000..=2100).contains(&year) {
            return Err(StoreError::invalid(format!("年份{year}不在2000至2100之间")));
        }
        if HolidayCalendar::china_builtin().is_covered(year) {
            return Err(StoreError::invalid(format!(
                "{year}年的节假日安排已随系统提供（国务院办公厅通知），不能修改"
            )));
        }
        let parsed =
            HolidayCalendar::parse_csv(csv).map_err(|e| StoreError::invalid(e.to_string()))?;
        let count = parsed.entries().count();
        if !parsed
            .entries()
            .any(|e| chrono::Datelike::year(&e.date) == year)
        {
            return Err(StoreError::invalid(format!(
                "数据中没有{year}年的日期，请检查年份"
            )));
        }
        // Must agree with the shipped data and the other added years.
        let others: Vec<AddedCalendarYear> = self
            .added_calendar_years()
            .await?
            .into_iter()
            .filter(|y| y.year != year)
            .collect();
        calendar_with(&others)?
            .merge(&parsed)
            .map_err(|e| StoreError::invalid(format!("与已有节假日数据冲突：{e}")))?;
        let text = parsed.to_csv();
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = calendar_year::Entity::find_by_id(year).one(conn).await?;
        if let Some(b) = &before {
            calendar_year::Entity::delete_by_id(b.year)
                .exec(conn)
                .await?;
        }
        let row = calendar_year::ActiveModel {
            year: Set(year),
            source: Set(source),
            csv: Set(text),
            added_at: Set(now()),
            added_by_name: Set(actor.name.clone()),
        }
        .insert(conn)
        .await?;
        let after = AddedCalendarYear::from(row);
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                "calendar.set_year",
                "calendar_year",
                Some(year.to_string()),
            )
            .before(before.map(AddedCalendarYear::from))
            .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Sets (replaces) the user's calendar feed token, given as its SHA-256 hex.
    pub async fn set_feed_token(
        &self,
        user: UserId,
        token_sha256: &str,
        actor: &Actor,
    ) -> StoreResult<()> {
        if token_sha256.len() != 64 || !token_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::invalid("令牌摘要应为64位十六进制"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        calendar_feed::Entity::delete_many()
            .filter(calendar_feed::Column::UserId.eq(user.0))
            .exec(conn)
            .await?;
        calendar_feed::ActiveModel {
            user_id: Set(user.0),
            token_sha256: Set(token_sha256.to_ascii_lowercase()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "feed.renew", "calendar_feed", Some(user.to_string())),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When the user's feed token was made, if there is one.
    pub async fn feed_created(&self, user: UserId) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(calendar_feed::Entity::find()
            .filter(calendar_feed::Column::UserId.eq(user.0))
            .one(self.connection())
            .await?
            .map(|f| f.created_at))
    }

    /// The user a feed token (SHA-256 hex) belongs to.
    pub async fn feed_user(&self, token_sha256: &str) -> StoreResult<Option<UserId>> {
        Ok(calendar_feed::Entity::find()
            .filter(calendar_feed::Column::TokenSha256.eq(token_sha256.to_ascii_lowercase()))
            .one(self.connection())
            .await?
            .map(|f| UserId(f.user_id)))
    }
}
