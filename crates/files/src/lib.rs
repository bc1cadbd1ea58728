//! The file store of fazhi: evidence files (佐证材料) such as documents, photos and the audio and
//! video recordings of 执法全过程, which can be several GiB each.
//!
//! - [`FileStore`] keeps files **content-addressed**: an object lives under
//!   `blobs/<first 2 hex>/<sha256 hex>`, so the same file uploaded twice is stored once.
//! - Backends ([`FileStoreConfig`]): a local directory (the default, `<data_dir>/files`) or an
//!   S3-compatible object store (MinIO, Aliyun OSS, Huawei OBS, Tencent COS, Ceph RGW, AWS),
//!   both through [`object_store`].
//! - [`FileStore::put_stream`] streams an upload chunk by chunk (never the whole file in
//!   memory), hashes it with SHA-256 on the way, enforces a size limit and sniffs the content
//!   type from the first bytes ([`sniff`]). The data goes to `tmp/<random>` first and reaches its
//!   content address only when complete, so an error, a client disconnect or a killed server
//!   never leaves a partial object at a content address. Temporary leftovers are removed by a
//!   drop guard when an upload future is dropped, and by [`FileStore::cleanup_temp`] (call it at
//!   start-up) after a crash.
//! - [`sanitize_file_name`] turns a client-supplied file name into one that is safe to store
//!   and to send back in `Content-Disposition`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fazhi_files::FileError> {
//! use bytes::Bytes;
//! use fazhi_files::{FileStore, FileStoreConfig, GIB};
//! use futures_util::stream;
//!
//! let store = FileStore::new(&FileStoreConfig::local_default("./fazhi-data".as_ref()))?;
//! let chunks = stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"%PDF-1.7 ..."))]);
//! let blob = store.put_stream(chunks, 2 * GIB).await?;
//! assert_eq!(blob.content_type, "application/pdf");
//! # Ok(()) }
//! ```

mod config;
mod error;
mod name;
mod sniff;
mod store;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use config::FileStoreConfig;
pub use error::{FileError, human_size};
pub use name::{FALLBACK_FILE_NAME, MAX_FILE_NAME_CHARS, sanitize_file_name};
pub use sniff::{SNIFF_LEN, kind_label, sniff};
pub use store::{
    BlobStream, ChunkRef, FileStore, SERVER_COPY_LIMIT, StoredBlob, blob_key, is_sha256_hex,
    sha256_of_file,
};

/// One kibibyte (1024 bytes).
pub const KIB: u64 = 1024;
/// One mebibyte.
pub const MIB: u64 = 1024 * KIB;
/// One gibibyte.
pub const GIB: u64 = 1024 * MIB;
