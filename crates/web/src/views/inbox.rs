//! 待办: what waits for the user — tasks to sign for, returned, to review, due soon
//! (the yellow light, in working days) or overdue, and 督办单 to acknowledge.

use crate::AppState;
use crate::error::WebResult;
use crate::session::CurrentUser;
use crate::views::tasks::{TaskRow, rows};
use crate::views::{Layout, render};
use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use fazhi_store::UserRole;
use fazhi_store::inbox::Inbox;

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Option<Layout>,
    sections: Vec<(&'static str, String, Vec<TaskRow>)>,
    /// 督办单 waiting for this unit's acknowledgement.
    notices: Vec<fazhi_store::Notice>,
    nothing: bool,
}

pub async fn inbox(State(state): State<AppState>, cu: CurrentUser) -> WebResult<impl IntoResponse> {
    let cal = state.calendar().await?;
    let warn = state.config.warn_workdays;
    let today = state.today();
    let Inbox {
        to_sign,
        returned,
        due_soon,
        overdue,
        to_review,
    } = state.store.inbox_on(&cu.user, today, &cal, warn).await?;
    let sections = vec![
        (
            "已逾期",
            "截止日期已过、尚未报送".to_string(),
            rows(overdue, &cal, warn, today),
        ),
        (
            "被退回",
            "请按退回理由修改后重新报送".to_string(),
            rows(returned, &cal, warn, today),
        ),
        (
            "待审核",
            "单位已报送，等待审核".to_string(),
            rows(to_review, &cal, warn, today),
        ),
        (
            "待签收",
            "新分派的任务，请签收后开始办理".to_string(),
            rows(to_sign, &cal, warn, today),
        ),
        (
            "即将到期",
            format!("{warn}个工作日内到期（含今天）、尚未报送"),
            rows(due_soon, &cal, warn, today),
        ),
    ];
    let notices = match (cu.user.role, cu.user.unit_id) {
        (UserRole::Liaison, Some(unit)) => state.store.open_notices_of_unit(unit).await?,
        _ => Vec::new(),
    };
    let nothing = sections.iter().all(|(_, _, r)| r.is_empty()) && notices.is_empty();
    render(&InboxPage {
        layout: Layout::build(&state, &cu).await?,
        sections,
        notices,
        nothing,
    })
}
