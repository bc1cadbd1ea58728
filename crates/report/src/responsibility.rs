//! 责任分工表: the current framework version in the document's own layout — a title row,
//! then 一级指标 / 二级指标 / 序号 / 三级指标 / 责任单位, the heading cells merged over their
//! indicators, the 责任单位 with the 牵头单位 first (marked `（牵头）` when there are several).
//! `fazhi import` reads the file back into the same library.

use std::path::Path;

use fazhi_domain::framework::Role;
use fazhi_store::{StoredFramework, StoredNode};
use rust_xlsxwriter::{Workbook, XlsxError};
use serde::Serialize;

use crate::ReportError;
use crate::sheet::{Formats, PAPER_A4, print_setup, row_height, save};

/// Column widths (Excel units; a Chinese character is two).
const HEADING_WIDTHS: [f64; 2] = [18.0, 26.0];
const DEEPER_HEADING_WIDTH: f64 = 22.0;
const CODE_WIDTH: f64 = 6.0;
const TEXT_WIDTH: f64 = 64.0;
const UNITS_WIDTH: f64 = 28.0;

/// Deepest heading level written; a real table has two or three.
const MAX_HEADING_LEVELS: usize = 8;

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponsibilityExport {
    pub title: String,
    pub indicators: usize,
    pub units: usize,
    pub bytes: u64,
}

/// `一级指标`, `二级指标`, … for level `n` (1-based).
fn level_name(n: usize) -> String {
    const DIGITS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    format!("{}级指标", DIGITS.get(n.saturating_sub(1)).unwrap_or(&"末"))
}

/// A heading as printed in the document: `一、政府职能依法全面履行`, `1. 行政审批…`,
/// `（一）…`. (Weights are not stored with a version yet, so none is printed.)
pub fn heading_text(node: &StoredNode) -> String {
    let code = node.code.trim();
    if code.is_empty() {
        node.title.clone()
    } else if code.chars().all(|c| c.is_ascii_digit()) {
        format!("{code}. {}", node.title)
    } else if node.depth == 0 {
        format!("{code}、{}", node.title)
    } else {
        format!("（{code}）{}", node.title)
    }
}

/// The 责任单位 cell: 牵头 units first; `（牵头）` after each when there are several units.
pub fn units_text(node: &StoredNode) -> String {
    let leads: Vec<&str> = node
        .units_with(Role::Lead)
        .map(|a| a.unit_name.as_str())
        .collect();
    let cos: Vec<&str> = node
        .units_with(Role::Co)
        .map(|a| a.unit_name.as_str())
        .collect();
    if leads.len() + cos.len() <= 1 {
        return leads.into_iter().chain(cos).collect();
    }
    leads
        .iter()
        .map(|u| format!("{u}（牵头）"))
        .chain(cos.iter().map(|u| u.to_string()))
        .collect::<Vec<_>>()
        .join("、")
}

/// One indicator row: the headings above it (id, printed text), its 序号, text, units.
struct Line<'a> {
    headings: Vec<(fazhi_store::NodeId, String)>,
    leaf: &'a StoredNode,
}

/// Writes the 责任分工表 of `fw` to `out`.
pub fn write_responsibility(
    fw: &StoredFramework,
    out: &Path,
) -> Result<ResponsibilityExport, ReportError> {
    let lines: Vec<Line> = fw
        .leaves()
        .into_iter()
        .map(|(path, leaf)| Line {
            headings: path
                .iter()
                .take(MAX_HEADING_LEVELS)
                .map(|h| (h.id, heading_text(h)))
                .collect(),
            leaf,
        })
        .collect();
    let levels = lines.iter().map(|l| l.headings.len()).max().unwrap_or(0);
    let heading_width = |i: usize| {
        HEADING_WIDTHS
            .get(i)
            .copied()
            .unwrap_or(DEEPER_HEADING_WIDTH)
    };

    let f = Formats::new();
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name("责任分工")?;
    let code_col = levels as u16;
    let text_col = code_col + 1;
    let units_col = code_col + 2;
    for i in 0..levels {
        ws.set_column_width(i as u16, heading_width(i))?;
    }
    ws.set_column_width(code_col, CODE_WIDTH)?;
    ws.set_column_width(text_col, TEXT_WIDTH)?;
    ws.set_column_width(units_col, UNITS_WIDTH)?;

    ws.merge_range(0, 0, 0, units_col, &fw.info.title, &f.title)?;
    ws.set_row_height(0, 36)?;
    for i in 0..levels {
        ws.write_string_with_format(1, i as u16, level_name(i + 1), &f.header)?;
    }
    ws.write_string_with_format(1, code_col, "序号", &f.header)?;
    ws.write_string_with_format(1, text_col, level_name(levels + 1), &f.header)?;
    ws.write_string_with_format(1, units_col, "责任单位", &f.header)?;
    ws.set_row_height(1, 22)?;
    const FIRST: u32 = 2;

    let mut heights = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let row = FIRST + i as u32;
        let code = line.leaf.code.trim();
        match code.parse::<u32>() {
            Ok(n) => ws.write_number_with_format(row, code_col, n, &f.number)?,
            Err(_) => ws.write_string_with_format(row, code_col, code, &f.centre)?,
        };
        ws.write_string_with_format(row, text_col, &line.leaf.title, &f.text)?;
        let units = units_text(line.leaf);
        ws.write_string_with_format(row, units_col, &units, &f.centre)?;
        heights.push(row_height([
            (line.leaf.title.as_str(), TEXT_WIDTH),
            (units.as_str(), UNITS_WIDTH),
        ]));
    }

    let top = f
        .centre
        .clone()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    // Heading cells: one merged range per run of indicators under the same heading.
    for level in 0..levels {
        let mut start = 0;
        while start < lines.len() {
            let id = lines[start].headings.get(level).map(|h| h.0);
            let mut end = start;
            while end + 1 < lines.len() && lines[end + 1].headings.get(level).map(|h| h.0) == id {
                end += 1;
            }
            let text = lines[start]
                .headings
                .get(level)
                .map(|h| h.1.as_str())
                .unwrap_or("");
            let (r0, r1) = (FIRST + start as u32, FIRST + end as u32);
            // A 一级 range runs over pages: its title at the top, where the range begins.
            let format = if level == 0 { &top } else { &f.centre };
            if r0 == r1 {
                ws.write_string_with_format(r0, level as u16, text, format)?;
            } else {
                ws.merge_range(r0, level as u16, r1, level as u16, text, format)?;
            }
            // A long heading over few short rows: give the rows its height.
            let need = row_height([(text, heading_width(level))]);
            let have: f64 = heights[start..=end].iter().sum();
            if need > have {
                let extra = (need - have) / (end - start + 1) as f64;
                for h in &mut heights[start..=end] {
                    *h += extra;
                }
            }
            start = end + 1;
        }
    }
    for (i, h) in heights.iter().enumerate() {
        ws.set_row_height(FIRST + i as u32, *h)?;
    }

    ws.set_freeze_panes(FIRST, 0)?;
    print_setup(ws, PAPER_A4, Some((1, 1)))?;
    let units: std::collections::BTreeSet<&str> = lines
        .iter()
        .flat_map(|l| l.leaf.assignments.iter().map(|a| a.unit_name.as_str()))
        .collect();
    let units = units.len();
    let bytes = save(&mut workbook, out)?;
    Ok(ResponsibilityExport {
        title: fw.info.title.clone(),
        indicators: lines.len(),
        units,
        bytes,
    })
}

impl From<XlsxError> for ReportError {
    fn from(e: XlsxError) -> Self {
        ReportError::Xlsx(e.to_string())
    }
}
