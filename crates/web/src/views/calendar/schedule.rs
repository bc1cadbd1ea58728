//! 日程: the user's due dates and yearly deadlines, grouped by month.

use super::day_with_weekday;
use crate::AppState;
use crate::error::WebResult;
use crate::session::CurrentUser;
use crate::views::{Layout, opt_id, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use chrono::{Datelike, NaiveDate};
use fazhi_store::schedule::ScheduleItem;
use fazhi_store::{UnitId, UserRole};
use serde::Deserialize;

// ---- Schedule (日程) ----

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
#[template(path = "calendar/schedule.html")]
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
    let day = state.today();
    let unit = opt_id(&q.unit).map(UnitId);
    let cal = state.calendar().await?;
    let s = fazhi_store::schedule::schedule(
        &state.store,
        &cu.user,
        unit,
        day,
        &cal,
        state.config.warn_workdays,
    )
    .await?;
    let count = s.items.len();
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
