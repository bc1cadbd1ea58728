//! The shape of a document around its indicators: which line is its title, which lines
//! are not indicators at all (要求/目标 paragraphs, 附件 captions, the signature), a heading's
//! weight, a body delivered on one long line, a last item that was cut off.

use std::sync::LazyLock;

use fazhi_domain::framework::{Weight, WeightUnit};
use fazhi_domain::unit;
use regex::Regex;

use crate::grid::Row;

/// Words that name the kind of document a title names.
const DOCUMENT_KINDS: &[&str] = &[
    "方案",
    "工作安排",
    "指标体系",
    "责任分工",
    "分工表",
    "实施意见",
    "工作要点",
    "工作计划",
    "任务清单",
    "责任清单",
    "考核细则",
    "评分细则",
    "考核办法",
];

static NOTICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"关于印发\s*《?(?P<title>.+?)》?\s*的\s*通知$").expect("static regex")
});
static DOCUMENT_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*\d+\s*号").expect("static regex")
});
static NOT_INDICATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?P<req>基本要求|工作要求|总体要求|有关要求|工作目标|主要目标|总体目标|目标|保障措施|说明|备注)\s*[:：]|(?P<att>附件\s*\d*\s*[:：]?)|(?P<cc>抄送\s*[:：]|联系人\s*[:：]|联系电话\s*[:：])|(?P<pub>[（(]此件[^）)]*[）)]$))",
    )
    .expect("static regex")
});
static DATE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{4}|[〇零一二三四五六七八九○]{4})\s*年\s*[\d一二三四五六七八九十]{1,3}\s*月\s*[\d一二三四五六七八九十]{1,3}\s*日$")
        .expect("static regex")
});
static WEIGHT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[（(]\s*(?:占总分值的?|占总分的?|权重|分值|满分)?\s*[:：]?\s*(?P<value>\d{1,3}(?:\.\d{1,2})?)\s*(?P<unit>%|％|分)\s*[）)]\s*[。.]?$",
    )
    .expect("static regex")
});
/// Where a one-line body restarts: a heading or item number, or a unit label.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)]|\d{1,3}[.．、][^\d]|[①-⑳]|(?:责任单位|牵头单位|责任分工|配合单位|责任部门|基本要求|工作要求|工作目标|目标|附件)[:：]",
    )
    .expect("static regex")
});

fn is_sentence(text: &str) -> bool {
    text.contains(['，', '。', ',']) || text.ends_with(['：', ':'])
}

/// The document's own title among the lines before its first indicator: the line that
/// names a 方案, 工作安排, 指标体系 or 责任分工 (out of `关于印发《…》的通知`), never a preamble
/// sentence, a 文号 or the issuing body alone.
pub(crate) fn document_title(lines: &[String]) -> Option<String> {
    let candidates: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| {
            let n = l.chars().count();
            (2..=80).contains(&n)
                && !is_sentence(l)
                && !DOCUMENT_NUMBER.is_match(l)
                && !DATE_LINE.is_match(l)
        })
        .collect();
    let named = candidates
        .iter()
        .rev()
        .find(|l| DOCUMENT_KINDS.iter().any(|k| l.contains(k)))
        .or_else(|| candidates.iter().rev().find(|l| !unit::is_unit_list(l)))?;
    match NOTICE.captures(named) {
        Some(c) => Some(c["title"].trim().to_string()),
        None => Some((*named).to_string()),
    }
}

/// Why a line is not part of any indicator, if it is not.
pub(crate) fn not_an_indicator(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if DATE_LINE.is_match(t) {
        return Some("落款日期");
    }
    let c = NOT_INDICATOR.captures(t)?;
    Some(if c.name("req").is_some() {
        "要求或目标段落"
    } else if c.name("att").is_some() {
        "附件说明"
    } else if c.name("cc").is_some() {
        "抄送或联系人"
    } else {
        "公开属性说明"
    })
}

/// Rows (by index) that are not indicators, with the reason: lines of one cell that
/// [`not_an_indicator`] names, and the issuing body on the line just above a date (the
/// signature, which would otherwise read as a unit list).
pub(crate) fn rows_to_skip(rows: &[Row]) -> Vec<(usize, &'static str)> {
    let single = |r: &Row| -> Option<String> {
        let filled: Vec<&String> = r.cells.iter().filter(|c| !c.trim().is_empty()).collect();
        (filled.len() == 1).then(|| filled[0].trim().to_string())
    };
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let Some(text) = single(row) else { continue };
        let Some(reason) = not_an_indicator(&text) else {
            continue;
        };
        out.push((i, reason));
        if reason == "落款日期"
            && let Some(prev) = (0..i).rev().find(|&j| !rows[j].is_blank())
            && let Some(above) = single(&rows[prev])
            && unit::split_unit_list(&above).len() <= 2
            && unit::is_unit_list(&above)
        {
            out.push((prev, "落款单位"));
        }
    }
    out
}

/// Take a weight such as `（占总分值的15%）` or `（20分）` off the end of a heading title.
pub(crate) fn split_weight(title: &str) -> (String, Option<Weight>) {
    let Some(c) = WEIGHT.captures(title) else {
        return (title.to_string(), None);
    };
    let Some(whole) = c.get(0) else {
        return (title.to_string(), None);
    };
    let unit = if &c["unit"] == "分" {
        WeightUnit::Points
    } else {
        WeightUnit::Percent
    };
    let rest = title[..whole.start()].trim_end().to_string();
    if rest.is_empty() {
        return (title.to_string(), None);
    }
    (
        rest,
        Some(Weight {
            value: c["value"].to_string(),
            unit,
        }),
    )
}

/// A whole body pasted as one line (`一、… 1. …。责任单位：… 2. …`) split before each
/// number and unit label that follows the end of a sentence or a space. Short lines and
/// lines with one marker are returned unchanged.
pub(crate) fn split_long_line(text: &str) -> Vec<String> {
    if text.chars().count() < 120 {
        return vec![text.to_string()];
    }
    let mut cuts = vec![0];
    for m in MARKER.find_iter(text) {
        let start = m.start();
        if start == 0 {
            continue;
        }
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| {
            c.is_whitespace() || matches!(c, '。' | '；' | ';' | '！' | '？' | '”')
        }) {
            cuts.push(start);
        }
    }
    if cuts.len() < 3 {
        return vec![text.to_string()];
    }
    cuts.push(text.len());
    cuts.windows(2)
        .map(|w| text[w[0]..w[1]].trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether the last item stops mid-sentence while the others end properly.
pub(crate) fn last_item_cut(texts: &[&str]) -> bool {
    let ends = |t: &str| {
        t.trim_end().ends_with([
            '。', '！', '？', '；', '”', '’', '）', ')', '…', '.', '!', '?', ';',
        ])
    };
    let Some((last, others)) = texts.split_last() else {
        return false;
    };
    if others.len() < 3 || last.trim().is_empty() || ends(last) {
        return false;
    }
    let ended = others.iter().filter(|t| ends(t)).count();
    ended * 5 >= others.len() * 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn title_is_the_line_naming_the_document_not_a_preamble_sentence() {
        assert_eq!(
            document_title(&lines(&[
                "兰陵县人民政府办公室",
                "兰政办发〔2021〕12号",
                "兰陵县人民政府办公室关于印发《2021年法治政府建设工作安排》的通知",
                "各乡镇人民政府，各街道办事处，县直各部门：",
                "为深入推进法治政府建设，现将2021年工作安排印发给你们，请认真贯彻执行。",
            ]))
            .as_deref(),
            Some("2021年法治政府建设工作安排")
        );
        assert_eq!(
            document_title(&lines(&[
                "关于印发工作安排的通知",
                "2021年法治政府建设工作安排",
                "为深入推进法治政府建设，制定本工作安排。",
            ]))
            .as_deref(),
            Some("2021年法治政府建设工作安排")
        );
        assert_eq!(
            document_title(&lines(&["为深入推进法治政府建设，制定本方案。"])),
            None
        );
        assert_eq!(
            document_title(&lines(&["法治政府建设示范创建责任分工"])).as_deref(),
            Some("法治政府建设示范创建责任分工")
        );
    }

    #[test]
    fn requirement_attachment_and_signature_lines_are_not_indicators() {
        for (text, reason) in [
            (
                "基本要求：各单位要高度重视，确保按时完成。",
                "要求或目标段落",
            ),
            ("目标：到2025年基本建成法治政府。", "要求或目标段落"),
            ("附件：1. 法治政府建设责任分工表", "附件说明"),
            ("附件2", "附件说明"),
            ("2021年3月15日", "落款日期"),
            ("二〇二一年三月十五日", "落款日期"),
            ("（此件公开发布）", "公开属性说明"),
        ] {
            assert_eq!(not_an_indicator(text), Some(reason), "{text}");
        }
        assert_eq!(not_an_indicator("1. 建立目标责任制。"), None);
        assert_eq!(not_an_indicator("实现工作目标：全面完成"), None);
        let rows: Vec<Row> = [
            "1. 加强管理。",
            "责任单位：县司法局",
            "",
            "兰陵县人民政府办公室",
            "2021年3月15日",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| Row {
            line: i as u32 + 1,
            cells: vec![t.to_string()],
        })
        .collect();
        let mut skipped = rows_to_skip(&rows);
        skipped.sort();
        assert_eq!(skipped, vec![(3, "落款单位"), (4, "落款日期")]);
    }

    #[test]
    fn weights_come_off_heading_titles() {
        assert_eq!(
            split_weight("政府职能依法全面履行（占总分值的15%）"),
            (
                "政府职能依法全面履行".into(),
                Some(Weight {
                    value: "15".into(),
                    unit: WeightUnit::Percent
                })
            )
        );
        assert_eq!(
            split_weight("依法行政制度体系完善(12.5%)"),
            (
                "依法行政制度体系完善".into(),
                Some(Weight {
                    value: "12.5".into(),
                    unit: WeightUnit::Percent
                })
            )
        );
        assert_eq!(
            split_weight("重大行政决策（20分）").1,
            Some(Weight {
                value: "20".into(),
                unit: WeightUnit::Points
            })
        );
        assert_eq!(split_weight("审核率达100%").1, None);
        assert_eq!(split_weight("（15%）").1, None);
    }

    #[test]
    fn one_long_line_is_split_at_its_numbering() {
        let line = "2021年法治政府建设工作安排 一、推进依法行政 1. 加强规范性文件管理，实行统一登记、统一编号、统一印发制度。责任单位：县司法局 2. 落实合法性审查制度，审核率达100%。责任单位：县司法局、县政府办公室 二、规范执法行为 1. 全面推行行政执法三项制度，第1、2项工作同步推进。牵头单位：县司法局";
        assert_eq!(
            split_long_line(line),
            [
                "2021年法治政府建设工作安排",
                "一、推进依法行政",
                "1. 加强规范性文件管理，实行统一登记、统一编号、统一印发制度。",
                "责任单位：县司法局",
                "2. 落实合法性审查制度，审核率达100%。",
                "责任单位：县司法局、县政府办公室",
                "二、规范执法行为",
                "1. 全面推行行政执法三项制度，第1、2项工作同步推进。",
                "牵头单位：县司法局",
            ]
        );
        assert_eq!(split_long_line("短行 1. 甲"), ["短行 1. 甲"]);
    }

    #[test]
    fn a_last_item_without_its_full_stop_is_cut() {
        assert!(last_item_cut(&["甲。", "乙。", "丙。", "丁要"]));
        assert!(!last_item_cut(&["甲。", "乙。", "丙。", "丁。"]));
        // Items that never end with a stop: nothing to tell.
        assert!(!last_item_cut(&["甲", "乙", "丙", "丁"]));
    }

    proptest! {
        #[test]
        fn shape_helpers_never_panic(text in any::<String>()) {
            let _ = split_long_line(&text);
            let _ = split_weight(&text);
            let _ = not_an_indicator(&text);
            let _ = document_title(std::slice::from_ref(&text));
        }

        #[test]
        fn splitting_loses_no_text(text in "[一二三、（）1-9.。；责任单位：县司法局甲乙 ]{100,300}") {
            let joined: String = split_long_line(&text).concat().chars().filter(|c| !c.is_whitespace()).collect();
            let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            prop_assert_eq!(joined, original);
        }
    }
}
