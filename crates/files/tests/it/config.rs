//! Reading the configuration and opening a store from it.

use std::path::PathBuf;

use fazhi_files::{FileStore, FileStoreConfig};

#[test]
fn local_and_s3_configs_parse() {
    let local: FileStoreConfig =
        serde_json::from_str(r#"{"backend": "local", "root": "/srv/fazhi/files"}"#).expect("local");
    assert_eq!(
        local,
        FileStoreConfig::Local {
            root: PathBuf::from("/srv/fazhi/files")
        }
    );

    let s3: FileStoreConfig = serde_json::from_str(
        r#"{"backend": "s3", "bucket": "evidence", "endpoint": "https://obs.cn-north-4.myhuaweicloud.com",
            "region": "cn-north-4", "access_key": "AK", "secret_key": "SK"}"#,
    )
    .expect("s3");
    let FileStoreConfig::S3 {
        allow_http,
        virtual_hosted_style,
        ca_cert,
        ..
    } = s3
    else {
        panic!("not s3: {s3:?}");
    };
    assert!(!allow_http && !virtual_hosted_style && ca_cert.is_none());
}

#[test]
fn bad_configs_are_rejected() {
    for bad in [
        r#"{"backend": "ftp", "root": "/x"}"#,
        r#"{"backend": "local", "root": "/x", "rooot": "/y"}"#,
        r#"{"backend": "s3", "bucket": "b"}"#,
    ] {
        assert!(
            serde_json::from_str::<FileStoreConfig>(bad).is_err(),
            "{bad}"
        );
    }
}

#[cfg(feature = "s3")]
#[test]
fn s3_settings_are_checked_before_use() {
    let s3 = |endpoint: &str, allow_http: bool, key: &str| FileStoreConfig::S3 {
        bucket: "evidence".into(),
        endpoint: Some(endpoint.into()),
        region: String::new(),
        access_key: key.into(),
        secret_key: "secret".into(),
        allow_http,
        virtual_hosted_style: false,
        ca_cert: None,
    };
    for (config, says) in [
        (s3("http://10.0.0.5:9000", false, "AK"), "allow_http"),
        (s3("ftp://10.0.0.5", true, "AK"), "https://"),
        (s3("https://minio.example", false, ""), "access_key"),
    ] {
        let err = FileStore::new(&config).expect_err("invalid");
        assert!(matches!(err, fazhi_files::FileError::Config(_)), "{err:?}");
        assert!(err.to_string().contains(says), "{err}");
    }
    let store = FileStore::new(&s3("http://127.0.0.1:9000", true, "AK")).expect("valid");
    assert_eq!(
        store.to_string(),
        "S3 存储桶 evidence（http://127.0.0.1:9000）"
    );
}

#[cfg(not(feature = "s3"))]
#[test]
fn s3_needs_the_feature() {
    let config = FileStoreConfig::S3 {
        bucket: "evidence".into(),
        endpoint: None,
        region: String::new(),
        access_key: "AK".into(),
        secret_key: "SK".into(),
        allow_http: false,
        virtual_hosted_style: false,
        ca_cert: None,
    };
    let err = FileStore::new(&config).expect_err("no s3");
    assert!(err.to_string().contains("s3 特性"), "{err}");
}
