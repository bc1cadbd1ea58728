//! 任务台账: one row per task of a round (or of one unit), with its indicator, unit and role,
//! status and light, dates, the latest 工作进展 / 存在问题 / 下步计划, evidence by verdict, each
//! rule's reported value and verdict, open 督办单 and scores; a second sheet with the
//! ranking of units (横向排名) and a third with the totals. Every number comes from
//! [`fazhi_domain::stats`], the layer the dashboard and the report read.
//!
//! The task sheet is written in constant memory (rows streamed to a temporary file), so a
//! large round costs no more memory than a small one.

use std::path::Path;

use chrono::NaiveDate;
use fazhi_domain::framework::Role;
use fazhi_domain::stats::{HeadingLabel, LightRules, RoundStats, TaskFacts};
use fazhi_domain::supervision::Light;
use fazhi_store::RoundFacts;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use serde::Serialize;

use crate::ReportError;
use crate::sheet::{Formats, PAPER_A3, PAPER_A4, print_setup, row_height, save};

/// Longest indicator text in the 台账; the full text is in the 责任分工表.
pub const SHORT_TEXT_CHARS: usize = 50;
/// Longest 工作进展 / 存在问题 / 下步计划 in a cell (Excel holds 32767 characters).
const MAX_CELL_CHARS: usize = 2000;

/// The task sheet's columns: header and width.
pub const LEDGER_COLUMNS: [(&str, f64); 25] = [
    ("一级指标", 14.0),
    ("二级指标", 18.0),
    ("序号", 6.0),
    ("指标内容（摘要）", 28.0),
    ("责任单位", 16.0),
    ("牵头/配合", 7.0),
    ("任务状态", 8.0),
    ("红黄绿灯", 8.0),
    ("逾期情况", 12.0),
    ("办理期限", 10.0),
    ("签收日期", 10.0),
    ("报送日期", 10.0),
    ("通过日期", 10.0),
    ("工作进展", 30.0),
    ("存在问题", 22.0),
    ("下步计划", 22.0),
    ("进展填报日期", 10.0),
    ("佐证材料合格", 8.0),
    ("佐证材料需补充", 8.0),
    ("佐证材料待审核", 8.0),
    ("量化要求及填报值", 28.0),
    ("达标情况", 9.0),
    ("未签收督办单", 8.0),
    ("自评分", 7.0),
    ("审核评分", 7.0),
];

/// The ranking sheet's columns.
pub const RANKING_COLUMNS: [(&str, f64); 14] = [
    ("排名", 6.0),
    ("责任单位", 22.0),
    ("任务数", 8.0),
    ("其中牵头", 8.0),
    ("已通过", 8.0),
    ("完成率", 9.0),
    ("按期完成", 8.0),
    ("有逾期", 8.0),
    ("红灯", 7.0),
    ("平均审核评分", 10.0),
    ("未达标要求", 9.0),
    ("未签收督办单", 10.0),
    ("佐证材料合格", 10.0),
    ("佐证材料需补充", 10.0),
];

/// Rows above the task sheet's data: title, scope, header.
pub const LEDGER_HEADER_ROW: u32 = 2;

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerExport {
    pub round_name: String,
    pub scope: String,
    pub as_of: NaiveDate,
    pub tasks: usize,
    pub units: usize,
    pub bytes: u64,
}

/// `一、政府职能依法全面履行`.
fn heading_cell(h: Option<&HeadingLabel>, depth: usize) -> String {
    let Some(h) = h else {
        return String::new();
    };
    let code = h.code.trim();
    if code.is_empty() {
        h.title.clone()
    } else if code.chars().all(|c| c.is_ascii_digit()) {
        format!("{code}. {}", h.title)
    } else if depth == 0 {
        format!("{code}、{}", h.title)
    } else {
        format!("（{code}）{}", h.title)
    }
}

/// At most `max` characters, `…` when cut.
pub fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// The 逾期情况 cell: `逾期3个工作日` (red), `曾逾期` (late once, now green), or the time left
/// (`还剩2个工作日`, `今天到期`); empty without a due date.
pub fn late_cell(light: &fazhi_domain::supervision::LightState) -> String {
    match (light.late, light.light) {
        (true, Light::Red) if light.phrase().is_empty() => "已逾期".into(),
        (true, Light::Red) => light.phrase(),
        (true, _) => "曾逾期".into(),
        (false, _) => light.phrase(),
    }
}

/// `不低于95%：90%（未达标）`, one line per rule.
pub fn rules_cell(t: &TaskFacts) -> String {
    t.rules
        .iter()
        .map(|r| {
            let actual = if r.actual.is_empty() {
                String::new()
            } else {
                format!("{}，", r.actual)
            };
            format!("{}：{actual}{}", r.requirement, r.verdict.label())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A sheet's name, column widths, title (row 0, centred across the columns) and the
/// subtitle line under it (row 1): the head every sheet of the 台账 shares.
fn sheet_head(
    ws: &mut Worksheet,
    name: &str,
    widths: impl IntoIterator<Item = f64>,
    title: &str,
    subtitle: &str,
    f: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name(name)?;
    let mut columns = 0u16;
    for (i, width) in widths.into_iter().enumerate() {
        ws.set_column_width(i as u16, width)?;
        columns += 1;
    }
    title_row(ws, 0, columns.saturating_sub(1), title, &f.title)?;
    ws.set_row_height(0, 30)?;
    ws.write_string_with_format(1, 0, subtitle, &f.subtitle)?;
    Ok(())
}

fn title_row(
    ws: &mut Worksheet,
    row: u32,
    last_col: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    // Centred across the columns without a merge (constant-memory sheets write in order).
    let across = format.clone().set_align(FormatAlign::CenterAcross);
    ws.write_string_with_format(row, 0, text, &across)?;
    for col in 1..=last_col {
        ws.write_blank(row, col, &across)?;
    }
    Ok(())
}

fn header_row(
    ws: &mut Worksheet,
    row: u32,
    columns: &[(&str, f64)],
    f: &Formats,
) -> Result<(), XlsxError> {
    for (i, (name, _)) in columns.iter().enumerate() {
        ws.write_string_with_format(row, i as u16, *name, &f.header)?;
    }
    ws.set_row_height(
        row,
        row_height(columns.iter().map(|(name, width)| (*name, *width))),
    )?;
    Ok(())
}

fn opt_date(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    date: Option<NaiveDate>,
    f: &Formats,
) -> Result<(), XlsxError> {
    match date {
        Some(d) => ws.write_date_with_format(row, col, d, &f.date)?,
        None => ws.write_blank(row, col, &f.centre)?,
    };
    Ok(())
}

/// Writes the 任务台账 of `facts` with `stats` (computed from the same facts) to `out`.
/// `scope` says whose tasks these are (`全县` or a unit's name).
pub fn write_ledger(
    facts: &RoundFacts,
    stats: &RoundStats,
    rules: LightRules<'_>,
    scope: &str,
    out: &Path,
) -> Result<LedgerExport, ReportError> {
    let f = Formats::new();
    let as_of = facts.as_of;
    let mut workbook = Workbook::new();
    let date_cn = as_of.format("%Y年%-m月%-d日").to_string();
    let last_col = (LEDGER_COLUMNS.len() - 1) as u16;

    let ws = workbook.add_worksheet_with_constant_memory()?;
    sheet_head(
        ws,
        "任务台账",
        LEDGER_COLUMNS.iter().map(|(_, w)| *w),
        &format!("{}任务台账", facts.round.name),
        &format!(
            "范围：{scope}　　统计截至：{date_cn}　　共 {} 项任务（红黄绿灯、逾期情况按截至日计算）",
            facts.tasks.len()
        ),
        &f,
    )?;
    header_row(ws, LEDGER_HEADER_ROW, &LEDGER_COLUMNS, &f)?;

    let mut row = LEDGER_HEADER_ROW;
    for t in &facts.tasks {
        row += 1;
        let now = t.as_of(as_of, rules);
        let short = shorten(&t.text, SHORT_TEXT_CHARS);
        let h1 = heading_cell(t.heading1(), 0);
        let h2 = heading_cell(t.heading2(), 1);
        let light_format = match now.light.light {
            Light::Red => &f.red,
            Light::Yellow => &f.yellow,
            Light::Green => &f.green,
            Light::None => &f.centre,
        };
        let late = late_cell(&now.light);
        let report = t.latest_report.as_ref();
        let part = |s: Option<&String>| s.map(|s| shorten(s, MAX_CELL_CHARS)).unwrap_or_default();
        let progress = part(report.map(|r| &r.progress));
        let problems = part(report.map(|r| &r.problems));
        let next_steps = part(report.map(|r| &r.next_steps));
        let rule_text = rules_cell(t);
        let verdict = now
            .verdict
            .map(|v| v.label())
            .unwrap_or(if t.rules.is_empty() {
                "无量化要求"
            } else {
                ""
            });

        ws.write_string_with_format(row, 0, &h1, &f.text)?;
        ws.write_string_with_format(row, 1, &h2, &f.text)?;
        match t.code.trim().parse::<u32>() {
            Ok(n) => ws.write_number_with_format(row, 2, n, &f.number)?,
            Err(_) => ws.write_string_with_format(row, 2, t.code.trim(), &f.centre)?,
        };
        ws.write_string_with_format(row, 3, &short, &f.text)?;
        ws.write_string_with_format(row, 4, &t.unit_name, &f.centre)?;
        ws.write_string_with_format(
            row,
            5,
            match t.role {
                Role::Lead => "牵头",
                Role::Co => "配合",
            },
            &f.centre,
        )?;
        ws.write_string_with_format(row, 6, now.status.label(), &f.centre)?;
        ws.write_string_with_format(row, 7, now.light.light.label(), light_format)?;
        ws.write_string_with_format(row, 8, &late, &f.centre)?;
        opt_date(ws, row, 9, t.due_on, &f)?;
        opt_date(ws, row, 10, now.signed_on, &f)?;
        opt_date(ws, row, 11, now.submitted_on, &f)?;
        opt_date(ws, row, 12, now.approved_on, &f)?;
        ws.write_string_with_format(row, 13, &progress, &f.text)?;
        ws.write_string_with_format(row, 14, &problems, &f.text)?;
        ws.write_string_with_format(row, 15, &next_steps, &f.text)?;
        opt_date(ws, row, 16, report.map(|r| r.on), &f)?;
        ws.write_number_with_format(row, 17, t.evidence.ok, &f.number)?;
        ws.write_number_with_format(row, 18, t.evidence.needs_more, &f.number)?;
        ws.write_number_with_format(row, 19, t.evidence.unreviewed, &f.number)?;
        ws.write_string_with_format(row, 20, &rule_text, &f.text)?;
        ws.write_string_with_format(row, 21, verdict, &f.centre)?;
        ws.write_number_with_format(row, 22, t.open_notices, &f.number)?;
        for (col, score) in [(23, t.self_score), (24, t.review_score)] {
            match score {
                Some(s) => ws.write_number_with_format(row, col, s.value(), &f.decimal)?,
                None => ws.write_blank(row, col, &f.centre)?,
            };
        }
        let width = |i: usize| LEDGER_COLUMNS[i].1;
        ws.set_row_height(
            row,
            row_height([
                (h1.as_str(), width(0)),
                (h2.as_str(), width(1)),
                (short.as_str(), width(3)),
                (t.unit_name.as_str(), width(4)),
                (progress.as_str(), width(13)),
                (problems.as_str(), width(14)),
                (next_steps.as_str(), width(15)),
                (rule_text.as_str(), width(20)),
            ]),
        )?;
    }
    ws.autofilter(LEDGER_HEADER_ROW, 0, row, last_col)?;
    ws.set_freeze_panes(LEDGER_HEADER_ROW + 1, 3)?;
    // 25 columns: A3, the paper offices print 台账 on.
    print_setup(ws, PAPER_A3, Some((LEDGER_HEADER_ROW, LEDGER_HEADER_ROW)))?;

    ranking_sheet(&mut workbook, facts, stats, scope, &date_cn, &f)?;
    totals_sheet(&mut workbook, facts, stats, scope, &date_cn, &f)?;

    let bytes = save(&mut workbook, out)?;
    Ok(LedgerExport {
        round_name: facts.round.name.clone(),
        scope: scope.to_string(),
        as_of,
        tasks: facts.tasks.len(),
        units: stats.units.len(),
        bytes,
    })
}

fn ranking_sheet(
    workbook: &mut Workbook,
    facts: &RoundFacts,
    stats: &RoundStats,
    scope: &str,
    date_cn: &str,
    f: &Formats,
) -> Result<(), XlsxError> {
    let ws = workbook.add_worksheet();
    sheet_head(
        ws,
        "单位排名",
        RANKING_COLUMNS.iter().map(|(_, w)| *w),
        &format!("{}各单位完成情况排名", facts.round.name),
        &format!(
            "范围：{scope}　　统计截至：{date_cn}　　按完成率、按期完成率、逾期任务数、未达标要求数排序，相同者并列"
        ),
        f,
    )?;
    header_row(ws, 2, &RANKING_COLUMNS, f)?;
    for (i, u) in stats.units.iter().enumerate() {
        let row = 3 + i as u32;
        ws.write_number_with_format(row, 0, u.rank as f64, &f.number)?;
        ws.write_string_with_format(row, 1, &u.name, &f.centre)?;
        ws.write_number_with_format(row, 2, u.tasks as f64, &f.number)?;
        ws.write_number_with_format(row, 3, u.lead_tasks as f64, &f.number)?;
        ws.write_number_with_format(row, 4, u.approved as f64, &f.number)?;
        ws.write_number_with_format(row, 5, u.completion(), &f.percent)?;
        ws.write_number_with_format(row, 6, u.on_time as f64, &f.number)?;
        ws.write_number_with_format(row, 7, u.late as f64, &f.number)?;
        ws.write_number_with_format(row, 8, u.red as f64, &f.number)?;
        match u.average_review() {
            Some(avg) => ws.write_number_with_format(row, 9, avg, &f.decimal)?,
            None => ws.write_string_with_format(row, 9, "未评分", &f.centre)?,
        };
        ws.write_number_with_format(row, 10, u.rules_not_met as f64, &f.number)?;
        ws.write_number_with_format(row, 11, u.open_notices as f64, &f.number)?;
        ws.write_number_with_format(row, 12, u.evidence_ok as f64, &f.number)?;
        ws.write_number_with_format(row, 13, u.evidence_needs_more as f64, &f.number)?;
    }
    ws.set_freeze_panes(3, 2)?;
    print_setup(ws, PAPER_A4, Some((2, 2)))?;
    Ok(())
}

/// Column widths of the totals sheet.
const TOTALS_WIDTHS: [f64; 7] = [40.0, 9.0, 9.0, 11.0, 9.0, 12.0, 11.0];

fn totals_sheet(
    workbook: &mut Workbook,
    facts: &RoundFacts,
    stats: &RoundStats,
    scope: &str,
    date_cn: &str,
    f: &Formats,
) -> Result<(), XlsxError> {
    let ws = workbook.add_worksheet();
    sheet_head(
        ws,
        "汇总",
        TOTALS_WIDTHS.iter().copied(),
        &format!("{}总体情况", facts.round.name),
        &format!(
            "范围：{scope}　　统计截至：{date_cn}　　任务 {} 项，已通过 {} 项，完成率 {:.1}%",
            stats.tasks,
            stats.approved,
            stats.completion() * 100.0
        ),
        f,
    )?;
    let group = f
        .text
        .clone()
        .set_bold()
        .set_background_color(rust_xlsxwriter::Color::RGB(0xF2F2F2));
    let mut row = 3;
    let section = |ws: &mut Worksheet,
                   row: &mut u32,
                   header: &[&str],
                   lines: Vec<Vec<Cell>>|
     -> Result<(), XlsxError> {
        for (i, h) in header.iter().enumerate() {
            ws.write_string_with_format(*row, i as u16, *h, &f.header)?;
        }
        ws.set_row_height(
            *row,
            row_height(header.iter().zip(TOTALS_WIDTHS).map(|(h, w)| (*h, w))),
        )?;
        *row += 1;
        for line in lines {
            let mut texts = Vec::new();
            for (i, cell) in line.into_iter().enumerate() {
                let col = i as u16;
                match cell {
                    Cell::Text(s) => {
                        ws.write_string_with_format(*row, col, &s, &f.text)?;
                        texts.push((s, TOTALS_WIDTHS.get(i).copied().unwrap_or(10.0)));
                        continue;
                    }
                    Cell::Group(s) => {
                        ws.write_string_with_format(*row, col, &s, &group)?;
                        for c in col + 1..header.len() as u16 {
                            ws.write_blank(*row, c, &group)?;
                        }
                        continue;
                    }
                    Cell::Count(n) => {
                        ws.write_number_with_format(*row, col, n as f64, &f.number)?
                    }
                    Cell::Share(x) => ws.write_number_with_format(*row, col, x, &f.percent)?,
                    Cell::Date(d) => ws.write_date_with_format(*row, col, d, &f.date)?,
                };
            }
            ws.set_row_height(
                *row,
                row_height(texts.iter().map(|(s, w)| (s.as_str(), *w))),
            )?;
            *row += 1;
        }
        *row += 1;
        Ok(())
    };
    section(
        ws,
        &mut row,
        &["任务状态", "任务数"],
        stats
            .by_status
            .iter()
            .map(|(s, n)| vec![Cell::Text(s.label().into()), Cell::Count(*n)])
            .collect(),
    )?;
    section(
        ws,
        &mut row,
        &["红黄绿灯", "任务数"],
        stats
            .by_light
            .iter()
            .map(|(l, n)| vec![Cell::Text(l.label().into()), Cell::Count(*n)])
            .collect(),
    )?;
    section(
        ws,
        &mut row,
        &["量化要求达标情况", "要求条数"],
        stats
            .rules_by_verdict
            .iter()
            .map(|(v, n)| vec![Cell::Text(v.label().into()), Cell::Count(*n)])
            .collect(),
    )?;
    let completion = |h: &fazhi_domain::stats::HeadingCompletion, depth: usize| {
        vec![
            Cell::Text(heading_cell(Some(h.label()), depth)),
            Cell::Count(h.tasks),
            Cell::Count(h.approved),
            Cell::Share(h.task_share()),
            Cell::Count(h.indicators),
            Cell::Count(h.indicators_done),
            Cell::Share(h.indicator_share()),
        ]
    };
    let mut header = [
        "一级指标",
        "任务数",
        "已通过",
        "任务完成率",
        "指标数",
        "任务全部通过的指标",
        "指标完成率",
    ];
    section(
        ws,
        &mut row,
        &header,
        stats.heading1.iter().map(|x| completion(x, 0)).collect(),
    )?;
    // 二级指标 under a line naming their 一级指标.
    let mut lines = Vec::new();
    let mut current: Option<&HeadingLabel> = None;
    for h in &stats.heading2 {
        let parent = h.path.first();
        if parent != current {
            current = parent;
            lines.push(vec![Cell::Group(heading_cell(parent, 0))]);
        }
        lines.push(completion(h, 1));
    }
    header[0] = "二级指标";
    section(ws, &mut row, &header, lines)?;
    section(
        ws,
        &mut row,
        &["周（自星期一起）", "报送", "通过"],
        stats
            .weeks
            .iter()
            .map(|w| {
                vec![
                    Cell::Date(w.week_of),
                    Cell::Count(w.submitted),
                    Cell::Count(w.approved),
                ]
            })
            .collect(),
    )?;
    print_setup(ws, PAPER_A4, None)?;
    ws.set_portrait();
    Ok(())
}

enum Cell {
    Text(String),
    /// A line naming the group below, across the section.
    Group(String),
    Count(usize),
    Share(f64),
    Date(NaiveDate),
}
