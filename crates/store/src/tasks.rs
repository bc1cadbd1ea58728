//! Tasks (任务): one unit's share of one indicator in one round. Listing and detail, the
//! lifecycle (签收 → 报送 → 退回/通过 → 销号, see [`fazhi_domain::task`]), due dates,
//! scores, and the access helpers the web layer authorises with (the inbox is in
//! [`crate::inbox`], the write guards in `guard`).
//!
//! Only tasks of the active round can be changed; earlier rounds are read-only (make one
//! active again with [`Store::activate_round`] to change it).
//!
//! Dates: "today" is never read here: the caller passes it (the date in the county's
//! zone, see [`fazhi_domain::clock`]). A task submitted on a day after its due date is
//! marked `was_late` (and stays marked).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use fazhi_domain::framework::Role;
use fazhi_domain::task::{
    ActorRole, Assurance, GuardFacts, Score, TaskAction, TaskActionKind, TaskStatus, apply,
    check_guards, submitted_late,
};
use sea_orm::sea_query::{Expr, ExprTrait, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::{app_user, evidence, framework_node, progress_report, task, task_event, unit};
use crate::error::{StoreError, StoreResult};
use crate::evidence::{Evidence, evidence_of_task};
use crate::framework::HeadingRef;
use crate::guard::{ensure_active_round, ensure_editable, find_task, writable_task};
use crate::reports::{ProgressReport, reports_of};
use crate::text::clean_text;
use crate::types::{
    Actor, EventId, NodeId, RoundId, TaskId, UnitId, UserId, UserRole, enum_from_str, enum_to_str,
    now,
};
use crate::users::User;

/// Longest reason of a 退回, in characters.
const MAX_REASON_CHARS: usize = 2000;

/// Ids per `IN (…)` list.
const ID_CHUNK: usize = 500;

/// Which tasks [`Store::tasks`] lists; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFilter {
    /// `None`: tasks of every round (pass the active round's id to see the current work).
    pub round: Option<RoundId>,
    pub unit: Option<UnitId>,
    pub status: Option<TaskStatus>,
    pub node: Option<NodeId>,
    /// Due strictly before this date (tasks without a due date never match).
    pub due_before: Option<NaiveDate>,
}

/// A task in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: TaskId,
    pub round_id: RoundId,
    pub node_id: NodeId,
    /// The indicator's 序号.
    pub code: String,
    /// The indicator's text.
    pub text: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub role: Role,
    /// Set when the unit holds the indicator as a member of this group (各执法部门).
    pub via_group: Option<(UnitId, String)>,
    pub status: TaskStatus,
    pub due_on: Option<NaiveDate>,
    pub self_score: Option<Score>,
    pub review_score: Option<Score>,
    /// Submitted after its due date at least once.
    pub was_late: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Evidence items not deleted.
    pub evidence_count: u32,
    pub report_count: u32,
    /// Time of the last lifecycle step, if any.
    pub last_event_at: Option<DateTime<Utc>>,
}

/// One lifecycle step of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEvent {
    pub id: EventId,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    pub action: TaskActionKind,
    pub from_status: TaskStatus,
    pub to_status: TaskStatus,
    /// The reason of a 退回.
    pub note: Option<String>,
}

/// A task with everything about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDetail {
    pub summary: TaskSummary,
    /// Headings above the indicator, 一级 first.
    pub ancestors: Vec<HeadingRef>,
    /// Oldest first.
    pub events: Vec<TaskEvent>,
    /// Newest first.
    pub reports: Vec<ProgressReport>,
    /// Evidence not deleted, in the order added, each with its versions and reviews.
    pub evidence: Vec<Evidence>,
}

fn score(value: Option<i32>) -> StoreResult<Option<Score>> {
    value
        .map(|v| {
            u16::try_from(v)
                .ok()
                .and_then(|t| Score::from_tenths(t).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("分数 {v}")))
        })
        .transpose()
}

/// Whether `unit_id` leads the task's indicator in its round (holds it as 牵头单位 itself,
/// not through a group) while the task is another unit's 配合 task.
async fn leads(conn: &impl ConnectionTrait, t: &task::Model, unit_id: i64) -> StoreResult<bool> {
    if unit_id == t.unit_id || t.role != enum_to_str(&Role::Co) {
        return Ok(false);
    }
    Ok(task::Entity::find()
        .filter(task::Column::RoundId.eq(t.round_id))
        .filter(task::Column::NodeId.eq(t.node_id))
        .filter(task::Column::UnitId.eq(unit_id))
        .filter(task::Column::Role.eq(enum_to_str(&Role::Lead)))
        .filter(task::Column::ViaGroupUnitId.is_null())
        .one(conn)
        .await?
        .is_some())
}

async fn role_of_user(
    conn: &impl ConnectionTrait,
    t: &task::Model,
    user: &User,
) -> StoreResult<ActorRole> {
    if user.disabled {
        return Ok(ActorRole::Observer);
    }
    Ok(match (user.role, user.unit_id) {
        (UserRole::Admin, _) => ActorRole::Office,
        (UserRole::Liaison, Some(unit)) if unit.0 == t.unit_id => ActorRole::ResponsibleUnit,
        (UserRole::Liaison, Some(unit)) if leads(conn, t, unit.0).await? => ActorRole::LeadUnit,
        _ => ActorRole::Observer,
    })
}

/// Lookups shared by the summaries of one query.
struct Lookups {
    nodes: HashMap<i64, framework_node::Model>,
    names: HashMap<i64, String>,
    evidence: HashMap<i64, i64>,
    reports: HashMap<i64, i64>,
    last_event: HashMap<i64, Option<DateTime<Utc>>>,
}

impl Lookups {
    fn summary(&self, t: task::Model) -> StoreResult<(i32, TaskSummary)> {
        let node = self
            .nodes
            .get(&t.node_id)
            .ok_or_else(|| StoreError::Corrupt(format!("任务 #{} 的指标 #{}", t.id, t.node_id)))?;
        let name = |id: i64| self.names.get(&id).cloned().unwrap_or_default();
        let count = |map: &HashMap<i64, i64>| {
            map.get(&t.id)
                .and_then(|n| u32::try_from(*n).ok())
                .unwrap_or(0)
        };
        Ok((
            node.doc_order,
            TaskSummary {
                id: TaskId(t.id),
                round_id: RoundId(t.round_id),
                node_id: NodeId(t.node_id),
                code: node.code.clone(),
                text: node.title.clone(),
                unit_id: UnitId(t.unit_id),
                unit_name: name(t.unit_id),
                role: enum_from_str(&t.role)?,
                via_group: t.via_group_unit_id.map(|g| (UnitId(g), name(g))),
                status: enum_from_str(&t.status)?,
                due_on: t.due_on,
                self_score: score(t.self_score_tenths)?,
                review_score: score(t.review_score_tenths)?,
                was_late: t.was_late,
                created_at: t.created_at,
                updated_at: t.updated_at,
                evidence_count: count(&self.evidence),
                report_count: count(&self.reports),
                last_event_at: self.last_event.get(&t.id).copied().flatten(),
            },
        ))
    }
}

/// `SELECT column FROM task WHERE cond`.
fn task_column(cond: &Condition, column: task::Column) -> SelectStatement {
    task::Entity::find()
        .select_only()
        .column(column)
        .filter(cond.clone())
        .into_query()
}

/// The tasks matching `cond` as summaries, ordered by round, then document order of the
/// indicator, then 牵头 before 配合, then unit.
pub(crate) async fn summaries(
    conn: &impl ConnectionTrait,
    cond: Condition,
) -> StoreResult<Vec<TaskSummary>> {
    let rows = task::Entity::find().filter(cond.clone()).all(conn).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids = || task_column(&cond, task::Column::Id);
    let nodes = framework_node::Entity::find()
        .filter(framework_node::Column::Id.in_subquery(task_column(&cond, task::Column::NodeId)))
        .all(conn)
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let names = unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let evidence: HashMap<i64, i64> = evidence::Entity::find()
        .select_only()
        .column(evidence::Column::TaskId)
        .column_as(Expr::col(evidence::Column::Id).count(), "n")
        .filter(evidence::Column::TaskId.in_subquery(ids()))
        .filter(evidence::Column::Deleted.eq(false))
        .group_by(evidence::Column::TaskId)
        .into_tuple::<(i64, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let reports: HashMap<i64, i64> = progress_report::Entity::find()
        .select_only()
        .column(progress_report::Column::TaskId)
        .column_as(Expr::col(progress_report::Column::Id).count(), "n")
        .filter(progress_report::Column::TaskId.in_subquery(ids()))
        .group_by(progress_report::Column::TaskId)
        .into_tuple::<(i64, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let last_event: HashMap<i64, Option<DateTime<Utc>>> = task_event::Entity::find()
        .select_only()
        .column(task_event::Column::TaskId)
        .column_as(Expr::col(task_event::Column::At).max(), "last_at")
        .filter(task_event::Column::TaskId.in_subquery(ids()))
        .group_by(task_event::Column::TaskId)
        .into_tuple::<(i64, Option<DateTime<Utc>>)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let lookups = Lookups {
        nodes,
        names,
        evidence,
        reports,
        last_event,
    };
    let mut out = rows
        .into_iter()
        .map(|t| lookups.summary(t))
        .collect::<StoreResult<Vec<_>>>()?;
    out.sort_by_key(|(order, s)| (s.round_id, *order, s.role != Role::Lead, s.unit_id));
    Ok(out.into_iter().map(|(_, s)| s).collect())
}

fn filter_condition(filter: &TaskFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(round) = filter.round {
        cond = cond.add(task::Column::RoundId.eq(round.0));
    }
    if let Some(unit) = filter.unit {
        cond = cond.add(task::Column::UnitId.eq(unit.0));
    }
    if let Some(status) = filter.status {
        cond = cond.add(task::Column::Status.eq(status.as_str()));
    }
    if let Some(node) = filter.node {
        cond = cond.add(task::Column::NodeId.eq(node.0));
    }
    if let Some(date) = filter.due_before {
        cond = cond.add(task::Column::DueOn.lt(date));
    }
    cond
}

async fn summary_of(conn: &impl ConnectionTrait, id: i64) -> StoreResult<TaskSummary> {
    summaries(conn, Condition::all().add(task::Column::Id.eq(id)))
        .await?
        .pop()
        .ok_or_else(|| StoreError::not_found(format!("任务 #{id}")))
}

/// What the audit log keeps of a task.
#[derive(Serialize)]
struct TaskSnapshot {
    status: TaskStatus,
    due_on: Option<NaiveDate>,
    self_score: Option<Score>,
    review_score: Option<Score>,
    was_late: bool,
}

impl TaskSnapshot {
    fn of(t: &task::Model) -> StoreResult<Self> {
        Ok(TaskSnapshot {
            status: enum_from_str(&t.status)?,
            due_on: t.due_on,
            self_score: score(t.self_score_tenths)?,
            review_score: score(t.review_score_tenths)?,
            was_late: t.was_late,
        })
    }
}

async fn events_of(conn: &impl ConnectionTrait, task_id: i64) -> StoreResult<Vec<TaskEvent>> {
    task_event::Entity::find()
        .filter(task_event::Column::TaskId.eq(task_id))
        .order_by_asc(task_event::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|e| {
            Ok(TaskEvent {
                id: EventId(e.id),
                at: e.at,
                actor_user_id: e.actor_user_id.map(UserId),
                actor_name: e.actor_name,
                action: enum_from_str(&e.action)?,
                from_status: enum_from_str(&e.from_status)?,
                to_status: enum_from_str(&e.to_status)?,
                note: e.note,
            })
        })
        .collect()
}

async fn ancestors_of(conn: &impl ConnectionTrait, node_id: i64) -> StoreResult<Vec<HeadingRef>> {
    let mut out = Vec::new();
    let mut parent = framework_node::Entity::find_by_id(node_id)
        .one(conn)
        .await?
        .and_then(|n| n.parent_id);
    while let Some(id) = parent {
        let Some(p) = framework_node::Entity::find_by_id(id).one(conn).await? else {
            break;
        };
        parent = p.parent_id;
        out.push(HeadingRef {
            id: NodeId(p.id),
            code: p.code,
            title: p.title,
        });
    }
    out.reverse();
    Ok(out)
}

impl Store {
    /// Tasks matching `filter`, by round, then document order, 牵头 first, then unit.
    pub async fn tasks(&self, filter: &TaskFilter) -> StoreResult<Vec<TaskSummary>> {
        summaries(self.connection(), filter_condition(filter)).await
    }

    /// One task with its indicator's headings, events, reports and evidence.
    pub async fn task(&self, id: TaskId) -> StoreResult<TaskDetail> {
        let conn = self.connection();
        let summary = summary_of(conn, id.0).await?;
        Ok(TaskDetail {
            ancestors: ancestors_of(conn, summary.node_id.0).await?,
            events: events_of(conn, id.0).await?,
            reports: reports_of(conn, id.0).await?,
            evidence: evidence_of_task(conn, id.0).await?,
            summary,
        })
    }

    /// The unit a task belongs to (for authorising a liaison).
    pub async fn task_unit(&self, id: TaskId) -> StoreResult<UnitId> {
        Ok(UnitId(find_task(self.connection(), id).await?.unit_id))
    }

    /// Whether `unit` may review the task as 牵头单位: it leads the task's indicator in
    /// the same round itself (not through a group), and the task is another unit's 配合
    /// task.
    pub async fn is_lead_unit_for(&self, id: TaskId, unit: UnitId) -> StoreResult<bool> {
        let conn = self.connection();
        let t = find_task(conn, id).await?;
        leads(conn, &t, unit.0).await
    }

    /// The role `user` has on the task: an admin is the office, the liaison of the task's
    /// unit the responsible unit, the liaison of a unit that [leads](Self::is_lead_unit_for)
    /// it the lead unit; everyone else (and a disabled account) an observer.
    pub async fn task_role(&self, id: TaskId, user: &User) -> StoreResult<ActorRole> {
        let conn = self.connection();
        let t = find_task(conn, id).await?;
        role_of_user(conn, &t, user).await
    }

    /// Whether the unit may add material (reports, evidence) to the task now: it is in the
    /// active round and 办理中 or 退回. Checked before a large upload is read, so a refused
    /// upload costs nothing and leaves nothing behind.
    pub async fn ensure_accepts_material(&self, id: TaskId) -> StoreResult<()> {
        let t = writable_task(self.connection(), id).await?;
        ensure_editable(enum_from_str::<TaskStatus>(&t.status)?)
    }

    /// Takes a lifecycle step and records it (event and audit entry) in one transaction;
    /// returns the new status. Refused moves ([`fazhi_domain::task::apply`]) are
    /// [`StoreError::Invalid`] with the Chinese reason and change nothing.
    ///
    /// When `actor` is a user account, `role` must be the role that account has on the
    /// task (see [`Store::task_role`]); the system actor may act in any role.
    /// A 报送 when `today` (the caller's date in the county's zone, see
    /// [`fazhi_domain::clock::Clock`]) is after the due date marks the task `was_late`.
    ///
    /// A step without an [`Assurance`]: 报送 and 通过 pass their guards only when the task
    /// needs nothing stated (see [`Store::transition_with`]).
    pub async fn transition(
        &self,
        id: TaskId,
        action: &TaskAction,
        role: ActorRole,
        actor: &Actor,
        today: NaiveDate,
    ) -> StoreResult<TaskStatus> {
        self.transition_with(id, action, &Assurance::default(), role, actor, today)
            .await
    }

    /// What the guards of 报送 and 通过 see on a task: its progress reports, evidence and
    /// rules 未达标/未填报 (judged as the task page judges them).
    pub async fn guard_facts(&self, id: TaskId) -> StoreResult<GuardFacts> {
        let conn = self.connection();
        let progress_reports = progress_report::Entity::find()
            .filter(progress_report::Column::TaskId.eq(id.0))
            .count(conn)
            .await?;
        let evidence = evidence::Entity::find()
            .filter(evidence::Column::TaskId.eq(id.0))
            .filter(evidence::Column::Deleted.eq(false))
            .count(conn)
            .await?;
        let calendar = self.calendar().await?;
        let judged = self.task_measures(id).await?.judge(&calendar);
        let open_rules = GuardFacts::open_rules_of(
            judged
                .into_iter()
                .map(|(rule, j)| (rule.rule.describe(), j.verdict)),
        );
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Ok(GuardFacts {
            progress_reports: count(progress_reports),
            evidence: count(evidence),
            open_rules,
        })
    }

    /// [`Store::transition`] with what the person acting has stated: on 报送 without
    /// evidence the reason none is needed, on 报送 with open rules the confirmation, on
    /// 通过 with open rules the reason (kept as the step's note, in the audit entry with
    /// the open rules). Refused by the guards ([`fazhi_domain::task::check_guards`]) as
    /// [`StoreError::Invalid`] with the message saying what is missing.
    pub async fn transition_with(
        &self,
        id: TaskId,
        action: &TaskAction,
        assurance: &Assurance,
        role: ActorRole,
        actor: &Actor,
        today: NaiveDate,
    ) -> StoreResult<TaskStatus> {
        let reason = match action.reason() {
            Some(reason) => Some(clean_text(reason, "退回理由", MAX_REASON_CHARS, false)?),
            None => None,
        };
        // The guards read what the task holds before the write transaction (SQLite runs
        // one writer at a time); material can change only while the unit works on the
        // task, and the status is checked again inside the transaction.
        let guarded = matches!(
            action.kind(),
            TaskActionKind::Submit | TaskActionKind::Approve
        );
        let (facts, stated) = if guarded {
            let facts = self.guard_facts(id).await?;
            let stated = Assurance {
                note: clean_text(&assurance.note, "说明", MAX_REASON_CHARS, false)?,
                confirmed: assurance.confirmed,
            };
            (Some(facts), stated)
        } else {
            (None, Assurance::default())
        };
        let tx = self.begin().await?;
        let conn = tx.connection();
        let t = writable_task(conn, id).await?;
        if let Some(user_id) = actor.user_id {
            let user = app_user::Entity::find_by_id(user_id.0)
                .one(conn)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("用户 #{user_id}")))?;
            let actual = role_of_user(conn, &t, &User::try_from(user)?).await?;
            if role != actual && role != ActorRole::Observer {
                return Err(StoreError::invalid(format!(
                    "当前账号对该任务的身份是“{}”，不能以“{}”的身份办理",
                    actual.label(),
                    role.label()
                )));
            }
        }
        let from: TaskStatus = enum_from_str(&t.status)?;
        let to = apply(from, action, role).map_err(|e| StoreError::invalid(e.to_string()))?;
        let note = match &facts {
            Some(facts) => check_guards(action.kind(), facts, &stated)
                .map_err(|e| StoreError::invalid(e.to_string()))?,
            None => None,
        };
        let note = reason.clone().or(note);
        let late = action.kind() == TaskActionKind::Submit && submitted_late(today, t.due_on);
        let at = now();
        let updated = task::Entity::update_many()
            .col_expr(task::Column::Status, Expr::value(to.as_str()))
            .col_expr(task::Column::UpdatedAt, Expr::value(at))
            .col_expr(task::Column::WasLate, Expr::value(t.was_late || late))
            .filter(task::Column::Id.eq(t.id))
            .filter(task::Column::Status.eq(from.as_str()))
            .exec(conn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(StoreError::invalid("任务状态已被他人更改，请刷新后重试"));
        }
        task_event::ActiveModel {
            task_id: Set(t.id),
            at: Set(at),
            actor_user_id: Set(actor.user_id.map(|u| u.0)),
            actor_name: Set(actor.name.clone()),
            action: Set(action.kind().as_str().to_string()),
            from_status: Set(from.as_str().to_string()),
            to_status: Set(to.as_str().to_string()),
            note: Set(note.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        let before = TaskSnapshot::of(&t)?;
        let open_rules: Vec<String> = facts
            .iter()
            .flat_map(|f| f.open_rules.iter().map(|r| r.label()))
            .collect();
        let after = TaskSnapshot::of(&find_task(conn, id).await?)?;
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                format!("task.{}", action.kind().as_str()),
                "task",
                Some(id.to_string()),
            )
            .before(&before)
            .after(serde_json::json!({
                "task": after,
                "role": role,
                "note": note,
                "open_rules": open_rules,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(to)
    }

    /// Sets (or with `None` clears) the due date of several tasks of the active round at
    /// once, e.g. all tasks of an indicator or of a unit. Returns how many were changed.
    pub async fn set_due(
        &self,
        ids: &[TaskId],
        due_on: Option<NaiveDate>,
        actor: &Actor,
    ) -> StoreResult<usize> {
        let wanted: BTreeSet<i64> = ids.iter().map(|id| id.0).collect();
        if wanted.is_empty() {
            return Err(StoreError::invalid("没有选择任务"));
        }
        let wanted: Vec<i64> = wanted.into_iter().collect();
        let tx = self.begin().await?;
        let conn = tx.connection();
        let mut rows = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(ID_CHUNK) {
            rows.extend(
                task::Entity::find()
                    .filter(task::Column::Id.is_in(chunk.to_vec()))
                    .all(conn)
                    .await?,
            );
        }
        let found: BTreeSet<i64> = rows.iter().map(|t| t.id).collect();
        if let Some(missing) = wanted.iter().find(|id| !found.contains(id)) {
            return Err(StoreError::not_found(format!("任务 #{missing}")));
        }
        let rounds: BTreeSet<i64> = rows.iter().map(|t| t.round_id).collect();
        for round in rounds {
            ensure_active_round(conn, round).await?;
        }
        let at = now();
        for chunk in wanted.chunks(ID_CHUNK) {
            task::Entity::update_many()
                .col_expr(task::Column::DueOn, Expr::value(due_on))
                .col_expr(task::Column::UpdatedAt, Expr::value(at))
                .filter(task::Column::Id.is_in(chunk.to_vec()))
                .exec(conn)
                .await?;
        }
        let before: Vec<serde_json::Value> = rows
            .iter()
            .map(|t| serde_json::json!({ "task": t.id, "due_on": t.due_on }))
            .collect();
        append_audit(
            &tx,
            AuditEntry::new(actor, "task.set_due", "task", None)
                .before(before)
                .after(serde_json::json!({ "tasks": wanted, "due_on": due_on })),
        )
        .await?;
        tx.commit().await?;
        Ok(wanted.len())
    }

    /// Stores the unit's self-assessment and/or the office's review score; `None` leaves
    /// that score as it is. Scores are 0–100 with one decimal ([`Score`]).
    pub async fn set_scores(
        &self,
        id: TaskId,
        self_score: Option<Score>,
        review_score: Option<Score>,
        actor: &Actor,
    ) -> StoreResult<()> {
        if self_score.is_none() && review_score.is_none() {
            return Err(StoreError::invalid("没有要保存的分数"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        let t = writable_task(conn, id).await?;
        let before = TaskSnapshot::of(&t)?;
        let mut row: task::ActiveModel = t.into();
        if let Some(s) = self_score {
            row.self_score_tenths = Set(Some(i32::from(s.tenths())));
        }
        if let Some(s) = review_score {
            row.review_score_tenths = Set(Some(i32::from(s.tenths())));
        }
        row.updated_at = Set(now());
        let after = TaskSnapshot::of(&row.update(conn).await?)?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "task.set_scores", "task", Some(id.to_string()))
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await
    }
}
