//! Finished documents kept for download (佐证材料汇编 archives and bound volumes): built in a
//! local working file, then moved into the file store under `results/<name>`, so that on a
//! scaled deployment any instance serves the download, whichever built it. On the local store
//! the file is renamed into place (no copy); on S3 it is streamed up as a multipart upload, a
//! few parts in memory at a time, and appears only once complete.

use std::ops::Range;
use std::path::Path as FsPath;

use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStoreExt};

use super::{Backend, BlobStream, FileStore, file_stream};
use crate::error::FileError;

const RESULT_PREFIX: &str = "results";

/// Longest result name.
const MAX_NAME_LEN: usize = 100;

/// `results/<name>`, for a name of ASCII letters, digits, `.`, `-` and `_` that does not
/// start with a dot.
fn result_path(name: &str) -> Result<Path, FileError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(Path::from(format!("{RESULT_PREFIX}/{name}")))
    } else {
        Err(FileError::Config(format!("结果文件名无效：{name}")))
    }
}

fn missing(name: &str) -> FileError {
    FileError::NotFound {
        sha256: name.to_string(),
    }
}

impl FileStore {
    /// Moves the finished local file `local` into the store as result `name` (replacing one
    /// of that name) and returns its size. `local` is gone afterwards.
    pub async fn keep_result(&self, name: &str, local: &FsPath) -> Result<u64, FileError> {
        let path = result_path(name)?;
        let size = tokio::fs::metadata(local).await?.len();
        if let Backend::Local { root } = &*self.backend {
            let dest = root.join(RESULT_PREFIX).join(name);
            let dir = root.join(RESULT_PREFIX);
            let (local, moved) = (local.to_path_buf(), dest.clone());
            let renamed = tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&dir)?;
                // The content must be on disk before the name says it is there.
                std::fs::File::open(&local)?.sync_all()?;
                std::fs::rename(&local, &moved)?;
                std::fs::File::open(&dir)?.sync_all()
            })
            .await
            .map_err(std::io::Error::other)?;
            match renamed {
                Ok(()) => return Ok(size),
                // Another file system: copy below.
                Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.upload_file(&path, local).await?;
        if let Err(e) = tokio::fs::remove_file(local).await {
            tracing::warn!(path = %local.display(), error = %e, "无法删除已上传的本地文件");
        }
        Ok(size)
    }

    async fn upload_file(&self, path: &Path, local: &FsPath) -> Result<(), FileError> {
        let file = std::fs::File::open(local)?;
        let len = file.metadata()?.len();
        self.write_multipart(path, file_stream(file, 0..len)).await
    }

    /// The size of result `name`; `None` when it is not (or no longer) there.
    pub async fn result_size(&self, name: &str) -> Result<Option<u64>, FileError> {
        match self.store.head(&result_path(name)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams the bytes `range` of result `name` (whole downloads and resumed ones).
    pub async fn get_result_range(
        &self,
        name: &str,
        range: Range<u64>,
    ) -> Result<BlobStream, FileError> {
        let path = result_path(name)?;
        if range.start >= range.end {
            return Err(FileError::InvalidRange {
                start: range.start,
                end: range.end,
                size: 0,
            });
        }
        let options = GetOptions::new().with_range(Some(GetRange::Bounded(range)));
        match self.store.get_opts(&path, options).await {
            Ok(result) => Ok(BlobStream::from_result(result)),
            Err(object_store::Error::NotFound { .. }) => Err(missing(name)),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes result `name`; one that is not there is not an error.
    pub async fn delete_result(&self, name: &str) -> Result<(), FileError> {
        match self.store.delete(&result_path(name)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use object_store::memory::InMemory;

    use super::super::PART_SIZE;
    use super::*;

    #[test]
    fn names_stay_inside_results() {
        assert!(result_path("package-12-1.zip").is_ok());
        for bad in ["", "../x", ".hidden", "a/b", "材料.zip", &"a".repeat(101)] {
            assert!(result_path(bad).is_err(), "{bad}");
        }
    }

    async fn round_trip(files: FileStore, dir: &FsPath) {
        let content: Vec<u8> = (0..(PART_SIZE * 2 + 17)).map(|i| (i % 251) as u8).collect();
        let local = dir.join("package.part");
        std::fs::write(&local, &content).unwrap();
        assert_eq!(
            files.keep_result("package-1-1.zip", &local).await.unwrap(),
            content.len() as u64
        );
        assert!(!local.exists(), "the working file is moved");
        assert_eq!(
            files.result_size("package-1-1.zip").await.unwrap(),
            Some(content.len() as u64)
        );
        let middle = files
            .get_result_range("package-1-1.zip", 10..PART_SIZE as u64 + 20)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap();
        assert_eq!(&middle[..], &content[10..PART_SIZE + 20]);
        let whole = files
            .get_result_range("package-1-1.zip", 0..content.len() as u64)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap();
        assert!(whole[..] == content[..]);
        files.delete_result("package-1-1.zip").await.unwrap();
        files.delete_result("package-1-1.zip").await.unwrap();
        assert_eq!(files.result_size("package-1-1.zip").await.unwrap(), None);
        assert!(matches!(
            files.get_result_range("package-1-1.zip", 0..1).await,
            Err(FileError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn a_result_is_kept_read_in_ranges_and_deleted_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        round_trip(
            FileStore::with_object_store(Arc::new(InMemory::new())),
            dir.path(),
        )
        .await;
    }

    #[tokio::test]
    async fn a_result_is_renamed_into_the_local_store() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileStore::local(dir.path().join("files")).unwrap();
        round_trip(files, dir.path()).await;
    }
}
