use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::ruleset::{KeyedRule, keyed_rules};

/// Item 25 of the seed, as in the shipped library.
const ITEM_25: &str = "行政规范性文件的合法性审核率达100%。制定机关负责合法性审核的部门对文件的制定主体、程序和有关内容等是否符合法律法规规章和国家政策的规定，及时进行合法性审核。合法性审核的时间一般不少于5个工作日，最长不超过15个工作日；未经合法性审核或者经审核不合法的，不提交集体审议。";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn ctx(cal: &HolidayCalendar) -> JudgeContext<'_> {
    JudgeContext {
        calendar: cal,
        period_start: d("2026-01-01"),
    }
}

fn case(id: i64, a: &str, b: &str) -> LedgerCase {
    LedgerCase {
        id,
        title: format!("文件{id}"),
        started_on: d(a),
        finished_on: d(b),
    }
}

fn durations(rules: &[KeyedRule]) -> Vec<&KeyedRule> {
    rules
        .iter()
        .filter(|r| matches!(r.rule.kind, RuleKind::Duration { .. }))
        .collect()
}

#[test]
fn ledger_of_item_25_flags_both_short_and_long_reviews() {
    let cal = HolidayCalendar::china_builtin();
    let rules = keyed_rules(ITEM_25);
    let dur = durations(&rules);
    assert_eq!(dur.len(), 2, "{rules:?}");
    // 2026-03-02 (Mon) → 03-06 (Fri): 4 working days. 2026-03-02 → 03-24 (Tue): 16.
    let ledger = vec![
        case(1, "2026-03-02", "2026-03-06"),
        case(2, "2026-03-02", "2026-03-24"),
        case(3, "2026-03-02", "2026-03-16"),
    ];
    let judged: Vec<_> = dur
        .iter()
        .map(|r| judge(r, None, &ledger, &ctx(&cal)))
        .collect();
    let violations: usize = judged.iter().map(Judgement::violations).sum();
    assert_eq!(violations, 2);
    assert!(judged.iter().all(|j| j.verdict == Compliance::NotMet));
    let all: Vec<_> = judged.iter().flat_map(|j| j.cases.iter()).collect();
    let short = all
        .iter()
        .find(|c| c.case_id == 1 && c.verdict == Compliance::NotMet)
        .unwrap();
    assert_eq!(short.elapsed, Some(4));
    assert_eq!(short.detail, "用时4个工作日，少于5个工作日");
    let long = all
        .iter()
        .find(|c| c.case_id == 2 && c.verdict == Compliance::NotMet)
        .unwrap();
    assert_eq!(long.elapsed, Some(16));
    assert_eq!(long.detail, "用时16个工作日，超过15个工作日");
    // Case 3 took 10 working days: fine under both rules.
    assert!(
        all.iter()
            .filter(|c| c.case_id == 3)
            .all(|c| c.verdict == Compliance::Met)
    );
    // The indicator rolls up to 未达标.
    assert_eq!(
        roll_up(judged.iter().map(|j| j.verdict)),
        Some(Compliance::NotMet)
    );
}

#[test]
fn ledger_counts_working_days_across_the_national_day_holiday() {
    let cal = HolidayCalendar::china_builtin();
    let rules = keyed_rules(ITEM_25);
    let le15 = durations(&rules)[1];
    // Received 2025-09-26, finished 2025-10-10: the 调休 Sunday counts, 10-01..10-08 do not.
    let j = judge(
        le15,
        None,
        &[case(1, "2025-09-26", "2025-10-10")],
        &ctx(&cal),
    );
    assert_eq!(j.cases[0].elapsed, Some(5));
    assert_eq!(j.verdict, Compliance::Met);
}

#[test]
fn ledger_case_in_a_year_without_calendar_is_undecidable_not_guessed() {
    let cal = HolidayCalendar::china_builtin();
    let rules = keyed_rules(ITEM_25);
    let j = judge(
        durations(&rules)[0],
        None,
        &[case(1, "2031-03-03", "2031-03-20")],
        &ctx(&cal),
    );
    assert_eq!(j.verdict, Compliance::Undecidable);
    assert!(j.cases[0].detail.contains("2031"), "{}", j.cases[0].detail);
}

#[test]
fn percent_from_numerator_and_denominator() {
    let cal = HolidayCalendar::china_builtin();
    let rules = keyed_rules("政务服务事项网上可办率不低于80%。");
    let r = &rules[0];
    let m = Measurement {
        numerator: Some(150.0),
        denominator: Some(200.0),
        ..Default::default()
    }
    .validated(&r.rule.kind)
    .unwrap();
    let j = judge(r, Some(&m), &[], &ctx(&cal));
    assert_eq!(j.verdict, Compliance::NotMet);
    assert_eq!(j.actual, "75%（150/200）");
    assert_eq!(j.detail, "要求不少于80%，实际75%");
    let m = Measurement {
        value: Some(80.0),
        ..Default::default()
    };
    assert_eq!(judge(r, Some(&m), &[], &ctx(&cal)).verdict, Compliance::Met);
    assert_eq!(
        judge(r, None, &[], &ctx(&cal)).verdict,
        Compliance::NotReported
    );
}

#[test]
fn validation_says_what_is_wrong() {
    let pct = RuleKind::Percent {
        op: Op::Ge,
        value: 80.0,
    };
    let bad = |m: Measurement| m.validated(&pct).unwrap_err().to_string();
    assert_eq!(
        bad(Measurement {
            numerator: Some(3.0),
            denominator: Some(2.0),
            ..Default::default()
        }),
        "分子（3）不能大于分母（2）"
    );
    assert_eq!(
        bad(Measurement {
            numerator: Some(0.0),
            denominator: Some(0.0),
            ..Default::default()
        }),
        "分母应大于0"
    );
    assert_eq!(
        bad(Measurement {
            numerator: Some(1.0),
            ..Default::default()
        }),
        "请填写分母"
    );
    assert_eq!(
        bad(Measurement {
            value: Some(120.0),
            ..Default::default()
        }),
        "比率应在0到100之间（填写的是120）"
    );
    let dl = RuleKind::Deadline { month: 1, day: 15 };
    assert_eq!(
        Measurement::default()
            .validated(&dl)
            .unwrap_err()
            .to_string(),
        "请填写完成日期"
    );
    // Fields the kind does not use are dropped.
    let m = Measurement {
        value: Some(3.0),
        done_on: Some(d("2026-01-01")),
        ..Default::default()
    }
    .validated(&RuleKind::Count {
        op: Op::Ge,
        value: 2.0,
        unit: "名".into(),
    })
    .unwrap();
    assert_eq!(m.done_on, None);
}

#[test]
fn yearly_deadline_and_event_day() {
    let cal = HolidayCalendar::china_builtin();
    let rules = keyed_rules("每年1月15日前公开上一年度法治政府建设情况报告。");
    let dl = rules
        .iter()
        .find(|r| matches!(r.rule.kind, RuleKind::Deadline { .. }))
        .unwrap();
    let done = |s: &str| Measurement {
        done_on: Some(d(s)),
        ..Default::default()
    };
    assert_eq!(
        judge(dl, Some(&done("2026-01-10")), &[], &ctx(&cal)).verdict,
        Compliance::Met
    );
    let late = judge(dl, Some(&done("2026-01-20")), &[], &ctx(&cal));
    assert_eq!(late.verdict, Compliance::NotMet);
    assert_eq!(late.detail, "截止日为2026-01-15，2026-01-20完成，逾期5天");

    let date_rule = KeyedRule {
        key: "date@0-1#0".into(),
        rule: manual_rule(RuleKind::Date { month: 12, day: 4 }, "国家宪法日活动", None),
        origin: crate::ruleset::RuleOrigin::Extracted,
    };
    assert_eq!(
        judge(&date_rule, Some(&done("2026-12-04")), &[], &ctx(&cal)).verdict,
        Compliance::Met
    );
    assert_eq!(
        judge(&date_rule, Some(&done("2026-12-05")), &[], &ctx(&cal)).verdict,
        Compliance::NotMet
    );
}

#[test]
fn next_yearly_handles_year_end_and_leap_day() {
    assert_eq!(next_yearly(1, 15, d("2026-01-01")), Some(d("2026-01-15")));
    assert_eq!(next_yearly(1, 15, d("2026-01-16")), Some(d("2027-01-15")));
    assert_eq!(next_yearly(2, 29, d("2026-01-01")), Some(d("2026-02-28")));
    assert_eq!(next_yearly(2, 29, d("2028-01-01")), Some(d("2028-02-29")));
    assert_eq!(next_yearly(13, 1, d("2028-01-01")), None);
}

#[test]
fn roll_up_order() {
    use Compliance::*;
    assert_eq!(roll_up([]), None);
    assert_eq!(roll_up([Met, Met]), Some(Met));
    assert_eq!(roll_up([Met, NotReported]), Some(NotReported));
    assert_eq!(roll_up([Undecidable, NotReported]), Some(NotReported));
    assert_eq!(roll_up([NotReported, NotMet, Met]), Some(NotMet));
}

#[test]
fn rule_from_parts_reads_forms() {
    assert_eq!(
        rule_from_parts("duration", "审核时间", "<=", 15.0, "workday"),
        Ok(RuleKind::Duration {
            op: Op::Le,
            value: 15.0,
            unit: DurationUnit::Workday
        })
    );
    assert_eq!(
        rule_from_parts("deadline", "公开报告", ">=", 115.0, ""),
        Ok(RuleKind::Deadline { month: 1, day: 15 })
    );
    assert!(rule_from_parts("deadline", "x", ">=", 230.0, "").is_err());
    assert!(rule_from_parts("percent", "x", ">=", 120.0, "").is_err());
    assert!(rule_from_parts("percent", " ", ">=", 12.0, "").is_err());
    assert!(rule_from_parts("count", "x", "≥", 12.0, "名").is_err());
    assert_eq!(
        rule_from_parts("frequency", "旁听庭审", ">=", 1.0, "2"),
        Ok(RuleKind::Frequency {
            op: Op::Ge,
            times: 1,
            every_years: 2
        })
    );
}

proptest! {
    #[test]
    fn judging_never_panics(
        text in "\\PC{0,80}",
        value in proptest::option::of(-1e12f64..1e12),
        num in proptest::option::of(-10.0f64..1e6),
        den in proptest::option::of(-10.0f64..1e6),
        a in 0i64..5000, b in 0i64..5000,
    ) {
        let cal = HolidayCalendar::china_builtin();
        let base = d("2019-01-01");
        let ledger = vec![LedgerCase {
            id: 1,
            title: String::new(),
            started_on: base + chrono::Days::new(a as u64),
            finished_on: base + chrono::Days::new(b as u64),
        }];
        let m = Measurement { value, numerator: num, denominator: den, done_on: Some(base) };
        for r in keyed_rules(&format!("{text}不少于5个工作日，网上可办率不低于80%，每年1月15日前")) {
            let _ = m.clone().validated(&r.rule.kind);
            let j = judge(&r, Some(&m), &ledger, &ctx(&cal));
            prop_assert!(!j.rule_key.is_empty());
        }
    }
}
