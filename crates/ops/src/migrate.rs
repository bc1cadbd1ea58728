//! The files of a county into another file store (`fazhi migrate-data --files-to`).

use fazhi_files::FileStore;
use futures_util::TryStreamExt;

use crate::OpsResult;

/// What [`copy_files`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCopy {
    /// Files in the source.
    pub files: usize,
    /// Copied now.
    pub copied: usize,
    /// Already in the target with the same size.
    pub present: usize,
    /// Files whose copy did not come out with their SHA-256 and size.
    pub mismatched: Vec<String>,
}

/// Copies every file of `from` into `to` (streamed, each checked by the SHA-256 the target
/// computes and by size); files already in the target with the same size are left.
pub async fn copy_files(from: &FileStore, to: &FileStore) -> OpsResult<FileCopy> {
    let blobs: Vec<(String, u64)> = from.list_blobs().try_collect().await?;
    let mut out = FileCopy {
        files: blobs.len(),
        ..FileCopy::default()
    };
    for (sha, size) in &blobs {
        if to.exists(sha).await? && to.size(sha).await? == *size {
            out.present += 1;
            continue;
        }
        let stream = from.get_stream(sha).await?;
        let stored = to.put_stream(stream, u64::MAX).await?;
        if stored.sha256 != *sha || stored.size != *size {
            out.mismatched.push(sha.clone());
            continue;
        }
        out.copied += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_copied_once_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let from = FileStore::local(dir.path().join("a")).unwrap();
        let to = FileStore::local(dir.path().join("b")).unwrap();
        for content in [&b"one"[..], &b"two"[..]] {
            let chunk: Result<bytes::Bytes, std::io::Error> =
                Ok(bytes::Bytes::copy_from_slice(content));
            from.put_stream(futures_util::stream::iter([chunk]), 100)
                .await
                .unwrap();
        }
        let first = copy_files(&from, &to).await.unwrap();
        assert_eq!((first.files, first.copied, first.present), (2, 2, 0));
        assert!(first.mismatched.is_empty());
        let again = copy_files(&from, &to).await.unwrap();
        assert_eq!((again.copied, again.present), (0, 2));
    }
}
