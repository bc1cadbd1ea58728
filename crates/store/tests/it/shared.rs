//! Several instances on one PostgreSQL database: started together on an empty database
//! (the migrations run under a lock), each sees the other's writes (the generation moves on
//! notification), and exclusive work runs on one at a time.

use std::time::{Duration, Instant};

use crate::common::*;
use fazhi_store::Store;
use fazhi_store::shared::Exclusive;

/// A fresh, empty PostgreSQL database, or `None` (skipped) when there is no server and
/// `FAZHI_TEST_PG` is not `require`.
async fn empty_database() -> Option<(String, String, String)> {
    let mode = std::env::var("FAZHI_TEST_PG").unwrap_or_else(|_| "auto".into());
    if mode == "skip" {
        return None;
    }
    let admin_url = std::env::var("FAZHI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin = match admin_connect(&admin_url).await {
        Ok(a) => a,
        Err(e) if mode == "require" => panic!("FAZHI_TEST_PG=require，但无法连接 PostgreSQL：{e}"),
        Err(_) => return None,
    };
    let name = format!("fazhi_t_shared_{}", std::process::id());
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await.ok();
    let url = with_database(&admin_url, &name);
    Some((admin_url, name, url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_on_one_postgres_database() {
    let Some((admin_url, name, url)) = empty_database().await else {
        eprintln!("PostgreSQL 不可用，已跳过");
        return;
    };
    // Started together on an empty database: both come up, one migrated, one waited.
    let (a, b) = tokio::join!(Store::connect(&url), Store::connect(&url));
    let (a, b) = (a.expect("instance A"), b.expect("instance B"));

    // A write through A moves B's generation within a second.
    let before = b.generation();
    import_county(&a).await;
    let started = Instant::now();
    while b.generation() == before && started.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_ne!(
        b.generation(),
        before,
        "B did not hear of A's write within 1 s"
    );
    assert!(b.current_framework().await.unwrap().is_some());

    // Exclusive work: while A holds the housekeeping, B skips it.
    let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let a2 = a.clone();
    let holder = tokio::spawn(async move {
        a2.exclusively(Exclusive::Housekeeping, || async {
            held_tx.send(()).ok();
            release_rx.await.ok();
        })
        .await
    });
    held_rx.await.unwrap();
    let skipped = b
        .exclusively(Exclusive::Housekeeping, || async { "ran" })
        .await
        .unwrap();
    assert_eq!(skipped, None, "B ran the housekeeping while A held it");
    release_tx.send(()).ok();
    assert_eq!(holder.await.unwrap().unwrap(), Some(()));
    let ran = b
        .exclusively(Exclusive::Housekeeping, || async { "ran" })
        .await
        .unwrap();
    assert_eq!(ran, Some("ran"), "free again once A is done");

    a.close().await.ok();
    b.close().await.ok();
    if let Ok(admin) = admin_connect(&admin_url).await {
        use sea_orm::ConnectionTrait;
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

/// A county's SQLite database with a round of work moves into an empty PostgreSQL
/// database: every table's rows, the audit chain, and the target keeps working (new ids).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_moves_from_sqlite_to_postgres() {
    let Some((admin_url, name, url)) = empty_database().await else {
        eprintln!("PostgreSQL 不可用，已跳过");
        return;
    };
    let dir = std::env::temp_dir().join(format!("fazhi_move_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src_url = format!("sqlite://{}?mode=rwc", dir.join("county.sqlite").display());
    let src = Store::connect(&src_url).await.unwrap();
    import_county(&src).await;
    let sifa = unit_id(&src, "县司法局").await;
    let liaison = user(&src, "sifa", fazhi_store::UserRole::Liaison, Some(sifa)).await;
    let summary = src
        .open_round(
            fazhi_store::NewRound {
                name: "2026年度".into(),
                starts_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                ends_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                framework_id: None,
                due_on: chrono::NaiveDate::from_ymd_opt(2026, 9, 30),
                copy_from: None,
            },
            &admin(),
        )
        .await
        .unwrap();
    let tasks = src
        .tasks(&fazhi_store::TaskFilter {
            round: Some(summary.round_id),
            unit: Some(sifa),
            ..Default::default()
        })
        .await
        .unwrap();
    for t in &tasks {
        src.transition(
            t.id,
            &fazhi_store::TaskAction::Sign,
            fazhi_store::ActorRole::ResponsibleUnit,
            &liaison.actor(),
            today(),
        )
        .await
        .unwrap();
    }
    let before = src.audit_head().await.unwrap();

    let dst = Store::connect(&url).await.unwrap();
    let moved = src.copy_all_into(&dst).await.unwrap();
    assert!(moved.mismatches().is_empty(), "{:?}", moved.mismatches());
    assert_eq!(moved.tables.len(), 27);
    assert_eq!(moved.audit_entries, before.entry_count);
    let task_rows = moved.tables.iter().find(|t| t.table == "task").unwrap();
    assert_eq!(task_rows.source_rows, summary.tasks_created as u64);
    assert_eq!(dst.audit_head().await.unwrap(), before);
    // The moved data reads the same, and new rows get new ids.
    let again = dst
        .tasks(&fazhi_store::TaskFilter {
            round: Some(summary.round_id),
            unit: Some(sifa),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids = |list: &[fazhi_store::TaskSummary]| list.iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&tasks));
    assert!(
        again
            .iter()
            .all(|t| t.status == fazhi_store::TaskStatus::InProgress),
        "the steps taken moved with the tasks"
    );
    let newcomer = user(&dst, "newcomer", fazhi_store::UserRole::Observer, None).await;
    assert!(newcomer.id > liaison.id);
    assert!(dst.verify_audit().await.unwrap().is_ok());
    // A second move into the now full database is refused.
    let err = src.copy_all_into(&dst).await.unwrap_err();
    assert!(err.to_string().contains("不是空的"), "{err}");

    src.close().await.ok();
    dst.close().await.ok();
    std::fs::remove_dir_all(&dir).ok();
    if let Ok(admin) = admin_connect(&admin_url).await {
        use sea_orm::ConnectionTrait;
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

/// Counties kept apart by schema (docs/multi-county.md): two county schemas created and
/// migrated together in one database; the same ids in each, and nothing of one seen in the
/// other; each with its own audit chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_schemas_keep_their_data_apart() {
    let Some((admin_url, name, url)) = empty_database().await else {
        eprintln!("PostgreSQL 不可用，已跳过");
        return;
    };
    let (a, b) = tokio::join!(
        Store::connect_schema(&url, "county_1"),
        Store::connect_schema(&url, "county_2")
    );
    let (a, b) = (a.expect("county 1"), b.expect("county 2"));
    import_county(&a).await;
    let in_a = user(&a, "office", fazhi_store::UserRole::Admin, None).await;
    let in_b = user(&b, "office", fazhi_store::UserRole::Observer, None).await;
    assert_eq!(in_a.id, in_b.id, "the same ids in each county");
    assert!(!a.units().await.unwrap().is_empty());
    assert!(
        b.units().await.unwrap().is_empty(),
        "B sees none of A's units"
    );
    let b_users = b.users().await.unwrap();
    assert_eq!(b_users.len(), 1);
    assert_eq!(b_users[0].role, fazhi_store::UserRole::Observer);
    assert!(a.verify_audit().await.unwrap().is_ok());
    assert!(b.verify_audit().await.unwrap().is_ok());
    assert!(
        a.audit_head().await.unwrap().entry_count > b.audit_head().await.unwrap().entry_count,
        "each county its own chain"
    );
    // Opened again: the migrations have run; the data is there.
    a.close().await.ok();
    let again = Store::connect_schema(&url, "county_1")
        .await
        .expect("again");
    assert!(!again.units().await.unwrap().is_empty());
    again.close().await.ok();
    b.close().await.ok();
    for bad in [
        "",
        "County",
        "pg_catalog",
        "a;drop",
        "1county",
        &"a".repeat(64),
    ] {
        assert!(Store::connect_schema(&url, bad).await.is_err(), "{bad}");
    }
    assert!(
        Store::connect_schema("sqlite::memory:", "county_1")
            .await
            .is_err()
    );
    if let Ok(admin) = admin_connect(&admin_url).await {
        use sea_orm::ConnectionTrait;
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}
