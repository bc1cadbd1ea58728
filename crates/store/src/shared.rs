//! Several `fazhi serve` instances on one PostgreSQL database behave as one server:
//!
//! - **Migrations** run under a PostgreSQL advisory lock, so instances started together on
//!   an empty database do not race in `CREATE TABLE` (one waits, then finds nothing to do).
//! - **Read caches** stay correct: every committed write transaction sends
//!   `NOTIFY fazhi_store_generation` (delivered only on commit), and each instance listens
//!   on that channel and moves its [`crate::Store::generation`]; the instance that wrote has
//!   already moved it at commit. While the listening connection is down, the generation is
//!   moved every [`FALLBACK_TICK`] instead, so no cache outlives a missed notification by
//!   more than that.
//! - **Periodic housekeeping** runs on one instance at a time ([`crate::Store::exclusively`],
//!   a transaction-level advisory lock taken with `pg_try_advisory_xact_lock`).
//!
//! On SQLite there is one process per database file: nothing of this is needed, and
//! [`crate::Store::exclusively`] simply runs its work.

use std::future::Future;
use std::sync::Weak;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use crate::error::StoreResult;
use crate::{Backend, Store};

/// The channel that carries "something was written".
pub(crate) const GENERATION_CHANNEL: &str = "fazhi_store_generation";

/// How often the generation moves while notifications cannot be received.
pub const FALLBACK_TICK: Duration = Duration::from_secs(1);

/// Advisory lock keys (any 64-bit numbers that no other application on the database uses).
const MIGRATION_LOCK: i64 = 0x6661_7A68_6901; // "fazhi" 1
/// Work that one instance at a time does ([`Store::exclusively`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusive {
    /// The periodic clean-up (`fazhi_web::sweep`).
    Housekeeping,
}

impl Exclusive {
    fn key(self) -> i64 {
        match self {
            Exclusive::Housekeeping => 0x6661_7A68_6902,
        }
    }
}

fn sqlx_err(e: sea_orm::sqlx::Error) -> crate::StoreError {
    crate::StoreError::Db(sea_orm::DbErr::Custom(format!("数据库连接出错：{e}")))
}

/// Runs the migrations; on PostgreSQL while holding the migration lock on one connection
/// of the pool (the migrator uses the others), after creating the county `schema` the
/// pool's search path names, if any. The caller gives a pool without a statement timeout on
/// PostgreSQL.
pub(crate) async fn migrate(
    db: &DatabaseConnection,
    backend: Backend,
    schema: Option<&str>,
) -> StoreResult<()> {
    if backend != Backend::Postgres {
        crate::migration::Migrator::up(db, None).await?;
        return Ok(());
    }
    let pool = db.get_postgres_connection_pool();
    let mut lock = pool.acquire().await.map_err(sqlx_err)?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *lock)
        .await
        .map_err(sqlx_err)?;
    let result = async {
        if let Some(schema) = schema {
            // The name is checked by `Store::connect_schema` (letters, digits, `_`).
            db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await?;
        }
        crate::migration::Migrator::up(db, None).await
    }
    .await;
    // Released with the session anyway if this fails (the connection is then dropped).
    let unlocked = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *lock)
        .await;
    if unlocked.is_err() {
        lock.detach();
    }
    result?;
    Ok(())
}

/// Listens for other instances' writes and moves `generation` on each. Ends when the store
/// is gone (the generation's last strong reference dropped).
pub(crate) fn spawn_generation_listener(db: &DatabaseConnection, generation: Weak<AtomicU64>) {
    let pool = db.get_postgres_connection_pool().clone();
    tokio::spawn(async move {
        let bump = |generation: &Weak<AtomicU64>| match generation.upgrade() {
            Some(g) => {
                g.fetch_add(1, Ordering::AcqRel);
                true
            }
            None => false,
        };
        'connect: loop {
            if pool.is_closed() || generation.strong_count() == 0 {
                return;
            }
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::debug!("数据库通知连接失败，{FALLBACK_TICK:?} 后重试：{e}");
                    if !bump(&generation) {
                        return;
                    }
                    tokio::time::sleep(FALLBACK_TICK).await;
                    continue 'connect;
                }
            };
            if let Err(e) = listener.listen(GENERATION_CHANNEL).await {
                tracing::debug!("无法订阅数据库通知：{e}");
                if !bump(&generation) {
                    return;
                }
                tokio::time::sleep(FALLBACK_TICK).await;
                continue 'connect;
            }
            // Whatever was written while not listening.
            if !bump(&generation) {
                return;
            }
            loop {
                match tokio::time::timeout(FALLBACK_TICK, listener.try_recv()).await {
                    // Check now and then that the store is still there.
                    Err(_) if generation.strong_count() == 0 => return,
                    Err(_) => {}
                    Ok(Ok(Some(_))) => {
                        if !bump(&generation) {
                            return;
                        }
                    }
                    // The connection was lost (and is re-established on the next call):
                    // notifications may have been missed meanwhile.
                    Ok(Ok(None)) => {
                        if !bump(&generation) {
                            return;
                        }
                    }
                    Ok(Err(e)) => {
                        tracing::debug!("数据库通知中断：{e}");
                        if !bump(&generation) {
                            return;
                        }
                        tokio::time::sleep(FALLBACK_TICK).await;
                        continue 'connect;
                    }
                }
            }
        }
    });
}

impl Store {
    /// Runs `work` unless another instance is running the same kind of work right now;
    /// `None` when it was skipped. On PostgreSQL the lock is a transaction-level advisory
    /// lock held by an otherwise idle transaction while `work` runs (on the pool's other
    /// connections); it goes with that transaction, also when this process dies.
    pub async fn exclusively<T, F, Fut>(&self, what: Exclusive, work: F) -> StoreResult<Option<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if self.backend != Backend::Postgres {
            return Ok(Some(work().await));
        }
        let tx = self.db.begin().await?;
        let row = tx
            .query_one_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1) AS got",
                [what.key().into()],
            ))
            .await?;
        let got = row
            .map(|r| r.try_get::<bool>("", "got"))
            .transpose()?
            .unwrap_or(false);
        if !got {
            tx.rollback().await?;
            return Ok(None);
        }
        let out = work().await;
        tx.rollback().await?;
        Ok(Some(out))
    }
}
