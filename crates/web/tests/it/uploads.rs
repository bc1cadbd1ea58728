//! Uploads refused for the task's state leave nothing stored.

use axum::http::StatusCode;
use fazhi_store::UserRole;

use crate::App;

/// Files under the store's root, temp area included.
fn stored_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn refused_upload_stores_nothing() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin
        .post(
            "/admin/rounds",
            &[
                ("name", "2026年度"),
                ("starts_on", "2026-01-01"),
                ("ends_on", "2026-12-31"),
            ],
        )
        .await;
    let mut sifa = app.login("sifa").await;
    let list = sifa.get("/tasks").await;
    let at = list.text.find("\">25</a></td>").unwrap();
    let start = list.text[..at].rfind("/tasks/").unwrap() + 7;
    let id: i64 = list.text[start..at].parse().unwrap();
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
        stored_files(app.files_dir().parent().unwrap()).is_empty(),
        "{:?}",
        stored_files(app.files_dir().parent().unwrap())
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
    assert_eq!(stored_files(app.files_dir().parent().unwrap()).len(), 1);
}
