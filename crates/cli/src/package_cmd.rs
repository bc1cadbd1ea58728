//! `fazhi package build|verify`: the 佐证材料汇编 from the command line. The build runs as a
//! background job (recorded and audited like one started from the web), with a progress bar.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use fazhi_files::{FileStore, human_size};
use fazhi_package::job::JOB_KIND;
use fazhi_package::{Control, PackageFormat, PackageParams, Progress};
use fazhi_store::{Actor, NewJob, RoundId, Store};
use indicatif::{ProgressBar, ProgressStyle};

use crate::serve_cmd::{DataArgs, redact, resolve};

#[derive(Args)]
pub struct PackageArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(subcommand)]
    pub command: PackageCommand,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// 压缩包：按指标体系分文件夹，含 目录.xlsx、说明.txt、manifest.json
    Zip,
    /// PDF 合订本：封面、带页码的目录、书签，每项指标后附其佐证材料的页面
    Pdf,
}

#[derive(Subcommand)]
pub enum PackageCommand {
    /// 生成佐证材料汇编（默认：当前轮次、全部单位、仅审核合格的材料）
    Build {
        /// 输出文件，如 汇编.zip
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "zip")]
        format: Format,
        /// 轮次编号（默认为进行中的轮次）
        #[arg(long, value_name = "ID")]
        round: Option<i64>,
        /// 只收一个责任单位的材料（单位名称或别名）
        #[arg(long, value_name = "NAME")]
        unit: Option<String>,
        /// 只收一个一级指标，如 一
        #[arg(long, value_name = "一级指标")]
        heading: Option<String>,
        /// 收入全部材料并注明审核结论（默认只收审核合格的）
        #[arg(long)]
        all: bool,
    },
    /// 核验压缩包：按 manifest.json 重新计算每个文件的 SHA-256，指出缺少、多出或被改动的文件
    Verify {
        /// 压缩包
        file: PathBuf,
    },
}

fn actor() -> Actor {
    Actor {
        user_id: None,
        name: "命令行".into(),
    }
}

pub async fn run(args: &PackageArgs) -> Result<ExitCode> {
    match &args.command {
        PackageCommand::Verify { file } => verify(file),
        PackageCommand::Build {
            out,
            format,
            round,
            unit,
            heading,
            all,
        } => {
            let params = PackageParams {
                format: match format {
                    Format::Zip => PackageFormat::Zip,
                    Format::Pdf => PackageFormat::Pdf,
                },
                round: round.map(RoundId),
                unit: unit.clone(),
                heading: heading.clone(),
                all: *all,
            };
            build(&args.data, out, params).await
        }
    }
}

fn verify(file: &Path) -> Result<ExitCode> {
    let report =
        fazhi_package::verify(file).with_context(|| format!("无法核验 {}", file.display()))?;
    println!("{}（{}）", report.round_name, report.scope);
    if report.is_ok() {
        println!("核验通过：{} 个文件的 SHA-256 均与清单一致", report.intact);
        return Ok(ExitCode::SUCCESS);
    }
    for f in &report.findings {
        println!("{f}");
    }
    println!(
        "核验未通过：{} 处问题（{} 个文件一致）",
        report.findings.len(),
        report.intact
    );
    Ok(ExitCode::from(1))
}

async fn build(data: &DataArgs, out: &Path, params: PackageParams) -> Result<ExitCode> {
    let (config, url) = resolve(data, None)?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("无法打开数据库 {}", redact(&url)))?;
    let files = FileStore::new(&crate::serve_cmd::file_store_config(
        data,
        &config.data_dir,
    )?)
    .context("无法打开文件存储")?;
    let result = build_job(&store, &files, out, params).await;
    store.close().await.ok();
    result
}

async fn build_job(
    store: &Store,
    files: &FileStore,
    out: &Path,
    params: PackageParams,
) -> Result<ExitCode> {
    // Wrong round, unit or heading: say so before a job is recorded.
    let plan = fazhi_package::plan(store, &params).await?;
    let unit = plan.unit.as_ref().map(|u| u.0);
    println!("{}", plan.scope_label());
    let id = store
        .create_job(
            NewJob {
                kind: JOB_KIND.into(),
                params: serde_json::to_value(&params)?,
                unit_id: unit,
            },
            &actor(),
        )
        .await?;
    let Some(job) = store.claim_job_id(id).await? else {
        bail!("后台任务 #{id} 已被其他进程领取");
    };

    let bar = ProgressBar::new(plan.total_bytes().max(1));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{bar:30}] {bytes}/{total_bytes}  {msg}  {bytes_per_sec}  剩余 {eta}",
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .progress_chars("=> "),
    );
    let shown = bar.clone();
    let cancel = Arc::new(AtomicBool::new(false));
    let on_ctrl_c = Arc::clone(&cancel);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.store(true, Ordering::Relaxed);
        }
    });
    let control = Control {
        progress: Arc::new(move |p: Progress| {
            shown.set_length(p.bytes_total.max(1));
            shown.set_position(p.bytes_done);
            shown.set_message(format!("文件 {}/{}", p.files_done, p.files_total));
        }),
        cancel,
    };
    let outcome = fazhi_package::job::run_job(
        store,
        files,
        &job,
        fazhi_package::job::Output::File(out),
        None,
        control,
    )
    .await;
    bar.finish_and_clear();
    let built = match outcome {
        Ok(b) => b,
        Err(fazhi_package::PackageError::Cancelled) => {
            println!("已取消，未生成文件");
            return Ok(ExitCode::from(130));
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "已生成 {}：文件材料 {} 份、链接材料 {} 条，{}，SHA-256 {}",
        built.path.display(),
        built.files_packed,
        built.links,
        human_size(built.size),
        built.sha256
    );
    if built.left_out_unapproved > 0 {
        println!(
            "未收入尚未审核合格的材料 {} 份（--all 可全部收入）",
            built.left_out_unapproved
        );
    }
    if let Some(e) = &built.catalog_pdf_error {
        println!("注意：目录.pdf 未生成（{e}），目录.xlsx 已包含全部内容");
    }
    if !built.problems.is_empty() {
        println!(
            "注意：{} 份材料有问题（已写入 说明.txt 与 目录.xlsx）：",
            built.problems.len()
        );
        for p in &built.problems {
            println!("  {} {}：{}", p.material_no, p.path, p.message);
        }
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
