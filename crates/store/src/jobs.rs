//! Background jobs (后台任务): long work that runs outside a request, such as building a
//! 佐证材料汇编 (kind `package`).
//!
//! A job is created `queued`, claimed by one worker (`running`; on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so several workers never take the same job; SQLite serialises
//! writers anyway), reports its progress (files and bytes done of total), and ends `done`
//! (with its result file: path, size, SHA-256, and when it expires), `failed` (with the
//! reason) or `cancelled`. Cancelling a queued job ends it at once; a running one is asked
//! to stop (`cancel_requested`), which its worker sees at its next progress report.
//!
//! Each claim counts one more `attempt`; the worker's reports and its ending
//! ([`Store::report_job_progress`], [`Store::finish_job`], …) name the attempt it was given,
//! so a worker whose job was put back in the queue and taken by another (its server lost the
//! database for longer than the heartbeat allows) is told [`JobSignal::Lost`] and records
//! nothing.
//!
//! Audit codes, with the job's kind as prefix (`package.request`, …): `.request` (created),
//! `.build` (finished with a result), `.fail`, `.cancel`, `.download` (see
//! [`Store::record_job_download`]) and `.expire` (removed by [`Store::purge_expired_jobs`]).
//! Progress reports are not audited.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, append_audit};
use crate::entity::job;
use crate::error::{StoreError, StoreResult};
use crate::types::{Actor, JobId, UnitId, UserId, enum_from_str, enum_to_str, now};
use crate::{Backend, Store, Tx};

/// Longest kind name.
const MAX_KIND_CHARS: usize = 32;
/// Longest failure message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 2000;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// 排队中
    Queued,
    /// 进行中
    Running,
    /// 已完成
    Done,
    /// 失败
    Failed,
    /// 已取消
    Cancelled,
}

impl JobStatus {
    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "排队中",
            JobStatus::Running => "进行中",
            JobStatus::Done => "已完成",
            JobStatus::Failed => "失败",
            JobStatus::Cancelled => "已取消",
        }
    }

    /// Whether the job has ended (nothing will change it any more, but expiry).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// A job to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// What to do, e.g. `package`.
    pub kind: String,
    /// The parameters, as the worker of this kind reads them.
    pub params: serde_json::Value,
    /// The unit whose data the job covers (`None`: all units). Liaisons see only their
    /// unit's jobs.
    pub unit_id: Option<UnitId>,
}

/// Files and bytes done, of the total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// What a running job's worker learns when it reports its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobSignal {
    /// Go on.
    Continue,
    /// The job was cancelled: stop, and call [`Store::job_cancelled`].
    Stop,
    /// The job is no longer this worker's (put back in the queue and perhaps taken by another
    /// worker, or ended): stop and record nothing.
    Lost,
}

/// What a finished job produced: a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// Where the file is (a path on the server, or a file-store key).
    pub path: String,
    pub size: u64,
    /// SHA-256 of the file, 64 lower-case hex digits.
    pub sha256: String,
    /// When the file is deleted (`None`: kept until removed by hand).
    pub expires_at: Option<DateTime<Utc>>,
    /// A summary for the page (counts, warnings), as the kind defines it.
    pub summary: serde_json::Value,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub params: serde_json::Value,
    pub status: JobStatus,
    pub progress: JobProgress,
    pub cancel_requested: bool,
    /// Why it failed.
    pub message: Option<String>,
    pub result_path: Option<String>,
    pub result_size: Option<u64>,
    pub result_sha256: Option<String>,
    pub result_summary: Option<serde_json::Value>,
    pub created_by_user_id: Option<UserId>,
    pub created_by_name: String,
    pub unit_id: Option<UnitId>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// How many times a worker claimed it; the claim a worker holds.
    pub attempt: u32,
}

/// Which jobs [`Store::jobs`] lists; every set field must match. Newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    pub kind: Option<String>,
    /// `Some(None)`: only jobs covering all units; `Some(Some(u))`: only unit `u`'s.
    pub unit: Option<Option<UnitId>>,
    pub status: Option<JobStatus>,
    /// At most this many (newest first); `None`: all.
    pub limit: Option<u64>,
}

fn to_u64(v: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v}")))
}

fn to_i64(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::invalid("数值超出范围"))
}

impl TryFrom<job::Model> for Job {
    type Error = StoreError;
    fn try_from(m: job::Model) -> StoreResult<Self> {
        let parse = |s: &str| {
            serde_json::from_str::<serde_json::Value>(s)
                .map_err(|e| StoreError::Corrupt(format!("后台任务 #{} 的参数：{e}", m.id)))
        };
        Ok(Job {
            id: JobId(m.id),
            params: parse(&m.params_json)?,
            status: enum_from_str(&m.status)?,
            progress: JobProgress {
                files_done: to_u64(m.files_done, "已完成文件数")?,
                files_total: to_u64(m.files_total, "文件总数")?,
                bytes_done: to_u64(m.bytes_done, "已完成字节数")?,
                bytes_total: to_u64(m.bytes_total, "总字节数")?,
            },
            cancel_requested: m.cancel_requested,
            message: m.message.clone(),
            result_path: m.result_path.clone(),
            result_size: m.result_size.map(|s| to_u64(s, "结果大小")).transpose()?,
            result_sha256: m.result_sha256.clone(),
            result_summary: m.result_json.as_deref().map(parse).transpose()?,
            created_by_user_id: m.created_by_user_id.map(UserId),
            created_by_name: m.created_by_name.clone(),
            unit_id: m.unit_id.map(UnitId),
            created_at: m.created_at,
            started_at: m.started_at,
            finished_at: m.finished_at,
            expires_at: m.expires_at,
            attempt: u32::try_from(m.attempt).map_err(|_| {
                StoreError::Corrupt(format!("后台任务 #{} 的次数 {}", m.id, m.attempt))
            })?,
            kind: m.kind,
        })
    }
}

/// The audit view of a job: what it was asked to do and what became of it.
fn audit_view(j: &Job) -> serde_json::Value {
    serde_json::json!({
        "kind": j.kind,
        "params": j.params,
        "status": j.status,
        "unit_id": j.unit_id,
        "result_size": j.result_size,
        "result_sha256": j.result_sha256,
        "expires_at": j.expires_at,
        "message": j.message,
    })
}

async fn load(conn: &impl sea_orm::ConnectionTrait, id: JobId) -> StoreResult<Job> {
    job::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("后台任务 #{id}")))?
        .try_into()
}

async fn audit(tx: &Tx, actor: &Actor, job: &Job, verb: &str) -> StoreResult<()> {
    append_audit(
        tx,
        AuditEntry::new(
            actor,
            format!("{}.{verb}", job.kind),
            "job",
            Some(job.id.to_string()),
        )
        .after(audit_view(job)),
    )
    .await?;
    Ok(())
}

/// Sets a running job's final status (only if it is still running in the attempt `claimed`
/// names), returns it.
async fn end_running(
    tx: &Tx,
    claimed: &Job,
    status: JobStatus,
    message: Option<String>,
    result: Option<&JobResult>,
) -> StoreResult<Job> {
    let conn = tx.connection();
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(enum_to_str(&status)))
        .col_expr(job::Column::FinishedAt, Expr::value(now()))
        .col_expr(job::Column::Message, Expr::value(message));
    if let Some(r) = result {
        let summary = serde_json::to_string(&r.summary)
            .map_err(|e| StoreError::invalid(format!("结果摘要无法保存：{e}")))?;
        update = update
            .col_expr(job::Column::ResultPath, Expr::value(r.path.clone()))
            .col_expr(job::Column::ResultSize, Expr::value(to_i64(r.size)?))
            .col_expr(job::Column::ResultSha256, Expr::value(r.sha256.clone()))
            .col_expr(job::Column::ResultJson, Expr::value(summary))
            .col_expr(job::Column::ExpiresAt, Expr::value(r.expires_at));
    }
    let id = claimed.id;
    let updated = update
        .filter(job::Column::Id.eq(id.0))
        .filter(job::Column::Status.eq(enum_to_str(&JobStatus::Running)))
        .filter(job::Column::Attempt.eq(i64::from(claimed.attempt)))
        .exec(conn)
        .await?;
    let job = load(conn, id).await?;
    if updated.rows_affected != 1 {
        return Err(if job.status == JobStatus::Running {
            StoreError::invalid(format!("后台任务 #{id} 已由另一个服务器接手"))
        } else {
            StoreError::invalid(format!(
                "后台任务 #{id} 不在进行中（{}）",
                job.status.label()
            ))
        });
    }
    Ok(job)
}

fn clip(message: &str) -> String {
    message.chars().take(MAX_MESSAGE_CHARS).collect()
}

impl Store {
    /// Creates a queued job (audited as `<kind>.request`).
    pub async fn create_job(&self, new: NewJob, actor: &Actor) -> StoreResult<JobId> {
        let kind = new.kind.trim();
        if kind.is_empty()
            || kind.chars().count() > MAX_KIND_CHARS
            || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            return Err(StoreError::invalid("后台任务类型无效"));
        }
        let params = serde_json::to_string(&new.params)
            .map_err(|e| StoreError::invalid(format!("后台任务参数无效：{e}")))?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let row = job::ActiveModel {
            kind: Set(kind.to_string()),
            params_json: Set(params),
            status: Set(enum_to_str(&JobStatus::Queued)),
            files_done: Set(0),
            files_total: Set(0),
            bytes_done: Set(0),
            bytes_total: Set(0),
            cancel_requested: Set(false),
            attempt: Set(0),
            created_by_user_id: Set(actor.user_id.map(|u| u.0)),
            created_by_name: Set(actor.name.clone()),
            unit_id: Set(new.unit_id.map(|u| u.0)),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        let job = load(conn, JobId(row.id)).await?;
        audit(&tx, actor, &job, "request").await?;
        tx.commit().await?;
        Ok(job.id)
    }

    /// Takes the oldest queued job of `kind` for this worker: it becomes `running`.
    /// `None` when nothing is queued (or every queued job is being taken by another worker).
    pub async fn claim_job(&self, kind: &str) -> StoreResult<Option<Job>> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let mut query = job::Entity::find()
            .filter(job::Column::Kind.eq(kind))
            .filter(job::Column::Status.eq(enum_to_str(&JobStatus::Queued)))
            .order_by_asc(job::Column::Id)
            .limit(1);
        if self.backend() == Backend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let Some(row) = query.one(conn).await? else {
            return Ok(None);
        };
        let job = claim(&tx, JobId(row.id)).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Takes this queued job (the command line runs the job it just created). `None` when it
    /// is no longer queued (another worker took it, or it was cancelled).
    pub async fn claim_job_id(&self, id: JobId) -> StoreResult<Option<Job>> {
        let tx = self.begin().await?;
        let job = claim(&tx, id).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Records the progress of a running job, as claimed in `job` (its attempt), and tells
    /// the worker whether to go on.
    pub async fn report_job_progress(&self, job: &Job, p: JobProgress) -> StoreResult<JobSignal> {
        let conn = self.connection();
        let updated = job::Entity::update_many()
            .col_expr(job::Column::FilesDone, Expr::value(to_i64(p.files_done)?))
            .col_expr(job::Column::FilesTotal, Expr::value(to_i64(p.files_total)?))
            .col_expr(job::Column::BytesDone, Expr::value(to_i64(p.bytes_done)?))
            .col_expr(job::Column::BytesTotal, Expr::value(to_i64(p.bytes_total)?))
            .col_expr(job::Column::HeartbeatAt, Expr::value(Some(now())))
            .filter(job::Column::Id.eq(job.id.0))
            .filter(job::Column::Status.eq(enum_to_str(&JobStatus::Running)))
            .filter(job::Column::Attempt.eq(i64::from(job.attempt)))
            .exec(conn)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(JobSignal::Lost);
        }
        let row = job::Entity::find_by_id(job.id.0)
            .one(conn)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("后台任务 #{}", job.id)))?;
        Ok(if row.cancel_requested {
            JobSignal::Stop
        } else {
            JobSignal::Continue
        })
    }

    /// Whether the job was asked to stop.
    pub async fn job_cancel_requested(&self, id: JobId) -> StoreResult<bool> {
        Ok(load(self.connection(), id).await?.cancel_requested)
    }

    /// Ends a running job with its result (audited as `<kind>.build`, by `actor`: who asked
    /// for it).
    pub async fn finish_job(&self, job: &Job, result: JobResult, actor: &Actor) -> StoreResult<()> {
        if !(result.sha256.len() == 64
            && result
                .sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        {
            return Err(StoreError::invalid("结果文件的 SHA-256 无效"));
        }
        let tx = self.begin().await?;
        let job = end_running(&tx, job, JobStatus::Done, None, Some(&result)).await?;
        audit(&tx, actor, &job, "build").await?;
        tx.commit().await
    }

    /// Ends a running job as failed, with the reason (audited as `<kind>.fail`).
    pub async fn fail_job(&self, job: &Job, message: &str, actor: &Actor) -> StoreResult<()> {
        let tx = self.begin().await?;
        let job = end_running(&tx, job, JobStatus::Failed, Some(clip(message)), None).await?;
        audit(&tx, actor, &job, "fail").await?;
        tx.commit().await
    }

    /// The worker stopped a running job because it was asked to (audited as
    /// `<kind>.cancel`).
    pub async fn job_cancelled(&self, job: &Job, actor: &Actor) -> StoreResult<()> {
        let tx = self.begin().await?;
        let job = end_running(&tx, job, JobStatus::Cancelled, None, None).await?;
        audit(&tx, actor, &job, "cancel").await?;
        tx.commit().await
    }

    /// Cancels a job: a queued one ends at once (returns its new state); a running one is
    /// asked to stop and ends when its worker notices. A job that has ended is left as it is
    /// (an error says so).
    pub async fn cancel_job(&self, id: JobId, actor: &Actor) -> StoreResult<Job> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = load(conn, id).await?;
        match before.status {
            JobStatus::Queued => {
                job::Entity::update_many()
                    .col_expr(
                        job::Column::Status,
                        Expr::value(enum_to_str(&JobStatus::Cancelled)),
                    )
                    .col_expr(job::Column::CancelRequested, Expr::value(true))
                    .col_expr(job::Column::FinishedAt, Expr::value(now()))
                    .filter(job::Column::Id.eq(id.0))
                    .filter(job::Column::Status.eq(enum_to_str(&JobStatus::Queued)))
                    .exec(conn)
                    .await?;
            }
            JobStatus::Running => {
                job::Entity::update_many()
                    .col_expr(job::Column::CancelRequested, Expr::value(true))
                    .filter(job::Column::Id.eq(id.0))
                    .exec(conn)
                    .await?;
            }
            status => {
                return Err(StoreError::invalid(format!(
                    "后台任务 #{id} 已{}，不能取消",
                    status.label()
                )));
            }
        }
        let job = load(conn, id).await?;
        audit(&tx, actor, &job, "cancel").await?;
        tx.commit().await?;
        Ok(job)
    }

    /// A job.
    pub async fn job(&self, id: JobId) -> StoreResult<Job> {
        load(self.connection(), id).await
    }

    /// Jobs, newest first.
    pub async fn jobs(&self, filter: &JobFilter) -> StoreResult<Vec<Job>> {
        let mut query = job::Entity::find().order_by_desc(job::Column::Id);
        if let Some(kind) = &filter.kind {
            query = query.filter(job::Column::Kind.eq(kind.as_str()));
        }
        match filter.unit {
            Some(Some(u)) => query = query.filter(job::Column::UnitId.eq(u.0)),
            Some(None) => query = query.filter(job::Column::UnitId.is_null()),
            None => {}
        }
        if let Some(status) = filter.status {
            query = query.filter(job::Column::Status.eq(enum_to_str(&status)));
        }
        if let Some(limit) = filter.limit {
            query = query.limit(limit);
        }
        query
            .all(self.connection())
            .await?
            .into_iter()
            .map(Job::try_from)
            .collect()
    }

    /// Records that `actor` downloaded a finished job's result (audited as
    /// `<kind>.download`). Refused when the job has no result.
    pub async fn record_job_download(&self, id: JobId, actor: &Actor) -> StoreResult<Job> {
        let tx = self.begin().await?;
        let job = load(tx.connection(), id).await?;
        if job.status != JobStatus::Done || job.result_path.is_none() {
            return Err(StoreError::invalid(format!(
                "后台任务 #{id} 没有可下载的结果（{}）",
                job.status.label()
            )));
        }
        audit(&tx, actor, &job, "download").await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Removes the jobs whose result expired before `at` and returns them, so the caller
    /// deletes their files (audited as `<kind>.expire`, by the system).
    pub async fn purge_expired_jobs(&self, at: DateTime<Utc>) -> StoreResult<Vec<Job>> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let rows = job::Entity::find()
            .filter(job::Column::ExpiresAt.lt(at))
            .order_by_asc(job::Column::Id)
            .all(conn)
            .await?;
        let mut gone = Vec::with_capacity(rows.len());
        for row in rows {
            let job = Job::try_from(row)?;
            job::Entity::delete_by_id(job.id.0).exec(conn).await?;
            audit(&tx, &Actor::system(), &job, "expire").await?;
            gone.push(job);
        }
        tx.commit().await?;
        Ok(gone)
    }

    /// Running jobs whose worker has not reported since `before` go back to the queue, for
    /// any instance to take over (its worker died with its server). Returns how many.
    pub async fn requeue_stale_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let stale = sea_orm::Condition::any()
            .add(job::Column::HeartbeatAt.lt(before))
            .add(
                sea_orm::Condition::all()
                    .add(job::Column::HeartbeatAt.is_null())
                    .add(job::Column::StartedAt.lt(before)),
            );
        let moved = job::Entity::update_many()
            .col_expr(
                job::Column::Status,
                Expr::value(enum_to_str(&JobStatus::Queued)),
            )
            .col_expr(
                job::Column::StartedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                job::Column::HeartbeatAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(job::Column::Status.eq(enum_to_str(&JobStatus::Running)))
            .filter(stale)
            .exec(self.connection())
            .await?
            .rows_affected;
        Ok(moved)
    }

    /// Marks every running job failed with `message`: at start-up, jobs left running belong
    /// to a process that is gone. Returns how many there were.
    pub async fn fail_interrupted_jobs(&self, message: &str) -> StoreResult<usize> {
        let running = self
            .jobs(&JobFilter {
                status: Some(JobStatus::Running),
                ..Default::default()
            })
            .await?;
        for job in &running {
            self.fail_job(job, message, &Actor::system()).await?;
        }
        Ok(running.len())
    }
}

/// Queued → running for this id, inside the caller's transaction.
async fn claim(tx: &Tx, id: JobId) -> StoreResult<Option<Job>> {
    let conn = tx.connection();
    let updated = job::Entity::update_many()
        .col_expr(
            job::Column::Status,
            Expr::value(enum_to_str(&JobStatus::Running)),
        )
        .col_expr(job::Column::StartedAt, Expr::value(now()))
        .col_expr(job::Column::HeartbeatAt, Expr::value(Some(now())))
        .col_expr(job::Column::Attempt, Expr::col(job::Column::Attempt).add(1))
        .filter(job::Column::Id.eq(id.0))
        .filter(job::Column::Status.eq(enum_to_str(&JobStatus::Queued)))
        .exec(conn)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(None);
    }
    load(conn, id).await.map(Some)
}
