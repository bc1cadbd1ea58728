//! 节假日安排: the years of holiday arrangements in force and the office's form to add one.

use super::workdays::{ToolQuery, ToolView, run_tool};
use super::{day_with_weekday, month_day, weekday_cn};
use crate::AppState;
use crate::access::Admin;
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;
use crate::views::{Layout, cn_time, flash, render};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use fazhi_domain::calendar::{CalendarError, DayKind, EntrySource, HolidayCalendar};
use fazhi_store::StoreError;
use serde::Deserialize;
use std::collections::HashMap;

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
2026-01-01,放假,元旦
2026-01-02,放假,元旦
2026-01-03,放假,元旦
2026-01-04,上班,元旦
2026-02-14,上班,春节
2026-02-15,放假,春节
……
2026-10-10,上班,国庆节";

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

#[derive(Template)]
#[template(path = "calendar/holidays.html")]
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
    let next = state.today().year() + 1;
    let missing_next = (!cal.is_covered(next)).then_some(next);
    let input = if input.year.is_empty() && input.source.is_empty() && input.text.is_empty() {
        let suggested = (state.today().year()..=state.today().year() + 2)
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
        today: day_with_weekday(state.today()),
    })
}

/// `GET /admin/calendar`: covered years, the form to add one, the calculator.
pub async fn page(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Query(q): Query<ToolQuery>,
) -> WebResult<impl IntoResponse> {
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
    Admin(cu): Admin,
    req: Request,
) -> WebResult<Response> {
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
