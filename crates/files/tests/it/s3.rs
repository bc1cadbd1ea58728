//! One suite of the store's behaviour, run on the local store, on a real S3 server (Garage,
//! see `fazhi_files::test_support`) and, as an additional check, on `moto_server` (PyPI
//! `moto[server]`), which also serves the TLS test: over TLS with a certificate from a
//! throwaway CA (the `ca_cert` setting of an on-premises MinIO).
//!
//! Without `garage` or `moto_server` their tests print a note and pass; with
//! `FAZHI_TEST_S3=require` they fail instead. To run them: `.ci/run` builds Garage once
//! (or set `FAZHI_GARAGE`), `pip install 'moto[server]'`, then
//! `cargo test -p fazhi-files --test it s3`.

#![cfg(feature = "s3")]

use std::path::Path as FsPath;
use std::process::Stdio;
use std::time::Duration;

use fazhi_files::test_support::Garage;
use fazhi_files::{FileError, FileStore, FileStoreConfig, MIB};
use futures_util::TryStreamExt;
use object_store::ObjectStore;
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::common::*;
const BUCKET: &str = "fazhi-evidence";

struct Moto {
    _child: Child,
    endpoint: String,
    /// PEM of the CA that signed the server certificate (TLS only).
    ca_cert: Option<std::path::PathBuf>,
    _dir: TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Makes a CA and a server certificate for 127.0.0.1 with the openssl command.
fn make_certificates(dir: &FsPath) -> bool {
    let ext = dir.join("server.ext");
    if std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .is_err()
    {
        return false;
    }
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=fazhi test CA",
        ],
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ];
    steps.iter().all(|args| {
        std::process::Command::new("openssl")
            .args(*args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn skip(why: &str) -> Option<Moto> {
    if std::env::var("FAZHI_TEST_S3").as_deref() == Ok("require") {
        panic!("FAZHI_TEST_S3=require, 但 {why}");
    }
    eprintln!("{why}，已跳过 S3 测试（pip install 'moto[server]' 后可运行）");
    None
}

/// Starts moto_server and creates the bucket, or explains why not.
async fn start_moto(tls: bool) -> Option<Moto> {
    let dir = TempDir::new().expect("临时目录");
    if tls && !make_certificates(dir.path()) {
        return skip("openssl 不可用");
    }
    let port = free_port();
    let mut cmd = Command::new("moto_server");
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if tls {
        cmd.arg("-c")
            .arg(dir.path().join("server.pem"))
            .arg("-k")
            .arg(dir.path().join("server.key"));
    }
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return skip(&format!("moto_server 不可用（{e}）")),
    };
    let scheme = if tls { "https" } else { "http" };
    let endpoint = format!("{scheme}://127.0.0.1:{port}");

    // The test's own client, to create the bucket and list multipart uploads (moto does not
    // check signatures).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut client = reqwest::Client::builder();
    if tls {
        let pem = std::fs::read(dir.path().join("ca.pem")).expect("ca.pem");
        client = client.tls_certs_merge([reqwest::Certificate::from_pem(&pem).expect("pem")]);
    }
    let client = client.build().expect("client");
    let mut created = false;
    for _ in 0..300 {
        if let Ok(r) = client.put(format!("{endpoint}/{BUCKET}")).send().await {
            assert!(r.status().is_success(), "create bucket: {}", r.status());
            created = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(created, "moto_server did not answer within 30 s");
    Some(Moto {
        _child: child,
        endpoint,
        ca_cert: tls.then(|| dir.path().join("ca.pem")),
        _dir: dir,
    })
}

fn config(moto: &Moto) -> FileStoreConfig {
    FileStoreConfig::S3 {
        bucket: BUCKET.into(),
        endpoint: Some(moto.endpoint.clone()),
        region: "us-east-1".into(),
        access_key: "testing".into(),
        secret_key: "testing".into(),
        allow_http: moto.ca_cert.is_none(),
        virtual_hosted_style: false,
        ca_cert: moto.ca_cert.clone(),
    }
}

async fn keys(store: &FileStore) -> Vec<String> {
    let mut keys: Vec<String> = store
        .object_store()
        .list(None)
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .expect("list");
    keys.sort();
    keys
}

/// Multipart uploads started and neither completed nor aborted (moto answers unsigned
/// requests).
fn open_multipart_uploads(endpoint: &str) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let body = reqwest::get(format!("{endpoint}/{BUCKET}?uploads"))
            .await
            .expect("list uploads")
            .text()
            .await
            .expect("body");
        body.matches("<Upload>").count()
    })
}

/// The behaviour every backend shares. `unfinished` counts the multipart uploads left open
/// (none on the local disk).
async fn suite(store: FileStore, unfinished: &dyn Fn() -> usize) {
    // Round trips: one PUT, and a multipart upload of three parts.
    let small = "执法全过程记录：现场检查笔录".as_bytes().to_vec();
    let large = data(12 * MIB as usize + 5, 31);
    let mut shas = Vec::new();
    for content in [&small, &large] {
        let blob = store
            .put_stream(chunked(content, 64 * 1024), 20 * MIB)
            .await
            .expect("上传");
        assert_eq!(blob.sha256, sha256_hex(content));
        assert!(!blob.deduplicated);
        let back = store
            .get_stream(&blob.sha256)
            .await
            .expect("读取")
            .into_bytes()
            .await
            .expect("读取");
        assert!(back == content[..], "content differs");
        shas.push(blob.sha256);
    }
    assert_eq!(
        store
            .put_stream(chunked(&small, 3), MIB)
            .await
            .expect("again")
            .content_type,
        "text/plain"
    );
    let again = store
        .put_stream(chunked(&large, 1 << 20), 20 * MIB)
        .await
        .expect("again");
    assert!(again.deduplicated, "S3 path: head + copy");
    let mut expected: Vec<String> = shas
        .iter()
        .map(|s| format!("blobs/{}/{s}", &s[..2]))
        .collect();
    expected.sort();
    assert_eq!(keys(&store).await, expected);

    // Ranges.
    let part = store
        .get_range(&shas[1], 6 * MIB..6 * MIB + 100)
        .await
        .expect("range");
    assert_eq!(part.size, large.len() as u64);
    assert!(
        part.into_bytes().await.expect("bytes") == large[6 * MIB as usize..6 * MIB as usize + 100]
    );

    // Refusals and failures leave no object and no open multipart upload.
    let err = store
        .put_stream(chunked(&large, 1 << 20), 8 * MIB)
        .await
        .expect_err("too large");
    assert!(matches!(err, FileError::TooLarge { .. }), "{err:?}");
    let err = store
        .put_stream(
            failing_after(&large[..11 * MIB as usize], 1 << 20),
            20 * MIB,
        )
        .await
        .expect_err("failing");
    assert!(matches!(err, FileError::Upload(_)), "{err:?}");
    assert_eq!(keys(&store).await, expected);
    assert_eq!(unfinished(), 0);

    // A dropped upload: the guard aborts the multipart upload in the background.
    let cut_short = tokio::time::timeout(
        Duration::from_millis(1500),
        store.put_stream(
            stalling_after(&large[..11 * MIB as usize], 1 << 20),
            20 * MIB,
        ),
    )
    .await;
    assert!(cut_short.is_err());
    let mut aborted = false;
    for _ in 0..100 {
        if unfinished() == 0 && keys(&store).await == expected {
            aborted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(aborted, "upload still open: {:?}", keys(&store).await);

    // Larger than the store copies itself (Aliyun OSS: 1 GB): streamed into a multipart
    // upload at the content address instead, in order and whole.
    let beyond = data(13 * MIB as usize + 7, 33);
    let limited = store.clone().with_server_copy_limit(6 * MIB);
    let blob = limited
        .put_stream(chunked(&beyond, 1 << 20), 20 * MIB)
        .await
        .expect("copied through");
    assert_eq!(blob.sha256, sha256_hex(&beyond));
    let back = limited
        .get_stream(&blob.sha256)
        .await
        .expect("读取")
        .into_bytes()
        .await
        .expect("读取");
    assert!(back == beyond[..], "content differs after the copy");
    assert_eq!(unfinished(), 0);
    limited.delete(&blob.sha256).await.expect("delete");
    assert_eq!(keys(&store).await, expected);

    // Crash leftovers in tmp/ go with cleanup_temp.
    object_store::ObjectStoreExt::put(
        store.object_store().as_ref(),
        &object_store::path::Path::from("tmp/leftover"),
        b"x".to_vec().into(),
    )
    .await
    .expect("put");
    assert_eq!(
        store
            .cleanup_temp(Duration::from_secs(3600))
            .await
            .expect("cleanup"),
        0
    );
    assert_eq!(
        store.cleanup_temp(Duration::ZERO).await.expect("cleanup"),
        1
    );
    assert_eq!(keys(&store).await, expected);

    // Finished packages kept as results: streamed up in parts, read in ranges, deleted.
    let dir = TempDir::new().expect("临时目录");
    let package = data(11 * MIB as usize + 3, 34);
    let local = dir.path().join("package.zip");
    std::fs::write(&local, &package).expect("write");
    assert_eq!(
        store
            .keep_result("package-7-1.zip", &local)
            .await
            .expect("keep"),
        package.len() as u64
    );
    assert!(!local.exists());
    let tail = store
        .get_result_range("package-7-1.zip", 10 * MIB..package.len() as u64)
        .await
        .expect("range")
        .into_bytes()
        .await
        .expect("bytes");
    assert!(tail[..] == package[10 * MIB as usize..]);
    assert_eq!(unfinished(), 0);
    store
        .delete_result("package-7-1.zip")
        .await
        .expect("delete");
    assert_eq!(
        store.result_size("package-7-1.zip").await.expect("size"),
        None
    );

    // Listing, deleting.
    let listed: Vec<(String, u64)> = store.list_blobs().try_collect().await.expect("list");
    assert_eq!(listed.len(), 2);
    store.delete(&shas[0]).await.expect("delete");
    assert!(!store.exists(&shas[0]).await.expect("exists"));
    assert!(store.exists(&shas[1]).await.expect("exists"));
    assert!(matches!(
        store.get_stream(&shas[0]).await,
        Err(FileError::NotFound { .. })
    ));
}

#[tokio::test]
async fn the_suite_on_the_local_store() {
    let dir = TempDir::new().expect("临时目录");
    suite(FileStore::local(dir.path()).expect("open"), &|| 0).await;
}

#[tokio::test]
async fn the_suite_on_garage() {
    let Some(garage) = Garage::start() else {
        return;
    };
    let store = FileStore::new(&garage.config()).expect("open");
    suite(store, &|| garage.unfinished_uploads()).await;
}

#[tokio::test]
async fn the_suite_on_moto() {
    let Some(moto) = start_moto(false).await else {
        return;
    };
    let store = FileStore::new(&config(&moto)).expect("open");
    let endpoint = moto.endpoint.clone();
    // moto answers unsigned requests; a blocking client, as the suite's counter is sync.
    let unfinished = move || {
        let endpoint = endpoint.clone();
        std::thread::spawn(move || open_multipart_uploads(&endpoint))
            .join()
            .expect("count")
    };
    suite(store, &unfinished).await;
}

#[tokio::test]
async fn s3_over_tls_with_an_internal_ca() {
    let Some(moto) = start_moto(true).await else {
        return;
    };
    let store = FileStore::new(&config(&moto)).expect("open");
    let content = data(6 * MIB as usize, 32);
    let blob = store
        .put_stream(chunked(&content, 256 * 1024), 10 * MIB)
        .await
        .expect("上传 over TLS");
    let back = store
        .get_stream(&blob.sha256)
        .await
        .expect("读取")
        .into_bytes()
        .await
        .expect("读取");
    assert!(back == content[..]);
}
