//! Statistics of a round (统计): counts by task status, traffic light and rule verdict;
//! completion by 一级 and 二级指标; the per-unit ranking (横向排名); the weekly series of
//! submissions and approvals. The dashboard, the 任务台账 and the 工作进展报告 all read this one
//! layer, so their numbers cannot differ.
//!
//! Input is plain facts of a round ([`TaskFacts`], loaded by one store query) and an as-of
//! date. Lights come from [`traffic_light`] and "late" from the light's `late` mark — the
//! same definitions as the task list; nothing here redefines them.
//!
//! As of a date: lifecycle steps after that date are ignored. When there are none, the
//! task's stored status and late mark are used as they are (so for today the numbers are
//! those of the task list); otherwise the status is the one the last step up to that date
//! left, and "late" is recomputed from the submissions up to it with [`submitted_late`].

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::HolidayCalendar;
use crate::framework::Role;
use crate::measure::{Compliance, roll_up};
use crate::supervision::{Light, LightState, traffic_light};
use crate::task::{Score, TaskActionKind, TaskStatus, submitted_late};

/// Longest weekly series, in weeks (five years): a round is a year or so; an absurd start
/// date must not allocate without bound.
pub const MAX_WEEKS: usize = 260;

/// A heading above an indicator as printed: `一` 政府职能依法全面履行.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HeadingLabel {
    pub code: String,
    pub title: String,
}

/// One lifecycle step (签收, 报送, …) on its day in the county's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFact {
    pub on: NaiveDate,
    pub action: TaskActionKind,
    pub to: TaskStatus,
}

/// One rule of a task with the unit's latest value and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFact {
    pub key: String,
    /// The requirement in words: `不低于95%`.
    pub requirement: String,
    /// The reported value in words (empty when nothing was reported).
    pub actual: String,
    pub verdict: Compliance,
}

/// The unit's latest 工作进展 / 存在问题 / 下步计划.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFact {
    pub on: NaiveDate,
    pub progress: String,
    pub problems: String,
    pub next_steps: String,
    pub percent: u8,
}

/// Evidence items of a task by the latest verdict on their current version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceCounts {
    /// 合格
    pub ok: u32,
    /// 需补充
    pub needs_more: u32,
    /// Not reviewed yet (待审核).
    pub unreviewed: u32,
}

impl EvidenceCounts {
    pub fn total(&self) -> u32 {
        self.ok + self.needs_more + self.unreviewed
    }
}

/// Everything the statistics need about one task, as the store loads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFacts {
    pub task_id: i64,
    pub node_id: i64,
    /// Headings above the indicator, 一级 first.
    pub headings: Vec<HeadingLabel>,
    /// The indicator's 序号.
    pub code: String,
    /// The indicator's text.
    pub text: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub role: Role,
    /// The stored status (now).
    pub status: TaskStatus,
    pub due_on: Option<NaiveDate>,
    /// The stored mark: submitted after its due date at least once.
    pub was_late: bool,
    /// Every lifecycle step, oldest first.
    pub steps: Vec<StepFact>,
    pub self_score: Option<Score>,
    pub review_score: Option<Score>,
    /// Judged with the values reported up to the as-of date.
    pub rules: Vec<RuleFact>,
    /// 督办单 issued up to the as-of date and not acknowledged by then.
    pub open_notices: u32,
    pub evidence: EvidenceCounts,
    /// The latest progress report up to the as-of date.
    pub latest_report: Option<ReportFact>,
}

/// A task as of a date: its status, light and key dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAsOf {
    pub status: TaskStatus,
    pub light: LightState,
    /// First 签收.
    pub signed_on: Option<NaiveDate>,
    /// Last 报送.
    pub submitted_on: Option<NaiveDate>,
    /// Last 通过.
    pub approved_on: Option<NaiveDate>,
    /// The task's rules rolled up (`None` without rules).
    pub verdict: Option<Compliance>,
}

impl TaskAsOf {
    /// 已通过 or 销号.
    pub fn is_approved(&self) -> bool {
        self.status.is_done()
    }

    /// Approved and never late.
    pub fn is_on_time(&self) -> bool {
        self.is_approved() && !self.light.late
    }

    /// Late now or once (the light's mark, as the task list shows it).
    pub fn is_late(&self) -> bool {
        self.light.late
    }
}

/// How the light is judged: the working-day calendar and the days of warning.
#[derive(Debug, Clone, Copy)]
pub struct LightRules<'a> {
    pub calendar: &'a HolidayCalendar,
    pub warn_workdays: u32,
}

impl TaskFacts {
    /// The task on `as_of`.
    pub fn as_of(&self, as_of: NaiveDate, rules: LightRules<'_>) -> TaskAsOf {
        let upto: Vec<&StepFact> = self.steps.iter().filter(|s| s.on <= as_of).collect();
        let (status, was_late) = if upto.len() == self.steps.len() {
            (self.status, self.was_late)
        } else {
            (
                upto.last().map(|s| s.to).unwrap_or(TaskStatus::Pending),
                upto.iter().any(|s| {
                    s.action == TaskActionKind::Submit && submitted_late(s.on, self.due_on)
                }),
            )
        };
        // As in the task list: a done task finished on the day of its last step.
        let finished_on = status
            .is_done()
            .then(|| upto.last().map(|s| s.on))
            .flatten();
        let light = traffic_light(
            status,
            self.due_on,
            was_late,
            finished_on,
            as_of,
            rules.calendar,
            rules.warn_workdays,
        );
        let first = |kind| upto.iter().find(|s| s.action == kind).map(|s| s.on);
        let last = |kind| upto.iter().rev().find(|s| s.action == kind).map(|s| s.on);
        TaskAsOf {
            status,
            light,
            signed_on: first(TaskActionKind::Sign),
            submitted_on: last(TaskActionKind::Submit),
            approved_on: last(TaskActionKind::Approve),
            verdict: roll_up(self.rules.iter().map(|r| r.verdict)),
        }
    }

    /// The 一级指标 above the indicator.
    pub fn heading1(&self) -> Option<&HeadingLabel> {
        self.headings.first()
    }

    /// The 二级指标 above the indicator.
    pub fn heading2(&self) -> Option<&HeadingLabel> {
        self.headings.get(1)
    }

    pub fn rules_not_met(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.verdict == Compliance::NotMet)
            .count()
    }
}

/// Completion of one 一级 or 二级指标.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadingCompletion {
    /// The headings down to this one, 一级 first (one for 一级, two for 二级).
    pub path: Vec<HeadingLabel>,
    pub tasks: usize,
    pub approved: usize,
    /// Indicators (三级指标) with tasks under the heading.
    pub indicators: usize,
    /// Of those, indicators whose every task is approved.
    pub indicators_done: usize,
}

impl HeadingCompletion {
    pub fn label(&self) -> &HeadingLabel {
        // `path` is never empty: built from a task's headings.
        &self.path[self.path.len() - 1]
    }

    /// Approved / all tasks, 0 without tasks.
    pub fn task_share(&self) -> f64 {
        share(self.approved, self.tasks)
    }

    /// Share of indicators whose every task is approved, 0 without indicators.
    pub fn indicator_share(&self) -> f64 {
        share(self.indicators_done, self.indicators)
    }
}

/// One unit's line of the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitStats {
    pub unit_id: i64,
    pub name: String,
    pub tasks: usize,
    /// 牵头 tasks among them.
    pub lead_tasks: usize,
    pub approved: usize,
    /// Approved and never late.
    pub on_time: usize,
    /// Late now or once.
    pub late: usize,
    /// Red lights now.
    pub red: usize,
    /// Tasks with a review score, and the sum of those scores in tenths.
    pub reviewed: usize,
    pub review_tenths: u64,
    /// Rules 未达标 over the unit's tasks.
    pub rules_not_met: usize,
    pub open_notices: usize,
    pub evidence_ok: usize,
    pub evidence_needs_more: usize,
    /// Place in the ranking, from 1; equal keys share a place.
    pub rank: usize,
}

impl UnitStats {
    /// Approved / all tasks, 0 without tasks.
    pub fn completion(&self) -> f64 {
        share(self.approved, self.tasks)
    }

    /// Average review score, one decimal; `None` when nothing was scored.
    pub fn average_review(&self) -> Option<f64> {
        (self.reviewed > 0).then(|| {
            let tenths = self.review_tenths as f64 / self.reviewed as f64;
            tenths.round() / 10.0
        })
    }

    /// What the ranking orders by, best first: completion, then on time, then fewer late
    /// tasks, then fewer 未达标 rules. (Name breaks ties in the listing, not in the place.)
    fn key(&self) -> (std::cmp::Reverse<u64>, std::cmp::Reverse<u64>, usize, usize) {
        // Shares compared as exact fractions scaled to parts per million, no float ties.
        let ppm = |n: usize, d: usize| {
            if d == 0 {
                0
            } else {
                (n as u64 * 1_000_000) / d as u64
            }
        };
        (
            std::cmp::Reverse(ppm(self.approved, self.tasks)),
            std::cmp::Reverse(ppm(self.on_time, self.tasks)),
            self.late,
            self.rules_not_met,
        )
    }
}

/// Submissions and approvals in one week (Monday to Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekPoint {
    /// The Monday.
    pub week_of: NaiveDate,
    /// 报送 steps in the week.
    pub submitted: usize,
    /// 通过 steps in the week.
    pub approved: usize,
}

/// The statistics of a round as of a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundStats {
    pub as_of: NaiveDate,
    pub tasks: usize,
    pub approved: usize,
    /// Every status in lifecycle order with its count (zeros kept).
    pub by_status: Vec<(TaskStatus, usize)>,
    /// Red, yellow, green, none.
    pub by_light: Vec<(Light, usize)>,
    /// Rules of all tasks by verdict: 未达标, 未填报, 无法判定, 达标.
    pub rules_by_verdict: Vec<(Compliance, usize)>,
    /// Indicators by the roll-up of their tasks' rules (as the 达标总览 counts them);
    /// indicators without rules are not counted.
    pub indicators_by_verdict: Vec<(Compliance, usize)>,
    pub open_notices: usize,
    pub heading1: Vec<HeadingCompletion>,
    pub heading2: Vec<HeadingCompletion>,
    /// Best first.
    pub units: Vec<UnitStats>,
    pub weeks: Vec<WeekPoint>,
}

impl RoundStats {
    /// Approved / all tasks, 0 without tasks.
    pub fn completion(&self) -> f64 {
        share(self.approved, self.tasks)
    }

    pub fn count_light(&self, light: Light) -> usize {
        self.by_light
            .iter()
            .find(|(l, _)| *l == light)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    pub fn count_status(&self, status: TaskStatus) -> usize {
        self.by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
}

/// Verdicts in the order reports list them: worst first.
pub const VERDICT_ORDER: [Compliance; 4] = [
    Compliance::NotMet,
    Compliance::NotReported,
    Compliance::Undecidable,
    Compliance::Met,
];

/// Lights in the order reports list them.
pub const LIGHT_ORDER: [Light; 4] = [Light::Red, Light::Yellow, Light::Green, Light::None];

fn share(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

/// The Monday of `day`'s week.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

#[derive(Default)]
struct HeadingAcc {
    path: Vec<HeadingLabel>,
    first_seen: usize,
    tasks: usize,
    approved: usize,
    /// Per indicator: every task approved so far.
    indicators: BTreeMap<i64, bool>,
}

impl HeadingAcc {
    fn add(&mut self, node: i64, approved: bool) {
        self.tasks += 1;
        self.approved += usize::from(approved);
        let all = self.indicators.entry(node).or_insert(true);
        *all &= approved;
    }

    fn finish(self) -> HeadingCompletion {
        HeadingCompletion {
            path: self.path,
            tasks: self.tasks,
            approved: self.approved,
            indicators: self.indicators.len(),
            indicators_done: self.indicators.values().filter(|d| **d).count(),
        }
    }
}

/// The statistics of `tasks` (one round, or one unit's share of it) on `as_of`.
/// `round_start` begins the weekly series (clamped to [`MAX_WEEKS`] before `as_of`).
pub fn round_stats(
    tasks: &[TaskFacts],
    as_of: NaiveDate,
    round_start: NaiveDate,
    rules: LightRules<'_>,
) -> RoundStats {
    let mut by_status: HashMap<TaskStatus, usize> = HashMap::new();
    let mut by_light: HashMap<Light, usize> = HashMap::new();
    let mut by_rule: HashMap<Compliance, usize> = HashMap::new();
    let mut indicator_verdicts: BTreeMap<i64, Option<Compliance>> = BTreeMap::new();
    let mut h1: HashMap<HeadingLabel, HeadingAcc> = HashMap::new();
    let mut h2: HashMap<(HeadingLabel, HeadingLabel), HeadingAcc> = HashMap::new();
    let mut units: BTreeMap<i64, UnitStats> = BTreeMap::new();
    let mut approved = 0;
    let mut open_notices = 0;

    let earliest = week_of(
        round_start.max(
            as_of
                .checked_sub_days(Days::new(7 * (MAX_WEEKS as u64 - 1)))
                .unwrap_or(as_of),
        ),
    );
    let last_week = week_of(as_of);
    let mut weeks: Vec<WeekPoint> = Vec::new();
    let mut week = earliest;
    while week <= last_week && weeks.len() < MAX_WEEKS {
        weeks.push(WeekPoint {
            week_of: week,
            submitted: 0,
            approved: 0,
        });
        let Some(next) = week.checked_add_days(Days::new(7)) else {
            break;
        };
        week = next;
    }

    for (i, t) in tasks.iter().enumerate() {
        let now = t.as_of(as_of, rules);
        let done = now.is_approved();
        approved += usize::from(done);
        open_notices += t.open_notices as usize;
        *by_status.entry(now.status).or_default() += 1;
        *by_light.entry(now.light.light).or_default() += 1;
        for r in &t.rules {
            *by_rule.entry(r.verdict).or_default() += 1;
        }
        let v = indicator_verdicts.entry(t.node_id).or_insert(None);
        *v = match (*v, now.verdict) {
            (Some(a), Some(b)) => roll_up([a, b]),
            (a, b) => a.or(b),
        };
        if let Some(a) = t.heading1() {
            let acc = h1.entry(a.clone()).or_insert_with(|| HeadingAcc {
                path: vec![a.clone()],
                first_seen: i,
                ..Default::default()
            });
            acc.add(t.node_id, done);
            if let Some(b) = t.heading2() {
                let acc = h2
                    .entry((a.clone(), b.clone()))
                    .or_insert_with(|| HeadingAcc {
                        path: vec![a.clone(), b.clone()],
                        first_seen: i,
                        ..Default::default()
                    });
                acc.add(t.node_id, done);
            }
        }
        let u = units.entry(t.unit_id).or_insert_with(|| UnitStats {
            unit_id: t.unit_id,
            name: t.unit_name.clone(),
            tasks: 0,
            lead_tasks: 0,
            approved: 0,
            on_time: 0,
            late: 0,
            red: 0,
            reviewed: 0,
            review_tenths: 0,
            rules_not_met: 0,
            open_notices: 0,
            evidence_ok: 0,
            evidence_needs_more: 0,
            rank: 0,
        });
        u.tasks += 1;
        u.lead_tasks += usize::from(t.role == Role::Lead);
        u.approved += usize::from(done);
        u.on_time += usize::from(now.is_on_time());
        u.late += usize::from(now.is_late());
        u.red += usize::from(now.light.light == Light::Red);
        if let Some(s) = t.review_score {
            u.reviewed += 1;
            u.review_tenths += u64::from(s.tenths());
        }
        u.rules_not_met += t.rules_not_met();
        u.open_notices += t.open_notices as usize;
        u.evidence_ok += t.evidence.ok as usize;
        u.evidence_needs_more += t.evidence.needs_more as usize;
        for s in t.steps.iter().filter(|s| s.on <= as_of) {
            let Some(first) = weeks.first() else { break };
            // Steps before the series start fall into its first week.
            let idx = (week_of(s.on.max(first.week_of)) - first.week_of).num_days() / 7;
            let Some(point) = usize::try_from(idx).ok().and_then(|i| weeks.get_mut(i)) else {
                continue;
            };
            match s.action {
                TaskActionKind::Submit => point.submitted += 1,
                TaskActionKind::Approve => point.approved += 1,
                _ => {}
            }
        }
    }

    let ordered = |accs: Vec<HeadingAcc>| {
        let mut accs = accs;
        accs.sort_by_key(|a| a.first_seen);
        accs.into_iter().map(HeadingAcc::finish).collect::<Vec<_>>()
    };
    let mut units: Vec<UnitStats> = units.into_values().collect();
    units.sort_by(|a, b| a.key().cmp(&b.key()).then_with(|| a.name.cmp(&b.name)));
    let mut place = 0;
    for i in 0..units.len() {
        if i == 0 || units[i].key() != units[i - 1].key() {
            place = i + 1;
        }
        units[i].rank = place;
    }
    RoundStats {
        as_of,
        tasks: tasks.len(),
        approved,
        by_status: TaskStatus::ALL
            .iter()
            .map(|s| (*s, count(&by_status, s)))
            .collect(),
        by_light: LIGHT_ORDER
            .iter()
            .map(|l| (*l, count(&by_light, l)))
            .collect(),
        rules_by_verdict: VERDICT_ORDER
            .iter()
            .map(|v| (*v, count(&by_rule, v)))
            .collect(),
        indicators_by_verdict: VERDICT_ORDER
            .iter()
            .map(|v| {
                (
                    *v,
                    indicator_verdicts
                        .values()
                        .filter(|x| **x == Some(*v))
                        .count(),
                )
            })
            .collect(),
        open_notices,
        heading1: ordered(h1.into_values().collect()),
        heading2: ordered(h2.into_values().collect()),
        units,
        weeks,
    }
}

fn count<K: std::hash::Hash + Eq>(m: &HashMap<K, usize>, k: &K) -> usize {
    m.get(k).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests;
