//! The facts of a round for the statistics: one query, the same tasks and lights as the
//! task list, as of today and of an earlier date, for the round or one unit.

use chrono::{Days, NaiveDate};
use fazhi_domain::measure::{Compliance, Measurement};
use fazhi_domain::stats::LightRules;
use fazhi_domain::supervision::{Light, NoticeLevel};
use fazhi_domain::task::TaskStatus;
use fazhi_store::test_support::PastGuards;
use fazhi_store::{
    ActorRole, NewEvidence, NewReport, NewRound, RoundId, Store, TaskAction, TaskFilter,
    TaskSummary, Verdict,
};

use crate::common::*;

store_tests!(facts_follow_the_work_and_the_date);

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn open(s: &Store) -> RoundId {
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

async fn task(s: &Store, round: RoundId, code: &str, unit: &str) -> TaskSummary {
    let unit = unit_id(s, unit).await;
    s.tasks(&TaskFilter {
        round: Some(round),
        unit: Some(unit),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_iter()
    .find(|t| t.code == code)
    .unwrap()
}

async fn step(s: &Store, t: &TaskSummary, action: TaskAction, role: ActorRole) {
    s.transition_ready(t.id, &action, role, &admin(), today())
        .await
        .unwrap();
}

async fn facts_follow_the_work_and_the_date(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await;
    let calendar = s.calendar().await.unwrap();
    let rules = LightRules {
        calendar: &calendar,
        warn_workdays: 3,
    };

    // Item 25 of 县司法局: done late, with a report, a value, reviewed evidence.
    let done = task(s, round, "25", "县司法局").await;
    s.set_due(&[done.id], Some(date(2026, 1, 9)), &admin())
        .await
        .unwrap();
    step(s, &done, TaskAction::Sign, ActorRole::ResponsibleUnit).await;
    s.add_report(
        done.id,
        NewReport {
            progress: "已完成备案审查".into(),
            problems: "审查力量不足".into(),
            next_steps: "充实审查人员".into(),
            percent: 100,
        },
        &admin(),
    )
    .await
    .unwrap();
    let measures = s.task_measures(done.id).await.unwrap();
    let rule = measures.rules.rules[0].clone();
    s.record_measurement(
        done.id,
        &rule.key,
        Measurement {
            numerator: Some(9.0),
            denominator: Some(10.0),
            ..Default::default()
        },
        "",
        &admin(),
    )
    .await
    .unwrap();
    let ev = s
        .add_link_evidence(
            done.id,
            NewEvidence {
                title: "备案审查工作报告".into(),
                doc_number: None,
                doc_date: None,
            },
            "https://www.lanling.gov.cn/art/1.html",
            None,
            &admin(),
        )
        .await
        .unwrap();
    s.review_evidence(ev, Verdict::Ok, None, &admin())
        .await
        .unwrap();
    step(s, &done, TaskAction::Submit, ActorRole::ResponsibleUnit).await;
    step(s, &done, TaskAction::Approve, ActorRole::Office).await;

    // Another task of the same unit with an open 督办单.
    let chased = task(s, round, "1", "县行政审批服务局").await;
    s.issue_notice(chased.id, NoticeLevel::Remind, "请尽快签收", None, &admin())
        .await
        .unwrap();

    let facts = s.all_round_facts(round, today(), &calendar).await.unwrap();
    let list = s
        .tasks(&TaskFilter {
            round: Some(round),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(facts.round.id, round);
    assert_eq!(
        facts.tasks.iter().map(|t| t.task_id).collect::<Vec<_>>(),
        list.iter().map(|t| t.id.0).collect::<Vec<_>>(),
        "same tasks in the task list's order"
    );
    // The light of every task is the task list's.
    for (f, t) in facts.tasks.iter().zip(&list) {
        assert_eq!(
            f.as_of(today(), rules).light,
            t.light(&calendar, 3, today())
        );
        assert_eq!(f.status, t.status);
        assert!(!f.headings.is_empty(), "第{}项缺少上级指标", f.code);
    }

    let f = facts.tasks.iter().find(|t| t.task_id == done.id.0).unwrap();
    assert_eq!(f.headings[0].code, "二");
    assert_eq!(f.headings[1].title, "加强行政规范性文件制定和监督");
    assert_eq!(f.status, TaskStatus::Approved);
    assert!(f.was_late);
    assert_eq!(f.steps.len(), 3);
    assert_eq!((f.evidence.ok, f.evidence.needs_more), (1, 0));
    let report = f.latest_report.as_ref().unwrap();
    assert_eq!(report.problems, "审查力量不足");
    let judged = s.task_measures(done.id).await.unwrap().judge(&calendar);
    assert_eq!(
        f.rules.iter().map(|r| r.verdict).collect::<Vec<_>>(),
        judged.iter().map(|(_, j)| j.verdict).collect::<Vec<_>>()
    );
    assert_eq!(f.rules[0].actual, judged[0].1.actual);
    let c = facts
        .tasks
        .iter()
        .find(|t| t.task_id == chased.id.0)
        .unwrap();
    assert_eq!(c.open_notices, 1);

    let stats = facts.stats(rules);
    assert_eq!(stats.tasks, list.len());
    assert_eq!(stats.approved, 1);
    assert_eq!(stats.open_notices, 1);
    let sfj = stats.units.iter().find(|u| u.name == "县司法局").unwrap();
    assert_eq!((sfj.approved, sfj.on_time, sfj.late), (1, 0, 1));
    assert_eq!(sfj.evidence_ok, 1);
    assert_eq!(
        stats.units[0].name, "县司法局",
        "the only unit with approvals leads"
    );
    assert_eq!(stats.weeks.last().unwrap().submitted, 1);
    assert_eq!(stats.weeks.last().unwrap().approved, 1);

    // Yesterday nothing had happened yet.
    let yesterday = today() - Days::new(1);
    let then = s
        .all_round_facts(round, yesterday, &calendar)
        .await
        .unwrap();
    let f = then.tasks.iter().find(|t| t.task_id == done.id.0).unwrap();
    let view = f.as_of(yesterday, rules);
    assert_eq!(view.status, TaskStatus::Pending);
    assert_eq!(view.light.light, Light::Red, "overdue since 9 January");
    assert!(f.latest_report.is_none());
    assert_eq!(f.evidence.total(), 0);
    assert!(f.rules.iter().all(|r| r.verdict != Compliance::Met));
    assert_eq!(f.rules[0].verdict, Compliance::NotReported);
    assert_eq!(then.stats(rules).open_notices, 0);
    assert_eq!(then.stats(rules).approved, 0);

    // One unit: only its tasks.
    let unit = unit_id(s, "县司法局").await;
    let filter = TaskFilter {
        round: Some(round),
        unit: Some(unit),
        ..Default::default()
    };
    let own = s.round_facts(&filter, today(), &calendar).await.unwrap();
    assert_eq!(own.tasks.len(), s.tasks(&filter).await.unwrap().len());
    assert!(own.tasks.iter().all(|t| t.unit_name == "县司法局"));
    assert_eq!(own.stats(rules).units.len(), 1);
    // A round is required.
    assert!(
        s.round_facts(&TaskFilter::default(), today(), &calendar)
            .await
            .is_err()
    );
}
