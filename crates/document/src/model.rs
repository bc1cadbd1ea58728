//! The document model: pure data, no layout. Both renderers ([`crate::docx`] and
//! [`crate::pdf`]) read the same [`Document`], so a .docx and a .pdf of one report say the
//! same words in the same order.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A 公文-style document: title, optional 主送, body blocks, then 发文机关 and date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// 标题 (may be long; wraps, centred).
    pub title: String,
    /// 发文机关署名, printed at the end above the date.
    pub issuer: String,
    /// 成文日期, printed as `2026年12月1日`.
    pub date: NaiveDate,
    /// 主送机关 (`县委依法治县委员会`), printed under the title with a full-width colon.
    pub recipient: Option<String>,
    pub blocks: Vec<Block>,
}

/// One piece of the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// 一级标题 (黑体). Numbered `一、` `二、` … by the renderers: give the text only.
    Heading1 {
        text: String,
    },
    /// 二级标题 (楷体). Numbered `（一）` `（二）` …, restarting under each 一级标题.
    Heading2 {
        text: String,
    },
    /// A body paragraph (仿宋, first line indented two characters).
    Paragraph {
        text: String,
    },
    Table(Table),
    BarChart(BarChart),
}

/// A table with one header row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Shown above the table, centred (`表1 各一级指标完成情况`); optional.
    pub caption: Option<String>,
    pub header: Vec<String>,
    /// Rows; a short row is padded with empty cells, a long one cut to the header's width.
    pub rows: Vec<Vec<String>>,
    /// Relative column widths (e.g. `[3, 1, 1]`); `None`: from the header lengths.
    pub widths: Option<Vec<u16>>,
}

/// A horizontal bar chart given as data; the renderers draw it themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    pub title: String,
    pub labels: Vec<String>,
    pub values: Vec<f64>,
    /// Printed after each value (`%`, `项`).
    pub unit: String,
    /// The value of a full-length bar; `None`: the largest value (100 for `%`).
    pub max: Option<f64>,
}

impl BarChart {
    /// The value a full bar stands for (never zero or negative).
    pub fn scale(&self) -> f64 {
        let largest = self
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let m = self
            .max
            .filter(|m| m.is_finite() && *m > 0.0)
            .unwrap_or(if self.unit == "%" {
                largest.max(100.0)
            } else {
                largest
            });
        if m > 0.0 { m } else { 1.0 }
    }

    /// Each bar's share of the full length, clamped to 0..=1, with its printed value.
    pub fn bars(&self) -> Vec<(String, f64, String)> {
        let scale = self.scale();
        self.labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let v = self.values.get(i).copied().unwrap_or(0.0);
                let v = if v.is_finite() { v } else { 0.0 };
                let share = (v / scale).clamp(0.0, 1.0);
                (
                    label.clone(),
                    share,
                    format!("{}{}", format_number(v), self.unit),
                )
            })
            .collect()
    }
}

/// `57.1`, `12`: at most one decimal, none when whole.
pub fn format_number(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if (r - r.trunc()).abs() < f64::EPSILON {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// A share (0–1) as a percentage the way the documents and the 看板 print it: `12.5%`, `0%`.
pub fn format_percent(share: f64) -> String {
    format!("{}%", format_number(share * 100.0))
}

/// `2026年12月1日` (GB/T 9704-2012: Arabic numerals, no leading zeros).
pub fn chinese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// 1 → `一`, 10 → `十`, 12 → `十二`, 20 → `二十`, 105 → `一百零五`; 0 → `〇`.
pub fn chinese_numeral(n: usize) -> String {
    const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    if n < 10 {
        return DIGITS[n].to_string();
    }
    if n < 20 {
        return format!("十{}", if n == 10 { "" } else { DIGITS[n % 10] });
    }
    if n < 100 {
        let ones = n % 10;
        return format!(
            "{}十{}",
            DIGITS[n / 10],
            if ones == 0 { "" } else { DIGITS[ones] }
        );
    }
    if n < 1000 {
        let rest = n % 100;
        let tail = match rest {
            0 => String::new(),
            1..=9 => format!("零{}", DIGITS[rest]),
            // 110 → 一百一十, not 一百十.
            10..=19 => format!("一{}", chinese_numeral(rest)),
            _ => chinese_numeral(rest),
        };
        return format!("{}百{tail}", DIGITS[n / 100]);
    }
    n.to_string()
}

/// A block as the renderers draw it: headings carry their number.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Numbered<'a> {
    Heading1 { text: String },
    Heading2 { text: String },
    Paragraph { text: &'a str },
    Table(&'a Table),
    BarChart(&'a BarChart),
}

impl Document {
    /// The blocks with `一、` / `（一）` prefixed to the headings.
    pub fn numbered(&self) -> Vec<Numbered<'_>> {
        let mut h1 = 0;
        let mut h2 = 0;
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Heading1 { text } => {
                    h1 += 1;
                    h2 = 0;
                    Numbered::Heading1 {
                        text: format!("{}、{}", chinese_numeral(h1), text.trim()),
                    }
                }
                Block::Heading2 { text } => {
                    h2 += 1;
                    Numbered::Heading2 {
                        text: format!("（{}）{}", chinese_numeral(h2), text.trim()),
                    }
                }
                Block::Paragraph { text } => Numbered::Paragraph { text },
                Block::Table(t) => Numbered::Table(t),
                Block::BarChart(c) => Numbered::BarChart(c),
            })
            .collect()
    }
}

impl Table {
    /// Rows cut or padded to the header's width.
    pub fn normalized_rows(&self) -> Vec<Vec<&str>> {
        let n = self.header.len().max(1);
        self.rows
            .iter()
            .map(|r| {
                (0..n)
                    .map(|i| r.get(i).map_or("", String::as_str))
                    .collect()
            })
            .collect()
    }

    /// Relative widths, one per column (at least 1 each).
    pub fn column_weights(&self) -> Vec<u32> {
        let n = self.header.len().max(1);
        match &self.widths {
            Some(w) if w.len() == n => w.iter().map(|x| u32::from(*x).max(1)).collect(),
            _ => (0..n)
                .map(|i| {
                    let chars = self.header.get(i).map_or(2, |h| h.chars().count());
                    u32::try_from(chars.clamp(2, 12)).unwrap_or(2)
                })
                .collect(),
        }
    }
}

/// Width of text in em (a CJK character 1, ASCII ½), for placing the signature.
pub fn em_width(s: &str) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
        .sum()
}

/// Right indents (in em) of the 发文机关署名 and the 成文日期 (GB/T 9704-2012 7.3.5.2, no
/// seal): the signature 2 characters from the right, the date's first character 2
/// characters right of the signature's; a date longer than that keeps 2 characters and
/// pushes the signature left.
pub fn signature_indents(issuer: &str, date: &str) -> (f64, f64) {
    let (ln, ld) = (em_width(issuer), em_width(date));
    // Distance of a first character from the right edge: pad + width.
    let date_pad = 2.0 + ln - 2.0 - ld;
    if date_pad >= 2.0 {
        (2.0, date_pad)
    } else {
        (2.0 + ld + 2.0 - ln, 2.0)
    }
}

/// Characters of a 2号 (22 pt) title on one line of the 156 mm text block.
pub const TITLE_EM_PER_LINE: f64 = 20.0;

/// The title in lines of nearly equal width. GB/T 9704-2012 7.3.1 asks that a title that
/// runs over "排列对称": a line-breaking engine would leave one or two characters alone on
/// the last line (…情况报 / 告), so the lines are cut here, by width (ASCII ½ em).
pub fn balanced_title_lines(title: &str, em_per_line: f64) -> Vec<String> {
    let total = em_width(title);
    if total <= em_per_line || em_per_line <= 0.0 {
        return vec![title.to_string()];
    }
    let lines = (total / em_per_line).ceil();
    let target = total / lines;
    let mut out = vec![String::new()];
    let mut width = 0.0;
    for c in title.chars() {
        let w = if c.is_ascii() { 0.5 } else { 1.0 };
        // Start a new line once this one has reached its share (the last takes the rest).
        if width + w / 2.0 > target && (out.len() as f64) < lines {
            out.push(String::new());
            width = 0.0;
        }
        if let Some(line) = out.last_mut() {
            line.push(c);
        }
        width += w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_titles_are_cut_into_even_lines() {
        let t = "兰陵县法治政府建设示范创建工作进展情况报告";
        assert_eq!(em_width(t), 21.0);
        let lines = balanced_title_lines(t, TITLE_EM_PER_LINE);
        assert_eq!(lines, ["兰陵县法治政府建设示范", "创建工作进展情况报告"]);
        assert_eq!(lines.concat(), t);
        let short = "关于创建工作的报告";
        assert_eq!(balanced_title_lines(short, TITLE_EM_PER_LINE), [short]);
        let long = "长".repeat(45);
        let lines = balanced_title_lines(&long, TITLE_EM_PER_LINE);
        assert_eq!(
            lines.iter().map(|l| l.chars().count()).collect::<Vec<_>>(),
            [15, 15, 15]
        );
        assert_eq!(balanced_title_lines("", TITLE_EM_PER_LINE), [""]);
    }

    #[test]
    fn numerals() {
        let got: Vec<String> = [1, 9, 10, 11, 19, 20, 21, 99, 100, 105, 110, 123]
            .into_iter()
            .map(chinese_numeral)
            .collect();
        assert_eq!(
            got,
            [
                "一",
                "九",
                "十",
                "十一",
                "十九",
                "二十",
                "二十一",
                "九十九",
                "一百",
                "一百零五",
                "一百一十",
                "一百二十三"
            ]
        );
    }

    #[test]
    fn headings_are_numbered_and_level_two_restarts() {
        let d = Document {
            title: "t".into(),
            issuer: "i".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            recipient: None,
            blocks: vec![
                Block::Heading1 {
                    text: "总体".into(),
                },
                Block::Heading2 { text: "甲".into() },
                Block::Heading2 { text: "乙".into() },
                Block::Heading1 {
                    text: "问题".into(),
                },
                Block::Heading2 { text: "丙".into() },
            ],
        };
        let texts: Vec<String> = d
            .numbered()
            .into_iter()
            .map(|b| match b {
                Numbered::Heading1 { text } | Numbered::Heading2 { text } => text,
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            texts,
            ["一、总体", "（一）甲", "（二）乙", "二、问题", "（一）丙"]
        );
        assert_eq!(chinese_date(d.date), "2026年12月1日");
    }

    #[test]
    fn bars_are_clamped_and_scaled() {
        let c = BarChart {
            title: "完成率".into(),
            labels: vec!["a".into(), "b".into(), "c".into()],
            values: vec![50.0, 150.0, f64::NAN],
            unit: "%".into(),
            max: None,
        };
        let bars = c.bars();
        assert_eq!(bars[0].1, 50.0 / 150.0);
        assert_eq!(bars[1].1, 1.0);
        assert_eq!(bars[2].1, 0.0);
        assert_eq!(bars[0].2, "50%");
        let empty = BarChart {
            values: vec![0.0],
            labels: vec!["x".into()],
            unit: "项".into(),
            ..c
        };
        assert_eq!(empty.scale(), 1.0);
        assert_eq!(format_number(57.14), "57.1");
    }

    #[test]
    fn signature_places_date_two_characters_right_of_issuer() {
        // 兰陵县司法局 (6 em) over 2026年12月1日 (3 CJK + 7 digits = 6.5 em): the date
        // keeps 2 characters, the signature's first character sits 2 left of the date's.
        let (name, date) = signature_indents("兰陵县司法局", "2026年12月1日");
        assert_eq!(date, 2.0);
        assert_eq!(name + 6.0, date + 6.5 + 2.0);
        // A long signature keeps 2 characters; the date moves under it.
        let (name, date) = signature_indents("兰陵县委全面依法治县委员会办公室", "2026年1月1日");
        assert_eq!(name, 2.0);
        assert_eq!(name + 16.0, date + 6.0 + 2.0);
    }
}
