//! Server-rendered pages. Each page is an askama template struct with a [`Layout`].

use chrono::NaiveDate;
pub mod account;
pub mod admin;
pub mod auth;
pub mod batch;
pub mod calendar;
pub mod dashboard;
pub mod evidence;
pub mod exports;
pub mod inbox;
pub mod indicators;
pub mod matrix;
pub mod measures;
pub mod notices;
pub mod overview;
pub mod packages;
pub mod rounds;
pub mod rules;
pub mod tasks;
pub mod units;
pub mod uploads;

use askama::Template;
use axum::response::Html;
use fazhi_store::{UnitId, UserRole};

use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;

/// What every logged-in page shows around its content.
#[derive(Debug, Clone)]
pub struct Layout {
    pub user_name: String,
    pub role_label: &'static str,
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    pub is_admin: bool,
    pub is_liaison: bool,
    pub csrf: String,
    pub flash: Option<String>,
    /// The one-time warning that came with it.
    pub flash_warn: Option<String>,
    /// Items waiting for this user (header badge).
    pub inbox: usize,
}

impl Layout {
    /// Build the layout, taking the one-time message out of the session.
    pub async fn build(state: &AppState, cu: &CurrentUser) -> WebResult<Option<Layout>> {
        let u = &cu.user;
        let unit_name = match u.unit_id {
            Some(id) => Some(state.store.unit(id).await?.name),
            None => None,
        };
        let (mut flash, mut flash_warn) = (None, None);
        if let Some(mut session) = cu.session.clone()
            && (session.data.flash.is_some() || session.data.flash_warn.is_some())
        {
            flash = session.data.flash.take();
            flash_warn = session.data.flash_warn.take();
            state.save_session(&session).await?;
        }
        let inbox = state.inbox_total(u, state.today()).await?;
        Ok(Some(Layout {
            user_name: u.display_name.clone(),
            role_label: u.role.label(),
            unit_id: u.unit_id,
            unit_name,
            is_admin: u.role == UserRole::Admin,
            is_liaison: u.role == UserRole::Liaison,
            csrf: cu.csrf.clone(),
            flash,
            flash_warn,
            inbox,
        }))
    }
}

/// Store a one-time message to show on the next page.
pub async fn flash(
    state: &AppState,
    cu: &CurrentUser,
    message: impl Into<String>,
) -> WebResult<()> {
    if let Some(mut session) = cu.session.clone() {
        session.data.flash = Some(message.into());
        state.save_session(&session).await?;
    }
    Ok(())
}

/// Store a one-time message and, when there is one, a warning (shown in yellow below it)
/// for the next page.
/// The flash after a change of the responsibility division: what changed, then what the
/// round in progress did to follow it (tasks created as a note; tasks no longer held as
/// the warning, since the office must decide about them).
pub async fn flash_division(
    state: &AppState,
    cu: &CurrentUser,
    done: String,
    tasks: &fazhi_store::TaskSync,
) -> WebResult<()> {
    let mut message = done;
    let created = fazhi_store::TaskSync {
        no_longer_held: Vec::new(),
        ..tasks.clone()
    }
    .summary();
    if !created.is_empty() {
        message.push('；');
        message.push_str(&created);
    }
    let warning = (!tasks.no_longer_held.is_empty()).then(|| {
        fazhi_store::TaskSync {
            created: Vec::new(),
            role_changed: Vec::new(),
            ..tasks.clone()
        }
        .summary()
    });
    flash_with_warning(state, cu, message, warning).await
}

pub async fn flash_with_warning(
    state: &AppState,
    cu: &CurrentUser,
    message: impl Into<String>,
    warning: Option<String>,
) -> WebResult<()> {
    if let Some(mut session) = cu.session.clone() {
        session.data.flash = Some(message.into());
        session.data.flash_warn = warning.filter(|w| !w.is_empty());
        state.save_session(&session).await?;
    }
    Ok(())
}

pub fn render(t: &impl Template) -> WebResult<Html<String>> {
    t.render().map(Html).map_err(WebError::internal)
}

/// `?a=1&b=` style optional numeric form/query values: empty means none.
pub fn opt_id(raw: &Option<String>) -> Option<i64> {
    raw.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
}

/// A time as county staff read it: Beijing time, `2026-11-28 13:05`.
pub fn cn_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    t.with_timezone(&beijing)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A date field of a form: empty means none; anything else must be a date.
pub fn opt_date(raw: &Option<String>, what: &str) -> WebResult<Option<NaiveDate>> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                WebError::BadRequest(format!("{what}“{s}”不是有效日期，应写成 2026-03-31"))
            }),
    }
}

pub fn opt_number(raw: &Option<String>, what: &str) -> WebResult<Option<f64>> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .trim_end_matches('%')
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| WebError::BadRequest(format!("{what}“{s}”不是数字"))),
    }
}

/// Sizes as people read them.
pub fn human_size(bytes: &u64) -> String {
    fazhi_files::human_size(*bytes)
}
