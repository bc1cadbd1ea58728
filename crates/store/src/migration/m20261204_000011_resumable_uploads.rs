//! Resumable uploads of large evidence files: an upload announced with its size, received in
//! chunks (each chunk an object in the file store, listed here in the same transaction that
//! advances the received offset), and assembled into one stored file when complete. Two new
//! tables; nothing existing changes.

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
                    .table(ResumableUpload::Table)
                    .col(string_len(ResumableUpload::Token, 64).primary_key())
                    .col(big_integer(ResumableUpload::TaskId))
                    .col(big_integer_null(ResumableUpload::EvidenceId))
                    .col(big_integer(ResumableUpload::UserId))
                    .col(string(ResumableUpload::FileName))
                    .col(big_integer(ResumableUpload::Size))
                    .col(big_integer(ResumableUpload::Received))
                    .col(string_null(ResumableUpload::Title))
                    .col(string_null(ResumableUpload::DocNumber))
                    .col(date_null(ResumableUpload::DocDate))
                    .col(timestamp_with_time_zone_null(
                        ResumableUpload::FinishingSince,
                    ))
                    .col(timestamp_with_time_zone_null(ResumableUpload::DoneAt))
                    .col(timestamp_with_time_zone(ResumableUpload::CreatedAt))
                    .col(timestamp_with_time_zone(ResumableUpload::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_resumable_upload_user",
                ResumableUpload::Table,
                vec![ResumableUpload::UserId],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResumableUploadChunk::Table)
                    .col(big_pk_auto(ResumableUploadChunk::Id))
                    .col(string_len(ResumableUploadChunk::Token, 64))
                    .col(big_integer(ResumableUploadChunk::StartsAt))
                    .col(big_integer(ResumableUploadChunk::Len))
                    .col(string(ResumableUploadChunk::ObjectKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_resumable_upload_chunk_offset",
                ResumableUploadChunk::Table,
                vec![ResumableUploadChunk::Token, ResumableUploadChunk::StartsAt],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ResumableUploadChunk::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ResumableUpload::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ResumableUpload {
    Table,
    Token,
    TaskId,
    EvidenceId,
    UserId,
    FileName,
    Size,
    Received,
    Title,
    DocNumber,
    DocDate,
    FinishingSince,
    DoneAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ResumableUploadChunk {
    Table,
    Id,
    Token,
    StartsAt,
    Len,
    ObjectKey,
}
