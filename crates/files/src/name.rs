//! File names supplied by clients, made safe to store and to send back.

/// The longest name [`sanitize_file_name`] returns, in characters (not bytes).
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// What [`sanitize_file_name`] returns when nothing usable is left.
pub const FALLBACK_FILE_NAME: &str = "未命名文件";

/// Extensions longer than this are not kept apart when a long name is shortened.
const MAX_EXTENSION_CHARS: usize = 16;

/// Makes a client-supplied file name safe to keep and to offer for download.
///
/// - Only the last path component is kept (browsers on Windows may send `C:\…\文件.pdf`), so
///   no `/`, `\`, absolute path or `..` survives; runs of dots become one dot, and leading dots
///   and trailing dots or spaces are dropped.
/// - Control characters (NUL included) and invisible direction or zero-width marks (used to
///   disguise `exe` as `pdf`) are removed; `< > : " | ? *` become `_`.
/// - Windows device names (`CON`, `NUL`, `COM1`, `LPT1`, …, with any extension) get a `_` prefix.
/// - Longer than [`MAX_FILE_NAME_CHARS`] characters: the stem is cut, the extension kept.
/// - Chinese (any non-ASCII letter) is kept as is; the result is never empty
///   ([`FALLBACK_FILE_NAME`]).
///
/// ```
/// use fazhi_files::sanitize_file_name;
/// assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
/// assert_eq!(sanitize_file_name(r"C:\Users\张三\执法记录 2024.mp4"), "执法记录 2024.mp4");
/// assert_eq!(sanitize_file_name("CON.txt"), "_CON.txt");
/// assert_eq!(sanitize_file_name(""), "未命名文件");
/// ```
pub fn sanitize_file_name(name: &str) -> String {
    // Last non-empty path component, separators of both kinds.
    let last = name
        .split(['/', '\\'])
        .rev()
        .find(|s| !s.trim().is_empty())
        .unwrap_or("");

    let mut cleaned = String::with_capacity(last.len());
    for c in last.chars() {
        if c.is_control() || is_invisible_format_char(c) {
            continue;
        }
        let c = match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c => c,
        };
        // No "..": keep a single dot of any run.
        if c == '.' && cleaned.ends_with('.') {
            continue;
        }
        cleaned.push(c);
    }

    // A leading dot makes a hidden file (".htaccess") or is what is left of ".."; trailing dots
    // and spaces are dropped by Windows.
    let had_leading_dot = cleaned.trim_start().starts_with('.');
    let mut name = cleaned.trim_matches(is_dot_or_space).to_string();
    if had_leading_dot && !name.is_empty() && !name.contains('.') && looks_like_extension(&name) {
        // ".pdf" is an extension with no name.
        name = format!("{FALLBACK_FILE_NAME}.{name}");
    }

    if is_windows_reserved(&name) {
        name.insert(0, '_');
    }

    let name = shorten(&name);
    if name.is_empty() {
        FALLBACK_FILE_NAME.to_string()
    } else {
        name
    }
}

/// Bidirectional overrides and isolates, zero-width characters, the BOM and similar
/// invisible format characters.
fn is_invisible_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

fn is_dot_or_space(c: char) -> bool {
    c == '.' || c.is_whitespace()
}

fn looks_like_extension(s: &str) -> bool {
    s.chars().count() <= MAX_EXTENSION_CHARS && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// CON, PRN, AUX, NUL, COM0–9, LPT0–9 (and the superscript digits Windows also reserves), alone
/// or before any extension, in any case.
fn is_windows_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").trim_end();
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let mut chars = upper.chars();
            let prefix: String = chars.by_ref().take(3).collect();
            let rest: Vec<char> = chars.collect();
            (prefix == "COM" || prefix == "LPT")
                && rest.len() == 1
                && (rest[0].is_ascii_digit() || matches!(rest[0], '¹' | '²' | '³'))
        }
    }
}

/// Cuts a name to [`MAX_FILE_NAME_CHARS`] characters, keeping a short extension.
fn shorten(name: &str) -> String {
    let total = name.chars().count();
    if total <= MAX_FILE_NAME_CHARS {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.chars().count() <= MAX_EXTENSION_CHARS =>
        {
            (stem, Some(ext))
        }
        _ => (name, None),
    };
    match ext {
        Some(ext) => {
            let keep = MAX_FILE_NAME_CHARS - 1 - ext.chars().count();
            let stem: String = stem.chars().take(keep).collect();
            let stem = stem.trim_end_matches(is_dot_or_space);
            if stem.is_empty() {
                format!("{FALLBACK_FILE_NAME}.{ext}")
            } else {
                format!("{stem}.{ext}")
            }
        }
        None => {
            let cut: String = name.chars().take(MAX_FILE_NAME_CHARS).collect();
            cut.trim_end_matches(is_dot_or_space).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_absolute_paths_keep_only_the_last_component() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("/etc/shadow"), "shadow");
        assert_eq!(
            sanitize_file_name(r"..\..\windows\system.ini"),
            "system.ini"
        );
        assert_eq!(
            sanitize_file_name(r"C:\Users\张三\Desktop\报告.docx"),
            "报告.docx"
        );
        assert_eq!(sanitize_file_name("a/b/"), "b");
        assert_eq!(sanitize_file_name(".."), FALLBACK_FILE_NAME);
        assert_eq!(sanitize_file_name("../.."), FALLBACK_FILE_NAME);
        assert_eq!(sanitize_file_name("/"), FALLBACK_FILE_NAME);
        assert_eq!(sanitize_file_name("a..b....pdf"), "a.b.pdf");
        assert_eq!(sanitize_file_name("....pdf"), "未命名文件.pdf");
    }

    #[test]
    fn chinese_is_kept() {
        assert_eq!(
            sanitize_file_name("县司法局2024年法治政府建设工作总结（定稿）.pdf"),
            "县司法局2024年法治政府建设工作总结（定稿）.pdf"
        );
        assert_eq!(
            sanitize_file_name("执法记录仪：现场检查.mp4"),
            "执法记录仪：现场检查.mp4"
        );
    }

    #[test]
    fn control_and_invisible_characters_are_removed() {
        assert_eq!(sanitize_file_name("a\0b\nc\td.txt"), "abcd.txt");
        // U+202E RIGHT-TO-LEFT OVERRIDE: "发票\u{202E}fdp.exe" shows as "发票exe.pdf".
        assert_eq!(sanitize_file_name("发票\u{202E}fdp.exe"), "发票fdp.exe");
        assert_eq!(sanitize_file_name("\u{FEFF}\u{200B}文件.txt"), "文件.txt");
        assert_eq!(
            sanitize_file_name("会议 10:30 <草稿>?.docx"),
            "会议 10_30 _草稿__.docx"
        );
    }

    #[test]
    fn leading_dots_and_trailing_dots_and_spaces_go() {
        assert_eq!(sanitize_file_name(".htaccess"), "未命名文件.htaccess");
        assert_eq!(sanitize_file_name("  报告.pdf  "), "报告.pdf");
        assert_eq!(sanitize_file_name("报告.pdf. . "), "报告.pdf");
        assert_eq!(sanitize_file_name(".bashrc.bak"), "bashrc.bak");
    }

    #[test]
    fn windows_device_names_are_prefixed() {
        for name in [
            "CON",
            "con.txt",
            "Nul",
            "aux.tar.gz",
            "COM1.log",
            "lpt9",
            "PRN .pdf",
            "COM¹",
        ] {
            let s = sanitize_file_name(name);
            assert!(s.starts_with('_'), "{name} → {s}");
        }
        for name in ["CONTROL.txt", "COM10", "LPT", "console.log", "nullable"] {
            assert_eq!(sanitize_file_name(name), name);
        }
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.pdf", "法".repeat(300));
        let s = sanitize_file_name(&long);
        assert_eq!(s.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(s.ends_with("法.pdf"), "{s}");

        let no_ext = "a".repeat(500);
        assert_eq!(
            sanitize_file_name(&no_ext).chars().count(),
            MAX_FILE_NAME_CHARS
        );

        // An "extension" too long to be one is cut like the rest.
        let odd = format!("x.{}", "y".repeat(300));
        assert_eq!(
            sanitize_file_name(&odd).chars().count(),
            MAX_FILE_NAME_CHARS
        );

        // Cutting must not leave a trailing dot or space.
        let spaced = format!("{}  .{}.mp4", "录".repeat(114), "z");
        let s = sanitize_file_name(&spaced);
        assert!(!s.contains(" ."), "{s}");
        assert!(s.chars().count() <= MAX_FILE_NAME_CHARS);
    }

    #[test]
    fn empty_and_blank_names_get_the_fallback() {
        for name in ["", "   ", "\0\0", "\u{202E}", "...", ". . ."] {
            assert_eq!(sanitize_file_name(name), FALLBACK_FILE_NAME, "{name:?}");
        }
    }
}
