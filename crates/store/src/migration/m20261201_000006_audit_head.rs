//! The audit log's head and its append-only guard.
//!
//! A hash chain shows a changed or removed row in the middle, but not the newest rows
//! removed: what is left is still a valid chain. `audit_head` (one row) keeps the number of
//! entries and the last hash, updated in the transaction of every append, so
//! `Store::verify_audit` sees a missing tail. Triggers refuse UPDATE and DELETE on
//! `audit_log` (and TRUNCATE on PostgreSQL), and a head that goes backwards or disappears.
//! Someone who owns the database file can still drop the triggers: the head printed by
//! `fazhi audit verify` and kept by the operator is the check against that.
//!
//! Existing databases start with the head of the rows they hold.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const SQLITE_UP: &[&str] = &[
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head \
     WHEN NEW.entry_count < OLD.entry_count OR NEW.last_id < OLD.last_id \
     BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head \
     BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE FUNCTION fazhi_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
     FOR EACH ROW EXECUTE FUNCTION fazhi_audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
     FOR EACH STATEMENT EXECUTE FUNCTION fazhi_audit_log_append_only()",
    "CREATE FUNCTION fazhi_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP <> 'UPDATE' OR NEW.entry_count < OLD.entry_count OR NEW.last_id < OLD.last_id THEN \
         RAISE EXCEPTION 'audit_head only moves forward'; \
       END IF; \
       RETURN NEW; \
     END $$",
    "CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head \
     FOR EACH ROW EXECUTE FUNCTION fazhi_audit_head_forward()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head \
     FOR EACH STATEMENT EXECUTE FUNCTION fazhi_audit_head_forward()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(
                        ColumnDef::new(AuditHead::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditHead::EntryCount)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditHead::LastId).big_integer().not_null())
                    .col(
                        ColumnDef::new(AuditHead::LastHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(&format!(
            "INSERT INTO audit_head (id, entry_count, last_id, last_hash) \
             SELECT 1, COUNT(*), COALESCE(MAX(id), 0), \
             COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '{GENESIS}') \
             FROM audit_log"
        ))
        .await?;
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        for sql in statements {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP TRIGGER audit_log_append_only ON audit_log",
                "DROP TRIGGER audit_log_no_truncate ON audit_log",
                "DROP TABLE audit_head",
                "DROP FUNCTION fazhi_audit_log_append_only()",
                "DROP FUNCTION fazhi_audit_head_forward()",
            ],
            _ => &[
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
                "DROP TABLE audit_head",
            ],
        };
        for sql in statements {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    EntryCount,
    LastId,
    LastHash,
}
