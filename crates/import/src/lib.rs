//! The importer: reads a county's responsibility-division table (责任分工表) into an
//! indicator framework, repairing what PDF extraction damaged and reporting every repair
//! and every doubt as a [`Diagnostic`].
//!
//! ```
//! let seed = "一级指标\t二级指标\t序号\t三级指标\t责任单位\n\
//!             一、政府职能\t1. 审批改革。\t1\t公布清单。\t县司法局 县财政局\n";
//! let out = fazhi_import::import_bytes(seed.as_bytes(), Some("t.txt"), &Default::default()).unwrap();
//! assert_eq!(out.framework.level_counts(), vec![1, 1, 1]);
//! ```

mod assemble;
pub mod compare;
pub mod diagnostic;
pub mod docx;
pub mod errata;
pub mod grid;
pub mod ledger;
pub mod limits;
pub mod normalize;
pub mod pdf;
pub mod prose;
mod shape;
pub mod tools;
mod xlsx_guard;

use fazhi_domain::unit::AliasTable;

pub use diagnostic::{Diagnostic, DiagnosticKind, Severity};
pub use fazhi_domain::library::ImportOutput;
pub use grid::InputFormat;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("文件是空的，没有任何内容")]
    Empty,
    #[error("无法识别表格格式：{0}")]
    UnknownLayout(String),
    #[error("第{line}行格式错误：{reason}")]
    Malformed { line: u32, reason: String },
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    TooLarge(#[from] limits::LimitError),
}

/// Options for one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Force a format instead of guessing from the file name.
    pub format: Option<InputFormat>,
    /// Extra unit aliases (alias → canonical) on top of the built-in folding rule.
    pub aliases: AliasTable,
}

/// Longest a LibreOffice conversion of an old .doc may take (its first start is slow).
pub const LEGACY_CONVERT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Import a table from the bytes of a file. `file_name` only helps pick the format.
pub fn import_bytes(
    bytes: &[u8],
    file_name: Option<&str>,
    options: &ImportOptions,
) -> Result<ImportOutput, ImportError> {
    limits::check_file_size(bytes.len())?;
    let format = options
        .format
        .unwrap_or_else(|| InputFormat::detect(file_name, bytes));
    let mut source_note = None;
    let rows = match format {
        InputFormat::Xlsx => grid::read_workbook(bytes)?,
        InputFormat::Docx => docx::read_docx(bytes)?,
        InputFormat::Pdf => {
            source_note = Some(Diagnostic::new(
                Severity::Info,
                DiagnosticKind::Converted,
                "PDF 的文字由 pdftotext 提取，按文字在页面上的位置还原表格各列与段落",
            ));
            grid::read_text(&pdf::pdf_text(bytes)?)
        }
        InputFormat::LegacyWord => {
            let ext = file_name
                .and_then(|n| n.rsplit_once('.'))
                .map(|(_, e)| e.to_ascii_lowercase())
                .unwrap_or_else(|| "doc".into());
            let docx = tools::convert_to_docx(
                bytes,
                &ext,
                LEGACY_CONVERT_TIMEOUT,
                docx::MAX_DOCX_BYTES,
            )
            .map_err(|e| match e {
                tools::ToolError::NotInstalled(_) => ImportError::Unreadable(format!(
                    "这是旧版 Word（.doc）或 WPS（.wps）文件，需先转换：请用 Word 或 WPS 打开后“另存为”.docx 再导入；\
                     或在服务器上安装 LibreOffice，之后会自动转换（手工转换：soffice --headless --convert-to docx 文件.{ext}）"
                )),
                other => ImportError::Unreadable(format!("旧版 Word 文件转换失败：{other}；请用 Word 或 WPS 另存为 .docx 后再导入")),
            })?;
            source_note = Some(Diagnostic::new(
                Severity::Info,
                DiagnosticKind::Converted,
                format!("旧版 .{ext} 文件已用 LibreOffice 转换为 .docx 后读取"),
            ));
            docx::read_docx(&docx)?
        }
        text_format => {
            let (text, was_gbk) = grid::decode_text(bytes);
            if was_gbk {
                source_note = Some(Diagnostic::new(
                    Severity::Info,
                    DiagnosticKind::EncodingConverted,
                    "文件不是UTF-8编码，已按GB18030（GBK）读取",
                ));
            }
            if text.contains('\0') {
                return Err(ImportError::Unreadable(
                    "文件含有二进制内容，不是文本表格；请上传 .txt/.csv/.tsv 文本、.xlsx 电子表格、Word（.docx）或 PDF"
                        .into(),
                ));
            }
            limits::check_text(&text, text_format)?;
            match text_format {
                InputFormat::Csv => grid::read_delimited(&text, b',')?,
                InputFormat::Tsv => grid::read_delimited(&text, b'\t')?,
                _ => grid::read_text(&text),
            }
        }
    };
    let mut out = assemble::assemble(&rows, &options.aliases)?;
    if let Some(note) = source_note {
        out.diagnostics.insert(0, note);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_formats;
#[cfg(test)]
mod tests_prose;
