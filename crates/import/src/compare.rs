//! Two editions of an indicator system side by side: which indicators were added,
//! removed, reworded (with a character diff), moved under another heading, and whose
//! responsible units changed. [`map_indicators`] pairs each old indicator with the new
//! one it most likely became, with a score for a person to confirm; carrying tasks over
//! to the new edition is for the store to do with those confirmed pairs.

use std::collections::{HashMap, HashSet};

use fazhi_domain::framework::{Framework, Indicator};
use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// Below this similarity two texts are not the same indicator reworded.
pub const REWORD_THRESHOLD: f64 = 0.5;

/// Where an indicator stands: its headings' codes and titles, its own code and text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// Codes of the headings above, outermost first (`["一", "1"]`).
    pub path: Vec<String>,
    /// Titles of those headings.
    pub headings: Vec<String>,
    pub code: String,
    pub text: String,
    pub units: Vec<String>,
    pub lead: Vec<String>,
}

impl Place {
    /// `县司法局（牵头）、县财政局`, or `（无）`.
    pub fn units_label(&self) -> String {
        if self.units.is_empty() {
            return "（无）".into();
        }
        self.units
            .iter()
            .map(|u| {
                if self.lead.contains(u) {
                    format!("{u}（牵头）")
                } else {
                    u.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("、")
    }

    /// `一/1/第3项`, for people.
    pub fn label(&self) -> String {
        let mut parts = self.path.clone();
        parts.push(format!("第{}项", self.code));
        parts.join("/")
    }
}

/// One piece of a character diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "op", content = "text")]
pub enum DiffPiece {
    Same(String),
    Removed(String),
    Added(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum Change {
    Added {
        new: Place,
    },
    Removed {
        old: Place,
    },
    Reworded {
        old: Place,
        new: Place,
        similarity: f64,
        diff: Vec<DiffPiece>,
    },
    /// The same indicator under another heading.
    Moved {
        old: Place,
        new: Place,
    },
    /// Units or the lead changed on an indicator found in both editions.
    Responsibility {
        old: Place,
        new: Place,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub old_title: String,
    pub new_title: String,
    pub changes: Vec<Change>,
}

impl Comparison {
    pub fn count(&self, pred: impl Fn(&Change) -> bool) -> usize {
        self.changes.iter().filter(|c| pred(c)).count()
    }

    /// `新增 2 项、删除 1 项、改写 3 项、移动 0 项、责任单位变化 1 项`.
    pub fn summary(&self) -> String {
        let n = |f: fn(&Change) -> bool| self.count(f);
        format!(
            "新增 {} 项、删除 {} 项、改写 {} 项、移动 {} 项、责任单位变化 {} 项",
            n(|c| matches!(c, Change::Added { .. })),
            n(|c| matches!(c, Change::Removed { .. })),
            n(|c| matches!(c, Change::Reworded { .. })),
            n(|c| matches!(c, Change::Moved { .. })),
            n(|c| matches!(c, Change::Responsibility { .. })),
        )
    }
}

/// A guess that `old` became `new`, with its score (1 = same text).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guess {
    /// Index into the old edition's indicators in document order.
    pub old: usize,
    pub new: usize,
    pub score: f64,
}

/// For each old indicator (document order), the new indicator it most likely became, or
/// `None` when nothing is similar enough: an unmapped task must be shown, never dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mapping {
    pub old: usize,
    pub guess: Option<Guess>,
    /// Other candidates above the threshold, best first, for the person confirming.
    pub alternatives: Vec<Guess>,
}

fn places(f: &Framework) -> Vec<Place> {
    f.walk_indicators()
        .into_iter()
        .map(
            |(path, i): (Vec<&fazhi_domain::Heading>, &Indicator)| Place {
                path: path.iter().map(|h| h.code.clone()).collect(),
                headings: path.iter().map(|h| h.title.clone()).collect(),
                code: i.code.clone(),
                text: i.text.clone(),
                units: i.units.clone(),
                lead: i.lead.clone(),
            },
        )
        .collect()
}

/// Text as compared: no whitespace, so a re-extraction's spacing does not count.
fn key(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn bigrams(text: &str) -> HashMap<(char, char), usize> {
    let chars: Vec<char> = key(text).chars().collect();
    let mut out = HashMap::new();
    for w in chars.windows(2) {
        *out.entry((w[0], w[1])).or_insert(0) += 1;
    }
    if chars.len() == 1 {
        out.insert((chars[0], chars[0]), 1);
    }
    out
}

/// Dice coefficient over character pairs: cheap, and for Chinese close to what a reader
/// calls "the same sentence, a few words changed".
fn similarity(a: &HashMap<(char, char), usize>, b: &HashMap<(char, char), usize>) -> f64 {
    let total: usize = a.values().sum::<usize>() + b.values().sum::<usize>();
    if total == 0 {
        return 1.0;
    }
    let common: usize = a
        .iter()
        .map(|(k, n)| (*n).min(b.get(k).copied().unwrap_or(0)))
        .sum();
    2.0 * common as f64 / total as f64
}

/// Character diff of two texts.
pub fn char_diff(old: &str, new: &str) -> Vec<DiffPiece> {
    let diff = TextDiff::from_chars(old, new);
    let mut out: Vec<DiffPiece> = Vec::new();
    for change in diff.iter_all_changes() {
        let s = change.value();
        match (change.tag(), out.last_mut()) {
            (ChangeTag::Equal, Some(DiffPiece::Same(t)))
            | (ChangeTag::Delete, Some(DiffPiece::Removed(t)))
            | (ChangeTag::Insert, Some(DiffPiece::Added(t))) => t.push_str(s),
            (ChangeTag::Equal, _) => out.push(DiffPiece::Same(s.to_string())),
            (ChangeTag::Delete, _) => out.push(DiffPiece::Removed(s.to_string())),
            (ChangeTag::Insert, _) => out.push(DiffPiece::Added(s.to_string())),
        }
    }
    out
}

/// Pairs (old index, new index, score): identical texts first, in order; then the most
/// similar remaining pairs above [`REWORD_THRESHOLD`], best first.
fn pair(old: &[Place], new: &[Place]) -> Vec<(usize, usize, f64)> {
    let mut pairs = Vec::new();
    let mut used_new: HashSet<usize> = HashSet::new();
    let mut by_text: HashMap<String, Vec<usize>> = HashMap::new();
    for (j, p) in new.iter().enumerate() {
        by_text.entry(key(&p.text)).or_default().push(j);
    }
    let mut used_old: HashSet<usize> = HashSet::new();
    for (i, p) in old.iter().enumerate() {
        let k = key(&p.text);
        if k.is_empty() {
            continue;
        }
        // Same text twice (the seed's items 87 and 88): prefer the one at the same place.
        if let Some(list) = by_text.get_mut(&k)
            && !list.is_empty()
        {
            let at = list
                .iter()
                .position(|&j| new[j].path == p.path && new[j].code == p.code)
                .unwrap_or(0);
            let j = list.remove(at);
            pairs.push((i, j, 1.0));
            used_old.insert(i);
            used_new.insert(j);
        }
    }
    let old_grams: Vec<_> = old.iter().map(|p| bigrams(&p.text)).collect();
    let new_grams: Vec<_> = new.iter().map(|p| bigrams(&p.text)).collect();
    let mut candidates: Vec<(usize, usize, f64)> = Vec::new();
    for i in (0..old.len()).filter(|i| !used_old.contains(i)) {
        for j in (0..new.len()).filter(|j| !used_new.contains(j)) {
            let s = similarity(&old_grams[i], &new_grams[j]);
            if s >= REWORD_THRESHOLD {
                candidates.push((i, j, s));
            }
        }
    }
    candidates.sort_by(|a, b| b.2.partial_cmp(&a.2).unwrap_or(std::cmp::Ordering::Equal));
    for (i, j, s) in candidates {
        if used_old.contains(&i) || used_new.contains(&j) {
            continue;
        }
        used_old.insert(i);
        used_new.insert(j);
        pairs.push((i, j, s));
    }
    pairs.sort_by_key(|p| p.0);
    pairs
}

/// Compare two editions.
pub fn compare(old: &Framework, new: &Framework) -> Comparison {
    let (a, b) = (places(old), places(new));
    let pairs = pair(&a, &b);
    let mut changes = Vec::new();
    let paired_old: HashSet<usize> = pairs.iter().map(|p| p.0).collect();
    let paired_new: HashSet<usize> = pairs.iter().map(|p| p.1).collect();
    for &(i, j, score) in &pairs {
        let (o, n) = (&a[i], &b[j]);
        if key(&o.text) != key(&n.text) {
            changes.push(Change::Reworded {
                old: o.clone(),
                new: n.clone(),
                similarity: (score * 100.0).round() / 100.0,
                diff: char_diff(&o.text, &n.text),
            });
        }
        if o.path != n.path {
            changes.push(Change::Moved {
                old: o.clone(),
                new: n.clone(),
            });
        }
        if o.units != n.units || o.lead != n.lead {
            changes.push(Change::Responsibility {
                old: o.clone(),
                new: n.clone(),
            });
        }
    }
    for (_, o) in a
        .iter()
        .enumerate()
        .filter(|(i, _)| !paired_old.contains(i))
    {
        changes.push(Change::Removed { old: o.clone() });
    }
    for (_, n) in b
        .iter()
        .enumerate()
        .filter(|(j, _)| !paired_new.contains(j))
    {
        changes.push(Change::Added { new: n.clone() });
    }
    Comparison {
        old_title: old.title.clone(),
        new_title: new.title.clone(),
        changes,
    }
}

/// Map every old indicator to its likely successor in the new edition (indices in
/// document order, as [`Framework::walk_indicators`] gives them).
pub fn map_indicators(old: &Framework, new: &Framework) -> Vec<Mapping> {
    let (a, b) = (places(old), places(new));
    let pairs = pair(&a, &b);
    let new_grams: Vec<_> = b.iter().map(|p| bigrams(&p.text)).collect();
    (0..a.len())
        .map(|i| {
            let guess = pairs
                .iter()
                .find(|p| p.0 == i)
                .map(|&(old, new, score)| Guess { old, new, score });
            let grams = bigrams(&a[i].text);
            let mut alternatives: Vec<Guess> = (0..b.len())
                .filter(|j| guess.as_ref().is_none_or(|g| g.new != *j))
                .map(|j| Guess {
                    old: i,
                    new: j,
                    score: similarity(&grams, &new_grams[j]),
                })
                .filter(|g| g.score >= REWORD_THRESHOLD)
                .collect();
            alternatives.sort_by(|x, y| {
                y.score
                    .partial_cmp(&x.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            alternatives.truncate(3);
            Mapping {
                old: i,
                guess,
                alternatives,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fazhi_domain::framework::Node;

    const LIBRARY: &str = include_str!("../../../data/library/lanling.json");

    fn library() -> Framework {
        let out: crate::ImportOutput = serde_json::from_str(LIBRARY).unwrap();
        out.framework
    }

    /// Edit indicator `code` (unique codes in the library) in place.
    fn edit(f: &mut Framework, code: &str, change: impl FnOnce(&mut Indicator)) {
        fn find<'a>(nodes: &'a mut [Node], code: &str) -> Option<&'a mut Indicator> {
            nodes.iter_mut().find_map(|n| match n {
                Node::Heading(h) => find(&mut h.children, code),
                Node::Indicator(i) => (i.code == code).then_some(i),
            })
        }
        change(find(&mut f.indicators, code).expect("indicator exists"));
    }

    fn heading_mut<'a>(f: &'a mut Framework, path: &[&str]) -> &'a mut Vec<Node> {
        let mut nodes = &mut f.indicators;
        for code in path {
            let Some(Node::Heading(h)) = nodes.iter_mut().find(|n| n.code() == *code) else {
                panic!("no heading {code}")
            };
            nodes = &mut h.children;
        }
        nodes
    }

    /// The seed with three items reworded, one removed, one added, one moved to another
    /// heading and one unit moved from one item to another.
    fn next_edition() -> Framework {
        let mut f = library();
        edit(&mut f, "4", |i| {
            i.text = i.text.replace("一律取消", "全部取消")
        });
        edit(&mut f, "20", |i| {
            i.text.push_str("每年至少开展一次专项检查。")
        });
        edit(&mut f, "84", |i| {
            i.text = i.text.replace("集中宣传教育活动", "主题宣传活动")
        });
        // Removed: item 12 (under 一/4).
        let under = heading_mut(&mut f, &["一", "4"]);
        let at = under.iter().position(|n| n.code() == "12").unwrap();
        under.remove(at);
        // Added: a new item under 八/2.
        heading_mut(&mut f, &["八", "2"]).push(Node::Indicator(Indicator {
            code: "95".into(),
            text: "建立法治政府建设年度报告公开评议制度，接受社会监督。".into(),
            units: vec!["县司法局".into()],
            lead: vec!["县司法局".into()],
            line: None,
        }));
        // Moved: item 10 from 一/3 to 一/2.
        let from = heading_mut(&mut f, &["一", "3"]);
        let at = from.iter().position(|n| n.code() == "10").unwrap();
        let moved = from.remove(at);
        heading_mut(&mut f, &["一", "2"]).push(moved);
        // A unit moved: 县财政局 leaves item 9 and joins item 8.
        edit(&mut f, "9", |i| {
            i.units.retain(|u| u != "县财政局");
            i.lead = vec![i.units[0].clone()];
        });
        edit(&mut f, "8", |i| i.units.push("县财政局".into()));
        f
    }

    fn codes(c: &Comparison, pred: impl Fn(&Change) -> Option<String>) -> Vec<String> {
        c.changes.iter().filter_map(pred).collect()
    }

    #[test]
    fn lists_exactly_the_changes_between_two_editions() {
        let old = library();
        let new = next_edition();
        let c = compare(&old, &new);
        let reworded = codes(&c, |ch| match ch {
            Change::Reworded { old, .. } => Some(old.code.clone()),
            _ => None,
        });
        assert_eq!(reworded, ["4", "20", "84"]);
        let removed = codes(&c, |ch| match ch {
            Change::Removed { old } => Some(old.code.clone()),
            _ => None,
        });
        assert_eq!(removed, ["12"]);
        let added = codes(&c, |ch| match ch {
            Change::Added { new } => Some(new.code.clone()),
            _ => None,
        });
        assert_eq!(added, ["95"]);
        let moved = codes(&c, |ch| match ch {
            Change::Moved { old, new } => Some(format!("{}→{}", old.label(), new.label())),
            _ => None,
        });
        assert_eq!(moved, ["一/3/第10项→一/2/第10项"]);
        let units = codes(&c, |ch| match ch {
            Change::Responsibility { old, .. } => Some(old.code.clone()),
            _ => None,
        });
        assert_eq!(units, ["8", "9"]);
        assert_eq!(c.changes.len(), 8, "{:#?}", c.changes);
        // The diff shows exactly the words changed.
        let Some(Change::Reworded {
            diff, similarity, ..
        }) = c
            .changes
            .iter()
            .find(|ch| matches!(ch, Change::Reworded { old, .. } if old.code == "4"))
        else {
            panic!()
        };
        let changed: Vec<&DiffPiece> = diff
            .iter()
            .filter(|d| !matches!(d, DiffPiece::Same(_)))
            .collect();
        assert_eq!(
            changed,
            [
                &DiffPiece::Removed("一律".into()),
                &DiffPiece::Added("全部".into())
            ]
        );
        assert!(*similarity > 0.8 && *similarity < 1.0);
    }

    #[test]
    fn an_edition_compared_with_itself_has_no_changes() {
        let f = library();
        assert!(compare(&f, &f).changes.is_empty());
    }

    #[test]
    fn every_old_indicator_gets_a_scored_guess_or_is_listed_unmapped() {
        let old = library();
        let new = next_edition();
        let map = map_indicators(&old, &new);
        assert_eq!(map.len(), 94);
        let old_items = old.walk_indicators();
        let new_items = new.walk_indicators();
        for m in &map {
            let code = &old_items[m.old].1.code;
            match &m.guess {
                Some(g) => {
                    assert!(g.score >= REWORD_THRESHOLD && g.score <= 1.0);
                    // Every guess leads to the indicator of the same code in this copy.
                    assert_eq!(&new_items[g.new].1.code, code);
                }
                None => assert_eq!(code, "12"),
            }
        }
        let reworded = map.iter().find(|m| old_items[m.old].1.code == "4").unwrap();
        let g = reworded.guess.as_ref().unwrap();
        assert!(g.score < 1.0);
    }
}
