//! What the spreadsheets share: fonts and cell formats, column widths and row heights for
//! Chinese text (the library's autofit counts a Chinese character as one narrow one),
//! A4 print setup, and saving through a temporary file so a failed export leaves nothing.

use std::io::BufWriter;
use std::path::Path;

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::ReportError;

/// Body font: the one every Chinese office PC has.
pub const BODY_FONT: &str = "宋体";
pub const TITLE_FONT: &str = "黑体";
pub const BODY_SIZE: f64 = 10.5;
/// Points per line of body text, with the cell's padding.
const LINE_PT: f64 = 14.0;
/// Tallest row Excel accepts, in points.
const MAX_ROW_PT: f64 = 409.0;

/// Width of `s` in Excel's column units: a CJK (full-width) character takes two.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
        .sum()
}

/// Lines `s` takes in a wrapped cell of `width` units (at least 1).
pub fn lines_in(s: &str, width: f64) -> usize {
    // Excel leaves about one unit of padding; wrap a little early rather than clip.
    let usable = (width - 1.0).max(2.0);
    s.split('\n')
        .map(|line| ((display_width(line) as f64) / usable).ceil().max(1.0) as usize)
        .sum::<usize>()
        .max(1)
}

/// Row height in points for the tallest of `cells` (text, column width).
pub fn row_height<'a>(cells: impl IntoIterator<Item = (&'a str, f64)>) -> f64 {
    let lines = cells
        .into_iter()
        .map(|(text, width)| lines_in(text, width))
        .max()
        .unwrap_or(1);
    (lines as f64 * LINE_PT + 4.0).min(MAX_ROW_PT)
}

/// The formats of one workbook.
pub struct Formats {
    pub title: Format,
    pub subtitle: Format,
    pub header: Format,
    /// Wrapped text, top-left.
    pub text: Format,
    /// Wrapped text, centred (headings, units, labels).
    pub centre: Format,
    pub number: Format,
    pub decimal: Format,
    pub percent: Format,
    pub date: Format,
    pub red: Format,
    pub yellow: Format,
    pub green: Format,
}

impl Default for Formats {
    fn default() -> Self {
        Formats::new()
    }
}

impl Formats {
    pub fn new() -> Formats {
        let cell = Format::new()
            .set_font_name(BODY_FONT)
            .set_font_size(BODY_SIZE)
            .set_border(FormatBorder::Thin)
            .set_text_wrap()
            .set_align(FormatAlign::VerticalCenter);
        let centre = cell.clone().set_align(FormatAlign::Center);
        let light = |rgb: u32| centre.clone().set_background_color(Color::RGB(rgb));
        Formats {
            title: Format::new()
                .set_font_name(TITLE_FONT)
                .set_font_size(16)
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            subtitle: Format::new()
                .set_font_name(BODY_FONT)
                .set_font_size(BODY_SIZE)
                .set_align(FormatAlign::VerticalCenter),
            header: centre
                .clone()
                .set_font_name(TITLE_FONT)
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2)),
            text: cell.clone().set_align(FormatAlign::Left),
            number: centre.clone().set_num_format("0"),
            decimal: centre.clone().set_num_format("0.0"),
            percent: centre.clone().set_num_format("0.0%"),
            date: centre.clone().set_num_format("yyyy-mm-dd"),
            red: light(0xF4B6B6),
            yellow: light(0xFFE699),
            green: light(0xC6EFCE),
            centre,
        }
    }
}

/// Excel's paper codes.
pub const PAPER_A4: u8 = 9;
pub const PAPER_A3: u8 = 8;

/// Landscape on `paper`, one page wide, `header_rows` (if any) repeated on every page, page
/// numbers in the footer.
pub fn print_setup(
    ws: &mut Worksheet,
    paper: u8,
    header_rows: Option<(u32, u32)>,
) -> Result<(), XlsxError> {
    ws.set_paper_size(paper);
    ws.set_landscape();
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    if let Some((first, last)) = header_rows {
        ws.set_repeat_rows(first, last)?;
    }
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}

/// Saves `workbook` to `out` through a temporary file in the same folder, so `out` is
/// either the whole workbook or untouched.
pub fn save(workbook: &mut Workbook, out: &Path) -> Result<u64, ReportError> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io = |e: std::io::Error| ReportError::Io(format!("{}：{e}", out.display()));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    {
        let mut writer = BufWriter::new(tmp.as_file());
        workbook.save_to_writer(&mut writer)?;
        std::io::Write::flush(&mut writer).map_err(io)?;
    }
    let size = tmp.as_file().metadata().map_err(io)?.len();
    tmp.persist(out).map_err(|e| io(e.error))?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_counts_double_and_rows_grow_with_text() {
        assert_eq!(display_width("县司法局"), 8);
        assert_eq!(display_width("A1"), 2);
        assert_eq!(display_width("１、"), 4);
        assert_eq!(lines_in("", 10.0), 1);
        assert_eq!(lines_in("县司法局县司法局", 10.0), 2);
        assert_eq!(lines_in("一\n二", 40.0), 2);
        let hundred = "长".repeat(100);
        assert!(row_height([("短", 10.0), (hundred.as_str(), 20.0)]) > row_height([("短", 10.0)]));
        let long = "长".repeat(100_000);
        assert!(row_height([(long.as_str(), 1.0)]) <= MAX_ROW_PT);
    }
}
