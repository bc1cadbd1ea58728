//! Dates over HTTP: the office's holiday arrangements and working-day calculator, each
//! user's schedule (日程), and the private iCalendar feed.

use axum::http::StatusCode;
use chrono::{Datelike, Days, NaiveDate, Utc};
use fazhi_domain::measure::next_yearly;
use fazhi_domain::rules::RuleKind;
use fazhi_store::tasks::{TaskFilter, TaskSummary};
use fazhi_store::{Actor, TaskId, UserRole};
use icalendar::Component;

use crate::{App, Client};

/// The office's date (Beijing), as the server sees it.
fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn plus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_add_days(Days::new(days)).expect("date in range")
}

fn minus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(days)).expect("date in range")
}

#[tokio::test]
async fn holiday_arrangements_are_listed_added_and_checked() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;

    let page = admin.get("/admin/calendar").await;
    assert_eq!(page.status, StatusCode::OK);
    for year in 2019..=2026 {
        assert!(page.text.contains(&format!("{year}年")), "{year}");
    }
    assert!(page.text.contains("随系统提供"));
    assert!(page.text.contains("国办发明电〔2024〕12号"));
    assert!(page.text.contains("2026-01-04,上班,元旦"), "format example");
    assert!(page.text.contains("href=\"/admin/calendar\""), "nav link");

    let mut sifa = app.login("sifa").await;
    assert_eq!(
        sifa.get("/admin/calendar").await.status,
        StatusCode::FORBIDDEN
    );
    let r = sifa
        .post(
            "/admin/calendar",
            &[("year", "2027"), ("source", "x"), ("text", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        !sifa
            .get("/")
            .await
            .text
            .contains("href=\"/admin/calendar\"")
    );

    // The calculator: the National Day example of the domain, and an unentered year.
    let r = admin.get("/admin/calendar?from=2025-09-26&n=5").await;
    assert!(r.text.contains("2025-10-10（星期五）"), "{}", r.text);
    assert!(
        r.text.contains("国庆节、中秋节"),
        "holidays skipped are named"
    );
    let r = admin.get("/admin/calendar?a=2025-09-26&b=2025-10-10").await;
    assert!(r.text.contains("共 5 个工作日"), "{}", r.text);
    let r = admin.get("/admin/calendar?from=2026-12-30&n=5").await;
    assert!(
        r.text.contains("2027年的节假日安排尚未录入"),
        "no guessing for a year without data: {}",
        r.text
    );
    let r = admin.get("/admin/calendar?from=2026-02-30&n=5").await;
    assert!(r.text.contains("不是有效日期"));

    // Parsing errors name the line, as typed (a missing header line is supplied).
    let r = admin
        .post(
            "/admin/calendar",
            &[
                ("year", "2027"),
                ("source", "国办发明电〔2026〕9号"),
                ("text", "2027-02-06,off,春节\n2027-02-30,off,春节\n"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("未能录入"), "{}", r.text);
    assert!(r.text.contains("第 2 行"), "{}", r.text);
    assert!(r.text.contains("2027-02-30"));
    assert!(
        r.text.contains("国办发明电〔2026〕9号"),
        "the form keeps what was typed"
    );
    let r = admin
        .post(
            "/admin/calendar",
            &[
                ("year", "2027"),
                ("source", "国办发明电〔2026〕9号"),
                // 2027-02-05 is a Friday.
                (
                    "text",
                    "date,kind,name\n2027-02-06,off,春节\n2027-02-05,workday,春节\n",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("第 3 行") && r.text.contains("星期五"),
        "{}",
        r.text
    );
    let r = admin
        .post(
            "/admin/calendar",
            &[
                ("year", "2026"),
                ("source", "国办发明电"),
                ("text", "2026-10-01,off,国庆节"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("已随系统提供"), "{}", r.text);
    let r = admin
        .post(
            "/admin/calendar",
            &[
                ("year", "2027"),
                ("source", ""),
                ("text", "2027-02-06,放假,春节"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("请填写依据"));
    assert!(!app.store.calendar().await.unwrap().is_covered(2027));

    // Made-up 2027 data (not the real notice), pasted with full-width commas.
    let r = admin
        .post(
            "/admin/calendar",
            &[
                ("year", "2027"),
                ("source", "国办发明电〔2026〕9号"),
                (
                    "text",
                    "date,kind,name\n2027-01-01,off,元旦\n2027-02-06，off，春节\n2027-02-07,off,春节\n2027-02-08,off,春节\n2027-02-20,workday,春节\n",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location.as_deref(), Some("/admin/calendar"));
    let page = admin.get("/admin/calendar").await;
    assert!(
        page.text
            .contains("已录入2027年节假日安排（依据：国办发明电〔2026〕9号），共 5 条"),
        "{}",
        page.text
    );
    assert!(page.text.contains("本办录入"));
    assert!(
        page.text.contains("2月20日（星期六）"),
        "summary of the year"
    );
    // The calculator now uses it at once.
    let r = admin.get("/admin/calendar?from=2026-12-30&n=5").await;
    assert!(r.text.contains("2027-01-07（星期四）"), "{}", r.text);

    // A CSV file upload (multipart, as Excel on Chinese Windows saves it: GB18030).
    let csv = "date,kind,name\r\n2028-01-01,off,元旦\r\n2028-01-26,off,春节\r\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(csv);
    admin.get("/admin/calendar").await;
    let r = admin
        .upload_with(
            "/admin/calendar",
            &[("year", "2028"), ("source", "国办发明电〔2027〕1号")],
            "2028.csv",
            &gbk,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let cal = app.store.calendar().await.unwrap();
    assert!(cal.is_covered(2028));
    assert_eq!(
        cal.holiday_name(NaiveDate::from_ymd_opt(2028, 1, 26).unwrap()),
        Ok(Some("春节"))
    );
    // Too large a file is refused with a clear message.
    admin.get("/admin/calendar").await;
    let big = vec![b'#'; 1024 * 1024 + 10];
    let r = admin
        .upload_with(
            "/admin/calendar",
            &[("year", "2029"), ("source", "x")],
            "big.csv",
            &big,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("文件太大"), "{}", r.text);
}

struct Fixture {
    app: App,
    /// 县司法局's task of indicator 25.
    t25: TaskSummary,
    /// Another of 县司法局's tasks, due beyond the 12 months.
    far: TaskSummary,
    /// A task of 县财政局.
    other: TaskSummary,
    /// The deadline rules added to indicator 25: (key, month, day).
    past_rule: (String, u32, u32),
    soon_rule: (String, u32, u32),
}

async fn tasks_of(app: &App, unit: &str) -> Vec<TaskSummary> {
    let round = app.store.active_round().await.unwrap().expect("round");
    app.store
        .tasks(&TaskFilter {
            round: Some(round.id),
            unit: Some(app.unit_id(unit).await),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// A round that began 60 days ago, due dates around today, and two yearly deadlines on
/// indicator 25: one 10 days ago (passed, unreported) and one in 30 days.
async fn fixture() -> Fixture {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    app.user("kan", UserRole::Observer, None).await;
    let today = today();
    let mut admin = app.login("boss").await;
    let r = admin
        .post(
            "/admin/rounds",
            &[
                ("name", "本年度创建工作"),
                ("starts_on", &minus(today, 60).to_string()),
                ("ends_on", &plus(today, 300).to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let sifa_tasks = tasks_of(&app, "县司法局").await;
    let t25 = sifa_tasks
        .iter()
        .find(|t| t.code == "25")
        .expect("25 is 县司法局's")
        .clone();
    let far = sifa_tasks
        .iter()
        .find(|t| t.code != "25")
        .expect("县司法局 has more tasks")
        .clone();
    let other = tasks_of(&app, "县财政局")
        .await
        .into_iter()
        .next()
        .expect("县财政局 has tasks");
    let set_due = async |admin: &mut Client, fields: &[(&str, &str)]| {
        admin.get("/tasks").await;
        let r = admin.post("/admin/tasks/due", fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    };
    let sifa_unit = app.unit_id("县司法局").await.to_string();
    let cz_unit = app.unit_id("县财政局").await.to_string();
    set_due(
        &mut admin,
        &[
            ("unit_id", &sifa_unit),
            ("due_on", &plus(today, 10).to_string()),
        ],
    )
    .await;
    set_due(
        &mut admin,
        &[
            ("unit_id", &cz_unit),
            ("due_on", &plus(today, 20).to_string()),
        ],
    )
    .await;
    set_due(
        &mut admin,
        &[
            ("task_id", &t25.id.to_string()),
            ("due_on", &minus(today, 3).to_string()),
        ],
    )
    .await;
    set_due(
        &mut admin,
        &[
            ("task_id", &far.id.to_string()),
            ("due_on", &plus(today, 400).to_string()),
        ],
    )
    .await;

    // Two yearly deadlines on indicator 25, added by the office.
    let past = minus(today, 10);
    let soon = plus(today, 30);
    for (subject, d) in [("上年度执法数据公开", past), ("年度法治政府建设报告", soon)]
    {
        admin.get(&format!("/indicators/{}", t25.node_id)).await;
        let value = (d.month() * 100 + d.day()).to_string();
        let r = admin
            .post(
                &format!("/indicators/{}/rules", t25.node_id),
                &[
                    ("action", "add"),
                    ("kind", "deadline"),
                    ("subject", subject),
                    ("op", ">="),
                    ("value", &value),
                    ("reason", "测试"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    }
    let m = app.store.task_measures(t25.id).await.unwrap();
    let rule = |d: NaiveDate| {
        m.rules
            .rules
            .iter()
            .find_map(|r| match r.rule.kind {
                RuleKind::Deadline { month, day } if month == d.month() && day == d.day() => {
                    Some((r.key.clone(), month, day))
                }
                _ => None,
            })
            .expect("deadline rule")
    };
    Fixture {
        past_rule: rule(past),
        soon_rule: rule(soon),
        app,
        t25,
        far,
        other,
    }
}

fn task_link(id: TaskId) -> String {
    format!("href=\"/tasks/{id}\"")
}

#[tokio::test]
async fn schedule_lists_due_dates_and_yearly_deadlines() {
    let f = fixture().await;
    let today = today();
    let mut sifa = f.app.login("sifa").await;
    let page = sifa.get("/schedule").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = &page.text;
    assert!(text.contains("href=\"/schedule\""), "nav link");
    assert!(text.contains("已逾期"), "{text}");
    // Overdue: task 25's due date (3 days ago) and the yearly deadline 10 days ago.
    let overdue_at = text.find("已逾期（").expect("overdue section");
    let first_month = text[overdue_at..]
        .find("<h3>")
        .map(|i| i + overdue_at)
        .unwrap_or(text.len());
    let overdue = &text[overdue_at..first_month];
    assert!(overdue.contains(&minus(today, 3).to_string()), "{overdue}");
    let past = next_yearly(f.past_rule.1, f.past_rule.2, minus(today, 60)).unwrap();
    assert!(overdue.contains(&past.to_string()), "{overdue}");
    assert!(overdue.contains("逾期未报"));
    assert!(overdue.contains("上年度执法数据公开"));
    // Upcoming: the other tasks' due date, the deadline in 30 days, next year's reminder.
    let rest = &text[first_month..];
    assert!(rest.contains(&plus(today, 10).to_string()));
    assert!(rest.contains(&plus(today, 30).to_string()));
    let next = next_yearly(f.past_rule.1, f.past_rule.2, today).unwrap();
    assert!(rest.contains(&next.to_string()), "next year's occurrence");
    assert!(rest.contains("年度截止"));
    // Beyond 12 months, and other units' tasks, are not listed.
    assert!(!text.contains(&plus(today, 400).to_string()));
    assert!(!text.contains(&task_link(f.far.id)));
    assert!(!text.contains("县财政局"));
    assert!(!text.contains(&task_link(f.other.id)));

    // Reporting the completion day marks the deadline as reported.
    sifa.get(&format!("/tasks/{}", f.t25.id)).await;
    let r = sifa
        .post(
            &format!("/tasks/{}/action", f.t25.id),
            &[("action", "sign")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    sifa.get(&format!("/tasks/{}", f.t25.id)).await;
    for key in [&f.soon_rule.0, &f.past_rule.0] {
        let r = sifa
            .post(
                &format!("/tasks/{}/measures", f.t25.id),
                &[("rule_key", key), ("done_on", &today.to_string())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    }
    let text = sifa.get("/schedule").await.text;
    assert!(text.contains(&format!("已报完成日期 {today}")), "{text}");
    assert!(
        !text.contains("逾期未报"),
        "a late report is still a report"
    );

    // The office sees every unit and can filter by one.
    let mut admin = f.app.login("boss").await;
    let all = admin.get("/schedule").await.text;
    assert!(all.contains(&task_link(f.t25.id)));
    assert!(all.contains(&task_link(f.other.id)));
    let cz = f.app.unit_id("县财政局").await;
    let only = admin.get(&format!("/schedule?unit={cz}")).await.text;
    assert!(only.contains(&task_link(f.other.id)));
    assert!(!only.contains(&task_link(f.t25.id)));
    let mut kan = f.app.login("kan").await;
    let seen = kan.get("/schedule").await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.text.contains(&task_link(f.other.id)));
}

/// The feed URL's path, from the page shown right after making it.
fn feed_path(html: &str) -> String {
    let start = html.find("/feed/").expect("feed URL shown");
    let end = start + html[start..].find(".ics").expect(".ics") + ".ics".len();
    html[start..end].to_string()
}

#[tokio::test]
async fn private_calendar_feed() {
    let f = fixture().await;
    let today = today();
    let mut sifa = f.app.login("sifa").await;
    let account = sifa.get("/account/tokens").await;
    assert!(account.text.contains("href=\"/account/calendar\""));
    let page = sifa.get("/account/calendar").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("还没有订阅地址"));
    assert!(page.text.contains("Outlook"));
    let made = sifa.post("/account/calendar", &[]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let path = feed_path(&made.text);
    assert!(made.text.contains("只显示这一次"));
    let token = path
        .trim_start_matches("/feed/")
        .trim_end_matches(".ics")
        .to_string();
    assert_eq!(token.len(), 64);
    // Only the hash is kept: the page does not show the URL again.
    let again = sifa.get("/account/calendar").await;
    assert!(!again.text.contains(&token));
    assert!(again.text.contains("重新生成"));

    // No session needed: a calendar app only has the URL.
    let mut app_client = f.app.client();
    let r = app_client.get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.content_type, "text/calendar; charset=utf-8");
    let cal: icalendar::Calendar = r.text.parse().expect("the feed parses");
    let events: Vec<&icalendar::Event> = cal.events().collect();
    let uids: Vec<&str> = events
        .iter()
        .filter_map(|e| e.property_value("UID"))
        .collect();
    let due_uid = format!("task-{}-due@fazhi", f.t25.id);
    assert!(uids.contains(&due_uid.as_str()), "{uids:?}");
    let key: String = f
        .soon_rule
        .0
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let soon = plus(today, 30);
    let deadline_uid = format!("task-{}-deadline-{key}-{}@fazhi", f.t25.id, soon.year());
    assert!(uids.contains(&deadline_uid.as_str()), "{uids:?}");
    let mut sorted = uids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), uids.len(), "UIDs are unique");
    let due = events
        .iter()
        .find(|e| e.property_value("UID") == Some(due_uid.as_str()))
        .unwrap();
    let summary = due.get_summary().unwrap_or_default();
    assert!(
        summary.starts_with("【已逾期】第25项 ") && summary.ends_with(" · 县司法局"),
        "{summary}"
    );
    assert_eq!(
        due.property_value("DTSTART"),
        Some(minus(today, 3).format("%Y%m%d").to_string().as_str())
    );
    assert_eq!(
        due.property_value("DTEND"),
        Some(minus(today, 2).format("%Y%m%d").to_string().as_str()),
        "all-day: the end is the next day"
    );
    let description = due.get_description().unwrap_or_default();
    assert!(
        description.contains(&format!("/tasks/{}", f.t25.id)),
        "{description}"
    );
    let deadline = events
        .iter()
        .find(|e| e.property_value("UID") == Some(deadline_uid.as_str()))
        .unwrap();
    assert_eq!(
        deadline.get_summary(),
        Some("【年度截止】第25项 年度法治政府建设报告 · 县司法局")
    );
    assert!(
        deadline
            .get_description()
            .unwrap_or_default()
            .contains("年度法治政府建设报告"),
    );
    // A liaison's feed has only its unit's tasks.
    assert!(
        events
            .iter()
            .all(|e| e.get_summary().is_some_and(|s| s.ends_with(" · 县司法局"))),
        "only 县司法局's tasks"
    );
    assert!(!uids.contains(&format!("task-{}-due@fazhi", f.other.id).as_str()));
    // The same items as the schedule page: stable UIDs on the next fetch.
    let r2 = app_client.get(&path).await;
    let cal2: icalendar::Calendar = r2.text.parse().unwrap();
    let uids2: Vec<String> = cal2
        .events()
        .filter_map(|e| e.property_value("UID").map(str::to_string))
        .collect();
    assert_eq!(uids2, uids);

    // Wrong or malformed tokens: 404 with a short message.
    let wrong = format!("/feed/{}.ics", "0".repeat(64));
    let r = app_client.get(&wrong).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("订阅地址无效"));
    assert_eq!(
        app_client.get("/feed/abc.ics").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app_client.get(&format!("/feed/{token}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Regenerating invalidates the old URL.
    sifa.get("/account/calendar").await;
    let renewed = sifa.post("/account/calendar", &[]).await;
    let new_path = feed_path(&renewed.text);
    assert_ne!(new_path, path);
    assert_eq!(app_client.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app_client.get(&new_path).await.status, StatusCode::OK);
    // CSRF applies to regenerating.
    let r = sifa.post("/account/calendar", &[("_csrf", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app_client.get(&new_path).await.status, StatusCode::OK);

    // The office's feed has every unit's tasks.
    let mut admin = f.app.login("boss").await;
    admin.get("/account/calendar").await;
    let admin_path = feed_path(&admin.post("/account/calendar", &[]).await.text);
    let all = app_client.get(&admin_path).await.text;
    assert!(all.contains(&format!("task-{}-due@fazhi", f.other.id)));
    assert!(all.contains(&due_uid));

    // A disabled user's feed is gone.
    let user = f
        .app
        .store
        .user_by_username("sifa")
        .await
        .unwrap()
        .expect("sifa");
    f.app
        .store
        .set_disabled(user.id, true, &Actor::system())
        .await
        .unwrap();
    assert_eq!(
        app_client.get(&new_path).await.status,
        StatusCode::NOT_FOUND
    );
}

/// The page's "today" comes from the configured zone (`utc_offset`), not from a zone
/// fixed in the code: UTC+14 and UTC−12 are 26 hours apart, so their dates always differ.
#[tokio::test]
async fn today_follows_the_configured_zone() {
    use fazhi_domain::clock::{Clock, Zone};
    let mut shown = Vec::new();
    for minutes in [14 * 60, -12 * 60] {
        let zone = Zone::from_offset_minutes(minutes).expect("zone");
        let app = App::custom(|c| c.clock = Clock::new(zone), |_| {}).await;
        app.user("boss", UserRole::Admin, None).await;
        let mut c = app.login("boss").await;
        let page = c.get("/admin/calendar").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let expected = zone.date_of(Utc::now());
        let day = ["今天是 ", &expected.to_string()].concat();
        // Just after midnight the date may turn between the two reads: accept either.
        let before = minus(expected, 1).to_string();
        assert!(
            page.text.contains(&day) || page.text.contains(&["今天是 ", &before].concat()),
            "zone {minutes} min: expected {day}"
        );
        shown.push(expected);
    }
    assert!(shown[0] > shown[1], "{shown:?}");
}
