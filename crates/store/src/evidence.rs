//! Evidence (佐证材料) of a task and the metadata of uploaded files.
//!
//! Files are content-addressed: a `blob` row holds the SHA-256 (lower-case hex), size and
//! content type of an uploaded file, whose bytes the file store keeps under a key derived
//! from the SHA-256. The same file uploaded twice is one blob ([`Store::put_blob`] is
//! idempotent).
//!
//! An evidence item is a file or a public link (for 网络检索: a page on a government site,
//! with its publication date) with a title and optionally the document's 文号 and date. It
//! has numbered versions: replacing it adds a version and keeps the earlier ones; deleting
//! it only marks it deleted. Reviews (合格 / 需补充) refer to the version they judged.
//!
//! Adding, replacing and deleting need the task to be 办理中 or 退回 in the active round;
//! reviews can be given at any time.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, NaiveDate, Utc};
use fazhi_domain::task::TaskStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TryInsertResult,
};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, append_audit};
use crate::entity::{blob, evidence, evidence_review, evidence_version, task};
use crate::error::{StoreError, StoreResult};
use crate::guard::{ensure_editable, touch, writable_task};
use crate::text::{clean_optional_line, clean_text};
use crate::types::{
    Actor, EvidenceId, ReviewId, RoundId, TaskId, UnitId, UserId, enum_from_str, enum_to_str, now,
};
use crate::{Store, Tx};

/// Longest title, in characters.
const MAX_TITLE_CHARS: usize = 200;
/// Longest 文号, in characters.
const MAX_DOC_NUMBER_CHARS: usize = 100;
/// Longest file name, in characters.
const MAX_FILE_NAME_CHARS: usize = 255;
/// Longest content type, in characters.
const MAX_CONTENT_TYPE_CHARS: usize = 255;
/// Longest link, in characters.
const MAX_URL_CHARS: usize = 2048;
/// Longest review note, in characters.
const MAX_NOTE_CHARS: usize = 2000;
/// Ids per `IN (…)` list.
const ID_CHUNK: usize = 500;

/// Whether an evidence item (or one version) is a file or a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// 文件
    File,
    /// 网页链接
    Link,
}

impl EvidenceKind {
    pub fn label(self) -> &'static str {
        match self {
            EvidenceKind::File => "文件",
            EvidenceKind::Link => "链接",
        }
    }
}

/// A reviewer's judgement of one version of an evidence item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 合格
    Ok,
    /// 需补充 (a note saying what is missing is required)
    NeedsMore,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "合格",
            Verdict::NeedsMore => "需补充",
        }
    }
}

fazhi_domain::string_enum!(EvidenceKind, "材料形式", { File => "file", Link => "link" });
fazhi_domain::string_enum!(Verdict, "审核结论", { Ok => "ok", NeedsMore => "needs_more" });

/// Title and document data of a new evidence item.

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvidence {
    pub title: String,
    /// 文号, e.g. `兰政发〔2026〕3号`.
    pub doc_number: Option<String>,
    /// 成文日期
    pub doc_date: Option<NaiveDate>,
}

/// The content of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceContent {
    /// An uploaded file, stored before with [`Store::put_blob`]. `original_name` is the
    /// file name as uploaded, already made safe by the caller.
    File {
        blob_sha256: String,
        original_name: Option<String>,
    },
    /// A public `http`/`https` link; `published_on` is the page's publication date.
    Link {
        url: String,
        published_on: Option<NaiveDate>,
    },
}

/// Metadata of a stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    /// Lower-case hex; the file store's key derives from it.
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<blob::Model> for BlobInfo {
    type Error = StoreError;
    fn try_from(m: blob::Model) -> StoreResult<Self> {
        Ok(BlobInfo {
            size: u64::try_from(m.size)
                .map_err(|_| StoreError::Corrupt(format!("文件大小 {}", m.size)))?,
            sha256: m.sha256,
            content_type: m.content_type,
            created_at: m.created_at,
        })
    }
}

/// One version of an evidence item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceVersion {
    /// 1, 2, 3, … per item.
    pub version: u32,
    pub kind: EvidenceKind,
    pub blob_sha256: Option<String>,
    /// The file's metadata (file versions).
    pub blob: Option<BlobInfo>,
    pub original_name: Option<String>,
    pub url: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub created_by_user_id: Option<UserId>,
    pub created_by_name: String,
}

/// A review of an evidence item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceReview {
    pub id: ReviewId,
    /// The version judged (the current one at the time).
    pub version: u32,
    pub reviewer_user_id: Option<UserId>,
    pub reviewer_name: String,
    pub verdict: Verdict,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// An evidence item with all its versions and reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub id: EvidenceId,
    pub task_id: TaskId,
    /// The kind of the current version.
    pub kind: EvidenceKind,
    pub title: String,
    pub doc_number: Option<String>,
    pub doc_date: Option<NaiveDate>,
    pub current_version: u32,
    pub created_at: DateTime<Utc>,
    pub created_by_user_id: Option<UserId>,
    pub created_by_name: String,
    pub deleted: bool,
    /// Oldest first; the last one is the current version.
    pub versions: Vec<EvidenceVersion>,
    /// Oldest first.
    pub reviews: Vec<EvidenceReview>,
}

impl Evidence {
    /// The current version.
    pub fn current(&self) -> Option<&EvidenceVersion> {
        self.versions
            .iter()
            .find(|v| v.version == self.current_version)
    }

    /// The latest review of the current version, if any.
    pub fn current_review(&self) -> Option<&EvidenceReview> {
        self.reviews
            .iter()
            .rev()
            .find(|r| r.version == self.current_version)
    }
}

/// Checks a SHA-256 in hex and returns it lower-cased.
fn check_sha256(raw: &str) -> StoreResult<String> {
    let sha = raw.trim();
    if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha.to_ascii_lowercase())
    } else {
        Err(StoreError::invalid("文件摘要应为64位十六进制的 SHA-256"))
    }
}

/// Checks a link: `http://` or `https://`, a host, no user name or password, no blanks
/// or control characters. Returns it trimmed, with the scheme lower-cased.
pub fn check_url(raw: &str) -> StoreResult<String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err(StoreError::invalid("链接不能为空"));
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(StoreError::invalid(format!(
            "链接太长（最多{MAX_URL_CHARS}个字符）"
        )));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::invalid("链接中不能有空格或不可见字符"));
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(StoreError::invalid(
            "链接只能是以 http:// 或 https:// 开头的网址",
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(StoreError::invalid("链接中不能含有用户名或密码"));
    }
    let host = match authority.rsplit_once(':') {
        // `[::1]:8080` or `example.org:8080`; a bare IPv6 literal `[::1]` has no port.
        Some((host, port)) if !port.contains(']') => {
            if port.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(StoreError::invalid("链接中的端口号无效"));
            }
            host
        }
        _ => authority,
    };
    let valid_host = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.'))
        && !host.starts_with('.')
        && !host.starts_with('-');
    if !valid_host {
        return Err(StoreError::invalid("链接缺少有效的网站地址"));
    }
    Ok(format!("{scheme}://{rest}"))
}

/// Trims and checks the title and document data.
fn clean_meta(new: &NewEvidence) -> StoreResult<NewEvidence> {
    let title = clean_text(&new.title, "材料名称", MAX_TITLE_CHARS, true)?;
    if title.chars().any(char::is_control) {
        return Err(StoreError::invalid("材料名称不能换行"));
    }
    Ok(NewEvidence {
        title,
        doc_number: clean_optional_line(new.doc_number.as_deref(), "文号", MAX_DOC_NUMBER_CHARS)?,
        doc_date: new.doc_date,
    })
}

/// Checks a version's content; a file must be stored already.
/// A check that a file's bytes are still in the file store, run inside the write
/// transaction once the file's row is locked (see `blob_gc`). Futures are lazy: the caller
/// builds it (`files.exists(sha)`), the store awaits it at the right moment.
pub type BlobPresence<'a> = Pin<Box<dyn Future<Output = bool> + Send + 'a>>;

async fn clean_content(
    conn: &impl ConnectionTrait,
    content: &EvidenceContent,
    present: Option<BlobPresence<'_>>,
) -> StoreResult<EvidenceContent> {
    match content {
        EvidenceContent::File {
            blob_sha256,
            original_name,
        } => {
            let sha = check_sha256(blob_sha256)?;
            let mut row = blob::Entity::find_by_id(sha.clone());
            if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
                row = row.lock_exclusive();
            }
            if row.one(conn).await?.is_none() {
                return Err(StoreError::not_found(format!("文件 {sha}")));
            }
            if let Some(present) = present
                && !present.await
            {
                return Err(StoreError::invalid(
                    "文件在保存时被系统清理（另一份相同的文件刚被删除），请重新上传",
                ));
            }
            let original_name =
                clean_optional_line(original_name.as_deref(), "文件名", MAX_FILE_NAME_CHARS)?;
            if original_name
                .as_deref()
                .is_some_and(|n| n.contains(['/', '\\']))
            {
                return Err(StoreError::invalid("文件名不能含有 / 或 \\"));
            }
            Ok(EvidenceContent::File {
                blob_sha256: sha,
                original_name,
            })
        }
        EvidenceContent::Link { url, published_on } => Ok(EvidenceContent::Link {
            url: check_url(url)?,
            published_on: *published_on,
        }),
    }
}

fn kind_of(content: &EvidenceContent) -> EvidenceKind {
    match content {
        EvidenceContent::File { .. } => EvidenceKind::File,
        EvidenceContent::Link { .. } => EvidenceKind::Link,
    }
}

async fn insert_version(
    tx: &Tx,
    evidence_id: i64,
    version: i32,
    content: EvidenceContent,
    actor: &Actor,
) -> StoreResult<()> {
    let (blob_sha256, original_name, url, published_on) = match content {
        EvidenceContent::File {
            blob_sha256,
            original_name,
        } => (Some(blob_sha256), original_name, None, None),
        EvidenceContent::Link { url, published_on } => (None, None, Some(url), published_on),
    };
    evidence_version::ActiveModel {
        evidence_id: Set(evidence_id),
        version: Set(version),
        blob_sha256: Set(blob_sha256),
        original_name: Set(original_name),
        url: Set(url),
        published_on: Set(published_on),
        created_at: Set(now()),
        created_by_user_id: Set(actor.user_id.map(|u| u.0)),
        created_by_name: Set(actor.name.clone()),
        ..Default::default()
    }
    .insert(tx.connection())
    .await?;
    Ok(())
}

fn version_u32(v: i32) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("版本号 {v}")))
}

/// Assembles evidence items (in the given order) with their versions and reviews.
async fn assemble(
    conn: &impl ConnectionTrait,
    items: Vec<evidence::Model>,
) -> StoreResult<Vec<Evidence>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = items.iter().map(|e| e.id).collect();
    let versions = evidence_version::Entity::find()
        .filter(evidence_version::Column::EvidenceId.is_in(ids.clone()))
        .order_by_asc(evidence_version::Column::Version)
        .all(conn)
        .await?;
    let shas: Vec<String> = versions
        .iter()
        .filter_map(|v| v.blob_sha256.clone())
        .collect();
    let blobs: std::collections::HashMap<String, BlobInfo> = if shas.is_empty() {
        Default::default()
    } else {
        blob::Entity::find()
            .filter(blob::Column::Sha256.is_in(shas))
            .all(conn)
            .await?
            .into_iter()
            .map(|b| Ok((b.sha256.clone(), BlobInfo::try_from(b)?)))
            .collect::<StoreResult<_>>()?
    };
    let reviews = evidence_review::Entity::find()
        .filter(evidence_review::Column::EvidenceId.is_in(ids))
        .order_by_asc(evidence_review::Column::Id)
        .all(conn)
        .await?;
    items
        .into_iter()
        .map(|e| {
            Ok(Evidence {
                id: EvidenceId(e.id),
                task_id: TaskId(e.task_id),
                kind: enum_from_str(&e.kind)?,
                current_version: version_u32(e.current_version)?,
                versions: versions
                    .iter()
                    .filter(|v| v.evidence_id == e.id)
                    .map(|v| {
                        Ok(EvidenceVersion {
                            version: version_u32(v.version)?,
                            kind: if v.blob_sha256.is_some() {
                                EvidenceKind::File
                            } else {
                                EvidenceKind::Link
                            },
                            blob: v.blob_sha256.as_ref().and_then(|s| blobs.get(s)).cloned(),
                            blob_sha256: v.blob_sha256.clone(),
                            original_name: v.original_name.clone(),
                            url: v.url.clone(),
                            published_on: v.published_on,
                            created_at: v.created_at,
                            created_by_user_id: v.created_by_user_id.map(UserId),
                            created_by_name: v.created_by_name.clone(),
                        })
                    })
                    .collect::<StoreResult<_>>()?,
                reviews: reviews
                    .iter()
                    .filter(|r| r.evidence_id == e.id)
                    .map(|r| {
                        Ok(EvidenceReview {
                            id: ReviewId(r.id),
                            version: version_u32(r.version)?,
                            reviewer_user_id: r.reviewer_user_id.map(UserId),
                            reviewer_name: r.reviewer_name.clone(),
                            verdict: enum_from_str(&r.verdict)?,
                            note: r.note.clone(),
                            at: r.at,
                        })
                    })
                    .collect::<StoreResult<_>>()?,
                title: e.title,
                doc_number: e.doc_number,
                doc_date: e.doc_date,
                created_at: e.created_at,
                created_by_user_id: e.created_by_user_id.map(UserId),
                created_by_name: e.created_by_name,
                deleted: e.deleted,
            })
        })
        .collect()
}

async fn load(conn: &impl ConnectionTrait, id: EvidenceId) -> StoreResult<Evidence> {
    let row = evidence::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("佐证材料 #{id}")))?;
    assemble(conn, vec![row])
        .await?
        .pop()
        .ok_or_else(|| StoreError::not_found(format!("佐证材料 #{id}")))
}

/// The task's evidence that is not deleted, in the order added.
pub(crate) async fn evidence_of_task(
    conn: &impl ConnectionTrait,
    task_id: i64,
) -> StoreResult<Vec<Evidence>> {
    let rows = evidence::Entity::find()
        .filter(evidence::Column::TaskId.eq(task_id))
        .filter(evidence::Column::Deleted.eq(false))
        .order_by_asc(evidence::Column::Id)
        .all(conn)
        .await?;
    assemble(conn, rows).await
}

/// The item, not deleted, with its task checked to be changeable by the unit.
async fn editable_evidence(tx: &Tx, id: EvidenceId) -> StoreResult<Evidence> {
    let conn = tx.connection();
    let item = load(conn, id).await?;
    if item.deleted {
        return Err(StoreError::invalid("该佐证材料已删除"));
    }
    let t = writable_task(conn, item.task_id).await?;
    ensure_editable(enum_from_str::<TaskStatus>(&t.status)?)?;
    Ok(item)
}

impl Store {
    /// Records an uploaded file's metadata. Idempotent: `Ok(true)` when the blob is new,
    /// `Ok(false)` when a blob with this SHA-256 was stored before (same size required).
    pub async fn put_blob(&self, sha256: &str, size: u64, content_type: &str) -> StoreResult<bool> {
        let sha = check_sha256(sha256)?;
        let size = i64::try_from(size).map_err(|_| StoreError::invalid("文件太大"))?;
        let content_type = content_type.trim();
        if content_type.is_empty()
            || content_type.chars().count() > MAX_CONTENT_TYPE_CHARS
            || content_type.chars().any(char::is_control)
        {
            return Err(StoreError::invalid("文件类型无效"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        let created_at = now();
        let inserted = blob::Entity::insert(blob::ActiveModel {
            sha256: Set(sha.clone()),
            size: Set(size),
            content_type: Set(content_type.to_string()),
            created_at: Set(created_at),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(conn)
        .await?;
        let is_new = matches!(inserted, TryInsertResult::Inserted(n) if n > 0);
        if !is_new {
            let existing = blob::Entity::find_by_id(sha.clone())
                .one(conn)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("文件 {sha}")))?;
            if existing.size != size {
                return Err(StoreError::invalid(format!(
                    "文件 {sha} 已登记，但大小不同（{} 字节，而非 {size} 字节）",
                    existing.size
                )));
            }
            return Ok(false);
        }
        append_audit(
            &tx,
            AuditEntry::new(&Actor::system(), "blob.put", "blob", Some(sha.clone()))
                .after(serde_json::json!({ "size": size, "content_type": content_type })),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A file's metadata.
    pub async fn blob(&self, sha256: &str) -> StoreResult<Option<BlobInfo>> {
        let sha = check_sha256(sha256)?;
        blob::Entity::find_by_id(sha)
            .one(self.connection())
            .await?
            .map(BlobInfo::try_from)
            .transpose()
    }

    /// Adds a file as evidence to a task (办理中 or 退回). The blob must be stored already.
    pub async fn add_file_evidence(
        &self,
        task_id: TaskId,
        new: NewEvidence,
        blob_sha256: &str,
        original_name: Option<&str>,
        actor: &Actor,
    ) -> StoreResult<EvidenceId> {
        let content = EvidenceContent::File {
            blob_sha256: blob_sha256.to_string(),
            original_name: original_name.map(str::to_string),
        };
        self.add_evidence(task_id, new, content, actor).await
    }

    /// Adds a public link as evidence to a task (办理中 or 退回): `http`/`https` only;
    /// `published_on` is the page's publication date (网络检索).
    pub async fn add_link_evidence(
        &self,
        task_id: TaskId,
        new: NewEvidence,
        url: &str,
        published_on: Option<NaiveDate>,
        actor: &Actor,
    ) -> StoreResult<EvidenceId> {
        let content = EvidenceContent::Link {
            url: url.to_string(),
            published_on,
        };
        self.add_evidence(task_id, new, content, actor).await
    }

    /// Adds a file or link as evidence (version 1).
    pub async fn add_evidence(
        &self,
        task_id: TaskId,
        new: NewEvidence,
        content: EvidenceContent,
        actor: &Actor,
    ) -> StoreResult<EvidenceId> {
        self.add_evidence_checked(task_id, new, content, actor, None)
            .await
    }

    /// [`Store::add_evidence`] that, for a file, checks inside the transaction that its
    /// bytes are still stored (`present`): what the web's upload uses, since the same
    /// content may be collected concurrently.
    pub async fn add_evidence_checked(
        &self,
        task_id: TaskId,
        new: NewEvidence,
        content: EvidenceContent,
        actor: &Actor,
        present: Option<BlobPresence<'_>>,
    ) -> StoreResult<EvidenceId> {
        let meta = clean_meta(&new)?;
        if let EvidenceContent::Link { url, .. } = &content {
            check_url(url)?;
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        let t = writable_task(conn, task_id).await?;
        ensure_editable(enum_from_str::<TaskStatus>(&t.status)?)?;
        let content = clean_content(conn, &content, present).await?;
        let row = evidence::ActiveModel {
            task_id: Set(t.id),
            kind: Set(enum_to_str(&kind_of(&content))),
            title: Set(meta.title),
            doc_number: Set(meta.doc_number),
            doc_date: Set(meta.doc_date),
            current_version: Set(1),
            created_at: Set(now()),
            created_by_user_id: Set(actor.user_id.map(|u| u.0)),
            created_by_name: Set(actor.name.clone()),
            deleted: Set(false),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        insert_version(&tx, row.id, 1, content, actor).await?;
        touch(&tx, t.id).await?;
        let id = EvidenceId(row.id);
        let after = load(conn, id).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "evidence.add", "evidence", Some(id.to_string())).after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces an evidence item's content with a new version (file or link; the item's
    /// kind follows). Earlier versions stay stored. Returns the new version number.
    pub async fn replace_evidence(
        &self,
        id: EvidenceId,
        content: EvidenceContent,
        actor: &Actor,
    ) -> StoreResult<u32> {
        self.replace_evidence_checked(id, content, actor, None)
            .await
    }

    /// [`Store::replace_evidence`] with the check of [`Store::add_evidence_checked`].
    pub async fn replace_evidence_checked(
        &self,
        id: EvidenceId,
        content: EvidenceContent,
        actor: &Actor,
        present: Option<BlobPresence<'_>>,
    ) -> StoreResult<u32> {
        if let EvidenceContent::Link { url, .. } = &content {
            check_url(url)?;
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = editable_evidence(&tx, id).await?;
        let content = clean_content(conn, &content, present).await?;
        let version = before.current_version + 1;
        let version_i32 =
            i32::try_from(version).map_err(|_| StoreError::invalid("版本号超出范围"))?;
        // Only from the version read above: a concurrent replace makes this a no-op.
        let updated = evidence::Entity::update_many()
            .col_expr(evidence::Column::CurrentVersion, Expr::value(version_i32))
            .col_expr(
                evidence::Column::Kind,
                Expr::value(enum_to_str(&kind_of(&content))),
            )
            .filter(evidence::Column::Id.eq(id.0))
            .filter(evidence::Column::CurrentVersion.eq(version_i32 - 1))
            .exec(conn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(StoreError::invalid("该佐证材料已被他人更新，请刷新后重试"));
        }
        insert_version(&tx, id.0, version_i32, content, actor).await?;
        touch(&tx, before.task_id.0).await?;
        let after = load(conn, id).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "evidence.replace", "evidence", Some(id.to_string()))
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Replaces an evidence item's content with a new link version (`http`/`https` only;
    /// `published_on` is the page's publication date). Same rules as
    /// [`Store::replace_evidence`]: the task must be 办理中 or 退回 in the active round,
    /// earlier versions stay stored, and the change is audited as `evidence.replace`.
    pub async fn replace_link_evidence(
        &self,
        id: EvidenceId,
        url: &str,
        published_on: Option<NaiveDate>,
        actor: &Actor,
    ) -> StoreResult<u32> {
        let content = EvidenceContent::Link {
            url: url.to_string(),
            published_on,
        };
        self.replace_evidence(id, content, actor).await
    }

    /// Marks an evidence item deleted; it and its versions stay stored (and listed by
    /// [`Store::evidence`]) but no longer count for the task.
    pub async fn delete_evidence(&self, id: EvidenceId, actor: &Actor) -> StoreResult<()> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = editable_evidence(&tx, id).await?;
        evidence::Entity::update_many()
            .col_expr(evidence::Column::Deleted, Expr::value(true))
            .filter(evidence::Column::Id.eq(id.0))
            .exec(conn)
            .await?;
        touch(&tx, before.task_id.0).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "evidence.delete", "evidence", Some(id.to_string()))
                .before(&before)
                .after(serde_json::json!({ "deleted": true })),
        )
        .await?;
        tx.commit().await
    }

    /// Records a review of the item's current version. 需补充 needs a note saying what is
    /// missing. Reviews are kept; the latest counts.
    pub async fn review_evidence(
        &self,
        id: EvidenceId,
        verdict: Verdict,
        note: Option<&str>,
        reviewer: &Actor,
    ) -> StoreResult<ReviewId> {
        let note = match note {
            Some(n) => Some(clean_text(n, "审核意见", MAX_NOTE_CHARS, false)?),
            None => None,
        }
        .filter(|n| !n.is_empty());
        if verdict == Verdict::NeedsMore && note.is_none() {
            return Err(StoreError::invalid("判定“需补充”时须写明需要补充的内容"));
        }
        let tx = self.begin().await?;
        let conn = tx.connection();
        let item = load(conn, id).await?;
        if item.deleted {
            return Err(StoreError::invalid("该佐证材料已删除"));
        }
        let version = i32::try_from(item.current_version)
            .map_err(|_| StoreError::Corrupt("版本号".into()))?;
        let row = evidence_review::ActiveModel {
            evidence_id: Set(id.0),
            version: Set(version),
            reviewer_user_id: Set(reviewer.user_id.map(|u| u.0)),
            reviewer_name: Set(reviewer.name.clone()),
            verdict: Set(enum_to_str(&verdict)),
            note: Set(note.clone()),
            at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        append_audit(
            &tx,
            AuditEntry::new(
                reviewer,
                "evidence.review",
                "evidence",
                Some(id.to_string()),
            )
            .after(serde_json::json!({
                "review": row.id,
                "version": item.current_version,
                "verdict": verdict,
                "note": note,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(ReviewId(row.id))
    }

    /// An evidence item with all versions and reviews, deleted or not.
    pub async fn evidence(&self, id: EvidenceId) -> StoreResult<Evidence> {
        load(self.connection(), id).await
    }

    /// The evidence (not deleted) of a round's tasks, or of one unit's tasks in it, with
    /// versions and reviews, in the order added. For outputs that cover a whole round (the
    /// 佐证材料汇编) without a query per task.
    pub async fn round_evidence(
        &self,
        round: RoundId,
        unit: Option<UnitId>,
    ) -> StoreResult<Vec<Evidence>> {
        let conn = self.connection();
        let mut tasks = task::Entity::find()
            .select_only()
            .column(task::Column::Id)
            .filter(task::Column::RoundId.eq(round.0));
        if let Some(u) = unit {
            tasks = tasks.filter(task::Column::UnitId.eq(u.0));
        }
        let task_ids: Vec<i64> = tasks.into_tuple().all(conn).await?;
        let mut rows = Vec::new();
        for chunk in task_ids.chunks(ID_CHUNK) {
            rows.extend(
                evidence::Entity::find()
                    .filter(evidence::Column::TaskId.is_in(chunk.iter().copied()))
                    .filter(evidence::Column::Deleted.eq(false))
                    .all(conn)
                    .await?,
            );
        }
        rows.sort_by_key(|e| e.id);
        let mut out = Vec::with_capacity(rows.len());
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(ID_CHUNK).collect();
            out.extend(assemble(conn, chunk).await?);
        }
        Ok(out)
    }
}
