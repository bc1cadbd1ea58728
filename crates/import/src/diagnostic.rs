//! Diagnostics: every repair the importer makes and every doubt it has, with the source
//! line, so that a person can check the result against the document.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A mechanical repair; the result is very likely right.
    Info,
    /// Needs a person to look: missing data, a guess, a suspicious join.
    Warning,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "修复",
            Severity::Warning => "请核对",
        }
    }
}

/// What a diagnostic is about. Serialised in snake_case (`missing_units`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// The file was not UTF-8 and was read as GB18030/GBK.
    EncodingConverted,
    /// A repeated header row (one per PDF page) was skipped.
    HeaderRepeated,
    /// A cell split over a page break was joined back.
    SplitCellJoined,
    /// The same character stood on both sides of a page break and was kept once.
    OverlapRemoved,
    /// Text printed vertically (one or two characters a line) was put back together.
    VerticalText,
    /// Traditional characters from OCR were converted to simplified.
    TraditionalConverted,
    /// Stray spaces inside Chinese text or numbers were removed.
    SpacesRemoved,
    /// Half-width punctuation next to Chinese text was made full-width.
    PunctuationNormalized,
    /// Another spelling of a unit was folded into its canonical name.
    AliasFolded,
    /// An indicator names no responsible unit.
    MissingUnits,
    /// An indicator repeats another indicator's text.
    DuplicateText,
    /// Two siblings carry the same code.
    DuplicateCode,
    /// Item numbers jump or go back.
    NumberingGap,
    /// A heading has no indicator under it.
    EmptyHeading,
    /// Text that could not be attached to any heading or indicator (kept in the message).
    UnattachedText,
    /// An indicator appears before any heading.
    IndicatorWithoutHeading,
    /// A hand-checked correction from the errata file was applied.
    ErratumApplied,
    /// Closing words after the last unit (`按职责分工分别负责`, `等`) were taken off its name.
    UnitQualifierRemoved,
    /// A sentence or the last item stops mid-way (page cut off, text lost).
    Truncated,
    /// A line that is not an indicator (addressee, 基本要求, 附件 caption, signature) was skipped.
    NotAnIndicator,
    /// A heading's weight (`占总分值的15%`) was read off its title.
    WeightRead,
    /// The document was read through an external tool or converter (pdftotext, LibreOffice).
    Converted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub kind: DiagnosticKind,
    /// Code of the indicator (or heading) concerned, as printed, e.g. `35`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// Source line (text) or row (spreadsheet), 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(severity: Severity, kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Self {
            severity,
            kind,
            indicator: None,
            line: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, line: u32) -> Self {
        self.line = Some(line);
        self
    }

    pub fn on(mut self, code: impl Into<String>) -> Self {
        self.indicator = Some(code.into());
        self
    }
}
