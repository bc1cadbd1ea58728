//! Cost of the statistics, of the 任务台账 and of the 工作进展报告 (.docx and .pdf) for the
//! county round and a generated round 20 times its size (the library's 一级指标 repeated),
//! on SQLite in a temporary directory.
//!
//! ```sh
//! cargo bench -p fazhi-report --bench ledger            # scales 1 and 20
//! cargo bench -p fazhi-report --bench ledger -- 5       # other scales
//! ```
//!
//! Prints per scale: tasks; the median of 5 runs of the store query (`round_facts`), of the
//! statistics over loaded facts (what a cache keyed by store generation and date saves the
//! query from), and of the whole export (query + statistics + .xlsx); the export's file size
//! and the process's peak resident memory during the export (`VmHWM`, reset before it) next
//! to its resident memory just before (the setup's, which the allocator keeps). A second
//! table gives the same for the 工作进展报告 as .docx and as .pdf (median of 3; the PDF's
//! fonts are scanned once per process, before the timing).

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use fazhi_domain::clock::Clock;
use fazhi_domain::framework::{Heading, Node};
use fazhi_domain::stats::LightRules;
use fazhi_report::{
    LedgerParams, ReportFormat, ReportOptions, ReportParams, export_ledger, export_report,
};
use fazhi_store::test_support::PastGuards;
use fazhi_store::{
    Actor, ActorRole, NewReport, NewRound, RoundId, Store, TaskAction, TaskFilter, TaskStatus,
};
use sha2::Digest;

const LIBRARY_JSON: &str = include_str!("../../../data/library/lanling.json");

/// The county library with its 一级指标 repeated `scale` times, 序号 renumbered.
fn scaled_library(scale: usize) -> fazhi_domain::ImportOutput {
    let mut lib: fazhi_domain::ImportOutput = serde_json::from_str(LIBRARY_JSON).unwrap();
    let roots = lib.framework.indicators.clone();
    let mut out = Vec::new();
    let mut seq = 0;
    for copy in 0..scale {
        for root in &roots {
            let mut root = root.clone();
            if let Node::Heading(h) = &mut root {
                if copy > 0 {
                    h.code = format!("{}{}", h.code, copy + 1);
                    h.title = format!("{}（第{}组）", h.title, copy + 1);
                }
                renumber(h, &mut seq);
            }
            out.push(root);
        }
    }
    lib.framework.indicators = out;
    lib
}

fn renumber(h: &mut Heading, seq: &mut usize) {
    for child in &mut h.children {
        match child {
            Node::Heading(inner) => renumber(inner, seq),
            Node::Indicator(i) => {
                *seq += 1;
                i.code = seq.to_string();
                i.line = None;
            }
        }
    }
}

async fn site(dir: &std::path::Path, scale: usize) -> (Store, RoundId) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let store = Store::connect(&url).await.unwrap();
    let office = Actor::system();
    let lib = scaled_library(scale);
    let sha = hex::encode(sha2::Sha256::digest(format!("scale {scale}").as_bytes()));
    store
        .import_library(&lib, "bench.json", &sha, &office)
        .await
        .unwrap();
    let round = store
        .open_round(
            NewRound {
                name: "2026年度".into(),
                starts_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                ends_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                framework_id: None,
                due_on: NaiveDate::from_ymd_opt(2026, 6, 30),
                copy_from: None,
            },
            &office,
        )
        .await
        .unwrap()
        .round_id;
    // Work in a third of the tasks: signed, a report, some submitted, some approved.
    let today = Clock::default().today();
    let tasks = store
        .tasks(&TaskFilter {
            round: Some(round),
            ..Default::default()
        })
        .await
        .unwrap();
    for (i, t) in tasks.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let step = |a: TaskAction, r: ActorRole| {
            let store = &store;
            let office = &office;
            async move {
                store
                    .transition_ready(t.id, &a, r, office, today)
                    .await
                    .unwrap()
            }
        };
        step(TaskAction::Sign, ActorRole::ResponsibleUnit).await;
        store
            .add_report(
                t.id,
                NewReport {
                    progress: "已制定工作方案，明确责任人和时间节点，正在推进。".repeat(3),
                    problems: "部分基础材料尚未收集齐全。".into(),
                    next_steps: "按时间节点完成材料收集并报送。".into(),
                    percent: 60,
                },
                &office,
            )
            .await
            .unwrap();
        if i % 2 == 0 {
            let s = step(TaskAction::Submit, ActorRole::ResponsibleUnit).await;
            assert_eq!(s, TaskStatus::Submitted);
            if i % 4 == 0 {
                step(TaskAction::Approve, ActorRole::Office).await;
            }
        }
    }
    (store, round)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn reset_peak_rss() {
    // Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() {
    let scales: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let scales = if scales.is_empty() {
        vec![1, 20]
    } else {
        scales
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "| scale | tasks | round_facts | stats (facts loaded) | export .xlsx | file | peak RSS during export |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut report_lines = Vec::new();
    for scale in scales {
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let (store, round) = site(dir.path(), scale).await;
            let calendar = store.calendar().await.unwrap();
            let rules = LightRules {
                calendar: &calendar,
                warn_workdays: 3,
            };
            let today = Clock::default().today();
            let filter = TaskFilter {
                round: Some(round),
                ..Default::default()
            };
            let mut facts_t = Vec::new();
            let mut stats_t = Vec::new();
            let mut tasks = 0;
            for _ in 0..5 {
                let t0 = Instant::now();
                let facts = store.round_facts(&filter, today, &calendar).await.unwrap();
                facts_t.push(t0.elapsed());
                let t1 = Instant::now();
                let stats = facts.stats(rules);
                stats_t.push(t1.elapsed());
                tasks = stats.tasks;
            }
            let out = dir.path().join("台账.xlsx");
            let params = LedgerParams {
                filter: filter.clone(),
                as_of: today,
                warn_workdays: 3,
            };
            let mut export_t = Vec::new();
            reset_peak_rss();
            let before = status_kib("VmRSS:");
            for _ in 0..5 {
                let t0 = Instant::now();
                export_ledger(&store, &params, &out, &Actor::system())
                    .await
                    .unwrap();
                export_t.push(t0.elapsed());
            }
            let peak = status_kib("VmHWM:");
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!(
                "| {scale}× | {tasks} | {:.1} ms | {:.2} ms | {:.1} ms | {} KiB | {} (RSS before: {}) |",
                median(facts_t).as_secs_f64() * 1e3,
                median(stats_t).as_secs_f64() * 1e3,
                median(export_t).as_secs_f64() * 1e3,
                size / 1024,
                peak.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                    .unwrap_or_else(|| "?".into()),
                before
                    .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                    .unwrap_or_else(|| "?".into()),
            );
            for format in [ReportFormat::Docx, ReportFormat::Pdf] {
                let out = dir.path().join(format!("报告.{}", format.extension()));
                let params = ReportParams {
                    filter: filter.clone(),
                    as_of: today,
                    warn_workdays: 3,
                    format,
                    options: ReportOptions::default(),
                    pdf: fazhi_report::PdfSettings::from_env(),
                };
                if format == ReportFormat::Pdf {
                    // Font scan once per process, as in the server.
                    params.pdf.fonts().unwrap();
                }
                let mut times = Vec::new();
                reset_peak_rss();
                let before = status_kib("VmRSS:");
                for _ in 0..3 {
                    let t0 = Instant::now();
                    export_report(&store, &params, &out, &Actor::system())
                        .await
                        .unwrap();
                    times.push(t0.elapsed());
                }
                let peak = status_kib("VmHWM:");
                let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
                let pages = std::process::Command::new("pdfinfo")
                    .arg(&out)
                    .output()
                    .ok()
                    .and_then(|o| {
                        String::from_utf8_lossy(&o.stdout)
                            .lines()
                            .find_map(|l| l.strip_prefix("Pages:").map(|p| p.trim().to_string()))
                    })
                    .unwrap_or_else(|| "—".into());
                report_lines.push(format!(
                    "| {scale}× | {tasks} | .{} | {:.1} ms | {} KiB | {pages} | {} (RSS before: {}) |",
                    format.extension(),
                    median(times).as_secs_f64() * 1e3,
                    size / 1024,
                    peak.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                        .unwrap_or_else(|| "?".into()),
                    before
                        .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                        .unwrap_or_else(|| "?".into()),
                ));
            }
            store.close().await.unwrap();
        });
    }
    println!();
    println!(
        "| scale | tasks | 工作进展报告 | export | file | PDF pages | peak RSS during export |"
    );
    println!("|---|---|---|---|---|---|---|");
    for l in report_lines {
        println!("{l}");
    }
}
