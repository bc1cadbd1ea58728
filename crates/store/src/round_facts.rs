//! The facts of a round as of a date, for the statistics ([`fazhi_domain::stats`]): one
//! query per view (dashboard, 任务台账, 工作进展报告), so they all count the same rows.
//!
//! Each task comes with its headings, lifecycle steps (on the county's dates), rules
//! judged with the values reported up to the date, 督办单 still open on the date, evidence
//! by the latest verdict given up to the date, and the latest progress report up to it.
//!
//! Not kept as history, so always today's: due dates, scores, ledger cases (台账) and the
//! rule corrections in force; evidence deleted since the date is not counted.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::clock::Clock;
use fazhi_domain::stats::{
    EvidenceCounts, HeadingLabel, LightRules, ReportFact, RoundStats, RuleFact, StepFact,
    TaskFacts, round_stats,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Store;
use crate::entity::{progress_report, supervision_notice, task, task_event};
use crate::error::{StoreError, StoreResult};
use crate::evidence::Verdict;
use crate::measures::measures_of_round_tasks;
use crate::rounds::RoundInfo;
use crate::tasks::TaskFilter;
use crate::types::{RoundId, enum_from_str};

/// Ids per `IN (…)` list.
const ID_CHUNK: usize = 500;

/// The facts of a round's tasks (those matching a [`TaskFilter`]) as of a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundFacts {
    pub round: RoundInfo,
    pub as_of: NaiveDate,
    /// In the task list's order: document order, 牵头 first, then unit.
    pub tasks: Vec<TaskFacts>,
}

impl RoundFacts {
    /// The statistics of these facts.
    pub fn stats(&self, rules: LightRules<'_>) -> RoundStats {
        round_stats(&self.tasks, self.as_of, self.round.starts_on, rules)
    }
}

impl Store {
    /// The facts of the tasks of `filter.round` (required) matching the rest of `filter`
    /// — the task list's filters — as of `as_of` (the county's date). Rules are judged
    /// with `calendar`.
    pub async fn round_facts(
        &self,
        filter: &TaskFilter,
        as_of: NaiveDate,
        calendar: &HolidayCalendar,
    ) -> StoreResult<RoundFacts> {
        let round_id = filter
            .round
            .ok_or_else(|| StoreError::invalid("没有指定轮次"))?;
        let round = self.round(round_id).await?;
        let conn = self.connection();
        let clock = Clock::default();
        let list = self.tasks(filter).await?;
        let ids: Vec<i64> = list.iter().map(|t| t.id.0).collect();

        let fw = self.framework_tree(round.framework_id).await?;
        let headings: HashMap<i64, Vec<HeadingLabel>> = fw
            .leaves()
            .into_iter()
            .map(|(path, leaf)| {
                (
                    leaf.id.0,
                    path.iter()
                        .map(|h| HeadingLabel {
                            code: h.code.clone(),
                            title: h.title.clone(),
                        })
                        .collect(),
                )
            })
            .collect();

        let mut rows = Vec::with_capacity(ids.len());
        let mut steps: HashMap<i64, Vec<StepFact>> = HashMap::new();
        let mut open: HashMap<i64, u32> = HashMap::new();
        let mut reports: HashMap<i64, ReportFact> = HashMap::new();
        for chunk in ids.chunks(ID_CHUNK) {
            rows.extend(
                task::Entity::find()
                    .filter(task::Column::Id.is_in(chunk.to_vec()))
                    .all(conn)
                    .await?,
            );
            for e in task_event::Entity::find()
                .filter(task_event::Column::TaskId.is_in(chunk.to_vec()))
                .order_by_asc(task_event::Column::Id)
                .all(conn)
                .await?
            {
                steps.entry(e.task_id).or_default().push(StepFact {
                    on: clock.date_of(e.at),
                    action: enum_from_str(&e.action)?,
                    to: enum_from_str(&e.to_status)?,
                });
            }
            for n in supervision_notice::Entity::find()
                .filter(supervision_notice::Column::TaskId.is_in(chunk.to_vec()))
                .all(conn)
                .await?
            {
                let issued = clock.date_of(n.issued_at) <= as_of;
                let acked = n.acknowledged_at.is_some_and(|a| clock.date_of(a) <= as_of);
                if issued && !acked {
                    *open.entry(n.task_id).or_default() += 1;
                }
            }
            // Newest first: the first one on or before the date is the latest then.
            for r in progress_report::Entity::find()
                .filter(progress_report::Column::TaskId.is_in(chunk.to_vec()))
                .order_by_desc(progress_report::Column::Id)
                .all(conn)
                .await?
            {
                let on = clock.date_of(r.at);
                if on > as_of || reports.contains_key(&r.task_id) {
                    continue;
                }
                reports.insert(
                    r.task_id,
                    ReportFact {
                        on,
                        progress: r.progress,
                        problems: r.problems,
                        next_steps: r.next_steps,
                        percent: u8::try_from(r.percent).unwrap_or(0),
                    },
                );
            }
        }

        let wanted: HashSet<i64> = ids.iter().copied().collect();
        let mut evidence: HashMap<i64, EvidenceCounts> = HashMap::new();
        for e in self.round_evidence(round_id, filter.unit).await? {
            if !wanted.contains(&e.task_id.0) || clock.date_of(e.created_at) > as_of {
                continue;
            }
            let verdict = e
                .reviews
                .iter()
                .rev()
                .find(|r| clock.date_of(r.at) <= as_of)
                .filter(|r| r.version == e.current_version)
                .map(|r| r.verdict);
            let c = evidence.entry(e.task_id.0).or_default();
            match verdict {
                Some(Verdict::Ok) => c.ok += 1,
                Some(Verdict::NeedsMore) => c.needs_more += 1,
                None => c.unreviewed += 1,
            }
        }

        let mut judged: HashMap<i64, Vec<RuleFact>> = HashMap::new();
        for m in measures_of_round_tasks(conn, self, round_id, rows).await? {
            let facts = m
                .as_of(as_of)
                .judge(calendar)
                .into_iter()
                .map(|(rule, j)| RuleFact {
                    key: rule.key.clone(),
                    requirement: rule.rule.describe(),
                    actual: j.actual,
                    verdict: j.verdict,
                })
                .collect();
            judged.insert(m.task_id.0, facts);
        }

        let tasks = list
            .into_iter()
            .map(|t| {
                let id = t.id.0;
                TaskFacts {
                    task_id: id,
                    node_id: t.node_id.0,
                    headings: headings.get(&t.node_id.0).cloned().unwrap_or_default(),
                    code: t.code,
                    text: t.text,
                    unit_id: t.unit_id.0,
                    unit_name: t.unit_name,
                    role: t.role,
                    status: t.status,
                    due_on: t.due_on,
                    was_late: t.was_late,
                    steps: steps.remove(&id).unwrap_or_default(),
                    self_score: t.self_score,
                    review_score: t.review_score,
                    rules: judged.remove(&id).unwrap_or_default(),
                    open_notices: open.get(&id).copied().unwrap_or(0),
                    evidence: evidence.get(&id).copied().unwrap_or_default(),
                    latest_report: reports.remove(&id),
                }
            })
            .collect();
        Ok(RoundFacts {
            round,
            as_of,
            tasks,
        })
    }

    /// [`Store::round_facts`] of a whole round.
    pub async fn all_round_facts(
        &self,
        round: RoundId,
        as_of: NaiveDate,
        calendar: &HolidayCalendar,
    ) -> StoreResult<RoundFacts> {
        let filter = TaskFilter {
            round: Some(round),
            ..Default::default()
        };
        self.round_facts(&filter, as_of, calendar).await
    }
}
