//! The fazhi web platform: server-rendered Chinese pages (askama, htmx), a JSON API
//! under `/api/v1`, sessions with CSRF protection, and first-start bootstrap.

pub mod access;
pub mod api;
mod cache;
pub use cache::RoundView;
pub mod error;
pub mod housekeeping;
mod http_range;
mod jobs;
pub mod login_limits;
pub mod password;
pub mod session;
mod static_files;
pub mod views;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::routing::{get, post};
use fazhi_import::ImportOutput;
use fazhi_store::{Actor, NewUser, Store, UserRole};
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::login_limits::LoginLimits;

/// The county library shipped with the platform, loaded on first start.
pub const DEFAULT_LIBRARY: &str = include_str!("../../../data/library/lanling.json");
pub const DEFAULT_LIBRARY_NAME: &str = "lanling.json（随平台发布的县指标库）";

/// Where and how the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// Send cookies with `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Largest table accepted on the import page.
    pub max_import_bytes: usize,
    /// Largest evidence file (recordings of 执法全过程 can be large).
    pub max_upload_bytes: u64,
    /// Working days before a due date at which a task's light turns yellow (逾期预警).
    pub warn_workdays: u32,
    /// The address users reach the platform at (`https://fazhi.example.gov.cn`), for links
    /// handed out (calendar feeds); `None`: from the request's Host header.
    pub public_url: Option<String>,
    /// Behind a reverse proxy: the header it puts the client address in (e.g.
    /// `X-Forwarded-For`; its right-most address is used). Without it, the peer address.
    pub trusted_proxy_header: Option<String>,
    /// Decides "today" for lights, late submissions and the inbox (Beijing time unless
    /// the config file says `utc_offset`).
    pub clock: fazhi_domain::clock::Clock,
    /// Days a finished 佐证材料汇编 is kept for download before it is deleted.
    pub package_keep_days: u32,
}

/// Default of [`Config::package_keep_days`].
pub const DEFAULT_PACKAGE_KEEP_DAYS: u32 = 7;

impl Config {
    pub fn new(bind: SocketAddr, data_dir: PathBuf) -> Self {
        Config {
            bind,
            data_dir,
            secure_cookies: false,
            max_import_bytes: 20 * 1024 * 1024,
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            warn_workdays: fazhi_domain::supervision::DEFAULT_WARN_WORKDAYS,
            public_url: None,
            trusted_proxy_header: None,
            clock: fazhi_domain::clock::Clock::default(),
            package_keep_days: DEFAULT_PACKAGE_KEEP_DAYS,
        }
    }

    /// Where finished packages are kept (`<data_dir>/packages`) and for how long.
    pub fn package_settings(&self) -> fazhi_package::job::JobSettings {
        fazhi_package::job::JobSettings::in_data_dir(&self.data_dir, self.package_keep_days)
    }

    /// Cookies carry `Secure` when asked, or when the public address is https.
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub files: fazhi_files::FileStore,
    pub config: Arc<Config>,
    pub limiter: Arc<LoginLimits>,
    cache: Arc<cache::ReadCache>,
    /// Wakes the package worker when a build is queued (see `jobs`).
    package_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    pub fn new(store: Store, files: fazhi_files::FileStore, config: Config) -> Self {
        AppState {
            store,
            files,
            config: Arc::new(config),
            limiter: Arc::new(LoginLimits::default()),
            cache: Arc::default(),
            package_wake: Arc::default(),
        }
    }

    /// Today's date in the configured zone: the one "today" of every page and API call.
    pub fn today(&self) -> chrono::NaiveDate {
        self.config.clock.today()
    }
}

/// `/healthz` for load balancers and monitoring: 200 when the database and the file store
/// both answer within [`HEALTH_TIMEOUT`], else 503 saying which does not (JSON either way).
async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    /// One probe, bounded by [`HEALTH_TIMEOUT`]; its error in words.
    async fn probe<E: std::fmt::Display>(
        check: impl std::future::Future<Output = Result<(), E>>,
    ) -> Result<(), String> {
        match tokio::time::timeout(HEALTH_TIMEOUT, check).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("{} 秒内无应答", HEALTH_TIMEOUT.as_secs())),
        }
    }
    // Both at once: a stalled one does not delay the other's answer.
    let (database, files) = tokio::join!(probe(state.store.ping()), probe(state.files.ping()));
    let word = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("不可用：{e}"),
    };
    let body = serde_json::json!({
        "status": if database.is_ok() && files.is_ok() { "ok" } else { "unavailable" },
        "database": word(&database),
        "file_store": word(&files),
    });
    let status = if database.is_ok() && files.is_ok() {
        axum::http::StatusCode::OK
    } else {
        tracing::warn!(%body, "health check failed");
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// How long `/healthz` waits for each of the database and the file store.
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The first administrator, created on first start; the password is shown once.
#[derive(Debug, Clone)]
pub struct InitialAdmin {
    pub username: String,
    pub password: String,
}

/// Load the county library when the database has none, and create the first
/// administrator when there are no users.
pub async fn bootstrap(store: &Store) -> Result<Option<InitialAdmin>, error::WebError> {
    if store.current_framework().await?.is_none() {
        let library: ImportOutput = serde_json::from_str(DEFAULT_LIBRARY)
            .map_err(|e| error::WebError::internal(format!("内置指标库无法读取：{e}")))?;
        let sha = hex::encode(Sha256::digest(DEFAULT_LIBRARY.as_bytes()));
        store
            .import_library(&library, DEFAULT_LIBRARY_NAME, &sha, &Actor::system())
            .await?;
        tracing::info!("已载入内置指标库");
    }
    if !store.users().await?.is_empty() {
        return Ok(None);
    }
    let password = password::generate()?;
    let hash = password::hash_async(password.clone()).await?;
    store
        .create_user(
            NewUser {
                username: "admin".into(),
                display_name: "系统管理员".into(),
                password_hash: hash,
                role: UserRole::Admin,
                unit_id: None,
                must_change_password: true,
            },
            &Actor::system(),
        )
        .await?;
    Ok(Some(InitialAdmin {
        username: "admin".into(),
        password,
    }))
}

/// The policy of every page (see [`router`]).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router(state: AppState) -> Router {
    use views::{
        account, admin, auth, batch, calendar, dashboard, evidence, exports, inbox, indicators,
        matrix, measures, notices, overview, packages, rounds, rules, tasks, units, uploads,
    };
    let max_import = state.config.max_import_bytes;
    // The file store enforces the real limit while streaming; this only lets it get there.
    let max_upload = usize::try_from(state.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    let sign_in = Router::new()
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/password",
            get(auth::password_form).post(auth::change_password),
        );
    let account = Router::new()
        .route(
            "/account/tokens",
            get(account::tokens).post(account::create_token),
        )
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/account/calendar",
            get(calendar::feed::page).post(calendar::feed::renew),
        );
    let framework = Router::new()
        .route("/", get(dashboard::home))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/indicators", get(indicators::tree))
        .route("/indicators/{id}", get(indicators::detail))
        .route("/indicators/{id}/assign", post(indicators::assign))
        .route("/indicators/{id}/unassign", post(indicators::unassign))
        .route("/indicators/{id}/lead", post(indicators::set_lead))
        .route("/indicators/{id}/rules", post(rules::correct))
        .route("/rule-corrections/{id}/revoke", post(rules::revoke))
        .route("/matrix", get(matrix::matrix))
        .route("/units", get(units::list))
        .route("/units/{id}", get(units::responsibility_list));
    let work = Router::new()
        .route("/rounds", get(rounds::rounds))
        .route("/admin/rounds", post(rounds::open_round))
        .route("/admin/rounds/{id}/close", post(rounds::close_round))
        .route(
            "/admin/rounds/{id}/remap",
            get(rounds::remap_form).post(rounds::remap),
        )
        .route("/admin/tasks/due", post(tasks::set_due))
        .route("/tasks", get(tasks::tasks))
        .route("/tasks/batch", post(batch::batch))
        .route("/inbox", get(inbox::inbox))
        .route("/tasks/{id}", get(tasks::task))
        .route("/tasks/{id}/action", post(tasks::action))
        .route("/tasks/{id}/reports", post(tasks::add_report))
        .route("/tasks/{id}/score", post(tasks::score))
        .route("/tasks/{id}/measures", post(measures::record))
        .route("/tasks/{id}/ledger", post(measures::add_case))
        .route(
            "/tasks/{id}/ledger/template.xlsx",
            get(measures::ledger_template),
        )
        .route("/tasks/{id}/ledger/import", post(measures::import_cases))
        .route("/ledger/{id}/delete", post(measures::delete_case));
    let evidence = Router::new()
        .route(
            "/tasks/{id}/files",
            post(evidence::upload).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/tasks/{id}/links", post(evidence::add_link))
        // 断点续传 of large files (see `views::uploads`).
        .route("/tasks/{id}/uploads", post(uploads::start))
        .route("/evidence/{id}/uploads", post(uploads::start_version))
        .route(
            "/uploads/{id}",
            get(uploads::status)
                .patch(uploads::append)
                .layer(DefaultBodyLimit::max(uploads::MAX_CHUNK_BYTES)),
        )
        .route("/uploads/{id}/finish", post(uploads::finish))
        .route("/uploads/{id}/cancel", post(uploads::cancel))
        .route("/evidence/{id}/file", get(evidence::download))
        .route(
            "/evidence/{id}/replace",
            post(evidence::replace).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/evidence/{id}/relink", post(evidence::relink))
        .route("/evidence/{id}/review", post(evidence::review))
        .route("/evidence/{id}/delete", post(evidence::delete))
        // 佐证材料汇编: built in the background (see `jobs`).
        .route("/packages", get(packages::page).post(packages::build))
        .route("/packages/jobs", get(packages::jobs_fragment))
        .route("/packages/{id}/cancel", post(packages::cancel))
        .route("/packages/{id}/file", get(packages::download));
    let supervision = Router::new()
        // 导出: spreadsheets for superiors (责任分工表, 任务台账).
        .route("/exports", get(exports::page))
        .route("/exports/responsibility.xlsx", get(exports::responsibility))
        .route("/exports/ledger.xlsx", get(exports::ledger))
        .route("/exports/report", post(exports::report))
        .route("/overview", get(overview::overview))
        .route("/notices", get(notices::notices))
        .route("/tasks/{id}/notices", post(notices::issue))
        .route("/notices/{id}/ack", post(notices::acknowledge))
        .route("/notices/{id}/print", get(notices::print));
    let dates = Router::new()
        .route(
            "/admin/calendar",
            get(calendar::holidays::page)
                .post(calendar::holidays::add_year)
                .layer(DefaultBodyLimit::max(
                    calendar::holidays::MAX_CALENDAR_BYTES * 2 + 64 * 1024,
                )),
        )
        .route("/schedule", get(calendar::schedule::schedule))
        // No session: the token in the file name is the credential (calendar apps).
        .route("/feed/{file}", get(calendar::feed::feed));
    let management = Router::new()
        .route("/admin/units", post(admin::units::create))
        .route(
            "/admin/units/{id}",
            get(admin::units::form).post(admin::units::update),
        )
        .route("/admin/units/{id}/aliases", post(admin::units::add_alias))
        .route(
            "/admin/units/{id}/aliases/delete",
            post(admin::units::remove_alias),
        )
        .route("/admin/units/{id}/members", post(admin::units::set_members))
        .route(
            "/admin/units/{id}/disable",
            post(admin::units::set_disabled),
        )
        .route(
            "/admin/users",
            get(admin::users::list).post(admin::users::create),
        )
        .route(
            "/admin/users/{id}/reset",
            post(admin::users::reset_password),
        )
        .route(
            "/admin/users/{id}/disable",
            post(admin::users::set_disabled),
        )
        .route(
            "/admin/import",
            get(admin::import::form)
                .post(admin::import::preview)
                .layer(DefaultBodyLimit::max(max_import)),
        )
        .route("/admin/import/confirm", post(admin::import::confirm))
        .route("/admin/frameworks", get(admin::import::frameworks))
        .route("/admin/audit", get(admin::audit::audit));
    let pages = Router::new()
        .merge(sign_in)
        .merge(account)
        .merge(framework)
        .merge(work)
        .merge(evidence)
        .merge(supervision)
        .merge(dates)
        .merge(management);
    Router::new()
        .merge(pages)
        .merge(api::router())
        .route("/static/{*path}", get(static_files::serve))
        .route("/healthz", get(health))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::authenticate,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // Pages load scripts and styles from this site only: an injected <script> or
        // inline handler does not run. (Downloads set their own, stricter policy.)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<_>| {
                    // The path only: query strings may carry a CSRF token. Calendar feed
                    // paths carry their token, so that part is left out too.
                    let path = req.uri().path();
                    let path = if path.starts_with("/feed/") {
                        "/feed/…"
                    } else {
                        path
                    };
                    tracing::info_span!("request", method = %req.method(), path = %path)
                },
            ),
        )
        .with_state(state)
}

/// Serve until SIGINT or SIGTERM, then finish the requests in flight. Housekeeping
/// (expired sessions, old login failures, import previews, unreferenced files, expired
/// packages) runs meanwhile every [`housekeeping::INTERVAL`], and a worker builds the
/// queued 佐证材料汇编 (see [`start_jobs`]).
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(state.config.bind).await?;
    let worker = start_jobs(&state)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let chores = housekeeping::spawn(state.clone());
    let app = router(state);
    // The peer address feeds the login limits (see `login_limits::client_addr`).
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    chores.abort();
    // A build cut off here is marked failed at the next start (`start_jobs`).
    worker.stop();
    result
}

pub use housekeeping::{Swept, sweep};
pub use jobs::{INTERRUPTED_MESSAGE, PackageWorker, start_jobs};

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("正在停止服务…");
}
