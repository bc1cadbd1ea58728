//! Measured values against requirement rules (达标判定).
//!
//! A unit reports, per rule of its task, one [`Measurement`]: a percentage (as
//! numerator/denominator, or the rate itself), a number (duration, count, times done), or
//! the date something was done. For duration rules it may instead keep a ledger (台账) of
//! [`LedgerCase`]s — each case with the day it started and the day it was finished —
//! and every case is checked against every duration rule of the indicator, on the
//! working-day calendar when the rule is in 工作日.
//!
//! The verdict of a rule is 达标, 未达标, 未填报, or 无法判定 (e.g. the calendar has no
//! arrangement for the year of a case: we say so rather than guess).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::HolidayCalendar;
use crate::rules::{DurationUnit, Op, Rule, RuleKind};
use crate::ruleset::KeyedRule;

/// What a unit reported for one rule. Which fields are used depends on the rule kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The number itself: a rate in percent, a duration in the rule's unit, a count, the
    /// number of times done in the period.
    pub value: Option<f64>,
    /// For rates: how many met the requirement (分子)…
    pub numerator: Option<f64>,
    /// …out of how many (分母).
    pub denominator: Option<f64>,
    /// For yearly deadlines and event days: when it was done.
    pub done_on: Option<NaiveDate>,
}

/// Why a measurement cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeasureError {
    #[error("请填写{0}")]
    Missing(&'static str),
    #[error("{0}不能为负数")]
    Negative(&'static str),
    #[error("{0}不是有效的数字")]
    NotFinite(&'static str),
    #[error("分母应大于0")]
    ZeroDenominator,
    #[error("分子（{numerator}）不能大于分母（{denominator}）")]
    NumeratorAboveDenominator {
        numerator: String,
        denominator: String,
    },
    #[error("比率应在0到100之间（填写的是{0}）")]
    PercentOutOfRange(String),
}

fn check(name: &'static str, v: Option<f64>) -> Result<Option<f64>, MeasureError> {
    match v {
        Some(x) if !x.is_finite() => Err(MeasureError::NotFinite(name)),
        Some(x) if x < 0.0 => Err(MeasureError::Negative(name)),
        other => Ok(other),
    }
}

impl Measurement {
    /// Checks that the fields the rule's kind needs are present and sensible, and drops the
    /// others, so what is stored is what is judged.
    pub fn validated(self, kind: &RuleKind) -> Result<Measurement, MeasureError> {
        match kind {
            RuleKind::Percent { .. } => {
                let numerator = check("分子", self.numerator)?;
                let denominator = check("分母", self.denominator)?;
                let value = check("比率", self.value)?;
                match (numerator, denominator) {
                    (Some(n), Some(d)) => {
                        if d == 0.0 {
                            return Err(MeasureError::ZeroDenominator);
                        }
                        if n > d {
                            return Err(MeasureError::NumeratorAboveDenominator {
                                numerator: show(n),
                                denominator: show(d),
                            });
                        }
                        Ok(Measurement {
                            numerator: Some(n),
                            denominator: Some(d),
                            ..Default::default()
                        })
                    }
                    (Some(_), None) => Err(MeasureError::Missing("分母")),
                    (None, Some(_)) => Err(MeasureError::Missing("分子")),
                    (None, None) => match value {
                        Some(v) if v > 100.0 => Err(MeasureError::PercentOutOfRange(show(v))),
                        Some(v) => Ok(Measurement {
                            value: Some(v),
                            ..Default::default()
                        }),
                        None => Err(MeasureError::Missing("比率，或分子和分母")),
                    },
                }
            }
            RuleKind::Duration { .. } | RuleKind::Count { .. } | RuleKind::Frequency { .. } => {
                let name = match kind {
                    RuleKind::Duration { .. } => "用时",
                    RuleKind::Count { .. } => "数量",
                    _ => "次数",
                };
                match check(name, self.value)? {
                    Some(v) => Ok(Measurement {
                        value: Some(v),
                        ..Default::default()
                    }),
                    None => Err(MeasureError::Missing(name)),
                }
            }
            RuleKind::Deadline { .. } | RuleKind::Date { .. } => match self.done_on {
                Some(d) => Ok(Measurement {
                    done_on: Some(d),
                    ..Default::default()
                }),
                None => Err(MeasureError::Missing("完成日期")),
            },
        }
    }

    /// The reported value in words: `96.5%（193/200）`, `12个工作日`, `2026-01-10`.
    pub fn describe(&self, kind: &RuleKind) -> String {
        match kind {
            RuleKind::Percent { .. } => match (self.numerator, self.denominator, self.value) {
                (Some(n), Some(d), _) if d > 0.0 => {
                    format!(
                        "{}%（{}/{}）",
                        show_rounded(n / d * 100.0),
                        show(n),
                        show(d)
                    )
                }
                (_, _, Some(v)) => format!("{}%", show(v)),
                _ => String::new(),
            },
            RuleKind::Duration { unit, .. } => self
                .value
                .map(|v| format!("{}{}", show(v), unit.label()))
                .unwrap_or_default(),
            RuleKind::Count { unit, .. } => self
                .value
                .map(|v| format!("{}{unit}", show(v)))
                .unwrap_or_default(),
            RuleKind::Frequency { .. } => self
                .value
                .map(|v| format!("{}次", show(v)))
                .unwrap_or_default(),
            RuleKind::Deadline { .. } | RuleKind::Date { .. } => self
                .done_on
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        }
    }

    /// The rate in percent, for percent rules.
    pub fn percent(&self) -> Option<f64> {
        match (self.numerator, self.denominator) {
            (Some(n), Some(d)) if d > 0.0 => Some(n / d * 100.0),
            _ => self.value,
        }
    }
}

/// One case of a ledger (台账), e.g. one 规范性文件: received for review on `started_on`,
/// review finished on `finished_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCase {
    pub id: i64,
    pub title: String,
    pub started_on: NaiveDate,
    pub finished_on: NaiveDate,
}

/// Whether one rule is met (达标判定). Not to be confused with the review verdict on an
/// evidence item (合格/需补充).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compliance {
    /// 达标
    Met,
    /// 未填报
    NotReported,
    /// 无法判定 (e.g. missing calendar year; hours from dates)
    Undecidable,
    /// 未达标
    NotMet,
}

impl Compliance {
    pub fn label(self) -> &'static str {
        match self {
            Compliance::Met => "达标",
            Compliance::NotMet => "未达标",
            Compliance::NotReported => "未填报",
            Compliance::Undecidable => "无法判定",
        }
    }

    /// CSS class suffix: `met`, `not-met` ….
    pub fn css(self) -> &'static str {
        match self {
            Compliance::Met => "met",
            Compliance::NotMet => "not-met",
            Compliance::NotReported => "not-reported",
            Compliance::Undecidable => "undecidable",
        }
    }
}

crate::string_enum!(Compliance, "达标情况", {
    Met => "met",
    NotReported => "not_reported",
    Undecidable => "undecidable",
    NotMet => "not_met",
});

/// How one ledger case fares against one duration rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseCheck {
    pub case_id: i64,
    pub rule_key: String,
    /// The elapsed time in the rule's unit, when it could be computed.
    pub elapsed: Option<u32>,
    pub unit: DurationUnit,
    pub verdict: Compliance,
    /// Why, in words: `用时4个工作日，少于5个工作日`.
    pub detail: String,
}

/// The judgement of one rule of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub rule_key: String,
    pub verdict: Compliance,
    /// The reported value in words (empty when nothing was reported).
    pub actual: String,
    /// Why, in words.
    pub detail: String,
    /// For duration rules judged from the ledger: one entry per case.
    pub cases: Vec<CaseCheck>,
}

impl Judgement {
    pub fn violations(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| c.verdict == Compliance::NotMet)
            .count()
    }
}

/// What the judge needs besides the rule: the working-day calendar and the campaign
/// period, whose start year places yearly deadlines.
pub struct JudgeContext<'a> {
    pub calendar: &'a HolidayCalendar,
    /// First day of the round; a yearly deadline is its first occurrence on or after it.
    pub period_start: NaiveDate,
}

/// The first `month`/`day` on or after `from` (29 February falls back to the 28th in
/// common years).
pub fn next_yearly(month: u32, day: u32, from: NaiveDate) -> Option<NaiveDate> {
    let on = |year: i32| {
        NaiveDate::from_ymd_opt(year, month, day)
            .or_else(|| NaiveDate::from_ymd_opt(year, month, day.saturating_sub(1)))
    };
    let this = on(from.year())?;
    if this >= from {
        Some(this)
    } else {
        on(from.year() + 1)
    }
}

/// Judge one rule from its latest measurement and the task's ledger.
pub fn judge(
    rule: &KeyedRule,
    measurement: Option<&Measurement>,
    ledger: &[LedgerCase],
    ctx: &JudgeContext<'_>,
) -> Judgement {
    let kind = &rule.rule.kind;
    let mut j = Judgement {
        rule_key: rule.key.clone(),
        verdict: Compliance::NotReported,
        actual: measurement.map(|m| m.describe(kind)).unwrap_or_default(),
        detail: String::new(),
        cases: Vec::new(),
    };
    if let RuleKind::Duration { op, value, unit } = kind
        && !ledger.is_empty()
    {
        j.cases = ledger
            .iter()
            .map(|c| check_case(&rule.key, c, *op, *value, *unit, ctx.calendar))
            .collect();
        let bad = j.violations();
        let undecided = j
            .cases
            .iter()
            .filter(|c| c.verdict == Compliance::Undecidable)
            .count();
        j.actual = format!("台账{}件", ledger.len());
        (j.verdict, j.detail) = if bad > 0 {
            (Compliance::NotMet, format!("{bad}件不符合要求"))
        } else if undecided > 0 {
            (
                Compliance::Undecidable,
                format!("{undecided}件无法计算用时"),
            )
        } else {
            (Compliance::Met, "全部符合要求".into())
        };
        return j;
    }
    let Some(m) = measurement else {
        j.detail = "尚未填报".into();
        return j;
    };
    let compare = |actual: f64, op: Op, threshold: f64, unit: &str| -> (Compliance, String) {
        if op.holds(actual, threshold) {
            (
                Compliance::Met,
                format!("要求{}{}{unit}", op.words(), show(threshold)),
            )
        } else {
            (
                Compliance::NotMet,
                format!(
                    "要求{}{}{unit}，实际{}{unit}",
                    op.words(),
                    show(threshold),
                    show_rounded(actual)
                ),
            )
        }
    };
    (j.verdict, j.detail) = match kind {
        RuleKind::Percent { op, value } => match m.percent() {
            Some(p) => compare(p, *op, *value, "%"),
            None => (Compliance::NotReported, "尚未填报".into()),
        },
        RuleKind::Duration { op, value, unit } => match m.value {
            Some(v) => compare(v, *op, *value, unit.label()),
            None => (Compliance::NotReported, "尚未填报".into()),
        },
        RuleKind::Count { op, value, unit } => match m.value {
            Some(v) => compare(v, *op, *value, unit),
            None => (Compliance::NotReported, "尚未填报".into()),
        },
        RuleKind::Frequency { op, times, .. } => match m.value {
            Some(v) => compare(v, *op, f64::from(*times), "次"),
            None => (Compliance::NotReported, "尚未填报".into()),
        },
        RuleKind::Deadline { month, day } => match m.done_on {
            Some(done) => match next_yearly(*month, *day, ctx.period_start) {
                Some(due) if done <= due => (Compliance::Met, format!("于截止日{due}前完成")),
                Some(due) => (
                    Compliance::NotMet,
                    format!(
                        "截止日为{due}，{}完成，逾期{}天",
                        done,
                        (done - due).num_days()
                    ),
                ),
                None => (Compliance::Undecidable, "截止日期无效".into()),
            },
            None => (Compliance::NotReported, "尚未填报".into()),
        },
        RuleKind::Date { month, day } => match m.done_on {
            Some(done) if done.month() == *month && done.day() == *day => {
                (Compliance::Met, format!("于{month}月{day}日开展"))
            }
            Some(done) => (
                Compliance::NotMet,
                format!("应于{month}月{day}日开展，填报日期为{done}"),
            ),
            None => (Compliance::NotReported, "尚未填报".into()),
        },
    };
    j
}

fn check_case(
    key: &str,
    case: &LedgerCase,
    op: Op,
    threshold: f64,
    unit: DurationUnit,
    calendar: &HolidayCalendar,
) -> CaseCheck {
    let mut out = CaseCheck {
        case_id: case.id,
        rule_key: key.to_string(),
        elapsed: None,
        unit,
        verdict: Compliance::Undecidable,
        detail: String::new(),
    };
    if case.finished_on < case.started_on {
        out.detail = "办结日期早于起始日期".into();
        return out;
    }
    let elapsed = match unit {
        DurationUnit::Workday => match calendar.workdays_between(case.started_on, case.finished_on)
        {
            Ok(n) => n,
            Err(e) => {
                out.detail = e.to_string();
                return out;
            }
        },
        DurationUnit::Day => {
            u32::try_from((case.finished_on - case.started_on).num_days()).unwrap_or(u32::MAX)
        }
        _ => {
            out.detail = format!("以{}计的时限无法由日期计算，请直接填报用时", unit.label());
            return out;
        }
    };
    out.elapsed = Some(elapsed);
    let ok = op.holds(f64::from(elapsed), threshold);
    out.verdict = if ok {
        Compliance::Met
    } else {
        Compliance::NotMet
    };
    let words = match (ok, op) {
        (true, _) => "符合要求".to_string(),
        (false, Op::Ge | Op::Gt) => format!("少于{}{}", show(threshold), unit.label()),
        (false, Op::Le | Op::Lt) => format!("超过{}{}", show(threshold), unit.label()),
        (false, Op::Eq) => format!("应为{}{}", show(threshold), unit.label()),
    };
    out.detail = format!("用时{elapsed}{}，{words}", unit.label());
    out
}

/// The verdict of an indicator (or a task) from its rules' verdicts: 未达标 if any rule is
/// not met; else 未填报 / 无法判定 if any is open; 达标 if all are met; `None` without rules.
pub fn roll_up(verdicts: impl IntoIterator<Item = Compliance>) -> Option<Compliance> {
    verdicts.into_iter().max_by_key(|v| match v {
        Compliance::Met => 0,
        Compliance::Undecidable => 1,
        Compliance::NotReported => 2,
        Compliance::NotMet => 3,
    })
}

fn show(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// One decimal at most: `96.5`, `100`.
fn show_rounded(v: f64) -> String {
    show((v * 10.0).round() / 10.0)
}

/// Reads a rule back from its parts — for forms that edit a rule.
pub fn rule_from_parts(
    kind: &str,
    subject: &str,
    op: &str,
    value: f64,
    unit: &str,
) -> Result<RuleKind, String> {
    let op = match op {
        ">=" => Op::Ge,
        "<=" => Op::Le,
        "==" => Op::Eq,
        ">" => Op::Gt,
        "<" => Op::Lt,
        other => return Err(format!("比较方式“{other}”无法识别")),
    };
    if subject.trim().is_empty() {
        return Err("请填写要求的对象（如“网上可办率”）".into());
    }
    if !value.is_finite() || value < 0.0 {
        return Err("数值应为不小于0的数字".into());
    }
    let whole = |what: &str| -> Result<u32, String> {
        if value.fract() == 0.0 && value <= f64::from(u32::MAX) {
            Ok(value as u32)
        } else {
            Err(format!("{what}应为整数"))
        }
    };
    Ok(match kind {
        "percent" => {
            if value > 100.0 {
                return Err("比率不能超过100%".into());
            }
            RuleKind::Percent { op, value }
        }
        "duration" => RuleKind::Duration {
            op,
            value,
            unit: match unit {
                "workday" | "工作日" | "个工作日" => DurationUnit::Workday,
                "day" | "日" | "天" => DurationUnit::Day,
                "hour" | "小时" => DurationUnit::Hour,
                other => return Err(format!("时限单位“{other}”无法识别（工作日、日或小时）")),
            },
        },
        "count" => {
            let unit = unit.trim();
            if unit.is_empty() {
                return Err("请填写数量的单位（如“名”“学时”）".into());
            }
            RuleKind::Count {
                op,
                value,
                unit: unit.chars().take(10).collect(),
            }
        }
        "frequency" => {
            let every_years = unit.trim().parse::<u32>().unwrap_or(1).max(1);
            RuleKind::Frequency {
                op,
                times: whole("次数")?,
                every_years,
            }
        }
        "deadline" | "date" => {
            // value = month * 100 + day, e.g. 115 for 1月15日.
            let md = whole("日期")?;
            let (month, day) = (md / 100, md % 100);
            if NaiveDate::from_ymd_opt(2024, month, day).is_none() {
                return Err("日期无效，请填写月和日".into());
            }
            if kind == "deadline" {
                RuleKind::Deadline { month, day }
            } else {
                RuleKind::Date { month, day }
            }
        }
        other => return Err(format!("要求类型“{other}”无法识别")),
    })
}

/// A rule written by a person (no source words): `certain`, with the subject given.
pub fn manual_rule(kind: RuleKind, subject: &str, note: Option<String>) -> Rule {
    Rule {
        kind,
        subject: subject.trim().chars().take(100).collect(),
        span: (0, 0),
        source: String::new(),
        certain: true,
        note,
    }
}

#[cfg(test)]
mod tests;
