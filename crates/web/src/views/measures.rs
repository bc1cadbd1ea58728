//! The numbers in a task: each rule with what the unit reported and the verdict
//! (达标/未达标/未填报), the ledger (台账) of cases for duration rules, and the task page's
//! block of rules, light and 督办单.

use crate::AppState;
use crate::access::{LedgerCaseUnit, TaskUnit, TaskViewer};
use crate::error::{WebError, WebResult};
use crate::views::flash;
use crate::views::opt_date;
use crate::views::opt_number;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::measure::{Compliance, Judgement, Measurement, roll_up};
use fazhi_domain::rules::RuleKind;
use fazhi_domain::ruleset::KeyedRule;
use fazhi_domain::supervision::{LightState, NoticeLevel};
use fazhi_store::tasks::TaskSummary;
use fazhi_store::{NewLedgerCase, Notice, StoredLedgerCase, TaskMeasures};
use serde::Deserialize;

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

/// Judge every rule of a task (see [`TaskMeasures::judge`]).
pub fn judge_task(m: &TaskMeasures, calendar: &HolidayCalendar) -> Vec<(KeyedRule, Judgement)> {
    m.judge(calendar)
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

pub async fn record(
    State(state): State<AppState>,
    TaskUnit(TaskViewer { cu, task: id, .. }): TaskUnit,
    Form(f): Form<MeasureForm>,
) -> WebResult<Response> {
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
    TaskUnit(TaskViewer { cu, task: id, .. }): TaskUnit,
    Form(f): Form<CaseForm>,
) -> WebResult<Response> {
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
    LedgerCaseUnit {
        cu,
        case: case_id,
        task,
    }: LedgerCaseUnit,
) -> WebResult<Response> {
    state
        .store
        .delete_ledger_case(case_id, &cu.user.actor())
        .await?;
    flash(&state, &cu, "台账记录已删除").await?;
    Ok(Redirect::to(&format!("/tasks/{task}#ledger")).into_response())
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
        light: t.light(&calendar, state.config.warn_workdays, state.today()),
        notices,
        levels: NoticeLevel::ALL
            .into_iter()
            .map(|l| (l.as_str(), l.label(), l.colour()))
            .collect(),
        min_level,
        today: state.today(),
    })
}

/// Largest ledger file taken, checked while it is read (a year's ledger is a few KB).
const MAX_LEDGER_FILE_BYTES: usize = 2 * 1024 * 1024;

/// The 办理台账 template (.xlsx) of the task's indicator, to fill in Excel or WPS.
pub async fn ledger_template(
    State(state): State<AppState>,
    TaskViewer { task: id, .. }: TaskViewer,
) -> WebResult<Response> {
    let t = state.store.task(id).await?.summary;
    let text: String = t.text.chars().take(80).collect();
    let bytes = fazhi_report::ledger_template(&t.code, &text)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let name = format!("第{}项办理台账（{}）.xlsx", t.code, t.unit_name);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                crate::http_range::attachment(&name, &format!("ledger-{}.xlsx", t.code)),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Imports a filled template (.xlsx or .csv): every row is checked, and either every case
/// is stored (one transaction) or none, with the problems listed by row number.
pub async fn import_cases(
    State(state): State<AppState>,
    TaskUnit(TaskViewer { cu, task: id, .. }): TaskUnit,
    mut multipart: axum::extract::Multipart,
) -> WebResult<Response> {
    state.store.ensure_accepts_material(id).await?;
    let back = format!("/tasks/{id}#ledger");
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = super::evidence::next_part(&mut multipart).await? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| WebError::BadRequest(format!("上传中断：{}", e.body_text())))?
        {
            if bytes.len() + chunk.len() > MAX_LEDGER_FILE_BYTES {
                return Err(WebError::BadRequest(
                    "台账文件太大（最多 2 MB），请分成几个文件导入".into(),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some((name, bytes));
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(WebError::BadRequest("请选择填好的台账文件".into()));
    };
    let rows = match fazhi_import::ledger::read_ledger(Some(&name), &bytes) {
        Ok(rows) => rows,
        Err(e) => {
            crate::views::flash_with_warning(
                &state,
                &cu,
                format!("未导入“{name}”"),
                Some(e.to_string()),
            )
            .await?;
            return Ok(Redirect::to(&back).into_response());
        }
    };
    let cases = rows
        .into_iter()
        .map(|r| NewLedgerCase {
            title: r.title,
            started_on: r.started_on,
            finished_on: r.finished_on,
            note: r.note,
        })
        .collect();
    let n = state
        .store
        .add_ledger_cases(id, cases, &cu.user.actor())
        .await?
        .len();
    flash(
        &state,
        &cu,
        format!("已从“{name}”导入 {n} 件台账记录，逐件对照结果见下表"),
    )
    .await?;
    Ok(Redirect::to(&back).into_response())
}
