//! Errors of the file store, with messages in Chinese.

use std::error::Error as StdError;

/// What went wrong in the file store. Messages are meant for users (4xx cases) or the log
/// (the others).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The upload is larger than the limit passed to [`crate::FileStore::put_stream`].
    #[error("文件超过大小上限 {}", human_size(*limit))]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// No file with this SHA-256 is stored.
    #[error("文件不存在（SHA-256 {sha256}）")]
    NotFound {
        /// The SHA-256 that was asked for.
        sha256: String,
    },
    /// The string given as a file identifier is not 64 lowercase hexadecimal digits.
    #[error("文件标识无效：应为 64 位小写十六进制的 SHA-256")]
    InvalidHash,
    /// The requested byte range does not lie within the file.
    #[error("请求的字节范围 {start}–{end} 无效（文件大小 {size} 字节）")]
    InvalidRange {
        /// First byte requested.
        start: u64,
        /// One past the last byte requested.
        end: u64,
        /// Size of the file.
        size: u64,
    },
    /// The stream of the upload itself failed (client disconnected, malformed request body).
    #[error("读取上传内容失败：{0}")]
    Upload(#[source] Box<dyn StdError + Send + Sync>),
    /// The configuration cannot be used.
    #[error("文件存储配置有误：{0}")]
    Config(String),
    /// The object store failed.
    #[error("文件存储出错：{0}")]
    Store(#[from] object_store::Error),
    /// Local file I/O failed.
    #[error("文件读写出错：{0}")]
    Io(#[from] std::io::Error),
}

impl FileError {
    /// Whether the error is the client's doing (a 4xx in HTTP terms) rather than the server's.
    ///
    /// A missing file ([`FileError::NotFound`]) is not: callers ask for files the database
    /// refers to, so a missing one means the store lost it.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            Self::TooLarge { .. } | Self::InvalidHash | Self::InvalidRange { .. } | Self::Upload(_)
        )
    }
}

impl FileError {
    /// The kind of the operating-system error underneath, if any (disk full, permission
    /// denied …), looked for through the chain of sources.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        let mut current: Option<&(dyn StdError + 'static)> = Some(self);
        while let Some(e) = current {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                return Some(io.kind());
            }
            current = e.source();
        }
        None
    }
}

/// Formats a byte count the way the limit is shown to users: `2 GiB`, `500 MiB`, `1.5 GiB`,
/// `800 字节`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (unit, name) in UNITS {
        if bytes >= unit {
            if bytes.is_multiple_of(unit) {
                return format!("{} {name}", bytes / unit);
            }
            // One decimal is enough for a limit shown to people.
            let tenths = (u128::from(bytes) * 10 + u128::from(unit) / 2) / u128::from(unit);
            return if tenths.is_multiple_of(10) {
                format!("{} {name}", tenths / 10)
            } else {
                format!("{}.{} {name}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{bytes} 字节")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(2 << 30), "2 GiB");
        assert_eq!(human_size(500 << 20), "500 MiB");
        assert_eq!(human_size(3 << 29), "1.5 GiB");
        assert_eq!(human_size(800), "800 字节");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(u64::MAX), "16777216 TiB");
    }

    #[test]
    fn too_large_message_is_chinese_with_the_limit() {
        let e = FileError::TooLarge { limit: 2 << 30 };
        assert_eq!(e.to_string(), "文件超过大小上限 2 GiB");
        assert!(e.is_client_error());
    }
}
