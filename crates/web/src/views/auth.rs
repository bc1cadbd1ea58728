//! Signing in and out, and changing one's password (forced at the first login).

use crate::AppState;
use crate::error::WebResult;
use crate::login_limits::client_addr_of;
use crate::password;
use crate::session::{CurrentUser, MaybeSession, clear_cookie, login_csrf_token, session_cookie};
use crate::views::{Layout, flash, render};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_store::users::normalize_username;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Option<Layout>,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths: never send a user to another site after login. Browsers drop
/// tabs and new lines from URLs and read `\\` as `/`, so `/\t/evil.example` would leave
/// the site: any control or white-space character refuses the target, and what is left
/// must resolve to this origin.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let same_origin = |n: &str| {
        if !n.starts_with('/')
            || n.starts_with("//")
            || n.contains('\\')
            || n.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return false;
        }
        let Ok(base) = url::Url::parse("http://fazhi.invalid/") else {
            return false;
        };
        base.join(n)
            .is_ok_and(|u| u.origin() == base.origin() && u.username().is_empty())
    };
    match next {
        Some(n) if same_origin(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    MaybeSession(session, user): MaybeSession,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> WebResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let next = safe_next(q.next.as_deref());
    // No session row for a visitor who has not logged in: a cookie carries the token.
    let (csrf, cookie) = match session {
        Some(s) => (s.data.csrf, None),
        None => login_csrf_token(&headers, state.config.cookies_secure())?,
    };
    let page = render(&LoginPage {
        layout: None,
        csrf,
        next,
        username: String::new(),
        error: None,
    })?;
    let mut resp = page.into_response();
    if let Some(c) = cookie {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Longest user name and password accepted: checked before anything is looked up,
/// hashed or stored.
pub const MAX_USERNAME_CHARS: usize = 64;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The client address as the login limits see it.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr_of(&state.config, parts)))
    }
}

pub async fn login(
    State(state): State<AppState>,
    MaybeSession(session, _): MaybeSession,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> WebResult<Response> {
    let csrf = match &session {
        Some(s) => s.data.csrf.clone(),
        None => login_csrf_token(&headers, state.config.cookies_secure())?.0,
    };
    let too_long = form.username.chars().count() > MAX_USERNAME_CHARS;
    let again = |error: String| -> WebResult<Response> {
        Ok(render(&LoginPage {
            layout: None,
            csrf: csrf.clone(),
            next: safe_next(form.next.as_deref()),
            // Not echoed when over-long: the page stays small.
            username: if too_long {
                String::new()
            } else {
                form.username.clone()
            },
            error: Some(error),
        })?
        .into_response())
    };
    if too_long {
        return again(format!("用户名过长（最多{MAX_USERNAME_CHARS}个字）"));
    }
    if form.password.chars().count() > MAX_PASSWORD_CHARS {
        return again(format!("密码过长（最多{MAX_PASSWORD_CHARS}个字符）"));
    }
    let key = normalize_username(&form.username);
    let limits = &state.limiter;
    if let Err(e) = limits.check_address(&state.store, &client).await {
        return again(e.to_string());
    }
    let user = state.store.user_by_username(&key).await?;
    if let Some(u) = &user
        && let Err(e) = limits.check_account(&state.store, u, &client).await
    {
        return again(e.to_string());
    }
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::DUMMY_HASH.to_string());
    let candidate = form.password.clone();
    let ok = password::verify_async(candidate, hash).await?;
    if !ok {
        limits.fail(&state.store, user.as_ref(), &client).await?;
        return again("用户名或密码不正确".into());
    }
    let Some(user) = user else {
        return again("用户名或密码不正确".into());
    };
    if user.disabled {
        return again("该账号已停用，请联系管理员".into());
    }
    limits.succeed(&state.store, &user, &client).await?;
    // A fresh session id at login: a session fixed before login is worth nothing.
    if let Some(old) = &session {
        state.end_session(old).await?;
    }
    let (_, token) = state.new_session(Some(user.id)).await?;
    state.store.record_login(user.id).await?;
    let target = if user.must_change_password {
        "/password".to_string()
    } else {
        safe_next(form.next.as_deref())
    };
    let mut resp = Redirect::to(&target).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&token, state.config.cookies_secure()),
    );
    Ok(resp)
}

pub async fn logout(
    State(state): State<AppState>,
    MaybeSession(session, _): MaybeSession,
) -> WebResult<Response> {
    if let Some(s) = &session {
        state.end_session(s).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    Ok(resp)
}

#[derive(Template)]
#[template(path = "auth/password.html")]
struct PasswordPage {
    layout: Option<Layout>,
    csrf: String,
    forced: bool,
    error: Option<String>,
    rule: &'static str,
}

pub async fn password_form(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> WebResult<impl IntoResponse> {
    render(&PasswordPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        forced: cu.user.must_change_password,
        error: None,
        rule: password::RULE,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> WebResult<Response> {
    let hash = cu.user.password_hash.clone();
    let current = form.current.clone();
    let ok = password::verify_async(current, hash).await?;
    let problem = if !ok {
        Some("当前密码不正确".to_string())
    } else if form.new != form.confirm {
        Some("两次输入的新密码不一致".to_string())
    } else if form.new == form.current {
        Some("新密码不能与当前密码相同".to_string())
    } else {
        password::check_rule(&form.new).err().map(|e| e.to_string())
    };
    if let Some(error) = problem {
        return Ok(render(&PasswordPage {
            layout: Layout::build(&state, &cu).await?,
            csrf: cu.csrf.clone(),
            forced: cu.user.must_change_password,
            error: Some(error),
            rule: password::RULE,
        })?
        .into_response());
    }
    let new = form.new.clone();
    let hash = password::hash_async(new).await?;
    state
        .store
        .set_password_hash(cu.user.id, &hash, false, &cu.user.actor())
        .await?;
    // Whoever else knew the old password is signed out; this browser stays in.
    let keep = cu.session.as_ref().map(|s| s.key.as_str());
    state.store.end_user_sessions(cu.user.id, keep).await?;
    let tokens = state
        .store
        .revoke_user_tokens(cu.user.id, &cu.user.actor())
        .await?;
    let message = if tokens > 0 {
        format!("密码已修改；其他设备上的登录已退出，{tokens}个接口令牌已作废")
    } else {
        "密码已修改；其他设备上的登录已退出".to_string()
    };
    flash(&state, &cu, message).await?;
    Ok(Redirect::to("/").into_response())
}
