//! The package on a generated round: the county library, a round, evidence files uploaded
//! through the file store and recorded in the store, reviewed; then the archive is opened
//! the way its readers would (`unzip -t`, Python's `zipfile`, LibreOffice for 目录.xlsx),
//! verified, tampered with, and built as a background job.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use fazhi_files::FileStore;
use fazhi_package::job::{self, JobSettings};
use fazhi_package::{Control, Finding, PackageError, PackageParams, plan, verify, write_zip};
use fazhi_store::{
    Actor, ActorRole, AuditFilter, JobStatus, NewEvidence, NewRound, NewUser, Store, TaskAction,
    TaskFilter, TaskId, User, UserRole, Verdict,
};

mod volume;

const LIBRARY_JSON: &str = include_str!("../../../../data/library/lanling.json");
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 0xFF, 0xD9,
];

/// The first indicator's folder, as the issue specifies it: 一级、二级 with their codes,
/// the indicator's 序号 in three digits and its text shortened, then the unit.
const FIRST_FOLDER: &str = "一、政府职能依法全面履行/1.行政审批制度改革全面推行/001 向社会公布本级政府全部行政审批事项清单，实行目录化、编码化、动态化管理…/县行政审批服务局";

struct Site {
    dir: tempfile::TempDir,
    store: Store,
    files: FileStore,
    /// Tasks of 县行政审批服务局 (first indicator) and 县司法局 (indicator 23).
    approval_task: TaskId,
    justice_task: TaskId,
}

fn office() -> Actor {
    Actor::system()
}

async fn upload(site: &Site, bytes: &[u8]) -> fazhi_files::StoredBlob {
    let chunks =
        futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::copy_from_slice(bytes))]);
    let blob = site.files.put_stream(chunks, 1 << 30).await.unwrap();
    site.store
        .put_blob(&blob.sha256, blob.size, blob.content_type)
        .await
        .unwrap();
    blob
}

async fn add_file(
    site: &Site,
    task: TaskId,
    title: &str,
    name: &str,
    bytes: &[u8],
    verdict: Option<Verdict>,
) -> (i64, String) {
    let blob = upload(site, bytes).await;
    let id = site
        .store
        .add_file_evidence(
            task,
            NewEvidence {
                title: title.into(),
                doc_number: Some("兰政发〔2026〕3号".into()),
                doc_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
            },
            &blob.sha256,
            Some(name),
            &office(),
        )
        .await
        .unwrap();
    if let Some(v) = verdict {
        let note = (v == Verdict::NeedsMore).then_some("请补充盖章件");
        site.store
            .review_evidence(id, v, note, &office())
            .await
            .unwrap();
    }
    (id.0, blob.sha256)
}

async fn task_of(store: &Store, unit: &str, code: &str) -> TaskId {
    let unit = store.find_unit(unit).await.unwrap().unwrap();
    store
        .tasks(&TaskFilter {
            unit: Some(unit),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.code == code)
        .unwrap_or_else(|| panic!("{code} 的任务"))
        .id
}

async fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("fazhi.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    let library: fazhi_import::ImportOutput = serde_json::from_str(LIBRARY_JSON).unwrap();
    store
        .import_library(&library, "lanling.json", &"0".repeat(64), &office())
        .await
        .unwrap();
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
            &office(),
        )
        .await
        .unwrap();
    let files = FileStore::local(dir.path().join("files")).unwrap();
    let approval_task = task_of(&store, "县行政审批服务局", "1").await;
    let justice_task = task_of(&store, "县司法局", "23").await;
    for t in [approval_task, justice_task] {
        store
            .transition(
                t,
                &TaskAction::Sign,
                ActorRole::ResponsibleUnit,
                &office(),
                today(),
            )
            .await
            .unwrap();
    }
    Site {
        dir,
        store,
        files,
        approval_task,
        justice_task,
    }
}

/// Evidence of the generated round; returns the SHA-256 of the blob the test corrupts.
async fn fill(site: &Site) -> String {
    let t = site.approval_task;
    add_file(
        site,
        t,
        "关于“放管服”改革: 第1/2批?",
        "notice.pdf",
        PDF,
        Some(Verdict::Ok),
    )
    .await;
    add_file(
        site,
        t,
        &"审批事项清单动态调整工作现场照片".repeat(4),
        "IMG_2034.JPG",
        JPEG,
        Some(Verdict::Ok),
    )
    .await;
    // Same title twice: the second file gets its own number anyway.
    add_file(
        site,
        t,
        "..\\..\\CON",
        "x.txt",
        b"plain text\n",
        Some(Verdict::Ok),
    )
    .await;
    add_file(site, t, "待审核的材料", "draft.txt", b"draft\n", None).await;
    add_file(
        site,
        t,
        "需补充的材料",
        "more.txt",
        b"more\n",
        Some(Verdict::NeedsMore),
    )
    .await;
    let link = site
        .store
        .add_link_evidence(
            t,
            NewEvidence {
                title: "政府网站公布的清单".into(),
                ..Default::default()
            },
            "https://www.lanling.gov.cn/qingdan.html",
            chrono::NaiveDate::from_ymd_opt(2026, 2, 1),
            &office(),
        )
        .await
        .unwrap();
    site.store
        .review_evidence(link, Verdict::Ok, None, &office())
        .await
        .unwrap();
    let (_, corrupt) = add_file(
        site,
        site.justice_task,
        "规范性文件合法性审核意见书",
        "shenhe.pdf",
        b"%PDF-1.4 justice office original\n",
        Some(Verdict::Ok),
    )
    .await;
    corrupt
}

fn blob_file(site: &Site, sha: &str) -> PathBuf {
    site.dir
        .path()
        .join("files/blobs")
        .join(&sha[..2])
        .join(sha)
}

fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("跳过：未安装 {tool}（Debian 包见 README）");
    }
    found
}

fn python_names(zip: &Path) -> Vec<(String, bool)> {
    let script = r#"
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    assert bad is None, bad
    print(json.dumps([[i.filename, bool(i.flag_bits & 0x800)] for i in z.infolist()]))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(zip)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<(String, bool)>>(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_opens_verifies_and_detects_tampering() {
    let site = site().await;
    let corrupt = fill(&site).await;
    // The justice office's file changes on disk after upload (a failing disk, a hand edit).
    std::fs::write(
        blob_file(&site, &corrupt),
        b"%PDF-1.4 justice office CHANGED\n",
    )
    .unwrap();

    let p = plan(&site.store, &PackageParams::default()).await.unwrap();
    let owned: Vec<String> = p.files.iter().map(|f| f.path.clone()).collect();
    let paths: Vec<&str> = owned.iter().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            format!("{FIRST_FOLDER}/1-1-001-01 关于“放管服”改革： 第1／2批？.pdf").as_str(),
            format!(
                "{FIRST_FOLDER}/1-1-001-02 审批事项清单动态调整工作现场照片审批事项清单动态调整工作现场照片审批事项清单动态调整工作现场照片….jpg"
            )
            .as_str(),
            format!("{FIRST_FOLDER}/1-1-001-03 .＼.＼CON.txt").as_str(),
            "二、依法行政制度体系完善/1.加强行政规范性文件制定和监督/023 重要的行政规范性文件依法依规执行评估论证、公开征求意见、合法性审核、集…/县司法局/2-1-023-01 规范性文件合法性审核意见书.pdf",
        ]
    );
    assert_eq!(p.links.len(), 1);
    assert_eq!(p.links[0].place.material_no, "1-1-001-04");
    assert_eq!(p.left_out_unapproved, 2, "待审核与需补充的两份不收入");

    let out = site.dir.path().join("汇编.zip");
    let progress_calls = Arc::new(AtomicU64::new(0));
    let calls = Arc::clone(&progress_calls);
    let control = Control {
        progress: Arc::new(move |_| {
            calls.fetch_add(1, Ordering::Relaxed);
        }),
        cancel: Arc::new(AtomicBool::new(false)),
    };
    let built = write_zip(&site.files, p, &out, control).await.unwrap();
    assert!(progress_calls.load(Ordering::Relaxed) >= 4);
    assert_eq!(built.files_packed, 4);
    assert_eq!(built.problems.len(), 1, "{:?}", built.problems);
    assert_eq!(built.problems[0].kind, "altered");
    assert!(built.problems[0].path.contains("2-1-023-01"));
    let (size, sha) = fazhi_package::archive::hash_file(&out, &AtomicBool::new(false)).unwrap();
    assert_eq!((size, sha.as_str()), (built.size, built.sha256.as_str()));

    let report = verify(&out).unwrap();
    assert!(report.is_ok(), "{:?}", report.findings);
    // 目录.pdf needs a CJK font on the machine (CI installs fonts-noto-cjk); without one
    // the archive is complete but for it, and says why.
    let with_pdf = fazhi_document::PdfSettings::from_env().fonts().is_ok();
    assert_eq!(
        built.catalog_pdf_error.is_none(),
        with_pdf,
        "{:?}",
        built.catalog_pdf_error
    );
    assert_eq!(
        report.intact,
        if with_pdf { 7 } else { 6 },
        "4 份材料 + 目录.xlsx + 目录.pdf + 说明.txt"
    );

    if have("unzip") {
        let t = Command::new("unzip").arg("-t").arg(&out).output().unwrap();
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stdout));
        assert!(String::from_utf8_lossy(&t.stdout).contains("No errors detected"));
    }
    let names = if have("python3") {
        let names = python_names(&out);
        for (name, utf8_flag) in &names {
            assert_eq!(*utf8_flag, !name.is_ascii(), "UTF-8 标志：{name}");
            assert!(!name.contains(".."), "{name}");
            assert!(name.encode_utf16().count() < 240, "{name}");
        }
        let mut got: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
        got.sort_unstable();
        let mut want: Vec<&str> = paths.clone();
        want.extend(["manifest.json", "目录.xlsx", "说明.txt"]);
        if with_pdf {
            want.push("目录.pdf");
        }
        want.sort_unstable();
        assert_eq!(got, want);
        names
    } else {
        Vec::new()
    };

    // The readme tells what happened to the altered file.
    let listing = Command::new("unzip")
        .args(["-p"])
        .arg(&out)
        .arg("说明.txt")
        .output();
    if let Ok(l) = listing
        && l.status.success()
    {
        let text = String::from_utf8_lossy(&l.stdout);
        assert!(text.contains("2026年度 佐证材料汇编"), "{text}");
        assert!(text.contains("2-1-023-01"), "{text}");
        assert!(text.contains("fazhi package verify"), "{text}");
        assert!(text.contains("目录.pdf"), "{text}");
    }

    check_catalog_in_libreoffice(&site, &out);
    if with_pdf {
        volume::check_catalog_pdf(&site, &out, &paths);
    }

    // One byte of one stored entry changed in the archive: its CRC no longer matches.
    let bytes = std::fs::read(&out).unwrap();
    let marker = b"justice office CHANGED";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("未压缩条目的内容");
    let mut tampered = bytes.clone();
    tampered[at] ^= 0x20;
    let bad = site.dir.path().join("改了一个字节.zip");
    std::fs::write(&bad, &tampered).unwrap();
    let report = verify(&bad).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert!(
        matches!(&report.findings[0], Finding::Altered { path, .. } if path.contains("2-1-023-01")),
        "{:?}",
        report.findings
    );

    if !names.is_empty() {
        // An entry removed (Info-ZIP's `zip -d` does not match UTF-8 names: Python does it).
        let removed = site.dir.path().join("删了一个.zip");
        let script = r#"
import sys, zipfile
src, dst, victim = sys.argv[1:4]
with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
    for i in a.infolist():
        if i.filename != victim:
            b.writestr(i, a.read(i.filename))
"#;
        let victim = paths[1];
        let r = Command::new("python3")
            .args(["-c", script])
            .arg(&out)
            .arg(&removed)
            .arg(victim)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let report = verify(&removed).unwrap();
        assert_eq!(
            report.findings,
            [Finding::Missing {
                path: victim.to_string()
            }]
        );
    }
    if have("python3") {
        // Rewritten with a valid CRC but other content, plus a file slipped in.
        let rewritten = site.dir.path().join("重写.zip");
        let script = r#"
import sys, zipfile
src, dst, victim = sys.argv[1:4]
with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
    for i in a.infolist():
        data = a.read(i.filename)
        if i.filename == victim:
            data = data + b"x"
        b.writestr(i, data)
    b.writestr("一、政府职能依法全面履行/补充.txt", "added later")
"#;
        let r = Command::new("python3")
            .args(["-c", script])
            .arg(&out)
            .arg(&rewritten)
            .arg(paths[0])
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let report = verify(&rewritten).unwrap();
        assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
        assert!(report.findings.iter().any(
            |f| matches!(f, Finding::Altered { path, reason } if path == paths[0] && reason.contains("SHA-256"))
        ));
        assert!(report.findings.contains(&Finding::Extra {
            path: "一、政府职能依法全面履行/补充.txt".into()
        }));
    }
}

/// `目录.xlsx` opens in LibreOffice (converted headless to CSV without complaint) and has
/// a header plus one row per file.
fn check_catalog_in_libreoffice(site: &Site, zip_path: &Path) {
    if !have("libreoffice") || !have("unzip") {
        return;
    }
    let work = site.dir.path().join("lo");
    std::fs::create_dir_all(&work).unwrap();
    let x = Command::new("unzip")
        .args(["-o", "-q"])
        .arg(zip_path)
        .arg("目录.xlsx")
        .arg("-d")
        .arg(&work)
        .output()
        .unwrap();
    assert!(x.status.success());
    let profile = work.join("profile");
    let conv = Command::new("libreoffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
        ])
        .arg(&work)
        .arg(work.join("目录.xlsx"))
        .output()
        .unwrap();
    assert!(
        conv.status.success(),
        "{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let csv = std::fs::read_to_string(work.join("目录.csv")).expect("LibreOffice 转出的 CSV");
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(&headers[0], "材料编号");
    assert_eq!(&headers[11], "SHA-256");
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4, "每份文件一行");
    assert_eq!(&rows[0][0], "1-1-001-01");
    assert_eq!(&rows[0][1], "一、政府职能依法全面履行");
    assert_eq!(&rows[0][4], "县行政审批服务局");
    assert_eq!(&rows[0][12], "合格");
    assert!(rows[3][18].contains("不符"), "{:?}", &rows[3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_choose_what_goes_in() {
    let site = site().await;
    fill(&site).await;
    let all = plan(
        &site.store,
        &PackageParams {
            all: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(all.files.len(), 6);
    assert_eq!(all.left_out_unapproved, 0);
    let labels: Vec<&str> = all.files.iter().map(|f| f.review.label()).collect();
    assert_eq!(labels, ["合格", "合格", "合格", "未审核", "需补充", "合格"]);

    let unit = plan(
        &site.store,
        &PackageParams {
            unit: Some("县司法局".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(unit.files.len(), 1);
    assert!(unit.files[0].path.contains("/县司法局/"));

    let heading = plan(
        &site.store,
        &PackageParams {
            heading: Some("一".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(heading.files.len(), 3);
    assert!(heading.files.iter().all(|f| f.path.starts_with("一、")));

    for bad in [
        PackageParams {
            unit: Some("不存在的局".into()),
            ..Default::default()
        },
        PackageParams {
            heading: Some("九十九".into()),
            ..Default::default()
        },
    ] {
        let err = plan(&site.store, &bad).await.unwrap_err();
        assert!(matches!(err, PackageError::Invalid(_)), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_missing_files() {
    let site = site().await;
    let corrupt = fill(&site).await;
    std::fs::remove_file(blob_file(&site, &corrupt)).unwrap();

    let p = plan(&site.store, &PackageParams::default()).await.unwrap();
    let out = site.dir.path().join("cancelled.zip");
    let control = Control::default();
    control.cancel.store(true, Ordering::Relaxed);
    let err = write_zip(&site.files, p.clone(), &out, control)
        .await
        .unwrap_err();
    assert!(matches!(err, PackageError::Cancelled));
    assert!(!out.exists());
    assert!(
        !site.dir.path().join(".cancelled.zip.part").exists(),
        "不留半成品"
    );

    let out = site.dir.path().join("missing.zip");
    let built = write_zip(&site.files, p, &out, Control::default())
        .await
        .unwrap();
    assert_eq!(built.files_packed, 3);
    assert_eq!(built.problems.len(), 1);
    assert_eq!(built.problems[0].kind, "missing");
    // The missing file is reported in the package, and the archive still verifies.
    assert!(verify(&out).unwrap().is_ok());
}

async fn liaison(store: &Store, name: &str, unit: &str) -> User {
    let unit = store.find_unit(unit).await.unwrap();
    let id = store
        .create_user(
            NewUser {
                username: name.into(),
                display_name: format!("{name}联络员"),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                role: UserRole::Liaison,
                unit_id: unit,
                must_change_password: false,
            },
            &office(),
        )
        .await
        .unwrap();
    store.user(id).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_job_runs_with_access_rule_and_audit() {
    let site = site().await;
    fill(&site).await;
    let sifa = liaison(&site.store, "sifa", "县司法局").await;

    // A liaison: not the whole round, not another unit; its own unit yes.
    for params in [
        PackageParams::default(),
        PackageParams {
            unit: Some("县行政审批服务局".into()),
            ..Default::default()
        },
    ] {
        let err = job::request(&site.store, &sifa, &params).await.unwrap_err();
        assert!(matches!(err, PackageError::Forbidden(_)), "{err}");
    }
    let own = PackageParams {
        unit: Some("县司法局".into()),
        ..Default::default()
    };
    let id = job::request(&site.store, &sifa, &own).await.unwrap();
    let settings = JobSettings {
        dir: site.dir.path().join("packages"),
        keep_for: chrono::Duration::days(7),
    };
    assert_eq!(
        job::run_queued(&site.store, &site.files, &settings)
            .await
            .unwrap(),
        1
    );
    let done = site.store.job(id).await.unwrap();
    assert_eq!(done.status, JobStatus::Done, "{:?}", done.message);
    assert!(job::may_access(&sifa, &done));
    assert_eq!(done.progress.files_done, 1);
    assert_eq!(done.progress.files_total, 1);
    // Kept in the file store (any instance serves it); the working file is gone.
    let result = done.result_path.clone().unwrap();
    let name = job::stored_result_name(&result).expect("kept in the file store");
    assert_eq!(
        site.files.result_size(name).await.unwrap(),
        done.result_size
    );
    assert!(!settings.dir.join(name).exists());
    let path = site.dir.path().join("downloaded.zip");
    let bytes = site
        .files
        .get_result_range(name, 0..done.result_size.unwrap())
        .await
        .unwrap()
        .into_bytes()
        .await
        .unwrap();
    std::fs::write(&path, &bytes).unwrap();
    assert!(verify(&path).unwrap().is_ok());
    site.store
        .record_job_download(id, &Actor::user(sifa.id, sifa.display_name.clone()))
        .await
        .unwrap();

    // Another liaison may not see it.
    let other = liaison(&site.store, "shenpi", "县行政审批服务局").await;
    assert!(!job::may_access(&other, &done));

    let actions: Vec<String> = site
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .filter(|a| a.starts_with("package."))
        .rev()
        .collect();
    assert_eq!(
        actions,
        ["package.request", "package.build", "package.download"]
    );

    // Expired: row and file gone.
    let gone = site
        .store
        .purge_expired_jobs(chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    assert_eq!(gone.len(), 1);
    // purge_expired deletes files; run it on a job that expires immediately.
    let id2 = job::request(
        &site.store,
        &sifa,
        &PackageParams {
            unit: Some("县司法局".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let instant = JobSettings {
        keep_for: chrono::Duration::milliseconds(1),
        ..settings.clone()
    };
    job::run_queued(&site.store, &site.files, &instant)
        .await
        .unwrap();
    let p2 = site.store.job(id2).await.unwrap().result_path.unwrap();
    let name2 = job::stored_result_name(&p2).unwrap();
    assert!(site.files.result_size(name2).await.unwrap().is_some());
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(
        job::purge_expired(&site.store, &site.files, &instant)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        site.files.result_size(name2).await.unwrap(),
        None,
        "过期的材料汇编已删除"
    );
    assert!(site.store.verify_audit().await.unwrap().is_ok());
}

/// The county's date, as the server passes it to the store.
fn today() -> chrono::NaiveDate {
    fazhi_domain::clock::Clock::default().today()
}

/// A worker whose job was put back in the queue (its server lost the database for longer
/// than the heartbeat allows) and taken by another stops at its first report and records
/// nothing; the other worker's build is the one kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_lost_its_job_records_nothing() {
    let site = site().await;
    fill(&site).await;
    let sifa = liaison(&site.store, "sifa", "县司法局").await;
    let own = PackageParams {
        unit: Some("县司法局".into()),
        ..Default::default()
    };
    let id = job::request(&site.store, &sifa, &own).await.unwrap();
    let first = site.store.claim_job(job::JOB_KIND).await.unwrap().unwrap();
    // No heartbeat "since a minute from now": requeued, and taken by a second worker.
    site.store
        .requeue_stale_jobs(chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    let second = site.store.claim_job(job::JOB_KIND).await.unwrap().unwrap();
    assert_eq!((second.id, second.attempt), (id, 2));

    let work = site.dir.path().join("packages");
    let lost = job::run_job(
        &site.store,
        &site.files,
        &first,
        job::Output::FileStore { work_dir: &work },
        None,
        fazhi_package::Control::default(),
    )
    .await;
    assert!(
        matches!(lost, Err(PackageError::TakenOver)),
        "{:?}",
        lost.map(|b| b.size)
    );
    let still = site.store.job(id).await.unwrap();
    assert_eq!(still.status, JobStatus::Running, "nothing recorded");
    assert!(still.result_path.is_none());
    let stale_name = job::package_file_name(&first, fazhi_package::PackageFormat::Zip);
    assert_eq!(site.files.result_size(&stale_name).await.unwrap(), None);
    assert!(!work.join(&stale_name).exists(), "no working file left");

    job::run_job(
        &site.store,
        &site.files,
        &second,
        job::Output::FileStore { work_dir: &work },
        None,
        fazhi_package::Control::default(),
    )
    .await
    .unwrap();
    let done = site.store.job(id).await.unwrap();
    assert_eq!(done.status, JobStatus::Done);
    let name = job::stored_result_name(done.result_path.as_deref().unwrap()).unwrap();
    assert_eq!(
        name,
        job::package_file_name(&second, fazhi_package::PackageFormat::Zip)
    );
    assert_eq!(
        site.files.result_size(name).await.unwrap(),
        done.result_size
    );
}
