//! Batch actions from the task list: a liaison signs (批量签收) its tasks; the office signs,
//! approves or returns the selected submitted tasks of a unit, sets their due date or
//! issues one 督办单 to each. Every selected task passes the one access check
//! ([`task_role`]) before anything changes: one id the caller may not see refuses the
//! whole batch. Each task then takes its own step with its own guards and audit entry;
//! those that cannot (a task already signed, a rule to explain) are listed by number
//! and unit with the reason, and the others go through.

use std::collections::BTreeSet;

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_domain::task::{ActorRole, Assurance, TaskAction};
use fazhi_store::{TaskId, UserRole};

use crate::AppState;
use crate::access::task_role;
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;
use crate::views::{flash, flash_with_warning, opt_date};

/// Most tasks one batch may name (a county round holds ~110; a unit far fewer).
const MAX_BATCH: usize = 500;

/// At most this many refusals are spelled out in the warning; the rest are counted.
const SHOWN_REFUSALS: usize = 8;

/// What the batch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Sign,
    Approve,
    Return,
    Due,
    Notice,
}

impl Op {
    fn parse(raw: &str) -> WebResult<Op> {
        Ok(match raw {
            "sign" => Op::Sign,
            "approve" => Op::Approve,
            "return" => Op::Return,
            "due" => Op::Due,
            "notice" => Op::Notice,
            other => return Err(WebError::BadRequest(format!("不认识的批量操作“{other}”"))),
        })
    }

    fn label(self) -> &'static str {
        match self {
            Op::Sign => "签收",
            Op::Approve => "通过",
            Op::Return => "退回",
            Op::Due => "设置截止日期",
            Op::Notice => "发出督办单",
        }
    }

    /// Only the office changes due dates and issues 督办单; a liaison may only sign.
    fn allowed_for(self, role: UserRole) -> bool {
        match role {
            UserRole::Admin => true,
            UserRole::Liaison => self == Op::Sign,
            UserRole::Observer => false,
        }
    }
}

/// The form: `task` repeated once per ticked box, `op` from the button pressed, and the
/// fields the chosen operation needs.
#[derive(Debug, Default)]
struct BatchForm {
    op: String,
    tasks: Vec<String>,
    reason: String,
    note: String,
    due_on: Option<String>,
    level: String,
    message: String,
    respond_by: Option<String>,
    /// Where to go back to: the list with its filters.
    back: String,
}

impl BatchForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> WebResult<BatchForm> {
        let mut f = BatchForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "op" => f.op = v,
                "task" => {
                    if f.tasks.len() >= MAX_BATCH {
                        return Err(WebError::BadRequest(format!(
                            "一次最多处理 {MAX_BATCH} 项任务，请分批操作"
                        )));
                    }
                    f.tasks.push(v);
                }
                "reason" => f.reason = v,
                "note" => f.note = v,
                "due_on" => f.due_on = Some(v),
                "level" => f.level = v,
                "message" => f.message = v,
                "respond_by" => f.respond_by = Some(v),
                "back" => f.back = v,
                _ => {}
            }
        }
        Ok(f)
    }

    /// Back to the task list with the filters it had (only a `/tasks` query is taken).
    fn back(&self) -> String {
        match self.back.strip_prefix("/tasks") {
            Some(rest) if rest.is_empty() || rest.starts_with('?') => {
                if rest.chars().any(|c| c.is_control() || c == '\\') {
                    "/tasks".into()
                } else {
                    self.back.clone()
                }
            }
            _ => "/tasks".into(),
        }
    }
}

pub async fn batch(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let f = BatchForm::from_pairs(pairs)?;
    let op = Op::parse(&f.op)?;
    if !op.allowed_for(cu.user.role) {
        return Err(WebError::Forbidden(match cu.user.role {
            UserRole::Observer => "查看人员只能查看，不能办理任务".into(),
            _ => format!("只有依法治县办可以批量{}", op.label()),
        }));
    }
    let mut ids = BTreeSet::new();
    for raw in &f.tasks {
        let id: i64 = raw
            .trim()
            .parse()
            .map_err(|_| WebError::BadRequest(format!("任务编号“{raw}”无效")))?;
        ids.insert(TaskId(id));
    }
    if ids.is_empty() {
        return Err(WebError::BadRequest(
            "请先在列表中勾选要批量处理的任务".into(),
        ));
    }
    // The access check of every task before any change.
    let mut roles = Vec::with_capacity(ids.len());
    for id in &ids {
        roles.push((*id, task_role(&state, &cu.user, *id).await?));
    }
    let back = f.back();
    let actor = cu.user.actor();
    let today = state.today();
    let done = match op {
        Op::Due => {
            let due = opt_date(&f.due_on, "截止日期")?;
            let n = state
                .store
                .set_due(&ids.into_iter().collect::<Vec<_>>(), due, &actor)
                .await?;
            flash(&state, &cu, super::tasks::due_set_message(n, due)).await?;
            return Ok(Redirect::to(&back).into_response());
        }
        Op::Notice => {
            let (level, respond_by) = super::notices::notice_terms(&f.level, &f.respond_by, today)?;
            if f.message.trim().is_empty() {
                return Err(WebError::BadRequest("请填写督办事项".into()));
            }
            let mut outcome = Outcome::default();
            for (id, _) in &roles {
                let r = state
                    .store
                    .issue_notice(*id, level, &f.message, respond_by, &actor)
                    .await
                    .map(|_| ());
                outcome.record(&state, *id, r).await?;
            }
            outcome
        }
        Op::Sign | Op::Approve | Op::Return => {
            if op == Op::Return && f.reason.trim().is_empty() {
                return Err(WebError::BadRequest("批量退回时须填写退回理由".into()));
            }
            let action = match op {
                Op::Sign => TaskAction::Sign,
                Op::Approve => TaskAction::Approve,
                _ => TaskAction::Return {
                    reason: f.reason.clone(),
                },
            };
            // The note explains approving over open rules, for the tasks that have them.
            let assurance = Assurance {
                note: f.note.clone(),
                confirmed: false,
            };
            let mut outcome = Outcome::default();
            for (id, role) in &roles {
                // task_role lets an observer through read-only; the office and units act.
                let r = if *role == ActorRole::Observer {
                    Err(fazhi_store::StoreError::Invalid(
                        "查看人员只能查看，不能办理任务".into(),
                    ))
                } else {
                    state
                        .store
                        .transition_with(*id, &action, &assurance, *role, &actor, today)
                        .await
                        .map(|_| ())
                };
                outcome.record(&state, *id, r).await?;
            }
            outcome
        }
    };
    let message = match op {
        Op::Notice => format!("已为 {} 项任务各发出一份督办单", done.ok),
        _ => format!("已批量{} {} 项任务", op.label(), done.ok),
    };
    flash_with_warning(&state, &cu, message, done.warning()).await?;
    Ok(Redirect::to(&back).into_response())
}

/// How many went through, and why the others did not.
#[derive(Default)]
struct Outcome {
    ok: usize,
    refused: Vec<String>,
}

impl Outcome {
    /// Counts a task's result; a refusal of the request (bad input, state) is listed with
    /// the task's number and unit, a failure of the server is passed on.
    async fn record(
        &mut self,
        state: &AppState,
        id: TaskId,
        result: Result<(), fazhi_store::StoreError>,
    ) -> WebResult<()> {
        match result {
            Ok(()) => self.ok += 1,
            Err(fazhi_store::StoreError::Invalid(why)) => {
                let t = state.store.task(id).await?.summary;
                self.refused
                    .push(format!("第{}项（{}）：{why}", t.code, t.unit_name));
            }
            Err(other) => return Err(other.into()),
        }
        Ok(())
    }

    fn warning(&self) -> Option<String> {
        if self.refused.is_empty() {
            return None;
        }
        let mut w = format!("{} 项未处理：", self.refused.len());
        w.push_str(
            &self
                .refused
                .iter()
                .take(SHOWN_REFUSALS)
                .cloned()
                .collect::<Vec<_>>()
                .join("；"),
        );
        if self.refused.len() > SHOWN_REFUSALS {
            w.push_str(&format!(
                "；另有 {} 项",
                self.refused.len() - SHOWN_REFUSALS
            ));
        }
        Some(w)
    }
}
