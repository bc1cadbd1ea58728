//! `fazhi serve` with its evidence in an S3-compatible object store (`moto_server` from
//! PyPI, started here on 127.0.0.1): a 1 GiB upload is stored under its SHA-256 in the
//! bucket while the server stays under 100 MiB peak memory.
//!
//! Without `moto_server` on the PATH the test prints a note and passes, unless
//! `FAZHI_TEST_S3=require` (CI).

use super::*;

const BUCKET: &str = "fazhi-evidence";

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn start_moto() -> Option<Moto> {
    let required = std::env::var("FAZHI_TEST_S3").is_ok_and(|v| v == "require");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = match Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if required => panic!("FAZHI_TEST_S3=require，但 moto_server 无法启动：{e}"),
        Err(e) => {
            eprintln!("跳过：moto_server 不可用（{e}）");
            return None;
        }
    };
    let moto = Moto { child, port };
    // moto does not check signatures: an unsigned PUT creates the bucket.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = try_request(port, "PUT", &format!("/{BUCKET}"), &[], b"") {
            assert!(r.status < 300, "create the bucket: {r:?}");
            return Some(moto);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto_server did not answer within 60 s");
}

#[test]
fn one_gib_upload_into_s3_keeps_server_memory_low() {
    let Some(moto) = start_moto() else {
        return;
    };
    let env: Vec<(String, String)> = [
        ("FAZHI_FILE_STORE", "s3".to_string()),
        ("FAZHI_S3_BUCKET", BUCKET.to_string()),
        (
            "FAZHI_S3_ENDPOINT",
            format!("http://127.0.0.1:{}", moto.port),
        ),
        ("FAZHI_S3_REGION", "us-east-1".to_string()),
        ("FAZHI_S3_ALLOW_HTTP", "true".to_string()),
        ("FAZHI_S3_ACCESS_KEY", "testing".to_string()),
        ("FAZHI_S3_SECRET_KEY", "testing-secret".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut site = Site::prepare_with("s3", env);
    assert!(
        site.log().contains(&format!("S3 存储桶 {BUCKET}")),
        "the server says where the files go:\n{}",
        site.log()
    );
    assert!(
        !site.log().contains("testing-secret"),
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
        "1 GiB upload into S3 (moto) through fazhi serve: {:.2} s; server VmHWM {:.1} MiB",
        elapsed.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
    assert!(
        peak_kib < PEAK_LIMIT_KIB,
        "server peak RSS {peak_kib} KiB is not under {PEAK_LIMIT_KIB} KiB"
    );
    let listing = try_request(
        moto.port,
        "GET",
        &format!("/{BUCKET}?list-type=2&prefix=blobs/"),
        &[],
        b"",
    )
    .expect("list the bucket");
    assert_eq!(listing.status, 200, "{listing:?}");
    let key = format!("<Key>blobs/{}/{expected}</Key>", &expected[..2]);
    assert!(
        listing.body.contains(&key),
        "the object is at its content address: {}",
        listing.body
    );
    assert!(
        listing.body.contains(&format!("<Size>{GIB}</Size>")),
        "{}",
        listing.body
    );
    assert!(
        !site.dir.files().join("blobs").exists(),
        "nothing went to the local directory"
    );
    let page = site.liaison.get(&format!("/tasks/{}", site.task));
    assert!(page.body.contains("存入对象存储的录像"), "{}", page.body);
    site.stop();
}
