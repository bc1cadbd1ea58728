//! The numbers in the indicators: rule corrections (surviving re-import), measured values,
//! the ledger, 督办单, added holiday years and calendar feed tokens.

use chrono::NaiveDate;
use fazhi_domain::measure::{Compliance, JudgeContext, Measurement, judge, roll_up};
use fazhi_domain::rules::{Op, RuleKind};
use fazhi_domain::ruleset::{CorrectionAction, RuleOrigin};
use fazhi_domain::supervision::NoticeLevel;
use fazhi_store::{
    ActorRole, AuditFilter, NewLedgerCase, NewRound, Store, StoreError, TaskAction, TaskFilter,
    TaskSummary,
};

use crate::common::*;

store_tests!(
    corrections_apply_and_survive_reimport,
    measurements_are_validated_and_kept,
    ledger_of_item_25_has_two_violations,
    notices_escalate_and_are_acknowledged,
    calendar_years_can_be_added,
    feed_tokens_are_replaced,
    inbox_due_soon_counts_working_days,
);

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn open(s: &Store) -> fazhi_store::RoundId {
    s.open_round(
        NewRound {
            name: "2026年度".into(),
            starts_on: date(2026, 1, 1),
            ends_on: date(2026, 12, 31),
            framework_id: None,
            due_on: None,
            copy_from: None,
        },
        &admin(),
    )
    .await
    .unwrap()
    .round_id
}

async fn task(s: &Store, code: &str, unit: &str) -> TaskSummary {
    let unit = unit_id(s, unit).await;
    s.tasks(&TaskFilter {
        unit: Some(unit),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_iter()
    .find(|t| t.code == code)
    .unwrap()
}

async fn signed(s: &Store, code: &str, unit: &str) -> TaskSummary {
    let t = task(s, code, unit).await;
    s.transition(
        t.id,
        &TaskAction::Sign,
        ActorRole::ResponsibleUnit,
        &admin(),
        today(),
    )
    .await
    .unwrap();
    t
}

fn invalid(err: StoreError, fragment: &str) {
    match err {
        StoreError::Invalid(m) => assert!(m.contains(fragment), "“{m}”应含“{fragment}”"),
        other => panic!("应为 Invalid（{fragment}），实为 {other:?}"),
    }
}

async fn corrections_apply_and_survive_reimport(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await;
    let t = task(s, "25", "县司法局").await;
    let set = s.node_rules(t.node_id).await.unwrap();
    let le15 = set
        .rules
        .iter()
        .find(|r| matches!(r.rule.kind, RuleKind::Duration { op: Op::Le, .. }))
        .unwrap()
        .clone();
    let mut changed = le15.rule.clone();
    changed.kind = RuleKind::Duration {
        op: Op::Le,
        value: 10.0,
        unit: fazhi_domain::rules::DurationUnit::Workday,
    };
    let id = s
        .add_rule_correction(
            t.node_id,
            CorrectionAction::Replace {
                target: le15.key.clone(),
                rule: changed.clone(),
            },
            "县里要求更严",
            &admin(),
        )
        .await
        .unwrap();
    // A target that is not a rule of this indicator is refused.
    let err = s
        .add_rule_correction(
            t.node_id,
            CorrectionAction::Delete {
                target: "percent@9999-10000#0".into(),
            },
            "",
            &admin(),
        )
        .await
        .unwrap_err();
    invalid(err, "没有编号为");

    // Re-import the same library as a new version: the node is new, the correction holds.
    let second = s
        .import_library(
            &library(),
            "lanling-again.json",
            &library_sha256(),
            &admin(),
        )
        .await
        .unwrap();
    let tree = s.framework_tree(second).await.unwrap();
    let node = tree
        .leaves()
        .into_iter()
        .find(|(_, l)| l.code == "25")
        .unwrap()
        .1
        .id;
    assert_ne!(node, t.node_id);
    let set = s.node_rules(node).await.unwrap();
    let r = set.get(&le15.key).unwrap();
    assert_eq!(r.rule, changed);
    assert!(
        matches!(r.origin, RuleOrigin::Corrected { correction_id, .. } if correction_id == id.0)
    );

    // Revoked: the extracted rule counts again.
    s.revoke_rule_correction(id, &admin()).await.unwrap();
    assert_eq!(
        s.node_rules(node)
            .await
            .unwrap()
            .get(&le15.key)
            .unwrap()
            .rule,
        le15.rule
    );
    let log = s.audit_entries(&AuditFilter::default()).await.unwrap();
    assert!(log.iter().any(|e| e.action == "rule.correct"));
    assert!(log.iter().any(|e| e.action == "rule.revoke"));
    let _ = round;
}

async fn measurements_are_validated_and_kept(db: Db) {
    let s = &db.store;
    import_county(s).await;
    open(s).await;
    let t = task(s, "25", "县司法局").await;
    let m = s.task_measures(t.id).await.unwrap();
    let pct = m.rules.rules[0].clone();
    assert!(matches!(pct.rule.kind, RuleKind::Percent { .. }), "{pct:?}");
    let actor = admin();
    // Not signed yet.
    let err = s
        .record_measurement(t.id, &pct.key, Measurement::default(), "", &actor)
        .await
        .unwrap_err();
    invalid(err, "尚未签收");
    signed(s, "25", "县司法局").await;
    let err = s
        .record_measurement(
            t.id,
            &pct.key,
            Measurement {
                numerator: Some(12.0),
                denominator: Some(10.0),
                ..Default::default()
            },
            "",
            &actor,
        )
        .await
        .unwrap_err();
    invalid(err, "分子（12）不能大于分母（10）");
    let err = s
        .record_measurement(t.id, "percent@1-2#9", Measurement::default(), "", &actor)
        .await
        .unwrap_err();
    invalid(err, "没有这项要求");
    for (n, d) in [(9.0, 10.0), (10.0, 10.0)] {
        s.record_measurement(
            t.id,
            &pct.key,
            Measurement {
                numerator: Some(n),
                denominator: Some(d),
                ..Default::default()
            },
            "全年审核文件",
            &actor,
        )
        .await
        .unwrap();
    }
    let m = s.task_measures(t.id).await.unwrap();
    assert_eq!(m.history.len(), 2, "history kept");
    let latest = &m.latest[&pct.key];
    assert_eq!(latest.measurement.numerator, Some(10.0));
    let cal = s.calendar().await.unwrap();
    let ctx = JudgeContext {
        calendar: &cal,
        period_start: m.period_start,
    };
    assert_eq!(
        judge(&pct, Some(&latest.measurement), &[], &ctx).verdict,
        Compliance::Met
    );
}

async fn ledger_of_item_25_has_two_violations(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await;
    let t = signed(s, "25", "县司法局").await;
    let actor = admin();
    let case = |title: &str, a, b| NewLedgerCase {
        title: title.into(),
        started_on: a,
        finished_on: b,
        note: String::new(),
    };
    let err = s
        .add_ledger_case(
            t.id,
            case("倒序", date(2026, 3, 5), date(2026, 3, 2)),
            &actor,
        )
        .await
        .unwrap_err();
    invalid(err, "早于起始日期");
    s.add_ledger_case(
        t.id,
        case("文件甲", date(2026, 3, 2), date(2026, 3, 6)),
        &actor,
    )
    .await
    .unwrap();
    let long = s
        .add_ledger_case(
            t.id,
            case("文件乙", date(2026, 3, 2), date(2026, 3, 24)),
            &actor,
        )
        .await
        .unwrap();
    let extra = s
        .add_ledger_case(
            t.id,
            case("录错的", date(2026, 3, 2), date(2026, 3, 3)),
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(s.delete_ledger_case(extra, &actor).await.unwrap(), t.id);

    let all = s.round_measures(round).await.unwrap();
    let m = all.iter().find(|m| m.task_id == t.id).unwrap();
    assert_eq!(m.ledger.len(), 2);
    let cal = s.calendar().await.unwrap();
    let ctx = JudgeContext {
        calendar: &cal,
        period_start: m.period_start,
    };
    let cases: Vec<_> = m.ledger.iter().map(|c| c.as_case()).collect();
    let judged: Vec<_> = m
        .rules
        .rules
        .iter()
        .map(|r| {
            judge(
                r,
                m.latest.get(&r.key).map(|x| &x.measurement),
                &cases,
                &ctx,
            )
        })
        .collect();
    assert_eq!(judged.iter().map(|j| j.violations()).sum::<usize>(), 2);
    assert!(
        judged
            .iter()
            .flat_map(|j| &j.cases)
            .any(|c| c.case_id == long.0 && c.elapsed == Some(16))
    );
    assert_eq!(
        roll_up(judged.iter().map(|j| j.verdict)),
        Some(Compliance::NotMet)
    );
}

async fn notices_escalate_and_are_acknowledged(db: Db) {
    let s = &db.store;
    import_county(s).await;
    open(s).await;
    let t = task(s, "25", "县司法局").await;
    let first = s
        .issue_notice(t.id, NoticeLevel::Remind, "请尽快签收", None, &admin())
        .await
        .unwrap();
    let err = s
        .issue_notice(t.id, NoticeLevel::Remind, "再次提醒", None, &admin())
        .await
        .unwrap_err();
    invalid(err, "只能升级为更高级别");
    let second = s
        .issue_notice(
            t.id,
            NoticeLevel::Warn,
            "已逾期，请说明情况",
            Some(date(2026, 12, 10)),
            &admin(),
        )
        .await
        .unwrap();
    let unit = unit_id(s, "县司法局").await;
    let open_notices = s.open_notices_of_unit(unit).await.unwrap();
    assert_eq!(open_notices.len(), 2);
    assert_eq!(open_notices[0].id, second);
    assert_eq!(open_notices[0].previous_notice_id, Some(first));
    assert!(!open_notices[0].overdue_on(&date(2026, 12, 10)));
    assert!(open_notices[0].overdue_on(&date(2026, 12, 11)));
    assert!(
        !open_notices[1].overdue_on(&date(2030, 1, 1)),
        "no answer date"
    );
    s.acknowledge_notice(second, "本周内报送", &admin())
        .await
        .unwrap();
    let err = s
        .acknowledge_notice(second, "", &admin())
        .await
        .unwrap_err();
    invalid(err, "已签收");
    let notices = s.task_notices(t.id).await.unwrap();
    assert_eq!(notices[0].ack_note.as_deref(), Some("本周内报送"));
    assert!(notices[0].acknowledged_at.is_some());
    assert!(
        !notices[0].overdue_on(&date(2026, 12, 11)),
        "acknowledged in time"
    );
    // The escalation superseded the first notice: acknowledged with it.
    assert_eq!(notices[1].id, first);
    assert!(notices[1].acknowledged_at.is_some());
    assert_eq!(notices[1].ack_note.as_deref(), Some("随督办单 #2 一并签收"));
    assert!(s.open_notices_of_unit(unit).await.unwrap().is_empty());
    let log = s.audit_entries(&AuditFilter::default()).await.unwrap();
    assert!(log.iter().any(|e| e.action == "notice.escalate"));
    assert!(log.iter().any(|e| e.action == "notice.acknowledge"));
}

async fn calendar_years_can_be_added(db: Db) {
    let s = &db.store;
    let cal = s.calendar().await.unwrap();
    assert!(!cal.is_covered(2027));
    let err = s
        .set_calendar_year(
            2026,
            "国办发明电",
            "date,kind,name\n2026-10-01,off,国庆节\n",
            &admin(),
        )
        .await
        .unwrap_err();
    invalid(err, "已随系统提供");
    let err = s
        .set_calendar_year(
            2027,
            "国办发明电",
            "date,kind,name\n2027-13-01,off,国庆节\n",
            &admin(),
        )
        .await
        .unwrap_err();
    invalid(err, "第 2 行");
    let csv = "date,kind,name\n2027-02-06,off,春节\n2027-02-07,off,春节\n2027-02-08,off,春节\n2027-02-20,workday,春节\n";
    assert_eq!(
        s.set_calendar_year(2027, "国办发明电〔2026〕1号", csv, &admin())
            .await
            .unwrap(),
        4
    );
    let cal = s.calendar().await.unwrap();
    assert!(cal.is_covered(2027));
    assert!(cal.is_workday(date(2027, 2, 20)).unwrap());
    assert!(!cal.is_workday(date(2027, 2, 8)).unwrap());
    // Replacing an added year keeps one row.
    s.set_calendar_year(2027, "更正", csv, &admin())
        .await
        .unwrap();
    let years = s.added_calendar_years().await.unwrap();
    assert_eq!(years.len(), 1);
    assert_eq!(years[0].source, "更正");
}

async fn feed_tokens_are_replaced(db: Db) {
    let s = &db.store;
    let user = user(s, "feed", fazhi_store::UserRole::Admin, None).await.id;
    let a = "a".repeat(64);
    let b = "b".repeat(64);
    s.set_feed_token(user, &a, &admin()).await.unwrap();
    assert_eq!(s.feed_user(&a).await.unwrap(), Some(user));
    s.set_feed_token(user, &b, &admin()).await.unwrap();
    assert_eq!(s.feed_user(&a).await.unwrap(), None);
    assert_eq!(s.feed_user(&b).await.unwrap(), Some(user));
    assert!(s.feed_created(user).await.unwrap().is_some());
    invalid(
        s.set_feed_token(user, "xyz", &admin()).await.unwrap_err(),
        "64位",
    );
}

async fn inbox_due_soon_counts_working_days(db: Db) {
    let s = &db.store;
    import_county(s).await;
    open(s).await;
    let unit = unit_id(s, "县司法局").await;
    let liaison = user(s, "sifa", fazhi_store::UserRole::Liaison, Some(unit)).await;
    let t = task(s, "25", "县司法局").await;
    // Due 2025-10-10 (Fri). On 2025-09-30 ten calendar days remain but only two working
    // days (10-09, 10-10): due soon. On 2025-09-26 five working days remain: not yet.
    s.set_due(&[t.id], Some(date(2025, 10, 10)), &admin())
        .await
        .unwrap();
    let soon = |inbox: fazhi_store::Inbox| inbox.due_soon.iter().any(|x| x.id == t.id);
    let cal = s.calendar().await.unwrap();
    assert!(soon(
        s.inbox_on(&liaison, date(2025, 9, 30), &cal, 3)
            .await
            .unwrap()
    ));
    assert!(!soon(
        s.inbox_on(&liaison, date(2025, 9, 26), &cal, 3)
            .await
            .unwrap()
    ));
    assert!(soon(
        s.inbox_on(&liaison, date(2025, 9, 26), &cal, 5)
            .await
            .unwrap()
    ));
}
