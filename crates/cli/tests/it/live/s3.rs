//! `fazhi serve` with its evidence in a real S3 object store (Garage, one node started here
//! on 127.0.0.1 by `fazhi_files::test_support`): a 1 GiB upload is stored under its SHA-256
//! in the bucket while the server stays under 100 MiB peak memory. Its commit copies the
//! object through fazhi in parts, as it is larger than Aliyun OSS copies in one request.
//!
//! Without the `garage` binary the test prints a note and passes, unless
//! `FAZHI_TEST_S3=require` (CI).

use fazhi_files::test_support::{BUCKET, Garage};

use super::*;

#[test]
fn one_gib_upload_into_s3_keeps_server_memory_low() {
    let Some(garage) = Garage::start() else {
        return;
    };
    let mut site = Site::prepare_with("s3", garage.serve_env());
    assert!(
        site.log().contains(&format!("S3 存储桶 {BUCKET}")),
        "the server says where the files go:\n{}",
        site.log()
    );
    assert!(
        !site.log().contains(garage.secret_key()),
        "the secret is never logged"
    );
    let hash = expected_sha256(GIB);
    let started = Instant::now();
    let mut upload = Upload::begin(&site, "存入对象存储的录像", "s3.bin", GIB);
    upload.send(GIB);
    let r = upload.finish();
    let elapsed = started.elapsed();
    assert_eq!(r.status, 303, "{r:?}\n{}", site.log());
    let peak_kib = site.server().peak_rss_kib();
    let expected = hash.join().expect("sha256sum");
    println!(
        "1 GiB upload into S3 (Garage) through fazhi serve: {:.2} s; server VmHWM {:.1} MiB",
        elapsed.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
    assert!(
        peak_kib < PEAK_LIMIT_KIB,
        "server peak RSS {peak_kib} KiB is not under {PEAK_LIMIT_KIB} KiB"
    );
    // Read back from the bucket with the store's own client: at its content address, whole.
    let store = fazhi_files::FileStore::new(&garage.config()).expect("open the bucket");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    assert_eq!(
        rt.block_on(store.size(&expected))
            .expect("the object is at its content address"),
        GIB
    );
    assert_eq!(
        garage.unfinished_uploads(),
        0,
        "no multipart upload left open"
    );
    assert!(
        !site.dir.files().join("blobs").exists(),
        "nothing went to the local directory"
    );
    let page = site.liaison.get(&format!("/tasks/{}", site.task));
    assert!(page.body.contains("存入对象存储的录像"), "{}", page.body);
    site.stop();
}
