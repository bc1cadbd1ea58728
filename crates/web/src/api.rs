//! JSON API under `/api/v1`: the same data and permissions as the pages. Authenticate
//! with a session cookie or `Authorization: Bearer <token>` (tokens are made on the
//! 我的账号 page). The OpenAPI document is at `/api/v1/openapi.json`.

mod exports;
mod packages;

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::routing::{any, get};
use axum::{Json, Router};
use fazhi_store::{NodeId, StoredNode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::access::{CountyReader, UnitViewer, require_indicator, visible_indicators};
use crate::error::{ApiError, ApiResult, WebError};
use crate::session::CurrentUser;

#[derive(OpenApi)]
#[openapi(
    info(title = "fazhi 法治政府建设示范创建平台 API", version = "1"),
    // Named here as well: nested types (NodeDto's assignments) are not collected from the
    // handlers' bodies.
    components(schemas(
        Me,
        FrameworkDto,
        NodeDto,
        AssignmentDto,
        UnitDto,
        UnitIndicatorDto,
        HeadingDto,
        ErrorDto,
        packages::PackageJobDto,
        packages::PackageRequestDto
    ))
)]
struct ApiDoc;

/// The API's routes with their documentation, declared once: the router and the
/// OpenAPI document both come from this list.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(
        "/api/v1",
        OpenApiRouter::new()
            .routes(routes!(me))
            .routes(routes!(framework))
            .routes(routes!(units))
            .routes(routes!(unit))
            .routes(routes!(unit_indicators))
            .routes(routes!(indicator))
            .routes(routes!(packages::list_packages, packages::create_package))
            .routes(routes!(packages::package))
            .routes(routes!(packages::cancel_package))
            .routes(routes!(packages::package_file))
            .routes(routes!(exports::export_responsibility))
            .routes(routes!(exports::export_ledger))
            .routes(routes!(exports::export_report)),
    )
}

/// The OpenAPI document of `/api/v1`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The API router, to be merged at the root (its paths start with `/api/v1`).
pub fn router() -> Router<AppState> {
    let (router, doc) = routes().split_for_parts();
    let doc = Arc::new(doc);
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/v1", any(not_found))
        .route("/api/v1/{*rest}", any(not_found))
}

async fn not_found() -> axum::response::Response {
    WebError::NotFound("没有这个接口".into()).into_api_response()
}

/// A numeric id from the path. Anything else (letters, a number out of range) is a JSON
/// 400 that says so, as documented.
pub struct IdPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(IdPath(id)),
            Err(_) => Err(WebError::BadRequest("网址中的编号无效，应为正整数".into()).into()),
        }
    }
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

#[utoipa::path(get, path = "/me", tag = "account", responses(
    (status = 200, description = "当前用户", body = Me),
    (status = 401, description = "未登录或令牌无效", body = ErrorDto),
    (status = 403, description = "须先修改初始密码", body = ErrorDto)))]
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
#[utoipa::path(get, path = "/framework", tag = "framework", responses(
    (status = 200, description = "当前指标体系（联络员只含本单位的指标）", body = FrameworkDto),
    (status = 401, description = "未登录或令牌无效", body = ErrorDto),
    (status = 403, description = "须先修改初始密码", body = ErrorDto),
    (status = 404, description = "尚未导入指标体系", body = ErrorDto)))]
async fn framework(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> ApiResult<Json<FrameworkDto>> {
    let fw = crate::views::indicators::current(&state).await?;
    let mut roots: Vec<NodeDto> = fw.roots.iter().map(node_dto).collect();
    if let Some(mine) = visible_indicators(&state, &cu.user).await? {
        fn keep(nodes: Vec<NodeDto>, mine: &HashSet<NodeId>) -> Vec<NodeDto> {
            nodes
                .into_iter()
                .filter_map(|mut n| {
                    if n.is_leaf {
                        return mine.contains(&NodeId(n.id)).then_some(n);
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
#[utoipa::path(get, path = "/units", tag = "units", responses(
    (status = 200, description = "全部责任单位及其承担的指标数", body = Vec<UnitDto>),
    (status = 401, description = "未登录或令牌无效", body = ErrorDto),
    (status = 403, description = "单位联络员无权查看全部单位", body = ErrorDto)))]
async fn units(
    State(state): State<AppState>,
    CountyReader(_): CountyReader,
) -> ApiResult<Json<Vec<UnitDto>>> {
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
#[utoipa::path(get, path = "/units/{id}", tag = "units", params(("id" = i64, Path, description = "单位编号")), responses(
    (status = 200, description = "一个责任单位", body = UnitDto),
    (status = 400, description = "编号无效", body = ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = ErrorDto),
    (status = 403, description = "联络员只能查看本单位", body = ErrorDto),
    (status = 404, description = "没有该单位", body = ErrorDto)))]
async fn unit(
    State(state): State<AppState>,
    UnitViewer { unit: id, .. }: UnitViewer,
) -> ApiResult<Json<UnitDto>> {
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
#[utoipa::path(get, path = "/units/{id}/indicators", tag = "units", params(("id" = i64, Path, description = "单位编号")), responses(
    (status = 200, description = "该单位的责任清单", body = Vec<UnitIndicatorDto>),
    (status = 400, description = "编号无效", body = ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = ErrorDto),
    (status = 403, description = "联络员只能查看本单位", body = ErrorDto),
    (status = 404, description = "没有该单位", body = ErrorDto)))]
async fn unit_indicators(
    State(state): State<AppState>,
    UnitViewer { unit: id, .. }: UnitViewer,
) -> ApiResult<Json<Vec<UnitIndicatorDto>>> {
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
#[utoipa::path(get, path = "/indicators/{id}", tag = "framework", params(("id" = i64, Path, description = "指标编号")), responses(
    (status = 200, description = "一项指标及其责任单位", body = NodeDto),
    (status = 400, description = "编号无效", body = ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = ErrorDto),
    (status = 403, description = "这项指标不在本单位的责任清单中", body = ErrorDto),
    (status = 404, description = "没有该指标", body = ErrorDto)))]
async fn indicator(
    State(state): State<AppState>,
    cu: CurrentUser,
    IdPath(id): IdPath<NodeId>,
) -> ApiResult<Json<NodeDto>> {
    let fw = crate::views::indicators::current(&state).await?;
    let leaves = fw.leaves();
    let node = leaves
        .iter()
        .find(|(_, n)| n.id == id)
        .map(|(_, n)| *n)
        .ok_or_else(|| WebError::NotFound("未找到该指标".into()))?;
    require_indicator(&state, &cu.user, node.id).await?;
    Ok(Json(node_dto(node)))
}
