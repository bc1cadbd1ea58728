//! 任务台账: the cells read back, the unit filter, the audit entry, LibreOffice.

use fazhi_report::ledger::{LEDGER_COLUMNS, RANKING_COLUMNS};
use fazhi_report::{LedgerParams, export_ledger};
use fazhi_store::{AuditFilter, TaskFilter};

use crate::common::*;

fn params(site: &Site, unit: Option<fazhi_store::UnitId>) -> LedgerParams {
    LedgerParams {
        filter: TaskFilter {
            round: Some(site.round),
            unit,
            ..Default::default()
        },
        as_of: today(),
        warn_workdays: 3,
    }
}

fn row<'a>(rows: &'a [Vec<String>], code: &str, unit: &str) -> &'a Vec<String> {
    rows.iter()
        .find(|r| r[2] == code && r[4] == unit)
        .unwrap_or_else(|| panic!("台账中没有第{code}项 {unit}"))
}

#[tokio::test]
async fn ledger_has_a_row_per_task_with_its_facts() {
    let site = busy_site().await;
    let out = site.dir.path().join("任务台账.xlsx");
    let done = export_ledger(&site.store, &params(&site, None), &out, &office())
        .await
        .unwrap();
    let tasks = site
        .store
        .tasks(&TaskFilter {
            round: Some(site.round),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(done.tasks, tasks.len());
    assert_eq!(sheet_names(&out), ["任务台账", "单位排名", "汇总"]);

    let rows = sheet(&out, "任务台账");
    assert_eq!(rows[0][0], "2026年度任务台账");
    assert!(rows[1][0].contains("全部责任单位"), "{}", rows[1][0]);
    assert_eq!(
        rows[2],
        LEDGER_COLUMNS
            .iter()
            .map(|(h, _)| h.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(rows.len() - 3, tasks.len());
    // Same order as the task list.
    for (r, t) in rows[3..].iter().zip(&tasks) {
        assert_eq!((&r[2], &r[4]), (&t.code, &t.unit_name));
    }

    let today = today().to_string();
    let r = row(&rows, "25", "县司法局");
    assert_eq!(r[0], "二、依法行政制度体系完善");
    assert_eq!(r[5], "牵头");
    assert_eq!(r[6], "已通过");
    assert_eq!(r[7], "绿灯");
    assert_eq!(r[8], "曾逾期");
    assert_eq!(r[9], "2026-01-09");
    assert_eq!((&r[10], &r[11], &r[12]), (&today, &today, &today));
    assert_eq!(r[13], "已完成全部规范性文件备案审查");
    assert_eq!(r[14], "审查力量不足");
    assert_eq!(r[15], "充实审查人员");
    assert_eq!((&r[17][..], &r[18][..], &r[19][..]), ("1", "1", "0"));
    assert!(r[20].contains("90%"), "{}", r[20]);
    assert_eq!(r[23], "95");
    assert_eq!(r[24], "88.5");

    let r = row(&rows, "4", "县司法局");
    assert_eq!(r[6], "办理中");
    assert_eq!(r[7], "红灯");
    assert!(
        r[8].starts_with("逾期") && r[8].ends_with("个工作日"),
        "{}",
        r[8]
    );
    assert_eq!(r[22], "1");
    assert_eq!(r[11], "");

    let r = row(&rows, "2", "县行政审批服务局");
    assert_eq!(r[6], "已报送");
    assert_eq!(r[7], "绿灯");
    assert_eq!(r[8], "");

    let ranking = sheet(&out, "单位排名");
    assert_eq!(
        ranking[2],
        RANKING_COLUMNS
            .iter()
            .map(|(h, _)| h.to_string())
            .collect::<Vec<_>>()
    );
    // 县行政审批服务局 has one task on time of several; both top units have approvals.
    let names: Vec<&str> = ranking[3..].iter().map(|r| r[1].as_str()).collect();
    assert!(names[..2].contains(&"县行政审批服务局") && names[..2].contains(&"县司法局"));
    assert_eq!(ranking[3][0], "1");

    let log = site
        .store
        .audit_entries(&AuditFilter {
            action: Some("export.ledger".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].entity_id.as_deref(),
        Some(site.round.to_string().as_str())
    );

    let text = libreoffice_pdf_text(&out, site.dir.path());
    assert!(text.contains("2026年度任务台账"), "{text}");
    assert!(text.contains("县司法局"));
}

#[tokio::test]
async fn one_units_ledger_shows_only_that_unit() {
    let site = busy_site().await;
    let unit = site.store.find_unit("县司法局").await.unwrap().unwrap();
    let out = site.dir.path().join("县司法局.xlsx");
    let done = export_ledger(&site.store, &params(&site, Some(unit)), &out, &office())
        .await
        .unwrap();
    assert_eq!(done.scope, "县司法局");
    assert_eq!(done.units, 1);
    let rows = sheet(&out, "任务台账");
    assert!(rows[1][0].contains("县司法局"));
    assert!(rows.len() > 4);
    assert!(
        rows[3..].iter().all(|r| r[4] == "县司法局"),
        "其他单位的任务出现在台账中"
    );
    let ranking = sheet(&out, "单位排名");
    assert_eq!(ranking.len(), 4);
    assert_eq!(ranking[3][1], "县司法局");
    // Nothing of another unit anywhere in the file.
    for name in ["单位排名", "汇总", "任务台账"] {
        for r in sheet(&out, name) {
            assert!(
                !r.iter().any(|c| c.contains("县行政审批服务局")),
                "{name}: {r:?}"
            );
        }
    }
}

#[tokio::test]
async fn no_round_in_progress_is_said_plainly() {
    let (dir, store) = store_with_library().await;
    let err = export_ledger(
        &store,
        &LedgerParams {
            filter: TaskFilter::default(),
            as_of: today(),
            warn_workdays: 3,
        },
        &dir.path().join("x.xlsx"),
        &office(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("没有进行中的创建轮次"), "{err}");
    assert!(!dir.path().join("x.xlsx").exists());
}
