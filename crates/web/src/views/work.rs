//! The work itself: campaign rounds (创建周期), tasks per (indicator, unit), progress
//! reports, evidence (links here; files in `files.rs`), review and the inbox.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use fazhi_domain::task::{ActorRole, TaskAction, TaskActionKind, TaskStatus, allowed_actions};
use fazhi_store::inbox::Inbox;
use fazhi_store::tasks::{TaskDetail, TaskFilter, TaskSummary};
use fazhi_store::{
    EvidenceContent, EvidenceId, NewEvidence, NewReport, NewRound, RoundId, RoundInfo, Score,
    TaskId, UnitId, UnitSummary, User, UserRole, Verdict,
};
use serde::Deserialize;

use super::{Layout, flash, flash_with_warning, opt_id, render, require_admin};
use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;

/// A date field of a form: empty means none; anything else must be a date.
pub fn opt_date(raw: &Option<String>, what: &str) -> WebResult<Option<NaiveDate>> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                WebError::BadRequest(format!("{what}“{s}”不是有效日期，应写成 2026-03-31"))
            }),
    }
}

pub(crate) fn today() -> NaiveDate {
    // Beijing date: the office's working day, not UTC's.
    fazhi_domain::clock::Clock::default().today()
}

/// The role of `user` on a task, or 403 when they may not even see it.
pub(crate) async fn task_access(state: &AppState, user: &User, id: TaskId) -> WebResult<ActorRole> {
    let role = state.store.task_role(id, user).await?;
    if user.role == UserRole::Liaison
        && !matches!(role, ActorRole::ResponsibleUnit | ActorRole::LeadUnit)
    {
        return Err(WebError::Forbidden("这项任务不属于本单位".into()));
    }
    Ok(role)
}

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

fn rows(
    tasks: Vec<TaskSummary>,
    calendar: &fazhi_domain::calendar::HolidayCalendar,
    warn: u32,
) -> Vec<TaskRow> {
    tasks
        .into_iter()
        .map(|t| TaskRow {
            status_class: status_class(t.status),
            light: super::measures::light_of(&t, calendar, warn),
            t,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    layout: Option<Layout>,
    csrf: String,
    is_admin: bool,
    rounds: Vec<RoundInfo>,
}

pub async fn rounds(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> WebResult<impl IntoResponse> {
    super::require_overview(&cu.user)?;
    render(&RoundsPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        is_admin: cu.user.role == UserRole::Admin,
        rounds: state.store.rounds().await?,
    })
}

#[derive(Deserialize)]
pub struct RoundForm {
    name: String,
    starts_on: Option<String>,
    ends_on: Option<String>,
    due_on: Option<String>,
    copy_from: Option<String>,
}

pub async fn open_round(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(f): Form<RoundForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let starts_on = opt_date(&f.starts_on, "开始日期")?
        .ok_or_else(|| WebError::BadRequest("请填写开始日期".into()))?;
    let ends_on = opt_date(&f.ends_on, "结束日期")?
        .ok_or_else(|| WebError::BadRequest("请填写结束日期".into()))?;
    let summary = state
        .store
        .open_round(
            NewRound {
                name: f.name,
                starts_on,
                ends_on,
                framework_id: None,
                due_on: opt_date(&f.due_on, "统一截止日期")?,
                copy_from: opt_id(&f.copy_from).map(RoundId),
            },
            &cu.user.actor(),
        )
        .await?;
    let mut msg = format!(
        "已开启新一轮创建工作，生成任务 {} 项",
        summary.tasks_created
    );
    if summary.due_dates_copied > 0 {
        msg.push_str(&format!(
            "，沿用上一轮截止日期 {} 项",
            summary.due_dates_copied
        ));
    }
    msg.push('。');
    let mut warnings = Vec::new();
    for g in &summary.empty_groups {
        warnings.push(format!(
            "“{}”尚未设置成员单位，第{}项指标暂未生成任务。",
            g.name,
            g.indicator_codes.join("、")
        ));
    }
    if !summary.indicators_without_units.is_empty() {
        warnings.push(format!(
            "第{}项指标没有责任单位，未生成任务。",
            summary.indicators_without_units.join("、")
        ));
    }
    let warning = (!warnings.is_empty()).then(|| format!("注意：{}", warnings.concat()));
    flash_with_warning(&state, &cu, msg, warning).await?;
    Ok(Redirect::to("/tasks").into_response())
}

#[derive(Template)]
#[template(path = "tasks.html")]
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
}

impl TasksPage {
    fn is_selected(&self, id: &UnitId) -> bool {
        self.unit == Some(*id)
    }
}

#[derive(Deserialize)]
pub struct TasksQuery {
    unit: Option<String>,
    status: Option<String>,
    /// `red`, `yellow`, `green`, `none`: only tasks with that traffic light.
    light: Option<String>,
}

pub async fn tasks(
    State(state): State<AppState>,
    cu: CurrentUser,
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
    let status = status_raw.parse::<TaskStatus>().ok();
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
        .collect();
    render(&TasksPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        is_admin: cu.user.role == UserRole::Admin,
        round,
        rows: rows(shown, &*state.calendar().await?, state.config.warn_workdays)
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
    })
}

pub struct ActionButton {
    pub kind: &'static str,
    pub label: &'static str,
    pub needs_reason: bool,
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    layout: Option<Layout>,
    csrf: String,
    d: TaskDetail,
    status_class: &'static str,
    overdue: bool,
    role_label: &'static str,
    actions: Vec<ActionButton>,
    can_edit: bool,
    can_review: bool,
    is_admin: bool,
    is_unit: bool,
    max_upload_mb: u64,
    sup: super::measures::TaskSupervision,
}

pub async fn task(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> WebResult<impl IntoResponse> {
    let id = TaskId(id);
    let role = task_access(&state, &cu.user, id).await?;
    let d = state.store.task(id).await?;
    let active = state
        .store
        .active_round()
        .await?
        .is_some_and(|r| r.id == d.summary.round_id);
    let actions = if active {
        allowed_actions(d.summary.status, role)
            .into_iter()
            .map(|k| ActionButton {
                kind: k.as_str(),
                label: k.label(),
                needs_reason: k == TaskActionKind::Return,
            })
            .collect()
    } else {
        Vec::new()
    };
    let can_edit = active && role == ActorRole::ResponsibleUnit && d.summary.status.is_editable();
    let can_review = matches!(role, ActorRole::Office | ActorRole::LeadUnit);
    let overdue = d.summary.due_on.is_some_and(|due| due < today()) && !d.summary.status.is_done();
    render(&TaskPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        status_class: status_class(d.summary.status),
        overdue,
        role_label: role.label(),
        actions,
        can_edit,
        can_review,
        is_admin: cu.user.role == UserRole::Admin,
        is_unit: role == ActorRole::ResponsibleUnit,
        max_upload_mb: state.config.max_upload_bytes / (1024 * 1024),
        sup: super::measures::task_supervision(&state, &d.summary).await?,
        d,
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    action: String,
    reason: Option<String>,
}

pub async fn action(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> WebResult<Response> {
    let id = TaskId(id);
    let role = task_access(&state, &cu.user, id).await?;
    let action = match f.action.as_str() {
        "sign" => TaskAction::Sign,
        "submit" => TaskAction::Submit,
        "return" => TaskAction::Return {
            reason: f.reason.unwrap_or_default(),
        },
        "approve" => TaskAction::Approve,
        "close" => TaskAction::Close,
        "reopen" => TaskAction::Reopen,
        other => return Err(WebError::BadRequest(format!("不认识的操作“{other}”"))),
    };
    let label = action.label();
    let status = state
        .store
        .transition(id, &action, role, &cu.user.actor(), today())
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
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ReportForm>,
) -> WebResult<Response> {
    let id = TaskId(id);
    if task_access(&state, &cu.user, id).await? != ActorRole::ResponsibleUnit {
        return Err(WebError::Forbidden("只有本单位可以填报工作进展".into()));
    }
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
    Ok(Redirect::to(&format!("/tasks/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct LinkForm {
    title: String,
    doc_number: Option<String>,
    doc_date: Option<String>,
    url: String,
    published_on: Option<String>,
}

pub(crate) fn new_evidence(
    title: String,
    doc_number: Option<String>,
    doc_date: Option<NaiveDate>,
) -> NewEvidence {
    NewEvidence {
        title,
        doc_number: doc_number
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        doc_date,
    }
}

pub async fn add_link(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> WebResult<Response> {
    let id = TaskId(id);
    if task_access(&state, &cu.user, id).await? != ActorRole::ResponsibleUnit {
        return Err(WebError::Forbidden("只有本单位可以提交佐证材料".into()));
    }
    let meta = new_evidence(f.title, f.doc_number, opt_date(&f.doc_date, "成文日期")?);
    state
        .store
        .add_evidence(
            id,
            meta,
            EvidenceContent::Link {
                url: f.url.trim().to_string(),
                published_on: opt_date(&f.published_on, "发布日期")?,
            },
            &cu.user.actor(),
        )
        .await?;
    flash(&state, &cu, "网页链接已添加为佐证材料").await?;
    Ok(Redirect::to(&format!("/tasks/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct RelinkForm {
    url: String,
    published_on: Option<String>,
}

/// Replace a link evidence item by a new link (a new version; earlier ones stay listed).
pub async fn relink(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<RelinkForm>,
) -> WebResult<Response> {
    let id = EvidenceId(id);
    let (task, role) = evidence_access(&state, &cu.user, id).await?;
    if role != ActorRole::ResponsibleUnit {
        return Err(WebError::Forbidden(
            "只有本单位可以更新自己的佐证材料".into(),
        ));
    }
    let published_on = opt_date(&f.published_on, "发布日期")?;
    let url = fazhi_store::evidence::check_url(&f.url)?;
    let current = state.store.evidence(id).await?;
    if current
        .current()
        .is_some_and(|v| v.url.as_deref() == Some(url.as_str()) && v.published_on == published_on)
    {
        return Err(WebError::BadRequest(
            "网址和发布日期都与当前版本相同，无需更新".into(),
        ));
    }
    let version = state
        .store
        .replace_link_evidence(id, &url, published_on, &cu.user.actor())
        .await?;
    flash(
        &state,
        &cu,
        format!("已更换链接，作为第{version}版，此前的版本仍可查阅"),
    )
    .await?;
    Ok(Redirect::to(&format!("/tasks/{task}")).into_response())
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

/// The task an evidence item belongs to, with the user's role on it.
pub(crate) async fn evidence_access(
    state: &AppState,
    user: &User,
    id: EvidenceId,
) -> WebResult<(TaskId, ActorRole)> {
    let e = state.store.evidence(id).await?;
    let role = task_access(state, user, e.task_id).await?;
    Ok((e.task_id, role))
}

#[derive(Deserialize)]
pub struct ReviewForm {
    verdict: String,
    note: Option<String>,
}

pub async fn review(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> WebResult<Response> {
    let id = EvidenceId(id);
    let (task, role) = evidence_access(&state, &cu.user, id).await?;
    if !matches!(role, ActorRole::Office | ActorRole::LeadUnit) {
        return Err(WebError::Forbidden(
            "只有依法治县办或牵头单位可以审核佐证材料".into(),
        ));
    }
    let verdict = match f.verdict.as_str() {
        "ok" => Verdict::Ok,
        "needs_more" => Verdict::NeedsMore,
        other => return Err(WebError::BadRequest(format!("不认识的审核结论“{other}”"))),
    };
    let note = f.note.as_deref().map(str::trim).filter(|s| !s.is_empty());
    state
        .store
        .review_evidence(id, verdict, note, &cu.user.actor())
        .await?;
    flash(&state, &cu, "审核意见已保存").await?;
    Ok(Redirect::to(&format!("/tasks/{task}")).into_response())
}

pub async fn delete_evidence(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let id = EvidenceId(id);
    let (task, role) = evidence_access(&state, &cu.user, id).await?;
    if role != ActorRole::ResponsibleUnit {
        return Err(WebError::Forbidden(
            "只有本单位可以删除自己的佐证材料".into(),
        ));
    }
    state.store.delete_evidence(id, &cu.user.actor()).await?;
    flash(&state, &cu, "佐证材料已删除（历史版本仍保留在日志中）").await?;
    Ok(Redirect::to(&format!("/tasks/{task}")).into_response())
}

#[derive(Deserialize)]
pub struct ScoreForm {
    score: String,
}

pub async fn score(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ScoreForm>,
) -> WebResult<Response> {
    let id = TaskId(id);
    let role = task_access(&state, &cu.user, id).await?;
    let score: Score = f
        .score
        .trim()
        .parse()
        .map_err(|e: fazhi_domain::task::ScoreError| WebError::BadRequest(e.to_string()))?;
    let (own, review) = match role {
        ActorRole::ResponsibleUnit => (Some(score), None),
        ActorRole::Office => (None, Some(score)),
        _ => {
            return Err(WebError::Forbidden(
                "只有本单位（自评）或依法治县办（审核评分）可以评分".into(),
            ));
        }
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
    Ok(Redirect::to(&format!("/tasks/{id}")).into_response())
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
    cu: CurrentUser,
    Form(f): Form<DueForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
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
    let what = match due {
        Some(d) => format!("截止日期设为 {d}"),
        None => "清除截止日期".into(),
    };
    flash(&state, &cu, format!("已为 {n} 项任务{what}")).await?;
    let back = match opt_id(&f.task_id).or(opt_id(&f.return_task)) {
        Some(t) => format!("/tasks/{t}"),
        None => "/tasks".into(),
    };
    Ok(Redirect::to(&back).into_response())
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Option<Layout>,
    sections: Vec<(&'static str, &'static str, Vec<TaskRow>)>,
    /// 督办单 waiting for this unit's acknowledgement.
    notices: Vec<fazhi_store::Notice>,
    nothing: bool,
}

pub async fn inbox(State(state): State<AppState>, cu: CurrentUser) -> WebResult<impl IntoResponse> {
    let cal = state.calendar().await?;
    let warn = state.config.warn_workdays;
    let Inbox {
        to_sign,
        returned,
        due_soon,
        overdue,
        to_review,
    } = state.store.inbox_on(&cu.user, today(), &cal, warn).await?;
    let sections = vec![
        (
            "已逾期",
            "截止日期已过、尚未报送",
            rows(overdue, &cal, warn),
        ),
        (
            "被退回",
            "请按退回理由修改后重新报送",
            rows(returned, &cal, warn),
        ),
        (
            "待审核",
            "单位已报送，等待审核",
            rows(to_review, &cal, warn),
        ),
        (
            "待签收",
            "新分派的任务，请签收后开始办理",
            rows(to_sign, &cal, warn),
        ),
        (
            "即将到期",
            "3天内到期、尚未报送",
            rows(due_soon, &cal, warn),
        ),
    ];
    let notices = match (cu.user.role, cu.user.unit_id) {
        (UserRole::Liaison, Some(unit)) => state.store.open_notices_of_unit(unit).await?,
        _ => Vec::new(),
    };
    let nothing = sections.iter().all(|(_, _, r)| r.is_empty()) && notices.is_empty();
    render(&InboxPage {
        layout: Layout::build(&state, &cu).await?,
        sections,
        notices,
        nothing,
    })
}
