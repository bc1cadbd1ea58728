//! Responsible units (责任单位): names, aliases, kinds, and reading a unit cell such as
//! `县法院 县检察院、县公安局`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Canonical name, e.g. `县纪委监委`.
    pub name: String,
    /// Other spellings folded into this unit, e.g. `纪委监委`.
    #[serde(default)]
    pub aliases: Vec<String>,
    pub kind: UnitKind,
}

/// What sort of body a unit is. A `Group` (e.g. `各执法部门`) stands for a set of member
/// units that the coordinating office names later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 党委及其工作部门 (县委办公室, 县委组织部, 县纪委监委 …)
    Party,
    /// 政府及其工作部门 (县政府办公室, 县司法局 …)
    Government,
    /// 审判、检察机关
    Judicial,
    /// 上级部门派驻机构 (临沂市环保局兰陵分局)
    Branch,
    /// 一组单位的统称 (各执法部门)
    Group,
    Other,
}

impl UnitKind {
    pub fn label(self) -> &'static str {
        match self {
            UnitKind::Party => "党委部门",
            UnitKind::Government => "政府部门",
            UnitKind::Judicial => "司法机关",
            UnitKind::Branch => "派驻机构",
            UnitKind::Group => "单位组",
            UnitKind::Other => "其他",
        }
    }

    /// Guess the kind from the name; the office can change it later.
    pub fn infer(name: &str) -> UnitKind {
        // 各执法部门, 县直有关单位, 有关乡镇: placeholders for several bodies.
        if name.starts_with('各') || name.contains("有关") || name.starts_with("县直") {
            UnitKind::Group
        } else if name.ends_with("法院") || name.ends_with("检察院") {
            UnitKind::Judicial
        } else if name.contains("纪委") || name.contains("县委") || name.contains("党委") {
            UnitKind::Party
        } else if name.ends_with("分局") && !name.starts_with('县') {
            UnitKind::Branch
        } else if name.starts_with('县')
            || name.starts_with('市')
            || name.starts_with('区')
            || name.ends_with('局')
            || name.ends_with("办公室")
        {
            UnitKind::Government
        } else {
            UnitKind::Other
        }
    }
}

/// Endings that Chinese public bodies' names have. Used to tell a unit cell from a
/// fragment of indicator text that a damaged extraction put into the unit column.
const UNIT_ENDINGS: &[&str] = &[
    "局",
    "办",
    "委",
    "院",
    "室",
    "部",
    "部门",
    "中心",
    "政府",
    "委员会",
    "监委",
    "所",
    "队",
    "站",
    "厅",
    "处",
    "科",
    "庭",
    "团",
    "社",
    "馆",
    "台",
    "公司",
    "协会",
    "商会",
    "街道",
    "乡镇",
    "镇",
    "乡",
    "单位",
    "机关",
    "小组",
];

/// Characters that never occur in a unit name but do occur in indicator text.
const NOT_IN_UNIT: &[char] = &[
    '。', '；', ';', '：', ':', '“', '”', '《', '》', '%', '％', '？', '！', '（', '）', '(', ')',
];

/// Whether `token` reads as the name of a public body.
pub fn looks_like_unit(token: &str) -> bool {
    let len = token.chars().count();
    (2..=24).contains(&len)
        && !token
            .chars()
            .any(|c| NOT_IN_UNIT.contains(&c) || c.is_ascii_digit())
        && UNIT_ENDINGS.iter().any(|e| token.ends_with(e))
}

/// Separators between unit names in a cell.
fn is_unit_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '、' | '，' | ',' | '；' | ';' | '/' | '\u{3000}')
}

/// Split a unit cell into names, in order, dropping empty pieces and exact repeats.
pub fn split_unit_list(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in cell.split(is_unit_separator) {
        let piece = piece.trim_end_matches('。');
        if !piece.is_empty() && !out.iter().any(|u| u == piece) {
            out.push(piece.to_string());
        }
    }
    out
}

/// Whether a whole cell is a list of units (and nothing else).
pub fn is_unit_list(cell: &str) -> bool {
    let names = split_unit_list(cell);
    !names.is_empty() && names.iter().all(|n| looks_like_unit(n))
}

/// The jurisdiction prefixes a county document puts before its own bodies.
const JURISDICTION_PREFIXES: &[&str] = &["县", "区", "市"];

/// Folds spellings of one body to one canonical name.
///
/// Two sources of aliases: an explicit table (`纪委监委` → `县纪委监委`), and the rule that a
/// name without the jurisdiction prefix is the same body as the prefixed name when the
/// document also uses that (`纪委监委` and `县纪委监委`).
#[derive(Debug, Clone, Default)]
pub struct AliasTable {
    explicit: Vec<(String, String)>,
}

impl AliasTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `alias` as another name of `canonical`.
    pub fn insert(&mut self, alias: impl Into<String>, canonical: impl Into<String>) {
        self.explicit.push((alias.into(), canonical.into()));
    }

    /// The canonical name for `name` given all names seen in the document, and whether it
    /// was folded.
    pub fn canonical<'a>(&'a self, name: &'a str, all_names: &'a [String]) -> &'a str {
        if let Some((_, c)) = self.explicit.iter().find(|(a, _)| a == name) {
            return c;
        }
        if JURISDICTION_PREFIXES.iter().any(|p| name.starts_with(p)) {
            return name;
        }
        for prefix in JURISDICTION_PREFIXES {
            let prefixed = format!("{prefix}{name}");
            if let Some(found) = all_names.iter().find(|n| **n == prefixed) {
                return found;
            }
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_every_separator() {
        assert_eq!(
            split_unit_list("县法院 县检察院、县公安局，县司法局,县财政局；县民政局"),
            vec![
                "县法院",
                "县检察院",
                "县公安局",
                "县司法局",
                "县财政局",
                "县民政局"
            ]
        );
        assert_eq!(split_unit_list("  县司法局  县司法局 "), vec!["县司法局"]);
    }

    #[test]
    fn tells_units_from_text() {
        assert!(is_unit_list("县行政审批服务局 县市场监督管理局"));
        assert!(is_unit_list("临沂市环保局兰陵分局"));
        assert!(is_unit_list("各执法部门"));
        assert!(is_unit_list("纪委监委"));
        assert!(!is_unit_list("管。"));
        assert!(!is_unit_list("文明"));
        assert!(!is_unit_list("策科学民主合法"));
        assert!(!is_unit_list("要负责人要带头主动发声。"));
        assert!(!is_unit_list(""));
        assert!(!is_unit_list("（一）行政审批制度改革全面推行。"));
        assert!(!is_unit_list("推行"));
    }

    #[test]
    fn folds_unprefixed_alias() {
        let all = vec!["县纪委监委".to_string(), "纪委监委".to_string()];
        let t = AliasTable::new();
        assert_eq!(t.canonical("纪委监委", &all), "县纪委监委");
        assert_eq!(t.canonical("县纪委监委", &all), "县纪委监委");
        assert_eq!(t.canonical("县司法局", &all), "县司法局");
    }

    #[test]
    fn explicit_alias_wins() {
        let mut t = AliasTable::new();
        t.insert("县发展和改革局", "县发改局");
        assert_eq!(t.canonical("县发展和改革局", &[]), "县发改局");
    }

    #[test]
    fn infers_kinds() {
        assert_eq!(UnitKind::infer("各执法部门"), UnitKind::Group);
        assert_eq!(UnitKind::infer("县直有关单位"), UnitKind::Group);
        assert_eq!(UnitKind::infer("各乡镇人民政府"), UnitKind::Group);
        assert_eq!(UnitKind::infer("县法院"), UnitKind::Judicial);
        assert_eq!(UnitKind::infer("县委组织部"), UnitKind::Party);
        assert_eq!(UnitKind::infer("县纪委监委"), UnitKind::Party);
        assert_eq!(UnitKind::infer("县司法局"), UnitKind::Government);
        assert_eq!(UnitKind::infer("临沂市环保局兰陵分局"), UnitKind::Branch);
    }
}
