//! HTTP-level tests of the platform: the real router over a fresh SQLite database per
//! test, driven like a browser (cookies, CSRF tokens scraped from forms).

mod api;
mod authz;
mod calendar;
mod dashboard;
mod exports;
mod flows;
mod hardening;
mod measures;
mod packages;
mod remap;
mod stats_cache;
mod uploads;
mod work;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fazhi_store::{Actor, NewUser, Store, UnitId, UserRole};
use fazhi_web::{AppState, Config, password};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub struct App {
    pub router: Router,
    pub store: Store,
    pub state: AppState,
    pub admin_password: String,
    _dir: tempfile::TempDir,
}

pub const PASSWORD: &str = "Changed-pass-2026";

impl App {
    pub async fn new() -> App {
        Self::with_upload_limit(2 * 1024 * 1024 * 1024).await
    }

    pub async fn with_upload_limit(max_upload_bytes: u64) -> App {
        Self::custom(|c| c.max_upload_bytes = max_upload_bytes, |_| {}).await
    }

    /// An app with its configuration and state adjusted before the router is built.
    pub async fn custom(
        config_tweak: impl FnOnce(&mut Config),
        state_tweak: impl FnOnce(&mut AppState),
    ) -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("t.sqlite").display()
        );
        let store = Store::connect(&url).await.expect("store");
        let admin = fazhi_web::bootstrap(&store)
            .await
            .expect("bootstrap")
            .expect("first admin");
        let mut config = Config::new(([127, 0, 0, 1], 0).into(), dir.path().to_path_buf());
        config_tweak(&mut config);
        let files = fazhi_files::FileStore::local(dir.path().join("files")).expect("file store");
        let mut state = AppState::new(store.clone(), files, config);
        state_tweak(&mut state);
        let router = fazhi_web::router(state.clone());
        App {
            router,
            store,
            state,
            admin_password: admin.password,
            _dir: dir,
        }
    }

    pub fn files_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("files").join("blobs")
    }

    pub async fn unit_id(&self, name: &str) -> UnitId {
        self.store
            .find_unit(name)
            .await
            .expect("query")
            .expect("unit exists")
    }

    /// Create a user directly in the store with a known, already-changed password.
    pub async fn user(&self, username: &str, role: UserRole, unit: Option<&str>) {
        let unit_id = match unit {
            Some(u) => Some(self.unit_id(u).await),
            None => None,
        };
        self.store
            .create_user(
                NewUser {
                    username: username.into(),
                    display_name: username.into(),
                    password_hash: password::hash(PASSWORD).expect("hash"),
                    role,
                    unit_id,
                    must_change_password: false,
                },
                &Actor::system(),
            )
            .await
            .expect("create user");
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookie: None,
            csrf: None,
            bearer: None,
            addr: None,
        }
    }

    /// A client logged in as `username` with [`PASSWORD`].
    pub async fn login(&self, username: &str) -> Client {
        let mut c = self.client();
        let r = c.login(username, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "login of {username}: {}",
            r.text
        );
        c
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub location: Option<String>,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub text: String,
    /// The body as sent (`text` is it read as UTF-8).
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

#[derive(Clone)]
pub struct Client {
    router: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
    /// The client address the server sees (as `ConnectInfo`); none by default.
    pub addr: Option<std::net::SocketAddr>,
}

/// The value of the first `name="_csrf"` hidden field on a page.
pub fn scrape_csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")?;
    let rest = &html[at + "name=\"_csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Client {
    pub async fn send(&mut self, req: Request<Body>) -> Resp {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        if let Some(c) = resp.headers().get(header::SET_COOKIE) {
            let c = c.to_str().unwrap_or_default();
            let pair = c.split(';').next().unwrap_or_default().to_string();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
        let status = resp.status();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(t) = scrape_csrf(&text) {
            self.csrf = Some(t);
        }
        Resp {
            status,
            location,
            content_type,
            headers,
            text,
            bytes: bytes.to_vec(),
        }
    }

    fn builder(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, c);
        }
        if let Some(t) = &self.bearer {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(a) = self.addr {
            b = b.extension(axum::extract::ConnectInfo(a));
        }
        b
    }

    /// POST a form body exactly as given (e.g. bytes that are not UTF-8).
    pub async fn post_raw(&mut self, uri: &str, body: &str) -> Resp {
        let req = self
            .builder("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(req).await
    }

    /// POST a multipart body exactly as given, with the CSRF token in the query.
    pub async fn post_multipart(&mut self, uri: &str, boundary: &str, body: Vec<u8>) -> Resp {
        let uri = match &self.csrf {
            Some(t) => format!("{uri}?_csrf={t}"),
            None => uri.to_string(),
        };
        let req = self
            .builder("POST", &uri)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    pub async fn get(&mut self, uri: &str) -> Resp {
        let req = self
            .builder("GET", uri)
            .body(Body::empty())
            .expect("request");
        self.send(req).await
    }

    /// GET with extra request headers (e.g. `Range`).
    pub async fn get_with(&mut self, uri: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = self.builder("GET", uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Body::empty()).expect("request");
        self.send(req).await
    }

    /// POST a JSON body (the API); with a session, its CSRF token goes in `X-CSRF-Token`.
    pub async fn post_json(&mut self, uri: &str, body: &serde_json::Value) -> Resp {
        let mut b = self
            .builder("POST", uri)
            .header(header::CONTENT_TYPE, "application/json");
        if self.bearer.is_none()
            && let Some(t) = &self.csrf
        {
            b = b.header("x-csrf-token", t.clone());
        }
        let req = b.body(Body::from(body.to_string())).expect("request");
        self.send(req).await
    }

    /// POST a form; the session's CSRF token is added unless `fields` has `_csrf`.
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Resp {
        let mut pairs: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !fields.iter().any(|(k, _)| *k == "_csrf")
            && let Some(t) = &self.csrf
        {
            pairs.push(("_csrf".into(), t.clone()));
        }
        let body = serde_urlencoded::to_string(&pairs).expect("form");
        let req = self
            .builder("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// POST a multipart upload with one file field named `file`.
    pub async fn upload(&mut self, uri: &str, file_name: &str, bytes: &[u8]) -> Resp {
        self.upload_with(uri, &[], file_name, bytes).await
    }

    /// POST a multipart form: text fields first, then the file.
    pub async fn upload_with(
        &mut self,
        uri: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        bytes: &[u8],
    ) -> Resp {
        let boundary = "fazhi-test-boundary";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let uri = match &self.csrf {
            Some(t) => format!("{uri}?_csrf={t}"),
            None => uri.to_string(),
        };
        let req = self
            .builder("POST", &uri)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Resp {
        let page = self.get("/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let r = self
            .post(
                "/login",
                &[
                    ("username", username),
                    ("password", password),
                    ("next", "/"),
                ],
            )
            .await;
        // Like a browser: follow the redirect, which also picks up the new session's
        // CSRF token (login starts a new session).
        let mut next = r.location.clone();
        for _ in 0..5 {
            let Some(to) = next else { break };
            next = self.get(&to).await.location;
        }
        r
    }
}

/// Shared across tests that only read: one library-loaded database is enough.
pub type Shared = Arc<App>;

/// The id of the task numbered `code` in a task list page (rows link as
/// `<a href="/tasks/ID">CODE</a>`).
pub fn task_id_for(html: &str, code: &str) -> Option<i64> {
    let needle = format!("\">{code}</a></td>");
    let end = html.find(&needle)?;
    let start = html[..end].rfind("/tasks/")? + "/tasks/".len();
    html[start..end].parse().ok()
}

/// The number right after the first `prefix` on a page, e.g. an id in `/ledger/12/delete`.
pub fn number_after(html: &str, prefix: &str) -> i64 {
    let at = html.find(prefix).unwrap_or_else(|| panic!("no {prefix}")) + prefix.len();
    html[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// Every file below `dir` (none when it does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

impl Client {
    /// As an admin: opens a round named `name` for the calendar year `year`.
    pub async fn open_round(&mut self, name: &str, year: i32) {
        let r = self
            .post(
                "/admin/rounds",
                &[
                    ("name", name),
                    ("starts_on", &format!("{year}-01-01")),
                    ("ends_on", &format!("{year}-12-31")),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    }

    /// The id of the task numbered `code` in this user's task list.
    pub async fn task_id(&mut self, code: &str) -> i64 {
        let list = self.get("/tasks").await;
        task_id_for(&list.text, code).unwrap_or_else(|| panic!("没有第{code}项的任务"))
    }
}
