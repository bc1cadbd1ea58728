//! The work itself: rounds, tasks and their lifecycle, reports, evidence, reviews, scores,
//! inbox.

use chrono::{Days, NaiveDate};
use fazhi_domain::UnitKind;
use fazhi_domain::framework::Role;
use fazhi_store::evidence::check_url;
use fazhi_store::test_support::PastGuards;
use fazhi_store::{
    Actor, ActorRole, AuditFilter, EvidenceContent, EvidenceKind, NewEvidence, NewReport, NewRound,
    OpenRoundSummary, RoundId, Score, Store, StoreError, TaskAction, TaskFilter, TaskStatus,
    TaskSummary, User, UserRole, Verdict,
};

use crate::common::*;

store_tests!(
    open_round_makes_one_task_per_leaf_and_unit,
    groups_expand_to_their_members,
    the_round_in_progress_follows_the_division,
    copy_from_carries_due_dates,
    full_lifecycle_is_recorded,
    refused_transitions_change_nothing,
    lead_unit_reviews_co_units,
    reports_are_append_only,
    blobs_are_deduplicated,
    forgetting_a_blob_and_attaching_it_exclude_each_other,
    evidence_versions_are_kept,
    link_evidence_is_validated,
    link_evidence_gets_new_versions,
    evidence_review_verdicts,
    scores_are_validated,
    inbox_lists_what_to_do,
    late_submission_is_marked,
    lateness_uses_the_beijing_date,
    no_report_lands_after_submit,
);

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn new_round(name: &str, due_on: Option<NaiveDate>, copy_from: Option<RoundId>) -> NewRound {
    NewRound {
        name: name.into(),
        starts_on: date(2026, 1, 1),
        ends_on: date(2026, 12, 31),
        framework_id: None,
        due_on,
        copy_from,
    }
}

async fn open(s: &Store) -> OpenRoundSummary {
    s.open_round(new_round("2026年度", None, None), &admin())
        .await
        .unwrap()
}

async fn liaison(s: &Store, username: &str, unit: &str) -> User {
    let unit = unit_id(s, unit).await;
    user(s, username, UserRole::Liaison, Some(unit)).await
}

/// The task of `unit` on the indicator numbered `code` in `round`.
async fn task_of(s: &Store, round: RoundId, code: &str, unit: &str) -> TaskSummary {
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
    .unwrap_or_else(|| panic!("没有第{code}项的任务"))
}

async fn status(s: &Store, task: &TaskSummary) -> TaskStatus {
    s.task(task.id).await.unwrap().summary.status
}

fn invalid_containing(err: StoreError, fragment: &str) {
    match err {
        StoreError::Invalid(message) => {
            assert!(message.contains(fragment), "“{message}”应含“{fragment}”")
        }
        other => panic!("应为 Invalid（{fragment}），实为 {other:?}"),
    }
}

/// (leaf code, unit name, lead?) of every (leaf, unit) of the county library, with a
/// group unit standing for `members` (none: no task).
fn expected_pairs(members: &[&str]) -> Vec<(String, String, bool)> {
    let lib = library();
    let is_group = |name: &str| {
        lib.unit_details
            .iter()
            .find(|u| u.name == name)
            .map(|u| u.kind)
            .unwrap_or_else(|| UnitKind::infer(name))
            == UnitKind::Group
    };
    let mut out = Vec::new();
    for (_, leaf) in lib.framework.walk_indicators() {
        for unit in &leaf.units {
            let lead = leaf.lead.contains(unit);
            if is_group(unit) {
                for m in members {
                    out.push((leaf.code.clone(), m.to_string(), lead));
                }
            } else {
                out.push((leaf.code.clone(), unit.clone(), lead));
            }
        }
    }
    out
}

async fn pairs_of(s: &Store, round: RoundId) -> Vec<(String, String, bool)> {
    s.tasks(&TaskFilter {
        round: Some(round),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_iter()
    .map(|t| (t.code, t.unit_name, t.role == Role::Lead))
    .collect()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

async fn open_round_makes_one_task_per_leaf_and_unit(db: Db) {
    let s = &db.store;
    // No framework yet: nothing to open.
    let err = s
        .open_round(new_round("2026年度", None, None), &admin())
        .await
        .unwrap_err();
    invalid_containing(err, "尚未导入指标体系");
    import_county(s).await;
    let err = s
        .open_round(
            NewRound {
                starts_on: date(2026, 12, 31),
                ends_on: date(2026, 1, 1),
                ..new_round("2026年度", None, None)
            },
            &admin(),
        )
        .await
        .unwrap_err();
    invalid_containing(err, "开始日期不能晚于结束日期");
    let err = s
        .open_round(new_round("  ", None, None), &admin())
        .await
        .unwrap_err();
    invalid_containing(err, "轮次名称不能为空");
    assert!(s.active_round().await.unwrap().is_none());

    let due = date(2026, 6, 30);
    let summary = s
        .open_round(new_round(" 2026年度 ", Some(due), None), &admin())
        .await
        .unwrap();
    let expected = expected_pairs(&[]);
    // 94 leaves; 123 (leaf, unit) pairs of which 10 name 各执法部门, which has no members.
    assert_eq!(expected.len(), 113);
    assert_eq!(summary.tasks_created, expected.len());
    assert_eq!(count_rows(s, "task").await, 113);
    assert_eq!(summary.empty_groups.len(), 1);
    assert_eq!(summary.empty_groups[0].name, "各执法部门");
    assert_eq!(
        summary.empty_groups[0].indicator_codes,
        (49..=58).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(summary.indicators_without_units, ["35", "87"]);
    assert!(summary.disabled_units.is_empty());
    assert_eq!(summary.due_dates_copied, 0);

    let round = s.round(summary.round_id).await.unwrap();
    assert_eq!(round.name, "2026年度");
    assert!(round.is_active);
    assert_eq!(round.previous_round_id, None);
    assert_eq!(
        round.framework_id,
        s.current_framework().await.unwrap().unwrap().info.id
    );
    assert_eq!(s.active_round().await.unwrap(), Some(round.clone()));
    assert_eq!(s.rounds().await.unwrap(), vec![round]);

    assert_eq!(
        sorted(pairs_of(s, summary.round_id).await),
        sorted(expected)
    );
    let all = s
        .tasks(&TaskFilter {
            round: Some(summary.round_id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(all.iter().all(|t| t.status == TaskStatus::Pending
        && t.due_on == Some(due)
        && !t.was_late
        && t.via_group.is_none()
        && t.evidence_count == 0
        && t.last_event_at.is_none()));
    // Document order, 牵头 before 配合.
    assert_eq!(
        all.iter()
            .take(5)
            .map(|t| (t.code.as_str(), t.unit_name.as_str()))
            .collect::<Vec<_>>(),
        [
            ("1", "县行政审批服务局"),
            ("2", "县行政审批服务局"),
            ("3", "县行政审批服务局"),
            ("4", "县司法局"),
            ("5", "县行政审批服务局")
        ]
    );
    assert_eq!(
        (all[5].unit_name.as_str(), all[5].role),
        ("县市场监督管理局", Role::Co)
    );

    // Filters.
    let sifa = unit_id(s, "县司法局").await;
    let mine = s
        .tasks(&TaskFilter {
            unit: Some(sifa),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 35);
    let node = mine[0].node_id;
    let by_node = s
        .tasks(&TaskFilter {
            node: Some(node),
            status: Some(TaskStatus::Pending),
            due_before: Some(date(2026, 7, 1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!by_node.is_empty() && by_node.iter().all(|t| t.node_id == node));
    assert!(
        s.tasks(&TaskFilter {
            due_before: Some(due),
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty()
    );

    let detail = s.task(mine[0].id).await.unwrap();
    assert_eq!(
        detail
            .ancestors
            .iter()
            .map(|h| h.code.as_str())
            .collect::<Vec<_>>(),
        ["一", "1"]
    );
    assert_eq!(detail.summary.code, "4");
    let log = s
        .audit_entries(&AuditFilter {
            action: Some("round.open".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn groups_expand_to_their_members(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let first = open(s).await;
    let group = unit_id(s, "各执法部门").await;
    let police = unit_id(s, "县公安局").await;
    let market = unit_id(s, "县市场监督管理局").await;
    // The round in progress follows: each member gets the group's ten indicators.
    let sync = s
        .set_group_members(group, &[police, market], &admin())
        .await
        .unwrap();
    assert_eq!(sync.round_id, Some(first.round_id));
    assert_eq!(sync.created.len(), 20, "{sync:?}");
    assert!(sync.no_longer_held.is_empty());
    // 县公安局 also holds indicator 49 itself (配合): its own role wins.
    let fw = s.current_framework().await.unwrap().unwrap();
    let leaf49 = fw
        .leaves()
        .into_iter()
        .find(|(_, n)| n.code == "49")
        .unwrap()
        .1
        .id;
    let change = s.assign(leaf49, police, Role::Co, &admin()).await.unwrap();
    assert_eq!(change.tasks.role_changed.len(), 1, "{change:?}");
    assert_eq!(change.tasks.role_changed[0].unit_name, "县公安局");
    // A disabled unit gets no task.
    let audit_office = unit_id(s, "县审计局").await;
    s.set_unit_disabled(audit_office, true, &admin())
        .await
        .unwrap();

    let second = s
        .open_round(new_round("2026年度（二）", None, None), &admin())
        .await
        .unwrap();
    assert!(second.empty_groups.is_empty());
    assert_eq!(second.disabled_units.len(), 1);
    assert_eq!(second.disabled_units[0].name, "县审计局");
    let audit_codes = second.disabled_units[0].indicator_codes.clone();
    assert!(!audit_codes.is_empty());

    let mut expected: Vec<(String, String, bool)> =
        expected_pairs(&["县市场监督管理局", "县公安局"])
            .into_iter()
            .filter(|(_, unit, _)| unit != "县审计局")
            .map(|(code, unit, lead)| {
                let lead = lead && !(code == "49" && unit == "县公安局");
                (code, unit, lead)
            })
            .collect();
    expected.sort();
    assert_eq!(sorted(pairs_of(s, second.round_id).await), expected);
    assert_eq!(second.tasks_created, expected.len());
    assert_eq!(
        second.tasks_created,
        first.tasks_created + 20 - audit_codes.len()
    );

    let t = task_of(s, second.round_id, "50", "县公安局").await;
    assert_eq!(t.via_group, Some((group, "各执法部门".to_string())));
    assert_eq!(t.role, Role::Lead);
    let own = task_of(s, second.round_id, "49", "县公安局").await;
    assert_eq!((own.via_group, own.role), (None, Role::Co));
    let m = task_of(s, second.round_id, "49", "县市场监督管理局").await;
    assert_eq!(m.via_group, Some((group, "各执法部门".to_string())));

    // The first round kept the tasks it had plus those it followed the division with,
    // less the disabled unit's, which nobody had touched, and is no longer the active one.
    assert_eq!(
        s.tasks(&TaskFilter {
            round: Some(first.round_id),
            ..Default::default()
        })
        .await
        .unwrap()
        .len(),
        first.tasks_created + 20 - audit_codes.len()
    );
    assert!(!s.round(first.round_id).await.unwrap().is_active);
    assert_eq!(
        s.active_round().await.unwrap().map(|r| r.id),
        Some(second.round_id)
    );
    let rounds: Vec<RoundId> = s.rounds().await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(rounds, [second.round_id, first.round_id]);
    // Switching back is possible and audited.
    s.activate_round(first.round_id, &admin()).await.unwrap();
    assert_eq!(
        s.active_round().await.unwrap().map(|r| r.id),
        Some(first.round_id)
    );
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn the_round_in_progress_follows_the_division(db: Db) {
    let s = &db.store;
    import_county(s).await;
    // Before opening: the gaps are known.
    let gaps = s.division_gaps().await.unwrap();
    assert_eq!(gaps.tasks, 113);
    assert_eq!(gaps.indicators_without_units, ["35", "87"]);
    assert_eq!(gaps.empty_groups[0].name, "各执法部门");
    let due = date(2026, 6, 30);
    let round = s
        .open_round(new_round("2026年度", Some(due), None), &admin())
        .await
        .unwrap()
        .round_id;
    let fw = s.current_framework().await.unwrap().unwrap();
    let leaf = |code: &str| {
        fw.leaves()
            .into_iter()
            .find(|(_, n)| n.code == code)
            .unwrap()
            .1
            .id
    };
    let sifa = unit_id(s, "县司法局").await;
    let caizheng = unit_id(s, "县财政局").await;

    // A unit given an indicator that had none gets its task, due as the round's are.
    let change = s
        .assign(leaf("35"), sifa, Role::Lead, &admin())
        .await
        .unwrap();
    assert_eq!(change.tasks.created.len(), 1);
    let t = task_of(s, round, "35", "县司法局").await;
    assert_eq!(
        (t.status, t.role, t.due_on),
        (TaskStatus::Pending, Role::Lead, None)
    );
    // Item 4 is 县司法局's with the round's due date: a co-unit added gets the same date.
    s.assign(leaf("4"), caizheng, Role::Co, &admin())
        .await
        .unwrap();
    let co = task_of(s, round, "4", "县财政局").await;
    assert_eq!((co.role, co.due_on), (Role::Co, Some(due)));
    // Making it the lead swaps the roles of both tasks.
    let change = s.set_lead(leaf("4"), caizheng, &admin()).await.unwrap();
    assert_eq!(change.tasks.role_changed.len(), 2, "{change:?}");
    assert_eq!(task_of(s, round, "4", "县财政局").await.role, Role::Lead);
    assert_eq!(task_of(s, round, "4", "县司法局").await.role, Role::Co);

    // A unit removed from an indicator: its started task stays, with its work, listed.
    let started = task_of(s, round, "4", "县司法局").await;
    s.transition_ready(
        started.id,
        &TaskAction::Sign,
        ActorRole::ResponsibleUnit,
        &admin(),
        today(),
    )
    .await
    .unwrap();
    let change = s.unassign(leaf("4"), sifa, &admin()).await.unwrap();
    assert!(change.tasks.created.is_empty());
    assert_eq!(change.tasks.no_longer_held.len(), 1);
    assert_eq!(change.tasks.no_longer_held[0].task_id, started.id);
    assert!(change.tasks.summary().contains("任务和已做的工作都保留"));
    assert_eq!(
        s.task(started.id).await.unwrap().summary.status,
        TaskStatus::InProgress
    );
    // A unit removed before it did anything: its task goes, with nothing lost.
    let change = s.unassign(leaf("35"), sifa, &admin()).await.unwrap();
    assert_eq!(change.tasks.removed_untouched.len(), 1, "{change:?}");
    assert!(
        change
            .tasks
            .no_longer_held
            .iter()
            .all(|t| t.task_id == started.id),
        "only the started one of item 4 is still listed"
    );
    assert!(change.tasks.summary().contains("1项尚未签收的任务随之撤销"));
    assert!(
        pairs_of(s, round)
            .await
            .iter()
            .all(|(code, unit, _)| !(code == "35" && unit == "县司法局"))
    );
    // Giving it back creates nothing new: the task is still there.
    let change = s.assign(leaf("4"), sifa, Role::Co, &admin()).await.unwrap();
    assert!(change.tasks.created.is_empty(), "{change:?}");
    assert_eq!(
        pairs_of(s, round)
            .await
            .iter()
            .filter(|(code, unit, _)| code == "4" && unit == "县司法局")
            .count(),
        1
    );

    // Each follow-up is audited with what it did; the chain holds.
    let log = s
        .audit_entries(&AuditFilter {
            action: Some("round.follow_division".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn copy_from_carries_due_dates(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let first = open(s).await;
    let a = task_of(s, first.round_id, "4", "县司法局").await;
    let b = task_of(s, first.round_id, "15", "县市场监督管理局").await;
    let early = date(2026, 3, 31);
    assert_eq!(
        s.set_due(&[a.id, b.id, a.id], Some(early), &admin())
            .await
            .unwrap(),
        2
    );
    s.transition_ready(
        a.id,
        &TaskAction::Sign,
        ActorRole::Office,
        &admin(),
        today(),
    )
    .await
    .unwrap();

    let default_due = date(2026, 9, 30);
    let second = s
        .open_round(
            new_round("2027年度", Some(default_due), Some(first.round_id)),
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(second.due_dates_copied, 2);
    let round = s.round(second.round_id).await.unwrap();
    assert_eq!(round.previous_round_id, Some(first.round_id));
    let a2 = task_of(s, second.round_id, "4", "县司法局").await;
    let b2 = task_of(s, second.round_id, "15", "县市场监督管理局").await;
    let c2 = task_of(s, second.round_id, "15", "县司法局").await;
    assert_eq!(a2.due_on, Some(early));
    assert_eq!(b2.due_on, Some(early));
    assert_eq!(c2.due_on, Some(default_due));
    // Statuses start again.
    assert_eq!(a2.status, TaskStatus::Pending);
    // The earlier round stays readable, but only readable.
    assert_eq!(status(s, &a).await, TaskStatus::InProgress);
    let err = s
        .transition_ready(
            a.id,
            &TaskAction::Submit,
            ActorRole::ResponsibleUnit,
            &admin(),
            today(),
        )
        .await
        .unwrap_err();
    invalid_containing(err, "不是当前轮次");
    let err = s.set_due(&[b.id], None, &admin()).await.unwrap_err();
    invalid_containing(err, "不是当前轮次");

    // Matching is by code path, so a new framework version still matches.
    import_county(s).await;
    let third = s
        .open_round(
            new_round("2027年度（新版）", None, Some(first.round_id)),
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(third.due_dates_copied, 2);
    let a3 = task_of(s, third.round_id, "4", "县司法局").await;
    assert_ne!(a3.node_id, a.node_id);
    assert_eq!(a3.due_on, Some(early));
    assert_eq!(
        task_of(s, third.round_id, "15", "县司法局").await.due_on,
        None
    );

    let err = s
        .open_round(new_round("x", None, Some(RoundId(999_999))), &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    let err = s.set_due(&[], None, &admin()).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let err = s
        .set_due(&[a3.id, fazhi_store::TaskId(999_999)], None, &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert_eq!(
        task_of(s, third.round_id, "4", "县司法局").await.due_on,
        Some(early)
    );
}

async fn full_lifecycle_is_recorded(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await.round_id;
    let office = user(s, "office", UserRole::Admin, None).await;
    let unit = liaison(s, "sifa", "县司法局").await;
    let t = task_of(s, round, "4", "县司法局").await;
    assert_eq!(s.task_role(t.id, &office).await.unwrap(), ActorRole::Office);
    assert_eq!(
        s.task_role(t.id, &unit).await.unwrap(),
        ActorRole::ResponsibleUnit
    );
    assert_eq!(s.task_unit(t.id).await.unwrap(), unit.unit_id.unwrap());
    let audit_before = s.audit_count(&AuditFilter::default()).await.unwrap();

    let steps = [
        (
            TaskAction::Sign,
            ActorRole::ResponsibleUnit,
            &unit,
            TaskStatus::InProgress,
        ),
        (
            TaskAction::Submit,
            ActorRole::ResponsibleUnit,
            &unit,
            TaskStatus::Submitted,
        ),
        (
            TaskAction::Return {
                reason: "  缺少会议纪要  ".into(),
            },
            ActorRole::Office,
            &office,
            TaskStatus::Returned,
        ),
        (
            TaskAction::Submit,
            ActorRole::ResponsibleUnit,
            &unit,
            TaskStatus::Submitted,
        ),
        (
            TaskAction::Approve,
            ActorRole::Office,
            &office,
            TaskStatus::Approved,
        ),
        (
            TaskAction::Close,
            ActorRole::Office,
            &office,
            TaskStatus::Closed,
        ),
    ];
    for (action, role, who, want) in &steps {
        let got = s
            .transition_ready(t.id, action, *role, &who.actor(), today())
            .await
            .unwrap();
        assert_eq!(got, *want, "{action:?}");
    }

    let detail = s.task(t.id).await.unwrap();
    assert_eq!(detail.summary.status, TaskStatus::Closed);
    assert!(!detail.summary.was_late);
    let events: Vec<(&str, TaskStatus, TaskStatus, Option<&str>, &str)> = detail
        .events
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.from_status,
                e.to_status,
                e.note.as_deref(),
                e.actor_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            (
                "sign",
                TaskStatus::Pending,
                TaskStatus::InProgress,
                None,
                "sifa的姓名"
            ),
            (
                "submit",
                TaskStatus::InProgress,
                TaskStatus::Submitted,
                Some("（测试）说明"),
                "sifa的姓名"
            ),
            (
                "return",
                TaskStatus::Submitted,
                TaskStatus::Returned,
                Some("缺少会议纪要"),
                "office的姓名"
            ),
            (
                "submit",
                TaskStatus::Returned,
                TaskStatus::Submitted,
                Some("（测试）说明"),
                "sifa的姓名"
            ),
            (
                "approve",
                TaskStatus::Submitted,
                TaskStatus::Approved,
                None,
                "office的姓名"
            ),
            (
                "close",
                TaskStatus::Approved,
                TaskStatus::Closed,
                None,
                "office的姓名"
            ),
        ]
    );
    assert!(detail.events.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(detail.events[0].actor_user_id, Some(unit.id));
    assert_eq!(detail.summary.last_event_at, Some(detail.events[5].at));

    // Reopening is the office's.
    s.transition_ready(
        t.id,
        &TaskAction::Reopen,
        ActorRole::Office,
        &office.actor(),
        today(),
    )
    .await
    .unwrap();
    assert_eq!(status(s, &t).await, TaskStatus::InProgress);

    let log = s
        .audit_entries(&AuditFilter {
            entity: Some("task".into()),
            entity_id: Some(t.id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "task.sign",
            "task.submit",
            "task.return",
            "task.submit",
            "task.approve",
            "task.close",
            "task.reopen"
        ]
    );
    let ret: serde_json::Value =
        serde_json::from_str(log[4].after_json.as_deref().unwrap()).unwrap();
    assert_eq!(ret["note"], "缺少会议纪要");
    assert_eq!(ret["task"]["status"], "returned");
    assert_eq!(
        s.audit_count(&AuditFilter::default()).await.unwrap(),
        audit_before + 8,
        "seven steps and the progress report 报送 needs"
    );
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn refused_transitions_change_nothing(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await.round_id;
    let office = user(s, "office", UserRole::Admin, None).await;
    let observer = user(s, "leader", UserRole::Observer, None).await;
    let sifa = liaison(s, "sifa", "县司法局").await;
    let other = liaison(s, "caizheng", "县财政局").await;
    let t = task_of(s, round, "4", "县司法局").await;

    let snapshot = |s: &Store| {
        let s = s.clone();
        let id = t.id;
        async move {
            (
                s.task(id).await.unwrap(),
                count_rows(&s, "task_event").await,
                s.audit_count(&AuditFilter::default()).await.unwrap(),
            )
        }
    };
    let before = snapshot(s).await;
    let refusals: Vec<(TaskAction, ActorRole, Actor, &str)> = vec![
        // Wrong state.
        (
            TaskAction::Return {
                reason: "材料不全".into(),
            },
            ActorRole::Office,
            office.actor(),
            "只有已报送的任务才能退回",
        ),
        (
            TaskAction::Submit,
            ActorRole::ResponsibleUnit,
            sifa.actor(),
            "只有办理中或被退回的任务才能报送",
        ),
        (
            TaskAction::Close,
            ActorRole::Office,
            office.actor(),
            "只有已通过的任务才能销号",
        ),
        // Wrong role.
        (
            TaskAction::Sign,
            ActorRole::Observer,
            observer.actor(),
            "查看人员只能查看",
        ),
        (
            TaskAction::Approve,
            ActorRole::ResponsibleUnit,
            sifa.actor(),
            "不能审核本单位的任务",
        ),
        (
            TaskAction::Sign,
            ActorRole::LeadUnit,
            Actor::system(),
            "只有本单位才能签收",
        ),
        // A role the account does not have on this task.
        (
            TaskAction::Sign,
            ActorRole::ResponsibleUnit,
            other.actor(),
            "身份是“查看人员”",
        ),
        (
            TaskAction::Sign,
            ActorRole::Office,
            sifa.actor(),
            "不能以“管理员”的身份办理",
        ),
        (
            TaskAction::Sign,
            ActorRole::ResponsibleUnit,
            office.actor(),
            "身份是“管理员”",
        ),
    ];
    for (action, role, actor, fragment) in refusals {
        let err = s
            .transition_ready(t.id, &action, role, &actor, today())
            .await
            .unwrap_err();
        invalid_containing(err, fragment);
        assert_eq!(snapshot(s).await, before, "{action:?} 不应改变任何数据");
    }

    // A blank reason is refused as well, on a submitted task.
    s.transition_ready(
        t.id,
        &TaskAction::Sign,
        ActorRole::ResponsibleUnit,
        &sifa.actor(),
        today(),
    )
    .await
    .unwrap();
    s.transition_ready(
        t.id,
        &TaskAction::Submit,
        ActorRole::ResponsibleUnit,
        &sifa.actor(),
        today(),
    )
    .await
    .unwrap();
    let before = snapshot(s).await;
    let err = s
        .transition_ready(
            t.id,
            &TaskAction::Return {
                reason: " \n ".into(),
            },
            ActorRole::Office,
            &office.actor(),
            today(),
        )
        .await
        .unwrap_err();
    invalid_containing(err, "退回时须填写退回理由");
    assert_eq!(snapshot(s).await, before);
    let err = s
        .transition_ready(
            fazhi_store::TaskId(999_999),
            &TaskAction::Sign,
            ActorRole::Office,
            &admin(),
            today(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    // A disabled account is only an observer.
    s.set_disabled(sifa.id, true, &admin()).await.unwrap();
    let disabled = s.user(sifa.id).await.unwrap();
    assert_eq!(
        s.task_role(t.id, &disabled).await.unwrap(),
        ActorRole::Observer
    );
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn lead_unit_reviews_co_units(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await.round_id;
    // Indicator 15: 县司法局 leads, 县市场监督管理局 works with it.
    let lead = liaison(s, "sifa", "县司法局").await;
    let co = liaison(s, "shichang", "县市场监督管理局").await;
    let lead_task = task_of(s, round, "15", "县司法局").await;
    let co_task = task_of(s, round, "15", "县市场监督管理局").await;
    let sifa = lead.unit_id.unwrap();
    let shichang = co.unit_id.unwrap();

    assert!(s.is_lead_unit_for(co_task.id, sifa).await.unwrap());
    assert!(!s.is_lead_unit_for(lead_task.id, sifa).await.unwrap());
    assert!(!s.is_lead_unit_for(lead_task.id, shichang).await.unwrap());
    assert!(!s.is_lead_unit_for(co_task.id, shichang).await.unwrap());
    assert_eq!(
        s.task_role(co_task.id, &lead).await.unwrap(),
        ActorRole::LeadUnit
    );
    assert_eq!(
        s.task_role(lead_task.id, &co).await.unwrap(),
        ActorRole::Observer
    );
    // On another indicator 县司法局 does not lead, it is nobody there.
    let elsewhere = task_of(s, round, "12", "县市场监督管理局").await;
    assert_eq!(
        s.task_role(elsewhere.id, &lead).await.unwrap(),
        ActorRole::Observer
    );

    for t in [&co_task, &lead_task] {
        let who = if t.id == co_task.id { &co } else { &lead };
        s.transition_ready(
            t.id,
            &TaskAction::Sign,
            ActorRole::ResponsibleUnit,
            &who.actor(),
            today(),
        )
        .await
        .unwrap();
        s.transition_ready(
            t.id,
            &TaskAction::Submit,
            ActorRole::ResponsibleUnit,
            &who.actor(),
            today(),
        )
        .await
        .unwrap();
    }
    let returned = s
        .transition_ready(
            co_task.id,
            &TaskAction::Return {
                reason: "请补充执法检查记录".into(),
            },
            ActorRole::LeadUnit,
            &lead.actor(),
            today(),
        )
        .await
        .unwrap();
    assert_eq!(returned, TaskStatus::Returned);
    // The lead unit cannot review its own task, in either role.
    let err = s
        .transition_ready(
            lead_task.id,
            &TaskAction::Approve,
            ActorRole::LeadUnit,
            &lead.actor(),
            today(),
        )
        .await
        .unwrap_err();
    invalid_containing(err, "身份是“本单位”");
    let err = s
        .transition_ready(
            lead_task.id,
            &TaskAction::Approve,
            ActorRole::ResponsibleUnit,
            &lead.actor(),
            today(),
        )
        .await
        .unwrap_err();
    invalid_containing(err, "不能审核本单位的任务");
    // Nor can the co unit review the lead's, nor close what the lead approved.
    let err = s
        .transition_ready(
            lead_task.id,
            &TaskAction::Approve,
            ActorRole::LeadUnit,
            &co.actor(),
            today(),
        )
        .await
        .unwrap_err();
    invalid_containing(err, "身份是“查看人员”");
    s.transition_ready(
        co_task.id,
        &TaskAction::Submit,
        ActorRole::ResponsibleUnit,
        &co.actor(),
        today(),
    )
    .await
    .unwrap();
    s.transition_ready(
        co_task.id,
        &TaskAction::Approve,
        ActorRole::LeadUnit,
        &lead.actor(),
        today(),
    )
    .await
    .unwrap();
    let err = s
        .transition_ready(
            co_task.id,
            &TaskAction::Close,
            ActorRole::LeadUnit,
            &lead.actor(),
            today(),
        )
        .await
        .unwrap_err();
    invalid_containing(err, "只有依法治县办才能销号");
    assert_eq!(status(s, &co_task).await, TaskStatus::Approved);
}

async fn reports_are_append_only(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await.round_id;
    let unit = liaison(s, "sifa", "县司法局").await;
    let t = task_of(s, round, "4", "县司法局").await;
    let report = |progress: &str, percent: u8| NewReport {
        progress: progress.into(),
        problems: "暂无".into(),
        next_steps: "继续推进".into(),
        percent,
    };
    // Not before the task is signed for.
    let err = s
        .add_report(t.id, report("已起草方案", 20), &unit.actor())
        .await
        .unwrap_err();
    invalid_containing(err, "请先签收");
    s.transition_ready(
        t.id,
        &TaskAction::Sign,
        ActorRole::ResponsibleUnit,
        &unit.actor(),
        today(),
    )
    .await
    .unwrap();
    let first = s
        .add_report(t.id, report(" 已起草方案 ", 20), &unit.actor())
        .await
        .unwrap();
    let second = s
        .add_report(
            t.id,
            NewReport {
                problems: String::new(),
                ..report("方案已印发\n下一步组织培训", 60)
            },
            &unit.actor(),
        )
        .await
        .unwrap();
    let err = s
        .add_report(t.id, report("  ", 10), &unit.actor())
        .await
        .unwrap_err();
    invalid_containing(err, "工作进展不能为空");
    let err = s
        .add_report(t.id, report("进展", 101), &unit.actor())
        .await
        .unwrap_err();
    invalid_containing(err, "0到100");
    let err = s
        .add_report(t.id, report("含\u{7}控制字符", 10), &unit.actor())
        .await
        .unwrap_err();
    invalid_containing(err, "不可见字符");

    let list = s.reports(t.id).await.unwrap();
    assert_eq!(
        list.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second, first]
    );
    assert_eq!(list[1].progress, "已起草方案");
    assert_eq!(list[1].percent, 20);
    assert_eq!(list[0].progress, "方案已印发\n下一步组织培训");
    assert_eq!(list[0].problems, "");
    assert_eq!(list[0].author_user_id, Some(unit.id));
    assert_eq!(s.task(t.id).await.unwrap().reports, list);
    assert_eq!(s.task(t.id).await.unwrap().summary.report_count, 2);

    // Frozen while under review.
    s.transition_ready(
        t.id,
        &TaskAction::Submit,
        ActorRole::ResponsibleUnit,
        &unit.actor(),
        today(),
    )
    .await
    .unwrap();
    let err = s
        .add_report(t.id, report("补充", 90), &unit.actor())
        .await
        .unwrap_err();
    invalid_containing(err, "任务已报送");
    assert_eq!(s.reports(t.id).await.unwrap(), list);
    assert_eq!(count_rows(s, "progress_report").await, 2);
    let err = s.reports(fazhi_store::TaskId(999_999)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    let log = s
        .audit_entries(&AuditFilter {
            action: Some("report.add".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
}

const SHA_A: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const SHA_B: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

async fn blobs_are_deduplicated(db: Db) {
    let s = &db.store;
    assert!(s.put_blob(SHA_A, 4, "application/pdf").await.unwrap());
    assert!(
        !s.put_blob(&SHA_A.to_uppercase(), 4, "application/pdf")
            .await
            .unwrap()
    );
    assert_eq!(count_rows(s, "blob").await, 1);
    let info = s.blob(SHA_A).await.unwrap().unwrap();
    assert_eq!(
        (info.sha256.as_str(), info.size, info.content_type.as_str()),
        (SHA_A, 4, "application/pdf")
    );
    assert!(s.blob(SHA_B).await.unwrap().is_none());
    let err = s.put_blob(SHA_A, 5, "application/pdf").await.unwrap_err();
    invalid_containing(err, "大小不同");
    let err = s.put_blob("abc", 1, "text/plain").await.unwrap_err();
    invalid_containing(err, "SHA-256");
    let err = s.put_blob(SHA_B, 1, " ").await.unwrap_err();
    invalid_containing(err, "文件类型");
    assert!(s.put_blob(SHA_B, 0, "text/plain").await.unwrap());
    assert_eq!(count_rows(s, "blob").await, 2);
    let log = s
        .audit_entries(&AuditFilter {
            entity: Some("blob".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
}

/// The clean-up of unreferenced files and the attaching of a file to evidence: a referenced
/// file is never forgotten, bytes gone by the time of attaching refuse the upload, and when
/// both race, the result is one of the two consistent ends.
async fn forgetting_a_blob_and_attaching_it_exclude_each_other(db: Db) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let s = &db.store;
    let (t, unit) = working_task(s).await;
    let file = |sha: &str| EvidenceContent::File {
        blob_sha256: sha.into(),
        original_name: Some("会议纪要.pdf".into()),
    };

    // Bytes missing when the store looks, inside the transaction: refused, nothing kept.
    s.put_blob(SHA_A, 4, "application/pdf").await.unwrap();
    let err = s
        .add_evidence_checked(
            t.id,
            meta("纪要"),
            file(SHA_A),
            &unit.actor(),
            Some(Box::pin(async { false })),
        )
        .await
        .unwrap_err();
    invalid_containing(err, "请重新上传");
    assert_eq!(count_rows(s, "evidence").await, 0);

    // Unreferenced: the bytes are deleted (inside the transaction) and the row goes.
    let deleted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&deleted);
    let delete = async move {
        flag.store(true, Ordering::SeqCst);
        Ok::<(), std::io::Error>(())
    };
    assert!(
        s.forget_unreferenced_blob_with(SHA_A, delete)
            .await
            .unwrap()
    );
    assert!(deleted.load(Ordering::SeqCst));
    assert!(s.blob(SHA_A).await.unwrap().is_none());

    // A failing delete keeps the row, so the next sweep tries again.
    s.put_blob(SHA_A, 4, "application/pdf").await.unwrap();
    let failing = async { Err::<(), _>(std::io::Error::other("磁盘只读")) };
    let err = s
        .forget_unreferenced_blob_with(SHA_A, failing)
        .await
        .unwrap_err();
    invalid_containing(err, "磁盘只读");
    assert!(s.blob(SHA_A).await.unwrap().is_some());

    // Referenced: kept, and the bytes are not touched.
    let id = s
        .add_evidence_checked(
            t.id,
            meta("纪要"),
            file(SHA_A),
            &unit.actor(),
            Some(Box::pin(async { true })),
        )
        .await
        .unwrap();
    let untouched = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&untouched);
    let delete = async move {
        flag.store(false, Ordering::SeqCst);
        Ok::<(), std::io::Error>(())
    };
    assert!(
        !s.forget_unreferenced_blob_with(SHA_A, delete)
            .await
            .unwrap()
    );
    assert!(untouched.load(Ordering::SeqCst));
    assert!(s.blob(SHA_A).await.unwrap().is_some());
    assert_eq!(s.evidence(id).await.unwrap().title, "纪要");

    // The race, many times: a collector and an upload of the same content at once. The
    // "file store" is a flag the collector clears and the upload reads.
    let mut ends = [0usize; 2];
    for round in 0..20u32 {
        let sha = format!("{:064x}", u64::from(round) + 1);
        s.put_blob(&sha, 1, "text/plain").await.unwrap();
        let bytes_there = Arc::new(AtomicBool::new(true));
        let (a, b) = (bytes_there.clone(), bytes_there.clone());
        let collector = {
            let s = s.clone();
            let sha = sha.clone();
            tokio::spawn(async move {
                let delete = async move {
                    tokio::task::yield_now().await;
                    a.store(false, Ordering::SeqCst);
                    Ok::<(), std::io::Error>(())
                };
                s.forget_unreferenced_blob_with(&sha, delete).await.unwrap()
            })
        };
        let upload = {
            let s = s.clone();
            let actor = unit.actor();
            let t = t.id;
            let sha = sha.clone();
            tokio::spawn(async move {
                let present = Box::pin(async move { b.load(Ordering::SeqCst) });
                s.add_evidence_checked(
                    t,
                    meta(&format!("第{round}次")),
                    EvidenceContent::File {
                        blob_sha256: sha,
                        original_name: None,
                    },
                    &actor,
                    Some(present),
                )
                .await
            })
        };
        let forgotten = collector.await.unwrap();
        let attached = upload.await.unwrap();
        let referenced = s.blob_referenced(&sha).await.unwrap();
        match (&attached, forgotten) {
            // The upload won: the file stays, with its bytes.
            (Ok(_), false) => {
                assert!(referenced && bytes_there.load(Ordering::SeqCst));
                ends[0] += 1;
            }
            // The collector won: the upload was refused, nothing refers to the gone bytes.
            (Err(_), true) => {
                assert!(!referenced && !bytes_there.load(Ordering::SeqCst));
                ends[1] += 1;
            }
            other => panic!("round {round}: inconsistent end {other:?}"),
        }
    }
    assert_eq!(ends.iter().sum::<usize>(), 20, "{ends:?}");
}

/// A signed task of 县司法局 (indicator 4) and its liaison.
async fn working_task(s: &Store) -> (TaskSummary, User) {
    import_county(s).await;
    let round = open(s).await.round_id;
    let unit = liaison(s, "sifa", "县司法局").await;
    let t = task_of(s, round, "4", "县司法局").await;
    s.transition_ready(
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

fn meta(title: &str) -> NewEvidence {
    NewEvidence {
        title: title.into(),
        doc_number: Some("兰政办发〔2026〕3号".into()),
        doc_date: Some(date(2026, 3, 1)),
    }
}

async fn evidence_versions_are_kept(db: Db) {
    let s = &db.store;
    let (t, unit) = working_task(s).await;
    let who = unit.actor();
    let err = s
        .add_file_evidence(t.id, meta("实施方案"), SHA_A, Some("方案.pdf"), &who)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    s.put_blob(SHA_A, 4, "application/pdf").await.unwrap();
    s.put_blob(SHA_B, 7, "application/pdf").await.unwrap();
    let err = s
        .add_file_evidence(t.id, meta(" "), SHA_A, None, &who)
        .await
        .unwrap_err();
    invalid_containing(err, "材料名称不能为空");
    let err = s
        .add_file_evidence(t.id, meta("方案"), SHA_A, Some("../etc/passwd"), &who)
        .await
        .unwrap_err();
    invalid_containing(err, "文件名");

    let id = s
        .add_file_evidence(t.id, meta(" 实施方案 "), SHA_A, Some("方案.pdf"), &who)
        .await
        .unwrap();
    // The same file again (dedup): another item, same blob.
    let again = s
        .add_file_evidence(
            t.id,
            NewEvidence {
                doc_number: Some("  ".into()),
                ..meta("会议纪要")
            },
            SHA_A,
            None,
            &who,
        )
        .await
        .unwrap();
    assert_eq!(s.evidence(again).await.unwrap().doc_number, None);
    assert_eq!(count_rows(s, "blob").await, 2);

    assert_eq!(
        s.replace_evidence(
            id,
            EvidenceContent::File {
                blob_sha256: SHA_B.into(),
                original_name: Some("方案（修订）.pdf".into()),
            },
            &who,
        )
        .await
        .unwrap(),
        2
    );
    assert_eq!(
        s.replace_evidence(
            id,
            EvidenceContent::Link {
                url: "https://www.lanling.gov.cn/art/2026/3/1/art_1.html".into(),
                published_on: Some(date(2026, 3, 2)),
            },
            &who,
        )
        .await
        .unwrap(),
        3
    );
    let e = s.evidence(id).await.unwrap();
    assert_eq!(e.title, "实施方案");
    assert_eq!(e.doc_number.as_deref(), Some("兰政办发〔2026〕3号"));
    assert_eq!(e.doc_date, Some(date(2026, 3, 1)));
    assert_eq!((e.current_version, e.kind), (3, EvidenceKind::Link));
    let versions: Vec<(u32, EvidenceKind, Option<&str>, Option<&str>)> = e
        .versions
        .iter()
        .map(|v| {
            (
                v.version,
                v.kind,
                v.blob_sha256.as_deref(),
                v.original_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (1, EvidenceKind::File, Some(SHA_A), Some("方案.pdf")),
            (2, EvidenceKind::File, Some(SHA_B), Some("方案（修订）.pdf")),
            (3, EvidenceKind::Link, None, None),
        ]
    );
    assert_eq!(e.versions[1].blob.as_ref().map(|b| b.size), Some(7));
    let current = e.current().unwrap();
    assert_eq!(current.published_on, Some(date(2026, 3, 2)));
    assert!(
        current
            .url
            .as_deref()
            .unwrap()
            .starts_with("https://www.lanling.gov.cn/")
    );
    assert_eq!(count_rows(s, "evidence_version").await, 4);

    let detail = s.task(t.id).await.unwrap();
    assert_eq!(detail.summary.evidence_count, 2);
    assert_eq!(
        detail.evidence.iter().map(|e| e.id).collect::<Vec<_>>(),
        [id, again]
    );

    // Soft delete: gone from the task, kept in the store.
    s.delete_evidence(again, &who).await.unwrap();
    let detail = s.task(t.id).await.unwrap();
    assert_eq!(detail.summary.evidence_count, 1);
    assert_eq!(detail.evidence.len(), 1);
    assert!(s.evidence(again).await.unwrap().deleted);
    let err = s.delete_evidence(again, &who).await.unwrap_err();
    invalid_containing(err, "已删除");
    let err = s
        .replace_evidence(
            again,
            EvidenceContent::File {
                blob_sha256: SHA_B.into(),
                original_name: None,
            },
            &who,
        )
        .await
        .unwrap_err();
    invalid_containing(err, "已删除");

    // Frozen under review.
    s.transition_ready(
        t.id,
        &TaskAction::Submit,
        ActorRole::ResponsibleUnit,
        &who,
        today(),
    )
    .await
    .unwrap();
    let err = s.delete_evidence(id, &who).await.unwrap_err();
    invalid_containing(err, "任务已报送");
    let err = s
        .add_link_evidence(t.id, meta("报道"), "https://example.org/", None, &who)
        .await
        .unwrap_err();
    invalid_containing(err, "任务已报送");
    assert_eq!(s.evidence(id).await.unwrap(), e);

    let log = s
        .audit_entries(&AuditFilter {
            entity: Some("evidence".into()),
            entity_id: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["evidence.add", "evidence.replace", "evidence.replace"]
    );
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn link_evidence_is_validated(db: Db) {
    let s = &db.store;
    let (t, unit) = working_task(s).await;
    let who = unit.actor();
    for (url, fragment) in [
        ("javascript:alert(1)", "http:// 或 https://"),
        ("JavaScript://%0aalert(1)", "http:// 或 https://"),
        ("ftp://files.example.org/a.pdf", "http:// 或 https://"),
        ("data:text/html,hi", "http:// 或 https://"),
        ("www.lanling.gov.cn", "http:// 或 https://"),
        ("", "链接不能为空"),
        ("   ", "链接不能为空"),
        ("https://", "网站地址"),
        ("https:///path", "网站地址"),
        ("http://a b.cn/", "空格"),
        ("https://user:pw@evil.example/", "用户名或密码"),
        ("https://gov.cn@evil.example/", "用户名或密码"),
        ("https://example.org:0/", "端口"),
        ("https://example.org:99999/", "端口"),
    ] {
        let err = s
            .add_link_evidence(t.id, meta("报道"), url, None, &who)
            .await
            .unwrap_err();
        invalid_containing(err, fragment);
    }
    assert_eq!(count_rows(s, "evidence").await, 0);

    let id = s
        .add_link_evidence(
            t.id,
            meta("政府网站公开"),
            " HTTPS://www.lanling.gov.cn/col/col1/index.html?x=1#a ",
            Some(date(2026, 2, 1)),
            &who,
        )
        .await
        .unwrap();
    let e = s.evidence(id).await.unwrap();
    assert_eq!(e.kind, EvidenceKind::Link);
    let v = e.current().unwrap();
    assert_eq!(
        v.url.as_deref(),
        Some("https://www.lanling.gov.cn/col/col1/index.html?x=1#a")
    );
    assert_eq!(v.published_on, Some(date(2026, 2, 1)));
    assert_eq!(v.blob_sha256, None);
    for ok in [
        "http://127.0.0.1:8080/x",
        "https://[::1]/",
        "https://[::1]:8443/",
        "http://兰陵.政务/",
    ] {
        assert!(check_url(ok).is_ok(), "{ok}");
    }
    let err = s
        .replace_evidence(
            id,
            EvidenceContent::Link {
                url: "javascript:void(0)".into(),
                published_on: None,
            },
            &who,
        )
        .await
        .unwrap_err();
    invalid_containing(err, "http:// 或 https://");
    assert_eq!(s.evidence(id).await.unwrap().current_version, 1);
}

async fn link_evidence_gets_new_versions(db: Db) {
    let s = &db.store;
    let (t, unit) = working_task(s).await;
    let who = unit.actor();
    let office = user(s, "office", UserRole::Admin, None).await;
    let id = s
        .add_link_evidence(
            t.id,
            meta("政府网站公开"),
            "https://www.lanling.gov.cn/art/2026/1/1/art_1.html",
            Some(date(2026, 1, 1)),
            &who,
        )
        .await
        .unwrap();
    let err = s
        .replace_link_evidence(id, "ftp://example.org/x", None, &who)
        .await
        .unwrap_err();
    invalid_containing(err, "http:// 或 https://");
    assert_eq!(
        s.replace_link_evidence(
            id,
            " https://www.lanling.gov.cn/art/2026/3/5/art_2.html ",
            Some(date(2026, 3, 5)),
            &who,
        )
        .await
        .unwrap(),
        2
    );
    let e = s.evidence(id).await.unwrap();
    assert_eq!((e.current_version, e.kind), (2, EvidenceKind::Link));
    assert_eq!(e.title, "政府网站公开", "the title stays");
    let versions: Vec<(u32, Option<&str>, Option<NaiveDate>, &str)> = e
        .versions
        .iter()
        .map(|v| {
            (
                v.version,
                v.url.as_deref(),
                v.published_on,
                v.created_by_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (
                1,
                Some("https://www.lanling.gov.cn/art/2026/1/1/art_1.html"),
                Some(date(2026, 1, 1)),
                who.name.as_str()
            ),
            (
                2,
                Some("https://www.lanling.gov.cn/art/2026/3/5/art_2.html"),
                Some(date(2026, 3, 5)),
                who.name.as_str()
            ),
        ]
    );

    // Frozen while under review, open again once returned.
    s.transition_ready(
        t.id,
        &TaskAction::Submit,
        ActorRole::ResponsibleUnit,
        &who,
        today(),
    )
    .await
    .unwrap();
    let err = s
        .replace_link_evidence(id, "https://example.org/", None, &who)
        .await
        .unwrap_err();
    invalid_containing(err, "任务已报送");
    s.transition_ready(
        t.id,
        &TaskAction::Return {
            reason: "链接已失效".into(),
        },
        ActorRole::Office,
        &office.actor(),
        today(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.replace_link_evidence(id, "https://example.org/new", None, &who)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        s.evidence(id)
            .await
            .unwrap()
            .current()
            .unwrap()
            .published_on,
        None
    );

    // A deleted item gets no new version.
    s.delete_evidence(id, &who).await.unwrap();
    let err = s
        .replace_link_evidence(id, "https://example.org/again", None, &who)
        .await
        .unwrap_err();
    invalid_containing(err, "已删除");

    let log = s
        .audit_entries(&AuditFilter {
            entity: Some("evidence".into()),
            entity_id: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "evidence.add",
            "evidence.replace",
            "evidence.replace",
            "evidence.delete"
        ]
    );
    let replaced = log
        .iter()
        .rev()
        .find(|e| e.action == "evidence.replace")
        .unwrap();
    assert!(
        replaced
            .before_json
            .as_deref()
            .unwrap()
            .contains("art_1.html")
    );
    assert!(
        replaced
            .after_json
            .as_deref()
            .unwrap()
            .contains("art_2.html")
    );
    assert_eq!(s.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn evidence_review_verdicts(db: Db) {
    let s = &db.store;
    let (t, unit) = working_task(s).await;
    let office = user(s, "office", UserRole::Admin, None).await;
    s.put_blob(SHA_A, 4, "application/pdf").await.unwrap();
    s.put_blob(SHA_B, 7, "application/pdf").await.unwrap();
    let id = s
        .add_file_evidence(t.id, meta("实施方案"), SHA_A, None, &unit.actor())
        .await
        .unwrap();
    let err = s
        .review_evidence(id, Verdict::NeedsMore, Some("  "), &office.actor())
        .await
        .unwrap_err();
    invalid_containing(err, "需补充");
    let first = s
        .review_evidence(
            id,
            Verdict::NeedsMore,
            Some("缺少印发文号"),
            &office.actor(),
        )
        .await
        .unwrap();
    let e = s.evidence(id).await.unwrap();
    let review = e.current_review().unwrap();
    assert_eq!(review.id, first);
    assert_eq!(
        (review.version, review.verdict, review.note.as_deref()),
        (1, Verdict::NeedsMore, Some("缺少印发文号"))
    );
    assert_eq!(review.reviewer_user_id, Some(office.id));
    assert_eq!(Verdict::NeedsMore.label(), "需补充");

    // A new version has not been judged yet; then it is found 合格.
    s.replace_evidence(
        id,
        EvidenceContent::File {
            blob_sha256: SHA_B.into(),
            original_name: None,
        },
        &unit.actor(),
    )
    .await
    .unwrap();
    assert!(s.evidence(id).await.unwrap().current_review().is_none());
    s.review_evidence(id, Verdict::Ok, None, &office.actor())
        .await
        .unwrap();
    let e = s.evidence(id).await.unwrap();
    assert_eq!(
        e.reviews
            .iter()
            .map(|r| (r.version, r.verdict))
            .collect::<Vec<_>>(),
        [(1, Verdict::NeedsMore), (2, Verdict::Ok)]
    );
    assert_eq!(e.current_review().unwrap().note, None);
    // Reviews go on while the task is under review; not on deleted items.
    s.transition_ready(
        t.id,
        &TaskAction::Submit,
        ActorRole::ResponsibleUnit,
        &unit.actor(),
        today(),
    )
    .await
    .unwrap();
    s.review_evidence(id, Verdict::Ok, Some("材料齐全"), &office.actor())
        .await
        .unwrap();
    let err = s
        .review_evidence(
            fazhi_store::EvidenceId(999_999),
            Verdict::Ok,
            None,
            &office.actor(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert_eq!(count_rows(s, "evidence_review").await, 3);
}

async fn scores_are_validated(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await.round_id;
    let t = task_of(s, round, "4", "县司法局").await;
    assert_eq!(
        Score::new(100.5).unwrap_err().to_string(),
        "分数应在0到100之间"
    );
    assert!(Score::new(-1.0).is_err());
    assert!(Score::new(92.25).is_err());
    assert!("abc".parse::<Score>().is_err());
    let err = s.set_scores(t.id, None, None, &admin()).await.unwrap_err();
    invalid_containing(err, "没有要保存的分数");

    s.set_scores(t.id, Some(Score::new(95.5).unwrap()), None, &admin())
        .await
        .unwrap();
    s.set_scores(t.id, None, Some("88".parse().unwrap()), &admin())
        .await
        .unwrap();
    let got = s.task(t.id).await.unwrap().summary;
    assert_eq!(
        got.self_score.map(|s| s.to_string()).as_deref(),
        Some("95.5")
    );
    assert_eq!(got.review_score, Some(Score::new(88.0).unwrap()));
    s.set_scores(t.id, Some(Score::MAX), Some(Score::MIN), &admin())
        .await
        .unwrap();
    let got = s.task(t.id).await.unwrap().summary;
    assert_eq!(
        (got.self_score, got.review_score),
        (Some(Score::MAX), Some(Score::MIN))
    );
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["self_score"], 100.0);

    // The database refuses out-of-range values written behind the API's back.
    use sea_orm::ConnectionTrait;
    let res = s
        .connection()
        .execute_unprepared(&format!(
            "UPDATE task SET review_score_tenths = 1001 WHERE id = {}",
            t.id
        ))
        .await;
    assert!(res.is_err(), "CHECK 约束应拒绝超出范围的分数");
    let log = s
        .audit_entries(&AuditFilter {
            action: Some("task.set_scores".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 3);
}

async fn inbox_lists_what_to_do(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let office = user(s, "office", UserRole::Admin, None).await;
    let observer = user(s, "leader", UserRole::Observer, None).await;
    let lead = liaison(s, "sifa", "县司法局").await;
    let co = liaison(s, "shichang", "县市场监督管理局").await;
    // No round yet: nothing to do.
    assert_eq!(inbox_today(s, &lead).await, Default::default());
    let round = open(s).await.round_id;

    let inbox = inbox_today(s, &lead).await;
    assert_eq!(inbox.to_sign.len(), 35);
    assert!(inbox.to_sign.iter().all(|t| t.unit_name == "县司法局"));
    assert_eq!(inbox.counts().to_review, 0);
    assert!(inbox.due_soon.is_empty() && inbox.overdue.is_empty());

    // Due dates around "today" (fixed for the test).
    let day = date(2026, 5, 10);
    let t4 = task_of(s, round, "4", "县司法局").await;
    let t15 = task_of(s, round, "15", "县司法局").await;
    let t15co = task_of(s, round, "15", "县市场监督管理局").await;
    let far = task_of(s, round, "59", "县司法局").await;
    s.set_due(
        &[t4.id],
        Some(day.checked_add_days(Days::new(3)).unwrap()),
        &admin(),
    )
    .await
    .unwrap();
    s.set_due(
        &[t15.id],
        Some(day.checked_sub_days(Days::new(1)).unwrap()),
        &admin(),
    )
    .await
    .unwrap();
    s.set_due(
        &[far.id],
        Some(day.checked_add_days(Days::new(4)).unwrap()),
        &admin(),
    )
    .await
    .unwrap();
    let inbox = s
        .inbox_on(&lead, day, &s.calendar().await.unwrap(), 3)
        .await
        .unwrap();
    assert_eq!(
        inbox.due_soon.iter().map(|t| t.id).collect::<Vec<_>>(),
        [t4.id]
    );
    assert_eq!(
        inbox.overdue.iter().map(|t| t.id).collect::<Vec<_>>(),
        [t15.id]
    );
    // Both are still 待签收 too: the badge counts each task once (35, not 37).
    assert!(inbox.to_review.is_empty() && inbox.returned.is_empty());
    assert_eq!(inbox.total(), inbox.to_sign.len());
    assert_eq!(inbox.total(), 35);

    // The co unit hands in on indicator 15; 县司法局 leads it and sees it to review.
    for action in [TaskAction::Sign, TaskAction::Submit] {
        s.transition_ready(
            t15co.id,
            &action,
            ActorRole::ResponsibleUnit,
            &co.actor(),
            today(),
        )
        .await
        .unwrap();
    }
    // 县司法局 hands in task 4: no longer due soon, and the office reviews it.
    for action in [TaskAction::Sign, TaskAction::Submit] {
        s.transition_ready(
            t4.id,
            &action,
            ActorRole::ResponsibleUnit,
            &lead.actor(),
            today(),
        )
        .await
        .unwrap();
    }
    let inbox = s
        .inbox_on(&lead, day, &s.calendar().await.unwrap(), 3)
        .await
        .unwrap();
    assert_eq!(
        inbox.to_review.iter().map(|t| t.id).collect::<Vec<_>>(),
        [t15co.id]
    );
    assert!(inbox.due_soon.is_empty());
    assert_eq!(inbox.to_sign.len(), 34);
    let office_inbox = inbox_today(s, &office).await;
    assert_eq!(
        sorted(office_inbox.to_review.iter().map(|t| t.id).collect()),
        sorted(vec![t4.id, t15co.id])
    );
    assert!(office_inbox.to_sign.is_empty());
    assert_eq!(inbox_today(s, &observer).await.total(), 0);

    // Returned work comes back to the unit's list.
    s.transition_ready(
        t15co.id,
        &TaskAction::Return {
            reason: "补充台账".into(),
        },
        ActorRole::LeadUnit,
        &lead.actor(),
        today(),
    )
    .await
    .unwrap();
    let co_inbox = inbox_today(s, &co).await;
    assert_eq!(
        co_inbox.returned.iter().map(|t| t.id).collect::<Vec<_>>(),
        [t15co.id]
    );
    assert!(co_inbox.to_review.is_empty());
    assert!(inbox_today(s, &lead).await.to_review.is_empty());
    let counts = co_inbox.counts();
    assert_eq!(counts.returned, 1);
    assert_eq!(co_inbox.total(), counts.to_sign + 1);
}

async fn late_submission_is_marked(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await.round_id;
    let unit = liaison(s, "sifa", "县司法局").await;
    let late = task_of(s, round, "4", "县司法局").await;
    let on_time = task_of(s, round, "15", "县司法局").await;
    let no_due = task_of(s, round, "59", "县司法局").await;
    s.set_due(&[late.id], today().checked_sub_days(Days::new(1)), &admin())
        .await
        .unwrap();
    s.set_due(&[on_time.id], Some(today()), &admin())
        .await
        .unwrap();
    s.set_due(&[no_due.id], None, &admin()).await.unwrap();
    for t in [&late, &on_time, &no_due] {
        for action in [TaskAction::Sign, TaskAction::Submit] {
            s.transition_ready(
                t.id,
                &action,
                ActorRole::ResponsibleUnit,
                &unit.actor(),
                today(),
            )
            .await
            .unwrap();
        }
    }
    let was_late = |t: TaskSummary| async move { s.task(t.id).await.unwrap().summary.was_late };
    assert!(was_late(late.clone()).await);
    assert!(!was_late(on_time.clone()).await);
    assert!(!was_late(no_due).await);
    // Once late, always late: a return and an on-time resubmission keep the mark.
    s.transition_ready(
        late.id,
        &TaskAction::Return {
            reason: "补充".into(),
        },
        ActorRole::Office,
        &admin(),
        today(),
    )
    .await
    .unwrap();
    s.set_due(&[late.id], Some(today()), &admin())
        .await
        .unwrap();
    s.transition_ready(
        late.id,
        &TaskAction::Submit,
        ActorRole::ResponsibleUnit,
        &unit.actor(),
        today(),
    )
    .await
    .unwrap();
    assert!(was_late(late).await);
}

/// Due 2026-03-10, handed in at 17:30 UTC that day = 01:30 on 03-11 in Beijing: late,
/// although the UTC date is still the due date.
async fn lateness_uses_the_beijing_date(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await.round_id;
    let unit = liaison(s, "sifa", "县司法局").await;
    let late = task_of(s, round, "4", "县司法局").await;
    let on_time = task_of(s, round, "15", "县司法局").await;
    s.set_due(&[late.id, on_time.id], Some(date(2026, 3, 10)), &admin())
        .await
        .unwrap();
    let zone = fazhi_domain::clock::Zone::default();
    let instant = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let after_midnight = zone.date_of(instant("2026-03-10T17:30:00Z"));
    let evening = zone.date_of(instant("2026-03-10T15:30:00Z"));
    assert_eq!(after_midnight, date(2026, 3, 11));
    assert_eq!(evening, date(2026, 3, 10));
    for (t, day) in [(&late, after_midnight), (&on_time, evening)] {
        for action in [TaskAction::Sign, TaskAction::Submit] {
            s.transition_ready(
                t.id,
                &action,
                ActorRole::ResponsibleUnit,
                &unit.actor(),
                day,
            )
            .await
            .unwrap();
        }
    }
    assert!(s.task(late.id).await.unwrap().summary.was_late);
    assert!(!s.task(on_time.id).await.unwrap().summary.was_late);
}

/// Four progress reports race one 报送 on each of 15 tasks: every report that is accepted
/// was committed before the submit (its time is before the 报送 event's), every other one
/// is refused with the "已报送" message; the submits all succeed.
async fn no_report_lands_after_submit(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let round = open(s).await.round_id;
    let tasks: Vec<TaskSummary> = s
        .tasks(&TaskFilter {
            round: Some(round),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .take(15)
        .collect();
    assert_eq!(tasks.len(), 15);
    let system = Actor::system();
    for t in &tasks {
        s.transition_ready(
            t.id,
            &TaskAction::Sign,
            ActorRole::ResponsibleUnit,
            &system,
            today(),
        )
        .await
        .unwrap();
        // 报送 needs a report: one stands before the race.
        let first = NewReport {
            progress: "签收后首次填报".into(),
            problems: String::new(),
            next_steps: String::new(),
            percent: 10,
        };
        s.add_report(t.id, first, &system).await.unwrap();
    }
    let mut handles = Vec::new();
    for t in &tasks {
        for n in 0..5 {
            let (s, id, actor) = (s.clone(), t.id, system.clone());
            handles.push(tokio::spawn(async move {
                if n == 2 {
                    let to = s
                        .transition_ready(
                            id,
                            &TaskAction::Submit,
                            ActorRole::ResponsibleUnit,
                            &actor,
                            today(),
                        )
                        .await;
                    (id, None, Some(to))
                } else {
                    let report = NewReport {
                        progress: format!("第{n}次填报"),
                        problems: String::new(),
                        next_steps: String::new(),
                        percent: 50,
                    };
                    (id, Some(s.add_report(id, report, &actor).await), None)
                }
            }));
        }
    }
    let mut accepted = 0;
    let mut refused = 0;
    for h in handles {
        let (id, report, submit) = h.await.unwrap();
        if let Some(to) = submit {
            assert_eq!(to.unwrap(), TaskStatus::Submitted, "task {id}");
        }
        match report {
            Some(Ok(_)) => accepted += 1,
            Some(Err(e)) => {
                assert!(e.to_string().contains("任务已报送"), "task {id}: {e}");
                refused += 1;
            }
            None => {}
        }
    }
    assert_eq!(accepted + refused, 60);
    let mut stored = 0;
    for t in &tasks {
        let detail = s.task(t.id).await.unwrap();
        assert_eq!(detail.summary.status, TaskStatus::Submitted);
        let submitted_at = detail
            .events
            .iter()
            .find(|e| e.action == fazhi_store::TaskActionKind::Submit)
            .unwrap()
            .at;
        for r in &detail.reports {
            assert!(
                r.at < submitted_at,
                "task {}: report #{} at {} after the 报送 at {submitted_at}",
                t.id,
                r.id,
                r.at
            );
        }
        stored += detail.reports.len();
    }
    assert_eq!(
        stored,
        accepted + tasks.len(),
        "every accepted report is stored, and the one before the race"
    );
}
