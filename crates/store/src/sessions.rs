//! Login sessions (stored by the SHA-256 of their cookie token) and API tokens.
//!
//! Session writes are bookkeeping, not changes to the platform's records, so they are not
//! audited; creating and revoking API tokens is.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, ModelTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::{api_token, app_user, session};
use crate::error::{StoreError, StoreResult, unique};
use crate::types::{Actor, TokenId, UserId, now};
use crate::users::User;

/// An API token as listed to its owner; the secret is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this the token is refused.
    pub expires_at: DateTime<Utc>,
    /// Whether it may change things (POST, PUT, DELETE…); read-only otherwise.
    pub can_write: bool,
}

/// Lifetime of a token created before tokens had an expiry, counted from its creation.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;

impl ApiToken {
    pub fn expired(&self) -> bool {
        self.expires_at <= now()
    }
}

impl From<api_token::Model> for ApiToken {
    fn from(m: api_token::Model) -> Self {
        ApiToken {
            id: TokenId(m.id),
            user_id: UserId(m.user_id),
            name: m.name,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            expires_at: m
                .expires_at
                .unwrap_or(m.created_at + chrono::Duration::days(DEFAULT_TOKEN_DAYS)),
            can_write: m.can_write,
        }
    }
}

fn check_sha256(hex: &str) -> StoreResult<()> {
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(StoreError::invalid("令牌摘要应为64位十六进制数"))
    }
}

impl Store {
    /// Inserts a new session; Conflict when the id exists (the caller draws another).
    pub async fn session_create(
        &self,
        id: &str,
        data: &[u8],
        expiry: DateTime<Utc>,
    ) -> StoreResult<()> {
        session::ActiveModel {
            id: Set(id.to_string()),
            data: Set(data.to_vec()),
            expiry_date: Set(expiry),
            user_id: Set(None),
        }
        .insert(self.connection())
        .await
        .map_err(unique(id))?;
        Ok(())
    }

    /// Inserts or replaces a session; `user` is who is logged in with it, so that
    /// [`Store::end_user_sessions`] can find it.
    pub async fn session_save(
        &self,
        id: &str,
        user: Option<UserId>,
        data: &[u8],
        expiry: DateTime<Utc>,
    ) -> StoreResult<()> {
        session::Entity::insert(session::ActiveModel {
            id: Set(id.to_string()),
            data: Set(data.to_vec()),
            expiry_date: Set(expiry),
            user_id: Set(user.map(|u| u.0)),
        })
        .on_conflict(
            OnConflict::column(session::Column::Id)
                .update_columns([
                    session::Column::Data,
                    session::Column::ExpiryDate,
                    session::Column::UserId,
                ])
                .to_owned(),
        )
        .exec_without_returning(self.connection())
        .await?;
        Ok(())
    }

    /// The data of an unexpired session.
    pub async fn session_load(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(session::Entity::find_by_id(id.to_string())
            .filter(session::Column::ExpiryDate.gt(now()))
            .one(self.connection())
            .await?
            .map(|s| s.data))
    }

    pub async fn session_delete(&self, id: &str) -> StoreResult<()> {
        session::Entity::delete_by_id(id.to_string())
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Ends every session of `user` but `keep` (the one changing its password); returns
    /// how many ended.
    pub async fn end_user_sessions(&self, user: UserId, keep: Option<&str>) -> StoreResult<u64> {
        let mut q = session::Entity::delete_many().filter(session::Column::UserId.eq(user.0));
        if let Some(keep) = keep {
            q = q.filter(session::Column::Id.ne(keep.to_string()));
        }
        Ok(q.exec(self.connection()).await?.rows_affected)
    }

    /// Revokes every API token of `user` (password changed or reset, account disabled),
    /// each recorded; returns how many.
    pub async fn revoke_user_tokens(&self, user: UserId, actor: &Actor) -> StoreResult<u64> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let rows = api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(user.0))
            .all(conn)
            .await?;
        let n = rows.len() as u64;
        for row in rows {
            let before = ApiToken::from(row.clone());
            row.delete(conn).await?;
            append_audit(
                &tx,
                AuditEntry::new(
                    actor,
                    "api_token.revoke",
                    "api_token",
                    Some(before.id.to_string()),
                )
                .before(&before),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Deletes expired sessions; returns how many.
    pub async fn session_delete_expired(&self) -> StoreResult<u64> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::ExpiryDate.lte(now()))
            .exec(self.connection())
            .await?
            .rows_affected)
    }

    /// Registers a token for `user` by the SHA-256 (hex) of its secret, valid until
    /// `expires_at`, read-only unless `can_write`.
    pub async fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        token_sha256: &str,
        expires_at: DateTime<Utc>,
        can_write: bool,
        actor: &Actor,
    ) -> StoreResult<TokenId> {
        check_sha256(token_sha256)?;
        if expires_at <= now() {
            return Err(StoreError::invalid("令牌的有效期必须在今天之后"));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::invalid("令牌名称不能为空"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        app_user::Entity::find_by_id(user.0)
            .one(conn)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("用户 #{user}")))?;
        let row = api_token::ActiveModel {
            user_id: Set(user.0),
            name: Set(name.to_string()),
            token_sha256: Set(token_sha256.to_ascii_lowercase()),
            created_at: Set(now()),
            last_used_at: Set(None),
            expires_at: Set(Some(expires_at)),
            can_write: Set(can_write),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(unique(name))?;
        let token = ApiToken::from(row);
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                "api_token.create",
                "api_token",
                Some(token.id.to_string()),
            )
            .after(&token),
        )
        .await?;
        tx.commit().await?;
        Ok(token.id)
    }

    /// A user's tokens, oldest first.
    pub async fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        Ok(api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(user.0))
            .order_by_asc(api_token::Column::Id)
            .all(self.connection())
            .await?
            .into_iter()
            .map(ApiToken::from)
            .collect())
    }

    /// Looks a presented token up by its SHA-256 and notes its use. The caller still
    /// checks `User::disabled`.
    pub async fn user_by_api_token(
        &self,
        token_sha256: &str,
    ) -> StoreResult<Option<(ApiToken, User)>> {
        let conn = self.connection();
        let Some(row) = api_token::Entity::find()
            .filter(api_token::Column::TokenSha256.eq(token_sha256.to_ascii_lowercase()))
            .one(conn)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = app_user::Entity::find_by_id(row.user_id).one(conn).await? else {
            return Ok(None);
        };
        // Note the use at most once a minute: a script calling the API in a loop should
        // not turn every read into a write.
        let fresh = row
            .last_used_at
            .is_some_and(|t| now() - t < chrono::Duration::minutes(1));
        let row = if fresh {
            row
        } else {
            let mut active = row.into_active_model();
            active.last_used_at = Set(Some(now()));
            active.update(conn).await?
        };
        Ok(Some((ApiToken::from(row), User::try_from(user)?)))
    }

    /// Deletes a token.
    pub async fn revoke_api_token(&self, id: TokenId, actor: &Actor) -> StoreResult<()> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = api_token::Entity::find_by_id(id.0)
            .one(conn)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("令牌 #{id}")))?;
        let before = ApiToken::from(row.clone());
        row.delete(conn).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "api_token.revoke", "api_token", Some(id.to_string()))
                .before(&before),
        )
        .await?;
        tx.commit().await
    }
}
