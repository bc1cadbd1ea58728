//! The document engine on a realistic 工作进展报告: the .docx opened by LibreOffice, the PDF
//! read back with poppler (text, fonts, pages), markup in user text, a machine without
//! Chinese fonts.

mod render;
mod support;
