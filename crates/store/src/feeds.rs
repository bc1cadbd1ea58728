//! Private calendar feed tokens: each user may have one; only its SHA-256 is stored.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::calendar_feed;
use crate::error::{StoreError, StoreResult};
use crate::types::{Actor, UserId, now};

impl Store {
    /// Sets (replaces) the user's calendar feed token, given as its SHA-256 hex.
    pub async fn set_feed_token(
        &self,
        user: UserId,
        token_sha256: &str,
        actor: &Actor,
    ) -> StoreResult<()> {
        if token_sha256.len() != 64 || !token_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::invalid("令牌摘要应为64位十六进制"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        calendar_feed::Entity::delete_many()
            .filter(calendar_feed::Column::UserId.eq(user.0))
            .exec(conn)
            .await?;
        calendar_feed::ActiveModel {
            user_id: Set(user.0),
            token_sha256: Set(token_sha256.to_ascii_lowercase()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "feed.renew", "calendar_feed", Some(user.to_string())),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When the user's feed token was made, if there is one.
    pub async fn feed_created(&self, user: UserId) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(calendar_feed::Entity::find()
            .filter(calendar_feed::Column::UserId.eq(user.0))
            .one(self.connection())
            .await?
            .map(|f| f.created_at))
    }

    /// The user a feed token (SHA-256 hex) belongs to.
    pub async fn feed_user(&self, token_sha256: &str) -> StoreResult<Option<UserId>> {
        Ok(calendar_feed::Entity::find()
            .filter(calendar_feed::Column::TokenSha256.eq(token_sha256.to_ascii_lowercase()))
            .one(self.connection())
            .await?
            .map(|f| UserId(f.user_id)))
    }
}
