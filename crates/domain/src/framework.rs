//! The indicator system (指标体系): a tree of any depth. Inner nodes are headings
//! (一级指标, 二级指标, …); leaves are the assessable indicators (三级指标 in the county
//! table) that carry their responsible units.
//!
//! The serde shape of these types *is* the library file format and the `fazhi import
//! --format json` output: headings serialise as `{code, title, children}`, indicators as
//! `{code, text, units, lead}`.

use serde::{Deserialize, Serialize};

/// One edition of an indicator system together with the units it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    pub title: String,
    pub indicators: Vec<Node>,
    /// Canonical unit names in order of first appearance in the document.
    pub units: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    Heading(Heading),
    Indicator(Indicator),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    /// Numbering as printed, without punctuation: `一`, `1`, `(一)` → `一`.
    pub code: String,
    pub title: String,
    pub children: Vec<Node>,
    /// Line (or spreadsheet row) of the source where this heading starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Share of the total score printed with the heading (`（占总分值的15%）`, `（20分）`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Weight>,
}

/// A heading's weight as printed: the number keeps its digits (`12.5`) so nothing is
/// rounded; [`Weight::amount`] gives it as a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weight {
    pub value: String,
    pub unit: WeightUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightUnit {
    /// Percent of the total score.
    Percent,
    /// Points (分).
    Points,
}

impl Weight {
    pub fn amount(&self) -> Option<f64> {
        self.value.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub code: String,
    pub text: String,
    /// Responsible units (责任单位) in document order, canonical names.
    pub units: Vec<String>,
    /// The subset of `units` that leads (牵头). By default the first listed unit leads;
    /// the others are 配合. Empty when `units` is empty.
    #[serde(default)]
    pub lead: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// Role of a unit on one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 牵头单位
    Lead,
    /// 配合单位
    Co,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Lead => "牵头",
            Role::Co => "配合",
        }
    }
}

impl Indicator {
    /// The role of `unit` on this indicator, if it is responsible at all.
    pub fn role_of(&self, unit: &str) -> Option<Role> {
        if !self.units.iter().any(|u| u == unit) {
            None
        } else if self.lead.iter().any(|u| u == unit) {
            Some(Role::Lead)
        } else {
            Some(Role::Co)
        }
    }
}

impl Node {
    pub fn code(&self) -> &str {
        match self {
            Node::Heading(h) => &h.code,
            Node::Indicator(i) => &i.code,
        }
    }

    pub fn line(&self) -> Option<u32> {
        match self {
            Node::Heading(h) => h.line,
            Node::Indicator(i) => i.line,
        }
    }
}

impl Framework {
    /// Every indicator in document order with its ancestor headings.
    pub fn walk_indicators(&self) -> Vec<(Vec<&Heading>, &Indicator)> {
        fn go<'a>(
            nodes: &'a [Node],
            stack: &mut Vec<&'a Heading>,
            out: &mut Vec<(Vec<&'a Heading>, &'a Indicator)>,
        ) {
            for node in nodes {
                match node {
                    Node::Heading(h) => {
                        stack.push(h);
                        go(&h.children, stack, out);
                        stack.pop();
                    }
                    Node::Indicator(i) => out.push((stack.clone(), i)),
                }
            }
        }
        let mut out = Vec::new();
        go(&self.indicators, &mut Vec::new(), &mut out);
        out
    }

    /// Number of headings at each depth, then the number of indicators, e.g. `[8, 32, 94]`
    /// for the county table. Indicators are counted separately from headings because a
    /// leaf may sit at any depth.
    pub fn level_counts(&self) -> Vec<usize> {
        fn go(nodes: &[Node], depth: usize, headings: &mut Vec<usize>, leaves: &mut usize) {
            for node in nodes {
                match node {
                    Node::Heading(h) => {
                        if headings.len() <= depth {
                            headings.resize(depth + 1, 0);
                        }
                        headings[depth] += 1;
                        go(&h.children, depth + 1, headings, leaves);
                    }
                    Node::Indicator(_) => *leaves += 1,
                }
            }
        }
        let mut headings = Vec::new();
        let mut leaves = 0;
        go(&self.indicators, 0, &mut headings, &mut leaves);
        headings.push(leaves);
        headings
    }

    /// Number of indicators each unit is responsible for, in `units` order.
    pub fn unit_indicator_counts(&self) -> Vec<(String, usize, usize)> {
        let leaves = self.walk_indicators();
        self.units
            .iter()
            .map(|u| {
                let lead = leaves
                    .iter()
                    .filter(|(_, i)| i.role_of(u) == Some(Role::Lead))
                    .count();
                let co = leaves
                    .iter()
                    .filter(|(_, i)| i.role_of(u) == Some(Role::Co))
                    .count();
                (u.clone(), lead, co)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(code: &str, units: &[&str]) -> Node {
        Node::Indicator(Indicator {
            code: code.into(),
            text: format!("第{code}项"),
            units: units.iter().map(|s| s.to_string()).collect(),
            lead: units.iter().take(1).map(|s| s.to_string()).collect(),
            line: None,
        })
    }

    fn sample() -> Framework {
        Framework {
            title: "t".into(),
            indicators: vec![Node::Heading(Heading {
                code: "一".into(),
                title: "甲".into(),
                line: Some(1),
                weight: None,
                children: vec![
                    Node::Heading(Heading {
                        code: "1".into(),
                        title: "乙".into(),
                        line: None,
                        weight: Some(Weight {
                            value: "12.5".into(),
                            unit: WeightUnit::Percent,
                        }),
                        children: vec![leaf("1", &["县司法局", "县财政局"])],
                    }),
                    // A leaf directly under a first-level heading: depth is not fixed.
                    leaf("2", &["县财政局"]),
                ],
            })],
            units: vec!["县司法局".into(), "县财政局".into()],
        }
    }

    #[test]
    fn counts_levels_of_any_depth() {
        assert_eq!(sample().level_counts(), vec![1, 1, 2]);
    }

    #[test]
    fn roles_default_to_first_listed_lead() {
        let f = sample();
        assert_eq!(
            f.unit_indicator_counts(),
            vec![("县司法局".into(), 1, 0), ("县财政局".into(), 1, 1)]
        );
    }

    #[test]
    fn json_shape_round_trips() {
        let f = sample();
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["indicators"][0]["title"], "甲");
        assert_eq!(
            json["indicators"][0]["children"][0]["children"][0]["units"][1],
            "县财政局"
        );
        assert_eq!(json["indicators"][0]["children"][1]["text"], "第2项");
        assert_eq!(
            json["indicators"][0]["children"][0]["weight"]["value"],
            "12.5"
        );
        assert!(json["indicators"][0].get("weight").is_none());
        let back: Framework = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
    }
}
