//! The package build as a background job (kind [`JOB_KIND`]), and who may build and fetch
//! which package.
//!
//! The web layer calls [`request`] for the user's choice, runs the queued jobs in a
//! background task (it never blocks requests: the writing happens on the blocking pool),
//! lists the jobs with [`fazhi_store::Store::jobs`] (a liaison: only its unit's, filter by
//! [`may_access`]), serves a finished file with Range support after
//! [`fazhi_store::Store::record_job_download`], and calls [`purge_expired`] now and then.
//!
//! A server's builds are written to a local working file and then kept in the file store
//! ([`Output::FileStore`]: result path `store:<name>`, see [`stored_result_name`]), so that
//! any instance of a scaled deployment serves the download; the command line writes where it
//! is told ([`Output::File`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use fazhi_files::FileStore;
use fazhi_store::{
    Actor, Job, JobId, JobProgress, JobResult, JobSignal, NewJob, Store, UnitId, User, UserRole,
};

use crate::PackageError;
use crate::archive::{BuiltPackage, Control, Progress, write_zip};
use crate::plan::{PackageFormat, PackageParams, plan};
use crate::volume::{VolumeLimits, write_volume};

/// The job kind of package builds.
pub const JOB_KIND: &str = "package";

/// How often a running build writes its progress to the database (and learns of a cancel).
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// The result path of a package kept in the file store: this prefix, then its name there.
pub const STORED_RESULT_PREFIX: &str = "store:";

/// The file-store name of a result kept there (`store:<name>`); `None` for a path on disk.
pub fn stored_result_name(result_path: &str) -> Option<&str> {
    result_path.strip_prefix(STORED_RESULT_PREFIX)
}

/// Where a job's package goes.
#[derive(Debug, Clone, Copy)]
pub enum Output<'a> {
    /// This file (the command line's `--out`).
    File(&'a Path),
    /// The file store, by way of a working file in this directory (created if missing).
    FileStore { work_dir: &'a Path },
}

/// Where packages are built and for how long they are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSettings {
    /// Working directory of builds in progress (e.g. `<data_dir>/packages`); the finished
    /// packages go to the file store. Packages finished before that was so are still here.
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

/// Runs a claimed (running) job: builds the package, reporting progress to the database (and
/// to `control.progress`), stopping when the job is cancelled or `control.cancel` is set;
/// then records the outcome on the job (`package.build`, `package.fail` or `package.cancel`
/// in the audit log). A cancelled or failed build leaves no file. A job taken over by another
/// worker meanwhile ([`PackageError::TakenOver`]) records nothing and leaves no file.
pub async fn run_job(
    store: &Store,
    files: &FileStore,
    job: &Job,
    output: Output<'_>,
    expires_at: Option<DateTime<Utc>>,
    control: Control,
) -> Result<BuiltPackage, PackageError> {
    let format = serde_json::from_value::<PackageParams>(job.params.clone())
        .map(|p| p.format)
        .unwrap_or_default();
    let name = package_file_name(job, format);
    let out = match output {
        // Absolute, so a file named like a stored result (`store:…`) is never taken for one.
        Output::File(path) => std::path::absolute(path)?,
        Output::FileStore { work_dir } => work_dir.join(&name),
    };
    let mut outcome = match output {
        Output::FileStore { work_dir } => match tokio::fs::create_dir_all(work_dir).await {
            Ok(()) => build_for_job(store, files, job, &out, &control).await,
            Err(e) => Err(e.into()),
        },
        Output::File(_) => build_for_job(store, files, job, &out, &control).await,
    };
    let mut result_path = out.to_string_lossy().into_owned();
    if let (Ok(built), Output::FileStore { .. }) = (&outcome, output) {
        // Moving a large package into S3 takes minutes: keep the heartbeat going meanwhile,
        // or another instance would take the job over.
        let done = JobProgress {
            files_done: built.files_packed as u64,
            files_total: built.files_packed as u64,
            bytes_done: built.size,
            bytes_total: built.size,
        };
        let keep = files.keep_result(&name, &out);
        tokio::pin!(keep);
        let mut tick = tokio::time::interval(REPORT_EVERY);
        let kept = loop {
            tokio::select! {
                kept = &mut keep => break kept,
                _ = tick.tick() => {
                    if let Err(e) = store.report_job_progress(job, done).await {
                        tracing::warn!(job = %job.id, error = %e, "无法记录打包进度");
                    }
                }
            }
        };
        match kept {
            Ok(_) => result_path = format!("{STORED_RESULT_PREFIX}{name}"),
            Err(e) => {
                let _ = tokio::fs::remove_file(&out).await;
                outcome = Err(e.into());
            }
        }
    }
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
            let recorded = store
                .finish_job(
                    job,
                    JobResult {
                        path: result_path.clone(),
                        size: built.size,
                        sha256: built.sha256.clone(),
                        expires_at,
                        summary,
                    },
                    &actor,
                )
                .await;
            if let Err(e) = recorded {
                // Not recorded (taken over meanwhile, or the database is gone): the file
                // would be kept by nobody.
                remove_result(files, &result_path).await;
                return Err(e.into());
            }
        }
        Err(PackageError::TakenOver) => {}
        Err(PackageError::Cancelled) => store.job_cancelled(job, &actor).await?,
        Err(e) => store.fail_job(job, &e.to_string(), &actor).await?,
    }
    outcome
}

/// Deletes a package kept in the file store (a path on disk is left alone).
async fn remove_result(files: &FileStore, result_path: &str) {
    if let Some(name) = stored_result_name(result_path)
        && let Err(e) = files.delete_result(name).await
    {
        tracing::warn!(name, error = %e, "无法删除材料汇编文件");
    }
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
    let mut lost = false;
    let mut tick = tokio::time::interval(REPORT_EVERY);
    loop {
        tokio::select! {
            result = &mut build => {
                // A build stopped on the cancel flag removed its file; one that finished
                // first leaves it, for nobody.
                let lost = lost || {
                    let p = *rx.borrow_and_update();
                    matches!(
                        store.report_job_progress(job, to_job(p)).await,
                        Ok(JobSignal::Lost)
                    )
                };
                if lost {
                    if result.is_ok() {
                        let _ = tokio::fs::remove_file(out).await;
                    }
                    return Err(PackageError::TakenOver);
                }
                return result;
            }
            _ = tick.tick() => {
                let p = *rx.borrow_and_update();
                match store.report_job_progress(job, to_job(p)).await {
                    Ok(JobSignal::Continue) => {}
                    Ok(JobSignal::Stop) => cancel.store(true, Ordering::Relaxed),
                    Ok(JobSignal::Lost) => {
                        lost = true;
                        cancel.store(true, Ordering::Relaxed);
                    }
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

/// The file name of a job's package: the job and its attempt, so that a worker that lost
/// the job never writes over the file of the one that took it over.
pub fn package_file_name(job: &Job, format: PackageFormat) -> String {
    let extension = match format {
        PackageFormat::Zip => "zip",
        PackageFormat::Pdf => "pdf",
    };
    format!("package-{}-{}.{extension}", job.id, job.attempt)
}

/// Claims and runs queued package jobs one after another until none is left, keeping the
/// packages in the file store; returns how many ran. Failures are recorded on their jobs,
/// not returned.
pub async fn run_queued(
    store: &Store,
    files: &FileStore,
    settings: &JobSettings,
) -> Result<usize, PackageError> {
    let mut ran = 0;
    while let Some(job) = store.claim_job(JOB_KIND).await? {
        let expires = Utc::now() + settings.keep_for;
        let control = Control {
            progress: Arc::new(|_| {}),
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let output = Output::FileStore {
            work_dir: &settings.dir,
        };
        if let Err(e) = run_job(store, files, &job, output, Some(expires), control).await {
            tracing::info!(job = %job.id, error = %e, "材料汇编未生成");
        }
        ran += 1;
    }
    Ok(ran)
}

/// Deletes the expired packages (their job rows, audited `package.expire`, and their files:
/// those kept in the file store, and those in the packages directory); returns how many.
pub async fn purge_expired(
    store: &Store,
    files: &FileStore,
    settings: &JobSettings,
) -> Result<usize, PackageError> {
    let gone = store.purge_expired_jobs(Utc::now()).await?;
    let dir = settings.dir.canonicalize().ok();
    for job in &gone {
        let Some(result_path) = job.result_path.as_deref() else {
            continue;
        };
        if stored_result_name(result_path).is_some() {
            remove_result(files, result_path).await;
            continue;
        }
        let path = PathBuf::from(result_path);
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
