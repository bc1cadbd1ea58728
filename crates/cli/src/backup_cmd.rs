//! `fazhi backup`, `fazhi restore` and `fazhi migrate-data`: arguments and what they print,
//! over `fazhi_ops` (the backup, the restore and the file copy, each checked) and
//! `Store::copy_all_into` (the database move).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use fazhi_files::{FileStore, FileStoreConfig};
use fazhi_ops::backup::{MANIFEST, RestoreReport};
use fazhi_store::Store;

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

pub async fn backup(args: &BackupArgs) -> Result<()> {
    let (config, url) = resolve(&args.data, None)?;
    let store_config = file_store_config(&args.data, &config.data_dir)?;
    let files = FileStore::new(&store_config).context("无法打开文件存储")?;
    let local_root = match &store_config {
        FileStoreConfig::Local { root } => Some(root.as_path()),
        FileStoreConfig::S3 { .. } => None,
    };
    let report = fazhi_ops::backup::backup(&url, &files, local_root, &args.out).await?;
    match &report.snapshot {
        Some(path) => println!("数据库快照：{}", path.display()),
        None => println!(
            "数据库为 PostgreSQL：请用 pg_dump 备份（服务运行时也一致），例如\n  pg_dump -Fc -f {} '{}'",
            report.out.join("fazhi.pgdump").display(),
            redact(&url)
        ),
    }
    let total = fazhi_files::human_size(report.file_bytes);
    if report.files_included {
        println!(
            "文件：{} 个，共 {total}，已链接到 {}",
            report.files,
            report.out.join(fazhi_ops::backup::FILES_DIR).display()
        );
    } else {
        println!(
            "文件在对象存储（{files}）中，{} 个，共 {total}：请用对象存储的复制或版本功能备份；清单见 {MANIFEST}",
            report.files
        );
    }
    if let Some(n) = report.audit_entries {
        println!("快照中的审计日志校验通过：{n} 条");
    }
    println!("备份完成：{}", report.out.display());
    Ok(())
}

pub async fn restore(args: &RestoreArgs) -> Result<bool> {
    let report: RestoreReport = fazhi_ops::backup::restore(&args.from, &args.data_dir).await?;
    println!("已恢复文件 {} 个", report.files_restored);
    match &report.audit {
        Ok(n) => println!("审计日志校验通过：{n} 条，哈希链完整"),
        Err(broken) => println!("审计日志校验失败：{broken}"),
    }
    if !report.problems.is_empty() {
        println!("有 {} 个文件有问题：", report.problems.len());
        for b in report.problems.iter().take(20) {
            println!("  {b}");
        }
        return Ok(false);
    }
    println!(
        "恢复完成：用 fazhi serve --data-dir {} 启动",
        args.data_dir.display()
    );
    Ok(report.is_ok())
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
        let copy = fazhi_ops::migrate::copy_files(&from, &to).await?;
        for sha in &copy.mismatched {
            println!("  文件 {sha} 复制后校验值或大小不符");
        }
        ok &= copy.mismatched.is_empty();
        println!(
            "文件：{} 个（已复制 {} 个，目标中已有 {} 个），逐个按 SHA-256 核对（{to}）",
            copy.files, copy.copied, copy.present
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
