//! Campaign rounds (轮次): one pass of the campaign (e.g. `2026年度`) over one framework
//! version. Opening a round creates the tasks: one per (leaf indicator, responsible unit),
//! with a group unit (各执法部门) standing for each of its member units.
//!
//! At most one round is active; opening a round makes it the active one. Earlier rounds
//! and their tasks stay stored and readable.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use fazhi_domain::UnitKind;
use fazhi_domain::framework::Role;
use fazhi_domain::task::TaskStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, append_audit};
use crate::entity::{campaign_round, framework, framework_node, group_member, task, unit};
use crate::error::{StoreError, StoreResult, unique};
use crate::framework::{assignments_of, current_framework_id};
use crate::types::{
    Actor, FrameworkId, RoundId, TaskId, UnitId, UserId, enum_from_str, enum_to_str, now,
};
use crate::{Store, Tx};

/// Rows per multi-row INSERT of tasks (13 columns: well below the parameter limits).
const INSERT_CHUNK: usize = 200;

/// Longest round name, in characters.
const MAX_ROUND_NAME_CHARS: usize = 64;

/// A round to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRound {
    /// E.g. `2026年度`.
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The framework version whose indicators become tasks; `None`: the current one.
    pub framework_id: Option<FrameworkId>,
    /// Due date of every task (unless `copy_from` supplies one).
    pub due_on: Option<NaiveDate>,
    /// Carry the due dates over from this earlier round, matched by indicator (its code
    /// path, e.g. `一/1/1`, so a new framework version matches) and unit.
    pub copy_from: Option<RoundId>,
}

/// A stored round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundInfo {
    pub id: RoundId,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub framework_id: FrameworkId,
    pub created_at: DateTime<Utc>,
    pub created_by_user_id: Option<UserId>,
    pub created_by_name: String,
    /// The round it was copied from.
    pub previous_round_id: Option<RoundId>,
    pub is_active: bool,
    /// 已结束: when the office closed it (read-only for good, still exported).
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by_name: Option<String>,
}

impl RoundInfo {
    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some()
    }
}

impl From<campaign_round::Model> for RoundInfo {
    fn from(m: campaign_round::Model) -> Self {
        RoundInfo {
            id: RoundId(m.id),
            name: m.name,
            starts_on: m.starts_on,
            ends_on: m.ends_on,
            framework_id: FrameworkId(m.framework_id),
            created_at: m.created_at,
            created_by_user_id: m.created_by_user_id.map(UserId),
            created_by_name: m.created_by_name,
            previous_round_id: m.previous_round_id.map(RoundId),
            is_active: m.is_active,
            closed_at: m.closed_at,
            closed_by_name: m.closed_by_name,
        }
    }
}

/// A unit that got no tasks for some indicators, with their codes (序号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedUnit {
    pub unit_id: UnitId,
    pub name: String,
    pub indicator_codes: Vec<String>,
}

/// What [`Store::open_round`] did, for the page to report (and warn about).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRoundSummary {
    pub round_id: RoundId,
    pub tasks_created: usize,
    /// Group units without members: their indicators produced no tasks for them. The
    /// office should name the members (and open the round again, or assign by hand).
    pub empty_groups: Vec<SkippedUnit>,
    /// Disabled units (or disabled members of a group) that got no task.
    pub disabled_units: Vec<SkippedUnit>,
    /// Codes of leaf indicators without any responsible unit.
    pub indicators_without_units: Vec<String>,
    /// Tasks whose due date came from `copy_from`.
    pub due_dates_copied: usize,
}

fn clean_round_name(raw: &str) -> StoreResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(StoreError::invalid("轮次名称不能为空"));
    }
    if name.chars().count() > MAX_ROUND_NAME_CHARS {
        return Err(StoreError::invalid(format!(
            "轮次名称太长（最多{MAX_ROUND_NAME_CHARS}个字）"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::invalid("轮次名称含有不可见字符"));
    }
    Ok(name.to_string())
}

pub(crate) async fn find_round(
    conn: &impl ConnectionTrait,
    id: RoundId,
) -> StoreResult<campaign_round::Model> {
    campaign_round::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("轮次 #{id}")))
}

pub(crate) async fn active_round_id(conn: &impl ConnectionTrait) -> StoreResult<Option<i64>> {
    Ok(campaign_round::Entity::find()
        .filter(campaign_round::Column::IsActive.eq(true))
        .one(conn)
        .await?
        .map(|r| r.id))
}

/// Node id → its code path (codes of the headings above it, then its own code) for every
/// node of a framework version.
pub(crate) async fn code_paths(
    conn: &impl ConnectionTrait,
    framework_id: i64,
) -> StoreResult<(Vec<framework_node::Model>, HashMap<i64, Vec<String>>)> {
    let nodes = framework_node::Entity::find()
        .filter(framework_node::Column::FrameworkId.eq(framework_id))
        .order_by_asc(framework_node::Column::DocOrder)
        .all(conn)
        .await?;
    let by_id: HashMap<i64, &framework_node::Model> = nodes.iter().map(|n| (n.id, n)).collect();
    let mut paths = HashMap::with_capacity(nodes.len());
    for n in &nodes {
        let mut path = vec![n.code.clone()];
        let mut parent = n.parent_id;
        while let Some(p) = parent.and_then(|p| by_id.get(&p)) {
            path.push(p.code.clone());
            parent = p.parent_id;
        }
        path.reverse();
        paths.insert(n.id, path);
    }
    Ok((nodes, paths))
}

/// Adds `code` to the list of `unit` in `list` (kept in order of first appearance).
fn note_skipped(list: &mut Vec<SkippedUnit>, unit: &unit::Model, code: &str) {
    match list.iter_mut().find(|s| s.unit_id.0 == unit.id) {
        Some(s) => {
            if !s.indicator_codes.iter().any(|c| c == code) {
                s.indicator_codes.push(code.to_string());
            }
        }
        None => list.push(SkippedUnit {
            unit_id: UnitId(unit.id),
            name: unit.name.clone(),
            indicator_codes: vec![code.to_string()],
        }),
    }
}

impl Store {
    /// Opens a round: stores it as the active round and creates its tasks, one per (leaf
    /// indicator, responsible unit) of the framework version, all 待签收. A group unit
    /// stands for each of its members (`via_group` set, the group's role); a unit that
    /// holds the indicator itself keeps its own role. Groups without members, disabled
    /// units and indicators without units produce no tasks and are listed in the summary.
    ///
    /// With `copy_from`, each task whose indicator (by code path) and unit had a due date
    /// in that round gets it again; the others get `due_on`. Statuses, scores and material
    /// are not copied. All in one transaction with its audit entry.
    pub async fn open_round(&self, new: NewRound, actor: &Actor) -> StoreResult<OpenRoundSummary> {
        let name = clean_round_name(&new.name)?;
        if new.starts_on > new.ends_on {
            return Err(StoreError::invalid("开始日期不能晚于结束日期"));
        }
        let tx = self.begin().await?;
        let summary = open_in(&tx, &new, name, actor).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// All rounds, newest first.
    /// What a round opened now on the current framework version would leave out:
    /// groups without members, disabled units, indicators without units.
    pub async fn division_gaps(&self) -> StoreResult<DivisionGaps> {
        let conn = self.connection();
        let Some(fid) = current_framework_id(conn).await? else {
            return Ok(DivisionGaps::default());
        };
        let plan = plan_tasks(conn, fid).await?;
        Ok(DivisionGaps {
            tasks: plan.planned.len(),
            empty_groups: plan.empty_groups,
            disabled_units: plan.disabled_units,
            indicators_without_units: plan.indicators_without_units,
        })
    }

    pub async fn rounds(&self) -> StoreResult<Vec<RoundInfo>> {
        Ok(campaign_round::Entity::find()
            .order_by_desc(campaign_round::Column::Id)
            .all(self.connection())
            .await?
            .into_iter()
            .map(RoundInfo::from)
            .collect())
    }

    pub async fn round(&self, id: RoundId) -> StoreResult<RoundInfo> {
        Ok(find_round(self.connection(), id).await?.into())
    }

    /// The round the platform works in, if one has been opened.
    pub async fn active_round(&self) -> StoreResult<Option<RoundInfo>> {
        Ok(campaign_round::Entity::find()
            .filter(campaign_round::Column::IsActive.eq(true))
            .one(self.connection())
            .await?
            .map(RoundInfo::from))
    }

    /// Makes an earlier round the active one again (e.g. after opening one by mistake).
    pub async fn activate_round(&self, id: RoundId, actor: &Actor) -> StoreResult<()> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let round = find_round(conn, id).await?;
        if round.closed_at.is_some() {
            return Err(StoreError::invalid(format!(
                "轮次“{}”已结束，只能查看和导出；如需继续工作，请以它为基础开启新一轮",
                round.name
            )));
        }
        let previous = active_round_id(conn).await?;
        if previous == Some(round.id) {
            return Ok(());
        }
        make_active(&tx, round.id).await?;
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                "round.activate",
                "campaign_round",
                Some(id.to_string()),
            )
            .before(serde_json::json!({ "active": previous }))
            .after(serde_json::json!({ "active": round.id, "name": round.name })),
        )
        .await?;
        tx.commit().await
    }
}

impl Store {
    /// Closes the round (结束本轮): it stops being the round in progress, its tasks are
    /// read-only for good, and it is kept and can still be exported. A new round can be
    /// opened from it (`NewRound::copy_from`). Closing twice is refused.
    pub async fn close_round(&self, id: RoundId, actor: &Actor) -> StoreResult<RoundInfo> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let round = find_round(conn, id).await?;
        if round.closed_at.is_some() {
            return Err(StoreError::invalid(format!("轮次“{}”已经结束", round.name)));
        }
        let at = now();
        campaign_round::Entity::update_many()
            .col_expr(campaign_round::Column::IsActive, Expr::value(false))
            .col_expr(campaign_round::Column::ClosedAt, Expr::value(Some(at)))
            .col_expr(
                campaign_round::Column::ClosedByName,
                Expr::value(Some(actor.name.clone())),
            )
            .filter(campaign_round::Column::Id.eq(round.id))
            .exec(conn)
            .await?;
        let closed = RoundInfo::from(find_round(conn, id).await?);
        append_audit(
            &tx,
            AuditEntry::new(actor, "round.close", "campaign_round", Some(id.to_string()))
                .before(serde_json::json!({ "active": round.is_active, "name": round.name }))
                .after(&closed),
        )
        .await?;
        tx.commit().await?;
        Ok(closed)
    }
}

/// Clears the active flag everywhere, then sets it on `round_id` (the unique index allows
/// one active round at a time).
async fn make_active(tx: &Tx, round_id: i64) -> StoreResult<()> {
    let conn = tx.connection();
    campaign_round::Entity::update_many()
        .col_expr(campaign_round::Column::IsActive, Expr::value(false))
        .filter(campaign_round::Column::IsActive.eq(true))
        .exec(conn)
        .await?;
    campaign_round::Entity::update_many()
        .col_expr(campaign_round::Column::IsActive, Expr::value(true))
        .filter(campaign_round::Column::Id.eq(round_id))
        .exec(conn)
        .await
        .map_err(unique("轮次"))?;
    Ok(())
}

/// One task to create.
struct Planned {
    node_id: i64,
    unit_id: i64,
    role: Role,
    via_group: Option<i64>,
}

/// The tasks the responsibility division asks for in a framework version, and what it
/// leaves out (for the office to fix).
struct TaskPlan {
    planned: Vec<Planned>,
    empty_groups: Vec<SkippedUnit>,
    disabled_units: Vec<SkippedUnit>,
    indicators_without_units: Vec<String>,
    /// Node id → code path (for carrying due dates over by indicator).
    paths: HashMap<i64, Vec<String>>,
    /// Node id → its 序号.
    codes: HashMap<i64, String>,
    /// Unit id → name.
    unit_names: HashMap<i64, String>,
}

/// One (leaf indicator, responsible unit) per task: a group unit stands for each of its
/// members (`via_group` set, the group's role); a unit that holds the indicator itself
/// keeps its own role. Groups without members, disabled units and indicators without
/// units produce no tasks and are listed.
async fn plan_tasks(conn: &impl ConnectionTrait, framework_id: i64) -> StoreResult<TaskPlan> {
    // Units, and the members of each group in unit order.
    let units: HashMap<i64, unit::Model> = unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut members: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for m in group_member::Entity::find()
        .order_by_asc(group_member::Column::MemberUnitId)
        .all(conn)
        .await?
    {
        members
            .entry(m.group_unit_id)
            .or_default()
            .push(m.member_unit_id);
    }

    let (nodes, paths) = code_paths(conn, framework_id).await?;
    let assignments = assignments_of(conn, framework_id).await?;
    let mut planned: Vec<Planned> = Vec::new();
    let mut empty_groups = Vec::new();
    let mut disabled_units = Vec::new();
    let mut indicators_without_units = Vec::new();
    for node in nodes.iter().filter(|n| n.is_leaf) {
        let held = assignments.get(&node.id).map(Vec::as_slice).unwrap_or(&[]);
        if held.is_empty() {
            indicators_without_units.push(node.code.clone());
            continue;
        }
        let start = planned.len();
        let is_planned = |planned: &[Planned], unit_id: i64| {
            planned[start..].iter().any(|p| p.unit_id == unit_id)
        };
        // Units holding the indicator themselves first: their own role wins over a
        // group's.
        let mut groups = Vec::new();
        for a in held {
            let Some(u) = units.get(&a.unit_id.0) else {
                continue;
            };
            if u.disabled {
                note_skipped(&mut disabled_units, u, &node.code);
            } else if enum_from_str::<UnitKind>(&u.kind)? == UnitKind::Group {
                groups.push((u, a.role));
            } else if !is_planned(&planned, u.id) {
                planned.push(Planned {
                    node_id: node.id,
                    unit_id: u.id,
                    role: a.role,
                    via_group: None,
                });
            }
        }
        for (group, role) in groups {
            let list = members.get(&group.id).map(Vec::as_slice).unwrap_or(&[]);
            if list.is_empty() {
                note_skipped(&mut empty_groups, group, &node.code);
            }
            for member_id in list {
                let Some(m) = units.get(member_id) else {
                    continue;
                };
                if m.disabled {
                    note_skipped(&mut disabled_units, m, &node.code);
                } else if !is_planned(&planned, m.id) {
                    planned.push(Planned {
                        node_id: node.id,
                        unit_id: m.id,
                        role,
                        via_group: Some(group.id),
                    });
                }
            }
        }
    }
    Ok(TaskPlan {
        planned,
        empty_groups,
        disabled_units,
        indicators_without_units,
        paths,
        codes: nodes.iter().map(|n| (n.id, n.code.clone())).collect(),
        unit_names: units.into_iter().map(|(id, u)| (id, u.name)).collect(),
    })
}

/// What the division leaves out before a round is opened (the warning on the 轮次 page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DivisionGaps {
    pub empty_groups: Vec<SkippedUnit>,
    pub disabled_units: Vec<SkippedUnit>,
    pub indicators_without_units: Vec<String>,
    /// Tasks a round opened now would get.
    pub tasks: usize,
}

/// A task named for the office: 序号 and unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedTask {
    pub task_id: TaskId,
    pub code: String,
    pub unit_name: String,
}

/// What following a change of the division did to the round in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSync {
    /// The round in progress (none: nothing to follow).
    pub round_id: Option<RoundId>,
    /// Tasks created for units that now hold an indicator (待签收).
    pub created: Vec<SyncedTask>,
    /// Tasks whose role (牵头 / 配合) or group changed with the division.
    pub role_changed: Vec<SyncedTask>,
    /// Open tasks of units that no longer hold their indicator: kept with their work,
    /// never deleted; the office decides (销号, or give the unit the indicator back).
    pub no_longer_held: Vec<SyncedTask>,
    /// Tasks of units that no longer hold their indicator and had nothing on them (待签收,
    /// no 督办单): removed, so the unit's list no longer shows work it does not have.
    #[serde(default)]
    pub removed_untouched: Vec<SyncedTask>,
}

impl TaskSync {
    /// A sentence for the office's flash message, empty when nothing changed.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.created.is_empty() {
            parts.push(format!(
                "本轮已补建{}项任务（{}）",
                self.created.len(),
                name_tasks(&self.created)
            ));
        }
        if !self.role_changed.is_empty() {
            parts.push(format!(
                "{}项任务的牵头/配合已随之更新",
                self.role_changed.len()
            ));
        }
        if !self.removed_untouched.is_empty() {
            parts.push(format!(
                "{}项尚未签收的任务随之撤销（{}）",
                self.removed_untouched.len(),
                name_tasks(&self.removed_untouched)
            ));
        }
        if !self.no_longer_held.is_empty() {
            parts.push(format!(
                "{}项未完成的任务其单位已不再承担该指标，任务和已做的工作都保留，请在任务页面决定销号或恢复分工（{}）",
                self.no_longer_held.len(),
                name_tasks(&self.no_longer_held)
            ));
        }
        parts.join("；")
    }
}

/// `第3项·县公安局、第5项·县民政局等`: at most five named.
fn name_tasks(list: &[SyncedTask]) -> String {
    let mut s: Vec<String> = list
        .iter()
        .take(5)
        .map(|t| format!("第{}项·{}", t.code, t.unit_name))
        .collect();
    if list.len() > 5 {
        s.push(format!("等{}项", list.len()));
    }
    s.join("、")
}

/// Makes the tasks of the round in progress follow the division of its framework
/// version, inside the caller's transaction (the change to the division and this happen
/// together): creates the missing tasks (待签收, the due date the indicator's other tasks
/// share, if any), updates role and group, and lists open tasks no unit holds any more.
/// Audited as `round.follow_division` when something changed.
pub(crate) async fn follow_division(tx: &Tx, actor: &Actor) -> StoreResult<TaskSync> {
    let conn = tx.connection();
    let Some(round_id) = active_round_id(conn).await? else {
        return Ok(TaskSync::default());
    };
    let round = find_round(conn, RoundId(round_id)).await?;
    let plan = plan_tasks(conn, round.framework_id).await?;
    let existing = task::Entity::find()
        .filter(task::Column::RoundId.eq(round_id))
        .all(conn)
        .await?;
    let mut by_key: HashMap<(i64, i64), &task::Model> = existing
        .iter()
        .map(|t| ((t.node_id, t.unit_id), t))
        .collect();
    let named = |task_id: i64, node_id: i64, unit_id: i64| SyncedTask {
        task_id: TaskId(task_id),
        code: plan.codes.get(&node_id).cloned().unwrap_or_default(),
        unit_name: plan.unit_names.get(&unit_id).cloned().unwrap_or_default(),
    };
    let mut sync = TaskSync {
        round_id: Some(RoundId(round_id)),
        ..Default::default()
    };
    let created_at = now();
    for p in &plan.planned {
        let role = enum_to_str(&p.role);
        match by_key.remove(&(p.node_id, p.unit_id)) {
            Some(t) => {
                if t.role != role || t.via_group_unit_id != p.via_group {
                    let mut active: task::ActiveModel = t.clone().into();
                    active.role = Set(role);
                    active.via_group_unit_id = Set(p.via_group);
                    active.updated_at = Set(created_at);
                    active.update(conn).await?;
                    sync.role_changed.push(named(t.id, p.node_id, p.unit_id));
                }
            }
            None => {
                // The due date the indicator's other tasks in this round share.
                let mut dues: Vec<NaiveDate> = existing
                    .iter()
                    .filter(|t| t.node_id == p.node_id)
                    .filter_map(|t| t.due_on)
                    .collect();
                dues.sort();
                dues.dedup();
                let due_on = match dues.as_slice() {
                    [only] => Some(*only),
                    _ => None,
                };
                let row = task::ActiveModel {
                    round_id: Set(round_id),
                    node_id: Set(p.node_id),
                    unit_id: Set(p.unit_id),
                    role: Set(role),
                    via_group_unit_id: Set(p.via_group),
                    status: Set(enum_to_str(&TaskStatus::Pending)),
                    due_on: Set(due_on),
                    self_score_tenths: Set(None),
                    review_score_tenths: Set(None),
                    was_late: Set(false),
                    created_at: Set(created_at),
                    updated_at: Set(created_at),
                    ..Default::default()
                }
                .insert(conn)
                .await?;
                sync.created.push(named(row.id, p.node_id, p.unit_id));
            }
        }
    }
    let mut left: Vec<&task::Model> = by_key.into_values().collect();
    left.sort_by_key(|t| t.id);
    for t in left {
        if !plan.codes.contains_key(&t.node_id) {
            // On an indicator of an earlier version, kept when the round moved to this one
            // (`Store::remap_round`): listed there, never removed here.
            continue;
        }
        let status = enum_from_str::<TaskStatus>(&t.status)?;
        if status == TaskStatus::Pending && untouched(conn, t.id).await? {
            // Nothing was done on it: no work is lost by removing it.
            task::Entity::delete_by_id(t.id).exec(conn).await?;
            sync.removed_untouched
                .push(named(t.id, t.node_id, t.unit_id));
        } else if !status.is_done() {
            sync.no_longer_held.push(named(t.id, t.node_id, t.unit_id));
        }
    }
    if !sync.created.is_empty()
        || !sync.role_changed.is_empty()
        || !sync.removed_untouched.is_empty()
    {
        append_audit(
            tx,
            AuditEntry::new(
                actor,
                "round.follow_division",
                "campaign_round",
                Some(round_id.to_string()),
            )
            .after(&sync),
        )
        .await?;
    }
    Ok(sync)
}

/// Whether nothing at all hangs on the task: no step, report, evidence, value, ledger
/// case or 督办单 (a 待签收 task can have been chased with a 督办单).
async fn untouched(conn: &impl ConnectionTrait, task_id: i64) -> StoreResult<bool> {
    use crate::entity::{
        evidence, ledger_case, measurement, progress_report, supervision_notice, task_event,
    };
    use sea_orm::PaginatorTrait;
    let none = task_event::Entity::find()
        .filter(task_event::Column::TaskId.eq(task_id))
        .count(conn)
        .await?
        == 0
        && progress_report::Entity::find()
            .filter(progress_report::Column::TaskId.eq(task_id))
            .count(conn)
            .await?
            == 0
        && evidence::Entity::find()
            .filter(evidence::Column::TaskId.eq(task_id))
            .count(conn)
            .await?
            == 0
        && measurement::Entity::find()
            .filter(measurement::Column::TaskId.eq(task_id))
            .count(conn)
            .await?
            == 0
        && ledger_case::Entity::find()
            .filter(ledger_case::Column::TaskId.eq(task_id))
            .count(conn)
            .await?
            == 0
        && supervision_notice::Entity::find()
            .filter(supervision_notice::Column::TaskId.eq(task_id))
            .count(conn)
            .await?
            == 0;
    Ok(none)
}

/// Where a task stands against the division of its round (see [`Store::task_holding`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    /// Its unit holds its indicator (itself or through a group).
    Held,
    /// Kept after the division changed: its unit no longer holds the indicator.
    NotHeld,
    /// Its indicator is of an earlier framework version than the round's (kept when the
    /// round moved to a new version, see `Store::remap_round`).
    EarlierVersion,
}

impl Store {
    /// Whether the task's unit still holds its indicator under the division of the task's
    /// round, for the office to decide on the tasks that do not.
    pub async fn task_holding(&self, id: TaskId) -> StoreResult<Holding> {
        let conn = self.connection();
        let t = task::Entity::find_by_id(id.0)
            .one(conn)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("任务 #{id}")))?;
        let round = find_round(conn, RoundId(t.round_id)).await?;
        let plan = plan_tasks(conn, round.framework_id).await?;
        // `codes` holds every node of the round's version.
        if !plan.codes.contains_key(&t.node_id) {
            return Ok(Holding::EarlierVersion);
        }
        let held = plan
            .planned
            .iter()
            .any(|p| p.node_id == t.node_id && p.unit_id == t.unit_id);
        Ok(if held {
            Holding::Held
        } else {
            Holding::NotHeld
        })
    }
}

async fn open_in(
    tx: &Tx,
    new: &NewRound,
    name: String,
    actor: &Actor,
) -> StoreResult<OpenRoundSummary> {
    let conn = tx.connection();
    let framework_id = match new.framework_id {
        Some(id) => {
            framework::Entity::find_by_id(id.0)
                .one(conn)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("指标体系版本 #{id}")))?
                .id
        }
        None => current_framework_id(conn)
            .await?
            .ok_or_else(|| StoreError::invalid("尚未导入指标体系，不能开启轮次"))?,
    };
    let previous = match new.copy_from {
        Some(id) => Some(find_round(conn, id).await?),
        None => None,
    };
    let TaskPlan {
        planned,
        empty_groups,
        disabled_units,
        indicators_without_units,
        paths,
        ..
    } = plan_tasks(conn, framework_id).await?;

    // Due dates of the earlier round by (code path, unit).
    let mut carried: HashMap<(Vec<String>, i64), NaiveDate> = HashMap::new();
    if let Some(prev) = &previous {
        let (_, prev_paths) = code_paths(conn, prev.framework_id).await?;
        for t in task::Entity::find()
            .filter(task::Column::RoundId.eq(prev.id))
            .filter(task::Column::DueOn.is_not_null())
            .all(conn)
            .await?
        {
            if let (Some(path), Some(due)) = (prev_paths.get(&t.node_id), t.due_on) {
                carried.insert((path.clone(), t.unit_id), due);
            }
        }
    }

    let created_at = now();
    let round = campaign_round::ActiveModel {
        name: Set(name),
        starts_on: Set(new.starts_on),
        ends_on: Set(new.ends_on),
        framework_id: Set(framework_id),
        created_at: Set(created_at),
        created_by_user_id: Set(actor.user_id.map(|u| u.0)),
        created_by_name: Set(actor.name.clone()),
        previous_round_id: Set(previous.as_ref().map(|p| p.id)),
        is_active: Set(false),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let previous_active = active_round_id(conn).await?;
    make_active(tx, round.id).await?;

    let mut due_dates_copied = 0;
    let pending = enum_to_str(&TaskStatus::Pending);
    let mut rows = Vec::with_capacity(planned.len());
    for p in &planned {
        let copied = paths
            .get(&p.node_id)
            .and_then(|path| carried.get(&(path.clone(), p.unit_id)))
            .copied();
        if copied.is_some() {
            due_dates_copied += 1;
        }
        rows.push(task::ActiveModel {
            round_id: Set(round.id),
            node_id: Set(p.node_id),
            unit_id: Set(p.unit_id),
            role: Set(enum_to_str(&p.role)),
            via_group_unit_id: Set(p.via_group),
            status: Set(pending.clone()),
            due_on: Set(copied.or(new.due_on)),
            self_score_tenths: Set(None),
            review_score_tenths: Set(None),
            was_late: Set(false),
            created_at: Set(created_at),
            updated_at: Set(created_at),
            ..Default::default()
        });
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        task::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
    }

    let summary = OpenRoundSummary {
        round_id: RoundId(round.id),
        tasks_created: planned.len(),
        empty_groups,
        disabled_units,
        indicators_without_units,
        due_dates_copied,
    };
    let info = RoundInfo {
        is_active: true,
        ..RoundInfo::from(round)
    };
    append_audit(
        tx,
        AuditEntry::new(
            actor,
            "round.open",
            "campaign_round",
            Some(info.id.to_string()),
        )
        .before(serde_json::json!({ "active": previous_active }))
        .after(serde_json::json!({ "round": info, "due_on": new.due_on, "summary": summary })),
    )
    .await?;
    Ok(summary)
}
