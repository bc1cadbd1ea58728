//! The work itself: campaign rounds, tasks and their lifecycle events, progress reports,
//! file metadata (content-addressed blobs), evidence with versions, and evidence reviews.
//!
//! Dates without a time (due dates, document dates) are `DATE`; scores are integer tenths
//! of a point so that both backends hold them exactly. CHECK constraints repeat the
//! ranges the API validates.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::index;
use super::m20261128_000001_initial::{Framework, Unit};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `FOREIGN KEY (from_col) REFERENCES to_table (to_col)`.
fn fk(
    name: &str,
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CampaignRound::Table)
                    .col(big_pk_auto(CampaignRound::Id))
                    .col(text(CampaignRound::Name))
                    .col(date(CampaignRound::StartsOn))
                    .col(date(CampaignRound::EndsOn))
                    .col(big_integer(CampaignRound::FrameworkId))
                    .col(timestamp_with_time_zone(CampaignRound::CreatedAt))
                    .col(big_integer_null(CampaignRound::CreatedByUserId))
                    .col(text(CampaignRound::CreatedByName))
                    .col(big_integer_null(CampaignRound::PreviousRoundId))
                    .col(boolean(CampaignRound::IsActive).default(false))
                    .foreign_key(&mut fk(
                        "fk_campaign_round_framework",
                        CampaignRound::Table,
                        CampaignRound::FrameworkId,
                        Framework::Table,
                        Framework::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaign_round_previous",
                        CampaignRound::Table,
                        CampaignRound::PreviousRoundId,
                        CampaignRound::Table,
                        CampaignRound::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .check((
                        "ck_campaign_round_dates",
                        Expr::col(CampaignRound::StartsOn).lte(Expr::col(CampaignRound::EndsOn)),
                    ))
                    .to_owned(),
            )
            .await?;
        // At most one active round (as for the current framework version).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_campaign_round_active ON campaign_round (is_active) WHERE is_active",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Task::Table)
                    .col(big_pk_auto(Task::Id))
                    .col(big_integer(Task::RoundId))
                    .col(big_integer(Task::NodeId))
                    .col(big_integer(Task::UnitId))
                    .col(string_len(Task::Role, 16))
                    .col(big_integer_null(Task::ViaGroupUnitId))
                    .col(string_len(Task::Status, 16))
                    .col(date_null(Task::DueOn))
                    .col(integer_null(Task::SelfScoreTenths))
                    .col(integer_null(Task::ReviewScoreTenths))
                    .col(boolean(Task::WasLate).default(false))
                    .col(timestamp_with_time_zone(Task::CreatedAt))
                    .col(timestamp_with_time_zone(Task::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_task_round",
                        Task::Table,
                        Task::RoundId,
                        CampaignRound::Table,
                        CampaignRound::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_task_node",
                        Task::Table,
                        Task::NodeId,
                        FrameworkNode::Table,
                        FrameworkNode::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_task_unit",
                        Task::Table,
                        Task::UnitId,
                        Unit::Table,
                        Unit::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_task_via_group",
                        Task::Table,
                        Task::ViaGroupUnitId,
                        Unit::Table,
                        Unit::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .check((
                        "ck_task_self_score",
                        Expr::col(Task::SelfScoreTenths).between(0, 1000),
                    ))
                    .check((
                        "ck_task_review_score",
                        Expr::col(Task::ReviewScoreTenths).between(0, 1000),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_task_round_node_unit",
                Task::Table,
                vec![Task::RoundId, Task::NodeId, Task::UnitId],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_task_round_status",
                Task::Table,
                vec![Task::RoundId, Task::Status],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_task_unit_status",
                Task::Table,
                vec![Task::UnitId, Task::Status],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_task_node",
                Task::Table,
                vec![Task::NodeId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TaskEvent::Table)
                    .col(big_pk_auto(TaskEvent::Id))
                    .col(big_integer(TaskEvent::TaskId))
                    .col(timestamp_with_time_zone(TaskEvent::At))
                    .col(big_integer_null(TaskEvent::ActorUserId))
                    .col(text(TaskEvent::ActorName))
                    .col(string_len(TaskEvent::Action, 16))
                    .col(string_len(TaskEvent::FromStatus, 16))
                    .col(string_len(TaskEvent::ToStatus, 16))
                    .col(text_null(TaskEvent::Note))
                    .foreign_key(&mut fk(
                        "fk_task_event_task",
                        TaskEvent::Table,
                        TaskEvent::TaskId,
                        Task::Table,
                        Task::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_task_event_task",
                TaskEvent::Table,
                vec![TaskEvent::TaskId, TaskEvent::Id],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProgressReport::Table)
                    .col(big_pk_auto(ProgressReport::Id))
                    .col(big_integer(ProgressReport::TaskId))
                    .col(timestamp_with_time_zone(ProgressReport::At))
                    .col(big_integer_null(ProgressReport::AuthorUserId))
                    .col(text(ProgressReport::AuthorName))
                    .col(text(ProgressReport::Progress))
                    .col(text(ProgressReport::Problems))
                    .col(text(ProgressReport::NextSteps))
                    .col(small_integer(ProgressReport::Percent))
                    .foreign_key(&mut fk(
                        "fk_progress_report_task",
                        ProgressReport::Table,
                        ProgressReport::TaskId,
                        Task::Table,
                        Task::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .check((
                        "ck_progress_report_percent",
                        Expr::col(ProgressReport::Percent).between(0, 100),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_progress_report_task",
                ProgressReport::Table,
                vec![ProgressReport::TaskId, ProgressReport::Id],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Blob::Table)
                    .col(string_len(Blob::Sha256, 64).primary_key())
                    .col(big_integer(Blob::Size))
                    .col(text(Blob::ContentType))
                    .col(timestamp_with_time_zone(Blob::CreatedAt))
                    .check(("ck_blob_size", Expr::col(Blob::Size).gte(0)))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Evidence::Table)
                    .col(big_pk_auto(Evidence::Id))
                    .col(big_integer(Evidence::TaskId))
                    .col(string_len(Evidence::Kind, 16))
                    .col(text(Evidence::Title))
                    .col(text_null(Evidence::DocNumber))
                    .col(date_null(Evidence::DocDate))
                    .col(integer(Evidence::CurrentVersion))
                    .col(timestamp_with_time_zone(Evidence::CreatedAt))
                    .col(big_integer_null(Evidence::CreatedByUserId))
                    .col(text(Evidence::CreatedByName))
                    .col(boolean(Evidence::Deleted).default(false))
                    .foreign_key(&mut fk(
                        "fk_evidence_task",
                        Evidence::Table,
                        Evidence::TaskId,
                        Task::Table,
                        Task::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_evidence_task",
                Evidence::Table,
                vec![Evidence::TaskId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EvidenceVersion::Table)
                    .col(big_pk_auto(EvidenceVersion::Id))
                    .col(big_integer(EvidenceVersion::EvidenceId))
                    .col(integer(EvidenceVersion::Version))
                    .col(string_len_null(EvidenceVersion::BlobSha256, 64))
                    .col(text_null(EvidenceVersion::OriginalName))
                    .col(text_null(EvidenceVersion::Url))
                    .col(date_null(EvidenceVersion::PublishedOn))
                    .col(timestamp_with_time_zone(EvidenceVersion::CreatedAt))
                    .col(big_integer_null(EvidenceVersion::CreatedByUserId))
                    .col(text(EvidenceVersion::CreatedByName))
                    .foreign_key(&mut fk(
                        "fk_evidence_version_evidence",
                        EvidenceVersion::Table,
                        EvidenceVersion::EvidenceId,
                        Evidence::Table,
                        Evidence::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_evidence_version_blob",
                        EvidenceVersion::Table,
                        EvidenceVersion::BlobSha256,
                        Blob::Table,
                        Blob::Sha256,
                        ForeignKeyAction::Restrict,
                    ))
                    // A version is either a file or a link.
                    .check((
                        "ck_evidence_version_content",
                        Expr::col(EvidenceVersion::BlobSha256)
                            .is_not_null()
                            .and(Expr::col(EvidenceVersion::Url).is_null())
                            .or(Expr::col(EvidenceVersion::BlobSha256)
                                .is_null()
                                .and(Expr::col(EvidenceVersion::Url).is_not_null())),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_evidence_version",
                EvidenceVersion::Table,
                vec![EvidenceVersion::EvidenceId, EvidenceVersion::Version],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_evidence_version_blob",
                EvidenceVersion::Table,
                vec![EvidenceVersion::BlobSha256],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EvidenceReview::Table)
                    .col(big_pk_auto(EvidenceReview::Id))
                    .col(big_integer(EvidenceReview::EvidenceId))
                    .col(integer(EvidenceReview::Version))
                    .col(big_integer_null(EvidenceReview::ReviewerUserId))
                    .col(text(EvidenceReview::ReviewerName))
                    .col(string_len(EvidenceReview::Verdict, 16))
                    .col(text_null(EvidenceReview::Note))
                    .col(timestamp_with_time_zone(EvidenceReview::At))
                    .foreign_key(&mut fk(
                        "fk_evidence_review_evidence",
                        EvidenceReview::Table,
                        EvidenceReview::EvidenceId,
                        Evidence::Table,
                        Evidence::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_evidence_review_evidence",
                EvidenceReview::Table,
                vec![EvidenceReview::EvidenceId, EvidenceReview::Id],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EvidenceReview::Table.into_iden(),
            EvidenceVersion::Table.into_iden(),
            Evidence::Table.into_iden(),
            Blob::Table.into_iden(),
            ProgressReport::Table.into_iden(),
            TaskEvent::Table.into_iden(),
            Task::Table.into_iden(),
            CampaignRound::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum FrameworkNode {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CampaignRound {
    Table,
    Id,
    Name,
    StartsOn,
    EndsOn,
    FrameworkId,
    CreatedAt,
    CreatedByUserId,
    CreatedByName,
    PreviousRoundId,
    IsActive,
}

#[derive(DeriveIden)]
enum Task {
    Table,
    Id,
    RoundId,
    NodeId,
    UnitId,
    Role,
    ViaGroupUnitId,
    Status,
    DueOn,
    SelfScoreTenths,
    ReviewScoreTenths,
    WasLate,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TaskEvent {
    Table,
    Id,
    TaskId,
    At,
    ActorUserId,
    ActorName,
    Action,
    FromStatus,
    ToStatus,
    Note,
}

#[derive(DeriveIden)]
enum ProgressReport {
    Table,
    Id,
    TaskId,
    At,
    AuthorUserId,
    AuthorName,
    Progress,
    Problems,
    NextSteps,
    Percent,
}

#[derive(DeriveIden)]
enum Blob {
    Table,
    #[sea_orm(iden = "sha256")]
    Sha256,
    Size,
    ContentType,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    TaskId,
    Kind,
    Title,
    DocNumber,
    DocDate,
    CurrentVersion,
    CreatedAt,
    CreatedByUserId,
    CreatedByName,
    Deleted,
}

#[derive(DeriveIden)]
enum EvidenceVersion {
    Table,
    Id,
    EvidenceId,
    Version,
    #[sea_orm(iden = "blob_sha256")]
    BlobSha256,
    OriginalName,
    Url,
    PublishedOn,
    CreatedAt,
    CreatedByUserId,
    CreatedByName,
}

#[derive(DeriveIden)]
enum EvidenceReview {
    Table,
    Id,
    EvidenceId,
    Version,
    ReviewerUserId,
    ReviewerName,
    Verdict,
    Note,
    At,
}
