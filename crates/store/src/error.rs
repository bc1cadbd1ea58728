//! The storage layer's error type. Each variant maps to one HTTP class: [`StoreError::NotFound`]
//! → 404, [`StoreError::Conflict`] → 409 (or a form error on `field`), [`StoreError::Invalid`]
//! → 400/422 with its Chinese message shown to the user, the rest → 500.

use sea_orm::{DbErr, SqlErr};

/// Result alias of this crate.
pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist. `what` is a Chinese noun phrase such as `单位 #3`.
    #[error("未找到{what}")]
    NotFound { what: String },
    /// A unique value is already taken. `field` names the column (`username`, `name`,
    /// `alias`, `unit`, …) so a form can mark it; `value` is the offending value.
    #[error("{}“{value}”已存在", field_label(field))]
    Conflict { field: &'static str, value: String },
    /// Input that breaks a rule; the message is Chinese and meant for the user.
    #[error("{0}")]
    Invalid(String),
    /// A stored value that this code cannot read (e.g. an unknown enum string): a bug or
    /// a hand-edited database, never the user's fault.
    #[error("数据库中的数据无法识别：{0}")]
    Corrupt(String),
    #[error("数据库错误：{0}")]
    Db(#[from] DbErr),
}

/// Chinese name of a [`StoreError::Conflict`] field, for messages.
pub fn field_label(field: &str) -> &'static str {
    match field {
        "name" => "单位名称",
        "alias" => "别名",
        "member" => "成员单位",
        "unit" => "责任单位",
        "username" => "用户名",
        "token" => "令牌",
        "is_current" => "当前版本",
        "round_active" => "当前轮次",
        _ => "",
    }
}

impl StoreError {
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        StoreError::Invalid(message.into())
    }

    /// Whether the database could not be reached or gave up (server gone, connection
    /// lost, no pooled connection within the wait, statement timeout, server shutting
    /// down): the request may succeed later, and is answered "service unavailable".
    pub fn is_unavailable(&self) -> bool {
        use sea_orm::sqlx::Error as X;
        let StoreError::Db(e) = self else {
            return false;
        };
        let runtime = match e {
            DbErr::ConnectionAcquire(_) => return true,
            DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
            _ => return false,
        };
        let sea_orm::RuntimeErr::SqlxError(x) = runtime else {
            return matches!(e, DbErr::Conn(_));
        };
        match &**x {
            X::Io(_) | X::PoolTimedOut | X::PoolClosed | X::WorkerCrashed | X::Protocol(_) => true,
            X::Tls(_) => true,
            // 57014 query_canceled (statement_timeout), 57P0x shutdown, 08xxx connection,
            // 3D000 the database does not exist (dropped under us).
            X::Database(d) => d.code().is_some_and(|c| {
                c == "57014" || c.starts_with("57P") || c.starts_with("08") || c == "3D000"
            }),
            _ => matches!(e, DbErr::Conn(_)),
        }
    }
}

/// Unique constraints of the schema: (index name, SQLite message fragment, field name
/// reported in [`StoreError::Conflict`]). PostgreSQL names the index in its message (the
/// migrations name every unique index `ux_…`); SQLite names `<table>.<column>`.
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    ("ux_unit_name", "unit.name", "name"),
    ("ux_unit_alias_alias", "unit_alias.alias", "alias"),
    ("group_member_pkey", "group_member.group_unit_id", "member"),
    ("ux_assignment_node_unit", "assignment.node_id", "unit"),
    ("ux_app_user_username", "app_user.username", "username"),
    (
        "ux_api_token_token_sha256",
        "api_token.token_sha256",
        "token",
    ),
    ("ux_framework_current", "framework.is_current", "is_current"),
    (
        "ux_campaign_round_active",
        "campaign_round.is_active",
        "round_active",
    ),
];

/// Turns a unique violation into [`StoreError::Conflict`] with the field it concerns;
/// every other database error passes through as [`StoreError::Db`].
pub(crate) fn map_unique(err: DbErr, value: &str) -> StoreError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            let field = UNIQUE_FIELDS
                .iter()
                .find(|(index, fragment, _)| message.contains(index) || message.contains(fragment))
                .map(|(_, _, field)| *field)
                .unwrap_or("value");
            StoreError::Conflict {
                field,
                value: value.to_string(),
            }
        }
        _ => StoreError::Db(err),
    }
}

/// `map_err` adapter: `.map_err(unique(&name))?`.
pub(crate) fn unique(value: &str) -> impl FnOnce(DbErr) -> StoreError + '_ {
    move |err| map_unique(err, value)
}
