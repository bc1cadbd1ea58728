//! The store over an in-memory object store: the backend-neutral code path (no local
//! directory tricks) behaves like the local one.

use std::sync::Arc;

use fazhi_files::{FileError, FileStore, MIB};
use futures_util::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::common::*;

async fn keys(store: &Arc<dyn ObjectStore>) -> Vec<String> {
    let mut keys: Vec<String> = store
        .list(None)
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .expect("list");
    keys.sort();
    keys
}

#[tokio::test]
async fn round_trip_dedup_and_failures_in_memory() {
    let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let store = FileStore::with_object_store(Arc::clone(&inner));

    let content = data(11 * MIB as usize, 21);
    let blob = store
        .put_stream(chunked(&content, 100_000), 20 * MIB)
        .await
        .expect("上传");
    assert_eq!(blob.sha256, sha256_hex(&content));
    let again = store
        .put_stream(chunked(&content, 77_777), 20 * MIB)
        .await
        .expect("再次上传");
    assert!(again.deduplicated);
    assert_eq!(
        keys(&inner).await,
        vec![format!("blobs/{}/{}", &blob.sha256[..2], blob.sha256)]
    );

    let err = store
        .put_stream(chunked(&content, 100_000), 6 * MIB)
        .await
        .expect_err("too large");
    assert!(matches!(err, FileError::TooLarge { .. }));
    let err = store
        .put_stream(
            failing_after(&content[..7 * MIB as usize], 100_000),
            20 * MIB,
        )
        .await
        .expect_err("failing stream");
    assert!(matches!(err, FileError::Upload(_)));
    assert_eq!(keys(&inner).await.len(), 1, "{:?}", keys(&inner).await);

    // A leftover temporary object (a crash) goes with cleanup_temp.
    inner
        .put(&Path::from("tmp/leftover"), b"x".to_vec().into())
        .await
        .expect("put");
    assert_eq!(
        store
            .cleanup_temp(std::time::Duration::ZERO)
            .await
            .expect("cleanup"),
        1
    );
    assert_eq!(keys(&inner).await.len(), 1);
    assert!(
        store
            .get_range(&blob.sha256, 5..10)
            .await
            .expect("range")
            .into_bytes()
            .await
            .expect("bytes")
            == content[5..10]
    );
}

/// An in-memory store whose copy into `blobs/` never finishes: an upload dropped there has a
/// complete temporary object that only the drop guard can remove.
#[derive(Debug, Default)]
struct StallingCommit {
    inner: InMemory,
}

impl std::fmt::Display for StallingCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StallingCommit")
    }
}

#[async_trait::async_trait]
impl ObjectStore for StallingCommit {
    async fn put_opts(
        &self,
        location: &Path,
        payload: object_store::PutPayload,
        opts: object_store::PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: futures_util::stream::BoxStream<'static, object_store::Result<Path>>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&Path>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
    {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&Path>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        if to.as_ref().starts_with("blobs/") {
            std::future::pending::<()>().await;
        }
        self.inner.copy_opts(from, to, options).await
    }
}

#[tokio::test]
async fn the_drop_guard_removes_a_complete_temporary_object() {
    let inner: Arc<dyn ObjectStore> = Arc::new(StallingCommit::default());
    let store = FileStore::with_object_store(Arc::clone(&inner));
    for len in [1000, 6 * MIB as usize] {
        let content = data(len, 22);
        let cut_short = tokio::time::timeout(
            std::time::Duration::from_millis(300),
            store.put_stream(chunked(&content, 64 * 1024), 10 * MIB),
        )
        .await;
        assert!(cut_short.is_err(), "the commit never finishes");
        let mut gone = false;
        for _ in 0..100 {
            if keys(&inner).await.is_empty() {
                gone = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(gone, "left behind: {:?}", keys(&inner).await);
    }
}
