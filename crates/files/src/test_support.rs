//! A real S3 server for the tests of this crate and the ones above it: Garage (the `garage`
//! crate, a distributed object store), one node started on 127.0.0.1 in a directory of its
//! own, with a bucket and a key. `.ci/run` builds the binary once and caches it outside the
//! clone (`$HOME/.cache/garage/bin/garage`); `FAZHI_GARAGE` names another.
//!
//! Without the binary, [`Garage::start`] prints a note and returns `None` (the test passes
//! without S3), unless `FAZHI_TEST_S3=require`, which makes it fail instead.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::FileStoreConfig;

/// The bucket the tests use.
pub const BUCKET: &str = "fazhi-evidence";
/// Garage's signing region, as configured here.
pub const REGION: &str = "garage";
// A key in Garage's format (`GK` + 24 hex digits, secret of 64), imported at start.
const ACCESS_KEY: &str = "GK0123456789abcdef01234567";
const SECRET_KEY: &str = "5a3f0c2b9e8d7f6a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899";

/// A running Garage node; stopped and its directory removed when dropped.
pub struct Garage {
    child: Child,
    dir: PathBuf,
    binary: PathBuf,
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn required() -> bool {
    std::env::var("FAZHI_TEST_S3").is_ok_and(|v| v == "require")
}

/// The Garage binary: `FAZHI_GARAGE`, `garage` on the PATH, or the one `.ci/run` caches.
pub fn garage_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FAZHI_GARAGE") {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("garage"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let cached = PathBuf::from(std::env::var_os("HOME")?).join(".cache/garage/bin/garage");
        cached.is_file().then_some(cached)
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Garage {
    /// Starts a node with the bucket [`BUCKET`], or explains why not (see the module).
    pub fn start() -> Option<Garage> {
        let Some(binary) = garage_binary() else {
            let why = "没有 garage（.ci/run 会编译并缓存它；或设置 FAZHI_GARAGE）";
            assert!(!required(), "FAZHI_TEST_S3=require，但{why}");
            eprintln!("{why}，已跳过 S3 测试");
            return None;
        };
        let dir = std::env::temp_dir().join(format!(
            "fazhi-garage-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("garage directory");
        let (s3, rpc) = (free_port(), free_port());
        let config = format!(
            r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"
"#,
            meta = dir.join("meta").display(),
            data = dir.join("data").display(),
            secret = "0f".repeat(32),
        );
        std::fs::write(dir.join("garage.toml"), config).expect("garage.toml");
        let log = std::fs::File::create(dir.join("garage.log")).expect("garage.log");
        let child = Command::new(&binary)
            .arg("-c")
            .arg(dir.join("garage.toml"))
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("garage {} 无法启动：{e}", binary.display()));
        let garage = Garage {
            child,
            dir,
            binary,
            endpoint: format!("http://127.0.0.1:{s3}"),
        };
        garage.set_up();
        Some(garage)
    }

    /// Runs a `garage` administration command against this node; its standard output.
    pub fn admin(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.binary)
            .arg("-c")
            .arg(self.dir.join("garage.toml"))
            .args(args)
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "garage {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// One node in the layout, the key, the bucket and the key's rights on it.
    fn set_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let node = loop {
            match self.admin(&["node", "id", "-q"]) {
                Ok(id) => break id.trim().split('@').next().unwrap_or_default().to_string(),
                Err(e) if Instant::now() > deadline => {
                    panic!("garage did not start: {e}\n{}", self.log())
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        let steps: [&[&str]; 5] = [
            &["layout", "assign", "-z", "dc1", "-c", "1G", &node],
            &["layout", "apply", "--version", "1"],
            &[
                "key", "import", "--yes", "-n", "fazhi", ACCESS_KEY, SECRET_KEY,
            ],
            &["bucket", "create", BUCKET],
            &[
                "bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", "fazhi",
            ],
        ];
        for step in steps {
            if let Err(e) = self.admin(step) {
                panic!("{e}\n{}", self.log());
            }
        }
        // The bucket answers once the layout is live.
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.admin(&["bucket", "info", BUCKET]).is_err() {
            assert!(
                Instant::now() < deadline,
                "garage bucket not ready\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the node wrote to its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("garage.log")).unwrap_or_default()
    }

    /// The file-store configuration of the bucket.
    pub fn config(&self) -> FileStoreConfig {
        FileStoreConfig::S3 {
            bucket: BUCKET.into(),
            endpoint: Some(self.endpoint.clone()),
            region: REGION.into(),
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            allow_http: true,
            virtual_hosted_style: false,
            ca_cert: None,
        }
    }

    /// The environment that makes `fazhi serve` keep its files in the bucket.
    pub fn serve_env(&self) -> Vec<(String, String)> {
        [
            ("FAZHI_FILE_STORE", "s3"),
            ("FAZHI_S3_BUCKET", BUCKET),
            ("FAZHI_S3_ENDPOINT", &self.endpoint),
            ("FAZHI_S3_REGION", REGION),
            ("FAZHI_S3_ALLOW_HTTP", "true"),
            ("FAZHI_S3_ACCESS_KEY", ACCESS_KEY),
            ("FAZHI_S3_SECRET_KEY", SECRET_KEY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The secret key, for checks that it is never logged.
    pub fn secret_key(&self) -> &'static str {
        SECRET_KEY
    }

    /// Multipart uploads started in the bucket and neither completed nor aborted, as the
    /// node counts them.
    pub fn unfinished_uploads(&self) -> usize {
        let info = self
            .admin(&["bucket", "info", BUCKET])
            .unwrap_or_else(|e| panic!("{e}"));
        parse_unfinished_uploads(&info)
            .unwrap_or_else(|| panic!("no count of unfinished uploads in:\n{info}"))
    }

    /// Where the node keeps its data (to check that nothing is left on the local disk).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The count of "Unfinished uploads: N multipart uploads" in `garage bucket info`, which
/// leaves the line out when there are none; `None` when the text is not a bucket's info.
fn parse_unfinished_uploads(info: &str) -> Option<usize> {
    let counted = info.lines().find_map(|line| {
        let (label, rest) = line.split_once(':')?;
        if label.trim() != "Unfinished uploads" {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    });
    match counted {
        Some(n) => Some(n),
        None => info.lines().any(|l| l.starts_with("Objects:")).then_some(0),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_unfinished_uploads;

    #[test]
    fn garage_bucket_info_is_read() {
        let none = "Size:\t12.6 MB\nObjects:\t2\n\nWebsite access:\tfalse\n";
        assert_eq!(parse_unfinished_uploads(none), Some(0));
        let two = "Objects:\t2\nUnfinished uploads:\t2 multipart uploads\n\t3 including regular uploads\n";
        assert_eq!(parse_unfinished_uploads(two), Some(2));
        assert_eq!(parse_unfinished_uploads("error"), None);
    }
}
