//! Accounts: users, login sessions (for the tower-sessions store) and API tokens.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::index;
use super::m20261128_000001_initial::Unit;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AppUser::Table)
                    .col(big_pk_auto(AppUser::Id))
                    .col(text(AppUser::Username))
                    .col(text(AppUser::DisplayName))
                    .col(text(AppUser::PasswordHash))
                    .col(string_len(AppUser::Role, 16))
                    .col(big_integer_null(AppUser::UnitId))
                    .col(boolean(AppUser::MustChangePassword).default(true))
                    .col(boolean(AppUser::Disabled).default(false))
                    .col(timestamp_with_time_zone(AppUser::CreatedAt))
                    .col(timestamp_with_time_zone_null(AppUser::LastLoginAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_user_unit")
                            .from(AppUser::Table, AppUser::UnitId)
                            .to(Unit::Table, Unit::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_app_user_username",
                AppUser::Table,
                vec![AppUser::Username],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Session::Table)
                    .col(string_len(Session::Id, 128).primary_key())
                    .col(blob(Session::Data))
                    .col(timestamp_with_time_zone(Session::ExpiryDate))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_session_expiry_date",
                Session::Table,
                vec![Session::ExpiryDate],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .col(big_pk_auto(ApiToken::Id))
                    .col(big_integer(ApiToken::UserId))
                    .col(text(ApiToken::Name))
                    .col(string_len(ApiToken::TokenSha256, 64))
                    .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_token_user")
                            .from(ApiToken::Table, ApiToken::UserId)
                            .to(AppUser::Table, AppUser::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_api_token_token_sha256",
                ApiToken::Table,
                vec![ApiToken::TokenSha256],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_api_token_user",
                ApiToken::Table,
                vec![ApiToken::UserId],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApiToken::Table.into_iden(),
            Session::Table.into_iden(),
            AppUser::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AppUser {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Role,
    UnitId,
    MustChangePassword,
    Disabled,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum Session {
    Table,
    Id,
    Data,
    ExpiryDate,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    UserId,
    Name,
    #[sea_orm(iden = "token_sha256")]
    TokenSha256,
    CreatedAt,
    LastUsedAt,
}
