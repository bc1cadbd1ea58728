//! `fazhi backup` while the server takes writes, then `fazhi restore` into an empty data
//! directory: every write acknowledged before the backup began is in the restored
//! database, the audit chain verifies, and the files are there with their SHA-256.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

fn fazhi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fazhi"))
        .args(args)
        .env_remove("FAZHI_DATABASE_URL")
        .env_remove("FAZHI_CONFIG")
        .env_remove("FAZHI_DATA_DIR")
        .env_remove("FAZHI_FILE_STORE")
        .output()
        .expect("the fazhi binary runs")
}

#[test]
fn a_backup_taken_during_writes_restores_every_acknowledged_write() {
    let mut site = Site::prepare("backup");
    let mut upload = Upload::begin(&site, "备份前的材料", "before.bin", 4 * MIB);
    upload.send(4 * MIB);
    let r = upload.finish();
    assert_eq!(r.status, 303, "{r:?}");
    let sha = expected_sha256(4 * MIB).join().expect("sha256sum");

    // A liaison keeps writing progress reports; each acknowledged one is noted with its time.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(u32, Instant)>>> = Arc::default();
    let writer = {
        let (stop, acked) = (Arc::clone(&stop), Arc::clone(&acked));
        let mut client = Client::new(site.server().port);
        client.cookie = site.liaison.cookie.clone();
        client.csrf = site.liaison.csrf.clone();
        let task = site.task;
        std::thread::spawn(move || {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let text = format!("备份期间的进展第{n}条");
                let r = client.post_form(
                    &format!("/tasks/{task}/reports"),
                    &[
                        ("progress", &text),
                        ("problems", "无"),
                        ("next_steps", "继续"),
                        ("percent", "50"),
                    ],
                );
                if r.status == 303 {
                    acked.lock().unwrap().push((n, Instant::now()));
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(800));
    let backup_dir = site.dir.path.join("backup");
    let data = site.dir.data();
    let began = Instant::now();
    let out = fazhi(&[
        "backup",
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        backup_dir.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("快照中的审计日志校验通过"), "{text}");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    let acked = acked.lock().unwrap().clone();
    let before: Vec<u32> = acked
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(n, _)| *n)
        .collect();
    assert!(
        before.len() >= 3,
        "writes acknowledged before the backup: {acked:?}"
    );
    assert!(
        acked.len() > before.len(),
        "the server kept writing during the backup"
    );

    // A second backup into the same directory is refused.
    let again = fazhi(&[
        "backup",
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        backup_dir.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("不为空"));

    let restored = site.dir.path.join("restored");
    let out = fazhi(&[
        "restore",
        "--from",
        backup_dir.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("审计日志校验通过"), "{text}");
    // Restoring over data is refused.
    let over = fazhi(&[
        "restore",
        "--from",
        backup_dir.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert!(!over.status.success());
    assert!(String::from_utf8_lossy(&over.stderr).contains("不会覆盖"));

    let blob = restored
        .join("files")
        .join("blobs")
        .join(&sha[..2])
        .join(&sha);
    assert_eq!(std::fs::metadata(&blob).expect("the file").len(), 4 * MIB);

    let url = format!(
        "sqlite://{}?mode=rw",
        restored.join("fazhi.sqlite").display()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reports: Vec<String> = rt.block_on(async {
        let store = fazhi_store::Store::connect(&url).await.expect("restored");
        let rows = store
            .connection()
            .query_all_raw(Statement::from_string(
                store.connection().get_database_backend(),
                "SELECT progress FROM progress_report".to_string(),
            ))
            .await
            .expect("reports");
        let out = rows
            .iter()
            .map(|r| r.try_get::<String>("", "progress").expect("text"))
            .collect();
        store.close().await.ok();
        out
    });
    for n in &before {
        let text = format!("备份期间的进展第{n}条");
        assert!(
            reports.contains(&text),
            "acknowledged before the backup but not restored: {text}"
        );
    }
    println!(
        "backup during writes: {} reports acknowledged before it began, {} in all, {} in the backup",
        before.len(),
        acked.len(),
        reports.len()
    );

    // The restored directory serves.
    let log = site.dir.path.join("restored.log");
    let server = Server::start(&restored, &log, &[]);
    let mut liaison = Client::new(server.port);
    liaison.login(LIAISON, LIAISON_PASSWORD);
    let page = liaison.get(&format!("/tasks/{}", site.task));
    assert!(page.body.contains("备份前的材料"), "{}", page.body);
    drop(server);
    site.stop();
}
