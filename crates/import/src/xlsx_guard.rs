//! Inspection of an .xlsx before calamine opens it. calamine trusts what a workbook claims:
//! it reserves the shared-string table's `uniqueCount` up front and allocates the
//! bounding box of a sheet's cells, so a 2 KB file naming cells A1 and XFD1048576 (or
//! 10^11 shared strings) asks for hundreds of GB and the process aborts. Here every
//! entry of the zip is decompressed once, counted against a cap (headers are not trusted),
//! and its XML scanned with the reader settings calamine uses, so that the positions seen
//! here are the positions calamine would compute.

use std::io::{self, BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use crate::ImportError;
use crate::limits::{
    self, LimitError, MAX_COLUMNS, MAX_ROWS, MAX_SHARED_STRINGS, MAX_UNZIPPED_BYTES,
    MAX_ZIP_ENTRIES,
};

/// Excel's own grid: a reference beyond it is damage (and overflows calamine's arithmetic).
const EXCEL_ROWS: u32 = 1_048_576;
const EXCEL_COLUMNS: u32 = 16_384;

/// Check the zip container and every XML part of a workbook against [`crate::limits`].
pub fn inspect(bytes: &[u8]) -> Result<(), ImportError> {
    inspect_zip(bytes, |part, input| scan_part(part, input))
}

/// The container checks for any zip-based upload (.xlsx here; .docx can use the same):
/// entry count, declared sizes, then every entry decompressed once through a counter,
/// `scan` reading it as it comes (what `scan` leaves unread is counted after).
pub(crate) fn inspect_zip(
    bytes: &[u8],
    mut scan: impl FnMut(&str, &mut dyn Read) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ImportError::Unreadable(format!("无法打开电子表格：{e}")))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(LimitError::TooManyEntries {
            found: zip.len(),
            limit: MAX_ZIP_ENTRIES,
        }
        .into());
    }
    // What the headers declare is checked first (cheap), what decompression yields after.
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(damaged)?;
        declared = declared.saturating_add(entry.size());
        if declared > MAX_UNZIPPED_BYTES {
            return Err(LimitError::Unzipped {
                entry: entry_name(&entry),
                limit: MAX_UNZIPPED_BYTES,
            }
            .into());
        }
    }
    let mut used: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(damaged)?;
        let name = entry_name(&entry);
        let mut capped = Capped {
            inner: entry,
            used: &mut used,
            over: false,
        };
        let scanned = scan(&name, &mut capped);
        // A part the XML reader gave up on is still decompressed to the end, to count it.
        let drained = scanned.and_then(|()| {
            io::copy(&mut capped, &mut io::sink())
                .map(drop)
                .map_err(|e| bad_xml(&name, &e.to_string()))
        });
        if capped.over {
            return Err(LimitError::Unzipped {
                entry: name,
                limit: MAX_UNZIPPED_BYTES,
            }
            .into());
        }
        drained?;
    }
    Ok(())
}

fn entry_name<R: Read + ?Sized>(entry: &zip::read::ZipFile<'_, R>) -> String {
    String::from_utf8_lossy(entry.name_raw()).into_owned()
}

fn damaged(e: zip::result::ZipError) -> ImportError {
    ImportError::Unreadable(format!("电子表格已损坏或已加密，无法读取：{e}"))
}

/// A reader that fails once all entries together have yielded more than the cap.
struct Capped<'a, R> {
    inner: R,
    used: &'a mut u64,
    over: bool,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.over {
            return Err(io::Error::other("解压后超过上限"));
        }
        let n = self.inner.read(buf)?;
        *self.used += n as u64;
        if *self.used > MAX_UNZIPPED_BYTES {
            self.over = true;
            return Err(io::Error::other("解压后超过上限"));
        }
        Ok(n)
    }
}

/// Scan one part as worksheet / shared-string XML. A part that is not XML (an image) or
/// stops parsing ends the scan without error: calamine's reader, configured the same,
/// stops at the same point, having seen only what was checked here.
fn scan_part<R: Read>(part: &str, input: R) -> Result<(), ImportError> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(input));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut buf = Vec::new();
    let mut in_sheet_data = false;
    // The running position calamine keeps for rows and cells without an `r` attribute.
    let mut row_index: u32 = 0;
    let mut col_index: u32 = 0;
    // The cell being read: its position and whether it has a value element.
    let mut cell: Option<((u32, u32), bool)> = None;
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(event) => event,
        };
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "sst" => check_shared_strings(part, &e)?,
                "dimension" if !in_sheet_data => check_dimension(part, &e)?,
                "sheetData" => in_sheet_data = true,
                "row" if in_sheet_data && cell.is_none() => {
                    if let Some(r) = attr(part, &e, "r")? {
                        row_index = parse_ref(part, &r, false)?.0;
                    }
                }
                "c" if in_sheet_data && cell.is_none() => {
                    let pos = match attr(part, &e, "r")? {
                        Some(r) => {
                            let pos = parse_ref(part, &r, true)?;
                            col_index = pos.1;
                            pos
                        }
                        None => (row_index, col_index),
                    };
                    cell = Some((pos, false));
                }
                _ => {
                    if let Some((_, has_value)) = cell.as_mut() {
                        *has_value = true;
                    }
                }
            },
            Event::End(e) => match e.local_name().as_ref() {
                "sheetData" => in_sheet_data = false,
                "row" if in_sheet_data && cell.is_none() => {
                    row_index = row_index.saturating_add(1);
                    col_index = 0;
                }
                "c" if in_sheet_data => {
                    if let Some(((row, col), has_value)) = cell.take() {
                        if has_value && (row >= MAX_ROWS || col >= MAX_COLUMNS) {
                            return Err(LimitError::CellOutOfRange {
                                place: format!("内部文件“{part}”"),
                                cell: format!("{}{}", limits::column_name(col), row + 1),
                            }
                            .into());
                        }
                        col_index = col_index.saturating_add(1);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// An attribute by exact key, split the way calamine's own attribute scanner splits them
/// (key up to `=`, quoted raw value). A key given twice is refused: calamine reads the
/// first in some places and the last in others.
fn attr(part: &str, e: &BytesStart<'_>, name: &str) -> Result<Option<String>, ImportError> {
    let raw = e.attributes_raw();
    let mut rest = raw;
    let mut found = None;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if rest.is_empty() {
            return Ok(found);
        }
        let malformed = || bad_xml(part, &format!("属性“{}”格式错误", truncate(raw)));
        let (key, after) = rest.split_once('=').ok_or_else(malformed)?;
        let after = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let quote = after
            .chars()
            .next()
            .filter(|&q| q == '"' || q == '\'')
            .ok_or_else(malformed)?;
        let body = &after[1..];
        let (value, tail) = body.split_once(quote).unwrap_or((body, ""));
        if key.trim_end_matches(|c: char| c.is_ascii_whitespace()) == name {
            if found.is_some() {
                return Err(bad_xml(part, &format!("属性“{name}”重复")));
            }
            found = Some(value.to_string());
        }
        rest = tail;
    }
}

fn bad_xml(part: &str, why: &str) -> ImportError {
    ImportError::Unreadable(format!("电子表格已损坏（内部文件“{part}”：{why}）"))
}

/// A cell reference (`B7`, `b7`) or a row number (`7`) as 0-based (row, column), read as
/// calamine reads it but with checked arithmetic and Excel's bounds.
fn parse_ref(part: &str, text: &str, need_column: bool) -> Result<(u32, u32), ImportError> {
    let bad = || bad_xml(part, &format!("单元格引用“{}”无效", truncate(text)));
    let bytes = text.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let (col_part, row_part) = bytes.split_at(letters);
    if row_part.is_empty() || !row_part.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let mut col: u32 = 0;
    for &b in col_part {
        col = col
            .checked_mul(26)
            .and_then(|c| c.checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1))
            .filter(|&c| c <= EXCEL_COLUMNS)
            .ok_or_else(bad)?;
    }
    let mut row: u32 = 0;
    for &b in row_part {
        row = row
            .checked_mul(10)
            .and_then(|r| r.checked_add(u32::from(b - b'0')))
            .filter(|&r| r <= EXCEL_ROWS)
            .ok_or_else(bad)?;
    }
    if row == 0 || (need_column && col == 0) {
        return Err(bad());
    }
    Ok((row - 1, col.saturating_sub(1)))
}

fn truncate(text: &str) -> String {
    text.chars().take(20).collect()
}

fn check_dimension(part: &str, e: &BytesStart<'_>) -> Result<(), ImportError> {
    let Some(range) = attr(part, e, "ref")? else {
        return Ok(());
    };
    let corners = range
        .split(':')
        .map(|r| parse_ref(part, r, true))
        .collect::<Result<Vec<_>, _>>()?;
    let (start, end) = match corners.as_slice() {
        [one] => (*one, *one),
        [start, end] => (*start, *end),
        _ => return Err(bad_xml(part, &format!("区域“{}”无效", truncate(&range)))),
    };
    // calamine subtracts start from end without checking.
    if end.0 < start.0 || end.1 < start.1 {
        return Err(bad_xml(part, &format!("区域“{}”无效", truncate(&range))));
    }
    if end.0 >= MAX_ROWS || end.1 >= MAX_COLUMNS {
        return Err(LimitError::DimensionOutOfRange {
            part: part.to_string(),
            range,
        }
        .into());
    }
    Ok(())
}

fn check_shared_strings(part: &str, e: &BytesStart<'_>) -> Result<(), ImportError> {
    for attribute in ["count", "uniqueCount"] {
        let Some(value) = attr(part, e, attribute)? else {
            continue;
        };
        // Anything but a plain number in range is refused: calamine's own number parser
        // is more lenient than this one, and a real workbook writes digits.
        let ok = !value.is_empty()
            && value.len() <= 12
            && value.bytes().all(|b| b.is_ascii_digit())
            && value.parse::<u64>().is_ok_and(|n| n <= MAX_SHARED_STRINGS);
        if !ok {
            return Err(LimitError::SharedStrings {
                part: part.to_string(),
                attribute,
                count: truncate(&value),
            }
            .into());
        }
    }
    Ok(())
}
