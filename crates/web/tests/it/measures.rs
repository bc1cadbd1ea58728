//! The numbers in the indicators over HTTP: a liaison reports values and keeps a ledger,
//! the office sees 达标/未达标 on the task and the overview, corrects a rule, and chases the
//! task with 督办单 that the unit acknowledges.

use axum::http::StatusCode;
use fazhi_store::UserRole;

use crate::{App, number_after, task_id_for};

/// Every `name="rule_key" value="…"` of a task page, in order.
fn rule_keys(html: &str) -> Vec<String> {
    html.match_indices("name=\"rule_key\" value=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[tokio::test]
async fn ledger_values_verdicts_and_overview() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("25").await;
    let t = format!("/tasks/{id}");

    // Before signing: the rules are shown, nothing reported, no forms.
    let page = sifa.get(&t).await;
    assert!(page.text.contains("量化要求与达标情况"), "{}", page.text);
    assert!(page.text.contains("未填报"));
    assert!(page.text.contains("合法性审核的时间"));
    assert!(rule_keys(&page.text).is_empty(), "no forms before 签收");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    let page = sifa.get(&t).await;
    let keys = rule_keys(&page.text);
    assert_eq!(keys.len(), 3, "rate + two durations: {keys:?}");
    assert!(keys[0].starts_with("percent@"));
    assert!(page.text.contains("办理台账（0件）"));

    // The rate: numerator above denominator is refused with the reason.
    let r = sifa
        .post(
            &format!("{t}/measures"),
            &[
                ("rule_key", &keys[0]),
                ("numerator", "12"),
                ("denominator", "10"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("分子（12）不能大于分母（10）"),
        "{}",
        r.text
    );
    let r = sifa
        .post(
            &format!("{t}/measures"),
            &[
                ("rule_key", &keys[0]),
                ("numerator", "18"),
                ("denominator", "18"),
                ("note", "全年审核规范性文件18件"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // The ledger: one review in 4 working days, one in 16, one in 10.
    for (title, a, b) in [
        ("关于甲的通知", "2026-03-02", "2026-03-06"),
        ("关于乙的办法", "2026-03-02", "2026-03-24"),
        ("关于丙的规定", "2026-03-02", "2026-03-16"),
    ] {
        let r = sifa
            .post(
                &format!("{t}/ledger"),
                &[("title", title), ("started_on", a), ("finished_on", b)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    }
    let r = sifa
        .post(
            &format!("{t}/ledger"),
            &[
                ("title", "倒序"),
                ("started_on", "2026-03-05"),
                ("finished_on", "2026-03-02"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("早于起始日期"), "{}", r.text);

    let page = sifa.get(&t).await;
    assert!(page.text.contains("办理台账（3件）"));
    assert!(page.text.contains("100%（18/18）"));
    assert!(
        page.text.contains("用时4个工作日，少于5个工作日"),
        "{}",
        page.text
    );
    assert!(page.text.contains("用时16个工作日，超过15个工作日"));
    assert!(page.text.contains("用时10个工作日，符合要求"));
    assert_eq!(page.text.matches("1件不符合要求").count(), 2);

    // Another unit can neither report on it nor touch its ledger.
    let mut other = app.login("caizheng").await;
    let r = other
        .post(
            &format!("{t}/measures"),
            &[("rule_key", &keys[0]), ("value", "100")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let case = number_after(&page.text, "/ledger/");
    let r = other.post(&format!("/ledger/{case}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(other.get("/overview").await.status, StatusCode::FORBIDDEN);

    // The office sees item 25 as 未达标 on the overview, with the two ledger violations.
    let overview = admin.get("/overview?only=not_met").await;
    assert_eq!(overview.status, StatusCode::OK);
    let row = overview
        .text
        .split("<tr>")
        .find(|r| r.contains(&format!("/tasks/{id}\"")))
        .expect("item 25 is listed as 未达标");
    assert!(row.contains("未达标"), "{row}");
    assert!(row.contains("台账 2 处不符合"), "{row}");
    // No due dates in this round: every task is 未设期限, none red.
    let none = admin.get("/tasks?light=none").await;
    assert!(none.text.contains(&format!("/tasks/{id}\"")));
    let red = admin.get("/tasks?light=red").await;
    assert!(!red.text.contains(&format!("/tasks/{id}\"")));
    assert!(red.text.contains("没有符合条件的任务"));
    let all = admin.get("/overview").await;
    assert!(all.text.contains("项指标"));
    assert!(all.text.contains("绿灯任务") || all.text.contains("未设期限任务"));

    // The liaison corrects the ledger: the late case is removed → the long rule is met.
    let late = {
        let at = page.text.find("关于乙的办法").unwrap();
        number_after(&page.text[at..], "/ledger/")
    };
    let r = sifa.post(&format!("/ledger/{late}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = sifa.get(&t).await;
    assert_eq!(page.text.matches("1件不符合要求").count(), 1);
    assert!(page.text.contains("办理台账（2件）"));
}

#[tokio::test]
async fn office_corrects_rules_and_they_count() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let tasks = admin.get("/tasks").await;
    let id = task_id_for(&tasks.text, "25").unwrap();
    let task_page = admin.get(&format!("/tasks/{id}")).await;
    let node = number_after(&task_page.text, "/indicators/");
    let ind = format!("/indicators/{node}");
    let page = admin.get(&ind).await;
    assert!(page.text.contains("自动识别"));
    let key_at = page.text.find("name=\"key\" value=\"duration@").unwrap() + 18;
    let key = page.text[key_at..][..page.text[key_at..].find('"').unwrap()].to_string();

    // A liaison may not correct rules.
    let mut sifa = app.login("sifa").await;
    let r = sifa
        .post(
            &format!("{ind}/rules"),
            &[("action", "delete"), ("key", &key)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Bad values say why.
    let r = admin
        .post(
            &format!("{ind}/rules"),
            &[
                ("action", "add"),
                ("kind", "percent"),
                ("subject", "备案审查率"),
                ("op", ">="),
                ("value", "120"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("比率不能超过100%"), "{}", r.text);

    let r = admin
        .post(
            &format!("{ind}/rules"),
            &[
                ("action", "replace"),
                ("key", &key),
                ("kind", "duration"),
                ("subject", "合法性审核的时间"),
                ("op", ">="),
                ("value", "7"),
                ("unit", "workday"),
                ("reason", "按县里规定"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = admin
        .post(
            &format!("{ind}/rules"),
            &[
                ("action", "add"),
                ("kind", "deadline"),
                ("subject", "报送年度审核情况"),
                ("value", "115"),
                ("reason", "补充"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = admin.get(&ind).await;
    assert!(page.text.contains("已修正量化要求") || page.text.contains("已补充量化要求"));
    assert!(page.text.contains("人工修正"));
    assert!(page.text.contains("合法性审核的时间 不少于 7个工作日"));
    assert!(
        page.text
            .contains("原识别：合法性审核的时间 不少于 5个工作日")
    );
    assert!(page.text.contains("报送年度审核情况 每年1月15日前"));
    assert!(page.text.contains("人工补充"));

    // The unit's task uses the corrected rules.
    sifa.post(&format!("/tasks/{id}/action"), &[("action", "sign")])
        .await;
    let page = sifa.get(&format!("/tasks/{id}")).await;
    assert!(page.text.contains("合法性审核的时间 不少于 7个工作日"));
    assert_eq!(rule_keys(&page.text).len(), 4);

    // Revoking the correction brings back the extracted rule.
    let cid = number_after(&admin.get(&ind).await.text, "/rule-corrections/");
    let r = admin
        .post(
            &format!("/rule-corrections/{cid}/revoke"),
            &[("node", &node.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get(&ind).await;
    assert!(page.text.contains("合法性审核的时间 不少于 5个工作日"));

    let audit = admin.get("/admin/audit").await;
    assert!(audit.text.contains("rule.correct") || audit.text.contains("更正量化要求"));
}

#[tokio::test]
async fn notices_are_issued_escalated_and_acknowledged() {
    // An answer date in the future whenever the test runs.
    let answer_by = (chrono::Utc::now() + chrono::Duration::days(40))
        .date_naive()
        .to_string();
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let id = admin.task_id("25").await;
    let t = format!("/tasks/{id}");
    let mut sifa = app.login("sifa").await;

    // Only the office issues 督办单.
    let r = sifa
        .post(
            &format!("{t}/notices"),
            &[("level", "remind"), ("message", "自己催自己")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin
        .post(
            &format!("{t}/notices"),
            &[("level", "remind"), ("message", "请尽快签收并报送")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = admin
        .post(
            &format!("{t}/notices"),
            &[("level", "remind"), ("message", "再提醒一次")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("只能升级为更高级别"), "{}", r.text);
    let r = admin
        .post(
            &format!("{t}/notices"),
            &[
                ("level", "warn"),
                ("message", "期限写错了"),
                ("respond_by", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("答复期限不能早于今天"), "{}", r.text);
    let r = admin
        .post(
            &format!("{t}/notices"),
            &[
                ("level", "warn"),
                ("message", "已多次提醒，请说明情况"),
                ("respond_by", &answer_by),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // The unit sees them in its inbox and on the task; another unit cannot acknowledge.
    let inbox = sifa.get("/inbox").await;
    assert!(inbox.text.contains("督办单待签收（2）"), "{}", inbox.text);
    let page = sifa.get(&t).await;
    assert!(page.text.contains("警示（黄色）"));
    assert!(page.text.contains("由 #1 升级"));
    assert!(page.text.contains(&format!("请于 {answer_by} 前答复")));
    let mut other = app.login("caizheng").await;
    let r = other.post("/notices/2/ack", &[("note", "不是我")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = sifa.post("/notices/2/ack", &[("note", "本周内报送")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = sifa.post("/notices/2/ack", &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let inbox = sifa.get("/inbox").await;
    assert!(
        !inbox.text.contains("督办单待签收"),
        "the escalation's acknowledgement settles the earlier notice too"
    );

    let list = admin.get("/notices").await;
    assert!(list.text.contains("本周内报送"));
    assert!(list.text.contains("随督办单 #2 一并签收"));
    assert!(!list.text.contains("badge none\">未签收"));
    let theirs = other.get("/notices").await;
    assert!(
        !theirs.text.contains("请尽快签收并报送"),
        "other units' notices are hidden"
    );

    // The printable 督办单: the unit and the office may print it, another unit may not.
    let sheet = sifa.get("/notices/2/print").await;
    assert_eq!(sheet.status, StatusCode::OK);
    for want in [
        "督　办　单",
        "县司法局",
        "已多次提醒，请说明情况",
        "县委全面依法治县委员会办公室",
        "本周内报送",
    ] {
        assert!(sheet.text.contains(want), "{want}: {}", sheet.text);
    }
    assert!(sheet.text.contains(&format!("请于 {answer_by} 前书面答复")));
    assert_eq!(admin.get("/notices/2/print").await.status, StatusCode::OK);
    assert_eq!(
        other.get("/notices/2/print").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin.get("/notices/99/print").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_notice_answered_after_the_due_date_is_flagged() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let id = admin.task_id("25").await;
    let today = chrono::Utc::now().date_naive();
    let due = (today + chrono::Duration::days(10)).to_string();
    let late_answer = (today + chrono::Duration::days(20)).to_string();
    let r = admin
        .post(
            "/admin/tasks/due",
            &[
                ("task_id", id.to_string().as_str()),
                ("due_on", due.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = admin
        .post(
            &format!("/tasks/{id}/notices"),
            &[
                ("level", "remind"),
                ("message", "请按期报送"),
                ("respond_by", late_answer.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get(&format!("/tasks/{id}")).await;
    assert!(
        page.text.contains(&format!(
            "答复期限 {late_answer} 晚于这项任务的办理期限 {due}"
        )),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn due_date_for_all_units_of_an_indicator() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let list = admin.get("/tasks").await;
    // Item 5 has two units: 县行政审批服务局 and 县市场监督管理局.
    let id = task_id_for(&list.text, "5").unwrap();
    let page = admin.get(&format!("/tasks/{id}")).await;
    assert!(page.text.contains("第5项全部责任单位的截止日期"));
    let node = number_after(&page.text, "/indicators/");
    let r = admin
        .post(
            "/admin/tasks/due",
            &[
                ("node_id", &node.to_string()),
                ("return_task", &id.to_string()),
                ("due_on", "2026-12-15"),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some(format!("/tasks/{id}").as_str()));
    let page = admin.get(&format!("/tasks/{id}")).await;
    assert!(
        page.text.contains("已为 2 项任务截止日期设为 2026-12-15"),
        "{}",
        page.text
    );
    let list = admin.get("/tasks").await;
    let item5_rows = list
        .text
        .split("<tr>")
        .filter(|row| row.contains("\">5</a></td>"))
        .collect::<Vec<_>>();
    assert_eq!(item5_rows.len(), 2);
    assert!(item5_rows.iter().all(|row| row.contains("2026-12-15")));
}

/// A unit downloads the 台账 template, fills it, imports it: a file with a bad row stores
/// nothing and lists the row; the clean file stores every case, judged on working days.
#[tokio::test]
async fn ledger_imported_from_excel() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("25").await;
    let t = format!("/tasks/{id}");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    let page = sifa.get(&t).await;
    assert!(
        page.text
            .contains(&format!("href=\"{t}/ledger/template.xlsx\""))
    );
    let template = sifa.get(&format!("{t}/ledger/template.xlsx")).await;
    assert_eq!(template.status, StatusCode::OK);
    assert!(template.content_type.contains("spreadsheetml"));
    // The template's header, as Excel would show it.
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(template.bytes.clone())).unwrap();
    use calamine::Reader;
    let sheet = book.worksheet_range("台账").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header, fazhi_import::ledger::HEADERS);

    // Filled in: two clean rows and one whose dates are the wrong way round.
    let fill = |rows: &[(&str, &str, &str)]| {
        let mut book = rust_xlsxwriter::Workbook::new();
        let s = book.add_worksheet();
        for (c, h) in fazhi_import::ledger::HEADERS.iter().enumerate() {
            s.write_string(0, c as u16, *h).unwrap();
        }
        for (r, (title, start, end)) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            s.write_string(r, 0, *title).unwrap();
            s.write_string(r, 1, *start).unwrap();
            s.write_string(r, 2, *end).unwrap();
        }
        book.save_to_buffer().unwrap()
    };
    let bad = fill(&[
        ("兰政发〔2026〕1号", "2026-03-02", "2026-03-06"),
        ("兰政发〔2026〕2号", "2026-03-20", "2026-03-10"),
    ]);
    sifa.get(&t).await;
    let r = sifa
        .upload_with(&format!("{t}/ledger/import"), &[], "台账.xlsx", &bad)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = sifa.get(&t).await;
    assert!(
        page.text.contains(
            "1 行有问题，未导入任何记录：第3行：办结日期（2026-03-10）早于起始日期（2026-03-20）"
        ),
        "{}",
        page.text
    );
    assert!(page.text.contains("办理台账（0件）"), "nothing stored");

    let good = fill(&[
        ("兰政发〔2026〕1号", "2026-03-02", "2026-03-06"),
        ("兰政发〔2026〕2号", "2026/3/2", "2026年3月24日"),
    ]);
    let r = sifa
        .upload_with(&format!("{t}/ledger/import"), &[], "台账.xlsx", &good)
        .await;
    assert_eq!(r.location.as_deref(), Some(format!("{t}#ledger").as_str()));
    let page = sifa.get(&t).await;
    assert!(
        page.text.contains("已从“台账.xlsx”导入 2 件台账记录"),
        "{}",
        page.text
    );
    assert!(page.text.contains("办理台账（2件）"));
    // 3/2 → 3/24 is 16 working days: over the 15 allowed.
    assert!(page.text.contains("用时16个工作日"), "{}", page.text);
    let audit = app
        .store
        .audit_entries(&fazhi_store::AuditFilter {
            action: Some("ledger.add".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);

    // Another unit may neither download its template nor import into it.
    let mut other = app.login("caizheng").await;
    assert_eq!(
        other.get(&format!("{t}/ledger/template.xlsx")).await.status,
        StatusCode::FORBIDDEN
    );
    other.get("/tasks").await;
    let r = other
        .upload_with(&format!("{t}/ledger/import"), &[], "台账.xlsx", &good)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
