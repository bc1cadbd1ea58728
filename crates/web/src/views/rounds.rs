//! Campaign rounds (创建周期): the list, and opening a new round, which creates the tasks.

use crate::AppState;
use crate::access::{Admin, CountyReader};
use crate::error::{WebError, WebResult};
use crate::views::opt_date;
use crate::views::{Layout, flash_with_warning, opt_id, render};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_store::{NewRound, RoundId, RoundInfo, UserRole};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    layout: Option<Layout>,
    csrf: String,
    is_admin: bool,
    rounds: Vec<RoundInfo>,
    /// What a round opened now would leave out, said before the office opens it.
    gaps: fazhi_store::DivisionGaps,
}

pub async fn rounds(
    State(state): State<AppState>,
    CountyReader(cu): CountyReader,
) -> WebResult<impl IntoResponse> {
    render(&RoundsPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        is_admin: cu.user.role == UserRole::Admin,
        rounds: state.store.rounds().await?,
        gaps: state.store.division_gaps().await?,
    })
}

#[derive(Deserialize)]
pub struct RoundForm {
    name: String,
    starts_on: Option<String>,
    ends_on: Option<String>,
    due_on: Option<String>,
    copy_from: Option<String>,
}

pub async fn open_round(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Form(f): Form<RoundForm>,
) -> WebResult<Response> {
    let starts_on = opt_date(&f.starts_on, "开始日期")?
        .ok_or_else(|| WebError::BadRequest("请填写开始日期".into()))?;
    let ends_on = opt_date(&f.ends_on, "结束日期")?
        .ok_or_else(|| WebError::BadRequest("请填写结束日期".into()))?;
    let summary = state
        .store
        .open_round(
            NewRound {
                name: f.name,
                starts_on,
                ends_on,
                framework_id: None,
                due_on: opt_date(&f.due_on, "统一截止日期")?,
                copy_from: opt_id(&f.copy_from).map(RoundId),
            },
            &cu.user.actor(),
        )
        .await?;
    let mut msg = format!(
        "已开启新一轮创建工作，生成任务 {} 项",
        summary.tasks_created
    );
    if summary.due_dates_copied > 0 {
        msg.push_str(&format!(
            "，沿用上一轮截止日期 {} 项",
            summary.due_dates_copied
        ));
    }
    msg.push('。');
    let mut warnings = Vec::new();
    for g in &summary.empty_groups {
        warnings.push(format!(
            "“{}”尚未设置成员单位，第{}项指标暂未生成任务（设置成员单位后自动补建）。",
            g.name,
            g.indicator_codes.join("、")
        ));
    }
    if !summary.indicators_without_units.is_empty() {
        warnings.push(format!(
            "第{}项指标没有责任单位，未生成任务（分派责任单位后自动补建）。",
            summary.indicators_without_units.join("、")
        ));
    }
    let warning = (!warnings.is_empty()).then(|| format!("注意：{}", warnings.concat()));
    flash_with_warning(&state, &cu, msg, warning).await?;
    Ok(Redirect::to("/tasks").into_response())
}

/// `POST /admin/rounds/{id}/close`: 结束本轮. The round is kept, read-only, exportable.
pub async fn close_round(
    State(state): State<AppState>,
    Admin(cu): Admin,
    axum::extract::Path(id): axum::extract::Path<RoundId>,
) -> WebResult<Response> {
    let closed = state.store.close_round(id, &cu.user.actor()).await?;
    flash_with_warning(
        &state,
        &cu,
        format!(
            "“{}”已结束：任务只能查看和导出，不再修改。可以以它为基础开启新一轮（沿用截止日期）。",
            closed.name
        ),
        None,
    )
    .await?;
    Ok(Redirect::to("/rounds").into_response())
}
