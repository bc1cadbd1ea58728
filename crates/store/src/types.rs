//! Plain types of the storage API: ids, the acting user, user roles, and the string forms
//! of enums as stored in the database.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// Row id of a framework version (`framework.id`).
    FrameworkId
);
id_type!(
    /// Row id of a heading or indicator (`framework_node.id`). Each framework version has
    /// its own nodes.
    NodeId
);
id_type!(
    /// Row id of a responsible unit (`unit.id`); stable across framework versions.
    UnitId
);
id_type!(
    /// Row id of a user account (`app_user.id`).
    UserId
);
id_type!(
    /// Row id of an API token (`api_token.id`).
    TokenId
);
id_type!(
    /// Row id of an audit entry (`audit_log.id`); increases in chain order.
    AuditId
);
id_type!(
    /// Row id of a campaign round (`campaign_round.id`).
    RoundId
);
id_type!(
    /// Row id of a task (`task.id`): one unit's share of one indicator in one round.
    TaskId
);
id_type!(
    /// Row id of a task lifecycle event (`task_event.id`).
    EventId
);
id_type!(
    /// Row id of a progress report (`progress_report.id`).
    ReportId
);
id_type!(
    /// Row id of an evidence item (`evidence.id`); its versions share it.
    EvidenceId
);
id_type!(
    /// Row id of an evidence review (`evidence_review.id`).
    ReviewId
);
id_type!(
    /// Row id of a background job (`job.id`).
    JobId
);

/// Who makes a change; written into the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `None` for the system itself (start-up seeding, command-line import).
    pub user_id: Option<UserId>,
    /// Shown in the log, kept even if the account is renamed later.
    pub name: String,
}

impl Actor {
    /// A logged-in user.
    pub fn user(id: UserId, name: impl Into<String>) -> Self {
        Actor {
            user_id: Some(id),
            name: name.into(),
        }
    }

    /// The platform itself (no account): `系统`.
    pub fn system() -> Self {
        Actor {
            user_id: None,
            name: "系统".into(),
        }
    }
}

/// What an account may do. Stored as `admin` / `liaison` / `observer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    /// 依法治县办 staff: manages the framework, units, accounts; reviews.
    Admin,
    /// 单位联络员: reports for one unit; must belong to a unit.
    Liaison,
    /// Read-only (leaders, inspectors).
    Observer,
}

impl UserRole {
    pub fn label(self) -> &'static str {
        match self {
            UserRole::Admin => "管理员",
            UserRole::Liaison => "单位联络员",
            UserRole::Observer => "查看人员",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Liaison => "liaison",
            UserRole::Observer => "observer",
        }
    }
}

/// The serde string of a unit-like enum (`UnitKind::Group` → `group`), which is how enums
/// are stored.
pub(crate) fn enum_to_str<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        // Only called with field-less enums, which serialise as strings.
        other => format!("{other:?}"),
    }
}

/// Reads back a stored enum string.
pub(crate) fn enum_from_str<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| StoreError::Corrupt(format!("未知的取值“{s}”")))
}

/// Current time in UTC, cut to whole microseconds: PostgreSQL keeps microseconds, so a
/// value read back equals the value written (the audit hash depends on it).
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
