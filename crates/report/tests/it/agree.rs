//! The numbers agree: the statistics layer and the 任务台账 file, read back, give the same
//! counts for the same round and date.

use std::collections::BTreeMap;

use fazhi_domain::stats::LightRules;
use fazhi_domain::supervision::Light;
use fazhi_domain::task::TaskStatus;
use fazhi_report::{LedgerParams, export_ledger};
use fazhi_store::TaskFilter;

use crate::common::*;

#[derive(Debug, Default, PartialEq)]
struct UnitCount {
    tasks: usize,
    approved: usize,
    on_time: usize,
    late: usize,
    red: usize,
    not_met: usize,
    notices: usize,
    ok: usize,
    needs_more: usize,
}

fn num(s: &str) -> usize {
    s.parse().unwrap_or_else(|_| panic!("不是数字：{s:?}"))
}

#[tokio::test]
async fn ledger_and_statistics_agree() {
    let site = busy_site().await;
    let out = site.dir.path().join("台账.xlsx");
    let as_of = today();
    export_ledger(
        &site.store,
        &LedgerParams {
            filter: TaskFilter {
                round: Some(site.round),
                ..Default::default()
            },
            as_of,
            warn_workdays: 3,
        },
        &out,
        &office(),
    )
    .await
    .unwrap();

    // Path 1: the statistics layer.
    let calendar = site.store.calendar().await.unwrap();
    let rules = LightRules {
        calendar: &calendar,
        warn_workdays: 3,
    };
    let stats = site
        .store
        .all_round_facts(site.round, as_of, &calendar)
        .await
        .unwrap()
        .stats(rules);

    // Path 2: the file, counted row by row.
    let rows = sheet(&out, "任务台账");
    let data = &rows[3..];
    assert_eq!(data.len(), stats.tasks);
    for (status, n) in &stats.by_status {
        let counted = data.iter().filter(|r| r[6] == status.label()).count();
        assert_eq!(counted, *n, "{}", status.label());
    }
    for (light, n) in &stats.by_light {
        let counted = data.iter().filter(|r| r[7] == light.label()).count();
        assert_eq!(counted, *n, "{}", light.label());
    }
    let approved = |r: &Vec<String>| {
        r[6] == TaskStatus::Approved.label() || r[6] == TaskStatus::Closed.label()
    };
    assert_eq!(data.iter().filter(|r| approved(r)).count(), stats.approved);
    // `要求：填报值，结论`: the verdict is the last part.
    let rule_lines = |r: &Vec<String>, label: &str| {
        r[20]
            .lines()
            .filter(|l| l.rsplit(['，', '：']).next() == Some(label))
            .count()
    };
    for (verdict, n) in &stats.rules_by_verdict {
        let counted: usize = data.iter().map(|r| rule_lines(r, verdict.label())).sum();
        assert_eq!(counted, *n, "{}", verdict.label());
    }

    let mut units: BTreeMap<String, UnitCount> = BTreeMap::new();
    for r in data {
        let u = units.entry(r[4].clone()).or_default();
        // `逾期N个工作日`, `已逾期`, `曾逾期`; the time left never says 逾期.
        let late = r[8].contains("逾期");
        u.tasks += 1;
        u.approved += usize::from(approved(r));
        u.on_time += usize::from(approved(r) && !late);
        u.late += usize::from(late);
        u.red += usize::from(r[7] == Light::Red.label());
        u.not_met += rule_lines(r, "未达标");
        u.notices += num(&r[22]);
        u.ok += num(&r[17]);
        u.needs_more += num(&r[18]);
    }
    assert_eq!(units.len(), stats.units.len());
    let ranking = sheet(&out, "单位排名");
    for (u, line) in stats.units.iter().zip(&ranking[3..]) {
        let from_rows = &units[&u.name];
        let from_stats = UnitCount {
            tasks: u.tasks,
            approved: u.approved,
            on_time: u.on_time,
            late: u.late,
            red: u.red,
            not_met: u.rules_not_met,
            notices: u.open_notices,
            ok: u.evidence_ok,
            needs_more: u.evidence_needs_more,
        };
        assert_eq!(from_rows, &from_stats, "{}", u.name);
        // The ranking sheet says the same, in the same order.
        assert_eq!(line[0], u.rank.to_string());
        assert_eq!(line[1], u.name);
        let sheet_counts = [2, 4, 6, 7, 8, 10, 11, 12, 13].map(|c| num(&line[c]));
        assert_eq!(
            sheet_counts,
            [
                u.tasks,
                u.approved,
                u.on_time,
                u.late,
                u.red,
                u.rules_not_met,
                u.open_notices,
                u.evidence_ok,
                u.evidence_needs_more
            ],
            "{}",
            u.name
        );
        let share: f64 = line[5].parse().unwrap();
        assert!((share - u.completion()).abs() < 1e-9);
    }

    // Completion by 一级指标: counted from the rows, from the stats, on the totals sheet.
    let mut by_h1: Vec<(String, usize, usize)> = Vec::new();
    for r in data {
        match by_h1.iter_mut().find(|(h, _, _)| *h == r[0]) {
            Some(x) => {
                x.1 += 1;
                x.2 += usize::from(approved(r));
            }
            None => by_h1.push((r[0].clone(), 1, usize::from(approved(r)))),
        }
    }
    assert_eq!(by_h1.len(), stats.heading1.len());
    for (h, s) in by_h1.iter().zip(&stats.heading1) {
        assert!(h.0.starts_with(&format!("{}、", s.label().code)), "{}", h.0);
        assert_eq!((h.1, h.2), (s.tasks, s.approved), "{}", h.0);
    }
    let totals = sheet(&out, "汇总");
    let start = totals.iter().position(|r| r[0] == "一级指标").unwrap();
    for (line, s) in totals[start + 1..].iter().zip(&stats.heading1) {
        assert_eq!((num(&line[1]), num(&line[2])), (s.tasks, s.approved));
        assert_eq!(
            (num(&line[4]), num(&line[5])),
            (s.indicators, s.indicators_done)
        );
    }
}
