//! Names inside the archive: folder and file names built from indicator titles, unit names
//! and evidence titles, safe on every system the package may be unpacked on.
//!
//! - Characters Windows forbids (`<>:"/\|?*`) become their full-width forms (`：` `？` …),
//!   which read the same to a Chinese reader; control and invisible formatting characters
//!   (bidi overrides, zero-width) are dropped; runs of blanks become one space.
//! - Runs of dots become one dot and a name never starts or ends with a dot or a space, so
//!   no component is `.` or `..` and `..` appears nowhere.
//! - Windows device names (`CON`, `NUL`, `COM1`, …) get a leading `_`.
//! - Lengths are counted in UTF-16 code units (what Windows counts); a shortened title ends
//!   in `…`. The whole path stays under [`MAX_PATH_UNITS`].
//! - Names are unique case-insensitively within their folder (`(2)`, `(3)` … added).

use std::collections::HashSet;

/// The whole path inside the archive is shorter than this (UTF-16 code units).
pub const MAX_PATH_UNITS: usize = 240;

/// Budget of one heading folder (一级/二级指标), in UTF-16 units.
const HEADING_UNITS: usize = 30;
/// Budget of the indicator (三级指标) folder.
const INDICATOR_UNITS: usize = 40;
/// Budget of the unit folder.
const UNIT_UNITS: usize = 24;
/// Budget of a file name's stem (material number and title).
const FILE_STEM_UNITS: usize = 60;
/// Room for ` (12345)` added to make a name unique.
const SUFFIX_UNITS: usize = 8;
/// Longest extension kept (without the dot).
const MAX_EXT_CHARS: usize = 10;
/// What all heading folders together may use.
const HEADINGS_UNITS: usize = MAX_PATH_UNITS
    - 1
    - (INDICATOR_UNITS + 1)
    - (UNIT_UNITS + 1)
    - (FILE_STEM_UNITS + SUFFIX_UNITS + MAX_EXT_CHARS + 1);

/// Name given to something whose name is empty after cleaning.
pub const UNNAMED: &str = "未命名";

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
        || ('\u{E000}'..='\u{F8FF}').contains(&c)
}

fn full_width(c: char) -> Option<char> {
    Some(match c {
        '<' => '＜',
        '>' => '＞',
        ':' => '：',
        '"' => '＂',
        '/' => '／',
        '\\' => '＼',
        '|' => '｜',
        '?' => '？',
        '*' => '＊',
        _ => return None,
    })
}

const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn trim_edges(s: &str) -> &str {
    s.trim_matches(|c: char| c == '.' || c == ' ')
}

/// Replaces forbidden and invisible characters, collapses blanks and dots, trims. May
/// return an empty string.
fn scrub(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = if let Some(w) = full_width(c) {
            w
        } else if c.is_whitespace() {
            ' '
        } else if is_invisible(c) {
            continue;
        } else {
            c
        };
        let last = out.chars().last();
        if (c == ' ' || c == '.') && last == Some(c) {
            continue;
        }
        out.push(c);
    }
    trim_edges(&out).to_string()
}

/// Cuts `s` to at most `max` UTF-16 units, ending in `…` when something was cut.
fn shorten(s: &str, max: usize) -> String {
    if utf16_len(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + c.len_utf16() + 1 > max {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    let mut out = trim_edges(&out).to_string();
    out.push('…');
    out
}

fn unreserve(name: String) -> String {
    let stem = name.split('.').next().unwrap_or("").trim();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        format!("_{name}")
    } else {
        name
    }
}

/// A folder or file-stem name from free text: cleaned and shortened to `max` UTF-16 units
/// (at least 2), never empty.
pub fn component(raw: &str, max: usize) -> String {
    let max = max.max(2);
    let cleaned = scrub(raw);
    let cleaned = if cleaned.is_empty() {
        UNNAMED.to_string()
    } else {
        cleaned
    };
    let name = unreserve(shorten(&cleaned, max));
    if utf16_len(&name) > max {
        shorten(&name, max)
    } else {
        name
    }
}

/// A file extension from an original file name or a content type: ASCII letters and digits
/// only, lower-case, at most 10 characters; `None` when there is none.
pub fn extension(original_name: Option<&str>, content_type: &str) -> Option<String> {
    let from_name = original_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|e| {
            !e.is_empty()
                && e.len() <= MAX_EXT_CHARS
                && e.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    from_name.or_else(|| {
        let ext = match content_type.split(';').next().unwrap_or("").trim() {
            "application/pdf" => "pdf",
            "image/jpeg" => "jpg",
            "image/png" => "png",
            "image/gif" => "gif",
            "image/webp" => "webp",
            "image/tiff" => "tif",
            "image/bmp" => "bmp",
            "video/mp4" => "mp4",
            "video/quicktime" => "mov",
            "audio/mpeg" => "mp3",
            "audio/wav" | "audio/x-wav" => "wav",
            "application/zip" => "zip",
            "application/msword" => "doc",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
            "application/vnd.ms-excel" => "xls",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
            "application/vnd.ms-powerpoint" => "ppt",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
            "application/ofd" => "ofd",
            "text/plain" => "txt",
            "text/csv" => "csv",
            _ => return None,
        };
        Some(ext.to_string())
    })
}

/// One heading above an indicator: its code (`一`, `1`) and title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadingName<'a> {
    pub code: &'a str,
    pub title: &'a str,
}

/// The folder names of an indicator's evidence: one per heading, the indicator, the unit.
/// Together they leave room for any file name [`PathBuilder::file`] makes.
pub fn folders(
    headings: &[HeadingName<'_>],
    indicator_code: &str,
    indicator_text: &str,
    unit: &str,
) -> Vec<String> {
    let mut out = Vec::with_capacity(headings.len() + 2);
    let n = headings.len().max(1);
    let per_heading = (HEADINGS_UNITS / n).min(HEADING_UNITS + 1);
    if per_heading >= 4 {
        for (depth, h) in headings.iter().enumerate() {
            // 一级 as in 公文: `一、…`; deeper levels `1.…`.
            let sep = if depth == 0 { "、" } else { "." };
            let title = h
                .title
                .trim()
                .trim_end_matches(['。', '；', ';', '，', ',', '：', ':']);
            out.push(component(
                &format!("{}{sep}{title}", h.code.trim()),
                per_heading - 1,
            ));
        }
    } else if !headings.is_empty() {
        // A tree too deep to give each level a folder: one folder named by the codes.
        let codes: Vec<&str> = headings.iter().map(|h| h.code.trim()).collect();
        out.push(component(&codes.join("-"), HEADINGS_UNITS - 1));
    }
    let code = indicator_code.trim();
    let code = if !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) {
        format!("{code:0>3}")
    } else {
        code.to_string()
    };
    let text = indicator_text.trim().trim_end_matches(['。', '；', ';']);
    out.push(component(&format!("{code} {text}"), INDICATOR_UNITS));
    out.push(component(unit, UNIT_UNITS));
    out
}

/// Hands out unique paths in the archive.
#[derive(Debug, Default)]
pub struct PathBuilder {
    /// Full paths taken, lower-cased (Windows and macOS compare names without case).
    taken: HashSet<String>,
}

impl PathBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reserves a fixed name at the top of the archive (`目录.xlsx`, `manifest.json`).
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_lowercase());
    }

    /// A unique path for a file in `folders`, named after `stem` with `ext`. The result is
    /// under [`MAX_PATH_UNITS`] and has no forbidden characters.
    pub fn file(&mut self, folders: &[String], stem: &str, ext: Option<&str>) -> String {
        let dir: String = folders.iter().map(|f| format!("{f}/")).collect();
        let ext = ext
            .map(|e| {
                e.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(MAX_EXT_CHARS)
                    .collect::<String>()
            })
            .filter(|e| !e.is_empty());
        let ext_units = ext.as_ref().map_or(0, |e| e.len() + 1);
        let room = MAX_PATH_UNITS - 1 - SUFFIX_UNITS - ext_units;
        let stem_budget = room.saturating_sub(utf16_len(&dir)).min(FILE_STEM_UNITS);
        let stem = component(stem, stem_budget);
        let dot_ext = ext.map(|e| format!(".{e}")).unwrap_or_default();
        let mut n = 1u32;
        loop {
            let candidate = if n == 1 {
                format!("{dir}{stem}{dot_ext}")
            } else {
                format!("{dir}{stem} ({n}){dot_ext}")
            };
            if self.taken.insert(candidate.to_lowercase()) {
                return candidate;
            }
            n += 1;
        }
    }
}

/// Whether `path` is a safe relative archive path as this module makes them (for
/// verification of archives from elsewhere too).
pub fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && utf16_len(path) < MAX_PATH_UNITS
        && !path.starts_with('/')
        && path.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && !c
                    .chars()
                    .any(|ch| full_width(ch).is_some() || is_invisible(ch))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn forbidden_characters_become_full_width() {
        assert_eq!(
            component("关于“放管服”改革: 第1/2批?", 40),
            "关于“放管服”改革： 第1／2批？"
        );
        assert_eq!(component("a<b>c|d*e\"f\\g", 40), "a＜b＞c｜d＊e＂f＼g");
    }

    #[test]
    fn dots_blanks_and_device_names() {
        assert_eq!(component("..", 20), UNNAMED);
        assert_eq!(component("  ../../etc/passwd ", 40), "／.／etc／passwd");
        assert_eq!(component("报告...终稿. ", 20), "报告.终稿");
        assert_eq!(component("CON", 20), "_CON");
        assert_eq!(component("nul.txt", 20), "_nul.txt");
        assert_eq!(component("a\u{202E}b\tc\n\nd", 20), "ab c d");
        assert_eq!(component("", 20), UNNAMED);
    }

    #[test]
    fn long_titles_are_shortened_with_an_ellipsis() {
        let long = "向社会公布本级政府全部行政审批事项清单，并建立动态调整机制。".repeat(3);
        let c = component(&long, 20);
        assert_eq!(utf16_len(&c), 20);
        assert!(c.ends_with('…'));
        assert!(c.starts_with("向社会公布本级政府"));
    }

    #[test]
    fn folders_follow_the_tree() {
        let f = folders(
            &[
                HeadingName {
                    code: "一",
                    title: "政府职能依法全面履行",
                },
                HeadingName {
                    code: "1",
                    title: "行政审批制度改革全面推行。",
                },
            ],
            "1",
            "向社会公布本级政府全部行政审批事项清单，并建立动态调整机制，行政审批事项清单之外不得违法实施行政审批。",
            "县行政审批服务局",
        );
        assert_eq!(f[0], "一、政府职能依法全面履行");
        assert_eq!(f[1], "1.行政审批制度改革全面推行");
        assert!(
            f[2].starts_with("001 向社会公布本级政府全部行政审批事项清单"),
            "{}",
            f[2]
        );
        assert!(f[2].ends_with('…'));
        assert_eq!(f[3], "县行政审批服务局");
    }

    #[test]
    fn duplicates_get_numbers_case_insensitively() {
        let mut b = PathBuilder::new();
        let dir = vec!["一、甲".to_string()];
        assert_eq!(b.file(&dir, "Report", Some("pdf")), "一、甲/Report.pdf");
        assert_eq!(b.file(&dir, "report", Some("PDF")), "一、甲/report (2).PDF");
        assert_eq!(b.file(&dir, "report", Some("pdf")), "一、甲/report (3).pdf");
        b.reserve("目录.xlsx");
        assert_eq!(b.file(&[], "目录", Some("xlsx")), "目录 (2).xlsx");
    }

    #[test]
    fn extensions_from_name_or_type() {
        assert_eq!(
            extension(Some("照片.JPG"), "image/jpeg").as_deref(),
            Some("jpg")
        );
        assert_eq!(extension(Some("x.tar.gz"), "").as_deref(), Some("gz"));
        assert_eq!(
            extension(Some("x.p d f"), "application/pdf").as_deref(),
            Some("pdf")
        );
        assert_eq!(extension(None, "application/octet-stream"), None);
    }

    proptest! {
        #[test]
        fn arbitrary_titles_give_safe_short_paths(
            headings in proptest::collection::vec(("\\PC{0,6}", "\\PC{0,80}"), 0..5),
            code in "\\PC{0,8}",
            text in "\\PC{0,300}",
            unit in "\\PC{0,60}",
            stem in "\\PC{0,200}",
            ext in proptest::option::of("\\PC{0,20}"),
            repeat in 1usize..4,
        ) {
            let hs: Vec<HeadingName<'_>> = headings
                .iter()
                .map(|(c, t)| HeadingName { code: c, title: t })
                .collect();
            let dirs = folders(&hs, &code, &text, &unit);
            let mut b = PathBuilder::new();
            for _ in 0..repeat {
                let p = b.file(&dirs, &stem, ext.as_deref());
                prop_assert!(utf16_len(&p) < MAX_PATH_UNITS, "{} units: {p}", utf16_len(&p));
                prop_assert!(!p.contains(".."), "{p}");
                prop_assert!(!p.contains(['<', '>', ':', '"', '\\', '|', '?', '*']), "{p}");
                prop_assert!(!p.chars().any(|c| c.is_control()), "{p:?}");
                prop_assert!(is_safe_path(&p), "{p:?}");
                prop_assert_eq!(p.split('/').count(), dirs.len() + 1);
                for part in p.split('/') {
                    prop_assert!(!part.starts_with(' ') && !part.ends_with(' ') && !part.ends_with('.'), "{p:?}");
                }
            }
        }
    }
}
