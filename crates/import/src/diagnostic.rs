//! Diagnostics: every repair the importer makes and every doubt it has. The types live in
//! the domain crate (the store keeps them too); re-exported here for importer users.

pub use fazhi_domain::diagnostic::{Diagnostic, DiagnosticKind, Severity};
