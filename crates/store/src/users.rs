//! User accounts. Passwords arrive already hashed (the web layer owns argon2); this
//! module stores the PHC string and never logs it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::{app_user, unit};
use crate::error::{StoreError, StoreResult, unique};
use crate::types::{Actor, UnitId, UserId, UserRole, enum_from_str, now};

/// Longest username / display name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// An account to create.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Login name; stored trimmed, ASCII letters lower-cased.
    pub username: String,
    pub display_name: String,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub role: UserRole,
    /// Required for a liaison; optional for admins and observers.
    pub unit_id: Option<UnitId>,
    pub must_change_password: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"[已隐藏]")
            .field("role", &self.role)
            .field("unit_id", &self.unit_id)
            .field("must_change_password", &self.must_change_password)
            .finish()
    }
}

/// Changes an admin makes to an account (not the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserUpdate {
    pub display_name: String,
    pub role: UserRole,
    pub unit_id: Option<UnitId>,
}

/// A stored account. `password_hash` is left out of `Debug` and of serialisation.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: UserRole,
    pub unit_id: Option<UnitId>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"[已隐藏]")
            .field("role", &self.role)
            .field("unit_id", &self.unit_id)
            .field("must_change_password", &self.must_change_password)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("last_login_at", &self.last_login_at)
            .finish()
    }
}

impl User {
    /// An [`Actor`] for changes this user makes.
    pub fn actor(&self) -> Actor {
        Actor::user(self.id, self.display_name.clone())
    }
}

impl TryFrom<app_user::Model> for User {
    type Error = StoreError;
    fn try_from(m: app_user::Model) -> StoreResult<User> {
        Ok(User {
            id: UserId(m.id),
            role: enum_from_str(&m.role)?,
            username: m.username,
            display_name: m.display_name,
            password_hash: m.password_hash,
            unit_id: m.unit_id.map(UnitId),
            must_change_password: m.must_change_password,
            disabled: m.disabled,
            created_at: m.created_at,
            last_login_at: m.last_login_at,
        })
    }
}

/// Login names compare without surrounding blanks and ignoring ASCII case.
pub fn normalize_username(raw: &str) -> String {
    raw.trim().to_ascii_lowercase()
}

fn check_text(value: &str, what: &str) -> StoreResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(StoreError::invalid(format!("{what}不能为空")));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::invalid(format!(
            "{what}太长（最多{MAX_NAME_CHARS}个字）"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(StoreError::invalid(format!("{what}含有不可见字符")));
    }
    Ok(value.to_string())
}

/// Role/unit rule: a liaison reports for exactly one unit, which must exist.
async fn check_role_unit(
    conn: &impl ConnectionTrait,
    role: UserRole,
    unit_id: Option<UnitId>,
) -> StoreResult<()> {
    match (role, unit_id) {
        (UserRole::Liaison, None) => Err(StoreError::invalid("单位联络员必须指定所属单位")),
        (_, Some(id)) => {
            let found = unit::Entity::find_by_id(id.0).one(conn).await?;
            match found {
                Some(_) => Ok(()),
                None => Err(StoreError::invalid("所选单位不存在")),
            }
        }
        (_, None) => Ok(()),
    }
}

async fn find_user(conn: &impl ConnectionTrait, id: UserId) -> StoreResult<app_user::Model> {
    app_user::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("用户 #{id}")))
}

impl Store {
    /// Creates an account. Conflict on `username` when the login name is taken;
    /// Invalid when a liaison has no unit.
    pub async fn create_user(&self, new: NewUser, actor: &Actor) -> StoreResult<UserId> {
        let username = normalize_username(&check_text(&new.username, "用户名")?);
        if username.chars().any(char::is_whitespace) {
            return Err(StoreError::invalid("用户名不能包含空格"));
        }
        let display_name = check_text(&new.display_name, "姓名")?;
        if new.password_hash.trim().is_empty() {
            return Err(StoreError::invalid("密码不能为空"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        check_role_unit(conn, new.role, new.unit_id).await?;
        let taken = app_user::Entity::find()
            .filter(app_user::Column::Username.eq(username.as_str()))
            .one(conn)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict {
                field: "username",
                value: username,
            });
        }
        let row = app_user::ActiveModel {
            username: Set(username.clone()),
            display_name: Set(display_name),
            password_hash: Set(new.password_hash),
            role: Set(new.role.as_str().to_string()),
            unit_id: Set(new.unit_id.map(|u| u.0)),
            must_change_password: Set(new.must_change_password),
            disabled: Set(false),
            created_at: Set(now()),
            last_login_at: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(unique(&username))?;
        let user = User::try_from(row)?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "user.create", "user", Some(user.id.to_string())).after(&user),
        )
        .await?;
        tx.commit().await?;
        Ok(user.id)
    }

    /// The account with this login name (normalised as at creation).
    pub async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        app_user::Entity::find()
            .filter(app_user::Column::Username.eq(normalize_username(username)))
            .one(self.connection())
            .await?
            .map(User::try_from)
            .transpose()
    }

    pub async fn user(&self, id: UserId) -> StoreResult<User> {
        User::try_from(find_user(self.connection(), id).await?)
    }

    /// All accounts in creation order.
    pub async fn users(&self) -> StoreResult<Vec<User>> {
        app_user::Entity::find()
            .order_by_asc(app_user::Column::Id)
            .all(self.connection())
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// Changes name, role and unit of an account.
    pub async fn update_user(
        &self,
        id: UserId,
        update: UserUpdate,
        actor: &Actor,
    ) -> StoreResult<()> {
        let display_name = check_text(&update.display_name, "姓名")?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = find_user(conn, id).await?;
        let before = User::try_from(row.clone())?;
        check_role_unit(conn, update.role, update.unit_id).await?;
        let mut row = row.into_active_model();
        row.display_name = Set(display_name);
        row.role = Set(update.role.as_str().to_string());
        row.unit_id = Set(update.unit_id.map(|u| u.0));
        let after = User::try_from(row.update(conn).await?)?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "user.update", "user", Some(id.to_string()))
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await
    }

    /// Stores a new password hash; `must_change` forces a change at next login (after an
    /// admin reset). The hash itself is not logged.
    pub async fn set_password_hash(
        &self,
        id: UserId,
        password_hash: &str,
        must_change: bool,
        actor: &Actor,
    ) -> StoreResult<()> {
        if password_hash.trim().is_empty() {
            return Err(StoreError::invalid("密码不能为空"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        let mut row = find_user(conn, id).await?.into_active_model();
        row.password_hash = Set(password_hash.to_string());
        row.must_change_password = Set(must_change);
        row.update(conn).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "user.set_password", "user", Some(id.to_string()))
                .after(serde_json::json!({ "must_change_password": must_change })),
        )
        .await?;
        tx.commit().await
    }

    /// Disables (or re-enables) an account. A disabled account cannot log in.
    pub async fn set_disabled(&self, id: UserId, disabled: bool, actor: &Actor) -> StoreResult<()> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = find_user(conn, id).await?;
        let before = User::try_from(row.clone())?;
        let mut row = row.into_active_model();
        row.disabled = Set(disabled);
        let after = User::try_from(row.update(conn).await?)?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        append_audit(
            &tx,
            AuditEntry::new(actor, action, "user", Some(id.to_string()))
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await
    }

    /// Notes a successful login (time of last login, and an audit entry by the user).
    pub async fn record_login(&self, id: UserId) -> StoreResult<()> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = find_user(conn, id).await?;
        let actor = Actor::user(id, row.display_name.clone());
        let at = now();
        let mut row = row.into_active_model();
        row.last_login_at = Set(Some(at));
        row.update(conn).await?;
        append_audit(
            &tx,
            AuditEntry::new(&actor, "user.login", "user", Some(id.to_string())),
        )
        .await?;
        tx.commit().await
    }
}
