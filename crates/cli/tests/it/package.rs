//! `fazhi package build` and `fazhi package verify` on a real data directory: a round with
//! approved evidence, the archive built from the command line, verified, then tampered with.

use bytes::Bytes;
use fazhi_store::{
    Actor, ActorRole, AuditFilter, NewEvidence, NewRound, Store, TaskAction, TaskFilter, Verdict,
};

use crate::audit::tempfile_dir;
use crate::{fazhi, stderr, stdout};

async fn prepare(dir: &std::path::Path) {
    // First start: creates the database and loads the county library.
    let d = dir.to_str().unwrap();
    let out = fazhi(&["user", "list", "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = format!("sqlite://{}?mode=rwc", dir.join("fazhi.sqlite").display());
    let store = Store::connect(&url).await.unwrap();
    let office = Actor::system();
    store
        .open_round(
            NewRound {
                name: "2026年度".into(),
                starts_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                ends_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                framework_id: None,
                due_on: None,
                copy_from: None,
            },
            &office,
        )
        .await
        .unwrap();
    let unit = store.find_unit("县司法局").await.unwrap().unwrap();
    let task = store
        .tasks(&TaskFilter {
            unit: Some(unit),
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id;
    store
        .transition(
            task,
            &TaskAction::Sign,
            ActorRole::ResponsibleUnit,
            &office,
            fazhi_domain::clock::Clock::default().today(),
        )
        .await
        .unwrap();
    let files = fazhi_files::FileStore::local(dir.join("files")).unwrap();
    for (title, bytes) in [
        ("执法记录仪视频", vec![7u8; 3 << 20]),
        ("审核意见书", b"%PDF-1.4 opinion\n".to_vec()),
    ] {
        let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(bytes))]);
        let blob = files.put_stream(chunks, 1 << 30).await.unwrap();
        store
            .put_blob(&blob.sha256, blob.size, blob.content_type)
            .await
            .unwrap();
        let id = store
            .add_file_evidence(
                task,
                NewEvidence {
                    title: title.into(),
                    ..Default::default()
                },
                &blob.sha256,
                Some("a.bin"),
                &office,
            )
            .await
            .unwrap();
        store
            .review_evidence(id, Verdict::Ok, None, &office)
            .await
            .unwrap();
    }
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_then_verify_then_tamper() {
    let dir = tempfile_dir("package");
    prepare(&dir).await;
    let d = dir.to_str().unwrap();
    let zip = dir.join("汇编.zip");
    let z = zip.to_str().unwrap();

    let out = fazhi(&[
        "package",
        "build",
        "--out",
        z,
        "--unit",
        "县司法局",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("文件材料 2 份"), "{}", stdout(&out));
    // 目录.pdf needs a CJK font on the machine; without one the build says so.
    let without_pdf = stdout(&out).contains("目录.pdf 未生成");

    let out = fazhi(&["package", "verify", z]);
    assert!(out.status.success(), "{}", stdout(&out));
    // 2 files + 目录.xlsx + 说明.txt (+ 目录.pdf).
    let want = if without_pdf {
        "核验通过：4 个文件"
    } else {
        "核验通过：5 个文件"
    };
    assert!(stdout(&out).contains(want), "{}", stdout(&out));

    // The build is recorded as a job and in the audit log.
    let url = format!("sqlite://{}?mode=rwc", dir.join("fazhi.sqlite").display());
    let store = Store::connect(&url).await.unwrap();
    let actions: Vec<String> = store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action.starts_with("package."))
        .map(|r| format!("{} {}", r.action, r.actor_name))
        .collect();
    assert_eq!(actions, ["package.build 命令行", "package.request 命令行"]);
    store.close().await.unwrap();

    // One byte of the video changed inside the archive.
    let mut bytes = std::fs::read(&zip).unwrap();
    let at = bytes
        .windows(64)
        .position(|w| w.iter().all(|&b| b == 7))
        .unwrap()
        + 1000;
    bytes[at] = 8;
    let bad = dir.join("bad.zip");
    std::fs::write(&bad, &bytes).unwrap();
    let out = fazhi(&["package", "verify", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("已改动："), "{text}");
    assert!(text.contains("执法记录仪视频"), "{text}");
    assert!(text.contains("核验未通过：1 处问题"), "{text}");

    let out = fazhi(&[
        "package",
        "build",
        "--out",
        z,
        "--heading",
        "九十九",
        "--data-dir",
        d,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("没有一级指标“九十九”"),
        "{}",
        stderr(&out)
    );

    // The bound volume: the non-PDF files are listed in it (a CJK font is needed; without
    // one the command says which package to install).
    let pdf = dir.join("合订本.pdf");
    let out = fazhi(&[
        "package",
        "build",
        "--format",
        "pdf",
        "--out",
        pdf.to_str().unwrap(),
        "--unit",
        "县司法局",
        "--data-dir",
        d,
    ]);
    if without_pdf {
        assert!(!out.status.success());
        assert!(stderr(&out).contains("fonts-noto-cjk"), "{}", stderr(&out));
    } else {
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains("合订本.pdf"), "{}", stdout(&out));
        assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
