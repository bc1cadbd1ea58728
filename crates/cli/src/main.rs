//! `fazhi`: the command line. Parsing and printing only; the work is in the library crates.

mod import_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "fazhi", version, about = "法治政府建设示范创建工作平台")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 读取责任分工表（PDF 提取的文本、.tsv/.csv 或 .xlsx），检查并打印指标体系
    Import(import_cmd::ImportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Import(args) => import_cmd::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}
