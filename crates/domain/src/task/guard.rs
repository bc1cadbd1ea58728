//! The guards of 报送 and 通过: what a task must hold before it moves on, and what the
//! person acting must state to move it anyway. Pure: the storage layer gathers the
//! [`GuardFacts`] inside the transition's transaction.

use serde::{Deserialize, Serialize};

use super::TaskActionKind;
use crate::measure::Compliance;

/// A rule of the task that is 未达标 or 未填报, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRule {
    /// The rule as the task page shows it, e.g. `行政复议决定书网上公开率 ≥ 100%`.
    pub text: String,
    pub verdict: Compliance,
}

impl OpenRule {
    /// `行政复议决定书网上公开率 ≥ 100%（未达标）`
    pub fn label(&self) -> String {
        format!("{}（{}）", self.text, self.verdict.label())
    }
}

/// What the task holds, as the guards see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardFacts {
    pub progress_reports: usize,
    /// Evidence items not deleted.
    pub evidence: usize,
    /// Its rules judged 未达标 or 未填报.
    pub open_rules: Vec<OpenRule>,
}

impl GuardFacts {
    /// The rules that are open, from judged verdicts: 未达标 and 未填报 count, 达标 and
    /// 无法判定 (which waits for the calendar, not for the unit) do not.
    pub fn open_rules_of(judged: impl IntoIterator<Item = (String, Compliance)>) -> Vec<OpenRule> {
        judged
            .into_iter()
            .filter(|(_, v)| matches!(v, Compliance::NotMet | Compliance::NotReported))
            .map(|(text, verdict)| OpenRule { text, verdict })
            .collect()
    }
}

/// What the person acting has stated to get past a guard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assurance {
    /// On 报送 without evidence: why none is needed (无需材料的说明). On 通过 with open rules:
    /// why the task is approved anyway. Kept with the step, shown to the office.
    #[serde(default)]
    pub note: String,
    /// On 报送 with open rules: the unit has seen them and submits anyway.
    #[serde(default)]
    pub confirmed: bool,
}

/// Why a guard stopped the step. `Display` is the Chinese message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardRefusal {
    #[error("报送前请先填写工作进展（工作进展、存在问题、下步计划），再报送")]
    NoProgressReport,
    #[error("报送前请上传佐证材料；确实无需材料的，请在“无需材料的说明”中写明原因")]
    NoEvidence,
    #[error(
        "以下要求尚未达标或未填报：{}。确认仍要报送的，请勾选“已知晓，仍要报送”",
        list(rules)
    )]
    SubmitNotConfirmed { rules: Vec<String> },
    #[error(
        "以下要求尚未达标或未填报：{}。仍要通过的，请填写通过理由（将记入办理记录）",
        list(rules)
    )]
    ApproveWithoutReason { rules: Vec<String> },
}

fn list(rules: &[String]) -> String {
    rules.join("；")
}

/// Checks the guards of `kind` (only 报送 and 通过 have any) and returns the note to
/// keep with the step: the trimmed [`Assurance::note`] when it was needed or given, else
/// `None`.
///
/// 报送 needs at least one progress report; evidence, or a note saying why none is
/// needed; and, with open rules, `confirmed`. 通过 with open rules needs a note.
pub fn check_guards(
    kind: TaskActionKind,
    facts: &GuardFacts,
    assurance: &Assurance,
) -> Result<Option<String>, GuardRefusal> {
    let note = assurance.note.trim();
    let note = (!note.is_empty()).then(|| note.to_string());
    let rules = || facts.open_rules.iter().map(OpenRule::label).collect();
    match kind {
        TaskActionKind::Submit => {
            if facts.progress_reports == 0 {
                return Err(GuardRefusal::NoProgressReport);
            }
            if facts.evidence == 0 && note.is_none() {
                return Err(GuardRefusal::NoEvidence);
            }
            if !facts.open_rules.is_empty() && !assurance.confirmed {
                return Err(GuardRefusal::SubmitNotConfirmed { rules: rules() });
            }
            Ok(note)
        }
        TaskActionKind::Approve => {
            if !facts.open_rules.is_empty() && note.is_none() {
                return Err(GuardRefusal::ApproveWithoutReason { rules: rules() });
            }
            Ok(note)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskActionKind as K;

    fn facts(reports: usize, evidence: usize, open: &[(&str, Compliance)]) -> GuardFacts {
        GuardFacts {
            progress_reports: reports,
            evidence,
            open_rules: open
                .iter()
                .map(|(t, v)| OpenRule {
                    text: t.to_string(),
                    verdict: *v,
                })
                .collect(),
        }
    }

    fn said(note: &str, confirmed: bool) -> Assurance {
        Assurance {
            note: note.into(),
            confirmed,
        }
    }

    #[test]
    fn an_empty_submission_is_refused_with_what_is_missing() {
        let none = Assurance::default();
        assert_eq!(
            check_guards(K::Submit, &facts(0, 3, &[]), &none),
            Err(GuardRefusal::NoProgressReport)
        );
        assert_eq!(
            check_guards(K::Submit, &facts(1, 0, &[]), &none),
            Err(GuardRefusal::NoEvidence)
        );
        // A blank note is no note.
        assert_eq!(
            check_guards(K::Submit, &facts(1, 0, &[]), &said(" \n ", false)),
            Err(GuardRefusal::NoEvidence)
        );
        assert_eq!(
            GuardRefusal::NoEvidence.to_string(),
            "报送前请上传佐证材料；确实无需材料的，请在“无需材料的说明”中写明原因"
        );
    }

    #[test]
    fn a_stated_reason_stands_in_for_evidence_and_is_kept() {
        assert_eq!(
            check_guards(
                K::Submit,
                &facts(1, 0, &[]),
                &said(" 本项由上级统一组织 ", false)
            ),
            Ok(Some("本项由上级统一组织".into()))
        );
        assert_eq!(
            check_guards(K::Submit, &facts(2, 1, &[]), &Assurance::default()),
            Ok(None)
        );
    }

    #[test]
    fn open_rules_need_confirmation_on_submit_and_a_reason_on_approve() {
        let open = facts(
            1,
            1,
            &[
                ("网上可办率 ≥ 90%", Compliance::NotMet),
                ("培训 ≥ 2次", Compliance::NotReported),
            ],
        );
        let refused = check_guards(K::Submit, &open, &Assurance::default()).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "以下要求尚未达标或未填报：网上可办率 ≥ 90%（未达标）；培训 ≥ 2次（未填报）。确认仍要报送的，请勾选“已知晓，仍要报送”"
        );
        assert_eq!(check_guards(K::Submit, &open, &said("", true)), Ok(None));
        assert!(matches!(
            check_guards(K::Approve, &open, &said("", true)),
            Err(GuardRefusal::ApproveWithoutReason { rules }) if rules.len() == 2
        ));
        assert_eq!(
            check_guards(K::Approve, &open, &said("上级已同意延期", false)),
            Ok(Some("上级已同意延期".into()))
        );
        // Without open rules 通过 needs nothing, and its note is optional.
        assert_eq!(
            check_guards(K::Approve, &facts(0, 0, &[]), &Assurance::default()),
            Ok(None)
        );
    }

    #[test]
    fn only_not_met_and_not_reported_rules_are_open() {
        let open = GuardFacts::open_rules_of([
            ("a".to_string(), Compliance::Met),
            ("b".to_string(), Compliance::NotMet),
            ("c".to_string(), Compliance::Undecidable),
            ("d".to_string(), Compliance::NotReported),
        ]);
        let texts: Vec<_> = open.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["b", "d"]);
    }

    #[test]
    fn other_steps_have_no_guard() {
        for kind in [K::Sign, K::Withdraw, K::Return, K::Close, K::Reopen] {
            assert_eq!(
                check_guards(kind, &GuardFacts::default(), &Assurance::default()),
                Ok(None)
            );
        }
    }
}
