//! Readers that turn each supported file into the same thing: rows of text cells with
//! their source line (or spreadsheet row) number.

use std::io::Cursor;

use calamine::{Data, Reader};

use crate::ImportError;

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
pub fn read_workbook(bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| ImportError::Unreadable(format!("无法打开电子表格：{e}")))?;
    let names = workbook.sheet_names();
    for name in names {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| ImportError::Unreadable(format!("无法读取工作表“{name}”：{e}")))?;
        if range.is_empty() {
            continue;
        }
        let first_row = range.start().map(|(r, _)| r).unwrap_or(0);
        let first_col = range.start().map(|(_, c)| c).unwrap_or(0);
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, cells)| Row {
                line: u32::try_from(first_row as usize + i + 1).unwrap_or(u32::MAX),
                cells: std::iter::repeat_n(String::new(), first_col as usize)
                    .chain(cells.iter().map(cell_text))
                    .collect(),
            })
            .collect();
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
