//! A store with the county library and a round in progress, and the tools to look at a
//! generated file (calamine, LibreOffice).

use fazhi_store::test_support::PastGuards;
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook};
use chrono::{Days, NaiveDate};
use fazhi_domain::clock::Clock;
use fazhi_domain::supervision::NoticeLevel;
use fazhi_store::{
    Actor, ActorRole, NewEvidence, NewReport, NewRound, RoundId, Store, TaskAction, TaskFilter,
    TaskSummary, Verdict,
};
use sha2::Digest;

pub const LIBRARY_JSON: &str = include_str!("../../../../data/library/lanling.json");

pub struct Site {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub round: RoundId,
}

pub fn office() -> Actor {
    Actor::system()
}

pub fn today() -> NaiveDate {
    Clock::default().today()
}

pub fn library() -> fazhi_domain::ImportOutput {
    serde_json::from_str(LIBRARY_JSON).unwrap()
}

/// A fresh SQLite store with the county library imported.
pub async fn store_with_library() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = Store::connect(&url).await.unwrap();
    store
        .import_library(
            &library(),
            "lanling.json",
            &hex::encode(sha2::Sha256::digest(LIBRARY_JSON.as_bytes())),
            &office(),
        )
        .await
        .unwrap();
    (dir, store)
}

pub async fn task_of(s: &Store, round: RoundId, code: &str, unit: &str) -> TaskSummary {
    let unit = s.find_unit(unit).await.unwrap().unwrap();
    s.tasks(&TaskFilter {
        round: Some(round),
        unit: Some(unit),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_iter()
    .find(|t| t.code == code)
    .unwrap_or_else(|| panic!("没有第{code}项的任务"))
}

async fn step(s: &Store, t: &TaskSummary, action: TaskAction, role: ActorRole) {
    s.transition_ready(t.id, &action, role, &office(), today())
        .await
        .unwrap();
}

/// The county library and a round with some of everything: approved (one late), submitted,
/// in progress, overdue, a progress report, reviewed evidence, a reported value, an open
/// 督办单, scores.
pub async fn busy_site() -> Site {
    let (dir, store) = store_with_library().await;
    let s = &store;
    let round = s
        .open_round(
            NewRound {
                name: "2026年度".into(),
                starts_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                ends_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                framework_id: None,
                due_on: today().checked_add_days(Days::new(60)),
                copy_from: None,
            },
            &office(),
        )
        .await
        .unwrap()
        .round_id;
    let past = NaiveDate::from_ymd_opt(2026, 1, 9).unwrap();

    // 25 / 县司法局: late, with everything, approved.
    let t = task_of(s, round, "25", "县司法局").await;
    s.set_due(&[t.id], Some(past), &office()).await.unwrap();
    step(s, &t, TaskAction::Sign, ActorRole::ResponsibleUnit).await;
    s.add_report(
        t.id,
        NewReport {
            progress: "已完成全部规范性文件备案审查".into(),
            problems: "审查力量不足".into(),
            next_steps: "充实审查人员".into(),
            percent: 100,
        },
        &office(),
    )
    .await
    .unwrap();
    let m = s.task_measures(t.id).await.unwrap();
    let key = m.rules.rules[0].key.clone();
    s.record_measurement(
        t.id,
        &key,
        fazhi_domain::measure::Measurement {
            numerator: Some(9.0),
            denominator: Some(10.0),
            ..Default::default()
        },
        "",
        &office(),
    )
    .await
    .unwrap();
    for (title, verdict) in [
        ("备案审查报告", Verdict::Ok),
        ("审查台账", Verdict::NeedsMore),
    ] {
        let ev = s
            .add_link_evidence(
                t.id,
                NewEvidence {
                    title: title.into(),
                    doc_number: None,
                    doc_date: None,
                },
                "https://www.lanling.gov.cn/art/1.html",
                None,
                &office(),
            )
            .await
            .unwrap();
        let note = (verdict == Verdict::NeedsMore).then_some("请补充盖章件");
        s.review_evidence(ev, verdict, note, &office())
            .await
            .unwrap();
    }
    step(s, &t, TaskAction::Submit, ActorRole::ResponsibleUnit).await;
    step(s, &t, TaskAction::Approve, ActorRole::Office).await;
    s.set_scores(
        t.id,
        Some(fazhi_store::Score::new(95.0).unwrap()),
        Some(fazhi_store::Score::new(88.5).unwrap()),
        &office(),
    )
    .await
    .unwrap();

    // 1 / 县行政审批服务局: on time, approved.
    let t = task_of(s, round, "1", "县行政审批服务局").await;
    step(s, &t, TaskAction::Sign, ActorRole::ResponsibleUnit).await;
    step(s, &t, TaskAction::Submit, ActorRole::ResponsibleUnit).await;
    step(s, &t, TaskAction::Approve, ActorRole::Office).await;

    // 2 / 县行政审批服务局: submitted.
    let t = task_of(s, round, "2", "县行政审批服务局").await;
    step(s, &t, TaskAction::Sign, ActorRole::ResponsibleUnit).await;
    step(s, &t, TaskAction::Submit, ActorRole::ResponsibleUnit).await;

    // 4 / 县司法局: overdue, in progress, chased.
    let t = task_of(s, round, "4", "县司法局").await;
    s.set_due(&[t.id], Some(past), &office()).await.unwrap();
    step(s, &t, TaskAction::Sign, ActorRole::ResponsibleUnit).await;
    s.issue_notice(
        t.id,
        NoticeLevel::Warn,
        "已逾期，请于三日内报送",
        None,
        &office(),
    )
    .await
    .unwrap();

    Site { dir, store, round }
}

/// Every cell of a sheet as text (dates as `YYYY-MM-DD`, whole numbers without `.0`).
pub fn sheet(path: &Path, name: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(name).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect()
}

pub fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::DateTime(d) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{day:02}")
        }
        other => other.to_string(),
    }
}

pub fn sheet_names(path: &Path) -> Vec<String> {
    let wb: Xlsx<_> = open_workbook(path).unwrap();
    wb.sheet_names()
}

/// Converts `file` to PDF with LibreOffice headless (its own profile) and returns the
/// PDF's text; fails the test when the conversion fails.
pub fn libreoffice_pdf_text(file: &Path, work: &Path) -> String {
    let out = work.join("pdf");
    std::fs::create_dir_all(&out).unwrap();
    let profile = work.join("lo-profile");
    let conv = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&out)
        .arg(file)
        .output()
        .expect("LibreOffice（soffice）应已安装");
    assert!(
        conv.status.success(),
        "soffice: {}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let pdf: PathBuf = out.join(file.with_extension("pdf").file_name().unwrap());
    assert!(
        std::fs::metadata(&pdf)
            .map(|m| m.len() > 1000)
            .unwrap_or(false),
        "没有生成 PDF：{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(text.status.success());
    String::from_utf8_lossy(&text.stdout).into_owned()
}
