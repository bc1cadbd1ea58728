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
