//! Two `fazhi serve` processes on one PostgreSQL database and one file store act as one
//! server: a re-assignment, a task step and a login lock made through one are seen through
//! the other within a second (its read caches follow the database's notifications), and an
//! upload in progress on one survives the start of another.
//!
//! Needs the PostgreSQL server of `FAZHI_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); skipped with a note when it cannot be reached,
//! unless `FAZHI_TEST_PG=require` (CI).

use super::*;

/// A database created for this test, dropped at the end.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(tag: &str) -> Option<PgDatabase> {
        let mode = std::env::var("FAZHI_TEST_PG").unwrap_or_else(|_| "auto".into());
        if mode == "skip" {
            return None;
        }
        let admin_url = std::env::var("FAZHI_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("fazhi_live_{tag}_{}", std::process::id());
        let created = run_sql(
            &admin_url,
            &[
                format!("DROP DATABASE IF EXISTS {name}"),
                format!("CREATE DATABASE {name}"),
            ],
        );
        match created {
            Ok(()) => {}
            Err(e) if mode == "require" => {
                panic!("FAZHI_TEST_PG=require，但无法连接 PostgreSQL（{admin_url}）：{e}")
            }
            Err(e) => {
                eprintln!("跳过：无法连接 PostgreSQL（{e}）");
                return None;
            }
        }
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = run_sql(
            &self.admin_url,
            &[format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )],
        );
    }
}

fn run_sql(url: &str, statements: &[String]) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let db = sea_orm::Database::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        for s in statements {
            db.execute_unprepared(s).await.map_err(|e| e.to_string())?;
        }
        db.close().await.ok();
        Ok(())
    })
}

/// Polls `check` until it holds or `limit` passes; returns how long it took.
fn within(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if check() {
            return Some(started.elapsed());
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first `/prefix{id}` link on a page.
fn first_id(html: &str, prefix: &str) -> Option<i64> {
    html.match_indices(prefix).find_map(|(at, m)| {
        let digits: String = html[at + m.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}

#[test]
fn two_servers_on_one_database_act_as_one() {
    let Some(db) = PgDatabase::create("shared") else {
        return;
    };
    // Server A: the set-up (admin, round, the liaison's task signed) runs through it.
    let mut site = Site::prepare_on("shared", Some(db.url.clone()));
    let a = site.server().port;
    // Server B: same database, same file store.
    let log_b = site.dir.path.join("server-b.log");
    let b_server = Server::start(&site.dir.data(), &log_b, &site.env);
    let b = b_server.port;
    let log_b_text = || std::fs::read_to_string(&log_b).unwrap_or_default();

    // The liaison reads its 责任清单 through B (which caches it).
    let mut on_b = Client::new(b);
    on_b.cookie = site.liaison.cookie.clone();
    on_b.csrf = site.liaison.csrf.clone();
    let home = on_b.get("/tasks");
    let unit = first_id(&home.body, "href=\"/units/").expect("a link to the unit's list");
    let list = on_b.get(&format!("/units/{unit}"));
    assert_eq!(list.status, 200, "{list:?}");
    let indicator = first_id(&list.body, "href=\"/indicators/").expect("an indicator in the list");
    let link = format!("href=\"/indicators/{indicator}\"");
    assert!(list.body.contains(&link));

    // The office takes that indicator away from 县司法局 through A …
    let page = site.admin.get(&format!("/indicators/{indicator}"));
    assert_eq!(page.status, 200, "{page:?}");
    let r = site.admin.post_form(
        &format!("/indicators/{indicator}/unassign"),
        &[("unit_id", &unit.to_string())],
    );
    assert_eq!(r.status, 303, "unassign: {r:?}");
    // … and B no longer lists it, within a second.
    let seen = within(Duration::from_secs(1), || {
        !on_b.get(&format!("/units/{unit}")).body.contains(&link)
    });
    assert!(
        seen.is_some(),
        "B still lists the indicator a second after A took it away\n{}",
        log_b_text()
    );
    println!(
        "re-assignment on A seen on B after {:?}",
        seen.unwrap_or_default()
    );

    // A task step through B is seen through A.
    let list = on_b.get("/tasks");
    let pending: Vec<i64> = list
        .body
        .match_indices("href=\"/tasks/")
        .filter_map(|(at, m)| {
            let digits: String = list.body[at + m.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .filter(|id| *id != site.task)
        .collect();
    let other = *pending.first().expect("another task of the liaison");
    on_b.get(&format!("/tasks/{other}"));
    let r = on_b.post_form(&format!("/tasks/{other}/action"), &[("action", "sign")]);
    assert_eq!(r.status, 303, "sign through B: {r:?}");
    let seen = within(Duration::from_secs(1), || {
        site.admin
            .get(&format!("/tasks/{other}"))
            .body
            .contains(">办理中</span>")
    });
    println!("step on B seen on A after {seen:?}");
    if seen.is_none() {
        let page = site.admin.get(&format!("/tasks/{other}"));
        let at = page.body.find("class=\"status").unwrap_or(0);
        panic!(
            "A does not show the step taken on B: {} {}",
            page.status,
            page.body.get(at..at + 200).unwrap_or(&page.body)
        );
    }

    // Failed logins through A lock the account on B too.
    let mut stranger_a = Client::new(a);
    for _ in 0..6 {
        stranger_a.get("/login");
        stranger_a.post_form(
            "/login",
            &[
                ("username", LIAISON),
                ("password", "wrong-password"),
                ("next", "/"),
            ],
        );
    }
    let mut stranger_b = Client::new(b);
    stranger_b.get("/login");
    let r = stranger_b.post_form(
        "/login",
        &[
            ("username", LIAISON),
            ("password", LIAISON_PASSWORD),
            ("next", "/"),
        ],
    );
    assert_ne!(r.status, 303, "B let the locked account in: {r:?}");
    assert!(r.body.contains("次数过多"), "B says why: {}", r.body);

    // An upload in progress on A survives the start of a third server.
    let hash = expected_sha256(64 * MIB);
    let mut upload = Upload::begin(&site, "共享部署下的上传", "shared.bin", 64 * MIB);
    upload.send(32 * MIB);
    let temp = site.dir.wait_for_temp_file(Duration::from_secs(30));
    let log_c = site.dir.path.join("server-c.log");
    let c_server = Server::start(&site.dir.data(), &log_c, &site.env);
    assert!(
        temp.exists(),
        "the third server's start removed A's upload in progress"
    );
    upload.send(32 * MIB);
    let r = upload.finish();
    assert_eq!(r.status, 303, "{r:?}\n{}", site.log());
    let expected = hash.join().expect("sha256sum");
    let blob = site
        .dir
        .files()
        .join("blobs")
        .join(&expected[..2])
        .join(&expected);
    assert!(blob.exists(), "the upload is stored at its hash");
    drop(c_server);
    drop(b_server);
    site.stop();
}

#[test]
fn pages_say_the_database_is_unavailable_within_seconds() {
    let Some(db) = PgDatabase::create("gone") else {
        return;
    };
    let mut site = Site::prepare_on("gone", Some(db.url.clone()));
    let page = site.liaison.get("/tasks");
    assert_eq!(page.status, 200);
    let health = site.liaison.get("/healthz");
    assert_eq!(health.status, 200, "{health:?}");
    assert!(
        health.body.contains("\"database\":\"ok\""),
        "{}",
        health.body
    );

    // The database goes away under the running server (its connections are cut).
    run_sql(
        &db.admin_url,
        &[format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name)],
    )
    .expect("drop the database");

    let started = Instant::now();
    let page = site.liaison.get("/tasks");
    let elapsed = started.elapsed();
    assert_eq!(page.status, 503, "{page:?}\n{}", site.log());
    assert!(page.body.contains("数据库暂时无法连接"), "{}", page.body);
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    let api = site.liaison.get("/api/v1/indicators");
    assert_eq!(api.status, 503, "{api:?}");
    assert!(api.body.contains("\"error\""), "{}", api.body);
    let health = site.liaison.get("/healthz");
    assert_eq!(health.status, 503, "{health:?}");
    assert!(
        health.body.contains("\"file_store\":\"ok\""),
        "{}",
        health.body
    );
    assert!(
        health.body.contains("\"database\":\"不可用"),
        "{}",
        health.body
    );
    let running = site.server.as_mut().is_some_and(Server::is_running);
    assert!(running, "the server keeps running:\n{}", site.log());
    site.stop();
}

/// A county that ran alone (SQLite, local files) moves to a shared deployment with
/// `fazhi migrate-data`: the server started on the target sees the same work and files.
#[test]
fn a_county_moves_with_migrate_data() {
    let Some(db) = PgDatabase::create("move") else {
        return;
    };
    let mut site = Site::prepare("move");
    let mut upload = Upload::begin(&site, "迁移前的材料", "moved.bin", 4 * MIB);
    upload.send(4 * MIB);
    assert_eq!(upload.finish().status, 303);
    let sha = expected_sha256(4 * MIB).join().expect("sha256sum");
    site.stop();

    let target_dir = site.dir.path.join("shared-files");
    let target_config = site.dir.path.join("target.toml");
    std::fs::write(
        &target_config,
        format!(
            "[file_store]\nbackend = \"local\"\nroot = \"{}\"\n",
            target_dir.join("files").display()
        ),
    )
    .expect("target config");
    let run = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fazhi"));
        c.arg("migrate-data")
            .arg("--data-dir")
            .arg(site.dir.data())
            .args(["--to", &db.url])
            .args(extra)
            .env_remove("FAZHI_DATABASE_URL")
            .env_remove("FAZHI_CONFIG")
            .env_remove("FAZHI_FILE_STORE");
        c.output().expect("fazhi migrate-data")
    };
    let out = run(&["--files-to", target_config.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("审计日志校验通过"), "{text}");
    assert!(text.contains("迁移完成"), "{text}");
    assert!(!text.contains("不一致"), "{text}");
    // Into a database that now holds data: refused, nothing written.
    let again = run(&[]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("不是空的"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A server on the target (PostgreSQL, the copied files) shows the same work.
    let log = site.dir.path.join("target.log");
    let server = Server::start(
        &target_dir,
        &log,
        &[("FAZHI_DATABASE_URL".to_string(), db.url.clone())],
    );
    let mut liaison = Client::new(server.port);
    liaison.login(LIAISON, LIAISON_PASSWORD);
    let page = liaison.get(&format!("/tasks/{}", site.task));
    assert!(page.body.contains("迁移前的材料"), "{}", page.body);
    let blob = target_dir
        .join("files")
        .join("blobs")
        .join(&sha[..2])
        .join(&sha);
    assert_eq!(
        std::fs::metadata(&blob).expect("copied file").len(),
        4 * MIB
    );
    drop(server);
}

/// Two servers with data directories of their own on one database and one bucket (Garage):
/// a 佐证材料汇编 built by whichever server's worker took it is downloaded through the other.
#[test]
fn a_package_built_on_one_server_downloads_from_another() {
    let Some(db) = PgDatabase::create("pkgshare") else {
        return;
    };
    let Some(garage) = fazhi_files::test_support::Garage::start() else {
        return;
    };
    let mut env = garage.serve_env();
    env.push(("FAZHI_DATABASE_URL".to_string(), db.url.clone()));
    let mut site = Site::prepare_with("pkgshare", env);
    let data_b = site.dir.path.join("data-b");
    std::fs::create_dir_all(&data_b).expect("B's data directory");
    let log_b = site.dir.path.join("server-b.log");
    let b_server = Server::start(&data_b, &log_b, &site.env);
    let mut on_b = Client::new(b_server.port);
    on_b.cookie = site.admin.cookie.clone();
    on_b.csrf = site.admin.csrf.clone();

    site.admin.get("/packages");
    let r = site.admin.post_form("/packages", &[]);
    assert_eq!(r.status, 303, "request a package on A: {r:?}");
    // Either worker may build it; B serves it when done.
    let mut link = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while link.is_none() && Instant::now() < deadline {
        let jobs = on_b.get("/packages/jobs");
        link = first_id(&jobs.body, "href=\"/packages/")
            .map(|id| format!("/packages/{id}/file"))
            .filter(|l| jobs.body.contains(l.as_str()));
        std::thread::sleep(Duration::from_millis(200));
    }
    let link = link.expect("the package is built within a minute");
    for (name, client) in [("B", &mut on_b), ("A", &mut site.admin)] {
        let file = client.get(&link);
        assert_eq!(file.status, 200, "download through {name}: {file:?}");
        assert_eq!(file.header("content-type"), Some("application/zip"));
        assert!(file.body.starts_with("PK"), "a zip archive through {name}");
    }
    for data in [site.dir.data(), data_b] {
        let left: Vec<_> = std::fs::read_dir(data.join("packages"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(
            left.is_empty(),
            "nothing kept on an instance's disk: {left:?}"
        );
    }
    drop(b_server);
    site.stop();
}
