//! `sanitize_file_name`: the cases users send, and properties over arbitrary input.

use fazhi_files::{FALLBACK_FILE_NAME, MAX_FILE_NAME_CHARS, sanitize_file_name};
use proptest::prelude::*;

#[test]
fn cases() {
    let cases = [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/var/lib/fazhi/fazhi.db", "fazhi.db"),
        (
            r"C:\Users\李四\Desktop\执法案卷（2024）第12号.pdf",
            "执法案卷（2024）第12号.pdf",
        ),
        ("现场照片 001.JPG", "现场照片 001.JPG"),
        ("a\0.pdf", "a.pdf"),
        ("\t报告\r\n.docx", "报告.docx"),
        ("CON", "_CON"),
        ("con.pdf", "_con.pdf"),
        ("LPT1.txt", "_LPT1.txt"),
        ("", FALLBACK_FILE_NAME),
        ("..", FALLBACK_FILE_NAME),
        ("  ", FALLBACK_FILE_NAME),
        ("name.", "name"),
        ("x:y*z?.txt", "x_y_z_.txt"),
    ];
    for (input, expected) in cases {
        assert_eq!(sanitize_file_name(input), expected, "{input:?}");
    }
}

#[test]
fn long_chinese_name_keeps_extension() {
    let name = format!(
        "{}关于印发示范创建实施方案的通知.docx",
        "县人民政府办公室".repeat(20)
    );
    let s = sanitize_file_name(&name);
    assert_eq!(s.chars().count(), MAX_FILE_NAME_CHARS);
    assert!(s.starts_with("县人民政府办公室"));
    assert!(s.ends_with(".docx"));
}

fn check(name: &str) -> Result<(), TestCaseError> {
    let s = sanitize_file_name(name);
    prop_assert!(!s.is_empty());
    prop_assert!(!s.contains('/'), "{s:?}");
    prop_assert!(!s.contains('\\'), "{s:?}");
    prop_assert!(!s.contains(".."), "{s:?}");
    prop_assert!(!s.chars().any(char::is_control), "{s:?}");
    prop_assert!(s.chars().count() <= MAX_FILE_NAME_CHARS, "{s:?}");
    prop_assert!(!s.starts_with('.') && !s.ends_with('.'), "{s:?}");
    prop_assert_eq!(sanitize_file_name(&s), s.clone(), "idempotent");
    Ok(())
}

proptest! {
    #[test]
    fn never_unsafe_on_any_string(name in any::<String>()) {
        check(&name)?;
    }

    #[test]
    fn never_unsafe_on_path_like_strings(
        name in r"([./\\\x00-\x1f 　]|[a-zA-Z0-9]|法|治|CON|nul|\.\.|\u{202E}){0,200}"
    ) {
        check(&name)?;
    }

    #[test]
    fn keeps_plain_chinese_names(stem in "[\u{4e00}-\u{9fa5}]{1,60}", ext in "(pdf|docx|mp4|jpg)") {
        let name = format!("{stem}.{ext}");
        prop_assert_eq!(sanitize_file_name(&name), name);
    }
}
