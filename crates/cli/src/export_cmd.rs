//! `fazhi export responsibility|ledger|report`: the documents for superiors from the
//! command line (the work is in `fazhi-report`; each export is recorded in the audit log).

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use fazhi_report::{
    LedgerParams, PdfSettings, ReportFormat, ReportOptions, ReportParams, export_ledger,
    export_report, export_responsibility,
};
use fazhi_store::{Actor, RoundId, Store, TaskFilter};

use crate::serve_cmd::{DataArgs, redact, resolve};

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(subcommand)]
    pub command: ExportCommand,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SheetFormat {
    /// Excel 工作簿（.xlsx）
    Xlsx,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DocFormat {
    /// Word 文档（.docx，公文字体）
    Docx,
    /// PDF（嵌入服务器上的中文字体）
    Pdf,
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// 导出当前版本指标体系的责任分工表（可再用 fazhi import 读回）
    Responsibility {
        #[arg(long, value_enum, default_value = "xlsx")]
        format: SheetFormat,
        /// 输出文件，如 责任分工表.xlsx
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// 导出一个轮次的任务台账（每项任务一行，另附单位排名与汇总）
    Ledger {
        #[arg(long, value_enum, default_value = "xlsx")]
        format: SheetFormat,
        /// 输出文件，如 任务台账.xlsx
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// 轮次编号（默认为进行中的轮次）
        #[arg(long, value_name = "ID")]
        round: Option<i64>,
        /// 只导出一个责任单位的任务（单位名称或别名）
        #[arg(long, value_name = "NAME")]
        unit: Option<String>,
        /// 统计截至日期，如 2026-06-30（默认今天）
        #[arg(long, value_name = "DATE")]
        as_of: Option<NaiveDate>,
    },
    /// 导出一个轮次的工作进展报告（公文格式，Word 或 PDF）
    Report {
        #[arg(long, value_enum, default_value = "docx")]
        format: DocFormat,
        /// 输出文件，如 工作进展报告.docx
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// 轮次编号（默认为进行中的轮次）
        #[arg(long, value_name = "ID")]
        round: Option<i64>,
        /// 只写一个责任单位的报告（单位名称或别名）
        #[arg(long, value_name = "NAME")]
        unit: Option<String>,
        /// 统计截至日期，如 2026-06-30（默认今天）
        #[arg(long, value_name = "DATE")]
        as_of: Option<NaiveDate>,
        /// 标题（默认“关于法治政府建设示范创建工作进展情况的报告”）
        #[arg(long)]
        title: Option<String>,
        /// 发文机关署名（默认县委全面依法治县委员会办公室，单位报告为该单位）
        #[arg(long)]
        issuer: Option<String>,
        /// 主送机关
        #[arg(long)]
        recipient: Option<String>,
        /// 成文日期（默认为统计截至日期）
        #[arg(long, value_name = "DATE")]
        date: Option<NaiveDate>,
        /// 印在正文开头的说明
        #[arg(long)]
        note: Option<String>,
    },
}

fn actor() -> Actor {
    Actor {
        user_id: None,
        name: "命令行".into(),
    }
}

pub async fn run(args: &ExportArgs) -> Result<()> {
    let (config, url) = resolve(&args.data, None)?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("无法打开数据库 {}", redact(&url)))?;
    let find_unit = async |name: &Option<String>| -> Result<_> {
        Ok(match name {
            Some(name) => Some(
                store
                    .find_unit(name)
                    .await?
                    .with_context(|| format!("没有名为“{name}”的单位"))?,
            ),
            None => None,
        })
    };
    let check_round = async |round: &Option<i64>| -> Result<()> {
        if let Some(r) = round {
            store
                .round(RoundId(*r))
                .await
                .with_context(|| format!("没有编号为 {r} 的轮次"))?;
        }
        Ok(())
    };
    let result = match &args.command {
        ExportCommand::Responsibility {
            format: SheetFormat::Xlsx,
            out,
        } => {
            let done = export_responsibility(&store, out, &actor()).await?;
            println!(
                "已导出责任分工表 {}：《{}》，{} 项指标、{} 个责任单位",
                out.display(),
                done.title,
                done.indicators,
                done.units
            );
            Ok(())
        }
        ExportCommand::Ledger {
            format: SheetFormat::Xlsx,
            out,
            round,
            unit,
            as_of,
        } => {
            let unit = find_unit(unit).await?;
            check_round(round).await?;
            let as_of = as_of.unwrap_or_else(|| config.clock.today());
            let params = LedgerParams {
                filter: TaskFilter {
                    round: round.map(RoundId),
                    unit,
                    ..Default::default()
                },
                as_of,
                warn_workdays: config.warn_workdays,
            };
            let done = export_ledger(&store, &params, out, &actor()).await?;
            if done.tasks == 0 {
                println!("注意：该范围内没有任务");
            }
            println!(
                "已导出任务台账 {}：{}，{}，截至 {}，{} 项任务、{} 个单位",
                out.display(),
                done.round_name,
                done.scope,
                done.as_of,
                done.tasks,
                done.units
            );
            Ok(())
        }
        ExportCommand::Report {
            format,
            out,
            round,
            unit,
            as_of,
            title,
            issuer,
            recipient,
            date,
            note,
        } => {
            let unit = find_unit(unit).await?;
            check_round(round).await?;
            let params = ReportParams {
                filter: TaskFilter {
                    round: round.map(RoundId),
                    unit,
                    ..Default::default()
                },
                as_of: as_of.unwrap_or_else(|| config.clock.today()),
                warn_workdays: config.warn_workdays,
                format: match format {
                    DocFormat::Docx => ReportFormat::Docx,
                    DocFormat::Pdf => ReportFormat::Pdf,
                },
                options: ReportOptions {
                    title: title.clone(),
                    issuer: issuer.clone(),
                    recipient: recipient.clone(),
                    date: *date,
                    note: note.clone(),
                },
                pdf: PdfSettings::from_env(),
            };
            let done = export_report(&store, &params, out, &actor()).await?;
            println!(
                "已导出工作进展报告 {}：《{}》，{}，{}，截至 {}，{} 项任务、已通过 {} 项",
                out.display(),
                done.title,
                done.round_name,
                done.scope,
                done.as_of,
                done.tasks,
                done.approved
            );
            Ok(())
        }
    };
    store.close().await.ok();
    result
}
