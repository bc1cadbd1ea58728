//! 导出 over HTTP: the office downloads the 责任分工表 and the 任务台账 (all units or one), a
//! liaison only its own unit's 台账; the files are real workbooks with Chinese names, each
//! export is audited, and nothing stays in the data directory.

use std::io::Cursor;

use axum::http::StatusCode;
use calamine::{Reader, Xlsx};
use fazhi_store::{AuditFilter, UserRole};

use crate::{App, Client};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Every cell of every sheet of a workbook, as text.
fn cells(bytes: &[u8]) -> Vec<String> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an .xlsx workbook");
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("a sheet");
        out.extend(range.rows().flatten().map(|c| c.to_string()));
    }
    out
}

async fn download(c: &mut Client, path: &str) -> (Vec<u8>, String) {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    assert_eq!(r.content_type, XLSX, "{path}");
    let disposition = r
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    (r.bytes, disposition)
}

fn encoded(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn office_and_liaison_download_what_they_may() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    let mut sifa = app.login("sifa").await;

    // Before a round: the page says so, the 台账 is refused with a reason.
    let page = admin.get("/exports").await;
    assert!(
        page.text.contains("还没有进行中的创建轮次"),
        "{}",
        page.text
    );
    let r = admin.get("/exports/ledger.xlsx").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text.contains("还没有进行中的创建轮次"), "{}", r.text);
    admin.open_round("2026年度创建工作", 2026).await;

    // The 责任分工表: the document's columns and units.
    let (bytes, name) = download(&mut admin, "/exports/responsibility.xlsx").await;
    assert!(name.contains(&encoded("责任分工表")), "{name}");
    let all = cells(&bytes);
    assert!(all.iter().any(|c| c == "三级指标"), "{:?}", &all[..20]);
    assert!(all.iter().any(|c| c.contains("县司法局")));

    // The whole county's 台账, then one unit's.
    let (bytes, name) = download(&mut admin, "/exports/ledger.xlsx").await;
    assert!(name.contains(&encoded("任务台账-全部单位")), "{name}");
    let county = cells(&bytes);
    assert!(county.iter().any(|c| c == "县财政局"));
    let caizheng = app.unit_id("县财政局").await.0;
    let (bytes, name) =
        download(&mut admin, &format!("/exports/ledger.xlsx?unit={caizheng}")).await;
    assert!(name.contains(&encoded("任务台账-县财政局")), "{name}");
    assert!(!cells(&bytes).iter().any(|c| c == "县司法局"));

    // A liaison: its own unit's 台账, nothing else.
    let page = sifa.get("/exports").await;
    assert!(
        page.text.contains("下载县司法局的任务台账"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("/exports/responsibility.xlsx"));
    let (bytes, name) = download(&mut sifa, "/exports/ledger.xlsx").await;
    assert!(name.contains(&encoded("任务台账-县司法局")), "{name}");
    let own = cells(&bytes);
    assert!(own.iter().any(|c| c == "县司法局"));
    assert!(
        !own.iter().any(|c| c == "县财政局"),
        "another unit in a liaison's 台账"
    );
    let r = sifa
        .get(&format!("/exports/ledger.xlsx?unit={caizheng}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        sifa.get("/exports/responsibility.xlsx").await.status,
        StatusCode::FORBIDDEN
    );

    // Audited: who exported what; the refused ones are not.
    let log = |action: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .audit_entries(&AuditFilter {
                    action: Some(action.into()),
                    ..Default::default()
                })
                .await
                .expect("audit")
        }
    };
    let ledgers = log("export.ledger").await;
    assert_eq!(ledgers.len(), 3, "{ledgers:?}");
    assert_eq!(
        ledgers.iter().filter(|e| e.actor_name == "sifa").count(),
        1,
        "{ledgers:?}"
    );
    assert_eq!(log("export.responsibility").await.len(), 1);

    // The temporary files are gone.
    let tmp = app.state.config.data_dir.join("tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn report_downloads_as_word_and_pdf_with_the_rules_of_the_ledger() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    let mut sifa = app.login("sifa").await;
    admin.open_round("2026年度创建工作", 2026).await;

    // The form is on the page with the office's default 发文机关.
    let page = admin.get("/exports").await;
    assert!(
        page.text.contains(r#"action="/exports/report""#),
        "{}",
        page.text
    );
    assert!(page.text.contains("县委全面依法治县委员会办公室"));

    // Word for the county, with the office's title; a Chinese file name.
    let r = admin
        .post(
            "/exports/report",
            &[
                ("format", "docx"),
                ("title", "兰陵县创建工作进展情况"),
                ("note", "特此报告。"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.content_type,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let name = r.headers["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(name.contains(&encoded("工作进展报告-全部单位")), "{name}");
    assert!(r.bytes.starts_with(b"PK"), "a .docx is a zip");
    let xml = {
        let mut zip = zip::ZipArchive::new(Cursor::new(r.bytes.clone())).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut s)
            .unwrap();
        s
    };
    for want in [
        "兰陵县创建工作进展情况",
        "特此报告。",
        "总体进展",
        "各单位完成情况",
    ] {
        assert!(xml.contains(want), "{want}");
    }

    // PDF for the liaison's own unit; another unit's is refused; bad input says why.
    let r = sifa.post("/exports/report", &[("format", "pdf")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.content_type, "application/pdf");
    assert!(r.bytes.starts_with(b"%PDF"));
    let name = r.headers["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(name.contains(&encoded("工作进展报告-县司法局")), "{name}");
    let caizheng = app.unit_id("县财政局").await.0.to_string();
    let r = sifa
        .post("/exports/report", &[("format", "pdf"), ("unit", &caizheng)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin.post("/exports/report", &[("format", "odt")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("格式“odt”无效"), "{}", r.text);
    let r = admin
        .post("/exports/report", &[("as_of", "2099-01-01")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("在今天之后"), "{}", r.text);
    let long = "长".repeat(101);
    let r = admin.post("/exports/report", &[("title", &long)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("标题最长"), "{}", r.text);

    // The API: the same rules, GET (a read-only token may export).
    let r = admin.get("/api/v1/exports/report?format=docx").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = sifa
        .get(&format!("/api/v1/exports/ledger?unit_id={caizheng}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text.contains("联络员只能导出本单位的任务台账"),
        "{}",
        r.text
    );
    // A mistyped parameter is a JSON 400 that names it.
    let r = admin
        .get("/api/v1/exports/ledger?unit_id=9223372036854775808")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    assert!(
        r.text.contains("查询参数无效") && r.text.contains("unit_id"),
        "{}",
        r.text
    );
    let r = sifa.get("/api/v1/exports/ledger").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, XLSX);
    assert_eq!(
        sifa.get("/api/v1/exports/responsibility").await.status,
        StatusCode::FORBIDDEN
    );

    // Audited: three reports made (two by the office), refusals not.
    let log = app
        .store
        .audit_entries(&AuditFilter {
            action: Some("export.report".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log.iter().any(|e| {
        e.after_json
            .as_deref()
            .unwrap_or_default()
            .contains("特此报告。")
    }));
}

/// 结束本轮: the round leaves the work pages, its tasks stay readable, and its 任务台账 can
/// still be downloaded (a liaison: its own unit's) from the 轮次 and 导出 pages and the API.
#[tokio::test]
async fn a_closed_round_is_kept_and_exported() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度创建工作", 2026).await;
    let round = app.store.active_round().await.unwrap().unwrap().id;
    let page = admin.get("/rounds").await;
    assert!(
        page.text
            .contains(&format!("action=\"/admin/rounds/{round}/close\""))
    );
    assert!(
        page.text
            .contains("data-confirm=\"确定结束“2026年度创建工作”吗？")
    );
    let mut sifa = app.login("sifa").await;
    sifa.get("/tasks").await;
    let r = sifa
        .post(&format!("/admin/rounds/{round}/close"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the office's");

    let r = admin
        .post(&format!("/admin/rounds/{round}/close"), &[])
        .await;
    assert_eq!(r.location.as_deref(), Some("/rounds"));
    let page = admin.get("/rounds").await;
    assert!(
        page.text.contains("“2026年度创建工作”已结束"),
        "{}",
        page.text
    );
    assert!(page.text.contains("可查阅和导出"));
    assert!(
        page.text
            .contains(&format!("href=\"/exports/ledger.xlsx?round={round}\""))
    );
    let r = admin
        .post(&format!("/admin/rounds/{round}/close"), &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "closed once");

    let (bytes, _) = download(&mut admin, &format!("/exports/ledger.xlsx?round={round}")).await;
    let all = cells(&bytes);
    assert!(all.iter().any(|c| c.contains("县财政局")), "every unit");
    let (bytes, _) = download(&mut sifa, &format!("/exports/ledger.xlsx?round={round}")).await;
    let own = cells(&bytes);
    assert!(
        !own.iter().any(|c| c == "县财政局"),
        "a liaison its own unit only"
    );
    let page = sifa.get("/exports").await;
    assert!(
        page.text.contains("“2026年度创建工作”的任务台账"),
        "{}",
        page.text
    );
    // With no round in progress, the 工作进展报告 of the closed one is still offered.
    let page = admin.get("/exports").await;
    assert!(
        page.text.contains(r#"action="/exports/report""#),
        "{}",
        page.text
    );
    assert!(
        page.text.contains(&format!(
            "<option value=\"{round}\">2026年度创建工作</option>"
        )),
        "{}",
        page.text
    );
    let r = admin
        .post(
            "/exports/report",
            &[("format", "docx"), ("round", &round.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.bytes.starts_with(b"PK"), "a .docx");
    let r = admin.get("/exports/ledger.xlsx?round=9999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = admin.get("/exports/ledger.xlsx?round=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let audit = app
        .store
        .audit_entries(&AuditFilter {
            action: Some("round.close".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}
