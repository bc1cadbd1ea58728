//! `fazhi user …` and `fazhi audit verify` on a real data directory.

use sea_orm::ConnectionTrait;

use crate::{fazhi, stderr, stdout};

#[tokio::test]
async fn audit_verify_names_the_altered_row() {
    let dir = tempfile_dir("audit");
    let d = dir.to_str().unwrap();
    let out = fazhi(&[
        "user",
        "add",
        "sifaju",
        "--name",
        "司法局联络员",
        "--unit",
        "县司法局",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("初始密码"),
        "first start prints the admin password: {text}"
    );
    assert!(text.contains("已创建用户 sifaju（单位联络员）"), "{text}");
    let out = fazhi(&["user", "list", "--data-dir", d]);
    assert!(
        stdout(&out).contains("sifaju\t司法局联络员\t单位联络员\t县司法局\t待修改初始密码"),
        "{}",
        stdout(&out)
    );
    let out = fazhi(&[
        "user",
        "add",
        "x",
        "--name",
        "x",
        "--unit",
        "不存在的单位",
        "--data-dir",
        d,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("没有名为“不存在的单位”的单位"),
        "{}",
        stderr(&out)
    );

    let out = fazhi(&["audit", "verify", "--data-dir", d]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("审计日志校验通过"));

    // Alter one row behind the application's back.
    let url = format!("sqlite://{}?mode=rwc", dir.join("fazhi.sqlite").display());
    let store = fazhi_store::Store::connect(&url).await.unwrap();
    let entries = store.audit_entries(&Default::default()).await.unwrap();
    let victim = entries
        .iter()
        .find(|e| e.action == "user.create")
        .unwrap()
        .id;
    let head = store.audit_head().await.unwrap();
    assert!(
        stdout(&out).contains(&format!(
            "记录头：共 {} 条，最后一条 #{}，哈希 {}",
            head.entry_count, head.last_id, head.last_hash
        )),
        "prints the head: {}",
        stdout(&out)
    );
    // The database refuses the change; its owner can drop the guard first.
    let refused = store
        .connection()
        .execute_unprepared(&format!("DELETE FROM audit_log WHERE id = {victim}"))
        .await;
    assert!(refused.is_err(), "the trigger refuses a DELETE");
    store
        .connection()
        .execute_unprepared("DROP TRIGGER audit_log_no_update")
        .await
        .unwrap();
    store
        .connection()
        .execute_unprepared(&format!(
            "UPDATE audit_log SET after_json = replace(after_json, 'sifaju', 'someone') WHERE id = {victim}"
        ))
        .await
        .unwrap();
    store.close().await.unwrap();
    let out = fazhi(&["audit", "verify", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("审计日志校验失败"), "{text}");
    assert!(
        text.contains(&format!("第 {victim} 条")),
        "names the row: {text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

pub(crate) fn tempfile_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fazhi-it-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn gc_runs_and_bad_config_values_are_refused() {
    let dir = tempfile_dir("gc");
    let d = dir.to_str().unwrap();
    let out = fazhi(&["gc", "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("已清理：过期会话 0 个"),
        "{}",
        stdout(&out)
    );
    let config = dir.join("fazhi.toml");
    std::fs::write(&config, "public_url = \"fazhi.example\"\n").unwrap();
    let out = fazhi(&["gc", "--data-dir", d, "--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("public_url"), "{}", stderr(&out));
    // The time zone of "today" is read from the same file, and checked.
    std::fs::write(&config, "utc_offset = \"北京时间\"\n").unwrap();
    let out = fazhi(&["gc", "--data-dir", d, "--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("utc_offset") && stderr(&out).contains("+08:00"),
        "{}",
        stderr(&out)
    );
    std::fs::write(&config, "utc_offset = \"+08:00\"\n").unwrap();
    let out = fazhi(&["gc", "--data-dir", d, "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The keep time of finished packages: whole days, at least one.
    std::fs::write(&config, "package_keep_days = 0\n").unwrap();
    let out = fazhi(&["gc", "--data-dir", d, "--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("package_keep_days 应为 1 到 3650 之间的天数"),
        "{}",
        stderr(&out)
    );
    std::fs::write(&config, "package_keep_days = 30\n").unwrap();
    let out = fazhi(&["gc", "--data-dir", d, "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("超过保留期的材料汇编 0 个"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_dir_all(&dir).ok();
}
