//! Word documents (.docx): the body's paragraphs and tables as rows of cells, read straight
//! from `word/document.xml`.
//!
//! A table row is a row; a merged cell (`w:vMerge` continuing, or the extra columns of a
//! `w:gridSpan`) reads as empty, as merged spreadsheet cells do; a paragraph outside any
//! table is a row of one cell (tabs split it). A table continued after a page break is
//! usually a second table with the header repeated, which the assembler skips.

use std::io::{Cursor, Read};

use fazhi_domain::unit;
use quick_xml::events::{BytesStart, Event};

use crate::ImportError;
use crate::grid::Row;

/// Largest .docx file read at all.
pub const MAX_DOCX_BYTES: usize = 64 * 1024 * 1024;
/// Largest `word/document.xml` once inflated: a 300-page table is a few MB.
pub const MAX_DOCUMENT_XML_BYTES: u64 = 64 * 1024 * 1024;
/// A Word file has a few dozen parts; far more means it is not one.
pub const MAX_ZIP_ENTRIES: usize = 5_000;
/// Widest span honoured: a bigger `w:gridSpan` is damage, not a table.
const MAX_SPAN: usize = 64;

fn unreadable(why: impl std::fmt::Display) -> ImportError {
    ImportError::Unreadable(format!("无法读取 Word 文档（.docx）：{why}"))
}

/// The inflated `word/document.xml`, with every size checked before it is read.
fn document_xml(bytes: &[u8]) -> Result<String, ImportError> {
    if bytes.len() > MAX_DOCX_BYTES {
        return Err(unreadable(format!(
            "文件有 {} MB，超过 {} MB 的上限",
            bytes.len() / (1024 * 1024),
            MAX_DOCX_BYTES / (1024 * 1024)
        )));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("文件已损坏或不是 .docx 格式（{e}）")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(unreadable(format!(
            "压缩包里有 {} 个文件，不像 Word 文档",
            archive.len()
        )));
    }
    let entry = archive.by_name("word/document.xml").map_err(|_| {
        unreadable("里面没有 word/document.xml，这不是 Word 文档（若是电子表格，请以 .xlsx 上传）")
    })?;
    if entry.size() > MAX_DOCUMENT_XML_BYTES {
        return Err(unreadable(format!(
            "正文解压后有 {} MB，超过 {} MB 的上限",
            entry.size() / (1024 * 1024),
            MAX_DOCUMENT_XML_BYTES / (1024 * 1024)
        )));
    }
    // The declared size may lie: never read more than the limit.
    let mut xml = Vec::new();
    entry
        .take(MAX_DOCUMENT_XML_BYTES + 1)
        .read_to_end(&mut xml)
        .map_err(|e| unreadable(format!("正文解压失败（{e}）")))?;
    if xml.len() as u64 > MAX_DOCUMENT_XML_BYTES {
        return Err(unreadable("正文解压后超过大小上限"));
    }
    String::from_utf8(xml).map_err(|_| unreadable("正文不是 UTF-8 编码的 XML"))
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .map(|a| a.value.trim().to_string())
}

/// The paragraphs of one cell as one text: unit lists stay apart, a unit label starts a
/// new clause, other paragraphs join as the sentences they are.
fn join_paragraphs(paragraphs: &[String]) -> String {
    let mut out = String::new();
    let mut prev: Option<&str> = None;
    for p in paragraphs
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
    {
        if let Some(a) = prev {
            let sep = if unit::is_unit_list(a) && unit::is_unit_list(p) {
                " "
            } else if [
                "责任单位",
                "牵头单位",
                "配合单位",
                "责任部门",
                "牵头部门",
                "配合部门",
                "协办单位",
            ]
            .iter()
            .any(|l| p.starts_with(l))
            {
                "；"
            } else if a.ends_with(|c: char| c.is_ascii_alphanumeric())
                && p.starts_with(|c: char| c.is_ascii_alphanumeric())
            {
                " "
            } else {
                ""
            };
            out.push_str(sep);
        }
        out.push_str(p);
        prev = Some(p);
    }
    out
}

#[derive(Default)]
struct CellState {
    paragraphs: Vec<String>,
    span: usize,
    continues_merge: bool,
}

/// A paragraph ends: in a cell it is one of the cell's paragraphs, in a nested table it
/// belongs to the outer cell, outside tables it is a row (tabs split it into cells).
fn finish_paragraph(
    paragraph: &mut String,
    cell: &mut Option<CellState>,
    rows: &mut Vec<Row>,
    line: &mut u32,
) {
    let text = std::mem::take(paragraph);
    match cell {
        Some(c) => c.paragraphs.push(text),
        None => {
            *line = line.saturating_add(1);
            rows.push(Row {
                line: *line,
                cells: text.split('\t').map(str::to_string).collect(),
            });
        }
    }
}

/// Rows of a Word document's body, in document order.
pub fn read_docx(bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let xml = document_xml(bytes)?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut rows: Vec<Row> = Vec::new();
    let mut line: u32 = 0;
    // Depth of tables: only the outermost table's rows and cells are rows and cells; a
    // nested table's text belongs to the outer cell it sits in.
    let mut table_depth = 0usize;
    let mut row_cells: Vec<String> = Vec::new();
    let mut cell: Option<CellState> = None;
    let mut paragraph = String::new();
    let mut in_text = false;
    // Deleted text of tracked changes and field codes are not what the document says.
    let mut skip_depth = 0usize;
    let mut in_body = false;

    loop {
        let event = reader
            .read_event()
            .map_err(|e| unreadable(format!("正文 XML 有错误（{e}）")))?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if skip_depth > 0 {
                    skip_depth += 1;
                    continue;
                }
                match name {
                    "body" => in_body = true,
                    // mc:Fallback repeats a text box's mc:Choice for old readers.
                    "del" | "delText" | "instrText" | "Fallback" => skip_depth = 1,
                    "tbl" => table_depth += 1,
                    "tr" if table_depth == 1 => row_cells.clear(),
                    "tc" if table_depth == 1 => {
                        cell = Some(CellState {
                            span: 1,
                            ..Default::default()
                        })
                    }
                    "t" => in_text = true,
                    "vMerge" if table_depth == 1 => {
                        if let Some(c) = cell.as_mut() {
                            c.continues_merge = attr(&e, "w:val").is_none_or(|v| v != "restart");
                        }
                    }
                    "gridSpan" if table_depth == 1 => {
                        if let Some(c) = cell.as_mut() {
                            c.span = attr(&e, "w:val")
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(1)
                                .clamp(1, MAX_SPAN);
                        }
                    }
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if skip_depth > 0 {
                    continue;
                }
                match e.local_name().as_ref() {
                    "tab" if in_body => paragraph.push(if cell.is_some() { ' ' } else { '\t' }),
                    "br" | "cr" if in_body => paragraph.push(' '),
                    "vMerge" if table_depth == 1 => {
                        if let Some(c) = cell.as_mut() {
                            c.continues_merge = attr(&e, "w:val").is_none_or(|v| v != "restart");
                        }
                    }
                    "gridSpan" if table_depth == 1 => {
                        if let Some(c) = cell.as_mut() {
                            c.span = attr(&e, "w:val")
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(1)
                                .clamp(1, MAX_SPAN);
                        }
                    }
                    "p" if in_body => {
                        finish_paragraph(&mut paragraph, &mut cell, &mut rows, &mut line)
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_text && skip_depth == 0 => paragraph.push_str(&t.xml10_content()),
            Event::CData(t) if in_text && skip_depth == 0 => paragraph.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text && skip_depth == 0 => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                paragraph.extend(c);
            }
            Event::End(e) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                match e.local_name().as_ref() {
                    "body" => in_body = false,
                    "t" => in_text = false,
                    "p" if in_body => {
                        finish_paragraph(&mut paragraph, &mut cell, &mut rows, &mut line)
                    }
                    "tc" if table_depth == 1 => {
                        if let Some(c) = cell.take() {
                            let text = if c.continues_merge {
                                String::new()
                            } else {
                                join_paragraphs(&c.paragraphs)
                            };
                            row_cells.push(text);
                            row_cells.extend(std::iter::repeat_n(String::new(), c.span - 1));
                        }
                    }
                    "tr" if table_depth == 1 => {
                        line = line.saturating_add(1);
                        rows.push(Row {
                            line,
                            cells: std::mem::take(&mut row_cells),
                        });
                    }
                    "tbl" => table_depth = table_depth.saturating_sub(1),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if rows.iter().all(Row::is_blank) {
        return Err(ImportError::Empty);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A minimal .docx around `body` (the inside of `w:body`).
    pub(crate) fn docx(body: &str) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default();
            zip.start_file("[Content_Types].xml", opts).unwrap();
            zip.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
            zip.start_file("word/document.xml", opts).unwrap();
            write!(
                zip,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                 <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
            )
            .unwrap();
            zip.finish().unwrap();
        }
        buf.into_inner()
    }

    fn p(text: &str) -> String {
        format!("<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
    }

    fn tc(props: &str, paragraphs: &[&str]) -> String {
        let ps: String = paragraphs.iter().map(|t| p(t)).collect();
        format!("<w:tc><w:tcPr>{props}</w:tcPr>{ps}</w:tc>")
    }

    #[test]
    fn reads_merged_cells_spans_and_several_paragraphs() {
        let body = format!(
            "{}<w:tbl><w:tr>{}{}{}</w:tr><w:tr>{}{}{}</w:tr><w:tr>{}{}</w:tr></w:tbl>{}",
            p("法治政府建设责任分工"),
            tc("<w:vMerge w:val=\"restart\"/>", &["一、政府职能"]),
            tc("", &["公布清单。", "动态调整。"]),
            tc("", &["县司法局", "县财政局"]),
            tc("<w:vMerge/>", &["stale"]),
            tc("", &["取消证明 &amp; 备案。"]),
            tc("", &["牵头单位：县司法局", "配合单位：县民政局"]),
            tc("<w:gridSpan w:val=\"2\"/>", &["附表说明"]),
            tc("", &["x"]),
            p("甲\t乙"),
        );
        let rows = read_docx(&docx(&body)).unwrap();
        let cells: Vec<Vec<String>> = rows.iter().map(|r| r.cells.clone()).collect();
        assert_eq!(
            cells,
            vec![
                vec!["法治政府建设责任分工".to_string()],
                vec![
                    "一、政府职能".into(),
                    "公布清单。动态调整。".into(),
                    "县司法局 县财政局".into()
                ],
                vec![
                    "".into(),
                    "取消证明 & 备案。".into(),
                    "牵头单位：县司法局；配合单位：县民政局".into()
                ],
                vec!["附表说明".into(), "".into(), "x".into()],
                vec!["甲".into(), "乙".into()],
            ]
        );
        assert_eq!(
            rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn deleted_text_and_nested_tables_do_not_make_rows() {
        let body = format!(
            "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>保留</w:t></w:r><w:del><w:r><w:delText>删除</w:delText></w:r></w:del></w:p>\
             <w:tbl><w:tr><w:tc>{}</w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl>",
            p("内层")
        );
        let rows = read_docx(&docx(&body)).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].cells, ["保留内层"]);
    }

    #[test]
    fn damaged_files_get_a_clear_error() {
        for bytes in [&b"PK\x03\x04not a zip"[..], b"", b"\x00\x01"] {
            let err = read_docx(bytes).unwrap_err();
            assert!(err.to_string().contains("Word"), "{err}");
        }
        // A zip that is not a Word document.
        let mut buf = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            zip.start_file("a.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(b"x").unwrap();
            zip.finish().unwrap();
        }
        let err = read_docx(&buf.into_inner()).unwrap_err();
        assert!(err.to_string().contains("word/document.xml"), "{err}");
        let err = read_docx(&docx("<w:p><w:r><w:t>unclosed")).unwrap_err();
        assert!(err.to_string().contains("XML"), "{err}");
    }

    #[test]
    fn a_huge_span_is_bounded() {
        let body = format!(
            "<w:tbl><w:tr>{}</w:tr></w:tbl>",
            tc("<w:gridSpan w:val=\"4000000000\"/>", &["x"])
        );
        let rows = read_docx(&docx(&body)).unwrap();
        assert_eq!(rows[0].cells.len(), MAX_SPAN);
    }
}
