//! A round can be closed (结束): kept, read-only, still exported. Two nullable columns,
//! so every existing round stays as it was (open).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(CampaignRound::Table)
                    .add_column(timestamp_with_time_zone_null(CampaignRound::ClosedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CampaignRound::Table)
                    .add_column(string_null(CampaignRound::ClosedByName))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [CampaignRound::ClosedByName, CampaignRound::ClosedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CampaignRound::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CampaignRound {
    Table,
    ClosedAt,
    ClosedByName,
}
