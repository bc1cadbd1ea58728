//! `fazhi serve` and `fazhi user …`: commands that work on the platform's database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use fazhi_files::FileStoreConfig;
use fazhi_store::{Actor, NewUser, Store, UnitId, UserRole};
use fazhi_web::{AppState, Config, InitialAdmin, password};
use serde::Deserialize;

/// Where the data lives; shared by every command that opens the database.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// 数据目录：SQLite 数据库与上传文件都在这里
    #[arg(long, env = "FAZHI_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// 数据库地址，如 sqlite://fazhi.sqlite 或 postgres://user@host/db；默认为数据目录下的 SQLite 文件
    #[arg(long, env = "FAZHI_DATABASE_URL", value_name = "URL", global = true)]
    pub database_url: Option<String>,
    /// 配置文件（TOML，键：bind、data_dir、database_url、secure_cookies、public_url、trusted_proxy_header、max_import_mb、max_upload_mb、warn_workdays、package_keep_days、utc_offset，以及 [file_store] 表：backend、root、bucket、endpoint、region、allow_http、virtual_hosted_style、ca_cert、credentials_file）
    #[arg(long, env = "FAZHI_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// 监听地址，默认只在本机 127.0.0.1:8080
    #[arg(long, env = "FAZHI_BIND", value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    secure_cookies: Option<bool>,
    max_import_mb: Option<usize>,
    /// Largest evidence file in MiB (default 2048).
    max_upload_mb: Option<u64>,
    /// Working days before a due date at which the light turns yellow (default 3).
    warn_workdays: Option<u32>,
    /// The address users reach the platform at, e.g. `https://fazhi.example.gov.cn`.
    public_url: Option<String>,
    /// Behind a reverse proxy: the header carrying the client address (`X-Forwarded-For`).
    trusted_proxy_header: Option<String>,
    /// The county's UTC offset for "today" (default `+08:00`, Beijing time).
    utc_offset: Option<String>,
    /// Days a finished 佐证材料汇编 stays downloadable (default 7).
    package_keep_days: Option<u32>,
    /// Where evidence files live: `[file_store]` (see [`file_store_config`]).
    file_store: Option<FileStoreSection>,
}

/// `[file_store]` of the config file. The credentials of an S3 store are never read from
/// here (a config file is copied around and checked in): they come from the environment
/// or from `credentials_file`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStoreSection {
    /// `local` (default) or `s3`.
    backend: Option<String>,
    /// Local: the directory (default `<data_dir>/files`).
    root: Option<PathBuf>,
    bucket: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    allow_http: Option<bool>,
    virtual_hosted_style: Option<bool>,
    ca_cert: Option<PathBuf>,
    /// A TOML file with `access_key = "…"` and `secret_key = "…"` (mode 0600).
    credentials_file: Option<PathBuf>,
    /// Refused with a message saying where credentials go.
    access_key: Option<String>,
    secret_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct S3Credentials {
    access_key: String,
    secret_key: String,
}

/// The file store the configuration describes: environment variables first
/// (`FAZHI_FILE_STORE`, `FAZHI_S3_BUCKET`, `FAZHI_S3_ENDPOINT`, `FAZHI_S3_REGION`,
/// `FAZHI_S3_ALLOW_HTTP`, `FAZHI_S3_VIRTUAL_HOSTED_STYLE`, `FAZHI_S3_CA_CERT`,
/// `FAZHI_S3_CREDENTIALS_FILE`, and the keys in `FAZHI_S3_ACCESS_KEY` /
/// `FAZHI_S3_SECRET_KEY`), then `[file_store]` of the config file, then the local
/// directory `<data_dir>/files`.
pub(crate) fn file_store_config(data: &DataArgs, data_dir: &Path) -> Result<FileStoreConfig> {
    let file = read_file_config(data.config.as_deref())?;
    file_store_from(
        file.file_store.unwrap_or_default(),
        &|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()),
        data_dir,
    )
}

/// The `[file_store]` of another config file (the target of `fazhi migrate-data
/// --files-to`), with the same environment for its keys.
pub(crate) fn file_store_config_from_file(path: &Path, data_dir: &Path) -> Result<FileStoreConfig> {
    let file = read_file_config(Some(path))?;
    let Some(section) = file.file_store else {
        bail!("{} 中没有 [file_store]", path.display());
    };
    // Only the keys come from the environment: the rest of it describes the source.
    file_store_from(
        section,
        &|name| {
            matches!(
                name,
                "FAZHI_S3_ACCESS_KEY" | "FAZHI_S3_SECRET_KEY" | "FAZHI_S3_CREDENTIALS_FILE"
            )
            .then(|| std::env::var(name).ok())
            .flatten()
            .filter(|v| !v.trim().is_empty())
        },
        data_dir,
    )
}

fn file_store_from(
    section: FileStoreSection,
    env: &dyn Fn(&str) -> Option<String>,
    data_dir: &Path,
) -> Result<FileStoreConfig> {
    if section.access_key.is_some() || section.secret_key.is_some() {
        bail!(
            "配置文件的 [file_store] 中不能写访问密钥（access_key、secret_key）：请放在环境变量 FAZHI_S3_ACCESS_KEY、FAZHI_S3_SECRET_KEY 中，或写入 credentials_file 指定的文件（权限 0600）"
        );
    }
    let flag = |name: &str, from_file: Option<bool>| -> Result<bool> {
        match env(name) {
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => Ok(true),
                "0" | "false" | "no" => Ok(false),
                _ => bail!("环境变量 {name} 应为 true 或 false（现为“{v}”）"),
            },
            None => Ok(from_file.unwrap_or(false)),
        }
    };
    let backend = env("FAZHI_FILE_STORE")
        .or(section.backend)
        .unwrap_or_else(|| "local".into());
    match backend.trim().to_ascii_lowercase().as_str() {
        "local" => Ok(FileStoreConfig::Local {
            root: section.root.unwrap_or_else(|| data_dir.join("files")),
        }),
        "s3" => {
            let bucket = env("FAZHI_S3_BUCKET").or(section.bucket).ok_or_else(|| {
                anyhow::anyhow!(
                    "文件存储为 s3 时须指定存储桶（[file_store] bucket 或 FAZHI_S3_BUCKET）"
                )
            })?;
            let credentials_file = env("FAZHI_S3_CREDENTIALS_FILE")
                .map(PathBuf::from)
                .or(section.credentials_file);
            let (access_key, secret_key) = match (
                env("FAZHI_S3_ACCESS_KEY"),
                env("FAZHI_S3_SECRET_KEY"),
                credentials_file,
            ) {
                (Some(a), Some(s), _) => (a, s),
                (_, _, Some(path)) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("无法读取 S3 凭据文件 {}", path.display()))?;
                    let c: S3Credentials = toml::from_str(&text).with_context(|| {
                            format!(
                                "S3 凭据文件 {} 格式错误，应为两行：access_key = \"…\" 和 secret_key = \"…\"",
                                path.display()
                            )
                        })?;
                    (c.access_key, c.secret_key)
                }
                _ => bail!(
                    "文件存储为 s3 时须提供访问密钥：环境变量 FAZHI_S3_ACCESS_KEY 和 FAZHI_S3_SECRET_KEY，或 credentials_file"
                ),
            };
            Ok(FileStoreConfig::S3 {
                bucket,
                endpoint: env("FAZHI_S3_ENDPOINT").or(section.endpoint),
                region: env("FAZHI_S3_REGION")
                    .or(section.region)
                    .unwrap_or_default(),
                access_key,
                secret_key,
                allow_http: flag("FAZHI_S3_ALLOW_HTTP", section.allow_http)?,
                virtual_hosted_style: flag(
                    "FAZHI_S3_VIRTUAL_HOSTED_STYLE",
                    section.virtual_hosted_style,
                )?,
                ca_cert: env("FAZHI_S3_CA_CERT")
                    .map(PathBuf::from)
                    .or(section.ca_cert),
            })
        }
        other => bail!("不认识的文件存储类型“{other}”，应为 local 或 s3"),
    }
}

fn read_file_config(path: Option<&Path>) -> Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("无法读取配置文件 {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("配置文件 {} 格式错误", path.display()))
}

/// Flags and environment first, then the config file, then defaults.
pub(crate) fn resolve(data: &DataArgs, bind: Option<SocketAddr>) -> Result<(Config, String)> {
    let file = read_file_config(data.config.as_deref())?;
    let data_dir = data
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("fazhi-data"));
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("无法创建数据目录 {}", data_dir.display()))?;
    let url = match data.database_url.clone().or(file.database_url) {
        Some(u) => u,
        None => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("fazhi.sqlite").display()
        ),
    };
    let bind = bind
        .or(file.bind)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let mut config = Config::new(bind, data_dir);
    config.secure_cookies = file.secure_cookies.unwrap_or(false);
    if let Some(mb) = file.max_import_mb {
        config.max_import_bytes = mb * 1024 * 1024;
    }
    if let Some(mb) = file.max_upload_mb {
        config.max_upload_bytes = mb.saturating_mul(1024 * 1024);
    }
    if let Some(n) = file.warn_workdays {
        config.warn_workdays = n;
    }
    if let Some(days) = file.package_keep_days {
        if !(1..=3650).contains(&days) {
            bail!("配置项 package_keep_days 应为 1 到 3650 之间的天数（现为 {days}）");
        }
        config.package_keep_days = days;
    }
    if let Some(u) = file.public_url {
        let trimmed = u.trim().trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&trimmed)
            .ok()
            .filter(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
        if parsed.is_none() {
            bail!("配置项 public_url “{u}” 不是有效的网址，应写成 https://fazhi.example.gov.cn");
        }
        config.public_url = Some(trimmed);
    }
    if let Some(h) = file.trusted_proxy_header {
        let h = h.trim().to_string();
        if axum_header_name_ok(&h) {
            config.trusted_proxy_header = Some(h);
        } else {
            bail!("配置项 trusted_proxy_header “{h}” 不是有效的请求头名称，例如 X-Forwarded-For");
        }
    }
    if let Some(z) = file.utc_offset {
        let zone = fazhi_domain::clock::Zone::parse(&z).context("配置项 utc_offset 有误")?;
        config.clock = fazhi_domain::clock::Clock::new(zone);
    }
    Ok((config, url))
}

/// An HTTP header name: letters, digits and `-` (what proxies use).
fn axum_header_name_ok(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Hide a password in a database URL before printing it.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn open(
    data: &DataArgs,
    bind: Option<SocketAddr>,
) -> Result<(Store, Config, Option<InitialAdmin>)> {
    let (config, url) = resolve(data, bind)?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("无法打开数据库 {}", redact(&url)))?;
    let admin = fazhi_web::bootstrap(&store).await.context("初始化失败")?;
    Ok((store, config, admin))
}

fn print_admin(admin: &InitialAdmin) {
    println!("首次启动，已创建管理员账号（密码只显示这一次，首次登录后须修改）：");
    println!("  用户名：{}", admin.username);
    println!("  初始密码：{}", admin.password);
}

/// glibc's malloc raises its mmap threshold after a large block (an Argon2 hash's 19 MiB) is
/// freed, and from then on keeps such blocks in the heap: a server that has checked a few
/// passwords would hold 100+ MiB it no longer uses. A fixed threshold gives large blocks
/// back to the system when freed (measured in BENCHMARKS.md, HTTP upload section).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // The workspace's one unsafe call.
fn return_large_blocks_to_the_system() {
    // SAFETY: mallopt only sets an allocator parameter; called before the server starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}

pub async fn serve(args: &ServeArgs) -> Result<()> {
    return_large_blocks_to_the_system();
    let (store, config, admin) = open(&args.data, args.bind).await?;
    if let Some(a) = &admin {
        print_admin(a);
    }
    let addr = config.bind;
    println!(
        "fazhi 已启动：http://{addr}/  （数据目录 {}，按 Ctrl+C 停止）",
        config.data_dir.display()
    );
    let file_store = file_store_config(&args.data, &config.data_dir)?;
    let files = fazhi_files::FileStore::new(&file_store).context("无法打开文件存储")?;
    println!("文件存储：{files}");
    // Uploads cut off by a crash or a restart leave temporary objects; nothing else does.
    // Alone on its SQLite file this process has no upload in progress now; on a shared
    // PostgreSQL database another instance may have, so only old ones go.
    let temp_age = if store.backend() == fazhi_store::Backend::Postgres {
        fazhi_web::housekeeping::LONGEST_UPLOAD
    } else {
        std::time::Duration::ZERO
    };
    match files.cleanup_temp(temp_age).await {
        Ok(0) => {}
        Ok(n) => println!("已清理上次中断上传留下的临时文件 {n} 个"),
        Err(e) => eprintln!("清理临时文件失败：{e}"),
    }
    let state = AppState::new(store.clone(), files, config);
    fazhi_web::serve(state)
        .await
        .with_context(|| format!("无法在 {addr} 上提供服务（端口被占用？）"))?;
    store.close().await.ok();
    println!("fazhi 已停止");
    Ok(())
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// 新增用户并生成初始密码
    Add {
        username: String,
        /// 姓名
        #[arg(long)]
        name: String,
        /// 角色：admin（管理员）、liaison（单位联络员）、observer（查看人员）
        #[arg(long, default_value = "liaison")]
        role: String,
        /// 所属单位的名称或别名（联络员必填）
        #[arg(long)]
        unit: Option<String>,
    },
    /// 列出全部用户
    List,
    /// 重置密码（生成新的初始密码，下次登录须修改）
    ResetPassword { username: String },
    /// 停用账号（--enable 重新启用）
    Disable {
        username: String,
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(subcommand)]
    pub command: UserCommand,
}

fn cli_actor() -> Actor {
    Actor {
        user_id: None,
        name: "命令行".into(),
    }
}

pub async fn user(args: &UserArgs) -> Result<()> {
    let (store, _, admin) = open(&args.data, None).await?;
    if let Some(a) = &admin {
        print_admin(a);
    }
    match &args.command {
        UserCommand::Add {
            username,
            name,
            role,
            unit,
        } => {
            let role = match role.as_str() {
                "admin" => UserRole::Admin,
                "liaison" => UserRole::Liaison,
                "observer" => UserRole::Observer,
                other => bail!("不认识的角色“{other}”，可用：admin、liaison、observer"),
            };
            let unit_id: Option<UnitId> = match unit {
                Some(u) => Some(
                    store
                        .find_unit(u)
                        .await?
                        .with_context(|| format!("没有名为“{u}”的单位"))?,
                ),
                None => None,
            };
            let first = password::generate()?;
            let hash = password::hash(&first)?;
            store
                .create_user(
                    NewUser {
                        username: username.clone(),
                        display_name: name.clone(),
                        password_hash: hash,
                        role,
                        unit_id,
                        must_change_password: true,
                    },
                    &cli_actor(),
                )
                .await?;
            println!(
                "已创建用户 {username}（{}），初始密码：{first}",
                role.label()
            );
        }
        UserCommand::List => {
            let units = store.units().await?;
            println!("用户名\t姓名\t角色\t单位\t状态");
            for u in store.users().await? {
                let unit = u
                    .unit_id
                    .and_then(|id| units.iter().find(|x| x.id == id))
                    .map(|x| x.name.as_str())
                    .unwrap_or("-");
                let status = if u.disabled {
                    "已停用"
                } else if u.must_change_password {
                    "待修改初始密码"
                } else {
                    "正常"
                };
                println!(
                    "{}\t{}\t{}\t{unit}\t{status}",
                    u.username,
                    u.display_name,
                    u.role.label()
                );
            }
        }
        UserCommand::ResetPassword { username } => {
            let u = store
                .user_by_username(username)
                .await?
                .with_context(|| format!("没有用户 {username}"))?;
            let first = password::generate()?;
            store
                .set_password_hash(u.id, &password::hash(&first)?, true, &cli_actor())
                .await?;
            store.end_user_sessions(u.id, None).await?;
            store.revoke_user_tokens(u.id, &cli_actor()).await?;
            println!("{username} 的新初始密码：{first}（下次登录须修改）");
        }
        UserCommand::Disable { username, enable } => {
            let u = store
                .user_by_username(username)
                .await?
                .with_context(|| format!("没有用户 {username}"))?;
            store.set_disabled(u.id, !enable, &cli_actor()).await?;
            if !enable {
                store.end_user_sessions(u.id, None).await?;
                store.revoke_user_tokens(u.id, &cli_actor()).await?;
            }
            println!("{username} 已{}", if *enable { "启用" } else { "停用" });
        }
    }
    store.close().await.ok();
    Ok(())
}

#[derive(Args)]
pub struct GcArgs {
    #[command(flatten)]
    pub data: DataArgs,
}

/// `fazhi gc`: the server's periodic clean-up, once, now.
pub async fn gc(args: &GcArgs) -> Result<()> {
    let (store, config, _) = open(&args.data, None).await?;
    let files = fazhi_files::FileStore::new(&file_store_config(&args.data, &config.data_dir)?)
        .context("无法打开文件存储")?;
    let state = AppState::new(store.clone(), files, config);
    let s = fazhi_web::sweep(&state).await.context("清理失败")?;
    if s.elsewhere {
        println!("另一台服务器正在清理同一数据库，本次未做清理");
        store.close().await.ok();
        return Ok(());
    }
    println!(
        "已清理：过期会话 {} 个，过期的登录失败记录 {} 条，一天前的导入预览 {} 个，一天前上传且无材料引用的文件 {} 个，超过保留期的材料汇编 {} 个，三天未续传的上传 {} 个，中断上传的临时文件 {} 个",
        s.sessions, s.login_failures, s.previews, s.blobs, s.packages, s.uploads, s.temp_files
    );
    store.close().await.ok();
    Ok(())
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// 重新计算审计日志的哈希链，报告第一条被改动的记录
    Verify,
}

#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// `fazhi audit verify`: Ok(true) when the chain is intact.
pub async fn audit(args: &AuditArgs) -> Result<bool> {
    let (_, url) = resolve(&args.data, None)?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("无法打开数据库 {}", redact(&url)))?;
    let AuditCommand::Verify = args.command;
    let intact = match store.verify_audit().await? {
        Ok(n) => {
            println!("审计日志校验通过：共 {n} 条记录，哈希链完整。");
            // Kept by the operator: a later run with fewer rows or another last hash shows
            // rows removed by someone who could bypass the database's guards.
            let head = store.audit_head().await?;
            println!(
                "记录头：共 {} 条，最后一条 #{}，哈希 {}",
                head.entry_count, head.last_id, head.last_hash
            );
            println!("请保存以上记录头，下次校验时核对条数与哈希只增不变。");
            true
        }
        Err(broken) => {
            println!("审计日志校验失败：{broken}");
            println!(
                "自第 {} 条起的记录可能被改动、删除或插入，请保留数据库副本并报告管理员。",
                broken.id
            );
            false
        }
    };
    store.close().await.ok();
    Ok(intact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn section(toml_text: &str) -> FileStoreSection {
        let c: FileConfig = toml::from_str(toml_text).expect("config");
        c.file_store.unwrap_or_default()
    }

    #[test]
    fn the_file_store_defaults_to_the_data_directory() {
        let got = file_store_from(section(""), &env_of(&[]), Path::new("/srv/d")).unwrap();
        assert_eq!(got, FileStoreConfig::local_default(Path::new("/srv/d")));
    }

    #[test]
    fn an_s3_store_comes_from_the_file_with_keys_from_the_environment() {
        let s = section(
            "[file_store]\nbackend = \"s3\"\nbucket = \"evidence\"\nendpoint = \"http://10.0.0.5:3900\"\nregion = \"garage\"\nallow_http = true\n",
        );
        let env = env_of(&[("FAZHI_S3_ACCESS_KEY", "AK"), ("FAZHI_S3_SECRET_KEY", "SK")]);
        let got = file_store_from(s, &env, Path::new("/d")).unwrap();
        assert_eq!(
            got,
            FileStoreConfig::S3 {
                bucket: "evidence".into(),
                endpoint: Some("http://10.0.0.5:3900".into()),
                region: "garage".into(),
                access_key: "AK".into(),
                secret_key: "SK".into(),
                allow_http: true,
                virtual_hosted_style: false,
                ca_cert: None,
            }
        );
        // The environment wins over the file.
        let env = env_of(&[
            ("FAZHI_S3_ACCESS_KEY", "AK"),
            ("FAZHI_S3_SECRET_KEY", "SK"),
            ("FAZHI_S3_BUCKET", "other"),
            ("FAZHI_S3_ALLOW_HTTP", "false"),
        ]);
        let s =
            section("[file_store]\nbackend = \"s3\"\nbucket = \"evidence\"\nallow_http = true\n");
        match file_store_from(s, &env, Path::new("/d")).unwrap() {
            FileStoreConfig::S3 {
                bucket, allow_http, ..
            } => assert_eq!((bucket.as_str(), allow_http), ("other", false)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_in_the_config_file_are_refused_and_a_credentials_file_is_read() {
        let s = section("[file_store]\nbackend = \"s3\"\nbucket = \"b\"\nsecret_key = \"x\"\n");
        let err = file_store_from(s, &env_of(&[]), Path::new("/d")).unwrap_err();
        assert!(err.to_string().contains("不能写访问密钥"), "{err}");
        let s = section("[file_store]\nbackend = \"s3\"\nbucket = \"b\"\n");
        let err = file_store_from(s, &env_of(&[]), Path::new("/d")).unwrap_err();
        assert!(err.to_string().contains("须提供访问密钥"), "{err}");

        let dir = std::env::temp_dir().join(format!("fazhi-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let creds = dir.join("s3.toml");
        std::fs::write(&creds, "access_key = \"AK2\"\nsecret_key = \"SK2\"\n").unwrap();
        let s = section(&format!(
            "[file_store]\nbackend = \"s3\"\nbucket = \"b\"\ncredentials_file = \"{}\"\n",
            creds.display()
        ));
        match file_store_from(s, &env_of(&[]), Path::new("/d")).unwrap() {
            FileStoreConfig::S3 {
                access_key,
                secret_key,
                ..
            } => assert_eq!((access_key.as_str(), secret_key.as_str()), ("AK2", "SK2")),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&dir).ok();
        let s = section("[file_store]\nbackend = \"ftp\"\n");
        let err = file_store_from(s, &env_of(&[]), Path::new("/d")).unwrap_err();
        assert!(err.to_string().contains("local 或 s3"), "{err}");
    }

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.sqlite"), "sqlite://x.sqlite");
    }
}
