//! The numbers in the indicators: the office's corrections of extracted rules, the values
//! units report per rule (append-only: a new value supersedes, never overwrites) and the
//! ledger (台账) of cases for duration rules.
//!
//! Corrections are keyed by the indicator's number (编号), not by a node of one framework
//! version, so a re-imported indicator system gets them too (see
//! [`fazhi_domain::ruleset`]). Rules themselves are not stored: they are extracted from the
//! indicator text when needed (pure and fast) and the corrections applied.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::clock::Clock;
use fazhi_domain::measure::{
    JudgeContext, Judgement, LedgerCase as DomainCase, Measurement, judge,
};
use fazhi_domain::rules::Rule;
use fazhi_domain::ruleset::{Correction, CorrectionAction, KeyedRule, RuleSet, effective_rules};
use fazhi_domain::task::TaskStatus;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::{campaign_round, framework_node, ledger_case, measurement, rule_correction};
use crate::error::{StoreError, StoreResult};
use crate::guard::{ensure_editable, find_task, touch, writable_task};
use crate::text::clean_text;
use crate::types::{
    Actor, CorrectionId, LedgerCaseId, NodeId, RoundId, TaskId, UserId, enum_from_str, now,
};

/// A correction as stored, with who made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCorrection {
    pub id: CorrectionId,
    pub indicator_code: String,
    pub action: CorrectionAction,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub created_by_name: String,
}

impl TryFrom<rule_correction::Model> for StoredCorrection {
    type Error = StoreError;
    fn try_from(m: rule_correction::Model) -> StoreResult<Self> {
        let rule = || -> StoreResult<Rule> {
            let json = m
                .rule_json
                .as_deref()
                .ok_or_else(|| StoreError::Corrupt(format!("要求更正 #{} 缺少内容", m.id)))?;
            serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("要求更正 #{}：{e}", m.id)))
        };
        let target = || {
            m.target_key
                .clone()
                .ok_or_else(|| StoreError::Corrupt(format!("要求更正 #{} 缺少对象", m.id)))
        };
        let action = match m.action.as_str() {
            "replace" => CorrectionAction::Replace {
                target: target()?,
                rule: rule()?,
            },
            "delete" => CorrectionAction::Delete { target: target()? },
            "add" => CorrectionAction::Add { rule: rule()? },
            other => {
                return Err(StoreError::Corrupt(format!(
                    "要求更正 #{} 的类型“{other}”无法识别",
                    m.id
                )));
            }
        };
        Ok(StoredCorrection {
            id: CorrectionId(m.id),
            indicator_code: m.indicator_code,
            action,
            reason: m.reason,
            created_at: m.created_at,
            created_by_name: m.created_by_name,
        })
    }
}

impl StoredCorrection {
    pub fn as_correction(&self) -> Correction {
        Correction {
            id: self.id.0,
            action: self.action.clone(),
        }
    }
}

/// A reported value of one rule of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMeasurement {
    pub id: i64,
    pub task_id: TaskId,
    pub rule_key: String,
    pub measurement: Measurement,
    pub note: String,
    pub at: DateTime<Utc>,
    pub author_user_id: Option<UserId>,
    pub author_name: String,
}

impl From<measurement::Model> for StoredMeasurement {
    fn from(m: measurement::Model) -> Self {
        StoredMeasurement {
            id: m.id,
            task_id: TaskId(m.task_id),
            rule_key: m.rule_key,
            measurement: Measurement {
                value: m.value,
                numerator: m.numerator,
                denominator: m.denominator,
                done_on: m.done_on,
            },
            note: m.note,
            at: m.at,
            author_user_id: m.author_user_id.map(UserId),
            author_name: m.author_name,
        }
    }
}

/// A ledger case to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLedgerCase {
    /// e.g. the document's title and number.
    pub title: String,
    pub started_on: NaiveDate,
    pub finished_on: NaiveDate,
    pub note: String,
}

/// A stored ledger case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLedgerCase {
    pub id: LedgerCaseId,
    pub task_id: TaskId,
    pub title: String,
    pub started_on: NaiveDate,
    pub finished_on: NaiveDate,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub created_by_name: String,
}

impl StoredLedgerCase {
    pub fn as_case(&self) -> DomainCase {
        DomainCase {
            id: self.id.0,
            title: self.title.clone(),
            started_on: self.started_on,
            finished_on: self.finished_on,
        }
    }
}

impl From<ledger_case::Model> for StoredLedgerCase {
    fn from(m: ledger_case::Model) -> Self {
        StoredLedgerCase {
            id: LedgerCaseId(m.id),
            task_id: TaskId(m.task_id),
            title: m.title,
            started_on: m.started_on,
            finished_on: m.finished_on,
            note: m.note,
            created_at: m.created_at,
            created_by_name: m.created_by_name,
        }
    }
}

/// Everything needed to judge a task's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskMeasures {
    pub task_id: TaskId,
    pub node_id: NodeId,
    pub indicator_code: String,
    /// The rules in force for the indicator (extracted + corrections).
    pub rules: RuleSet,
    /// Latest value per rule key.
    pub latest: HashMap<String, StoredMeasurement>,
    /// All reported values, newest first (the history).
    pub history: Vec<StoredMeasurement>,
    pub ledger: Vec<StoredLedgerCase>,
    /// First day of the task's round (places yearly deadlines).
    pub period_start: NaiveDate,
}

impl TaskMeasures {
    /// Every rule of the task judged with its latest value and the ledger (the one
    /// judgement the task page, the 达标总览 and the statistics share).
    pub fn judge(&self, calendar: &HolidayCalendar) -> Vec<(KeyedRule, Judgement)> {
        let ctx = JudgeContext {
            calendar,
            period_start: self.period_start,
        };
        let cases: Vec<_> = self.ledger.iter().map(StoredLedgerCase::as_case).collect();
        self.rules
            .rules
            .iter()
            .map(|r| {
                let latest = self.latest.get(&r.key).map(|x| &x.measurement);
                (r.clone(), judge(r, latest, &cases, &ctx))
            })
            .collect()
    }

    /// The same task with only the values reported up to the end of `day` (the county's
    /// date): what it looked like then.
    pub fn as_of(&self, day: NaiveDate) -> TaskMeasures {
        let clock = Clock::default();
        let history: Vec<StoredMeasurement> = self
            .history
            .iter()
            .filter(|m| clock.date_of(m.at) <= day)
            .cloned()
            .collect();
        TaskMeasures {
            latest: latest_by_key(&history),
            history,
            ..self.clone()
        }
    }
}

/// Longest reason / note / case title, in characters.
const MAX_NOTE_CHARS: usize = 500;

fn latest_by_key(history: &[StoredMeasurement]) -> HashMap<String, StoredMeasurement> {
    // `history` is newest first: keep the first seen per key.
    let mut latest = HashMap::new();
    for m in history {
        latest
            .entry(m.rule_key.clone())
            .or_insert_with(|| m.clone());
    }
    latest
}

async fn corrections_of(
    conn: &impl ConnectionTrait,
    code: Option<&str>,
) -> StoreResult<Vec<StoredCorrection>> {
    let mut q = rule_correction::Entity::find()
        .filter(rule_correction::Column::RevokedAt.is_null())
        .order_by_asc(rule_correction::Column::Id);
    if let Some(code) = code {
        q = q.filter(rule_correction::Column::IndicatorCode.eq(code));
    }
    q.all(conn)
        .await?
        .into_iter()
        .map(StoredCorrection::try_from)
        .collect()
}

async fn node_of(conn: &impl ConnectionTrait, node_id: i64) -> StoreResult<framework_node::Model> {
    framework_node::Entity::find_by_id(node_id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("指标 #{node_id}")))
}

/// The rule set of an indicator node: its text's rules with the corrections of its code.
async fn rules_of_node(
    conn: &impl ConnectionTrait,
    node: &framework_node::Model,
) -> StoreResult<RuleSet> {
    let corrections: Vec<Correction> = corrections_of(conn, Some(&node.code))
        .await?
        .iter()
        .map(StoredCorrection::as_correction)
        .collect();
    Ok(effective_rules(&node.title, &corrections))
}

impl Store {
    /// The corrections in force for an indicator number, oldest first.
    pub async fn rule_corrections(&self, code: &str) -> StoreResult<Vec<StoredCorrection>> {
        corrections_of(self.connection(), Some(code)).await
    }

    /// All corrections in force, by indicator number (for overviews).
    pub async fn all_rule_corrections(&self) -> StoreResult<HashMap<String, Vec<Correction>>> {
        let mut out: HashMap<String, Vec<Correction>> = HashMap::new();
        for c in corrections_of(self.connection(), None).await? {
            out.entry(c.indicator_code.clone())
                .or_default()
                .push(c.as_correction());
        }
        Ok(out)
    }

    /// The rules in force for an indicator node.
    pub async fn node_rules(&self, node_id: NodeId) -> StoreResult<RuleSet> {
        let conn = self.connection();
        let node = node_of(conn, node_id.0).await?;
        rules_of_node(conn, &node).await
    }

    /// Records a correction of the rules of indicator `code` (the office only; the caller
    /// checks the role). `replace`/`delete` must name a rule in force for that number.
    pub async fn add_rule_correction(
        &self,
        node_id: NodeId,
        action: CorrectionAction,
        reason: &str,
        actor: &Actor,
    ) -> StoreResult<CorrectionId> {
        let reason = clean_text(reason, "更正理由", MAX_NOTE_CHARS, false)?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let node = node_of(conn, node_id.0).await?;
        if !node.is_leaf {
            return Err(StoreError::invalid("只有三级指标才有量化要求"));
        }
        let set = rules_of_node(conn, &node).await?;
        let (kind, target, rule) = match &action {
            CorrectionAction::Replace { target, rule } => {
                ("replace", Some(target.clone()), Some(rule))
            }
            CorrectionAction::Delete { target } => ("delete", Some(target.clone()), None),
            CorrectionAction::Add { rule } => ("add", None, Some(rule)),
        };
        if let Some(t) = &target
            && set.get(t).is_none()
        {
            return Err(StoreError::invalid(format!(
                "指标{}没有编号为“{t}”的要求（可能已被修改，请刷新页面）",
                node.code
            )));
        }
        if kind == "replace" && target.as_deref().is_some_and(|t| t.starts_with('c')) {
            return Err(StoreError::invalid(
                "人工补充的要求不能修正，请删除后重新补充",
            ));
        }
        let rule_json = rule
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::invalid(format!("要求内容无法保存：{e}")))?;
        let row = rule_correction::ActiveModel {
            indicator_code: Set(node.code.clone()),
            action: Set(kind.into()),
            target_key: Set(target),
            rule_json: Set(rule_json),
            reason: Set(reason),
            created_at: Set(now()),
            created_by_user_id: Set(actor.user_id.map(|u| u.0)),
            created_by_name: Set(actor.name.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        let stored = StoredCorrection::try_from(row)?;
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                "rule.correct",
                "rule_correction",
                Some(stored.id.to_string()),
            )
            .after(&stored),
        )
        .await?;
        tx.commit().await?;
        Ok(stored.id)
    }

    /// Withdraws a correction (the extracted rule counts again). Kept in the table, marked.
    pub async fn revoke_rule_correction(&self, id: CorrectionId, actor: &Actor) -> StoreResult<()> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = rule_correction::Entity::find_by_id(id.0)
            .one(conn)
            .await?
            .filter(|r| r.revoked_at.is_none())
            .ok_or_else(|| StoreError::not_found(format!("要求更正 #{id}")))?;
        let before = StoredCorrection::try_from(row.clone())?;
        let mut active: rule_correction::ActiveModel = row.into();
        active.revoked_at = Set(Some(now()));
        active.revoked_by_name = Set(Some(actor.name.clone()));
        active.update(conn).await?;
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                "rule.revoke",
                "rule_correction",
                Some(id.to_string()),
            )
            .before(&before),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rules, latest values, history and ledger of one task.
    pub async fn task_measures(&self, task_id: TaskId) -> StoreResult<TaskMeasures> {
        let conn = self.connection();
        let t = find_task(conn, task_id).await?;
        let node = node_of(conn, t.node_id).await?;
        let rules = rules_of_node(conn, &node).await?;
        let (mut histories, mut ledgers) = measures_of_tasks(conn, &[t.id]).await?;
        let history = histories.remove(&t.id).unwrap_or_default();
        let ledger = ledgers.remove(&t.id).unwrap_or_default();
        let period_start = round_start(conn, t.round_id).await?;
        Ok(TaskMeasures {
            task_id,
            node_id: NodeId(t.node_id),
            indicator_code: node.code,
            rules,
            latest: latest_by_key(&history),
            history,
            ledger,
            period_start,
        })
    }

    /// [`Store::task_measures`] of every task of a round, for overviews.
    pub async fn round_measures(&self, round: RoundId) -> StoreResult<Vec<TaskMeasures>> {
        use crate::entity::task;
        let conn = self.connection();
        let tasks = task::Entity::find()
            .filter(task::Column::RoundId.eq(round.0))
            .all(conn)
            .await?;
        measures_of_round_tasks(conn, self, round, tasks).await
    }

    /// Records a value for rule `rule_key` of a task the unit is working on (办理中/退回).
    pub async fn record_measurement(
        &self,
        task_id: TaskId,
        rule_key: &str,
        value: Measurement,
        note: &str,
        author: &Actor,
    ) -> StoreResult<i64> {
        let note = clean_text(note, "说明", MAX_NOTE_CHARS, false)?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let t = writable_task(conn, task_id).await?;
        ensure_editable(enum_from_str::<TaskStatus>(&t.status)?)?;
        let node = node_of(conn, t.node_id).await?;
        let set = rules_of_node(conn, &node).await?;
        let rule = set.get(rule_key).ok_or_else(|| {
            StoreError::invalid(format!(
                "指标{}没有这项要求（可能已被修改，请刷新页面）",
                node.code
            ))
        })?;
        let value = value
            .validated(&rule.rule.kind)
            .map_err(|e| StoreError::invalid(format!("“{}”：{e}", rule.rule.subject)))?;
        let row = measurement::ActiveModel {
            task_id: Set(t.id),
            rule_key: Set(rule_key.to_string()),
            value: Set(value.value),
            numerator: Set(value.numerator),
            denominator: Set(value.denominator),
            done_on: Set(value.done_on),
            note: Set(note),
            at: Set(now()),
            author_user_id: Set(author.user_id.map(|u| u.0)),
            author_name: Set(author.name.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        touch(&tx, t.id).await?;
        let stored = StoredMeasurement::from(row);
        append_audit(
            &tx,
            AuditEntry::new(
                author,
                "measure.record",
                "measurement",
                Some(stored.id.to_string()),
            )
            .after(serde_json::json!({
                "task_id": stored.task_id,
                "rule": rule.rule.describe(),
                "rule_key": stored.rule_key,
                "value": stored.measurement,
                "note": stored.note,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(stored.id)
    }

    /// Adds a case to the task's ledger.
    pub async fn add_ledger_case(
        &self,
        task_id: TaskId,
        new: NewLedgerCase,
        author: &Actor,
    ) -> StoreResult<LedgerCaseId> {
        let ids = self.add_ledger_cases(task_id, vec![new], author).await?;
        ids.into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt("台账记录未写入".into()))
    }

    /// Adds several cases to the task's ledger in one transaction (a ledger imported from
    /// a spreadsheet): every case is checked first, and either all are stored, each with
    /// its audit entry, or none.
    pub async fn add_ledger_cases(
        &self,
        task_id: TaskId,
        cases: Vec<NewLedgerCase>,
        author: &Actor,
    ) -> StoreResult<Vec<LedgerCaseId>> {
        let mut clean = Vec::with_capacity(cases.len());
        for new in cases {
            let title = clean_text(&new.title, "事项名称", 200, true)?;
            let note = clean_text(&new.note, "备注", MAX_NOTE_CHARS, false)?;
            if new.finished_on < new.started_on {
                return Err(StoreError::invalid(format!(
                    "“{title}”的办结日期（{}）早于起始日期（{}）",
                    new.finished_on, new.started_on
                )));
            }
            clean.push((title, note, new.started_on, new.finished_on));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        let t = writable_task(conn, task_id).await?;
        ensure_editable(enum_from_str::<TaskStatus>(&t.status)?)?;
        let at = now();
        let mut ids = Vec::with_capacity(clean.len());
        for (title, note, started_on, finished_on) in clean {
            let row = ledger_case::ActiveModel {
                task_id: Set(t.id),
                title: Set(title),
                started_on: Set(started_on),
                finished_on: Set(finished_on),
                note: Set(note),
                created_at: Set(at),
                created_by_user_id: Set(author.user_id.map(|u| u.0)),
                created_by_name: Set(author.name.clone()),
                ..Default::default()
            }
            .insert(conn)
            .await?;
            let stored = StoredLedgerCase::from(row);
            append_audit(
                &tx,
                AuditEntry::new(
                    author,
                    "ledger.add",
                    "ledger_case",
                    Some(stored.id.to_string()),
                )
                .after(&stored),
            )
            .await?;
            ids.push(stored.id);
        }
        touch(&tx, t.id).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// The task a ledger case belongs to (for access checks).
    pub async fn ledger_case_task(&self, case_id: LedgerCaseId) -> StoreResult<TaskId> {
        ledger_case::Entity::find_by_id(case_id.0)
            .one(self.connection())
            .await?
            .filter(|c| c.deleted_at.is_none())
            .map(|c| TaskId(c.task_id))
            .ok_or_else(|| StoreError::not_found(format!("台账记录 #{case_id}")))
    }

    /// Removes a case from the ledger (marked deleted, kept for the record).
    pub async fn delete_ledger_case(
        &self,
        case_id: LedgerCaseId,
        author: &Actor,
    ) -> StoreResult<TaskId> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = ledger_case::Entity::find_by_id(case_id.0)
            .one(conn)
            .await?
            .filter(|c| c.deleted_at.is_none())
            .ok_or_else(|| StoreError::not_found(format!("台账记录 #{case_id}")))?;
        let t = writable_task(conn, TaskId(row.task_id)).await?;
        ensure_editable(enum_from_str::<TaskStatus>(&t.status)?)?;
        let before = StoredLedgerCase::from(row.clone());
        let mut active: ledger_case::ActiveModel = row.into();
        active.deleted_at = Set(Some(now()));
        active.deleted_by_name = Set(Some(author.name.clone()));
        active.update(conn).await?;
        touch(&tx, t.id).await?;
        append_audit(
            &tx,
            AuditEntry::new(
                author,
                "ledger.delete",
                "ledger_case",
                Some(case_id.to_string()),
            )
            .before(&before),
        )
        .await?;
        tx.commit().await?;
        Ok(TaskId(t.id))
    }
}

/// Reported values (newest first) and live ledger cases (by start date) of the given tasks,
/// by task id.
async fn measures_of_tasks(
    conn: &impl ConnectionTrait,
    task_ids: &[i64],
) -> StoreResult<(
    HashMap<i64, Vec<StoredMeasurement>>,
    HashMap<i64, Vec<StoredLedgerCase>>,
)> {
    let mut history: HashMap<i64, Vec<StoredMeasurement>> = HashMap::new();
    let mut ledgers: HashMap<i64, Vec<StoredLedgerCase>> = HashMap::new();
    // Bounded IN lists: SQLite and PostgreSQL both cap bound parameters.
    for chunk in task_ids.chunks(500) {
        for m in measurement::Entity::find()
            .filter(measurement::Column::TaskId.is_in(chunk.to_vec()))
            .order_by_desc(measurement::Column::Id)
            .all(conn)
            .await?
        {
            history
                .entry(m.task_id)
                .or_default()
                .push(StoredMeasurement::from(m));
        }
        for c in ledger_case::Entity::find()
            .filter(ledger_case::Column::TaskId.is_in(chunk.to_vec()))
            .filter(ledger_case::Column::DeletedAt.is_null())
            .order_by_asc(ledger_case::Column::StartedOn)
            .order_by_asc(ledger_case::Column::Id)
            .all(conn)
            .await?
        {
            ledgers
                .entry(c.task_id)
                .or_default()
                .push(StoredLedgerCase::from(c));
        }
    }
    Ok((history, ledgers))
}

async fn round_start(conn: &impl ConnectionTrait, round_id: i64) -> StoreResult<NaiveDate> {
    campaign_round::Entity::find_by_id(round_id)
        .one(conn)
        .await?
        .map(|r| r.starts_on)
        .ok_or_else(|| StoreError::not_found(format!("轮次 #{round_id}")))
}

/// [`TaskMeasures`] of some tasks of one round.
pub(crate) async fn measures_of_round_tasks(
    conn: &impl ConnectionTrait,
    store: &Store,
    round: RoundId,
    tasks: Vec<crate::entity::task::Model>,
) -> StoreResult<Vec<TaskMeasures>> {
    let period_start = round_start(conn, round.0).await?;
    let task_ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    let mut nodes: HashMap<i64, framework_node::Model> = HashMap::new();
    let node_ids: Vec<i64> = tasks.iter().map(|t| t.node_id).collect();
    for chunk in node_ids.chunks(500) {
        for n in framework_node::Entity::find()
            .filter(framework_node::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            nodes.insert(n.id, n);
        }
    }
    let (mut history, mut ledgers) = measures_of_tasks(conn, &task_ids).await?;
    let corrections = store.all_rule_corrections().await?;
    let mut sets: HashMap<i64, RuleSet> = HashMap::new();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        let Some(node) = nodes.get(&t.node_id) else {
            return Err(StoreError::Corrupt(format!("任务 #{} 的指标不存在", t.id)));
        };
        let rules = sets
            .entry(node.id)
            .or_insert_with(|| {
                effective_rules(
                    &node.title,
                    corrections
                        .get(&node.code)
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                )
            })
            .clone();
        let history = history.remove(&t.id).unwrap_or_default();
        out.push(TaskMeasures {
            task_id: TaskId(t.id),
            node_id: NodeId(t.node_id),
            indicator_code: node.code.clone(),
            rules,
            latest: latest_by_key(&history),
            history,
            ledger: ledgers.remove(&t.id).unwrap_or_default(),
            period_start,
        });
    }
    Ok(out)
}
