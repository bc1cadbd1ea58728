//! The JSON API: tokens, shapes, OpenAPI.

use axum::http::StatusCode;
use fazhi_store::UserRole;

use crate::App;

#[tokio::test]
async fn api_tokens_authenticate_scripts() {
    let app = App::new().await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut c = app.login("sifa").await;
    // A liaison without tokens finds them folded away under 高级设置.
    let page = c.get("/account/tokens").await;
    assert!(
        page.text
            .contains(r#"<details class="advanced"><summary>高级设置：接口令牌"#),
        "{}",
        page.text
    );
    let r = c.post("/account/tokens", &[("name", "统计脚本")]).await;
    assert!(
        !r.text.contains(r#"<details class="advanced">"#),
        "the new token is shown open"
    );
    let at = r.text.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token: String = r.text[at..].chars().take_while(|c| *c != '<').collect();
    assert!(token.starts_with("fz_"));
    let mut script = app.client();
    script.bearer = Some(token.clone());
    let me = script.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["role"], "liaison");
    let sifa = app.unit_id("县司法局").await;
    let list = script
        .get(&format!("/api/v1/units/{sifa}/indicators"))
        .await
        .json();
    let expected = app.store.unit_indicators(sifa).await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), expected.len());
    // The liaison's framework holds exactly their indicators.
    let fw = script.get("/api/v1/framework").await.json();
    fn leaves(v: &serde_json::Value) -> usize {
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| {
                if n["is_leaf"] == true {
                    1
                } else {
                    leaves(&n["children"])
                }
            })
            .sum()
    }
    assert_eq!(leaves(&fw["indicators"]), expected.len());
    let mut bad = app.client();
    bad.bearer = Some("fz_not-a-token".into());
    let r = bad.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["error"].as_str().unwrap().contains("请先登录"));
}

#[tokio::test]
async fn framework_api_has_the_whole_tree_for_the_office() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut c = app.login("boss").await;
    let fw = c.get("/api/v1/framework").await.json();
    let top = fw["indicators"].as_array().unwrap();
    assert_eq!(top.len(), 8);
    assert_eq!(top[0]["title"], "政府职能依法全面履行");
    let first_leaf = &top[0]["children"][0]["children"][0];
    assert_eq!(first_leaf["code"], "1");
    assert_eq!(first_leaf["assignments"][0]["unit"], "县行政审批服务局");
    assert_eq!(first_leaf["assignments"][0]["role"], "lead");
    let units = c.get("/api/v1/units").await.json();
    assert_eq!(units.as_array().unwrap().len(), 23);
    let r = c.get("/api/v1/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.content_type.starts_with("application/json"));
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let app = App::new().await;
    let r = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/me",
        "/api/v1/framework",
        "/api/v1/units",
        "/api/v1/units/{id}",
        "/api/v1/units/{id}/indicators",
        "/api/v1/indicators/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
}

/// Every change to the API shows in review as a change of this snapshot
/// (`tests/it/snapshots/`); accept an intended one with `cargo insta accept` or
/// `INSTA_UPDATE=always`.
#[tokio::test]
async fn openapi_document_snapshot() {
    let app = App::new().await;
    let r = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    insta::assert_json_snapshot!("openapi", r.json());
}
