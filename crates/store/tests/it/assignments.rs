//! Changing responsibilities.

use crate::common::*;
use fazhi_domain::framework::Role;
use fazhi_store::{AuditFilter, NodeId, Store, StoreError};

store_tests!(assign_unassign_set_lead, assignment_rules);

async fn leaf(s: &Store, code: &str) -> NodeId {
    let fw = s.current_framework().await.unwrap().unwrap();
    fw.leaves()
        .into_iter()
        .find(|(_, n)| n.code == code)
        .map(|(_, n)| n.id)
        .unwrap()
}

fn roles(list: &[fazhi_store::StoredAssignment]) -> Vec<(&str, Role)> {
    list.iter()
        .map(|a| (a.unit_name.as_str(), a.role))
        .collect()
}

async fn assign_unassign_set_lead(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let item = leaf(s, "35").await;
    assert!(s.node_assignments(item).await.unwrap().is_empty());
    let sifa = unit_id(s, "县司法局").await;
    let caizheng = unit_id(s, "县财政局").await;

    let after = s
        .assign(item, sifa, Role::Lead, &admin())
        .await
        .unwrap()
        .assignments;
    assert_eq!(roles(&after), [("县司法局", Role::Lead)]);
    let after = s
        .assign(item, caizheng, Role::Co, &admin())
        .await
        .unwrap()
        .assignments;
    assert_eq!(
        roles(&after),
        [("县司法局", Role::Lead), ("县财政局", Role::Co)]
    );
    let err = s
        .assign(item, caizheng, Role::Lead, &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { field: "unit", value } if value == "县财政局"),
        "{err}"
    );

    let after = s
        .set_lead(item, caizheng, &admin())
        .await
        .unwrap()
        .assignments;
    assert_eq!(
        roles(&after),
        [("县财政局", Role::Lead), ("县司法局", Role::Co)]
    );
    let listed = s.unit_indicators(caizheng).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|i| i.node_id == item && i.role == Role::Lead)
    );

    let after = s.unassign(item, sifa, &admin()).await.unwrap().assignments;
    assert_eq!(roles(&after), [("县财政局", Role::Lead)]);
    let err = s.unassign(item, sifa, &admin()).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert!(
        !s.unit_indicators(sifa)
            .await
            .unwrap()
            .iter()
            .any(|i| i.node_id == item)
    );

    // set_lead on a unit not yet responsible adds it in front.
    let renshe = unit_id(s, "县人社局").await;
    let after = s
        .set_lead(item, renshe, &admin())
        .await
        .unwrap()
        .assignments;
    assert_eq!(
        roles(&after),
        [("县人社局", Role::Lead), ("县财政局", Role::Co)]
    );

    // Every change is in the log with before/after.
    let log = s
        .audit_entries(&AuditFilter {
            entity: Some("indicator".into()),
            entity_id: Some(item.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "assignment.assign",
            "assignment.assign",
            "assignment.set_lead",
            "assignment.unassign",
            "assignment.set_lead"
        ]
    );
    let set_lead = &log[2];
    let before: serde_json::Value =
        serde_json::from_str(set_lead.before_json.as_deref().unwrap()).unwrap();
    let after: serde_json::Value =
        serde_json::from_str(set_lead.after_json.as_deref().unwrap()).unwrap();
    assert_eq!(before["code"], "35");
    assert_eq!(before["assignments"][0]["unit_name"], "县司法局");
    assert_eq!(before["assignments"][0]["role"], "lead");
    assert_eq!(after["assignments"][0]["unit_name"], "县财政局");
    assert_eq!(after["assignments"][0]["role"], "lead");
    assert_eq!(after["assignments"][1]["role"], "co");
    assert_eq!(s.verify_audit().await.unwrap(), Ok(6));
}

async fn assignment_rules(db: Db) {
    let s = &db.store;
    let first = import_county(s).await;
    let sifa = unit_id(s, "县司法局").await;
    let fw = s.current_framework().await.unwrap().unwrap();
    let heading = fw.roots[0].id;
    let err = s
        .assign(heading, sifa, Role::Co, &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let err = s
        .assign(NodeId(777_777), sifa, Role::Co, &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");

    // A disabled unit gets no new work.
    let tongji = s
        .create_unit("县统计局", fazhi_domain::UnitKind::Government, &admin())
        .await
        .unwrap();
    s.set_unit_disabled(tongji, true, &admin()).await.unwrap();
    let item = leaf(s, "35").await;
    let err = s
        .assign(item, tongji, Role::Co, &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");

    // Older versions are history: their assignments cannot change.
    import_county(s).await;
    let old_item = s
        .framework_tree(first)
        .await
        .unwrap()
        .leaves()
        .into_iter()
        .find(|(_, n)| n.code == "35")
        .map(|(_, n)| n.id)
        .unwrap();
    let err = s
        .assign(old_item, sifa, Role::Co, &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let err = s.set_lead(old_item, sifa, &admin()).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    // A change in the current version leaves the old one alone.
    let new_item = leaf(s, "35").await;
    s.assign(new_item, sifa, Role::Lead, &admin())
        .await
        .unwrap();
    assert!(s.node_assignments(old_item).await.unwrap().is_empty());
}
