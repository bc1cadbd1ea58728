//! Requirement rules extracted from indicator text (三级指标的量化要求).
//!
//! [`extract_rules`] reads an indicator text such as
//! `合法性审核的时间一般不少于 5 个工作日，最长不超过 15 个工作日` and returns typed
//! [`Rule`]s (here: duration `>= 5 workday` and `<= 15 workday`). Every rule carries the
//! char span of the words it came from, so a person can check it against the text.
//!
//! # Families
//! * `percent` — `合法性审核率达100%` (`== 100`), `不低于80%`, `95%以上` (`>=`),
//!   `在5%以下` (`<=`), `不少于本单位执法人员总数的5%` (`>= 5`, base in the note).
//!   Several metrics sharing a value (`报备率、报备及时率、规范率均达100%`) give one rule each.
//! * `duration` — `不超过5个工作日`, `20个工作日内`, `5小时内`, `不少于30日` (unit
//!   `workday` | `day` | `hour`; also `minute`, `week`, `month`, `year` when written).
//! * `count` — `不少于40学时`, `3名以上`, `2人以上`, `至少建成一个…基地`.
//! * `frequency` — `每年至少组织1次` (1 per 1 year), `每2年至少开展1次` (1 per 2 years).
//! * `deadline` — yearly due date: `每年1月15日前` (1/15), `每年第一季度` (3/31), `每年1月底前` (1/31).
//! * `date` — yearly event day: `“12.4”国家宪法日` (12/4).
//!
//! # Reading of thresholds (民法典第一千二百五十九条)
//! 以上、以下、以内、不少于、不低于、不超过、至少、最长不超过 include the number (`>=`/`<=`);
//! 超过、低于、高于、少于、不满、不足 exclude it (`>`/`<`); `不得超过` and the like are `<=`.
//! `达/达到 100%` is `== 100`; `达 N%` with N < 100 is `>= N`. 日/天 are calendar days
//! unless 工作日 is written.
//!
//! # What is not a rule
//! Numbers inside quotes (`“一网、一门、一次”`, `“最多跑一次”`), ordinals and article
//! numbers (`第X条`, `1.`), years (`2019年`), hotline numbers (`110、120、119`) and Chinese
//! numerals used as articles (`由一个部门统筹`) yield nothing: a number only becomes a rule
//! together with a unit **and** a threshold word (or a `每年`-style period).
//!
//! # Uncertain rules
//! Rules the extractor is unsure about are returned with `certain: false` and a note,
//! never dropped: an Arabic quantity with a unit but no threshold word
//! (`市县100个高频事项实现…` → count `>= 100 个`, uncertain), conflicting threshold
//! words, fractions (`三分之二以上`), approximate numbers (`左右`, `100多个`), deadlines
//! without `每年`, and rules whose subject could not be found.
//!
//! # Decisions
//! * Repeated yearly deadlines are kept per occurrence: `县政府每年第一季度…报告…，政府各部门
//!   每年第一季度…报告…` gives two `deadline 3/31` rules (different actors, named in the note).
//! * `subject` is always a trimmed substring of the input text, or (for the second half of
//!   a range such as `最长不超过15个工作日`) the subject of the previous rule of the same
//!   kind in the same sentence, noted as carried over.
//!
//! The extractor is pure: no I/O, regexes compiled once.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

mod extract;
mod text;

#[cfg(test)]
mod tests;

/// Extract the measurable requirements of one indicator text. See the module docs.
///
/// Spans are `(start, end)` char offsets (not bytes) into `text`, end exclusive; the
/// rules come sorted by span.
pub fn extract_rules(text: &str) -> Vec<Rule> {
    extract::run(text)
}

/// One measurable requirement found in an indicator text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(flatten)]
    pub kind: RuleKind,
    /// What the threshold applies to, e.g. `政务服务事项网上可办率`.
    pub subject: String,
    /// Char offsets `(start, end)` into the input text; `source` = those chars.
    pub span: (usize, usize),
    /// The exact words of the input the rule came from.
    pub source: String,
    /// `false` when the extractor is unsure (see `note`); such rules need a human look.
    pub certain: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Rule {
    /// The comparison of the rule, if its kind has one.
    pub fn op(&self) -> Option<Op> {
        match self.kind {
            RuleKind::Percent { op, .. }
            | RuleKind::Duration { op, .. }
            | RuleKind::Count { op, .. }
            | RuleKind::Frequency { op, .. } => Some(op),
            RuleKind::Deadline { .. } | RuleKind::Date { .. } => None,
        }
    }
}

/// The typed content of a rule. Serialized internally tagged (`"kind": "percent"`) and
/// flattened into [`Rule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// A rate or share in percent: `value` is 80 for `80%`.
    Percent {
        op: Op,
        #[serde(serialize_with = "ser_num")]
        value: f64,
    },
    /// A time span.
    Duration {
        op: Op,
        #[serde(serialize_with = "ser_num")]
        value: f64,
        unit: DurationUnit,
    },
    /// A number of people, hours of training, places… `unit` is the written measure word
    /// (`名`, `人`, `学时`, `个`, `次` …).
    Count {
        op: Op,
        #[serde(serialize_with = "ser_num")]
        value: f64,
        unit: String,
    },
    /// `times` occurrences every `every_years` years (`每季度1次` is 4 per 1 year).
    Frequency {
        op: Op,
        times: u32,
        every_years: u32,
    },
    /// A yearly due date (the requirement must be met by `month`/`day` each year).
    Deadline { month: u32, day: u32 },
    /// A yearly event day, e.g. 国家宪法日 12/4.
    Date { month: u32, day: u32 },
}

/// A comparison. Serialized as `">="`, `"<="`, `"=="`, `">"`, `"<"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
}

impl Op {
    /// The operator as written in JSON (`">="` …).
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Gt => ">",
            Op::Lt => "<",
        }
    }

    /// Does `actual` satisfy `actual <op> threshold`?
    pub fn holds(self, actual: f64, threshold: f64) -> bool {
        match self {
            Op::Ge => actual >= threshold,
            Op::Le => actual <= threshold,
            Op::Eq => (actual - threshold).abs() < 1e-9,
            Op::Gt => actual > threshold,
            Op::Lt => actual < threshold,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Unit of a [`RuleKind::Duration`]. `Day` is a calendar day (日/天), `Workday` a
/// 工作日 (see [`crate::calendar`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationUnit {
    Workday,
    Day,
    Hour,
    Minute,
    Week,
    Month,
    Year,
}

/// Whole numbers serialize as integers (`100`, not `100.0`).
fn ser_num<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

impl Op {
    /// The operator in words, for people: `不低于`, `不超过` …
    pub fn words(self) -> &'static str {
        match self {
            Op::Ge => "不少于",
            Op::Le => "不超过",
            Op::Eq => "达到",
            Op::Gt => "超过",
            Op::Lt => "低于",
        }
    }
}

impl DurationUnit {
    pub fn label(self) -> &'static str {
        match self {
            DurationUnit::Workday => "个工作日",
            DurationUnit::Day => "日",
            DurationUnit::Hour => "小时",
            DurationUnit::Minute => "分钟",
            DurationUnit::Week => "周",
            DurationUnit::Month => "个月",
            DurationUnit::Year => "年",
        }
    }
}

/// A number as people write it: `100`, `2.5`.
fn show_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl RuleKind {
    /// The family in Chinese, for tables and pages.
    pub fn family_label(&self) -> &'static str {
        match self {
            RuleKind::Percent { .. } => "比率",
            RuleKind::Duration { .. } => "时限",
            RuleKind::Count { .. } => "数量",
            RuleKind::Frequency { .. } => "频次",
            RuleKind::Deadline { .. } => "年度截止日",
            RuleKind::Date { .. } => "年度纪念日",
        }
    }
}

impl Rule {
    /// The requirement in one Chinese phrase, e.g. `合法性审核的时间 不少于 5个工作日`.
    pub fn describe(&self) -> String {
        let s = &self.subject;
        match &self.kind {
            RuleKind::Percent { op, value } => format!("{s} {} {}%", op.words(), show_num(*value)),
            RuleKind::Duration { op, value, unit } => {
                format!("{s} {} {}{}", op.words(), show_num(*value), unit.label())
            }
            RuleKind::Count { op, value, unit } => {
                format!("{s} {} {}{unit}", op.words(), show_num(*value))
            }
            RuleKind::Frequency {
                op,
                times,
                every_years,
            } => {
                let period = if *every_years == 1 {
                    "每年".to_string()
                } else {
                    format!("每{every_years}年")
                };
                format!("{s} {period}{}{times}次", op.words())
            }
            RuleKind::Deadline { month, day } => format!("{s} 每年{month}月{day}日前"),
            RuleKind::Date { month, day } => format!("{s} 每年{month}月{day}日"),
        }
    }
}

crate::string_enum!(Op, "比较符", { Ge => ">=", Le => "<=", Eq => "==", Gt => ">", Lt => "<" });

crate::string_enum!(DurationUnit, "时间单位", {
    Workday => "workday",
    Day => "day",
    Hour => "hour",
    Minute => "minute",
    Week => "week",
    Month => "month",
    Year => "year",
});
