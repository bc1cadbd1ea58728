//! Responsibility stated in prose (`此项工作由县司法局牵头负责，县公安局、县民政局协助。`)
//! rather than in a unit column, and the closing words offices put after the last unit
//! (`各乡镇按职责分工分别负责`).
//!
//! Every form is matched against the *whole* sentence and every name in it must read as a
//! unit, so an indicator that merely mentions `县司法局牵头` in its text is left alone.

use std::sync::LazyLock;

use fazhi_domain::framework::Role;
use fazhi_domain::unit;
use regex::Regex;

/// What a sentence says about responsibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// Units with their roles (`None`: listed without a role), and what was noted on the way.
    Units {
        units: Vec<(String, Option<Role>)>,
        notes: Vec<Note>,
    },
    /// A responsibility sentence that stops before naming who does the work
    /// (`此项工作由县司法局`): reported, never completed by guessing.
    Truncated(String),
    /// An addressee line (`各乡镇人民政府，各街道办事处：`): whom the document is sent to,
    /// not who is responsible.
    Addressee(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A closing qualifier was taken off the last unit name: (name kept, qualifier).
    Qualifier { name: String, qualifier: String },
}

/// Closing words after the last unit, longest first so that the longest one is stripped.
const QUALIFIERS: &[&str] = &[
    "按职责分工分别负责",
    "按照职责分工负责",
    "按职责分工负责",
    "按职责分别负责",
    "按职责分工落实",
    "按职责负责",
    "共同负责",
    "分别负责",
    "具体承办",
    "负责落实",
    "负责",
    "等",
];

/// Column or line labels, which end in a colon like an addressee line does.
const LABELS: &[&str] = &[
    "责任单位",
    "责任部门",
    "牵头单位",
    "牵头部门",
    "配合单位",
    "配合部门",
    "协办单位",
    "参与单位",
    "责任分工",
    "分工",
    "主办单位",
    "承办单位",
];

/// Labels that may open a responsibility sentence.
const OPENERS: &[&str] = &["责任分工", "责任单位", "责任部门", "分工"];

static LEAD_SENTENCE: LazyLock<Regex> = LazyLock::new(|| {
    // 此项工作由X牵头负责，Y、Z协助 / 由X牵头，Y配合 / X牵头，Y、Z配合 / X牵头负责
    Regex::new(
        r"^(?:(?:此|该|本)项(?:工作|任务))?由?(?P<lead>[^，,；;。]+?)(?:牵头负责|牵头|负责)(?:[，,；;]\s*(?P<co>[^。]+?)(?:协助|配合|参与|协办)(?:负责|落实|实施)?)?[。．.]?$",
    )
    .expect("static regex")
});
static CUT_SENTENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?:此|该|本)项(?:工作|任务))由(?P<rest>[^，,；;。牵负]*)$")
        .expect("static regex")
});
static MARKED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[（(]\s*(牵头|配合|协助|参与)\s*[）)]").expect("static regex"));

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '、' | '，' | ',' | '；' | ';' | '/' | '\u{3000}')
}

/// Strip a closing qualifier from the end of `name` (after any final full stop).
pub fn strip_qualifier(name: &str) -> (String, Option<String>) {
    let trimmed = name.trim().trim_end_matches(['。', '.', '．']);
    for q in QUALIFIERS {
        if let Some(rest) = trimmed.strip_suffix(q) {
            let rest = rest.trim_end_matches(is_separator);
            if unit::looks_like_unit(rest) {
                return (rest.to_string(), Some((*q).to_string()));
            }
        }
    }
    (trimmed.to_string(), None)
}

/// Split a list of units and strip the closing qualifier from the last one; `None` unless
/// every piece reads as a unit.
fn unit_list(
    text: &str,
    role: Option<Role>,
    notes: &mut Vec<Note>,
) -> Option<Vec<(String, Option<Role>)>> {
    let mut names = unit::split_unit_list(text);
    if let Some(last) = names.pop() {
        let (name, qualifier) = strip_qualifier(&last);
        if let Some(qualifier) = qualifier {
            notes.push(Note::Qualifier {
                name: name.clone(),
                qualifier,
            });
        }
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    (!names.is_empty() && names.iter().all(|n| unit::looks_like_unit(n)))
        .then(|| names.into_iter().map(|n| (n, role)).collect())
}

/// Drop an opening label (`责任分工：`) so the sentence can be matched.
fn without_opener(text: &str) -> &str {
    let t = text.trim().trim_start_matches(['（', '(']);
    for label in OPENERS {
        if let Some(rest) = t.strip_prefix(label) {
            let rest = rest.trim_start();
            if let Some(rest) = rest.strip_prefix(['：', ':']) {
                return rest.trim();
            }
        }
    }
    t
}

/// Read a responsibility statement, or `None` when the text is something else.
pub fn parse(text: &str) -> Option<Statement> {
    let raw = text.trim();
    if raw.is_empty() || raw.chars().count() > 400 {
        return None;
    }
    if let Some(addressee) = addressee(raw) {
        return Some(addressee);
    }
    let body = without_opener(raw);
    let mut notes = Vec::new();

    // A plain list whose last name carries a closing qualifier (without a label: with
    // one, the label reader handles it and calls `strip_qualifier` itself).
    if body == raw
        && let Some(last) = unit::split_unit_list(body).last()
        && strip_qualifier(last).1.is_some()
        && let Some(units) = unit_list(body, None, &mut notes)
    {
        return Some(Statement::Units { units, notes });
    }
    notes.clear();

    if let Some(c) = LEAD_SENTENCE.captures(body) {
        let lead_text = c.name("lead").map(|m| m.as_str()).unwrap_or("");
        if let Some(mut units) = unit_list(lead_text, Some(Role::Lead), &mut notes) {
            match c.name("co") {
                None => return Some(Statement::Units { units, notes }),
                Some(co) => {
                    if let Some(co) = unit_list(co.as_str(), Some(Role::Co), &mut notes) {
                        units.extend(co);
                        return Some(Statement::Units { units, notes });
                    }
                }
            }
        }
        notes.clear();
    }

    if let Some(c) = CUT_SENTENCE.captures(body) {
        let rest = c.name("rest").map(|m| m.as_str().trim()).unwrap_or("");
        if rest.is_empty()
            || unit::split_unit_list(rest)
                .iter()
                .all(|n| unit::looks_like_unit(n))
        {
            return Some(Statement::Truncated(raw.to_string()));
        }
        return None;
    }

    // X（牵头）、Y（配合）: marks after the names.
    if MARKED.is_match(body) {
        let mut units = Vec::new();
        let mut any_lead = false;
        for piece in body.split(is_separator).filter(|p| !p.is_empty()) {
            let (name, role) = match MARKED.captures(piece) {
                Some(m) => {
                    let whole = m.get(0)?;
                    if !piece[whole.end()..]
                        .trim_end_matches(['。', '.'])
                        .is_empty()
                    {
                        return None;
                    }
                    let role = if &m[1] == "牵头" {
                        any_lead = true;
                        Role::Lead
                    } else {
                        Role::Co
                    };
                    (piece[..whole.start()].to_string(), Some(role))
                }
                None => (piece.to_string(), None),
            };
            units.push((name, role));
        }
        let last = units.len().checked_sub(1)?;
        if units[last].1.is_none() {
            let (name, qualifier) = strip_qualifier(&units[last].0);
            if let Some(qualifier) = qualifier {
                notes.push(Note::Qualifier {
                    name: name.clone(),
                    qualifier,
                });
            }
            units[last].0 = name;
        }
        if !units.iter().all(|(n, _)| unit::looks_like_unit(n)) {
            return None;
        }
        // Unmarked names next to a marked lead are the co-operating units.
        if any_lead {
            for (_, role) in &mut units {
                role.get_or_insert(Role::Co);
            }
        }
        return Some(Statement::Units { units, notes });
    }

    None
}

/// `各乡镇人民政府，各街道办事处，县直各部门：` — a salutation ending in a colon whose
/// every piece is a body.
fn addressee(text: &str) -> Option<Statement> {
    let body = text.strip_suffix(['：', ':'])?;
    let names = unit::split_unit_list(body);
    let label = LABELS.contains(&body.trim());
    (!label && !names.is_empty() && names.iter().all(|n| unit::looks_like_unit(n)))
        .then(|| Statement::Addressee(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn units(text: &str) -> (Vec<(String, Option<Role>)>, Vec<Note>) {
        match parse(text) {
            Some(Statement::Units { units, notes }) => (units, notes),
            other => panic!("{text}: {other:?}"),
        }
    }

    fn named(list: &[(&str, Option<Role>)]) -> Vec<(String, Option<Role>)> {
        list.iter().map(|(n, r)| (n.to_string(), *r)).collect()
    }

    const L: Option<Role> = Some(Role::Lead);
    const C: Option<Role> = Some(Role::Co);

    #[test]
    fn lead_with_co_operating_units_in_a_sentence() {
        for verb in ["协助", "配合", "参与"] {
            let (u, notes) = units(&format!(
                "此项工作由县司法局牵头负责，县公安局、县民政局{verb}。"
            ));
            assert_eq!(
                u,
                named(&[("县司法局", L), ("县公安局", C), ("县民政局", C)]),
                "{verb}"
            );
            assert!(notes.is_empty());
        }
    }

    #[test]
    fn the_sentence_quoted_in_the_issue_names_its_units() {
        let (u, _) = units("责任分工：此项工作由县司法局牵头负责，县公安局、县民政局协助。");
        assert_eq!(
            u,
            named(&[("县司法局", L), ("县公安局", C), ("县民政局", C)])
        );
    }

    #[test]
    fn short_forms_of_lead_and_co() {
        let (u, _) = units("由县发改局牵头，县财政局配合");
        assert_eq!(u, named(&[("县发改局", L), ("县财政局", C)]));
        let (u, _) = units("县委编办牵头，县司法局、县财政局配合。");
        assert_eq!(
            u,
            named(&[("县委编办", L), ("县司法局", C), ("县财政局", C)])
        );
        let (u, _) = units("县审计局牵头负责");
        assert_eq!(u, named(&[("县审计局", L)]));
        let (u, _) = units("此项工作由县审计局负责，县财政局配合。");
        assert_eq!(u, named(&[("县审计局", L), ("县财政局", C)]));
    }

    #[test]
    fn lead_marked_in_parentheses() {
        let (u, _) = units("县司法局（牵头）、县财政局");
        assert_eq!(u, named(&[("县司法局", L), ("县财政局", C)]));
        let (u, _) = units("县司法局(牵头) 县财政局、县民政局");
        assert_eq!(
            u,
            named(&[("县司法局", L), ("县财政局", C), ("县民政局", C)])
        );
    }

    #[test]
    fn closing_qualifiers_are_stripped_and_noted() {
        for q in [
            "按职责分工分别负责",
            "按职责分工负责",
            "分别负责",
            "等",
            "具体承办",
        ] {
            let (name, found) = strip_qualifier(&format!("各乡镇{q}。"));
            assert_eq!(name, "各乡镇", "{q}");
            assert_eq!(found.as_deref(), Some(q));
        }
        let (u, notes) = units("县发改局、县财政局、各有关部门，各乡镇按职责分工分别负责。");
        assert_eq!(
            u,
            named(&[
                ("县发改局", None),
                ("县财政局", None),
                ("各有关部门", None),
                ("各乡镇", None)
            ])
        );
        assert_eq!(
            notes,
            vec![Note::Qualifier {
                name: "各乡镇".into(),
                qualifier: "按职责分工分别负责".into()
            }]
        );
        let (u, notes) = units("由县司法局牵头，县公安局、县民政局等配合");
        assert_eq!(
            u,
            named(&[("县司法局", L), ("县公安局", C), ("县民政局", C)])
        );
        assert_eq!(notes.len(), 1);
        // A name that merely ends like a qualifier keeps its name.
        assert_eq!(strip_qualifier("县司法局").0, "县司法局");
    }

    #[test]
    fn group_placeholders_are_kept_as_names() {
        let (u, _) = units("县司法局牵头，各有关部门、县直有关单位、各乡镇人民政府配合");
        assert_eq!(
            u,
            named(&[
                ("县司法局", L),
                ("各有关部门", C),
                ("县直有关单位", C),
                ("各乡镇人民政府", C)
            ])
        );
    }

    #[test]
    fn addressee_line_is_not_a_unit_list() {
        assert_eq!(
            parse("各乡镇人民政府，各街道办事处，县直各部门："),
            Some(Statement::Addressee(
                "各乡镇人民政府，各街道办事处，县直各部门：".into()
            ))
        );
        assert!(matches!(
            parse("各乡镇、县直各有关单位："),
            Some(Statement::Addressee(_))
        ));
        // A label with a colon is not an addressee.
        assert!(!matches!(
            parse("责任单位："),
            Some(Statement::Addressee(_))
        ));
        assert!(!matches!(
            parse("牵头单位："),
            Some(Statement::Addressee(_))
        ));
    }

    #[test]
    fn cut_sentence_is_truncated_not_guessed() {
        assert_eq!(
            parse("此项工作由县司法局"),
            Some(Statement::Truncated("此项工作由县司法局".into()))
        );
        assert!(matches!(
            parse("责任分工：此项工作由"),
            Some(Statement::Truncated(_))
        ));
    }

    #[test]
    fn indicator_text_mentioning_a_lead_is_not_a_statement() {
        for text in [
            "建立政府负总责、县司法局牵头、各职能部门为主体的行政调解工作机制。",
            "行政复议体制机制健全，积极推进行政复议职责有效整合。",
            "（一）行政审批制度改革全面推行。",
            "县司法局 县财政局",
            "此项工作由县司法局负责组织实施具体方案的起草和报送工作并跟踪落实",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "[此项工作由县司法局财政牵头负责协助配合参与，、；：（）()各乡镇有关部门按职责分工等。a-z ]{0,120}") {
            let _ = parse(&text);
        }

        #[test]
        fn any_unicode_never_panics(text in any::<String>()) {
            let _ = parse(&text);
            let _ = strip_qualifier(&text);
        }
    }
}
