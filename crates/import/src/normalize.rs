//! Text repairs for one cell: traditional → simplified (OpenCC tables), stray spaces,
//! half-width punctuation. Each repair is returned so the caller can report it.

use std::sync::LazyLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;

/// Loading the OpenCC dictionaries costs milliseconds; do it once per process.
static T2S: LazyLock<Option<OpenCC>> =
    LazyLock::new(|| OpenCC::from_config(BuiltinConfig::T2s).ok());

/// One repair applied to a piece of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// Pairs of (traditional, simplified) characters that were replaced.
    Traditional(Vec<(char, char)>),
    /// Number of whitespace runs removed; `vertical` when the text looked printed vertically.
    Spaces { removed: usize, vertical: bool },
    /// Number of punctuation marks made full-width.
    Punctuation(usize),
}

pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// Chinese (full-width) punctuation and quotes.
pub fn is_cjk_punct(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}' | '“' | '”' | '‘' | '’' | '—' | '…' | '·')
}

fn is_cjk_like(c: char) -> bool {
    is_cjk(c) || is_cjk_punct(c)
}

/// Traditional → simplified with OpenCC's tables. Returns the replaced pairs.
pub fn to_simplified(text: &str) -> (String, Vec<(char, char)>) {
    let Some(cc) = T2S.as_ref() else {
        return (text.to_string(), Vec::new());
    };
    let converted = cc.convert(text);
    if converted == text {
        return (converted, Vec::new());
    }
    // OpenCC's t2s maps character for character for the texts we see; if the lengths
    // differ (a phrase mapping), report the whole change without pairs.
    let pairs: Vec<(char, char)> = if converted.chars().count() == text.chars().count() {
        text.chars()
            .zip(converted.chars())
            .filter(|(a, b)| a != b)
            .collect()
    } else {
        Vec::new()
    };
    (converted, pairs)
}

/// Remove whitespace runs that touch Chinese text; keep those between two Latin words.
/// Text printed vertically in a narrow PDF column comes out as `法 治政 府建 设`: if
/// three or more runs sit between Chinese characters, the repair is flagged as vertical.
pub fn remove_stray_spaces(text: &str) -> (String, usize, bool) {
    let chars: Vec<char> = text.trim().chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut removed = 0;
    let mut between_cjk = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            let start = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            let before = start.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i).copied();
            let touches_cjk = before.is_some_and(is_cjk_like) || after.is_some_and(is_cjk_like);
            if touches_cjk {
                removed += 1;
                if before.is_some_and(is_cjk) && after.is_some_and(is_cjk) {
                    between_cjk += 1;
                }
            } else {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, removed, between_cjk >= 3)
}

/// Make ASCII `, ; : ( ) ? !` full-width where they touch Chinese text. A comma between
/// digits (`1,000`) stays.
pub fn normalize_punctuation(text: &str) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = 0;
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let near_cjk = before.is_some_and(is_cjk_like) || after.is_some_and(is_cjk_like);
        let full = match c {
            ',' if near_cjk => Some('，'),
            ';' if near_cjk => Some('；'),
            ':' if near_cjk => Some('：'),
            '?' if near_cjk => Some('？'),
            '!' if near_cjk => Some('！'),
            '(' if after.is_some_and(is_cjk_like) => Some('（'),
            ')' if before.is_some_and(is_cjk_like) => Some('）'),
            _ => None,
        };
        match full {
            Some(f) => {
                out.push(f);
                changed += 1;
            }
            None => out.push(c),
        }
    }
    (out, changed)
}

/// All repairs in order: simplified characters, then spaces, then punctuation.
pub fn clean_text(text: &str) -> (String, Vec<Repair>) {
    let (s, pairs) = to_simplified(text);
    let mut repairs = Vec::new();
    if s != text {
        repairs.push(Repair::Traditional(pairs));
    }
    let (s, more) = tidy(&s);
    repairs.extend(more);
    (s, repairs)
}

/// Spaces and punctuation only, for text already converted to simplified characters
/// (the OpenCC pass is the expensive one: do it once per cell).
pub fn tidy(text: &str) -> (String, Vec<Repair>) {
    let mut repairs = Vec::new();
    let (s, removed, vertical) = remove_stray_spaces(text);
    if removed > 0 {
        repairs.push(Repair::Spaces { removed, vertical });
    }
    let (s, changed) = normalize_punctuation(&s);
    if changed > 0 {
        repairs.push(Repair::Punctuation(changed));
    }
    (s, repairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_ocr_traditional_characters() {
        let (s, pairs) = to_simplified("行政執法制權統一");
        assert_eq!(s, "行政执法制权统一");
        assert_eq!(pairs, vec![('執', '执'), ('權', '权'), ('統', '统')]);
    }

    #[test]
    fn leaves_simplified_text_alone() {
        let text = "行政规范性文件的合法性审核率达100%。著作权、余额、后来、干部。";
        assert_eq!(to_simplified(text), (text.to_string(), vec![]));
    }

    #[test]
    fn removes_spaces_in_numbers_and_vertical_text() {
        assert_eq!(
            remove_stray_spaces("审核率达 100%。不少于 5 个工作日"),
            ("审核率达100%。不少于5个工作日".into(), 3, false)
        );
        let (s, n, vertical) = remove_stray_spaces("法 治政 府建 设组 织领 导落 实到 位");
        assert_eq!(s, "法治政府建设组织领导落实到位");
        assert_eq!(n, 7);
        assert!(vertical);
        assert_eq!(
            remove_stray_spaces("PDF file"),
            ("PDF file".into(), 0, false)
        );
    }

    #[test]
    fn makes_punctuation_full_width_next_to_chinese() {
        assert_eq!(
            normalize_punctuation("不存在未履行法院生效裁判的情况,办复率达100%;见(附件)"),
            (
                "不存在未履行法院生效裁判的情况，办复率达100%；见（附件）".into(),
                4
            )
        );
        assert_eq!(normalize_punctuation("1,000 a,b"), ("1,000 a,b".into(), 0));
    }
}
