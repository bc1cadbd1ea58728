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
pub mod diagnostic;
pub mod errata;
pub mod grid;
pub mod normalize;

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
}

/// Options for one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Force a format instead of guessing from the file name.
    pub format: Option<InputFormat>,
    /// Extra unit aliases (alias → canonical) on top of the built-in folding rule.
    pub aliases: AliasTable,
}

/// Import a table from the bytes of a file. `file_name` only helps pick the format.
pub fn import_bytes(
    bytes: &[u8],
    file_name: Option<&str>,
    options: &ImportOptions,
) -> Result<ImportOutput, ImportError> {
    let format = options
        .format
        .unwrap_or_else(|| InputFormat::detect(file_name, bytes));
    let mut encoding_note = None;
    let rows = match format {
        InputFormat::Xlsx => grid::read_workbook(bytes)?,
        text_format => {
            let (text, was_gbk) = grid::decode_text(bytes);
            if was_gbk {
                encoding_note = Some(Diagnostic::new(
                    Severity::Info,
                    DiagnosticKind::EncodingConverted,
                    "文件不是UTF-8编码，已按GB18030（GBK）读取",
                ));
            }
            if text.contains('\0') {
                return Err(ImportError::Unreadable(
                    "文件含有二进制内容，不是文本表格；请上传 .txt/.csv/.tsv 文本或 .xlsx 电子表格"
                        .into(),
                ));
            }
            match text_format {
                InputFormat::Csv => grid::read_delimited(&text, b',')?,
                InputFormat::Tsv => grid::read_delimited(&text, b'\t')?,
                _ => grid::read_text(&text),
            }
        }
    };
    let mut out = assemble::assemble(&rows, &options.aliases)?;
    if let Some(note) = encoding_note {
        out.diagnostics.insert(0, note);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
