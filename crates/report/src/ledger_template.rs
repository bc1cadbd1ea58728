//! The template a unit downloads to fill its 办理台账 in Excel or WPS and import it again
//! (read by `fazhi_import::ledger`): the header row, date columns formatted as dates, and
//! a second sheet saying how to fill it. No example rows in the sheet that is read, so
//! nothing made up can be imported by mistake.

use fazhi_import::ledger::HEADERS;
use rust_xlsxwriter::{Format, FormatBorder, Workbook};

use crate::{ReportError, ReportResult};

/// The .xlsx bytes of the template for the ledger of 第`code`项.
pub fn ledger_template(code: &str, indicator: &str) -> ReportResult<Vec<u8>> {
    let xlsx = |e: rust_xlsxwriter::XlsxError| ReportError::Xlsx(e.to_string());
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color("#F2F2F2");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let text = Format::new().set_text_wrap();
    let sheet = book.add_worksheet();
    sheet.set_name("台账").map_err(xlsx)?;
    for (col, name) in HEADERS.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, *name, &header)
            .map_err(xlsx)?;
    }
    sheet.set_column_width(0, 48).map_err(xlsx)?;
    sheet.set_column_width(1, 14).map_err(xlsx)?;
    sheet.set_column_width(2, 14).map_err(xlsx)?;
    sheet.set_column_width(3, 30).map_err(xlsx)?;
    sheet.set_column_format(0, &text).map_err(xlsx)?;
    sheet.set_column_format(1, &date).map_err(xlsx)?;
    sheet.set_column_format(2, &date).map_err(xlsx)?;
    sheet.set_freeze_panes(1, 0).map_err(xlsx)?;

    let help = book.add_worksheet();
    help.set_name("填写说明").map_err(xlsx)?;
    help.set_column_width(0, 90).map_err(xlsx)?;
    let lines = [
        format!("第{code}项 办理台账 填写说明"),
        format!("指标：{indicator}"),
        "1. 在“台账”表中从第2行起，每行填写一件事项，不要改动第1行的表头。".to_string(),
        "2. 事项名称：如文件标题和文号，必填，最多200字。".to_string(),
        "3. 起始日期、办结日期：必填，写成 2026-03-01、2026/3/1 或 2026年3月1日；办结日期不能早于起始日期。"
            .to_string(),
        "4. 备注：可不填，最多500字。".to_string(),
        "5. 保存为 .xlsx（或 .csv）后在任务页面“办理台账”处导入；有任何一行不符合要求时，整份不导入，并逐行列出问题。"
            .to_string(),
        "6. 系统按国家法定节假日和调休安排计算工作日，起始日当天不计入，逐件对照时限要求。".to_string(),
    ];
    let bold = Format::new().set_bold().set_font_size(14);
    for (row, line) in lines.iter().enumerate() {
        let row = u32::try_from(row).unwrap_or(u32::MAX);
        if row == 0 {
            help.write_string_with_format(row, 0, line, &bold)
                .map_err(xlsx)?;
        } else {
            help.write_string(row, 0, line).map_err(xlsx)?;
        }
    }
    book.save_to_buffer().map_err(xlsx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_as_downloaded_holds_only_the_header() {
        let bytes = ledger_template("25", "行政规范性文件的合法性审核率达到100%").unwrap();
        // Only the header, which the importer says has no rows; what a unit fills in is
        // read back in crates/web/tests (the import over HTTP).
        assert!(matches!(
            fazhi_import::ledger::read_ledger(Some("台账.xlsx"), &bytes),
            Err(fazhi_import::ledger::LedgerError::NoRows)
        ));
    }
}
