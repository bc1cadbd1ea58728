//! Renders a document given as JSON (the serde form of `fazhi_document::Document`) to
//! `.docx` and `.pdf` beside it, to look at the layout:
//!
//! `cargo run -p fazhi-document --example render -- report.json`
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args().nth(1).ok_or("用法：render 文档.json")?;
    let path = Path::new(&arg);
    let doc: fazhi_document::Document = serde_json::from_slice(&std::fs::read(path)?)?;
    fazhi_document::docx::write_docx(&doc, &path.with_extension("docx"))?;
    fazhi_document::pdf::write_pdf(
        &doc,
        &fazhi_document::PdfSettings::from_env(),
        &path.with_extension("pdf"),
    )?;
    println!(
        "{} · {}",
        path.with_extension("docx").display(),
        path.with_extension("pdf").display()
    );
    Ok(())
}
