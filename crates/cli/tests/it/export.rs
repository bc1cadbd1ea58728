//! `fazhi export responsibility` and `fazhi export ledger` on a data directory: the files
//! are written, the 责任分工表 imports back, a unit's 台账 holds only that unit, each export
//! is in the audit log.

use calamine::{Data, Reader, Xlsx, open_workbook};
use fazhi_store::test_support::PastGuards;
use fazhi_store::{Actor, ActorRole, AuditFilter, NewRound, Store, TaskAction, TaskFilter};

use crate::audit::tempfile_dir;
use crate::{fazhi, stderr, stdout};

async fn prepare(dir: &std::path::Path) {
    let d = dir.to_str().unwrap();
    let out = fazhi(&["user", "list", "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    let store = open(dir).await;
    let office = Actor::system();
    store
        .open_round(
            NewRound {
                name: "2026年度".into(),
                starts_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                ends_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                framework_id: None,
                due_on: None,
                copy_from: None,
            },
            &office,
        )
        .await
        .unwrap();
    let unit = store.find_unit("县司法局").await.unwrap().unwrap();
    let task = store
        .tasks(&TaskFilter {
            unit: Some(unit),
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id;
    let today = fazhi_domain::clock::Clock::default().today();
    for (action, role) in [
        (TaskAction::Sign, ActorRole::ResponsibleUnit),
        (TaskAction::Submit, ActorRole::ResponsibleUnit),
        (TaskAction::Approve, ActorRole::Office),
    ] {
        store
            .transition_ready(task, &action, role, &office, today)
            .await
            .unwrap();
    }
    store.close().await.unwrap();
}

async fn open(dir: &std::path::Path) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.join("fazhi.sqlite").display());
    Store::connect(&url).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_write_the_spreadsheets_and_are_audited() {
    let dir = tempfile_dir("export");
    prepare(&dir).await;
    let d = dir.to_str().unwrap();

    let table = dir.join("责任分工表.xlsx");
    let out = fazhi(&[
        "export",
        "responsibility",
        "--format",
        "xlsx",
        "--out",
        table.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("94 项指标"), "{}", stdout(&out));
    // The importer reads it back: the same 94 indicators.
    let back = fazhi(&["import", table.to_str().unwrap(), "--format", "json"]);
    assert!(back.status.success(), "{}", stderr(&back));
    let lib: fazhi_domain::ImportOutput = serde_json::from_slice(&back.stdout).unwrap();
    assert_eq!(lib.framework.walk_indicators().len(), 94);

    let ledger = dir.join("台账.xlsx");
    let out = fazhi(&[
        "export",
        "ledger",
        "--out",
        ledger.to_str().unwrap(),
        "--unit",
        "县司法局",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("县司法局"), "{}", stdout(&out));
    let mut wb: Xlsx<_> = open_workbook(&ledger).unwrap();
    let rows = wb.worksheet_range("任务台账").unwrap();
    let units: Vec<String> = rows
        .rows()
        .skip(3)
        .map(|r| match &r[4] {
            Data::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    assert!(!units.is_empty());
    assert!(units.iter().all(|u| u == "县司法局"), "{units:?}");
    let statuses: Vec<String> = rows.rows().skip(3).map(|r| r[6].to_string()).collect();
    assert_eq!(statuses.iter().filter(|s| *s == "已通过").count(), 1);

    // Wrong unit or round: a plain message, no file.
    let bad = dir.join("没有.xlsx");
    let out = fazhi(&[
        "export",
        "ledger",
        "--out",
        bad.to_str().unwrap(),
        "--unit",
        "县不存在局",
        "--data-dir",
        d,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("没有名为“县不存在局”的单位"),
        "{}",
        stderr(&out)
    );
    let out = fazhi(&[
        "export",
        "ledger",
        "--out",
        bad.to_str().unwrap(),
        "--round",
        "99",
        "--data-dir",
        d,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("没有编号为 99 的轮次"),
        "{}",
        stderr(&out)
    );
    assert!(!bad.exists());

    let store = open(&dir).await;
    let actions: Vec<String> = store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("export."))
        .map(|e| format!("{} {}", e.action, e.actor_name))
        .collect();
    assert_eq!(
        actions,
        ["export.ledger 命令行", "export.responsibility 命令行"]
    );
    store.close().await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_report_writes_word_and_pdf() {
    let dir = tempfile_dir("export-report");
    prepare(&dir).await;
    let d = dir.to_str().unwrap();
    let docx = dir.join("工作进展报告.docx");
    let out = fazhi(&[
        "export",
        "report",
        "--out",
        docx.to_str().unwrap(),
        "--title",
        "兰陵县法治政府建设示范创建工作进展情况报告",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("《兰陵县法治政府建设示范创建工作进展情况报告》"),
        "{}",
        stdout(&out)
    );
    let bytes = std::fs::read(&docx).unwrap();
    assert!(bytes.starts_with(b"PK"));

    let pdf = dir.join("县司法局.pdf");
    let out = fazhi(&[
        "export",
        "report",
        "--format",
        "pdf",
        "--unit",
        "县司法局",
        "--out",
        pdf.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("县司法局"), "{}", stdout(&out));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));

    // Bad input: a clear message, no file.
    let bad = dir.join("坏.pdf");
    let long = "长".repeat(101);
    let out = fazhi(&[
        "export",
        "report",
        "--out",
        bad.to_str().unwrap(),
        "--title",
        &long,
        "--data-dir",
        d,
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("标题最长"), "{}", stderr(&out));
    assert!(!bad.exists());

    let store = open(&dir).await;
    let reports = store
        .audit_entries(&AuditFilter {
            action: Some("export.report".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(reports.len(), 2);
    store.close().await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
