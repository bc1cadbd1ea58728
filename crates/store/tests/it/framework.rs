//! Migrations and framework versions.

use crate::common::*;
use fazhi_domain::framework::Role;
use fazhi_store::{Store, StoreError};
use sea_orm::ConnectionTrait;

store_tests!(
    migrations_from_empty,
    imports_county_library,
    unit_list_matches_library,
    reimport_creates_new_version,
    failed_import_leaves_nothing
);

async fn migrations_from_empty(db: Db) {
    let s = &db.store;
    for table in [
        "framework",
        "framework_node",
        "unit",
        "unit_alias",
        "group_member",
        "assignment",
        "import_diagnostic",
        "app_user",
        "session",
        "api_token",
        "audit_log",
        "campaign_round",
        "task",
        "task_event",
        "progress_report",
        "blob",
        "evidence",
        "evidence_version",
        "evidence_review",
        "rule_correction",
        "measurement",
        "ledger_case",
        "supervision_notice",
        "calendar_year",
        "calendar_feed",
        "job",
        "login_failure",
    ] {
        assert_eq!(count_rows(s, table).await, 0, "{table}");
    }
    assert_eq!(count_rows(s, "seaql_migrations").await, migration_files());
    assert_eq!(count_rows(s, "audit_head").await, 1);
    assert!(s.current_framework().await.unwrap().is_none());
    assert!(s.frameworks().await.unwrap().is_empty());
    if s.backend() == fazhi_store::Backend::Sqlite {
        assert_eq!(pragma(s, "journal_mode").await, "wal");
        assert_eq!(pragma(s, "foreign_keys").await, "1");
        assert_eq!(pragma(s, "busy_timeout").await, "10000");
    }
    // Connecting again finds the schema up to date.
    let again = Store::connect(&db.url).await.unwrap();
    assert_eq!(
        count_rows(&again, "seaql_migrations").await,
        migration_files()
    );
    again.close().await.unwrap();
}

/// One migration per `mYYYYMMDD_NNNNNN_*.rs` file (helpers add their own).
fn migration_files() -> i64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/migration");
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("m2") && name.ends_with(".rs")
        })
        .count() as i64
}

async fn imports_county_library(db: Db) {
    let s = &db.store;
    let lib = library();
    let id = import_county(s).await;
    let fw = s.current_framework().await.unwrap().expect("当前版本");
    assert_eq!(fw.info.id, id);
    assert!(fw.info.is_current);
    assert_eq!(fw.info.title, lib.framework.title);
    assert_eq!(fw.info.source_sha256, library_sha256());
    assert_eq!(fw.level_counts(), vec![8, 32, 94]);
    assert_eq!(fw.leaves().len(), 94);
    // The stored tree gives back exactly the library's tree and unit order.
    assert_eq!(fw.to_domain(), lib.framework);

    let units = s.units().await.unwrap();
    assert_eq!(units.len(), 23);
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        lib.framework
            .units
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for detail in &lib.unit_details {
        let u = units.iter().find(|u| u.name == detail.name).unwrap();
        assert_eq!(u.kind, detail.kind, "{}", detail.name);
        assert_eq!(u.aliases, detail.aliases, "{}", detail.name);
    }
    let jiwei = unit_id(s, "县纪委监委").await;
    assert_eq!(s.find_unit("纪委监委").await.unwrap(), Some(jiwei));
    assert_eq!(
        s.unit(jiwei).await.unwrap().aliases,
        vec!["纪委监委".to_string()]
    );

    // Per-unit counts agree with the library.
    for (name, lead, co) in lib.framework.unit_indicator_counts() {
        let u = units.iter().find(|u| u.name == name).unwrap();
        assert_eq!((u.lead_count, u.co_count), (lead, co), "{name}");
        assert_eq!(u.via_group_count, 0);
    }

    let diagnostics = s.framework_diagnostics(id).await.unwrap();
    assert_eq!(diagnostics, lib.diagnostics);

    let versions = s.frameworks().await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].source_name, "lanling.json");

    let log = s.audit_entries(&Default::default()).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "framework.import");
    assert_eq!(log[0].entity_id.as_deref(), Some(id.to_string().as_str()));
}

async fn unit_list_matches_library(db: Db) {
    let s = &db.store;
    let lib = library();
    import_county(s).await;
    let sifa = unit_id(s, "县司法局").await;
    let got = s.unit_indicators(sifa).await.unwrap();
    let expected: Vec<_> = lib
        .framework
        .walk_indicators()
        .into_iter()
        .filter_map(|(headings, i)| i.role_of("县司法局").map(|role| (headings, i, role)))
        .collect();
    assert_eq!(expected.len(), 35);
    assert_eq!(
        expected.iter().filter(|(_, _, r)| *r == Role::Lead).count(),
        28
    );
    assert_eq!(got.len(), expected.len());
    for (item, (headings, indicator, role)) in got.iter().zip(&expected) {
        assert_eq!(item.code, indicator.code);
        assert_eq!(item.text, indicator.text);
        assert_eq!(item.role, *role, "第{}项", item.code);
        assert_eq!(item.via_group, None);
        let ancestors: Vec<(&str, &str)> = item
            .ancestors
            .iter()
            .map(|h| (h.code.as_str(), h.title.as_str()))
            .collect();
        let want: Vec<(&str, &str)> = headings
            .iter()
            .map(|h| (h.code.as_str(), h.title.as_str()))
            .collect();
        assert_eq!(ancestors, want);
        assert_eq!(ancestors.len(), 2);
    }
    // 县司法局 leads 15 and only co-operates on 47.
    assert!(got.iter().any(|i| i.code == "15" && i.role == Role::Lead));
    assert!(got.iter().any(|i| i.code == "47" && i.role == Role::Co));

    let missing = fazhi_store::UnitId(999_999);
    assert!(matches!(
        s.unit_indicators(missing).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn reimport_creates_new_version(db: Db) {
    let s = &db.store;
    let first = import_county(s).await;
    // The office renamed a unit and kept the old name as an alias: the re-import maps
    // the old name to the same unit.
    let fagai = unit_id(s, "县发改局").await;
    s.update_unit(
        fagai,
        "县发展和改革局",
        fazhi_domain::UnitKind::Government,
        &admin(),
    )
    .await
    .unwrap();
    s.add_alias(fagai, "县发改局", &admin()).await.unwrap();
    let old = s.framework_tree(first).await.unwrap();
    let mut lib = library();
    lib.framework.title = "法治政府建设示范创建责任分工（修订）".into();
    let second = s
        .import_library(&lib, "lanling-v2.json", &"ab".repeat(32), &admin())
        .await
        .unwrap();
    assert_ne!(first, second);

    let versions = s.frameworks().await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.id, v.is_current))
            .collect::<Vec<_>>(),
        vec![(second, true), (first, false)]
    );
    let current = s.current_framework().await.unwrap().unwrap();
    assert_eq!(current.info.id, second);
    assert_eq!(current.info.title, lib.framework.title);

    // The first version is stored unchanged, with its own nodes.
    let mut again = s.framework_tree(first).await.unwrap();
    assert!(!again.info.is_current);
    again.info.is_current = true;
    assert_eq!(again, old);
    let old_ids: Vec<_> = old.leaves().iter().map(|(_, n)| n.id).collect();
    assert!(
        current
            .leaves()
            .iter()
            .all(|(_, n)| !old_ids.contains(&n.id))
    );

    // Units and aliases are reused, not duplicated.
    assert_eq!(s.units().await.unwrap().len(), 23);
    assert_eq!(count_rows(s, "unit_alias").await, 2);
    assert_eq!(s.find_unit("县发改局").await.unwrap(), Some(fagai));
    assert!(current.leaves().iter().any(|(_, n)| {
        n.assignments
            .iter()
            .any(|a| a.unit_id == fagai && a.unit_name == "县发展和改革局")
    }));
    assert_eq!(count_rows(s, "framework_node").await, 2 * 134);
    assert_eq!(
        s.framework_diagnostics(first).await.unwrap().len(),
        library().diagnostics.len()
    );

    // Counts in units() follow the current version only.
    let sifa = s
        .units()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name == "县司法局")
        .unwrap();
    let (_, lead, co) = library()
        .framework
        .unit_indicator_counts()
        .into_iter()
        .find(|(n, _, _)| n == "县司法局")
        .unwrap();
    assert_eq!((sifa.lead_count, sifa.co_count), (lead, co));

    assert!(matches!(
        s.framework_tree(fazhi_store::FrameworkId(424_242)).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn pragma(s: &Store, name: &str) -> String {
    let conn = s.connection();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            format!("PRAGMA {name}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .unwrap()
}

/// Table sizes, to show a failed import left nothing behind.
async fn snapshot(s: &Store) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "framework",
        "framework_node",
        "unit",
        "unit_alias",
        "assignment",
        "import_diagnostic",
        "audit_log",
        "campaign_round",
        "task",
        "task_event",
        "progress_report",
        "blob",
        "evidence",
        "evidence_version",
        "evidence_review",
    ] {
        out.push(count_rows(s, table).await);
    }
    out
}

async fn failed_import_leaves_nothing(db: Db) {
    let s = &db.store;
    // Late in the tree an indicator names a lead that is not among its units: the
    // error comes after the version, new units and most nodes were written.
    let mut bad = library();
    bad.framework.units.push("县新设局".into());
    if let Some(fazhi_domain::Node::Heading(last)) = bad.framework.indicators.last_mut()
        && let Some(fazhi_domain::Node::Heading(sub)) = last.children.last_mut()
        && let Some(fazhi_domain::Node::Indicator(leaf)) = sub.children.last_mut()
    {
        leaf.units.push("县新设局".into());
        leaf.lead = vec!["不存在的单位".into()];
    } else {
        panic!("指标库结构与预期不同");
    }
    let empty = snapshot(s).await;
    let err = s
        .import_library(&bad, "bad.json", &library_sha256(), &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("不存在的单位")),
        "{err}"
    );
    assert_eq!(snapshot(s).await, empty);
    assert!(s.current_framework().await.unwrap().is_none());

    // Same on top of a stored version: it stays current and untouched.
    let first = import_county(s).await;
    let before = snapshot(s).await;
    assert!(
        s.import_library(&bad, "bad.json", &library_sha256(), &admin())
            .await
            .is_err()
    );
    assert_eq!(snapshot(s).await, before);
    assert_eq!(s.current_framework().await.unwrap().unwrap().info.id, first);
    assert_eq!(s.find_unit("县新设局").await.unwrap(), None);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(1));

    // A malformed checksum is refused before anything is written.
    let err = s
        .import_library(&library(), "x", "abc", &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(snapshot(s).await, before);
}
