//! What people do: first login, passwords, CSRF, sessions, units, groups, imports.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fazhi_store::UserRole;

use crate::{App, PASSWORD};

fn count_leaves(html: &str) -> usize {
    html.matches("class=\"leaf\"").count()
}

#[tokio::test]
async fn first_admin_changes_password_then_sees_the_whole_system() {
    let app = App::new().await;
    let mut c = app.client();
    let r = c.login("admin", &app.admin_password).await;
    assert_eq!(r.location.as_deref(), Some("/password"));
    // Until the password is changed every page leads back to the form.
    let r = c.get("/indicators").await;
    assert_eq!(r.location.as_deref(), Some("/password"));
    let r = c.get("/password").await;
    assert!(r.text.contains("请先设置自己的密码"));
    for (current, new, confirm, expect) in [
        ("wrong-password1", PASSWORD, PASSWORD, "当前密码不正确"),
        (
            app.admin_password.as_str(),
            PASSWORD,
            "Other-pass-2026",
            "两次输入的新密码不一致",
        ),
        (
            app.admin_password.as_str(),
            "short1",
            "short1",
            "密码至少10位",
        ),
        (
            app.admin_password.as_str(),
            app.admin_password.as_str(),
            app.admin_password.as_str(),
            "不能与当前密码相同",
        ),
    ] {
        let r = c
            .post(
                "/password",
                &[("current", current), ("new", new), ("confirm", confirm)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.contains(expect), "{expect}");
    }
    let r = c
        .post(
            "/password",
            &[
                ("current", &app.admin_password),
                ("new", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/"));
    let r = c.get("/indicators").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("密码已修改"), "flash shown once");
    assert_eq!(count_leaves(&r.text), 94);
    assert!(r.text.contains("共 94 项三级指标"));
    // Folded to the 二级指标: the eight 一级 open, the 32 二级 closed.
    assert_eq!(r.text.matches("<details open><summary>").count(), 8);
    assert_eq!(r.text.matches("<details><summary>").count(), 32);
    let r = c.get("/indicators").await;
    assert!(!r.text.contains("密码已修改"), "flash shown only once");
    let r = c.get("/units").await;
    assert!(r.text.contains("责任单位（23个）"), "{}", r.text);
    // The old password no longer works.
    let mut other = app.client();
    let r = other.login("admin", &app.admin_password).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("用户名或密码不正确"));
}

#[tokio::test]
async fn tree_filters_by_unit_and_text() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut c = app.login("boss").await;
    let sifa = app.unit_id("县司法局").await;
    let expected = app.store.unit_indicators(sifa).await.unwrap().len();
    let r = c.get(&format!("/indicators?unit={sifa}")).await;
    assert_eq!(count_leaves(&r.text), expected);
    assert!(r.text.contains(&format!("当前显示 {expected} 项")));
    let r = c
        .get("/indicators?q=%E8%A1%8C%E6%94%BF%E5%A4%8D%E8%AE%AE")
        .await; // 行政复议
    let n = count_leaves(&r.text);
    assert!(n > 0 && n < 94, "{n}");
    let r = c
        .get("/indicators?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E8%AF%8D")
        .await; // 不存在的词
    assert!(r.text.contains("没有符合条件的指标"));
    // Missing units are visible to the office.
    let r = c.get("/indicators").await;
    assert_eq!(
        r.text.matches("未指定责任单位").count(),
        2,
        "items 35 and 87"
    );
}

#[tokio::test]
async fn login_is_rate_limited() {
    let app = App::new().await;
    let mut c = app.client();
    for _ in 0..5 {
        let r = c.login("admin", "not-the-password1").await;
        assert!(r.text.contains("用户名或密码不正确"));
    }
    let r = c.login("admin", &app.admin_password).await;
    assert_eq!(r.status, StatusCode::OK);
    // The same name from the same address waits (see hardening.rs for other addresses).
    assert!(r.text.contains("密码错误次数过多"), "{}", r.text);
}

#[tokio::test]
async fn csrf_and_cross_site_requests_are_refused() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut c = app.login("boss").await;
    let before = app.store.units().await.unwrap().len();
    let r = c
        .post(
            "/admin/units",
            &[
                ("name", "县交通运输局"),
                ("kind", "government"),
                ("_csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("页面已过期"));
    let req = Request::builder()
        .method("POST")
        .uri("/admin/units")
        .header(header::COOKIE, c.cookie.clone().unwrap())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(format!(
            "name=x&kind=government&_csrf={}",
            c.csrf.clone().unwrap()
        )))
        .unwrap();
    assert_eq!(c.send(req).await.status, StatusCode::FORBIDDEN);
    let req = Request::builder()
        .method("POST")
        .uri("/admin/units")
        .header(header::COOKIE, c.cookie.clone().unwrap())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("name=x&kind=government"))
        .unwrap();
    assert_eq!(
        c.send(req).await.status,
        StatusCode::FORBIDDEN,
        "no token at all"
    );
    assert_eq!(
        app.store.units().await.unwrap().len(),
        before,
        "nothing created"
    );
    let r = c
        .post(
            "/admin/units",
            &[("name", "县交通运输局"), ("kind", "government")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.units().await.unwrap().len(), before + 1);
}

#[tokio::test]
async fn session_cookie_is_safe_and_logout_ends_it() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut c = app.client();
    c.get("/login").await;
    let anonymous = c.cookie.clone();
    let page = c.get("/login").await;
    assert!(page.text.contains("name=\"_csrf\""));
    let req = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::COOKIE, anonymous.clone().unwrap())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=boss&password={PASSWORD}&next=/&_csrf={}",
            c.csrf.clone().unwrap()
        )))
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    let set_cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("SameSite=Lax"));
    let logged_in = set_cookie.split(';').next().unwrap().to_string();
    assert_ne!(
        Some(logged_in.clone()),
        anonymous,
        "a new session id at login"
    );
    c.cookie = Some(logged_in.clone());
    assert_eq!(c.get("/indicators").await.status, StatusCode::OK);
    // The pre-login session id gives nothing.
    let mut stale = app.client();
    stale.cookie = anonymous;
    assert_eq!(stale.get("/indicators").await.status, StatusCode::SEE_OTHER);
    let r = c.post("/logout", &[]).await;
    assert_eq!(r.location.as_deref(), Some("/login"));
    let mut after = app.client();
    after.cookie = Some(logged_in);
    let r = after.get("/indicators").await;
    assert!(r.location.unwrap().starts_with("/login"));
}

#[tokio::test]
async fn admin_creates_a_liaison_who_sees_only_their_list() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut admin = app.login("boss").await;
    let sifa = app.unit_id("县司法局").await;
    let r = admin
        .post(
            "/admin/users",
            &[
                ("username", "sifaju"),
                ("display_name", "司法局联络员"),
                ("role", "liaison"),
                ("unit_id", &sifa.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get("/admin/users").await;
    let start = page.text.find("初始密码：").expect("password shown once") + "初始密码：".len();
    let first: String = page.text[start..].chars().take(14).collect();
    let mut liaison = app.client();
    let r = liaison.login("sifaju", &first).await;
    assert_eq!(r.location.as_deref(), Some("/password"));
    liaison
        .post(
            "/password",
            &[
                ("current", &first),
                ("new", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    // Home is the 看板 (its own unit's); the menu leads to the 责任清单.
    let r = liaison.get("/").await;
    assert_eq!(r.location.as_deref(), Some("/dashboard"));
    let r = liaison.get("/dashboard").await;
    assert!(
        r.text
            .contains(&format!(r#"href="/units/{sifa}">本单位责任清单"#))
    );
    let r = liaison.get(&format!("/units/{sifa}")).await;
    let expected = app.store.unit_indicators(sifa).await.unwrap();
    assert!(r.text.contains("县司法局 · 责任清单"));
    assert_eq!(
        r.text.matches("href=\"/indicators/").count(),
        expected.len()
    );
    let r = liaison.get("/indicators").await;
    assert_eq!(count_leaves(&r.text), expected.len());
    // A liaison without a unit cannot be created.
    let r = admin
        .post(
            "/admin/users",
            &[
                ("username", "nounit"),
                ("display_name", "x"),
                ("role", "liaison"),
                ("unit_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The refusal is on the form, with what was typed kept.
    assert!(r.text.contains("未能创建用户："), "{}", r.text);
    assert!(
        r.text
            .contains("name=\"username\" required placeholder=\"例如：sifaju\" value=\"nounit\"")
    );
    assert!(r.text.contains("<option value=\"liaison\" selected>"));
    // Disabled accounts cannot log in.
    let id = app
        .store
        .user_by_username("sifaju")
        .await
        .unwrap()
        .unwrap()
        .id;
    admin
        .post(
            &format!("/admin/users/{id}/disable"),
            &[("disabled", "true")],
        )
        .await;
    let r = app.client().login("sifaju", PASSWORD).await;
    assert!(r.text.contains("已停用"));
    assert_eq!(
        liaison.get("/indicators").await.status,
        StatusCode::SEE_OTHER,
        "sessions of a disabled user end"
    );
}

#[tokio::test]
async fn group_members_get_the_groups_indicators() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("gongan", UserRole::Liaison, Some("县公安局"))
        .await;
    let mut admin = app.login("boss").await;
    let group = app.unit_id("各执法部门").await;
    let gongan = app.unit_id("县公安局").await;
    let r = admin.get("/indicators").await;
    assert!(r.text.contains("成员单位尚未设置"));
    let r = admin.get(&format!("/units/{group}")).await;
    assert!(r.text.contains("管理员尚未设置其成员单位"));
    let mut liaison = app.login("gongan").await;
    let before = liaison.get(&format!("/units/{gongan}")).await;
    assert_eq!(
        before.text.matches("href=\"/indicators/").count(),
        1,
        "item 47 only"
    );
    let sj = app.unit_id("县市场监督管理局").await;
    admin
        .post(
            &format!("/admin/units/{group}/members"),
            &[("member", &gongan.to_string()), ("member", &sj.to_string())],
        )
        .await;
    let after = liaison.get(&format!("/units/{gongan}")).await;
    assert_eq!(
        after.text.matches("href=\"/indicators/").count(),
        11,
        "47 plus 49–58"
    );
    assert!(after.text.contains("经“各执法部门”承担"));
    let r = admin.get("/indicators").await;
    assert!(!r.text.contains("成员单位尚未设置"));
}

#[tokio::test]
async fn members_set_mid_round_get_their_tasks() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("gongan", UserRole::Liaison, Some("县公安局"))
        .await;
    let mut admin = app.login("boss").await;
    // Before opening, the 轮次 page warns about the group without members.
    let r = admin.get("/rounds").await;
    assert!(r.text.contains("id=\"division-gaps\""), "{}", r.text);
    assert!(
        r.text.contains("“各执法部门”尚未设置成员单位"),
        "{}",
        r.text
    );
    admin.open_round("2026年度创建工作", 2026).await;
    let mut liaison = app.login("gongan").await;
    let before = liaison.get("/tasks").await;
    assert_eq!(linked_tasks(&before.text).len(), 1, "{}", before.text);

    let group = app.unit_id("各执法部门").await;
    let gongan = app.unit_id("县公安局").await;
    let r = admin
        .post(
            &format!("/admin/units/{group}/members"),
            &[("member", &gongan.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get(&format!("/admin/units/{group}")).await;
    assert!(page.text.contains("本轮已补建10项任务"), "{}", page.text);
    // 县公安局 can act on all eleven now: 47, and 49–58 through the group.
    let after = liaison.get("/tasks").await;
    assert_eq!(linked_tasks(&after.text).len(), 11, "{}", after.text);
    let inbox = liaison.get("/inbox").await;
    assert!(inbox.text.contains("待签收（11）"), "{}", inbox.text);
}

/// The distinct task ids a page links to (`href="/tasks/12"`).
fn linked_tasks(html: &str) -> std::collections::BTreeSet<i64> {
    html.split("href=\"/tasks/")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (rest[digits.len()..].starts_with('"')).then(|| digits.parse().ok())?
        })
        .collect()
}

#[tokio::test]
async fn responsibility_changes_are_recorded() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut admin = app.login("boss").await;
    let fw = app.store.current_framework().await.unwrap().unwrap();
    let item35 = fw
        .leaves()
        .iter()
        .find(|(_, n)| n.code == "35")
        .unwrap()
        .1
        .id;
    let zf = app.unit_id("县政府办公室").await;
    let sf = app.unit_id("县司法局").await;
    admin
        .post(
            &format!("/indicators/{item35}/assign"),
            &[("unit_id", &zf.to_string()), ("role", "lead")],
        )
        .await;
    admin
        .post(
            &format!("/indicators/{item35}/assign"),
            &[("unit_id", &sf.to_string()), ("role", "co")],
        )
        .await;
    admin
        .post(
            &format!("/indicators/{item35}/lead"),
            &[("unit_id", &sf.to_string())],
        )
        .await;
    let r = admin.get(&format!("/indicators/{item35}")).await;
    assert!(r.text.contains("牵头·县司法局"), "{}", r.text);
    assert!(r.text.contains("配合·县政府办公室"));
    let r = admin
        .post(
            &format!("/indicators/{item35}/assign"),
            &[("unit_id", &sf.to_string()), ("role", "co")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "already responsible");
    let r = admin.get("/admin/audit?entity=indicator").await;
    assert!(r.text.contains("日志链校验通过"));
    assert!(r.text.matches("<tr><td>").count() >= 3);
    // Users and units are named, not numbered.
    let r = admin.get("/admin/audit?entity=user").await;
    assert!(r.text.contains("用户 boss（boss）"), "{}", r.text);
    assert!(!r.text.contains("用户 #"), "{}", r.text);
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn importing_a_new_edition_keeps_the_old_one() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut admin = app.login("boss").await;
    admin.get("/admin/import").await;
    let r = admin
        .upload(
            "/admin/import",
            "notes.txt",
            "会议纪要\n没有表格。".as_bytes(),
        )
        .await;
    assert!(r.text.contains("无法导入"), "{}", r.text);
    assert_eq!(app.store.frameworks().await.unwrap().len(), 1);
    let seed = include_bytes!("../../../../data/seed/lanling-zerenfengong.txt");
    let r = admin.upload("/admin/import", "责任分工.txt", seed).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<strong>94</strong>末级指标"), "{}", r.text);
    assert!(r.text.contains("第35项没有填写责任单位"));
    // Against the current version (the same table): nothing changed, said so; the button
    // comes after what there is to check.
    assert!(
        r.text
            .contains("新增 0 项、删除 0 项、改写 0 项、移动 0 项、责任单位变化 0 项")
    );
    assert!(r.text.contains("两个版本的指标和责任单位完全相同"));
    let confirm = r.text.find("确认导入为新版本").unwrap();
    assert!(r.text.find("检查结果（").unwrap() < confirm);
    assert!(r.text.find("与当前版本《").unwrap() < confirm);
    // One indicator reworded: shown as a character diff.
    let edited = String::from_utf8(seed.to_vec())
        .unwrap()
        .replacen("一律取消", "全部取消", 1);
    admin.get("/admin/import").await;
    let changed = admin
        .upload("/admin/import", "责任分工（修订）.txt", edited.as_bytes())
        .await;
    assert!(
        changed.text.contains("新增 0 项、删除 0 项、改写 1 项"),
        "{}",
        changed.text
    );
    assert!(
        changed.text.contains("<del>一律</del><ins>全部</ins>")
            || changed.text.contains("<ins>全部</ins>")
    );
    admin.get("/admin/import").await;
    let r = admin.upload("/admin/import", "责任分工.txt", seed).await;
    let token_at =
        r.text.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    let token = r.text[token_at..token_at + 64].to_string();
    let r = admin
        .post("/admin/import/confirm", &[("token", &token)])
        .await;
    assert_eq!(r.location.as_deref(), Some("/admin/frameworks"));
    let versions = app.store.frameworks().await.unwrap();
    assert_eq!(versions.len(), 2);
    assert!(
        versions
            .iter()
            .any(|v| v.is_current && v.source_name == "责任分工.txt")
    );
    let r = admin
        .post("/admin/import/confirm", &[("token", &token)])
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a preview is confirmed once"
    );
    let r = admin
        .post("/admin/import/confirm", &[("token", "../../etc/passwd")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_matrix_is_a_grid_with_headings_short_texts_and_marked_groups() {
    let app = App::new().await;
    app.user("boss", fazhi_store::UserRole::Admin, None).await;
    let mut c = app.login("boss").await;
    let page = c.get("/matrix").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.text;
    // One header row; the counts sit inside the unit headers.
    assert_eq!(html.matches("<thead>").count(), 1);
    assert_eq!(html.matches("</tr>\n</thead>").count(), 1);
    assert!(
        html.contains(r#"title="县司法局：牵头"#),
        "full unit name on hover"
    );
    assert!(
        html.contains(r#"<span class="uname">司法局</span>"#),
        "short name shown"
    );
    assert!(html.contains(r#"class="unit group""#), "group unit marked");
    // A heading row above the first indicator of each 二级指标.
    assert!(html.contains("一、政府职能依法全面履行 ／ 1.行政审批制度改革全面推行"));
    assert_eq!(html.matches(r#"<tr class="heading">"#).count(), 32);
    // The indicator column shows the start of the text; the whole text is its title.
    assert!(html.contains(r#"title="向社会公布本级政府全部行政审批事项清单"#));
    assert!(html.contains(">向社会公布本级政府全部行政审批事…</a>"));
    assert!(html.matches(r#"class="mark mark-lead""#).count() > 90);
}

#[tokio::test]
async fn word_and_pdf_tables_preview_on_the_import_page() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut admin = app.login("boss").await;
    let r = admin.get("/admin/import").await;
    assert!(r.text.contains(".docx"), "{}", r.text);
    let docx = include_bytes!("../../../import/tests/fixtures/lanling.docx");
    let pdf = include_bytes!("../../../import/tests/fixtures/lanling.pdf");
    for (name, bytes) in [("责任分工.docx", &docx[..]), ("责任分工.pdf", &pdf[..])] {
        let r = admin.upload("/admin/import", name, bytes).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(
            r.text.contains("<strong>94</strong>末级指标"),
            "{name}: {}",
            r.text
        );
        assert!(r.text.contains("第35项没有填写责任单位"), "{name}");
    }
    // Nothing is stored until a preview is confirmed.
    assert_eq!(app.store.frameworks().await.unwrap().len(), 1);
}
