//! Where the files live.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The backend of a [`crate::FileStore`].
///
/// In a TOML config file (the tag is `backend`):
///
/// ```toml
/// backend = "local"
/// root = "/srv/fazhi/files"
/// ```
///
/// ```toml
/// backend = "s3"
/// bucket = "fazhi-evidence"
/// endpoint = "https://oss-cn-hangzhou.aliyuncs.com"   # MinIO: "http://10.0.0.5:9000"
/// region = "cn-hangzhou"
/// access_key = "…"
/// secret_key = "…"
/// allow_http = false            # true only for an http:// endpoint on a trusted network
/// virtual_hosted_style = false  # true: https://BUCKET.endpoint/KEY (then put the bucket in `endpoint`)
/// ca_cert = "/etc/fazhi/minio-ca.pem"  # optional: an internal CA to trust
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase", deny_unknown_fields)]
pub enum FileStoreConfig {
    /// A directory on the local disk (created if missing).
    Local {
        /// The directory; the default is `<data_dir>/files`.
        root: PathBuf,
    },
    /// An S3-compatible object store. Needs the crate feature `s3` (on by default).
    S3 {
        /// The bucket (it must exist).
        bucket: String,
        /// The endpoint URL, e.g. `https://obs.cn-north-4.myhuaweicloud.com` or
        /// `http://127.0.0.1:9000`. Empty for AWS itself.
        #[serde(default)]
        endpoint: Option<String>,
        /// The signing region (`us-east-1` when empty; MinIO accepts any).
        #[serde(default)]
        region: String,
        /// Access key id.
        access_key: String,
        /// Secret access key (never printed by `Debug`).
        secret_key: String,
        /// Allow a plain `http://` endpoint.
        #[serde(default)]
        allow_http: bool,
        /// Use virtual-hosted-style requests (`https://bucket.host/key`), which Aliyun OSS
        /// requires; `endpoint` must then include the bucket. Path style otherwise.
        #[serde(default)]
        virtual_hosted_style: bool,
        /// A PEM file of extra CA certificates to trust (an on-premises MinIO whose
        /// certificate comes from an internal CA). The system's CAs are trusted as well.
        #[serde(default)]
        ca_cert: Option<PathBuf>,
    },
}

impl FileStoreConfig {
    /// The default: the directory `files` inside the data directory.
    pub fn local_default(data_dir: &Path) -> Self {
        Self::Local {
            root: data_dir.join("files"),
        }
    }
}

impl fmt::Debug for FileStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local { root } => f.debug_struct("Local").field("root", root).finish(),
            Self::S3 {
                bucket,
                endpoint,
                region,
                access_key,
                secret_key: _,
                allow_http,
                virtual_hosted_style,
                ca_cert,
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("endpoint", endpoint)
                .field("region", region)
                .field("access_key", access_key)
                .field("secret_key", &"<已隐藏>")
                .field("allow_http", allow_http)
                .field("virtual_hosted_style", virtual_hosted_style)
                .field("ca_cert", ca_cert)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let c = FileStoreConfig::S3 {
            bucket: "b".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: String::new(),
            access_key: "AK".into(),
            secret_key: "very-secret".into(),
            allow_http: true,
            virtual_hosted_style: false,
            ca_cert: None,
        };
        let s = format!("{c:?}");
        assert!(!s.contains("very-secret"), "{s}");
        assert!(s.contains("AK"), "{s}");
    }

    #[test]
    fn default_is_files_in_the_data_dir() {
        assert_eq!(
            FileStoreConfig::local_default(Path::new("/srv/fazhi")),
            FileStoreConfig::Local {
                root: PathBuf::from("/srv/fazhi/files")
            }
        );
    }
}
