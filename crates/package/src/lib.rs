//! The 佐证材料汇编 (evidence package) of a round, for 申报 and 第三方评估: the approved
//! evidence (or all of it, with verdicts) of the whole round, one 一级指标 or one unit,
//! arranged by the indicator tree in a zip archive with `目录.xlsx`, `目录.pdf`, `说明.txt` and
//! `manifest.json` (every entry's SHA-256, so [`verify`] can show that nothing was altered).
//!
//! - [`plan()`] reads what goes in ([`PackageParams`] → [`Plan`]) and names every file
//!   ([`names`]: shortened, Windows-safe, unique, whole path under 240 characters).
//! - [`write_zip`] streams every file from the [`fazhi_files::FileStore`] through a bounded
//!   buffer into the archive (memory does not grow with file size), checks each file's
//!   SHA-256 against the one recorded at upload (a mismatch or a missing file is listed in
//!   the package, not silently packed), reports progress and stops when cancelled.
//! - [`write_volume`] builds the bound volume (.pdf) instead: cover, 目录, bookmarks, each
//!   indicator followed by its evidence pages ([`volume`]).
//! - [`job`]: the build as a background job, retention of finished packages, the access
//!   rule (office: any package; liaison: its own unit's).
//!
//! ```no_run
//! # async fn demo(store: fazhi_store::Store, files: fazhi_files::FileStore) -> Result<(), fazhi_package::PackageError> {
//! use fazhi_package::{Control, PackageParams, plan, verify, write_zip};
//! let p = plan(&store, &PackageParams::default()).await?;
//! let built = write_zip(&files, p, "汇编.zip".as_ref(), Control::default()).await?;
//! assert!(verify("汇编.zip".as_ref())?.is_ok());
//! # Ok(()) }
//! ```

pub mod archive;
pub mod catalog;
pub mod catalog_pdf;
pub mod job;
pub mod names;
pub mod plan;
pub mod verify;
pub mod volume;

pub use archive::{BuiltPackage, Control, Progress, write_zip};
pub use catalog::{Manifest, ManifestEntry, PackProblem};
pub use plan::{PackageFormat, PackageParams, Plan, plan};
pub use verify::{Finding, VerifyReport, verify};
pub use volume::{VolumeLimits, write_volume};

/// What can go wrong building or checking a package. Messages are Chinese, for users.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The options name something that does not exist, or the input is not a package.
    #[error("{0}")]
    Invalid(String),
    /// The user may not build or fetch this package.
    #[error("{0}")]
    Forbidden(String),
    /// Asked for something not built yet.
    #[error("{0}")]
    Unsupported(String),
    /// The build was cancelled.
    #[error("已取消")]
    Cancelled,
    /// The job was put back in the queue while this worker could not report (its server lost
    /// the database) and belongs to another worker now: nothing is recorded.
    #[error("已由另一个服务器接手")]
    TakenOver,
    #[error(transparent)]
    Store(#[from] fazhi_store::StoreError),
    #[error(transparent)]
    Files(#[from] fazhi_files::FileError),
    #[error("写入压缩包出错：{0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("生成目录.xlsx 出错：{0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("文件读写出错：{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Document(#[from] fazhi_document::DocumentError),
}
