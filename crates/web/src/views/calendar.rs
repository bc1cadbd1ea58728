//! Dates: the holiday arrangements (节假日安排) the office keeps up to date, a working-day
//! calculator, each user's schedule (日程) of due dates and yearly deadlines, and a private
//! iCalendar feed of the same schedule for Outlook and phone calendars.
//!
//! The feed URL carries a random token (the database keeps only its SHA-256, like sessions
//! and API tokens), because calendar apps cannot log in. Whoever has the URL sees the
//! dates of that user's tasks, nothing else; regenerating it invalidates the old one.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Months, NaiveDate};
use fazhi_domain::calendar::{CalendarError, DayKind, EntrySource, HolidayCalendar};
use fazhi_domain::measure::next_yearly;
use fazhi_domain::rules::RuleKind;
use fazhi_domain::supervision::{Light, LightState, traffic_light};
use fazhi_domain::task::TaskStatus;
use fazhi_store::tasks::{TaskFilter, TaskSummary};
use fazhi_store::{RoundInfo, StoreError, TaskId, TaskMeasures, UnitId, User, UserRole};
use icalendar::{Calendar, Component, EventLike};
use serde::Deserialize;

use super::measures::light_of;
use super::work::today;
use super::{Layout, cn_time, flash, opt_id, render, require_admin};
use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::session::{CurrentUser, random_token, sha256_hex};

/// Largest arrangement file (or pasted text) accepted; a year's notice is about 2 KB.
pub const MAX_CALENDAR_BYTES: usize = 1024 * 1024;

/// The notices behind the years shipped in `data/calendar/cn-holidays.csv`
/// (see docs/calendar.md).
const BUILTIN_SOURCES: [(i32, &str); 8] = [
    (2019, "国办发明电〔2018〕15号，经国办发明电〔2019〕3号修改"),
    (
        2020,
        "国办发明电〔2019〕16号，经国办发明电〔2020〕1号延长春节假期",
    ),
    (2021, "国办发明电〔2020〕27号"),
    (2022, "国办发明电〔2021〕11号"),
    (2023, "国办发明电〔2022〕16号"),
    (2024, "国办发明电〔2023〕7号"),
    (2025, "国办发明电〔2024〕12号"),
    (2026, "国务院办公厅2025年11月4日发布的通知"),
];

/// Shown in the form: the 2026 arrangement as the format example.
const EXAMPLE: &str = "date,kind,name
2026-01-01,off,元旦
2026-01-02,off,元旦
2026-01-03,off,元旦
2026-01-04,workday,元旦
2026-02-14,workday,春节
2026-02-15,off,春节
……
2026-10-10,workday,国庆节";

pub fn weekday_cn(d: NaiveDate) -> &'static str {
    fazhi_domain::calendar::weekday_cn(d.weekday())
}

/// `2026-10-10（星期六）`
fn day_with_weekday(d: NaiveDate) -> String {
    format!("{d}（{}）", weekday_cn(d))
}

/// `1月1日`
fn month_day(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

// ---- Holiday arrangements (the office) ----

/// One holiday of a year as the notice states it: `春节：2月15日至23日放假，共9天；2月14日（星期六）、2月28日（星期六）上班`.
pub struct HolidayLine {
    pub name: String,
    pub off: String,
    pub work: String,
}

/// One covered year.
pub struct YearRow {
    pub year: i32,
    pub builtin: bool,
    pub source: String,
    /// When and by whom it was added (empty for shipped years).
    pub added: String,
    pub off_days: usize,
    pub work_days: usize,
    pub holidays: Vec<HolidayLine>,
}

/// Consecutive dates as ranges: `10月1日至8日`, `4月5日`.
fn ranges(dates: &[NaiveDate]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < dates.len() {
        let start = dates[i];
        let mut end = start;
        while i + 1 < dates.len() && dates[i + 1] == end.succ_opt().unwrap_or(end) {
            i += 1;
            end = dates[i];
        }
        out.push(if start == end {
            month_day(start)
        } else if start.month() == end.month() {
            format!("{}至{}日", month_day(start), end.day())
        } else {
            format!("{}至{}", month_day(start), month_day(end))
        });
        i += 1;
    }
    out
}

fn year_holidays(cal: &HolidayCalendar, year: i32) -> (Vec<HolidayLine>, usize, usize) {
    let mut order: Vec<String> = Vec::new();
    let mut by_name: HashMap<String, (Vec<NaiveDate>, Vec<NaiveDate>)> = HashMap::new();
    for e in cal.entries().filter(|e| e.date.year() == year) {
        if !by_name.contains_key(&e.name) {
            order.push(e.name.clone());
        }
        let slot = by_name.entry(e.name.clone()).or_default();
        match e.kind {
            DayKind::Off => slot.0.push(e.date),
            DayKind::Workday => slot.1.push(e.date),
        }
    }
    let (mut offs, mut works) = (0, 0);
    let lines = order
        .into_iter()
        .map(|name| {
            let (off, work) = by_name.remove(&name).unwrap_or_default();
            offs += off.len();
            works += work.len();
            HolidayLine {
                off: if off.is_empty() {
                    String::new()
                } else {
                    format!("{}放假，共{}天", ranges(&off).join("、"), off.len())
                },
                work: work
                    .iter()
                    .map(|d| format!("{}（{}）", month_day(*d), weekday_cn(*d)))
                    .collect::<Vec<_>>()
                    .join("、"),
                name,
            }
        })
        .collect();
    (lines, offs, works)
}

/// What the office typed into the form (kept when it is shown again with an error).
#[derive(Default)]
pub struct YearInput {
    pub year: String,
    pub source: String,
    pub text: String,
}

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

fn run_tool(cal: &HolidayCalendar, q: ToolQuery) -> ToolView {
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

#[derive(Template)]
#[template(path = "calendar_admin.html")]
struct AdminCalendarPage {
    layout: Option<Layout>,
    csrf: String,
    years: Vec<YearRow>,
    /// Next year, when its arrangement is still missing.
    missing_next: Option<i32>,
    input: YearInput,
    error: Option<String>,
    example: &'static str,
    tool: ToolView,
    today: String,
}

async fn admin_page(
    state: &AppState,
    cu: &CurrentUser,
    input: YearInput,
    error: Option<String>,
    tool: ToolQuery,
) -> WebResult<AdminCalendarPage> {
    let cal = state.calendar().await?;
    let builtin = HolidayCalendar::china_builtin();
    let added: HashMap<i32, fazhi_store::AddedCalendarYear> = state
        .store
        .added_calendar_years()
        .await?
        .into_iter()
        .map(|y| (y.year, y))
        .collect();
    let years = cal
        .covered_years()
        .iter()
        .rev()
        .map(|&year| {
            let (holidays, off_days, work_days) = year_holidays(&cal, year);
            let shipped = builtin.is_covered(year);
            let (source, added) = match added.get(&year) {
                Some(a) if !shipped => (
                    a.source.clone(),
                    format!("{} · {}", cn_time(&a.added_at), a.added_by_name),
                ),
                _ => (
                    BUILTIN_SOURCES
                        .iter()
                        .find(|(y, _)| *y == year)
                        .map(|(_, s)| s.to_string())
                        .unwrap_or_default(),
                    String::new(),
                ),
            };
            YearRow {
                year,
                builtin: shipped,
                source,
                added,
                off_days,
                work_days,
                holidays,
            }
        })
        .collect();
    let next = today().year() + 1;
    let missing_next = (!cal.is_covered(next)).then_some(next);
    let input = if input.year.is_empty() && input.source.is_empty() && input.text.is_empty() {
        let suggested = (today().year()..=today().year() + 2)
            .find(|y| !cal.is_covered(*y))
            .unwrap_or(next);
        YearInput {
            year: suggested.to_string(),
            ..input
        }
    } else {
        input
    };
    Ok(AdminCalendarPage {
        layout: Layout::build(state, cu).await?,
        csrf: cu.csrf.clone(),
        years,
        missing_next,
        input,
        error,
        example: EXAMPLE,
        tool: run_tool(&cal, tool),
        today: day_with_weekday(today()),
    })
}

/// `GET /admin/calendar`: covered years, the form to add one, the calculator.
pub async fn admin(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ToolQuery>,
) -> WebResult<impl IntoResponse> {
    require_admin(&cu.user)?;
    render(&admin_page(&state, &cu, YearInput::default(), None, q).await?)
}

#[derive(Deserialize)]
pub struct YearForm {
    year: Option<String>,
    source: Option<String>,
    text: Option<String>,
}

/// Text of an uploaded file: UTF-8 (with or without BOM), else GB18030 — what Excel on
/// Chinese Windows writes when saving as CSV.
fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

async fn read_year_form(state: &AppState, req: Request) -> WebResult<YearInput> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(f) = Form::<YearForm>::from_request(req, state)
            .await
            .map_err(|e| WebError::BadRequest(format!("表单无法读取：{e}")))?;
        return Ok(YearInput {
            year: f.year.unwrap_or_default(),
            source: f.source.unwrap_or_default(),
            text: f.text.unwrap_or_default(),
        });
    }
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|e| WebError::BadRequest(format!("表单无法读取：{e}")))?;
    let mut input = YearInput::default();
    let mut file: Option<String> = None;
    let too_big = || {
        WebError::BadRequest(format!(
            "文件太大：节假日安排文件最大 {} KB",
            MAX_CALENDAR_BYTES / 1024
        ))
    };
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(format!("上传中断：{e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| WebError::BadRequest(format!("上传中断：{e}")))?
        {
            if bytes.len() + chunk.len() > MAX_CALENDAR_BYTES {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = decode_text(&bytes);
        match name.as_str() {
            "year" => input.year = text,
            "source" => input.source = text,
            "text" => input.text = text,
            "file" if !bytes.is_empty() => file = Some(text),
            _ => {}
        }
    }
    if let Some(f) = file {
        // A chosen file wins over the text box.
        input.text = f;
    }
    Ok(input)
}

/// Moves the line numbers of an error back by one, for text parsed after a header line
/// was put in front of it.
fn unshift_lines(e: CalendarError) -> CalendarError {
    let back = |line: usize| line.saturating_sub(1).max(1);
    let at_back = |at: EntrySource| match at {
        EntrySource::Line(l) => EntrySource::Line(back(l)),
        other => other,
    };
    match e {
        CalendarError::MissingField { line, field } => CalendarError::MissingField {
            line: back(line),
            field,
        },
        CalendarError::BadDate { line, value } => CalendarError::BadDate {
            line: back(line),
            value,
        },
        CalendarError::UnknownKind { line, value } => CalendarError::UnknownKind {
            line: back(line),
            value,
        },
        CalendarError::BadName {
            at,
            date,
            name,
            reason,
        } => CalendarError::BadName {
            at: at_back(at),
            date,
            name,
            reason,
        },
        CalendarError::WorkdayNotWeekend { at, date } => CalendarError::WorkdayNotWeekend {
            at: at_back(at),
            date,
        },
        CalendarError::ConflictingEntry {
            at,
            date,
            existing_kind,
            existing_name,
            found_kind,
            found_name,
        } => CalendarError::ConflictingEntry {
            at: at_back(at),
            date,
            existing_kind,
            existing_name,
            found_kind,
            found_name,
        },
        other => other,
    }
}

/// Checks the typed text and returns it ready for the store: full-width commas (from a
/// Chinese input method) become `,`, and a missing header line is supplied — with error
/// line numbers still counting the lines as the office typed them.
fn prepare_csv(text: &str) -> Result<(String, usize), String> {
    let text = text.replace('，', ",");
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty());
    let Some(first) = first else {
        return Err("请粘贴节假日安排，或选择一个 CSV 文件".into());
    };
    if first.starts_with(|c: char| c.is_ascii_digit()) {
        let with_header = format!("date,kind,name\n{}", text.trim_start_matches('\u{feff}'));
        return match HolidayCalendar::parse_csv(&with_header) {
            Ok(c) => Ok((with_header, c.entries().count())),
            Err(e) => Err(unshift_lines(e).to_string()),
        };
    }
    match HolidayCalendar::parse_csv(&text) {
        Ok(c) => Ok((text, c.entries().count())),
        Err(e) => Err(e.to_string()),
    }
}

/// The page again with the office's input and what is wrong with it.
async fn form_error(
    state: &AppState,
    cu: &CurrentUser,
    input: YearInput,
    error: String,
) -> WebResult<Response> {
    let page = admin_page(state, cu, input, Some(error), ToolQuery::default()).await?;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

/// `POST /admin/calendar`: add (or replace) a year's arrangement, from pasted text
/// (url-encoded form) or an uploaded CSV file (multipart, CSRF token in the query).
pub async fn add_year(
    State(state): State<AppState>,
    cu: CurrentUser,
    req: Request,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let input = read_year_form(&state, req).await?;
    let Ok(year) = input.year.trim().parse::<i32>() else {
        let msg = format!("年份“{}”无效，请填写四位年份，如 2027", input.year.trim());
        return form_error(&state, &cu, input, msg).await;
    };
    if input.source.trim().is_empty() {
        return form_error(
            &state,
            &cu,
            input,
            "请填写依据：国务院办公厅通知的文号，如 国办发明电〔2026〕X号".into(),
        )
        .await;
    }
    let (csv, _) = match prepare_csv(&input.text) {
        Ok(ok) => ok,
        Err(e) => return form_error(&state, &cu, input, e).await,
    };
    let replacing = state
        .store
        .added_calendar_years()
        .await?
        .iter()
        .any(|y| y.year == year);
    match state
        .store
        .set_calendar_year(year, &input.source, &csv, &cu.user.actor())
        .await
    {
        Ok(count) => {
            let verb = if replacing { "更新" } else { "录入" };
            flash(
                &state,
                &cu,
                format!(
                    "已{verb}{year}年节假日安排（依据：{}），共 {count} 条；工作日计算和红黄绿灯即按新安排计算",
                    input.source.trim()
                ),
            )
            .await?;
            Ok(Redirect::to("/admin/calendar").into_response())
        }
        Err(StoreError::Invalid(msg)) => form_error(&state, &cu, input, msg).await,
        Err(e) => Err(e.into()),
    }
}

// ---- Schedule (日程) ----

/// What a dated item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// The task's due date (办理期限).
    Due,
    /// A yearly deadline from the indicator's requirements (年度截止日).
    Deadline,
}

/// One date on a user's schedule.
pub struct ScheduleItem {
    pub date: NaiveDate,
    pub kind: ItemKind,
    pub task_id: TaskId,
    pub code: String,
    pub text: String,
    pub unit_name: String,
    /// For deadlines: the requirement (`行政执法总体情况 每年1月15日前`) and its rule key.
    pub requirement: String,
    /// For deadlines: what must be done, e.g. `公开本机关上年度行政执法总体情况`.
    pub subject: String,
    pub rule_key: Option<String>,
    pub task_status: TaskStatus,
    pub light: LightState,
    /// For deadlines: the reported completion day that counts for this occurrence.
    pub reported_on: Option<NaiveDate>,
    /// Past and not done.
    pub overdue: bool,
    /// e.g. `国庆节` when the date is a listed day off.
    pub holiday: Option<String>,
    /// Calendar days from today (negative when past).
    pub days_left: i64,
}

impl ScheduleItem {
    pub fn kind_label(&self) -> &'static str {
        match self.kind {
            ItemKind::Due => "办理期限",
            ItemKind::Deadline => "年度截止",
        }
    }

    pub fn weekday(&self) -> &'static str {
        weekday_cn(self.date)
    }

    /// `已通过`, `已报送（2027-01-10）`, `逾期未报` … in a few words.
    pub fn state_label(&self) -> String {
        match self.kind {
            ItemKind::Due => {
                if self.task_status.is_done() {
                    format!("任务{}", self.task_status.label())
                } else if self.overdue {
                    format!("已逾期（任务{}）", self.task_status.label())
                } else {
                    format!("任务{}", self.task_status.label())
                }
            }
            ItemKind::Deadline => match self.reported_on {
                Some(d) => format!("已报完成日期 {d}"),
                None if self.overdue => "逾期未报".into(),
                None => "尚未报送".into(),
            },
        }
    }

    /// How far off, in working days (`还剩2个工作日`), or in calendar days when the
    /// year's holiday arrangement is not entered (`还有40天（自然日）`).
    pub fn phrase(&self) -> String {
        if self.light.workdays_left.is_some() {
            return self.light.phrase();
        }
        match self.days_left {
            0 => "今天到期".into(),
            n if n > 0 => format!("还有{n}天（自然日）"),
            n => format!("已过{}天（自然日）", -n),
        }
    }

    /// Done or reported: nothing left to do for this date.
    pub fn settled(&self) -> bool {
        match self.kind {
            ItemKind::Due => self.task_status.is_done(),
            ItemKind::Deadline => self.reported_on.is_some(),
        }
    }

    /// Stable across feed refreshes: `task-12-due@fazhi`,
    /// `task-12-deadline-c17-2027@fazhi`.
    pub fn uid(&self) -> String {
        match (&self.kind, &self.rule_key) {
            (ItemKind::Deadline, Some(key)) => {
                let key: String = key
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                format!(
                    "task-{}-deadline-{key}-{}@fazhi",
                    self.task_id,
                    self.date.year()
                )
            }
            _ => format!("task-{}-due@fazhi", self.task_id),
        }
    }

    /// The indicator text cut for one line.
    pub fn short_text(&self, max: usize) -> String {
        cut(&self.text, max)
    }

    /// `【截止】第25项 行政规范性文件… · 县司法局`
    pub fn summary(&self) -> String {
        let tag = match (self.kind, self.overdue, self.settled()) {
            (_, true, _) => "已逾期",
            (ItemKind::Due, _, true) => "已完成",
            (ItemKind::Deadline, _, true) => "已报送",
            (ItemKind::Due, _, _) => "截止",
            (ItemKind::Deadline, _, _) => "年度截止",
        };
        // A deadline is named by what must be done, a due date by the indicator.
        let what = if self.subject.trim().is_empty() {
            self.short_text(16)
        } else {
            cut(&self.subject, 20)
        };
        format!("【{tag}】第{}项 {what} · {}", self.code, self.unit_name)
    }
}

/// At most `max` characters, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    let mut s: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        s.push('…');
    }
    s
}

/// The schedule's scope: the active round, the tasks it covers, the units to filter by.
pub struct Schedule {
    pub round: Option<RoundInfo>,
    pub items: Vec<ScheduleItem>,
    /// Units with tasks in the round, for the filter (empty for a liaison).
    pub units: Vec<(UnitId, String)>,
    pub today: NaiveDate,
    pub horizon: NaiveDate,
}

/// The dates of `user`'s tasks in the active round from `today`: due dates of the next 12
/// months and those passed without the task being done, and the yearly deadlines of the
/// tasks' requirements (next occurrence; the round's own occurrence when it passed
/// unreported). A liaison sees the own unit's tasks; others all, or one unit's.
pub async fn schedule_of(
    state: &AppState,
    user: &User,
    unit_filter: Option<UnitId>,
    today: NaiveDate,
) -> WebResult<Schedule> {
    let horizon = today
        .checked_add_months(Months::new(12))
        .unwrap_or(NaiveDate::MAX);
    let round = state.store.active_round().await?;
    let mut out = Schedule {
        round: None,
        items: Vec::new(),
        units: Vec::new(),
        today,
        horizon,
    };
    let Some(round) = round else {
        return Ok(out);
    };
    let liaison = user.role == UserRole::Liaison;
    let unit = if liaison {
        Some(user.unit_id.ok_or_else(WebError::forbidden)?)
    } else {
        None
    };
    let mut tasks = state
        .store
        .tasks(&TaskFilter {
            round: Some(round.id),
            unit,
            ..Default::default()
        })
        .await?;
    if !liaison {
        let mut units: Vec<(UnitId, String)> = Vec::new();
        for t in &tasks {
            if !units.iter().any(|(id, _)| *id == t.unit_id) {
                units.push((t.unit_id, t.unit_name.clone()));
            }
        }
        units.sort_by(|a, b| a.1.cmp(&b.1));
        out.units = units;
        if let Some(u) = unit_filter {
            tasks.retain(|t| t.unit_id == u);
        }
    }
    let cal = state.calendar().await?;
    let warn = state.config.warn_workdays;
    let measures: HashMap<TaskId, TaskMeasures> = if tasks.is_empty() {
        HashMap::new()
    } else {
        state
            .store
            .round_measures(round.id)
            .await?
            .into_iter()
            .map(|m| (m.task_id, m))
            .collect()
    };
    for t in &tasks {
        if let Some(due) = t.due_on {
            let light = light_of(t, &cal, warn);
            let overdue = due < today && !t.status.is_done();
            if overdue || (today..=horizon).contains(&due) {
                out.items
                    .push(item(t, &cal, today, due, ItemKind::Due, light, overdue));
            }
        }
        if let Some(m) = measures.get(&t.id) {
            deadline_items(t, m, &cal, today, horizon, warn, &mut out.items);
        }
    }
    out.items.sort_by(|a, b| {
        (
            a.date,
            code_order(&a.code),
            &a.unit_name,
            a.kind as u8,
            &a.requirement,
        )
            .cmp(&(
                b.date,
                code_order(&b.code),
                &b.unit_name,
                b.kind as u8,
                &b.requirement,
            ))
    });
    // An indicator may state the same deadline twice (e.g. 第92项: 县政府 and 政府各部门
    // both report in the first quarter); one line is enough when nothing tells them apart.
    out.items.dedup_by(|b, a| {
        a.task_id == b.task_id
            && a.kind == b.kind
            && a.date == b.date
            && a.requirement == b.requirement
            && a.reported_on == b.reported_on
            && a.overdue == b.overdue
    });
    out.round = Some(round);
    Ok(out)
}

fn code_order(code: &str) -> (usize, &str) {
    (code.parse().unwrap_or(usize::MAX), code)
}

fn item(
    t: &TaskSummary,
    cal: &HolidayCalendar,
    today: NaiveDate,
    date: NaiveDate,
    kind: ItemKind,
    light: LightState,
    overdue: bool,
) -> ScheduleItem {
    ScheduleItem {
        date,
        kind,
        task_id: t.id,
        code: t.code.clone(),
        text: t.text.clone(),
        unit_name: t.unit_name.clone(),
        requirement: String::new(),
        subject: String::new(),
        rule_key: None,
        task_status: t.status,
        light,
        reported_on: None,
        overdue,
        holiday: cal.holiday_name(date).ok().flatten().map(str::to_string),
        days_left: (date - today).num_days(),
    }
}

fn deadline_items(
    t: &TaskSummary,
    m: &TaskMeasures,
    cal: &HolidayCalendar,
    today: NaiveDate,
    horizon: NaiveDate,
    warn: u32,
    items: &mut Vec<ScheduleItem>,
) {
    for r in &m.rules.rules {
        let RuleKind::Deadline { month, day } = r.rule.kind else {
            continue;
        };
        let done_on = m.latest.get(&r.key).and_then(|x| x.measurement.done_on);
        // The round's occurrence is the one 达标判定 checks the reported day against.
        let first = next_yearly(month, day, m.period_start);
        let mut push = |date: NaiveDate, reported: Option<NaiveDate>, overdue: bool| {
            let status = if reported.is_some() {
                TaskStatus::Approved
            } else {
                TaskStatus::InProgress
            };
            let light = traffic_light(status, Some(date), false, reported, today, cal, warn);
            let mut it = item(t, cal, today, date, ItemKind::Deadline, light, overdue);
            it.requirement = r.rule.describe();
            it.subject = r.rule.subject.clone();
            it.rule_key = Some(r.key.clone());
            it.reported_on = reported;
            items.push(it);
        };
        let Some(first) = first else {
            continue;
        };
        if first >= today {
            if first <= horizon {
                push(first, done_on, false);
            }
            continue;
        }
        // The round's occurrence has passed: still open unless reported (late or not).
        if done_on.is_none() && !t.status.is_done() {
            push(first, None, true);
        }
        // A reminder of the next year's occurrence. The reported value belongs to the
        // round's occurrence (one value per rule and round), so this one is still open.
        if let Some(next) = next_yearly(month, day, today)
            && next <= horizon
        {
            push(next, None, false);
        }
    }
}

/// Items grouped for the page: overdue first, then one group per month.
pub struct MonthGroup {
    pub title: String,
    /// Each item with whether it is the first of its day (the date is shown once).
    pub items: Vec<(bool, ScheduleItem)>,
}

fn mark_first_of_day(items: Vec<ScheduleItem>) -> Vec<(bool, ScheduleItem)> {
    let mut last = None;
    items
        .into_iter()
        .map(|i| {
            let first = last != Some(i.date);
            last = Some(i.date);
            (first, i)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct SchedulePage {
    layout: Option<Layout>,
    round_name: Option<String>,
    overdue: Vec<(bool, ScheduleItem)>,
    months: Vec<MonthGroup>,
    units: Vec<(UnitId, String)>,
    unit: Option<UnitId>,
    today: String,
    horizon: NaiveDate,
    is_liaison: bool,
    is_admin: bool,
    count: usize,
    warn_workdays: u32,
    /// Years of listed dates whose holiday arrangement is not entered.
    uncovered: String,
}

impl SchedulePage {
    fn is_selected(&self, id: &UnitId) -> bool {
        self.unit == Some(*id)
    }
}

#[derive(Deserialize)]
pub struct ScheduleQuery {
    unit: Option<String>,
}

/// `GET /schedule`
pub async fn schedule(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ScheduleQuery>,
) -> WebResult<impl IntoResponse> {
    let day = today();
    let unit = opt_id(&q.unit).map(UnitId);
    let s = schedule_of(&state, &cu.user, unit, day).await?;
    let count = s.items.len();
    let cal = state.calendar().await?;
    let mut uncovered: Vec<i32> = s
        .items
        .iter()
        .map(|i| i.date.year())
        .filter(|y| !cal.is_covered(*y))
        .collect();
    uncovered.sort_unstable();
    uncovered.dedup();
    let uncovered = uncovered
        .iter()
        .map(|y| format!("{y}年"))
        .collect::<Vec<_>>()
        .join("、");
    let (overdue, upcoming): (Vec<_>, Vec<_>) = s.items.into_iter().partition(|i| i.date < day);
    let mut by_month: Vec<(String, Vec<ScheduleItem>)> = Vec::new();
    for i in upcoming {
        let title = format!("{}年{}月", i.date.year(), i.date.month());
        match by_month.last_mut() {
            Some((t, items)) if *t == title => items.push(i),
            _ => by_month.push((title, vec![i])),
        }
    }
    let months = by_month
        .into_iter()
        .map(|(title, items)| MonthGroup {
            title,
            items: mark_first_of_day(items),
        })
        .collect();
    let overdue = mark_first_of_day(overdue);
    render(&SchedulePage {
        layout: Layout::build(&state, &cu).await?,
        round_name: s.round.map(|r| r.name),
        overdue,
        months,
        units: s.units,
        unit,
        today: day_with_weekday(day),
        horizon: s.horizon,
        is_liaison: cu.user.role == UserRole::Liaison,
        is_admin: cu.user.role == UserRole::Admin,
        count,
        warn_workdays: state.config.warn_workdays,
        uncovered,
    })
}

// ---- Private calendar feed ----

#[derive(Template)]
#[template(path = "calendar_feed.html")]
struct FeedPage {
    layout: Option<Layout>,
    csrf: String,
    created: Option<String>,
    /// The full URL, shown once right after it was made.
    new_url: Option<String>,
    webcal_url: Option<String>,
}

/// `https://host` as the browser (or calendar app) reached us.
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| state.config.bind.to_string());
    let https = state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// `GET /account/calendar`
pub async fn feed_page(State(state): State<AppState>, cu: CurrentUser) -> WebResult<Response> {
    let created = state.store.feed_created(cu.user.id).await?;
    Ok(render(&FeedPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        created: created.map(|t| cn_time(&t)),
        new_url: None,
        webcal_url: None,
    })?
    .into_response())
}

/// `POST /account/calendar`: make a new feed token; the old URL stops working.
pub async fn renew_feed(
    State(state): State<AppState>,
    cu: CurrentUser,
    headers: HeaderMap,
) -> WebResult<Response> {
    let token = random_token()?;
    state
        .store
        .set_feed_token(cu.user.id, &sha256_hex(&token), &cu.user.actor())
        .await?;
    let url = format!("{}/feed/{token}.ics", origin(&state, &headers));
    let webcal = url
        .split_once("://")
        .map(|(_, rest)| format!("webcal://{rest}"));
    let created = state.store.feed_created(cu.user.id).await?;
    // Shown once, on this response only; the database keeps its hash.
    let mut resp = render(&FeedPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        created: created.map(|t| cn_time(&t)),
        new_url: Some(url),
        webcal_url: webcal,
    })?
    .into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

fn feed_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "订阅地址无效或已重新生成。请登录法治政府建设示范创建平台，在“我的账号 → 日历订阅”中获取新地址。\n",
    )
        .into_response()
}

/// The user a feed file name (`<token>.ics`) belongs to, if it is valid and the user may
/// still sign in.
async fn feed_owner(state: &AppState, file: &str) -> WebResult<Option<User>> {
    let Some(token) = file.strip_suffix(".ics") else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(id) = state.store.feed_user(&sha256_hex(token)).await? else {
        return Ok(None);
    };
    match state.store.user(id).await {
        Ok(u) if !u.disabled => Ok(Some(u)),
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `GET /feed/{token}.ics`: no session; the token in the URL is the credential.
pub async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> WebResult<Response> {
    let Some(user) = feed_owner(&state, &file).await? else {
        return Ok(feed_not_found());
    };
    let s = schedule_of(&state, &user, None, today()).await?;
    let scope = match user.unit_id {
        Some(u) if user.role == UserRole::Liaison => state.store.unit(u).await?.name,
        _ => "全县".to_string(),
    };
    let body = ics(&s, &scope, &origin(&state, &headers));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"fazhi-schedule.ics\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// The schedule as an iCalendar text: one all-day event per item.
pub fn ics(s: &Schedule, scope: &str, origin: &str) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(icalendar::Property::new("VERSION", "2.0"))
        .append_property(icalendar::Property::new(
            "PRODID",
            "-//fazhi//法治政府建设示范创建//ZH",
        ))
        .append_property(icalendar::Property::new("CALSCALE", "GREGORIAN"))
        .append_property(icalendar::Property::new("METHOD", "PUBLISH"))
        .name(&format!("法治政府建设示范创建日程 · {scope}"))
        .description("依法治县办平台中的任务办理期限和年度截止日期")
        .timezone("Asia/Shanghai")
        .ttl(&chrono::Duration::hours(4));
    for i in &s.items {
        let link = format!("{origin}/tasks/{}", i.task_id);
        let mut lines = Vec::new();
        match i.kind {
            ItemKind::Due => lines.push(format!("办理期限：{}（{}）", i.date, i.weekday())),
            ItemKind::Deadline => {
                lines.push(format!("要求：{}", i.requirement));
                lines.push(format!("截止日期：{}（{}）", i.date, i.weekday()));
            }
        }
        if let Some(h) = &i.holiday {
            lines.push(format!("注意：当天是法定节假日（{h}）"));
        }
        let mut state = i.state_label();
        let phrase = i.phrase();
        if !i.settled() && !phrase.is_empty() {
            state.push_str(&format!("，{phrase}"));
        }
        lines.push(format!("状态：{state}"));
        lines.push(format!("责任单位：{}", i.unit_name));
        lines.push(format!("办理：{link}"));
        lines.push(format!("指标（第{}项）：{}", i.code, i.text));
        let end = i.date.succ_opt().unwrap_or(i.date);
        let mut event = icalendar::Event::new();
        event
            .uid(&i.uid())
            .summary(&i.summary())
            .description(&lines.join("\n"))
            .starts(i.date)
            .ends(end)
            .url(&link)
            .add_property("TRANSP", "TRANSPARENT")
            .add_property(
                "CATEGORIES",
                match i.kind {
                    ItemKind::Due => "办理期限",
                    ItemKind::Deadline => "年度截止",
                },
            );
        if i.overdue || i.light.light == Light::Red {
            event.add_property("PRIORITY", "1");
        }
        cal.push(event.done());
    }
    cal.done().to_string()
}
