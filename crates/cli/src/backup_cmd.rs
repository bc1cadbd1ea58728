//! `fazhi backup` and `fazhi restore`: a consistent copy of a county's data while the server
//! runs, and putting it back on an empty data directory.
//!
//! - SQLite: `VACUUM INTO` writes a consistent snapshot of the database (one read
//!   transaction) while the server goes on writing. The stored files are linked (or copied)
//!   afterwards: a file is written before the row that refers to it and is never changed, so
//!   every file the snapshot refers to is there. `manifest.tsv` lists each file's SHA-256 and
//!   size; `backup.json` the audit chain's head in the snapshot.
//! - PostgreSQL: the database is backed up with `pg_dump` (the command is printed); the
//!   command writes the file store's manifest (and links the files of a local store).
//!   An S3 store is backed up with the store's own replication; the manifest lets a restore
//!   be checked against it.
//!
//! `restore` refuses a data directory that already holds a database or files, copies the
//! snapshot and the files (checking each file's SHA-256 against its name), then verifies the
//! audit chain and that every file the database refers to is present.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result, bail};
use clap::Args;
use fazhi_files::{FileStore, FileStoreConfig, is_sha256_hex};
use fazhi_store::Store;
use futures_util::TryStreamExt;
use sea_orm::ConnectionTrait;

use crate::serve_cmd::{DataArgs, file_store_config, redact, resolve};

#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// 备份写入的目录（须不存在或为空）
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// 目标数据目录（须为空；恢复后用 fazhi serve --data-dir 启动）
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// 由 fazhi backup 生成的备份目录
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
}

const DATABASE_FILE: &str = "fazhi.sqlite";
const MANIFEST: &str = "manifest.tsv";
const SUMMARY: &str = "backup.json";

fn is_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("无法读取目录 {}", dir.display())),
    }
}

/// Where a blob lives under a local store's directory.
fn blob_file(files: &Path, sha256: &str) -> PathBuf {
    files.join(fazhi_files::blob_key(sha256))
}

/// A hard link, or a copy when linking is not possible (another file system).
fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("无法创建目录 {}", dir.display()))?;
    }
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .with_context(|| format!("无法复制 {} 到 {}", from.display(), to.display()))?;
    Ok(())
}

pub async fn backup(args: &BackupArgs) -> Result<()> {
    let (config, url) = resolve(&args.data, None)?;
    if !is_empty_dir(&args.out)? {
        bail!(
            "备份目录 {} 已存在且不为空，请换一个目录",
            args.out.display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("无法创建备份目录 {}", args.out.display()))?;
    let out = args.out.canonicalize()?;

    // 1. The database, first (see the module comment for why files come after).
    let database = if url.starts_with("sqlite:") {
        let target = out.join(DATABASE_FILE);
        // No migrations here: the server that runs may be of another version.
        let db = sea_orm::Database::connect(&url)
            .await
            .with_context(|| format!("无法打开数据库 {}", redact(&url)))?;
        let quoted = target.display().to_string().replace('\'', "''");
        db.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
            .await
            .context("数据库快照失败")?;
        db.close().await.ok();
        println!("数据库快照：{}", target.display());
        "sqlite"
    } else {
        println!(
            "数据库为 PostgreSQL：请用 pg_dump 备份（服务运行时也一致），例如\n  pg_dump -Fc -f {} '{}'",
            out.join("fazhi.pgdump").display(),
            redact(&url)
        );
        "postgres"
    };

    // 2. The files: a manifest, and the files themselves for a local store.
    let store_config = file_store_config(&args.data, &config.data_dir)?;
    let files = FileStore::new(&store_config).context("无法打开文件存储")?;
    let local_root = match &store_config {
        FileStoreConfig::Local { root } => Some(root.clone()),
        FileStoreConfig::S3 { .. } => None,
    };
    let mut blobs: Vec<(String, u64)> = files.list_blobs().try_collect().await?;
    blobs.sort();
    let mut manifest = std::io::BufWriter::new(
        std::fs::File::create(out.join(MANIFEST)).context("无法写入文件清单")?,
    );
    let mut total = 0u64;
    for (sha, size) in &blobs {
        writeln!(manifest, "{sha}\t{size}")?;
        total += size;
        if let Some(root) = &local_root {
            link_or_copy(&blob_file(root, sha), &blob_file(&out.join("files"), sha))?;
        }
    }
    manifest.flush()?;
    match &local_root {
        Some(_) => println!(
            "文件：{} 个，共 {}，已链接到 {}",
            blobs.len(),
            fazhi_files::human_size(total),
            out.join("files").display()
        ),
        None => println!(
            "文件在对象存储（{files}）中，{} 个，共 {}：请用对象存储的复制或版本功能备份；清单见 {MANIFEST}",
            blobs.len(),
            fazhi_files::human_size(total)
        ),
    }

    // 3. What the snapshot holds, checked.
    let mut summary = serde_json::json!({
        "created_at": chrono::Utc::now().to_rfc3339(),
        "database": database,
        "files": blobs.len(),
        "file_bytes": total,
        "files_included": local_root.is_some(),
    });
    if database == "sqlite" {
        let store = open_snapshot(&out.join(DATABASE_FILE)).await?;
        let head = store.audit_head().await?;
        match store.verify_audit().await? {
            Ok(n) => println!("快照中的审计日志校验通过：{n} 条"),
            Err(broken) => bail!("快照中的审计日志校验失败：{broken}"),
        }
        summary["audit_entries"] = head.entry_count.into();
        summary["audit_last_hash"] = head.last_hash.clone().into();
        store.close().await.ok();
    }
    std::fs::write(out.join(SUMMARY), serde_json::to_vec_pretty(&summary)?)?;
    println!("备份完成：{}", out.display());
    Ok(())
}

/// Opens a backup's database as it is: its schema stays that of the server that made it.
async fn open_snapshot(path: &Path) -> Result<Store> {
    let url = format!("sqlite://{}?mode=rw", path.display());
    Store::open_existing(&url)
        .await
        .with_context(|| format!("无法打开 {}", path.display()))
}

/// Opens a restored database for use (migrations apply if this version is newer).
async fn open_restored(path: &Path) -> Result<Store> {
    let url = format!("sqlite://{}?mode=rw", path.display());
    Store::connect(&url)
        .await
        .with_context(|| format!("无法打开 {}", path.display()))
}

pub async fn restore(args: &RestoreArgs) -> Result<bool> {
    let snapshot = args.from.join(DATABASE_FILE);
    if !snapshot.is_file() {
        bail!(
            "{} 中没有数据库快照 {DATABASE_FILE}（PostgreSQL 的备份请用 pg_restore 恢复）",
            args.from.display()
        );
    }
    let target_db = args.data_dir.join(DATABASE_FILE);
    let target_files = args.data_dir.join("files");
    if target_db.exists() || !is_empty_dir(&target_files)? {
        bail!(
            "目标数据目录 {} 已有数据库或文件；恢复只写入空的数据目录，不会覆盖已有数据",
            args.data_dir.display()
        );
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("无法创建 {}", args.data_dir.display()))?;
    std::fs::copy(&snapshot, &target_db)
        .with_context(|| format!("无法复制数据库到 {}", target_db.display()))?;

    // The files of the manifest, each checked against its name.
    let manifest = std::fs::File::open(args.from.join(MANIFEST)).context("备份中没有文件清单")?;
    let (mut copied, mut bad) = (0usize, Vec::new());
    for (n, line) in std::io::BufReader::new(manifest).lines().enumerate() {
        let line = line?;
        let Some((sha, _size)) = line.split_once('\t').filter(|(s, _)| is_sha256_hex(s)) else {
            bail!("文件清单第 {} 行格式错误：{line}", n + 1);
        };
        let from = blob_file(&args.from.join("files"), sha);
        if !from.is_file() {
            bad.push(format!("{sha}（备份中没有这个文件）"));
            continue;
        }
        let to = blob_file(&target_files, sha);
        link_or_copy(&from, &to)?;
        let (_, hash) = fazhi_package::archive::hash_file(&to, &AtomicBool::new(false))
            .with_context(|| format!("无法读取 {}", to.display()))?;
        if hash != sha {
            bad.push(format!("{sha}（内容与校验值不符）"));
            continue;
        }
        copied += 1;
    }
    println!("已恢复文件 {copied} 个");

    let store = open_restored(&target_db).await?;
    let intact = match store.verify_audit().await? {
        Ok(n) => {
            println!("审计日志校验通过：{n} 条，哈希链完整");
            true
        }
        Err(broken) => {
            println!("审计日志校验失败：{broken}");
            false
        }
    };
    // Every file the database refers to is there.
    let rows = store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            store.connection().get_database_backend(),
            "SELECT sha256 FROM blob".to_string(),
        ))
        .await?;
    for row in rows {
        let sha: String = row.try_get("", "sha256")?;
        if !blob_file(&target_files, &sha).is_file() {
            bad.push(format!("{sha}（数据库引用的文件不在备份中）"));
        }
    }
    store.close().await.ok();
    if !bad.is_empty() {
        println!("有 {} 个文件有问题：", bad.len());
        for b in bad.iter().take(20) {
            println!("  {b}");
        }
        return Ok(false);
    }
    println!(
        "恢复完成：用 fazhi serve --data-dir {} 启动",
        args.data_dir.display()
    );
    Ok(intact)
}

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// 目标数据库（须为新建的空库），如 postgres://fazhi@10.0.0.3/fazhi
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// 同时把文件搬到这个配置文件的 [file_store] 所写的存储（如 S3）；访问密钥仍取自环境变量或 credentials_file
    #[arg(long, value_name = "FILE")]
    pub files_to: Option<PathBuf>,
}

/// `fazhi migrate-data`: the county's database (and, with `--files-to`, its files) into the
/// scaled deployment's, checked table by table, file by file, and by the audit chain.
pub async fn migrate_data(args: &MigrateArgs) -> Result<bool> {
    let (config, url) = resolve(&args.data, None)?;
    if url == args.to {
        bail!("源数据库与目标数据库相同");
    }
    let source = Store::connect(&url)
        .await
        .with_context(|| format!("无法打开源数据库 {}", redact(&url)))?;
    let target = Store::connect(&args.to)
        .await
        .with_context(|| format!("无法打开目标数据库 {}", redact(&args.to)))?;
    println!(
        "正在把 {} 迁到 {}（请先停止服务，迁移期间不要写入）",
        redact(&url),
        redact(&args.to)
    );
    let moved = source.copy_all_into(&target).await?;
    for t in &moved.tables {
        println!(
            "  {:<24} {:>8} 行{}",
            t.table,
            t.target_rows,
            if t.source_rows == t.target_rows {
                String::new()
            } else {
                format!("（源 {} 行，不一致！）", t.source_rows)
            }
        );
    }
    println!("目标库的审计日志校验通过：{} 条", moved.audit_entries);
    let mut ok = moved.mismatches().is_empty();

    if let Some(path) = &args.files_to {
        let from = FileStore::new(&file_store_config(&args.data, &config.data_dir)?)
            .context("无法打开源文件存储")?;
        let to_config = crate::serve_cmd::file_store_config_from_file(path, &config.data_dir)?;
        let to = FileStore::new(&to_config).context("无法打开目标文件存储")?;
        let blobs: Vec<(String, u64)> = from.list_blobs().try_collect().await?;
        let (mut copied, mut present) = (0usize, 0usize);
        for (sha, size) in &blobs {
            if to.exists(sha).await? && to.size(sha).await? == *size {
                present += 1;
                continue;
            }
            let stream = from.get_stream(sha).await?;
            let stored = to.put_stream(stream, u64::MAX).await?;
            if stored.sha256 != *sha || stored.size != *size {
                println!("  文件 {sha} 复制后校验值或大小不符");
                ok = false;
                continue;
            }
            copied += 1;
        }
        println!(
            "文件：{} 个（已复制 {copied} 个，目标中已有 {present} 个），逐个按 SHA-256 核对（{to}）",
            blobs.len()
        );
    }
    source.close().await.ok();
    target.close().await.ok();
    if ok {
        println!(
            "迁移完成。请把配置中的 database_url 改为目标库{}后启动服务。",
            if args.files_to.is_some() {
                "、[file_store] 改为目标存储"
            } else {
                ""
            }
        );
    }
    Ok(ok)
}
