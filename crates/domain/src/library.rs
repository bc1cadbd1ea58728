//! The parsed library: what an import produces and what the store keeps of it.

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Severity};
use crate::framework::Framework;
use crate::unit::Unit;

/// The parsed library: the framework (title, indicator tree, unit names), details of each
/// unit, and the diagnostics. This is also the shape of the checked-in library file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutput {
    #[serde(flatten)]
    pub framework: Framework,
    pub unit_details: Vec<Unit>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ImportOutput {
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }
}
