//! Word and PDF input against the canonical library: the fixtures are the library's table
//! saved by python-docx and printed to PDF by LibreOffice (tests/fixtures/make_fixtures.py).

use fazhi_domain::framework::{Framework, Node};
use proptest::prelude::*;

use crate::{DiagnosticKind, ImportError, ImportOptions, ImportOutput, InputFormat};

const LIBRARY: &str = include_str!("../../../data/library/lanling.json");
const DOCX: &[u8] = include_bytes!("../tests/fixtures/lanling.docx");
const PDF: &[u8] = include_bytes!("../tests/fixtures/lanling.pdf");
const DOC: &[u8] = include_bytes!("../tests/fixtures/lanling.doc");

fn library() -> ImportOutput {
    serde_json::from_str(LIBRARY).expect("library parses")
}

/// The tree without source lines: what must match whatever file the table came in.
fn shape(f: &Framework) -> serde_json::Value {
    fn strip(nodes: &[Node]) -> Vec<serde_json::Value> {
        nodes
            .iter()
            .map(|n| match n {
                Node::Heading(h) => serde_json::json!({
                    "code": h.code, "title": h.title, "children": strip(&h.children)
                }),
                Node::Indicator(i) => serde_json::json!({
                    "code": i.code, "text": i.text, "units": i.units, "lead": i.lead
                }),
            })
            .collect()
    }
    serde_json::json!({ "title": f.title, "units": f.units, "indicators": strip(&f.indicators) })
}

fn assert_is_the_library(out: &ImportOutput) {
    let lib = library();
    let (a, b) = (shape(&out.framework), shape(&lib.framework));
    if a != b {
        // Name the first differing indicator rather than dumping two trees.
        let la = out.framework.walk_indicators();
        let lb = lib.framework.walk_indicators();
        for ((_, x), (_, y)) in la.iter().zip(&lb) {
            assert_eq!(
                (&x.code, &x.text, &x.units, &x.lead),
                (&y.code, &y.text, &y.units, &y.lead)
            );
        }
        assert_eq!(la.len(), lb.len());
        assert_eq!(a, b);
    }
    // Names and kinds; aliases record the spellings of the source (the seed's 纪委监委).
    let kinds = |o: &ImportOutput| -> Vec<(String, fazhi_domain::UnitKind)> {
        o.unit_details
            .iter()
            .map(|u| (u.name.clone(), u.kind))
            .collect()
    };
    assert_eq!(kinds(out), kinds(&lib));
    let missing: Vec<Option<&str>> = out
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::MissingUnits)
        .map(|d| d.indicator.as_deref())
        .collect();
    assert_eq!(missing, [Some("35"), Some("87")]);
    let dup: Vec<Option<&str>> = out
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::DuplicateText)
        .map(|d| d.indicator.as_deref())
        .collect();
    assert_eq!(dup, [Some("87")]);
}

#[test]
fn word_table_with_merged_cells_imports_to_the_library() {
    assert_eq!(InputFormat::detect(None, DOCX), InputFormat::Docx);
    let out = crate::import_bytes(DOCX, Some("lanling.docx"), &ImportOptions::default()).unwrap();
    assert_is_the_library(&out);
    // The second table repeats the header: skipped, not read as an indicator.
    assert!(
        out.diagnostics
            .iter()
            .any(|d| d.kind == DiagnosticKind::HeaderRepeated)
    );
}

#[test]
fn printed_pdf_imports_to_the_library() {
    assert_eq!(InputFormat::detect(None, PDF), InputFormat::Pdf);
    let out = crate::import_bytes(PDF, Some("lanling.pdf"), &ImportOptions::default()).unwrap();
    assert_is_the_library(&out);
    assert_eq!(out.diagnostics[0].kind, DiagnosticKind::Converted);
}

/// A PDF with one blank page: what a scan looks like to a text extractor.
fn pdf_without_text() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).bytes());
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for off in offsets {
        pdf.extend(format!("{off:010} 00000 n \n").bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    pdf
}

#[test]
fn scanned_pdf_says_so_instead_of_an_empty_table() {
    let err = crate::import_bytes(
        &pdf_without_text(),
        Some("scan.pdf"),
        &ImportOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("扫描件") && msg.contains("OCR"), "{msg}");
}

#[test]
fn broken_pdf_and_docx_get_clear_errors() {
    let err = crate::import_bytes(
        b"%PDF-1.4\ngarbage",
        Some("x.pdf"),
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ImportError::Unreadable(_)), "{err}");
    assert!(err.to_string().contains("PDF"), "{err}");
    let half = &DOCX[..DOCX.len() / 2];
    let err = crate::import_bytes(half, Some("x.docx"), &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("Word"), "{err}");
}

#[test]
fn old_word_files_are_converted_or_explained() {
    assert_eq!(
        InputFormat::detect(Some("a.wps"), b""),
        InputFormat::LegacyWord
    );
    assert_eq!(InputFormat::detect(None, DOC), InputFormat::LegacyWord);
    assert_eq!(
        InputFormat::parse_name("doc"),
        Some(InputFormat::LegacyWord)
    );
    let result = crate::import_bytes(DOC, Some("lanling.doc"), &ImportOptions::default());
    let soffice = std::process::Command::new("soffice")
        .arg("--version")
        .output()
        .is_ok();
    match result {
        Ok(out) => {
            assert!(soffice);
            assert_is_the_library(&out);
            assert_eq!(out.diagnostics[0].kind, DiagnosticKind::Converted);
        }
        // Without LibreOffice the message says how to convert.
        Err(err) => {
            assert!(
                !soffice,
                "LibreOffice is installed but the conversion failed: {err}"
            );
            assert!(err.to_string().contains("另存为"), "{err}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_docx_or_pdf_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000), pdf in any::<bool>()) {
        let format = if pdf { InputFormat::Pdf } else { InputFormat::Docx };
        let options = ImportOptions { format: Some(format), ..Default::default() };
        let _ = crate::import_bytes(&bytes, None, &options);
    }

    #[test]
    fn damaged_docx_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..30), cut in any::<usize>()) {
        let mut bytes = DOCX.to_vec();
        for (pos, b) in flips {
            let i = pos % bytes.len();
            bytes[i] = b;
        }
        bytes.truncate(DOCX.len() / 2 + cut % (DOCX.len() / 2));
        let _ = crate::import_bytes(&bytes, Some("d.docx"), &ImportOptions::default());
    }

    #[test]
    fn pdf_with_a_broken_xref_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..20)) {
        let mut bytes = pdf_without_text();
        let xref = bytes.windows(4).rposition(|w| w == b"xref").unwrap_or(0);
        for (pos, b) in flips {
            let i = xref + pos % (bytes.len() - xref);
            bytes[i] = b;
        }
        let _ = crate::import_bytes(&bytes, Some("b.pdf"), &ImportOptions::default());
    }
}
