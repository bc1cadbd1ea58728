//! Tasks: the list with its filters, one task's page, its lifecycle actions (签收, 报送,
//! 撤回, 退回, 通过, 销号, 重新办理) with the guards of 报送 and 通过 shown before the
//! buttons, progress reports, scores and due dates.

use crate::AppState;
use crate::access::{Admin, ScoreKind, TaskScorer, TaskUnit, TaskViewer};
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;
use crate::views::opt_date;
use crate::views::{Layout, flash, opt_id, render};
use askama::Template;
use axum::Form;
use axum::extract::{OriginalUri, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_domain::task::{
    ActorRole, Assurance, GuardFacts, TaskAction, TaskActionKind, TaskStatus, allowed_actions,
};
use fazhi_store::tasks::{TaskDetail, TaskFilter, TaskSummary};
use fazhi_store::{NewReport, NodeId, RoundInfo, Score, TaskId, UnitId, UnitSummary, UserRole};
use serde::Deserialize;

pub fn status_class(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Pending => "st-pending",
        TaskStatus::InProgress => "st-progress",
        TaskStatus::Submitted => "st-submitted",
        TaskStatus::Returned => "st-returned",
        TaskStatus::Approved => "st-approved",
        TaskStatus::Closed => "st-closed",
    }
}

/// A task row with what the lists show.
pub struct TaskRow {
    pub t: TaskSummary,
    pub status_class: &'static str,
    /// 红黄绿灯 (see `fazhi_domain::supervision`).
    pub light: fazhi_domain::supervision::LightState,
}

pub(crate) fn rows(
    tasks: Vec<TaskSummary>,
    calendar: &fazhi_domain::calendar::HolidayCalendar,
    warn: u32,
    today: chrono::NaiveDate,
) -> Vec<TaskRow> {
    tasks
        .into_iter()
        .map(|t| TaskRow {
            status_class: status_class(t.status),
            light: t.light(calendar, warn, today),
            t,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "tasks/list.html")]
struct TasksPage {
    layout: Option<Layout>,
    csrf: String,
    is_admin: bool,
    round: Option<RoundInfo>,
    rows: Vec<TaskRow>,
    units: Vec<UnitSummary>,
    unit: Option<UnitId>,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    counts: Vec<(&'static str, usize)>,
    light: String,
    /// The 一级/二级指标 the list is narrowed to (from the 看板): its id and label.
    heading: Option<(i64, String)>,
    /// A liaison: the batch form signs; the office: every batch action.
    is_liaison: bool,
    /// This list with its filters, to come back to after a batch action.
    back: String,
    notice_levels: Vec<(&'static str, &'static str)>,
}

impl TasksPage {
    fn is_selected(&self, id: &UnitId) -> bool {
        self.unit == Some(*id)
    }

    /// Whether the row gets a box to tick for the batch form: any row for the office, a
    /// task still to sign for a liaison.
    fn selectable(&self, row: &TaskRow) -> bool {
        self.is_admin || (self.is_liaison && row.t.status == TaskStatus::Pending)
    }

    fn any_selectable(&self) -> bool {
        self.rows.iter().any(|r| self.selectable(r))
    }
}

#[derive(Deserialize)]
pub struct TasksQuery {
    unit: Option<String>,
    status: Option<String>,
    /// `red`, `yellow`, `green`, `none`: only tasks with that traffic light.
    light: Option<String>,
    /// A heading's node id: only the tasks of the indicators under it.
    heading: Option<String>,
}

pub async fn tasks(
    State(state): State<AppState>,
    cu: CurrentUser,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<TasksQuery>,
) -> WebResult<impl IntoResponse> {
    let round = state.store.active_round().await?;
    let liaison = cu.user.role == UserRole::Liaison;
    let unit = if liaison {
        Some(cu.user.unit_id.ok_or_else(WebError::forbidden)?)
    } else {
        opt_id(&q.unit).map(UnitId)
    };
    let status_raw = q.status.unwrap_or_default();
    let light = q.light.unwrap_or_default();
    // `done`: approved or closed (销号), what the 看板's 完成率 counts.
    let done = status_raw == "done";
    let status = status_raw.parse::<TaskStatus>().ok();
    let heading = match opt_id(&q.heading) {
        Some(id) => heading_leaves(&state, NodeId(id)).await?,
        None => None,
    };
    let all = match &round {
        Some(r) => {
            state
                .store
                .tasks(&TaskFilter {
                    round: Some(r.id),
                    unit,
                    ..Default::default()
                })
                .await?
        }
        None => Vec::new(),
    };
    let counts = TaskStatus::ALL
        .into_iter()
        .map(|s| (s.label(), all.iter().filter(|t| t.status == s).count()))
        .collect();
    let shown: Vec<TaskSummary> = all
        .into_iter()
        .filter(|t| status.is_none_or(|s| t.status == s))
        .filter(|t| !done || t.status.is_done())
        .filter(|t| {
            heading
                .as_ref()
                .is_none_or(|(_, _, leaves)| leaves.contains(&t.node_id))
        })
        .collect();
    render(&TasksPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        is_admin: cu.user.role == UserRole::Admin,
        round,
        rows: rows(
            shown,
            &*state.calendar().await?,
            state.config.warn_workdays,
            state.today(),
        )
        .into_iter()
        .filter(|r| light.is_empty() || r.light.light.css() == light)
        .collect(),
        light,
        units: if liaison {
            Vec::new()
        } else {
            state.store.units().await?
        },
        unit,
        status: status_raw,
        statuses: TaskStatus::ALL
            .into_iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        counts,
        heading: heading.map(|(id, label, _)| (id, label)),
        is_liaison: liaison,
        back: uri
            .path_and_query()
            .map_or_else(|| "/tasks".to_string(), |p| p.as_str().to_string()),
        notice_levels: fazhi_domain::supervision::NoticeLevel::ALL
            .into_iter()
            .map(|l| (l.as_str(), l.label()))
            .collect(),
    })
}

/// The heading `id` (一级 or 二级指标) of the current framework, its label and the
/// indicators under it; `None` when it is not a heading there.
async fn heading_leaves(
    state: &AppState,
    id: NodeId,
) -> WebResult<Option<(i64, String, std::collections::HashSet<NodeId>)>> {
    let Ok(fw) = state.current_framework().await else {
        return Ok(None);
    };
    let mut label = None;
    let mut leaves = std::collections::HashSet::new();
    for (path, leaf) in fw.leaves() {
        if let Some(h) = path.iter().find(|h| h.id == id) {
            label.get_or_insert_with(|| format!("{}、{}", h.code, h.title));
            leaves.insert(leaf.id);
        }
    }
    Ok(label.map(|l| (id.0, l, leaves)))
}

pub struct ActionButton {
    pub kind: &'static str,
    pub label: &'static str,
    pub needs_reason: bool,
    /// Asked in the browser before the step is sent (empty: sent at once).
    pub confirm: &'static str,
}

impl ActionButton {
    fn of(kind: TaskActionKind) -> ActionButton {
        let confirm = match kind {
            TaskActionKind::Sign => "",
            TaskActionKind::Submit => {
                "确定报送吗？报送后审核期间不能修改填报内容（审核前可以撤回）。"
            }
            TaskActionKind::Withdraw => "确定撤回报送吗？撤回后可以继续修改，改好后需要重新报送。",
            TaskActionKind::Return => "确定退回吗？退回理由会显示给责任单位。",
            TaskActionKind::Approve => "确定审核通过吗？",
            TaskActionKind::Close => {
                "确定销号吗？销号表示该项任务已经办结、不再跟踪；如需继续办理，可以“重新办理”。"
            }
            TaskActionKind::Reopen => "确定重新办理吗？任务将回到“办理中”，责任单位需要重新报送。",
        };
        ActionButton {
            kind: kind.as_str(),
            label: kind.label(),
            needs_reason: kind == TaskActionKind::Return,
            confirm,
        }
    }
}

/// What the 报送 and 通过 forms show before their buttons (see
/// [`fazhi_domain::task::check_guards`]).
pub struct GuardView {
    pub facts: GuardFacts,
    pub open_rules: Vec<String>,
}

#[derive(Template)]
#[template(path = "tasks/task.html")]
struct TaskPage {
    layout: Option<Layout>,
    csrf: String,
    d: TaskDetail,
    status_class: &'static str,
    overdue: bool,
    /// The task stayed on an indicator of an earlier framework version (the office decides).
    earlier_version: bool,
    role_label: &'static str,
    actions: Vec<ActionButton>,
    can_edit: bool,
    can_review: bool,
    is_admin: bool,
    is_unit: bool,
    max_upload_mb: u64,
    sup: super::measures::TaskSupervision,
    /// Shown when 报送 or 通过 is among the actions.
    guard: Option<GuardView>,
    /// The office, on an open task of the round in progress whose unit no longer holds
    /// the indicator: say so and offer to give it back.
    not_held: bool,
}

pub async fn task(
    State(state): State<AppState>,
    TaskViewer { cu, task: id, role }: TaskViewer,
) -> WebResult<impl IntoResponse> {
    let d = state.store.task(id).await?;
    let active = state
        .store
        .active_round()
        .await?
        .is_some_and(|r| r.id == d.summary.round_id);
    let actions: Vec<ActionButton> = if active {
        allowed_actions(d.summary.status, role)
            .into_iter()
            .map(ActionButton::of)
            .collect()
    } else {
        Vec::new()
    };
    let guarded = actions
        .iter()
        .any(|a| a.kind == "submit" || a.kind == "approve");
    let guard = if guarded {
        let facts = state.store.guard_facts(id).await?;
        let open_rules = facts.open_rules.iter().map(|r| r.label()).collect();
        Some(GuardView { facts, open_rules })
    } else {
        None
    };
    let can_edit = active && role == ActorRole::ResponsibleUnit && d.summary.status.is_editable();
    let can_review = matches!(role, ActorRole::Office | ActorRole::LeadUnit);
    let overdue =
        d.summary.due_on.is_some_and(|due| due < state.today()) && !d.summary.status.is_done();
    let holding = if active && cu.user.role == UserRole::Admin && !d.summary.status.is_done() {
        state.store.task_holding(id).await?
    } else {
        fazhi_store::Holding::Held
    };
    let earlier_version = holding == fazhi_store::Holding::EarlierVersion;
    let not_held = holding == fazhi_store::Holding::NotHeld;
    render(&TaskPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        status_class: status_class(d.summary.status),
        overdue,
        earlier_version,
        role_label: role.label(),
        actions,
        can_edit,
        can_review,
        is_admin: cu.user.role == UserRole::Admin,
        is_unit: role == ActorRole::ResponsibleUnit,
        max_upload_mb: state.config.max_upload_bytes / (1024 * 1024),
        sup: super::measures::task_supervision(&state, &d.summary).await?,
        guard,
        not_held,
        d,
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    action: String,
    reason: Option<String>,
    /// 无需材料的说明 (报送) or the reason to approve despite open rules (通过).
    note: Option<String>,
    /// 已知晓，仍要报送: a checkbox, present when ticked.
    confirm: Option<String>,
}

pub async fn action(
    State(state): State<AppState>,
    TaskViewer { cu, task: id, role }: TaskViewer,
    Form(f): Form<ActionForm>,
) -> WebResult<Response> {
    let action = match f.action.as_str() {
        "sign" => TaskAction::Sign,
        "submit" => TaskAction::Submit,
        "withdraw" => TaskAction::Withdraw,
        "return" => TaskAction::Return {
            reason: f.reason.unwrap_or_default(),
        },
        "approve" => TaskAction::Approve,
        "close" => TaskAction::Close,
        "reopen" => TaskAction::Reopen,
        other => return Err(WebError::BadRequest(format!("不认识的操作“{other}”"))),
    };
    let label = action.label();
    let assurance = Assurance {
        note: f.note.unwrap_or_default(),
        confirmed: f.confirm.is_some_and(|c| !c.is_empty()),
    };
    let status = state
        .store
        .transition_with(
            id,
            &action,
            &assurance,
            role,
            &cu.user.actor(),
            state.today(),
        )
        .await?;
    flash(
        &state,
        &cu,
        format!("已{label}，当前状态：{}", status.label()),
    )
    .await?;
    Ok(Redirect::to(&format!("/tasks/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct ReportForm {
    progress: String,
    problems: String,
    next_steps: String,
    percent: String,
}

pub async fn add_report(
    State(state): State<AppState>,
    TaskUnit(TaskViewer { cu, task: id, .. }): TaskUnit,
    Form(f): Form<ReportForm>,
) -> WebResult<Response> {
    let percent: u8 = f
        .percent
        .trim()
        .parse()
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| WebError::BadRequest("完成进度应为0到100之间的整数".into()))?;
    state
        .store
        .add_report(
            id,
            NewReport {
                progress: f.progress,
                problems: f.problems,
                next_steps: f.next_steps,
                percent,
            },
            &cu.user.actor(),
        )
        .await?;
    flash(&state, &cu, "工作进展已保存").await?;
    // Back to the section just saved, not the top of a long page.
    Ok(Redirect::to(&format!("/tasks/{id}#reports")).into_response())
}

/// The latest 退回 of a task that is 退回 now, as the unit should read it first.
pub struct ReturnReason {
    pub reason: String,
    pub reviewer: String,
    /// Beijing time.
    pub at: String,
}

/// For a task that is 退回: the reason, reviewer and time of the last Return event.
pub fn return_reason(d: &TaskDetail) -> Option<ReturnReason> {
    if d.summary.status != TaskStatus::Returned {
        return None;
    }
    let ev = d
        .events
        .iter()
        .rev()
        .find(|e| e.action == TaskActionKind::Return)?;
    Some(ReturnReason {
        reason: ev
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("未写明理由")
            .to_string(),
        reviewer: ev.actor_name.clone(),
        at: super::cn_time(&ev.at),
    })
}

/// While a task is 已报送: what the unit stated with it (无需材料的说明 / why it submits
/// over open rules), for the reviewer to read before deciding.
pub fn submit_note(d: &TaskDetail) -> Option<String> {
    if d.summary.status != TaskStatus::Submitted {
        return None;
    }
    d.events
        .iter()
        .rev()
        .find(|e| e.action == TaskActionKind::Submit)?
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

#[derive(Deserialize)]
pub struct ScoreForm {
    score: String,
}

pub async fn score(
    State(state): State<AppState>,
    TaskScorer {
        viewer: TaskViewer { cu, task: id, .. },
        kind,
    }: TaskScorer,
    Form(f): Form<ScoreForm>,
) -> WebResult<Response> {
    let score: Score = f
        .score
        .trim()
        .parse()
        .map_err(|e: fazhi_domain::task::ScoreError| WebError::BadRequest(e.to_string()))?;
    let (own, review) = match kind {
        ScoreKind::Own => (Some(score), None),
        ScoreKind::Review => (None, Some(score)),
    };
    state
        .store
        .set_scores(id, own, review, &cu.user.actor())
        .await?;
    flash(
        &state,
        &cu,
        if own.is_some() {
            "自评分已保存"
        } else {
            "审核评分已保存"
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/tasks/{id}#score")).into_response())
}

/// `已为 3 项任务截止日期设为 2027-06-30` / `已为 3 项任务清除截止日期`.
pub(crate) fn due_set_message(n: usize, due: Option<chrono::NaiveDate>) -> String {
    match due {
        Some(d) => format!("已为 {n} 项任务截止日期设为 {d}"),
        None => format!("已为 {n} 项任务清除截止日期"),
    }
}

#[derive(Deserialize)]
pub struct DueForm {
    due_on: Option<String>,
    /// Set for every task of this unit in the active round…
    unit_id: Option<String>,
    /// …or of this indicator, or just this one task.
    node_id: Option<String>,
    task_id: Option<String>,
    /// The task page to return to after a per-indicator change made from it.
    return_task: Option<String>,
}

pub async fn set_due(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Form(f): Form<DueForm>,
) -> WebResult<Response> {
    let round = state
        .store
        .active_round()
        .await?
        .ok_or_else(|| WebError::BadRequest("还没有开启创建工作轮次".into()))?;
    let due = opt_date(&f.due_on, "截止日期")?;
    let ids: Vec<TaskId> = if let Some(t) = opt_id(&f.task_id) {
        vec![TaskId(t)]
    } else {
        state
            .store
            .tasks(&TaskFilter {
                round: Some(round.id),
                unit: opt_id(&f.unit_id).map(UnitId),
                node: opt_id(&f.node_id).map(fazhi_store::NodeId),
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect()
    };
    let n = state.store.set_due(&ids, due, &cu.user.actor()).await?;
    flash(&state, &cu, due_set_message(n, due)).await?;
    let back = match opt_id(&f.task_id).or(opt_id(&f.return_task)) {
        Some(t) => format!("/tasks/{t}"),
        None => "/tasks".into(),
    };
    Ok(Redirect::to(&back).into_response())
}
