//! A job's attempt number: one more each time a worker claims it. A worker that lost its job
//! (its heartbeat stopped during a database outage, and another instance took the job over)
//! learns so at its next report, because its reports and its result name the attempt it was
//! given. One column with a default; existing jobs keep their rows (attempt 0, or 1 once
//! claimed again).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Job::Table)
                    .add_column(big_integer(Job::Attempt).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Job::Table)
                    .drop_column(Job::Attempt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Job {
    Table,
    Attempt,
}
