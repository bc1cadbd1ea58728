//! 办理台账 from a spreadsheet: a unit with 48 规范性文件 fills the template (事项名称,
//! 起始日期, 办结日期, 备注) in Excel or WPS instead of typing 48 forms. Every row is
//! checked; the cases come back only when every row is clean, otherwise the problems,
//! each with its row number, so nothing half-imported is ever stored.

use chrono::{Days, NaiveDate};

use crate::ImportError;
use crate::grid::{InputFormat, Row, decode_text, read_delimited, read_workbook};
use crate::limits::check_file_size;

/// The template's header row, in column order.
pub const HEADERS: [&str; 4] = ["事项名称", "起始日期", "办结日期", "备注"];

/// Most cases one file may hold (a year's 规范性文件 of a busy unit is a few hundred).
pub const MAX_CASES: usize = 2000;

/// Longest 事项名称 and 备注, in characters (the store's limits).
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_NOTE_CHARS: usize = 500;

/// One clean row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// The row number in the file (as Excel shows it).
    pub line: u32,
    pub title: String,
    pub started_on: NaiveDate,
    pub finished_on: NaiveDate,
    pub note: String,
}

/// Why a row cannot be taken. `Display`: `第3行：办结日期早于起始日期`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第{line}行：{message}")]
pub struct RowProblem {
    pub line: u32,
    pub message: String,
}

/// Why nothing was read.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{0}")]
    File(#[from] ImportError),
    #[error("只能导入 .xlsx 或 .csv 文件（请使用下载的模板）")]
    Format,
    #[error("文件中没有台账记录（请从第2行起逐行填写）")]
    NoRows,
    #[error("一次最多导入 {MAX_CASES} 件，请分成几个文件导入")]
    TooMany,
    #[error("{} 行有问题，未导入任何记录：{}", .0.len(), list(.0))]
    Rows(Vec<RowProblem>),
}

fn list(problems: &[RowProblem]) -> String {
    const SHOWN: usize = 20;
    let mut text: Vec<String> = problems.iter().take(SHOWN).map(|p| p.to_string()).collect();
    if problems.len() > SHOWN {
        text.push(format!("另有 {} 行", problems.len() - SHOWN));
    }
    text.join("；")
}

/// Reads the cases of a ledger file (.xlsx, or .csv in UTF-8 or GB18030 as Excel saves
/// it). A first row that does not hold a date in its second column is the header and
/// skipped; blank rows are skipped.
pub fn read_ledger(file_name: Option<&str>, bytes: &[u8]) -> Result<Vec<LedgerRow>, LedgerError> {
    check_file_size(bytes.len()).map_err(ImportError::from)?;
    let rows = match InputFormat::detect(file_name, bytes) {
        InputFormat::Xlsx => read_workbook(bytes)?,
        InputFormat::Csv => read_delimited(&decode_text(bytes).0, b',')?,
        InputFormat::Tsv => read_delimited(&decode_text(bytes).0, b'\t')?,
        _ => return Err(LedgerError::Format),
    };
    let mut rows: Vec<Row> = rows.into_iter().filter(|r| !r.is_blank()).collect();
    if rows
        .first()
        .is_some_and(|r| parse_date(cell(r, 1)).is_err())
    {
        rows.remove(0);
    }
    if rows.is_empty() {
        return Err(LedgerError::NoRows);
    }
    if rows.len() > MAX_CASES {
        return Err(LedgerError::TooMany);
    }
    let mut cases = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    for row in &rows {
        match read_row(row) {
            Ok(case) => cases.push(case),
            Err(message) => problems.push(RowProblem {
                line: row.line,
                message,
            }),
        }
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(LedgerError::Rows(problems))
    }
}

fn cell(row: &Row, i: usize) -> &str {
    row.cells.get(i).map_or("", |c| c.trim())
}

fn read_row(row: &Row) -> Result<LedgerRow, String> {
    let title = cell(row, 0);
    let mut wrong = Vec::new();
    if title.is_empty() {
        wrong.push("事项名称为空".to_string());
    } else if title.chars().count() > MAX_TITLE_CHARS {
        wrong.push(format!("事项名称太长（最多{MAX_TITLE_CHARS}字）"));
    }
    let started = parse_date(cell(row, 1)).map_err(|e| format!("起始日期{e}"));
    let finished = parse_date(cell(row, 2)).map_err(|e| format!("办结日期{e}"));
    let note = cell(row, 3);
    if note.chars().count() > MAX_NOTE_CHARS {
        wrong.push(format!("备注太长（最多{MAX_NOTE_CHARS}字）"));
    }
    if title
        .chars()
        .chain(note.chars())
        .any(|c| c.is_control() && c != '\n')
    {
        wrong.push("含有不可见的控制字符".into());
    }
    match (&started, &finished) {
        (Ok(s), Ok(f)) if f < s => {
            wrong.push(format!("办结日期（{f}）早于起始日期（{s}）"));
        }
        _ => {}
    }
    if let Err(e) = &started {
        wrong.push(e.clone());
    }
    if let Err(e) = &finished {
        wrong.push(e.clone());
    }
    match (started, finished) {
        (Ok(started_on), Ok(finished_on)) if wrong.is_empty() => Ok(LedgerRow {
            line: row.line,
            title: title.to_string(),
            started_on,
            finished_on,
            note: note.to_string(),
        }),
        _ => Err(wrong.join("，")),
    }
}

/// A date as offices write it: `2026-03-01`, `2026/3/1`, `2026.3.1`, `2026年3月1日`,
/// `20260301`, with a time after it ignored, or an Excel date serial (`46082`).
/// The error says why, to follow the column's name.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("未填写".into());
    }
    let date = if let Some(serial) = excel_serial(text) {
        serial
    } else {
        let day_part = text
            .split(['T', ' '])
            .next()
            .unwrap_or(text)
            .trim_end_matches('日');
        let parts: Vec<&str> = day_part.split(['-', '/', '.', '年', '月']).collect();
        let numbers = match parts.as_slice() {
            [y, m, d] => Some((y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>())),
            [ymd] if ymd.len() == 8 && ymd.chars().all(|c| c.is_ascii_digit()) => Some((
                ymd[..4].parse::<i32>(),
                ymd[4..6].parse::<u32>(),
                ymd[6..].parse::<u32>(),
            )),
            _ => None,
        };
        match numbers {
            Some((Ok(y), Ok(m), Ok(d))) => {
                NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("“{text}”不是有效的日期"))?
            }
            _ => {
                return Err(format!("“{text}”无法识别，请写成 2026-03-01 这样的日期"));
            }
        }
    };
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX);
    if date < earliest || date > latest {
        return Err(format!("“{text}”不在 2000 年至 2100 年之间"));
    }
    Ok(date)
}

/// An Excel date serial (days since 1899-12-30, the 1900 date system as Excel counts it
/// after its leap-year bug), as a cell formatted as a number or date reads back.
fn excel_serial(text: &str) -> Option<NaiveDate> {
    let value: f64 = text.parse().ok()?;
    // 36526 = 2000-01-01, 73415 = 2100-12-31: a plain number outside is not a date.
    if !(36526.0..=73415.0).contains(&value) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_days(Days::new(value.trunc() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_as_offices_write_them() {
        for text in [
            "2026-03-01",
            "2026/3/1",
            "2026.03.01",
            "2026年3月1日",
            "20260301",
            "2026-03-01 00:00:00",
            "2026-03-01T00:00:00",
            "46082",
            " 46082.0 ",
        ] {
            assert_eq!(parse_date(text), Ok(day(2026, 3, 1)), "{text}");
        }
        assert_eq!(parse_date(""), Err("未填写".into()));
        assert!(
            parse_date("2026-02-30")
                .unwrap_err()
                .contains("不是有效的日期")
        );
        assert!(parse_date("三月一日").unwrap_err().contains("无法识别"));
        assert!(
            parse_date("1999-12-31")
                .unwrap_err()
                .contains("2000 年至 2100 年")
        );
        assert!(parse_date("12").unwrap_err().contains("无法识别"));
    }

    #[test]
    fn a_clean_csv_is_read_with_its_header_skipped() {
        let csv = "事项名称,起始日期,办结日期,备注\n关于A的通知,2026-03-02,2026-03-06,\n,,,\n关于B的意见,2026/3/9,2026/3/31,补正一次\n";
        let cases = read_ledger(Some("台账.csv"), csv.as_bytes()).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].title, "关于A的通知");
        assert_eq!(cases[1].line, 4, "row numbers as the file has them");
        assert_eq!(cases[1].finished_on, day(2026, 3, 31));
        assert_eq!(cases[1].note, "补正一次");
    }

    #[test]
    fn gbk_csv_as_excel_saves_it() {
        let text = "事项名称,起始日期,办结日期\n关于C的决定,2026-04-01,2026-04-10\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(text);
        let cases = read_ledger(Some("台账.csv"), &gbk).unwrap();
        assert_eq!(cases[0].title, "关于C的决定");
    }

    #[test]
    fn every_bad_row_is_listed_and_nothing_is_returned() {
        let csv = "事项名称,起始日期,办结日期\n好的,2026-03-02,2026-03-06\n,2026-03-02,2026-03-01\n坏日期,2026-13-01,\n";
        let err = read_ledger(Some("台账.csv"), csv.as_bytes()).unwrap_err();
        let LedgerError::Rows(problems) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(problems.len(), 2);
        assert_eq!(
            problems[0].to_string(),
            "第3行：事项名称为空，办结日期（2026-03-01）早于起始日期（2026-03-02）"
        );
        assert_eq!(
            problems[1].to_string(),
            "第4行：起始日期“2026-13-01”不是有效的日期，办结日期未填写"
        );
        assert!(err.to_string().starts_with("2 行有问题，未导入任何记录："));
    }

    #[test]
    fn other_files_and_empty_ones_are_refused() {
        assert!(matches!(
            read_ledger(Some("台账.pdf"), b"%PDF-1.4"),
            Err(LedgerError::Format)
        ));
        assert!(matches!(
            read_ledger(Some("台账.csv"), "事项名称,起始日期,办结日期\n".as_bytes()),
            Err(LedgerError::NoRows)
        ));
    }

    #[test]
    fn an_xlsx_with_date_cells() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        for (c, h) in HEADERS.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        sheet.write_string(1, 0, "关于D的通知").unwrap();
        let start = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 5, 6).unwrap();
        let end = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 5, 20).unwrap();
        sheet
            .write_datetime_with_format(1, 1, &start, &format)
            .unwrap();
        sheet
            .write_datetime_with_format(1, 2, &end, &format)
            .unwrap();
        sheet.write_string(2, 0, "关于E的通知").unwrap();
        sheet.write_string(2, 1, "2026年5月7日").unwrap();
        sheet.write_string(2, 2, "2026/5/8").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let cases = read_ledger(Some("台账.xlsx"), &bytes).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(
            (cases[0].started_on, cases[0].finished_on),
            (day(2026, 5, 6), day(2026, 5, 20))
        );
        assert_eq!(cases[1].started_on, day(2026, 5, 7));
    }

    proptest! {
        /// Any bytes: an answer, never a panic; a row returned is always in order.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000), csv in any::<bool>()) {
            let name = if csv { "x.csv" } else { "x.xlsx" };
            if let Ok(cases) = read_ledger(Some(name), &bytes) {
                prop_assert!(cases.iter().all(|c| c.started_on <= c.finished_on && !c.title.is_empty()));
            }
        }

        #[test]
        fn arbitrary_dates_never_panic(text in "\\PC{0,24}") {
            let _ = parse_date(&text);
        }
    }
}
