//! The store on a local directory: round trips, deduplication, limits, failures and
//! cancellation leave nothing at a content address and no temporary file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use fazhi_files::{FileError, FileStore, FileStoreConfig, MIB};
use futures_util::{StreamExt, TryStreamExt, stream};
use tempfile::TempDir;

use crate::common::*;

fn open() -> (TempDir, FileStore, PathBuf) {
    let dir = TempDir::new().expect("临时目录");
    let root = dir.path().join("files");
    let store = FileStore::new(&FileStoreConfig::Local { root: root.clone() }).expect("打开");
    (dir, store, root)
}

fn blobs(root: &Path) -> Vec<PathBuf> {
    files_under(&root.join("blobs"))
}

fn temps(root: &Path) -> Vec<PathBuf> {
    files_under(&root.join("tmp"))
}

#[tokio::test]
async fn small_round_trip() {
    let (_dir, store, root) = open();
    let content = "县司法局：关于报送法治政府建设示范创建佐证材料的通知\n".repeat(3);
    let blob = store
        .put_stream(chunked(content.as_bytes(), 1 << 20), 10 * MIB)
        .await
        .expect("上传");
    assert_eq!(blob.sha256, sha256_hex(content.as_bytes()));
    assert_eq!(blob.size, content.len() as u64);
    assert_eq!(blob.content_type, "text/plain");
    assert!(!blob.deduplicated);

    let path = root
        .join("blobs")
        .join(&blob.sha256[..2])
        .join(&blob.sha256);
    assert_eq!(blobs(&root), vec![path.clone()]);
    assert_eq!(std::fs::read(&path).expect("读文件"), content.as_bytes());
    assert!(temps(&root).is_empty(), "{:?}", temps(&root));

    let read = store.get_stream(&blob.sha256).await.expect("读取");
    assert_eq!(read.size, blob.size);
    assert_eq!(read.range, 0..blob.size);
    assert_eq!(read.into_bytes().await.expect("读取"), content.as_bytes());
    assert!(store.exists(&blob.sha256).await.expect("exists"));
    assert_eq!(store.size(&blob.sha256).await.expect("size"), blob.size);
}

#[tokio::test]
async fn multi_chunk_round_trip_across_parts() {
    let (_dir, store, root) = open();
    // 12 MiB + a bit in odd chunks: several 5 MiB parts and a short last one.
    let content = data(12 * MIB as usize + 12_345, 1);
    for chunk in [64 * 1024 + 7, 3 * MIB as usize] {
        let blob = store
            .put_stream(chunked(&content, chunk), 20 * MIB)
            .await
            .expect("上传");
        assert_eq!(blob.sha256, sha256_hex(&content));
        assert_eq!(blob.size, content.len() as u64);
        assert_eq!(blob.content_type, "application/octet-stream");
        let mut read = store.get_stream(&blob.sha256).await.expect("读取");
        let mut back = Vec::new();
        let mut pieces = 0;
        while let Some(piece) = read.next().await {
            back.extend_from_slice(&piece.expect("块"));
            pieces += 1;
        }
        assert!(pieces > 1, "streamed in pieces");
        assert!(back == content, "content differs");
    }
    assert_eq!(blobs(&root).len(), 1);
    assert!(temps(&root).is_empty(), "{:?}", temps(&root));
}

#[tokio::test]
async fn empty_file_is_stored() {
    let (_dir, store, root) = open();
    let blob = store
        .put_stream(stream::empty::<Result<Bytes, std::io::Error>>(), MIB)
        .await
        .expect("上传");
    assert_eq!(blob.sha256, sha256_hex(b""));
    assert_eq!(blob.size, 0);
    let read = store.get_stream(&blob.sha256).await.expect("读取");
    assert!(read.is_empty());
    assert!(read.into_bytes().await.expect("读取").is_empty());
    assert_eq!(blobs(&root).len(), 1);
}

#[tokio::test]
async fn same_content_twice_is_deduplicated() {
    let (_dir, store, root) = open();
    for content in [b"%PDF-1.7 same".to_vec(), data(7 * MIB as usize, 2)] {
        let first = store
            .put_stream(chunked(&content, 100_000), 20 * MIB)
            .await
            .expect("first");
        let second = store
            .put_stream(chunked(&content, 33_333), 20 * MIB)
            .await
            .expect("second");
        assert!(!first.deduplicated);
        assert!(second.deduplicated);
        assert_eq!(first.sha256, second.sha256);
        assert_eq!(first.size, second.size);
    }
    assert_eq!(blobs(&root).len(), 2);
    assert!(temps(&root).is_empty(), "{:?}", temps(&root));
}

#[tokio::test]
async fn concurrent_identical_uploads_store_one_object() {
    let (_dir, store, root) = open();
    let content = data(6 * MIB as usize, 3);
    let uploads = (0..4).map(|i| {
        let store = store.clone();
        let content = content.clone();
        tokio::spawn(async move {
            store
                .put_stream(chunked(&content, 50_000 + i), 10 * MIB)
                .await
        })
    });
    let mut fresh = 0;
    for upload in uploads {
        let blob = upload.await.expect("任务").expect("上传");
        assert_eq!(blob.sha256, sha256_hex(&content));
        fresh += usize::from(!blob.deduplicated);
    }
    assert_eq!(fresh, 1, "exactly one upload stored the content");
    assert_eq!(blobs(&root).len(), 1);
    assert!(temps(&root).is_empty(), "{:?}", temps(&root));
}

#[tokio::test]
async fn over_the_limit_is_refused_and_leaves_nothing() {
    let (_dir, store, root) = open();
    // Within the first part (one PUT) and beyond it (a multipart upload to abort).
    for (len, limit) in [(3 * MIB, MIB), (12 * MIB, 7 * MIB)] {
        let content = data(len as usize, 4);
        let err = store
            .put_stream(chunked(&content, 256 * 1024), limit)
            .await
            .expect_err("over the limit");
        assert!(
            matches!(err, FileError::TooLarge { limit: l } if l == limit),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("文件超过大小上限 "), "{err}");
        assert!(blobs(&root).is_empty());
        assert!(temps(&root).is_empty(), "{:?}", temps(&root));
    }
    let err = store
        .put_stream(chunked(&data(10, 5), 10), 2 << 30)
        .await
        .map(|_| ())
        .err();
    assert!(err.is_none());
    let msg = FileError::TooLarge { limit: 2 << 30 }.to_string();
    assert_eq!(msg, "文件超过大小上限 2 GiB");
}

#[tokio::test]
async fn exactly_the_limit_is_fine() {
    let (_dir, store, _root) = open();
    let content = data(MIB as usize, 6);
    let blob = store
        .put_stream(chunked(&content, 4096), MIB)
        .await
        .expect("at the limit");
    assert_eq!(blob.size, MIB);
}

#[tokio::test]
async fn a_stream_failing_midway_leaves_nothing() {
    let (_dir, store, root) = open();
    for len in [100_000, 11 * MIB as usize] {
        let content = data(len, 7);
        let err = store
            .put_stream(failing_after(&content, 64 * 1024), 20 * MIB)
            .await
            .expect_err("the stream failed");
        assert!(matches!(err, FileError::Upload(_)), "{err:?}");
        assert!(err.to_string().contains("客户端断开"), "{err}");
        assert!(blobs(&root).is_empty());
        assert!(temps(&root).is_empty(), "{:?}", temps(&root));
    }
}

#[tokio::test]
async fn a_dropped_upload_removes_its_temporary_file() {
    let (_dir, store, root) = open();
    // Stalls after 8 MiB: one part is being (or has been) written to tmp/….
    let content = data(8 * MIB as usize, 8);
    let cut_short = tokio::time::timeout(
        Duration::from_millis(500),
        store.put_stream(stalling_after(&content, 64 * 1024), 20 * MIB),
    )
    .await;
    assert!(cut_short.is_err(), "the upload cannot finish");
    assert!(
        eventually(|| temps(&root).is_empty()).await,
        "the guard removes the temporary file: {:?}",
        temps(&root)
    );
    assert!(blobs(&root).is_empty());

    // Stalling before the first part is complete: nothing was written at all.
    let cut_short = tokio::time::timeout(
        Duration::from_millis(200),
        store.put_stream(stalling_after(&content[..1000], 100), 20 * MIB),
    )
    .await;
    assert!(cut_short.is_err());
    assert!(temps(&root).is_empty());
    assert!(blobs(&root).is_empty());
}

#[tokio::test]
async fn cleanup_temp_removes_crash_leftovers_by_age() {
    let (_dir, store, root) = open();
    let tmp = root.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    // A finished temporary object and a half-written one, as a killed server leaves them.
    std::fs::write(tmp.join("00aa"), b"partial").expect("write");
    std::fs::write(tmp.join("00bb#1"), b"staging").expect("write");
    let blob = store
        .put_stream(chunked(b"kept", 4), MIB)
        .await
        .expect("上传");

    assert_eq!(
        store
            .cleanup_temp(Duration::from_secs(3600))
            .await
            .expect("cleanup"),
        0,
        "fresh files are kept (an upload may be in progress)"
    );
    assert_eq!(temps(&root).len(), 2);
    assert_eq!(
        store.cleanup_temp(Duration::ZERO).await.expect("cleanup"),
        2
    );
    assert!(temps(&root).is_empty());
    assert!(
        store.exists(&blob.sha256).await.expect("exists"),
        "blobs untouched"
    );
}

#[tokio::test]
async fn ranges_for_video_preview() {
    let (_dir, store, _root) = open();
    let content = data(3 * MIB as usize + 17, 9);
    let blob = store
        .put_stream(chunked(&content, 1 << 20), 10 * MIB)
        .await
        .expect("上传");
    let size = content.len() as u64;

    let part = store
        .get_range(&blob.sha256, 1000..600_000)
        .await
        .expect("range");
    assert_eq!(
        (part.size, part.range.clone(), part.len()),
        (size, 1000..600_000, 599_000)
    );
    assert!(part.into_bytes().await.expect("bytes") == content[1000..600_000]);

    // An end beyond the file is cut to its size (`bytes=N-`).
    let tail = store
        .get_range(&blob.sha256, size - 10..u64::MAX)
        .await
        .expect("tail");
    assert_eq!(tail.range, size - 10..size);
    assert_eq!(
        tail.into_bytes().await.expect("bytes"),
        content[content.len() - 10..]
    );

    let (ten, three) = (10, 3);
    for bad in [size..size + 1, 5..5, ten..three] {
        let err = store
            .get_range(&blob.sha256, bad.clone())
            .await
            .expect_err("invalid range");
        assert!(
            matches!(err, FileError::InvalidRange { size: s, .. } if s == size),
            "{bad:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn unknown_and_malformed_identifiers() {
    let (_dir, store, _root) = open();
    let missing = sha256_hex(b"never stored");
    assert!(matches!(
        store.get_stream(&missing).await,
        Err(FileError::NotFound { .. })
    ));
    assert!(matches!(
        store.get_range(&missing, 0..1).await,
        Err(FileError::NotFound { .. })
    ));
    assert!(!store.exists(&missing).await.expect("exists"));
    for bad in ["../../etc/passwd", "", "ABC", &missing.to_uppercase()] {
        assert!(
            matches!(store.get_stream(bad).await, Err(FileError::InvalidHash)),
            "{bad}"
        );
        assert!(matches!(
            store.delete(bad).await,
            Err(FileError::InvalidHash)
        ));
    }
    let err = store.get_stream(&missing).await.expect_err("missing");
    assert!(err.to_string().starts_with("文件不存在"), "{err}");
    // A file the database refers to but the store lacks is the server's problem.
    assert!(!err.is_client_error());
}

#[tokio::test]
async fn delete_and_list() {
    let (_dir, store, root) = open();
    let a = store
        .put_stream(chunked(b"first file", 3), MIB)
        .await
        .expect("a");
    let b = store
        .put_stream(chunked(b"second file", 3), MIB)
        .await
        .expect("b");
    let mut listed: Vec<(String, u64)> = store.list_blobs().try_collect().await.expect("list");
    listed.sort();
    let mut expected = vec![(a.sha256.clone(), a.size), (b.sha256.clone(), b.size)];
    expected.sort();
    assert_eq!(listed, expected);

    store.delete(&a.sha256).await.expect("delete");
    assert!(!store.exists(&a.sha256).await.expect("exists"));
    store
        .delete(&a.sha256)
        .await
        .expect("deleting again is fine");
    assert_eq!(blobs(&root).len(), 1);
}

#[tokio::test]
async fn display_names_the_directory() {
    let (_dir, store, root) = open();
    let shown = store.to_string();
    assert!(shown.starts_with("本地目录 "), "{shown}");
    assert!(
        shown.ends_with(&*root.canonicalize().expect("root").to_string_lossy()),
        "{shown}"
    );
}

#[test]
fn an_unusable_root_is_a_config_error() {
    let dir = TempDir::new().expect("临时目录");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let err = FileStore::local(file.join("files")).expect_err("not a directory");
    assert!(matches!(err, FileError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("无法使用文件目录"), "{err}");
}
