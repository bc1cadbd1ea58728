//! Every route × every role: who may see and change what.

use axum::http::StatusCode;
use fazhi_store::{Actor, NewJob, UserRole};

use crate::App;

/// A queued package job covering `unit` (as the 材料汇编 page would queue it).
async fn package_job(app: &App, unit: &str) -> i64 {
    let id = app.unit_id(unit).await;
    app.store
        .create_job(
            NewJob {
                kind: fazhi_package::job::JOB_KIND.into(),
                params: serde_json::json!({ "unit": unit }),
                unit_id: Some(id),
            },
            &Actor::system(),
        )
        .await
        .unwrap()
        .0
}

/// Node id of the first leaf whose units include `unit`, and of one that does not.
async fn leaves(app: &App, unit: &str) -> (i64, i64) {
    let fw = app.store.current_framework().await.unwrap().unwrap();
    let leaves = fw.leaves();
    let has = |n: &fazhi_store::StoredNode| n.assignments.iter().any(|a| a.unit_name == unit);
    let mine = leaves.iter().find(|(_, n)| has(n)).unwrap().1.id.0;
    let other = leaves
        .iter()
        .find(|(_, n)| !has(n) && !n.assignments.is_empty())
        .unwrap()
        .1
        .id
        .0;
    (mine, other)
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    Admin,
    Observer,
    Liaison,
}

/// Expected outcome: allowed (200), forbidden (403), or sent to the login page.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Ok,
    Forbidden,
    Login,
    Unauthorized,
    BadRequest,
    NotFound,
    /// 409: the request is sound but the data is not ready (no round in progress).
    Conflict,
}

fn outcome(status: StatusCode, location: Option<&str>) -> Outcome {
    match status {
        StatusCode::OK => Outcome::Ok,
        StatusCode::FORBIDDEN => Outcome::Forbidden,
        StatusCode::UNAUTHORIZED => Outcome::Unauthorized,
        StatusCode::BAD_REQUEST => Outcome::BadRequest,
        StatusCode::NOT_FOUND => Outcome::NotFound,
        StatusCode::CONFLICT => Outcome::Conflict,
        StatusCode::SEE_OTHER if location.is_some_and(|l| l.starts_with("/login")) => {
            Outcome::Login
        }
        other => panic!("unexpected {other} {location:?}"),
    }
}

/// Every GET route with what (anonymous, admin, observer, liaison of 县司法局) get.
async fn get_table(app: &App) -> Vec<(String, [Outcome; 4])> {
    use Outcome::*;
    let sifa = app.unit_id("县司法局").await.0;
    let other = app.unit_id("县财政局").await.0;
    let (mine, theirs) = leaves(app, "县司法局").await;
    let own_job = package_job(app, "县司法局").await;
    let other_job = package_job(app, "县财政局").await;

    // (path, anonymous, admin, observer, liaison of 县司法局)
    vec![
        // 导出: everyone logged in sees the page; the 责任分工表 is the county roles'; a
        // liaison's 任务台账 is its own unit's only. No round is in progress here: the
        // 台账 is a 409 saying so, after the access check.
        ("/exports".into(), [Login, Ok, Ok, Ok]),
        (
            "/exports/responsibility.xlsx".into(),
            [Login, Ok, Ok, Forbidden],
        ),
        (
            "/exports/ledger.xlsx".into(),
            [Login, Conflict, Conflict, Conflict],
        ),
        (
            format!("/exports/ledger.xlsx?unit={sifa}"),
            [Login, Conflict, Conflict, Conflict],
        ),
        (
            format!("/exports/ledger.xlsx?unit={other}"),
            [Login, Conflict, Conflict, Forbidden],
        ),
        (
            "/exports/ledger.xlsx?unit=abc".into(),
            [Login, BadRequest, BadRequest, BadRequest],
        ),
        // The same exports under the API (the 工作进展报告 too: a GET there).
        (
            "/api/v1/exports/responsibility".into(),
            [Unauthorized, Ok, Ok, Forbidden],
        ),
        (
            "/api/v1/exports/ledger".into(),
            [Unauthorized, Conflict, Conflict, Conflict],
        ),
        (
            format!("/api/v1/exports/ledger?unit_id={other}"),
            [Unauthorized, Conflict, Conflict, Forbidden],
        ),
        (
            "/api/v1/exports/report".into(),
            [Unauthorized, Conflict, Conflict, Conflict],
        ),
        (
            format!("/api/v1/exports/report?unit_id={other}&format=pdf"),
            [Unauthorized, Conflict, Conflict, Forbidden],
        ),
        // 材料汇编: the office and liaisons; a queued job has nothing to download yet.
        ("/packages".into(), [Login, Ok, Forbidden, Ok]),
        ("/packages/jobs".into(), [Login, Ok, Forbidden, Ok]),
        (
            format!("/packages/{own_job}/file"),
            [Login, NotFound, Forbidden, NotFound],
        ),
        (
            format!("/packages/{other_job}/file"),
            [Login, NotFound, Forbidden, Forbidden],
        ),
        ("/api/v1/packages".into(), [Unauthorized, Ok, Forbidden, Ok]),
        (
            format!("/api/v1/packages/{own_job}"),
            [Unauthorized, Ok, Forbidden, Ok],
        ),
        (
            format!("/api/v1/packages/{other_job}"),
            [Unauthorized, Ok, Forbidden, Forbidden],
        ),
        (
            format!("/api/v1/packages/{other_job}/file"),
            [Unauthorized, NotFound, Forbidden, Forbidden],
        ),
        ("/indicators".into(), [Login, Ok, Ok, Ok]),
        (format!("/indicators/{mine}"), [Login, Ok, Ok, Ok]),
        (format!("/indicators/{theirs}"), [Login, Ok, Ok, Forbidden]),
        ("/matrix".into(), [Login, Ok, Ok, Forbidden]),
        ("/units".into(), [Login, Ok, Ok, Forbidden]),
        (format!("/units/{sifa}"), [Login, Ok, Ok, Ok]),
        (format!("/units/{other}"), [Login, Ok, Ok, Forbidden]),
        (
            format!("/admin/units/{sifa}"),
            [Login, Ok, Forbidden, Forbidden],
        ),
        ("/admin/users".into(), [Login, Ok, Forbidden, Forbidden]),
        ("/admin/import".into(), [Login, Ok, Forbidden, Forbidden]),
        (
            "/admin/frameworks".into(),
            [Login, Ok, Forbidden, Forbidden],
        ),
        ("/admin/audit".into(), [Login, Ok, Forbidden, Forbidden]),
        ("/account/tokens".into(), [Login, Ok, Ok, Ok]),
        ("/tasks".into(), [Login, Ok, Ok, Ok]),
        // 看板: everyone's home; a liaison asking for another unit still gets its own.
        ("/dashboard".into(), [Login, Ok, Ok, Ok]),
        (format!("/dashboard?unit={other}"), [Login, Ok, Ok, Ok]),
        ("/dashboard?unit=abc".into(), [Login, Ok, Ok, Ok]),
        ("/tasks?heading=1&status=done".into(), [Login, Ok, Ok, Ok]),
        ("/inbox".into(), [Login, Ok, Ok, Ok]),
        ("/rounds".into(), [Login, Ok, Ok, Forbidden]),
        ("/password".into(), [Login, Ok, Ok, Ok]),
        ("/api/v1/me".into(), [Unauthorized, Ok, Ok, Ok]),
        ("/api/v1/framework".into(), [Unauthorized, Ok, Ok, Ok]),
        ("/api/v1/units".into(), [Unauthorized, Ok, Ok, Forbidden]),
        (format!("/api/v1/units/{sifa}"), [Unauthorized, Ok, Ok, Ok]),
        (
            format!("/api/v1/units/{other}"),
            [Unauthorized, Ok, Ok, Forbidden],
        ),
        (
            format!("/api/v1/units/{sifa}/indicators"),
            [Unauthorized, Ok, Ok, Ok],
        ),
        (
            format!("/api/v1/units/{other}/indicators"),
            [Unauthorized, Ok, Ok, Forbidden],
        ),
        (
            format!("/api/v1/indicators/{mine}"),
            [Unauthorized, Ok, Ok, Ok],
        ),
        (
            format!("/api/v1/indicators/{theirs}"),
            [Unauthorized, Ok, Ok, Forbidden],
        ),
        // Resumable uploads are their starter's only (views::uploads); an unknown or
        // malformed name is simply not found.
        (
            format!("/uploads/{}", "0".repeat(64)),
            [Login, NotFound, NotFound, NotFound],
        ),
        ("/uploads/xyz".into(), [Login, NotFound, NotFound, NotFound]),
        // Paging beyond any offset the database takes: a clear 400, not a crash.
        (
            "/admin/audit?page=18446744073709551615".into(),
            [Login, BadRequest, Forbidden, Forbidden],
        ),
    ]
}

#[tokio::test]
async fn every_get_route_for_every_role() {
    use Outcome::*;
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("viewer", UserRole::Observer, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let table = get_table(&app).await;
    let mut clients = [
        (Who::Anonymous, app.client()),
        (Who::Admin, app.login("boss").await),
        (Who::Observer, app.login("viewer").await),
        (Who::Liaison, app.login("sifa").await),
    ];
    for (path, expected) in &table {
        for (i, (who, client)) in clients.iter_mut().enumerate() {
            let r = client.get(path).await;
            let got = outcome(r.status, r.location.as_deref());
            assert_eq!(got, expected[i], "GET {path} as {who:?}");
            if got == Forbidden && !path.starts_with("/api/") {
                assert!(
                    r.text.contains("没有权限")
                        || r.text.contains("只能查看")
                        || r.text.contains("只有管理员"),
                    "{path}: {}",
                    r.text
                );
            }
            if got == Forbidden || got == Unauthorized {
                // Refusals carry no data of the unit or indicator.
                assert!(
                    !r.text.contains("县财政局"),
                    "GET {path} as {who:?} leaked data"
                );
            }
        }
    }
}

/// The liaison's credentials that must no longer open pages: an API token (API only,
/// with the liaison's rights there), and a session of a browser left logged in when the
/// password was changed elsewhere (nothing at all).
#[tokio::test]
async fn tokens_and_stale_sessions_on_every_get_route() {
    use Outcome::*;
    let app = App::new().await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let table = get_table(&app).await;
    let mut stale = app.login("sifa").await;
    let mut current = app.login("sifa").await;
    let page = current.post("/account/tokens", &[("name", "脚本")]).await;
    let token = crate::hardening::new_token(&page.text);
    let mut bearer = app.client();
    bearer.bearer = Some(token.clone());
    assert_eq!(bearer.get("/api/v1/me").await.status, StatusCode::OK);
    let r = current
        .post(
            "/password",
            &[
                ("current", crate::PASSWORD),
                ("new", "Another-pass-2027"),
                ("confirm", "Another-pass-2027"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let mut fresh = app.client();
    let r = fresh.login("sifa", "Another-pass-2027").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = fresh.post("/account/tokens", &[("name", "新脚本")]).await;
    let mut new_bearer = app.client();
    new_bearer.bearer = Some(crate::hardening::new_token(&page.text));
    for (path, expected) in &table {
        let api = path.starts_with("/api/");
        let liaison = expected[3];
        let got = outcome_of(&mut stale, path).await;
        let want = if api { Unauthorized } else { Login };
        assert_eq!(
            got, want,
            "GET {path} with a session from before the password change"
        );
        let got = outcome_of(&mut bearer, path).await;
        assert_eq!(
            got, want,
            "GET {path} with a token revoked by the password change"
        );
        let got = outcome_of(&mut new_bearer, path).await;
        let want = if api { liaison } else { Login };
        assert_eq!(got, want, "GET {path} with a token");
        assert_eq!(
            outcome_of(&mut current, path).await,
            liaison,
            "GET {path} in the browser that changed the password"
        );
    }
    // After login, a next= that a browser would read as another site goes home instead.
    let mut c = app.client();
    c.get("/login").await;
    let r = c
        .post(
            "/login",
            &[
                ("username", "sifa"),
                ("password", "Another-pass-2027"),
                ("next", "/\t/evil.example/x"),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/"));
}

async fn outcome_of(c: &mut crate::Client, path: &str) -> Outcome {
    let r = c.get(path).await;
    outcome(r.status, r.location.as_deref())
}

#[tokio::test]
async fn every_change_route_for_every_role() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("viewer", UserRole::Observer, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let sifa = app.unit_id("县司法局").await.0;
    let other = app.unit_id("县财政局").await.0;
    let group = app.unit_id("各执法部门").await.0;
    let (mine, _) = leaves(&app, "县司法局").await;
    let viewer = app
        .store
        .user_by_username("viewer")
        .await
        .unwrap()
        .unwrap()
        .id
        .0;
    let other_job = package_job(&app, "县财政局").await;
    let posts: Vec<(String, Vec<(&str, String)>)> = vec![
        ("/packages".into(), vec![("unit", other.to_string())]),
        (format!("/packages/{other_job}/cancel"), vec![]),
        (
            format!("/indicators/{mine}/assign"),
            vec![("unit_id", other.to_string()), ("role", "co".into())],
        ),
        (
            format!("/indicators/{mine}/lead"),
            vec![("unit_id", sifa.to_string())],
        ),
        (
            format!("/indicators/{mine}/unassign"),
            vec![("unit_id", sifa.to_string())],
        ),
        (
            "/admin/units".into(),
            vec![
                ("name", "县交通运输局".into()),
                ("kind", "government".into()),
            ],
        ),
        (
            format!("/admin/units/{sifa}"),
            vec![
                ("name", "县司法局改名".into()),
                ("kind", "government".into()),
            ],
        ),
        (
            format!("/admin/units/{sifa}/aliases"),
            vec![("alias", "司法局".into())],
        ),
        (
            format!("/admin/units/{other}/disable"),
            vec![("disabled", "1".into())],
        ),
        (
            format!("/admin/units/{group}/members"),
            vec![("member", sifa.to_string())],
        ),
        (
            "/admin/users".into(),
            vec![
                ("username", "x1".into()),
                ("display_name", "x".into()),
                ("role", "observer".into()),
            ],
        ),
        (format!("/admin/users/{viewer}/reset"), vec![]),
        (
            format!("/admin/users/{viewer}/disable"),
            vec![("disabled", "true".into())],
        ),
        (
            "/admin/import/confirm".into(),
            vec![("token", "0".repeat(64))],
        ),
        ("/admin/rounds/1/close".into(), vec![]),
        // Batch actions other than 签收 are the office's.
        (
            "/tasks/batch".into(),
            vec![
                ("op", "due".into()),
                ("task", "1".into()),
                ("due_on", "2027-01-01".into()),
            ],
        ),
    ];
    let audit_before = app.store.audit_count(&Default::default()).await.unwrap();
    for who in ["viewer", "sifa"] {
        let mut c = app.login(who).await;
        for (path, fields) in &posts {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = c.post(path, &f).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "POST {path} as {who}: {}",
                r.text
            );
        }
    }
    // Anonymous visitors have no session, so no CSRF token any page accepts (the login
    // form's cookie is good for the login form only).
    let mut anon = app.client();
    anon.get("/login").await;
    for (path, fields) in &posts {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = anon.post(path, &f).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path} anonymous");
    }
    // Logins are audited; nothing else may have changed.
    let audit = app.store.audit_entries(&Default::default()).await.unwrap();
    let changes = audit.iter().filter(|e| e.action != "user.login").count() as u64;
    let logins = audit.iter().filter(|e| e.action == "user.login").count() as u64;
    assert_eq!(
        changes + logins,
        app.store.audit_count(&Default::default()).await.unwrap()
    );
    assert_eq!(changes, audit_before, "a refused request changed something");
}

#[tokio::test]
async fn the_office_disables_and_enables_a_unit_from_its_page() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let other = app.unit_id("县财政局").await.0;
    let mut c = app.login("boss").await;
    let page = c.get(&format!("/admin/units/{other}")).await;
    assert!(page.text.contains("停用该单位"), "{}", page.text);
    let r = c
        .post(
            &format!("/admin/units/{other}/disable"),
            &[("disabled", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let units = c.get("/units").await;
    assert!(
        units.text.contains("县财政局</a>（已停用）"),
        "{}",
        units.text
    );
    let page = c.get(&format!("/admin/units/{other}")).await;
    assert!(page.text.contains("重新启用"));
    c.post(
        &format!("/admin/units/{other}/disable"),
        &[("disabled", "0")],
    )
    .await;
    let audit = app.store.audit_entries(&Default::default()).await.unwrap();
    let actions: Vec<&str> = audit
        .iter()
        .filter(|e| e.entity == "unit" && e.entity_id.as_deref() == Some(&other.to_string()))
        .map(|e| e.action.as_str())
        .collect();
    assert!(
        actions.contains(&"unit.disable") && actions.contains(&"unit.enable"),
        "{actions:?}"
    );
    assert!(!c.get("/units").await.text.contains("（已停用）"));
}
