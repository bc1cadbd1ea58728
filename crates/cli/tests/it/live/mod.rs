//! Tests against the real `fazhi serve` process over loopback HTTP, and what they share:
//! a data directory with a running server ([`Site`]), a minimal HTTP/1.1 client
//! ([`Client`]) and multipart uploads generated on the fly ([`Upload`]).
//!
//! - `backup`: `fazhi backup` during writes and `fazhi restore` keep every acknowledged write.
//! - `upload`: large uploads in constant memory; uploads cut short leave nothing.
//! - `resume`: a 1 GiB upload in chunks (断点续传) across a dropped connection and a restart.
//! - `shared`: two servers on one PostgreSQL database act as one.
//! - `s3`: a 1 GiB upload into an S3 object store in constant memory.
//! - `crash`: the server killed with SIGKILL under a write load and mid-upload loses no
//!   acknowledged write and leaves the audit chain intact.
//!
//! The HTTP client is a few lines over `std::net::TcpStream` (HTTP/1.1, `Connection:
//! close`), so the request body can be generated and written chunk by chunk: nothing the
//! size of the file is ever held in memory, by the test or, we check, by the server.
//! Linux only: peak memory comes from `/proc/<pid>/status`, the expected SHA-256 from
//! coreutils' `sha256sum`.

mod backup;
mod crash;
mod resume;
mod s3;
mod shared;
mod upload;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;
/// The generated content comes in blocks of this size.
const BLOCK: u64 = MIB;
/// The acceptance limit for the server's peak resident memory.
const PEAK_LIMIT_KIB: u64 = 100 * 1024;
/// Passwords the tests set when the forced first change comes.
const ADMIN_PASSWORD: &str = "Admin-upload-2026";
const LIAISON_PASSWORD: &str = "Liaison-upload-2026";
const LIAISON: &str = "sifa";

// --- the site: a data directory, a running server, a liaison with a signed task ------------

struct Site {
    /// Declared first: the server is stopped before its directory goes.
    server: Option<Server>,
    dir: WorkDir,
    /// Logged in as the liaison of 县司法局.
    liaison: Client,
    /// Logged in as the administrator (依法治县办).
    admin: Client,
    /// A task of 县司法局, signed for, so evidence can be added.
    task: i64,
    /// Servers started so far (one log file each).
    starts: u32,
    /// Environment of the servers (and of the set-up's `fazhi user add`): a PostgreSQL
    /// database in `FAZHI_DATABASE_URL`, an S3 file store in `FAZHI_FILE_STORE` and
    /// `FAZHI_S3_*`. Empty: SQLite and files in the data directory.
    env: Vec<(String, String)>,
}

impl Site {
    /// A fresh data directory with an administrator and a liaison (both past the forced
    /// password change), an open round and one of the liaison's tasks signed for.
    fn prepare(tag: &str) -> Site {
        Self::prepare_with(tag, Vec::new())
    }

    /// [`Site::prepare`] on the PostgreSQL database `database_url` (files still in the
    /// data directory).
    fn prepare_on(tag: &str, database_url: Option<String>) -> Site {
        let env = database_url
            .map(|u| vec![("FAZHI_DATABASE_URL".to_string(), u)])
            .unwrap_or_default();
        Self::prepare_with(tag, env)
    }

    /// [`Site::prepare`] with the servers' environment `env` (see [`Site::env`]).
    fn prepare_with(tag: &str, env: Vec<(String, String)>) -> Site {
        let dir = WorkDir::new(tag);
        let mut add_user = Command::new(env!("CARGO_BIN_EXE_fazhi"));
        add_user.env_remove("FAZHI_DATABASE_URL");
        add_user.envs(env.iter().map(|(k, v)| (k, v)));
        let out = add_user
            .args([
                "user",
                "add",
                LIAISON,
                "--name",
                "司法局联络员",
                "--unit",
                "县司法局",
            ])
            .arg("--data-dir")
            .arg(dir.data())
            .env_remove("FAZHI_CONFIG")
            .env_remove("FAZHI_DATA_DIR")
            .output()
            .expect("the fazhi binary runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let admin_initial =
            after(&text, "  初始密码：").expect("first start prints the admin password");
        let liaison_initial = after(
            &text,
            &format!("已创建用户 {LIAISON}（单位联络员），初始密码："),
        )
        .expect("the liaison's initial password");

        let mut site = Site {
            server: None,
            liaison: Client::new(0),
            admin: Client::new(0),
            dir,
            task: 0,
            starts: 0,
            env,
        };
        site.restart();
        let port = site.server().port;

        let mut admin = Client::new(port);
        admin.first_login("admin", &admin_initial, ADMIN_PASSWORD);
        let r = admin.post_form(
            "/admin/rounds",
            &[
                ("name", "2027年度创建工作"),
                ("starts_on", "2027-01-01"),
                ("ends_on", "2027-12-31"),
                ("due_on", "2027-08-31"),
            ],
        );
        assert_eq!(r.status, 303, "open a round: {r:?}");
        assert_eq!(r.header("location"), Some("/tasks"));

        let mut liaison = Client::new(port);
        liaison.first_login(LIAISON, &liaison_initial, LIAISON_PASSWORD);
        let list = liaison.get("/tasks");
        let task = first_task_id(&list.body).expect("the liaison has tasks");
        liaison.get(&format!("/tasks/{task}"));
        let r = liaison.post_form(&format!("/tasks/{task}/action"), &[("action", "sign")]);
        assert_eq!(r.status, 303, "sign for the task: {r:?}");
        site.liaison = liaison;
        site.admin = admin;
        site.task = task;
        site
    }

    fn server(&self) -> &Server {
        self.server.as_ref().expect("the server is running")
    }

    /// Starts a server on the data directory (first or again).
    fn restart(&mut self) {
        assert!(self.server.is_none(), "one server per data directory");
        self.starts += 1;
        let log = self.dir.path.join(format!("server-{}.log", self.starts));
        let server = Server::start(&self.dir.data(), &log, &self.env);
        // Sessions live in the database: the liaison stays logged in.
        self.liaison.port = server.port;
        self.admin.port = server.port;
        self.server = Some(server);
    }

    /// SIGKILL: no clean-up of any kind runs in the server.
    fn kill(&mut self) {
        if let Some(mut s) = self.server.take() {
            s.child.kill().expect("kill the server");
            s.child.wait().expect("wait for the server");
        }
    }

    /// Stops the server (it is killed: the database is consistent at any point).
    fn stop(&mut self) {
        self.kill();
    }

    /// The output of the latest server.
    fn log(&self) -> String {
        let path = self.dir.path.join(format!("server-{}.log", self.starts));
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

/// A `fazhi serve` process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// `fazhi serve` on `data`, with `env` set (see [`Site::env`]).
    fn start(data: &Path, log: &Path, env: &[(String, String)]) -> Server {
        let mut last_output = String::new();
        // The free port is found by binding port 0 and releasing it; another process may
        // take it in between, so try a few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let out = File::create(log).expect("server log");
            let err = out.try_clone().expect("server log");
            let mut command = Command::new(env!("CARGO_BIN_EXE_fazhi"));
            command
                .env_remove("FAZHI_DATABASE_URL")
                .env_remove("FAZHI_FILE_STORE");
            command.envs(env.iter().map(|(k, v)| (k, v)));
            let child = command
                .arg("serve")
                .arg("--data-dir")
                .arg(data)
                .arg("--bind")
                .arg(format!("127.0.0.1:{port}"))
                .env_remove("FAZHI_CONFIG")
                .env_remove("FAZHI_DATA_DIR")
                .env_remove("FAZHI_BIND")
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .expect("start fazhi serve");
            let mut server = Server { child, port };
            let deadline = Instant::now() + Duration::from_secs(120);
            while Instant::now() < deadline && server.is_running() {
                if let Ok(r) = try_request(port, "GET", "/healthz", &[], b"")
                    && r.status == 200
                {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            last_output = std::fs::read_to_string(log).unwrap_or_default();
            assert!(
                !server.is_running(),
                "the server did not answer /healthz within 120 s:\n{last_output}"
            );
            // It exited: most likely the port was taken meanwhile. Try another.
            server.child.wait().ok();
        }
        panic!("the server did not start:\n{last_output}");
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A field of `/proc/<pid>/status`, in KiB.
    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status of the server");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {status}"))
    }

    /// Peak resident memory so far (VmHWM), in KiB.
    fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// Resident memory now (VmRSS), in KiB.
    fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A unique directory under the system's temp directory, removed when dropped (with the
/// gigabyte in it, also when a test fails).
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn new(tag: &str) -> WorkDir {
        let path = std::env::temp_dir().join(format!(
            "fazhi-it-upload-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).expect("work dir");
        WorkDir { path }
    }

    fn data(&self) -> PathBuf {
        self.path.join("data")
    }

    /// The file store's root.
    fn files(&self) -> PathBuf {
        self.data().join("files")
    }

    /// Every regular file in the file store (blobs and temporary objects), sorted.
    fn stray_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                match entry.file_type() {
                    Ok(t) if t.is_dir() => walk(&path, out),
                    Ok(_) => out.push(path),
                    Err(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.files(), &mut out);
        out.sort();
        out
    }

    /// Waits until the server has written part of an upload to a temporary file.
    fn wait_for_temp_file(&self, timeout: Duration) -> PathBuf {
        let tmp = self.files().join("tmp");
        let deadline = Instant::now() + timeout;
        loop {
            let found = std::fs::read_dir(&tmp).ok().and_then(|entries| {
                entries
                    .flatten()
                    .find(|e| e.metadata().is_ok_and(|m| m.is_file() && m.len() > 0))
                    .map(|e| e.path())
            });
            if let Some(path) = found {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "no temporary upload file appeared in {}",
                tmp.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `read` on the data directory's database (with the server stopped), then
    /// closes it.
    fn read_database<T, F>(&self, read: impl FnOnce(fazhi_store::Store) -> F) -> T
    where
        F: std::future::Future<Output = T>,
    {
        let url = format!(
            "sqlite://{}?mode=rw",
            self.data().join("fazhi.sqlite").display()
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let store = fazhi_store::Store::connect(&url)
                .await
                .expect("open the database");
            let out = read(store.clone()).await;
            store.close().await.ok();
            out
        })
    }

    /// What the database holds about evidence (read with the server stopped).
    fn database(&self, task: i64) -> Db {
        self.read_database(|store| async move {
            let count = |table: &'static str| {
                let conn = store.connection();
                async move {
                    let row = conn
                        .query_one_raw(Statement::from_string(
                            conn.get_database_backend(),
                            format!("SELECT COUNT(*) AS n FROM {table}"),
                        ))
                        .await
                        .expect("count")
                        .expect("a row");
                    u64::try_from(row.try_get::<i64>("", "n").expect("n")).expect("a count")
                }
            };
            let evidence_rows = count("evidence").await;
            let version_rows = count("evidence_version").await;
            let blobs = count("blob").await;
            let detail = store
                .task(fazhi_store::TaskId(task))
                .await
                .expect("the task");
            let evidence = detail
                .evidence
                .iter()
                .map(|e| {
                    let v = e.current().expect("a current version");
                    (v.blob_sha256.clone(), v.blob.as_ref().map(|b| b.size))
                })
                .collect();
            Db {
                evidence,
                evidence_rows,
                version_rows,
                blobs,
            }
        })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.path).ok();
    }
}

/// Evidence in the database.
#[derive(Debug)]
struct Db {
    /// The task's evidence: (SHA-256, size) of each item's current version.
    evidence: Vec<(Option<String>, Option<u64>)>,
    /// Rows of the `evidence` table (any task, deleted or not).
    evidence_rows: u64,
    /// Rows of `evidence_version`.
    version_rows: u64,
    /// Rows of `blob`.
    blobs: u64,
}

// --- a minimal HTTP/1.1 client ---------------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request on a fresh connection (`Connection: close`); the response is read to the
/// end. `headers` are extra header lines.
fn try_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[String],
    body: &[u8],
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    read_response(stream)
}

fn read_response(stream: TcpStream) -> std::io::Result<Resp> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&format!("status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l
            .split_once(':')
            .ok_or_else(|| bad(&format!("header {l:?}")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| bad(&format!("chunk size {line:?}")))?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A browser-like session: the session cookie and the latest page's CSRF token.
struct Client {
    port: u16,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl Client {
    fn new(port: u16) -> Client {
        Client {
            port,
            cookie: None,
            csrf: None,
        }
    }

    fn send(&mut self, method: &str, path: &str, headers: Vec<String>, body: &[u8]) -> Resp {
        self.try_send(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// A request whose failed connection is an error, not a panic (the server may be
    /// killed mid-request).
    fn try_send(
        &mut self,
        method: &str,
        path: &str,
        mut headers: Vec<String>,
        body: &[u8],
    ) -> std::io::Result<Resp> {
        if let Some(c) = &self.cookie {
            headers.push(format!("Cookie: {c}"));
        }
        let r = try_request(self.port, method, path, &headers, body)?;
        if let Some(c) = r.header("set-cookie") {
            let pair = c.split(';').next().unwrap_or_default();
            self.cookie = (!pair.ends_with('=')).then(|| pair.to_string());
        }
        if let Some(t) = scrape_csrf(&r.body) {
            self.csrf = Some(t);
        }
        Ok(r)
    }

    fn get(&mut self, path: &str) -> Resp {
        self.send("GET", path, Vec::new(), b"")
    }

    /// POST a form with the current CSRF token.
    fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.try_post_form(path, fields)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// [`Client::post_form`] whose failed connection is an error, not a panic.
    fn try_post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> std::io::Result<Resp> {
        let csrf = self
            .csrf
            .clone()
            .expect("a CSRF token from an earlier page");
        let mut body = String::new();
        for (k, v) in fields.iter().copied().chain([("_csrf", csrf.as_str())]) {
            if !body.is_empty() {
                body.push('&');
            }
            body.push_str(&form_encode(k));
            body.push('=');
            body.push_str(&form_encode(v));
        }
        let headers = vec!["Content-Type: application/x-www-form-urlencoded".to_string()];
        self.try_send("POST", path, headers, body.as_bytes())
    }

    /// Logs in; returns where the server sent us.
    fn login(&mut self, username: &str, password: &str) -> String {
        let page = self.get("/login");
        assert_eq!(page.status, 200, "{page:?}");
        let r = self.post_form(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        );
        assert_eq!(r.status, 303, "login of {username}: {r:?}");
        let to = r.header("location").unwrap_or_default().to_string();
        // Like a browser: follow the redirects; the page at the end has the new session's
        // CSRF token.
        let mut next = to.clone();
        for _ in 0..5 {
            let page = self.get(&next);
            match page.status {
                200 => return to,
                301 | 302 | 303 | 307 => {
                    next = page.header("location").unwrap_or_default().to_string();
                }
                _ => panic!("{next} after login: {page:?}"),
            }
        }
        panic!("too many redirects after login, last to {next}");
    }

    /// Logs in with the initial password and makes the forced change.
    fn first_login(&mut self, username: &str, initial: &str, new: &str) {
        assert_eq!(self.login(username, initial), "/password");
        let r = self.post_form(
            "/password",
            &[("current", initial), ("new", new), ("confirm", new)],
        );
        assert_eq!(r.status, 303, "password change of {username}: {r:?}");
        self.get("/");
    }
}

/// The value of the first `name="_csrf"` hidden field on a page.
fn scrape_csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")?;
    let rest = &html[at + "name=\"_csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The rest of the first line of `text` that starts with `prefix`, trimmed.
fn after(text: &str, prefix: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The first task linked from a task list (a liaison only sees its unit's tasks).
fn first_task_id(html: &str) -> Option<i64> {
    html.match_indices("href=\"/tasks/").find_map(|(at, m)| {
        let digits: String = html[at + m.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}

// --- the upload: a multipart body generated on the fly ---------------------------------------

/// Block `index` of the generated content: pseudo-random bytes (xorshift64*), different
/// for every block, so the file is neither zeros nor periodic.
fn fill_block(index: u64, buf: &mut [u8]) {
    let mut x =
        0x9E37_79B9_7F4A_7C15_u64 ^ (index.wrapping_add(1)).wrapping_mul(0xD1B5_4A32_D192_ED03);
    for word in buf.chunks_exact_mut(8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        word.copy_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
}

/// The SHA-256 of the first `size` bytes of the generated content, computed by
/// `sha256sum` in parallel with the upload (from the same generator).
fn expected_sha256(size: u64) -> JoinHandle<String> {
    assert_eq!(size % BLOCK, 0);
    std::thread::spawn(move || {
        let mut child = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sha256sum (coreutils) runs");
        let mut stdin = child.stdin.take().expect("stdin");
        let mut buf = vec![0u8; BLOCK as usize];
        for i in 0..size / BLOCK {
            fill_block(i, &mut buf);
            stdin.write_all(&buf).expect("feed sha256sum");
        }
        drop(stdin);
        let out = child.wait_with_output().expect("sha256sum output");
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).expect("hex");
        let hex = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        assert_eq!(hex.len(), 64, "{text}");
        hex
    })
}

/// A multipart upload of generated content to `/tasks/{id}/files`, written as it goes.
struct Upload {
    stream: TcpStream,
    size: u64,
    sent: u64,
    buf: Vec<u8>,
    closing: String,
}

impl Upload {
    /// Sends the request head and the multipart fields up to the file's first byte.
    fn begin(site: &Site, title: &str, file_name: &str, size: u64) -> Upload {
        assert_eq!(size % BLOCK, 0);
        let client = &site.liaison;
        let boundary = "----fazhi-upload-test-7f3a9c1e5d2b";
        let fields = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        );
        let closing = format!("\r\n--{boundary}--\r\n");
        let length = fields.len() as u64 + size + closing.len() as u64;
        let csrf = client.csrf.as_deref().expect("a CSRF token");
        let cookie = client.cookie.as_deref().expect("logged in");
        let head = format!(
            "POST /tasks/{}/files?_csrf={} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\n",
            site.task,
            form_encode(csrf),
            port = client.port,
        );
        let mut stream = TcpStream::connect(("127.0.0.1", client.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(300)))
            .expect("timeout");
        stream
            .set_write_timeout(Some(Duration::from_secs(120)))
            .expect("timeout");
        stream.write_all(head.as_bytes()).expect("request head");
        stream.write_all(fields.as_bytes()).expect("form fields");
        Upload {
            stream,
            size,
            sent: 0,
            buf: vec![0u8; BLOCK as usize],
            closing,
        }
    }

    /// Sends the next `n` bytes of the file.
    fn send(&mut self, n: u64) {
        assert_eq!(n % BLOCK, 0);
        assert!(self.sent + n <= self.size);
        for _ in 0..n / BLOCK {
            fill_block(self.sent / BLOCK, &mut self.buf);
            self.stream.write_all(&self.buf).expect("send the file");
            self.sent += BLOCK;
        }
    }

    /// Ends the body and reads the response.
    fn finish(mut self) -> Resp {
        assert_eq!(self.sent, self.size, "the whole file was sent");
        self.stream
            .write_all(self.closing.as_bytes())
            .expect("closing boundary");
        read_response(self.stream).expect("the upload's response")
    }

    /// Closes the connection in the middle of the body.
    fn disconnect(self) {
        self.stream.shutdown(Shutdown::Both).ok();
    }
}
