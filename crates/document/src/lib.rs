//! 公文-style documents: a small model ([`Document`]: title, 发文机关, date, 主送, headings
//! `一、` / `（一）`, paragraphs, tables, bar charts given as data) and two renderers of the
//! same model:
//!
//! - [`docx::render_docx`]: Word, naming the standard 公文 fonts (方正小标宋简体, 仿宋_GB2312,
//!   黑体, 楷体_GB2312) as East Asian fonts on every run, since recipients' Word/WPS has them;
//! - [`pdf::render_pdf`]: PDF through typst, embedding the free CJK fonts the machine has
//!   ([`fonts`]); without any, a clear [`DocumentError::NoCjkFont`] naming the package.
//!
//! Layout follows GB/T 9704-2012: A4, margins 37/35/28/26 mm, title 2号, body 3号 on a fixed
//! 29 pt line pitch, page numbers `— 1 —` (odd pages right, even left).

pub mod docx;
pub mod fonts;
pub mod model;
pub mod pdf;
mod world;

pub use model::{BarChart, Block, Document, Table};
pub use pdf::{Compilation, PdfSettings};

/// What can go wrong rendering. Messages are Chinese, for users.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// No font with Chinese characters on the machine.
    #[error(
        "服务器上没有中文字体，无法生成 PDF。请安装 Debian 软件包 fonts-noto-cjk（apt-get install fonts-noto-cjk），或在配置中指定字体目录"
    )]
    NoCjkFont,
    /// The font folder is wrong.
    #[error("{0}")]
    Fonts(String),
    /// typst could not lay out or export the document.
    #[error("PDF 排版出错：{0}")]
    Render(String),
    #[error("生成 Word 文档出错：{0}")]
    Docx(String),
    #[error("文件读写出错：{0}")]
    Io(#[from] std::io::Error),
}
