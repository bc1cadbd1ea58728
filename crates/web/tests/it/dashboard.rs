//! 工作看板 over HTTP: everyone starts on it; its numbers are those of the 任务台账 and the
//! 工作进展报告 for the same round and date; each chart's data links to the filtered list
//! behind it; a liaison sees its own unit only.

use fazhi_store::test_support::PastGuards;
use std::io::Cursor;

use axum::http::StatusCode;
use calamine::{Reader, Xlsx};
use chrono::NaiveDate;
use fazhi_domain::clock::Clock;
use fazhi_domain::supervision::Light;
use fazhi_store::{ActorRole, TaskAction, TaskFilter, TaskId, UserRole};

use crate::App;

/// The rows of the task list page (one per task).
fn task_rows(html: &str) -> usize {
    html.matches(r#"<td class="card-title code"><a href="/tasks/"#)
        .count()
}

/// The JSON block the charts are drawn from.
fn chart_data(html: &str) -> serde_json::Value {
    let start = html
        .find(r#"<script type="application/json" id="dashboard-data">"#)
        .expect("the chart data block")
        + r#"<script type="application/json" id="dashboard-data">"#.len();
    let end = start + html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..end]).expect("valid JSON")
}

fn ledger_summary(bytes: &[u8]) -> String {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an .xlsx workbook");
    let range = book.worksheet_range("汇总").expect("the 汇总 sheet");
    range
        .rows()
        .flatten()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn docx_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("a .docx");
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    xml
}

/// Takes a task through `steps` as the system actor, today.
async fn step(app: &App, task: TaskId, steps: &[(TaskAction, ActorRole)]) {
    let today = Clock::default().today();
    for (a, r) in steps {
        app.store
            .transition_ready(task, a, *r, &fazhi_store::Actor::system(), today)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_dashboard_the_ledger_and_the_report_say_the_same() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("leader", UserRole::Observer, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    let mut leader = app.login("leader").await;
    let mut sifa = app.login("sifa").await;

    // Everyone starts on the 看板; before a round it says so.
    for c in [&mut admin, &mut leader, &mut sifa] {
        let r = c.get("/").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.headers["location"], "/dashboard");
    }
    let page = admin.get("/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("还没有进行中的创建工作轮次"),
        "{}",
        page.text
    );

    // A round with some work: one task approved, one submitted, one red.
    admin.open_round("2026年度创建工作", 2026).await;
    let round = app.store.active_round().await.unwrap().unwrap().id;
    let today = Clock::default().today();
    let sifa_unit = app.unit_id("县司法局").await;
    let caizheng = app.unit_id("县财政局").await;
    let of = |unit| TaskFilter {
        round: Some(round),
        unit: Some(unit),
        ..Default::default()
    };
    let mine = app.store.tasks(&of(sifa_unit)).await.unwrap();
    let system = fazhi_store::Actor::system();
    step(
        &app,
        mine[0].id,
        &[
            (TaskAction::Sign, ActorRole::ResponsibleUnit),
            (TaskAction::Submit, ActorRole::ResponsibleUnit),
            (TaskAction::Approve, ActorRole::Office),
        ],
    )
    .await;
    step(
        &app,
        mine[1].id,
        &[
            (TaskAction::Sign, ActorRole::ResponsibleUnit),
            (TaskAction::Submit, ActorRole::ResponsibleUnit),
        ],
    )
    .await;
    let late = app.store.tasks(&of(caizheng)).await.unwrap()[0].clone();
    let long_ago = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    assert!(long_ago < today);
    app.store
        .set_due(&[late.id], Some(long_ago), &system)
        .await
        .unwrap();

    // The one statistics layer, computed directly.
    let view = app.state.round_view(round, None, today).await.unwrap();
    let s = &view.stats;
    assert_eq!((s.approved, s.count_light(Light::Red)), (1, 1));

    // The 看板: the same numbers, for the office and for observers (领导).
    for c in [&mut admin, &mut leader] {
        let page = c.get("/dashboard").await;
        assert_eq!(page.status, StatusCode::OK);
        let html = &page.text;
        assert!(
            html.contains(&format!("已通过 {} / 共 {} 项任务", s.approved, s.tasks)),
            "{html}"
        );
        assert!(html.contains("各单位完成情况（横向排名）"));
        assert!(
            html.contains(&format!("第{}项", late.code)),
            "the red task is listed"
        );
        let data = chart_data(html);
        let bars = data["heading1"].as_array().unwrap();
        assert_eq!(bars.len(), s.heading1.len());
        let tasks_in_bars: u64 = bars.iter().map(|b| b["tasks"].as_u64().unwrap()).sum();
        assert_eq!(tasks_in_bars as usize, s.tasks);
        let units = data["units"].as_array().unwrap();
        assert_eq!(units.len(), s.units.len());
        let red_slice = data["lights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "红灯")
            .unwrap()
            .clone();
        assert_eq!(red_slice["value"], 1);
        assert_eq!(red_slice["href"], "/tasks?light=red");
    }

    // The 任务台账 and the 工作进展报告 of the same round and date.
    let ledger = admin.get("/exports/ledger.xlsx").await;
    assert_eq!(ledger.status, StatusCode::OK);
    let summary = ledger_summary(&ledger.bytes);
    assert!(
        summary.contains(&format!(
            "任务 {} 项，已通过 {} 项，完成率 {:.1}%",
            s.tasks,
            s.approved,
            s.completion() * 100.0
        )),
        "{summary}"
    );
    let report = admin.post("/exports/report", &[("format", "docx")]).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let text = docx_text(&report.bytes);
    for want in [
        format!("共分解任务{}项", s.tasks),
        format!("已审核通过（含销号）{}项", s.approved),
        format!("红灯{}项", s.count_light(Light::Red)),
    ] {
        assert!(text.contains(&want), "{want}");
    }

    // A bar's link opens the list behind it: the 一级指标's tasks, the unit's, the done.
    let data = chart_data(&admin.get("/dashboard").await.text);
    let first = &data["heading1"][0];
    let list = admin.get(first["href"].as_str().unwrap()).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        task_rows(&list.text) as u64,
        first["tasks"].as_u64().unwrap()
    );
    assert!(list.text.contains("只看“"), "the list says it is narrowed");
    let unit_bar = data["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "县司法局")
        .unwrap()
        .clone();
    let list = admin.get(unit_bar["href"].as_str().unwrap()).await;
    assert_eq!(task_rows(&list.text), mine.len());
    let done = admin.get("/tasks?status=done").await;
    assert_eq!(task_rows(&done.text), s.approved);

    // A liaison's 看板 is its own unit's, whatever it asks for.
    let own = app
        .state
        .round_view(round, Some(sifa_unit), today)
        .await
        .unwrap();
    for path in [
        "/dashboard".to_string(),
        format!("/dashboard?unit={}", caizheng.0),
    ] {
        let page = sifa.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("工作看板 · 县司法局"), "{}", page.text);
        assert!(!page.text.contains("各单位完成情况（横向排名）"));
        assert!(!page.text.contains("县财政局"), "nothing of another unit");
        assert!(page.text.contains(&format!(
            "已通过 {} / 共 {} 项任务",
            own.stats.approved, own.stats.tasks
        )));
        let data = chart_data(&page.text);
        assert_eq!(data["units"].as_array().unwrap().len(), 0);
    }
    // The office may look at one unit too.
    let page = admin.get(&format!("/dashboard?unit={}", sifa_unit.0)).await;
    assert!(page.text.contains("工作看板 · 县司法局"));
    let want = format!("/tasks?status=done&#38;unit={}", sifa_unit.0);
    assert!(page.text.contains(&want), "{want} in {}", page.text);
}

#[tokio::test]
async fn charts_are_served_with_their_licence() {
    let app = App::new().await;
    let mut c = app.client();
    let js = c.get("/static/vendor/echarts-6.1.0.common.min.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.content_type.starts_with("text/javascript"));
    assert!(js.bytes.len() > 100_000);
    let licence = c.get("/static/vendor/echarts-LICENSE.txt").await;
    assert_eq!(licence.status, StatusCode::OK);
    assert!(licence.text.contains("Apache License"));
    assert_eq!(c.get("/static/dashboard.js").await.status, StatusCode::OK);
    // A browser that takes gzip gets the charts in about a third of the bytes.
    let gz = c
        .get_with(
            "/static/vendor/echarts-6.1.0.common.min.js",
            &[("accept-encoding", "gzip, deflate, br")],
        )
        .await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(
        gz.headers.get("content-encoding").map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
    assert!(gz.bytes.len() * 2 < js.bytes.len(), "{}", gz.bytes.len());
    assert!(gz.bytes.starts_with(&[0x1f, 0x8b]), "a gzip stream");
    assert_eq!(
        gz.headers.get("vary").map(|v| v.as_bytes()),
        Some(&b"accept-encoding"[..])
    );
}
