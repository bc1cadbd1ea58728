//! The work itself: a task (任务) is one responsible unit's share of one indicator in one
//! campaign round. This module holds its lifecycle — which action moves a task from which
//! status to which, and who may take it — and the score type. Pure: the storage layer
//! calls [`apply`] and records the result.
//!
//! | action | from | to | who |
//! |---|---|---|---|
//! | 签收 `Sign` | 待签收 | 办理中 | 本单位, 依法治县办 |
//! | 报送 `Submit` | 办理中, 退回 | 已报送 | 本单位 |
//! | 撤回 `Withdraw` | 已报送 | 办理中 | 本单位 |
//! | 退回 `Return` (理由必填) | 已报送 | 退回 | 依法治县办, 牵头单位 |
//! | 通过 `Approve` | 已报送 | 已通过 | 依法治县办, 牵头单位 |
//! | 销号 `Close` | 已通过 | 销号 | 依法治县办 |
//! | 重新办理 `Reopen` | 已通过, 销号 | 办理中 | 依法治县办 |
//!
//! A 牵头单位 reviews the tasks of its 配合单位 on the same indicator; its own task is
//! reviewed by the office. Who counts as which [`ActorRole`] for a given task is decided
//! by the caller (the storage layer has a helper); a unit acting on its own task is
//! always [`ActorRole::ResponsibleUnit`], so it can never review itself.
//!
//! 报送 and 通过 are guarded as well by what the task holds ([`check_guards`]).

use std::fmt;

use serde::{Deserialize, Serialize};

pub mod guard;

pub use guard::{Assurance, GuardFacts, GuardRefusal, OpenRule, check_guards};

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// 待签收: created with the round, not yet acknowledged by the unit.
    Pending,
    /// 办理中: the unit is working on it.
    InProgress,
    /// 已报送: handed in, awaiting review.
    Submitted,
    /// 退回: sent back for more work, with a reason.
    Returned,
    /// 已通过: accepted by the reviewer.
    Approved,
    /// 销号: closed out by the office.
    Closed,
}

impl TaskStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Pending,
        TaskStatus::InProgress,
        TaskStatus::Submitted,
        TaskStatus::Returned,
        TaskStatus::Approved,
        TaskStatus::Closed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Pending => "待签收",
            TaskStatus::InProgress => "办理中",
            TaskStatus::Submitted => "已报送",
            TaskStatus::Returned => "退回",
            TaskStatus::Approved => "已通过",
            TaskStatus::Closed => "销号",
        }
    }

    /// The stored (serde) form: `pending`, `in_progress`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Submitted => "submitted",
            TaskStatus::Returned => "returned",
            TaskStatus::Approved => "approved",
            TaskStatus::Closed => "closed",
        }
    }

    /// Whether the next step is the unit's (待签收, 办理中, 退回): the statuses in which a
    /// due date can be missed.
    pub fn awaits_unit(self) -> bool {
        matches!(
            self,
            TaskStatus::Pending | TaskStatus::InProgress | TaskStatus::Returned
        )
    }

    /// Whether the unit may change its material (progress reports, evidence): 办理中 or 退回.
    pub fn is_editable(self) -> bool {
        matches!(self, TaskStatus::InProgress | TaskStatus::Returned)
    }

    /// Whether the work is accepted (已通过 or 销号).
    pub fn is_done(self) -> bool {
        matches!(self, TaskStatus::Approved | TaskStatus::Closed)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Whether a 报送 on day `on` (the county's date) is late: after the due date. The one
/// definition of a late submission: the store marks `was_late` with it, the statistics
/// recompute it for an earlier date.
pub fn submitted_late(on: chrono::NaiveDate, due: Option<chrono::NaiveDate>) -> bool {
    due.is_some_and(|d| on > d)
}

/// A step in a task's lifecycle, with what it carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TaskAction {
    /// 签收
    Sign,
    /// 报送
    Submit,
    /// 撤回: the unit takes back its submission before the reviewer has acted on it.
    Withdraw,
    /// 退回, with the reason shown to the unit (required, not blank).
    Return { reason: String },
    /// 通过
    Approve,
    /// 销号
    Close,
    /// 重新办理: an accepted or closed task goes back to 办理中 (office only).
    Reopen,
}

/// The kind of a [`TaskAction`] without its payload, e.g. to list the buttons to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskActionKind {
    Sign,
    Submit,
    Withdraw,
    Return,
    Approve,
    Close,
    Reopen,
}

impl TaskActionKind {
    pub const ALL: [TaskActionKind; 7] = [
        TaskActionKind::Sign,
        TaskActionKind::Submit,
        TaskActionKind::Withdraw,
        TaskActionKind::Return,
        TaskActionKind::Approve,
        TaskActionKind::Close,
        TaskActionKind::Reopen,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TaskActionKind::Sign => "签收",
            TaskActionKind::Submit => "报送",
            TaskActionKind::Withdraw => "撤回",
            TaskActionKind::Return => "退回",
            TaskActionKind::Approve => "通过",
            TaskActionKind::Close => "销号",
            TaskActionKind::Reopen => "重新办理",
        }
    }

    /// The stored (serde) form: `sign`, `submit`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            TaskActionKind::Sign => "sign",
            TaskActionKind::Submit => "submit",
            TaskActionKind::Withdraw => "withdraw",
            TaskActionKind::Return => "return",
            TaskActionKind::Approve => "approve",
            TaskActionKind::Close => "close",
            TaskActionKind::Reopen => "reopen",
        }
    }
}

impl fmt::Display for TaskActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl TaskAction {
    pub fn kind(&self) -> TaskActionKind {
        match self {
            TaskAction::Sign => TaskActionKind::Sign,
            TaskAction::Submit => TaskActionKind::Submit,
            TaskAction::Withdraw => TaskActionKind::Withdraw,
            TaskAction::Return { .. } => TaskActionKind::Return,
            TaskAction::Approve => TaskActionKind::Approve,
            TaskAction::Close => TaskActionKind::Close,
            TaskAction::Reopen => TaskActionKind::Reopen,
        }
    }

    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    /// The reason of a 退回, trimmed.
    pub fn reason(&self) -> Option<&str> {
        match self {
            TaskAction::Return { reason } => Some(reason.trim()),
            _ => None,
        }
    }
}

/// Who acts on a task, relative to that task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorRole {
    /// 依法治县办 (an administrator).
    Office,
    /// The liaison of the task's own unit.
    ResponsibleUnit,
    /// The liaison of the 牵头单位 of the same indicator, acting on a 配合单位's task.
    LeadUnit,
    /// Anyone else: may look, not act.
    Observer,
}

impl ActorRole {
    pub fn label(self) -> &'static str {
        match self {
            ActorRole::Office => "管理员",
            ActorRole::ResponsibleUnit => "本单位",
            ActorRole::LeadUnit => "牵头单位",
            ActorRole::Observer => "查看人员",
        }
    }
}

/// Why [`apply`] refused a move. `Display` is the Chinese message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// This role may not take this action on the task.
    #[error("{}", forbidden_message(*action, *role))]
    Forbidden {
        action: TaskActionKind,
        role: ActorRole,
    },
    /// The action does not apply to a task in this status.
    #[error("{}（当前状态：{}）", wrong_status_message(*action), status.label())]
    WrongStatus {
        action: TaskActionKind,
        status: TaskStatus,
    },
    /// 退回 without a reason.
    #[error("退回时须填写退回理由")]
    MissingReason,
}

fn forbidden_message(action: TaskActionKind, role: ActorRole) -> &'static str {
    use TaskActionKind as A;
    if role == ActorRole::Observer {
        return "查看人员只能查看，不能办理任务";
    }
    match action {
        A::Sign => "只有本单位才能签收",
        A::Submit => "只有本单位才能报送",
        A::Withdraw => "只有本单位才能撤回报送",
        A::Return | A::Approve if role == ActorRole::ResponsibleUnit => {
            "不能审核本单位的任务，须由依法治县办或牵头单位审核"
        }
        A::Return => "只有依法治县办或牵头单位才能退回",
        A::Approve => "只有依法治县办或牵头单位才能审核通过",
        A::Close => "只有依法治县办才能销号",
        A::Reopen => "只有依法治县办才能重新办理",
    }
}

fn wrong_status_message(action: TaskActionKind) -> &'static str {
    match action {
        TaskActionKind::Sign => "只有待签收的任务才能签收",
        TaskActionKind::Submit => "只有办理中或被退回的任务才能报送",
        TaskActionKind::Withdraw => "只有已报送、尚未审核的任务才能撤回",
        TaskActionKind::Return => "只有已报送的任务才能退回",
        TaskActionKind::Approve => "只有已报送的任务才能审核通过",
        TaskActionKind::Close => "只有已通过的任务才能销号",
        TaskActionKind::Reopen => "只有已通过或已销号的任务才能重新办理",
    }
}

/// The status after `action` taken by `role` on a task in `status`, or why not.
///
/// Checks, in order: the role may take the action at all, the task is in a status the
/// action applies to, a 退回 has a non-blank reason.
pub fn apply(
    status: TaskStatus,
    action: &TaskAction,
    role: ActorRole,
) -> Result<TaskStatus, TransitionError> {
    use ActorRole as R;
    use TaskStatus as S;
    let kind = action.kind();
    let allowed = match kind {
        TaskActionKind::Sign => matches!(role, R::ResponsibleUnit | R::Office),
        TaskActionKind::Submit | TaskActionKind::Withdraw => role == R::ResponsibleUnit,
        TaskActionKind::Return | TaskActionKind::Approve => matches!(role, R::Office | R::LeadUnit),
        TaskActionKind::Close | TaskActionKind::Reopen => role == R::Office,
    };
    if !allowed {
        return Err(TransitionError::Forbidden { action: kind, role });
    }
    let to = match (kind, status) {
        (TaskActionKind::Sign, S::Pending) => S::InProgress,
        (TaskActionKind::Submit, S::InProgress | S::Returned) => S::Submitted,
        (TaskActionKind::Withdraw, S::Submitted) => S::InProgress,
        (TaskActionKind::Return, S::Submitted) => S::Returned,
        (TaskActionKind::Approve, S::Submitted) => S::Approved,
        (TaskActionKind::Close, S::Approved) => S::Closed,
        (TaskActionKind::Reopen, S::Approved | S::Closed) => S::InProgress,
        _ => {
            return Err(TransitionError::WrongStatus {
                action: kind,
                status,
            });
        }
    };
    if action.reason().is_some_and(str::is_empty) {
        return Err(TransitionError::MissingReason);
    }
    Ok(to)
}

/// The actions `role` can take on a task in `status` (a 退回 assumed to come with a
/// reason), in [`TaskActionKind::ALL`] order.
pub fn allowed_actions(status: TaskStatus, role: ActorRole) -> Vec<TaskActionKind> {
    TaskActionKind::ALL
        .into_iter()
        .filter(|kind| {
            let action = match kind {
                TaskActionKind::Sign => TaskAction::Sign,
                TaskActionKind::Submit => TaskAction::Submit,
                TaskActionKind::Withdraw => TaskAction::Withdraw,
                TaskActionKind::Return => TaskAction::Return {
                    reason: "理由".into(),
                },
                TaskActionKind::Approve => TaskAction::Approve,
                TaskActionKind::Close => TaskAction::Close,
                TaskActionKind::Reopen => TaskAction::Reopen,
            };
            apply(status, &action, role).is_ok()
        })
        .collect()
}

/// A score from 0 to 100 with at most one decimal (`85`, `92.5`), held exactly as tenths.
/// Serialises as a JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Score(u16);

/// Why a value is not a [`Score`]. `Display` is the Chinese message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("分数应为数字")]
    NotANumber,
    #[error("分数应在0到100之间")]
    OutOfRange,
    #[error("分数最多保留一位小数")]
    TooPrecise,
}

impl Score {
    pub const MIN: Score = Score(0);
    pub const MAX: Score = Score(1000);

    /// `value` must be finite, within 0–100, with at most one decimal.
    pub fn new(value: f64) -> Result<Score, ScoreError> {
        if !value.is_finite() {
            return Err(ScoreError::NotANumber);
        }
        if !(0.0..=100.0).contains(&value) {
            return Err(ScoreError::OutOfRange);
        }
        let tenths = value * 10.0;
        let rounded = tenths.round();
        if (tenths - rounded).abs() > 1e-6 {
            return Err(ScoreError::TooPrecise);
        }
        // In range: 0 ≤ rounded ≤ 1000.
        Ok(Score(rounded as u16))
    }

    /// From tenths of a point: `925` is 92.5.
    pub fn from_tenths(tenths: u16) -> Result<Score, ScoreError> {
        if tenths > Score::MAX.0 {
            return Err(ScoreError::OutOfRange);
        }
        Ok(Score(tenths))
    }

    pub fn tenths(self) -> u16 {
        self.0
    }

    pub fn value(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Score {
    /// `92.5`, or `90` for a whole number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(10) {
            write!(f, "{}", self.0 / 10)
        } else {
            write!(f, "{}.{}", self.0 / 10, self.0 % 10)
        }
    }
}

impl std::str::FromStr for Score {
    type Err = ScoreError;

    /// A form value such as `92.5` (surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        // Plain decimal notation only: no sign, exponent, `inf` or `NaN`.
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(ScoreError::NotANumber);
        }
        let value: f64 = s.parse().map_err(|_| ScoreError::NotANumber)?;
        Score::new(value)
    }
}

impl Serialize for Score {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.value())
    }
}

impl<'de> Deserialize<'de> for Score {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Score::new(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActorRole as R;
    use TaskActionKind as K;
    use TaskStatus as S;
    use proptest::prelude::*;

    /// The lifecycle table, written out independently of `apply`.
    const TABLE: &[(S, K, R, S)] = &[
        (S::Pending, K::Sign, R::ResponsibleUnit, S::InProgress),
        (S::Pending, K::Sign, R::Office, S::InProgress),
        (S::InProgress, K::Submit, R::ResponsibleUnit, S::Submitted),
        (S::Returned, K::Submit, R::ResponsibleUnit, S::Submitted),
        (S::Submitted, K::Withdraw, R::ResponsibleUnit, S::InProgress),
        (S::Submitted, K::Return, R::Office, S::Returned),
        (S::Submitted, K::Return, R::LeadUnit, S::Returned),
        (S::Submitted, K::Approve, R::Office, S::Approved),
        (S::Submitted, K::Approve, R::LeadUnit, S::Approved),
        (S::Approved, K::Close, R::Office, S::Closed),
        (S::Approved, K::Reopen, R::Office, S::InProgress),
        (S::Closed, K::Reopen, R::Office, S::InProgress),
    ];

    const ROLES: [R; 4] = [R::Office, R::ResponsibleUnit, R::LeadUnit, R::Observer];

    fn action(kind: K, reason: &str) -> TaskAction {
        match kind {
            K::Sign => TaskAction::Sign,
            K::Submit => TaskAction::Submit,
            K::Withdraw => TaskAction::Withdraw,
            K::Return => TaskAction::Return {
                reason: reason.into(),
            },
            K::Approve => TaskAction::Approve,
            K::Close => TaskAction::Close,
            K::Reopen => TaskAction::Reopen,
        }
    }

    fn in_table(from: S, kind: K, role: R) -> Option<S> {
        TABLE
            .iter()
            .find(|(f, k, r, _)| *f == from && *k == kind && *r == role)
            .map(|(_, _, _, to)| *to)
    }

    #[test]
    fn every_combination_matches_the_table() {
        for from in S::ALL {
            for kind in K::ALL {
                for role in ROLES {
                    let got = apply(from, &action(kind, "材料不全"), role).ok();
                    assert_eq!(
                        got,
                        in_table(from, kind, role),
                        "{from:?} {kind:?} {role:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn full_lifecycle() {
        let mut s = S::Pending;
        for (act, role) in [
            (TaskAction::Sign, R::ResponsibleUnit),
            (TaskAction::Submit, R::ResponsibleUnit),
            (
                TaskAction::Return {
                    reason: "缺少文件".into(),
                },
                R::LeadUnit,
            ),
            (TaskAction::Submit, R::ResponsibleUnit),
            (TaskAction::Approve, R::Office),
            (TaskAction::Close, R::Office),
            (TaskAction::Reopen, R::Office),
        ] {
            s = apply(s, &act, role).unwrap();
        }
        assert_eq!(s, S::InProgress);
    }

    #[test]
    fn refusals_explain_themselves() {
        let msg = |s, a: TaskAction, r| apply(s, &a, r).unwrap_err().to_string();
        assert_eq!(
            msg(S::InProgress, action(K::Return, "x"), R::Office),
            "只有已报送的任务才能退回（当前状态：办理中）"
        );
        assert_eq!(
            msg(S::Pending, TaskAction::Sign, R::LeadUnit),
            "只有本单位才能签收"
        );
        assert_eq!(
            msg(S::InProgress, TaskAction::Submit, R::Office),
            "只有本单位才能报送"
        );
        assert_eq!(
            msg(S::Submitted, TaskAction::Approve, R::ResponsibleUnit),
            "不能审核本单位的任务，须由依法治县办或牵头单位审核"
        );
        assert_eq!(
            msg(S::Approved, TaskAction::Close, R::LeadUnit),
            "只有依法治县办才能销号"
        );
        assert_eq!(
            msg(S::Closed, TaskAction::Reopen, R::ResponsibleUnit),
            "只有依法治县办才能重新办理"
        );
        assert_eq!(
            msg(S::Pending, TaskAction::Sign, R::Observer),
            "查看人员只能查看，不能办理任务"
        );
        assert_eq!(
            apply(S::Submitted, &action(K::Return, "  \n"), R::Office),
            Err(TransitionError::MissingReason)
        );
        assert_eq!(
            msg(S::Submitted, action(K::Return, ""), R::Office),
            "退回时须填写退回理由"
        );
    }

    #[test]
    fn allowed_actions_per_role() {
        assert_eq!(allowed_actions(S::Pending, R::Office), [K::Sign]);
        assert_eq!(
            allowed_actions(S::Submitted, R::LeadUnit),
            [K::Return, K::Approve]
        );
        assert_eq!(
            allowed_actions(S::Submitted, R::ResponsibleUnit),
            [K::Withdraw]
        );
        assert!(allowed_actions(S::Approved, R::ResponsibleUnit).is_empty());
        assert_eq!(
            allowed_actions(S::Approved, R::Office),
            [K::Close, K::Reopen]
        );
        for s in S::ALL {
            assert!(allowed_actions(s, R::Observer).is_empty());
        }
    }

    #[test]
    fn serde_forms() {
        assert_eq!(serde_json::to_value(S::InProgress).unwrap(), "in_progress");
        for s in S::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in K::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        let ret: TaskAction =
            serde_json::from_str(r#"{"action":"return","reason":"补充文号"}"#).unwrap();
        assert_eq!(ret.reason(), Some("补充文号"));
        assert_eq!(ret.kind(), K::Return);
        let sign: TaskAction = serde_json::from_str(r#"{"action":"sign"}"#).unwrap();
        assert_eq!(sign, TaskAction::Sign);
        assert_eq!(serde_json::to_value(R::LeadUnit).unwrap(), "lead_unit");
    }

    #[test]
    fn scores() {
        assert_eq!(Score::new(92.5).unwrap().tenths(), 925);
        assert_eq!(Score::new(100.0).unwrap(), Score::MAX);
        assert_eq!(Score::new(0.0).unwrap(), Score::MIN);
        assert_eq!(Score::new(33.3).unwrap().to_string(), "33.3");
        assert_eq!(Score::new(90.0).unwrap().to_string(), "90");
        assert_eq!(Score::new(100.1), Err(ScoreError::OutOfRange));
        assert_eq!(Score::new(-0.5), Err(ScoreError::OutOfRange));
        assert_eq!(Score::new(85.25), Err(ScoreError::TooPrecise));
        assert_eq!(Score::new(f64::NAN), Err(ScoreError::NotANumber));
        assert_eq!(Score::new(f64::INFINITY), Err(ScoreError::NotANumber));
        assert_eq!(" 88.5 ".parse::<Score>().unwrap().tenths(), 885);
        assert_eq!("1e2".parse::<Score>(), Err(ScoreError::NotANumber));
        assert_eq!("-1".parse::<Score>(), Err(ScoreError::NotANumber));
        assert_eq!("".parse::<Score>(), Err(ScoreError::NotANumber));
        assert_eq!("101".parse::<Score>(), Err(ScoreError::OutOfRange));
        assert_eq!(ScoreError::OutOfRange.to_string(), "分数应在0到100之间");
        assert_eq!(Score::from_tenths(1001), Err(ScoreError::OutOfRange));
        assert_eq!(
            serde_json::to_string(&Score::new(92.5).unwrap()).unwrap(),
            "92.5"
        );
        let back: Score = serde_json::from_str("92.5").unwrap();
        assert_eq!(back.tenths(), 925);
        assert!(serde_json::from_str::<Score>("120").is_err());
    }

    fn any_action() -> impl Strategy<Value = TaskAction> {
        prop_oneof![
            Just(TaskAction::Sign),
            Just(TaskAction::Submit),
            Just(TaskAction::Withdraw),
            "[ a退回理由]{0,4}".prop_map(|reason| TaskAction::Return { reason }),
            Just(TaskAction::Approve),
            Just(TaskAction::Close),
            Just(TaskAction::Reopen),
        ]
    }

    fn any_role() -> impl Strategy<Value = R> {
        prop::sample::select(ROLES.to_vec())
    }

    proptest! {
        /// No sequence of actions panics; every accepted move is in the table, every
        /// refused one leaves the status as it was and is not in the table (unless only
        /// the reason was missing).
        #[test]
        fn sequences_follow_the_table(steps in prop::collection::vec((any_action(), any_role()), 0..40)) {
            let mut status = S::Pending;
            for (act, role) in steps {
                let listed = in_table(status, act.kind(), role);
                match apply(status, &act, role) {
                    Ok(next) => {
                        prop_assert_eq!(Some(next), listed);
                        prop_assert!(act.reason().is_none_or(|r| !r.is_empty()));
                        status = next;
                    }
                    Err(TransitionError::MissingReason) => {
                        prop_assert!(listed.is_some());
                        prop_assert!(act.reason().is_some_and(str::is_empty));
                    }
                    Err(err) => {
                        prop_assert_eq!(listed, None);
                        prop_assert!(!err.to_string().is_empty());
                    }
                }
            }
        }
    }
}

crate::string_enum!(@from_str TaskStatus, "任务状态");
crate::string_enum!(@from_str TaskActionKind, "办理操作");
crate::string_enum!(ActorRole, "办理身份", {
    Office => "office",
    ResponsibleUnit => "responsible_unit",
    LeadUnit => "lead_unit",
    Observer => "observer",
});
