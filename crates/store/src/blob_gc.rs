//! Which stored files no evidence refers to: for removing what a failed upload or a crash
//! left in the file store.

//!
//! Forgetting a file and attaching it to evidence exclude each other: both lock the file's
//! `blob` row inside their transaction (`FOR UPDATE` on PostgreSQL; SQLite runs one writer
//! at a time), [`Store::forget_unreferenced_blob_with`] deletes the bytes before it
//! commits, and attaching checks the bytes are still there after taking the lock. So an
//! upload that found the content already stored (deduplicated) and a collector removing
//! that content at the same moment end either with the file kept and referenced, or with
//! the upload refused — never with evidence pointing at deleted bytes.

use std::future::Future;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use crate::Store;
use crate::entity::{blob, evidence_version};
use crate::error::{StoreError, StoreResult};

impl Store {
    /// The SHA-256 of every file the database knows (its `blob` rows), sorted: for checking
    /// a restored file store against the database.
    pub async fn blob_hashes(&self) -> StoreResult<Vec<String>> {
        let mut hashes: Vec<String> = blob::Entity::find()
            .select_only()
            .column(blob::Column::Sha256)
            .into_tuple()
            .all(self.connection())
            .await?;
        hashes.sort();
        Ok(hashes)
    }

    /// Whether any evidence version (deleted evidence included: its versions stay
    /// readable in the history) refers to the file.
    pub async fn blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        let n = evidence_version::Entity::find()
            .filter(evidence_version::Column::BlobSha256.eq(sha256.to_ascii_lowercase()))
            .count(self.connection())
            .await?;
        Ok(n > 0)
    }

    /// Forgets a file when nothing refers to it: with its row locked, checks the
    /// references, runs `delete_bytes` (the file store's delete) and deletes the row, all
    /// before the transaction commits. Returns whether it was unreferenced and deleted; an
    /// error of `delete_bytes` keeps the row. The metadata row is not audited history: its
    /// `blob.put` entry stays in the log.
    pub async fn forget_unreferenced_blob_with<F, E>(
        &self,
        sha256: &str,
        delete_bytes: F,
    ) -> StoreResult<bool>
    where
        F: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let sha = sha256.to_ascii_lowercase();
        let tx = self.begin().await?;
        let conn = tx.connection();
        let mut row = blob::Entity::find_by_id(sha.clone());
        if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
            row = row.lock_exclusive();
        }
        let exists = row.one(conn).await?.is_some();
        // A separate statement after the lock: on PostgreSQL it sees the references
        // committed while this transaction waited for the row.
        let references = evidence_version::Entity::find()
            .filter(evidence_version::Column::BlobSha256.eq(sha.clone()))
            .count(conn)
            .await?;
        if references > 0 {
            return Ok(false);
        }
        delete_bytes
            .await
            .map_err(|e| StoreError::invalid(format!("无法删除文件 {sha}：{e}")))?;
        if exists {
            blob::Entity::delete_by_id(sha).exec(conn).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
