//! SIGKILL under load (issue 10, "Crash"): liaisons keep writing progress reports while a
//! 300 MiB upload is in flight; the server is killed with SIGKILL in the middle of both and
//! started again on the same data directory. Every write the server acknowledged (303) is
//! there exactly once, nothing of the cut upload remains, and the audit chain verifies.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// Concurrent writers, each with its own login session.
const WRITERS: usize = 3;
/// Writes acknowledged before the kill, at least.
const MIN_ACKNOWLEDGED: usize = 30;
const MARK: &str = "断电测试";

#[test]
fn kill_under_write_load_and_mid_upload_loses_no_acknowledged_write() {
    let mut site = Site::prepare("crash");
    let (port, task) = (site.server().port, site.task);
    let acknowledged_so_far = Arc::new(AtomicUsize::new(0));

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let counter = Arc::clone(&acknowledged_so_far);
            std::thread::spawn(move || {
                let mut client = Client::new(port);
                client.login(LIAISON, LIAISON_PASSWORD);
                client.get(&format!("/tasks/{task}"));
                let mut acknowledged = Vec::new();
                for n in 0.. {
                    let text = format!("{MARK} 写入者{w} 第{n}条");
                    let answer = client.try_post_form(
                        &format!("/tasks/{task}/reports"),
                        &[
                            ("progress", &text),
                            ("problems", "无"),
                            ("next_steps", "继续"),
                            ("percent", "50"),
                        ],
                    );
                    match answer {
                        Ok(r) if r.status == 303 => {
                            acknowledged.push(text);
                            counter.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => panic!("report {text} refused while the server ran: {r:?}"),
                        // Refused or cut off: the server is gone. This write was never
                        // acknowledged, so it may or may not be stored.
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();

    let mut upload = Upload::begin(&site, "断电时的上传", "big.bin", 300 * MIB);
    upload.send(100 * MIB);
    site.dir.wait_for_temp_file(Duration::from_secs(60));
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged_so_far.load(Ordering::SeqCst) < MIN_ACKNOWLEDGED {
        assert!(Instant::now() < deadline, "the writers got too few answers");
        std::thread::sleep(Duration::from_millis(20));
    }
    site.kill();
    upload.disconnect();
    let acknowledged: Vec<String> = writers
        .into_iter()
        .flat_map(|h| h.join().expect("a writer thread"))
        .collect();
    assert!(
        acknowledged.len() >= MIN_ACKNOWLEDGED,
        "{}",
        acknowledged.len()
    );

    site.restart();
    // The restarted server works: one more write, acknowledged and readable.
    let r = site.liaison.get(&format!("/tasks/{task}"));
    assert_eq!(r.status, 200, "{r:?}");
    let after = format!("{MARK} 重启之后");
    let r = site.liaison.post_form(
        &format!("/tasks/{task}/reports"),
        &[
            ("progress", &after),
            ("problems", ""),
            ("next_steps", ""),
            ("percent", "60"),
        ],
    );
    assert_eq!(r.status, 303, "a write after the restart: {r:?}");
    site.stop();

    let stored = stored_reports(&site.dir, task);
    let mut times: HashMap<&str, usize> = HashMap::new();
    for text in &stored {
        *times.entry(text.as_str()).or_default() += 1;
    }
    for text in &acknowledged {
        assert_eq!(
            times.get(text.as_str()),
            Some(&1),
            "acknowledged write {text}"
        );
    }
    assert_eq!(times.get(after.as_str()), Some(&1));
    assert!(
        times.values().all(|&n| n == 1),
        "a write stored twice: {times:?}"
    );
    // At most the one request each writer had in flight may be stored unacknowledged.
    assert!(
        stored.len() <= acknowledged.len() + 1 + WRITERS,
        "{} stored, {} acknowledged",
        stored.len(),
        acknowledged.len()
    );

    // The cut upload left nothing: no evidence, no blob, no file.
    let db = site.dir.database(task);
    assert_eq!(
        (db.evidence_rows, db.version_rows, db.blobs),
        (0, 0, 0),
        "{db:?}"
    );
    assert_eq!(site.dir.stray_files(), Vec::<PathBuf>::new());

    // The audit chain, written in the same transactions, is whole.
    let out = Command::new(env!("CARGO_BIN_EXE_fazhi"))
        .args(["audit", "verify", "--data-dir"])
        .arg(site.dir.data())
        .env_remove("FAZHI_DATABASE_URL")
        .env_remove("FAZHI_CONFIG")
        .env_remove("FAZHI_DATA_DIR")
        .output()
        .expect("fazhi audit verify runs");
    assert!(
        out.status.success(),
        "audit verify after the crash:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The progress texts of the task's reports written by this test, as stored.
fn stored_reports(dir: &WorkDir, task: i64) -> Vec<String> {
    dir.read_database(|store| async move {
        let conn = store.connection();
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                conn.get_database_backend(),
                "SELECT progress FROM progress_report WHERE task_id = ? ORDER BY id",
                [task.into()],
            ))
            .await
            .expect("read the reports");
        rows.iter()
            .map(|r| r.try_get::<String>("", "progress").expect("progress"))
            .filter(|t| t.starts_with(MARK))
            .collect()
    })
}
