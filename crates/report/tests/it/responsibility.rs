//! 责任分工表: exported from the store, imported with the importer: the same library.

use fazhi_domain::Framework;
use fazhi_import::{DiagnosticKind, ImportOptions, import_bytes};
use fazhi_report::export_responsibility;
use fazhi_store::AuditFilter;

use crate::common::*;

/// (heading codes and titles, code, text, units, lead) of every indicator.
type Flat = Vec<(
    Vec<(String, String)>,
    String,
    String,
    Vec<String>,
    Vec<String>,
)>;

fn flat(fw: &Framework) -> Flat {
    fw.walk_indicators()
        .into_iter()
        .map(|(path, i)| {
            (
                path.iter()
                    .map(|h| (h.code.clone(), h.title.clone()))
                    .collect(),
                i.code.clone(),
                i.text.clone(),
                i.units.clone(),
                i.lead.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn exported_table_imports_back_to_the_same_library() {
    let (dir, store) = store_with_library().await;
    let out = dir.path().join("责任分工表.xlsx");
    let done = export_responsibility(&store, &out, &office())
        .await
        .unwrap();
    let canonical = store
        .current_framework()
        .await
        .unwrap()
        .unwrap()
        .to_domain();
    assert_eq!(done.indicators, 94);
    assert_eq!(done.title, canonical.title);

    let bytes = std::fs::read(&out).unwrap();
    let back = import_bytes(&bytes, Some("责任分工表.xlsx"), &ImportOptions::default()).unwrap();
    assert_eq!(back.framework.title, canonical.title);
    let (a, b) = (flat(&back.framework), flat(&canonical));
    assert_eq!(
        a.len(),
        b.len(),
        "{:#?}",
        back.diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    // Nothing to repair: the only warnings are the county table's own (two items without
    // units, item 87 repeating item 88's text).
    let warnings: Vec<_> = back
        .warnings()
        .map(|w| (w.kind, w.indicator.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        warnings,
        [
            (DiagnosticKind::MissingUnits, "35".to_string()),
            (DiagnosticKind::MissingUnits, "87".to_string()),
            (DiagnosticKind::DuplicateText, "87".to_string()),
        ]
    );
    // (The whole trees differ only in `line`: rows of this file, not of the seed text.)
    let mut units = back.framework.units.clone();
    let mut expected = canonical.units.clone();
    units.sort();
    expected.sort();
    assert_eq!(units, expected);
    // The checked-in library says the same (the store adds nothing of its own).
    assert_eq!(flat(&library().framework), b);

    // Audited.
    let log = store
        .audit_entries(&AuditFilter {
            action: Some("export.responsibility".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
}

#[tokio::test]
async fn table_layout_merges_headings_and_marks_the_lead() {
    let (dir, store) = store_with_library().await;
    let out = dir.path().join("责任分工表.xlsx");
    export_responsibility(&store, &out, &office())
        .await
        .unwrap();
    let rows = sheet(&out, "责任分工");
    assert_eq!(rows[0][0], "法治政府建设示范创建责任分工");
    assert_eq!(
        rows[1],
        ["一级指标", "二级指标", "序号", "三级指标", "责任单位"]
    );
    assert_eq!(rows[2][0], "一、政府职能依法全面履行");
    assert_eq!(rows[2][1], "1. 行政审批制度改革全面推行。");
    assert_eq!(rows[2][2], "1");
    assert_eq!(rows[2][4], "县行政审批服务局");
    // Merged: the heading only in the first row of its range.
    assert_eq!(rows[3][0], "");
    assert_eq!(rows[3][2], "2");
    // Several units: the lead first and marked.
    let r22 = rows.iter().find(|r| r[2] == "22").unwrap();
    assert_eq!(
        r22[4],
        "县发改局（牵头）、临沂市环保局兰陵分局、县自然资源和规划局"
    );
    // No units: an empty cell.
    let r35 = rows.iter().find(|r| r[2] == "35").unwrap();
    assert_eq!(r35[4], "");
    assert_eq!(rows.len(), 2 + 94);

    let text = libreoffice_pdf_text(&out, dir.path());
    assert!(text.contains("政府职能依法全面履行"), "{text}");
    assert!(text.contains("县发改局（牵头）"));
}
