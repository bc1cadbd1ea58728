//! 我的账号: API tokens for the JSON API (`/api/v1`).

use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::session::{CurrentUser, random_token, sha256_hex};
use crate::views::{Layout, flash, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_store::{ApiToken, DEFAULT_TOKEN_DAYS, TokenId};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account/tokens.html")]
struct TokensPage {
    layout: Option<Layout>,
    csrf: String,
    username: String,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
    /// A liaison without tokens sees the API section folded away under 高级: it is for
    /// the county's IT staff, not for the daily work.
    folded: bool,
}

pub async fn tokens(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> WebResult<impl IntoResponse> {
    let tokens = state.store.api_tokens(cu.user.id).await?;
    render(&TokensPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        username: cu.user.username.clone(),
        folded: cu.user.role == fazhi_store::UserRole::Liaison && tokens.is_empty(),
        tokens,
        new_token: None,
    })
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    /// Days until it expires; 90 when not given.
    days: Option<String>,
    /// "true" for a token that may change data.
    write: Option<String>,
}

/// Longest lifetime a token can be given.
const MAX_TOKEN_DAYS: i64 = 366;

pub async fn create_token(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(form): Form<TokenForm>,
) -> WebResult<impl IntoResponse> {
    let days = match form
        .days
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => DEFAULT_TOKEN_DAYS,
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_TOKEN_DAYS).contains(d))
            .ok_or_else(|| {
                WebError::BadRequest(format!("有效天数应为1到{MAX_TOKEN_DAYS}之间的整数"))
            })?,
    };
    if form.name.chars().count() > 100 {
        return Err(WebError::BadRequest("令牌名称过长（最多100字）".into()));
    }
    let secret = format!("fz_{}", random_token()?);
    state
        .store
        .create_api_token(
            cu.user.id,
            &form.name,
            &sha256_hex(&secret),
            chrono::Utc::now() + chrono::Duration::days(days),
            form.write.as_deref() == Some("true"),
            &cu.user.actor(),
        )
        .await?;
    // Shown once, on this response only; the database keeps its hash.
    render(&TokensPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        username: cu.user.username.clone(),
        tokens: state.store.api_tokens(cu.user.id).await?,
        new_token: Some(secret),
        folded: false,
    })
}

pub async fn revoke_token(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<TokenId>,
    _headers: HeaderMap,
) -> WebResult<Response> {
    let mine = state
        .store
        .api_tokens(cu.user.id)
        .await?
        .iter()
        .any(|t| t.id == id);
    if !mine {
        return Err(WebError::NotFound("未找到该令牌".into()));
    }
    state.store.revoke_api_token(id, &cu.user.actor()).await?;
    flash(&state, &cu, "令牌已作废").await?;
    Ok(Redirect::to("/account/tokens").into_response())
}
