//! Limits on what an imported file may contain, checked before any parser does work that
//! grows with what the file claims. A real responsibility-division table is a few hundred
//! rows of five to ten columns (the county seed: 115 lines, 28 KB); each limit is far
//! above that and far below what would hurt the server.

use std::fmt;

/// Largest file accepted, in any format (the web page's default upload limit).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Lines of a text file. PDF-extracted text spreads one table row over several lines
/// (split cells, vertical text), so this is higher than [`MAX_ROWS`].
pub const MAX_TEXT_LINES: usize = 50_000;
/// Rows of a spreadsheet or CSV/TSV records; in a spreadsheet, no cell with content may
/// lie below this row.
pub const MAX_ROWS: u32 = 10_000;
/// Cells of a row; in a spreadsheet, no cell with content may lie right of this column
/// (64 = column BL).
pub const MAX_COLUMNS: u32 = 64;
/// Files inside an .xlsx (an Excel workbook has a dozen or two).
pub const MAX_ZIP_ENTRIES: usize = 200;
/// Bytes of all files inside an .xlsx once decompressed, counted while decompressing.
pub const MAX_UNZIPPED_BYTES: u64 = 50 * 1024 * 1024;
/// Entries of the shared-string table (`count` and `uniqueCount`): at most one a cell.
pub const MAX_SHARED_STRINGS: u64 = MAX_ROWS as u64 * MAX_COLUMNS as u64;

/// A file over one of the limits: says which limit and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error(
        "文件大小为{}，超过导入上限{}；责任分工表通常不到 1 MB，请确认选择的是正确的文件",
        Bytes(*size),
        Bytes(*limit)
    )]
    FileTooLarge { size: u64, limit: u64 },
    #[error("文本超过{limit}行（上限），请确认选择的是责任分工表")]
    TooManyLines { limit: usize },
    #[error("表格超过{limit}行（上限，第{line}行处），请删除多余的行后重新导入")]
    TooManyRows { line: u64, limit: u32 },
    #[error("第{line}行超过{limit}个单元格（上限），请检查分隔符是否正确")]
    TooManyFields { line: u64, limit: u32 },
    #[error("电子表格内部含有{found}个文件，超过上限{limit}个，不像是正常的 Excel 文件")]
    TooManyEntries { found: usize, limit: usize },
    #[error(
        "电子表格解压后超过{}（上限，在内部文件“{entry}”处），不像是正常的 Excel 文件",
        Bytes(*limit)
    )]
    Unzipped { entry: String, limit: u64 },
    #[error(
        "电子表格{place}的单元格{cell}超出范围：最多{max_rows}行、{max_columns}列（到{last_column}列）；请删除多余的行列后重新保存",
        max_rows = MAX_ROWS,
        max_columns = MAX_COLUMNS,
        last_column = column_name(MAX_COLUMNS - 1)
    )]
    CellOutOfRange {
        /// Where, ready to print: `内部文件“xl/worksheets/sheet1.xml”` or `工作表“…”`.
        place: String,
        cell: String,
    },
    #[error(
        "电子表格内部文件“{part}”声明的区域{range}超出范围：最多{max_rows}行、{max_columns}列；请删除多余的空行空列后重新保存",
        max_rows = MAX_ROWS,
        max_columns = MAX_COLUMNS
    )]
    DimensionOutOfRange { part: String, range: String },
    #[error(
        "电子表格的共享字符串表“{part}”声明有{count}条（{attribute}），超过上限{limit}条",
        limit = MAX_SHARED_STRINGS
    )]
    SharedStrings {
        part: String,
        attribute: &'static str,
        count: String,
    },
}

/// A byte count for people: "20 MB", "512 KB".
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MB: u64 = 1024 * 1024;
        if self.0 >= MB {
            write!(f, " {:.1} MB", self.0 as f64 / MB as f64)
        } else {
            write!(f, " {} KB", self.0.div_ceil(1024))
        }
    }
}

/// Spreadsheet column letters of a 0-based column: 0 → A, 63 → BL.
pub fn column_name(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = u8::try_from((n - 1) % 26).unwrap_or(0);
        letters.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// The first check on any input: its size.
pub fn check_file_size(len: usize) -> Result<(), LimitError> {
    if len > MAX_FILE_BYTES {
        return Err(LimitError::FileTooLarge {
            size: len as u64,
            limit: MAX_FILE_BYTES as u64,
        });
    }
    Ok(())
}

/// The check of decoded text before it is split into rows, by format.
pub fn check_text(text: &str, format: crate::InputFormat) -> Result<(), LimitError> {
    match format {
        crate::InputFormat::Csv => check_delimited(text, b','),
        crate::InputFormat::Tsv => check_delimited(text, b'\t'),
        _ => check_text_lines(text),
    }
}

/// Lines and tab-separated cells of PDF-extracted text, counted without allocating.
pub fn check_text_lines(text: &str) -> Result<(), LimitError> {
    for (i, line) in text.split('\n').enumerate() {
        if i >= MAX_TEXT_LINES {
            return Err(LimitError::TooManyLines {
                limit: MAX_TEXT_LINES,
            });
        }
        if line.bytes().filter(|&b| b == b'\t').count() >= MAX_COLUMNS as usize {
            return Err(LimitError::TooManyFields {
                line: i as u64 + 1,
                limit: MAX_COLUMNS,
            });
        }
    }
    Ok(())
}

/// Records and fields of CSV/TSV text, counted the way the `csv` reader splits them,
/// without allocating: a double quote opens a quoted field only at the start of a field,
/// `""` inside one is a quote, CR, LF and CRLF end a record, blank lines are no records.
pub fn check_delimited(text: &str, delimiter: u8) -> Result<(), LimitError> {
    scan_delimited(text, delimiter, MAX_ROWS, MAX_COLUMNS)
}

fn scan_delimited(
    text: &str,
    delimiter: u8,
    max_rows: u32,
    max_columns: u32,
) -> Result<(), LimitError> {
    #[derive(PartialEq)]
    enum State {
        RecordStart,
        FieldStart,
        InField,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::RecordStart;
    let mut records: u32 = 0;
    let mut delimiters: u32 = 0;
    let mut line: u64 = 1;
    let mut prev = 0u8;
    for b in text.bytes() {
        if b == b'\r' || (b == b'\n' && prev != b'\r') {
            line += 1;
        }
        prev = b;
        let newline = b == b'\n' || b == b'\r';
        if state == State::RecordStart {
            if newline {
                continue;
            }
            records += 1;
            if records > max_rows {
                return Err(LimitError::TooManyRows {
                    line,
                    limit: max_rows,
                });
            }
            delimiters = 0;
            state = State::FieldStart;
        }
        state = match state {
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::FieldStart if b == b'"' => State::Quoted,
            _ if newline => State::RecordStart,
            _ if b == delimiter => {
                delimiters += 1;
                if delimiters >= max_columns {
                    return Err(LimitError::TooManyFields {
                        line,
                        limit: max_columns,
                    });
                }
                State::FieldStart
            }
            _ => State::InField,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Records and the widest record, as the importer's CSV reader sees them.
    fn csv_shape(text: &str, delimiter: u8) -> (u32, u32) {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = 0;
        let mut widest = 0;
        for record in reader.records() {
            let record = record.expect("csv reads any text");
            records += 1;
            widest = widest.max(u32::try_from(record.len()).unwrap());
        }
        (records, widest)
    }

    #[test]
    fn quoted_delimiters_do_not_count_but_a_quote_inside_a_field_does_not_quote() {
        let commas = ",".repeat(100);
        assert_eq!(check_delimited(&format!("\"{commas}\",b\n"), b','), Ok(()));
        assert!(matches!(
            check_delimited(&format!("a\"b{commas}\n"), b','),
            Err(LimitError::TooManyFields { line: 1, .. })
        ));
        assert!(matches!(
            check_delimited(&format!("x\r\n\"a\nb\"\r\n{commas}"), b','),
            Err(LimitError::TooManyFields { line: 4, .. })
        ));
    }

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(63), "BL");
        assert_eq!(column_name(16_383), "XFD");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// The counting agrees with the reader exactly: at its figures the text passes,
        /// one below either it is refused.
        #[test]
        fn delimited_counts_agree_with_the_csv_reader(text in "[a,\t\"\r\n ]{0,40}", tab in any::<bool>()) {
            let delimiter = if tab { b'\t' } else { b',' };
            let (records, widest) = csv_shape(&text, delimiter);
            prop_assert_eq!(scan_delimited(&text, delimiter, records, widest.max(1)), Ok(()));
            if records > 0 {
                let rows_refused = matches!(
                    scan_delimited(&text, delimiter, records - 1, widest.max(1)),
                    Err(LimitError::TooManyRows { .. })
                );
                prop_assert!(rows_refused);
            }
            if widest > 1 {
                let fields_refused = matches!(
                    scan_delimited(&text, delimiter, records, widest - 1),
                    Err(LimitError::TooManyFields { .. })
                );
                prop_assert!(fields_refused);
            }
        }
    }
}
