//! Server-rendered pages. Each page is an askama template struct with a [`Layout`].

pub mod admin;
pub mod auth;
pub mod calendar;
pub mod files;
pub mod indicators;
pub mod measures;
pub mod units;
pub mod work;

use askama::Template;
use axum::response::Html;
use fazhi_store::{UnitId, User, UserRole};

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
        let inbox = state.inbox_total(u, work::today()).await?;
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

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
    /// Always `None`: the error page is shown without the logged-in header (the error
    /// may be about the login itself).
    pub layout: Option<Layout>,
}

pub fn require_admin(user: &User) -> WebResult<()> {
    if user.role == UserRole::Admin {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "只有管理员（依法治县办）可以进行这项操作".into(),
        ))
    }
}

/// Admins and observers see every unit; a liaison only their own.
pub fn can_view_unit(user: &User, unit: UnitId) -> bool {
    match user.role {
        UserRole::Admin | UserRole::Observer => true,
        UserRole::Liaison => user.unit_id == Some(unit),
    }
}

pub fn require_overview(user: &User) -> WebResult<()> {
    if user.role == UserRole::Liaison {
        Err(WebError::Forbidden(
            "单位联络员只能查看本单位的责任清单".into(),
        ))
    } else {
        Ok(())
    }
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
