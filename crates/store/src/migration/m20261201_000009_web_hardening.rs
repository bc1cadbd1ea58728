//! Web hardening: sessions know their user (so a password change can end the others), API
//! tokens get an expiry and a scope, and failed logins are counted in the database (shared
//! by every server instance, bounded by the purge after the window).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Session::Table)
                    .add_column(big_integer_null(Session::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_session_user",
                Session::Table,
                vec![Session::UserId],
                false,
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiToken::Table)
                    .add_column(timestamp_with_time_zone_null(ApiToken::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiToken::Table)
                    .add_column(boolean(ApiToken::CanWrite).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginFailure::Table)
                    .col(big_pk_auto(LoginFailure::Id))
                    .col(string_len(LoginFailure::Key, 64))
                    .col(timestamp_with_time_zone(LoginFailure::FailedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_login_failure_key",
                LoginFailure::Table,
                vec![LoginFailure::Key, LoginFailure::FailedAt],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_login_failure_failed_at",
                LoginFailure::Table,
                vec![LoginFailure::FailedAt],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailure::Table).to_owned())
            .await?;
        for col in [ApiToken::CanWrite, ApiToken::ExpiresAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiToken::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ix_session_user")
                    .table(Session::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Session::Table)
                    .drop_column(Session::UserId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Session {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    ExpiresAt,
    CanWrite,
}

#[derive(DeriveIden)]
enum LoginFailure {
    Table,
    Id,
    Key,
    FailedAt,
}
