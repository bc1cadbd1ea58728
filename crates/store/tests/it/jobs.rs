//! Background jobs: create, claim (once), progress, cancel, finish, download, expiry, and the
//! audit entries of each step.

use chrono::{Duration, Utc};
use fazhi_store::{
    Actor, AuditFilter, JobFilter, JobProgress, JobResult, JobSignal, JobStatus, NewJob, Store,
    UnitId,
};

use crate::common::*;

store_tests!(
    job_lifecycle,
    jobs_are_claimed_once,
    cancel_queued_and_running,
    a_job_whose_worker_died_is_taken_over
);

/// A running job that reports is left alone; one whose worker stopped reporting goes back
/// to the queue and another worker takes it. The first worker, back from its outage, learns
/// it lost the job and cannot end it.
async fn a_job_whose_worker_died_is_taken_over(db: Db) {
    let s = db.store;
    let id = s
        .create_job(package_job(None), &Actor::system())
        .await
        .unwrap();
    let job = s.claim_job("package").await.unwrap().expect("claimed");
    assert_eq!(job.id, id);
    assert_eq!(job.attempt, 1);
    assert_eq!(
        s.report_job_progress(&job, JobProgress::default())
            .await
            .unwrap(),
        JobSignal::Continue
    );
    // Reporting: not stale.
    assert_eq!(
        s.requeue_stale_jobs(Utc::now() - Duration::minutes(2))
            .await
            .unwrap(),
        0
    );
    assert_eq!(s.job(id).await.unwrap().status, JobStatus::Running);
    // No report since "a minute from now": its worker is gone.
    assert_eq!(
        s.requeue_stale_jobs(Utc::now() + Duration::minutes(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.job(id).await.unwrap().status, JobStatus::Queued);
    // Requeued: the old worker's next report tells it to stop.
    assert_eq!(
        s.report_job_progress(&job, JobProgress::default())
            .await
            .unwrap(),
        JobSignal::Lost
    );
    let again = s.claim_job("package").await.unwrap().expect("taken over");
    assert_eq!(again.id, id);
    assert_eq!(again.status, JobStatus::Running);
    assert_eq!(again.attempt, 2);
    // Taken over: still lost for the old worker, which can neither finish nor fail it.
    assert_eq!(
        s.report_job_progress(&job, JobProgress::default())
            .await
            .unwrap(),
        JobSignal::Lost
    );
    let result = JobResult {
        path: "store:packages/old.zip".into(),
        size: 1,
        sha256: "ab".repeat(32),
        expires_at: None,
        summary: serde_json::json!({}),
    };
    let err = s
        .finish_job(&job, result.clone(), &Actor::system())
        .await
        .expect_err("the old worker's result");
    assert!(err.to_string().contains("另一个服务器"), "{err}");
    assert!(s.fail_job(&job, "x", &Actor::system()).await.is_err());
    assert_eq!(s.job(id).await.unwrap().status, JobStatus::Running);
    // The new worker's are taken.
    assert_eq!(
        s.report_job_progress(&again, JobProgress::default())
            .await
            .unwrap(),
        JobSignal::Continue
    );
    s.finish_job(&again, result, &Actor::system())
        .await
        .unwrap();
    assert_eq!(s.job(id).await.unwrap().status, JobStatus::Done);
}

fn package_job(unit: Option<UnitId>) -> NewJob {
    NewJob {
        kind: "package".into(),
        params: serde_json::json!({"format": "zip", "approved_only": true}),
        unit_id: unit,
    }
}

async fn actions(s: &Store) -> Vec<String> {
    s.audit_entries(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .filter(|a| a.starts_with("package."))
        .rev() // the log lists newest first
        .collect()
}

async fn job_lifecycle(db: Db) {
    let s = db.store;
    let office = Actor::system();
    let id = s.create_job(package_job(None), &office).await.unwrap();
    let job = s.job(id).await.unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.params["format"], "zip");

    let claimed = s.claim_job("package").await.unwrap().expect("排队的任务");
    assert_eq!(claimed.id, id);
    assert_eq!(claimed.status, JobStatus::Running);
    assert!(claimed.started_at.is_some());

    let p = JobProgress {
        files_done: 3,
        files_total: 10,
        bytes_done: 3 << 30,
        bytes_total: 5 << 30,
    };
    assert_eq!(
        s.report_job_progress(&claimed, p).await.unwrap(),
        JobSignal::Continue
    );
    assert_eq!(s.job(id).await.unwrap().progress, p);

    // No result yet: nothing to download.
    assert!(s.record_job_download(id, &office).await.is_err());

    let expires = Utc::now() + Duration::hours(1);
    s.finish_job(
        &claimed,
        JobResult {
            path: "/srv/packages/1.zip".into(),
            size: 42,
            sha256: "ab".repeat(32),
            expires_at: Some(expires),
            summary: serde_json::json!({"files": 10}),
        },
        &office,
    )
    .await
    .unwrap();
    let done = s.job(id).await.unwrap();
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.result_size, Some(42));
    assert_eq!(done.result_summary.as_ref().unwrap()["files"], 10);
    // A finished job cannot be finished or failed again.
    assert!(s.fail_job(&claimed, "x", &office).await.is_err());

    s.record_job_download(id, &office).await.unwrap();

    // Not expired yet.
    assert!(s.purge_expired_jobs(Utc::now()).await.unwrap().is_empty());
    let gone = s
        .purge_expired_jobs(expires + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].result_path.as_deref(), Some("/srv/packages/1.zip"));
    assert!(s.job(id).await.is_err());

    assert_eq!(
        actions(&s).await,
        [
            "package.request",
            "package.build",
            "package.download",
            "package.expire"
        ]
    );
    assert!(s.verify_audit().await.unwrap().is_ok());
}

async fn jobs_are_claimed_once(db: Db) {
    let s = db.store;
    let unit = UnitId(1);
    let a = s
        .create_job(package_job(Some(unit)), &Actor::system())
        .await
        .unwrap();
    let b = s
        .create_job(package_job(None), &Actor::system())
        .await
        .unwrap();
    // Two workers at once: each job goes to exactly one of them.
    let (x, y, z) = tokio::join!(
        s.claim_job("package"),
        s.claim_job("package"),
        s.claim_job("package")
    );
    let mut got: Vec<_> = [x, y, z]
        .into_iter()
        .filter_map(|r| r.unwrap())
        .map(|j| j.id)
        .collect();
    got.sort();
    assert_eq!(got, [a, b]);
    assert!(s.claim_job("package").await.unwrap().is_none());
    assert!(s.claim_job_id(a).await.unwrap().is_none());
    // Another kind is not taken by a package worker.
    let other = NewJob {
        kind: "report".into(),
        ..package_job(None)
    };
    s.create_job(other, &Actor::system()).await.unwrap();
    assert!(s.claim_job("package").await.unwrap().is_none());

    let of_unit = s
        .jobs(&JobFilter {
            unit: Some(Some(unit)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(of_unit.iter().map(|j| j.id).collect::<Vec<_>>(), [a]);
    assert_eq!(
        s.fail_interrupted_jobs("服务重启").await.unwrap(),
        2,
        "两个进行中的任务"
    );
    let failed = s.job(b).await.unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.message.as_deref(), Some("服务重启"));
    assert!(
        s.create_job(
            NewJob {
                kind: "../x".into(),
                ..package_job(None)
            },
            &Actor::system()
        )
        .await
        .is_err()
    );
}

async fn cancel_queued_and_running(db: Db) {
    let s = db.store;
    let office = Actor::system();
    let queued = s.create_job(package_job(None), &office).await.unwrap();
    let j = s.cancel_job(queued, &office).await.unwrap();
    assert_eq!(j.status, JobStatus::Cancelled);
    assert!(s.claim_job_id(queued).await.unwrap().is_none());
    assert!(
        s.cancel_job(queued, &office).await.is_err(),
        "已取消的不能再取消"
    );

    let running = s.create_job(package_job(None), &office).await.unwrap();
    let claimed = s.claim_job_id(running).await.unwrap().unwrap();
    let j = s.cancel_job(running, &office).await.unwrap();
    assert_eq!(j.status, JobStatus::Running, "进行中的任务等工作者停下");
    assert!(j.cancel_requested);
    assert_eq!(
        s.report_job_progress(&claimed, JobProgress::default())
            .await
            .unwrap(),
        JobSignal::Stop,
        "工作者在下次报告进度时得知已取消"
    );
    s.job_cancelled(&claimed, &office).await.unwrap();
    assert_eq!(s.job(running).await.unwrap().status, JobStatus::Cancelled);
}
