//! `fazhi`: the command line. Parsing and printing only; the work is in the library crates.

mod backup_cmd;
mod calendar_cmd;
mod export_cmd;
mod import_cmd;
mod package_cmd;
mod rules_cmd;
mod serve_cmd;

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
    /// 读取责任分工表（PDF 提取的文本、.tsv/.csv、.xlsx、Word 或 PDF），检查并打印指标体系；--compare 对比两个版本
    Import(import_cmd::ImportArgs),
    /// 从每项指标的文字中提取量化要求（比率、时限、数量、频次、年度截止日）
    Rules(rules_cmd::RulesArgs),
    /// 启动平台（网页与接口）；首次启动时建库、载入县指标库并创建管理员
    Serve(serve_cmd::ServeArgs),
    /// 管理用户：add、list、reset-password、disable
    User(serve_cmd::UserArgs),
    /// 审计日志：verify 校验哈希链
    Audit(serve_cmd::AuditArgs),
    /// 节假日与工作日：years、add（录入一年的安排）、workdays（工作日计算）
    Calendar(calendar_cmd::CalendarArgs),
    /// 清理：过期会话、过期的登录失败记录、一天前的导入预览、无材料引用的上传文件（服务运行时每15分钟自动执行）
    Gc(serve_cmd::GcArgs),
    /// 佐证材料汇编：build 生成（按指标体系分文件夹的压缩包）、verify 核验
    Package(package_cmd::PackageArgs),
    /// 导出电子表格：responsibility 责任分工表、ledger 任务台账（.xlsx）
    Export(export_cmd::ExportArgs),
    /// 备份：服务运行时也可执行，得到一致的数据库快照与文件（PostgreSQL 时给出 pg_dump 命令并导出文件清单）
    Backup(backup_cmd::BackupArgs),
    /// 恢复：把 fazhi backup 的备份放回一个空的数据目录，并校验文件与审计日志
    Restore(backup_cmd::RestoreArgs),
    /// 迁移：把本县的数据库（及文件）搬到新建的空库（如 PostgreSQL）与对象存储，逐表核对行数并校验审计日志
    MigrateData(backup_cmd::MigrateArgs),
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FAZHI_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,fazhi_web=info,fazhi_store=info,sqlx=warn,sea_orm=warn",
        )
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Import(args) => import_cmd::run(&args),
        Command::Rules(args) => rules_cmd::run(&args),
        Command::Serve(args) => {
            init_logging();
            runtime()
                .and_then(|rt| rt.block_on(serve_cmd::serve(&args)))
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Audit(args) => runtime()
            .and_then(|rt| rt.block_on(serve_cmd::audit(&args)))
            .map(|intact| {
                if intact {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }),
        Command::User(args) => runtime()
            .and_then(|rt| rt.block_on(serve_cmd::user(&args)))
            .map(|()| ExitCode::SUCCESS),
        Command::Gc(args) => runtime()
            .and_then(|rt| rt.block_on(serve_cmd::gc(&args)))
            .map(|()| ExitCode::SUCCESS),
        Command::Calendar(args) => runtime()
            .and_then(|rt| rt.block_on(calendar_cmd::run(&args)))
            .map(|()| ExitCode::SUCCESS),
        Command::Package(args) => runtime().and_then(|rt| rt.block_on(package_cmd::run(&args))),
        Command::Export(args) => runtime()
            .and_then(|rt| rt.block_on(export_cmd::run(&args)))
            .map(|()| ExitCode::SUCCESS),
        Command::Backup(args) => runtime()
            .and_then(|rt| rt.block_on(backup_cmd::backup(&args)))
            .map(|()| ExitCode::SUCCESS),
        Command::Restore(args) => runtime()
            .and_then(|rt| rt.block_on(backup_cmd::restore(&args)))
            .map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }),
        Command::MigrateData(args) => runtime()
            .and_then(|rt| rt.block_on(backup_cmd::migrate_data(&args)))
            .map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }),
    };
    match result {
        Ok(code) => code,
        // `fazhi … | head` closes the pipe early: not an error worth a message.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}
