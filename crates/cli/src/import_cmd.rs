//! `fazhi import FILE`: parse a responsibility-division table and print it;
//! `fazhi import --compare OLD NEW`: what changed between two editions.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use fazhi_import::compare::{Change, Comparison, DiffPiece};
use fazhi_import::errata::{self, Errata};
use fazhi_import::{ImportOptions, ImportOutput, InputFormat, Severity};

#[derive(Args)]
pub struct ImportArgs {
    /// 表格文件：.txt（PDF 提取的文本）、.tsv、.csv、.xlsx、Word（.docx；.doc/.wps 需 LibreOffice 转换）或 PDF
    #[arg(required_unless_present = "compare")]
    pub file: Option<PathBuf>,
    /// 对比两个版本：列出新增、删除、改写（逐字差异）、移动和责任单位变化的指标
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], conflicts_with_all = ["file", "errata"])]
    pub compare: Option<Vec<PathBuf>>,
    /// 输出格式：text 为便于阅读的摘要，json 为完整的指标库
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// 强制按此格式读取（txt、tsv、csv、xlsx、docx、pdf、doc），默认按文件扩展名判断
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,
    /// 在导入结果上应用人工核对过的勘误文件（TOML）
    #[arg(long, value_name = "FILE")]
    pub errata: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Read, parse and apply errata: shared by every command that loads a table.
pub fn load(
    file: &Path,
    input_format: Option<&str>,
    errata: Option<&PathBuf>,
) -> Result<ImportOutput> {
    let bytes = read_bounded(file)?;
    let format = match input_format {
        Some(name) => Some(InputFormat::parse_name(name).with_context(|| {
            format!("不认识的输入格式“{name}”，可用：txt、tsv、csv、xlsx、docx、pdf、doc")
        })?),
        None => None,
    };
    let options = ImportOptions {
        format,
        ..Default::default()
    };
    let name = file.file_name().and_then(|n| n.to_str());
    let mut out = fazhi_import::import_bytes(&bytes, name, &options)
        .with_context(|| format!("{} 不能作为指标表读取", file.display()))?;
    if let Some(path) = errata {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("无法读取勘误文件 {}", path.display()))?;
        let list = Errata::parse(&text).with_context(|| path.display().to_string())?;
        errata::apply(&mut out, &list).with_context(|| path.display().to_string())?;
    }
    Ok(out)
}

/// The file's bytes, refused before reading when over the importer's size limit; the
/// `take` covers files whose size is not known beforehand (pipes, devices).
fn read_bounded(file: &Path) -> Result<Vec<u8>> {
    let context = || format!("无法读取文件 {}", file.display());
    let handle = std::fs::File::open(file).with_context(context)?;
    let limit = fazhi_import::limits::MAX_FILE_BYTES as u64;
    let size = handle.metadata().with_context(context)?.len();
    if size > limit {
        return Err(fazhi_import::limits::LimitError::FileTooLarge { size, limit })
            .with_context(|| format!("{} 不能作为指标表读取", file.display()));
    }
    let mut bytes = Vec::new();
    handle
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(context)?;
    Ok(bytes)
}

pub fn run(args: &ImportArgs) -> Result<ExitCode> {
    if let Some(files) = &args.compare {
        return compare(args, files);
    }
    let Some(file) = &args.file else {
        bail!("请给出要导入的文件");
    };
    let out = load(file, args.input_format.as_deref(), args.errata.as_ref())?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &out)?;
            writeln!(stdout)?;
        }
        OutputFormat::Text => print_summary(&mut stdout, &out)?,
    }
    Ok(ExitCode::SUCCESS)
}

const LEVEL_NAMES: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];

fn print_summary(w: &mut impl Write, out: &ImportOutput) -> Result<()> {
    let f = &out.framework;
    writeln!(w, "《{}》", f.title)?;
    let counts = f.level_counts();
    let Some((leaves, headings)) = counts.split_last() else {
        bail!("指标体系为空");
    };
    for (depth, n) in headings.iter().enumerate() {
        let level = LEVEL_NAMES.get(depth).copied().unwrap_or("多");
        writeln!(w, "  {level}级指标 {n} 个")?;
    }
    writeln!(w, "  末级指标（考核项）{leaves} 项")?;
    writeln!(w)?;
    writeln!(w, "责任单位 {} 个（牵头 / 配合 项数）：", f.units.len())?;
    for (name, lead, co) in f.unit_indicator_counts() {
        let kind = out
            .unit_details
            .iter()
            .find(|u| u.name == name)
            .map(|u| u.kind.label())
            .unwrap_or("");
        writeln!(w, "  {name:<14}\t{lead:>3} / {co:<3}\t{kind}")?;
    }
    writeln!(w)?;
    let warnings = out.warnings().count();
    writeln!(
        w,
        "检查结果：{} 条，其中需人工核对 {warnings} 条",
        out.diagnostics.len()
    )?;
    let mut sorted: Vec<_> = out.diagnostics.iter().collect();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.severity == Severity::Warning));
    for d in sorted {
        let line = d.line.map(|l| format!("第{l}行")).unwrap_or_default();
        let code = d
            .indicator
            .as_ref()
            .map(|c| format!("[{c}]"))
            .unwrap_or_default();
        writeln!(w, "  【{}】{line}{code} {}", d.severity.label(), d.message)?;
    }
    Ok(())
}

fn compare(args: &ImportArgs, files: &[PathBuf]) -> Result<ExitCode> {
    let [old_file, new_file] = files else {
        bail!("--compare 需要两个文件：旧版本 新版本");
    };
    let old = load(old_file, args.input_format.as_deref(), None)?;
    let new = load(new_file, args.input_format.as_deref(), None)?;
    let comparison = fazhi_import::compare::compare(&old.framework, &new.framework);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &comparison)?;
            writeln!(stdout)?;
        }
        OutputFormat::Text => print_comparison(&mut stdout, &comparison)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn diff_label(diff: &[DiffPiece]) -> String {
    diff.iter()
        .map(|d| match d {
            DiffPiece::Same(t) => t.clone(),
            DiffPiece::Removed(t) => format!("[-{t}-]"),
            DiffPiece::Added(t) => format!("{{+{t}+}}"),
        })
        .collect()
}

fn print_comparison(w: &mut impl Write, c: &Comparison) -> Result<()> {
    writeln!(w, "旧版本《{}》 → 新版本《{}》", c.old_title, c.new_title)?;
    writeln!(w, "{}", c.summary())?;
    if c.changes.is_empty() {
        writeln!(w, "两个版本的指标完全相同")?;
    }
    for change in &c.changes {
        match change {
            Change::Added { new } => {
                writeln!(w, "【新增】{} {}", new.label(), new.text)?;
                writeln!(w, "        责任单位：{}", new.units_label())?;
            }
            Change::Removed { old } => writeln!(w, "【删除】{} {}", old.label(), old.text)?,
            Change::Reworded {
                old,
                new,
                similarity,
                diff,
            } => {
                writeln!(
                    w,
                    "【改写】{} → {}（相似度 {:.0}%）",
                    old.label(),
                    new.label(),
                    similarity * 100.0
                )?;
                writeln!(w, "        {}", diff_label(diff))?;
            }
            Change::Moved { old, new } => writeln!(
                w,
                "【移动】{} → {}：从“{}”移到“{}”",
                old.label(),
                new.label(),
                old.headings.join(" / "),
                new.headings.join(" / ")
            )?,
            Change::Responsibility { old, new } => writeln!(
                w,
                "【责任单位】{}：{} → {}",
                new.label(),
                old.units_label(),
                new.units_label()
            )?,
        }
    }
    if c.changes
        .iter()
        .any(|c| matches!(c, Change::Reworded { .. }))
    {
        writeln!(w)?;
        writeln!(w, "差异中 [-…-] 为删去的文字，{{+…+}} 为新增的文字")?;
    }
    Ok(())
}
