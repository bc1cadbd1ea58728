//! The office's unit administration: names, kinds, aliases, members of a group unit.

use crate::AppState;
use crate::access::Admin;
use crate::error::{WebError, WebResult};
use crate::views::units::kind_options;
use crate::views::{Layout, flash, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_store::{UnitDetail, UnitId, UnitKind, UnitSummary};
use serde::Deserialize;

fn parse_kind(key: &str) -> WebResult<UnitKind> {
    key.parse()
        .map_err(|_| WebError::BadRequest(format!("不认识的单位类型“{key}”")))
}

#[derive(Template)]
#[template(path = "admin/unit.html")]
struct UnitEditPage {
    layout: Option<Layout>,
    csrf: String,
    unit: UnitDetail,
    kind: &'static str,
    kinds: Vec<(&'static str, &'static str)>,
    /// For a group: every other non-group unit, with whether it is a member.
    candidates: Vec<(UnitSummary, bool)>,
}

pub async fn form(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<UnitId>,
) -> WebResult<impl IntoResponse> {
    let unit = state.store.unit(id).await?;
    let candidates = if unit.kind == UnitKind::Group {
        state
            .store
            .units()
            .await?
            .into_iter()
            .filter(|u| u.kind != UnitKind::Group && !u.disabled)
            .map(|u| {
                let member = unit.members.iter().any(|(m, _)| *m == u.id);
                (u, member)
            })
            .collect()
    } else {
        Vec::new()
    };
    render(&UnitEditPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        kind: unit.kind.as_str(),
        unit,
        kinds: kind_options(),
        candidates,
    })
}

#[derive(Deserialize)]
pub struct UnitForm {
    name: String,
    kind: String,
}

pub async fn create(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Form(form): Form<UnitForm>,
) -> WebResult<Response> {
    let kind = parse_kind(&form.kind)?;
    let id = state
        .store
        .create_unit(&form.name, kind, &cu.user.actor())
        .await?;
    flash(&state, &cu, format!("已新增单位“{}”", form.name.trim())).await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<UnitId>,
    Form(form): Form<UnitForm>,
) -> WebResult<Response> {
    let kind = parse_kind(&form.kind)?;
    state
        .store
        .update_unit(id, &form.name, kind, &cu.user.actor())
        .await?;
    flash(&state, &cu, "单位信息已保存").await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct AliasForm {
    alias: String,
}

pub async fn add_alias(
    state: State<AppState>,
    admin: Admin,
    id: Path<UnitId>,
    form: Form<AliasForm>,
) -> WebResult<Response> {
    change_alias(state, admin, id, form, true).await
}

pub async fn remove_alias(
    state: State<AppState>,
    admin: Admin,
    id: Path<UnitId>,
    form: Form<AliasForm>,
) -> WebResult<Response> {
    change_alias(state, admin, id, form, false).await
}

async fn change_alias(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<UnitId>,
    Form(form): Form<AliasForm>,
    add: bool,
) -> WebResult<Response> {
    let actor = cu.user.actor();
    if add {
        state.store.add_alias(id, &form.alias, &actor).await?;
    } else {
        state.store.remove_alias(id, &form.alias, &actor).await?;
    }
    let done = if add { "已添加" } else { "已删除" };
    flash(&state, &cu, format!("{done}别名“{}”", form.alias.trim())).await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

pub async fn set_members(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<UnitId>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    // Checkbox lists repeat the field name: read the pairs directly.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| WebError::BadRequest(format!("表单格式错误：{e}")))?;
    let members: Vec<UnitId> = pairs
        .iter()
        .filter(|(k, _)| k == "member")
        .filter_map(|(_, v)| v.parse().ok().map(UnitId))
        .collect();
    let tasks = state
        .store
        .set_group_members(id, &members, &cu.user.actor())
        .await?;
    crate::views::flash_division(
        &state,
        &cu,
        format!("已保存成员单位（{}个）", members.len()),
        &tasks,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct DisableUnitForm {
    /// `1` to disable, `0` to enable again.
    disabled: String,
}

/// Disable a unit (it gets no new assignments; its work stays) or enable it again.
pub async fn set_disabled(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<UnitId>,
    Form(form): Form<DisableUnitForm>,
) -> WebResult<Response> {
    let disabled = form.disabled == "1";
    state
        .store
        .set_unit_disabled(id, disabled, &cu.user.actor())
        .await?;
    flash(
        &state,
        &cu,
        if disabled {
            "已停用该单位：不再分派新的指标，已有的责任和工作记录保留"
        } else {
            "已重新启用该单位"
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}
