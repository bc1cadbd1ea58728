//! The rules that count for one indicator: what the extractor found in its text, with the
//! office's corrections applied (修正、删除、补充).
//!
//! Corrections are kept apart from the text, keyed by the indicator's number (编号) and by
//! a stable key of the extracted rule, so that they survive a re-import of the indicator
//! system: the next version's text is extracted again and the same corrections are applied.
//! A correction whose rule is no longer found (the text changed) is reported as stale rather
//! than silently applied to another rule.

use serde::{Deserialize, Serialize};

use crate::rules::{Rule, RuleKind, extract_rules};

/// A rule with its stable key and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyedRule {
    /// `percent@12-20#0` for an extracted rule (kind, char span, occurrence);
    /// `c17` for a rule the office added (correction id 17).
    pub key: String,
    pub rule: Rule,
    pub origin: RuleOrigin,
}

/// Where a rule of the effective set came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "origin")]
pub enum RuleOrigin {
    /// As the extractor found it.
    Extracted,
    /// Extracted, then changed by the office; `original` is what the extractor found.
    Corrected {
        correction_id: i64,
        original: Box<Rule>,
    },
    /// Added by the office.
    Added { correction_id: i64 },
}

impl RuleOrigin {
    pub fn label(&self) -> &'static str {
        match self {
            RuleOrigin::Extracted => "自动识别",
            RuleOrigin::Corrected { .. } => "人工修正",
            RuleOrigin::Added { .. } => "人工补充",
        }
    }
}

/// What a correction does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum CorrectionAction {
    /// Replace the extracted rule `target` by `rule`.
    Replace { target: String, rule: Rule },
    /// The extracted rule `target` is not a requirement.
    Delete { target: String },
    /// A requirement the extractor missed.
    Add { rule: Rule },
}

/// A stored correction (the id is the database's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub id: i64,
    pub action: CorrectionAction,
}

/// The effective rule set of one indicator text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RuleSet {
    pub rules: Vec<KeyedRule>,
    /// Extracted rules the office deleted, with the correction that deleted them.
    pub deleted: Vec<(i64, KeyedRule)>,
    /// Corrections whose target rule is not in this text (it changed since).
    pub stale: Vec<Correction>,
}

impl RuleSet {
    pub fn get(&self, key: &str) -> Option<&KeyedRule> {
        self.rules.iter().find(|r| r.key == key)
    }
}

/// The extracted rules of `text`, each with its stable key.
pub fn keyed_rules(text: &str) -> Vec<KeyedRule> {
    let rules = extract_rules(text);
    let mut out: Vec<KeyedRule> = Vec::with_capacity(rules.len());
    for rule in rules {
        let base = format!("{}@{}-{}", kind_name(&rule.kind), rule.span.0, rule.span.1);
        let n = out
            .iter()
            .filter(|k| k.key.rsplit_once('#').map(|(b, _)| b) == Some(base.as_str()))
            .count();
        out.push(KeyedRule {
            key: format!("{base}#{n}"),
            rule,
            origin: RuleOrigin::Extracted,
        });
    }
    out
}

/// The serde tag of a kind: `percent`, `duration` ….
pub fn kind_name(kind: &RuleKind) -> &'static str {
    match kind {
        RuleKind::Percent { .. } => "percent",
        RuleKind::Duration { .. } => "duration",
        RuleKind::Count { .. } => "count",
        RuleKind::Frequency { .. } => "frequency",
        RuleKind::Deadline { .. } => "deadline",
        RuleKind::Date { .. } => "date",
    }
}

/// Extract the rules of `text` and apply `corrections` in order (later ones win when two
/// touch the same rule).
pub fn effective_rules(text: &str, corrections: &[Correction]) -> RuleSet {
    let mut set = RuleSet {
        rules: keyed_rules(text),
        ..Default::default()
    };
    for c in corrections {
        match &c.action {
            CorrectionAction::Replace { target, rule } => {
                match set.rules.iter_mut().find(|r| &r.key == target) {
                    Some(r) => {
                        let original = match &r.origin {
                            RuleOrigin::Corrected { original, .. } => original.clone(),
                            _ => Box::new(r.rule.clone()),
                        };
                        r.rule = rule.clone();
                        r.origin = RuleOrigin::Corrected {
                            correction_id: c.id,
                            original,
                        };
                    }
                    None => set.stale.push(c.clone()),
                }
            }
            CorrectionAction::Delete { target } => {
                match set.rules.iter().position(|r| &r.key == target) {
                    Some(i) => {
                        let r = set.rules.remove(i);
                        set.deleted.push((c.id, r));
                    }
                    None => set.stale.push(c.clone()),
                }
            }
            CorrectionAction::Add { rule } => set.rules.push(KeyedRule {
                key: format!("c{}", c.id),
                rule: rule.clone(),
                origin: RuleOrigin::Added {
                    correction_id: c.id,
                },
            }),
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{DurationUnit, Op};

    const ITEM_25: &str = "严格落实重大行政决策合法性审核制度，合法性审核率达100%。合法性审核的时间一般不少于5个工作日，最长不超过15个工作日。";

    fn rule(kind: RuleKind, subject: &str) -> Rule {
        Rule {
            kind,
            subject: subject.into(),
            span: (0, 0),
            source: String::new(),
            certain: true,
            note: None,
        }
    }

    #[test]
    fn keys_are_stable_and_unique() {
        let a = keyed_rules(ITEM_25);
        let b = keyed_rules(ITEM_25);
        assert_eq!(a, b);
        assert!(a.len() >= 3, "{a:?}");
        let mut keys: Vec<_> = a.iter().map(|k| k.key.clone()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), a.len());
        assert!(a[0].key.starts_with("percent@"), "{}", a[0].key);
    }

    #[test]
    fn corrections_replace_delete_add_and_report_stale() {
        let keyed = keyed_rules(ITEM_25);
        let dur = keyed
            .iter()
            .find(|k| matches!(k.rule.kind, RuleKind::Duration { op: Op::Le, .. }))
            .unwrap()
            .key
            .clone();
        let pct = keyed[0].key.clone();
        let replaced = rule(
            RuleKind::Duration {
                op: Op::Le,
                value: 10.0,
                unit: DurationUnit::Workday,
            },
            "合法性审核的时间",
        );
        let added = rule(
            RuleKind::Count {
                op: Op::Ge,
                value: 2.0,
                unit: "名".into(),
            },
            "法律顾问",
        );
        let corrections = vec![
            Correction {
                id: 1,
                action: CorrectionAction::Replace {
                    target: dur.clone(),
                    rule: replaced.clone(),
                },
            },
            Correction {
                id: 2,
                action: CorrectionAction::Delete {
                    target: pct.clone(),
                },
            },
            Correction {
                id: 3,
                action: CorrectionAction::Add {
                    rule: added.clone(),
                },
            },
            Correction {
                id: 4,
                action: CorrectionAction::Delete {
                    target: "percent@999-1000#0".into(),
                },
            },
        ];
        let set = effective_rules(ITEM_25, &corrections);
        assert_eq!(set.rules.len(), keyed.len()); // one deleted, one added
        let r = set.get(&dur).unwrap();
        assert_eq!(r.rule, replaced);
        assert!(matches!(
            r.origin,
            RuleOrigin::Corrected {
                correction_id: 1,
                ..
            }
        ));
        assert!(set.get(&pct).is_none());
        assert_eq!(set.deleted.len(), 1);
        assert_eq!(set.get("c3").unwrap().rule, added);
        assert_eq!(set.stale.len(), 1);
        assert_eq!(set.stale[0].id, 4);
    }

    #[test]
    fn a_second_replace_keeps_the_extracted_original() {
        let keyed = keyed_rules(ITEM_25);
        let target = keyed[0].key.clone();
        let mk = |id, v| Correction {
            id,
            action: CorrectionAction::Replace {
                target: target.clone(),
                rule: rule(
                    RuleKind::Percent {
                        op: Op::Ge,
                        value: v,
                    },
                    "x",
                ),
            },
        };
        let set = effective_rules(ITEM_25, &[mk(1, 90.0), mk(2, 95.0)]);
        match &set.get(&target).unwrap().origin {
            RuleOrigin::Corrected {
                correction_id,
                original,
            } => {
                assert_eq!(*correction_id, 2);
                assert_eq!(**original, keyed[0].rule);
            }
            o => panic!("{o:?}"),
        }
    }
}
