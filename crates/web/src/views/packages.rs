//! 佐证材料汇编 (evidence packages) on the web: the office, or a liaison for its own unit,
//! chooses a round, a scope (whole round, one 一级指标, one unit) and which evidence
//! (approved only, or all with its verdict), and queues a build; the server's worker
//! (`crate::jobs`) builds it in the background. The page lists the jobs with their
//! progress; while one is queued or running, htmx reloads the list every 2 seconds
//! (`hx-trigger="every 2s"` on the fragment, which drops the trigger once nothing moves).
//! A job can be cancelled; a finished archive is downloaded with Range support (a large
//! download can resume). Building, cancelling and downloading are audited
//! (`package.request`, `.build`, `.cancel`, `.download`).

use std::io::SeekFrom;

use askama::Template;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use fazhi_domain::unit::UnitKind;
use fazhi_package::job::stored_result_name;
use fazhi_package::{PackageFormat, PackageParams};
use fazhi_store::{Job, JobFilter, JobId, JobStatus, RoundId, RoundInfo, UnitId, User, UserRole};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::AppState;
use crate::access::{PackageBuilder, PackageJobAccess};
use crate::error::{WebError, WebResult};
use crate::http_range::{RangeRequest, attachment, requested_range};
use crate::session::CurrentUser;
use crate::views::{Layout, cn_time, flash, human_size, render};

/// Jobs listed on the page (newest first).
const LIST_LIMIT: u64 = 30;
/// Bytes read from the package file per chunk of a download.
const CHUNK: usize = 256 * 1024;

/// A round in the form's choice.
pub struct RoundChoice {
    pub id: i64,
    pub name: String,
    pub active: bool,
}

/// One job as the page shows it.
pub struct JobRow {
    pub id: i64,
    pub scope: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub created_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// Queued or running: the progress bar is shown.
    pub active: bool,
    pub cancel_requested: bool,
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub bytes_done_shown: String,
    pub bytes_total_shown: String,
    pub percent: u64,
    pub done: bool,
    /// Done, but built by the command line at a path of its own: not served on the web.
    pub elsewhere: Option<String>,
    /// A bound PDF volume (合订本) rather than the archive.
    pub is_pdf: bool,
    pub size_shown: Option<String>,
    pub sha256: Option<String>,
    pub expires_at: Option<String>,
    pub message: Option<String>,
    /// From the result summary: what went in and what needs a look.
    pub notes: Vec<String>,
    pub problem_count: usize,
}

/// What a job covers, in words: the built package's own label when it has one, else the
/// options as asked.
fn describe(job: &Job, rounds: &[RoundInfo]) -> String {
    if let Some(scope) = job
        .result_summary
        .as_ref()
        .and_then(|s| s.get("scope"))
        .and_then(|s| s.as_str())
    {
        return scope.to_string();
    }
    let Ok(p) = serde_json::from_value::<PackageParams>(job.params.clone()) else {
        return "（参数无法读取）".into();
    };
    let round = match p.round {
        Some(id) => rounds
            .iter()
            .find(|r| r.id == id)
            .map_or_else(|| format!("轮次 #{id}"), |r| r.name.clone()),
        None => "进行中的轮次".into(),
    };
    let unit = p
        .unit
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "全部责任单位".into());
    let heading = p
        .heading
        .filter(|h| !h.trim().is_empty())
        .map_or_else(|| "全部指标".into(), |h| format!("一级指标“{h}”"));
    let which = if p.all {
        "全部材料（注明审核结论）"
    } else {
        "仅审核合格的材料"
    };
    let form = match p.format {
        PackageFormat::Zip => "压缩包",
        PackageFormat::Pdf => "PDF 合订本",
    };
    format!("{form} · {round} · {unit} · {heading} · {which}")
}

fn status_code(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Queued => "queued",
        JobStatus::Running => "running",
        JobStatus::Done => "done",
        JobStatus::Failed => "failed",
        JobStatus::Cancelled => "cancelled",
    }
}

fn notes(job: &Job) -> (Vec<String>, usize) {
    let Some(s) = &job.result_summary else {
        return (Vec::new(), 0);
    };
    let n = |k: &str| s.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let problems = s
        .get("problems")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    let mut out = vec![format!(
        "收入文件材料 {} 份，链接材料 {} 条（列在目录.xlsx 中）",
        n("files"),
        n("links")
    )];
    if n("left_out_unapproved") > 0 {
        out.push(format!(
            "尚未审核合格、没有收入的材料 {} 份",
            n("left_out_unapproved")
        ));
    }
    if n("files") == 0 && n("links") == 0 {
        // An archive of a catalogue alone: say so rather than let it pass as a package.
        out.push(if n("left_out_unapproved") > 0 {
            "汇编中没有任何材料：材料都还没有审核合格。可等审核后再生成，或选择“收入全部材料”。"
                .to_string()
        } else {
            "汇编中没有任何材料：所选范围内还没有上传佐证材料。".to_string()
        });
    }
    (out, problems)
}

/// Whether `path` lies in the directory where the server keeps the packages it built.
/// Only those are served: a job's recorded path is never trusted to point anywhere else
/// (the command line writes where its user said).
/// Whether the web can serve this result: kept in the file store, or (packages finished
/// before they went there) in this server's packages directory.
pub fn downloadable(state: &AppState, path: &str) -> bool {
    stored_result_name(path).is_some() || in_package_dir(state, path)
}

fn in_package_dir(state: &AppState, path: &str) -> bool {
    let dir = state.config.package_settings().dir;
    match (
        dir.canonicalize(),
        std::path::Path::new(path).canonicalize(),
    ) {
        (Ok(d), Ok(p)) => p.starts_with(d),
        _ => false,
    }
}

pub fn job_row(state: &AppState, job: &Job, rounds: &[RoundInfo]) -> JobRow {
    let p = job.progress;
    // By bytes (what takes the time), by files while the total is not known yet.
    let share = |done: u64, total: u64| {
        (u128::from(done.min(total)) * 100)
            .checked_div(u128::from(total))
            .map_or(0, |v| v as u64)
    };
    let percent = if p.bytes_total > 0 {
        share(p.bytes_done, p.bytes_total)
    } else {
        share(p.files_done, p.files_total)
    };
    let (notes, problem_count) = notes(job);
    JobRow {
        id: job.id.0,
        scope: describe(job, rounds),
        status: status_code(job.status),
        status_label: if job.cancel_requested && !job.status.is_final() {
            "正在取消"
        } else {
            job.status.label()
        },
        created_by: job.created_by_name.clone(),
        created_at: cn_time(&job.created_at),
        finished_at: job.finished_at.as_ref().map(cn_time),
        active: !job.status.is_final(),
        cancel_requested: job.cancel_requested,
        files_done: p.files_done,
        files_total: p.files_total,
        bytes_done: p.bytes_done,
        bytes_total: p.bytes_total,
        bytes_done_shown: human_size(&p.bytes_done),
        bytes_total_shown: human_size(&p.bytes_total),
        percent,
        done: job.status == JobStatus::Done
            && job
                .result_path
                .as_deref()
                .is_some_and(|p| downloadable(state, p)),
        elsewhere: job
            .result_path
            .clone()
            .filter(|p| job.status == JobStatus::Done && !downloadable(state, p)),
        is_pdf: serde_json::from_value::<PackageParams>(job.params.clone())
            .is_ok_and(|p| p.format == PackageFormat::Pdf),
        size_shown: job.result_size.as_ref().map(human_size),
        sha256: job.result_sha256.clone(),
        expires_at: job.expires_at.as_ref().map(cn_time),
        message: job.message.clone(),
        notes,
        problem_count,
    }
}

/// The package jobs `user` may see, newest first: all for the office, the own unit's for
/// a liaison.
pub async fn visible_jobs(
    state: &AppState,
    user: &User,
    limit: Option<u64>,
) -> WebResult<Vec<Job>> {
    let unit = match user.role {
        UserRole::Admin => None,
        UserRole::Liaison => Some(Some(user.unit_id.ok_or_else(WebError::forbidden)?)),
        UserRole::Observer => return Err(WebError::forbidden()),
    };
    let jobs = state
        .store
        .jobs(&JobFilter {
            kind: Some(fazhi_package::job::JOB_KIND.into()),
            unit,
            limit,
            ..Default::default()
        })
        .await?;
    Ok(jobs
        .into_iter()
        .filter(|j| fazhi_package::job::may_access(user, j))
        .collect())
}

/// The job list, alone: the page includes it, htmx reloads it.
#[derive(Template)]
#[template(path = "packages/_jobs.html")]
struct JobList {
    rows: Vec<JobRow>,
    /// Something is queued or running: the fragment asks to be reloaded.
    polling: bool,
    csrf: String,
}

async fn job_list(state: &AppState, cu: &CurrentUser) -> WebResult<JobList> {
    let jobs = visible_jobs(state, &cu.user, Some(LIST_LIMIT)).await?;
    let rounds = state.store.rounds().await?;
    let rows: Vec<JobRow> = jobs.iter().map(|j| job_row(state, j, &rounds)).collect();
    Ok(JobList {
        polling: rows.iter().any(|r| r.active),
        rows,
        csrf: cu.csrf.clone(),
    })
}

#[derive(Template)]
#[template(path = "packages/page.html")]
struct PackagesPage {
    layout: Option<Layout>,
    csrf: String,
    rounds: Vec<RoundChoice>,
    /// 一级指标 of the current framework: (code, title).
    headings: Vec<(String, String)>,
    /// Units to choose from: all for the office, the own one for a liaison.
    units: Vec<(i64, String)>,
    is_admin: bool,
    keep_days: u32,
    list: String,
}

/// The 材料汇编 page.
pub async fn page(
    State(state): State<AppState>,
    PackageBuilder(cu): PackageBuilder,
) -> WebResult<Html<String>> {
    let rounds = state.store.rounds().await?;
    let headings = match state.current_framework().await {
        Ok(fw) => fw
            .roots
            .iter()
            .map(|n| (n.code.clone(), n.title.clone()))
            .collect(),
        Err(WebError::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let is_admin = cu.user.role == UserRole::Admin;
    let units = if is_admin {
        state
            .store
            .units()
            .await?
            .into_iter()
            .filter(|u| !u.disabled && u.kind != UnitKind::Group)
            .map(|u| (u.id.0, u.name))
            .collect()
    } else {
        match cu.user.unit_id {
            Some(id) => vec![(id.0, state.store.unit(id).await?.name)],
            None => Vec::new(),
        }
    };
    let list = job_list(&state, &cu)
        .await?
        .render()
        .map_err(WebError::internal)?;
    render(&PackagesPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        rounds: rounds
            .iter()
            .map(|r| RoundChoice {
                id: r.id.0,
                name: r.name.clone(),
                active: r.is_active,
            })
            .collect(),
        headings,
        units,
        is_admin,
        keep_days: state.config.package_keep_days,
        list,
    })
}

/// The job list fragment (htmx polls it while a build is queued or running).
pub async fn jobs_fragment(
    State(state): State<AppState>,
    PackageBuilder(cu): PackageBuilder,
) -> WebResult<Response> {
    let list = job_list(&state, &cu).await?;
    let mut resp = render(&list)?.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct BuildForm {
    round: Option<String>,
    heading: Option<String>,
    unit: Option<String>,
    /// `approved` (default) or `all`.
    evidence: Option<String>,
    /// `zip` (default): the archive; `pdf`: the bound volume (合订本).
    format: Option<String>,
}

fn non_empty(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The options as the package crate reads them. A liaison who names no unit gets its own.
pub async fn params_for(
    state: &AppState,
    user: &User,
    round: Option<i64>,
    heading: Option<&str>,
    unit: Option<i64>,
    all: bool,
    format: PackageFormat,
) -> WebResult<PackageParams> {
    let unit = match unit.map(UnitId).or(match user.role {
        UserRole::Liaison => user.unit_id,
        _ => None,
    }) {
        Some(id) => Some(match state.store.unit(id).await {
            Ok(u) => u.name,
            Err(fazhi_store::StoreError::NotFound { .. }) => {
                return Err(WebError::NotFound(format!("没有编号为 {id} 的责任单位")));
            }
            Err(e) => return Err(e.into()),
        }),
        None => None,
    };
    Ok(PackageParams {
        format,
        round: round.map(RoundId),
        unit,
        heading: heading.map(str::to_string),
        all,
    })
}

/// Queues a build (audited `package.request`) and wakes the worker.
pub async fn queue(state: &AppState, user: &User, params: &PackageParams) -> WebResult<JobId> {
    let id = fazhi_package::job::request(&state.store, user, params).await?;
    state.wake_package_worker();
    Ok(id)
}

pub async fn build(
    State(state): State<AppState>,
    PackageBuilder(cu): PackageBuilder,
    Form(f): Form<BuildForm>,
) -> WebResult<Response> {
    let number = |raw: &Option<String>, what: &str| -> WebResult<Option<i64>> {
        non_empty(raw)
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| WebError::BadRequest(format!("{what}“{s}”无效，请重新选择")))
            })
            .transpose()
    };
    let all = match non_empty(&f.evidence) {
        None | Some("approved") => false,
        Some("all") => true,
        Some(other) => {
            return Err(WebError::BadRequest(format!("不认识的材料范围“{other}”")));
        }
    };
    let format = match non_empty(&f.format) {
        None | Some("zip") => PackageFormat::Zip,
        Some("pdf") => PackageFormat::Pdf,
        Some(other) => {
            return Err(WebError::BadRequest(format!("不认识的汇编形式“{other}”")));
        }
    };
    let params = params_for(
        &state,
        &cu.user,
        number(&f.round, "轮次")?,
        non_empty(&f.heading),
        number(&f.unit, "责任单位")?,
        all,
        format,
    )
    .await?;
    let id = queue(&state, &cu.user, &params).await?;
    flash(
        &state,
        &cu,
        format!("已开始生成材料汇编 #{id}。生成在后台进行，可以离开本页，完成后回到这里下载。"),
    )
    .await?;
    // To the new job's card: on a phone the form fills the screen above the list.
    Ok(Redirect::to(&format!("/packages#job-{id}")).into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    PackageJobAccess { cu, job }: PackageJobAccess,
) -> WebResult<Response> {
    let after = state.store.cancel_job(job.id, &cu.user.actor()).await?;
    let message = if after.status == JobStatus::Cancelled {
        format!("材料汇编 #{} 已取消", job.id)
    } else {
        format!("正在停止材料汇编 #{}，稍后列表中显示“已取消”", job.id)
    };
    flash(&state, &cu, message).await?;
    Ok(Redirect::to("/packages").into_response())
}

pub async fn download(
    State(state): State<AppState>,
    PackageJobAccess { cu, job }: PackageJobAccess,
    headers: HeaderMap,
) -> WebResult<Response> {
    serve_package(&state, &cu.user, &job, &headers).await
}

/// The download's file name: `佐证材料汇编_<round>_<unit>_<heading>_<which>_<date>.zip`.
pub fn download_name(job: &Job, rounds: &[RoundInfo], extension: &str) -> String {
    let scope = describe(job, rounds).replace(" · ", "_");
    let date = job
        .finished_at
        .map(|t| {
            t.with_timezone(&fazhi_package::plan::china())
                .format("%Y%m%d")
                .to_string()
        })
        .unwrap_or_default();
    let stem: String = format!("佐证材料汇编_{scope}_{date}")
        .chars()
        .take(150)
        .collect();
    fazhi_files::sanitize_file_name(&format!("{stem}.{extension}"))
}

/// Sends a finished package (whole, or the range asked for), after recording the download
/// in the audit log.
pub async fn serve_package(
    state: &AppState,
    user: &User,
    job: &Job,
    headers: &HeaderMap,
) -> WebResult<Response> {
    let (Some(path), Some(sha)) = (job.result_path.as_deref(), job.result_sha256.as_deref()) else {
        return Err(WebError::NotFound(format!(
            "材料汇编 #{} 还没有可下载的文件（{}）",
            job.id,
            job.status.label()
        )));
    };
    if job.status != JobStatus::Done {
        return Err(WebError::NotFound(format!(
            "材料汇编 #{} 还没有可下载的文件（{}）",
            job.id,
            job.status.label()
        )));
    }
    if !downloadable(state, path) {
        return Err(WebError::NotFound(format!(
            "材料汇编 #{} 是在命令行生成的，文件在服务器上的 {path}，不能在网页下载",
            job.id
        )));
    }
    let gone = || {
        WebError::NotFound(format!(
            "材料汇编 #{} 的文件已不在服务器上（可能已过期删除），请重新生成",
            job.id
        ))
    };
    let source = match stored_result_name(path) {
        Some(name) => match state.files.result_size(name).await? {
            Some(size) => PackageSource::Stored { name, size },
            None => return Err(gone()),
        },
        None => match tokio::fs::File::open(path).await {
            Ok(file) => {
                let size = file.metadata().await.map_err(WebError::internal)?.len();
                PackageSource::Local { file, size }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(gone()),
            Err(e) => return Err(WebError::internal(e)),
        },
    };
    let size = source.size();
    if job.result_size.is_some_and(|s| s != size) {
        return Err(WebError::internal(format!(
            "材料汇编 #{} 的文件大小与记录不符",
            job.id
        )));
    }
    let etag = format!("\"{sha}\"");
    let (status, range) = match requested_range(headers, &etag, size) {
        RangeRequest::Full => (StatusCode::OK, 0..size),
        RangeRequest::Partial(r) => (StatusCode::PARTIAL_CONTENT, r),
        RangeRequest::Unsatisfiable => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let h = resp.headers_mut();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                h.insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    // Every request that sends bytes is a download (a resumed one sends a range).
    state
        .store
        .record_job_download(job.id, &user.actor())
        .await?;
    let len = range.end - range.start;
    let body = match source {
        // An empty range sends no bytes (nothing to ask the store for).
        _ if len == 0 => Body::empty(),
        PackageSource::Stored { name, .. } => Body::from_stream(
            state
                .files
                .get_result_range(name, range.clone())
                .await?
                .into_stream(),
        ),
        PackageSource::Local { mut file, .. } => {
            file.seek(SeekFrom::Start(range.start))
                .await
                .map_err(WebError::internal)?;
            Body::from_stream(file_stream(file, len))
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let extension = if path.ends_with(".pdf") { "pdf" } else { "zip" };
    let rounds = state.store.rounds().await?;
    let name = download_name(job, &rounds, extension);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!(
            "bytes {}-{}/{size}",
            range.start,
            range.end.saturating_sub(1)
        ))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if extension == "pdf" {
            "application/pdf"
        } else {
            "application/zip"
        }),
    );
    let fallback = format!("fazhi-package-{}.{extension}", job.id);
    if let Ok(v) = HeaderValue::from_str(&attachment(&name, &fallback)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

/// Where a finished package's bytes come from.
enum PackageSource<'a> {
    /// Kept in the file store under this name.
    Stored { name: &'a str, size: u64 },
    /// A file in this server's packages directory (built before packages went to the store).
    Local { file: tokio::fs::File, size: u64 },
}

impl PackageSource<'_> {
    fn size(&self) -> u64 {
        match self {
            PackageSource::Stored { size, .. } | PackageSource::Local { size, .. } => *size,
        }
    }
}

/// `len` bytes of `file` from where it stands, in chunks: memory does not grow with the
/// package.
pub(crate) fn file_stream(
    file: tokio::fs::File,
    len: u64,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            Ok(0) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "材料汇编文件比记录的短",
                )),
                (file, 0),
            )),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    })
}
