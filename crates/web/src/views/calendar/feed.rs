//! 日历订阅: a private iCalendar feed of the user's schedule for Outlook and phones.
//!
//! The feed URL carries a random token (the database keeps only its SHA-256, like sessions
//! and API tokens), because calendar apps cannot log in. Whoever has the URL sees the
//! dates of that user's tasks, nothing else; regenerating it invalidates the old one.

use crate::AppState;
use crate::error::WebResult;
use crate::session::{CurrentUser, random_token, sha256_hex};
use crate::views::{Layout, cn_time, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fazhi_store::{StoreError, User, UserRole};

// ---- Private calendar feed ----

#[derive(Template)]
#[template(path = "calendar/feed.html")]
struct FeedPage {
    layout: Option<Layout>,
    csrf: String,
    created: Option<String>,
    /// The full URL, shown once right after it was made.
    new_url: Option<String>,
    webcal_url: Option<String>,
}

/// The configured public address, else `https://host` as the browser (or calendar app)
/// reached us (the Host header is the client's say: only used when nothing is configured).
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| state.config.bind.to_string());
    let https = state.config.cookies_secure()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// `GET /account/calendar`
pub async fn page(State(state): State<AppState>, cu: CurrentUser) -> WebResult<Response> {
    let created = state.store.feed_created(cu.user.id).await?;
    Ok(render(&FeedPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        created: created.map(|t| cn_time(&t)),
        new_url: None,
        webcal_url: None,
    })?
    .into_response())
}

/// `POST /account/calendar`: make a new feed token; the old URL stops working.
pub async fn renew(
    State(state): State<AppState>,
    cu: CurrentUser,
    headers: HeaderMap,
) -> WebResult<Response> {
    let token = random_token()?;
    state
        .store
        .set_feed_token(cu.user.id, &sha256_hex(&token), &cu.user.actor())
        .await?;
    let url = format!("{}/feed/{token}.ics", origin(&state, &headers));
    let webcal = url
        .split_once("://")
        .map(|(_, rest)| format!("webcal://{rest}"));
    let created = state.store.feed_created(cu.user.id).await?;
    // Shown once, on this response only; the database keeps its hash.
    let mut resp = render(&FeedPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        created: created.map(|t| cn_time(&t)),
        new_url: Some(url),
        webcal_url: webcal,
    })?
    .into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

fn feed_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "订阅地址无效或已重新生成。请登录法治政府建设示范创建平台，在“我的账号 → 日历订阅”中获取新地址。\n",
    )
        .into_response()
}

/// The user a feed file name (`<token>.ics`) belongs to, if it is valid and the user may
/// still sign in.
async fn feed_owner(state: &AppState, file: &str) -> WebResult<Option<User>> {
    let Some(token) = file.strip_suffix(".ics") else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(id) = state.store.feed_user(&sha256_hex(token)).await? else {
        return Ok(None);
    };
    match state.store.user(id).await {
        Ok(u) if !u.disabled => Ok(Some(u)),
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `GET /feed/{token}.ics`: no session; the token in the URL is the credential.
pub async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> WebResult<Response> {
    let Some(user) = feed_owner(&state, &file).await? else {
        return Ok(feed_not_found());
    };
    let cal = state.calendar().await?;
    let s = fazhi_store::schedule::schedule(
        &state.store,
        &user,
        None,
        state.today(),
        &cal,
        state.config.warn_workdays,
    )
    .await?;
    let scope = match user.unit_id {
        Some(u) if user.role == UserRole::Liaison => state.store.unit(u).await?.name,
        _ => "全县".to_string(),
    };
    let body = fazhi_store::schedule::ics(&s, &scope, &origin(&state, &headers));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"fazhi-schedule.ics\"",
            ),
        ],
        body,
    )
        .into_response())
}
