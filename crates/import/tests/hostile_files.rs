//! Hostile files: small inputs that claim huge contents. Each is refused with the limit it
//! breaks, and the allocator below shows that refusing it never asked for much memory
//! (before the guard, the first two made calamine request hundreds of GB and abort).

// A counting global allocator needs `unsafe impl GlobalAlloc`; test code only.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Cursor, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use fazhi_import::limits::{self, LimitError};
use fazhi_import::{ImportError, ImportOptions, InputFormat};
use zip::write::SimpleFileOptions;

/// Counts live bytes, their peak and the largest single request.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time (`cargo test` runs tests on threads).
static MEASURE: Mutex<()> = Mutex::new(());

/// Import `bytes` as `format`, returning the error and the most memory the import held
/// beyond what was live before it, and its largest single allocation.
fn import_measured(bytes: &[u8], format: InputFormat) -> (ImportError, usize, usize) {
    let _one = MEASURE.lock().unwrap_or_else(|e| e.into_inner());
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    LARGEST.store(0, Ordering::Relaxed);
    let options = ImportOptions {
        format: Some(format),
        ..Default::default()
    };
    let result = fazhi_import::import_bytes(bytes, None, &options);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    let largest = LARGEST.load(Ordering::Relaxed);
    match result {
        Ok(_) => panic!("a hostile file was imported"),
        Err(e) => (e, peak, largest),
    }
}

/// Generous for refusing a file (a real seed import peaks at a few MB).
const SMALL: usize = 16 * 1024 * 1024;

fn assert_small(peak: usize, largest: usize) {
    assert!(peak < SMALL, "peak {peak} bytes");
    assert!(largest < SMALL, "largest allocation {largest} bytes");
}

/// A minimal workbook: the parts calamine needs, plus `extra` parts, with `sheet` as the
/// only worksheet and `strings` as the shared-string table.
fn workbook(sheet: &str, strings: Option<&str>, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let content_types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let workbook = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="责任分工" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let workbook_rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", content_types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ];
    if let Some(s) = strings {
        parts.push(("xl/sharedStrings.xml", s.as_bytes()));
    }
    parts.extend_from_slice(extra);
    for (name, data) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn sheet(dimension: Option<&str>, rows: &str) -> String {
    let dim = dimension
        .map(|d| format!(r#"<dimension ref="{d}"/>"#))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}<sheetData>{rows}</sheetData></worksheet>"#
    )
}

const TWO_CELLS: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>一级指标</t></is></c></row>"#;

#[test]
fn the_minimal_workbook_is_read() {
    // The fixture itself is a valid workbook: the refusals below are about the limits.
    let bytes = workbook(&sheet(Some("A1"), TWO_CELLS), None, &[]);
    let options = ImportOptions {
        format: Some(InputFormat::Xlsx),
        ..Default::default()
    };
    let err = fazhi_import::import_bytes(&bytes, None, &options).unwrap_err();
    // One heading cell is no table, but it was read.
    assert!(
        matches!(err, ImportError::UnknownLayout(_) | ImportError::Empty),
        "{err}"
    );
}

#[test]
fn a_2kb_workbook_with_cells_at_a1_and_xfd1048576_is_refused() {
    let rows = r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>"#;
    let bytes = workbook(&sheet(None, rows), None, &[]);
    assert!(bytes.len() < 2048, "{} bytes", bytes.len());
    let (err, peak, largest) = import_measured(&bytes, InputFormat::Xlsx);
    assert!(
        matches!(&err, ImportError::TooLarge(LimitError::CellOutOfRange { cell, .. }) if cell == "XFD1048576"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("XFD1048576") && msg.contains("10000行"),
        "{msg}"
    );
    assert_small(peak, largest);
}

#[test]
fn a_workbook_declaring_dimension_a1_to_xfd1048576_is_refused() {
    let bytes = workbook(&sheet(Some("A1:XFD1048576"), TWO_CELLS), None, &[]);
    assert!(bytes.len() < 2048, "{} bytes", bytes.len());
    let (err, peak, largest) = import_measured(&bytes, InputFormat::Xlsx);
    assert!(
        matches!(&err, ImportError::TooLarge(LimitError::DimensionOutOfRange { range, .. }) if range == "A1:XFD1048576"),
        "{err:?}"
    );
    assert_small(peak, largest);
}

#[test]
fn a_shared_string_count_of_10_to_the_11_is_refused() {
    for attribute in ["uniqueCount", "count"] {
        let strings = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" {attribute}="100000000000"><si><t>一级指标</t></si></sst>"#
        );
        let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
        let bytes = workbook(&sheet(None, rows), Some(&strings), &[]);
        assert!(bytes.len() < 2048, "{} bytes", bytes.len());
        let (err, peak, largest) = import_measured(&bytes, InputFormat::Xlsx);
        assert!(
            matches!(&err, ImportError::TooLarge(LimitError::SharedStrings { attribute: a, .. }) if *a == attribute),
            "{err:?}"
        );
        assert!(err.to_string().contains("100000000000"), "{err}");
        assert_small(peak, largest);
    }
}

#[test]
fn cells_without_references_are_counted_like_calamine_counts_them() {
    // No `r` attributes: the 65th cell of the row lies in column BM.
    let cells: String = (0..65).map(|i| format!("<c><v>{i}</v></c>")).collect();
    let bytes = workbook(&sheet(None, &format!("<row>{cells}</row>")), None, &[]);
    let (err, _, _) = import_measured(&bytes, InputFormat::Xlsx);
    assert!(
        matches!(&err, ImportError::TooLarge(LimitError::CellOutOfRange { cell, .. }) if cell == "BM1"),
        "{err:?}"
    );
}

#[test]
fn the_last_cell_inside_the_limits_is_accepted_and_the_next_refused() {
    let options = ImportOptions {
        format: Some(InputFormat::Xlsx),
        ..Default::default()
    };
    let mut book = rust_xlsxwriter::Workbook::new();
    let s = book.add_worksheet();
    s.write_string(0, 0, "一级指标").unwrap();
    s.write_string(limits::MAX_ROWS - 1, 63, "最后一格")
        .unwrap();
    let inside = book.save_to_buffer().unwrap();
    let err = fazhi_import::import_bytes(&inside, None, &options).unwrap_err();
    assert!(!matches!(err, ImportError::TooLarge(_)), "{err}");
    for (row, col, cell) in [(limits::MAX_ROWS, 0, "A10001"), (0, 64, "BM1")] {
        let mut book = rust_xlsxwriter::Workbook::new();
        let s = book.add_worksheet();
        s.write_string(0, 0, "一级指标").unwrap();
        s.write_string(row, col, "多余").unwrap();
        let outside = book.save_to_buffer().unwrap();
        let err = fazhi_import::import_bytes(&outside, None, &options).unwrap_err();
        assert!(
            err.to_string().contains(cell),
            "{cell}: {err} (should name the cell)"
        );
    }
}

/// A deflated entry of `size` zero bytes (about 1/1000 of that compressed).
fn zeros_entry(size: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("xl/media/image1.png", SimpleFileOptions::default())
        .unwrap();
    let block = vec![0u8; 1024 * 1024];
    for _ in 0..size / block.len() {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_zip_bomb_entry_is_refused_by_its_declared_size() {
    let bomb = zeros_entry(200 * 1024 * 1024);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut archive = zip::ZipArchive::new(Cursor::new(&bomb[..])).unwrap();
    zip.raw_copy_file(archive.by_index(0).unwrap()).unwrap();
    let base = workbook(&sheet(None, TWO_CELLS), None, &[]);
    let mut base = zip::ZipArchive::new(Cursor::new(&base[..])).unwrap();
    for i in 0..base.len() {
        zip.raw_copy_file(base.by_index(i).unwrap()).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() < 400 * 1024, "{} bytes", bytes.len());
    let (err, peak, largest) = import_measured(&bytes, InputFormat::Xlsx);
    assert!(
        matches!(&err, ImportError::TooLarge(LimitError::Unzipped { entry, .. }) if entry == "xl/media/image1.png"),
        "{err:?}"
    );
    assert_small(peak, largest);
}

#[test]
fn a_zip_bomb_entry_that_lies_about_its_size_is_refused_while_decompressing() {
    let mut bytes = zeros_entry(200 * 1024 * 1024);
    // Rewrite the declared uncompressed size (local header offset 22, central header
    // offset 24) to 1 KB: only counting while decompressing can catch it now.
    patch_u32(&mut bytes, b"PK\x03\x04", 22, 1024);
    patch_u32(&mut bytes, b"PK\x01\x02", 24, 1024);
    let (err, peak, largest) = import_measured(&bytes, InputFormat::Xlsx);
    assert!(
        matches!(
            &err,
            ImportError::TooLarge(LimitError::Unzipped { .. }) | ImportError::Unreadable(_)
        ),
        "{err:?}"
    );
    assert_small(peak, largest);
}

fn patch_u32(bytes: &mut [u8], signature: &[u8], offset: usize, value: u32) {
    let at = bytes
        .windows(4)
        .position(|w| w == signature)
        .expect("signature present");
    bytes[at + offset..at + offset + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn a_workbook_with_too_many_entries_is_refused() {
    let names: Vec<String> = (0..limits::MAX_ZIP_ENTRIES)
        .map(|i| format!("xl/media/{i}.txt"))
        .collect();
    let extra: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let bytes = workbook(&sheet(None, TWO_CELLS), None, &extra);
    let (err, _, _) = import_measured(&bytes, InputFormat::Xlsx);
    assert!(
        matches!(
            err,
            ImportError::TooLarge(LimitError::TooManyEntries { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn damaged_references_are_refused_not_overflowed() {
    // calamine's arithmetic on these overflows (a panic in a debug build).
    for (dimension, rows) in [
        (None, r#"<row r="1"><c r="AAAAAAAAAA1"><v>1</v></c></row>"#),
        (None, r#"<row r="99999999999"><c><v>1</v></c></row>"#),
        (Some("B2:A1"), TWO_CELLS),
        (None, r#"<row r="1"><c r="A1" r="XFD1"><v>1</v></c></row>"#),
    ] {
        let bytes = workbook(&sheet(dimension, rows), None, &[]);
        let (err, _, _) = import_measured(&bytes, InputFormat::Xlsx);
        assert!(
            matches!(err, ImportError::Unreadable(ref m) if m.contains("损坏")),
            "{rows}: {err:?}"
        );
    }
}

#[test]
fn an_old_xls_or_encrypted_workbook_is_refused_with_a_way_out() {
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(4096, 0);
    let (err, _, _) = import_measured(&bytes, InputFormat::Xlsx);
    assert!(err.to_string().contains("另存为"), "{err}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_decoding() {
    let bytes = vec![b'a'; limits::MAX_FILE_BYTES + 1];
    for format in [InputFormat::Text, InputFormat::Csv, InputFormat::Xlsx] {
        let (err, peak, largest) = import_measured(&bytes, format);
        assert!(
            matches!(err, ImportError::TooLarge(LimitError::FileTooLarge { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains("20.0 MB"), "{err}");
        // Nothing the size of the input was allocated.
        assert!(
            peak < 1024 * 1024 && largest < 1024 * 1024,
            "{peak} {largest}"
        );
    }
}

#[test]
fn a_csv_of_commas_is_refused_before_it_is_split() {
    // 10 MB of commas would be 10 million empty cells (some 240 MB of strings).
    let mut bytes = b"a,b\n".to_vec();
    bytes.resize(10 * 1024 * 1024, b',');
    let (err, peak, _) = import_measured(&bytes, InputFormat::Csv);
    assert!(
        matches!(
            err,
            ImportError::TooLarge(LimitError::TooManyFields { line: 2, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("第2行"), "{err}");
    // The decoded copy of the text, nothing per cell.
    assert!(peak < 2 * bytes.len(), "{peak}");
}

#[test]
fn a_csv_or_text_with_too_many_rows_is_refused() {
    let csv = "a,b\n".repeat(limits::MAX_ROWS as usize + 1);
    let (err, _, _) = import_measured(csv.as_bytes(), InputFormat::Csv);
    assert!(
        matches!(
            err,
            ImportError::TooLarge(LimitError::TooManyRows { line: 10001, .. })
        ),
        "{err:?}"
    );
    let tsv = csv.replace(',', "\t");
    let (err, _, _) = import_measured(tsv.as_bytes(), InputFormat::Tsv);
    assert!(
        matches!(err, ImportError::TooLarge(LimitError::TooManyRows { .. })),
        "{err:?}"
    );
    let text = "a\n".repeat(limits::MAX_TEXT_LINES + 1);
    let (err, _, _) = import_measured(text.as_bytes(), InputFormat::Text);
    assert!(
        matches!(err, ImportError::TooLarge(LimitError::TooManyLines { .. })),
        "{err:?}"
    );
    let wide = format!("a{}\n", "\tb".repeat(limits::MAX_COLUMNS as usize));
    let (err, _, _) = import_measured(wide.as_bytes(), InputFormat::Text);
    assert!(
        matches!(
            err,
            ImportError::TooLarge(LimitError::TooManyFields { line: 1, .. })
        ),
        "{err:?}"
    );
}
