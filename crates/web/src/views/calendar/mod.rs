//! Dates: holiday arrangements (节假日安排), the working-day calculator, each user's schedule (日程) and its private iCalendar feed.

pub mod feed;
pub mod holidays;
pub mod schedule;
pub mod workdays;

use chrono::{Datelike, NaiveDate};

pub fn weekday_cn(d: NaiveDate) -> &'static str {
    fazhi_domain::calendar::weekday_cn(d.weekday())
}

/// `2026-10-10（星期六）`
pub(crate) fn day_with_weekday(d: NaiveDate) -> String {
    format!("{d}（{}）", weekday_cn(d))
}

/// `1月1日`
pub(crate) fn month_day(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}
