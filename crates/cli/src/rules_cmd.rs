//! `fazhi rules FILE`: the measurable requirements found in each indicator's text.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use fazhi_domain::rules::{Rule, extract_rules};
use serde::Serialize;

use crate::import_cmd::{self, OutputFormat};

#[derive(Args)]
pub struct RulesArgs {
    /// 责任分工表文件（与 fazhi import 相同的格式）
    pub file: PathBuf,
    /// 输出格式：text 为便于核对的列表，json 为机器可读
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// 强制按此格式读取（txt、tsv、csv、xlsx）
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,
}

#[derive(Serialize)]
struct IndicatorRules<'a> {
    indicator: &'a str,
    /// Codes from the top, e.g. `二.1.25`: unique even where numbering restarts.
    path: String,
    rules: Vec<Rule>,
}

pub fn run(args: &RulesArgs) -> Result<ExitCode> {
    let out = import_cmd::load(&args.file, args.input_format.as_deref(), None)?;
    let walked = out.framework.walk_indicators();
    let found: Vec<IndicatorRules> = walked
        .iter()
        .map(|(path, item)| IndicatorRules {
            indicator: &item.code,
            path: path
                .iter()
                .map(|h| h.code.as_str())
                .chain([item.code.as_str()])
                .collect::<Vec<_>>()
                .join("."),
            rules: extract_rules(&item.text),
        })
        .filter(|r| !r.rules.is_empty())
        .collect();
    let mut w = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut w, &found)?;
            writeln!(w)?;
        }
        OutputFormat::Text => {
            let total: usize = found.iter().map(|f| f.rules.len()).sum();
            let unsure = found
                .iter()
                .flat_map(|f| &f.rules)
                .filter(|r| !r.certain)
                .count();
            writeln!(
                w,
                "{} 项指标中有 {} 项含量化要求，共 {total} 条（其中 {unsure} 条待人工核对）",
                walked.len(),
                found.len()
            )?;
            for item in &found {
                writeln!(w, "\n第{}项（{}）", item.indicator, item.path)?;
                for rule in &item.rules {
                    let mark = if rule.certain { "" } else { "【待核对】" };
                    writeln!(
                        w,
                        "  {mark}[{}] {}    原文：“{}”",
                        rule.kind.family_label(),
                        rule.describe(),
                        rule.source
                    )?;
                    if let Some(note) = &rule.note {
                        writeln!(w, "      说明：{note}")?;
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
