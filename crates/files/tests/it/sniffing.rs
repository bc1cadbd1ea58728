//! Content types of real files (made by LibreOffice, ffmpeg, Pillow and Python's zipfile,
//! see fixtures/README.md), by `sniff` and through `put_stream` in small chunks.

use std::path::PathBuf;

use fazhi_files::{FileStore, MIB, SNIFF_LEN, sniff};

use crate::common::chunked;

const EXPECTED: &[(&str, &str)] = &[
    ("report.pdf", "application/pdf"),
    (
        "report.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("report.doc", "application/msword"),
    ("report.odt", "application/vnd.oasis.opendocument.text"),
    (
        "table.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("table.xls", "application/vnd.ms-excel"),
    (
        "table.ods",
        "application/vnd.oasis.opendocument.spreadsheet",
    ),
    ("sample.ofd", "application/ofd"),
    ("sample.zip", "application/zip"),
    ("sample.gz", "application/gzip"),
    ("sample.png", "image/png"),
    ("sample.jpg", "image/jpeg"),
    ("sample.gif", "image/gif"),
    ("sample.webp", "image/webp"),
    ("sample.bmp", "image/bmp"),
    ("sample.tiff", "image/tiff"),
    ("sample.avif", "image/avif"),
    ("sample.mp4", "video/mp4"),
    ("sample.mov", "video/quicktime"),
    ("sample.3gp", "video/3gpp"),
    ("sample.avi", "video/x-msvideo"),
    ("sample.webm", "video/webm"),
    ("sample.mkv", "video/x-matroska"),
    ("sample.flv", "video/x-flv"),
    ("sample.ts", "video/mp2t"),
    ("sample.mp3", "audio/mpeg"),
    ("sample_noid3.mp3", "audio/mpeg"),
    ("sample.m4a", "audio/mp4"),
    ("sample.aac", "audio/aac"),
    ("sample.wav", "audio/wav"),
    ("sample.ogg", "audio/ogg"),
    ("sample.flac", "audio/flac"),
    ("utf8.txt", "text/plain"),
    ("utf16.txt", "text/plain"),
    ("gbk.csv", "text/plain"),
];

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn sniffs_real_files() {
    let mut wrong = Vec::new();
    for (name, expected) in EXPECTED {
        let got = sniff(&fixture(name));
        if got != *expected {
            wrong.push(format!("{name}: {got}, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn sniffs_from_the_head_alone() {
    // What an upload sees first is enough, but for 97–2003 files whose directory lies further.
    for (name, expected) in EXPECTED {
        let bytes = fixture(name);
        if bytes.len() > 512 && !name.ends_with(".doc") && !name.ends_with(".xls") {
            let head = &bytes[..bytes.len().min(SNIFF_LEN).min(4096)];
            assert_eq!(sniff(head), *expected, "{name}");
        }
    }
}

#[test]
fn hand_made_signatures() {
    let cases: &[(&[u8], &str)] = &[
        (b"#!AMR\n\x3c\x48", "audio/amr"),
        (b"#!AMR-WB\n\x04", "audio/amr-wb"),
        (
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
            "image/heic",
        ),
        (b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (
            b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat",
            "video/quicktime",
        ),
        (b"Rar!\x1a\x07\x01\x00", "application/vnd.rar"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "application/x-7z-compressed"),
        (
            b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            "application/zip",
        ),
        // The extension says nothing: an executable named .pdf is not a PDF.
        (b"MZ\x90\x00\x03\x00\x00\x00", "application/octet-stream"),
        (b"\x7fELF\x02\x01\x01\x00", "application/octet-stream"),
        ("法治政府建设，依法行政。".as_bytes(), "text/plain"),
    ];
    for (bytes, expected) in cases {
        assert_eq!(sniff(bytes), *expected, "{bytes:?}");
    }
}

#[tokio::test]
async fn put_stream_sniffs_across_small_chunks() {
    let dir = tempfile::TempDir::new().expect("临时目录");
    let store = FileStore::local(dir.path()).expect("打开");
    for (name, expected) in EXPECTED {
        let bytes = fixture(name);
        // Chunks of 100 bytes: signatures, ZIP headers and the OLE directory straddle them.
        let blob = store
            .put_stream(chunked(&bytes, 100), MIB)
            .await
            .expect("上传");
        assert_eq!(blob.content_type, *expected, "{name}");
    }
}
