//! The tamper-evident audit log (a SHA-256 hash chain; see `crate::audit`).
//!
//! No foreign keys: the log must outlive and stay independent of the rows it describes.
//! `before_json`/`after_json` are TEXT, not JSON/JSONB, so the bytes that were hashed are
//! the bytes that are stored (PostgreSQL would normalise JSONB).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ActorUserId))
                    .col(text(AuditLog::ActorName))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::Entity, 64))
                    .col(text_null(AuditLog::EntityId))
                    .col(text_null(AuditLog::BeforeJson))
                    .col(text_null(AuditLog::AfterJson))
                    .col(string_len(AuditLog::PrevHash, 64))
                    .col(string_len(AuditLog::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_audit_log_entity",
                AuditLog::Table,
                vec![AuditLog::Entity, AuditLog::EntityId],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_audit_log_actor",
                AuditLog::Table,
                vec![AuditLog::ActorUserId],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorUserId,
    ActorName,
    Action,
    Entity,
    EntityId,
    BeforeJson,
    AfterJson,
    PrevHash,
    Hash,
}
