//! Versioned schema migrations (sea-orm-migration), run by [`crate::Store::connect`].
//! One file per migration; never edit one that has shipped, add a new one.

use sea_orm_migration::prelude::*;

mod m20261128_000001_initial;
mod m20261128_000002_accounts;
mod m20261128_000003_audit_log;
mod m20261128_000004_work;
mod m20261128_000005_supervision;
mod m20261201_000006_audit_head;
mod m20261201_000008_jobs;
mod m20261201_000009_web_hardening;
mod m20261203_000010_round_close;
mod m20261204_000011_resumable_uploads;
mod m20261204_000012_job_heartbeat;
mod m20261205_000013_job_attempt;

pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_initial::Migration),
            Box::new(m20261128_000002_accounts::Migration),
            Box::new(m20261128_000003_audit_log::Migration),
            Box::new(m20261128_000004_work::Migration),
            Box::new(m20261128_000005_supervision::Migration),
            Box::new(m20261201_000006_audit_head::Migration),
            Box::new(m20261201_000008_jobs::Migration),
            Box::new(m20261201_000009_web_hardening::Migration),
            Box::new(m20261203_000010_round_close::Migration),
            Box::new(m20261204_000011_resumable_uploads::Migration),
            Box::new(m20261204_000012_job_heartbeat::Migration),
            Box::new(m20261205_000013_job_attempt::Migration),
        ]
    }
}

/// `CREATE [UNIQUE] INDEX name ON table (cols…)`.
pub(super) fn index<T: IntoIden + 'static>(
    name: &str,
    table: T,
    cols: Vec<T>,
    unique: bool,
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}
