//! 佐证材料汇编 over HTTP: the office builds and downloads (whole and by range), a liaison
//! only its own unit's, cancelling, the server's worker, expiry, and the API.

use axum::http::StatusCode;
use fazhi_store::{AuditFilter, JobId, JobStatus, UserRole};
use sha2::{Digest, Sha256};

use crate::{App, Client, number_after};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A round with one approved file of 县司法局 (item 25) and one unapproved file of 县财政局.
struct Site {
    app: App,
    admin: Client,
    sifa: Client,
    caizheng: Client,
}

async fn upload(c: &mut Client, task: i64, title: &str, name: &str) -> i64 {
    let t = format!("/tasks/{task}");
    let r = c.post(&format!("{t}/action"), &[("action", "sign")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    c.get(&t).await;
    let r = c
        .upload_with(&format!("{t}/files"), &[("title", title)], name, PDF)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = c.get(&t).await;
    number_after(&page.text, "/evidence/")
}

async fn site() -> Site {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("viewer", UserRole::Observer, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let mut sifa = app.login("sifa").await;
    let task = sifa.task_id("25").await;
    let evidence = upload(&mut sifa, task, "合法性审核台账", "台账.pdf").await;
    admin.get(&format!("/tasks/{task}")).await;
    let r = admin
        .post(
            &format!("/evidence/{evidence}/review"),
            &[("verdict", "ok")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let mut caizheng = app.login("caizheng").await;
    let list = caizheng.get("/tasks").await;
    let theirs = number_after(&list.text, "href=\"/tasks/");
    upload(&mut caizheng, theirs, "预算公开材料", "预算.pdf").await;
    Site {
        app,
        admin,
        sifa,
        caizheng,
    }
}

/// Runs the queued builds as the server's worker does; returns how many ran.
async fn run_queued(app: &App) -> usize {
    fazhi_package::job::run_queued(
        &app.store,
        &app.state.files,
        &app.state.config.package_settings(),
    )
    .await
    .expect("jobs run")
}

/// Submits the page's form; returns the new job's id from the flash message.
async fn build(c: &mut Client, fields: &[(&str, &str)]) -> i64 {
    c.get("/packages").await;
    let r = c.post("/packages", fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to = r.location.clone().unwrap_or_default();
    let page = c.get("/packages").await;
    assert!(page.text.contains("已开始生成材料汇编 #"), "{}", page.text);
    let id = number_after(&page.text, "已开始生成材料汇编 #");
    assert_eq!(to, format!("/packages#job-{id}"), "to the new job's card");
    assert!(page.text.contains(&format!("id=\"job-{id}\"")));
    id
}

fn actions(entries: &[fazhi_store::AuditRecord], job: i64) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.entity == "job" && e.entity_id.as_deref() == Some(&job.to_string()))
        .map(|e| format!("{} {}", e.action, e.actor_name))
        .collect()
}

#[tokio::test]
async fn the_office_builds_watches_and_downloads_a_package_by_ranges() {
    let Site { app, mut admin, .. } = site().await;
    let page = admin.get("/packages").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("2026年度创建工作（正在办理）"));
    assert!(
        page.text.contains("<option value=\"一\">一、"),
        "{}",
        page.text
    );
    assert!(page.text.contains("还没有生成过材料汇编"));
    assert!(
        page.text.contains("href=\"/packages\""),
        "in the navigation"
    );
    let id = build(&mut admin, &[("round", ""), ("evidence", "approved")]).await;

    // Queued: the list asks htmx to poll it, and shows the job waiting.
    let list = admin.get("/packages/jobs").await;
    assert!(
        list.text
            .contains("hx-get=\"/packages/jobs\" hx-trigger=\"every 2s\""),
        "{}",
        list.text
    );
    assert!(list.text.contains("排队中"), "{}", list.text);
    assert!(list.text.contains("<progress"), "{}", list.text);
    assert!(!list.text.contains("<html"), "a fragment, not a page");

    assert_eq!(run_queued(&app).await, 1);
    let job = app.store.job(JobId(id)).await.unwrap();
    assert_eq!(job.status, JobStatus::Done, "{:?}", job.message);
    let sha = job.result_sha256.clone().unwrap();
    let size = job.result_size.unwrap();
    assert_eq!(job.progress.files_done, 1, "only the approved file");

    let list = admin.get("/packages/jobs").await;
    assert!(!list.text.contains("hx-trigger"), "nothing left to watch");
    assert!(list.text.contains("已完成"));
    assert!(list.text.contains(&sha), "the SHA-256 is listed");
    assert!(list.text.contains("保留至"));
    assert!(
        list.text.contains("尚未审核合格、没有收入的材料 1 份"),
        "{}",
        list.text
    );
    assert!(list.text.contains(&format!("href=\"/packages/{id}/file\"")));

    let r = admin.get(&format!("/packages/{id}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/zip");
    assert_eq!(r.bytes.len() as u64, size);
    assert_eq!(hex::encode(Sha256::digest(&r.bytes)), sha);
    assert_eq!(r.headers["accept-ranges"], "bytes");
    let disposition = r.headers["content-disposition"].to_str().unwrap();
    let name = percent_encoding::utf8_percent_encode(
        "佐证材料汇编_2026年度创建工作_全部责任单位_全部指标_仅审核合格的材料_",
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    assert!(
        disposition.starts_with(&format!(
            "attachment; filename=\"fazhi-package-{id}.zip\"; filename*=UTF-8''{name}"
        )),
        "{disposition}"
    );
    assert!(disposition.ends_with("%2Ezip"), "{disposition}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("汇编.zip");
    std::fs::write(&path, &r.bytes).unwrap();
    let report = fazhi_package::verify(&path).expect("a package");
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(
        report.intact, 4,
        "the approved file, 目录.xlsx, 目录.pdf and 说明.txt"
    );

    // Ranges: a resumed download gets exactly the bytes asked for.
    let r = admin
        .get_with(&format!("/packages/{id}/file"), &[("range", "bytes=10-99")])
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers["content-range"].to_str().unwrap(),
        format!("bytes 10-99/{size}")
    );
    let full = std::fs::read(&path).unwrap();
    assert_eq!(r.bytes, full[10..100]);
    let r = admin
        .get_with(&format!("/packages/{id}/file"), &[("range", "bytes=-7")])
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes, full[full.len() - 7..]);
    let from = format!("bytes={}-", size - 100);
    let r = admin
        .get_with(
            &format!("/packages/{id}/file"),
            &[("range", &from), ("if-range", &format!("\"{sha}\""))],
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes, full[full.len() - 100..]);
    // Another version than the one the client holds: the whole file.
    let r = admin
        .get_with(
            &format!("/packages/{id}/file"),
            &[("range", "bytes=0-9"), ("if-range", "\"0000\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes, full);
    let beyond = format!("bytes={size}-");
    let r = admin
        .get_with(&format!("/packages/{id}/file"), &[("range", &beyond)])
        .await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers["content-range"].to_str().unwrap(),
        format!("bytes */{size}")
    );

    // Audit: asked, built, and one download per request that sent bytes (not the 416).
    let entries = app
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap();
    let mut got = actions(&entries, id);
    got.sort();
    let mut want = vec![
        "package.request boss".to_string(),
        "package.build boss".into(),
    ];
    want.extend(std::iter::repeat_n("package.download boss".to_string(), 5));
    want.sort();
    assert_eq!(got, want);
    let audit = admin.get("/admin/audit?entity=job").await;
    assert!(
        audit.text.contains("后台任务（材料汇编）"),
        "{}",
        audit.text
    );
}

#[tokio::test]
async fn a_liaison_builds_and_downloads_only_its_own_units_package() {
    let Site {
        app,
        mut admin,
        mut sifa,
        mut caizheng,
    } = site().await;
    let sifa_unit = app.unit_id("县司法局").await.0;
    let cai_unit = app.unit_id("县财政局").await.0;

    // The form offers the own unit only; another unit's id is refused and queues nothing.
    let page = sifa.get("/packages").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("县司法局（本单位）"));
    assert!(!page.text.contains("县财政局"), "{}", page.text);
    let before = app.store.jobs(&Default::default()).await.unwrap().len();
    let r = sifa
        .post("/packages", &[("unit", &cai_unit.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("只能生成本单位的材料汇编"), "{}", r.text);
    assert_eq!(
        app.store.jobs(&Default::default()).await.unwrap().len(),
        before
    );

    let mine = build(
        &mut sifa,
        &[("unit", &sifa_unit.to_string()), ("evidence", "all")],
    )
    .await;
    // No unit named: the liaison's own.
    let mine_too = build(&mut sifa, &[]).await;
    let theirs = build(&mut caizheng, &[("evidence", "all")]).await;
    let whole = build(&mut admin, &[]).await;
    assert_eq!(run_queued(&app).await, 4);
    for id in [mine, mine_too, theirs, whole] {
        let job = app.store.job(JobId(id)).await.unwrap();
        assert_eq!(job.status, JobStatus::Done, "#{id}: {:?}", job.message);
    }
    assert_eq!(
        app.store
            .job(JobId(mine_too))
            .await
            .unwrap()
            .unit_id
            .map(|u| u.0),
        Some(sifa_unit)
    );

    let list = sifa.get("/packages/jobs").await;
    assert!(list.text.contains(&format!("id=\"job-{mine}\"")));
    assert!(list.text.contains(&format!("id=\"job-{mine_too}\"")));
    assert!(
        !list.text.contains(&format!("id=\"job-{theirs}\"")),
        "{}",
        list.text
    );
    assert!(!list.text.contains(&format!("id=\"job-{whole}\"")));
    assert!(list.text.contains("县司法局"));

    let r = sifa.get(&format!("/packages/{mine}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/zip");
    for other in [theirs, whole] {
        let r = sifa.get(&format!("/packages/{other}/file")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "#{other}");
        assert!(!r.text.contains("PK"), "no bytes of the archive");
        let r = sifa
            .get_with(
                &format!("/packages/{other}/file"),
                &[("range", "bytes=0-3")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "#{other} by range");
        let r = sifa.get(&format!("/api/v1/packages/{other}/file")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.json()["error"].as_str().unwrap().contains("没有权限"));
        let r = sifa.get(&format!("/api/v1/packages/{other}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    sifa.get("/packages").await;
    let r = sifa.post(&format!("/packages/{theirs}/cancel"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = sifa.get("/packages/999999/file").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The office downloads any; an observer none.
    let r = admin.get(&format!("/packages/{theirs}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut viewer = app.login("viewer").await;
    assert_eq!(viewer.get("/packages").await.status, StatusCode::FORBIDDEN);
    let r = viewer.get(&format!("/packages/{whole}/file")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The API lists the own unit's only.
    let r = sifa.get("/api/v1/packages").await;
    assert_eq!(r.status, StatusCode::OK);
    let ids: Vec<i64> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![mine_too, mine]);

    // Refused downloads leave no download record.
    let entries = app
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap();
    let downloads: Vec<(String, String)> = entries
        .iter()
        .filter(|e| e.action == "package.download")
        .map(|e| (e.entity_id.clone().unwrap(), e.actor_name.clone()))
        .collect();
    assert_eq!(
        downloads,
        vec![
            (theirs.to_string(), "boss".to_string()),
            (mine.to_string(), "sifa".to_string()),
        ]
    );
}

#[tokio::test]
async fn cancelling_a_queued_and_a_running_build() {
    let Site { app, mut admin, .. } = site().await;
    let queued = build(&mut admin, &[]).await;
    admin.get("/packages").await;
    let r = admin.post(&format!("/packages/{queued}/cancel"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get("/packages").await;
    assert!(
        page.text.contains(&format!("材料汇编 #{queued} 已取消")),
        "{}",
        page.text
    );
    assert_eq!(
        app.store.job(JobId(queued)).await.unwrap().status,
        JobStatus::Cancelled
    );
    assert_eq!(run_queued(&app).await, 0, "a cancelled job is not built");
    let r = admin.post(&format!("/packages/{queued}/cancel"), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "already ended");
    let r = admin.get(&format!("/packages/{queued}/file")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("还没有可下载的文件"), "{}", r.text);

    // A running one is asked to stop; the page says so until the worker ends it.
    let running = build(&mut admin, &[]).await;
    let job = app
        .store
        .claim_job(fazhi_package::job::JOB_KIND)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id.0, running);
    let r = admin
        .post(&format!("/packages/{running}/cancel"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get("/packages").await;
    assert!(page.text.contains(&format!("正在停止材料汇编 #{running}")));
    assert!(page.text.contains("正在取消"));
    assert!(
        !page.text.contains(&format!("/packages/{running}/cancel")),
        "asked once"
    );
    let api = admin
        .get(&format!("/api/v1/packages/{running}"))
        .await
        .json();
    assert_eq!(api["status"], "running");
    assert_eq!(api["cancel_requested"], true);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.zip");
    let ended = fazhi_package::job::run_job(
        &app.store,
        &app.state.files,
        &app.store.job(JobId(running)).await.unwrap(),
        fazhi_package::job::Output::File(&out),
        None,
        fazhi_package::Control::default(),
    )
    .await;
    // The worker sees the request at its first progress report, unless the (one-file)
    // build was quicker: either way the job has ended.
    let job = app.store.job(JobId(running)).await.unwrap();
    match ended {
        Err(fazhi_package::PackageError::Cancelled) => {
            assert_eq!(job.status, JobStatus::Cancelled);
            assert!(!out.exists(), "a cancelled build leaves no file");
        }
        Ok(_) => assert_eq!(job.status, JobStatus::Done),
        Err(e) => panic!("{e}"),
    }
    let entries = app
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap();
    assert!(actions(&entries, queued).contains(&"package.cancel boss".to_string()));
    assert!(actions(&entries, running).contains(&"package.cancel boss".to_string()));
}

#[tokio::test]
async fn the_servers_worker_builds_and_fails_what_a_stopped_server_left_running() {
    let Site { app, mut admin, .. } = site().await;
    // A build that was running when the server stopped.
    let left = build(&mut admin, &[]).await;
    app.store
        .claim_job(fazhi_package::job::JOB_KIND)
        .await
        .unwrap()
        .unwrap();
    let worker = fazhi_web::start_jobs(&app.state)
        .await
        .expect("worker starts");
    let job = app.store.job(JobId(left)).await.unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.message.as_deref(), Some(fazhi_web::INTERRUPTED_MESSAGE));
    let page = admin.get("/packages").await;
    assert!(
        page.text.contains("未能生成：生成过程中平台停止运行"),
        "{}",
        page.text
    );

    // A new request wakes the worker, which builds it while requests go on.
    let id = build(&mut admin, &[]).await;
    let mut status = JobStatus::Queued;
    for _ in 0..300 {
        status = app.store.job(JobId(id)).await.unwrap().status;
        if status.is_final() {
            break;
        }
        assert_eq!(admin.get("/packages/jobs").await.status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    worker.stop();
    assert_eq!(status, JobStatus::Done);
    let r = admin.get(&format!("/packages/{id}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    let entries = app
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap();
    assert!(
        actions(&entries, left)
            .iter()
            .any(|a| a.starts_with("package.fail"))
    );
}

#[tokio::test]
async fn finished_packages_are_deleted_after_their_keep_time() {
    let app = App::custom(|c| c.package_keep_days = 0, |_| {}).await;
    app.user("boss", UserRole::Admin, None).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let id = build(&mut admin, &[("evidence", "all")]).await;
    assert_eq!(run_queued(&app).await, 1);
    // Nothing uploaded yet: the list says the package holds no material.
    let list = admin.get("/packages/jobs").await;
    assert!(
        list.text
            .contains("汇编中没有任何材料：所选范围内还没有上传佐证材料"),
        "{}",
        list.text
    );
    let path = app.store.job(JobId(id)).await.unwrap().result_path.unwrap();
    let name = fazhi_package::job::stored_result_name(&path).expect("kept in the file store");
    assert!(app.state.files.result_size(name).await.unwrap().is_some());
    let swept = fazhi_web::sweep(&app.state).await.unwrap();
    assert_eq!(swept.packages, 1);
    assert_eq!(
        app.state.files.result_size(name).await.unwrap(),
        None,
        "the file is deleted"
    );
    let r = admin.get(&format!("/packages/{id}/file")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("已过期删除"), "{}", r.text);
    let entries = app
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap();
    assert!(
        actions(&entries, id)
            .iter()
            .any(|a| a.starts_with("package.expire"))
    );
}

#[tokio::test]
async fn the_api_builds_lists_cancels_and_downloads() {
    let Site { app, mut admin, .. } = site().await;
    admin.get("/account/tokens").await;
    let page = admin
        .post(
            "/account/tokens",
            &[("name", "汇编脚本"), ("write", "true")],
        )
        .await;
    let mut api = app.client();
    api.bearer = Some(crate::hardening::new_token(&page.text));

    let r = api
        .post_json(
            "/api/v1/packages",
            &serde_json::json!({"heading": "不存在"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"].as_str().unwrap().contains("没有一级指标"),
        "{}",
        r.text
    );
    let r = api
        .post_json("/api/v1/packages", &serde_json::json!({"all": "yes"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("请求体无法读取")
    );
    let r = api
        .post_json("/api/v1/packages", &serde_json::json!({"unit_id": 999999}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    let r = api
        .post_json(
            "/api/v1/packages",
            &serde_json::json!({"heading": "一", "all": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let job = r.json();
    assert_eq!(job["status"], "queued");
    assert_eq!(job["status_label"], "排队中");
    assert!(job["download_url"].is_null());
    let id = job["id"].as_i64().unwrap();
    let r = api
        .post_json("/api/v1/packages", &serde_json::json!({}))
        .await;
    let other = r.json()["id"].as_i64().unwrap();
    let r = api
        .post_json(
            &format!("/api/v1/packages/{other}/cancel"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "cancelled");

    assert_eq!(run_queued(&app).await, 1);
    let job = api.get(&format!("/api/v1/packages/{id}")).await.json();
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["files_done"], job["files_total"]);
    let url = job["download_url"].as_str().unwrap().to_string();
    assert_eq!(url, format!("/api/v1/packages/{id}/file"));
    let r = api.get_with(&url, &[("range", "bytes=0-3")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes, b"PK\x03\x04");
    let r = api.get(&url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes.len() as u64, job["size"].as_u64().unwrap());
    assert_eq!(
        hex::encode(Sha256::digest(&r.bytes)),
        job["sha256"].as_str().unwrap()
    );
    let list = api.get("/api/v1/packages").await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // A read-only token reads but does not build.
    admin.get("/account/tokens").await;
    let page = admin.post("/account/tokens", &[("name", "只读")]).await;
    let mut reader = app.client();
    reader.bearer = Some(crate::hardening::new_token(&page.text));
    assert_eq!(reader.get("/api/v1/packages").await.status, StatusCode::OK);
    let r = reader
        .post_json("/api/v1/packages", &serde_json::json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn stopping_the_server_mid_build_leaves_no_file_and_the_next_start_fails_the_job() {
    let Site {
        app,
        mut admin,
        mut sifa,
        ..
    } = site().await;
    // A recording large enough to be caught mid-build: 512 MiB streamed into the store.
    let chunk = bytes::Bytes::from(vec![0u8; 1 << 20]);
    let chunks =
        futures_util::stream::iter((0..512).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let blob = app.state.files.put_stream(chunks, 1 << 30).await.unwrap();
    app.store
        .put_blob(&blob.sha256, blob.size, blob.content_type)
        .await
        .unwrap();
    let task = fazhi_store::TaskId(sifa.task_id("25").await);
    let actor = fazhi_store::Actor::system();
    let evidence = app
        .store
        .add_file_evidence(
            task,
            fazhi_store::NewEvidence {
                title: "执法全过程录像".into(),
                doc_number: None,
                doc_date: None,
            },
            &blob.sha256,
            Some("录像.mp4"),
            &actor,
        )
        .await
        .unwrap();
    app.store
        .review_evidence(evidence, fazhi_store::Verdict::Ok, None, &actor)
        .await
        .unwrap();

    let worker = fazhi_web::start_jobs(&app.state).await.unwrap();
    let id = build(&mut admin, &[]).await;
    let dir = app.state.config.package_settings().dir;
    // The working file of the job's first attempt.
    let name = format!("package-{id}-1.zip");
    let part = dir.join(format!(".{name}.part"));
    let mut writing = false;
    for _ in 0..3000 {
        if std::fs::metadata(&part).is_ok_and(|m| m.len() > 0) {
            writing = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(writing, "the build started writing {}", part.display());
    worker.stop();
    // The writer sees the stop at its next chunk and removes what it wrote.
    let mut gone = false;
    for _ in 0..1000 {
        if !part.exists() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(gone, "the half-written file is removed");
    assert!(!dir.join(&name).exists(), "no package under the final name");
    let job = app.store.job(JobId(id)).await.unwrap();
    assert_eq!(
        job.status,
        JobStatus::Running,
        "nothing recorded on the way out"
    );

    let worker = fazhi_web::start_jobs(&app.state).await.unwrap();
    let job = app.store.job(JobId(id)).await.unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.message.as_deref(), Some(fazhi_web::INTERRUPTED_MESSAGE));
    assert!(job.result_path.is_none());
    worker.stop();
}

/// A package the command line wrote to a path of its own is listed, but its file is not
/// served: the server sends only what lies in its packages directory.
#[tokio::test]
async fn a_package_built_elsewhere_is_listed_but_not_served() {
    let Site { app, mut admin, .. } = site().await;
    let outside = tempfile::tempdir().unwrap();
    let out = outside.path().join("命令行汇编.zip");
    let actor = fazhi_store::Actor {
        user_id: None,
        name: "命令行".into(),
    };
    let id = app
        .store
        .create_job(
            fazhi_store::NewJob {
                kind: fazhi_package::job::JOB_KIND.into(),
                params: serde_json::json!({}),
                unit_id: None,
            },
            &actor,
        )
        .await
        .unwrap();
    let job = app.store.claim_job_id(id).await.unwrap().unwrap();
    fazhi_package::job::run_job(
        &app.store,
        &app.state.files,
        &job,
        fazhi_package::job::Output::File(&out),
        None,
        fazhi_package::Control::default(),
    )
    .await
    .unwrap();
    assert!(out.exists());
    let list = admin.get("/packages/jobs").await;
    assert!(list.text.contains("用命令行生成的"), "{}", list.text);
    assert!(!list.text.contains(&format!("/packages/{id}/file")));
    let r = admin.get(&format!("/packages/{id}/file")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("不能在网页下载"), "{}", r.text);
    let api = admin.get(&format!("/api/v1/packages/{id}")).await.json();
    assert_eq!(api["status"], "done");
    assert!(api["download_url"].is_null());
}

/// The bound volume (合订本) from the same page: the form's 汇编形式, a PDF download.
#[tokio::test]
async fn the_office_builds_and_downloads_the_bound_pdf_volume() {
    let mut s = site().await;
    let r = s.admin.post("/packages", &[("format", "docx")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("不认识的汇编形式"), "{}", r.text);
    let id = build(&mut s.admin, &[("format", "pdf")]).await;
    assert_eq!(run_queued(&s.app).await, 1);
    let page = s.admin.get("/packages").await;
    assert!(page.text.contains("下载合订本（PDF）"), "{}", page.text);
    let job = s.app.store.job(JobId(id)).await.unwrap();
    assert_eq!(job.status, JobStatus::Done, "{:?}", job.message);
    let r = s.admin.get(&format!("/packages/{id}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/pdf");
    assert!(r.bytes.starts_with(b"%PDF-"), "a PDF");
    let disposition = r
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(disposition.contains(".pdf"), "{disposition}");
    // What was downloaded is what the job recorded.
    assert_eq!(
        hex::encode(Sha256::digest(&r.bytes)),
        job.result_sha256.unwrap_or_default()
    );
    // The liaison of another unit gets nothing of it.
    let r = s.caizheng.get(&format!("/packages/{id}/file")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    drop(s.sifa);
}

/// A progress fragment polled after the session ended sends the whole page to the login (and
/// back to the page afterwards), instead of the login form appearing inside the job list.
#[tokio::test]
async fn polling_after_the_session_ended_goes_to_the_login() {
    let app = App::new().await;
    let mut stranger = app.client();
    let r = stranger
        .get_with(
            "/packages/jobs",
            &[
                ("hx-request", "true"),
                ("hx-current-url", "http://127.0.0.1:8080/packages?round=1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers.get("hx-redirect").and_then(|v| v.to_str().ok()),
        Some("/login?next=%2Fpackages%3Fround%3D1")
    );
    // Without htmx: the usual redirect, back to what was asked for.
    let r = stranger.get("/packages/jobs").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location.as_deref(),
        Some("/login?next=%2Fpackages%2Fjobs")
    );
    // A current URL of another site is not followed back.
    let r = stranger
        .get_with(
            "/packages/jobs",
            &[
                ("hx-request", "true"),
                ("hx-current-url", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(
        r.headers.get("hx-redirect").and_then(|v| v.to_str().ok()),
        Some("/login?next=%2Fpackages%2Fjobs")
    );
}
