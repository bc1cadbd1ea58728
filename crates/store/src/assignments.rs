//! Changing who answers for an indicator (责任分工), by the coordinating office. Only the
//! current framework version can be changed; every change is audited with the node's
//! assignments before and after.

use fazhi_domain::framework::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;

use crate::audit::{AuditEntry, append_audit};
use crate::entity::{assignment, framework_node};
use crate::error::{StoreError, StoreResult};
use crate::framework::{StoredAssignment, current_framework_id, unit_names};
use crate::rounds::{TaskSync, follow_division};
use crate::types::{Actor, NodeId, UnitId, enum_from_str, enum_to_str};
use crate::units::active_unit;
use crate::{Store, Tx};

#[derive(Serialize)]
struct Snapshot<'a> {
    code: &'a str,
    assignments: &'a [StoredAssignment],
}

async fn node_assignments(
    conn: &impl ConnectionTrait,
    node_id: i64,
) -> StoreResult<Vec<StoredAssignment>> {
    let names = unit_names(conn).await?;
    assignment::Entity::find()
        .filter(assignment::Column::NodeId.eq(node_id))
        .order_by_asc(assignment::Column::Position)
        .order_by_asc(assignment::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| {
            Ok(StoredAssignment {
                unit_id: UnitId(a.unit_id),
                unit_name: names.get(&a.unit_id).cloned().unwrap_or_default(),
                role: enum_from_str(&a.role)?,
            })
        })
        .collect()
}

/// The node, checked to be a leaf of the current version.
/// A change of an indicator's units: the indicator's units after it, and what the round
/// in progress did to follow it (tasks created, roles updated, tasks no longer held).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DivisionChange {
    pub assignments: Vec<StoredAssignment>,
    pub tasks: TaskSync,
}

async fn editable_leaf(tx: &Tx, node: NodeId) -> StoreResult<framework_node::Model> {
    let conn = tx.connection();
    let n = framework_node::Entity::find_by_id(node.0)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("指标 #{node}")))?;
    if !n.is_leaf {
        return Err(StoreError::invalid(
            "只有考核项（三级指标）可以分配责任单位",
        ));
    }
    if current_framework_id(conn).await? != Some(n.framework_id) {
        return Err(StoreError::invalid(
            "只能调整当前版本指标体系的责任分工，历史版本保持不变",
        ));
    }
    Ok(n)
}

async fn record(
    tx: &Tx,
    actor: &Actor,
    action: &str,
    node: &framework_node::Model,
    before: &[StoredAssignment],
) -> StoreResult<Vec<StoredAssignment>> {
    let after = node_assignments(tx.connection(), node.id).await?;
    append_audit(
        tx,
        AuditEntry::new(actor, action, "indicator", Some(node.id.to_string()))
            .before(Snapshot {
                code: &node.code,
                assignments: before,
            })
            .after(Snapshot {
                code: &node.code,
                assignments: &after,
            }),
    )
    .await?;
    Ok(after)
}

impl Store {
    /// The units responsible for an indicator, in order.
    pub async fn node_assignments(&self, node: NodeId) -> StoreResult<Vec<StoredAssignment>> {
        node_assignments(self.connection(), node.0).await
    }

    /// Makes `unit` responsible for the indicator with `role`, after the units already
    /// there. Conflict when it already is; returns the indicator's new assignments.
    pub async fn assign(
        &self,
        node: NodeId,
        unit: UnitId,
        role: Role,
        actor: &Actor,
    ) -> StoreResult<DivisionChange> {
        let tx = self.begin().await?;
        let n = editable_leaf(&tx, node).await?;
        let u = active_unit(&tx, unit).await?;
        let conn = tx.connection();
        let before = node_assignments(conn, n.id).await?;
        if before.iter().any(|a| a.unit_id == unit) {
            return Err(StoreError::Conflict {
                field: "unit",
                value: u.name,
            });
        }
        let position = before.len();
        assignment::ActiveModel {
            node_id: Set(n.id),
            unit_id: Set(unit.0),
            role: Set(enum_to_str(&role)),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(crate::error::unique(&u.name))?;
        let after = record(&tx, actor, "assignment.assign", &n, &before).await?;
        let tasks = follow_division(&tx, actor).await?;
        tx.commit().await?;
        Ok(DivisionChange {
            assignments: after,
            tasks,
        })
    }

    /// Removes `unit` from the indicator. NotFound when it was not responsible.
    pub async fn unassign(
        &self,
        node: NodeId,
        unit: UnitId,
        actor: &Actor,
    ) -> StoreResult<DivisionChange> {
        let tx = self.begin().await?;
        let n = editable_leaf(&tx, node).await?;
        let conn = tx.connection();
        let before = node_assignments(conn, n.id).await?;
        let row = assignment::Entity::find()
            .filter(assignment::Column::NodeId.eq(n.id))
            .filter(assignment::Column::UnitId.eq(unit.0))
            .one(conn)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("第{}项指标中的单位 #{unit}", n.code)))?;
        row.delete(conn).await?;
        renumber(conn, n.id).await?;
        let after = record(&tx, actor, "assignment.unassign", &n, &before).await?;
        let tasks = follow_division(&tx, actor).await?;
        tx.commit().await?;
        Ok(DivisionChange {
            assignments: after,
            tasks,
        })
    }

    /// Makes `unit` the only lead (牵头) of the indicator: the former leads become 配合,
    /// and the lead moves to the front. A unit not yet responsible is added.
    pub async fn set_lead(
        &self,
        node: NodeId,
        unit: UnitId,
        actor: &Actor,
    ) -> StoreResult<DivisionChange> {
        let tx = self.begin().await?;
        let n = editable_leaf(&tx, node).await?;
        let conn = tx.connection();
        let before = node_assignments(conn, n.id).await?;
        if !before.iter().any(|a| a.unit_id == unit) {
            active_unit(&tx, unit).await?;
            assignment::ActiveModel {
                node_id: Set(n.id),
                unit_id: Set(unit.0),
                role: Set(enum_to_str(&Role::Co)),
                position: Set(-1),
                ..Default::default()
            }
            .insert(conn)
            .await?;
        }
        assignment::Entity::update_many()
            .col_expr(
                assignment::Column::Role,
                Expr::value(enum_to_str(&Role::Co)),
            )
            .filter(assignment::Column::NodeId.eq(n.id))
            .exec(conn)
            .await?;
        assignment::Entity::update_many()
            .col_expr(
                assignment::Column::Role,
                Expr::value(enum_to_str(&Role::Lead)),
            )
            .col_expr(assignment::Column::Position, Expr::value(-1))
            .filter(assignment::Column::NodeId.eq(n.id))
            .filter(assignment::Column::UnitId.eq(unit.0))
            .exec(conn)
            .await?;
        renumber(conn, n.id).await?;
        let after = record(&tx, actor, "assignment.set_lead", &n, &before).await?;
        let tasks = follow_division(&tx, actor).await?;
        tx.commit().await?;
        Ok(DivisionChange {
            assignments: after,
            tasks,
        })
    }
}

/// Positions 0, 1, 2, … in the current order.
async fn renumber(conn: &impl ConnectionTrait, node_id: i64) -> StoreResult<()> {
    let rows = assignment::Entity::find()
        .filter(assignment::Column::NodeId.eq(node_id))
        .order_by_asc(assignment::Column::Position)
        .order_by_asc(assignment::Column::Id)
        .all(conn)
        .await?;
    for (position, row) in rows.into_iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        if row.position != position {
            let mut row: assignment::ActiveModel = row.into();
            row.position = Set(position);
            row.update(conn).await?;
        }
    }
    Ok(())
}
