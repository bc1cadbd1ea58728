//! Periodic clean-up: expired sessions, login failures past their window, abandoned import
//! previews, unfinished resumable uploads, stored files that no evidence refers to (what a
//! crash between storing a file and recording it leaves), and finished 佐证材料汇编 past
//! their keep time. Run by `fazhi serve` every [`INTERVAL`] and by `fazhi gc`.

use std::time::Duration;

use futures_util::TryStreamExt;

use crate::AppState;
use crate::error::WebError;

pub const INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Files and previews younger than this are left alone: an upload may be between storing
/// its file and recording it.
pub const GRACE: chrono::Duration = chrono::Duration::days(1);
/// The longest a single upload request may take (a 2 GiB file at 25 KiB/s); temporary
/// files older than this belong to no upload in progress on any instance.
pub const LONGEST_UPLOAD: Duration = Duration::from_secs(24 * 3600);

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub login_failures: u64,
    pub previews: u64,
    pub blobs: u64,
    /// Finished packages past their keep time (job and file).
    pub packages: u64,
    /// Resumable uploads left unfinished (see `views::uploads::KEEP_IDLE`).
    pub uploads: u64,
    /// Temporary files of uploads cut off longer ago than [`LONGEST_UPLOAD`].
    pub temp_files: u64,
    /// Package builds whose server died, put back in the queue (PostgreSQL).
    pub requeued_jobs: u64,
    /// Another instance on the same database was sweeping at that moment; this one did
    /// nothing.
    pub elsewhere: bool,
}

/// One sweep, unless another instance on the same PostgreSQL database is sweeping right
/// now (then `elsewhere`). Each part runs even when another fails; the first error is
/// returned after.
pub async fn sweep(state: &AppState) -> Result<Swept, WebError> {
    let ran = state
        .store
        .exclusively(fazhi_store::shared::Exclusive::Housekeeping, || {
            sweep_here(state)
        })
        .await?;
    ran.unwrap_or(Ok(Swept {
        elsewhere: true,
        ..Swept::default()
    }))
}

async fn sweep_here(state: &AppState) -> Result<Swept, WebError> {
    let mut swept = Swept::default();
    let mut first_error = None;
    let mut note = |e: WebError| {
        tracing::warn!("清理失败：{e}");
        first_error.get_or_insert(e);
    };
    match state.store.session_delete_expired().await {
        Ok(n) => swept.sessions = n,
        Err(e) => note(e.into()),
    }
    let before = chrono::Utc::now() - state.limiter.window;
    match state.store.purge_login_failures(before).await {
        Ok(n) => swept.login_failures = n,
        Err(e) => note(e.into()),
    }
    match purge_previews(state).await {
        Ok(n) => swept.previews = n,
        Err(e) => note(e),
    }
    match collect_blobs(state, chrono::Utc::now() - GRACE).await {
        Ok(n) => swept.blobs = n,
        Err(e) => note(e),
    }
    match fazhi_package::job::purge_expired(
        &state.store,
        &state.files,
        &state.config.package_settings(),
    )
    .await
    {
        Ok(n) => swept.packages = n as u64,
        Err(e) => note(WebError::internal(e)),
    }
    if state.store.backend() == fazhi_store::Backend::Postgres {
        // A build whose server died is taken over by whichever worker claims it next.
        match crate::jobs::requeue_stale(state).await {
            Ok(n) => swept.requeued_jobs = n,
            Err(e) => note(e),
        }
    }
    match state.files.cleanup_temp(LONGEST_UPLOAD).await {
        Ok(n) => swept.temp_files = n as u64,
        Err(e) => note(e.into()),
    }
    match crate::views::uploads::purge_abandoned(state).await {
        Ok(n) => swept.uploads = n,
        Err(e) => note(e),
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(swept),
    }
}

/// Import previews (`previews/<token>` in the file store) older than [`GRACE`].
async fn purge_previews(state: &AppState) -> Result<u64, WebError> {
    Ok(state
        .files
        .purge_previews(chrono::Utc::now() - GRACE)
        .await?)
}

/// Deletes stored files last written before `cutoff` that no evidence refers to, with
/// their metadata; returns how many.
pub async fn collect_blobs(
    state: &AppState,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<u64, WebError> {
    let old: Vec<String> = state
        .files
        .list_blob_ages()
        .try_filter_map(|(sha, at)| async move { Ok((at < cutoff).then_some(sha)) })
        .try_collect()
        .await?;
    let mut n = 0;
    for sha in old {
        if state
            .store
            .forget_unreferenced_blob_with(&sha, state.files.delete(&sha))
            .await?
        {
            n += 1;
        }
    }
    Ok(n)
}

/// Start the periodic sweep (the first one right away).
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Ok(s) = sweep(&state).await
                && s != Swept::default()
                && !s.elsewhere
            {
                tracing::info!(
                    "已清理：过期会话 {} 个，登录失败记录 {} 条，导入预览 {} 个，无引用文件 {} 个，过期的材料汇编 {} 个，未完成的分段上传 {} 个，中断上传的临时文件 {} 个，重新排队的材料汇编 {} 个",
                    s.sessions,
                    s.login_failures,
                    s.previews,
                    s.blobs,
                    s.packages,
                    s.uploads,
                    s.temp_files,
                    s.requeued_jobs
                );
            }
        }
    })
}
