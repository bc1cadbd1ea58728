//! Each user's to-do lists (待办) in the active round, as of the date the caller passes.
//! "Due soon" means what the traffic light calls yellow: due today or within the next
//! `warn_workdays` working days (on the working-day calendar in force; calendar days where
//! that year's arrangement is missing).

use chrono::{Days, NaiveDate};
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::framework::Role;
use fazhi_domain::task::TaskStatus;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::entity::task;
use crate::error::StoreResult;
use crate::rounds::active_round_id;
use crate::tasks::{TaskSummary, summaries};
use crate::types::{UserRole, enum_to_str};
use crate::users::User;

/// A user's to-do lists in the active round (empty when no round is active).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    /// Liaison: the unit's tasks 待签收.
    pub to_sign: Vec<TaskSummary>,
    /// Liaison: the unit's tasks sent back (退回).
    pub returned: Vec<TaskSummary>,
    /// Liaison: the unit's tasks not yet handed in, due today or within the next
    /// `warn_workdays` working days (yellow light).
    pub due_soon: Vec<TaskSummary>,
    /// Liaison: the unit's tasks not yet handed in and past their due date.
    pub overdue: Vec<TaskSummary>,
    /// Admin: every task 已报送. Liaison of a 牵头单位: the 配合单位's tasks 已报送 on
    /// the indicators it leads.
    pub to_review: Vec<TaskSummary>,
}

/// The sizes of an [`Inbox`]'s lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxCounts {
    pub to_sign: usize,
    pub returned: usize,
    pub due_soon: usize,
    pub overdue: usize,
    pub to_review: usize,
}

impl Inbox {
    pub fn counts(&self) -> InboxCounts {
        InboxCounts {
            to_sign: self.to_sign.len(),
            returned: self.returned.len(),
            due_soon: self.due_soon.len(),
            overdue: self.overdue.len(),
            to_review: self.to_review.len(),
        }
    }

    /// The number of distinct tasks to act on: the badge. A task can be in two lists
    /// (待签收 and 即将到期, 退回 and 已逾期) and counts once.
    pub fn total(&self) -> usize {
        [
            &self.to_sign,
            &self.returned,
            &self.due_soon,
            &self.overdue,
            &self.to_review,
        ]
        .into_iter()
        .flatten()
        .map(|t| t.id)
        .collect::<std::collections::HashSet<_>>()
        .len()
    }
}

impl Store {
    /// The user's to-do lists in the active round as of `today` (the caller's date in the
    /// county's zone); "due soon" is within `warn_workdays` working days of `calendar` (the
    /// caller's, usually cached: see [`Store::calendar`]).
    pub async fn inbox_on(
        &self,
        user: &User,
        today: NaiveDate,
        calendar: &HolidayCalendar,
        warn_workdays: u32,
    ) -> StoreResult<Inbox> {
        // Due dates before this day are "due soon": the light is yellow up to and including
        // the warn_workdays-th working day after today and the rest days that follow it.
        let soon_before = match calendar.add_workdays(today, warn_workdays.saturating_add(1)) {
            Ok(day) => day,
            Err(_) => today
                .checked_add_days(Days::new(u64::from(warn_workdays) + 1))
                .unwrap_or(NaiveDate::MAX),
        };
        let conn = self.connection();
        let Some(round) = active_round_id(conn).await? else {
            return Ok(Inbox::default());
        };
        if user.disabled {
            return Ok(Inbox::default());
        }
        let in_round = || Condition::all().add(task::Column::RoundId.eq(round));
        let status_is = |s: TaskStatus| task::Column::Status.eq(s.as_str());
        let mut inbox = Inbox::default();
        match (user.role, user.unit_id) {
            (UserRole::Admin, _) => {
                inbox.to_review =
                    summaries(conn, in_round().add(status_is(TaskStatus::Submitted))).await?;
            }
            (UserRole::Liaison, Some(unit)) => {
                let own = || in_round().add(task::Column::UnitId.eq(unit.0));
                let awaiting = || {
                    task::Column::Status.is_in(
                        TaskStatus::ALL
                            .into_iter()
                            .filter(|s| s.awaits_unit())
                            .map(TaskStatus::as_str),
                    )
                };
                inbox.to_sign = summaries(conn, own().add(status_is(TaskStatus::Pending))).await?;
                inbox.returned =
                    summaries(conn, own().add(status_is(TaskStatus::Returned))).await?;
                inbox.due_soon = summaries(
                    conn,
                    own()
                        .add(awaiting())
                        .add(task::Column::DueOn.gte(today))
                        .add(task::Column::DueOn.lt(soon_before)),
                )
                .await?;
                inbox.overdue = summaries(
                    conn,
                    own().add(awaiting()).add(task::Column::DueOn.lt(today)),
                )
                .await?;
                let led = task::Entity::find()
                    .select_only()
                    .column(task::Column::NodeId)
                    .filter(task::Column::RoundId.eq(round))
                    .filter(task::Column::UnitId.eq(unit.0))
                    .filter(task::Column::Role.eq(enum_to_str(&Role::Lead)))
                    .filter(task::Column::ViaGroupUnitId.is_null())
                    .into_query();
                inbox.to_review = summaries(
                    conn,
                    in_round()
                        .add(status_is(TaskStatus::Submitted))
                        .add(task::Column::Role.eq(enum_to_str(&Role::Co)))
                        .add(task::Column::UnitId.ne(unit.0))
                        .add(task::Column::NodeId.in_subquery(led)),
                )
                .await?;
            }
            _ => {}
        }
        Ok(inbox)
    }
}
