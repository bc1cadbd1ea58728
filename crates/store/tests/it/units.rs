//! Units, aliases, groups.

use crate::common::*;
use fazhi_domain::UnitKind;
use fazhi_domain::framework::Role;
use fazhi_store::{StoreError, UnitId};

store_tests!(
    group_members_hold_group_indicators,
    create_rename_and_aliases
);

async fn group_members_hold_group_indicators(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let group = unit_id(s, "各执法部门").await;
    let police = unit_id(s, "县公安局").await;
    let market = unit_id(s, "县市场监督管理局").await;
    s.set_group_members(group, &[police, market, police], &admin())
        .await
        .unwrap();

    let detail = s.unit(group).await.unwrap();
    // Members are listed in unit order, each once.
    assert_eq!(
        detail.members,
        vec![
            (market, "县市场监督管理局".to_string()),
            (police, "县公安局".to_string())
        ]
    );
    assert_eq!(
        s.unit(police).await.unwrap().groups,
        vec![(group, "各执法部门".to_string())]
    );

    let list = s.unit_indicators(police).await.unwrap();
    let codes: Vec<&str> = list.iter().map(|i| i.code.as_str()).collect();
    let mut want = vec!["47".to_string()];
    want.extend((49..=58).map(|n| n.to_string()));
    assert_eq!(codes, want);
    assert_eq!(list[0].via_group, None);
    assert_eq!(list[0].role, Role::Co);
    for item in &list[1..] {
        assert_eq!(
            item.via_group,
            Some((group, "各执法部门".to_string())),
            "第{}项",
            item.code
        );
        assert_eq!(item.ancestors[0].code, "四");
    }

    // The group lists its own indicators, not as a member.
    let own = s.unit_indicators(group).await.unwrap();
    assert_eq!(own.len(), 10);
    assert!(
        own.iter()
            .all(|i| i.via_group.is_none() && i.role == Role::Lead)
    );

    let summary = s
        .units()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.id == police)
        .unwrap();
    assert_eq!(
        (
            summary.lead_count,
            summary.co_count,
            summary.via_group_count
        ),
        (0, 1, 10)
    );

    // Rules: only groups have members; no group in a group; not itself.
    let err = s
        .set_group_members(police, &[market], &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let err = s
        .set_group_members(group, &[group], &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let other = s
        .create_unit("各乡镇", UnitKind::Group, &admin())
        .await
        .unwrap();
    let err = s
        .set_group_members(group, &[other], &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(m) if m.contains("单位组不能包含单位组")));
    let err = s
        .set_group_members(group, &[UnitId(987_654)], &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    // A member cannot turn into a group; a group with members cannot stop being one.
    let err = s
        .update_unit(police, "县公安局", UnitKind::Group, &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let err = s
        .update_unit(group, "各执法部门", UnitKind::Government, &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");

    // Emptying the group takes the indicators away again.
    s.set_group_members(group, &[], &admin()).await.unwrap();
    let codes: Vec<String> = s
        .unit_indicators(police)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.code)
        .collect();
    assert_eq!(codes, vec!["47".to_string()]);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(4));
}

async fn create_rename_and_aliases(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let id = s
        .create_unit("  县教育和体育局 ", UnitKind::Government, &admin())
        .await
        .unwrap();
    let u = s.unit(id).await.unwrap();
    assert_eq!(u.name, "县教育和体育局");
    assert_eq!(u.kind, UnitKind::Government);
    assert!(!u.disabled);
    assert!(s.unit_indicators(id).await.unwrap().is_empty());

    let err = s
        .create_unit("县司法局", UnitKind::Government, &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { field: "name", value } if value == "县司法局"),
        "{err}"
    );
    let err = s
        .create_unit("纪委监委", UnitKind::Party, &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "name", .. }),
        "{err}"
    );
    let err = s
        .create_unit("   ", UnitKind::Party, &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));

    s.update_unit(id, "县教体局", UnitKind::Government, &admin())
        .await
        .unwrap();
    s.add_alias(id, "县教育和体育局", &admin()).await.unwrap();
    assert_eq!(s.find_unit("县教育和体育局").await.unwrap(), Some(id));
    assert_eq!(s.find_unit("县教体局").await.unwrap(), Some(id));
    let err = s
        .add_alias(id, "县教育和体育局", &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "alias", .. }),
        "{err}"
    );
    let err = s.add_alias(id, "县司法局", &admin()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "alias", .. }),
        "{err}"
    );
    let sifa = unit_id(s, "县司法局").await;
    let err = s
        .update_unit(sifa, "县教体局", UnitKind::Government, &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "name", .. }),
        "{err}"
    );
    // Renaming to its own name (kind change only) is fine.
    s.update_unit(id, "县教体局", UnitKind::Other, &admin())
        .await
        .unwrap();
    assert_eq!(s.unit(id).await.unwrap().kind, UnitKind::Other);

    s.remove_alias(id, "县教育和体育局", &admin())
        .await
        .unwrap();
    assert_eq!(s.find_unit("县教育和体育局").await.unwrap(), None);
    let err = s
        .remove_alias(id, "县教育和体育局", &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert!(matches!(
        s.unit(UnitId(55_555)).await,
        Err(StoreError::NotFound { .. })
    ));

    s.set_unit_disabled(id, true, &admin()).await.unwrap();
    assert!(s.unit(id).await.unwrap().disabled);

    let log = s
        .audit_entries(&fazhi_store::AuditFilter {
            entity: Some("unit".into()),
            entity_id: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "unit.create",
            "unit.update",
            "unit.add_alias",
            "unit.update",
            "unit.remove_alias",
            "unit.disable"
        ]
    );
    let rename: serde_json::Value =
        serde_json::from_str(log[4].after_json.as_deref().unwrap()).unwrap();
    assert_eq!(rename["name"], "县教体局");
    let before: serde_json::Value =
        serde_json::from_str(log[4].before_json.as_deref().unwrap()).unwrap();
    assert_eq!(before["name"], "县教育和体育局");
}
