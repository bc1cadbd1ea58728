//! A new framework version mid-round: the office confirms how the round's indicators map
//! to the new ones (pre-filled by text similarity), and the round moves with every task's
//! work; tasks whose indicator went are kept and listed, never dropped.

use axum::http::StatusCode;
use fazhi_domain::framework::{Indicator, Node};
use fazhi_domain::library::ImportOutput;
use fazhi_store::{Actor, TaskId, UserRole};

use crate::App;

fn indicator_mut<'a>(nodes: &'a mut [Node], code: &str) -> Option<&'a mut Indicator> {
    for n in nodes {
        match n {
            Node::Indicator(i) if i.code == code => return Some(i),
            Node::Indicator(_) => {}
            Node::Heading(h) => {
                if let Some(i) = indicator_mut(&mut h.children, code) {
                    return Some(i);
                }
            }
        }
    }
    None
}

fn remove_indicator(nodes: &mut Vec<Node>, code: &str) -> bool {
    let before = nodes.len();
    nodes.retain(|n| !matches!(n, Node::Indicator(i) if i.code == code));
    if nodes.len() < before {
        return true;
    }
    nodes.iter_mut().any(|n| match n {
        Node::Heading(h) => remove_indicator(&mut h.children, code),
        Node::Indicator(_) => false,
    })
}

/// The last heading that holds indicators, to add one to.
fn last_indicator_heading(nodes: &mut [Node]) -> Option<&mut Vec<Node>> {
    let n = nodes
        .iter_mut()
        .rev()
        .find(|n| matches!(n, Node::Heading(_)))?;
    let Node::Heading(h) = n else { return None };
    if h.children.iter().any(|c| matches!(c, Node::Indicator(_))) {
        Some(&mut h.children)
    } else {
        last_indicator_heading(&mut h.children)
    }
}

/// `(name, value)` of each `<select name="map_…">` with its selected option.
fn selected_choices(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for piece in html.split("<select name=\"").skip(1) {
        let name = piece[..piece.find('"').unwrap()].to_string();
        let body = &piece[..piece.find("</select>").unwrap()];
        let at = body.find(" selected>").expect("a selected option");
        let before = &body[..at];
        let v = &before[before.rfind("value=\"").unwrap() + 7..];
        out.push((name, v[..v.find('"').unwrap()].to_string()));
    }
    out
}

#[tokio::test]
async fn a_round_moves_to_a_new_version_with_all_its_work() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    app.user("sifa", UserRole::Liaison, Some("县司法局")).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度", 2026).await;
    let round = app.store.active_round().await.unwrap().unwrap();

    // 县司法局 works on item 25 (report and file) and signs for another item, which the
    // new version drops.
    let mut sifa = app.login("sifa").await;
    let worked = sifa.task_id("25").await;
    let t = format!("/tasks/{worked}");
    sifa.post(&format!("{t}/action"), &[("action", "sign")])
        .await;
    let r = sifa
        .post(
            &format!("{t}/reports"),
            &[
                ("progress", "已完成合法性审核"),
                ("problems", "无"),
                ("next_steps", "报送"),
                ("percent", "60"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    sifa.get(&t).await;
    let r = sifa
        .upload_with(
            &format!("{t}/files"),
            &[("title", "审核台账")],
            "a.pdf",
            b"%PDF-1.4 x",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let sifa_unit = app.unit_id("县司法局").await;
    let own = app
        .store
        .tasks(&fazhi_store::TaskFilter {
            round: Some(round.id),
            unit: Some(sifa_unit),
            ..Default::default()
        })
        .await
        .unwrap();
    let dropped = own.iter().find(|t| t.code != "25").expect("a second task");
    let dropped_code = dropped.code.clone();
    sifa.get(&format!("/tasks/{}", dropped.id)).await;
    sifa.post(
        &format!("/tasks/{}/action", dropped.id),
        &[("action", "sign")],
    )
    .await;

    // The new edition: item 25 reworded, that item removed, one added for 县司法局.
    let mut library: ImportOutput = serde_json::from_str(fazhi_web::DEFAULT_LIBRARY).unwrap();
    let nodes = &mut library.framework.indicators;
    let old_text = indicator_mut(nodes, "25").unwrap().text.clone();
    indicator_mut(nodes, "25").unwrap().text = format!("{old_text}，并按季度向社会公开");
    assert!(remove_indicator(nodes, &dropped_code));
    last_indicator_heading(nodes)
        .unwrap()
        .push(Node::Indicator(Indicator {
            code: "95".into(),
            text: "建立行政复议决定书网上公开制度，按规定公开率达到100%".into(),
            units: vec!["县司法局".into()],
            lead: vec!["县司法局".into()],
            line: None,
        }));
    let new_version = app
        .store
        .import_library(
            &library,
            "新版指标.json",
            &"ab".repeat(32),
            &Actor::system(),
        )
        .await
        .unwrap();

    // The 轮次 page says the round is on an earlier version and links the mapping.
    let page = admin.get("/rounds").await;
    assert!(page.text.contains("仍按此前的版本办理"), "{}", page.text);
    let link = format!("/admin/rounds/{}/remap", round.id);
    assert!(page.text.contains(&link), "{}", page.text);
    // Liaisons cannot open the mapping.
    let r = sifa.get(&link).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let form = admin.get(&link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("文字有改动，请核对"), "{}", form.text);
    assert!(form.text.contains("没有找到相似的新指标"), "{}", form.text);
    assert!(form.text.contains("新增指标（1项）"), "{}", form.text);
    assert!(
        form.text.contains("建立行政复议决定书网上公开制度"),
        "{}",
        form.text
    );
    let choices = selected_choices(&form.text);
    assert_eq!(
        choices.len(),
        94,
        "one row per indicator of the round's version"
    );
    assert_eq!(
        choices.iter().filter(|(_, v)| v == "none").count(),
        1,
        "only the removed item has no guess"
    );
    let fields: Vec<(&str, &str)> = choices
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = admin.post(&link, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location.as_deref(), Some("/rounds"));
    let page = admin.get("/rounds").await;
    assert!(page.text.contains("转到了对应的新指标"), "{}", page.text);
    assert!(
        page.text.contains("1项任务在新版本中没有对应指标"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("仍按此前的版本办理"), "{}", page.text);
    assert!(page.text.contains("按原版本的指标保留"), "{}", page.text);
    assert!(
        page.text.contains(&format!("第{dropped_code}项·县司法局")),
        "{}",
        page.text
    );

    // The worked task kept its id, report and file, on the new version's item 25.
    let round = app.store.round(round.id).await.unwrap();
    assert_eq!(round.framework_id, new_version);
    let detail = app.store.task(TaskId(worked)).await.unwrap();
    assert_eq!(detail.reports.len(), 1);
    assert_eq!(detail.evidence.len(), 1);
    let tree = app.store.framework_tree(new_version).await.unwrap();
    let new_25 = tree
        .leaves()
        .into_iter()
        .find(|(_, n)| n.code == "25")
        .map(|(_, n)| n.id)
        .unwrap();
    assert_eq!(detail.summary.node_id, new_25);
    let page = sifa.get(&t).await;
    assert!(page.text.contains("并按季度向社会公开"), "{}", page.text);
    assert!(page.text.contains("审核台账"), "{}", page.text);
    // The dropped item's task is still there, and its page tells the office why; the added
    // item got a task.
    app.store.task(dropped.id).await.expect("kept, not deleted");
    let kept = admin.get(&format!("/tasks/{}", dropped.id)).await;
    assert!(
        kept.text.contains("属于此前的指标体系版本"),
        "{}",
        kept.text
    );
    assert!(!kept.text.contains("恢复分工"), "{}", kept.text);
    let list = sifa.get("/tasks").await;
    assert!(
        crate::task_id_for(&list.text, "95").is_some(),
        "{}",
        list.text
    );
    let audit = app.store.audit_entries(&Default::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "round.remap"));
    // Moving twice is refused with a reason.
    let r = admin.get(&link).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text.contains("已在使用当前的"), "{}", r.text);
}
