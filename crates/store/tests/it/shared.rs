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
