//! The working-day calculator on the holidays page: N working days after a date, and the
//! working days between two dates.

use super::day_with_weekday;
use chrono::NaiveDate;
use fazhi_domain::calendar::{DayKind, HolidayCalendar};
use serde::Deserialize;

/// The working-day calculator: its inputs and answers.
#[derive(Default, Deserialize)]
pub struct ToolQuery {
    from: Option<String>,
    n: Option<String>,
    a: Option<String>,
    b: Option<String>,
}

#[derive(Default)]
pub struct ToolView {
    pub from: String,
    pub n: String,
    pub a: String,
    pub b: String,
    pub after: Option<String>,
    pub after_note: String,
    pub after_error: Option<String>,
    pub between: Option<String>,
    pub between_error: Option<String>,
}

fn tool_date(raw: &str, what: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{what}“{}”不是有效日期，应写成 2026-03-31", raw.trim()))
}

/// Holidays (by name) with a listed day in `start < d <= end`, for the calculator's note.
fn holidays_between(cal: &HolidayCalendar, start: NaiveDate, end: NaiveDate) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for e in cal
        .entries()
        .filter(|e| e.date > start && e.date <= end && e.kind == DayKind::Off)
    {
        if !names.contains(&e.name) {
            names.push(e.name.clone());
        }
    }
    names
}

pub(crate) fn run_tool(cal: &HolidayCalendar, q: ToolQuery) -> ToolView {
    let text = |o: Option<String>| o.map(|s| s.trim().to_string()).unwrap_or_default();
    let mut v = ToolView {
        from: text(q.from),
        n: text(q.n),
        a: text(q.a),
        b: text(q.b),
        ..Default::default()
    };
    if !v.from.is_empty() || !v.n.is_empty() {
        let result = (|| -> Result<(String, String), String> {
            let from = tool_date(&v.from, "起算日期")?;
            let n: u32 =
                v.n.parse()
                    .ok()
                    .filter(|n| *n <= 1000)
                    .ok_or_else(|| format!("工作日数“{}”应为0到1000之间的整数", v.n))?;
            let end = cal.add_workdays(from, n).map_err(|e| e.to_string())?;
            let answer = format!(
                "{} 之后第 {n} 个工作日是 {}",
                day_with_weekday(from),
                day_with_weekday(end)
            );
            let skipped = holidays_between(cal, from, end);
            let mut note = "起算日当天不计入。".to_string();
            if !skipped.is_empty() {
                note.push_str(&format!(
                    "其间有节假日（{}），已按国务院办公厅的放假和调休安排扣除。",
                    skipped.join("、")
                ));
            }
            Ok((answer, note))
        })();
        match result {
            Ok((answer, note)) => {
                v.after = Some(answer);
                v.after_note = note;
            }
            Err(e) => v.after_error = Some(e),
        }
    }
    if !v.a.is_empty() || !v.b.is_empty() {
        let result = (|| -> Result<String, String> {
            let a = tool_date(&v.a, "开始日期")?;
            let b = tool_date(&v.b, "结束日期")?;
            if b < a {
                return Err("结束日期早于开始日期，请交换后再算".into());
            }
            let n = cal.workdays_between(a, b).map_err(|e| e.to_string())?;
            Ok(format!(
                "{} 至 {}：共 {n} 个工作日（不含开始当天，含结束当天）",
                day_with_weekday(a),
                day_with_weekday(b)
            ))
        })();
        match result {
            Ok(answer) => v.between = Some(answer),
            Err(e) => v.between_error = Some(e),
        }
    }
    v
}
