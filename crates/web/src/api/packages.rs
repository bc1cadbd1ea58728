//! `/api/v1/packages`: the 佐证材料汇编 jobs, with the rules of the 材料汇编 page
//! (`views::packages`): the office builds and sees every package, a liaison its own
//! unit's; observers none. Building, cancelling and downloading are audited.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fazhi_package::PackageFormat;
use fazhi_store::{Job, RoundInfo};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::access::{PackageBuilder, PackageJobAccess};
use crate::error::{ApiResult, WebError};
use crate::views::packages::{params_for, queue, serve_package, visible_jobs};

/// A JSON request body; a missing, malformed or mistyped body is a JSON 400 that says why.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => {
                let why = match &e {
                    JsonRejection::MissingJsonContentType(_) => {
                        "请求体应为 JSON（Content-Type: application/json）".to_string()
                    }
                    other => format!("请求体无法读取：{}", other.body_text()),
                };
                Err(WebError::BadRequest(why).into_api_response())
            }
        }
    }
}

/// Query parameters; a malformed or mistyped one is a JSON 400 that says which.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(
                WebError::BadRequest(format!("查询参数无效：{}", e.body_text()))
                    .into_api_response(),
            ),
        }
    }
}

/// A package job.
#[derive(Serialize, ToSchema)]
pub struct PackageJobDto {
    id: i64,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    status: String,
    /// The status in Chinese (排队中, 进行中, 已完成, 失败, 已取消, 正在取消).
    status_label: String,
    /// What the package covers: round, unit, 一级指标, which evidence.
    scope: String,
    /// The unit it covers (`null`: all units).
    unit_id: Option<i64>,
    cancel_requested: bool,
    files_done: u64,
    files_total: u64,
    bytes_done: u64,
    bytes_total: u64,
    /// Size of the finished archive in bytes.
    size: Option<u64>,
    /// SHA-256 of the finished archive (64 hex digits).
    sha256: Option<String>,
    /// Why it failed.
    message: Option<String>,
    created_by: String,
    /// RFC 3339 times.
    created_at: String,
    finished_at: Option<String>,
    /// When the finished archive is deleted.
    expires_at: Option<String>,
    /// Where to download the finished archive.
    download_url: Option<String>,
}

fn dto(state: &AppState, job: &Job, rounds: &[RoundInfo]) -> PackageJobDto {
    let row = crate::views::packages::job_row(state, job, rounds);
    let p = job.progress;
    PackageJobDto {
        id: job.id.0,
        status: row.status.into(),
        status_label: row.status_label.into(),
        scope: row.scope,
        unit_id: job.unit_id.map(|u| u.0),
        cancel_requested: job.cancel_requested,
        files_done: p.files_done,
        files_total: p.files_total,
        bytes_done: p.bytes_done,
        bytes_total: p.bytes_total,
        size: job.result_size,
        sha256: job.result_sha256.clone(),
        message: job.message.clone(),
        created_by: job.created_by_name.clone(),
        created_at: job.created_at.to_rfc3339(),
        finished_at: job.finished_at.map(|t| t.to_rfc3339()),
        expires_at: job.expires_at.map(|t| t.to_rfc3339()),
        download_url: row
            .done
            .then(|| format!("/api/v1/packages/{}/file", job.id)),
    }
}

/// What to build. Nothing given: the round in progress, every unit (a liaison: its own),
/// every indicator, approved evidence only.
#[derive(Deserialize, ToSchema)]
pub struct PackageRequestDto {
    /// The round (default: the one in progress).
    round_id: Option<i64>,
    /// One 一级指标 only: its code (`一`) or title.
    heading: Option<String>,
    /// One unit only (a liaison: its own, the default).
    unit_id: Option<i64>,
    /// Every evidence item with its verdict instead of the approved ones only.
    #[serde(default)]
    all: bool,
}

/// The finished archive's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PackageFile(#[allow(dead_code)] Vec<u8>);

/// The package jobs the caller may see, newest first (at most 100).
#[utoipa::path(get, path = "/packages", tag = "packages", responses(
    (status = 200, description = "材料汇编任务（依法治县办：全部；联络员：本单位的）", body = Vec<PackageJobDto>),
    (status = 401, description = "未登录或令牌无效", body = crate::api::ErrorDto),
    (status = 403, description = "查看人员不能生成或下载材料汇编", body = crate::api::ErrorDto)))]
pub(super) async fn list_packages(
    State(state): State<AppState>,
    PackageBuilder(cu): PackageBuilder,
) -> ApiResult<Json<Vec<PackageJobDto>>> {
    let jobs = visible_jobs(&state, &cu.user, Some(100)).await?;
    let rounds = state.store.rounds().await?;
    Ok(Json(jobs.iter().map(|j| dto(&state, j, &rounds)).collect()))
}

/// Queues a package build; the server builds it in the background. Poll the job for its
/// progress, then download it.
#[utoipa::path(post, path = "/packages", tag = "packages", request_body = PackageRequestDto, responses(
    (status = 202, description = "已排队，后台生成", body = PackageJobDto),
    (status = 400, description = "请求体无效，或没有进行中的轮次、没有该一级指标或单位", body = crate::api::ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = crate::api::ErrorDto),
    (status = 403, description = "联络员只能生成本单位的材料汇编；只读令牌；查看人员", body = crate::api::ErrorDto),
    (status = 404, description = "没有该轮次或单位", body = crate::api::ErrorDto)))]
pub(super) async fn create_package(
    State(state): State<AppState>,
    PackageBuilder(cu): PackageBuilder,
    ApiJson(body): ApiJson<PackageRequestDto>,
) -> ApiResult<(StatusCode, Json<PackageJobDto>)> {
    let params = params_for(
        &state,
        &cu.user,
        body.round_id,
        body.heading
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty()),
        body.unit_id,
        body.all,
        PackageFormat::Zip,
    )
    .await?;
    let id = queue(&state, &cu.user, &params).await?;
    let job = state.store.job(id).await?;
    let rounds = state.store.rounds().await?;
    Ok((StatusCode::ACCEPTED, Json(dto(&state, &job, &rounds))))
}

/// One package job, with its progress.
#[utoipa::path(get, path = "/packages/{id}", tag = "packages", params(("id" = i64, Path, description = "任务编号")), responses(
    (status = 200, description = "材料汇编任务", body = PackageJobDto),
    (status = 400, description = "编号无效", body = crate::api::ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = crate::api::ErrorDto),
    (status = 403, description = "不是本单位的材料汇编；查看人员", body = crate::api::ErrorDto),
    (status = 404, description = "没有该任务（或已过期删除）", body = crate::api::ErrorDto)))]
pub(super) async fn package(
    State(state): State<AppState>,
    PackageJobAccess { job, .. }: PackageJobAccess,
) -> ApiResult<Json<PackageJobDto>> {
    let rounds = state.store.rounds().await?;
    Ok(Json(dto(&state, &job, &rounds)))
}

/// Cancels a queued or running build (a running one stops within a few seconds).
#[utoipa::path(post, path = "/packages/{id}/cancel", tag = "packages", params(("id" = i64, Path, description = "任务编号")), responses(
    (status = 200, description = "已取消，或正在停止（cancel_requested）", body = PackageJobDto),
    (status = 400, description = "编号无效，或任务已结束", body = crate::api::ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = crate::api::ErrorDto),
    (status = 403, description = "不是本单位的材料汇编；只读令牌；查看人员", body = crate::api::ErrorDto),
    (status = 404, description = "没有该任务", body = crate::api::ErrorDto)))]
pub(super) async fn cancel_package(
    State(state): State<AppState>,
    PackageJobAccess { cu, job }: PackageJobAccess,
) -> ApiResult<Json<PackageJobDto>> {
    let after = state.store.cancel_job(job.id, &cu.user.actor()).await?;
    let rounds = state.store.rounds().await?;
    Ok(Json(dto(&state, &after, &rounds)))
}

/// The finished archive (`application/zip`); answers `Range` requests, so a large download
/// can resume.
#[utoipa::path(get, path = "/packages/{id}/file", tag = "packages", params(
    ("id" = i64, Path, description = "任务编号"),
    ("Range" = Option<String>, Header, description = "只取一段，如 bytes=0-1023"),
    ("If-Range" = Option<String>, Header, description = "ETag（压缩包的 SHA-256）：与之不符时返回整个文件")), responses(
    (status = 200, description = "整个压缩包", content_type = "application/zip", body = PackageFile),
    (status = 206, description = "请求的一段", content_type = "application/zip", body = PackageFile),
    (status = 400, description = "编号无效", body = crate::api::ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = crate::api::ErrorDto),
    (status = 403, description = "不是本单位的材料汇编；查看人员", body = crate::api::ErrorDto),
    (status = 404, description = "没有该任务，或还没有生成完成、已过期删除", body = crate::api::ErrorDto),
    (status = 416, description = "请求的范围超出文件")))]
pub(super) async fn package_file(
    State(state): State<AppState>,
    PackageJobAccess { cu, job }: PackageJobAccess,
    headers: HeaderMap,
) -> ApiResult<Response> {
    Ok(serve_package(&state, &cu.user, &job, &headers).await?)
}
