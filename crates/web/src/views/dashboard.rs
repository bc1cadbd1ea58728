//! 工作看板: the home page. The office and observers see the county (or one unit with
//! `?unit=`), a liaison its own unit. Every number comes from the one statistics layer
//! (`AppState::round_view`, cached per store generation), the one the 任务台账 and the
//! 工作进展报告 print, so the screen and the documents never differ. The charts are drawn
//! by ECharts (`static/dashboard.js`) from a JSON block; each bar and slice links to the
//! filtered list behind it, and the tables below say the same without JavaScript.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use fazhi_document::model::format_percent;
use fazhi_domain::measure::Compliance;
use fazhi_domain::stats::{HeadingLabel, LIGHT_ORDER, LightRules, RoundStats, TaskFacts};
use fazhi_domain::supervision::Light;
use fazhi_report::ledger::shorten;
use fazhi_store::{NodeId, Role, StoredFramework, TaskStatus, UnitId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::AppState;
use crate::access::unit_scope;
use crate::error::WebResult;
use crate::session::CurrentUser;
use crate::views::{Layout, opt_id, render};

/// At most this many lines in each list (red tasks, 督办单, 未达标); the rest behind a link.
const LIST_LIMIT: usize = 10;

#[derive(Deserialize)]
pub struct DashboardQuery {
    unit: Option<String>,
}

/// A headline number with the list behind it.
pub struct Headline {
    pub value: String,
    pub label: &'static str,
    pub note: String,
    pub href: String,
    pub css: &'static str,
}

/// A row of the 一级指标 table.
pub struct HeadingRow {
    pub label: String,
    pub tasks: usize,
    pub approved: usize,
    pub percent: String,
    pub indicators: usize,
    pub indicators_done: usize,
    pub href: String,
}

/// A row of the unit ranking.
pub struct UnitRow {
    pub rank: usize,
    pub unit_id: i64,
    pub name: String,
    pub tasks: usize,
    pub approved: usize,
    pub percent: String,
    /// Parts per thousand, for sorting in the browser.
    pub permille: u64,
    pub on_time: usize,
    pub late: usize,
    pub red: usize,
    pub average_review: String,
    pub rules_not_met: usize,
    pub open_notices: usize,
    pub evidence_ok: usize,
    pub evidence_needs_more: usize,
}

/// A task named in a list.
pub struct TaskLine {
    pub task_id: i64,
    pub code: String,
    pub text: String,
    pub unit: String,
    pub lead: bool,
    pub note: String,
}

/// An indicator with a rule 未达标.
pub struct NotMetLine {
    pub node_id: i64,
    pub code: String,
    pub text: String,
    pub units: String,
}

#[derive(Serialize)]
struct ChartBar {
    name: String,
    value: f64,
    approved: usize,
    tasks: usize,
    href: String,
}

#[derive(Serialize)]
struct ChartSlice {
    name: &'static str,
    value: usize,
    color: &'static str,
    href: String,
}

#[derive(Serialize)]
struct ChartWeek {
    week: String,
    submitted: usize,
    approved: usize,
}

#[derive(Serialize)]
struct ChartData {
    heading1: Vec<ChartBar>,
    units: Vec<ChartBar>,
    lights: Vec<ChartSlice>,
    weeks: Vec<ChartWeek>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Option<Layout>,
    round_name: Option<String>,
    as_of: NaiveDate,
    /// The one unit shown (a liaison's own, or the one the office chose).
    unit: Option<(i64, String)>,
    is_liaison: bool,
    /// For the office's unit chooser.
    units: Vec<(i64, String)>,
    headlines: Vec<Headline>,
    heading1: Vec<HeadingRow>,
    ranking: Vec<UnitRow>,
    lights: Vec<(&'static str, &'static str, usize, String)>,
    red_tasks: Vec<TaskLine>,
    red_more: usize,
    notice_tasks: Vec<TaskLine>,
    notice_more: usize,
    not_met: Vec<NotMetLine>,
    not_met_more: usize,
    rules_counts: Vec<(&'static str, &'static str, usize)>,
    chart_json: String,
    warn_workdays: u32,
}

fn heading_label(h: &HeadingLabel) -> String {
    format!("{}、{}", h.code, h.title)
}

/// The node id of each 一级指标 of the framework by its printed label, so a bar links to
/// the task list narrowed to it.
fn heading_ids(fw: Option<&StoredFramework>) -> BTreeMap<(String, String), NodeId> {
    let mut ids = BTreeMap::new();
    if let Some(fw) = fw {
        for (path, _) in fw.leaves() {
            if let Some(top) = path.first() {
                ids.entry((top.code.clone(), top.title.clone()))
                    .or_insert(top.id);
            }
        }
    }
    ids
}

/// JSON for a `<script type="application/json">` block: `<` escaped so no text can close it.
fn script_json(data: &impl Serialize) -> String {
    serde_json::to_string(data)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c")
}

/// `/`: everyone starts on the 看板 (a liaison's shows its own unit).
pub async fn home(_cu: CurrentUser) -> Redirect {
    Redirect::to("/dashboard")
}

pub async fn dashboard(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<DashboardQuery>,
) -> WebResult<impl IntoResponse> {
    let is_liaison = cu.user.role == fazhi_store::UserRole::Liaison;
    let scope = unit_scope(&cu.user, opt_id(&q.unit).map(UnitId))?;
    let today = state.today();
    let unit = match scope {
        Some(id) => Some((id.0, state.store.unit(id).await?.name)),
        None => None,
    };
    let units = if is_liaison {
        Vec::new()
    } else {
        state
            .store
            .units()
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id.0, u.name))
            .collect()
    };
    let layout = Layout::build(&state, &cu).await?;
    let warn_workdays = state.config.warn_workdays;
    let Some(round) = state.store.active_round().await? else {
        return render(&DashboardPage {
            layout,
            round_name: None,
            as_of: today,
            unit,
            is_liaison,
            units,
            headlines: Vec::new(),
            heading1: Vec::new(),
            ranking: Vec::new(),
            lights: Vec::new(),
            red_tasks: Vec::new(),
            red_more: 0,
            notice_tasks: Vec::new(),
            notice_more: 0,
            not_met: Vec::new(),
            not_met_more: 0,
            rules_counts: Vec::new(),
            chart_json: "{}".into(),
            warn_workdays,
        });
    };
    let view = state.round_view(round.id, scope, today).await?;
    let calendar = state.calendar().await?;
    let rules = LightRules {
        calendar: &calendar,
        warn_workdays,
    };
    // A round exists, so a framework does; without one the bars just link to all tasks.
    let fw = state.current_framework().await.ok();
    let ids = heading_ids(fw.as_deref());
    // Links keep the unit the page is about.
    let unit_q = scope.map(|u| format!("&unit={}", u.0)).unwrap_or_default();
    let tasks_href = |extra: &str| format!("/tasks?{}{unit_q}", extra.trim_start_matches('&'));
    let s = &view.stats;
    let heading1: Vec<HeadingRow> = s
        .heading1
        .iter()
        .map(|h| {
            let l = h.label();
            let href = match ids.get(&(l.code.clone(), l.title.clone())) {
                Some(id) => tasks_href(&format!("heading={}", id.0)),
                None => tasks_href(""),
            };
            HeadingRow {
                label: heading_label(l),
                tasks: h.tasks,
                approved: h.approved,
                percent: format_percent(h.task_share()),
                indicators: h.indicators,
                indicators_done: h.indicators_done,
                href,
            }
        })
        .collect();
    let ranking: Vec<UnitRow> = s
        .units
        .iter()
        .map(|u| UnitRow {
            rank: u.rank,
            unit_id: u.unit_id,
            name: u.name.clone(),
            tasks: u.tasks,
            approved: u.approved,
            percent: format_percent(u.completion()),
            permille: (u.completion() * 1000.0).round() as u64,
            on_time: u.on_time,
            late: u.late,
            red: u.red,
            average_review: u
                .average_review()
                .map(|a| format!("{a:.1}"))
                .unwrap_or_else(|| "—".into()),
            rules_not_met: u.rules_not_met,
            open_notices: u.open_notices,
            evidence_ok: u.evidence_ok,
            evidence_needs_more: u.evidence_needs_more,
        })
        .collect();
    let lights: Vec<(&'static str, &'static str, usize, String)> = LIGHT_ORDER
        .into_iter()
        .map(|l| {
            (
                l.label(),
                l.css(),
                s.count_light(l),
                tasks_href(&format!("light={}", l.css())),
            )
        })
        .collect();
    let (red_all, notice_all) = task_lists(&view.facts.tasks, today, rules);
    let not_met_all = not_met(&view.facts.tasks);
    let headlines = headlines(s, &tasks_href);
    let rules_counts = s
        .rules_by_verdict
        .iter()
        .map(|(v, n)| (v.label(), v.css(), *n))
        .collect();
    let chart = ChartData {
        heading1: s
            .heading1
            .iter()
            .zip(&heading1)
            .map(|(h, row)| ChartBar {
                name: row.label.clone(),
                value: (h.task_share() * 1000.0).round() / 10.0,
                approved: h.approved,
                tasks: h.tasks,
                href: row.href.clone(),
            })
            .collect(),
        // A single unit's page has no ranking chart: one bar says nothing.
        units: if scope.is_some() {
            Vec::new()
        } else {
            s.units
                .iter()
                .map(|u| ChartBar {
                    name: u.name.clone(),
                    value: (u.completion() * 1000.0).round() / 10.0,
                    approved: u.approved,
                    tasks: u.tasks,
                    href: format!("/tasks?unit={}", u.unit_id),
                })
                .collect()
        },
        lights: lights
            .iter()
            .map(|(name, css, n, href)| ChartSlice {
                name,
                value: *n,
                color: light_colour(css),
                href: href.clone(),
            })
            .collect(),
        weeks: s
            .weeks
            .iter()
            .map(|w| ChartWeek {
                week: w.week_of.format("%m-%d").to_string(),
                submitted: w.submitted,
                approved: w.approved,
            })
            .collect(),
    };
    let (red_tasks, red_more) = limited(red_all);
    let (notice_tasks, notice_more) = limited(notice_all);
    let (not_met, not_met_more) = limited(not_met_all);
    render(&DashboardPage {
        layout,
        round_name: Some(round.name),
        as_of: today,
        unit,
        is_liaison,
        units,
        headlines,
        heading1,
        ranking: if scope.is_some() { Vec::new() } else { ranking },
        lights,
        red_tasks,
        red_more,
        notice_tasks,
        notice_more,
        not_met,
        not_met_more,
        rules_counts,
        chart_json: script_json(&chart),
        warn_workdays,
    })
}

fn light_colour(css: &str) -> &'static str {
    // The colours of `.light.*` in app.css.
    match css {
        "red" => "#c62828",
        "yellow" => "#f9a825",
        "green" => "#2e7d32",
        _ => "#b0bec5",
    }
}

fn limited<T>(mut all: Vec<T>) -> (Vec<T>, usize) {
    let more = all.len().saturating_sub(LIST_LIMIT);
    all.truncate(LIST_LIMIT);
    (all, more)
}

fn headlines(s: &RoundStats, tasks_href: &dyn Fn(&str) -> String) -> Vec<Headline> {
    let submitted = s.count_status(TaskStatus::Submitted);
    let not_signed = s.count_status(TaskStatus::Pending);
    let red = s.count_light(Light::Red);
    let yellow = s.count_light(Light::Yellow);
    let not_met = s
        .indicators_by_verdict
        .iter()
        .find(|(v, _)| *v == Compliance::NotMet)
        .map(|(_, n)| *n)
        .unwrap_or(0);
    vec![
        Headline {
            value: format_percent(s.completion()),
            label: "完成率",
            note: format!("已通过 {} / 共 {} 项任务", s.approved, s.tasks),
            href: tasks_href("status=done"),
            css: "",
        },
        Headline {
            value: submitted.to_string(),
            label: "待审核",
            note: "已报送，等待依法治县办审核".into(),
            href: tasks_href("status=submitted"),
            css: "",
        },
        Headline {
            value: not_signed.to_string(),
            label: "未签收",
            note: "任务已下达，责任单位尚未签收".into(),
            href: tasks_href("status=pending"),
            css: "",
        },
        Headline {
            value: red.to_string(),
            label: "红灯",
            note: format!("已逾期未通过；黄灯 {yellow} 项"),
            href: tasks_href("light=red"),
            css: if red > 0 { "red" } else { "" },
        },
        Headline {
            value: s.open_notices.to_string(),
            label: "督办单未签收",
            note: "发出后责任单位尚未签收".into(),
            href: "#notices".into(),
            css: if s.open_notices > 0 { "yellow" } else { "" },
        },
        Headline {
            value: not_met.to_string(),
            label: "指标未达标",
            note: "量化要求按填报数据判定".into(),
            href: "#not-met".into(),
            css: if not_met > 0 { "red" } else { "" },
        },
    ]
}

fn task_line(t: &TaskFacts, note: String) -> TaskLine {
    TaskLine {
        task_id: t.task_id,
        code: t.code.clone(),
        text: shorten(&t.text, 36),
        unit: t.unit_name.clone(),
        lead: t.role == Role::Lead,
        note,
    }
}

/// The red tasks (most overdue first) and the tasks with open 督办单.
fn task_lists(
    tasks: &[TaskFacts],
    as_of: NaiveDate,
    rules: LightRules<'_>,
) -> (Vec<TaskLine>, Vec<TaskLine>) {
    let mut red: Vec<(Option<NaiveDate>, TaskLine)> = Vec::new();
    let mut notices = Vec::new();
    for t in tasks {
        let now = t.as_of(as_of, rules);
        if now.light.light == Light::Red {
            let note = format!("{}，{}", now.status.label(), now.light.phrase());
            red.push((t.due_on, task_line(t, note)));
        }
        if t.open_notices > 0 {
            notices.push(task_line(t, format!("{} 份督办单未签收", t.open_notices)));
        }
    }
    red.sort_by_key(|(due, _)| *due);
    (red.into_iter().map(|(_, l)| l).collect(), notices)
}

/// Indicators with a rule 未达标 on some task, in document order, with the units.
fn not_met(tasks: &[TaskFacts]) -> Vec<NotMetLine> {
    let mut lines: Vec<NotMetLine> = Vec::new();
    for t in tasks.iter().filter(|t| t.rules_not_met() > 0) {
        match lines.iter_mut().find(|l| l.node_id == t.node_id) {
            Some(l) => {
                l.units.push('、');
                l.units.push_str(&t.unit_name);
            }
            None => lines.push(NotMetLine {
                node_id: t.node_id,
                code: t.code.clone(),
                text: shorten(&t.text, 36),
                units: t.unit_name.clone(),
            }),
        }
    }
    lines
}
