use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use fazhi_document::{BarChart, Block, Document, Table};

pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("跳过：未安装 {tool}（Debian 包见 README）");
    }
    found
}

/// Runs a tool, asserts success, returns stdout.
pub fn run(tool: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(tool).args(args).arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `pdftotext -layout FILE -`.
pub fn pdf_text(file: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Page count from `pdfinfo`.
pub fn pdf_pages(file: &Path) -> usize {
    let info = run("pdfinfo", &[], file);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo: {info}"))
}

/// Whether a CJK font is installed (the PDF tests need one; CI installs fonts-noto-cjk).
pub fn have_cjk_font() -> bool {
    match fazhi_document::PdfSettings::default().fonts() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("跳过：{e}");
            false
        }
    }
}

/// A county progress report with every kind of block, long enough for two pages.
pub fn report() -> Document {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let mut blocks = vec![
        Block::Heading1 {
            text: "总体进展".into(),
        },
        Block::Paragraph {
            text: "截至2026年11月30日，全县承担示范创建任务的42个责任单位共签收任务318项，已审核通过247项，完成率77.7%；红灯任务5项，黄灯任务12项。".into(),
        },
        Block::Table(Table {
            caption: Some("表1 各一级指标完成情况".into()),
            header: vec!["一级指标".into(), "任务数".into(), "已通过".into(), "完成率".into()],
            rows: vec![
                vec!["一、政府职能依法全面履行".into(), "56".into(), "47".into(), "83.9%".into()],
                vec!["二、依法行政制度体系完善".into(), "31".into(), "22".into(), "71.0%".into()],
                vec!["三、重大行政决策科学民主合法".into(), "28".into(), "25".into(), "89.3%".into()],
            ],
            widths: Some(vec![5, 2, 2, 2]),
        }),
        Block::BarChart(BarChart {
            title: "图1 各一级指标完成率".into(),
            labels: vec![
                "政府职能依法全面履行".into(),
                "依法行政制度体系完善".into(),
                "重大行政决策科学民主合法".into(),
                "行政执法严格规范公正文明".into(),
            ],
            values: vec![83.9, 71.0, 89.3, 64.5],
            unit: "%".into(),
            max: Some(100.0),
        }),
        Block::Heading2 {
            text: "各单位完成情况".into(),
        },
        Block::Paragraph {
            text: "县司法局、县行政审批服务局完成率居前，县市场监督管理局有3项任务逾期。".into(),
        },
        Block::Heading1 {
            text: "存在问题".into(),
        },
        Block::Heading2 {
            text: "量化要求达标情况".into(),
        },
    ];
    for i in 1..=12 {
        blocks.push(Block::Paragraph {
            text: format!(
                "{i}. 部分单位行政执法案卷评查发现问题整改不到位，执法全过程记录制度落实不够，第{i}项指标未达到“每年至少开展1次”的要求，需在下一阶段补齐。"
            ),
        });
    }
    Document {
        title: "兰陵县法治政府建设示范创建工作进展报告".into(),
        issuer: "兰陵县委全面依法治县委员会办公室".into(),
        date: d(2026, 12, 1),
        recipient: Some("县委全面依法治县委员会".into()),
        blocks,
    }
}
