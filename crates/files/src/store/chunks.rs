//! Chunks of a resumable upload (断点续传): each chunk is one object under
//! `uploads/<upload>/`, written whole by one request; the caller records which chunks count
//! (the database, in `fazhi_store::uploads`) and, once they cover the file, streams them in
//! order through [`FileStore::put_stream`], which hashes and stores the assembled file. Nothing
//! here holds more than one chunk in memory.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::{FileStore, StoredBlob, temp_path};
use crate::error::FileError;

const UPLOAD_PREFIX: &str = "uploads";

/// Whether `upload` can name an upload's folder: hex digits only, so it cannot leave it.
fn checked_upload(upload: &str) -> Result<&str, FileError> {
    if !upload.is_empty() && upload.len() <= 64 && upload.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(upload)
    } else {
        Err(FileError::Config(format!("上传标识无效：{upload}")))
    }
}

/// A chunk the caller wants assembled: its object and how many bytes it must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRef {
    pub object_key: String,
    pub len: u64,
}

impl FileStore {
    /// Stores one chunk of `upload` that starts at `offset`; returns its object key. Each call
    /// writes a new object (a random suffix), so two requests sending the same chunk never
    /// overwrite each other's bytes; the one the caller does not count is removed with
    /// [`FileStore::delete_chunk`].
    pub async fn put_chunk(
        &self,
        upload: &str,
        offset: u64,
        bytes: Bytes,
    ) -> Result<String, FileError> {
        let upload = checked_upload(upload)?;
        let suffix = temp_path();
        let name = suffix.filename().unwrap_or("chunk");
        let key = format!("{UPLOAD_PREFIX}/{upload}/{offset:020}-{name}");
        self.store
            .put(&Path::from(key.as_str()), PutPayload::from_bytes(bytes))
            .await?;
        Ok(key)
    }

    /// Removes one chunk object (a duplicate that was not counted).
    pub async fn delete_chunk(&self, object_key: &str) -> Result<(), FileError> {
        let path = checked_chunk_key(object_key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams the chunks in order into the file store as one file (hashing it on the way,
    /// see [`FileStore::put_stream`]). A chunk whose object is missing or has another size
    /// than recorded fails the assembly; nothing is stored then.
    pub async fn put_chunks(
        &self,
        chunks: Vec<ChunkRef>,
        limit: u64,
    ) -> Result<StoredBlob, FileError> {
        let mut paths = Vec::with_capacity(chunks.len());
        for c in &chunks {
            paths.push((checked_chunk_key(&c.object_key)?, c.len));
        }
        let store = Arc::clone(&self.store);
        let bytes = stream::iter(paths)
            .then(move |(path, len)| open_chunk(Arc::clone(&store), path, len))
            .try_flatten()
            .boxed();
        self.put_stream(bytes, limit).await
    }

    /// Removes every chunk object of `upload` (finished, cancelled or expired).
    pub async fn delete_upload(&self, upload: &str) -> Result<usize, FileError> {
        let upload = checked_upload(upload)?;
        let prefix = Path::from(format!("{UPLOAD_PREFIX}/{upload}"));
        let keys: Vec<Path> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await?;
        let mut removed = 0;
        for key in keys {
            match self.store.delete(&key).await {
                Ok(()) => removed += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let super::Backend::Local { root } = &*self.backend {
            // The local store leaves the emptied folder behind.
            let _ = std::fs::remove_dir(root.join(UPLOAD_PREFIX).join(upload));
        }
        Ok(removed)
    }

    /// The uploads that have chunk objects, by name (for removing those whose record is
    /// gone).
    pub async fn list_uploads(&self) -> Result<Vec<String>, FileError> {
        let listing = self
            .store
            .list_with_delimiter(Some(&Path::from(UPLOAD_PREFIX)))
            .await?;
        Ok(listing
            .common_prefixes
            .into_iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .filter(|name| checked_upload(name).is_ok())
            .collect())
    }
}

/// One chunk's bytes, after checking that its object has the recorded size. Boxed so the
/// stream of chunks is `Send` whatever the caller (axum's handlers need that).
fn open_chunk(
    store: Arc<dyn ObjectStore>,
    path: Path,
    len: u64,
) -> BoxFuture<'static, Result<BoxStream<'static, Result<Bytes, FileError>>, FileError>> {
    Box::pin(async move {
        let got = store.get(&path).await?;
        if got.meta.size != len {
            return Err(FileError::Config(format!(
                "上传的分片 {path} 应有 {len} 字节，实有 {} 字节",
                got.meta.size
            )));
        }
        Ok(super::BlobStream::from_result(got).into_stream())
    })
}

fn checked_chunk_key(key: &str) -> Result<Path, FileError> {
    let mut parts = key.split('/');
    let ok = parts.next() == Some(UPLOAD_PREFIX)
        && parts.next().is_some_and(|u| checked_upload(u).is_ok())
        && parts.next().is_some_and(|n| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && parts.next().is_none();
    if ok {
        Ok(Path::from(key))
    } else {
        Err(FileError::Config(format!("上传分片的位置无效：{key}")))
    }
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;
    use sha2::{Digest, Sha256};

    use super::*;

    const UPLOAD: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn store() -> FileStore {
        FileStore::with_object_store(Arc::new(InMemory::new()))
    }

    #[tokio::test]
    async fn chunks_assemble_into_the_file_with_its_hash() {
        let files = store();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut refs = Vec::new();
        let mut offset = 0;
        for piece in data.chunks(1_000_003) {
            let key = files
                .put_chunk(UPLOAD, offset, Bytes::copy_from_slice(piece))
                .await
                .unwrap();
            refs.push(ChunkRef {
                object_key: key,
                len: piece.len() as u64,
            });
            offset += piece.len() as u64;
        }
        // A duplicate chunk that was not counted is not part of the file.
        let dup = files
            .put_chunk(UPLOAD, 0, Bytes::from_static(b"xx"))
            .await
            .unwrap();
        files.delete_chunk(&dup).await.unwrap();
        let stored = files.put_chunks(refs, 10_000_000).await.unwrap();
        assert_eq!(stored.size, data.len() as u64);
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(&data)));
        let back = files
            .get_stream(&stored.sha256)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap();
        assert_eq!(&back[..], &data[..]);
        assert_eq!(
            files.list_uploads().await.unwrap(),
            vec![UPLOAD.to_string()]
        );
        assert_eq!(files.delete_upload(UPLOAD).await.unwrap(), 3);
        assert!(files.list_uploads().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_chunk_of_the_wrong_size_or_gone_fails_the_assembly() {
        let files = store();
        let key = files
            .put_chunk(UPLOAD, 0, Bytes::from_static(b"abc"))
            .await
            .unwrap();
        let wrong = vec![ChunkRef {
            object_key: key.clone(),
            len: 4,
        }];
        assert!(files.put_chunks(wrong, 100).await.is_err());
        files.delete_chunk(&key).await.unwrap();
        let gone = vec![ChunkRef {
            object_key: key,
            len: 3,
        }];
        assert!(files.put_chunks(gone, 100).await.is_err());
        assert!(
            files
                .list_blobs()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_size_limit_holds_for_assembled_files() {
        let files = store();
        let key = files
            .put_chunk(UPLOAD, 0, Bytes::from(vec![7u8; 100]))
            .await
            .unwrap();
        let refs = vec![ChunkRef {
            object_key: key,
            len: 100,
        }];
        assert!(matches!(
            files.put_chunks(refs, 99).await,
            Err(FileError::TooLarge { limit: 99 })
        ));
    }

    #[tokio::test]
    async fn keys_outside_the_upload_folder_are_refused() {
        let files = store();
        for key in [
            "blobs/ab/abcd",
            "uploads/../blobs/x",
            "uploads/zz/0-a",
            "uploads/ab/0-a/b",
        ] {
            assert!(files.delete_chunk(key).await.is_err(), "{key}");
        }
        assert!(files.put_chunk("../x", 0, Bytes::new()).await.is_err());
    }
}
