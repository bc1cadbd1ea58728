//! Large evidence uploads:
//!
//! - a 1 GiB file is stored with the right size and SHA-256 while the peak memory (VmHWM)
//!   of the server process stays under 100 MiB, counting the set-up's logins and password
//!   changes (Argon2, 19 MiB each) in the same process;
//! - an upload cut short, by the client disconnecting or by the server being killed, leaves
//!   no evidence row, no blob row and no file (after a restart, for the killed server).

use super::*;

#[test]
fn one_gib_upload_keeps_server_memory_low() {
    let mut site = Site::prepare("1gib");
    // The setup ran six Argon2 hashes (two logins, two password changes; 19 MiB each) in
    // this very server. `fazhi serve` fixes glibc's mmap threshold so those buffers go back
    // to the system; the peak below covers the set-up and the upload together.
    let (setup_peak_kib, setup_rss_kib) = (site.server().peak_rss_kib(), site.server().rss_kib());
    let before_kib = site.server().peak_rss_kib();
    let hash = expected_sha256(GIB);

    let started = Instant::now();
    let mut upload = Upload::begin(&site, "一吉字节的执法记录", "recording.bin", GIB);
    upload.send(GIB);
    let resp = upload.finish();
    let elapsed = started.elapsed();
    let peak_kib = site.server().peak_rss_kib();
    let rss_kib = site.server().rss_kib();
    let expected = hash.join().expect("sha256sum thread");
    println!(
        "1 GiB upload over loopback: {:.2} s ({:.0} MiB/s); server VmHWM {:.1} MiB before, \
         {:.1} MiB after (VmRSS now {:.1} MiB); sha256 {expected}; the setup server (logins, \
         password changes, round) had peaked at {:.1} MiB and held {:.1} MiB",
        elapsed.as_secs_f64(),
        GIB as f64 / MIB as f64 / elapsed.as_secs_f64(),
        before_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
        rss_kib as f64 / 1024.0,
        setup_peak_kib as f64 / 1024.0,
        setup_rss_kib as f64 / 1024.0,
    );
    assert_eq!(resp.status, 303, "upload answered {resp:?}\n{}", site.log());
    assert_eq!(
        resp.header("location"),
        Some(format!("/tasks/{}#evidence", site.task).as_str())
    );
    assert!(
        peak_kib < PEAK_LIMIT_KIB,
        "server peak RSS {peak_kib} KiB is not under {PEAK_LIMIT_KIB} KiB"
    );

    let page = site.liaison.get(&format!("/tasks/{}", site.task));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("佐证材料（1）"), "{}", page.body);
    assert!(page.body.contains("一吉字节的执法记录"), "{}", page.body);
    assert!(page.body.contains("recording.bin"), "{}", page.body);
    assert!(page.body.contains("1 GiB"), "{}", page.body);

    let blob = site
        .dir
        .files()
        .join("blobs")
        .join(&expected[..2])
        .join(&expected);
    let meta = std::fs::metadata(&blob)
        .unwrap_or_else(|e| panic!("no file at the content address {}: {e}", blob.display()));
    assert_eq!(meta.len(), GIB);
    assert_eq!(site.dir.stray_files(), vec![blob.clone()], "only the blob");

    site.stop();
    let db = site.dir.database(site.task);
    assert_eq!(db.evidence.len(), 1, "{db:?}");
    let (sha, size) = &db.evidence[0];
    assert_eq!(sha.as_deref(), Some(expected.as_str()));
    assert_eq!(*size, Some(GIB));
    assert_eq!((db.evidence_rows, db.version_rows, db.blobs), (1, 1, 1));
}

#[test]
fn client_disconnect_mid_upload_leaves_nothing() {
    let mut site = Site::prepare("disconnect");
    let mut upload = Upload::begin(&site, "中途断开", "cut.bin", 200 * MIB);
    upload.send(50 * MIB);
    // The server really is writing the upload when the client goes.
    let temp = site.dir.wait_for_temp_file(Duration::from_secs(30));
    upload.disconnect();

    let deadline = Instant::now() + Duration::from_secs(30);
    while !site.dir.stray_files().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        site.dir.stray_files(),
        Vec::<PathBuf>::new(),
        "the temporary file {} is removed after the client left\n{}",
        temp.display(),
        site.log()
    );
    let running = site.server.as_mut().is_some_and(Server::is_running);
    assert!(running, "the server survives the cut:\n{}", site.log());

    // The server still serves, the task has no evidence, and a new upload works.
    let page = site.liaison.get(&format!("/tasks/{}", site.task));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("还没有佐证材料"), "{}", page.body);
    let mut upload = Upload::begin(&site, "断开后再传", "after.bin", BLOCK);
    upload.send(BLOCK);
    let resp = upload.finish();
    assert_eq!(resp.status, 303, "{resp:?}");
    let page = site.liaison.get(&format!("/tasks/{}", site.task));
    assert!(page.body.contains("佐证材料（1）"), "{}", page.body);
    assert!(page.body.contains("after.bin"), "{}", page.body);
    assert!(!page.body.contains("cut.bin"), "{}", page.body);

    site.stop();
    let db = site.dir.database(site.task);
    assert_eq!(db.evidence.len(), 1, "only the later upload: {db:?}");
    assert_eq!(db.evidence[0].1, Some(BLOCK));
    assert_eq!(
        (db.evidence_rows, db.version_rows, db.blobs),
        (1, 1, 1),
        "{db:?}"
    );
    assert_eq!(
        site.dir.stray_files().len(),
        1,
        "only the later upload's blob"
    );
}

#[test]
fn server_killed_mid_upload_leaves_nothing_after_restart() {
    let mut site = Site::prepare("kill");
    let mut upload = Upload::begin(&site, "服务中断", "killed.bin", 200 * MIB);
    upload.send(50 * MIB);
    let temp = site.dir.wait_for_temp_file(Duration::from_secs(30));
    site.kill();
    upload.disconnect();
    // A killed process cleans nothing up: what it was writing is still there.
    assert!(
        site.dir.stray_files().contains(&temp),
        "{} left by the killed server",
        temp.display()
    );

    site.restart();
    assert!(
        site.log().contains("已清理上次中断上传留下的临时文件"),
        "the restarted server reports the clean-up:\n{}",
        site.log()
    );
    assert_eq!(
        site.dir.stray_files(),
        Vec::<PathBuf>::new(),
        "no file left after the restart"
    );
    let mut liaison = Client::new(site.server().port);
    liaison.login(LIAISON, LIAISON_PASSWORD);
    let page = liaison.get(&format!("/tasks/{}", site.task));
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("还没有佐证材料"), "{}", page.body);

    site.stop();
    let db = site.dir.database(site.task);
    assert!(db.evidence.is_empty(), "{db:?}");
    assert_eq!(
        (db.evidence_rows, db.version_rows, db.blobs),
        (0, 0, 0),
        "{db:?}"
    );
}
