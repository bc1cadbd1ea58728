//! Signing in and out, and changing one's password (forced at the first login).

use crate::AppState;
use crate::error::WebResult;
use crate::password;
use crate::session::{CurrentUser, MaybeSession, clear_cookie, session_cookie};
use crate::views::{Layout, flash, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header;
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

/// Only same-site paths: never send a user to another site after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    MaybeSession(session, user): MaybeSession,
    Query(q): Query<NextQuery>,
) -> WebResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let next = safe_next(q.next.as_deref());
    let (csrf, cookie) = match session {
        Some(s) => (s.data.csrf, None),
        None => {
            let (s, token) = state.new_session(None).await?;
            (
                s.data.csrf,
                Some(session_cookie(&token, state.config.secure_cookies)),
            )
        }
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

pub async fn login(
    State(state): State<AppState>,
    MaybeSession(session, _): MaybeSession,
    Form(form): Form<LoginForm>,
) -> WebResult<Response> {
    let key = normalize_username(&form.username);
    let csrf = session
        .as_ref()
        .map(|s| s.data.csrf.clone())
        .unwrap_or_default();
    let again = |error: String| -> WebResult<Response> {
        Ok(render(&LoginPage {
            layout: None,
            csrf: csrf.clone(),
            next: safe_next(form.next.as_deref()),
            username: form.username.clone(),
            error: Some(error),
        })?
        .into_response())
    };
    if let Err(e) = state.limiter.check(&key) {
        return again(e.to_string());
    }
    let user = state.store.user_by_username(&key).await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::DUMMY_HASH.to_string());
    let candidate = form.password.clone();
    let ok = password::verify_async(candidate, hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        state.limiter.fail(&key);
        return again("用户名或密码不正确".into());
    };
    if user.disabled {
        return again("该账号已停用，请联系管理员".into());
    }
    state.limiter.succeed(&key);
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
        session_cookie(&token, state.config.secure_cookies),
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
    flash(&state, &cu, "密码已修改").await?;
    Ok(Redirect::to("/").into_response())
}
