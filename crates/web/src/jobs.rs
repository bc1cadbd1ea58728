//! The server's background work on 佐证材料汇编 jobs: at start, jobs left running by a
//! server that stopped are marked failed; then one worker task claims the queued builds
//! and runs them one after another (`fazhi_package::job::run_job`: the archive is written
//! on the blocking pool, so requests are never held up). A new request wakes the worker at
//! once; it also looks every [`POLL`] for jobs queued by another process. Expired packages
//! are deleted by the periodic housekeeping (`housekeeping::sweep`).
//!
//! A package is built in a working file under `<data_dir>/packages` and then kept in the
//! file store, so that every instance serves its download.
//!
//! On shutdown ([`PackageWorker::stop`]) the build in progress is told to stop (its
//! half-written file is removed) and the worker ends without recording anything: the job
//! is still `running` in the database, and the next start marks it failed with
//! [`INTERRUPTED_MESSAGE`]. Without that the process would wait for the build to finish,
//! since the runtime waits for blocking work when it shuts down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fazhi_package::Control;
use fazhi_package::job::{JOB_KIND, Output, run_job};

use crate::AppState;
use crate::error::WebError;

/// How often the worker looks for queued jobs when nobody woke it.
pub const POLL: Duration = Duration::from_secs(30);

/// The reason given on a job that was running when the server stopped.
pub const INTERRUPTED_MESSAGE: &str =
    "生成过程中平台停止运行（重启或关机），没有生成文件，请重新生成";

/// The running worker.
pub struct PackageWorker {
    task: tokio::task::JoinHandle<()>,
    /// The cancel flag of the build in progress, if any.
    current: Arc<Mutex<Option<Arc<AtomicBool>>>>,
}

impl PackageWorker {
    /// Stops the build in progress and the worker (see the module documentation).
    pub fn stop(self) {
        self.task.abort();
        if let Ok(current) = self.current.lock()
            && let Some(flag) = current.as_ref()
        {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

/// A running job whose worker has not reported for this long belongs to a server that
/// died (workers report every second).
pub const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(2);

/// Puts back in the queue the jobs whose worker stopped reporting [`STALE_AFTER`] ago.
pub(crate) async fn requeue_stale(state: &AppState) -> Result<u64, WebError> {
    Ok(state
        .store
        .requeue_stale_jobs(Utc::now() - STALE_AFTER)
        .await?)
}

/// Deals with jobs left running, then starts the worker. Alone on its SQLite file, this
/// process ran them: they are marked failed. On a shared PostgreSQL database another
/// instance may be running them: only those without a heartbeat for [`STALE_AFTER`] go
/// back to the queue, to be taken over (see also `housekeeping`).
pub async fn start_jobs(state: &AppState) -> Result<PackageWorker, WebError> {
    if state.store.backend() == fazhi_store::Backend::Postgres {
        let n = requeue_stale(state).await?;
        if n > 0 {
            tracing::warn!("有 {n} 个材料汇编的生成已中断（其服务器已停止），已重新排队");
        }
    } else {
        let n = state
            .store
            .fail_interrupted_jobs(INTERRUPTED_MESSAGE)
            .await?;
        if n > 0 {
            tracing::warn!("上次停止时有 {n} 个材料汇编正在生成，已标记为失败");
        }
    }
    let current = Arc::new(Mutex::new(None));
    let task = tokio::spawn(work(state.clone(), Arc::clone(&current)));
    Ok(PackageWorker { task, current })
}

async fn work(state: AppState, current: Arc<Mutex<Option<Arc<AtomicBool>>>>) {
    let settings = state.config.package_settings();
    loop {
        match state.store.claim_job(JOB_KIND).await {
            Ok(Some(job)) => {
                let cancel = Arc::new(AtomicBool::new(false));
                if let Ok(mut c) = current.lock() {
                    *c = Some(Arc::clone(&cancel));
                }
                let control = Control {
                    progress: Arc::new(|_| {}),
                    cancel,
                };
                let expires = Utc::now() + settings.keep_for;
                // The outcome is recorded on the job (and audited) by run_job.
                let output = Output::FileStore {
                    work_dir: &settings.dir,
                };
                match run_job(
                    &state.store,
                    &state.files,
                    &job,
                    output,
                    Some(expires),
                    control,
                )
                .await
                {
                    Ok(built) => tracing::info!(job = %job.id, size = built.size, "材料汇编已生成"),
                    Err(e) => tracing::info!(job = %job.id, error = %e, "材料汇编未生成"),
                }
                if let Ok(mut c) = current.lock() {
                    *c = None;
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = state.package_wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
            Err(e) => {
                tracing::warn!("无法领取材料汇编任务：{e}");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

impl AppState {
    /// Tells the worker a build was queued (a no-op when no worker runs).
    pub(crate) fn wake_package_worker(&self) {
        self.package_wake.notify_one();
    }
}
