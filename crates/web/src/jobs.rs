//! The server's background work on 佐证材料汇编 jobs: at start, jobs left running by a
//! server that stopped are marked failed; then one worker task claims the queued builds
//! and runs them one after another (`fazhi_package::job::run_queued`: the archive is
//! written on the blocking pool, so requests are never held up). A new request wakes the
//! worker at once; it also looks every [`POLL`] for jobs queued by another process.
//! Expired packages are deleted by the periodic housekeeping (`housekeeping::sweep`).

use std::time::Duration;

use crate::AppState;
use crate::error::WebError;

/// How often the worker looks for queued jobs when nobody woke it.
pub const POLL: Duration = Duration::from_secs(30);

/// The reason given on a job that was running when the server stopped.
pub const INTERRUPTED_MESSAGE: &str =
    "生成过程中平台停止运行（重启或关机），没有生成文件，请重新生成";

/// Marks interrupted jobs failed, then starts the worker.
pub async fn start_jobs(state: &AppState) -> Result<tokio::task::JoinHandle<()>, WebError> {
    let n = state
        .store
        .fail_interrupted_jobs(INTERRUPTED_MESSAGE)
        .await?;
    if n > 0 {
        tracing::warn!("上次停止时有 {n} 个材料汇编正在生成，已标记为失败");
    }
    Ok(spawn_worker(state.clone()))
}

fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let settings = state.config.package_settings();
        loop {
            match fazhi_package::job::run_queued(&state.store, &state.files, &settings).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("已处理材料汇编任务 {n} 个"),
                Err(e) => tracing::warn!("材料汇编任务无法运行：{e}"),
            }
            tokio::select! {
                () = state.package_wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

impl AppState {
    /// Tells the worker a build was queued (a no-op when no worker runs).
    pub(crate) fn wake_package_worker(&self) {
        self.package_wake.notify_one();
    }
}
