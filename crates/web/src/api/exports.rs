//! `/api/v1/exports`: the documents for superiors, with the rules of the 导出 page
//! (`views::exports`, the same functions): the 责任分工表 for the county roles; the 任务台账
//! and the 工作进展报告 for everyone, a liaison its own unit's only. Each export is audited.
//! All are GETs: exporting changes nothing, so a read-only token may export.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::CountyReader;
use crate::api::packages::ApiQuery;
use crate::error::ApiResult;
use crate::session::CurrentUser;
use crate::views::exports::{ReportRequest, ledger_file, report_file, responsibility_file};

/// A generated file's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ExportFile(#[allow(dead_code)] Vec<u8>);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The 责任分工表 of the current framework version (.xlsx; `fazhi import` reads it back).
#[utoipa::path(get, path = "/exports/responsibility", tag = "exports", responses(
    (status = 200, description = "责任分工表", content_type = XLSX, body = ExportFile),
    (status = 409, description = "还没有导入指标体系", body = crate::api::ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = crate::api::ErrorDto),
    (status = 403, description = "联络员不能导出责任分工表", body = crate::api::ErrorDto)))]
pub(super) async fn export_responsibility(
    State(state): State<AppState>,
    CountyReader(cu): CountyReader,
) -> ApiResult<Response> {
    Ok(responsibility_file(&state, &cu).await?)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LedgerParamsDto {
    /// One unit only (a liaison: its own, the default).
    unit_id: Option<i64>,
    /// An earlier or closed round (default the round in progress).
    round_id: Option<i64>,
}

/// The 任务台账 of the round in progress (or of `round_id`) as of today (.xlsx: tasks, 单位排名, 汇总).
#[utoipa::path(get, path = "/exports/ledger", tag = "exports", params(LedgerParamsDto), responses(
    (status = 200, description = "任务台账", content_type = XLSX, body = ExportFile),
    (status = 400, description = "查询参数无效", body = crate::api::ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = crate::api::ErrorDto),
    (status = 403, description = "联络员只能导出本单位的任务台账", body = crate::api::ErrorDto),
    (status = 404, description = "没有该单位或轮次", body = crate::api::ErrorDto),
    (status = 409, description = "没有进行中的轮次", body = crate::api::ErrorDto)))]
pub(super) async fn export_ledger(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiQuery(q): ApiQuery<LedgerParamsDto>,
) -> ApiResult<Response> {
    Ok(ledger_file(
        &state,
        &cu,
        q.unit_id.map(fazhi_store::UnitId),
        q.round_id.map(fazhi_store::RoundId),
    )
    .await?)
}

/// The file type of the 工作进展报告.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum ReportFormatDto {
    Docx,
    Pdf,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ReportParamsDto {
    /// `docx` (Word, the default) or `pdf`.
    #[param(inline)]
    format: Option<ReportFormatDto>,
    /// One unit's report (a liaison: its own, the default); none: the whole county.
    unit_id: Option<i64>,
    /// An earlier or closed round (default the round in progress).
    round_id: Option<i64>,
    /// The date the numbers are judged on, `2026-06-30` (default today; not later than today).
    #[param(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
    /// 标题 (one line, at most 100 characters).
    #[param(max_length = 100, pattern = "^[^\\r\\n]*$")]
    title: Option<String>,
    /// 发文机关署名 (one line, at most 100 characters).
    #[param(max_length = 100, pattern = "^[^\\r\\n]*$")]
    issuer: Option<String>,
    /// 主送机关 (one line, at most 100 characters).
    #[param(max_length = 100, pattern = "^[^\\r\\n]*$")]
    recipient: Option<String>,
    /// 成文日期 (default the as-of date).
    #[param(value_type = Option<String>, format = Date)]
    date: Option<String>,
    /// A 说明 paragraph printed before the numbers (at most 2000 characters).
    #[param(max_length = 2000)]
    note: Option<String>,
}

/// The 工作进展报告 of the round in progress (or of `round_id`), laid out as a 公文 (GB/T 9704), as .docx or
/// .pdf; the numbers are those of the 看板 and the 任务台账.
#[utoipa::path(get, path = "/exports/report", tag = "exports", params(ReportParamsDto), responses(
    (status = 200, description = "工作进展报告（.docx 或 .pdf）", content_type = "application/pdf", body = ExportFile),
    (status = 400, description = "格式、日期或文字长度无效", body = crate::api::ErrorDto),
    (status = 401, description = "未登录或令牌无效", body = crate::api::ErrorDto),
    (status = 403, description = "联络员只能导出本单位的工作进展报告", body = crate::api::ErrorDto),
    (status = 404, description = "没有该单位或轮次", body = crate::api::ErrorDto),
    (status = 409, description = "没有进行中的轮次", body = crate::api::ErrorDto),
    (status = 503, description = "服务器没有中文字体，无法生成 PDF（消息中写明要安装的软件包）", body = crate::api::ErrorDto)))]
pub(super) async fn export_report(
    State(state): State<AppState>,
    cu: CurrentUser,
    ApiQuery(q): ApiQuery<ReportParamsDto>,
) -> ApiResult<Response> {
    let request = ReportRequest {
        format: q.format.map(|f| {
            match f {
                ReportFormatDto::Docx => "docx",
                ReportFormatDto::Pdf => "pdf",
            }
            .to_string()
        }),
        unit: q.unit_id.map(|u| u.to_string()),
        as_of: q.as_of,
        title: q.title,
        issuer: q.issuer,
        recipient: q.recipient,
        date: q.date,
        note: q.note,
        round: q.round_id.map(|r| r.to_string()),
    };
    Ok(report_file(&state, &cu, request).await?)
}
