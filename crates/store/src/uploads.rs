//! Resumable uploads (断点续传) of large evidence files. An upload is announced with its size
//! and the evidence it will become; its chunks are stored as objects of the file store and
//! listed here, in the same transaction that advances the received offset, so a chunk either
//! counts completely or not at all. These rows are working state, not campaign records: they
//! are not audited (the evidence they become is) and do not bump the read-cache generation.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::Store;
use crate::error::{StoreError, StoreResult};
use crate::types::{EvidenceId, TaskId, UserId, now};

pub(crate) mod resumable_upload {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "resumable_upload")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token: String,
        pub task_id: i64,
        pub evidence_id: Option<i64>,
        pub user_id: i64,
        pub file_name: String,
        pub size: i64,
        pub received: i64,
        pub title: Option<String>,
        pub doc_number: Option<String>,
        pub doc_date: Option<Date>,
        pub finishing_since: Option<DateTimeUtc>,
        /// Set once the file was stored as evidence: the upload is kept a while so a retried
        /// `finish` or a reloaded page learns it is done instead of sending it again.
        pub done_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod resumable_upload_chunk {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "resumable_upload_chunk")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub token: String,
        pub starts_at: i64,
        pub len: i64,
        pub object_key: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Most uploads one user may have open at a time: each holds disk space until finished,
/// cancelled or expired.
pub const MAX_OPEN_UPLOADS_PER_USER: u64 = 8;

/// An upload to announce.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// 64 hex digits chosen by the caller (random): the upload's name in URLs.
    pub token: String,
    pub task: TaskId,
    /// The evidence item this upload becomes a new version of; `None` for a new item.
    pub replaces: Option<EvidenceId>,
    pub user: UserId,
    /// The file's name, already cleaned.
    pub file_name: String,
    pub size: u64,
    pub title: Option<String>,
    pub doc_number: Option<String>,
    pub doc_date: Option<NaiveDate>,
}

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub token: String,
    pub task: TaskId,
    pub replaces: Option<EvidenceId>,
    pub user: UserId,
    pub file_name: String,
    pub size: u64,
    /// Bytes received so far: the offset the next chunk starts at.
    pub received: u64,
    pub title: Option<String>,
    pub doc_number: Option<String>,
    pub doc_date: Option<NaiveDate>,
    /// The file was stored as evidence (see [`Store::upload_mark_done`]).
    pub done: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Upload {
    pub fn is_complete(&self) -> bool {
        self.received == self.size
    }
}

/// One received chunk: where its bytes are in the file store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadChunk {
    pub offset: u64,
    pub len: u64,
    pub object_key: String,
}

/// What [`Store::upload_append`] did with a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Counted: the upload now has this many bytes.
    Received(u64),
    /// Not counted: the upload had this many bytes, not the chunk's offset (a chunk sent
    /// twice, or two senders). The caller removes the chunk's object.
    OffsetMismatch(u64),
}

fn as_u64(v: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what}为负数：{v}")))
}

fn as_i64(v: u64, what: &str) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::invalid(format!("{what}过大：{v}")))
}

impl TryFrom<resumable_upload::Model> for Upload {
    type Error = StoreError;

    fn try_from(m: resumable_upload::Model) -> StoreResult<Self> {
        Ok(Upload {
            size: as_u64(m.size, "上传大小")?,
            received: as_u64(m.received, "已接收字节数")?,
            token: m.token,
            task: TaskId(m.task_id),
            replaces: m.evidence_id.map(EvidenceId),
            user: UserId(m.user_id),
            file_name: m.file_name,
            title: m.title,
            doc_number: m.doc_number,
            doc_date: m.doc_date,
            done: m.done_at.is_some(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

fn check_token(token: &str) -> StoreResult<()> {
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(StoreError::not_found("该上传"))
    }
}

impl Store {
    /// Announces an upload. Refused when the user already has
    /// [`MAX_OPEN_UPLOADS_PER_USER`] open.
    ///
    /// The same file announced again by the same user for the same item (a reload in a
    /// browser that keeps no local storage, a lost answer) gets the open upload back, with
    /// what was received so far, instead of a second one.
    pub async fn upload_create(&self, new: NewUpload) -> StoreResult<Upload> {
        check_token(&new.token)?;
        let same = resumable_upload::Entity::find()
            .filter(resumable_upload::Column::UserId.eq(new.user.0))
            .filter(resumable_upload::Column::TaskId.eq(new.task.0))
            .filter(match new.replaces {
                Some(e) => resumable_upload::Column::EvidenceId.eq(e.0),
                None => resumable_upload::Column::EvidenceId.is_null(),
            })
            .filter(resumable_upload::Column::FileName.eq(new.file_name.as_str()))
            .filter(resumable_upload::Column::Size.eq(as_i64(new.size, "文件大小")?))
            .filter(resumable_upload::Column::DoneAt.is_null())
            .order_by_desc(resumable_upload::Column::UpdatedAt)
            .one(self.connection())
            .await?;
        if let Some(open) = same {
            return Upload::try_from(open);
        }
        let open = resumable_upload::Entity::find()
            .filter(resumable_upload::Column::UserId.eq(new.user.0))
            .filter(resumable_upload::Column::DoneAt.is_null())
            .count(self.connection())
            .await?;
        if open >= MAX_OPEN_UPLOADS_PER_USER {
            return Err(StoreError::invalid(format!(
                "您已有{open}个未完成的上传（3天未续传的会自动清除）。请先把其中的文件传完：再次选择同一个文件上传，会从中断处继续"
            )));
        }
        let at = now();
        let model = resumable_upload::ActiveModel {
            token: Set(new.token),
            task_id: Set(new.task.0),
            evidence_id: Set(new.replaces.map(|e| e.0)),
            user_id: Set(new.user.0),
            file_name: Set(new.file_name),
            size: Set(as_i64(new.size, "文件大小")?),
            received: Set(0),
            title: Set(new.title),
            doc_number: Set(new.doc_number),
            doc_date: Set(new.doc_date),
            finishing_since: Set(None),
            done_at: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(self.connection())
        .await?;
        Upload::try_from(model)
    }

    /// The upload named `token`.
    pub async fn upload(&self, token: &str) -> StoreResult<Upload> {
        check_token(token)?;
        resumable_upload::Entity::find_by_id(token.to_string())
            .one(self.connection())
            .await?
            .ok_or_else(|| StoreError::not_found("该上传（可能已完成、已取消或已过期）"))
            .and_then(Upload::try_from)
    }

    /// Counts a chunk already stored at `object_key`, if it starts where the upload stands
    /// and does not pass its size.
    pub async fn upload_append(
        &self,
        token: &str,
        offset: u64,
        len: u64,
        object_key: &str,
    ) -> StoreResult<Appended> {
        let upload = self.upload(token).await?;
        if upload.done {
            return Err(StoreError::invalid("这个文件已经上传完成，无需再发送"));
        }
        if offset != upload.received {
            return Ok(Appended::OffsetMismatch(upload.received));
        }
        let end = offset
            .checked_add(len)
            .filter(|end| *end <= upload.size)
            .ok_or_else(|| StoreError::invalid("发送的内容超过了开始上传时声明的文件大小"))?;
        // A plain transaction: progress of an upload changes no page that is cached.
        let tx = self.connection().begin().await?;
        let moved = resumable_upload::Entity::update_many()
            .col_expr(
                resumable_upload::Column::Received,
                sea_orm::sea_query::Expr::value(as_i64(end, "已接收字节数")?),
            )
            .col_expr(
                resumable_upload::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now()),
            )
            .filter(resumable_upload::Column::Token.eq(token))
            .filter(resumable_upload::Column::Received.eq(as_i64(offset, "偏移")?))
            .exec(&tx)
            .await?
            .rows_affected;
        if moved != 1 {
            tx.rollback().await?;
            let now_at = self.upload(token).await?.received;
            return Ok(Appended::OffsetMismatch(now_at));
        }
        resumable_upload_chunk::ActiveModel {
            token: Set(token.to_string()),
            starts_at: Set(as_i64(offset, "偏移")?),
            len: Set(as_i64(len, "长度")?),
            object_key: Set(object_key.to_string()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        tx.commit().await?;
        Ok(Appended::Received(end))
    }

    /// The upload's chunks in order. They tile `0..received` exactly: each was counted by
    /// [`Store::upload_append`] at the offset the previous one ended.
    pub async fn upload_chunks(&self, token: &str) -> StoreResult<Vec<UploadChunk>> {
        check_token(token)?;
        let rows = resumable_upload_chunk::Entity::find()
            .filter(resumable_upload_chunk::Column::Token.eq(token))
            .order_by_asc(resumable_upload_chunk::Column::StartsAt)
            .all(self.connection())
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(UploadChunk {
                    offset: as_u64(r.starts_at, "偏移")?,
                    len: as_u64(r.len, "长度")?,
                    object_key: r.object_key,
                })
            })
            .collect()
    }

    /// Claims a complete upload for assembling it into a file, so that a second `finish`
    /// (a retried request, another instance) does not make a second evidence item. A claim
    /// older than `stale_after` counts as abandoned (the instance died). False when the
    /// upload is incomplete or claimed.
    pub async fn upload_claim_finish(
        &self,
        token: &str,
        stale_after: chrono::Duration,
    ) -> StoreResult<bool> {
        check_token(token)?;
        let at = now();
        let claimed = resumable_upload::Entity::update_many()
            .col_expr(
                resumable_upload::Column::FinishingSince,
                sea_orm::sea_query::Expr::value(Some(at)),
            )
            .filter(resumable_upload::Column::Token.eq(token))
            .filter(sea_orm::sea_query::ExprTrait::equals(
                sea_orm::sea_query::Expr::col(resumable_upload::Column::Received),
                resumable_upload::Column::Size,
            ))
            .filter(
                sea_orm::Condition::any()
                    .add(resumable_upload::Column::FinishingSince.is_null())
                    .add(resumable_upload::Column::FinishingSince.lt(at - stale_after)),
            )
            .exec(self.connection())
            .await?
            .rows_affected;
        Ok(claimed == 1)
    }

    /// Marks the upload done once its file is stored as evidence: its chunk list goes (the
    /// chunk objects are removed by the caller), the row stays until the housekeeping
    /// removes it, so a retried `finish` answers "done" instead of storing it again.
    pub async fn upload_mark_done(&self, token: &str) -> StoreResult<()> {
        check_token(token)?;
        let tx = self.connection().begin().await?;
        resumable_upload::Entity::update_many()
            .col_expr(
                resumable_upload::Column::DoneAt,
                sea_orm::sea_query::Expr::value(Some(now())),
            )
            .col_expr(
                resumable_upload::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now()),
            )
            .filter(resumable_upload::Column::Token.eq(token))
            .exec(&tx)
            .await?;
        resumable_upload_chunk::Entity::delete_many()
            .filter(resumable_upload_chunk::Column::Token.eq(token))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives up a claim after a failed assembly, so the user can try again.
    pub async fn upload_release_finish(&self, token: &str) -> StoreResult<()> {
        check_token(token)?;
        resumable_upload::Entity::update_many()
            .col_expr(
                resumable_upload::Column::FinishingSince,
                sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(resumable_upload::Column::Token.eq(token))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Forgets the upload and its chunk list (cancelled or abandoned, after its objects were
    /// removed).
    pub async fn upload_forget(&self, token: &str) -> StoreResult<()> {
        check_token(token)?;
        let tx = self.connection().begin().await?;
        resumable_upload_chunk::Entity::delete_many()
            .filter(resumable_upload_chunk::Column::Token.eq(token))
            .exec(&tx)
            .await?;
        resumable_upload::Entity::delete_by_id(token.to_string())
            .exec(&tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uploads not touched since `before`: abandoned, to be removed by the housekeeping.
    pub async fn uploads_idle_since(&self, before: DateTime<Utc>) -> StoreResult<Vec<Upload>> {
        resumable_upload::Entity::find()
            .filter(resumable_upload::Column::UpdatedAt.lt(before))
            .all(self.connection())
            .await?
            .into_iter()
            .map(Upload::try_from)
            .collect()
    }

    /// Whether an upload named `token` exists (for the clean-up of chunk objects whose row
    /// is gone).
    pub async fn upload_exists(&self, token: &str) -> StoreResult<bool> {
        if check_token(token).is_err() {
            return Ok(false);
        }
        Ok(resumable_upload::Entity::find_by_id(token.to_string())
            .count(self.connection())
            .await?
            > 0)
    }
}
