//! Moving the round in progress to a new framework version (改用新版本指标体系) without losing
//! work: the office confirms, for each indicator of the round's version, the indicator of
//! the new version it became (the page pre-fills the guesses of
//! `fazhi_import::compare::map_indicators`). Each task of a mapped indicator is moved to the
//! new indicator and keeps its id, so its progress reports, evidence, values, ledger cases,
//! 督办单, scores and history stay with it. Tasks of unmapped indicators (and a task whose
//! unit already has one on the same new indicator) stay on their old indicator, listed,
//! never dropped. Then the round follows the new version's responsibility division
//! (`rounds::follow_division`): tasks for new indicators and units are created.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::{campaign_round, framework, framework_node, task, unit};
use crate::error::{StoreError, StoreResult};
use crate::rounds::{SyncedTask, TaskSync, active_round_id, find_round, follow_division};
use crate::types::{Actor, FrameworkId, NodeId, RoundId, TaskId, now};

/// A task that stayed on its indicator of the earlier version, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptTask {
    pub task: SyncedTask,
    /// E.g. `新版本中没有对应的指标`.
    pub reason: String,
}

/// What moving the round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundRemap {
    pub round_id: Option<RoundId>,
    pub from: Option<FrameworkId>,
    pub to: Option<FrameworkId>,
    /// Tasks moved to an indicator of the new version, with all their work.
    pub moved: usize,
    /// Tasks left on their old indicator (listed on the round page, never dropped).
    pub kept: Vec<KeptTask>,
    /// The new version's division applied to the round (tasks created, roles changed…).
    pub sync: TaskSync,
}

impl RoundRemap {
    /// A sentence for the office.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "本轮已改用第{}版指标体系，{}项任务连同进展、佐证材料和评分转到了对应的新指标",
            self.to.map(|f| f.0).unwrap_or_default(),
            self.moved
        )];
        if !self.kept.is_empty() {
            parts.push(format!(
                "{}项任务在新版本中没有对应指标，仍按原指标保留（见轮次页面的清单）",
                self.kept.len()
            ));
        }
        let sync = self.sync.summary();
        if !sync.is_empty() {
            parts.push(sync);
        }
        parts.join("；")
    }
}

impl Store {
    /// Moves the round in progress to the framework version `to`; `mapping` gives, for an
    /// indicator of the round's current version, the indicator of `to` it became (an
    /// indicator not in it is unmapped). One transaction, audited as `round.remap`.
    pub async fn remap_round(
        &self,
        round: RoundId,
        to: FrameworkId,
        mapping: &HashMap<NodeId, NodeId>,
        actor: &Actor,
    ) -> StoreResult<RoundRemap> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let r = find_round(conn, round).await?;
        if r.closed_at.is_some() {
            return Err(StoreError::invalid(format!(
                "轮次“{}”已经结束，不能再改用新版本",
                r.name
            )));
        }
        if active_round_id(conn).await? != Some(r.id) {
            return Err(StoreError::invalid(format!(
                "轮次“{}”不是正在进行的轮次",
                r.name
            )));
        }
        if r.framework_id == to.0 {
            return Err(StoreError::invalid(format!(
                "轮次“{}”已在使用第{}版指标体系",
                r.name, to.0
            )));
        }
        framework::Entity::find_by_id(to.0)
            .one(conn)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("第{}版指标体系", to.0)))?;
        let leaves_of = |framework_id: i64| {
            framework_node::Entity::find()
                .filter(framework_node::Column::FrameworkId.eq(framework_id))
                .filter(framework_node::Column::IsLeaf.eq(true))
                .all(conn)
        };
        let old_nodes: HashMap<i64, framework_node::Model> = leaves_of(r.framework_id)
            .await?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        let new_leaves: HashSet<i64> = leaves_of(to.0).await?.into_iter().map(|n| n.id).collect();
        for (old, new) in mapping {
            if !old_nodes.contains_key(&old.0) {
                return Err(StoreError::invalid(format!(
                    "指标 #{old} 不是本轮所用版本的三级指标"
                )));
            }
            if !new_leaves.contains(&new.0) {
                return Err(StoreError::invalid(format!(
                    "指标 #{new} 不是第{}版指标体系的三级指标",
                    to.0
                )));
            }
        }

        let unit_names: HashMap<i64, String> = unit::Entity::find()
            .all(conn)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
        let mut tasks = task::Entity::find()
            .filter(task::Column::RoundId.eq(r.id))
            .all(conn)
            .await?;
        tasks.sort_by_key(|t| t.id);
        // (new node, unit) already taken, by a task moved before or one already there.
        let mut taken: HashSet<(i64, i64)> = tasks
            .iter()
            .filter(|t| new_leaves.contains(&t.node_id))
            .map(|t| (t.node_id, t.unit_id))
            .collect();
        let mut remap = RoundRemap {
            round_id: Some(round),
            from: Some(FrameworkId(r.framework_id)),
            to: Some(to),
            ..Default::default()
        };
        let at = now();
        for t in &tasks {
            let Some(old) = old_nodes.get(&t.node_id) else {
                continue; // already on another version (an earlier move kept it)
            };
            let named = SyncedTask {
                task_id: TaskId(t.id),
                code: old.code.clone(),
                unit_name: unit_names.get(&t.unit_id).cloned().unwrap_or_default(),
            };
            let Some(new) = mapping.get(&NodeId(t.node_id)) else {
                remap.kept.push(KeptTask {
                    task: named,
                    reason: "新版本中没有对应的指标".into(),
                });
                continue;
            };
            if !taken.insert((new.0, t.unit_id)) {
                remap.kept.push(KeptTask {
                    task: named,
                    reason: "该单位在对应的新指标上已有任务".into(),
                });
                continue;
            }
            let mut active: task::ActiveModel = t.clone().into();
            active.node_id = Set(new.0);
            active.updated_at = Set(at);
            active.update(conn).await?;
            remap.moved += 1;
        }
        campaign_round::Entity::update_many()
            .col_expr(campaign_round::Column::FrameworkId, Expr::value(to.0))
            .filter(campaign_round::Column::Id.eq(r.id))
            .exec(conn)
            .await?;
        remap.sync = follow_division(&tx, actor).await?;
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                "round.remap",
                "campaign_round",
                Some(round.to_string()),
            )
            .before(serde_json::json!({ "framework_id": r.framework_id }))
            .after(serde_json::json!({
                "framework_id": to.0,
                "mapped_indicators": mapping.len(),
                "moved": remap.moved,
                "kept": remap.kept,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(remap)
    }

    /// Tasks of the round whose indicator is not of the round's framework version: kept
    /// when the round moved to a new version (see [`Store::remap_round`]).
    pub async fn tasks_on_earlier_versions(&self, round: RoundId) -> StoreResult<Vec<SyncedTask>> {
        let conn = self.connection();
        let r = find_round(conn, round).await?;
        let tasks = task::Entity::find()
            .filter(task::Column::RoundId.eq(r.id))
            .filter(
                task::Column::NodeId.not_in_subquery(crate::framework::node_ids_of(r.framework_id)),
            )
            .all(conn)
            .await?;
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            let code = framework_node::Entity::find_by_id(t.node_id)
                .one(conn)
                .await?
                .map(|n| n.code)
                .unwrap_or_default();
            let unit_name = unit::Entity::find_by_id(t.unit_id)
                .one(conn)
                .await?
                .map(|u| u.name)
                .unwrap_or_default();
            out.push(SyncedTask {
                task_id: TaskId(t.id),
                code,
                unit_name,
            });
        }
        out.sort_by_key(|t| t.task_id);
        Ok(out)
    }
}
