//! 达标总览: every indicator's verdict over its units' tasks, with traffic lights.

use crate::AppState;
use crate::access::CountyReader;
use crate::error::WebResult;
use crate::views::measures::judge_task;
use crate::views::{Layout, render};
use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use fazhi_domain::measure::{Compliance, roll_up};
use fazhi_domain::supervision::{Light, LightState};
use fazhi_store::tasks::{TaskFilter, TaskSummary};
use fazhi_store::{NodeId, TaskId};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

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
    CountyReader(cu): CountyReader,
    axum::extract::Query(q): axum::extract::Query<OverviewQuery>,
) -> WebResult<impl IntoResponse> {
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
            let light = t.light(&calendar, warn, state.today());
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
