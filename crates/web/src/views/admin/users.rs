//! User accounts: list, create (initial password shown once), reset, disable.

use crate::AppState;
use crate::access::Admin;
use crate::error::{WebError, WebResult};
use crate::password;
use crate::views::{Layout, flash, opt_id, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_store::{NewUser, UnitId, UnitSummary, User, UserId, UserRole};
use serde::Deserialize;

pub struct UserRow {
    pub user: User,
    pub unit_name: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Option<Layout>,
    csrf: String,
    me: UserId,
    users: Vec<UserRow>,
    units: Vec<UnitSummary>,
    /// A refused 新增用户: the reason, shown on the form, and what was entered.
    error: Option<String>,
    entered: NewUserForm,
}

impl UsersPage {
    fn role_selected(&self, role: &str) -> bool {
        self.entered.role == role
    }

    fn unit_selected(&self, id: &UnitId) -> bool {
        opt_id(&self.entered.unit_id) == Some(id.0)
    }
}

pub async fn list(State(state): State<AppState>, Admin(cu): Admin) -> WebResult<Response> {
    page(&state, &cu, None, NewUserForm::default()).await
}

/// The page, with the new-user form showing `error` and keeping what was `entered`.
async fn page(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    error: Option<(StatusCode, String)>,
    entered: NewUserForm,
) -> WebResult<Response> {
    let units = state.store.units().await?;
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            unit_name: u
                .unit_id
                .and_then(|id| units.iter().find(|x| x.id == id))
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            user: u,
        })
        .collect();
    let (status, error) = match error {
        Some((status, why)) => (status, Some(why)),
        None => (StatusCode::OK, None),
    };
    let page = render(&UsersPage {
        layout: Layout::build(state, cu).await?,
        csrf: cu.csrf.clone(),
        me: cu.user.id,
        users,
        units,
        error,
        entered,
    })?;
    Ok((status, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    unit_id: Option<String>,
}

fn parse_role(raw: &str) -> WebResult<UserRole> {
    raw.parse()
        .map_err(|_| WebError::BadRequest(format!("不认识的角色“{raw}”")))
}

async fn hash_blocking(p: String) -> WebResult<String> {
    password::hash_async(p).await
}

pub async fn create(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Form(form): Form<NewUserForm>,
) -> WebResult<Response> {
    match create_user(&state, &cu, &form).await {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        // A refusal stays on the form with what was entered; other failures as usual.
        Err(WebError::BadRequest(why)) => {
            page(&state, &cu, Some((StatusCode::BAD_REQUEST, why)), form).await
        }
        Err(WebError::Conflict(why)) => {
            page(&state, &cu, Some((StatusCode::CONFLICT, why)), form).await
        }
        Err(other) => Err(other),
    }
}

async fn create_user(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    form: &NewUserForm,
) -> WebResult<()> {
    let role = parse_role(&form.role)?;
    if role == UserRole::Liaison && opt_id(&form.unit_id).is_none() {
        return Err(WebError::BadRequest("单位联络员须选择所属单位".into()));
    }
    let first = password::generate()?;
    let hash = hash_blocking(first.clone()).await?;
    let username = form.username.trim().to_string();
    state
        .store
        .create_user(
            NewUser {
                username: username.clone(),
                display_name: form.display_name.clone(),
                password_hash: hash,
                role,
                unit_id: opt_id(&form.unit_id).map(UnitId),
                must_change_password: true,
            },
            &cu.user.actor(),
        )
        .await?;
    flash(
        state,
        cu,
        format!(
            "已创建用户 {username}，初始密码：{first}（只显示这一次，请转交本人；首次登录须修改）"
        ),
    )
    .await?;
    Ok(())
}

/// After a reset or when disabling: the user's sessions end (but the admin's own, when
/// resetting their own password) and their API tokens are revoked.
async fn sign_out_everywhere(
    state: &AppState,
    cu: &crate::session::CurrentUser,
    user: UserId,
) -> WebResult<()> {
    let keep = cu
        .session
        .as_ref()
        .filter(|_| cu.user.id == user)
        .map(|s| s.key.as_str());
    state.store.end_user_sessions(user, keep).await?;
    state
        .store
        .revoke_user_tokens(user, &cu.user.actor())
        .await?;
    Ok(())
}

pub async fn reset_password(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<UserId>,
) -> WebResult<Response> {
    let user = state.store.user(id).await?;
    let first = password::generate()?;
    let hash = hash_blocking(first.clone()).await?;
    state
        .store
        .set_password_hash(user.id, &hash, true, &cu.user.actor())
        .await?;
    sign_out_everywhere(&state, &cu, user.id).await?;
    flash(
        &state,
        &cu,
        format!(
            "{} 的密码已重置为：{first}（只显示这一次；下次登录须修改）",
            user.username
        ),
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
pub struct DisableForm {
    disabled: String,
}

pub async fn set_disabled(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<UserId>,
    Form(form): Form<DisableForm>,
) -> WebResult<Response> {
    let disabled = form.disabled == "true";
    if id == cu.user.id && disabled {
        return Err(WebError::BadRequest("不能停用自己的账号".into()));
    }
    state
        .store
        .set_disabled(id, disabled, &cu.user.actor())
        .await?;
    if disabled {
        sign_out_everywhere(&state, &cu, id).await?;
    }
    flash(
        &state,
        &cu,
        if disabled {
            "账号已停用"
        } else {
            "账号已启用"
        },
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}
