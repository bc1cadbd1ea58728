//! The numbers in the indicators on the pages: each task's rules with what the unit
//! reported and the verdict (达标/未达标/未填报), the ledger (台账) of cases for duration
//! rules, the office's corrections of extracted rules, 督办单, and the overview of the
//! whole campaign (达标总览) with traffic lights.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::measure::{
    Compliance, JudgeContext, Judgement, Measurement, judge, manual_rule, roll_up, rule_from_parts,
};
use fazhi_domain::rules::{DurationUnit, RuleKind};
use fazhi_domain::ruleset::{CorrectionAction, KeyedRule, RuleOrigin};
use fazhi_domain::supervision::{Light, LightState, NoticeLevel, traffic_light};
use fazhi_domain::task::ActorRole;
use fazhi_store::tasks::{TaskFilter, TaskSummary};
use fazhi_store::{
    NewLedgerCase, NodeId, Notice, StoredLedgerCase, TaskId, TaskMeasures, UserRole,
};
use serde::Deserialize;

use super::work::{opt_date, task_access, today};
use super::{Layout, flash, render, require_admin};
use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;

/// One rule of a task as the task page shows it.
pub struct RuleRow {
    pub key: String,
    pub family: &'static str,
    pub requirement: String,
    pub source: String,
    pub certain: bool,
    pub note: String,
    pub origin: &'static str,
    pub verdict: Compliance,
    pub actual: String,
    pub detail: String,
    /// Which input the report form needs: `percent`, `number`, `date`.
    pub input: &'static str,
    /// The unit of the number input, e.g. `个工作日`, `学时`, `次`.
    pub unit_label: String,
    pub violations: usize,
    /// When and by whom the latest value was reported.
    pub reported: String,
}

/// One ledger case with its result per duration rule.
pub struct CaseRow {
    pub case: StoredLedgerCase,
    /// `用时4个工作日，少于5个工作日` per rule, with the verdict.
    pub checks: Vec<(Compliance, String)>,
    pub worst: Compliance,
}

/// The rules block of a task page.
pub struct MeasuresView {
    pub rules: Vec<RuleRow>,
    pub overall: Option<Compliance>,
    pub has_duration: bool,
    pub ledger: Vec<CaseRow>,
    pub history_len: usize,
}

impl MeasuresView {
    pub fn overall_label(&self) -> &'static str {
        self.overall.map(Compliance::label).unwrap_or("无量化要求")
    }

    pub fn overall_css(&self) -> &'static str {
        self.overall.map(Compliance::css).unwrap_or("none")
    }
}

fn input_of(kind: &RuleKind) -> (&'static str, String) {
    match kind {
        RuleKind::Percent { .. } => ("percent", "%".into()),
        RuleKind::Duration { unit, .. } => ("number", unit.label().into()),
        RuleKind::Count { unit, .. } => ("number", unit.clone()),
        RuleKind::Frequency { every_years, .. } => (
            "number",
            if *every_years == 1 {
                "次（本年度）".into()
            } else {
                format!("次（近{every_years}年）")
            },
        ),
        RuleKind::Deadline { .. } | RuleKind::Date { .. } => ("date", String::new()),
    }
}

/// Judge every rule of a task.
pub fn judge_task(m: &TaskMeasures, calendar: &HolidayCalendar) -> Vec<(KeyedRule, Judgement)> {
    let ctx = JudgeContext {
        calendar,
        period_start: m.period_start,
    };
    let cases: Vec<_> = m.ledger.iter().map(StoredLedgerCase::as_case).collect();
    m.rules
        .rules
        .iter()
        .map(|r| {
            let latest = m.latest.get(&r.key).map(|x| &x.measurement);
            (r.clone(), judge(r, latest, &cases, &ctx))
        })
        .collect()
}

pub fn measures_view(m: &TaskMeasures, calendar: &HolidayCalendar) -> MeasuresView {
    let judged = judge_task(m, calendar);
    let overall = roll_up(judged.iter().map(|(_, j)| j.verdict));
    let mut ledger: Vec<CaseRow> = m
        .ledger
        .iter()
        .map(|c| CaseRow {
            case: c.clone(),
            checks: Vec::new(),
            worst: Compliance::Met,
        })
        .collect();
    for (rule, j) in &judged {
        for check in &j.cases {
            if let Some(row) = ledger.iter_mut().find(|r| r.case.id.0 == check.case_id) {
                row.checks.push((
                    check.verdict,
                    format!("{}：{}", rule.rule.describe(), check.detail),
                ));
                row.worst = roll_up([row.worst, check.verdict]).unwrap_or(Compliance::Met);
            }
        }
    }
    let rules = judged
        .iter()
        .map(|(r, j)| {
            let (input, unit_label) = input_of(&r.rule.kind);
            RuleRow {
                key: r.key.clone(),
                family: r.rule.kind.family_label(),
                requirement: r.rule.describe(),
                source: r.rule.source.clone(),
                certain: r.rule.certain,
                note: r.rule.note.clone().unwrap_or_default(),
                origin: r.origin.label(),
                verdict: j.verdict,
                actual: j.actual.clone(),
                detail: j.detail.clone(),
                input,
                unit_label,
                violations: j.violations(),
                reported: m
                    .latest
                    .get(&r.key)
                    .map(|x| format!("{} {}", super::cn_time(&x.at), x.author_name))
                    .unwrap_or_default(),
            }
        })
        .collect();
    MeasuresView {
        has_duration: m
            .rules
            .rules
            .iter()
            .any(|r| matches!(r.rule.kind, RuleKind::Duration { .. })),
        rules,
        overall,
        ledger,
        history_len: m.history.len(),
    }
}

/// The light of a task on the lists. A done task's finishing day is its last step's day.
pub fn light_of(t: &TaskSummary, calendar: &HolidayCalendar, warn: u32) -> LightState {
    let finished_on = t
        .status
        .is_done()
        .then(|| {
            t.last_event_at
                .map(|at| (at + chrono::Duration::hours(8)).date_naive())
        })
        .flatten();
    traffic_light(
        t.status,
        t.due_on,
        t.was_late,
        finished_on,
        today(),
        calendar,
        warn,
    )
}

// ---- Reporting values and keeping the ledger (the unit) ----

#[derive(Deserialize)]
pub struct MeasureForm {
    rule_key: String,
    value: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    done_on: Option<String>,
    note: Option<String>,
}

fn opt_number(raw: &Option<String>, what: &str) -> WebResult<Option<f64>> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .trim_end_matches('%')
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| WebError::BadRequest(format!("{what}“{s}”不是数字"))),
    }
}

async fn require_unit(state: &AppState, cu: &CurrentUser, id: TaskId) -> WebResult<()> {
    if task_access(state, &cu.user, id).await? != ActorRole::ResponsibleUnit {
        return Err(WebError::Forbidden("只有本单位可以填报数据".into()));
    }
    Ok(())
}

pub async fn record(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<MeasureForm>,
) -> WebResult<Response> {
    let id = TaskId(id);
    require_unit(&state, &cu, id).await?;
    let value = Measurement {
        value: opt_number(&f.value, "数值")?,
        numerator: opt_number(&f.numerator, "分子")?,
        denominator: opt_number(&f.denominator, "分母")?,
        done_on: opt_date(&f.done_on, "完成日期")?,
    };
    state
        .store
        .record_measurement(
            id,
            &f.rule_key,
            value,
            f.note.as_deref().unwrap_or(""),
            &cu.user.actor(),
        )
        .await?;
    flash(&state, &cu, "数据已保存").await?;
    Ok(Redirect::to(&format!("/tasks/{id}#rules")).into_response())
}

#[derive(Deserialize)]
pub struct CaseForm {
    title: String,
    started_on: Option<String>,
    finished_on: Option<String>,
    note: Option<String>,
}

pub async fn add_case(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<CaseForm>,
) -> WebResult<Response> {
    let id = TaskId(id);
    require_unit(&state, &cu, id).await?;
    let started_on = opt_date(&f.started_on, "起始日期")?
        .ok_or_else(|| WebError::BadRequest("请填写起始日期（如收到送审稿的日期）".into()))?;
    let finished_on = opt_date(&f.finished_on, "办结日期")?
        .ok_or_else(|| WebError::BadRequest("请填写办结日期".into()))?;
    state
        .store
        .add_ledger_case(
            id,
            NewLedgerCase {
                title: f.title,
                started_on,
                finished_on,
                note: f.note.unwrap_or_default(),
            },
            &cu.user.actor(),
        )
        .await?;
    flash(&state, &cu, "台账记录已添加").await?;
    Ok(Redirect::to(&format!("/tasks/{id}#ledger")).into_response())
}

pub async fn delete_case(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(case_id): Path<i64>,
) -> WebResult<Response> {
    let task = state
        .store
        .ledger_case_task(fazhi_store::LedgerCaseId(case_id))
        .await?;
    require_unit(&state, &cu, task).await?;
    state
        .store
        .delete_ledger_case(fazhi_store::LedgerCaseId(case_id), &cu.user.actor())
        .await?;
    flash(&state, &cu, "台账记录已删除").await?;
    Ok(Redirect::to(&format!("/tasks/{task}#ledger")).into_response())
}

// ---- 督办单 ----

#[derive(Deserialize)]
pub struct NoticeForm {
    level: String,
    message: String,
    respond_by: Option<String>,
}

pub async fn issue_notice(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<NoticeForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let id = TaskId(id);
    let level = f
        .level
        .parse::<NoticeLevel>()
        .ok()
        .ok_or_else(|| WebError::BadRequest(format!("督办级别“{}”无法识别", f.level)))?;
    let respond_by = opt_date(&f.respond_by, "答复期限")?;
    if respond_by.is_some_and(|d| d < today()) {
        return Err(WebError::BadRequest("答复期限不能早于今天".into()));
    }
    state
        .store
        .issue_notice(id, level, &f.message, respond_by, &cu.user.actor())
        .await?;
    flash(
        &state,
        &cu,
        format!("已发出{}督办单（{}）", level.label(), level.colour()),
    )
    .await?;
    Ok(Redirect::to(&format!("/tasks/{id}#notices")).into_response())
}

#[derive(Deserialize)]
pub struct AckForm {
    note: Option<String>,
}

pub async fn acknowledge_notice(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(notice_id): Path<i64>,
    Form(f): Form<AckForm>,
) -> WebResult<Response> {
    let task = state
        .store
        .notice_task(fazhi_store::NoticeId(notice_id))
        .await?;
    if task_access(&state, &cu.user, task).await? != ActorRole::ResponsibleUnit {
        return Err(WebError::Forbidden("只有被督办的单位可以签收督办单".into()));
    }
    state
        .store
        .acknowledge_notice(
            fazhi_store::NoticeId(notice_id),
            f.note.as_deref().unwrap_or(""),
            &cu.user.actor(),
        )
        .await?;
    flash(&state, &cu, "督办单已签收").await?;
    Ok(Redirect::to(&format!("/tasks/{task}#notices")).into_response())
}

/// A notice with the task it is about, for lists.
pub struct NoticeRow {
    pub n: Notice,
    pub code: String,
    pub unit_name: String,
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    layout: Option<Layout>,
    rows: Vec<NoticeRow>,
    is_admin: bool,
    today: chrono::NaiveDate,
}

pub async fn notices(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> WebResult<impl IntoResponse> {
    let is_admin = cu.user.role == UserRole::Admin;
    let filter = match cu.user.role {
        UserRole::Liaison => TaskFilter {
            unit: Some(cu.user.unit_id.ok_or_else(WebError::forbidden)?),
            ..Default::default()
        },
        _ => TaskFilter::default(),
    };
    let tasks: HashMap<TaskId, TaskSummary> = state
        .store
        .tasks(&filter)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let rows = state
        .store
        .all_notices()
        .await?
        .into_iter()
        .filter_map(|n| {
            let t = tasks.get(&n.task_id)?;
            Some(NoticeRow {
                code: t.code.clone(),
                unit_name: t.unit_name.clone(),
                n,
            })
        })
        .collect();
    render(&NoticesPage {
        layout: Layout::build(&state, &cu).await?,
        rows,
        is_admin,
        today: today(),
    })
}

// ---- Rule corrections (the office) ----

#[derive(Deserialize)]
pub struct CorrectionForm {
    /// `replace`, `delete` or `add`.
    action: String,
    key: Option<String>,
    kind: Option<String>,
    subject: Option<String>,
    op: Option<String>,
    value: Option<String>,
    unit: Option<String>,
    reason: Option<String>,
}

pub async fn correct_rule(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(node): Path<i64>,
    Form(f): Form<CorrectionForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let node = NodeId(node);
    let target = || {
        f.key
            .clone()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| WebError::BadRequest("缺少要更正的要求".into()))
    };
    let rule = || -> WebResult<_> {
        let kind = f.kind.as_deref().unwrap_or("");
        let subject = f.subject.as_deref().unwrap_or("");
        let value = opt_number(&f.value, "数值")?
            .ok_or_else(|| WebError::BadRequest("请填写数值".into()))?;
        let parsed = rule_from_parts(
            kind,
            subject,
            f.op.as_deref().unwrap_or(">="),
            value,
            f.unit.as_deref().unwrap_or(""),
        )
        .map_err(WebError::BadRequest)?;
        Ok(manual_rule(parsed, subject, None))
    };
    let action = match f.action.as_str() {
        "replace" => CorrectionAction::Replace {
            target: target()?,
            rule: rule()?,
        },
        "delete" => CorrectionAction::Delete { target: target()? },
        "add" => CorrectionAction::Add { rule: rule()? },
        other => return Err(WebError::BadRequest(format!("不认识的操作“{other}”"))),
    };
    let what = match action {
        CorrectionAction::Replace { .. } => "修正",
        CorrectionAction::Delete { .. } => "删除",
        CorrectionAction::Add { .. } => "补充",
    };
    state
        .store
        .add_rule_correction(
            node,
            action,
            f.reason.as_deref().unwrap_or(""),
            &cu.user.actor(),
        )
        .await?;
    flash(
        &state,
        &cu,
        format!("已{what}量化要求；重新导入指标体系后仍然有效"),
    )
    .await?;
    Ok(Redirect::to(&format!("/indicators/{node}#rules")).into_response())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    node: i64,
}

pub async fn revoke_correction(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<RevokeForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    state
        .store
        .revoke_rule_correction(fazhi_store::CorrectionId(id), &cu.user.actor())
        .await?;
    flash(&state, &cu, "已撤销这条更正，恢复为自动识别的结果").await?;
    Ok(Redirect::to(&format!("/indicators/{}#rules", f.node)).into_response())
}

/// The rules block of an indicator page: the rules in force, with what was corrected.
pub struct IndicatorRules {
    pub rules: Vec<KeyedRule>,
    pub deleted: Vec<(i64, KeyedRule)>,
    pub corrections: Vec<fazhi_store::StoredCorrection>,
    pub stale: usize,
}

impl IndicatorRules {
    pub fn correction_id(r: &KeyedRule) -> Option<i64> {
        match &r.origin {
            RuleOrigin::Extracted => None,
            RuleOrigin::Corrected { correction_id, .. } | RuleOrigin::Added { correction_id } => {
                Some(*correction_id)
            }
        }
    }

    pub fn original(r: &KeyedRule) -> String {
        match &r.origin {
            RuleOrigin::Corrected { original, .. } => original.describe(),
            _ => String::new(),
        }
    }
}

/// Parts of a rule for prefilling the correction form: (kind, op, value, unit).
pub fn rule_parts(r: &KeyedRule) -> (&'static str, &'static str, String, String) {
    let num = |v: f64| {
        if v.fract() == 0.0 {
            format!("{}", v as i64)
        } else {
            v.to_string()
        }
    };
    match &r.rule.kind {
        RuleKind::Percent { op, value } => ("percent", op.symbol(), num(*value), String::new()),
        RuleKind::Duration { op, value, unit } => (
            "duration",
            op.symbol(),
            num(*value),
            match unit {
                DurationUnit::Workday => "workday",
                DurationUnit::Hour => "hour",
                _ => "day",
            }
            .into(),
        ),
        RuleKind::Count { op, value, unit } => ("count", op.symbol(), num(*value), unit.clone()),
        RuleKind::Frequency {
            op,
            times,
            every_years,
        } => (
            "frequency",
            op.symbol(),
            times.to_string(),
            every_years.to_string(),
        ),
        RuleKind::Deadline { month, day } => (
            "deadline",
            ">=",
            (month * 100 + day).to_string(),
            String::new(),
        ),
        RuleKind::Date { month, day } => {
            ("date", ">=", (month * 100 + day).to_string(), String::new())
        }
    }
}

pub async fn indicator_rules(
    state: &AppState,
    node: NodeId,
    code: &str,
) -> WebResult<IndicatorRules> {
    let set = state.store.node_rules(node).await?;
    Ok(IndicatorRules {
        rules: set.rules,
        deleted: set.deleted,
        stale: set.stale.len(),
        corrections: state.store.rule_corrections(code).await?,
    })
}

// ---- Overview (达标总览) ----

/// One indicator of the overview.
pub struct OverviewRow {
    pub node_id: NodeId,
    pub code: String,
    pub text: String,
    pub rule_count: usize,
    pub verdict: Option<Compliance>,
    /// Per unit: (task id, unit name, verdict, light).
    pub units: Vec<(TaskId, String, Option<Compliance>, LightState)>,
    pub violations: usize,
}

impl OverviewRow {
    pub fn verdict_label(&self) -> &'static str {
        match self.verdict {
            Some(v) => v.label(),
            None if self.rule_count == 0 => "无量化要求",
            None => "未生成任务",
        }
    }

    pub fn verdict_css(&self) -> &'static str {
        self.verdict.map(Compliance::css).unwrap_or("none")
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Option<Layout>,
    round_name: Option<String>,
    rows: Vec<OverviewRow>,
    /// (label, css, count) of indicator verdicts.
    verdict_counts: Vec<(&'static str, &'static str, usize)>,
    /// (label, css, count) of task lights.
    light_counts: Vec<(&'static str, &'static str, usize)>,
    only: String,
    warn_workdays: u32,
}

#[derive(Deserialize)]
pub struct OverviewQuery {
    only: Option<String>,
}

pub async fn overview(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<OverviewQuery>,
) -> WebResult<impl IntoResponse> {
    super::require_overview(&cu.user)?;
    let round = state.store.active_round().await?;
    let calendar = state.calendar().await?;
    let warn = state.config.warn_workdays;
    let mut rows: BTreeMap<(usize, String), OverviewRow> = BTreeMap::new();
    let mut lights: HashMap<Light, usize> = HashMap::new();
    if let Some(r) = &round {
        let tasks: HashMap<TaskId, TaskSummary> = state
            .store
            .tasks(&TaskFilter {
                round: Some(r.id),
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        for m in state.store.round_measures(r.id).await? {
            let Some(t) = tasks.get(&m.task_id) else {
                continue;
            };
            let judged = judge_task(&m, &calendar);
            let verdict = roll_up(judged.iter().map(|(_, j)| j.verdict));
            let violations = judged.iter().map(|(_, j)| j.violations()).sum::<usize>();
            let light = light_of(t, &calendar, warn);
            *lights.entry(light.light).or_default() += 1;
            let order = t.code.parse::<usize>().unwrap_or(usize::MAX);
            let row = rows
                .entry((order, t.code.clone()))
                .or_insert_with(|| OverviewRow {
                    node_id: t.node_id,
                    code: t.code.clone(),
                    text: t.text.clone(),
                    rule_count: m.rules.rules.len(),
                    verdict: None,
                    units: Vec::new(),
                    violations: 0,
                });
            row.verdict = match (row.verdict, verdict) {
                (Some(a), Some(b)) => roll_up([a, b]),
                (a, b) => a.or(b),
            };
            row.violations += violations;
            row.units.push((t.id, t.unit_name.clone(), verdict, light));
        }
    }
    let rows: Vec<OverviewRow> = rows.into_values().collect();
    let verdict_counts = [
        Compliance::NotMet,
        Compliance::NotReported,
        Compliance::Undecidable,
        Compliance::Met,
    ]
    .into_iter()
    .map(|v| {
        (
            v.label(),
            v.css(),
            rows.iter().filter(|r| r.verdict == Some(v)).count(),
        )
    })
    .collect();
    let light_counts = [Light::Red, Light::Yellow, Light::Green, Light::None]
        .into_iter()
        .map(|l| (l.label(), l.css(), lights.get(&l).copied().unwrap_or(0)))
        .collect();
    let only = q.only.unwrap_or_default();
    let rows = rows
        .into_iter()
        .filter(|r| match only.as_str() {
            "rules" => r.rule_count > 0,
            "not_met" => r.verdict == Some(Compliance::NotMet),
            "red" => r.units.iter().any(|u| u.3.light == Light::Red),
            _ => true,
        })
        .collect();
    render(&OverviewPage {
        layout: Layout::build(&state, &cu).await?,
        round_name: round.map(|r| r.name),
        rows,
        verdict_counts,
        light_counts,
        only,
        warn_workdays: warn,
    })
}

/// What the task page adds for rules, ledger, light and notices.
pub struct TaskSupervision {
    pub measures: MeasuresView,
    pub light: LightState,
    pub notices: Vec<Notice>,
    pub levels: Vec<(&'static str, &'static str, &'static str)>,
    /// The next level the office may issue (an open notice can only be escalated).
    pub min_level: Option<NoticeLevel>,
    pub today: chrono::NaiveDate,
}

impl TaskSupervision {
    pub fn level_allowed(&self, level: &str) -> bool {
        match (self.min_level, level.parse::<NoticeLevel>().ok()) {
            (Some(min), Some(l)) => l >= min,
            (None, _) => false,
            (_, None) => false,
        }
    }
}

pub async fn task_supervision(state: &AppState, t: &TaskSummary) -> WebResult<TaskSupervision> {
    let calendar = state.calendar().await?;
    let m = state.store.task_measures(t.id).await?;
    let notices = state.store.task_notices(t.id).await?;
    let min_level = match notices.first() {
        Some(n) if n.acknowledged_at.is_none() => n.level.next(),
        _ => Some(NoticeLevel::Remind),
    };
    Ok(TaskSupervision {
        measures: measures_view(&m, &calendar),
        light: light_of(t, &calendar, state.config.warn_workdays),
        notices,
        levels: NoticeLevel::ALL
            .into_iter()
            .map(|l| (l.as_str(), l.label(), l.colour()))
            .collect(),
        min_level,
        today: today(),
    })
}
