//! Guards of the writes to a task: it exists, belongs to the active round, is locked for
//! the transaction, and is in a state in which the unit may change it.

use fazhi_domain::task::TaskStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::Tx;
use crate::entity::{campaign_round, task};
use crate::error::{StoreError, StoreResult};
use crate::rounds::active_round_id;
use crate::types::{TaskId, now};

pub(crate) async fn find_task(conn: &impl ConnectionTrait, id: TaskId) -> StoreResult<task::Model> {
    task::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("任务 #{id}")))
}

/// The task, checked to belong to the active round. Call it inside the write transaction
/// and check the status it returns there: on PostgreSQL the row stays locked (`FOR
/// UPDATE`) until the transaction ends, so a concurrent 报送 waits for this write or this
/// write sees the new status; SQLite already runs one writer at a time (`BEGIN IMMEDIATE`).
pub(crate) async fn writable_task(
    conn: &impl ConnectionTrait,
    id: TaskId,
) -> StoreResult<task::Model> {
    let mut query = task::Entity::find_by_id(id.0);
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let t = query
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("任务 #{id}")))?;
    ensure_active_round(conn, t.round_id).await?;
    Ok(t)
}

pub(crate) async fn ensure_active_round(
    conn: &impl ConnectionTrait,
    round_id: i64,
) -> StoreResult<()> {
    if active_round_id(conn).await? != Some(round_id) {
        let round = campaign_round::Entity::find_by_id(round_id)
            .one(conn)
            .await?;
        let name = round.as_ref().map(|r| r.name.clone()).unwrap_or_default();
        if round.is_some_and(|r| r.closed_at.is_some()) {
            return Err(StoreError::invalid(format!(
                "轮次“{name}”已结束，其任务只能查看和导出，不能修改"
            )));
        }
        return Err(StoreError::invalid(format!(
            "轮次“{name}”不是当前轮次，其任务只能查看，不能修改"
        )));
    }
    Ok(())
}

/// Progress reports and evidence can change only while the unit works on the task.
pub(crate) fn ensure_editable(status: TaskStatus) -> StoreResult<()> {
    match status {
        TaskStatus::InProgress | TaskStatus::Returned => Ok(()),
        TaskStatus::Pending => Err(StoreError::invalid(
            "任务尚未签收，请先签收再填报进展或上传佐证材料",
        )),
        TaskStatus::Submitted => Err(StoreError::invalid(
            "任务已报送，审核期间不能修改填报内容；被退回后可继续修改",
        )),
        TaskStatus::Approved | TaskStatus::Closed => {
            Err(StoreError::invalid("任务已通过审核，不能再修改填报内容"))
        }
    }
}

/// Marks the task as changed now (after a report or evidence change) inside `tx`.
pub(crate) async fn touch(tx: &Tx, task_id: i64) -> StoreResult<()> {
    task::Entity::update_many()
        .col_expr(task::Column::UpdatedAt, Expr::value(now()))
        .filter(task::Column::Id.eq(task_id))
        .exec(tx.connection())
        .await?;
    Ok(())
}
