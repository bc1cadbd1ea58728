//! Which stored files no evidence refers to: for removing what a failed upload or a crash
//! left in the file store.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::Store;
use crate::entity::{blob, evidence_version};
use crate::error::StoreResult;

impl Store {
    /// Whether any evidence version (deleted evidence included: its versions stay
    /// readable in the history) refers to the file.
    pub async fn blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        let n = evidence_version::Entity::find()
            .filter(evidence_version::Column::BlobSha256.eq(sha256.to_ascii_lowercase()))
            .count(self.connection())
            .await?;
        Ok(n > 0)
    }

    /// Forgets a file's metadata when nothing refers to it; returns whether it was
    /// unreferenced (the caller then deletes the bytes). The metadata row is not audited
    /// history: its `blob.put` entry stays in the log.
    pub async fn forget_unreferenced_blob(&self, sha256: &str) -> StoreResult<bool> {
        if self.blob_referenced(sha256).await? {
            return Ok(false);
        }
        blob::Entity::delete_by_id(sha256.to_ascii_lowercase())
            .exec(self.connection())
            .await?;
        Ok(true)
    }
}
