//! The extraction passes.
//!
//! 1. Quoted regions (`“…”`, `《…》` …) are marked: numbers inside are names, not thresholds.
//! 2. Calendar phrases (`“12.4”`, `每年1月15日前`, `每年第一季度`, `1月底前`) become
//!    `date`/`deadline` rules and their numbers are claimed.
//! 3. Period markers (`每年`, `每2年`, `每季度` …) are recorded; their numbers are claimed.
//! 4. Every remaining number (Arabic, Chinese, `百分之N`, `N分之M`) followed by a unit is
//!    read with the threshold words around it (prefix `不少于`…, suffix `以上`…), then its
//!    subject is taken from the same clause.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::text::{Norm, parse_num};
use super::{DurationUnit, Op, Rule, RuleKind};

fn is_clause_break(c: char) -> bool {
    matches!(c, ',' | ';' | ':' | '!' | '?' | '。')
}

fn is_sentence_break(c: char) -> bool {
    matches!(c, ';' | '!' | '?' | '。')
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

fn re(p: &str) -> Regex {
    Regex::new(p).expect("static regex")
}

/// An Arabic or Chinese number.
static NUM: LazyLock<Regex> =
    LazyLock::new(|| re(r"[0-9]+(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百千万]+"));
/// `百分之八十`, `三分之二`.
static FRACTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"百分之([0-9]+(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百千]+)|([0-9]+|[零〇一二两三四五六七八九十百千]+)分之([0-9]+|[零〇一二两三四五六七八九十百千]+)",
    )
});
/// `每年`, `每2年`, `每两年`, `每半年`, `每季度`, `每月`, `每周`.
static PERIOD: LazyLock<Regex> = LazyLock::new(|| {
    re(r"每(?:([0-9]+|[一二两三四五六七八九十]+)个?年|年度?|半年|季度?|个?月|周|星期)")
});
/// `“12.4”` (after normalisation `·` is `.`).
static QUOTED_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r#"[“"「『]([0-9]{1,2})\.([0-9]{1,2})[”"」』]"#));
const MONTH: &str = r"([0-9]{1,2}|[一二三四五六七八九十]{1,3})";
const YEARLY: &str = r"(每年度?(?:的|于)?)?";
/// `每年1月15日前`, `12月4日`.
static MONTH_DAY: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"{YEARLY}{MONTH}月{MONTH}[日号](之前|以前|前)?")));
/// `每年1月底前`, `3月上旬`.
static MONTH_END: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"{YEARLY}{MONTH}月份?(底|末|上旬|中旬|下旬)(之前|以前|前)?"
    ))
});
/// `每年第一季度`, `一季度末前`.
static QUARTER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"{YEARLY}(第)?([一二三四1-4])季度(末|底)?(之前|以前|前)?"
    ))
});
/// `每年年底前`, `每年上半年`.
static YEAR_PART: LazyLock<Regex> =
    LazyLock::new(|| re(r"(每年度?)(?:的)?(年底|年末|底|上半年)(?:末|底)?(之前|以前|前)?"));

/// What a number is measured in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Percent,
    Dur(DurationUnit),
    Count(&'static str),
}

/// Measure words after a number, longest first.
const UNITS: &[(&str, Unit)] = &[
    ("个工作日", Unit::Dur(DurationUnit::Workday)),
    ("个自然日", Unit::Dur(DurationUnit::Day)),
    ("工作日", Unit::Dur(DurationUnit::Workday)),
    ("自然日", Unit::Dur(DurationUnit::Day)),
    ("个小时", Unit::Dur(DurationUnit::Hour)),
    ("个星期", Unit::Dur(DurationUnit::Week)),
    ("小时", Unit::Dur(DurationUnit::Hour)),
    ("分钟", Unit::Dur(DurationUnit::Minute)),
    ("星期", Unit::Dur(DurationUnit::Week)),
    ("个月", Unit::Dur(DurationUnit::Month)),
    ("周岁", Unit::Count("周岁")),
    ("学时", Unit::Count("学时")),
    ("课时", Unit::Count("课时")),
    ("人次", Unit::Count("人次")),
    ("万元", Unit::Count("万元")),
    ("周", Unit::Dur(DurationUnit::Week)),
    ("日", Unit::Dur(DurationUnit::Day)),
    ("天", Unit::Dur(DurationUnit::Day)),
    ("年", Unit::Dur(DurationUnit::Year)),
    ("名", Unit::Count("名")),
    ("人", Unit::Count("人")),
    ("个", Unit::Count("个")),
    ("次", Unit::Count("次")),
    ("件", Unit::Count("件")),
    ("家", Unit::Count("家")),
    ("场", Unit::Count("场")),
    ("期", Unit::Count("期")),
    ("项", Unit::Count("项")),
    ("所", Unit::Count("所")),
    ("篇", Unit::Count("篇")),
    ("批", Unit::Count("批")),
    ("户", Unit::Count("户")),
    ("位", Unit::Count("位")),
    ("支", Unit::Count("支")),
    ("台", Unit::Count("台")),
    ("套", Unit::Count("套")),
    ("轮", Unit::Count("轮")),
    ("元", Unit::Count("元")),
    ("分", Unit::Count("分")),
    ("条", Unit::Count("条")),
];

/// Measure words that make a count under `每年` a frequency.
const EVENT_UNITS: &[&str] = &["次", "场", "期", "轮"];

/// A threshold word before the number.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pre {
    Cmp(Op),
    /// 达/达到: `== 100` for a full rate, otherwise `>=`.
    Reach,
}

/// Threshold words before a number, longest first.
const OPS: &[(&str, Pre)] = &[
    ("最长不超过", Pre::Cmp(Op::Le)),
    ("最多不超过", Pre::Cmp(Op::Le)),
    ("最高不超过", Pre::Cmp(Op::Le)),
    ("最短不少于", Pre::Cmp(Op::Ge)),
    ("最少不少于", Pre::Cmp(Op::Ge)),
    ("不少于", Pre::Cmp(Op::Ge)),
    ("不低于", Pre::Cmp(Op::Ge)),
    ("不小于", Pre::Cmp(Op::Ge)),
    ("不短于", Pre::Cmp(Op::Ge)),
    ("不下于", Pre::Cmp(Op::Ge)),
    ("不超过", Pre::Cmp(Op::Le)),
    ("不高于", Pre::Cmp(Op::Le)),
    ("不多于", Pre::Cmp(Op::Le)),
    ("不大于", Pre::Cmp(Op::Le)),
    ("不长于", Pre::Cmp(Op::Le)),
    ("不超出", Pre::Cmp(Op::Le)),
    ("不满", Pre::Cmp(Op::Lt)),
    ("不足", Pre::Cmp(Op::Lt)),
    ("不到", Pre::Cmp(Op::Lt)),
    ("至少", Pre::Cmp(Op::Ge)),
    ("最少", Pre::Cmp(Op::Ge)),
    ("最低", Pre::Cmp(Op::Ge)),
    ("起码", Pre::Cmp(Op::Ge)),
    ("至多", Pre::Cmp(Op::Le)),
    ("最多", Pre::Cmp(Op::Le)),
    ("最高", Pre::Cmp(Op::Le)),
    ("最长", Pre::Cmp(Op::Le)),
    ("最迟", Pre::Cmp(Op::Le)),
    ("超过", Pre::Cmp(Op::Gt)),
    ("超出", Pre::Cmp(Op::Gt)),
    ("高于", Pre::Cmp(Op::Gt)),
    ("多于", Pre::Cmp(Op::Gt)),
    ("大于", Pre::Cmp(Op::Gt)),
    ("低于", Pre::Cmp(Op::Lt)),
    ("少于", Pre::Cmp(Op::Lt)),
    ("小于", Pre::Cmp(Op::Lt)),
    ("达到", Pre::Reach),
    ("达", Pre::Reach),
];

/// Fillers stripped from the end of a subject taken before the threshold words.
#[rustfmt::skip]
const TRAIL: &[&str] = &[
    "原则上", "一般", "全部", "必须", "应当", "能够", "累计", "最迟", "最长", "最多", "最短", "均",
    "都", "应", "须", "要", "在", "为", "达", "能", "可", "有", "由", "需",
    "于", "的", "并", "且", "将", "共", "经",
];
/// Fillers stripped from the start of a subject.
#[rustfmt::skip]
const LEAD: &[&str] = &[
    "并且", "而且", "其中", "同时", "原则上", "一般", "以及", "或者", "且", "并", "的", "均",
    "和", "及",
];
/// Endings of metric names, for splitting `报备率、报备及时率、规范率`.
#[rustfmt::skip]
const METRIC_ENDS: &[&str] = &[
    "率", "度", "比例", "比重", "占比", "权重", "时限", "期限", "时间", "人数", "数量", "次数",
];
/// Where a counted noun ends (`100个高频事项实现…`, `2名以上行政复议人员参加`).
const COUNT_STOPS: &[&str] = &["或者", "实现", "参加", "参与", "组成", "负责", "("];
/// Action verbs after `向…` (`向县委…报告…`).
#[rustfmt::skip]
const ACTIONS: &[&str] = &[
    "报告", "报送", "上报", "提交", "公开", "公布", "发布", "通报", "备案", "反馈", "移送",
];

const NOTE_BARE: &str =
    "未写“以上/不少于/不超过”等限定词，是数量而非明确门槛，比较方式为推断，请人工核对";

/// A number with its unit.
struct Tok {
    start: usize,
    unit: Unit,
    unit_end: usize,
    value: f64,
    chinese: bool,
    approx: bool,
    uncertain: bool,
    note: Option<String>,
}

struct PreHit {
    op: Pre,
    start: usize,
    /// `不少于本单位执法人员总数的5%`: the base between the words and `的`.
    base: Option<(usize, usize)>,
}

struct Suf {
    op: Op,
    end: usize,
    /// `以内/之内/内`: the rule is "do X within N".
    within: bool,
    approx: bool,
}

struct Period {
    start: usize,
    end: usize,
    every_years: u32,
    per_year: u32,
}

enum Subj {
    Range(usize, usize),
    Text(String),
    Missing,
}

struct Draft {
    kind: RuleKind,
    subject: Subj,
    span: (usize, usize),
    certain: bool,
    notes: Vec<String>,
}

#[derive(Default)]
struct Left {
    ranges: Vec<(usize, usize)>,
    from: Option<(usize, usize)>,
    holder: Option<(usize, usize)>,
}

struct Cx {
    n: Norm,
    claimed: Vec<bool>,
    quoted: Vec<bool>,
    periods: Vec<Period>,
    drafts: Vec<Draft>,
}

pub(super) fn run(text: &str) -> Vec<Rule> {
    let n = Norm::new(text);
    let len = n.len();
    let quoted = quoted(&n.chars);
    let periods = periods(&n);
    let mut cx = Cx {
        n,
        claimed: vec![false; len],
        quoted,
        periods,
        drafts: Vec::new(),
    };
    cx.calendar();
    for i in 0..cx.periods.len() {
        let (a, b) = (cx.periods[i].start, cx.periods[i].end);
        cx.claim(a, b);
    }
    cx.numbers();
    cx.finish()
}

/// Mark chars inside quotes and book-title marks (at most 40 chars, within a sentence).
fn quoted(chars: &[char]) -> Vec<bool> {
    let n = chars.len();
    let mut q = vec![false; n];
    let mut i = 0;
    while i < n {
        let close = match chars[i] {
            '“' => Some('”'),
            '‘' => Some('’'),
            '「' => Some('」'),
            '『' => Some('』'),
            '《' => Some('》'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(cl) = close {
            let lim = (i + 41).min(n);
            let found = (i + 1..lim)
                .take_while(|&j| !is_sentence_break(chars[j]) || chars[j] == cl)
                .find(|&j| chars[j] == cl);
            if let Some(j) = found {
                q[i..=j].iter_mut().for_each(|x| *x = true);
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    q
}

fn periods(n: &Norm) -> Vec<Period> {
    PERIOD
        .captures_iter(&n.s)
        .filter_map(|c| {
            let m = c.get(0)?;
            let t = m.as_str();
            let (every_years, per_year) = if let Some(k) = c.get(1) {
                let v = parse_num(k.as_str())?;
                if !(1.0..=100.0).contains(&v) || v.fract() != 0.0 {
                    return None;
                }
                (v as u32, 1)
            } else if t.starts_with("每年") {
                (1, 1)
            } else if t.starts_with("每半年") {
                (1, 2)
            } else if t.starts_with("每季") {
                (1, 4)
            } else if t.ends_with('月') {
                (1, 12)
            } else {
                (1, 52)
            };
            Some(Period {
                start: n.ci(m.start()),
                end: n.ci(m.end()),
                every_years,
                per_year,
            })
        })
        .collect()
}

fn days_in_month(m: u32) -> u32 {
    match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Cx {
    fn claim(&mut self, a: usize, b: usize) {
        self.claimed[a..b].iter_mut().for_each(|x| *x = true);
    }

    fn any(v: &[bool], a: usize, b: usize) -> bool {
        v[a..b].iter().any(|&x| x)
    }

    fn range(&self, c: &Captures<'_>, i: usize) -> Option<(usize, usize)> {
        c.get(i).map(|m| (self.n.ci(m.start()), self.n.ci(m.end())))
    }

    fn clause_lo(&self, i: usize) -> usize {
        let c = &self.n.chars;
        (0..i)
            .rev()
            .find(|&j| is_clause_break(c[j]))
            .map_or(0, |j| j + 1)
    }

    fn clause_hi(&self, i: usize) -> usize {
        let c = &self.n.chars;
        (i..c.len())
            .find(|&j| is_clause_break(c[j]))
            .unwrap_or(c.len())
    }

    fn sentence_lo(&self, i: usize) -> usize {
        let c = &self.n.chars;
        (0..i.min(c.len()))
            .rev()
            .find(|&j| is_sentence_break(c[j]))
            .map_or(0, |j| j + 1)
    }

    /// The nearest period marker before `i` in the same sentence.
    fn period_before(&self, i: usize) -> Option<&Period> {
        let lo = self.sentence_lo(i);
        self.periods
            .iter()
            .rev()
            .find(|p| p.start >= lo && p.end <= i)
    }

    // ---------------------------------------------------------------- calendar

    fn calendar(&mut self) {
        let s = self.n.s.clone();
        for c in QUOTED_DATE.captures_iter(&s) {
            let Some((a, b)) = self.range(&c, 0) else {
                continue;
            };
            let (Some(m), Some(d)) = (num_of(&c, 1), num_of(&c, 2)) else {
                continue;
            };
            if !valid_md(m, d) || Self::any(&self.claimed, a, b) {
                continue;
            }
            self.claim(a, b);
            let subject = self
                .event_name(b)
                .map_or(Subj::Missing, |(x, y)| Subj::Range(x, y));
            self.calendar_draft(
                RuleKind::Date { month: m, day: d },
                a,
                b,
                subject,
                true,
                Vec::new(),
            );
        }
        for c in MONTH_DAY.captures_iter(&s) {
            let (Some(m), Some(d)) = (num_of(&c, 2), num_of(&c, 3)) else {
                continue;
            };
            let due = c.get(4).is_some();
            self.calendar_match(&c, m, d, due, None);
        }
        for c in MONTH_END.captures_iter(&s) {
            let Some(m) = num_of(&c, 2).filter(|m| (1..=12).contains(m)) else {
                continue;
            };
            let (d, note) = match c.get(3).map_or("", |x| x.as_str()) {
                "上旬" => (10, None),
                "中旬" => (20, None),
                _ if m == 2 => (28, Some("2月底按28日计，闰年为29日".to_string())),
                _ => (days_in_month(m), None),
            };
            self.calendar_match(&c, m, d, true, note);
        }
        for c in QUARTER.captures_iter(&s) {
            let Some(q) = num_of(&c, 3) else { continue };
            let (m, d) = match q {
                1 => (3, 31),
                2 => (6, 30),
                3 => (9, 30),
                _ => (12, 31),
            };
            self.calendar_match(&c, m, d, true, None);
        }
        for c in YEAR_PART.captures_iter(&s) {
            let (m, d) = if c.get(2).is_some_and(|x| x.as_str() == "上半年") {
                (6, 30)
            } else {
                (12, 31)
            };
            self.calendar_match(&c, m, d, true, None);
        }
    }

    /// One month/day phrase: `due` makes it a deadline, otherwise an event date.
    fn calendar_match(
        &mut self,
        c: &Captures<'_>,
        m: u32,
        d: u32,
        due: bool,
        note: Option<String>,
    ) {
        let Some((a, b)) = self.range(c, 0) else {
            return;
        };
        if !valid_md(m, d) || Self::any(&self.claimed, a, b) {
            return;
        }
        let chars = &self.n.chars;
        if a > 0 && chars[a - 1].is_ascii_digit() {
            return;
        }
        let yearly_word = c.get(1).is_some();
        let yearly = yearly_word
            || self
                .period_before(a)
                .is_some_and(|p| p.every_years == 1 && p.per_year == 1);
        // `2019年3月1日`: a one-off date (a document date when not a deadline).
        let year = if !yearly_word && a > 0 && chars[a - 1] == '年' {
            let k = (0..a - 1)
                .rev()
                .take_while(|&j| {
                    chars[j].is_ascii_digit() || "〇零一二三四五六七八九".contains(chars[j])
                })
                .count();
            (k >= 2).then(|| self.n.orig_text(a - 1 - k, a))
        } else {
            None
        };
        self.claim(a, b);
        if year.is_some() && !due {
            return;
        }
        let mut notes: Vec<String> = note.into_iter().collect();
        let certain = match (&year, yearly) {
            (Some(y), _) => {
                notes.push(format!("一次性期限（{y}），不是每年的期限"));
                false
            }
            (None, true) => true,
            (None, false) => {
                notes.push("未写“每年”，按每年的日期理解".to_string());
                false
            }
        };
        let hi = self.clause_hi(b);
        let lo = self.clause_lo(a);
        let kind = if due {
            RuleKind::Deadline { month: m, day: d }
        } else {
            RuleKind::Date { month: m, day: d }
        };
        let right =
            if due { None } else { self.event_name(b) }.or_else(|| self.right(b, hi, false));
        let left = self.left(lo, a);
        let subject = match (right, left.ranges.first()) {
            (Some((x, y)), l) => {
                if let Some(&(p, q)) = l {
                    notes.push(format!("主体：{}", self.n.orig_text(p, q)));
                }
                Subj::Range(x, y)
            }
            (None, Some(&(x, y))) => Subj::Range(x, y),
            (None, None) => Subj::Missing,
        };
        self.calendar_draft(kind, a, b, subject, certain, notes);
    }

    fn calendar_draft(
        &mut self,
        kind: RuleKind,
        a: usize,
        b: usize,
        subject: Subj,
        mut certain: bool,
        mut notes: Vec<String>,
    ) {
        let mut span = (a, b);
        if let Subj::Range(x, y) = subject {
            span = (span.0.min(x), span.1.max(y));
        } else {
            certain = false;
            notes.push("未找到对象".to_string());
        }
        self.drafts.push(Draft {
            kind,
            subject,
            span,
            certain,
            notes,
        });
    }

    /// `国家宪法周（日）` after `“12.4”`.
    fn event_name(&self, p: usize) -> Option<(usize, usize)> {
        let c = &self.n.chars;
        let lim = c.len().min(p + 12);
        for (i, &ch) in c.iter().enumerate().take(lim).skip(p) {
            if !is_han(ch) {
                break;
            }
            if i > p && matches!(ch, '日' | '周' | '节') {
                let mut e = i + 1;
                if ["(日)", "(周)", "(节)"].iter().any(|w| self.n.at(e, w)) {
                    e += 3;
                }
                return Some((p, e));
            }
        }
        None
    }

    // ---------------------------------------------------------------- numbers

    fn numbers(&mut self) {
        let s = self.n.s.clone();
        let mut toks = Vec::new();
        for c in FRACTION.captures_iter(&s) {
            let Some((a, b)) = self.range(&c, 0) else {
                continue;
            };
            if Self::any(&self.claimed, a, b) || Self::any(&self.quoted, a, b) {
                continue;
            }
            let tok = if let Some(p) = c.get(1) {
                parse_num(p.as_str()).map(|v| Tok {
                    start: a,
                    unit: Unit::Percent,
                    unit_end: b,
                    value: v,
                    chinese: false,
                    approx: false,
                    uncertain: false,
                    note: None,
                })
            } else {
                let den = c.get(2).and_then(|x| parse_num(x.as_str()));
                let num = c.get(3).and_then(|x| parse_num(x.as_str()));
                match (den, num) {
                    (Some(den), Some(num)) if den > 0.0 && (num / den).is_finite() => {
                        let v = (num / den * 10_000.0).round() / 100.0;
                        Some(Tok {
                            start: a,
                            unit: Unit::Percent,
                            unit_end: b,
                            value: v,
                            chinese: false,
                            approx: false,
                            uncertain: true,
                            note: Some(format!("分数 {} 约合 {v}%", self.n.orig_text(a, b))),
                        })
                    }
                    _ => None,
                }
            };
            self.claim(a, b);
            toks.extend(tok);
        }
        let chars = self.n.chars.clone();
        for m in NUM.find_iter(&s) {
            let (a, b) = (self.n.ci(m.start()), self.n.ci(m.end()));
            if Self::any(&self.claimed, a, b) || Self::any(&self.quoted, a, b) {
                continue;
            }
            let t = m.as_str();
            let Some(value) = parse_num(t) else { continue };
            let chinese = !t.starts_with(|c: char| c.is_ascii_digit());
            if a > 0 {
                let p = chars[a - 1];
                if p == '第' || p.is_ascii_alphanumeric() || matches!(p, '.' | '-' | '/' | '_') {
                    continue;
                }
            }
            if let Some(&q) = chars.get(b) {
                let digit_after = chars.get(b + 1).is_some_and(|c| c.is_ascii_digit());
                if q.is_ascii_alphabetic() || (matches!(q, '.' | '-' | '/') && digit_after) {
                    continue;
                }
            }
            let mut p = b;
            let mut approx = false;
            if matches!(chars.get(p), Some('多' | '余')) && self.unit_at(p + 1).is_some() {
                approx = true;
                p += 1;
            }
            let Some((unit, unit_end)) = self.unit_at(p) else {
                continue;
            };
            if unit == Unit::Dur(DurationUnit::Year) && !chinese && t.len() == 4 {
                continue; // 2019年
            }
            toks.push(Tok {
                start: a,
                unit,
                unit_end,
                value,
                chinese,
                approx,
                uncertain: false,
                note: None,
            });
        }
        toks.sort_by_key(|t| t.start);
        for t in toks {
            self.number(t);
        }
    }

    fn unit_at(&self, p: usize) -> Option<(Unit, usize)> {
        let c = &self.n.chars;
        if c.get(p) == Some(&'%') {
            return Some((Unit::Percent, p + 1));
        }
        let &(w, unit) = UNITS.iter().find(|(w, _)| self.n.at(p, w))?;
        let e = p + w.chars().count();
        let next = c.get(e).copied().unwrap_or(' ');
        let reject = match w {
            "年" => "度级代份龄初底末中终".contains(next),
            "周" => next == '年',
            "次" => next == '性',
            "分" => next == '之',
            "个" => "体别人性案".contains(next),
            _ => false,
        } || (w.chars().count() == 1 && next == '式');
        (!reject).then_some((unit, e))
    }

    /// The threshold word ending at `i`, with 不得/未 negation of exclusive words.
    fn op_ending_at(&self, i: usize) -> Option<(Pre, usize)> {
        let c = &self.n.chars;
        let &(w, op) = OPS.iter().find(|(w, _)| self.n.ends_with(i, w))?;
        let mut s = i - w.chars().count();
        let mut op = op;
        let exclusive = match op {
            Pre::Cmp(o @ (Op::Gt | Op::Lt)) if !w.starts_with('不') => Some(o),
            _ => None,
        };
        if let Some(o) = exclusive {
            let neg =
                if s >= 2 && "得应能宜可准要会许".contains(c[s - 1]) && "不未".contains(c[s - 2])
                {
                    Some(s - 2)
                } else if s >= 1 && "不未".contains(c[s - 1]) {
                    Some(s - 1)
                } else if self.n.ends_with(s, "没有") {
                    Some(s - 2)
                } else {
                    None
                };
            if let Some(ns) = neg {
                s = ns;
                op = Pre::Cmp(if o == Op::Gt { Op::Le } else { Op::Ge });
            }
        }
        Some((op, s))
    }

    fn barrier(&self, i: usize) -> bool {
        let c = self.n.chars[i];
        c.is_ascii_digit() || c == '%' || self.claimed[i]
    }

    fn prefix(&self, start: usize, percent: bool, lo: usize) -> Option<PreHit> {
        if let Some((op, s)) = self.op_ending_at(start) {
            return Some(PreHit {
                op,
                start: s,
                base: None,
            });
        }
        let c = &self.n.chars;
        // 不少于本单位执法人员总数的5%
        if percent && start > lo + 1 && c[start - 1] == '的' {
            let min = lo.max(start.saturating_sub(30));
            let mut j = start - 2;
            while j > min {
                if self.barrier(j - 1) {
                    break;
                }
                if let Some((Pre::Cmp(op), s)) = self.op_ending_at(j) {
                    return Some(PreHit {
                        op: Pre::Cmp(op),
                        start: s,
                        base: Some((j, start - 1)),
                    });
                }
                j -= 1;
            }
        }
        // 至少组织开展1次
        let min = lo.max(start.saturating_sub(8));
        let mut j = start;
        while j > min {
            if self.barrier(j - 1) {
                break;
            }
            if self.n.ends_with(j, "至少") || self.n.ends_with(j, "最少") {
                return Some(PreHit {
                    op: Pre::Cmp(Op::Ge),
                    start: j - 2,
                    base: None,
                });
            }
            j -= 1;
        }
        None
    }

    fn suffix(&self, p: usize, unit: Unit) -> Option<Suf> {
        let words: [(&str, Op, bool); 6] = [
            ("及以上", Op::Ge, false),
            ("以上", Op::Ge, false),
            ("及以下", Op::Le, false),
            ("以下", Op::Le, false),
            ("以内", Op::Le, true),
            ("之内", Op::Le, true),
        ];
        for (w, op, within) in words {
            if self.n.at(p, w) {
                return Some(Suf {
                    op,
                    end: p + w.chars().count(),
                    within,
                    approx: false,
                });
            }
        }
        if matches!(unit, Unit::Dur(_)) && self.n.at(p, "内") {
            return Some(Suf {
                op: Op::Le,
                end: p + 1,
                within: true,
                approx: false,
            });
        }
        if self.n.at(p, "左右") {
            return Some(Suf {
                op: Op::Eq,
                end: p + 2,
                within: false,
                approx: true,
            });
        }
        None
    }

    fn number(&mut self, t: Tok) {
        let lo = self.clause_lo(t.start);
        let hi = self.clause_hi(t.unit_end);
        let pre = self.prefix(t.start, t.unit == Unit::Percent, lo);
        let suf = self.suffix(t.unit_end, t.unit);
        let end = suf.as_ref().map_or(t.unit_end, |s| s.end);
        let op_start = pre.as_ref().map_or(t.start, |p| p.start);
        let mut certain = !t.uncertain;
        let mut notes: Vec<String> = t.note.into_iter().collect();

        let period = match t.unit {
            Unit::Count(u) if EVENT_UNITS.contains(&u) => self.period_before(t.start),
            _ => None,
        }
        .map(|p| (p.every_years, p.per_year, p.start, p.end));

        let mut op = match (pre.as_ref().map(|p| p.op), suf.as_ref().map(|s| s.op)) {
            (None, None) => {
                if t.chinese && period.is_none() {
                    return; // 一个部门, 一件事情: an article, not a quantity
                }
                if t.unit == Unit::Dur(DurationUnit::Year) {
                    return;
                }
                certain = false;
                notes.push(NOTE_BARE.to_string());
                if t.unit == Unit::Dur(DurationUnit::Day)
                    && ["前", "之前", "以前"]
                        .iter()
                        .any(|w| self.n.at(t.unit_end, w))
                {
                    notes.push("“日前”可能是日期而非时长".to_string());
                }
                match t.unit {
                    Unit::Dur(_) => Op::Le,
                    _ => Op::Ge,
                }
            }
            (Some(Pre::Reach), None) => Op::Ge,
            (Some(Pre::Reach), Some(s)) | (None, Some(s)) => s,
            (Some(Pre::Cmp(p)), None) => p,
            (Some(Pre::Cmp(p)), Some(s)) => {
                if p != s {
                    certain = false;
                    notes.push("前后限定词不一致，请人工核对".to_string());
                }
                s
            }
        };
        if t.approx || suf.as_ref().is_some_and(|s| s.approx) {
            certain = false;
            notes.push("约数".to_string());
            if t.approx && op == Op::Ge {
                op = Op::Gt;
            }
        }
        if t.unit == Unit::Percent && t.value >= 100.0 && op == Op::Ge {
            op = Op::Eq; // a rate cannot exceed 100%
        }
        if let Some(PreHit {
            base: Some((x, y)), ..
        }) = pre
        {
            notes.push(format!("基数：{}", self.n.orig_text(x, y)));
        }

        let kind = match t.unit {
            Unit::Percent => RuleKind::Percent { op, value: t.value },
            Unit::Dur(unit) => RuleKind::Duration {
                op,
                value: t.value,
                unit,
            },
            Unit::Count(u) => {
                let times = t.value * period.map_or(1.0, |p| f64::from(p.1));
                match period {
                    Some((every_years, per_year, ..))
                        if t.value.fract() == 0.0 && (1.0..1e6).contains(&times) =>
                    {
                        if per_year != 1 {
                            notes.push(format!("折算为每年{times}次"));
                        }
                        RuleKind::Frequency {
                            op,
                            times: times as u32,
                            every_years,
                        }
                    }
                    _ => {
                        if let Some(p) = self.period_before(t.start) {
                            notes.push(self.n.orig_text(p.start, p.end));
                        }
                        RuleKind::Count {
                            op,
                            value: t.value,
                            unit: u.to_string(),
                        }
                    }
                }
            }
        };

        // The subject.
        let left = self.left(lo, op_start);
        let right = self.right(end, hi, matches!(kind, RuleKind::Count { .. }));
        let within = suf.as_ref().is_some_and(|s| s.within);
        let mut ranges: Vec<(usize, usize)> = match kind {
            RuleKind::Percent { .. } => left.ranges.clone(),
            RuleKind::Duration { .. } if within && right.is_some_and(|(x, y)| y - x >= 4) => {
                right.into_iter().collect()
            }
            RuleKind::Duration { .. } => left.ranges.clone(),
            _ => right.into_iter().collect(),
        };
        if ranges.is_empty() {
            ranges = match kind {
                RuleKind::Percent { .. } | RuleKind::Duration { .. } => right.into_iter().collect(),
                _ => left.ranges.clone(),
            };
        }
        if let (RuleKind::Count { .. }, Some(_), Some((x, y))) = (&kind, right, left.holder) {
            notes.push(format!("范围：{}", self.n.orig_text(x, y)));
        }
        if let (RuleKind::Duration { .. }, Some((x, y))) = (&kind, left.from) {
            notes.push(format!("起算：{}", self.n.orig_text(x, y)));
        }

        if ranges.is_empty() {
            let subject = self.inherit(&kind, t.start);
            let subject = match subject {
                Some(s) => {
                    notes.push("对象承前句".to_string());
                    Subj::Text(s)
                }
                None => {
                    certain = false;
                    notes.push("未找到对象".to_string());
                    Subj::Missing
                }
            };
            self.drafts.push(Draft {
                kind,
                subject,
                span: (op_start, end),
                certain,
                notes,
            });
            return;
        }
        for (x, y) in ranges {
            self.drafts.push(Draft {
                kind: kind.clone(),
                subject: Subj::Range(x, y),
                span: (op_start.min(x), end.max(y)),
                certain,
                notes: notes.clone(),
            });
        }
    }

    /// Subject of the previous rule of the same kind in the same sentence
    /// (`不少于5个工作日，最长不超过15个工作日`).
    fn inherit(&self, kind: &RuleKind, at: usize) -> Option<String> {
        let lo = self.sentence_lo(at);
        let d = self.drafts.iter().rev().find(|d| {
            std::mem::discriminant(&d.kind) == std::mem::discriminant(kind)
                && d.span.0 >= lo
                && d.span.1 <= at
        })?;
        match &d.subject {
            Subj::Range(x, y) => Some(self.n.orig_text(*x, *y)),
            Subj::Text(s) => Some(s.clone()),
            Subj::Missing => None,
        }
    }

    /// The subject before the threshold words, within `[lo, hi)`.
    fn left(&self, lo: usize, hi: usize) -> Left {
        let c = &self.n.chars;
        let mut a = lo;
        let mut b = hi;
        if let Some(i) = (a..b).rev().find(|&i| self.barrier(i)) {
            a = i + 1;
        }
        for p in &self.periods {
            if p.start >= a && p.end <= b {
                a = a.max(p.end);
            }
        }
        // `…、新法律法规等专题培训`: the thing named after 等.
        if let Some(i) = (a..b).rev().find(|&i| {
            c[i] == '等' && i + 2 < b && !(i > a && "平同对相高中初均".contains(c[i - 1]))
        }) {
            a = i + 1;
        }
        let mut out = Left::default();
        // `在执法决定作出之日起`, `在事件发生后`: the starting point.
        if b > a && matches!(c[b - 1], '起' | '后') {
            let k = b - 1;
            if let Some(i) = (a..k).rev().take(20).find(|&i| "自从在于".contains(c[i])) {
                out.from = (i + 1 < k).then_some((i + 1, k));
                b = i;
            }
        }
        let mut holder = false;
        loop {
            let before = (a, b);
            if let Some(w) = TRAIL
                .iter()
                .find(|w| b >= a + w.chars().count() && self.n.ends_with(b, w))
            {
                holder |= matches!(*w, "有" | "由");
                b -= w.chars().count();
            }
            if let Some(w) = LEAD
                .iter()
                .find(|w| self.n.at(a, w) && a + w.chars().count() <= b)
            {
                a += w.chars().count();
            }
            if (a, b) == before {
                break;
            }
        }
        if b < a + 2 {
            return out;
        }
        if holder {
            out.holder = Some((a, b));
        }
        // `报备率、报备及时率、规范率`: one subject per metric.
        let mut parts = Vec::new();
        let mut s = a;
        for i in (a..b).filter(|&i| c[i] == '、').chain([b]) {
            parts.push((s, i));
            s = i + 1;
        }
        let metric = |&(x, y): &(usize, usize)| {
            y >= x + 2 && METRIC_ENDS.iter().any(|w| self.n.ends_with(y, w))
        };
        if parts.len() > 1 && parts.iter().all(metric) {
            out.ranges = parts;
        } else {
            out.ranges = vec![(a, b)];
        }
        out
    }

    /// The subject after the number, within `[lo, hi)`; `count` cuts at the counted noun.
    fn right(&self, lo: usize, hi: usize, count: bool) -> Option<(usize, usize)> {
        let mut a = lo;
        let mut b = hi.max(lo);
        if let Some(i) = (a..b).find(|&i| self.barrier(i)) {
            b = i;
        }
        while a < b && self.n.at(a, "的") {
            a += 1;
        }
        let action = self
            .n
            .at(a, "向")
            .then(|| (a + 1..b).find(|&i| ACTIONS.iter().any(|w| self.n.at(i, w))))
            .flatten();
        if let Some(i) = action {
            a = i;
        }
        if count {
            if let Some(i) = (a + 2..b).find(|&i| COUNT_STOPS.iter().any(|w| self.n.at(i, w))) {
                b = i;
            }
            for w in ["规定", "制度", "要求"] {
                if b >= a + 4 && self.n.ends_with(b, w) {
                    b -= 2;
                }
            }
        }
        while b > a && self.n.ends_with(b, "的") {
            b -= 1;
        }
        (b >= a + 2).then_some((a, b))
    }

    fn finish(self) -> Vec<Rule> {
        let n = &self.n;
        let mut out: Vec<Rule> = self
            .drafts
            .into_iter()
            .map(|d| {
                let (x, y) = n.orig_span(d.span.0, d.span.1);
                Rule {
                    kind: d.kind,
                    subject: match d.subject {
                        Subj::Range(a, b) => n.orig_text(a, b),
                        Subj::Text(s) => s,
                        Subj::Missing => String::new(),
                    },
                    span: (x, y),
                    source: n.orig_slice(x, y),
                    certain: d.certain,
                    note: (!d.notes.is_empty()).then(|| d.notes.join("；")),
                }
            })
            .collect();
        out.sort_by_key(|r| r.span);
        out
    }
}

fn num_of(c: &Captures<'_>, i: usize) -> Option<u32> {
    let v = parse_num(c.get(i)?.as_str())?;
    (v.fract() == 0.0 && (0.0..1e6).contains(&v)).then_some(v as u32)
}

fn valid_md(m: u32, d: u32) -> bool {
    (1..=12).contains(&m) && (1..=days_in_month(m)).contains(&d)
}
