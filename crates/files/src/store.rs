//! The content-addressed file store.

use std::error::Error as StdError;
use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, GetResult, GetResultPayload, ObjectStore, ObjectStoreExt, PutPayload,
    WriteMultipart,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::FileError;
use crate::sniff::Sniffer;
use crate::{FileStoreConfig, MIB};

mod chunks;
mod previews;
mod results;
pub use chunks::ChunkRef;

/// Size of one part of a streamed upload. S3 wants at least 5 MiB per part (but the last) and
/// at most 10 000 parts, so uploads up to 48 GiB fit.
const PART_SIZE: usize = 5 * 1024 * 1024;

/// Parts being written while the next one fills. Together these bound the memory an upload
/// holds to about `(MAX_PARTS_IN_FLIGHT + 1) * PART_SIZE`, whatever the file size.
const MAX_PARTS_IN_FLIGHT: usize = 2;

/// Chunk size when streaming a local file out.
const READ_CHUNK: usize = 256 * 1024;

/// Largest object copied inside the object store when an upload is moved to its content
/// address. Aliyun OSS copies at most 1 GB in one request (Huawei OBS and Tencent COS 5 GB);
/// larger objects are streamed through this process into a multipart upload instead, in
/// constant memory. Kept under 10^9 bytes so that "1 GB" holds in either reading.
pub const SERVER_COPY_LIMIT: u64 = 900 * MIB;

const TEMP_PREFIX: &str = "tmp";
const BLOB_PREFIX: &str = "blobs";

/// A file just stored by [`FileStore::put_stream`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredBlob {
    /// SHA-256 of the content, 64 lowercase hex digits: the file's identifier.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type sniffed from the first bytes ([`crate::sniff`]).
    pub content_type: &'static str,
    /// The same content was already stored; nothing new was kept.
    pub deduplicated: bool,
}

/// A stored file being read: a stream of its bytes (all of them, or a range), plus the sizes an
/// HTTP response needs (`Content-Length`, `Content-Range`).
pub struct BlobStream {
    /// Size of the whole file.
    pub size: u64,
    /// The bytes this stream yields.
    pub range: Range<u64>,
    stream: BoxStream<'static, Result<Bytes, FileError>>,
}

impl BlobStream {
    /// Number of bytes the stream yields.
    pub fn len(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// Whether the stream yields no bytes (an empty file).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stream of bytes.
    pub fn into_stream(self) -> BoxStream<'static, Result<Bytes, FileError>> {
        self.stream
    }

    /// Reads everything into memory: for small files and tests only.
    pub async fn into_bytes(self) -> Result<Bytes, FileError> {
        let mut out = Vec::with_capacity(usize::try_from(self.len()).unwrap_or(0));
        let mut s = self.stream;
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.into())
    }

    fn from_result(result: GetResult) -> Self {
        let size = result.meta.size;
        let range = result.range.clone();
        let stream = match result.payload {
            GetResultPayload::File(file, _) => file_stream(file, range.clone()),
            GetResultPayload::Stream(s) => s.map_err(FileError::from).boxed(),
        };
        Self {
            size,
            range,
            stream,
        }
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes, FileError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.poll_next_unpin(cx)
    }
}

impl fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStream")
            .field("size", &self.size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// Where the objects live, for messages and the local clean-up.
#[derive(Debug)]
enum Backend {
    Local {
        root: PathBuf,
    },
    #[cfg_attr(not(feature = "s3"), expect(dead_code))]
    S3 {
        bucket: String,
        endpoint: Option<String>,
    },
    Other(String),
}

/// The file store: content-addressed objects on the local disk or an S3-compatible store.
/// Cloning is cheap (two `Arc`s).
///
/// Layout: `blobs/<first 2 hex>/<sha256 hex>` for files, `tmp/<random>` for uploads in
/// progress.
#[derive(Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    backend: Arc<Backend>,
    /// See [`SERVER_COPY_LIMIT`].
    server_copy_limit: u64,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.backend {
            Backend::Local { root } => write!(f, "本地目录 {}", root.display()),
            Backend::S3 {
                bucket,
                endpoint: Some(endpoint),
            } => write!(f, "S3 存储桶 {bucket}（{endpoint}）"),
            Backend::S3 {
                bucket,
                endpoint: None,
            } => write!(f, "S3 存储桶 {bucket}"),
            Backend::Other(name) => write!(f, "{name}"),
        }
    }
}

impl FileStore {
    /// Opens the store the configuration describes. A local root is created if missing; an
    /// S3 bucket must exist (nothing is contacted here).
    pub fn new(config: &FileStoreConfig) -> Result<Self, FileError> {
        match config {
            FileStoreConfig::Local { root } => Self::local(root),
            FileStoreConfig::S3 { .. } => s3::open(config),
        }
    }

    /// A store in a local directory, created if missing. Writes are fsynced: evidence must
    /// survive a power cut once the upload has been acknowledged.
    pub fn local(root: impl AsRef<std::path::Path>) -> Result<Self, FileError> {
        let root = root.as_ref();
        let cannot = |e: &dyn fmt::Display| {
            FileError::Config(format!("无法使用文件目录 {}：{e}", root.display()))
        };
        std::fs::create_dir_all(root).map_err(|e| cannot(&e))?;
        let root = root.canonicalize().map_err(|e| cannot(&e))?;
        let fs = LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| cannot(&e))?
            .with_fsync(true);
        Ok(Self {
            store: Arc::new(fs),
            backend: Arc::new(Backend::Local { root }),
            server_copy_limit: SERVER_COPY_LIMIT,
        })
    }

    /// A store over any [`ObjectStore`] (e.g. `object_store::memory::InMemory` in tests).
    pub fn with_object_store(store: Arc<dyn ObjectStore>) -> Self {
        let name = store.to_string();
        Self {
            store,
            backend: Arc::new(Backend::Other(name)),
            server_copy_limit: SERVER_COPY_LIMIT,
        }
    }

    /// The same store, copying objects inside the store only up to `bytes` (default
    /// [`SERVER_COPY_LIMIT`]); for a store with a lower copy limit, and for tests.
    pub fn with_server_copy_limit(mut self, bytes: u64) -> Self {
        self.server_copy_limit = bytes;
        self
    }

    /// The object store underneath, for administrative tools.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Stores a stream of bytes under its SHA-256 and returns what was stored.
    ///
    /// - The stream is consumed chunk by chunk and written as it comes (in parts of 5 MiB, at
    ///   most two being written at a time), so memory stays around 15 MiB per upload whatever
    ///   the file size; the SHA-256 and the content type are computed on the way.
    /// - The data goes to `tmp/<random>` first, and is moved to its content address only once
    ///   complete. If the content is already stored, the temporary object is deleted and
    ///   `deduplicated` is true.
    /// - More than `limit` bytes: [`FileError::TooLarge`]; a failing stream:
    ///   [`FileError::Upload`]. In both cases, and on any store error, the temporary object is
    ///   removed before the error is returned.
    /// - If this future is dropped before it completes (client gone), a guard removes the
    ///   temporary object in the background; what a crash leaves behind is removed by
    ///   [`FileStore::cleanup_temp`]. Nothing ever appears at a content address but complete
    ///   content.
    pub async fn put_stream<S, E>(&self, stream: S, limit: u64) -> Result<StoredBlob, FileError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let mut temp = TempObject {
            store: Arc::clone(&self.store),
            path: temp_path(),
            writer: None,
            armed: false,
        };
        let result = self.put_to_temp_then_commit(stream, limit, &mut temp).await;
        if result.is_err() {
            temp.discard().await;
        }
        result
    }

    async fn put_to_temp_then_commit<S, E>(
        &self,
        stream: S,
        limit: u64,
        temp: &mut TempObject,
    ) -> Result<StoredBlob, FileError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let mut stream = std::pin::pin!(stream);
        let mut hasher = Sha256::new();
        let mut sniffer = Sniffer::default();
        let mut size: u64 = 0;
        // Until a whole part has arrived the upload may still fit in one PUT.
        let mut first_part: Vec<Bytes> = Vec::new();
        let mut first_part_len = 0usize;

        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FileError::Upload(e.into()))?;
            if chunk.is_empty() {
                continue;
            }
            size += chunk.len() as u64;
            if size > limit {
                return Err(FileError::TooLarge { limit });
            }
            hasher.update(&chunk);
            sniffer.feed(&chunk);
            if let Some(writer) = temp.writer.as_mut() {
                writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await?;
                writer.put(chunk);
            } else {
                first_part_len += chunk.len();
                first_part.push(chunk);
                if first_part_len >= PART_SIZE {
                    temp.armed = true;
                    let upload = self.store.put_multipart(&temp.path).await?;
                    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
                    for chunk in first_part.drain(..) {
                        writer.put(chunk);
                    }
                    temp.writer = Some(writer);
                }
            }
        }

        temp.armed = true;
        match temp.writer.take() {
            // `finish` aborts the multipart upload itself if it fails.
            Some(writer) => drop(writer.finish().await?),
            None => {
                let payload: PutPayload = first_part.into_iter().collect();
                self.store.put(&temp.path, payload).await?;
            }
        }

        let sha256 = hex::encode(hasher.finalize());
        let deduplicated = self.commit(&temp.path, &blob_path(&sha256), size).await?;
        temp.armed = false;
        Ok(StoredBlob {
            sha256,
            size,
            content_type: sniffer.finish(),
            deduplicated,
        })
    }

    /// Moves a complete temporary object to its content address; true if the content was
    /// already there. Both ways (rename, copy) are atomic, so the content address only ever
    /// holds complete content; as the address is the content's hash, overwriting it in a race
    /// writes the same bytes.
    async fn commit(&self, temp: &Path, dest: &Path, size: u64) -> Result<bool, FileError> {
        use object_store::Error as E;
        match self.store.rename_if_not_exists(temp, dest).await {
            Ok(()) => Ok(false),
            Err(E::AlreadyExists { .. }) => {
                self.remove_temp_quietly(temp).await;
                Ok(true)
            }
            // S3 has no copy-if-not-exists (without store-specific headers): look, then copy.
            Err(E::NotSupported { .. } | E::NotImplemented { .. }) => {
                match self.store.head(dest).await {
                    Ok(_) => {
                        self.remove_temp_quietly(temp).await;
                        Ok(true)
                    }
                    Err(E::NotFound { .. }) => {
                        if size > self.server_copy_limit {
                            self.copy_through(temp, dest).await?;
                        } else {
                            self.store.copy(temp, dest).await?;
                        }
                        self.remove_temp_quietly(temp).await;
                        Ok(false)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Copies an object too large for the store's own copy by reading it and writing it
    /// again as a multipart upload, a few parts in memory at a time. The object appears at
    /// `dest` only when the upload completes (a failure aborts it).
    async fn copy_through(&self, from: &Path, dest: &Path) -> Result<(), FileError> {
        let source = self
            .store
            .get(from)
            .await?
            .into_stream()
            .map_err(FileError::from)
            .boxed();
        self.write_multipart(dest, source).await
    }

    /// Writes `source` to `dest` as a multipart upload, at most [`MAX_PARTS_IN_FLIGHT`]
    /// parts being sent while the next fills; any error aborts the upload, so nothing
    /// appears at `dest` but complete content.
    async fn write_multipart(
        &self,
        dest: &Path,
        mut source: BoxStream<'static, Result<Bytes, FileError>>,
    ) -> Result<(), FileError> {
        let upload = self.store.put_multipart(dest).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        while let Some(chunk) = source.next().await {
            let ready = match chunk {
                Ok(chunk) => writer
                    .wait_for_capacity(MAX_PARTS_IN_FLIGHT)
                    .await
                    .map(|()| chunk)
                    .map_err(FileError::from),
                Err(e) => Err(e),
            };
            match ready {
                Ok(chunk) => writer.put(chunk),
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            }
        }
        writer.finish().await?;
        Ok(())
    }

    /// After a successful commit a leftover temporary object is only clutter: log it, and
    /// leave it to [`FileStore::cleanup_temp`].
    async fn remove_temp_quietly(&self, temp: &Path) {
        match self.store.delete(temp).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(path = %temp, error = %e, "删除临时文件失败，留待启动时清理"),
        }
    }

    /// Streams a stored file.
    pub async fn get_stream(&self, sha256: &str) -> Result<BlobStream, FileError> {
        let path = checked_blob_path(sha256)?;
        let result = self
            .store
            .get(&path)
            .await
            .map_err(|e| not_found(e, sha256))?;
        Ok(BlobStream::from_result(result))
    }

    /// Streams the bytes `range` of a stored file (for HTTP range requests: video preview,
    /// resumed downloads). An end beyond the file is cut to its size; a range that is empty
    /// or starts at or after the end is [`FileError::InvalidRange`].
    pub async fn get_range(
        &self,
        sha256: &str,
        range: Range<u64>,
    ) -> Result<BlobStream, FileError> {
        let path = checked_blob_path(sha256)?;
        let size = self
            .store
            .head(&path)
            .await
            .map_err(|e| not_found(e, sha256))?
            .size;
        if range.start >= range.end || range.start >= size {
            return Err(FileError::InvalidRange {
                start: range.start,
                end: range.end,
                size,
            });
        }
        let options =
            GetOptions::new().with_range(Some(GetRange::Bounded(range.start..range.end.min(size))));
        let result = self
            .store
            .get_opts(&path, options)
            .await
            .map_err(|e| not_found(e, sha256))?;
        Ok(BlobStream::from_result(result))
    }

    /// Whether the store answers: a look-up of an object that is not there comes back
    /// "not found" (reachable) rather than with another error.
    pub async fn ping(&self) -> Result<(), FileError> {
        match self.store.head(&Path::from("healthz")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a file with this SHA-256 is stored.
    pub async fn exists(&self, sha256: &str) -> Result<bool, FileError> {
        let path = checked_blob_path(sha256)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The size of a stored file.
    pub async fn size(&self, sha256: &str) -> Result<u64, FileError> {
        let path = checked_blob_path(sha256)?;
        let meta = self
            .store
            .head(&path)
            .await
            .map_err(|e| not_found(e, sha256))?;
        Ok(meta.size)
    }

    /// Deletes a stored file. Deleting a file that is not there is not an error. The caller
    /// must know that no record refers to the content any more (identical uploads share it).
    pub async fn delete(&self, sha256: &str) -> Result<(), FileError> {
        let path = checked_blob_path(sha256)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every stored file as `(sha256, size)`, in no particular order (for consistency checks
    /// and garbage collection against the database).
    pub fn list_blobs(&self) -> BoxStream<'static, Result<(String, u64), FileError>> {
        self.store
            .list(Some(&Path::from(BLOB_PREFIX)))
            .try_filter_map(|meta| async move {
                let name = meta.location.filename().unwrap_or_default();
                Ok(is_sha256_hex(name).then(|| (name.to_string(), meta.size)))
            })
            .map_err(FileError::from)
            .boxed()
    }

    /// Every stored file as `(sha256, last modified)`, for garbage collection by age.
    pub fn list_blob_ages(
        &self,
    ) -> BoxStream<'static, Result<(String, chrono::DateTime<chrono::Utc>), FileError>> {
        self.store
            .list(Some(&Path::from(BLOB_PREFIX)))
            .try_filter_map(|meta| async move {
                let name = meta.location.filename().unwrap_or_default();
                Ok(is_sha256_hex(name).then(|| (name.to_string(), meta.last_modified)))
            })
            .map_err(FileError::from)
            .boxed()
    }

    /// Removes temporary objects older than `older_than` (uploads cut short by a crash or a
    /// lost clean-up) and returns how many went. The server calls this at start; with several
    /// servers on one bucket, pass an age longer than any upload takes.
    ///
    /// On S3 an interrupted multipart upload leaves invisible parts that this cannot list:
    /// give the bucket a lifecycle rule "abort incomplete multipart uploads after 1 day".
    pub async fn cleanup_temp(&self, older_than: Duration) -> Result<usize, FileError> {
        if let Backend::Local { root } = &*self.backend {
            // The local store hides its half-written `…#n` files from listings: look at the
            // directory itself.
            let dir = root.join(TEMP_PREFIX);
            return tokio::task::spawn_blocking(move || remove_old_files(&dir, older_than))
                .await
                .map_err(|e| FileError::Io(std::io::Error::other(e)))?;
        }
        let Ok(age) = chrono::TimeDelta::from_std(older_than) else {
            return Ok(0);
        };
        let cutoff = chrono::Utc::now() - age;
        let old: Vec<Path> = self
            .store
            .list(Some(&Path::from(TEMP_PREFIX)))
            .try_filter_map(|meta| async move {
                Ok((meta.last_modified <= cutoff).then_some(meta.location))
            })
            .try_collect()
            .await?;
        let mut removed = 0;
        for path in old {
            match self.store.delete(&path).await {
                Ok(()) => removed += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(removed)
    }
}

/// Removes the files in `dir` last modified at least `older_than` ago.
fn remove_old_files(dir: &std::path::Path, older_than: Duration) -> Result<usize, FileError> {
    let Some(cutoff) = SystemTime::now().checked_sub(older_than) else {
        return Ok(0);
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        if !meta.is_file() || meta.modified()? > cutoff {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(removed)
}

/// The temporary object of one upload, removed unless the upload commits.
struct TempObject {
    store: Arc<dyn ObjectStore>,
    path: Path,
    /// The multipart upload in progress, if the data did not fit in one part.
    writer: Option<WriteMultipart>,
    /// Something may exist at `path` (or a multipart upload for it).
    armed: bool,
}

impl TempObject {
    /// Removes the temporary object now (on an error, before it is returned).
    async fn discard(&mut self) {
        if self.armed {
            remove_temp(
                Arc::clone(&self.store),
                self.path.clone(),
                self.writer.take(),
            )
            .await;
            self.armed = false;
        }
    }
}

impl Drop for TempObject {
    /// The upload future was dropped midway (client disconnect, request timeout, shutdown):
    /// remove the temporary object in the background.
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let store = Arc::clone(&self.store);
        let path = self.path.clone();
        let writer = self.writer.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(remove_temp(store, path, writer))),
            Err(_) => tracing::warn!(%path, "上传中断且无运行时可清理临时文件，留待启动时清理"),
        }
    }
}

async fn remove_temp(store: Arc<dyn ObjectStore>, path: Path, writer: Option<WriteMultipart>) {
    if let Some(writer) = writer
        && let Err(e) = writer.abort().await
    {
        tracing::warn!(%path, error = %e, "中止分片上传失败");
    }
    match store.delete(&path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => tracing::warn!(%path, error = %e, "删除临时文件失败，留待启动时清理"),
    }
}

/// A fresh, unguessable temporary key: `tmp/<16 hex random><8 hex counter>`.
fn temp_path() -> Path {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // `RandomState` is seeded from the OS, per process, and differs for each instance.
    let mut h = RandomState::new().build_hasher();
    h.write_u64(n);
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    Path::from(format!(
        "{TEMP_PREFIX}/{:016x}{:08x}",
        h.finish(),
        n & 0xFFFF_FFFF
    ))
}

/// Whether `s` is a SHA-256 as this store writes it: 64 lowercase hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn blob_path(sha256: &str) -> Path {
    Path::from(blob_key(sha256))
}

/// Where the file with this SHA-256 is kept, relative to the store's root (or bucket):
/// `blobs/<first 2 hex>/<sha256 hex>`. For tools that copy a local store's files.
pub fn blob_key(sha256: &str) -> String {
    format!("{BLOB_PREFIX}/{}/{sha256}", &sha256[..2])
}

/// The size and SHA-256 (lowercase hex) of a local file, read in chunks: to check a copied
/// file (a backup's, a restored one) against its content address.
pub fn sha256_of_file(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

fn checked_blob_path(sha256: &str) -> Result<Path, FileError> {
    if is_sha256_hex(sha256) {
        Ok(blob_path(sha256))
    } else {
        Err(FileError::InvalidHash)
    }
}

fn not_found(e: object_store::Error, sha256: &str) -> FileError {
    match e {
        object_store::Error::NotFound { .. } => FileError::NotFound {
            sha256: sha256.to_string(),
        },
        e => e.into(),
    }
}

/// Reads `range` of a local file in chunks of [`READ_CHUNK`] on the blocking pool
/// (object_store's own reader uses 8 KiB chunks, slow for videos).
fn file_stream(
    file: std::fs::File,
    range: Range<u64>,
) -> BoxStream<'static, Result<Bytes, FileError>> {
    stream::try_unfold(
        (file, range.start, range.end),
        |(mut file, pos, end)| async move {
            if pos >= end {
                return Ok(None);
            }
            let len = usize::try_from(end - pos).map_or(READ_CHUNK, |n| n.min(READ_CHUNK));
            let (file, buf) = tokio::task::spawn_blocking(move || {
                file.seek(SeekFrom::Start(pos))?;
                let mut buf = vec![0; len];
                file.read_exact(&mut buf)?;
                Ok::<_, std::io::Error>((file, buf))
            })
            .await
            .map_err(std::io::Error::other)??;
            Ok(Some((Bytes::from(buf), (file, pos + len as u64, end))))
        },
    )
    .boxed()
}

#[cfg(feature = "s3")]
mod s3 {
    use std::sync::Arc;
    use std::time::Duration;

    use object_store::aws::AmazonS3Builder;
    use object_store::{Certificate, ClientOptions};

    use super::{Backend, FileStore};
    use crate::{FileError, FileStoreConfig};

    pub(super) fn open(config: &FileStoreConfig) -> Result<FileStore, FileError> {
        let FileStoreConfig::S3 {
            bucket,
            endpoint,
            region,
            access_key,
            secret_key,
            allow_http,
            virtual_hosted_style,
            ca_cert,
        } = config
        else {
            return Err(FileError::Config("不是 S3 配置".into()));
        };
        let endpoint = endpoint.as_deref().map(str::trim).filter(|e| !e.is_empty());
        if bucket.trim().is_empty() {
            return Err(FileError::Config("S3 存储桶名称（bucket）不能为空".into()));
        }
        if access_key.is_empty() || secret_key.is_empty() {
            return Err(FileError::Config(
                "S3 需要访问密钥（access_key 与 secret_key）".into(),
            ));
        }
        if let Some(endpoint) = endpoint {
            if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
                return Err(FileError::Config(format!(
                    "S3 端点应以 https:// 或 http:// 开头：{endpoint}"
                )));
            }
            if endpoint.starts_with("http://") && !allow_http {
                return Err(FileError::Config(format!(
                    "S3 端点 {endpoint} 使用不加密的 http://，须同时设置 allow_http = true"
                )));
            }
        }
        // reqwest is built without a default crypto provider (see Cargo.toml): use ring, which
        // the workspace has anyway. Fails harmlessly if a provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let mut client = ClientOptions::new()
            .with_allow_http(*allow_http)
            .with_connect_timeout(Duration::from_secs(10))
            // No limit on a whole request: a GiB video streams out to a slow browser for
            // minutes. A connection that stalls for a minute fails instead.
            .with_timeout_disabled()
            .with_read_timeout(Duration::from_secs(60));
        if let Some(ca_cert) = ca_cert {
            let cannot = |e: &dyn std::fmt::Display| {
                FileError::Config(format!("无法读取 CA 证书 {}：{e}", ca_cert.display()))
            };
            let pem = std::fs::read(ca_cert).map_err(|e| cannot(&e))?;
            let certs = Certificate::from_pem_bundle(&pem).map_err(|e| cannot(&e))?;
            if certs.is_empty() {
                return Err(cannot(&"文件中没有 PEM 证书"));
            }
            for cert in certs {
                client = client.with_root_certificate(cert);
            }
        }
        let region = if region.trim().is_empty() {
            "us-east-1"
        } else {
            region.trim()
        };
        let mut builder = AmazonS3Builder::new()
            .with_client_options(client)
            .with_bucket_name(bucket.trim())
            .with_region(region)
            .with_access_key_id(access_key)
            .with_secret_access_key(secret_key)
            .with_allow_http(*allow_http)
            .with_virtual_hosted_style_request(*virtual_hosted_style);
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let store = builder
            .build()
            .map_err(|e| FileError::Config(format!("S3 配置无效：{e}")))?;
        Ok(FileStore {
            store: Arc::new(store),
            backend: Arc::new(Backend::S3 {
                bucket: bucket.trim().to_string(),
                endpoint: endpoint.map(str::to_string),
            }),
            server_copy_limit: super::SERVER_COPY_LIMIT,
        })
    }
}

#[cfg(not(feature = "s3"))]
mod s3 {
    use super::FileStore;
    use crate::{FileError, FileStoreConfig};

    pub(super) fn open(_: &FileStoreConfig) -> Result<FileStore, FileError> {
        Err(FileError::Config(
            "此版本编译时未启用 S3 支持（fazhi-files 的 s3 特性）".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_layout_and_hash_check() {
        let sha = "ab".repeat(32);
        assert_eq!(blob_path(&sha).as_ref(), format!("blobs/ab/{sha}"));
        assert!(is_sha256_hex(&sha));
        assert!(!is_sha256_hex(&sha.to_uppercase()));
        assert!(!is_sha256_hex("../../etc/passwd"));
        assert!(!is_sha256_hex(&"a".repeat(63)));
        assert!(matches!(
            checked_blob_path("x/../y"),
            Err(FileError::InvalidHash)
        ));
    }

    #[test]
    fn temp_paths_are_distinct() {
        let a = temp_path();
        let b = temp_path();
        assert_ne!(a, b);
        assert!(a.as_ref().starts_with("tmp/"));
        assert_eq!(a.as_ref().len(), "tmp/".len() + 24);
    }
}
