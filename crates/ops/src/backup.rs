//! A consistent online backup of a county's data, and putting it back (see the crate
//! documentation for why the database comes first and the files after).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use fazhi_files::{FileStore, blob_key, is_sha256_hex, sha256_of_file};
use fazhi_store::Store;
use futures_util::TryStreamExt;

use crate::{OpsError, OpsResult};

/// The SQLite snapshot in a backup, and the database file of a data directory.
pub const DATABASE_FILE: &str = "fazhi.sqlite";
/// `<sha256>\t<size>` per stored file.
pub const MANIFEST: &str = "manifest.tsv";
/// What the backup holds, as JSON.
pub const SUMMARY: &str = "backup.json";
/// The folder of a local store's files, in a backup and in a data directory.
pub const FILES_DIR: &str = "files";

/// What [`backup`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The backup directory (absolute).
    pub out: PathBuf,
    /// The database snapshot (SQLite); `None` for PostgreSQL, backed up with `pg_dump`.
    pub snapshot: Option<PathBuf>,
    /// Length of the snapshot's audit chain, verified.
    pub audit_entries: Option<u64>,
    /// Stored files listed in the manifest, and their bytes.
    pub files: usize,
    pub file_bytes: u64,
    /// Whether the files themselves are in the backup (a local store), or only listed (S3).
    pub files_included: bool,
}

/// What [`restore`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Files copied and checked against their SHA-256.
    pub files_restored: usize,
    /// The restored audit chain: its length, or where it breaks.
    pub audit: Result<u64, String>,
    /// Files missing or not matching their name (at most all of them; the caller shows some).
    pub problems: Vec<String>,
}

impl RestoreReport {
    /// Whether everything checked out.
    pub fn is_ok(&self) -> bool {
        self.audit.is_ok() && self.problems.is_empty()
    }
}

fn is_empty_dir(dir: &Path) -> OpsResult<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(OpsError::io("无法读取目录", dir)(e)),
    }
}

/// Where a blob lives under a local store's directory.
fn blob_file(files: &Path, sha256: &str) -> PathBuf {
    files.join(blob_key(sha256))
}

/// A hard link, or a copy when linking is not possible (another file system).
fn link_or_copy(from: &Path, to: &Path) -> OpsResult<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(OpsError::io("无法创建目录", dir))?;
    }
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map_err(OpsError::io("无法复制文件", from))?;
    Ok(())
}

/// Opens a SQLite file as it is: a snapshot's schema stays that of the server that made it.
async fn open_as_is(path: &Path) -> OpsResult<Store> {
    Ok(Store::open_existing(&format!("sqlite://{}?mode=rw", path.display())).await?)
}

/// Backs up the database at `database_url` and the file store `files` (whose files are
/// linked into the backup when `local_root`, the local store's directory, is given) into
/// `out`, which must not exist or be empty.
pub async fn backup(
    database_url: &str,
    files: &FileStore,
    local_root: Option<&Path>,
    out: &Path,
) -> OpsResult<BackupReport> {
    if !is_empty_dir(out)? {
        return Err(OpsError::Refused(format!(
            "备份目录 {} 已存在且不为空，请换一个目录",
            out.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(OpsError::io("无法创建备份目录", out))?;
    let out = out
        .canonicalize()
        .map_err(OpsError::io("无法读取备份目录", out))?;

    // 1. The database, first.
    let snapshot = if database_url.starts_with("sqlite:") {
        let target = out.join(DATABASE_FILE);
        // No migrations here: the server that runs may be of another version.
        let db = Store::open_existing(database_url).await?;
        db.snapshot_into(&target).await?;
        db.close().await.ok();
        Some(target)
    } else {
        None
    };

    // 2. The files: a manifest, and the files themselves for a local store.
    let mut blobs: Vec<(String, u64)> = files.list_blobs().try_collect().await?;
    blobs.sort();
    let manifest_path = out.join(MANIFEST);
    let write_failed = OpsError::io("无法写入文件清单", &manifest_path);
    let mut manifest = std::io::BufWriter::new(
        std::fs::File::create(&manifest_path)
            .map_err(OpsError::io("无法写入文件清单", &manifest_path))?,
    );
    let mut file_bytes = 0u64;
    let mut written = Ok(());
    for (sha, size) in &blobs {
        if written.is_ok() {
            written = writeln!(manifest, "{sha}\t{size}");
        }
        file_bytes += size;
        if let Some(root) = local_root {
            link_or_copy(&blob_file(root, sha), &blob_file(&out.join(FILES_DIR), sha))?;
        }
    }
    written
        .and_then(|()| manifest.flush())
        .map_err(write_failed)?;

    // 3. What the snapshot holds, checked.
    let mut summary = serde_json::json!({
        "created_at": chrono::Utc::now().to_rfc3339(),
        "database": if snapshot.is_some() { "sqlite" } else { "postgres" },
        "files": blobs.len(),
        "file_bytes": file_bytes,
        "files_included": local_root.is_some(),
    });
    let mut audit_entries = None;
    if let Some(path) = &snapshot {
        let store = open_as_is(path).await?;
        let head = store.audit_head().await?;
        if let Err(broken) = store.verify_audit().await? {
            return Err(OpsError::BadBackup(format!(
                "快照中的审计日志校验失败：{broken}"
            )));
        }
        summary["audit_entries"] = head.entry_count.into();
        summary["audit_last_hash"] = head.last_hash.clone().into();
        audit_entries = Some(head.entry_count);
        store.close().await.ok();
    }
    let summary_path = out.join(SUMMARY);
    let text = serde_json::to_vec_pretty(&summary).map_err(std::io::Error::other);
    text.and_then(|t| std::fs::write(&summary_path, t))
        .map_err(OpsError::io("无法写入", &summary_path))?;
    Ok(BackupReport {
        out,
        snapshot,
        audit_entries,
        files: blobs.len(),
        file_bytes,
        files_included: local_root.is_some(),
    })
}

/// Puts the SQLite backup in `from` into the empty data directory `data_dir` (database and
/// local files), checking each file, the audit chain, and that every file the database
/// refers to is there. The restored database is migrated if this version is newer.
pub async fn restore(from: &Path, data_dir: &Path) -> OpsResult<RestoreReport> {
    let snapshot = from.join(DATABASE_FILE);
    if !snapshot.is_file() {
        return Err(OpsError::BadBackup(format!(
            "{} 中没有数据库快照 {DATABASE_FILE}（PostgreSQL 的备份请用 pg_restore 恢复）",
            from.display()
        )));
    }
    let target_db = data_dir.join(DATABASE_FILE);
    let target_files = data_dir.join(FILES_DIR);
    if target_db.exists() || !is_empty_dir(&target_files)? {
        return Err(OpsError::Refused(format!(
            "目标数据目录 {} 已有数据库或文件；恢复只写入空的数据目录，不会覆盖已有数据",
            data_dir.display()
        )));
    }
    std::fs::create_dir_all(data_dir).map_err(OpsError::io("无法创建", data_dir))?;
    std::fs::copy(&snapshot, &target_db).map_err(OpsError::io("无法复制数据库到", &target_db))?;

    // The files of the manifest, each checked against its name.
    let manifest_path = from.join(MANIFEST);
    let manifest = std::fs::File::open(&manifest_path)
        .map_err(|_| OpsError::BadBackup("备份中没有文件清单".into()))?;
    let (mut files_restored, mut problems) = (0usize, Vec::new());
    for (n, line) in std::io::BufReader::new(manifest).lines().enumerate() {
        let line = line.map_err(OpsError::io("无法读取", &manifest_path))?;
        let Some((sha, _size)) = line.split_once('\t').filter(|(s, _)| is_sha256_hex(s)) else {
            return Err(OpsError::BadBackup(format!(
                "文件清单第 {} 行格式错误：{line}",
                n + 1
            )));
        };
        let source = blob_file(&from.join(FILES_DIR), sha);
        if !source.is_file() {
            problems.push(format!("{sha}（备份中没有这个文件）"));
            continue;
        }
        let to = blob_file(&target_files, sha);
        link_or_copy(&source, &to)?;
        let (_, hash) = sha256_of_file(&to).map_err(OpsError::io("无法读取", &to))?;
        if hash != sha {
            problems.push(format!("{sha}（内容与校验值不符）"));
            continue;
        }
        files_restored += 1;
    }

    let url = format!("sqlite://{}?mode=rw", target_db.display());
    let store = Store::connect(&url).await?;
    let audit = store
        .verify_audit()
        .await?
        .map_err(|broken| broken.to_string());
    for sha in store.blob_hashes().await? {
        if !blob_file(&target_files, &sha).is_file() {
            problems.push(format!("{sha}（数据库引用的文件不在备份中）"));
        }
    }
    store.close().await.ok();
    Ok(RestoreReport {
        files_restored,
        audit,
        problems,
    })
}
