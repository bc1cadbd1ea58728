//! Background jobs (后台任务): long work such as building a 佐证材料汇编 runs as a job that
//! survives a page reload, reports its progress and can be cancelled; the finished result
//! (a file) is kept until `expires_at`.

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
                    .table(Job::Table)
                    .col(big_pk_auto(Job::Id))
                    .col(string_len(Job::Kind, 32))
                    .col(text(Job::ParamsJson))
                    .col(string_len(Job::Status, 16))
                    .col(big_integer(Job::FilesDone).default(0))
                    .col(big_integer(Job::FilesTotal).default(0))
                    .col(big_integer(Job::BytesDone).default(0))
                    .col(big_integer(Job::BytesTotal).default(0))
                    .col(boolean(Job::CancelRequested).default(false))
                    .col(text_null(Job::Message))
                    .col(text_null(Job::ResultPath))
                    .col(big_integer_null(Job::ResultSize))
                    .col(string_len_null(Job::ResultSha256, 64))
                    .col(text_null(Job::ResultJson))
                    .col(big_integer_null(Job::CreatedByUserId))
                    .col(text(Job::CreatedByName))
                    .col(big_integer_null(Job::UnitId))
                    .col(timestamp_with_time_zone(Job::CreatedAt))
                    .col(timestamp_with_time_zone_null(Job::StartedAt))
                    .col(timestamp_with_time_zone_null(Job::FinishedAt))
                    .col(timestamp_with_time_zone_null(Job::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_job_status",
                Job::Table,
                vec![Job::Kind, Job::Status, Job::Id],
                false,
            ))
            .await?;
        manager
            .create_index(index("ix_job_unit", Job::Table, vec![Job::UnitId], false))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Job::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Job {
    Table,
    Id,
    Kind,
    ParamsJson,
    Status,
    FilesDone,
    FilesTotal,
    BytesDone,
    BytesTotal,
    CancelRequested,
    Message,
    ResultPath,
    ResultSize,
    ResultSha256,
    ResultJson,
    CreatedByUserId,
    CreatedByName,
    UnitId,
    CreatedAt,
    StartedAt,
    FinishedAt,
    ExpiresAt,
}
