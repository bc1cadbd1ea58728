//! Operations on a county's data, below the `fazhi backup`, `restore` and `migrate-data`
//! commands (which parse arguments and print what these return):
//!
//! - [`backup::backup`]: a consistent copy while the server runs. SQLite: `VACUUM INTO`
//!   writes a snapshot of the database (one read transaction) while the server goes on
//!   writing; the stored files are linked (or copied) afterwards: a file is written before the
//!   row that refers to it and is never changed, so every file the snapshot refers to is
//!   there. `manifest.tsv` lists each file's SHA-256 and size; `backup.json` the audit chain's
//!   head in the snapshot. PostgreSQL: the database goes with `pg_dump` (the caller prints
//!   the command); the manifest is written (and a local store's files linked). An S3 store is
//!   backed up with the store's own replication; the manifest lets a restore be checked.
//! - [`backup::restore`]: refuses a data directory that already holds a database or files,
//!   copies the snapshot and the files (each checked against its name), then verifies the
//!   audit chain and that every file the database refers to is present.
//! - [`migrate::copy_files`]: every file of one store into another, checked by SHA-256 and
//!   size (the database itself moves with `Store::copy_all_into`).

pub mod backup;
pub mod migrate;

use std::path::PathBuf;

/// What can go wrong. Messages are Chinese, for the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// The operator asked for something that would overwrite or cannot be done.
    #[error("{0}")]
    Refused(String),
    /// A backup is incomplete or malformed.
    #[error("{0}")]
    BadBackup(String),
    #[error("{what} {}：{source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] fazhi_store::StoreError),
    #[error(transparent)]
    Files(#[from] fazhi_files::FileError),
}

impl OpsError {
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> OpsError {
        let path = path.into();
        move |source| OpsError::Io { what, path, source }
    }
}

pub type OpsResult<T> = Result<T, OpsError>;
