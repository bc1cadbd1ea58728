//! The 工作进展报告: a round's progress as of a date, for the county or one unit, as a
//! 公文 ([`fazhi_document::Document`], rendered to .docx and .pdf by `fazhi-document`).
//!
//! Every number comes from [`RoundStats`] (the statistics layer the dashboard and the
//! 任务台账 read), every list from the same [`TaskFacts`]; nothing is counted here twice.
//! Sections: 总体进展 (headline numbers, the 一级指标 table and chart), 各单位完成情况 (the
//! ranking), 量化要求达标情况, 逾期与督办情况, 存在问题 and 下步工作 (the units' latest reports,
//! grouped by 一级指标, each with its unit).

use std::collections::BTreeMap;

use crate::ledger::shorten;
use chrono::NaiveDate;
use fazhi_document::model::{chinese_date, format_number, format_percent};
use fazhi_document::{BarChart, Block, Document, Table};
use fazhi_domain::framework::Role;
use fazhi_domain::measure::Compliance;
use fazhi_domain::stats::{HeadingLabel, LightRules, RoundStats, TaskFacts};
use fazhi_domain::supervision::Light;
use fazhi_domain::task::TaskStatus;
use serde::{Deserialize, Serialize};

/// Longest title, 发文机关, 主送 the office may type (characters).
pub const MAX_LINE_CHARS: usize = 100;
/// Longest free 说明 paragraph (characters).
pub const MAX_NOTE_CHARS: usize = 2000;
/// Items listed by name in a section before "等N项" sums up the rest: a county round has
/// ~150 tasks, a report is read, not searched.
pub const MAX_LISTED: usize = 30;
/// Characters of an indicator's text quoted in a list.
const SHORT_TEXT_CHARS: usize = 40;
/// Characters of a unit's 存在问题 / 下步计划 quoted.
const QUOTE_CHARS: usize = 300;

/// What the office may set before generating; every field has a default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// 标题; default `关于法治政府建设示范创建工作进展情况的报告` (a unit's name in front for
    /// a unit's report).
    pub title: Option<String>,
    /// 发文机关署名; default 县委全面依法治县委员会办公室, or the unit for a unit's report.
    pub issuer: Option<String>,
    /// 成文日期; default the as-of date.
    pub date: Option<NaiveDate>,
    /// 主送机关, printed under the title.
    pub recipient: Option<String>,
    /// A free 说明 paragraph printed before the numbers.
    pub note: Option<String>,
}

impl ReportOptions {
    /// Checks the lengths (before any work): a clear message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let line = |name: &str, v: &Option<String>| match v {
            Some(s) if s.chars().count() > MAX_LINE_CHARS => {
                Err(format!("{name}最长 {MAX_LINE_CHARS} 个字"))
            }
            Some(s) if s.contains(['\n', '\r']) => Err(format!("{name}不能换行")),
            _ => Ok(()),
        };
        line("标题", &self.title)?;
        line("发文机关", &self.issuer)?;
        line("主送机关", &self.recipient)?;
        if self
            .note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            return Err(format!("说明最长 {MAX_NOTE_CHARS} 个字"));
        }
        Ok(())
    }
}

/// What the report is about.
#[derive(Debug, Clone, Copy)]
pub struct ReportSubject<'a> {
    pub round_name: &'a str,
    /// The unit of a unit's report; `None`: the whole county.
    pub unit: Option<&'a str>,
    pub as_of: NaiveDate,
    pub tasks: &'a [TaskFacts],
    pub stats: &'a RoundStats,
    pub rules: LightRules<'a>,
}

pub const DEFAULT_COUNTY_ISSUER: &str = "县委全面依法治县委员会办公室";

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// One line per paragraph of a unit's text, joined: a report quotes it as one sentence.
fn flatten(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("；")
}

/// `第12项“……”`.
fn item(t: &TaskFacts) -> String {
    format!("第{}项“{}”", t.code, shorten(&t.text, SHORT_TEXT_CHARS))
}

fn heading_title(h: &HeadingLabel) -> String {
    h.title.trim().to_string()
}

/// The report of `subject` with the office's `options`.
pub fn progress_report(subject: &ReportSubject<'_>, options: &ReportOptions) -> Document {
    let s = subject.stats;
    let title = non_empty(&options.title).unwrap_or_else(|| match subject.unit {
        Some(u) => format!("{u}关于法治政府建设示范创建工作进展情况的报告"),
        None => "关于法治政府建设示范创建工作进展情况的报告".to_string(),
    });
    let issuer = non_empty(&options.issuer).unwrap_or_else(|| {
        subject
            .unit
            .map_or(DEFAULT_COUNTY_ISSUER.to_string(), str::to_string)
    });
    let mut blocks = Vec::new();
    let para = |text: String| Block::Paragraph { text };

    // The opening: what this is, and the office's own words.
    blocks.push(para(format!(
        "现将{}{}截至{}的工作进展情况报告如下。",
        subject.unit.map_or(String::new(), |u| format!("{u}承担的")),
        subject.round_name,
        chinese_date(subject.as_of)
    )));
    if let Some(note) = non_empty(&options.note) {
        for line in note.lines().map(str::trim).filter(|l| !l.is_empty()) {
            blocks.push(para(line.to_string()));
        }
    }

    overall(&mut blocks, subject);
    if subject.unit.is_none() {
        ranking(&mut blocks, s);
    }
    compliance(&mut blocks, subject);
    overdue(&mut blocks, subject);
    from_reports(&mut blocks, subject);

    Document {
        title,
        issuer,
        date: options.date.unwrap_or(subject.as_of),
        recipient: non_empty(&options.recipient),
        blocks,
    }
}

fn overall(blocks: &mut Vec<Block>, subject: &ReportSubject<'_>) {
    let s = subject.stats;
    blocks.push(Block::Heading1 {
        text: "总体进展".into(),
    });
    if s.tasks == 0 {
        blocks.push(Block::Paragraph {
            text: "本轮次在统计范围内没有任务。".into(),
        });
        return;
    }
    let units = s.units.len();
    let in_work = s.count_status(TaskStatus::InProgress) + s.count_status(TaskStatus::Returned);
    let mut text = format!(
        "截至{}，共分解任务{}项{}，已审核通过（含销号）{}项，完成率{}；已报送待审核{}项，办理中（含退回重办）{}项，尚未签收{}项。",
        chinese_date(s.as_of),
        s.tasks,
        if subject.unit.is_none() {
            format!("，涉及责任单位{units}个")
        } else {
            String::new()
        },
        s.approved,
        format_percent(s.completion()),
        s.count_status(TaskStatus::Submitted),
        in_work,
        s.count_status(TaskStatus::Pending),
    );
    text.push_str(&format!(
        "按期限看，红灯{}项、黄灯{}项、绿灯{}项，未设期限{}项。",
        s.count_light(Light::Red),
        s.count_light(Light::Yellow),
        s.count_light(Light::Green),
        s.count_light(Light::None),
    ));
    blocks.push(Block::Paragraph { text });

    if !s.heading1.is_empty() {
        blocks.push(Block::Table(Table {
            caption: Some("表1 各一级指标完成情况".into()),
            header: [
                "一级指标",
                "任务数",
                "已通过",
                "完成率",
                "全部完成的三级指标",
            ]
            .map(String::from)
            .to_vec(),
            rows: s
                .heading1
                .iter()
                .map(|h| {
                    vec![
                        format!("{}、{}", h.label().code, heading_title(h.label())),
                        h.tasks.to_string(),
                        h.approved.to_string(),
                        format_percent(h.task_share()),
                        format!("{}/{}", h.indicators_done, h.indicators),
                    ]
                })
                .collect(),
            widths: Some(vec![5, 1, 1, 1, 2]),
        }));
        blocks.push(Block::BarChart(BarChart {
            title: "图1 各一级指标任务完成率".into(),
            labels: s
                .heading1
                .iter()
                .map(|h| shorten(&heading_title(h.label()), 12))
                .collect(),
            values: s.heading1.iter().map(|h| h.task_share() * 100.0).collect(),
            unit: "%".into(),
            max: Some(100.0),
        }));
    }
}

fn ranking(blocks: &mut Vec<Block>, s: &RoundStats) {
    blocks.push(Block::Heading1 {
        text: "各单位完成情况".into(),
    });
    if s.units.is_empty() {
        blocks.push(Block::Paragraph {
            text: "暂无责任单位的任务。".into(),
        });
        return;
    }
    let full: Vec<&str> = s
        .units
        .iter()
        .filter(|u| u.tasks > 0 && u.approved == u.tasks)
        .map(|u| u.name.as_str())
        .collect();
    let none: Vec<&str> = s
        .units
        .iter()
        .filter(|u| u.tasks > 0 && u.approved == 0)
        .map(|u| u.name.as_str())
        .collect();
    let mut text = format!("{}个责任单位中，", s.units.len());
    if full.is_empty() {
        text.push_str("尚无单位全部完成任务");
    } else {
        text.push_str(&format!(
            "{}等{}个单位已全部完成",
            list_names(&full, 5),
            full.len()
        ));
    }
    if none.is_empty() {
        text.push_str("，各单位均有任务通过审核。");
    } else {
        text.push_str(&format!("；{}个单位尚无任务通过审核。", none.len()));
    }
    text.push_str("各单位完成情况见表2（按完成率、按期完成率排序）。");
    blocks.push(Block::Paragraph { text });
    blocks.push(Block::Table(Table {
        caption: Some("表2 各责任单位完成情况".into()),
        header: [
            "排名",
            "责任单位",
            "任务",
            "已通过",
            "完成率",
            "逾期",
            "未达标",
            "督办单",
            "平均评分",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .units
            .iter()
            .map(|u| {
                vec![
                    u.rank.to_string(),
                    u.name.clone(),
                    u.tasks.to_string(),
                    u.approved.to_string(),
                    format_percent(u.completion()),
                    u.late.to_string(),
                    u.rules_not_met.to_string(),
                    u.open_notices.to_string(),
                    u.average_review().map_or("—".into(), format_number),
                ]
            })
            .collect(),
        widths: Some(vec![1, 5, 1, 1, 2, 1, 1, 1, 2]),
    }));
}

/// `县公安局、县民政局、县财政局` (at most `n`, then 等).
fn list_names(names: &[&str], n: usize) -> String {
    names.iter().take(n).copied().collect::<Vec<_>>().join("、")
}

fn compliance(blocks: &mut Vec<Block>, subject: &ReportSubject<'_>) {
    let s = subject.stats;
    blocks.push(Block::Heading1 {
        text: "量化要求达标情况".into(),
    });
    let count = |v: Compliance| {
        s.rules_by_verdict
            .iter()
            .find(|(c, _)| *c == v)
            .map_or(0, |(_, n)| *n)
    };
    let total: usize = s.rules_by_verdict.iter().map(|(_, n)| n).sum();
    if total == 0 {
        blocks.push(Block::Paragraph {
            text: "统计范围内的任务没有量化要求。".into(),
        });
        return;
    }
    blocks.push(Block::Paragraph {
        text: format!(
            "统计范围内的任务共有量化要求{}条，其中达标{}条、未达标{}条、未填报{}条、无法判定{}条。",
            total,
            count(Compliance::Met),
            count(Compliance::NotMet),
            count(Compliance::NotReported),
            count(Compliance::Undecidable),
        ),
    });
    let not_met: Vec<String> = subject
        .tasks
        .iter()
        .flat_map(|t| {
            t.rules
                .iter()
                .filter(|r| r.verdict == Compliance::NotMet)
                .map(move |r| {
                    let actual = if r.actual.trim().is_empty() {
                        String::new()
                    } else {
                        format!("，填报{}", r.actual.trim())
                    };
                    format!(
                        "{}（{}）：要求{}{}，未达标。",
                        item(t),
                        t.unit_name,
                        r.requirement.trim(),
                        actual
                    )
                })
        })
        .collect();
    if not_met.is_empty() {
        blocks.push(Block::Paragraph {
            text: "目前没有未达标的量化要求。".into(),
        });
    } else {
        blocks.push(Block::Paragraph {
            text: "未达标的量化要求如下：".into(),
        });
        push_listed(blocks, not_met, "条");
    }
}

/// Each line a paragraph, at most [`MAX_LISTED`], then how many more.
fn push_listed(blocks: &mut Vec<Block>, lines: Vec<String>, measure: &str) {
    let more = lines.len().saturating_sub(MAX_LISTED);
    for (i, line) in lines.into_iter().take(MAX_LISTED).enumerate() {
        blocks.push(Block::Paragraph {
            text: format!("{}. {line}", i + 1),
        });
    }
    if more > 0 {
        blocks.push(Block::Paragraph {
            text: format!("另有{more}{measure}未逐一列出，详见任务台账。"),
        });
    }
}

fn overdue(blocks: &mut Vec<Block>, subject: &ReportSubject<'_>) {
    let s = subject.stats;
    blocks.push(Block::Heading1 {
        text: "逾期与督办情况".into(),
    });
    let mut red = Vec::new();
    let mut late_done = 0usize;
    for t in subject.tasks {
        let now = t.as_of(subject.as_of, subject.rules);
        if now.light.light == Light::Red {
            let phrase = now.light.phrase();
            red.push(format!(
                "{}（{}{}）：{}{}。",
                item(t),
                t.unit_name,
                if t.role == Role::Lead {
                    "，牵头"
                } else {
                    ""
                },
                now.status.label(),
                if phrase.is_empty() {
                    String::new()
                } else {
                    format!("，{phrase}")
                }
            ));
        } else if now.is_late() {
            late_done += 1;
        }
    }
    let late_total: usize = s.units.iter().map(|u| u.late).sum();
    blocks.push(Block::Paragraph {
        text: format!(
            "逾期（含曾逾期）任务{}项，其中目前红灯{}项{}；未签收的督办单{}份。",
            late_total,
            red.len(),
            if late_done > 0 {
                format!("、逾期后已报送或完成{late_done}项")
            } else {
                String::new()
            },
            s.open_notices
        ),
    });
    if !red.is_empty() {
        blocks.push(Block::Paragraph {
            text: "红灯任务如下：".into(),
        });
        push_listed(blocks, red, "项");
    }
    let with_notices: Vec<String> = s
        .units
        .iter()
        .filter(|u| u.open_notices > 0)
        .map(|u| format!("{}{}份", u.name, u.open_notices))
        .collect();
    if !with_notices.is_empty() {
        blocks.push(Block::Paragraph {
            text: format!("督办单尚未签收的单位：{}。", with_notices.join("、")),
        });
    }
}

/// 存在问题 and 下步工作: the latest report of each task, grouped by 一级指标.
fn from_reports(blocks: &mut Vec<Block>, subject: &ReportSubject<'_>) {
    type Pick = fn(&fazhi_domain::stats::ReportFact) -> &str;
    let sections: [(&str, Pick, &str); 2] = [
        ("存在问题", |r| &r.problems, "各单位报告中未反映存在问题。"),
        (
            "下步工作",
            |r| &r.next_steps,
            "各单位报告中尚未填写下步计划。",
        ),
    ];
    for (heading, pick, empty) in sections {
        blocks.push(Block::Heading1 {
            text: heading.into(),
        });
        // 一级指标 in document order (the tasks come in it), each with its lines.
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut count = 0usize;
        for t in subject.tasks {
            let Some(r) = &t.latest_report else { continue };
            let text = flatten(pick(r));
            if text.is_empty() {
                continue;
            }
            let h1 = t.heading1().map_or("其他".to_string(), heading_title);
            let slot = *index.entry(h1.clone()).or_insert_with(|| {
                groups.push((h1, Vec::new()));
                groups.len() - 1
            });
            count += 1;
            if count > MAX_LISTED * 2 {
                continue;
            }
            groups[slot].1.push(format!(
                "{}（{}）：{}",
                t.unit_name,
                format_args!("第{}项", t.code),
                shorten(&text, QUOTE_CHARS)
            ));
        }
        if groups.is_empty() {
            blocks.push(Block::Paragraph { text: empty.into() });
            continue;
        }
        for (h1, lines) in groups {
            if lines.is_empty() {
                continue;
            }
            blocks.push(Block::Heading2 { text: h1 });
            for line in lines {
                blocks.push(Block::Paragraph { text: line });
            }
        }
        if count > MAX_LISTED * 2 {
            blocks.push(Block::Paragraph {
                text: format!("另有{}条未逐一列出，详见任务台账。", count - MAX_LISTED * 2),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_before_work() {
        let long = "字".repeat(MAX_LINE_CHARS + 1);
        let o = ReportOptions {
            title: Some(long),
            ..Default::default()
        };
        assert!(o.validate().unwrap_err().contains("标题"));
        let o = ReportOptions {
            issuer: Some("县司法局\n县公安局".into()),
            ..Default::default()
        };
        assert!(o.validate().unwrap_err().contains("发文机关不能换行"));
        let o = ReportOptions {
            note: Some("说".repeat(MAX_NOTE_CHARS + 1)),
            ..Default::default()
        };
        assert!(o.validate().unwrap_err().contains("说明"));
        assert!(ReportOptions::default().validate().is_ok());
    }

    #[test]
    fn long_texts_are_cut_and_flattened() {
        assert_eq!(shorten("一二三四五", 3), "一二三…");
        assert_eq!(shorten(" 一二 ", 3), "一二");
        assert_eq!(flatten("甲\n\n 乙 \r\n丙"), "甲；乙；丙");
    }
}
