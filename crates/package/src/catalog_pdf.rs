//! `目录.pdf`: the same catalogue as `目录.xlsx` (one line per file, links after), printable
//! on A4 landscape, rendered by [`fazhi_document`]'s typst engine.

use chrono::{DateTime, Utc};
use fazhi_document::{Compilation, DocumentError, PdfSettings};
use fazhi_files::human_size;
use serde_json::{Value, json};

use crate::catalog::{PackProblem, PackedFile, type_label};
use crate::plan::{Plan, china};

const TEMPLATE: &str = include_str!("../templates/catalog.typ");

fn heading_label(headings: &[(String, String)]) -> String {
    headings
        .first()
        .map(|(c, t)| format!("{c}、{t}"))
        .unwrap_or_else(|| "（未归入一级指标）".into())
}

/// The data of the catalogue template.
pub fn catalog_data(
    plan: &Plan,
    files: &[PackedFile<'_>],
    problems: &[PackProblem],
    created_at: DateTime<Utc>,
) -> Value {
    let day = |t: DateTime<Utc>| t.with_timezone(&china()).format("%Y-%m-%d").to_string();
    // Files come in tree order: consecutive runs of one 一级指标 form a group.
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for f in files {
        let p = f.planned;
        let heading = heading_label(&p.place.headings);
        let title = match &p.doc_number {
            Some(n) if !n.trim().is_empty() => format!("{}（{n}）", p.title),
            _ => p.title.clone(),
        };
        let verdict = match f.problem {
            Some(pr) if f.packed_sha256.is_none() => {
                format!("{}；{}", p.review.label(), pr.message)
            }
            Some(_) => format!("{}；内容与登记不符", p.review.label()),
            None => p.review.label().to_string(),
        };
        let row = json!({
            "no": p.place.material_no,
            "indicator": format!("{} {}", p.place.indicator_code, p.place.indicator_text),
            "unit": p.place.unit,
            "title": title,
            "doc_date": p.doc_date.map(|d| d.to_string()).unwrap_or_default(),
            "kind": format!("{} / {}", type_label(&p.content_type), human_size(p.size)),
            "verdict": verdict,
            "reviewer": p.review.reviewer.clone().unwrap_or_default(),
            "uploaded": day(p.uploaded_at),
            "sha256": f.packed_sha256.clone().unwrap_or_else(|| p.sha256.clone()),
        });
        match groups.last_mut() {
            Some((h, rows)) if *h == heading => rows.push(row),
            _ => groups.push((heading, vec![row])),
        }
    }
    let links: Vec<Value> = plan
        .links
        .iter()
        .map(|l| {
            json!({
                "no": l.place.material_no,
                "indicator": format!("{} {}", l.place.indicator_code, l.place.indicator_text),
                "unit": l.place.unit,
                "title": l.title,
                "url": l.url,
                "published": l.published_on.map(|d| d.to_string()).unwrap_or_default(),
                "verdict": l.review.label(),
            })
        })
        .collect();
    json!({
        "title": format!("{} 佐证材料目录", plan.round.name),
        "issuer": plan.framework_title,
        "subtitle": format!(
            "{} · 生成于 {}（北京时间）· 文件材料 {} 份，链接材料 {} 条",
            plan.scope_label(),
            created_at.with_timezone(&china()).format("%Y-%m-%d %H:%M"),
            files.iter().filter(|f| f.packed_sha256.is_some()).count(),
            plan.links.len()
        ),
        "groups": groups.into_iter().map(|(h, rows)| json!({"heading": h, "rows": rows})).collect::<Vec<_>>(),
        "links": links,
        "problems": problems.iter().map(|p| format!("{} {}：{}", p.material_no, p.path, p.message)).collect::<Vec<_>>(),
        "note": "与“目录.xlsx”内容相同；每份文件的 SHA-256 可用 fazhi package verify 或 certutil / sha256sum 核对。",
    })
}

/// Renders `目录.pdf`.
pub fn render_catalog_pdf(
    plan: &Plan,
    files: &[PackedFile<'_>],
    problems: &[PackProblem],
    created_at: DateTime<Utc>,
    settings: &PdfSettings,
) -> Result<Vec<u8>, DocumentError> {
    fazhi_document::pdf::compile(
        Compilation {
            template: TEMPLATE,
            data: catalog_data(plan, files, problems, created_at),
            files: Vec::new(),
            today: created_at.with_timezone(&china()).date_naive(),
        },
        settings,
    )
}
