//! Readers that turn each supported file into the same thing: rows of text cells with
//! their source line (or spreadsheet row) number.

use std::io::Cursor;

use calamine::{Data, DataRef, Reader, XlsxError};

use crate::ImportError;
use crate::limits::{LimitError, MAX_COLUMNS, MAX_ROWS};

/// One row of the source table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in a text file, row in a spreadsheet.
    pub line: u32,
    pub cells: Vec<String>,
}

impl Row {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// The layouts the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Text extracted from a PDF: one table row a line, cells separated by tabs, no
    /// quoting. Also reads outline documents (one heading or item a line).
    Text,
    /// Tab-separated values with CSV-style quoting (Excel's "Unicode text").
    Tsv,
    Csv,
    Xlsx,
    /// Word 2007+ (.docx): its tables and paragraphs.
    Docx,
    /// PDF, read with poppler's pdftotext.
    Pdf,
    /// Old binary Word (.doc) or WPS (.wps): converted with LibreOffice when present.
    LegacyWord,
}

impl InputFormat {
    /// Pick the format from the file name, or failing that from the bytes.
    pub fn detect(file_name: Option<&str>, bytes: &[u8]) -> InputFormat {
        let ext = file_name
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("docx" | "docm") => InputFormat::Docx,
            Some("pdf") => InputFormat::Pdf,
            Some("doc" | "wps") => InputFormat::LegacyWord,
            Some("xlsx" | "xlsm" | "xls" | "ods") => InputFormat::Xlsx,
            Some("csv") => InputFormat::Csv,
            Some("tsv" | "tab") => InputFormat::Tsv,
            Some("txt" | "text" | "md") => InputFormat::Text,
            _ if bytes.starts_with(b"%PDF-") => InputFormat::Pdf,
            // Zip part names are stored uncompressed: a Word file names its document part.
            _ if bytes.starts_with(b"PK\x03\x04") && contains(bytes, b"word/document.xml") => {
                InputFormat::Docx
            }
            // An OLE file with a WordDocument stream (named in UTF-16) is a .doc.
            _ if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
                && contains(
                    bytes,
                    "WordDocument"
                        .encode_utf16()
                        .flat_map(u16::to_le_bytes)
                        .collect::<Vec<u8>>()
                        .as_slice(),
                ) =>
            {
                InputFormat::LegacyWord
            }
            _ if bytes.starts_with(b"PK\x03\x04")
                || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) =>
            {
                InputFormat::Xlsx
            }
            _ => InputFormat::Text,
        }
    }

    pub fn parse_name(name: &str) -> Option<InputFormat> {
        match name.to_ascii_lowercase().as_str() {
            "txt" | "text" => Some(InputFormat::Text),
            "tsv" => Some(InputFormat::Tsv),
            "csv" => Some(InputFormat::Csv),
            "xlsx" | "xls" | "excel" => Some(InputFormat::Xlsx),
            "docx" | "word" => Some(InputFormat::Docx),
            "pdf" => Some(InputFormat::Pdf),
            "doc" | "wps" => Some(InputFormat::LegacyWord),
            _ => None,
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decoded text and whether it had to be read as GB18030 (what Excel saves CSV as on a
/// Chinese Windows machine).
pub fn decode_text(bytes: &[u8]) -> (String, bool) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), false),
        Err(_) => {
            let (s, _, _) = encoding_rs::GB18030.decode(bytes);
            (s.into_owned(), true)
        }
    }
}

pub fn read_text(text: &str) -> Vec<Row> {
    text.split('\n')
        .enumerate()
        .map(|(i, line)| Row {
            line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            cells: line
                .trim_end_matches('\r')
                .split('\t')
                .map(str::to_string)
                .collect(),
        })
        .collect()
}

pub fn read_delimited(text: &str, delimiter: u8) -> Result<Vec<Row>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Malformed {
            line: e
                .position()
                .and_then(|p| u32::try_from(p.line()).ok())
                .unwrap_or(0),
            reason: e.to_string(),
        })?;
        let line = record
            .position()
            .and_then(|p| u32::try_from(p.line()).ok())
            .unwrap_or(0);
        rows.push(Row {
            line,
            cells: record.iter().map(str::to_string).collect(),
        });
    }
    Ok(rows)
}

/// Rows of the first worksheet that has any content. Merged cells read as empty below
/// their first row, which the assembler treats like the PDF's blank cells.
///
/// The workbook is inspected first ([`crate::xlsx_guard`]); cells are then streamed and
/// each one's position checked again, so the grid built here never exceeds
/// [`MAX_ROWS`] × [`MAX_COLUMNS`] whatever the file claims.
pub fn read_workbook(bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        // calamine's .xls reader reserves what the file's dimension record claims, which
        // cannot be checked beforehand; encrypted .xlsx files use the same container.
        return Err(ImportError::Unreadable(
            "这是旧版 .xls 或加了密码的电子表格，无法安全读取；请在 Excel 或 WPS 中“另存为” .xlsx（不设密码）后再导入"
                .into(),
        ));
    }
    crate::xlsx_guard::inspect(bytes)?;
    let mut workbook = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        ImportError::Unreadable(format!(
            "无法打开电子表格：{e}（只能读取 .xlsx；.ods、.xlsb 请另存为 .xlsx）"
        ))
    })?;
    for name in workbook.sheet_names() {
        let unreadable =
            |e: XlsxError| ImportError::Unreadable(format!("无法读取工作表“{name}”：{e}"));
        let mut reader = match workbook.worksheet_cells_reader(&name) {
            Ok(reader) => reader,
            Err(XlsxError::NotAWorksheet(_)) => continue,
            Err(e) => return Err(unreadable(e)),
        };
        let mut cells = Vec::new();
        while let Some(cell) = reader.next_cell().map_err(unreadable)? {
            if matches!(cell.get_value(), DataRef::Empty) {
                continue;
            }
            let (row, col) = cell.get_position();
            if row >= MAX_ROWS || col >= MAX_COLUMNS {
                return Err(LimitError::CellOutOfRange {
                    place: format!("工作表“{name}”"),
                    cell: format!("{}{}", crate::limits::column_name(col), u64::from(row) + 1),
                }
                .into());
            }
            cells.push(((row, col), cell_text(&Data::from(cell.get_value().clone()))));
        }
        let Some(first_row) = cells.iter().map(|((r, _), _)| *r).min() else {
            continue;
        };
        let last_row = cells
            .iter()
            .map(|((r, _), _)| *r)
            .max()
            .unwrap_or(first_row);
        let width = cells
            .iter()
            .map(|((_, c), _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut rows: Vec<Row> = (first_row..=last_row)
            .map(|r| Row {
                line: r + 1,
                cells: vec![String::new(); width],
            })
            .collect();
        // A later cell at the same position wins, as in calamine's ranges.
        for ((r, c), text) in cells {
            rows[(r - first_row) as usize].cells[c as usize] = text;
        }
        return Ok(rows);
    }
    Err(ImportError::Unreadable("电子表格中没有任何内容".into()))
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        // Item numbers come back as floats; print whole numbers without ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}
