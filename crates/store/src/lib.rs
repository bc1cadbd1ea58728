//! Storage layer of fazhi: the schema, its migrations, and every read and write the
//! platform makes, on SQLite (the default) or PostgreSQL. The connection URL picks the
//! backend; the API is the same on both.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fazhi_store::StoreError> {
//! let store = fazhi_store::Store::connect("sqlite://fazhi.db?mode=rwc").await?;
//! if let Some(framework) = store.current_framework().await? {
//!     println!("{}: {} 项指标", framework.info.title, framework.leaves().len());
//! }
//! # Ok(()) }
//! ```
//!
//! # Schema
//!
//! All ids are 64-bit integers assigned by the database; times are UTC
//! (`timestamp with time zone`); enums are stored as their snake_case serde strings.
//!
//! | table | columns | notes |
//! |---|---|---|
//! | `framework` | id, title, source_name, source_sha256, imported_at, is_current, note | One row per imported edition (a version). Rows are never rewritten; at most one has `is_current` (partial unique index `ux_framework_current`). |
//! | `framework_node` | id, framework_id, parent_id, position, doc_order, depth, code, title, is_leaf, source_line | The tree of one version. `position` orders siblings, `doc_order` is the pre-order index (document order) in the version, `depth` 0 = 一级. `title` is the heading title or the indicator's text. |
//! | `unit` | id, name (unique), kind, disabled, created_at | Responsible units, shared by all versions. `kind` is `UnitKind`'s serde string. |
//! | `unit_alias` | id, unit_id, alias (unique) | Other spellings (`纪委监委` → `县纪委监委`). |
//! | `group_member` | group_unit_id, member_unit_id (primary key) | Members of a `group` unit (各执法部门). A group never contains a group or itself. |
//! | `assignment` | id, node_id, unit_id, role, position; unique (node_id, unit_id) | 责任分工: `role` is `lead` (牵头) or `co` (配合); `position` keeps the document's order. |
//! | `import_diagnostic` | id, framework_id, position, severity, kind, indicator, line, message | The importer's repairs and doubts, per version. |
//! | `app_user` | id, username (unique), display_name, password_hash, role, unit_id, must_change_password, disabled, created_at, last_login_at | `role` is `admin`, `liaison` (must have a unit) or `observer`. |
//! | `session` | id (text key), data (blob), expiry_date | Login sessions: the SHA-256 of the cookie token, the session data, its expiry and (since m20261201_000009) its user. |
//! | `api_token` | id, user_id, name, token_sha256 (unique), created_at, last_used_at | Only the token's SHA-256 is stored. |
//! | `audit_log` | id, at, actor_user_id, actor_name, action, entity, entity_id, before_json, after_json, prev_hash, hash | Append-only hash chain, see [`audit`]. Triggers refuse UPDATE and DELETE. |
//! | `audit_head` | id (always 1), entry_count, last_id, last_hash | The chain's newest end, moved with every append, so a removed tail is seen. |
//! | `campaign_round` | id, name, starts_on, ends_on, framework_id, created_at, created_by_user_id, created_by_name, previous_round_id, is_active | 轮次: one pass of the campaign over one framework version, see [`rounds`]. At most one `is_active` (partial unique index `ux_campaign_round_active`); `previous_round_id` is the round its due dates were copied from. |
//! | `task` | id, round_id, node_id, unit_id, role, via_group_unit_id, status, due_on, self_score_tenths, review_score_tenths, was_late, created_at, updated_at; unique (round_id, node_id, unit_id) | 任务: one unit's share of one leaf indicator in a round, see [`tasks`]. `role` `lead`/`co`; `via_group_unit_id` set when the unit holds it as member of a group; `status` is `TaskStatus`'s serde string; scores in tenths of a point (0–1000). |
//! | `task_event` | id, task_id, at, actor_user_id, actor_name, action, from_status, to_status, note | Each lifecycle step (签收, 报送, 退回 with its reason in `note`, …), append-only. |
//! | `progress_report` | id, task_id, at, author_user_id, author_name, progress, problems, next_steps, percent | 工作进展 / 存在问题 / 下步计划, append-only, see [`reports`]. |
//! | `blob` | sha256 (primary key), size, content_type, created_at | Metadata of an uploaded file; the bytes are in the file store under a key derived from `sha256`. One row per distinct content. |
//! | `evidence` | id, task_id, kind, title, doc_number, doc_date, current_version, created_at, created_by_user_id, created_by_name, deleted | 佐证材料, see [`evidence`]. `kind` (`file`/`link`) is that of the current version; deletion only sets `deleted`. |
//! | `evidence_version` | id, evidence_id, version, blob_sha256, original_name, url, published_on, created_at, created_by_user_id, created_by_name; unique (evidence_id, version) | Every version is kept: a file (`blob_sha256`, `original_name`) or a link (`url`, `published_on`), never both (CHECK). |
//! | `evidence_review` | id, evidence_id, version, reviewer_user_id, reviewer_name, verdict, note, at | 审核: `ok` (合格) or `needs_more` (需补充) on the version judged. |
//! | `job` | id, kind, params_json, status, files_done, files_total, bytes_done, bytes_total, cancel_requested, message, result_path, result_size, result_sha256, result_json, created_by_user_id, created_by_name, unit_id, created_at, started_at, heartbeat_at, finished_at, expires_at, attempt | 后台任务 (e.g. building a 佐证材料汇编), see [`jobs`]. `status` queued/running/done/failed/cancelled; `unit_id` the unit the job covers (`NULL`: all); `heartbeat_at` the running worker's last report; `attempt` counts the claims, so a worker that lost its job to another learns it. |
//!
//! Due and document dates are SQL `DATE`. The `*_user_id` columns of the work tables
//! have no foreign key, like the audit log's: the name next to them records who acted
//! (accounts are never deleted, only disabled).
//!
//! # Writes
//!
//! Every change runs in one transaction together with its audit entry, so a change is
//! either stored and logged or neither. [`Store::begin`] opens a write transaction
//! (`BEGIN IMMEDIATE` on SQLite, so writers queue on the busy timeout instead of failing
//! on a lock upgrade) for callers that combine their own steps with
//! [`audit::append_audit`].

pub mod assignments;
pub use assignments::DivisionChange;
pub mod audit;
pub mod audit_action;
mod blob_gc;
pub mod calendar_years;
mod entity;
pub mod error;
pub mod evidence;
pub mod feeds;
pub mod framework;
mod guard;
pub mod inbox;
pub mod jobs;
mod lights;
pub mod login_limits;
pub mod measures;
mod migration;
pub mod remap;
pub mod reports;
pub mod round_facts;
pub mod rounds;
pub mod schedule;
pub mod sessions;
pub mod shared;
pub mod supervision;
pub mod tasks;
#[cfg(feature = "test-support")]
pub mod test_support;
mod text;
pub mod transfer;
pub mod types;
pub mod units;
pub mod uploads;
pub mod users;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub use audit::{AuditEntry, AuditFilter, AuditHead, AuditRecord, BrokenEntry, append_audit};
pub use audit_action::AuditAction;
pub use calendar_years::AddedCalendarYear;
pub use error::{StoreError, StoreResult};
pub use evidence::{
    BlobInfo, BlobPresence, Evidence, EvidenceContent, EvidenceKind, EvidenceReview,
    EvidenceVersion, NewEvidence, Verdict,
};
pub use fazhi_domain::framework::Role;
pub use fazhi_domain::task::{ActorRole, Score, TaskAction, TaskActionKind, TaskStatus};
pub use fazhi_domain::unit::UnitKind;
pub use framework::{
    FrameworkInfo, HeadingRef, StoredAssignment, StoredDiagnostic, StoredFramework, StoredNode,
};
pub use inbox::{Inbox, InboxCounts};
pub use jobs::{Job, JobFilter, JobProgress, JobResult, JobSignal, JobStatus, NewJob};
pub use login_limits::{FailedLogin, FailureCount};
pub use measures::{
    NewLedgerCase, StoredCorrection, StoredLedgerCase, StoredMeasurement, TaskMeasures,
};
pub use remap::{KeptTask, RoundRemap};
pub use reports::{NewReport, ProgressReport};
pub use round_facts::RoundFacts;
pub use rounds::{
    DivisionGaps, Holding, NewRound, OpenRoundSummary, RoundInfo, SkippedUnit, SyncedTask, TaskSync,
};
pub use sessions::{ApiToken, DEFAULT_TOKEN_DAYS};
pub use supervision::Notice;
pub use tasks::{TaskDetail, TaskEvent, TaskFilter, TaskSummary};
pub use types::{
    Actor, AuditId, CorrectionId, EventId, EvidenceId, FrameworkId, JobId, LedgerCaseId, NodeId,
    NoticeId, ReportId, ReviewId, RoundId, TaskId, TokenId, UnitId, UserId, UserRole,
};
pub use units::{UnitDetail, UnitIndicator, UnitSummary};
pub use uploads::{Appended, NewUpload, Upload, UploadChunk};
pub use users::{NewUser, User, UserUpdate};

/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Opening a connection to PostgreSQL gives up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Waiting for a pooled PostgreSQL connection gives up after this, so a page answers
/// "database unavailable" within seconds when the server has gone, instead of hanging.
const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite's connections are local: waiting for one means writers queue (one at a time).
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a PostgreSQL statement may run (`statement_timeout`).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database: cheap to clone (a connection pool inside).
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    /// Bumped by every committed write transaction, so callers can cache reads and know
    /// when to drop them (see [`Store::generation`]).
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Store {
    // The URL may carry a password: show only the backend.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects and brings the schema up to date.
    ///
    /// `sqlite://PATH?mode=rwc` (creates the file) or `sqlite::memory:`; `postgres://…` or
    /// `postgresql://…`. SQLite runs in WAL mode with foreign keys on and a busy timeout.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        Self::open(url, true).await
    }

    /// Opens a database as it is, without running the migrations (a backup's snapshot,
    /// which must stay readable by the version that made it). Writes are possible but
    /// meant for nothing else than checks.
    pub async fn open_existing(url: &str) -> StoreResult<Store> {
        Self::open(url, false).await
    }

    /// Connects to the county schema `schema` of a PostgreSQL database (created and migrated
    /// if missing), the way each county of a multi-county deployment keeps its data apart
    /// (see `docs/multi-county.md`): every connection's `search_path` is that schema only,
    /// so no query can reach another county's rows. A schema name is lower-case ASCII
    /// letters, digits and `_`, starting with a letter, at most 63 characters.
    pub async fn connect_schema(url: &str, schema: &str) -> StoreResult<Store> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase())
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !schema.starts_with("pg_");
        if !valid {
            return Err(StoreError::invalid(format!("数据库模式名无效：{schema}")));
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::invalid(
                "按县分模式只用于 PostgreSQL；SQLite 每县一个数据库文件",
            ));
        }
        Self::open_in(url, true, Some(schema)).await
    }

    async fn open(url: &str, migrate: bool) -> StoreResult<Store> {
        Self::open_in(url, migrate, None).await
    }

    async fn open_in(url: &str, migrate: bool, schema: Option<&str>) -> StoreResult<Store> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::invalid(
                "数据库地址应以 sqlite: 或 postgres:// 开头",
            ));
        };
        let mut options = ConnectOptions::new(url);
        options
            .sqlx_logging(false)
            .connect_timeout(CONNECT_TIMEOUT)
            .acquire_timeout(if backend == Backend::Postgres {
                PG_ACQUIRE_TIMEOUT
            } else {
                SQLITE_ACQUIRE_TIMEOUT
            });
        if backend == Backend::Sqlite {
            // Each connection to an in-memory database is a database of its own.
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            options
                .max_connections(if in_memory { 1 } else { 8 })
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(SQLITE_BUSY_TIMEOUT)
                });
        } else {
            // A stalled statement fails after STATEMENT_TIMEOUT instead of holding its
            // connection (and the page) for ever.
            options.max_connections(10).map_sqlx_postgres_opts(|o| {
                o.options([(
                    "statement_timeout",
                    format!("{}s", STATEMENT_TIMEOUT.as_secs()),
                )])
            });
            if let Some(schema) = schema {
                options.set_schema_search_path(schema);
            }
        }
        if migrate && backend == Backend::Postgres {
            // On connections of their own: neither the wait for another instance's
            // migrations nor a long migration may run into the statement timeout.
            let mut plain = ConnectOptions::new(url);
            plain
                .sqlx_logging(false)
                .connect_timeout(CONNECT_TIMEOUT)
                .max_connections(2);
            if let Some(schema) = schema {
                plain.set_schema_search_path(schema);
            }
            let migrator = Database::connect(plain).await?;
            let migrated = shared::migrate(&migrator, backend, schema).await;
            migrator.close().await.ok();
            migrated?;
        }
        let db = Database::connect(options).await?;
        if migrate && backend != Backend::Postgres {
            shared::migrate(&db, backend, None).await?;
        }
        let generation = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        if backend == Backend::Postgres {
            shared::spawn_generation_listener(&db, std::sync::Arc::downgrade(&generation));
        }
        Ok(Store {
            db,
            backend,
            generation,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SeaORM connection, for advanced use (reports, tests). Prefer the typed API.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A number that changes after every committed write made through this `Store` (and
    /// its clones), at once, and on PostgreSQL also after every write committed by another
    /// instance on the same database, within about a second (see [`shared`]). A cache of
    /// anything read from the database is valid while it stays the same. (On SQLite one
    /// process serves a database file.)
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Opens a write transaction. Commit it with [`Tx::commit`]; dropping it rolls back.
    pub async fn begin(&self) -> StoreResult<Tx> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(Tx {
            inner: self.db.begin_with_options(options).await?,
            generation: std::sync::Arc::clone(&self.generation),
        })
    }

    /// Whether the database answers (one round trip).
    pub async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// Closes the pool (waits for connections in use).
    pub async fn close(self) -> StoreResult<()> {
        self.db.close().await?;
        Ok(())
    }
}

/// A write transaction opened by [`Store::begin`].
pub struct Tx {
    inner: DatabaseTransaction,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        use sea_orm::ConnectionTrait;
        if self.backend() == DbBackend::Postgres {
            // Delivered to every listening instance when (and only if) this commits.
            self.inner
                .execute_unprepared(&format!("NOTIFY {}", shared::GENERATION_CHANNEL))
                .await?;
        }
        self.inner.commit().await?;
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }

    pub async fn rollback(self) -> StoreResult<()> {
        self.inner.rollback().await?;
        Ok(())
    }

    /// The SeaORM transaction, for advanced use.
    pub fn connection(&self) -> &DatabaseTransaction {
        &self.inner
    }

    pub(crate) fn backend(&self) -> DbBackend {
        use sea_orm::ConnectionTrait;
        self.inner.get_database_backend()
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tx")
    }
}
