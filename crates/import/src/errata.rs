//! Hand-checked corrections (勘误) on top of an import.
//!
//! Some damage cannot be undone mechanically: a character lost at a page break, a
//! vertically printed title read in the wrong order. A person fixes those once, in a
//! reviewed errata file; applying it is checked (the text must still read as the importer
//! produced it) and reported, so the library stays reproducible from the raw source.

use fazhi_domain::framework::Node;
use serde::{Deserialize, Serialize};

use crate::ImportOutput;
use crate::diagnostic::{Diagnostic, DiagnosticKind, Severity};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Errata {
    #[serde(default, rename = "erratum")]
    pub entries: Vec<Erratum>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erratum {
    /// Codes from the top, e.g. `["五", "1"]` for the first 二级指标 under 五.
    pub path: Vec<String>,
    /// The importer's text (heading title or indicator text) this corrects.
    pub from: String,
    pub to: String,
    /// Why, and against what it was checked.
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ErrataError {
    #[error("勘误文件格式错误：{0}")]
    Parse(String),
    #[error("第{index}条勘误找不到指标 {path}")]
    NotFound { index: usize, path: String },
    #[error("第{index}条勘误不再适用：{path} 现在是“{actual}”，勘误要求原文为“{expected}”")]
    Stale {
        index: usize,
        path: String,
        actual: String,
        expected: String,
    },
}

impl Errata {
    pub fn parse(text: &str) -> Result<Self, ErrataError> {
        toml::from_str(text).map_err(|e| ErrataError::Parse(e.to_string()))
    }
}

fn find<'a>(nodes: &'a mut [Node], path: &[String]) -> Option<&'a mut Node> {
    let (first, rest) = path.split_first()?;
    let node = nodes.iter_mut().find(|n| n.code() == first)?;
    if rest.is_empty() {
        return Some(node);
    }
    match node {
        Node::Heading(h) => find(&mut h.children, rest),
        Node::Indicator(_) => None,
    }
}

/// Apply every erratum or none: on an error `out` is left unchanged.
pub fn apply(out: &mut ImportOutput, errata: &Errata) -> Result<(), ErrataError> {
    let mut next = out.clone();
    for (i, e) in errata.entries.iter().enumerate() {
        let index = i + 1;
        let path = e.path.join(".");
        let node = find(&mut next.framework.indicators, &e.path).ok_or(ErrataError::NotFound {
            index,
            path: path.clone(),
        })?;
        let line = node.line();
        let text = match node {
            Node::Heading(h) => &mut h.title,
            Node::Indicator(ind) => &mut ind.text,
        };
        if *text != e.from {
            return Err(ErrataError::Stale {
                index,
                path,
                actual: text.clone(),
                expected: e.from.clone(),
            });
        }
        *text = e.to.clone();
        let mut d = Diagnostic::new(
            Severity::Info,
            DiagnosticKind::ErratumApplied,
            format!("按勘误将“{}”改为“{}”：{}", e.from, e.to, e.reason),
        )
        .on(e.path.last().cloned().unwrap_or_default());
        d.line = line;
        next.diagnostics.push(d);
    }
    *out = next;
    Ok(())
}
