//! JSON API under `/api/v1`: the same data and permissions as the pages. Authenticate
//! with a session cookie or `Authorization: Bearer <token>` (tokens are made on the
//! 我的账号 page). The OpenAPI document is at `/api/v1/openapi.json`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use fazhi_store::{NodeId, StoredNode, UnitId, UserRole};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::error::{ApiResult, WebError};
use crate::session::CurrentUser;
use crate::views::{can_view_unit, require_overview};

#[derive(OpenApi)]
#[openapi(
    info(title = "fazhi 法治政府建设示范创建平台 API", version = "1"),
    paths(me, framework, units, unit, unit_indicators, indicator),
    components(schemas(
        Me,
        FrameworkDto,
        NodeDto,
        AssignmentDto,
        UnitDto,
        UnitIndicatorDto,
        HeadingDto,
        ErrorDto
    ))
)]
struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/framework", get(framework))
        .route("/units", get(units))
        .route("/units/{id}", get(unit))
        .route("/units/{id}/indicators", get(unit_indicators))
        .route("/indicators/{id}", get(indicator))
        .fallback(|| async { ApiError404 })
}

struct ApiError404;

impl axum::response::IntoResponse for ApiError404 {
    fn into_response(self) -> axum::response::Response {
        WebError::NotFound("没有这个接口".into()).into_api_response()
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// An error: `{"error": "说明"}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorDto {
    error: String,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    id: i64,
    username: String,
    display_name: String,
    /// `admin`, `liaison` or `observer`.
    role: String,
    unit_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ErrorDto)))]
async fn me(cu: CurrentUser) -> Json<Me> {
    let u = cu.user;
    Json(Me {
        id: u.id.0,
        username: u.username,
        display_name: u.display_name,
        role: u.role.as_str().into(),
        unit_id: u.unit_id.map(|i| i.0),
    })
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentDto {
    unit_id: i64,
    unit: String,
    /// `lead` (牵头) or `co` (配合).
    role: String,
}

#[derive(Serialize, ToSchema)]
#[schema(no_recursion)]
pub struct NodeDto {
    id: i64,
    code: String,
    /// Heading title, or the indicator's text for a leaf.
    title: String,
    is_leaf: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assignments: Vec<AssignmentDto>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    children: Vec<NodeDto>,
}

fn node_dto(n: &StoredNode) -> NodeDto {
    NodeDto {
        id: n.id.0,
        code: n.code.clone(),
        title: n.title.clone(),
        is_leaf: n.is_leaf,
        assignments: n
            .assignments
            .iter()
            .map(|a| AssignmentDto {
                unit_id: a.unit_id.0,
                unit: a.unit_name.clone(),
                role: a.role.as_str().into(),
            })
            .collect(),
        children: n.children.iter().map(node_dto).collect(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct FrameworkDto {
    id: i64,
    title: String,
    indicators: Vec<NodeDto>,
}

/// The current indicator system. Liaisons see only the indicators of their unit.
#[utoipa::path(get, path = "/api/v1/framework", responses((status = 200, body = FrameworkDto), (status = 401, body = ErrorDto)))]
async fn framework(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> ApiResult<Json<FrameworkDto>> {
    let fw = crate::views::indicators::current(&state).await?;
    let mut roots: Vec<NodeDto> = fw.roots.iter().map(node_dto).collect();
    if cu.user.role == UserRole::Liaison {
        let unit = cu.user.unit_id.ok_or_else(WebError::forbidden)?;
        let mine: std::collections::HashSet<i64> = state
            .unit_indicators(unit)
            .await?
            .iter()
            .map(|i| i.node_id.0)
            .collect();
        fn keep(nodes: Vec<NodeDto>, mine: &std::collections::HashSet<i64>) -> Vec<NodeDto> {
            nodes
                .into_iter()
                .filter_map(|mut n| {
                    if n.is_leaf {
                        return mine.contains(&n.id).then_some(n);
                    }
                    n.children = keep(n.children, mine);
                    (!n.children.is_empty()).then_some(n)
                })
                .collect()
        }
        roots = keep(roots, &mine);
    }
    Ok(Json(FrameworkDto {
        id: fw.info.id.0,
        title: fw.info.title.clone(),
        indicators: roots,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UnitDto {
    id: i64,
    name: String,
    /// party, government, judicial, branch, group, other
    kind: String,
    aliases: Vec<String>,
    lead_count: usize,
    co_count: usize,
    via_group_count: usize,
    disabled: bool,
}

fn unit_dto(u: fazhi_store::UnitSummary) -> UnitDto {
    UnitDto {
        id: u.id.0,
        kind: u.kind.as_str().into(),
        name: u.name,
        aliases: u.aliases,
        lead_count: u.lead_count,
        co_count: u.co_count,
        via_group_count: u.via_group_count,
        disabled: u.disabled,
    }
}

/// All units with their load (admins and observers).
#[utoipa::path(get, path = "/api/v1/units", responses((status = 200, body = Vec<UnitDto>), (status = 403, body = ErrorDto)))]
async fn units(State(state): State<AppState>, cu: CurrentUser) -> ApiResult<Json<Vec<UnitDto>>> {
    require_overview(&cu.user)?;
    Ok(Json(
        state
            .store
            .units()
            .await?
            .into_iter()
            .map(unit_dto)
            .collect(),
    ))
}

/// One unit (a liaison: only their own).
#[utoipa::path(get, path = "/api/v1/units/{id}", params(("id" = i64, Path)), responses((status = 200, body = UnitDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
async fn unit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<UnitDto>> {
    let id = UnitId(id);
    if !can_view_unit(&cu.user, id) {
        return Err(WebError::forbidden().into());
    }
    let found = state
        .store
        .units()
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| WebError::NotFound("未找到该单位".into()))?;
    Ok(Json(unit_dto(found)))
}

#[derive(Serialize, ToSchema)]
pub struct HeadingDto {
    id: i64,
    code: String,
    title: String,
}

#[derive(Serialize, ToSchema)]
pub struct UnitIndicatorDto {
    id: i64,
    code: String,
    text: String,
    /// `lead` or `co`.
    role: String,
    /// 一级 first.
    ancestors: Vec<HeadingDto>,
    /// The group through which the unit holds the indicator, if any.
    via_group: Option<String>,
}

/// A unit's 责任清单 (a liaison: only their own unit).
#[utoipa::path(get, path = "/api/v1/units/{id}/indicators", params(("id" = i64, Path)), responses((status = 200, body = Vec<UnitIndicatorDto>), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
async fn unit_indicators(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<UnitIndicatorDto>>> {
    let id = UnitId(id);
    if !can_view_unit(&cu.user, id) {
        return Err(WebError::forbidden().into());
    }
    let items = state.unit_indicators(id).await?;
    Ok(Json(
        items
            .iter()
            .cloned()
            .map(|i| UnitIndicatorDto {
                id: i.node_id.0,
                code: i.code,
                text: i.text,
                role: i.role.as_str().into(),
                ancestors: i
                    .ancestors
                    .into_iter()
                    .map(|h| HeadingDto {
                        id: h.id.0,
                        code: h.code,
                        title: h.title,
                    })
                    .collect(),
                via_group: i.via_group.map(|(_, n)| n),
            })
            .collect(),
    ))
}

/// One indicator with its units (a liaison: only their unit's indicators).
#[utoipa::path(get, path = "/api/v1/indicators/{id}", params(("id" = i64, Path)), responses((status = 200, body = NodeDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
async fn indicator(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<NodeDto>> {
    let fw = crate::views::indicators::current(&state).await?;
    let leaves = fw.leaves();
    let node = leaves
        .iter()
        .find(|(_, n)| n.id == NodeId(id))
        .map(|(_, n)| *n)
        .ok_or_else(|| WebError::NotFound("未找到该指标".into()))?;
    if cu.user.role == UserRole::Liaison {
        let unit = cu.user.unit_id.ok_or_else(WebError::forbidden)?;
        let mine = state
            .unit_indicators(unit)
            .await?
            .iter()
            .any(|i| i.node_id == node.id);
        if !mine {
            return Err(WebError::forbidden().into());
        }
    }
    Ok(Json(node_dto(node)))
}
