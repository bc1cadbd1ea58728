//! The package's own documents: `目录.xlsx` (one row per file, links on their own sheet),
//! `说明.txt` and the `manifest.json` model.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use fazhi_files::human_size;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};

use crate::plan::{MANIFEST_JSON, Plan, PlannedFile, china};

/// Version tag of the manifest format.
pub const MANIFEST_FORMAT: &str = "fazhi-package-v1";

/// Something wrong with one file, found while packing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackProblem {
    pub material_no: String,
    pub path: String,
    pub evidence_id: i64,
    /// `missing` (not in the file store, not packed) or `altered` (its content no longer
    /// has the SHA-256 recorded at upload; packed as found, flagged).
    pub kind: String,
    pub message: String,
}

/// One entry of the archive in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    /// SHA-256 of the entry's content as packed.
    pub sha256: String,
    /// `evidence`, `catalog` (目录.xlsx, 目录.pdf) or `readme` (说明.txt).
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// A link item in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestLink {
    pub material_no: String,
    pub title: String,
    pub url: String,
    pub published_on: Option<NaiveDate>,
    pub evidence_id: i64,
}

/// `manifest.json`: the package's parameters and every entry's SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub generator: String,
    pub created_at: DateTime<Utc>,
    pub round_id: i64,
    pub round_name: String,
    pub framework_title: String,
    pub scope: String,
    pub params: serde_json::Value,
    pub entries: Vec<ManifestEntry>,
    #[serde(default)]
    pub links: Vec<ManifestLink>,
    #[serde(default)]
    pub problems: Vec<PackProblem>,
}

/// A packed file's outcome, for the catalog.
#[derive(Debug, Clone)]
pub struct PackedFile<'a> {
    pub planned: &'a PlannedFile,
    /// SHA-256 as packed (`None`: not packed).
    pub packed_sha256: Option<String>,
    pub problem: Option<&'a PackProblem>,
}

fn day(t: DateTime<Utc>) -> String {
    t.with_timezone(&china()).format("%Y-%m-%d").to_string()
}

/// A short readable type: `PDF`, `图片`, `视频`, …
pub fn type_label(content_type: &str) -> &'static str {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    match ct {
        "application/pdf" => "PDF",
        "application/ofd" => "OFD",
        c if c.starts_with("image/") => "图片",
        c if c.starts_with("video/") => "视频",
        c if c.starts_with("audio/") => "音频",
        c if c.starts_with("text/") => "文本",
        c if c.contains("word") || c == "application/msword" => "Word 文档",
        c if c.contains("sheet") || c.contains("excel") => "Excel 表格",
        c if c.contains("presentation") || c.contains("powerpoint") => "演示文稿",
        "application/zip" | "application/x-7z-compressed" | "application/x-rar-compressed" => {
            "压缩包"
        }
        _ => "其他文件",
    }
}

fn header(sheet: &mut Worksheet, cols: &[(&str, f64)], bold: &Format) -> Result<(), XlsxError> {
    for (i, (name, width)) in cols.iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, *name, bold)?;
        // Set by hand: autofit counts a CJK character as one narrow glyph.
        sheet.set_column_width(col, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    // Printed: A4 landscape with the header on every page. Not fitted to one page width:
    // 19 columns would shrink to an unreadable size (the printable 目录 is 目录.pdf's job).
    sheet.set_paper_size(9);
    sheet.set_landscape();
    sheet.set_repeat_rows(0, 0)?;
    Ok(())
}

/// Writes `目录.xlsx` to `path`.
pub fn write_catalog_xlsx(
    path: &Path,
    plan: &Plan,
    files: &[PackedFile<'_>],
) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_align(FormatAlign::Center);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let top = Format::new().set_align(FormatAlign::Top);
    let bytes = Format::new()
        .set_num_format("#,##0")
        .set_align(FormatAlign::Top);

    let sheet = book.add_worksheet();
    sheet.set_name("文件材料")?;
    let cols = [
        ("材料编号", 14.0),
        ("一级指标", 22.0),
        ("二级指标", 34.0),
        ("三级指标", 46.0),
        ("责任单位", 20.0),
        ("材料名称", 36.0),
        ("文号", 20.0),
        ("成文日期", 12.0),
        ("类型", 10.0),
        ("大小（字节）", 15.0),
        ("大小", 10.0),
        ("SHA-256", 68.0),
        ("审核结论", 10.0),
        ("审核人", 12.0),
        ("审核意见", 24.0),
        ("上传日期", 12.0),
        ("上传人", 12.0),
        ("包内位置", 60.0),
        ("校验", 24.0),
    ];
    header(sheet, &cols, &bold)?;
    let mut row = 0u32;
    for f in files {
        row += 1;
        let p = f.planned;
        let h1 = p
            .place
            .headings
            .first()
            .map(|(c, t)| format!("{c}、{t}"))
            .unwrap_or_default();
        let h2: Vec<String> = p
            .place
            .headings
            .iter()
            .skip(1)
            .map(|(c, t)| format!("{c}.{}", t.trim_end_matches(['。', '；', ';'])))
            .collect();
        let texts = [
            p.place.material_no.clone(),
            h1,
            h2.join(" / "),
            format!("{} {}", p.place.indicator_code, p.place.indicator_text),
            p.place.unit.clone(),
            p.title.clone(),
            p.doc_number.clone().unwrap_or_default(),
            p.doc_date.map(|d| d.to_string()).unwrap_or_default(),
            type_label(&p.content_type).to_string(),
        ];
        for (i, t) in texts.iter().enumerate() {
            let fmt = if matches!(i, 3 | 5) { &wrap } else { &top };
            sheet.write_string_with_format(row, u16::try_from(i).unwrap_or(0), t, fmt)?;
        }
        #[allow(clippy::cast_precision_loss)]
        sheet.write_number_with_format(row, 9, p.size as f64, &bytes)?;
        let rest = [
            human_size(p.size),
            f.packed_sha256.clone().unwrap_or_else(|| p.sha256.clone()),
            p.review.label().to_string(),
            p.review.reviewer.clone().unwrap_or_default(),
            p.review.note.clone().unwrap_or_default(),
            day(p.uploaded_at),
            p.uploaded_by.clone(),
            if f.packed_sha256.is_some() {
                p.path.clone()
            } else {
                String::new()
            },
            f.problem.map_or("与登记的 SHA-256 一致".to_string(), |pr| {
                pr.message.clone()
            }),
        ];
        for (i, t) in rest.iter().enumerate() {
            sheet.write_string_with_format(row, 10 + u16::try_from(i).unwrap_or(0), t, &top)?;
        }
    }
    if row > 0 {
        sheet.autofilter(0, 0, row, u16::try_from(cols.len() - 1).unwrap_or(0))?;
    }

    let sheet = book.add_worksheet();
    sheet.set_name("链接材料")?;
    let cols = [
        ("材料编号", 14.0),
        ("一级指标", 22.0),
        ("三级指标", 46.0),
        ("责任单位", 20.0),
        ("材料名称", 36.0),
        ("网址", 60.0),
        ("发布日期", 12.0),
        ("审核结论", 10.0),
        ("审核人", 12.0),
        ("登记日期", 12.0),
    ];
    header(sheet, &cols, &bold)?;
    for (i, l) in plan.links.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let h1 = l
            .place
            .headings
            .first()
            .map(|(c, t)| format!("{c}、{t}"))
            .unwrap_or_default();
        let texts = [
            l.place.material_no.clone(),
            h1,
            format!("{} {}", l.place.indicator_code, l.place.indicator_text),
            l.place.unit.clone(),
            l.title.clone(),
            l.url.clone(),
            l.published_on.map(|d| d.to_string()).unwrap_or_default(),
            l.review.label().to_string(),
            l.review.reviewer.clone().unwrap_or_default(),
            day(l.added_at),
        ];
        for (c, t) in texts.iter().enumerate() {
            let fmt = if matches!(c, 2 | 4) { &wrap } else { &top };
            sheet.write_string_with_format(r, u16::try_from(c).unwrap_or(0), t, fmt)?;
        }
    }
    book.save(path)
}

/// `说明.txt`: what the package holds and how to check it. CRLF line ends and a BOM, so
/// Notepad on any Windows shows it right.
pub fn readme(
    plan: &Plan,
    created_at: DateTime<Utc>,
    packed: usize,
    problems: &[PackProblem],
    catalog_pdf_error: Option<&str>,
) -> String {
    let mut t = String::from("\u{FEFF}");
    let mut line = |s: &str| {
        t.push_str(s);
        t.push_str("\r\n");
    };
    line(&format!("{} 佐证材料汇编", plan.round.name));
    line("");
    line(&format!("指标体系：{}", plan.framework_title));
    line(&format!("范围：{}", plan.scope_label()));
    line(&format!(
        "生成时间：{}（北京时间）",
        created_at.with_timezone(&china()).format("%Y-%m-%d %H:%M")
    ));
    line(&format!(
        "内容：文件材料 {packed} 份（共 {}），网页链接材料 {} 条",
        human_size(plan.files.iter().map(|f| f.size).sum()),
        plan.links.len()
    ));
    if !plan.params.all && plan.left_out_unapproved > 0 {
        line(&format!(
            "未收入：尚未审核合格的材料 {} 份",
            plan.left_out_unapproved
        ));
    }
    line("");
    line("目录结构：一级指标 / 二级指标 / 三级指标（序号与简称） / 责任单位 / 材料文件。");
    line(
        "文件名以材料编号开头（如 1-1-001-01：一级指标第1项、二级指标第1项、三级指标001、第1份材料），与“目录.xlsx”对应。",
    );
    line(
        "“目录.xlsx”的“文件材料”表每份文件一行（含审核结论与 SHA-256），“链接材料”表列出网络检索类材料的网址。",
    );
    match catalog_pdf_error {
        None => line("“目录.pdf”是同一目录的打印版（A4 横向）。"),
        Some(e) => line(&format!("“目录.pdf”未生成：{e}")),
    }
    line("");
    line("如何核验：manifest.json 记录了包内每个文件的 SHA-256。");
    line("  用 fazhi 平台核验：fazhi package verify 本文件.zip");
    line(
        "  或逐个核对：Windows 上 certutil -hashfile 文件名 SHA256；Linux/macOS 上 sha256sum 文件名。",
    );
    line("  文件被改动、缺少或多出时，核验会逐一指出。");
    if !problems.is_empty() {
        line("");
        line(&format!(
            "注意：打包时发现 {} 份材料有问题：",
            problems.len()
        ));
        for p in problems {
            line(&format!("  {} {}：{}", p.material_no, p.path, p.message));
        }
    }
    line("");
    line(&format!("（{MANIFEST_JSON} 不计入自身的校验。）"));
    t
}
