//! The numbers in the indicators and supervision: the office's corrections of extracted
//! rules (kept by indicator number, so they survive re-import), measured values per rule
//! (append-only), ledger cases (台账), 督办单, the years of holiday arrangements added by
//! the office, and private calendar feed tokens.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk_task(name: &str, table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Task::Table, Task::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RuleCorrection::Table)
                    .col(big_pk_auto(RuleCorrection::Id))
                    .col(string_len(RuleCorrection::IndicatorCode, 32))
                    .col(string_len(RuleCorrection::Action, 16))
                    .col(string_len_null(RuleCorrection::TargetKey, 64))
                    .col(text_null(RuleCorrection::RuleJson))
                    .col(text(RuleCorrection::Reason))
                    .col(timestamp_with_time_zone(RuleCorrection::CreatedAt))
                    .col(big_integer_null(RuleCorrection::CreatedByUserId))
                    .col(text(RuleCorrection::CreatedByName))
                    .col(timestamp_with_time_zone_null(RuleCorrection::RevokedAt))
                    .col(text_null(RuleCorrection::RevokedByName))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_rule_correction_code",
                RuleCorrection::Table,
                vec![RuleCorrection::IndicatorCode],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Measurement::Table)
                    .col(big_pk_auto(Measurement::Id))
                    .col(big_integer(Measurement::TaskId))
                    .col(string_len(Measurement::RuleKey, 64))
                    .col(double_null(Measurement::Value))
                    .col(double_null(Measurement::Numerator))
                    .col(double_null(Measurement::Denominator))
                    .col(date_null(Measurement::DoneOn))
                    .col(text(Measurement::Note))
                    .col(timestamp_with_time_zone(Measurement::At))
                    .col(big_integer_null(Measurement::AuthorUserId))
                    .col(text(Measurement::AuthorName))
                    .foreign_key(&mut fk_task(
                        "fk_measurement_task",
                        Measurement::Table,
                        Measurement::TaskId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_measurement_task",
                Measurement::Table,
                vec![Measurement::TaskId, Measurement::RuleKey],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LedgerCase::Table)
                    .col(big_pk_auto(LedgerCase::Id))
                    .col(big_integer(LedgerCase::TaskId))
                    .col(text(LedgerCase::Title))
                    .col(date(LedgerCase::StartedOn))
                    .col(date(LedgerCase::FinishedOn))
                    .col(text(LedgerCase::Note))
                    .col(timestamp_with_time_zone(LedgerCase::CreatedAt))
                    .col(big_integer_null(LedgerCase::CreatedByUserId))
                    .col(text(LedgerCase::CreatedByName))
                    .col(timestamp_with_time_zone_null(LedgerCase::DeletedAt))
                    .col(text_null(LedgerCase::DeletedByName))
                    .foreign_key(&mut fk_task(
                        "fk_ledger_case_task",
                        LedgerCase::Table,
                        LedgerCase::TaskId,
                    ))
                    .check((
                        "ck_ledger_case_dates",
                        Expr::col(LedgerCase::StartedOn).lte(Expr::col(LedgerCase::FinishedOn)),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_ledger_case_task",
                LedgerCase::Table,
                vec![LedgerCase::TaskId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupervisionNotice::Table)
                    .col(big_pk_auto(SupervisionNotice::Id))
                    .col(big_integer(SupervisionNotice::TaskId))
                    .col(string_len(SupervisionNotice::Level, 16))
                    .col(text(SupervisionNotice::Message))
                    .col(date_null(SupervisionNotice::RespondBy))
                    .col(big_integer_null(SupervisionNotice::PreviousNoticeId))
                    .col(timestamp_with_time_zone(SupervisionNotice::IssuedAt))
                    .col(big_integer_null(SupervisionNotice::IssuedByUserId))
                    .col(text(SupervisionNotice::IssuedByName))
                    .col(timestamp_with_time_zone_null(
                        SupervisionNotice::AcknowledgedAt,
                    ))
                    .col(big_integer_null(SupervisionNotice::AcknowledgedByUserId))
                    .col(text_null(SupervisionNotice::AcknowledgedByName))
                    .col(text_null(SupervisionNotice::AckNote))
                    .foreign_key(&mut fk_task(
                        "fk_supervision_notice_task",
                        SupervisionNotice::Table,
                        SupervisionNotice::TaskId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_supervision_notice_previous")
                            .from(
                                SupervisionNotice::Table,
                                SupervisionNotice::PreviousNoticeId,
                            )
                            .to(SupervisionNotice::Table, SupervisionNotice::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_supervision_notice_task",
                SupervisionNotice::Table,
                vec![SupervisionNotice::TaskId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CalendarYear::Table)
                    .col(integer(CalendarYear::Year).primary_key())
                    .col(text(CalendarYear::Source))
                    .col(text(CalendarYear::Csv))
                    .col(timestamp_with_time_zone(CalendarYear::AddedAt))
                    .col(text(CalendarYear::AddedByName))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CalendarFeed::Table)
                    .col(big_pk_auto(CalendarFeed::Id))
                    .col(big_integer(CalendarFeed::UserId).unique_key())
                    .col(string_len(CalendarFeed::TokenSha256, 64).unique_key())
                    .col(timestamp_with_time_zone(CalendarFeed::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_calendar_feed_user")
                            .from(CalendarFeed::Table, CalendarFeed::UserId)
                            .to(AppUser::Table, AppUser::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CalendarFeed::Table.into_iden(),
            CalendarYear::Table.into_iden(),
            SupervisionNotice::Table.into_iden(),
            LedgerCase::Table.into_iden(),
            Measurement::Table.into_iden(),
            RuleCorrection::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Task {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AppUser {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RuleCorrection {
    Table,
    Id,
    IndicatorCode,
    Action,
    TargetKey,
    RuleJson,
    Reason,
    CreatedAt,
    CreatedByUserId,
    CreatedByName,
    RevokedAt,
    RevokedByName,
}

#[derive(DeriveIden)]
enum Measurement {
    Table,
    Id,
    TaskId,
    RuleKey,
    Value,
    Numerator,
    Denominator,
    DoneOn,
    Note,
    At,
    AuthorUserId,
    AuthorName,
}

#[derive(DeriveIden)]
enum LedgerCase {
    Table,
    Id,
    TaskId,
    Title,
    StartedOn,
    FinishedOn,
    Note,
    CreatedAt,
    CreatedByUserId,
    CreatedByName,
    DeletedAt,
    DeletedByName,
}

#[derive(DeriveIden)]
enum SupervisionNotice {
    Table,
    Id,
    TaskId,
    Level,
    Message,
    RespondBy,
    PreviousNoticeId,
    IssuedAt,
    IssuedByUserId,
    IssuedByName,
    AcknowledgedAt,
    AcknowledgedByUserId,
    AcknowledgedByName,
    AckNote,
}

#[derive(DeriveIden)]
enum CalendarYear {
    Table,
    Year,
    Source,
    Csv,
    AddedAt,
    AddedByName,
}

#[derive(DeriveIden)]
enum CalendarFeed {
    Table,
    Id,
    UserId,
    TokenSha256,
    CreatedAt,
}
