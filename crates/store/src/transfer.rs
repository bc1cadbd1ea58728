//! Moving a county's database to another one (`fazhi migrate-data`): every row of every
//! table, ids kept, into an empty database of the same schema (typically from the county's
//! SQLite file to the PostgreSQL database of a scaled deployment), then checked: the row
//! count of each table and the audit chain in the target.
//!
//! The source should not be written meanwhile (stop the server first): rows are read table
//! by table.

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    PrimaryKeyToColumn, QueryOrder, Statement,
};
use sea_orm::{Iterable, sea_query::Expr};
use serde::Serialize;

use crate::entity::*;
use crate::error::{StoreError, StoreResult};
use crate::login_limits::login_failure;
use crate::{Backend, Store};

/// Rows read and written per batch.
const BATCH: u64 = 500;

/// One table moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCopy {
    pub table: String,
    pub source_rows: u64,
    pub target_rows: u64,
}

/// What [`Store::copy_all_into`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub tables: Vec<TableCopy>,
    /// Entries of the target's audit chain, verified.
    pub audit_entries: u64,
}

impl Transfer {
    /// Tables whose counts differ (empty when the copy is complete).
    pub fn mismatches(&self) -> Vec<&TableCopy> {
        self.tables
            .iter()
            .filter(|t| t.source_rows != t.target_rows)
            .collect()
    }
}

async fn copy_table<E>(src: &Store, dst: &Store, out: &mut Transfer) -> StoreResult<()>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let table = E::default().table_name().to_string();
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(key.into_column());
    }
    let mut pages = query.paginate(src.connection(), BATCH);
    let mut copied = 0u64;
    while let Some(rows) = pages.fetch_and_next().await? {
        if rows.is_empty() {
            break;
        }
        copied += rows.len() as u64;
        E::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
            .exec_without_returning(dst.connection())
            .await?;
    }
    let target_rows = E::find().count(dst.connection()).await?;
    out.tables.push(TableCopy {
        table,
        source_rows: copied,
        target_rows,
    });
    Ok(())
}

/// Tables that must be empty in the target (all but the audit head, which the migrations
/// create with one row, and the migrations' own table).
async fn holds_data(store: &Store) -> StoreResult<Option<&'static str>> {
    let conn = store.connection();
    macro_rules! check {
        ($($m:ident),* $(,)?) => {
            $(
                if $m::Entity::find().count(conn).await? > 0 {
                    return Ok(Some(stringify!($m)));
                }
            )*
        };
    }
    check!(
        framework,
        unit,
        app_user,
        audit_log,
        campaign_round,
        task,
        blob,
        evidence,
        session,
        calendar_year,
        job
    );
    Ok(None)
}

impl Store {
    /// Writes a consistent copy of this SQLite database to the file `path` (which must not
    /// exist) while others go on writing: `VACUUM INTO`, one read transaction. PostgreSQL is
    /// backed up with `pg_dump` instead ([`StoreError::Invalid`] here).
    pub async fn snapshot_into(&self, path: &std::path::Path) -> StoreResult<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::invalid("PostgreSQL 数据库请用 pg_dump 备份"));
        }
        let quoted = path.display().to_string().replace('\'', "''");
        self.connection()
            .execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
            .await?;
        Ok(())
    }

    /// Copies every row of this database into `target`, which must hold none (else
    /// [`StoreError::Invalid`], nothing written). Not one transaction: after a failure
    /// part-way, drop and recreate the target database before trying again. Ids are kept; PostgreSQL's id sequences are
    /// moved past the copied ids. Returns the counts per table and the verified length of
    /// the target's audit chain; a broken chain in the target is [`StoreError::Corrupt`].
    pub async fn copy_all_into(&self, target: &Store) -> StoreResult<Transfer> {
        if let Some(table) = holds_data(target).await? {
            return Err(StoreError::invalid(format!(
                "目标数据库不是空的（表 {table} 中已有数据），不会覆盖；请换一个新建的空数据库"
            )));
        }
        let mut out = Transfer::default();
        // Parents before children (the order the migrations create them in).
        macro_rules! copy {
            ($($m:path),* $(,)?) => {
                $( copy_table::<$m>(self, target, &mut out).await?; )*
            };
        }
        copy!(
            framework::Entity,
            framework_node::Entity,
            unit::Entity,
            unit_alias::Entity,
            group_member::Entity,
            assignment::Entity,
            import_diagnostic::Entity,
            app_user::Entity,
            session::Entity,
            api_token::Entity,
            audit_log::Entity,
            campaign_round::Entity,
            task::Entity,
            task_event::Entity,
            progress_report::Entity,
            blob::Entity,
            evidence::Entity,
            evidence_version::Entity,
            evidence_review::Entity,
            rule_correction::Entity,
            measurement::Entity,
            ledger_case::Entity,
            supervision_notice::Entity,
            calendar_year::Entity,
            calendar_feed::Entity,
            job::Entity,
            login_failure::Entity,
        );
        // Uploads in progress (断点续传) are not moved: their chunks are working files of
        // the old store; a liaison sends such a file again after the move.
        // The head the migrations made (empty chain) moves forward to the source's.
        let head = self.audit_head().await?;
        audit_head::Entity::update_many()
            .col_expr(
                audit_head::Column::EntryCount,
                Expr::value(i64::try_from(head.entry_count).unwrap_or(i64::MAX)),
            )
            .col_expr(audit_head::Column::LastId, Expr::value(head.last_id.0))
            .col_expr(audit_head::Column::LastHash, Expr::value(head.last_hash))
            .exec(target.connection())
            .await?;
        if target.backend == Backend::Postgres {
            reset_sequences(target).await?;
        }
        match target.verify_audit().await? {
            Ok(n) => out.audit_entries = n,
            Err(broken) => {
                return Err(StoreError::Corrupt(format!(
                    "迁移后的审计日志校验失败：{broken}"
                )));
            }
        }
        Ok(out)
    }
}

/// After rows were inserted with their ids, each `id` sequence continues after the largest.
async fn reset_sequences(target: &Store) -> StoreResult<()> {
    let conn = target.connection();
    let rows = conn
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT table_name::text AS t FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'id' \
             AND (column_default LIKE 'nextval%' OR is_identity = 'YES')"
                .to_string(),
        ))
        .await?;
    for row in rows {
        let table: String = row.try_get("", "t")?;
        conn.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), \
             COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
        ))
        .await?;
    }
    Ok(())
}
