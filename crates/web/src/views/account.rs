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
use fazhi_store::{ApiToken, TokenId};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account/tokens.html")]
struct TokensPage {
    layout: Option<Layout>,
    csrf: String,
    username: String,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
}

pub async fn tokens(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> WebResult<impl IntoResponse> {
    render(&TokensPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        username: cu.user.username.clone(),
        tokens: state.store.api_tokens(cu.user.id).await?,
        new_token: None,
    })
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(form): Form<TokenForm>,
) -> WebResult<impl IntoResponse> {
    let secret = format!("fz_{}", random_token()?);
    state
        .store
        .create_api_token(
            cu.user.id,
            &form.name,
            &sha256_hex(&secret),
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
