//! `fazhi calendar …`: the working-day calendar in force (shipped years plus those the office
//! added), adding a year's arrangement from a CSV file, and working-day arithmetic.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_store::{Actor, Store};

use crate::serve_cmd::{DataArgs, redact, resolve};

#[derive(Args)]
pub struct CalendarArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(subcommand)]
    pub command: CalendarCommand,
}

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// 列出已有节假日安排的年份
    Years,
    /// 录入一年的节假日安排（CSV：date,kind,name，kind 为 off 放假或 workday 调休上班）
    Add {
        /// CSV 文件（UTF-8）
        file: PathBuf,
        /// 年份，如 2027
        #[arg(long)]
        year: i32,
        /// 依据，如“国办发明电〔2026〕7号”
        #[arg(long)]
        source: String,
    },
    /// 工作日计算：--from 日期 --add N（N 个工作日后），或 --from A --to B（相隔的工作日数）
    Workdays {
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: NaiveDate,
        #[arg(long, value_name = "N", conflicts_with = "to")]
        add: Option<u32>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: Option<NaiveDate>,
    },
}

fn actor() -> Actor {
    Actor {
        user_id: None,
        name: "命令行".into(),
    }
}

pub async fn run(args: &CalendarArgs) -> Result<()> {
    let (_, url) = resolve(&args.data, None)?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("无法打开数据库 {}", redact(&url)))?;
    let result = command(&store, &args.command).await;
    store.close().await.ok();
    result
}

async fn command(store: &Store, command: &CalendarCommand) -> Result<()> {
    match command {
        CalendarCommand::Years => {
            let shipped = HolidayCalendar::china_builtin();
            for y in shipped.covered_years() {
                println!("{y}\t随系统提供");
            }
            for y in store.added_calendar_years().await? {
                println!("{}\t{}（{}录入）", y.year, y.source, y.added_by_name);
            }
        }
        CalendarCommand::Add { file, year, source } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                anyhow::anyhow!(
                    "{} 不是 UTF-8 文本，请另存为 UTF-8 编码的 CSV",
                    file.display()
                )
            })?;
            let n = store
                .set_calendar_year(*year, source, &text, &actor())
                .await
                .with_context(|| format!("{} 未能录入", file.display()))?;
            println!("已录入{year}年节假日安排，共 {n} 条（依据：{source}）");
        }
        CalendarCommand::Workdays { from, add, to } => {
            let cal = store.calendar().await?;
            match (add, to) {
                (Some(n), None) => {
                    let day = cal.add_workdays(*from, *n)?;
                    println!("{from} 之后第 {n} 个工作日是 {day}");
                }
                (None, Some(to)) => {
                    let n = cal.workdays_between(*from, *to)?;
                    println!("{from} 至 {to} 相隔 {n} 个工作日（不含起始日，含结束日）");
                }
                _ => bail!("请给出 --add N 或 --to 日期"),
            }
        }
    }
    Ok(())
}
