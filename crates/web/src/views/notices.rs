//! 督办单: issued by the office on a task, acknowledged (and answered) by the unit, and
//! the list of all of them.

use crate::AppState;
use crate::access::{Admin, NoticeUnit, NoticeViewer};
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;
use crate::views::opt_date;
use crate::views::{Layout, flash, flash_with_warning, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_domain::supervision::NoticeLevel;
use fazhi_store::tasks::{TaskFilter, TaskSummary};
use fazhi_store::{Notice, TaskId, UserRole};
use serde::Deserialize;
use std::collections::HashMap;

// ---- 督办单 ----

#[derive(Deserialize)]
pub struct NoticeForm {
    level: String,
    message: String,
    respond_by: Option<String>,
}

/// The level and 答复期限 of a 督办单 from the form, checked (the one rule for a single
/// notice and a batch of them): a known level, a reply date not before `today`.
pub(crate) fn notice_terms(
    level: &str,
    respond_by: &Option<String>,
    today: chrono::NaiveDate,
) -> WebResult<(NoticeLevel, Option<chrono::NaiveDate>)> {
    let level = level
        .parse::<NoticeLevel>()
        .map_err(|_| WebError::BadRequest(format!("督办级别“{level}”无法识别")))?;
    let respond_by = opt_date(respond_by, "答复期限")?;
    if respond_by.is_some_and(|d| d < today) {
        return Err(WebError::BadRequest("答复期限不能早于今天".into()));
    }
    Ok((level, respond_by))
}

pub async fn issue(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<TaskId>,
    Form(f): Form<NoticeForm>,
) -> WebResult<Response> {
    let (level, respond_by) = notice_terms(&f.level, &f.respond_by, state.today())?;
    state
        .store
        .issue_notice(id, level, &f.message, respond_by, &cu.user.actor())
        .await?;
    // Answering after the task is due defeats the notice: say so, without refusing it.
    let due = state.store.task(id).await?.summary.due_on;
    let warning = match (respond_by, due) {
        (Some(r), Some(d)) if r > d => Some(format!(
            "注意：答复期限 {r} 晚于这项任务的办理期限 {d}，单位按答复期限答复时任务已逾期；如需更正，可再发一份督办单"
        )),
        _ => None,
    };
    flash_with_warning(
        &state,
        &cu,
        format!("已发出{}督办单（{}）", level.label(), level.colour()),
        warning,
    )
    .await?;
    Ok(Redirect::to(&format!("/tasks/{id}#notices")).into_response())
}

#[derive(Deserialize)]
pub struct AckForm {
    note: Option<String>,
}

pub async fn acknowledge(
    State(state): State<AppState>,
    NoticeUnit {
        cu,
        notice: notice_id,
        task,
    }: NoticeUnit,
    Form(f): Form<AckForm>,
) -> WebResult<Response> {
    state
        .store
        .acknowledge_notice(notice_id, f.note.as_deref().unwrap_or(""), &cu.user.actor())
        .await?;
    flash(&state, &cu, "督办单已签收").await?;
    Ok(Redirect::to(&format!("/tasks/{task}#notices")).into_response())
}

/// A notice with the task it is about, for lists.
pub struct NoticeRow {
    pub n: Notice,
    pub code: String,
    pub unit_name: String,
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    layout: Option<Layout>,
    rows: Vec<NoticeRow>,
    is_admin: bool,
    today: chrono::NaiveDate,
}

pub async fn notices(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> WebResult<impl IntoResponse> {
    let is_admin = cu.user.role == UserRole::Admin;
    let filter = match cu.user.role {
        UserRole::Liaison => TaskFilter {
            unit: Some(cu.user.unit_id.ok_or_else(WebError::forbidden)?),
            ..Default::default()
        },
        _ => TaskFilter::default(),
    };
    let tasks: HashMap<TaskId, TaskSummary> = state
        .store
        .tasks(&filter)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let rows = state
        .store
        .all_notices()
        .await?
        .into_iter()
        .filter_map(|n| {
            let t = tasks.get(&n.task_id)?;
            Some(NoticeRow {
                code: t.code.clone(),
                unit_name: t.unit_name.clone(),
                n,
            })
        })
        .collect();
    render(&NoticesPage {
        layout: Layout::build(&state, &cu).await?,
        rows,
        is_admin,
        today: state.today(),
    })
}

/// The printable 督办单 (A4): 编号, 责任单位, 督办事项, 期限, 落款.
#[derive(Template)]
#[template(path = "notice_print.html")]
struct NoticePrint {
    n: Notice,
    number: String,
    unit_name: String,
    code: String,
    text: String,
    due_on: Option<chrono::NaiveDate>,
    issuer: &'static str,
    issued_on: String,
}

/// `GET /notices/{id}/print`: the 督办单 laid out for printing and sealing.
pub async fn print(
    State(state): State<AppState>,
    NoticeViewer { notice, task, .. }: NoticeViewer,
) -> WebResult<impl IntoResponse> {
    let n = state
        .store
        .task_notices(task)
        .await?
        .into_iter()
        .find(|n| n.id == notice)
        .ok_or_else(|| WebError::NotFound(format!("未找到督办单 #{notice}")))?;
    let t = state.store.task(task).await?.summary;
    let issued = state.config.clock.date_of(n.issued_at);
    render(&NoticePrint {
        number: format!("督〔{}〕{}号", chrono::Datelike::year(&issued), n.id),
        unit_name: t.unit_name,
        code: t.code,
        text: t.text,
        due_on: t.due_on,
        issuer: fazhi_report::progress::DEFAULT_COUNTY_ISSUER,
        issued_on: fazhi_document::model::chinese_date(issued),
        n,
    })
}
