//! The 工作进展报告: its numbers are the statistics layer's, its lists the round's facts;
//! the .docx opens in LibreOffice and the .pdf carries the headings, the numbers and
//! embedded CJK fonts; a liaison-scope (one unit) report speaks of that unit only.

use std::process::Command;

use fazhi_document::Block;
use fazhi_document::model::format_number;
use fazhi_domain::stats::LightRules;
use fazhi_domain::supervision::Light;
use fazhi_report::{
    ReportExport, ReportFormat, ReportOptions, ReportParams, ReportSubject, export_report,
    progress_report,
};
use fazhi_store::TaskFilter;

use crate::common::*;

/// Text without white space: pdftotext wraps lines and spaces digits from Chinese.
fn flat(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn pdf_text(file: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .arg(file)
        .arg("-")
        .output()
        .expect("pdftotext（poppler-utils）应已安装");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn paragraphs(doc: &fazhi_document::Document) -> String {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Paragraph { text } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn export(
    site: &Site,
    format: ReportFormat,
    unit: Option<&str>,
) -> (ReportExport, std::path::PathBuf) {
    let unit = match unit {
        Some(name) => Some(site.store.find_unit(name).await.unwrap().unwrap()),
        None => None,
    };
    let out = site.dir.path().join(format!(
        "报告-{}.{}",
        unit.map_or(0, |u| u.0),
        format.extension()
    ));
    let done = export_report(
        &site.store,
        &ReportParams {
            filter: TaskFilter {
                round: Some(site.round),
                unit,
                ..Default::default()
            },
            as_of: today(),
            warn_workdays: 3,
            format,
            options: ReportOptions {
                title: Some("兰陵县法治政府建设示范创建工作进展情况报告".into()),
                issuer: Some("兰陵县委全面依法治县委员会办公室".into()),
                recipient: Some("市委全面依法治市委员会办公室".into()),
                note: Some("本报告根据各责任单位在平台填报的情况汇总。".into()),
                date: None,
            },
            pdf: Default::default(),
        },
        &out,
        &office(),
    )
    .await
    .unwrap();
    (done, out)
}

#[tokio::test]
async fn report_says_the_statistics_numbers() {
    let site = busy_site().await;
    let calendar = site.store.calendar().await.unwrap();
    let rules = LightRules {
        calendar: &calendar,
        warn_workdays: 3,
    };
    let facts = site
        .store
        .all_round_facts(site.round, today(), &calendar)
        .await
        .unwrap();
    let stats = facts.stats(rules);
    let doc = progress_report(
        &ReportSubject {
            round_name: &facts.round.name,
            unit: None,
            as_of: today(),
            tasks: &facts.tasks,
            stats: &stats,
            rules,
        },
        &ReportOptions::default(),
    );
    let text = paragraphs(&doc);
    let completion = format!("{}%", format_number(stats.completion() * 100.0));
    for want in [
        format!("共分解任务{}项", stats.tasks),
        format!("涉及责任单位{}个", stats.units.len()),
        format!(
            "已审核通过（含销号）{}项，完成率{completion}",
            stats.approved
        ),
        format!("红灯{}项", stats.count_light(Light::Red)),
        format!("未签收的督办单{}份", stats.open_notices),
        // busy_site's report on 第25项 (县司法局) names a problem and a next step.
        "县司法局（第25项）：审查力量不足".to_string(),
        "县司法局（第25项）：充实审查人员".to_string(),
    ] {
        assert!(text.contains(&want), "{want} not in:\n{text}");
    }
    // Overdue task 第4项 (县司法局, red) is listed by name.
    assert!(stats.count_light(Light::Red) >= 1);
    assert!(text.contains("第4项“"), "{text}");
    // The 一级指标 table has one row per 一级指标 with the layer's numbers.
    let table = doc
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) if t.caption.as_deref() == Some("表1 各一级指标完成情况") => {
                Some(t)
            }
            _ => None,
        })
        .expect("表1");
    assert_eq!(table.rows.len(), stats.heading1.len());
    for (row, h) in table.rows.iter().zip(&stats.heading1) {
        assert_eq!(row[1], h.tasks.to_string());
        assert_eq!(row[2], h.approved.to_string());
    }
    let ranking = doc
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) if t.caption.as_deref() == Some("表2 各责任单位完成情况") => {
                Some(t)
            }
            _ => None,
        })
        .expect("表2");
    assert_eq!(ranking.rows.len(), stats.units.len());
    assert!(
        doc.blocks
            .iter()
            .any(|b| matches!(b, Block::BarChart(c) if c.values.len() == stats.heading1.len()))
    );
    assert_eq!(doc.issuer, "县委全面依法治县委员会办公室");
    assert_eq!(doc.date, today());
}

#[tokio::test]
async fn pdf_report_has_headings_numbers_and_embedded_fonts() {
    let site = busy_site().await;
    let (done, pdf) = export(&site, ReportFormat::Pdf, None).await;
    assert!(done.bytes > 10_000, "{done:?}");
    let text = flat(&pdf_text(&pdf));
    let completion = format!(
        "{}%",
        format_number(done.approved as f64 * 100.0 / done.tasks as f64)
    );
    for want in [
        "兰陵县法治政府建设示范创建工作进展情况报告",
        "市委全面依法治市委员会办公室：",
        "本报告根据各责任单位在平台填报的情况汇总。",
        "一、总体进展",
        "二、各单位完成情况",
        "三、量化要求达标情况",
        "四、逾期与督办情况",
        "五、存在问题",
        "六、下步工作",
        "表1各一级指标完成情况",
        "图1各一级指标任务完成率",
        &format!("共分解任务{}项", done.tasks),
        &completion,
        "— 1 —",
    ] {
        assert!(text.contains(&flat(want)), "{want} not in:\n{text}");
    }
    let fonts = Command::new("pdffonts").arg(&pdf).output().unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    let cjk: Vec<&str> = fonts
        .lines()
        .filter(|l| l.contains("CJK") || l.contains("WenKai"))
        .collect();
    assert!(!cjk.is_empty(), "{fonts}");
    assert!(
        cjk.iter()
            .all(|l| l.split_whitespace().rev().take(5).any(|c| c == "yes")),
        "{fonts}"
    );
    if let Ok(keep) = std::env::var("FAZHI_KEEP_REPORT") {
        std::fs::copy(&pdf, keep).unwrap();
    }
    // The export is in the audit log with its scope and options.
    let log = site
        .store
        .audit_entries(&fazhi_store::AuditFilter {
            action: Some("export.report".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    let after = log[0].after_json.as_deref().unwrap_or_default();
    assert!(
        after.contains("\"pdf\"") && after.contains("市委全面依法治市委员会办公室"),
        "{after}"
    );
}

#[tokio::test]
async fn docx_report_opens_in_libreoffice_and_unit_report_keeps_to_its_unit() {
    let site = busy_site().await;
    let (done, docx) = export(&site, ReportFormat::Docx, Some("县司法局")).await;
    assert_eq!(done.scope, "县司法局");
    let text = flat(&libreoffice_pdf_text(&docx, site.dir.path()));
    for want in [
        "一、总体进展",
        "二、量化要求达标情况",
        "三、逾期与督办情况",
        &format!("共分解任务{}项", done.tasks),
        "审查力量不足",
    ] {
        assert!(text.contains(&flat(want)), "{want} not in:\n{text}");
    }
    // No ranking in a unit's report, and no other unit named.
    assert!(!text.contains("各单位完成情况"), "{text}");
    assert!(!text.contains("县行政审批服务局"), "{text}");
}

#[tokio::test]
async fn bad_options_are_refused_before_any_work() {
    let site = busy_site().await;
    let out = site.dir.path().join("不应生成.pdf");
    let err = export_report(
        &site.store,
        &ReportParams {
            filter: TaskFilter::default(),
            as_of: today(),
            warn_workdays: 3,
            format: ReportFormat::Pdf,
            options: ReportOptions {
                title: Some("长".repeat(200)),
                ..Default::default()
            },
            pdf: Default::default(),
        },
        &out,
        &office(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("标题最长"), "{err}");
    assert!(!out.exists());
}
