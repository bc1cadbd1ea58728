use std::io::Read;
use std::process::Command;

use fazhi_document::docx::render_docx;
use fazhi_document::pdf::render_pdf;
use fazhi_document::{Block, DocumentError, PdfSettings};

use crate::support::{have, have_cjk_font, pdf_pages, pdf_text, report, run};

fn flat(s: &str) -> String {
    s.split_whitespace().collect()
}

fn docx_xml(bytes: &[u8], part: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    zip.by_name(part).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn docx_names_the_gongwen_fonts_on_every_run_and_opens_in_libreoffice() {
    let bytes = render_docx(&report()).unwrap();
    let xml = docx_xml(&bytes, "word/document.xml");
    // Every run that carries text names its East Asian font.
    let runs: Vec<&str> = xml.split("<w:r>").skip(1).collect();
    let with_text = runs.iter().filter(|r| r.contains("<w:t")).count();
    assert!(with_text > 30, "{with_text}");
    for r in runs.iter().filter(|r| r.contains("<w:t")) {
        assert!(
            r.contains("w:eastAsia="),
            "run without eastAsia: {}",
            &r[..r.len().min(300)]
        );
    }
    for font in ["方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"] {
        assert!(xml.contains(&format!("w:eastAsia=\"{font}\"")), "{font}");
    }
    // A4, margins 37/35/28/26 mm, fixed 29 pt lines, page numbers in both footers.
    assert!(
        xml.contains(r#"w:w="11906""#) && xml.contains(r#"w:h="16838""#),
        "A4"
    );
    for m in [
        r#"w:top="2098""#,
        r#"w:bottom="1984""#,
        r#"w:left="1587""#,
        r#"w:right="1474""#,
    ] {
        assert!(xml.contains(m), "margin {m}");
    }
    assert!(
        xml.contains(r#"w:line="580" w:lineRule="exact""#),
        "fixed line pitch"
    );
    let footer = docx_xml(&bytes, "word/footer1.xml");
    assert!(footer.contains("PAGE") && footer.contains("— "), "{footer}");
    assert!(docx_xml(&bytes, "word/settings.xml").contains("evenAndOddHeaders"));

    if !have("soffice") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("报告.docx");
    std::fs::write(&docx, &bytes).unwrap();
    let out = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}/lo",
            dir.path().display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&docx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf = dir.path().join("报告.pdf");
    assert!(pdf.exists(), "{}", String::from_utf8_lossy(&out.stdout));
    if have("pdftotext") {
        let text = flat(&pdf_text(&pdf));
        for want in [
            "兰陵县法治政府建设示范创建工作进展报告",
            "一、总体进展",
            "（一）各单位完成情况",
            "二、存在问题",
            "83.9%",
            "2026年12月1日",
        ] {
            assert!(
                text.contains(&flat(want)),
                "{want} not in LibreOffice's PDF:\n{text}"
            );
        }
    }
}

#[test]
fn pdf_has_the_headings_numbers_and_embedded_cjk_fonts() {
    if !have_cjk_font() || !have("pdftotext") || !have("pdffonts") {
        return;
    }
    let bytes = render_pdf(&report(), &PdfSettings::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("报告.pdf");
    std::fs::write(&pdf, &bytes).unwrap();
    // pdftotext puts spaces between digits and Chinese, and wraps lines: compare without
    // white space.
    let text = flat(&pdf_text(&pdf));
    for want in [
        "兰陵县法治政府建设示范创建工作进展报告",
        "县委全面依法治县委员会：",
        "一、总体进展",
        "（一）各单位完成情况",
        "二、存在问题",
        "表1 各一级指标完成情况",
        "图1 各一级指标完成率",
        "83.9%",
        "89.3%",
        "兰陵县委全面依法治县委员会办公室",
        "2026年12月1日",
        "— 1 —",
        "— 2 —",
    ] {
        assert!(text.contains(&flat(want)), "{want} not in:\n{text}");
    }
    assert!(pdf_pages(&pdf) >= 2);
    let fonts = run("pdffonts", &[], &pdf);
    let cjk: Vec<&str> = fonts
        .lines()
        .filter(|l| l.contains("CJK") || l.contains("WenKai") || l.contains("GB2312"))
        .collect();
    assert!(!cjk.is_empty(), "{fonts}");
    for l in &cjk {
        // Columns: name type encoding emb sub uni …
        let cols: Vec<&str> = l.split_whitespace().collect();
        assert!(
            cols.iter().rev().take(5).any(|c| *c == "yes"),
            "not embedded: {l}"
        );
    }
    // Body (serif) and 一级标题 (sans) faces are distinct fonts.
    assert!(fonts.contains("Serif") && fonts.contains("Sans"), "{fonts}");
}

#[test]
fn markup_in_user_text_stays_text() {
    if !have_cjk_font() || !have("pdftotext") {
        return;
    }
    let nasty = r#"标题#set page(width: 1cm)$x^2$*粗*[括号]\反斜杠<标签>@引用 #panic("x") ]"#;
    let mut doc = report();
    doc.title = nasty.into();
    doc.issuer = "#(1+1) 机关".into();
    doc.recipient = Some("<主送> @all".into());
    doc.blocks = vec![
        Block::Heading1 {
            text: "*一级* #strong[x]".into(),
        },
        Block::Paragraph { text: nasty.into() },
        Block::Paragraph {
            text: r#"反引号`raw` 和 // 注释 /* 块 */ 与 "引号" 以及 \u{41}"#.into(),
        },
    ];
    let bytes = render_pdf(&doc, &PdfSettings::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("x.pdf");
    std::fs::write(&pdf, &bytes).unwrap();
    // Raw (no layout) text, joined: a long title wraps.
    let text = flat(&pdf_text(&pdf));
    for want in [
        "标题#setpage(width:1cm)$x^2$*粗*[括号]\\反斜杠<标签>@引用#panic(\"x\")]",
        "#(1+1)机关",
        "<主送>@all：",
        "一、*一级*#strong[x]",
        "反引号`raw`和//注释/*块*/与\"引号\"以及\\u{41}",
    ] {
        assert!(text.contains(&flat(want)), "{want} not in:\n{text}");
    }
    // A narrow page would have made hundreds of pages.
    assert!(crate::support::pdf_pages(&pdf) <= 2);
}

#[test]
fn without_chinese_fonts_the_pdf_says_which_package_to_install() {
    let empty = tempfile::tempdir().unwrap();
    let settings = PdfSettings {
        font_dir: Some(empty.path().to_path_buf()),
        system_fonts: false,
    };
    let err = render_pdf(&report(), &settings).unwrap_err();
    assert!(matches!(err, DocumentError::NoCjkFont), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("fonts-noto-cjk") && msg.contains("中文字体"),
        "{msg}"
    );
    // A configured folder that does not exist is named.
    let err = render_pdf(
        &report(),
        &PdfSettings {
            font_dir: Some(empty.path().join("没有")),
            system_fonts: true,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("没有"), "{err}");
}
