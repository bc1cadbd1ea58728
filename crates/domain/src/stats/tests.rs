use super::*;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn h(code: &str, title: &str) -> HeadingLabel {
    HeadingLabel {
        code: code.into(),
        title: title.into(),
    }
}

fn step(on: NaiveDate, action: TaskActionKind, to: TaskStatus) -> StepFact {
    StepFact { on, action, to }
}

fn task(id: i64, node: i64, unit: i64, heading: (&str, &str)) -> TaskFacts {
    TaskFacts {
        task_id: id,
        node_id: node,
        headings: vec![h(heading.0, "一级"), h(heading.1, "二级")],
        code: node.to_string(),
        text: format!("指标{node}"),
        unit_id: unit,
        unit_name: format!("单位{unit}"),
        role: Role::Lead,
        status: TaskStatus::Pending,
        due_on: None,
        was_late: false,
        steps: Vec::new(),
        self_score: None,
        review_score: None,
        rules: Vec::new(),
        open_notices: 0,
        evidence: EvidenceCounts::default(),
        latest_report: None,
    }
}

fn approve_on(t: &mut TaskFacts, signed: NaiveDate, submitted: NaiveDate, approved: NaiveDate) {
    t.steps = vec![
        step(signed, TaskActionKind::Sign, TaskStatus::InProgress),
        step(submitted, TaskActionKind::Submit, TaskStatus::Submitted),
        step(approved, TaskActionKind::Approve, TaskStatus::Approved),
    ];
    t.status = TaskStatus::Approved;
}

fn calendar() -> HolidayCalendar {
    HolidayCalendar::china_builtin()
}

fn light_rules(cal: &HolidayCalendar) -> LightRules<'_> {
    LightRules {
        calendar: cal,
        warn_workdays: 3,
    }
}

#[test]
fn as_of_today_uses_the_stored_status_and_mark_and_the_list_light() {
    let cal = calendar();
    let mut t = task(1, 10, 1, ("一", "1"));
    approve_on(&mut t, d(2026, 3, 2), d(2026, 3, 20), d(2026, 3, 23));
    t.due_on = Some(d(2026, 3, 10));
    t.was_late = true;
    let now = t.as_of(d(2026, 4, 1), light_rules(&cal));
    assert_eq!(now.status, TaskStatus::Approved);
    assert_eq!(
        now.light,
        traffic_light(
            TaskStatus::Approved,
            t.due_on,
            true,
            Some(d(2026, 3, 23)),
            d(2026, 4, 1),
            &cal,
            3
        )
    );
    assert!(now.is_approved() && now.is_late() && !now.is_on_time());
    assert_eq!(now.signed_on, Some(d(2026, 3, 2)));
    assert_eq!(now.submitted_on, Some(d(2026, 3, 20)));
    assert_eq!(now.approved_on, Some(d(2026, 3, 23)));
}

#[test]
fn an_earlier_date_replays_the_steps_up_to_it() {
    let cal = calendar();
    let mut t = task(1, 10, 1, ("一", "1"));
    approve_on(&mut t, d(2026, 3, 2), d(2026, 3, 20), d(2026, 3, 23));
    t.due_on = Some(d(2026, 3, 10));
    t.was_late = true;
    // Before the late submission: 办理中, overdue (red), not yet marked by a submission
    // but late through the overdue light.
    let then = t.as_of(d(2026, 3, 16), light_rules(&cal));
    assert_eq!(then.status, TaskStatus::InProgress);
    assert_eq!(then.light.light, Light::Red);
    assert_eq!(then.submitted_on, None);
    assert_eq!(then.approved_on, None);
    // Before the due date: on track, not late.
    let early = t.as_of(d(2026, 3, 3), light_rules(&cal));
    assert_eq!(early.status, TaskStatus::InProgress);
    assert!(!early.is_late());
    // Before any step: 待签收.
    let first = t.as_of(d(2026, 3, 1), light_rules(&cal));
    assert_eq!(first.status, TaskStatus::Pending);
    assert_eq!(first.signed_on, None);
    // After the submission, before approval: the recomputed mark says late.
    let submitted = t.as_of(d(2026, 3, 21), light_rules(&cal));
    assert_eq!(submitted.status, TaskStatus::Submitted);
    assert!(submitted.is_late());
}

#[test]
fn headings_units_and_weeks_add_up() {
    let cal = calendar();
    let start = d(2026, 3, 2); // a Monday
    let mut a = task(1, 10, 1, ("一", "1"));
    approve_on(&mut a, d(2026, 3, 2), d(2026, 3, 4), d(2026, 3, 10));
    a.review_score = Some(Score::new(90.0).unwrap());
    a.evidence = EvidenceCounts {
        ok: 2,
        needs_more: 1,
        unreviewed: 0,
    };
    let mut b = task(2, 10, 2, ("一", "1"));
    b.role = Role::Co;
    b.due_on = Some(d(2026, 3, 5));
    b.open_notices = 1;
    b.rules = vec![RuleFact {
        key: "r1".into(),
        requirement: "不低于95%".into(),
        actual: "90%".into(),
        verdict: Compliance::NotMet,
    }];
    let mut c = task(3, 11, 1, ("一", "2"));
    approve_on(&mut c, d(2026, 3, 3), d(2026, 3, 11), d(2026, 3, 12));
    c.review_score = Some(Score::new(85.5).unwrap());
    let e = task(4, 12, 2, ("二", "3"));
    let s = round_stats(&[a, b, c, e], d(2026, 3, 18), start, light_rules(&cal));

    assert_eq!(s.tasks, 4);
    assert_eq!(s.approved, 2);
    assert_eq!(s.count_status(TaskStatus::Approved), 2);
    assert_eq!(s.count_status(TaskStatus::Pending), 2);
    assert_eq!(s.count_light(Light::Red), 1);
    assert_eq!(s.count_light(Light::Green), 2);
    assert_eq!(s.count_light(Light::None), 1);
    assert_eq!(s.open_notices, 1);
    assert_eq!(s.rules_by_verdict[0], (Compliance::NotMet, 1));
    assert_eq!(s.indicators_by_verdict[0], (Compliance::NotMet, 1));

    let one = &s.heading1[0];
    assert_eq!(one.label().code, "一");
    assert_eq!((one.tasks, one.approved), (3, 2));
    // Indicator 10 has one approved and one open task; 11 is done.
    assert_eq!((one.indicators, one.indicators_done), (2, 1));
    assert_eq!(s.heading1[1].label().code, "二");
    assert_eq!(s.heading2.len(), 3);
    assert_eq!(s.heading2[0].path, vec![h("一", "一级"), h("1", "二级")]);

    assert_eq!(s.units[0].name, "单位1");
    let u1 = &s.units[0];
    assert_eq!((u1.tasks, u1.approved, u1.on_time, u1.late), (2, 2, 2, 0));
    assert_eq!(u1.average_review(), Some(87.8));
    assert_eq!((u1.evidence_ok, u1.evidence_needs_more), (2, 1));
    assert_eq!(u1.rank, 1);
    let u2 = &s.units[1];
    assert_eq!(
        (u2.tasks, u2.lead_tasks, u2.approved, u2.late),
        (2, 1, 0, 1)
    );
    assert_eq!((u2.rules_not_met, u2.open_notices, u2.red), (1, 1, 1));
    assert_eq!(u2.average_review(), None);
    assert_eq!(u2.rank, 2);

    // Weeks of 3/2, 3/9, 3/16.
    assert_eq!(s.weeks.len(), 3);
    assert_eq!(
        s.weeks.iter().map(|w| w.submitted).collect::<Vec<_>>(),
        [1, 1, 0]
    );
    assert_eq!(
        s.weeks.iter().map(|w| w.approved).collect::<Vec<_>>(),
        [0, 2, 0]
    );
}

#[test]
fn an_absurd_round_start_keeps_the_series_bounded() {
    let cal = calendar();
    let s = round_stats(&[], d(2026, 3, 18), d(1900, 1, 1), light_rules(&cal));
    assert_eq!(s.weeks.len(), MAX_WEEKS);
    assert_eq!(s.weeks.last().unwrap().week_of, d(2026, 3, 16));
    let s = round_stats(&[], d(2026, 3, 18), d(2027, 1, 1), light_rules(&cal));
    assert!(s.weeks.is_empty());
}

fn arb_status() -> impl Strategy<Value = TaskStatus> {
    proptest::sample::select(TaskStatus::ALL.to_vec())
}

fn arb_action() -> impl Strategy<Value = TaskActionKind> {
    proptest::sample::select(TaskActionKind::ALL.to_vec())
}

fn arb_task() -> impl Strategy<Value = TaskFacts> {
    (
        (0i64..6, 0i64..4, 0usize..3, 0usize..3),
        arb_status(),
        proptest::option::of(0u64..60),
        any::<bool>(),
        proptest::collection::vec((0u64..60, arb_action(), arb_status()), 0..5),
        proptest::option::of(0u16..=1000),
        proptest::collection::vec(proptest::sample::select(VERDICT_ORDER.to_vec()), 0..3),
        (0u32..3, 0u32..3, 0u32..3),
    )
        .prop_map(
            |((node, unit, h1, h2), status, due, late, steps, review, verdicts, (n, ok, more))| {
                let base = d(2026, 3, 2);
                let mut steps: Vec<StepFact> = steps
                    .into_iter()
                    .map(|(o, action, to)| step(base + Days::new(o), action, to))
                    .collect();
                steps.sort_by_key(|s| s.on);
                let mut t = task(0, node, unit, (["一", "二", "三"][h1], ["1", "2", "3"][h2]));
                t.status = status;
                t.due_on = due.map(|o| base + Days::new(o));
                t.was_late = late;
                t.steps = steps;
                t.review_score = review.map(|r| Score::from_tenths(r).unwrap());
                t.rules = verdicts
                    .into_iter()
                    .enumerate()
                    .map(|(i, verdict)| RuleFact {
                        key: i.to_string(),
                        requirement: String::new(),
                        actual: String::new(),
                        verdict,
                    })
                    .collect();
                t.open_notices = n;
                t.evidence = EvidenceCounts {
                    ok,
                    needs_more: more,
                    unreviewed: 0,
                };
                t
            },
        )
}

proptest! {
    #[test]
    fn counts_sum_to_totals_and_shares_stay_in_range(
        tasks in proptest::collection::vec(arb_task(), 0..30),
        as_of in 0u64..80,
    ) {
        let cal = calendar();
        let as_of = d(2026, 3, 2) + Days::new(as_of);
        let s = round_stats(&tasks, as_of, d(2026, 3, 2), light_rules(&cal));
        let n = tasks.len();
        prop_assert_eq!(s.tasks, n);
        prop_assert_eq!(s.by_status.iter().map(|x| x.1).sum::<usize>(), n);
        prop_assert_eq!(s.by_light.iter().map(|x| x.1).sum::<usize>(), n);
        prop_assert_eq!(
            s.rules_by_verdict.iter().map(|x| x.1).sum::<usize>(),
            tasks.iter().map(|t| t.rules.len()).sum::<usize>()
        );
        prop_assert_eq!(s.heading1.iter().map(|h| h.tasks).sum::<usize>(), n);
        prop_assert_eq!(s.heading2.iter().map(|h| h.tasks).sum::<usize>(), n);
        prop_assert_eq!(s.heading1.iter().map(|h| h.approved).sum::<usize>(), s.approved);
        prop_assert_eq!(s.units.iter().map(|u| u.tasks).sum::<usize>(), n);
        prop_assert_eq!(s.units.iter().map(|u| u.approved).sum::<usize>(), s.approved);
        prop_assert_eq!(s.units.iter().map(|u| u.open_notices).sum::<usize>(), s.open_notices);
        prop_assert_eq!(
            s.count_status(TaskStatus::Approved) + s.count_status(TaskStatus::Closed),
            s.approved
        );
        for h in s.heading1.iter().chain(&s.heading2) {
            prop_assert!((0.0..=1.0).contains(&h.task_share()));
            prop_assert!((0.0..=1.0).contains(&h.indicator_share()));
            prop_assert!(h.indicators_done <= h.indicators);
            prop_assert!(h.approved <= h.tasks);
        }
        for u in &s.units {
            prop_assert!((0.0..=1.0).contains(&u.completion()));
            prop_assert!(u.on_time <= u.approved && u.approved <= u.tasks);
            prop_assert!(u.late <= u.tasks && u.red <= u.late);
            if let Some(avg) = u.average_review() {
                prop_assert!((0.0..=100.0).contains(&avg));
            }
        }
        // Ranking: places start at 1, never decrease, and follow the ranking key.
        for w in s.units.windows(2) {
            prop_assert!(w[0].key() <= w[1].key());
            prop_assert!(w[0].rank <= w[1].rank);
            prop_assert_eq!(w[0].rank == w[1].rank, w[0].key() == w[1].key());
        }
        if let Some(first) = s.units.first() {
            prop_assert_eq!(first.rank, 1);
        }
        // Every submission and approval up to the date is in the series once.
        let steps = |kind| tasks.iter().flat_map(|t| &t.steps)
            .filter(|st| st.on <= as_of && st.action == kind).count();
        prop_assert_eq!(s.weeks.iter().map(|w| w.submitted).sum::<usize>(), steps(TaskActionKind::Submit));
        prop_assert_eq!(s.weeks.iter().map(|w| w.approved).sum::<usize>(), steps(TaskActionKind::Approve));
    }

    #[test]
    fn with_every_step_on_or_before_the_date_the_light_is_the_lists(t in arb_task()) {
        let cal = calendar();
        let as_of = d(2026, 6, 1);
        let now = t.as_of(as_of, light_rules(&cal));
        let finished = t.status.is_done().then(|| t.steps.last().map(|s| s.on)).flatten();
        prop_assert_eq!(now.status, t.status);
        prop_assert_eq!(now.light, traffic_light(t.status, t.due_on, t.was_late, finished, as_of, &cal, 3));
    }
}
