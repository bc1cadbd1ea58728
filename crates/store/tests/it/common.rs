//! Test databases: every test gets a fresh one, on SQLite (a temp file) and on PostgreSQL.
//!
//! PostgreSQL: `FAZHI_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`) is an
//! admin connection used to `CREATE DATABASE fazhi_t_…` per test and drop it afterwards.
//! `FAZHI_TEST_PG=auto` (default) skips the PostgreSQL variants with a note on stderr when
//! the server is unreachable, `require` fails them, `skip` never tries.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fazhi_import::ImportOutput;
use fazhi_store::{Actor, NewUser, Store, UnitId, User, UserRole};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use sha2::{Digest, Sha256};

/// For each `async fn NAME(db: Db)` listed, generates the tests `NAME::sqlite` and
/// `NAME::postgres`.
macro_rules! store_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    crate::common::run(crate::common::Backend::Sqlite, super::$name).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    crate::common::run(crate::common::Backend::Postgres, super::$name).await;
                }
            }
        )+
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test body gets: the store and the URL it was opened with.
pub struct Db {
    pub store: Store,
    pub url: String,
}

enum Cleanup {
    File(PathBuf),
    PgDatabase { admin_url: String, name: String },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Set once a test of this process found PostgreSQL unreachable (mode `auto`), so the
/// others skip without waiting for the connection timeout again.
static PG_DOWN: AtomicBool = AtomicBool::new(false);

fn unique_suffix() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{secs}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

const PG_SKIP_LINE: &str = "PostgreSQL 不可用，已跳过 PostgreSQL 存储测试";

/// Databases left behind by crashed runs are dropped after this long.
const STALE_AFTER_SECS: u64 = 6 * 3600;

pub async fn admin_connect(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(2))
        .sqlx_logging(false);
    Database::connect(options).await
}

/// `postgres://u@h:p/db?x` with `db` replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn drop_stale(admin: &DatabaseConnection) {
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'fazhi_t_%'",
        ))
        .await
    else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let created: Option<u64> = name
            .strip_prefix("fazhi_t_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse().ok());
        if created.is_some_and(|c| c + STALE_AFTER_SECS < now) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

impl Cleanup {
    async fn run(self) {
        match self {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
            }
            Cleanup::PgDatabase { admin_url, name } => {
                if let Ok(admin) = admin_connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            }
        }
    }
}

/// A fresh database of `backend`, or `None` when PostgreSQL is to be skipped.
async fn create(backend: Backend) -> Option<(String, Cleanup)> {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("fazhi_store_{}.db", unique_suffix()));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            Some((url, Cleanup::File(path)))
        }
        Backend::Postgres => {
            let mode = std::env::var("FAZHI_TEST_PG").unwrap_or_else(|_| "auto".into());
            if mode == "skip" {
                eprintln!("{PG_SKIP_LINE}（FAZHI_TEST_PG=skip）");
                return None;
            }
            if mode != "require" && PG_DOWN.load(Ordering::Relaxed) {
                eprintln!("{PG_SKIP_LINE}");
                return None;
            }
            let admin_url = std::env::var("FAZHI_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let admin = match admin_connect(&admin_url).await {
                Ok(admin) => admin,
                Err(err) if mode == "require" => {
                    panic!("FAZHI_TEST_PG=require，但无法连接 PostgreSQL（{admin_url}）：{err}")
                }
                Err(err) => {
                    PG_DOWN.store(true, Ordering::Relaxed);
                    eprintln!("{PG_SKIP_LINE}（{err}）");
                    return None;
                }
            };
            drop_stale(&admin).await;
            let name = format!("fazhi_t_{}", unique_suffix());
            if let Err(err) = admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
            {
                panic!("无法创建测试数据库 {name}：{err}");
            }
            let _ = admin.close().await;
            let url = with_database(&admin_url, &name);
            Some((url, Cleanup::PgDatabase { admin_url, name }))
        }
    }
}

/// Runs `test` against a fresh database, then removes the database, even when the test
/// panics (the panic is re-raised afterwards).
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((url, cleanup)) = create(backend).await else {
        return;
    };
    let store = match Store::connect(&url).await {
        Ok(store) => store,
        Err(err) => {
            cleanup.run().await;
            panic!("无法打开测试数据库（{backend:?}）：{err}");
        }
    };
    let outcome = tokio::spawn(test(Db {
        store: store.clone(),
        url,
    }))
    .await;
    let _ = store.close().await;
    cleanup.run().await;
    if let Err(err) = outcome {
        match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("测试任务未完成：{err}"),
        }
    }
}

/// The county library checked into the repository.
pub const LIBRARY_JSON: &str = include_str!("../../../../data/library/lanling.json");

pub fn library() -> ImportOutput {
    serde_json::from_str(LIBRARY_JSON).expect("data/library/lanling.json 应能解析")
}

pub fn library_sha256() -> String {
    hex::encode(Sha256::digest(LIBRARY_JSON.as_bytes()))
}

pub fn admin() -> Actor {
    Actor::system()
}

/// Imports the county library and returns its id.
pub async fn import_county(store: &Store) -> fazhi_store::FrameworkId {
    store
        .import_library(&library(), "lanling.json", &library_sha256(), &admin())
        .await
        .expect("导入县指标库")
}

/// Id of a unit by name; panics when missing.
pub async fn unit_id(store: &Store, name: &str) -> fazhi_store::UnitId {
    store
        .find_unit(name)
        .await
        .expect("查询单位")
        .unwrap_or_else(|| panic!("没有单位“{name}”"))
}

/// Number of rows in `table`.
pub async fn count_rows(store: &Store, table: &str) -> i64 {
    let conn = store.connection();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await
        .expect("计数查询")
        .expect("计数结果");
    row.try_get_by_index::<i64>(0).expect("计数值")
}

#[test]
fn replaces_database_in_url() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "y"),
        "postgres://u:p@h/y?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "z"), "postgres://h:1/z");
}

/// A user with a placeholder password hash (storage tests never log in).
pub async fn user(s: &Store, username: &str, role: UserRole, unit: Option<UnitId>) -> User {
    let id = s
        .create_user(
            NewUser {
                username: username.into(),
                display_name: format!("{username}的姓名"),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                role,
                unit_id: unit,
                must_change_password: false,
            },
            &admin(),
        )
        .await
        .unwrap();
    s.user(id).await.unwrap()
}

/// Today in Beijing time, as the server passes it to the store.
pub fn today() -> chrono::NaiveDate {
    fazhi_domain::clock::Clock::default().today()
}

/// The user's inbox today with the stored calendar and the default warning period.
pub async fn inbox_today(s: &Store, user: &User) -> fazhi_store::Inbox {
    let calendar = s.calendar().await.expect("calendar");
    s.inbox_on(
        user,
        today(),
        &calendar,
        fazhi_domain::supervision::DEFAULT_WARN_WORKDAYS,
    )
    .await
    .expect("inbox")
}
