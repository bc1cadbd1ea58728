//! Pure domain logic of fazhi. Nothing here touches files, the network or a database:
//! callers hand in bytes/strings and get values back, so every rule is unit-testable.

pub mod calendar;
pub mod clock;
pub mod diagnostic;
pub mod enums;
pub mod framework;
pub mod library;
pub mod measure;
pub mod rules;
pub mod ruleset;
pub mod stats;
pub mod supervision;
pub mod task;
pub mod unit;

pub use diagnostic::{Diagnostic, DiagnosticKind, Severity};
pub use framework::{Framework, Heading, Indicator, Node};
pub use library::ImportOutput;
pub use unit::{Unit, UnitKind};
