//! Responsible units (责任单位): names, kinds, aliases, group membership, and each unit's
//! list of indicators (责任清单).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use fazhi_domain::UnitKind;
use fazhi_domain::framework::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, ModelTrait,
    QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, append_audit};
use crate::entity::{assignment, framework_node, group_member, unit, unit_alias};
use crate::error::{StoreError, StoreResult, unique};
use crate::framework::{HeadingRef, current_framework_id, node_ids_of};
use crate::types::{Actor, NodeId, UnitId, enum_from_str, enum_to_str, now};
use crate::{Store, Tx};

/// Longest unit name or alias accepted, in characters.
const MAX_NAME_CHARS: usize = 64;

/// A unit in the list of all units, with its load in the current framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitSummary {
    pub id: UnitId,
    pub name: String,
    pub kind: UnitKind,
    pub disabled: bool,
    pub aliases: Vec<String>,
    /// Indicators it leads (牵头) in the current framework.
    pub lead_count: usize,
    /// Indicators it works on (配合) in the current framework.
    pub co_count: usize,
    /// Further indicators it holds as a member of a group (e.g. 各执法部门).
    pub via_group_count: usize,
}

/// One unit with its aliases and group relations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitDetail {
    pub id: UnitId,
    pub name: String,
    pub kind: UnitKind,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub aliases: Vec<String>,
    /// For a group: its members, by name.
    pub members: Vec<(UnitId, String)>,
    /// The groups this unit belongs to.
    pub groups: Vec<(UnitId, String)>,
}

/// One line of a unit's list of indicators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitIndicator {
    pub node_id: NodeId,
    pub code: String,
    pub text: String,
    pub role: Role,
    /// Headings above the indicator, 一级 first.
    pub ancestors: Vec<HeadingRef>,
    /// Set when the unit holds the indicator only as a member of this group.
    pub via_group: Option<(UnitId, String)>,
    pub source_line: Option<u32>,
}

/// Trims and checks a unit name or alias.
fn clean_name(raw: &str, what: &str) -> StoreResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(StoreError::invalid(format!("{what}不能为空")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::invalid(format!(
            "{what}太长（最多{MAX_NAME_CHARS}个字）"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::invalid(format!("{what}含有不可见字符")));
    }
    Ok(name.to_string())
}

pub(crate) async fn find_unit(conn: &impl ConnectionTrait, id: UnitId) -> StoreResult<unit::Model> {
    unit::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("单位 #{id}")))
}

/// Fails with a conflict on `field` when `name` is already a unit's name or alias
/// (other than unit `except`'s own name).
async fn ensure_name_free(
    conn: &impl ConnectionTrait,
    name: &str,
    field: &'static str,
    except: Option<i64>,
) -> StoreResult<()> {
    let by_name = unit::Entity::find()
        .filter(unit::Column::Name.eq(name))
        .one(conn)
        .await?;
    let by_alias = unit_alias::Entity::find()
        .filter(unit_alias::Column::Alias.eq(name))
        .one(conn)
        .await?;
    let taken = by_name.is_some_and(|u| Some(u.id) != except) || by_alias.is_some();
    if taken {
        return Err(StoreError::Conflict {
            field,
            value: name.to_string(),
        });
    }
    Ok(())
}

async fn aliases_of(conn: &impl ConnectionTrait, unit_id: i64) -> StoreResult<Vec<String>> {
    Ok(unit_alias::Entity::find()
        .filter(unit_alias::Column::UnitId.eq(unit_id))
        .order_by_asc(unit_alias::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| a.alias)
        .collect())
}

async fn detail(conn: &impl ConnectionTrait, id: UnitId) -> StoreResult<UnitDetail> {
    let u = find_unit(conn, id).await?;
    let names: HashMap<i64, String> = unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let named = |id: i64| (UnitId(id), names.get(&id).cloned().unwrap_or_default());
    let members = group_member::Entity::find()
        .filter(group_member::Column::GroupUnitId.eq(u.id))
        .order_by_asc(group_member::Column::MemberUnitId)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| named(m.member_unit_id))
        .collect();
    let groups = group_member::Entity::find()
        .filter(group_member::Column::MemberUnitId.eq(u.id))
        .order_by_asc(group_member::Column::GroupUnitId)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| named(m.group_unit_id))
        .collect();
    Ok(UnitDetail {
        id: UnitId(u.id),
        kind: enum_from_str(&u.kind)?,
        aliases: aliases_of(conn, u.id).await?,
        name: u.name,
        disabled: u.disabled,
        created_at: u.created_at,
        members,
        groups,
    })
}

impl Store {
    /// All units in creation order (the first import's document order), with their load
    /// in the current framework.
    pub async fn units(&self) -> StoreResult<Vec<UnitSummary>> {
        let conn = self.connection();
        let units = unit::Entity::find()
            .order_by_asc(unit::Column::Id)
            .all(conn)
            .await?;
        let mut aliases: HashMap<i64, Vec<String>> = HashMap::new();
        for a in unit_alias::Entity::find()
            .order_by_asc(unit_alias::Column::Id)
            .all(conn)
            .await?
        {
            aliases.entry(a.unit_id).or_default().push(a.alias);
        }
        // unit → (node → role) in the current framework.
        let mut held: HashMap<i64, BTreeMap<i64, Role>> = HashMap::new();
        if let Some(fid) = current_framework_id(conn).await? {
            for a in assignment::Entity::find()
                .filter(assignment::Column::NodeId.in_subquery(node_ids_of(fid)))
                .all(conn)
                .await?
            {
                held.entry(a.unit_id)
                    .or_default()
                    .insert(a.node_id, enum_from_str(&a.role)?);
            }
        }
        let mut groups_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for m in group_member::Entity::find().all(conn).await? {
            groups_of
                .entry(m.member_unit_id)
                .or_default()
                .push(m.group_unit_id);
        }
        let empty = BTreeMap::new();
        units
            .into_iter()
            .map(|u| {
                let own = held.get(&u.id).unwrap_or(&empty);
                let via: BTreeSet<i64> = groups_of
                    .get(&u.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|g| held.get(g))
                    .flat_map(|nodes| nodes.keys().copied())
                    .filter(|node| !own.contains_key(node))
                    .collect();
                Ok(UnitSummary {
                    id: UnitId(u.id),
                    kind: enum_from_str(&u.kind)?,
                    aliases: aliases.remove(&u.id).unwrap_or_default(),
                    lead_count: own.values().filter(|r| **r == Role::Lead).count(),
                    co_count: own.values().filter(|r| **r == Role::Co).count(),
                    via_group_count: via.len(),
                    name: u.name,
                    disabled: u.disabled,
                })
            })
            .collect()
    }

    /// One unit.
    pub async fn unit(&self, id: UnitId) -> StoreResult<UnitDetail> {
        detail(self.connection(), id).await
    }

    /// The unit with this name or alias.
    pub async fn find_unit(&self, name_or_alias: &str) -> StoreResult<Option<UnitId>> {
        let conn = self.connection();
        let name = name_or_alias.trim();
        if let Some(u) = unit::Entity::find()
            .filter(unit::Column::Name.eq(name))
            .one(conn)
            .await?
        {
            return Ok(Some(UnitId(u.id)));
        }
        Ok(unit_alias::Entity::find()
            .filter(unit_alias::Column::Alias.eq(name))
            .one(conn)
            .await?
            .map(|a| UnitId(a.unit_id)))
    }

    /// Adds a unit.
    pub async fn create_unit(
        &self,
        name: &str,
        kind: UnitKind,
        actor: &Actor,
    ) -> StoreResult<UnitId> {
        let name = clean_name(name, "单位名称")?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        ensure_name_free(conn, &name, "name", None).await?;
        let row = unit::ActiveModel {
            name: Set(name.clone()),
            kind: Set(enum_to_str(&kind)),
            disabled: Set(false),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(unique(&name))?;
        let after = detail(conn, UnitId(row.id)).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "unit.create", "unit", Some(row.id.to_string())).after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(UnitId(row.id))
    }

    /// Renames a unit and/or changes its kind. A group with members cannot stop being a
    /// group, and a member of a group cannot become one.
    pub async fn update_unit(
        &self,
        id: UnitId,
        name: &str,
        kind: UnitKind,
        actor: &Actor,
    ) -> StoreResult<()> {
        let name = clean_name(name, "单位名称")?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = detail(conn, id).await?;
        if name != before.name {
            ensure_name_free(conn, &name, "name", Some(id.0)).await?;
        }
        if before.kind == UnitKind::Group && kind != UnitKind::Group && !before.members.is_empty() {
            return Err(StoreError::invalid(
                "该单位组还有成员单位，请先移除成员再更改类型",
            ));
        }
        if kind == UnitKind::Group && !before.groups.is_empty() {
            return Err(StoreError::invalid(
                "该单位是其他单位组的成员，不能改为单位组（单位组不能包含单位组）",
            ));
        }
        let mut row = find_unit(conn, id).await?.into_active_model();
        row.name = Set(name.clone());
        row.kind = Set(enum_to_str(&kind));
        row.update(conn).await.map_err(unique(&name))?;
        let after = detail(conn, id).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "unit.update", "unit", Some(id.to_string()))
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await
    }

    /// Disables or re-enables a unit (a disabled unit gets no new assignments).
    pub async fn set_unit_disabled(
        &self,
        id: UnitId,
        disabled: bool,
        actor: &Actor,
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = detail(conn, id).await?;
        let mut row = find_unit(conn, id).await?.into_active_model();
        row.disabled = Set(disabled);
        row.update(conn).await?;
        let after = detail(conn, id).await?;
        let action = if disabled {
            "unit.disable"
        } else {
            "unit.enable"
        };
        append_audit(
            &tx,
            AuditEntry::new(actor, action, "unit", Some(id.to_string()))
                .before(&before)
                .after(&after),
        )
        .await?;
        // Enabled again: the unit's tasks of the round in progress are created.
        crate::rounds::follow_division(&tx, actor).await?;
        tx.commit().await
    }

    /// Adds another spelling of a unit. It must not be any unit's name or alias.
    pub async fn add_alias(&self, id: UnitId, alias: &str, actor: &Actor) -> StoreResult<()> {
        let alias = clean_name(alias, "别名")?;
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = detail(conn, id).await?;
        ensure_name_free(conn, &alias, "alias", None).await?;
        unit_alias::ActiveModel {
            unit_id: Set(id.0),
            alias: Set(alias.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(unique(&alias))?;
        let after = detail(conn, id).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "unit.add_alias", "unit", Some(id.to_string()))
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await
    }

    /// Removes an alias of the unit.
    pub async fn remove_alias(&self, id: UnitId, alias: &str, actor: &Actor) -> StoreResult<()> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = detail(conn, id).await?;
        let row = unit_alias::Entity::find()
            .filter(unit_alias::Column::UnitId.eq(id.0))
            .filter(unit_alias::Column::Alias.eq(alias.trim()))
            .one(conn)
            .await?
            .ok_or_else(|| {
                StoreError::not_found(format!("{}的别名“{}”", before.name, alias.trim()))
            })?;
        row.delete(conn).await?;
        let after = detail(conn, id).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "unit.remove_alias", "unit", Some(id.to_string()))
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await
    }

    /// Replaces the members of a group unit. Members must exist and not be groups.
    pub async fn set_group_members(
        &self,
        group: UnitId,
        members: &[UnitId],
        actor: &Actor,
    ) -> StoreResult<crate::rounds::TaskSync> {
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = detail(conn, group).await?;
        if before.kind != UnitKind::Group {
            return Err(StoreError::invalid(format!(
                "“{}”不是单位组，不能设置成员单位",
                before.name
            )));
        }
        let mut wanted: Vec<UnitId> = Vec::new();
        for &member in members {
            if member == group {
                return Err(StoreError::invalid("单位组不能包含自己"));
            }
            let m = find_unit(conn, member).await?;
            if enum_from_str::<UnitKind>(&m.kind)? == UnitKind::Group {
                return Err(StoreError::invalid(format!(
                    "“{}”是单位组，单位组不能包含单位组",
                    m.name
                )));
            }
            if !wanted.contains(&member) {
                wanted.push(member);
            }
        }
        group_member::Entity::delete_many()
            .filter(group_member::Column::GroupUnitId.eq(group.0))
            .exec(conn)
            .await?;
        if !wanted.is_empty() {
            group_member::Entity::insert_many(wanted.iter().map(|m| group_member::ActiveModel {
                group_unit_id: Set(group.0),
                member_unit_id: Set(m.0),
            }))
            .exec(conn)
            .await
            .map_err(unique(&before.name))?;
        }
        let after = detail(conn, group).await?;
        append_audit(
            &tx,
            AuditEntry::new(actor, "unit.set_members", "unit", Some(group.to_string()))
                .before(&before.members)
                .after(&after.members),
        )
        .await?;
        // The members' tasks in the round in progress follow (新成员 get theirs now).
        let tasks = crate::rounds::follow_division(&tx, actor).await?;
        tx.commit().await?;
        Ok(tasks)
    }

    /// The unit's indicators in the current framework, in document order: those it is
    /// assigned itself, then (merged in order) those it holds as a member of a group,
    /// marked with `via_group`. Empty when no framework has been imported.
    pub async fn unit_indicators(&self, id: UnitId) -> StoreResult<Vec<UnitIndicator>> {
        let conn = self.connection();
        let unit = find_unit(conn, id).await?;
        let Some(fid) = current_framework_id(conn).await? else {
            return Ok(Vec::new());
        };
        let groups: Vec<unit::Model> = {
            let ids: Vec<i64> = group_member::Entity::find()
                .filter(group_member::Column::MemberUnitId.eq(unit.id))
                .all(conn)
                .await?
                .into_iter()
                .map(|m| m.group_unit_id)
                .collect();
            unit::Entity::find()
                .filter(unit::Column::Id.is_in(ids))
                .order_by_asc(unit::Column::Id)
                .all(conn)
                .await?
        };
        let mut holders = vec![unit.id];
        holders.extend(groups.iter().map(|g| g.id));
        let rows = assignment::Entity::find()
            .filter(assignment::Column::UnitId.is_in(holders))
            .filter(assignment::Column::NodeId.in_subquery(node_ids_of(fid)))
            .all(conn)
            .await?;
        // node → (role, via group); the unit's own assignment wins over a group's.
        let mut held: HashMap<i64, (Role, Option<(UnitId, String)>)> = HashMap::new();
        for row in rows {
            let role: Role = enum_from_str(&row.role)?;
            if row.unit_id == unit.id {
                held.insert(row.node_id, (role, None));
            } else if !held.get(&row.node_id).is_some_and(|(_, via)| via.is_none()) {
                let group = groups.iter().find(|g| g.id == row.unit_id);
                let via = group.map(|g| (UnitId(g.id), g.name.clone()));
                held.entry(row.node_id).or_insert((role, via));
            }
        }
        let nodes: HashMap<i64, framework_node::Model> = framework_node::Entity::find()
            .filter(framework_node::Column::FrameworkId.eq(fid))
            .all(conn)
            .await?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        let mut out: Vec<(i32, UnitIndicator)> = Vec::with_capacity(held.len());
        for (node_id, (role, via_group)) in held {
            let Some(node) = nodes.get(&node_id) else {
                continue;
            };
            let mut ancestors = Vec::new();
            let mut parent = node.parent_id;
            while let Some(p) = parent.and_then(|p| nodes.get(&p)) {
                ancestors.push(HeadingRef {
                    id: NodeId(p.id),
                    code: p.code.clone(),
                    title: p.title.clone(),
                });
                parent = p.parent_id;
            }
            ancestors.reverse();
            out.push((
                node.doc_order,
                UnitIndicator {
                    node_id: NodeId(node.id),
                    code: node.code.clone(),
                    text: node.title.clone(),
                    role,
                    ancestors,
                    via_group,
                    source_line: node.source_line.and_then(|l| u32::try_from(l).ok()),
                },
            ));
        }
        out.sort_by_key(|(order, _)| *order);
        Ok(out.into_iter().map(|(_, i)| i).collect())
    }
}

/// Makes the unit usable for `tx`'s change: exists and is not disabled.
pub(crate) async fn active_unit(tx: &Tx, id: UnitId) -> StoreResult<unit::Model> {
    let u = find_unit(tx.connection(), id).await?;
    if u.disabled {
        return Err(StoreError::invalid(format!("单位“{}”已停用", u.name)));
    }
    Ok(u)
}
