//! The PDF renderer: typst as a library, with the CJK fonts found on the machine.
//!
//! [`render_pdf`] lays out a [`Document`] with the 公文 template; [`compile`] runs any of
//! this workspace's templates (the package's 目录 and bound volume use it) on data given
//! as JSON plus files read from disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::DocumentError;
use crate::fonts::FontCatalog;
use crate::model::{Document, Numbered, chinese_date, signature_indents};
use crate::world::{DocWorld, FileSource, file_id};

const GONGWEN: &str = include_str!("../templates/gongwen.typ");

/// Where fonts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfSettings {
    /// A folder of extra fonts (e.g. licensed 仿宋_GB2312), searched before the system's.
    pub font_dir: Option<PathBuf>,
    /// Whether the system font folders are searched too (default yes).
    pub system_fonts: bool,
}

impl Default for PdfSettings {
    fn default() -> Self {
        PdfSettings {
            font_dir: None,
            system_fonts: true,
        }
    }
}

/// The environment variable naming an extra font folder.
pub const FONT_DIR_ENV: &str = "FAZHI_FONT_DIR";

impl PdfSettings {
    /// System fonts plus the folder named by `FAZHI_FONT_DIR` (when set and not empty).
    pub fn from_env() -> Self {
        PdfSettings {
            font_dir: std::env::var_os(FONT_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            system_fonts: true,
        }
    }

    /// The fonts (scanned once per process and folder).
    pub fn fonts(&self) -> Result<std::sync::Arc<FontCatalog>, DocumentError> {
        if self.system_fonts {
            FontCatalog::shared(self.font_dir.as_deref())
        } else {
            let dirs: Vec<&Path> = self.font_dir.iter().map(PathBuf::as_path).collect();
            FontCatalog::scan_only(&dirs).map(std::sync::Arc::new)
        }
    }
}

/// A template compilation: the template's source, its data (read by the template as
/// `json("/data.json")`), and files it may embed, by their path inside the compilation
/// (`/ev/3.pdf`: chosen by the caller, never a user's name).
#[derive(Debug, Clone)]
pub struct Compilation<'a> {
    pub template: &'a str,
    pub data: Value,
    pub files: Vec<(String, PathBuf)>,
    /// The date typst's `datetime.today()` returns.
    pub today: NaiveDate,
}

/// Compiles a template to PDF bytes with the fonts of `settings`. The template reads the
/// chosen font families from `data.fonts` (this function fills it in).
pub fn compile(c: Compilation<'_>, settings: &PdfSettings) -> Result<Vec<u8>, DocumentError> {
    let catalog = settings.fonts()?;
    let mut data = c.data;
    if let Value::Object(m) = &mut data {
        m.insert(
            "fonts".into(),
            serde_json::to_value(&catalog.roles)
                .map_err(|e| DocumentError::Render(e.to_string()))?,
        );
    }
    let mut files = HashMap::new();
    let json = serde_json::to_vec(&data).map_err(|e| DocumentError::Render(e.to_string()))?;
    files.insert(
        file_id("/data.json")?,
        FileSource::Memory(typst::foundations::Bytes::new(json)),
    );
    for (name, path) in c.files {
        files.insert(file_id(&name)?, FileSource::Disk(path));
    }
    DocWorld::new(catalog, c.template, files, c.today)?.pdf()
}

/// The data the 公文 template reads.
pub fn gongwen_data(doc: &Document) -> Value {
    let date = chinese_date(doc.date);
    let (issuer_pad, date_pad) = signature_indents(&doc.issuer, &date);
    let blocks: Vec<Value> = doc
        .numbered()
        .into_iter()
        .map(|b| match b {
            Numbered::Heading1 { text } => json!({"kind": "heading1", "text": text}),
            Numbered::Heading2 { text } => json!({"kind": "heading2", "text": text}),
            Numbered::Paragraph { text } => json!({"kind": "paragraph", "text": text}),
            Numbered::Table(t) => json!({
                "kind": "table",
                "caption": t.caption,
                "header": t.header,
                "rows": t.normalized_rows(),
                "widths": t.column_weights(),
            }),
            Numbered::BarChart(c) => json!({
                "kind": "bar_chart",
                "title": c.title,
                "bars": c.bars().into_iter().map(|(label, share, value)| json!({
                    "label": label, "share": share, "value": value,
                })).collect::<Vec<_>>(),
            }),
        })
        .collect();
    json!({
        "title": doc.title,
        "title_lines": crate::model::balanced_title_lines(&doc.title, crate::model::TITLE_EM_PER_LINE),
        "issuer": doc.issuer,
        "date": date,
        "recipient": doc.recipient,
        "sig": {"issuer_pad": issuer_pad, "date_pad": date_pad},
        "blocks": blocks,
    })
}

/// Renders `doc` as a 公文-style PDF.
pub fn render_pdf(doc: &Document, settings: &PdfSettings) -> Result<Vec<u8>, DocumentError> {
    compile(
        Compilation {
            template: GONGWEN,
            data: gongwen_data(doc),
            files: Vec::new(),
            today: doc.date,
        },
        settings,
    )
}

/// Writes `doc` as PDF to `path`.
pub fn write_pdf(doc: &Document, settings: &PdfSettings, path: &Path) -> Result<(), DocumentError> {
    let bytes = render_pdf(doc, settings)?;
    std::fs::write(path, bytes)?;
    Ok(())
}
