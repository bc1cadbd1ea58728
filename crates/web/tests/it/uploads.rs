//! Uploads refused for the task's state leave nothing stored.

use axum::http::StatusCode;
use fazhi_store::UserRole;

use crate::{App, files_under};

#[tokio::test]
async fn refused_upload_stores_nothing() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度", 2026).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("25").await;
    let body = vec![b'x'; 256 * 1024];
    // Not signed for yet: refused with the reason, and the file is not kept.
    let r = sifa
        .upload_with(
            &format!("/tasks/{id}/files"),
            &[("title", "早交")],
            "a.txt",
            &body,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("尚未签收"), "{}", r.text);
    assert!(
        files_under(app.files_dir().parent().unwrap()).is_empty(),
        "{:?}",
        files_under(app.files_dir().parent().unwrap())
    );
    // Signed: accepted and stored once.
    sifa.post(&format!("/tasks/{id}/action"), &[("action", "sign")])
        .await;
    let r = sifa
        .upload_with(
            &format!("/tasks/{id}/files"),
            &[("title", "正式")],
            "a.txt",
            &body,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(files_under(app.files_dir().parent().unwrap()).len(), 1);
}

// ---- 断点续传 (views::uploads) ----

use sha2::{Digest, Sha256};

use crate::Client;

impl Client {
    /// `PATCH /uploads/{token}` with the bytes from `offset`, the CSRF token in the header.
    async fn send_chunk(&mut self, token: &str, offset: u64, bytes: &[u8]) -> crate::Resp {
        let mut b = axum::http::Request::builder()
            .method("PATCH")
            .uri(format!("/uploads/{token}"))
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/octet-stream");
        if let Some(c) = &self.cookie {
            b = b.header("cookie", c);
        }
        if let Some(t) = &self.csrf {
            b = b.header("x-csrf-token", t.clone());
        }
        let req = b
            .body(axum::body::Body::from(bytes.to_vec()))
            .expect("request");
        self.send(req).await
    }
}

/// An admin, the liaison of 县司法局 with its task 25 signed for, and that task's id.
async fn signed_task() -> (App, Client, i64) {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度", 2026).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("25").await;
    let r = sifa
        .post(&format!("/tasks/{id}/action"), &[("action", "sign")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    (app, sifa, id)
}

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 253) as u8).collect()
}

fn chunk_files(app: &App) -> Vec<std::path::PathBuf> {
    files_under(&app.files_dir().parent().unwrap().join("uploads"))
}

#[tokio::test]
async fn a_file_sent_in_chunks_resumes_after_a_drop_and_is_stored_with_its_hash() {
    let (app, mut sifa, task) = signed_task().await;
    let data = sample(2_500_000);
    let size = data.len().to_string();
    let r = sifa
        .post(
            &format!("/tasks/{task}/uploads"),
            &[
                ("name", "执法记录.mp4"),
                ("size", &size),
                ("title", "执法全过程记录"),
                ("doc_number", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let token = r.json()["upload"].as_str().unwrap().to_string();
    assert_eq!(r.json()["offset"], 0);

    let r = sifa.send_chunk(&token, 0, &data[..1_000_000]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["offset"], 1_000_000);
    // The same file announced again (a reload without local storage) gets this upload
    // back, where it stands.
    let r = sifa
        .post(
            &format!("/tasks/{task}/uploads"),
            &[("name", "执法记录.mp4"), ("size", &size)],
        )
        .await;
    assert_eq!(r.json()["upload"], token.as_str(), "{}", r.text);
    assert_eq!(r.json()["offset"], 1_000_000);
    // The connection dropped before the answer: the client sends the same chunk again and
    // is told where the server stands; nothing is counted twice.
    let r = sifa.send_chunk(&token, 0, &data[..1_000_000]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.json()["offset"], 1_000_000);
    // After a reload the page asks how far it got.
    let r = sifa.get(&format!("/uploads/{token}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["offset"], 1_000_000);
    assert_eq!(r.json()["size"], 2_500_000);
    // Finishing early says what is missing.
    let r = sifa.post(&format!("/uploads/{token}/finish"), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("尚未传完"), "{}", r.text);

    let r = sifa.send_chunk(&token, 1_000_000, &data[1_000_000..]).await;
    assert_eq!(r.json()["offset"], 2_500_000, "{}", r.text);
    // Bytes beyond the announced size are refused.
    let r = sifa.send_chunk(&token, 2_500_000, b"more").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("超过"), "{}", r.text);

    let r = sifa.post(&format!("/uploads/{token}/finish"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["location"], format!("/tasks/{task}#evidence"));

    let hash = hex::encode(Sha256::digest(&data));
    let blob = app.files_dir().join(&hash[..2]).join(&hash);
    assert_eq!(std::fs::read(&blob).expect("blob at its hash"), data);
    assert!(chunk_files(&app).is_empty(), "{:?}", chunk_files(&app));
    let page = sifa.get(&format!("/tasks/{task}")).await;
    assert!(page.text.contains("已上传“执法记录.mp4”"), "{}", page.text);
    assert!(page.text.contains("执法全过程记录"), "{}", page.text);
    let detail = app.store.task(fazhi_store::TaskId(task)).await.unwrap();
    let files: Vec<_> = detail
        .evidence
        .iter()
        .filter_map(|e| e.current().and_then(|v| v.blob_sha256.clone()))
        .collect();
    assert_eq!(files, vec![hash.clone()]);
    // A retried finish (its answer lost) is told where to go, and stores nothing again;
    // the page that reloads learns the upload is done.
    let r = sifa.post(&format!("/uploads/{token}/finish"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["location"], format!("/tasks/{task}#evidence"));
    let r = sifa.get(&format!("/uploads/{token}")).await;
    assert_eq!(r.json()["done"], true, "{}", r.text);
    let r = sifa.send_chunk(&token, 0, b"again").await;
    assert_eq!(r.json()["done"], true, "{}", r.text);
    let audit = app
        .store
        .audit_entries(&fazhi_store::AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(
        audit.iter().filter(|e| e.action == "evidence.add").count(),
        1
    );
}

#[tokio::test]
async fn a_new_version_can_be_sent_in_chunks() {
    let (app, mut sifa, task) = signed_task().await;
    let r = sifa
        .upload_with(
            &format!("/tasks/{task}/files"),
            &[("title", "制度文件")],
            "v1.txt",
            b"first",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let detail = app.store.task(fazhi_store::TaskId(task)).await.unwrap();
    let evidence = detail.evidence[0].id;
    let data = sample(300_000);
    let r = sifa
        .post(
            &format!("/evidence/{evidence}/uploads"),
            &[("name", "v2.pdf"), ("size", "300000")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let token = r.json()["upload"].as_str().unwrap().to_string();
    let r = sifa.send_chunk(&token, 0, &data).await;
    assert_eq!(r.json()["offset"], 300_000, "{}", r.text);
    let r = sifa.post(&format!("/uploads/{token}/finish"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = sifa.get(&format!("/tasks/{task}")).await;
    assert!(page.text.contains("作为第2版"), "{}", page.text);
    let e = app.store.evidence(evidence).await.unwrap();
    assert_eq!(e.versions.len(), 2);
    assert_eq!(
        e.current().and_then(|v| v.original_name.clone()).as_deref(),
        Some("v2.pdf")
    );
}

#[tokio::test]
async fn an_announced_size_over_the_limit_is_refused_before_any_byte() {
    let app = App::with_upload_limit(1_000_000).await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度", 2026).await;
    let mut sifa = app.login("sifa").await;
    let task = sifa.task_id("25").await;
    sifa.post(&format!("/tasks/{task}/action"), &[("action", "sign")])
        .await;
    for (size, says) in [
        ("1000001", "超过大小上限"),
        ("0", "不能为空"),
        ("-5", "文件大小无效"),
        ("lots", "文件大小无效"),
    ] {
        let r = sifa
            .post(
                &format!("/tasks/{task}/uploads"),
                &[("name", "big.mp4"), ("size", size)],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{size}: {}", r.text);
        assert!(r.text.contains(says), "{size}: {}", r.text);
    }
    // Not before the task is signed for, either (as the plain form).
    let r = admin
        .post(
            &format!("/tasks/{task}/uploads"),
            &[("name", "a.mp4"), ("size", "10")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(chunk_files(&app).is_empty());
}

#[tokio::test]
async fn only_the_user_who_started_an_upload_reaches_it() {
    let (app, mut sifa, task) = signed_task().await;
    app.user("sifa2", UserRole::Liaison, Some("县司法局")).await;
    app.user("gongan", UserRole::Liaison, Some("县公安局"))
        .await;
    let r = sifa
        .post(
            &format!("/tasks/{task}/uploads"),
            &[("name", "a.bin"), ("size", "10")],
        )
        .await;
    let token = r.json()["upload"].as_str().unwrap().to_string();
    for who in ["sifa2", "gongan", "boss"] {
        let mut other = app.login(who).await;
        let r = other.get(&format!("/uploads/{token}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.text);
        let r = other.send_chunk(&token, 0, b"0123456789").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.text);
        let r = other.post(&format!("/uploads/{token}/finish"), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.text);
        let r = other.post(&format!("/uploads/{token}/cancel"), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.text);
    }
    // A chunk without the CSRF token is refused.
    let mut no_csrf = Client {
        router: sifa.router.clone(),
        cookie: sifa.cookie.clone(),
        csrf: None,
        bearer: None,
        addr: None,
    };
    let r = no_csrf.send_chunk(&token, 0, b"0123456789").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // The owner still can, and can cancel: the chunks go.
    let r = sifa.send_chunk(&token, 0, b"01234").await;
    assert_eq!(r.json()["offset"], 5, "{}", r.text);
    assert_eq!(chunk_files(&app).len(), 1);
    let r = sifa.post(&format!("/uploads/{token}/cancel"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(chunk_files(&app).is_empty());
    let r = sifa.get(&format!("/uploads/{token}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

#[tokio::test]
async fn the_sweep_removes_abandoned_uploads_and_orphaned_chunks() {
    let (app, mut sifa, task) = signed_task().await;
    let r = sifa
        .post(
            &format!("/tasks/{task}/uploads"),
            &[("name", "a.bin"), ("size", "10")],
        )
        .await;
    let token = r.json()["upload"].as_str().unwrap().to_string();
    sifa.send_chunk(&token, 0, b"01234").await;
    // A fresh upload is kept.
    let swept = fazhi_web::sweep(&app.state).await.unwrap();
    assert_eq!(swept.uploads, 0);
    assert_eq!(chunk_files(&app).len(), 1);
    // Chunks whose record is gone (a crash between the two deletions) are removed.
    let orphan = "ab".repeat(32);
    app.state
        .files
        .put_chunk(&orphan, 0, bytes::Bytes::from_static(b"x"))
        .await
        .unwrap();
    // An upload untouched for longer than it is kept is removed with its chunks.
    use sea_orm::ConnectionTrait;
    app.store
        .connection()
        .execute_unprepared("UPDATE resumable_upload SET updated_at = '2020-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    let swept = fazhi_web::sweep(&app.state).await.unwrap();
    assert_eq!(swept.uploads, 2);
    assert!(chunk_files(&app).is_empty(), "{:?}", chunk_files(&app));
    let r = sifa.get(&format!("/uploads/{token}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}
