//! The guards of 报送 and 通过, and 撤回: an empty 报送 is refused with what is missing, a
//! stated reason stands in for evidence, open rules are confirmed on 报送 and explained
//! on 通过 (both kept), and a submission can be withdrawn once, before review.

use chrono::NaiveDate;
use fazhi_domain::task::Assurance;
use fazhi_store::{
    ActorRole, AuditFilter, NewReport, NewRound, Store, StoreError, TaskAction, TaskFilter,
    TaskStatus, TaskSummary, UserRole,
};

use crate::common::*;

store_tests!(
    guards_refuse_an_empty_submission_and_keep_what_was_stated,
    withdraw_works_once_and_only_before_review,
    a_closed_round_is_kept_read_only_and_a_new_one_opens_from_it,
);

async fn open_and_sign(s: &Store) -> (TaskSummary, fazhi_store::User) {
    import_county(s).await;
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    s.open_round(
        NewRound {
            name: "2026年度".into(),
            starts_on: day(1, 1),
            ends_on: day(12, 31),
            framework_id: None,
            due_on: None,
            copy_from: None,
        },
        &admin(),
    )
    .await
    .unwrap();
    let sifa = unit_id(s, "县司法局").await;
    let unit = user(s, "sifa", UserRole::Liaison, Some(sifa)).await;
    // Item 25 holds rules (审核 within 15 working days …) with nothing reported yet.
    let t = s
        .tasks(&TaskFilter {
            unit: Some(sifa),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.code == "25")
        .unwrap();
    s.transition(
        t.id,
        &TaskAction::Sign,
        ActorRole::ResponsibleUnit,
        &unit.actor(),
        today(),
    )
    .await
    .unwrap();
    (t, unit)
}

fn refused(result: Result<TaskStatus, StoreError>, fragment: &str) {
    match result {
        Err(StoreError::Invalid(m)) => assert!(m.contains(fragment), "“{m}”应含“{fragment}”"),
        other => panic!("应被拒绝（{fragment}），实为 {other:?}"),
    }
}

fn said(note: &str, confirmed: bool) -> Assurance {
    Assurance {
        note: note.into(),
        confirmed,
    }
}

async fn report(s: &Store, t: &TaskSummary, who: &fazhi_store::User) {
    let r = NewReport {
        progress: "已完成合法性审核台账".into(),
        problems: String::new(),
        next_steps: "年底前汇总".into(),
        percent: 80,
    };
    s.add_report(t.id, r, &who.actor()).await.unwrap();
}

async fn guards_refuse_an_empty_submission_and_keep_what_was_stated(db: Db) {
    let s = &db.store;
    let (t, unit) = open_and_sign(s).await;
    let office = user(s, "office", UserRole::Admin, None).await;
    let submit = |assurance: Assurance| {
        let actor = unit.actor();
        async move {
            s.transition_with(
                t.id,
                &TaskAction::Submit,
                &assurance,
                ActorRole::ResponsibleUnit,
                &actor,
                today(),
            )
            .await
        }
    };
    let audit_before = s.audit_count(&AuditFilter::default()).await.unwrap();
    refused(submit(Assurance::default()).await, "报送前请先填写工作进展");
    report(s, &t, &unit).await;
    refused(submit(Assurance::default()).await, "报送前请上传佐证材料");
    refused(submit(said("  ", true)).await, "无需材料的说明");
    let facts = s.guard_facts(t.id).await.unwrap();
    assert_eq!(facts.progress_reports, 1);
    assert_eq!(facts.evidence, 0);
    assert!(
        !facts.open_rules.is_empty(),
        "item 25 has rules not reported"
    );
    refused(
        submit(said("台账由市局统一汇总", false)).await,
        "已知晓，仍要报送",
    );
    let detail = s.task(t.id).await.unwrap();
    assert_eq!(
        detail.summary.status,
        TaskStatus::InProgress,
        "refusals change nothing"
    );
    assert_eq!(detail.events.len(), 1, "only the 签收");
    assert_eq!(
        s.audit_count(&AuditFilter::default()).await.unwrap(),
        audit_before + 1,
        "only the report was logged"
    );

    assert_eq!(
        submit(said(" 台账由市局统一汇总 ", true)).await.unwrap(),
        TaskStatus::Submitted
    );
    let approve = |note: &str| {
        let assurance = said(note, false);
        let actor = office.actor();
        async move {
            s.transition_with(
                t.id,
                &TaskAction::Approve,
                &assurance,
                ActorRole::Office,
                &actor,
                today(),
            )
            .await
        }
    };
    refused(approve("").await, "请填写通过理由");
    refused(
        s.transition(
            t.id,
            &TaskAction::Approve,
            ActorRole::Office,
            &office.actor(),
            today(),
        )
        .await,
        "尚未达标或未填报",
    );
    assert_eq!(
        approve("数据以年底统计为准，同意先行通过").await.unwrap(),
        TaskStatus::Approved
    );
    let detail = s.task(t.id).await.unwrap();
    let notes: Vec<(&str, Option<&str>)> = detail
        .events
        .iter()
        .map(|e| (e.action.as_str(), e.note.as_deref()))
        .collect();
    assert_eq!(
        notes,
        [
            ("sign", None),
            ("submit", Some("台账由市局统一汇总")),
            ("approve", Some("数据以年底统计为准，同意先行通过")),
        ]
    );
    let log = s
        .audit_entries(&AuditFilter {
            entity: Some("task".into()),
            entity_id: Some(t.id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let approved: serde_json::Value =
        serde_json::from_str(log[0].after_json.as_deref().unwrap()).unwrap();
    assert_eq!(log[0].action, "task.approve");
    assert_eq!(approved["note"], "数据以年底统计为准，同意先行通过");
    let open = approved["open_rules"].as_array().unwrap();
    assert!(
        !open.is_empty() && open.iter().all(|r| r.as_str().unwrap().contains("（未")),
        "the rules approved over are recorded: {open:?}"
    );
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn withdraw_works_once_and_only_before_review(db: Db) {
    let s = &db.store;
    let (t, unit) = open_and_sign(s).await;
    let office = user(s, "office", UserRole::Admin, None).await;
    report(s, &t, &unit).await;
    let step = |action: TaskAction, role: ActorRole, who: &fazhi_store::User| {
        let actor = who.actor();
        async move {
            s.transition_with(
                t.id,
                &action,
                &said("无需材料：由市局汇总", true),
                role,
                &actor,
                today(),
            )
            .await
        }
    };
    refused(
        step(TaskAction::Withdraw, ActorRole::ResponsibleUnit, &unit).await,
        "只有已报送、尚未审核的任务才能撤回",
    );
    step(TaskAction::Submit, ActorRole::ResponsibleUnit, &unit)
        .await
        .unwrap();
    refused(
        step(TaskAction::Withdraw, ActorRole::Office, &office).await,
        "只有本单位才能撤回报送",
    );
    assert_eq!(
        step(TaskAction::Withdraw, ActorRole::ResponsibleUnit, &unit)
            .await
            .unwrap(),
        TaskStatus::InProgress
    );
    refused(
        step(TaskAction::Withdraw, ActorRole::ResponsibleUnit, &unit).await,
        "只有已报送、尚未审核的任务才能撤回",
    );
    // Withdrawn, the unit may change its material again.
    report(s, &t, &unit).await;
    step(TaskAction::Submit, ActorRole::ResponsibleUnit, &unit)
        .await
        .unwrap();
    step(TaskAction::Approve, ActorRole::Office, &office)
        .await
        .unwrap();
    refused(
        step(TaskAction::Withdraw, ActorRole::ResponsibleUnit, &unit).await,
        "只有已报送、尚未审核的任务才能撤回",
    );
    let actions: Vec<&str> = s
        .task(t.id)
        .await
        .unwrap()
        .events
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["sign", "submit", "withdraw", "submit", "approve"]);
    let log = s
        .audit_entries(&AuditFilter {
            action: Some("task.withdraw".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
}

async fn a_closed_round_is_kept_read_only_and_a_new_one_opens_from_it(db: Db) {
    let s = &db.store;
    let (t, unit) = open_and_sign(s).await;
    report(s, &t, &unit).await;
    let round = s.active_round().await.unwrap().unwrap();
    let closed = s.close_round(round.id, &admin()).await.unwrap();
    assert!(closed.is_closed() && !closed.is_active);
    assert_eq!(s.active_round().await.unwrap(), None);
    // Its work is kept and read-only.
    let detail = s.task(t.id).await.unwrap();
    assert_eq!(detail.reports.len(), 1);
    refused(
        s.transition_with(
            t.id,
            &TaskAction::Submit,
            &said("x", true),
            ActorRole::ResponsibleUnit,
            &unit.actor(),
            today(),
        )
        .await,
        "已结束，其任务只能查看和导出",
    );
    match s.activate_round(round.id, &admin()).await {
        Err(StoreError::Invalid(m)) => assert!(m.contains("已结束"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(
        s.close_round(round.id, &admin()).await.is_err(),
        "closed once"
    );
    // A new round opened from it.
    let day = |m, d| NaiveDate::from_ymd_opt(2027, m, d).unwrap();
    let next = s
        .open_round(
            NewRound {
                name: "2027年度".into(),
                starts_on: day(1, 1),
                ends_on: day(12, 31),
                framework_id: None,
                due_on: None,
                copy_from: Some(round.id),
            },
            &admin(),
        )
        .await
        .unwrap();
    assert!(next.tasks_created > 0);
    let rounds = s.rounds().await.unwrap();
    assert_eq!(rounds.len(), 2);
    assert!(rounds.iter().any(|r| r.id == round.id && r.is_closed()));
    let log = s
        .audit_entries(&AuditFilter {
            action: Some("round.close".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}
