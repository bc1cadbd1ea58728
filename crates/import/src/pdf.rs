//! PDF input: poppler's `pdftotext -tsv` gives every line of text with its position on
//! the page; the table is rebuilt from those positions into the same tab-separated text
//! the county's extracted seed has (one table row a line, cells split by tabs), which then
//! goes through the text importer's repairs.
//!
//! Why `-tsv` and not the other modes: the default mode prints each table cell as its own
//! block (rows are lost), `-layout` aligns columns with spaces whose count is relative to
//! each page's content (column positions differ from page to page); `-tsv` gives absolute
//! coordinates, so a column's left edge found in the header row holds on every page.

use std::time::Duration;

use crate::ImportError;
use crate::tools::{self, ToolError};

/// Largest PDF handed to pdftotext.
pub const MAX_PDF_BYTES: usize = 64 * 1024 * 1024;
/// Most TSV text pdftotext may write back (a 300-page table is a few MB).
pub const MAX_PDFTOTEXT_OUTPUT: usize = 64 * 1024 * 1024;
pub const PDFTOTEXT_TIMEOUT: Duration = Duration::from_secs(60);

/// One line of text on a page, as pdftotext found it.
#[derive(Debug, Clone)]
struct Line {
    page: u32,
    /// pdftotext's (page, paragraph, block): lines of one wrapped paragraph share it.
    paragraph: (u32, u32, u32),
    left: f64,
    top: f64,
    right: f64,
    height: f64,
    text: String,
}

/// The PDF's text rebuilt as tab-separated rows.
pub fn pdf_text(bytes: &[u8]) -> Result<String, ImportError> {
    if bytes.len() > MAX_PDF_BYTES {
        return Err(ImportError::Unreadable(format!(
            "PDF 文件有 {} MB，超过 {} MB 的上限",
            bytes.len() / (1024 * 1024),
            MAX_PDF_BYTES / (1024 * 1024)
        )));
    }
    let tsv = tools::run(
        "pdftotext",
        &["-tsv", "-enc", "UTF-8", "-", "-"],
        bytes,
        PDFTOTEXT_TIMEOUT,
        MAX_PDFTOTEXT_OUTPUT,
    )
    .map_err(|e| match e {
        ToolError::NotInstalled(_) => ImportError::Unreadable(
            "读取 PDF 需要 poppler-utils 中的 pdftotext，服务器上没有安装（apt-get install poppler-utils）；\
             也可以把 PDF 另存为 Word（.docx）或文本后再导入"
                .into(),
        ),
        ToolError::Failed(_, why) => {
            ImportError::Unreadable(format!("无法读取 PDF：文件已损坏或加密（{why}）"))
        }
        other => ImportError::Unreadable(format!("无法读取 PDF：{other}")),
    })?;
    let tsv = String::from_utf8_lossy(&tsv);
    let (pages, lines) = parse_tsv(&tsv);
    if pages == 0 {
        return Err(ImportError::Unreadable(
            "无法读取 PDF：文件已损坏，读不出任何页面".into(),
        ));
    }
    if lines.is_empty() {
        return Err(ImportError::Unreadable(format!(
            "这份 PDF（{pages} 页）没有文字层，像是扫描件或图片：请先用 OCR（文字识别）转成文字或 Word，再导入识别结果"
        )));
    }
    Ok(rebuild(&lines))
}

/// Pages seen and the text lines (words joined) of pdftotext's TSV output.
fn parse_tsv(tsv: &str) -> (u32, Vec<Line>) {
    let mut pages = 0;
    let mut lines: Vec<Line> = Vec::new();
    let mut key: Option<(u32, u32, u32, u32)> = None;
    for record in tsv.lines().skip(1) {
        let f: Vec<&str> = record.splitn(12, '\t').collect();
        if f.len() < 12 {
            continue;
        }
        let num = |i: usize| f[i].trim().parse::<f64>().ok().filter(|v| v.is_finite());
        let int = |i: usize| f[i].trim().parse::<u32>().ok();
        match f[0] {
            "1" => {
                pages += 1;
                continue;
            }
            "5" => {}
            _ => continue,
        }
        let text = f[11].trim();
        let (Some(page), Some(par), Some(block), Some(line)) = (int(1), int(2), int(3), int(4))
        else {
            continue;
        };
        let (Some(left), Some(top), Some(width), Some(height)) = (num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        let this = (page, par, block, line);
        match lines.last_mut() {
            Some(l) if key == Some(this) => {
                let joins_words = l.text.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && text.starts_with(|c: char| c.is_ascii_alphanumeric());
                if joins_words {
                    l.text.push(' ');
                }
                l.text.push_str(text);
                l.right = l.right.max(left + width);
            }
            _ => lines.push(Line {
                page,
                paragraph: (page, par, block),
                left,
                top,
                right: left + width,
                height,
                text: text.to_string(),
            }),
        }
        key = Some(this);
    }
    (pages, lines)
}

/// Lines standing side by side: same page, tops within half a line.
fn bands(lines: &[Line]) -> Vec<Vec<Line>> {
    let mut sorted: Vec<Line> = lines.to_vec();
    sorted.sort_by(|a, b| {
        (a.page, a.top)
            .partial_cmp(&(b.page, b.top))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out: Vec<Vec<Line>> = Vec::new();
    for line in sorted {
        match out.last_mut() {
            Some(band)
                if band[0].page == line.page
                    && (line.top - band[0].top).abs() < band[0].height.max(1.0) * 0.5 =>
            {
                band.push(line)
            }
            _ => out.push(vec![line]),
        }
    }
    for band in &mut out {
        band.sort_by(|a, b| {
            a.left
                .partial_cmp(&b.left)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    out
}

fn is_header(band: &[Line]) -> bool {
    let has = |words: &[&str]| {
        band.iter()
            .any(|l| words.iter().any(|w| l.text.contains(w)))
    };
    band.len() >= 2
        && has(&["责任单位", "牵头单位", "责任部门", "牵头部门"])
        && has(&["指标", "内容", "任务", "事项"])
}

fn is_seq(text: &str) -> bool {
    let t = text.trim_end_matches(['.', '．', '、']);
    !t.is_empty() && t.len() <= 4 && t.chars().all(|c| c.is_ascii_digit())
}

struct Table {
    /// Left edge of each column, from the header.
    starts: Vec<f64>,
    seq: Option<usize>,
    /// Columns holding unit lists: their lines may be one unit each.
    unit_columns: Vec<usize>,
    /// Rightmost text seen in each column: the last column's edge.
    widest: Vec<f64>,
}

impl Table {
    fn from_header(band: &[Line]) -> Table {
        Table {
            starts: band.iter().map(|l| l.left).collect(),
            seq: band
                .iter()
                .position(|l| matches!(l.text.as_str(), "序号" | "编号" | "项次")),
            unit_columns: band
                .iter()
                .enumerate()
                .filter(|(_, l)| l.text.contains("单位") || l.text.contains("部门"))
                .map(|(i, _)| i)
                .collect(),
            widest: vec![0.0; band.len()],
        }
    }

    fn column_of(&self, line: &Line) -> usize {
        let tolerance = line.height.max(1.0) * 0.5;
        self.starts
            .iter()
            .rposition(|s| *s <= line.left + tolerance)
            .unwrap_or(0)
    }

    /// Right edge of a column: the next column's start, or for the last column the
    /// rightmost text in it.
    fn right_of(&self, col: usize) -> Option<f64> {
        self.starts
            .get(col + 1)
            .or_else(|| self.widest.get(col))
            .copied()
    }
}

/// Physical lines of one table row, cell by cell, joined back: a wrapped cell continues
/// without a separator (Chinese wraps mid-word); in a unit column a line that ends short
/// of the column's edge ended a name, so the next one is a new unit.
struct RowText {
    cells: Vec<String>,
    last_right: Vec<Option<f64>>,
}

impl RowText {
    fn new(n: usize) -> Self {
        RowText {
            cells: vec![String::new(); n],
            last_right: vec![None; n],
        }
    }

    fn push(&mut self, table: &Table, col: usize, line: &Line) {
        let Some(cell) = self.cells.get_mut(col) else {
            return;
        };
        if !cell.is_empty() {
            let short = match (self.last_right[col], table.right_of(col)) {
                (Some(prev_right), Some(edge)) => edge - prev_right > line.height * 1.5,
                _ => false,
            };
            let new_unit = table.unit_columns.contains(&col) && short;
            let latin_words = cell.ends_with(|c: char| c.is_ascii_alphanumeric())
                && line.text.starts_with(|c: char| c.is_ascii_alphanumeric());
            let sep = if new_unit || latin_words { " " } else { "" };
            cell.push_str(sep);
        }
        cell.push_str(&line.text);
        self.last_right[col] = Some(line.right);
    }

    fn is_empty(&self) -> bool {
        self.cells.iter().all(String::is_empty)
    }

    fn render(&self) -> String {
        self.cells
            .iter()
            .map(|c| c.replace('\t', " "))
            .collect::<Vec<_>>()
            .join("\t")
    }
}

/// The lines as text: before the table one line per band (cells by tabs), then one line
/// per table row. A row starts where the item-number column has a number (or, without
/// one, where the first column has text); a row cut by a page break continues on the next
/// page.
fn rebuild(lines: &[Line]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut table: Option<Table> = None;
    let mut row: Option<RowText> = None;
    let mut last_paragraph: Option<(u32, u32, u32)> = None;
    let flush = |row: &mut Option<RowText>, out: &mut Vec<String>| {
        if let Some(r) = row.take()
            && !r.is_empty()
        {
            out.push(r.render());
        }
    };
    let bands = bands(lines);
    // How far each column's text reaches, measured against the first header's columns.
    let mut widest: Vec<f64> = Vec::new();
    if let Some(first) = bands.iter().position(|b| is_header(b)) {
        let t = Table::from_header(&bands[first]);
        widest = vec![0.0; t.starts.len()];
        for line in bands[first + 1..].iter().flatten() {
            let col = t.column_of(line);
            widest[col] = widest[col].max(line.right);
        }
    }
    for band in bands {
        if is_header(&band) {
            flush(&mut row, &mut out);
            let mut header = Table::from_header(&band);
            if header.starts.len() == widest.len() {
                header.widest = widest.clone();
            }
            out.push(
                band.iter()
                    .map(|l| l.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\t"),
            );
            table = Some(header);
            continue;
        }
        let Some(t) = &table else {
            // Outside a table, a paragraph wrapped over several lines is one line again.
            if let ([line], Some(prev)) = (band.as_slice(), last_paragraph)
                && line.paragraph == prev
                && let Some(last) = out.last_mut()
            {
                if last.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && line.text.starts_with(|c: char| c.is_ascii_alphanumeric())
                {
                    last.push(' ');
                }
                last.push_str(&line.text);
                continue;
            }
            last_paragraph = match band.as_slice() {
                [line] => Some(line.paragraph),
                _ => None,
            };
            out.push(
                band.iter()
                    .map(|l| l.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\t"),
            );
            continue;
        };
        let starts_row = band.iter().any(|l| {
            let col = t.column_of(l);
            match t.seq {
                Some(seq) => col == seq && is_seq(&l.text),
                None => col == 0,
            }
        });
        if starts_row || row.is_none() {
            flush(&mut row, &mut out);
            row = Some(RowText::new(t.starts.len()));
        }
        if let Some(r) = row.as_mut() {
            for line in &band {
                r.push(t, t.column_of(line), line);
            }
        }
    }
    flush(&mut row, &mut out);
    let mut text = out.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(page: u32, left: f64, top: f64, right: f64, text: &str) -> Line {
        Line {
            page,
            paragraph: (page, top as u32, 0),
            left,
            top,
            right,
            height: 10.0,
            text: text.into(),
        }
    }

    #[test]
    fn rows_are_rebuilt_from_positions_across_pages() {
        let lines = vec![
            line(1, 40.0, 20.0, 200.0, "某县责任分工"),
            line(1, 40.0, 50.0, 80.0, "一级指标"),
            line(1, 100.0, 50.0, 120.0, "序号"),
            line(1, 150.0, 50.0, 190.0, "三级指标"),
            line(1, 300.0, 50.0, 340.0, "责任单位"),
            line(1, 40.0, 70.0, 95.0, "一、政府职"),
            line(1, 100.0, 70.0, 105.0, "1"),
            line(1, 150.0, 70.0, 295.0, "向社会公布本级政府全部"),
            line(1, 300.0, 70.0, 340.0, "县司法局"),
            line(1, 40.0, 82.0, 60.0, "能"),
            line(1, 150.0, 82.0, 200.0, "清单。"),
            line(1, 300.0, 82.0, 340.0, "县财政局"),
            // Page 2: the cell of item 2 continues, then item 3.
            line(1, 100.0, 100.0, 105.0, "2"),
            line(1, 150.0, 100.0, 295.0, "对各类证明事项，凡没有"),
            line(1, 300.0, 100.0, 398.0, "县行政审批服务局、县市"),
            line(2, 150.0, 20.0, 220.0, "依据的一律取消。"),
            line(2, 300.0, 20.0, 340.0, "场监督管理局"),
            line(2, 100.0, 40.0, 105.0, "3"),
            line(2, 150.0, 40.0, 200.0, "第三项。"),
            line(2, 300.0, 40.0, 340.0, "县民政局"),
        ];
        let text = rebuild(&lines);
        // A name that ends short of the column's edge is followed by another name; a
        // line that fills the column wraps inside a name.
        assert_eq!(
            text,
            "某县责任分工\n\
             一级指标\t序号\t三级指标\t责任单位\n\
             一、政府职能\t1\t向社会公布本级政府全部清单。\t县司法局 县财政局\n\
             \t2\t对各类证明事项，凡没有依据的一律取消。\t县行政审批服务局、县市场监督管理局\n\
             \t3\t第三项。\t县民政局\n"
        );
    }

    #[test]
    fn short_lines_in_a_unit_column_are_separate_units() {
        let header = [
            line(1, 40.0, 50.0, 80.0, "序号"),
            line(1, 100.0, 50.0, 140.0, "三级指标"),
            line(1, 200.0, 50.0, 240.0, "责任单位"),
            line(1, 400.0, 50.0, 420.0, "备注"),
        ];
        let mut lines = header.to_vec();
        lines.push(line(1, 40.0, 70.0, 45.0, "1"));
        lines.push(line(1, 100.0, 70.0, 150.0, "公布清单。"));
        lines.push(line(1, 200.0, 70.0, 240.0, "县司法局"));
        lines.push(line(1, 200.0, 82.0, 240.0, "县财政局"));
        let text = rebuild(&lines);
        assert!(
            text.ends_with("1\t公布清单。\t县司法局 县财政局\t\n"),
            "{text}"
        );
    }

    #[test]
    fn a_wrapped_paragraph_outside_a_table_is_one_line() {
        let mut first = line(
            1,
            40.0,
            20.0,
            500.0,
            "1. 加强规范性文件管理，实行统一登记、",
        );
        let mut second = line(1, 40.0, 32.0, 200.0, "统一编号。");
        let third = line(1, 40.0, 44.0, 200.0, "责任单位：县司法局");
        first.paragraph = (1, 3, 0);
        second.paragraph = (1, 3, 0);
        assert_eq!(
            rebuild(&[first, second, third]),
            "1. 加强规范性文件管理，实行统一登记、统一编号。\n责任单位：县司法局\n"
        );
    }

    #[test]
    fn tsv_words_are_joined_into_lines() {
        let tsv = "level\tpage_num\tpar_num\tblock_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t792\t612\t-1\t###PAGE###\n\
                   5\t1\t2\t0\t1\t0\t184.00\t119.55\t7.15\t11.70\t100\t1.\n\
                   5\t1\t2\t0\t1\t1\t193.50\t119.55\t117.00\t11.70\t100\t行政审批制度改革全面推行。\n\
                   5\t1\t3\t0\t0\t0\t20\t20\t10\t11.70\t100\tPDF\n\
                   5\t1\t3\t0\t0\t1\t32\t20\t10\t11.70\t100\tfile\n\
                   5\tx\tbroken\n";
        let (pages, lines) = parse_tsv(tsv);
        assert_eq!(pages, 1);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "1.行政审批制度改革全面推行。");
        assert!((lines[0].right - 310.5).abs() < 0.01);
        assert_eq!(lines[1].text, "PDF file");
    }
}
