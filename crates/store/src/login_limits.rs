//! Failed logins, counted in the database so that every server instance sees the same
//! counts. Keys are SHA-256 digests chosen by the caller (of a user and a client address,
//! or of an address alone), so a row has a fixed size whatever was typed; rows older than
//! the window are purged.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::error::{StoreError, StoreResult};
use crate::types::{Actor, UserId, now};

pub(crate) mod login_failure {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_failure")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub key: String,
        pub failed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Recent failures under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub count: u64,
    pub last: Option<DateTime<Utc>>,
}

/// A failed login of an existing account, for the audit log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FailedLogin<'a> {
    pub user: UserId,
    pub display_name: &'a str,
    /// The client address as the server saw it.
    pub client: &'a str,
}

fn check_key(key: &str) -> StoreResult<()> {
    if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(StoreError::invalid("登录限制的键应为64位十六进制数"))
    }
}

impl Store {
    /// How many failures `key` has had since `since`, and the latest.
    pub async fn login_failures(
        &self,
        key: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<FailureCount> {
        check_key(key)?;
        let q = login_failure::Entity::find()
            .filter(login_failure::Column::Key.eq(key))
            .filter(login_failure::Column::FailedAt.gt(since));
        let count = q.clone().count(self.connection()).await?;
        let last = q
            .order_by_desc(login_failure::Column::FailedAt)
            .limit(1)
            .one(self.connection())
            .await?
            .map(|r| r.failed_at);
        Ok(FailureCount { count, last })
    }

    /// Notes one failure under each of `keys`; when an existing account was tried, the
    /// attempt is recorded in the audit log (`user.login_failed`) in the same transaction.
    pub async fn record_login_failure(
        &self,
        keys: &[&str],
        account: Option<FailedLogin<'_>>,
    ) -> StoreResult<()> {
        for key in keys {
            check_key(key)?;
        }
        let tx = self.begin().await?;
        let at = now();
        for key in keys {
            login_failure::ActiveModel {
                key: Set((*key).to_string()),
                failed_at: Set(at),
                ..Default::default()
            }
            .insert(tx.connection())
            .await?;
        }
        if let Some(a) = account {
            let actor = Actor::user(a.user, a.display_name);
            append_audit(
                &tx,
                AuditEntry::new(
                    &actor,
                    "user.login_failed",
                    "user",
                    Some(a.user.to_string()),
                )
                .after(serde_json::json!({ "client": a.client })),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Forgets the failures under `key` (after a successful login).
    pub async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        check_key(key)?;
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::Key.eq(key))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Deletes failures at or before `before` (the end of the window); returns how many.
    pub async fn purge_login_failures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(login_failure::Entity::delete_many()
            .filter(login_failure::Column::FailedAt.lte(before))
            .exec(self.connection())
            .await?
            .rows_affected)
    }

    /// Rows kept for the limiter: a measure of its memory.
    pub async fn login_failure_rows(&self) -> StoreResult<u64> {
        Ok(login_failure::Entity::find()
            .count(self.connection())
            .await?)
    }
}
