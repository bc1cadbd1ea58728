//! Sessions, authentication and CSRF protection, in one middleware.
//!
//! A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie; the database
//! keeps only its SHA-256, so a copy of the database holds no live session. Each session
//! carries a CSRF token that every state-changing request must present (form field
//! `_csrf`, header `X-CSRF-Token` — htmx sends it — or, for file uploads, the query
//! parameter `_csrf`). The login form has no session yet: its token is a double-submit
//! cookie ([`LOGIN_CSRF_COOKIE`]), so an anonymous visitor stores nothing.
//!
//! API clients authenticate with `Authorization: Bearer <token>` on `/api/*` only (a
//! token on a page counts as not logged in); they are not subject to CSRF because they
//! send no cookie. A read-only token may only read; an expired one is refused.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use fazhi_store::{User, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::WebError;

pub const COOKIE: &str = "fazhi_session";
/// The login form's CSRF token, compared with the form field (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "fazhi_login_csrf";
/// Idle lifetime of a session.
const IDLE_HOURS: i64 = 8;
/// Lifetime of a session however busy: a stolen cookie does not live for ever.
const ABSOLUTE_DAYS: i64 = 7;
/// Largest form body the CSRF check buffers (uploads are multipart and not buffered).
const MAX_FORM_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionData {
    pub user_id: Option<UserId>,
    pub csrf: String,
    /// A one-time message shown on the next page.
    #[serde(default)]
    pub flash: Option<String>,
    /// A one-time warning shown with it (yellow): something still to see to.
    #[serde(default)]
    pub flash_warn: Option<String>,
    /// When the expiry was last pushed forward.
    #[serde(default)]
    pub renewed: Option<DateTime<Utc>>,
    /// When the session started (absolute lifetime); sessions from before this field
    /// count from their next use.
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Session {
    /// SHA-256 of the cookie token: the database key.
    pub key: String,
    pub data: SessionData,
    pub expiry: DateTime<Utc>,
}

/// What the middleware learnt about the request; read by the extractors below.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub session: Option<Session>,
    pub user: Option<User>,
    pub via_token: bool,
    /// The token's write scope; checked when a handler takes the user (after routing,
    /// so an unknown method still gets its 405).
    pub token_can_write: bool,
}

/// The CSRF token a request must present: the session's, or on the login form the
/// double-submit cookie's.
fn login_csrf(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// 32 random bytes as hex.
pub fn random_token() -> Result<String, WebError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| WebError::internal(format!("随机数不可用：{e}")))?;
    Ok(hex::encode(bytes))
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Build the Set-Cookie header for a session token.
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        IDLE_HOURS * 3600
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The login form's CSRF cookie (see [`LOGIN_CSRF_COOKIE`]).
pub fn login_csrf_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Lax; Max-Age=7200{secure}"
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The login CSRF token a request carries, or a new one with the cookie to set.
pub fn login_csrf_token(
    headers: &HeaderMap,
    secure: bool,
) -> Result<(String, Option<HeaderValue>), WebError> {
    match login_csrf(headers) {
        Some(t) => Ok((t, None)),
        None => {
            let t = random_token()?;
            let cookie = login_csrf_cookie(&t, secure);
            Ok((t, Some(cookie)))
        }
    }
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("fazhi_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

impl AppState {
    /// Start a new session (login, or an anonymous visitor who needs a CSRF token).
    /// Returns the session and the cookie token.
    pub async fn new_session(
        &self,
        user_id: Option<UserId>,
    ) -> Result<(Session, String), WebError> {
        let token = random_token()?;
        let data = SessionData {
            user_id,
            csrf: random_token()?,
            flash: None,
            flash_warn: None,
            renewed: Some(Utc::now()),
            created: Some(Utc::now()),
        };
        let session = Session {
            key: sha256_hex(&token),
            data,
            expiry: Utc::now() + Duration::hours(IDLE_HOURS),
        };
        self.save_session(&session).await?;
        Ok((session, token))
    }

    pub async fn save_session(&self, session: &Session) -> Result<(), WebError> {
        let bytes = serde_json::to_vec(&session.data).map_err(WebError::internal)?;
        self.store
            .session_save(&session.key, session.data.user_id, &bytes, session.expiry)
            .await?;
        Ok(())
    }

    pub async fn end_session(&self, session: &Session) -> Result<(), WebError> {
        self.store.session_delete(&session.key).await?;
        Ok(())
    }
}

async fn load_session(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, WebError> {
    let Some(token) = cookie_value(headers, COOKIE) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let key = sha256_hex(&token);
    let Some(bytes) = state.store.session_load(&key).await? else {
        return Ok(None);
    };
    let Ok(data) = serde_json::from_slice::<SessionData>(&bytes) else {
        return Ok(None);
    };
    let now = Utc::now();
    let created = data.created.unwrap_or(now);
    let end = created + Duration::days(ABSOLUTE_DAYS);
    if end <= now {
        state.store.session_delete(&key).await?;
        return Ok(None);
    }
    let mut session = Session {
        key,
        data,
        expiry: (now + Duration::hours(IDLE_HOURS)).min(end),
    };
    // Sliding expiry without a write on every request: push it forward once an hour.
    if session.data.created.is_none()
        || session
            .data
            .renewed
            .is_none_or(|t| now - t > Duration::hours(1))
    {
        session.data.renewed = Some(now);
        session.data.created = Some(created);
        state.save_session(&session).await?;
    }
    Ok(Some(session))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub(crate) fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn deny(path: &str, err: WebError) -> Response {
    if is_api(path) {
        err.into_api_response()
    } else {
        err.into_response()
    }
}

/// The middleware: authenticate, then check CSRF on state-changing requests.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/static/") || path == "/healthz" {
        return next.run(req).await;
    }
    let mut auth = Auth::default();
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(token) = bearer(req.headers()) {
        // Tokens are for the API; on a page a token counts as not logged in (its holder
        // would otherwise skip the page's CSRF protection).
        if is_api(&path) {
            match state.store.user_by_api_token(&sha256_hex(token)).await {
                Ok(Some((token, user))) if !user.disabled && !token.expired() => {
                    auth.user = Some(user);
                    auth.via_token = true;
                    auth.token_can_write = token.can_write;
                }
                Ok(_) => return deny(&path, WebError::Unauthenticated),
                Err(e) => return deny(&path, e.into()),
            }
        }
    } else {
        match load_session(&state, req.headers()).await {
            Ok(Some(session)) => {
                if let Some(id) = session.data.user_id {
                    match state.store.user(id).await {
                        Ok(user) if !user.disabled => auth.user = Some(user),
                        Ok(_) | Err(fazhi_store::StoreError::NotFound { .. }) => {}
                        Err(e) => return deny(&path, e.into()),
                    }
                }
                auth.session = Some(session);
            }
            Ok(None) => {}
            Err(e) => return deny(&path, e),
        }
    }

    if unsafe_method && !auth.via_token {
        match check_csrf(req, &auth, &path).await {
            Ok(r) => req = r,
            Err(e) => return deny(&path, e),
        }
    }
    req.extensions_mut().insert(auth);
    next.run(req).await
}

/// Reject cross-site requests and requests without the session's CSRF token. Returns
/// the request (its form body put back) when it passes.
async fn check_csrf(req: Request, auth: &Auth, path: &str) -> Result<Request, WebError> {
    let expired = || WebError::Forbidden("页面已过期或来源不明，请刷新页面后重试".into());
    // Browsers say where a request comes from; anything but our own pages is refused.
    if let Some(site) = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(expired());
    }
    let expected = match &auth.session {
        Some(session) => session.data.csrf.clone(),
        None if path == "/login" => login_csrf(req.headers()).ok_or_else(expired)?,
        None => return Err(expired()),
    };
    let expected = expected.as_str();
    let presented_header = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let presented_query = req.uri().query().and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v)
    });
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let presented = presented_header.or(presented_query);
    if let Some(token) = &presented
        && !constant_time_eq(token, expected)
    {
        return Err(expired());
    }
    if !is_form {
        return if presented.is_some() {
            Ok(req)
        } else {
            Err(expired())
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| WebError::BadRequest("表单内容过大".into()))?;
    // The form decoder would turn bytes that are not UTF-8 into "�" and store that.
    check_form_utf8(&bytes)?;
    if presented.is_none() {
        let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == "_csrf")
                    .map(|(_, v)| v)
            });
        if !token.is_some_and(|t| constant_time_eq(&t, expected)) {
            return Err(expired());
        }
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Err when a field name or value of a urlencoded form is not UTF-8 once decoded.
pub(crate) fn check_form_utf8(body: &[u8]) -> Result<(), WebError> {
    let plus_as_space: Vec<u8> = body
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    for part in plus_as_space.split(|b| *b == b'&') {
        let mut pieces = part.splitn(2, |b| *b == b'=');
        let name = pieces.next().unwrap_or_default();
        let value = pieces.next().unwrap_or_default();
        let name_ok = percent_encoding::percent_decode(name).decode_utf8().is_ok();
        if !name_ok
            || percent_encoding::percent_decode(value)
                .decode_utf8()
                .is_err()
        {
            let field = String::from_utf8_lossy(name);
            return Err(WebError::BadRequest(format!(
                "表单字段“{}”含有无法识别的字符（不是UTF-8编码的文字），请重新输入后再提交",
                field.chars().take(40).collect::<String>()
            )));
        }
    }
    Ok(())
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The logged-in user. Pages redirect to the login form when there is none, and to the
/// password form while the first password has not been changed.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub csrf: String,
    pub session: Option<Session>,
}

/// The path and query of an absolute URL (`https://host/tasks/3?x=1` → `/tasks/3?x=1`), only
/// when it is one: the login's `next` stays on this site.
fn url_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let at = rest.find('/')?;
    let path = &rest[at..];
    (!path.starts_with("//")).then_some(path)
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Nested routers see a shortened path; decisions need the full one.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map(|o| o.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let path = uri.path().to_string();
        let auth = parts.extensions.get::<Auth>().cloned().unwrap_or_default();
        let Some(user) = auth.user else {
            if is_api(&path) {
                return Err(WebError::Unauthenticated.into_api_response());
            }
            // An htmx request (a progress fragment polling after the session expired): the
            // whole page goes to the login, and back to that page afterwards, instead of the
            // login form being swapped into the fragment.
            let htmx = parts.headers.contains_key("hx-request");
            let page = htmx
                .then(|| parts.headers.get("hx-current-url"))
                .flatten()
                .and_then(|v| v.to_str().ok())
                .and_then(|u| url_path(u).map(str::to_string));
            let back = page.unwrap_or_else(|| {
                uri.path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into())
            });
            let next =
                percent_encoding::utf8_percent_encode(&back, percent_encoding::NON_ALPHANUMERIC);
            let login = format!("/login?next={next}");
            if htmx {
                let mut resp = StatusCode::UNAUTHORIZED.into_response();
                if let Ok(v) = HeaderValue::from_str(&login) {
                    resp.headers_mut().insert("hx-redirect", v);
                }
                return Err(resp);
            }
            return Err(Redirect::to(&login).into_response());
        };
        // Token users too: the API answers 403 until the first password is changed.
        if user.must_change_password && path != "/password" && path != "/logout" {
            if is_api(&path) {
                return Err(WebError::Forbidden("请先修改初始密码".into()).into_api_response());
            }
            return Err(Redirect::to("/password").into_response());
        }
        let writes = matches!(
            parts.method,
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        );
        if auth.via_token && writes && !auth.token_can_write {
            return Err(
                WebError::Forbidden("该接口令牌只读，不能修改数据".into()).into_api_response()
            );
        }
        let csrf = auth
            .session
            .as_ref()
            .map(|s| s.data.csrf.clone())
            .unwrap_or_default();
        Ok(CurrentUser {
            user,
            csrf,
            session: auth.session,
        })
    }
}

/// The session, logged in or not (login and logout pages).
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<Session>, pub Option<User>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts.extensions.get::<Auth>().cloned().unwrap_or_default();
        Ok(MaybeSession(auth.session, auth.user))
    }
}
