//! 目录.pdf in the archive, and the bound volume (合订本): pages, bookmarks, embedded
//! evidence text, damaged and encrypted PDFs listed instead of embedded.

use std::path::Path;
use std::process::Command;

use fazhi_document::{Compilation, PdfSettings};
use fazhi_package::{Control, PackageFormat, PackageParams, VolumeLimits, plan, write_volume};
use fazhi_store::Verdict;

use super::{add_file, have, site};

fn have_fonts() -> bool {
    match PdfSettings::from_env().fonts() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("跳过：{e}");
            false
        }
    }
}

/// With `FAZHI_TEST_KEEP=DIR`, a copy of a generated PDF goes there, to look at.
fn keep(file: &Path) {
    if let Some(dir) = std::env::var_os("FAZHI_TEST_KEEP")
        && let Some(name) = file.file_name()
    {
        std::fs::copy(file, Path::new(&dir).join(name)).unwrap();
    }
}

fn pdf_text(file: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pdf_pages(file: &Path) -> usize {
    let out = Command::new("pdfinfo").arg(file).output().unwrap();
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo: {info}"))
}

/// A real PDF of `pages` pages with Chinese text, made with the same engine.
fn make_pdf(pages: &[&str]) -> Vec<u8> {
    let template = "#let d = json(\"/data.json\")\n#set text(font: d.fonts.song, size: 18pt)\n#for p in d.pages { page(p) }\n";
    fazhi_document::pdf::compile(
        Compilation {
            template,
            data: serde_json::json!({ "pages": pages }),
            files: Vec::new(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        },
        &PdfSettings::from_env(),
    )
    .unwrap()
}

/// `目录.pdf` inside the archive: one line per file with its number, the headings, A4
/// landscape pages numbered `— 1 —`.
pub fn check_catalog_pdf(site: &super::Site, zip: &Path, paths: &[&str]) {
    if !have("unzip") || !have("pdftotext") {
        return;
    }
    let out = Command::new("unzip")
        .arg("-p")
        .arg(zip)
        .arg("目录.pdf")
        .output()
        .unwrap();
    assert!(out.status.success());
    let pdf = site.dir.path().join("目录.pdf");
    std::fs::write(&pdf, &out.stdout).unwrap();
    keep(&pdf);
    let text = pdf_text(&pdf);
    let flat: String = text.split_whitespace().collect();
    for want in [
        "2026年度佐证材料目录",
        "一、政府职能依法全面履行",
        "二、依法行政制度体系完善",
        "1-1-001-01",
        "1-1-001-02",
        "1-1-001-03",
        "2-1-023-01",
        "县行政审批服务局",
        "链接材料",
        "https://www.lanling.gov.cn/qingdan.html",
        "合格",
        "—1—",
    ] {
        assert!(flat.contains(want), "{want} not in 目录.pdf:\n{text}");
    }
    assert_eq!(paths.len(), 4);
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("841.89 x 595.27") || info.contains("841.89 x 595.28"),
        "A4 横向：{info}"
    );
}

/// Outline titles with their depth, read with qpdf's JSON.
fn outline(file: &Path) -> Vec<(usize, String)> {
    let out = Command::new("qpdf")
        .args(["--json=2", "--json-key=outlines"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    fn walk(items: &serde_json::Value, depth: usize, out: &mut Vec<(usize, String)>) {
        for it in items.as_array().into_iter().flatten() {
            out.push((depth, it["title"].as_str().unwrap_or("").to_string()));
            walk(&it["kids"], depth + 1, out);
        }
    }
    let mut got = Vec::new();
    walk(&v["outlines"], 1, &mut got);
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_volume_embeds_evidence_pages_with_bookmarks_and_lists_the_rest() {
    if !have_fonts() || !have("pdftotext") || !have("pdfinfo") {
        return;
    }
    let site = site().await;
    let t = site.approval_task;
    let two_pages = make_pdf(&["行政审批事项清单佐证页面甲", "行政审批事项清单佐证页面乙"]);
    add_file(
        &site,
        t,
        "审批事项清单",
        "qingdan.pdf",
        &two_pages,
        Some(Verdict::Ok),
    )
    .await;
    let mut evidence_pages = 2;
    if have("pdftoppm") {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("p.pdf");
        std::fs::write(&src, make_pdf(&["现场照片"])).unwrap();
        let st = Command::new("pdftoppm")
            .args(["-png", "-r", "20", "-singlefile"])
            .arg(&src)
            .arg(dir.path().join("photo"))
            .status()
            .unwrap();
        assert!(st.success());
        let png = std::fs::read(dir.path().join("photo.png")).unwrap();
        add_file(&site, t, "现场照片", "photo.png", &png, Some(Verdict::Ok)).await;
        evidence_pages += 1;
    }
    add_file(
        &site,
        t,
        "工作台账",
        "taizhang.txt",
        b"plain text\n",
        Some(Verdict::Ok),
    )
    .await;
    add_file(
        &site,
        t,
        "损坏的扫描件",
        "broken.pdf",
        b"%PDF-1.7\nthis is not a pdf at all, only a header\n",
        Some(Verdict::Ok),
    )
    .await;
    let mut encrypted = false;
    if have("qpdf") {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a.pdf"), dir.path().join("b.pdf"));
        std::fs::write(&src, make_pdf(&["加密的页面"])).unwrap();
        let st = Command::new("qpdf")
            .args(["--encrypt", "user-pw", "owner-pw", "256", "--"])
            .arg(&src)
            .arg(&dst)
            .status()
            .unwrap();
        assert!(st.success());
        let bytes = std::fs::read(&dst).unwrap();
        add_file(
            &site,
            t,
            "设了密码的文件",
            "locked.pdf",
            &bytes,
            Some(Verdict::Ok),
        )
        .await;
        encrypted = true;
    }
    let one_page = make_pdf(&["合法性审核意见书正文页"]);
    add_file(
        &site,
        site.justice_task,
        "规范性文件合法性审核意见书",
        "shenhe.pdf",
        &one_page,
        Some(Verdict::Ok),
    )
    .await;
    evidence_pages += 1;

    let params = PackageParams {
        format: PackageFormat::Pdf,
        ..Default::default()
    };
    let p = plan(&site.store, &params).await.unwrap();
    let out = site.dir.path().join("合订本.pdf");
    let built = write_volume(
        &site.files,
        p,
        &out,
        Control::default(),
        VolumeLimits::default(),
    )
    .await
    .unwrap();
    assert!(built.problems.is_empty(), "{:?}", built.problems);
    let (size, sha) =
        fazhi_package::archive::hash_file(&out, &std::sync::atomic::AtomicBool::new(false))
            .unwrap();
    assert_eq!((size, sha), (built.size, built.sha256.clone()));

    keep(&out);
    // Cover + 目录 + two indicator pages + every evidence page.
    let pages = pdf_pages(&out);
    assert_eq!(pages, 1 + 1 + 2 + evidence_pages, "页数");

    let text = pdf_text(&out);
    let flat: String = text.split_whitespace().collect();
    for want in [
        "2026年度佐证材料汇编",
        "目录",
        // The embedded evidence pages' own text.
        "行政审批事项清单佐证页面甲",
        "行政审批事项清单佐证页面乙",
        "合法性审核意见书正文页",
        // Indicator pages: text, unit, verdicts, numbers.
        "向社会公布本级政府全部行政审批事项清单",
        "县行政审批服务局",
        "县司法局",
        "1-1-001-01",
        "2-1-023-01",
        "合格",
        // The rest listed, with why.
        "工作台账",
        "未嵌入",
        "损坏的扫描件",
        "已损坏",
        "—1—",
        "—2—",
    ] {
        assert!(flat.contains(want), "{want} not in the volume:\n{text}");
    }
    if encrypted {
        assert!(
            flat.contains("设了密码的文件") && flat.contains("已加密"),
            "{text}"
        );
        assert!(
            !flat.contains("加密的页面"),
            "an encrypted PDF is not embedded"
        );
    }

    if have("qpdf") {
        let o = outline(&out);
        let titles: Vec<&str> = o.iter().map(|(_, t)| t.as_str()).collect();
        for (depth, want) in [
            (1, "一、政府职能依法全面履行"),
            (2, "1.行政审批制度改革全面推行"),
            (3, "1 向社会公布本级政府全部行政审批事项清单"),
            (4, "县行政审批服务局"),
            (1, "二、依法行政制度体系完善"),
            (4, "县司法局"),
        ] {
            assert!(
                o.iter().any(|(d, t)| *d == depth && t.starts_with(want)),
                "bookmark {want} at depth {depth}: {titles:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_over_the_limit_is_refused_with_advice() {
    let site = site().await;
    add_file(
        &site,
        site.approval_task,
        "大文件",
        "big.pdf",
        &[b"%PDF-1.4\n".as_slice(), &[b'%'; 4096]].concat(),
        Some(Verdict::Ok),
    )
    .await;
    let params = PackageParams {
        format: PackageFormat::Pdf,
        ..Default::default()
    };
    let p = plan(&site.store, &params).await.unwrap();
    let out = site.dir.path().join("v.pdf");
    let limits = VolumeLimits {
        max_embedded_bytes: 1000,
        ..Default::default()
    };
    let err = write_volume(&site.files, p, &out, Control::default(), limits)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("上限") && msg.contains("--heading"), "{msg}");
    assert!(!out.exists());
}
