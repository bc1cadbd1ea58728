//! A normalised view of an indicator text that remembers where each char came from,
//! plus Chinese/Arabic numeral parsing.
//!
//! Normalisation: full-width ASCII forms (`１００％`, `，`, `；`, `（`) become ASCII,
//! whitespace is dropped (kept as one space only between two ASCII alphanumerics, so
//! `1 000` does not fuse), `·` becomes `.`. All matching runs on the normalised chars;
//! results are mapped back to char offsets of the original text.

/// Normalised chars of a text with a map back to the original.
pub(super) struct Norm {
    /// Normalised chars.
    pub chars: Vec<char>,
    /// The same chars as a `String`, for regex matching.
    pub s: String,
    /// Byte offset in `s` → char index (only meaningful at char boundaries).
    byte_to_char: Vec<usize>,
    /// Normalised char index → original char index.
    orig_of: Vec<usize>,
    /// The original chars.
    orig: Vec<char>,
}

impl Norm {
    pub fn new(text: &str) -> Norm {
        let orig: Vec<char> = text.chars().collect();
        let mut chars = Vec::with_capacity(orig.len());
        let mut orig_of = Vec::with_capacity(orig.len());
        let mut i = 0;
        while i < orig.len() {
            let c = orig[i];
            if c.is_whitespace() {
                let mut j = i;
                while j < orig.len() && orig[j].is_whitespace() {
                    j += 1;
                }
                let prev = chars.last().copied();
                let next = orig.get(j).map(|&c| fold(c));
                let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
                if alnum(prev) && alnum(next) {
                    chars.push(' ');
                    orig_of.push(i);
                }
                i = j;
                continue;
            }
            chars.push(fold(c));
            orig_of.push(i);
            i += 1;
        }
        let s: String = chars.iter().collect();
        let mut byte_to_char = vec![0; s.len() + 1];
        let mut k = 0;
        for (ci, (bi, _)) in s.char_indices().enumerate() {
            byte_to_char[bi] = ci;
            k = ci + 1;
        }
        byte_to_char[s.len()] = k;
        Norm {
            chars,
            s,
            byte_to_char,
            orig_of,
            orig,
        }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Char index of a byte offset of `s` (a regex match boundary).
    pub fn ci(&self, byte: usize) -> usize {
        self.byte_to_char[byte.min(self.s.len())]
    }

    /// Does `lit` start at char `i`?
    pub fn at(&self, i: usize, lit: &str) -> bool {
        (i..)
            .zip(lit.chars())
            .all(|(k, c)| self.chars.get(k) == Some(&c))
    }

    /// Does `lit` end just before char `i` (i.e. occupy `[i - len, i)`)?
    pub fn ends_with(&self, i: usize, lit: &str) -> bool {
        let n = lit.chars().count();
        n <= i && self.at(i - n, lit)
    }

    /// Original char span of the normalised range `[a, b)`.
    pub fn orig_span(&self, a: usize, b: usize) -> (usize, usize) {
        if a >= b || a >= self.len() {
            let p = self.orig_of.get(a).copied().unwrap_or(self.orig.len());
            return (p, p);
        }
        let b = b.min(self.len());
        (self.orig_of[a], self.orig_of[b - 1] + 1)
    }

    /// Original text of the normalised range `[a, b)`, trimmed.
    pub fn orig_text(&self, a: usize, b: usize) -> String {
        let (x, y) = self.orig_span(a, b);
        self.orig_slice(x, y).trim().to_string()
    }

    /// Original chars `[x, y)` (original offsets).
    pub fn orig_slice(&self, x: usize, y: usize) -> String {
        self.orig[x.min(y)..y.min(self.orig.len())].iter().collect()
    }
}

/// Fold full-width ASCII forms and a few look-alikes to ASCII.
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{FE6A}' => '%',
        '\u{FF61}' => '。',
        '\u{00B7}' | '\u{30FB}' | '\u{2022}' => '.',
        _ => c,
    }
}

/// Value of a Chinese digit char (`两` = 2, `〇`/`零` = 0).
fn cn_digit(c: char) -> Option<u64> {
    Some(match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// Parse a Chinese numeral: `五` 5, `十五` 15, `二十` 20, `一百零五` 105, `两千` 2000,
/// `三万五千` 35000. Digit strings (`二〇一九`) and malformed runs give `None`.
pub(super) fn parse_cn(s: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut section: u64 = 0;
    let mut cur: Option<u64> = None;
    let mut last_mult = u64::MAX;
    let mut any = false;
    for c in s.chars() {
        any = true;
        if let Some(d) = cn_digit(c) {
            if d == 0 {
                // 零 only separates (一百零五); a digit must not be pending.
                if cur.is_some() {
                    return None;
                }
                continue;
            }
            if cur.is_some() {
                return None;
            }
            cur = Some(d);
            continue;
        }
        match c {
            '十' | '百' | '千' => {
                let m = match c {
                    '十' => 10,
                    '百' => 100,
                    _ => 1000,
                };
                if m >= last_mult {
                    return None;
                }
                let k = match cur.take() {
                    Some(k) => k,
                    None if m == 10 && section == 0 => 1,
                    None => return None,
                };
                section = section.checked_add(k.checked_mul(m)?)?;
                last_mult = m;
            }
            '万' => {
                let n = section.checked_add(cur.take().unwrap_or(0))?;
                if n == 0 || total != 0 {
                    return None;
                }
                total = n.checked_mul(10_000)?;
                section = 0;
                last_mult = u64::MAX;
            }
            _ => return None,
        }
    }
    if !any {
        return None;
    }
    section = section.checked_add(cur.unwrap_or(0))?;
    total.checked_add(section)
}

/// Parse an Arabic (`15`, `99.5`) or Chinese (`十五`) number.
pub(super) fn parse_num(s: &str) -> Option<f64> {
    if s.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        s.parse::<f64>().ok().filter(|v| v.is_finite())
    } else {
        parse_cn(s).map(|v| v as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numerals() {
        for (s, v) in [
            ("一", 1),
            ("两", 2),
            ("十", 10),
            ("十五", 15),
            ("二十", 20),
            ("二十一", 21),
            ("一百", 100),
            ("一百零五", 105),
            ("两千", 2000),
            ("三万五千", 35000),
            ("零", 0),
        ] {
            assert_eq!(parse_cn(s), Some(v), "{s}");
        }
        for s in [
            "",
            "一一",
            "二〇一九",
            "万",
            "百",
            "十十",
            "万一",
            "一万万",
            "千万",
        ] {
            assert_eq!(parse_cn(s), None, "{s}");
        }
        assert_eq!(parse_num("99.5"), Some(99.5));
        assert_eq!(parse_num("十五"), Some(15.0));
    }

    #[test]
    fn normalisation_keeps_original_offsets() {
        let n = Norm::new("达 １００％，不少于 5 个工作日");
        assert_eq!(n.s, "达100%,不少于5个工作日");
        let a = n.s.find("100%").map(|b| n.ci(b)).unwrap_or(0);
        assert_eq!(n.orig_span(a, a + 4), (2, 6));
        assert_eq!(n.orig_text(a, a + 4), "１００％");
        let k = n.len();
        assert_eq!(n.orig_span(k - 5, k), (11, 17));
        assert_eq!(n.orig_text(k - 5, k), "5 个工作日");
        let n = Norm::new("1 000 人");
        assert_eq!(n.s, "1 000人");
    }
}
