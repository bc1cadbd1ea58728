//! The package build as a background job (kind [`JOB_KIND`]), and who may build and fetch
//! which package.
//!
//! The web layer (later) calls [`request`] for the user's choice, runs [`run_queued`] in a
//! background task (it never blocks requests: the writing happens on the blocking pool),
//! lists the jobs with [`fazhi_store::Store::jobs`] (a liaison: only its unit's, filter by
//! [`may_access`]), serves a finished file with Range support from `result_path` after
//! [`fazhi_store::Store::record_job_download`], and calls [`purge_expired`] now and then.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use fazhi_files::FileStore;
use fazhi_store::{
    Actor, Job, JobId, JobProgress, JobResult, NewJob, Store, UnitId, User, UserRole,
};

use crate::PackageError;
use crate::archive::{BuiltPackage, Control, Progress, write_zip};
use crate::plan::{PackageFormat, PackageParams, plan};
use crate::volume::{VolumeLimits, write_volume};

/// The job kind of package builds.
pub const JOB_KIND: &str = "package";

/// How often a running build writes its progress to the database (and learns of a cancel).
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Where finished packages are kept and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSettings {
    /// Directory of finished packages (e.g. `<data_dir>/packages`), created if missing.
    pub dir: PathBuf,
    /// How long a finished package is kept.
    pub keep_for: chrono::Duration,
}

impl JobSettings {
    /// Packages under `<data_dir>/packages`, kept for `keep_days` days.
    pub fn in_data_dir(data_dir: &Path, keep_days: u32) -> Self {
        JobSettings {
            dir: data_dir.join("packages"),
            keep_for: chrono::Duration::days(i64::from(keep_days)),
        }
    }
}

/// The access rule: the office (admin) builds any package; a liaison only its own unit's;
/// observers build none.
pub fn may_build(user: &User, unit: Option<UnitId>) -> bool {
    if user.disabled {
        return false;
    }
    match user.role {
        UserRole::Admin => true,
        UserRole::Liaison => unit.is_some() && unit == user.unit_id,
        UserRole::Observer => false,
    }
}

/// Whether `user` may see and download this job's package (same rule as [`may_build`],
/// on the unit the job covers).
pub fn may_access(user: &User, job: &Job) -> bool {
    job.kind == JOB_KIND && may_build(user, job.unit_id)
}

/// Queues a package build for `user` (audited `package.request`). The unit is resolved
/// now, so the access rule holds for the job's whole life. Refused (with the reason) when
/// the user may not build this package or the options name nothing that exists.
pub async fn request(
    store: &Store,
    user: &User,
    params: &PackageParams,
) -> Result<JobId, PackageError> {
    let unit = match params
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(name) => Some(
            store
                .find_unit(name)
                .await?
                .ok_or_else(|| PackageError::Invalid(format!("没有名为“{name}”的责任单位")))?,
        ),
        None => None,
    };
    if !may_build(user, unit) {
        return Err(PackageError::Forbidden(
            "只能生成本单位的材料汇编（依法治县办可生成全部）".into(),
        ));
    }
    // Fail early on a wrong round or heading rather than in the background.
    plan(store, params).await?;
    let id = store
        .create_job(
            NewJob {
                kind: JOB_KIND.into(),
                params: serde_json::to_value(params).map_err(std::io::Error::other)?,
                unit_id: unit,
            },
            &Actor::user(user.id, user.display_name.clone()),
        )
        .await?;
    Ok(id)
}

fn creator(job: &Job) -> Actor {
    Actor {
        user_id: job.created_by_user_id,
        name: job.created_by_name.clone(),
    }
}

/// Runs a claimed (running) job: builds the package at `out`, reporting progress to the
/// database (and to `control.progress`), stopping when the job is cancelled or
/// `control.cancel` is set; then records the outcome on the job (`package.build`,
/// `package.fail` or `package.cancel` in the audit log). A cancelled or failed build leaves
/// no file.
pub async fn run_job(
    store: &Store,
    files: &FileStore,
    job: &Job,
    out: &Path,
    expires_at: Option<DateTime<Utc>>,
    control: Control,
) -> Result<BuiltPackage, PackageError> {
    let outcome = build_for_job(store, files, job, out, &control).await;
    let actor = creator(job);
    match &outcome {
        Ok(built) => {
            let summary = serde_json::json!({
                "files": built.files_packed,
                "links": built.links,
                "left_out_unapproved": built.left_out_unapproved,
                "problems": built.problems,
                "scope": built.scope,
                "catalog_pdf_error": built.catalog_pdf_error,
            });
            store
                .finish_job(
                    job.id,
                    JobResult {
                        path: built.path.to_string_lossy().into_owned(),
                        size: built.size,
                        sha256: built.sha256.clone(),
                        expires_at,
                        summary,
                    },
                    &actor,
                )
                .await?;
        }
        Err(PackageError::Cancelled) => store.job_cancelled(job.id, &actor).await?,
        Err(e) => store.fail_job(job.id, &e.to_string(), &actor).await?,
    }
    outcome
}

async fn build_for_job(
    store: &Store,
    files: &FileStore,
    job: &Job,
    out: &Path,
    control: &Control,
) -> Result<BuiltPackage, PackageError> {
    let params: PackageParams = serde_json::from_value(job.params.clone())
        .map_err(|e| PackageError::Invalid(format!("后台任务参数无效：{e}")))?;
    let the_plan = plan(store, &params).await?;
    let (tx, mut rx) = tokio::sync::watch::channel(Progress::default());
    let outer = Arc::clone(&control.progress);
    let cancel = Arc::clone(&control.cancel);
    let inner = Control {
        progress: Arc::new(move |p| {
            outer(p);
            tx.send_replace(p);
        }),
        cancel: Arc::clone(&cancel),
    };
    let build = async {
        match params.format {
            PackageFormat::Zip => write_zip(files, the_plan, out, inner).await,
            PackageFormat::Pdf => {
                write_volume(files, the_plan, out, inner, VolumeLimits::default()).await
            }
        }
    };
    tokio::pin!(build);
    let mut tick = tokio::time::interval(REPORT_EVERY);
    loop {
        tokio::select! {
            result = &mut build => {
                let p = *rx.borrow_and_update();
                let _ = store.report_job_progress(job.id, to_job(p)).await;
                return result;
            }
            _ = tick.tick() => {
                let p = *rx.borrow_and_update();
                match store.report_job_progress(job.id, to_job(p)).await {
                    Ok(true) => cancel.store(true, Ordering::Relaxed),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(job = %job.id, error = %e, "无法记录打包进度"),
                }
            }
        }
    }
}

fn to_job(p: Progress) -> JobProgress {
    JobProgress {
        files_done: p.files_done,
        files_total: p.files_total,
        bytes_done: p.bytes_done,
        bytes_total: p.bytes_total,
    }
}

/// The file name of a job's package in the packages directory.
pub fn package_file_name(job: JobId, format: PackageFormat) -> String {
    match format {
        PackageFormat::Zip => format!("package-{job}.zip"),
        PackageFormat::Pdf => format!("package-{job}.pdf"),
    }
}

/// Claims and runs queued package jobs one after another until none is left; returns how
/// many ran. Failures are recorded on their jobs, not returned.
pub async fn run_queued(
    store: &Store,
    files: &FileStore,
    settings: &JobSettings,
) -> Result<usize, PackageError> {
    std::fs::create_dir_all(&settings.dir)?;
    let mut ran = 0;
    while let Some(job) = store.claim_job(JOB_KIND).await? {
        let format = serde_json::from_value::<PackageParams>(job.params.clone())
            .map(|p| p.format)
            .unwrap_or_default();
        let out = settings.dir.join(package_file_name(job.id, format));
        let expires = Utc::now() + settings.keep_for;
        let cancel = Arc::new(AtomicBool::new(false));
        let control = Control {
            progress: Arc::new(|_| {}),
            cancel,
        };
        if let Err(e) = run_job(store, files, &job, &out, Some(expires), control).await {
            tracing::info!(job = %job.id, error = %e, "材料汇编未生成");
        }
        ran += 1;
    }
    Ok(ran)
}

/// Deletes the expired packages (their job rows, audited `package.expire`, and their files
/// when they lie in the packages directory); returns how many.
pub async fn purge_expired(store: &Store, settings: &JobSettings) -> Result<usize, PackageError> {
    let gone = store.purge_expired_jobs(Utc::now()).await?;
    let dir = settings.dir.canonicalize().ok();
    for job in &gone {
        let Some(path) = job.result_path.as_deref().map(PathBuf::from) else {
            continue;
        };
        // Only files this module put there: never a path the command line chose.
        let inside = match (&dir, path.canonicalize()) {
            (Some(d), Ok(p)) => p.starts_with(d),
            _ => false,
        };
        if inside && let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %e, "无法删除过期的材料汇编");
        }
    }
    Ok(gone.len())
}
