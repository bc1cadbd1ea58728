//! Import previews: the uploaded 责任分工表 kept between "上传并预览" and "确认导入", in the
//! file store (`previews/<token>` and its name in `previews/<token>.name`), so that the
//! confirmation may reach any instance of a scaled deployment. Small files (the import
//! limit), read whole.

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

use super::FileStore;
use crate::error::FileError;

const PREVIEW_PREFIX: &str = "previews";

fn checked(token: &str) -> Result<&str, FileError> {
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(token)
    } else {
        Err(FileError::Config("导入编号无效".into()))
    }
}

fn paths(token: &str) -> Result<(Path, Path), FileError> {
    let t = checked(token)?;
    Ok((
        Path::from(format!("{PREVIEW_PREFIX}/{t}")),
        Path::from(format!("{PREVIEW_PREFIX}/{t}.name")),
    ))
}

impl FileStore {
    /// Keeps an uploaded import file until it is confirmed or expires.
    pub async fn put_preview(
        &self,
        token: &str,
        file_name: &str,
        bytes: Bytes,
    ) -> Result<(), FileError> {
        let (data, name) = paths(token)?;
        self.store.put(&data, PutPayload::from_bytes(bytes)).await?;
        self.store
            .put(&name, PutPayload::from(file_name.as_bytes().to_vec()))
            .await?;
        Ok(())
    }

    /// The kept file and its name; `None` when it is not (or no longer) there.
    pub async fn get_preview(&self, token: &str) -> Result<Option<(String, Bytes)>, FileError> {
        let (data, name) = paths(token)?;
        let bytes = match self.store.get(&data).await {
            Ok(got) => got.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let file_name = match self.store.get(&name).await {
            Ok(got) => String::from_utf8_lossy(&got.bytes().await?).into_owned(),
            Err(object_store::Error::NotFound { .. }) => "上传文件".to_string(),
            Err(e) => return Err(e.into()),
        };
        Ok(Some((file_name, bytes)))
    }

    /// Forgets a kept file (after the import, or when it expired).
    pub async fn delete_preview(&self, token: &str) -> Result<(), FileError> {
        let (data, name) = paths(token)?;
        for p in [data, name] {
            match self.store.delete(&p).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes kept files last written before `before`; returns how many objects went.
    pub async fn purge_previews(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, FileError> {
        let old: Vec<Path> = self
            .store
            .list(Some(&Path::from(PREVIEW_PREFIX)))
            .try_filter_map(|meta| async move {
                Ok((meta.last_modified < before).then_some(meta.location))
            })
            .try_collect()
            .await?;
        let mut removed = 0;
        for p in old {
            match self.store.delete(&p).await {
                Ok(()) => removed += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use object_store::memory::InMemory;

    use super::*;

    #[tokio::test]
    async fn a_preview_is_kept_read_back_and_purged() {
        let files = FileStore::with_object_store(Arc::new(InMemory::new()));
        let token = "c".repeat(64);
        assert!(files.get_preview(&token).await.unwrap().is_none());
        files
            .put_preview(&token, "责任分工.docx", Bytes::from_static(b"PK\x03\x04"))
            .await
            .unwrap();
        let (name, bytes) = files.get_preview(&token).await.unwrap().unwrap();
        assert_eq!(
            (name.as_str(), &bytes[..]),
            ("责任分工.docx", &b"PK\x03\x04"[..])
        );
        // Not old yet.
        let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
        assert_eq!(files.purge_previews(an_hour_ago).await.unwrap(), 0);
        let soon = chrono::Utc::now() + chrono::Duration::seconds(1);
        assert_eq!(files.purge_previews(soon).await.unwrap(), 2);
        assert!(files.get_preview(&token).await.unwrap().is_none());
        assert!(files.put_preview("../x", "a", Bytes::new()).await.is_err());
    }
}
