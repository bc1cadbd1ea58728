//! The tamper-evident audit log.
//!
//! Each entry stores `prev_hash` (the previous entry's `hash`; 64 zeros for the first)
//! and `hash` = SHA-256 (lower-case hex) of the canonical form of its fields:
//!
//! ```text
//! ["fazhi-audit-v1", at, actor_user_id, actor_name, action, entity, entity_id,
//!  before_json, after_json, prev_hash]
//! ```
//!
//! serialised as a compact JSON array (`at` as RFC 3339 UTC with microseconds, absent
//! values as `null`, the JSON columns as the exact stored strings). Changing, deleting or
//! reordering a row breaks the chain at that row, which [`Store::verify_audit`] reports.
//! Removing the newest rows leaves a valid but shorter chain: the head (`audit_head`: the
//! number of entries and the newest hash), moved in the transaction of every append, shows
//! it. Triggers refuse UPDATE and DELETE on the log and a head that goes backwards; an owner
//! of the database can drop them, so operators keep the head that `fazhi audit verify`
//! prints ([`Store::audit_head`]) and compare it with the next run.
//!
//! Appends are serialised so two writers cannot fork the chain: they happen inside the
//! caller's write transaction, which on SQLite already excludes other writers
//! (`BEGIN IMMEDIATE`), and on PostgreSQL first takes a transaction-scoped advisory lock.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    AccessMode, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    IsolationLevel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionOptions,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit_action::AuditAction;
use crate::entity::{audit_head, audit_log};
use crate::types::{Actor, AuditId, UserId, now};
use crate::{Store, StoreResult, Tx};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Key of the PostgreSQL advisory lock that serialises appends ("fazhiaud").
const PG_AUDIT_LOCK_KEY: i64 = 0x6661_7a68_6961_7564;

/// A change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub actor: Actor,
    /// Dotted verb, e.g. `unit.update`, `assignment.set_lead`, `user.login`.
    pub action: String,
    /// Kind of record changed: `framework`, `unit`, `indicator`, `user`, `api_token`.
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    pub fn new(
        actor: &Actor,
        action: impl Into<String>,
        entity: impl Into<String>,
        entity_id: Option<String>,
    ) -> Self {
        AuditEntry {
            actor: actor.clone(),
            action: action.into(),
            entity: entity.into(),
            entity_id,
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, value: impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// The state before the change, as stored (JSON text).
    pub before_json: Option<String>,
    /// The state after the change, as stored (JSON text).
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<audit_log::Model> for AuditRecord {
    fn from(m: audit_log::Model) -> Self {
        AuditRecord {
            id: AuditId(m.id),
            at: m.at,
            actor_user_id: m.actor_user_id.map(UserId),
            actor_name: m.actor_name,
            action: m.action,
            entity: m.entity,
            entity_id: m.entity_id,
            before_json: m.before_json,
            after_json: m.after_json,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

/// Which entries [`Store::audit_entries`] returns; every set field must match. Newest
/// first; `limit` defaults to 100.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<UserId>,
    pub action: Option<String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// The newest end of the chain as recorded with every append: keep it (printed by `fazhi
/// audit verify`) to notice later that rows were removed behind the triggers' back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// Number of entries.
    pub entry_count: u64,
    /// Id of the newest entry (0 when there is none).
    pub last_id: AuditId,
    /// Hash of the newest entry ([`GENESIS_HASH`] when there is none).
    pub last_hash: String,
}

impl From<audit_head::Model> for AuditHead {
    fn from(m: audit_head::Model) -> Self {
        AuditHead {
            entry_count: u64::try_from(m.entry_count).unwrap_or(0),
            last_id: AuditId(m.last_id),
            last_hash: m.last_hash,
        }
    }
}

/// The one row of `audit_head`.
const HEAD_ID: i32 = 1;

/// The first entry at which the chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("审计日志第 {id} 条校验失败：{reason}")]
pub struct BrokenEntry {
    pub id: AuditId,
    pub reason: String,
}

#[expect(clippy::too_many_arguments, reason = "one argument per hashed field")]
fn entry_hash(
    at: &DateTime<Utc>,
    actor_user_id: Option<i64>,
    actor_name: &str,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    before_json: Option<&str>,
    after_json: Option<&str>,
    prev_hash: &str,
) -> String {
    let canonical = serde_json::json!([
        "fazhi-audit-v1",
        at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor_user_id,
        actor_name,
        action,
        entity,
        entity_id,
        before_json,
        after_json,
        prev_hash,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn model_hash(m: &audit_log::Model) -> String {
    entry_hash(
        &m.at,
        m.actor_user_id,
        &m.actor_name,
        &m.action,
        &m.entity,
        m.entity_id.as_deref(),
        m.before_json.as_deref(),
        m.after_json.as_deref(),
        &m.prev_hash,
    )
}

/// Appends `entry` to the chain inside `tx`; it becomes visible when `tx` commits.
pub async fn append_audit(tx: &Tx, entry: AuditEntry) -> StoreResult<AuditId> {
    let conn = tx.connection();
    if tx.backend() == DbBackend::Postgres {
        // Held until the transaction ends: the next writer reads our row as the last one.
        conn.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock({PG_AUDIT_LOCK_KEY})"
        ))
        .await?;
    }
    let prev_hash = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .one(conn)
        .await?
        .map(|m| m.hash)
        .unwrap_or_else(|| GENESIS_HASH.to_string());
    let at = now();
    let before_json = entry.before.as_ref().map(|v| v.to_string());
    let after_json = entry.after.as_ref().map(|v| v.to_string());
    let actor_user_id = entry.actor.user_id.map(|u| u.0);
    let hash = entry_hash(
        &at,
        actor_user_id,
        &entry.actor.name,
        &entry.action,
        &entry.entity,
        entry.entity_id.as_deref(),
        before_json.as_deref(),
        after_json.as_deref(),
        &prev_hash,
    );
    let row = audit_log::ActiveModel {
        at: Set(at),
        actor_user_id: Set(actor_user_id),
        actor_name: Set(entry.actor.name),
        action: Set(entry.action),
        entity: Set(entry.entity),
        entity_id: Set(entry.entity_id),
        before_json: Set(before_json),
        after_json: Set(after_json),
        prev_hash: Set(prev_hash),
        hash: Set(hash),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let moved = audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::EntryCount,
            Expr::col(audit_head::Column::EntryCount).add(1),
        )
        .col_expr(audit_head::Column::LastId, Expr::value(row.id))
        .col_expr(audit_head::Column::LastHash, Expr::value(row.hash.clone()))
        .filter(audit_head::Column::Id.eq(HEAD_ID))
        .exec(conn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(crate::StoreError::Corrupt(
            "审计日志的记录头（audit_head）缺失".into(),
        ));
    }
    Ok(AuditId(row.id))
}

fn filtered(filter: &AuditFilter) -> sea_orm::Select<audit_log::Entity> {
    let mut query = audit_log::Entity::find();
    if let Some(entity) = &filter.entity {
        query = query.filter(audit_log::Column::Entity.eq(entity.as_str()));
    }
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(audit_log::Column::EntityId.eq(entity_id.as_str()));
    }
    if let Some(actor) = filter.actor_user_id {
        query = query.filter(audit_log::Column::ActorUserId.eq(actor.0));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    query
}

/// Rows verified per query by [`Store::verify_audit`].
const VERIFY_BATCH: u64 = 500;

impl Store {
    /// Records that `actor` generated an export (who exported what, when): `action` is an
    /// `export.*` action, `entity` what was exported (`round`, `framework`) and `details`
    /// its scope (unit, filters, as-of date, rows).
    pub async fn record_export(
        &self,
        action: AuditAction,
        entity: &str,
        entity_id: Option<String>,
        details: impl Serialize,
        actor: &Actor,
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, action, entity, entity_id).after(details),
        )
        .await?;
        tx.commit().await
    }

    /// Entries matching `filter`, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let rows = filtered(filter)
            .order_by_desc(audit_log::Column::Id)
            .limit(filter.limit.unwrap_or(100))
            .offset(filter.offset.unwrap_or(0))
            .all(self.connection())
            .await?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }

    /// Number of entries matching `filter` (ignoring `limit`/`offset`).
    pub async fn audit_count(&self, filter: &AuditFilter) -> StoreResult<u64> {
        Ok(filtered(filter).count(self.connection()).await?)
    }

    /// The head recorded with the last append.
    pub async fn audit_head(&self) -> StoreResult<AuditHead> {
        head_of(self.connection()).await
    }

    /// Recomputes the whole chain in id order and compares its end with the recorded
    /// [head](Store::audit_head), in one consistent snapshot. `Ok(Ok(n))`: all `n` entries
    /// verify; `Ok(Err(broken))`: the first entry that does not, or the missing tail.
    pub async fn verify_audit(&self) -> StoreResult<Result<u64, BrokenEntry>> {
        let postgres = self.backend() == crate::Backend::Postgres;
        // A snapshot, so appends made meanwhile neither break the chain nor the head.
        let tx = self
            .connection()
            .begin_with_options(TransactionOptions {
                isolation_level: postgres.then_some(IsolationLevel::RepeatableRead),
                access_mode: postgres.then_some(AccessMode::ReadOnly),
                sqlite_transaction_mode: None,
            })
            .await?;
        let result = verify_in(&tx).await;
        tx.rollback().await?;
        result
    }
}

async fn head_of(conn: &impl ConnectionTrait) -> StoreResult<AuditHead> {
    audit_head::Entity::find_by_id(HEAD_ID)
        .one(conn)
        .await?
        .map(AuditHead::from)
        .ok_or_else(|| crate::StoreError::Corrupt("审计日志的记录头（audit_head）缺失".into()))
}

async fn verify_in(conn: &impl ConnectionTrait) -> StoreResult<Result<u64, BrokenEntry>> {
    let head = head_of(conn).await?;
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut last_id = i64::MIN;
    let mut checked = 0u64;
    loop {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Id.gt(last_id))
            .order_by_asc(audit_log::Column::Id)
            .limit(VERIFY_BATCH)
            .all(conn)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let broken = |reason: &str| BrokenEntry {
                id: AuditId(row.id),
                reason: reason.to_string(),
            };
            if row.prev_hash != expected_prev {
                return Ok(Err(broken(if checked == 0 {
                    "第一条记录之前的记录被删除（前序哈希不是初始值）"
                } else {
                    "与上一条记录接不上（上一条记录被删除、插入或改动）"
                })));
            }
            if model_hash(&row) != row.hash {
                return Ok(Err(broken("记录内容与其哈希不一致（记录被改动）")));
            }
            if checked == head.entry_count {
                return Ok(Err(broken(&format!(
                    "记录头只记载了 {} 条记录，自此条起的记录不是经系统写入的（末尾被追加）",
                    head.entry_count
                ))));
            }
            expected_prev = row.hash;
            last_id = row.id;
            checked += 1;
        }
    }
    if checked < head.entry_count {
        return Ok(Err(BrokenEntry {
            id: head.last_id,
            reason: format!(
                "末尾缺少 {} 条记录：记录头记载共 {} 条、最后一条为第 {} 条，现只有 {checked} 条（最新的记录被删除）",
                head.entry_count - checked,
                head.entry_count,
                head.last_id
            ),
        }));
    }
    if expected_prev != head.last_hash || (checked > 0 && AuditId(last_id) != head.last_id) {
        return Ok(Err(BrokenEntry {
            id: AuditId(last_id),
            reason: "最后一条记录与记录头不一致（末尾的记录被替换）".into(),
        }));
    }
    Ok(Ok(checked))
}
