//! Helpers for the tests of the crates above the store (feature `test-support`, enabled
//! only by dev-dependencies).

use chrono::NaiveDate;
use fazhi_domain::task::{ActorRole, Assurance, TaskAction, TaskActionKind, TaskStatus};

use crate::{Actor, NewReport, Store, StoreResult, TaskId};

/// 报送 and 通过 taken past their guards, for tests about something else: a progress
/// report is added when the task has none, and what the guards ask for is stated (why
/// no evidence is needed, open rules confirmed, approved anyway). The guards themselves
/// are tested with [`Store::transition`] and [`Store::transition_with`].
#[allow(async_fn_in_trait)]
pub trait PastGuards {
    async fn transition_ready(
        &self,
        id: TaskId,
        action: &TaskAction,
        role: ActorRole,
        actor: &Actor,
        today: NaiveDate,
    ) -> StoreResult<TaskStatus>;
}

impl PastGuards for Store {
    async fn transition_ready(
        &self,
        id: TaskId,
        action: &TaskAction,
        role: ActorRole,
        actor: &Actor,
        today: NaiveDate,
    ) -> StoreResult<TaskStatus> {
        let facts = self.guard_facts(id).await?;
        if action.kind() == TaskActionKind::Submit
            && facts.progress_reports == 0
            && self.task(id).await?.summary.status.is_editable()
        {
            let report = NewReport {
                progress: "（测试）按计划推进".into(),
                problems: String::new(),
                next_steps: String::new(),
                percent: 50,
            };
            self.add_report(id, report, actor).await?;
        }
        let needs_note = match action.kind() {
            TaskActionKind::Submit => facts.evidence == 0,
            TaskActionKind::Approve => !facts.open_rules.is_empty(),
            _ => false,
        };
        let assurance = Assurance {
            note: if needs_note {
                "（测试）说明".into()
            } else {
                String::new()
            },
            confirmed: true,
        };
        self.transition_with(id, action, &assurance, role, actor, today)
            .await
    }
}
