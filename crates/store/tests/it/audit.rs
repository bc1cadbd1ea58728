//! The audit hash chain.

use crate::common::*;
use fazhi_domain::UnitKind;
use fazhi_store::audit::GENESIS_HASH;
use fazhi_store::{Actor, AuditEntry, AuditFilter, AuditId, Store, UserId, append_audit};
use sea_orm::ConnectionTrait;

store_tests!(
    chain_verifies_and_names_tampered_row,
    deleted_rows_break_the_chain,
    changed_actor_or_time_is_detected,
    concurrent_writers_do_not_fork_the_chain,
    caller_transactions_and_filters,
    log_refuses_update_and_delete,
    deleted_tail_is_detected,
    head_migration_starts_from_existing_rows,
);

async fn some_changes(s: &Store) {
    import_county(s).await;
    let a = s
        .create_unit("县统计局", UnitKind::Government, &admin())
        .await
        .unwrap();
    s.add_alias(a, "统计局", &admin()).await.unwrap();
    s.update_unit(a, "县统计局", UnitKind::Other, &admin())
        .await
        .unwrap();
    s.set_unit_disabled(a, true, &admin()).await.unwrap();
}

async fn exec(s: &Store, sql: &str) {
    s.connection().execute_unprepared(sql).await.unwrap();
}

/// Drops the append-only triggers, as someone who owns the database can.
async fn drop_guards(s: &Store) {
    let statements: &[&str] = match s.connection().get_database_backend() {
        sea_orm::DbBackend::Postgres => &[
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "DROP TRIGGER audit_head_forward ON audit_head",
        ],
        _ => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_head_forward",
        ],
    };
    for sql in statements {
        exec(s, sql).await;
    }
}

async fn chain_verifies_and_names_tampered_row(db: Db) {
    let s = &db.store;
    assert_eq!(s.verify_audit().await.unwrap(), Ok(0));
    some_changes(s).await;
    assert_eq!(s.verify_audit().await.unwrap(), Ok(5));

    let mut log = s.audit_entries(&AuditFilter::default()).await.unwrap();
    log.reverse();
    assert_eq!(log[0].prev_hash, "0".repeat(64));
    assert_eq!(GENESIS_HASH, "0".repeat(64));
    for pair in log.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
        assert!(pair[1].id > pair[0].id);
    }
    assert!(log.iter().all(|e| e.hash.len() == 64));

    // Rewrite one row's after_json behind the platform's back.
    drop_guards(s).await;
    let victim = log[2].id;
    exec(
        s,
        &format!("UPDATE audit_log SET after_json = '{{\"name\":\"篡改\"}}' WHERE id = {victim}"),
    )
    .await;
    let broken = s.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.id, victim);
    assert!(broken.reason.contains("改动"), "{}", broken.reason);
}

async fn deleted_rows_break_the_chain(db: Db) {
    let s = &db.store;
    some_changes(s).await;
    let mut log = s.audit_entries(&AuditFilter::default()).await.unwrap();
    log.reverse();

    // Deleting a row in the middle: the next row no longer links.
    drop_guards(s).await;
    exec(
        s,
        &format!("DELETE FROM audit_log WHERE id = {}", log[1].id),
    )
    .await;
    assert_eq!(s.verify_audit().await.unwrap().unwrap_err().id, log[2].id);

    // Deleting the first row: the new first row does not start from zeros.
    exec(
        s,
        &format!("DELETE FROM audit_log WHERE id = {}", log[0].id),
    )
    .await;
    assert_eq!(s.verify_audit().await.unwrap().unwrap_err().id, log[2].id);
}

async fn changed_actor_or_time_is_detected(db: Db) {
    let s = &db.store;
    some_changes(s).await;
    let mut log = s.audit_entries(&AuditFilter::default()).await.unwrap();
    log.reverse();

    // Back-date one entry by a second.
    drop_guards(s).await;
    let earlier: sea_orm::Value = (log[1].at - chrono::Duration::seconds(1)).into();
    let backend = s.connection().get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "UPDATE audit_log SET at = $1 WHERE id = $2",
        _ => "UPDATE audit_log SET at = ? WHERE id = ?",
    };
    s.connection()
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [earlier, log[1].id.0.into()],
        ))
        .await
        .unwrap();
    assert_eq!(s.verify_audit().await.unwrap().unwrap_err().id, log[1].id);

    // Restoring the time heals it; then another name for the actor breaks it again.
    let original: sea_orm::Value = log[1].at.into();
    s.connection()
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [original, log[1].id.0.into()],
        ))
        .await
        .unwrap();
    assert_eq!(s.verify_audit().await.unwrap(), Ok(5));
    exec(
        s,
        &format!(
            "UPDATE audit_log SET actor_name = '别人' WHERE id = {}",
            log[3].id
        ),
    )
    .await;
    assert_eq!(s.verify_audit().await.unwrap().unwrap_err().id, log[3].id);
}

async fn concurrent_writers_do_not_fork_the_chain(db: Db) {
    let s = db.store.clone();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..3 {
                s.create_unit(&format!("测试单位{i}-{j}"), UnitKind::Other, &admin())
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.verify_audit().await.unwrap(), Ok(24));
    let log = s
        .audit_entries(&AuditFilter {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut prevs: Vec<&str> = log.iter().map(|e| e.prev_hash.as_str()).collect();
    prevs.sort();
    prevs.dedup();
    assert_eq!(prevs.len(), 24, "每条记录的前序哈希都不同：链没有分叉");
}

async fn caller_transactions_and_filters(db: Db) {
    let s = &db.store;
    let actor = Actor::user(UserId(7), "张三");
    // An entry appended in a transaction that rolls back leaves no trace.
    let tx = s.begin().await.unwrap();
    append_audit(
        &tx,
        AuditEntry::new(&actor, "demo.write", "demo", Some("1".into())),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(s.audit_count(&AuditFilter::default()).await.unwrap(), 0);

    let tx = s.begin().await.unwrap();
    for i in 0..5 {
        let id = append_audit(
            &tx,
            AuditEntry::new(&actor, "demo.write", "demo", Some(i.to_string()))
                .before(serde_json::json!({"n": i}))
                .after(serde_json::json!({"n": i + 1, "说明": "中文"})),
        )
        .await
        .unwrap();
        assert!(id > AuditId(0));
    }
    tx.commit().await.unwrap();
    append_audit_via_system(s).await;

    let all = AuditFilter::default();
    assert_eq!(s.audit_count(&all).await.unwrap(), 6);
    let page = s
        .audit_entries(&AuditFilter {
            limit: Some(2),
            offset: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter()
            .map(|e| e.entity_id.as_deref())
            .collect::<Vec<_>>(),
        [Some("4"), Some("3")]
    );
    let mine = AuditFilter {
        actor_user_id: Some(UserId(7)),
        ..Default::default()
    };
    assert_eq!(s.audit_count(&mine).await.unwrap(), 5);
    let one = AuditFilter {
        entity: Some("demo".into()),
        entity_id: Some("2".into()),
        ..Default::default()
    };
    let found = s.audit_entries(&one).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].actor_name, "张三");
    assert_eq!(found[0].before_json.as_deref(), Some(r#"{"n":2}"#));
    let by_action = AuditFilter {
        action: Some("demo.other".into()),
        ..Default::default()
    };
    assert_eq!(s.audit_count(&by_action).await.unwrap(), 1);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(6));
}

async fn append_audit_via_system(s: &Store) {
    let tx = s.begin().await.unwrap();
    append_audit(
        &tx,
        AuditEntry::new(&Actor::system(), "demo.other", "demo", None),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn log_refuses_update_and_delete(db: Db) {
    let s = &db.store;
    some_changes(s).await;
    let head = s.audit_head().await.unwrap();
    let log = s.audit_entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(head.entry_count, 5);
    assert_eq!(head.last_id, log[0].id);
    assert_eq!(head.last_hash, log[0].hash);
    let refused = [
        format!(
            "UPDATE audit_log SET actor_name = '别人' WHERE id = {}",
            log[2].id
        ),
        format!("DELETE FROM audit_log WHERE id = {}", log[0].id),
        "DELETE FROM audit_log".to_string(),
        "UPDATE audit_head SET entry_count = 1, last_id = 1".to_string(),
        "DELETE FROM audit_head".to_string(),
    ];
    for sql in &refused {
        let err = s.connection().execute_unprepared(sql).await.unwrap_err();
        assert!(
            err.to_string().contains("audit_log is append-only")
                || err.to_string().contains("audit_head"),
            "{sql}: {err}"
        );
    }
    if s.connection().get_database_backend() == sea_orm::DbBackend::Postgres {
        let err = s
            .connection()
            .execute_unprepared("TRUNCATE audit_log")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(s.audit_head().await.unwrap(), head);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(5));
    // Appends still move the head.
    append_audit_via_system(s).await;
    let moved = s.audit_head().await.unwrap();
    assert_eq!(moved.entry_count, 6);
    assert!(moved.last_id > head.last_id);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(6));
}

async fn deleted_tail_is_detected(db: Db) {
    let s = &db.store;
    some_changes(s).await;
    let log = s.audit_entries(&AuditFilter::default()).await.unwrap();
    let head = s.audit_head().await.unwrap();
    drop_guards(s).await;
    // The newest row removed: what is left is a valid chain, but shorter than the head.
    exec(
        s,
        &format!("DELETE FROM audit_log WHERE id = {}", log[0].id),
    )
    .await;
    let broken = s.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.id, head.last_id);
    assert!(
        broken.reason.contains("末尾缺少 1 条记录"),
        "{}",
        broken.reason
    );
    assert!(
        broken.reason.contains("最新的记录被删除"),
        "{}",
        broken.reason
    );
    exec(
        s,
        &format!("DELETE FROM audit_log WHERE id = {}", log[1].id),
    )
    .await;
    let broken = s.verify_audit().await.unwrap().unwrap_err();
    assert!(
        broken.reason.contains("末尾缺少 2 条记录"),
        "{}",
        broken.reason
    );
    assert!(broken.to_string().contains("校验失败"), "{broken}");
}

/// A database made before the head existed gets the head of the rows it holds.
async fn head_migration_starts_from_existing_rows(db: Db) {
    let s = &db.store;
    some_changes(s).await;
    let log = s.audit_entries(&AuditFilter::default()).await.unwrap();
    // Undo the head migration, as if the database came from the previous version.
    let undo: &[&str] = match s.connection().get_database_backend() {
        sea_orm::DbBackend::Postgres => &[
            "DROP TABLE audit_head",
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
            "DROP FUNCTION fazhi_audit_log_append_only()",
            "DROP FUNCTION fazhi_audit_head_forward()",
        ],
        _ => &[
            "DROP TABLE audit_head",
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ],
    };
    for sql in undo {
        exec(s, sql).await;
    }
    exec(
        s,
        "DELETE FROM seaql_migrations WHERE version = 'm20261201_000006_audit_head'",
    )
    .await;
    let again = Store::connect(&db.url).await.unwrap();
    let head = again.audit_head().await.unwrap();
    assert_eq!(head.entry_count, 5);
    assert_eq!(head.last_id, log[0].id);
    assert_eq!(head.last_hash, log[0].hash);
    assert_eq!(again.verify_audit().await.unwrap(), Ok(5));
    again.close().await.unwrap();
}
