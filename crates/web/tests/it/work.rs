//! The daily work over HTTP: a round, a unit's task through its whole life, evidence.

use axum::http::StatusCode;
use fazhi_store::UserRole;

use crate::{App, files_under, number_after, task_id_for};

/// `%PDF` magic so the file store sniffs it as a PDF.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[tokio::test]
async fn a_task_from_round_to_approval() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    let mut admin = app.login("boss").await;
    let r = admin
        .post(
            "/admin/rounds",
            &[
                ("name", "2027年度创建工作"),
                ("starts_on", "2027-01-01"),
                ("ends_on", "2027-12-31"),
                ("due_on", "2027-08-31"),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/tasks"));
    let page = admin.get("/tasks").await;
    assert!(
        page.text.contains("已开启新一轮创建工作，生成任务 113 项"),
        "{}",
        page.text
    );
    assert!(page.text.contains("“各执法部门”尚未设置成员单位"));
    assert!(
        page.text.contains(
            "<div class=\"warn flash-warn\" role=\"alert\">注意：“各执法部门”尚未设置成员单位"
        ),
        "the warning stands apart from the success message: {}",
        page.text
    );
    assert!(!page.text.contains("生成任务 113 项。注意"));

    let mut sifa = app.login("sifa").await;
    let list = sifa.get("/tasks").await;
    let id = task_id_for(&list.text, "25").expect("item 25 is 县司法局's");
    assert!(
        task_id_for(&list.text, "1").is_none(),
        "other units' tasks are not listed"
    );
    let inbox = sifa.get("/inbox").await;
    assert!(inbox.text.contains("待签收"));
    let t = format!("/tasks/{id}");
    let r = sifa
        .post(&format!("{t}/action"), &[("action", "submit")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a task not yet signed cannot be submitted"
    );
    let r = sifa
        .post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = sifa
        .post(
            &format!("{t}/reports"),
            &[
                ("progress", "已完成规范性文件合法性审核台账"),
                ("problems", "无"),
                ("next_steps", "报送"),
                ("percent", "80"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    sifa.get(&t).await;
    let r = sifa
        .upload_with(
            &format!("{t}/files"),
            &[
                ("title", "合法性审核台账"),
                ("doc_number", "兰司发〔2027〕1号"),
                ("doc_date", "2027-03-01"),
            ],
            "台账.pdf",
            PDF,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    sifa.get(&t).await;
    let r = sifa
        .post(
            &format!("{t}/links"),
            &[
                ("title", "政府网站公开"),
                ("url", "https://www.example.gov.cn/gk/2027/1.html"),
                ("published_on", "2027-01-10"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = sifa
        .post(
            &format!("{t}/links"),
            &[("title", "坏链接"), ("url", "javascript:alert(1)")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let page = sifa.get(&t).await;
    assert!(page.text.contains("合法性审核台账"));
    assert!(page.text.contains("兰司发〔2027〕1号"));
    assert!(
        page.text
            .contains("<span class=\"kind\" title=\"application/pdf\">PDF 文档</span>"),
        "the kind in words, the type on hover"
    );
    assert!(page.text.contains("已完成规范性文件合法性审核台账"));
    let evidence = number_after(&page.text, "/evidence/");
    let dl = sifa.get(&format!("/evidence/{evidence}/file")).await;
    assert_eq!(dl.status, StatusCode::OK);
    assert_eq!(dl.text.as_bytes(), PDF);
    assert_eq!(
        dl.content_type, "application/octet-stream",
        "downloads never render as pages"
    );
    let r = sifa
        .post(
            &format!("{t}/action"),
            &[("action", "submit"), ("confirm", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);

    // Another unit sees nothing of it.
    let mut other = app.login("caizheng").await;
    assert_eq!(other.get(&t).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        other
            .get(&format!("/evidence/{evidence}/file"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    other.get("/tasks").await;
    let r = other
        .post(&format!("{t}/action"), &[("action", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = other.upload(&format!("{t}/files"), "x.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The office returns it with a reason; the unit sees the reason and resubmits.
    admin.get(&t).await;
    let r = admin
        .post(
            &format!("{t}/action"),
            &[("action", "return"), ("reason", "请补充审核意见书")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = sifa.get(&t).await;
    assert!(page.text.contains("请补充审核意见书"));
    assert!(page.text.contains("退回"));
    let shown = "<strong>退回理由：</strong>请补充审核意见书<span class=\"muted\">（boss，";
    let at = page.text.find(shown).expect("the reason under the header");
    assert!(
        at < page.text.find("<h4>办理</h4>").unwrap(),
        "the reason comes before the work on the task"
    );
    let inbox = sifa.get("/inbox").await;
    assert!(inbox.text.contains("被退回"));
    let r = sifa.post(&format!("{t}/score"), &[("score", "95")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = sifa.get(&t).await;
    assert!(
        page.text
            .contains("name=\"score\" inputmode=\"decimal\" required value=\"95\""),
        "the unit's own score is prefilled: {}",
        page.text
    );
    let r = sifa
        .post(
            &format!("{t}/action"),
            &[("action", "submit"), ("confirm", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = sifa.get(&t).await;
    assert!(!page.text.contains("退回理由："), "only while 退回");
    let page = admin.get(&t).await;
    assert!(
        page.text
            .contains("name=\"score\" inputmode=\"decimal\" required value=\"\""),
        "the office's review score is not yet given"
    );
    admin
        .post(
            &format!("/evidence/{evidence}/review"),
            &[("verdict", "ok")],
        )
        .await;
    let r = admin
        .post(&format!("{t}/action"), &[("action", "approve")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "item 25's rules are not reported"
    );
    assert!(r.text.contains("请填写通过理由"), "{}", r.text);
    admin.get(&t).await;
    let r = admin
        .post(
            &format!("{t}/action"),
            &[("action", "approve"), ("note", "台账已核，数据年底统计")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = admin
        .post(&format!("{t}/score"), &[("score", "92.5")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = admin.post(&format!("{t}/score"), &[("score", "101")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let page = admin.get(&t).await;
    assert!(page.text.contains("已通过"));
    assert!(page.text.contains("审核评分：92.5"));
    assert!(
        page.text.contains("required value=\"92.5\""),
        "the saved review score is prefilled"
    );
    assert!(page.text.contains("自评分：95"));

    // The log names actions and objects in Chinese, keeps the codes, links the task.
    let log = admin.get("/admin/audit").await;
    assert_eq!(log.status, StatusCode::OK);
    for shown in [
        "退回任务<br><code class=\"code-note\">task.return</code>",
        "签收任务<br><code class=\"code-note\">task.sign</code>",
        "开启创建轮次<br><code class=\"code-note\">round.open</code>",
        "添加佐证材料<br><code class=\"code-note\">evidence.add</code>",
        "保存上传文件<br><code class=\"code-note\">blob.put</code>",
        "填报工作进展<br><code class=\"code-note\">report.add</code>",
        "轮次 #1<br><code class=\"code-note\">campaign_round</code>",
        "工作进展 #",
        "<option value=\"campaign_round\">轮次（campaign_round）</option>",
        "<option value=\"evidence\">佐证材料（evidence）</option>",
        "<option value=\"supervision_notice\">督办单（supervision_notice）</option>",
        "data-code=\"task.return\"",
    ] {
        assert!(log.text.contains(shown), "{shown}: {}", log.text);
    }
    assert!(
        log.text
            .contains(&format!("<a href=\"/tasks/{id}\">任务 #{id}</a>")),
        "task entries link to the task"
    );
    let log = admin.get("/admin/audit?entity=task").await;
    assert!(log.text.contains("<option value=\"task\" selected>"));
    assert!(log.text.contains("task.approve") && !log.text.contains("round.open"));
    assert!(page.text.contains("审核：合格"));
    for step in ["签收", "报送", "退回", "通过"] {
        assert!(page.text.contains(step), "event {step} recorded");
    }
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

/// 报送 shows what the task holds and what is missing before its button, refuses an empty
/// submission with the message, keeps the stated reason; 撤回 works once, before review;
/// the office is told what 通过 and 销号 mean.
#[tokio::test]
async fn submit_is_guarded_and_can_be_withdrawn() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2027", 2027).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("25").await;
    let t = format!("/tasks/{id}");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    let page = sifa.get(&t).await;
    assert!(
        page.text.contains("aria-label=\"报送前检查\""),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("工作进展：尚未填报，请先在下方“工作进展”中填写")
    );
    assert!(page.text.contains("佐证材料：尚未上传"));
    assert!(page.text.contains("量化要求尚未达标或未填报："));
    assert!(
        page.text
            .contains("disabled title=\"请先填写工作进展\">报送</button>")
    );
    assert!(page.text.contains("无需材料的说明<textarea name=\"note\""));
    assert!(page.text.contains("data-confirm=\"确定报送吗？"));

    let r = sifa
        .post(&format!("{t}/action"), &[("action", "submit")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("报送前请先填写工作进展"), "{}", r.text);
    sifa.get(&t).await;
    let r = sifa
        .post(
            &format!("{t}/reports"),
            &[
                ("progress", "本年度审核规范性文件12件"),
                ("problems", ""),
                ("next_steps", ""),
                ("percent", "90"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{t}#reports").as_str()),
        "back to the section just saved"
    );
    let page = sifa.get(&t).await;
    assert!(page.text.contains("工作进展：已填报 1 次"));
    assert!(
        page.text
            .contains("name=\"percent\" min=\"0\" max=\"100\" value=\"90\""),
        "the next report starts from the last 完成进度"
    );
    assert!(page.text.contains("name=\"confirm\" value=\"1\" required"));
    let r = sifa
        .post(&format!("{t}/action"), &[("action", "submit")])
        .await;
    assert!(r.text.contains("报送前请上传佐证材料"), "{}", r.text);
    sifa.get(&t).await;
    let r = sifa
        .post(
            &format!("{t}/action"),
            &[("action", "submit"), ("note", "审核台账由市司法局统一汇总")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("已知晓，仍要报送"), "{}", r.text);
    sifa.get(&t).await;
    let r = sifa
        .post(
            &format!("{t}/action"),
            &[
                ("action", "submit"),
                ("note", "审核台账由市司法局统一汇总"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = sifa.get(&t).await;
    assert!(page.text.contains("审核前发现问题可以撤回"));
    assert!(page.text.contains("value=\"withdraw\""));

    // The office sees the reason in the record, the rules to explain, and what 通过/销号 mean.
    let page = admin.get(&t).await;
    assert!(
        page.text.contains("<td>审核台账由市司法局统一汇总</td>"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("<strong>报送时的说明：</strong>审核台账由市司法局统一汇总"),
        "the reviewer reads it before deciding"
    );
    assert!(
        page.text
            .contains("通过理由（仍要通过时必填，记入办理记录）")
    );
    assert!(
        page.text
            .contains("销号：依法治县办确认该项任务已经办结、不再跟踪")
    );

    let r = sifa
        .post(&format!("{t}/action"), &[("action", "withdraw")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = sifa.get(&t).await;
    assert!(
        page.text.contains("已撤回，当前状态：办理中"),
        "{}",
        page.text
    );
    let r = sifa
        .post(&format!("{t}/action"), &[("action", "withdraw")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("只有已报送、尚未审核的任务才能撤回"));
    let detail = app.store.task(fazhi_store::TaskId(id)).await.unwrap();
    let steps: Vec<&str> = detail.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(steps, ["sign", "submit", "withdraw"]);
}

/// 批量签收 from a liaison's list; the office approves, returns, re-dates and 督办s ticked
/// tasks. Every id passes the access check before anything changes, and the tasks that
/// cannot take the step are listed, not hidden.
#[tokio::test]
async fn batch_actions_from_the_task_list() {
    use fazhi_store::test_support::PastGuards;
    use fazhi_store::{ActorRole, TaskAction, TaskFilter, TaskStatus};
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("viewer", UserRole::Observer, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2027", 2027).await;
    let of = |unit| TaskFilter {
        unit: Some(unit),
        ..Default::default()
    };
    let sifa_unit = app.unit_id("县司法局").await;
    let mine = app.store.tasks(&of(sifa_unit)).await.unwrap();
    let theirs = app
        .store
        .tasks(&of(app.unit_id("县财政局").await))
        .await
        .unwrap();
    let ids: Vec<String> = mine.iter().take(3).map(|t| t.id.to_string()).collect();
    let status = |id: &str| {
        let store = app.store.clone();
        let id = fazhi_store::TaskId(id.parse().unwrap());
        async move { store.task(id).await.unwrap().summary.status }
    };

    let mut sifa = app.login("sifa").await;
    let list = sifa.get("/tasks").await;
    assert!(list.text.contains(&format!(
        "name=\"task\" value=\"{}\" form=\"batch\"",
        ids[0]
    )));
    assert!(list.text.contains(">批量签收</button>"));
    assert!(
        !list.text.contains("value=\"notice\""),
        "a liaison only signs"
    );

    // Another unit's id in the batch: refused as a whole, nothing signed.
    let r = sifa
        .post(
            "/tasks/batch",
            &[
                ("op", "sign"),
                ("task", &ids[0]),
                ("task", &theirs[0].id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(status(&ids[0]).await, TaskStatus::Pending);
    sifa.get("/tasks").await;
    let r = sifa
        .post(
            "/tasks/batch",
            &[("op", "due"), ("task", &ids[0]), ("due_on", "2027-05-01")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only the office re-dates");
    sifa.get("/tasks").await;
    let r = sifa.post("/tasks/batch", &[("op", "sign")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("请先在列表中勾选"));

    sifa.get("/tasks?status=pending").await;
    let r = sifa
        .post(
            "/tasks/batch",
            &[
                ("op", "sign"),
                ("task", &ids[0]),
                ("task", &ids[1]),
                ("task", &ids[2]),
                ("task", &ids[2]),
                ("back", "/tasks?status=pending"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/tasks?status=pending"));
    let page = sifa.get("/tasks").await;
    assert!(page.text.contains("已批量签收 3 项任务"), "{}", page.text);
    for id in &ids {
        assert_eq!(status(id).await, TaskStatus::InProgress);
    }
    // Signed twice: listed with the reason.
    let r = sifa
        .post(
            "/tasks/batch",
            &[
                ("op", "sign"),
                ("task", &ids[0]),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/tasks"),
        "back only to the list"
    );
    let page = sifa.get("/tasks").await;
    assert!(page.text.contains("已批量签收 0 项任务"));
    assert!(
        page.text.contains(&format!(
            "1 项未处理：第{}项（县司法局）：只有待签收的任务才能签收",
            mine[0].code
        )),
        "{}",
        page.text
    );

    let mut viewer = app.login("viewer").await;
    viewer.get("/tasks").await;
    let r = viewer
        .post("/tasks/batch", &[("op", "sign"), ("task", &ids[0])])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The office reviews the submitted ones.
    for t in mine.iter().take(2) {
        app.store
            .transition_ready(
                t.id,
                &TaskAction::Submit,
                ActorRole::ResponsibleUnit,
                &fazhi_store::Actor::system(),
                app.state.today(),
            )
            .await
            .unwrap();
    }
    let list = admin
        .get(&format!("/tasks?unit={}&status=submitted", sifa_unit.0))
        .await;
    assert!(list.text.contains("批量办理所勾选的任务"));
    let r = admin
        .post(
            "/tasks/batch",
            &[("op", "return"), ("task", &ids[0]), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("批量退回时须填写退回理由"));
    admin.get("/tasks").await;
    let r = admin
        .post(
            "/tasks/batch",
            &[
                ("op", "approve"),
                ("task", &ids[0]),
                ("task", &ids[1]),
                ("task", &ids[2]),
                ("note", "年底统一核数"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get("/tasks").await;
    assert!(page.text.contains("已批量通过 2 项任务"), "{}", page.text);
    assert!(
        page.text.contains("1 项未处理："),
        "the one still 办理中 is listed"
    );
    assert_eq!(status(&ids[0]).await, TaskStatus::Approved);
    assert_eq!(status(&ids[2]).await, TaskStatus::InProgress);

    let r = admin
        .post(
            "/tasks/batch",
            &[
                ("op", "due"),
                ("task", &ids[1]),
                ("task", &ids[2]),
                ("due_on", "2027-06-30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get("/tasks").await;
    assert!(page.text.contains("已为 2 项任务截止日期设为 2027-06-30"));
    let r = admin
        .post(
            "/tasks/batch",
            &[
                ("op", "notice"),
                ("task", &ids[1]),
                ("task", &ids[2]),
                ("level", "warn"),
                ("message", "请按期报送工作进展"),
                ("respond_by", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get("/tasks").await;
    assert!(
        page.text.contains("已为 2 项任务各发出一份督办单"),
        "{}",
        page.text
    );
    let audit = app
        .store
        .audit_entries(&fazhi_store::AuditFilter {
            action: Some("task.sign".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 3, "each task its own audit entry");
}

#[tokio::test]
async fn uploads_are_limited_and_deduplicated() {
    let app = App::with_upload_limit(1024).await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2027", 2027).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("4").await;
    let t = format!("/tasks/{id}");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    sifa.get(&t).await;
    let big = vec![b'x'; 4096];
    let r = sifa
        .upload_with(&format!("{t}/files"), &[("title", "太大")], "big.txt", &big)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("文件超过大小上限"), "{}", r.text);
    let detail = app.store.task(fazhi_store::TaskId(id)).await.unwrap();
    assert!(
        detail.evidence.is_empty(),
        "nothing stored for a refused upload"
    );
    let mut pages = Vec::new();
    for name in ["a.pdf", "b.pdf"] {
        let r = sifa
            .upload_with(&format!("{t}/files"), &[("title", name)], name, PDF)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        pages.push(sifa.get(&t).await.text);
    }
    assert!(!pages[0].contains("只保存一份"));
    // Stored once, but not said: the same bytes may be another unit's.
    assert!(
        !pages[1].contains("只保存一份"),
        "the second upload is not reported as a duplicate"
    );
    let detail = app.store.task(fazhi_store::TaskId(id)).await.unwrap();
    assert_eq!(detail.evidence.len(), 2);
    let shas: Vec<_> = detail
        .evidence
        .iter()
        .filter_map(|e| e.current().and_then(|v| v.blob_sha256.clone()))
        .collect();
    assert_eq!(shas[0], shas[1]);
    let objects = files_under(&app.files_dir()).len();
    assert_eq!(objects, 1, "one stored object for the same content");
}

#[tokio::test]
async fn evidence_gets_new_versions_and_keeps_old_ones() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    let mut admin = app.login("boss").await;
    admin.open_round("2027", 2027).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("4").await;
    let t = format!("/tasks/{id}");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    sifa.get(&t).await;
    sifa.upload_with(
        &format!("{t}/files"),
        &[("title", "证明事项清单")],
        "v1.pdf",
        PDF,
    )
    .await;
    let page = sifa.get(&t).await;
    let evidence = number_after(&page.text, "/evidence/");
    let v2: &[u8] = b"%PDF-1.4\n% version 2\n%%EOF\n";
    let r = sifa
        .upload(&format!("/evidence/{evidence}/replace"), "v2.pdf", v2)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = sifa.get(&t).await;
    assert!(page.text.contains("作为第2版"), "{}", page.text);
    assert!(page.text.contains("历史版本（2）"));
    assert_eq!(
        sifa.get(&format!("/evidence/{evidence}/file"))
            .await
            .text
            .as_bytes(),
        v2
    );
    assert_eq!(
        sifa.get(&format!("/evidence/{evidence}/file?version=1"))
            .await
            .text
            .as_bytes(),
        PDF
    );
    // Another unit may neither read nor replace it.
    let mut other = app.login("caizheng").await;
    other.get("/tasks").await;
    assert_eq!(
        other
            .upload(&format!("/evidence/{evidence}/replace"), "x.pdf", PDF)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other
            .get(&format!("/evidence/{evidence}/file?version=1"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn link_evidence_is_replaced_by_a_new_link() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    let mut admin = app.login("boss").await;
    admin.open_round("2027", 2027).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("4").await;
    let t = format!("/tasks/{id}");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    sifa.get(&t).await;
    let r = sifa
        .post(
            &format!("{t}/links"),
            &[
                ("title", "政府网站公开"),
                ("url", "https://www.example.gov.cn/gk/2027/1.html"),
                ("published_on", "2027-01-10"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = sifa.get(&t).await;
    let evidence = number_after(&page.text, "/evidence/");
    let relink = format!("/evidence/{evidence}/relink");
    assert!(
        page.text.contains(&format!("action=\"{relink}\"")),
        "the unit gets the form: {}",
        page.text
    );
    assert!(
        page.text
            .contains("value=\"https://www.example.gov.cn/gk/2027/1.html\""),
        "prefilled with the current link"
    );

    // The same link again is no new version; a bad link is refused.
    let r = sifa
        .post(
            &relink,
            &[
                ("url", "https://www.example.gov.cn/gk/2027/1.html"),
                ("published_on", "2027-01-10"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("无需更新"), "{}", r.text);
    let r = sifa
        .post(
            &relink,
            &[("url", "javascript:alert(1)"), ("published_on", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = sifa
        .post(
            &relink,
            &[
                ("url", "https://www.example.gov.cn/gk/2027/2.html"),
                ("published_on", "2027-03"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "not a date");

    let r = sifa
        .post(
            &relink,
            &[
                ("url", " https://www.example.gov.cn/gk/2027/2.html "),
                ("published_on", "2027-03-05"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{t}#evidence").as_str()),
        "back to the evidence section"
    );
    let page = sifa.get(&t).await;
    assert!(page.text.contains("作为第2版"), "{}", page.text);
    assert!(page.text.contains("历史版本（2）"));
    assert!(page.text.contains("（发布于 2027-03-05）"));
    let e = app
        .store
        .evidence(fazhi_store::EvidenceId(evidence))
        .await
        .unwrap();
    assert_eq!(e.current_version, 2);
    assert_eq!(e.title, "政府网站公开");
    assert_eq!(
        e.versions
            .iter()
            .map(|v| v.url.as_deref().unwrap())
            .collect::<Vec<_>>(),
        [
            "https://www.example.gov.cn/gk/2027/1.html",
            "https://www.example.gov.cn/gk/2027/2.html"
        ]
    );

    // Another unit may not; the office sees no form; under review it is frozen.
    let mut other = app.login("caizheng").await;
    other.get("/tasks").await;
    let r = other
        .post(
            &relink,
            &[("url", "https://evil.example/"), ("published_on", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = admin.get(&t).await;
    assert!(!page.text.contains(&relink), "only the unit may relink");
    let r = admin
        .post(
            &relink,
            &[("url", "https://example.org/"), ("published_on", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = sifa
        .post(
            &format!("{t}/reports"),
            &[
                ("progress", "已在政府网站公开"),
                ("problems", ""),
                ("next_steps", ""),
                ("percent", "100"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    sifa.get(&t).await;
    let r = sifa
        .post(
            &format!("{t}/action"),
            &[("action", "submit"), ("confirm", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = sifa.get(&t).await;
    assert!(!page.text.contains(&relink), "no form while under review");
    let r = sifa
        .post(
            &relink,
            &[("url", "https://example.org/3"), ("published_on", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("任务已报送"), "{}", r.text);
    assert_eq!(
        app.store
            .evidence(fazhi_store::EvidenceId(evidence))
            .await
            .unwrap()
            .current_version,
        2
    );
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn downloads_answer_range_requests() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    app.user("caizheng", UserRole::Liaison, Some("县财政局"))
        .await;
    let mut admin = app.login("boss").await;
    admin.open_round("2027", 2027).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("4").await;
    let t = format!("/tasks/{id}");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    sifa.get(&t).await;
    sifa.upload_with(
        &format!("{t}/files"),
        &[("title", "执法记录")],
        "a.pdf",
        PDF,
    )
    .await;
    let evidence = number_after(&sifa.get(&t).await.text, "/evidence/");
    let file = format!("/evidence/{evidence}/file");
    let size = PDF.len();
    let header =
        |r: &crate::Resp, name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_string());

    let full = sifa.get(&file).await;
    assert_eq!(full.status, StatusCode::OK);
    assert_eq!(full.text.as_bytes(), PDF);
    assert_eq!(header(&full, "accept-ranges").as_deref(), Some("bytes"));
    assert_eq!(header(&full, "content-length"), Some(size.to_string()));
    assert_eq!(header(&full, "content-range"), None);
    let etag = header(&full, "etag").expect("an ETag");

    for (range, start, end) in [
        ("bytes=0-3", 0, 4),
        ("bytes=5-12", 5, 13),
        (&format!("bytes={}-", size - 6) as &str, size - 6, size),
        ("bytes=-6", size - 6, size),
        ("bytes=10-100000", 10, size),
    ] {
        let r = sifa.get_with(&file, &[("range", range)]).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(r.text.as_bytes(), &PDF[start..end], "{range}");
        assert_eq!(
            header(&r, "content-range"),
            Some(format!("bytes {start}-{}/{size}", end - 1)),
            "{range}"
        );
        assert_eq!(
            header(&r, "content-length"),
            Some((end - start).to_string())
        );
        assert_eq!(header(&r, "accept-ranges").as_deref(), Some("bytes"));
        assert_eq!(r.content_type, "application/octet-stream");
        assert!(
            header(&r, "content-disposition")
                .unwrap()
                .starts_with("attachment")
        );
        assert!(
            header(&r, "content-security-policy")
                .unwrap()
                .contains("sandbox")
        );
    }
    // Inline preview (a video player seeking) keeps its type and sandbox.
    let r = sifa
        .get_with(&format!("{file}?inline=1"), &[("range", "bytes=4-")])
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.content_type, "application/pdf");
    assert!(
        header(&r, "content-disposition")
            .unwrap()
            .starts_with("inline")
    );
    assert!(
        header(&r, "content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(r.text.as_bytes(), &PDF[4..]);

    for bad in [
        format!("bytes={size}-"),
        format!("bytes={}-{}", size + 5, size + 10),
        "bytes=7-3".to_string(),
        "bytes=-0".to_string(),
        "bytes=abc".to_string(),
    ] {
        let r = sifa.get_with(&file, &[("range", &bad)]).await;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE, "{bad}");
        assert_eq!(header(&r, "content-range"), Some(format!("bytes */{size}")));
        assert_eq!(header(&r, "accept-ranges").as_deref(), Some("bytes"));
        assert!(r.text.is_empty());
    }
    // Several ranges, another unit, a stale If-Range: the whole file.
    for headers in [
        vec![("range", "bytes=0-1,4-5")],
        vec![("range", "items=0-1")],
        vec![("range", "bytes=0-1"), ("if-range", "\"0000\"")],
    ] {
        let r = sifa.get_with(&file, &headers).await;
        assert_eq!(r.status, StatusCode::OK, "{headers:?}");
        assert_eq!(r.text.as_bytes(), PDF);
        assert_eq!(header(&r, "content-length"), Some(size.to_string()));
    }
    let r = sifa
        .get_with(&file, &[("range", "bytes=0-1"), ("if-range", &etag)])
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.text.as_bytes(), &PDF[..2]);

    // Earlier versions can be read in ranges too.
    let v2: &[u8] = b"%PDF-1.4\n% version 2\n%%EOF\n";
    sifa.upload(&format!("/evidence/{evidence}/replace"), "v2.pdf", v2)
        .await;
    let r = sifa
        .get_with(&format!("{file}?version=1"), &[("range", "bytes=0-7")])
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.text.as_bytes(), &PDF[..8]);
    assert_eq!(
        header(&r, "content-range"),
        Some(format!("bytes 0-7/{size}"))
    );
    let r = sifa.get_with(&file, &[("range", "bytes=-6")]).await;
    assert_eq!(r.text.as_bytes(), &v2[v2.len() - 6..]);

    // The access rules come first: a range changes nothing for another unit.
    let mut other = app.login("caizheng").await;
    for range in ["bytes=0-3", "bytes=-6", "bytes=99999-"] {
        let r = other.get_with(&file, &[("range", range)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{range}");
        assert_eq!(header(&r, "content-range"), None);
        assert!(!r.text.contains("%PDF"));
    }
}

/// A unit taken off an indicator mid-round: its started task stays, and the office is told
/// on the task page and can give the indicator back with one button; a task nobody had
/// signed is removed with the change.
#[tokio::test]
async fn a_task_no_longer_held_is_shown_to_the_office() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2027", 2027).await;
    let mut sifa = app.login("sifa").await;
    let id = sifa.task_id("4").await;
    let t = format!("/tasks/{id}");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    let page = admin.get(&t).await;
    assert!(!page.text.contains("id=\"not-held\""));
    let node = app
        .store
        .task(fazhi_store::TaskId(id))
        .await
        .unwrap()
        .summary
        .node_id;
    let sifa_unit = app.unit_id("县司法局").await;
    admin.get(&format!("/indicators/{node}")).await;
    let r = admin
        .post(
            &format!("/indicators/{node}/unassign"),
            &[("unit_id", &sifa_unit.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get(&t).await;
    assert!(
        page.text.contains("县司法局已不再承担第4项指标"),
        "{}",
        page.text
    );
    assert!(page.text.contains(">恢复分工</button>"));
    let r = admin
        .post(
            &format!("/indicators/{node}/assign"),
            &[("unit_id", &sifa_unit.to_string()), ("role", "lead")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get(&t).await;
    assert!(!page.text.contains("id=\"not-held\""), "held again");
    assert!(page.text.contains("县司法局（牵头）"));
}
