//! Indicator framework versions: importing an edition, reading a version's tree.
//!
//! Every import creates a new `framework` row with its own nodes, assignments and
//! diagnostics and makes it current; earlier versions stay stored unchanged, so what a
//! unit was responsible for under an old edition can always be read back.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use fazhi_domain::framework::{Heading, Indicator, Node, Role};
use fazhi_domain::{Framework, UnitKind};
use fazhi_import::{Diagnostic, ImportOutput};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, append_audit};
use crate::entity::{assignment, framework, framework_node, import_diagnostic, unit, unit_alias};
use crate::error::{StoreError, StoreResult, unique};
use crate::types::{Actor, FrameworkId, NodeId, UnitId, enum_from_str, enum_to_str, now};
use crate::{Store, Tx};

/// Rows per multi-row INSERT (well below SQLite's bound-parameter limit).
const INSERT_CHUNK: usize = 200;

/// One stored version of a framework, without its tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkInfo {
    pub id: FrameworkId,
    pub title: String,
    /// File name (or other label) the version was imported from.
    pub source_name: String,
    /// SHA-256 (hex) of the imported file.
    pub source_sha256: String,
    pub imported_at: DateTime<Utc>,
    pub is_current: bool,
    pub note: Option<String>,
}

impl From<framework::Model> for FrameworkInfo {
    fn from(m: framework::Model) -> Self {
        FrameworkInfo {
            id: FrameworkId(m.id),
            title: m.title,
            source_name: m.source_name,
            source_sha256: m.source_sha256,
            imported_at: m.imported_at,
            is_current: m.is_current,
            note: m.note,
        }
    }
}

/// A unit's responsibility for one indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAssignment {
    pub unit_id: UnitId,
    /// The unit's current name.
    pub unit_name: String,
    pub role: Role,
}

/// A heading or indicator of a stored version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredNode {
    pub id: NodeId,
    pub code: String,
    /// Heading title, or the indicator's text.
    pub title: String,
    pub is_leaf: bool,
    /// 0 for 一级指标.
    pub depth: u32,
    pub source_line: Option<u32>,
    pub children: Vec<StoredNode>,
    /// Responsible units in document order (leaves only).
    pub assignments: Vec<StoredAssignment>,
}

impl StoredNode {
    /// Units with the given role.
    pub fn units_with(&self, role: Role) -> impl Iterator<Item = &StoredAssignment> {
        self.assignments.iter().filter(move |a| a.role == role)
    }
}

/// A heading above an indicator: `一` 政府职能依法全面履行.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadingRef {
    pub id: NodeId,
    pub code: String,
    pub title: String,
}

impl From<&StoredNode> for HeadingRef {
    fn from(n: &StoredNode) -> Self {
        HeadingRef {
            id: n.id,
            code: n.code.clone(),
            title: n.title.clone(),
        }
    }
}

/// A version with its tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFramework {
    pub info: FrameworkInfo,
    pub roots: Vec<StoredNode>,
}

/// Diagnostics are stored as the importer reported them.
pub type StoredDiagnostic = Diagnostic;

impl StoredFramework {
    /// Every leaf in document order with its ancestor headings (root first).
    pub fn leaves(&self) -> Vec<(Vec<&StoredNode>, &StoredNode)> {
        fn go<'a>(
            nodes: &'a [StoredNode],
            stack: &mut Vec<&'a StoredNode>,
            out: &mut Vec<(Vec<&'a StoredNode>, &'a StoredNode)>,
        ) {
            for node in nodes {
                if node.is_leaf {
                    out.push((stack.clone(), node));
                } else {
                    stack.push(node);
                    go(&node.children, stack, out);
                    stack.pop();
                }
            }
        }
        let mut out = Vec::new();
        go(&self.roots, &mut Vec::new(), &mut out);
        out
    }

    /// Headings per depth, then the number of leaves (`[8, 32, 94]` for the county).
    pub fn level_counts(&self) -> Vec<usize> {
        fn go(nodes: &[StoredNode], depth: usize, headings: &mut Vec<usize>, leaves: &mut usize) {
            for node in nodes {
                if node.is_leaf {
                    *leaves += 1;
                } else {
                    if headings.len() <= depth {
                        headings.resize(depth + 1, 0);
                    }
                    headings[depth] += 1;
                    go(&node.children, depth + 1, headings, leaves);
                }
            }
        }
        let mut headings = Vec::new();
        let mut leaves = 0;
        go(&self.roots, 0, &mut headings, &mut leaves);
        headings.push(leaves);
        headings
    }

    /// The node with this id, at any depth.
    pub fn node(&self, id: NodeId) -> Option<&StoredNode> {
        fn go(nodes: &[StoredNode], id: NodeId) -> Option<&StoredNode> {
            nodes.iter().find_map(|n| {
                if n.id == id {
                    Some(n)
                } else {
                    go(&n.children, id)
                }
            })
        }
        go(&self.roots, id)
    }

    /// Back to the domain shape (current unit names; `units` in order of first
    /// appearance).
    pub fn to_domain(&self) -> Framework {
        fn go(nodes: &[StoredNode], units: &mut Vec<String>) -> Vec<Node> {
            nodes
                .iter()
                .map(|n| {
                    if n.is_leaf {
                        let names: Vec<String> =
                            n.assignments.iter().map(|a| a.unit_name.clone()).collect();
                        for name in &names {
                            if !units.contains(name) {
                                units.push(name.clone());
                            }
                        }
                        Node::Indicator(Indicator {
                            code: n.code.clone(),
                            text: n.title.clone(),
                            lead: n
                                .units_with(Role::Lead)
                                .map(|a| a.unit_name.clone())
                                .collect(),
                            units: names,
                            line: n.source_line,
                        })
                    } else {
                        Node::Heading(Heading {
                            code: n.code.clone(),
                            title: n.title.clone(),
                            children: go(&n.children, units),
                            line: n.source_line,
                            // Not stored yet: a weight lives in the imported library only.
                            weight: None,
                        })
                    }
                })
                .collect()
        }
        let mut units = Vec::new();
        let indicators = go(&self.roots, &mut units);
        Framework {
            title: self.info.title.clone(),
            indicators,
            units,
        }
    }
}

fn to_i32(value: u32, what: &str) -> StoreResult<i32> {
    i32::try_from(value).map_err(|_| StoreError::invalid(format!("{what}超出范围：{value}")))
}

fn index_i32(value: usize, what: &str) -> StoreResult<i32> {
    i32::try_from(value).map_err(|_| StoreError::invalid(format!("{what}超出范围：{value}")))
}

/// A node of the import in pre-order with the index of its parent in the same list.
struct FlatNode<'a> {
    node: &'a Node,
    parent: Option<usize>,
    position: usize,
    depth: usize,
}

fn flatten(nodes: &[Node]) -> Vec<FlatNode<'_>> {
    fn go<'a>(nodes: &'a [Node], parent: Option<usize>, depth: usize, out: &mut Vec<FlatNode<'a>>) {
        for (position, node) in nodes.iter().enumerate() {
            let index = out.len();
            out.push(FlatNode {
                node,
                parent,
                position,
                depth,
            });
            if let Node::Heading(h) = node {
                go(&h.children, Some(index), depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    go(nodes, None, 0, &mut out);
    out
}

/// Name → unit id over the names and aliases of all stored units.
#[derive(Default)]
pub(crate) struct UnitDirectory {
    by_name: HashMap<String, i64>,
    by_alias: HashMap<String, i64>,
}

impl UnitDirectory {
    pub(crate) async fn load(conn: &impl ConnectionTrait) -> StoreResult<Self> {
        let mut dir = UnitDirectory::default();
        for u in unit::Entity::find().all(conn).await? {
            dir.by_name.insert(u.name, u.id);
        }
        for a in unit_alias::Entity::find().all(conn).await? {
            dir.by_alias.insert(a.alias, a.unit_id);
        }
        Ok(dir)
    }

    pub(crate) fn resolve(&self, name: &str) -> Option<i64> {
        self.by_name
            .get(name)
            .or_else(|| self.by_alias.get(name))
            .copied()
    }
}

#[derive(Serialize)]
struct ImportSummary<'a> {
    title: &'a str,
    source_name: &'a str,
    source_sha256: &'a str,
    level_counts: Vec<usize>,
    units_created: Vec<String>,
    aliases_added: Vec<(String, String)>,
    assignments: usize,
    diagnostics: usize,
}

impl Store {
    /// Stores `library` as a new framework version and makes it current.
    ///
    /// Units are matched by name, then by alias; missing ones are created (kind from
    /// `unit_details`, else inferred from the name). Existing units keep their kind; the
    /// library's aliases are added. All in one transaction with its audit entry: on any
    /// error nothing is stored.
    pub async fn import_library(
        &self,
        library: &ImportOutput,
        source_name: &str,
        source_sha256: &str,
        actor: &Actor,
    ) -> StoreResult<FrameworkId> {
        if source_sha256.len() != 64 || !source_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::invalid("来源文件的 SHA-256 应为64位十六进制数"));
        }
        let source_sha256 = source_sha256.to_ascii_lowercase();
        let tx = self.begin().await?;
        let id = import_in(&tx, library, source_name, &source_sha256, actor).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// All stored versions, newest first.
    pub async fn frameworks(&self) -> StoreResult<Vec<FrameworkInfo>> {
        let rows = framework::Entity::find()
            .order_by_desc(framework::Column::Id)
            .all(self.connection())
            .await?;
        Ok(rows.into_iter().map(FrameworkInfo::from).collect())
    }

    /// The current version with its tree, if any has been imported.
    pub async fn current_framework(&self) -> StoreResult<Option<StoredFramework>> {
        match current_framework_id(self.connection()).await? {
            Some(id) => Ok(Some(load_tree(self.connection(), id).await?)),
            None => Ok(None),
        }
    }

    /// Any version with its tree.
    pub async fn framework_tree(&self, id: FrameworkId) -> StoreResult<StoredFramework> {
        load_tree(self.connection(), id.0).await
    }

    /// The importer's diagnostics for a version, in report order.
    pub async fn framework_diagnostics(&self, id: FrameworkId) -> StoreResult<Vec<Diagnostic>> {
        framework::Entity::find_by_id(id.0)
            .one(self.connection())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("指标体系版本 #{id}")))?;
        let rows = import_diagnostic::Entity::find()
            .filter(import_diagnostic::Column::FrameworkId.eq(id.0))
            .order_by_asc(import_diagnostic::Column::Position)
            .all(self.connection())
            .await?;
        rows.into_iter()
            .map(|d| {
                Ok(Diagnostic {
                    severity: enum_from_str(&d.severity)?,
                    kind: enum_from_str(&d.kind)?,
                    indicator: d.indicator,
                    line: d.line.and_then(|l| u32::try_from(l).ok()),
                    message: d.message,
                })
            })
            .collect()
    }
}

async fn import_in(
    tx: &Tx,
    library: &ImportOutput,
    source_name: &str,
    source_sha256: &str,
    actor: &Actor,
) -> StoreResult<FrameworkId> {
    let conn = tx.connection();
    let fw = &library.framework;
    let imported_at = now();
    let framework_id = framework::ActiveModel {
        title: Set(fw.title.clone()),
        source_name: Set(source_name.to_string()),
        source_sha256: Set(source_sha256.to_string()),
        imported_at: Set(imported_at),
        is_current: Set(false),
        note: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?
    .id;

    // Units: every name the library uses, in order of first appearance.
    let mut names: Vec<&str> = Vec::new();
    let mut seen = BTreeSet::new();
    for name in fw
        .units
        .iter()
        .chain(library.unit_details.iter().map(|u| &u.name))
        .chain(
            fw.walk_indicators()
                .into_iter()
                .flat_map(|(_, i)| i.units.iter()),
        )
    {
        if seen.insert(name.as_str()) {
            names.push(name.as_str());
        }
    }
    let mut dir = UnitDirectory::load(conn).await?;
    let mut units_created = Vec::new();
    let created_at = now();
    for name in names {
        if dir.resolve(name).is_some() {
            continue;
        }
        let trimmed = name.trim();
        if trimmed.is_empty() || trimmed != name {
            return Err(StoreError::invalid(format!(
                "单位名称“{name}”为空或带有空白"
            )));
        }
        let kind = library
            .unit_details
            .iter()
            .find(|u| u.name == name)
            .map(|u| u.kind)
            .unwrap_or_else(|| UnitKind::infer(name));
        let id = unit::ActiveModel {
            name: Set(name.to_string()),
            kind: Set(enum_to_str(&kind)),
            disabled: Set(false),
            created_at: Set(created_at),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(unique(name))?
        .id;
        dir.by_name.insert(name.to_string(), id);
        units_created.push(name.to_string());
    }

    let mut aliases_added = Vec::new();
    for detail in &library.unit_details {
        let Some(unit_id) = dir.resolve(&detail.name) else {
            continue;
        };
        for alias in &detail.aliases {
            match (dir.by_alias.get(alias), dir.by_name.get(alias)) {
                (Some(owner), _) if *owner == unit_id => continue,
                (None, None) => {}
                _ => {
                    return Err(StoreError::Conflict {
                        field: "alias",
                        value: alias.clone(),
                    });
                }
            }
            unit_alias::ActiveModel {
                unit_id: Set(unit_id),
                alias: Set(alias.clone()),
                ..Default::default()
            }
            .insert(conn)
            .await
            .map_err(unique(alias))?;
            dir.by_alias.insert(alias.clone(), unit_id);
            aliases_added.push((alias.clone(), detail.name.clone()));
        }
    }

    // Nodes in document order; parents are inserted before their children.
    let flat = flatten(&fw.indicators);
    let mut node_ids: Vec<i64> = Vec::with_capacity(flat.len());
    let mut assignments: Vec<assignment::ActiveModel> = Vec::new();
    for (doc_order, item) in flat.iter().enumerate() {
        let (code, title, is_leaf, line) = match item.node {
            Node::Heading(h) => (&h.code, &h.title, false, h.line),
            Node::Indicator(i) => (&i.code, &i.text, true, i.line),
        };
        let parent_id = item.parent.and_then(|p| node_ids.get(p).copied());
        let node_id = framework_node::ActiveModel {
            framework_id: Set(framework_id),
            parent_id: Set(parent_id),
            position: Set(index_i32(item.position, "节点序号")?),
            doc_order: Set(index_i32(doc_order, "节点序号")?),
            depth: Set(index_i32(item.depth, "层级")?),
            code: Set(code.clone()),
            title: Set(title.clone()),
            is_leaf: Set(is_leaf),
            source_line: Set(line.map(|l| to_i32(l, "行号")).transpose()?),
            ..Default::default()
        }
        .insert(conn)
        .await?
        .id;
        node_ids.push(node_id);

        if let Node::Indicator(indicator) = item.node {
            if let Some(stray) = indicator.lead.iter().find(|l| !indicator.units.contains(l)) {
                return Err(StoreError::invalid(format!(
                    "第{}项指标的牵头单位“{stray}”不在其责任单位中",
                    indicator.code
                )));
            }
            let mut held: Vec<(i64, Role)> = Vec::new();
            for name in &indicator.units {
                let unit_id = dir.resolve(name).ok_or_else(|| {
                    StoreError::invalid(format!(
                        "第{}项指标的责任单位“{name}”无法识别",
                        indicator.code
                    ))
                })?;
                let role = indicator.role_of(name).unwrap_or(Role::Co);
                match held.iter_mut().find(|(u, _)| *u == unit_id) {
                    // Two spellings of one unit: keep it once, leading if either leads.
                    Some((_, r)) => {
                        if role == Role::Lead {
                            *r = Role::Lead;
                        }
                    }
                    None => held.push((unit_id, role)),
                }
            }
            for (position, (unit_id, role)) in held.into_iter().enumerate() {
                assignments.push(assignment::ActiveModel {
                    node_id: Set(node_id),
                    unit_id: Set(unit_id),
                    role: Set(enum_to_str(&role)),
                    position: Set(index_i32(position, "单位序号")?),
                    ..Default::default()
                });
            }
        }
    }
    let assignment_count = assignments.len();
    for chunk in assignments.chunks(INSERT_CHUNK) {
        assignment::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await
            .map_err(unique("责任单位"))?;
    }

    let mut diagnostics = Vec::with_capacity(library.diagnostics.len());
    for (position, d) in library.diagnostics.iter().enumerate() {
        diagnostics.push(import_diagnostic::ActiveModel {
            framework_id: Set(framework_id),
            position: Set(index_i32(position, "诊断序号")?),
            severity: Set(enum_to_str(&d.severity)),
            kind: Set(enum_to_str(&d.kind)),
            indicator: Set(d.indicator.clone()),
            line: Set(d.line.map(|l| to_i32(l, "行号")).transpose()?),
            message: Set(d.message.clone()),
            ..Default::default()
        });
    }
    for chunk in diagnostics.chunks(INSERT_CHUNK) {
        import_diagnostic::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await?;
    }

    // Make it current: first retire the old one (the unique index allows one current).
    let previous = framework::Entity::find()
        .filter(framework::Column::IsCurrent.eq(true))
        .one(conn)
        .await?;
    framework::Entity::update_many()
        .col_expr(framework::Column::IsCurrent, Expr::value(false))
        .filter(framework::Column::IsCurrent.eq(true))
        .exec(conn)
        .await?;
    framework::Entity::update_many()
        .col_expr(framework::Column::IsCurrent, Expr::value(true))
        .filter(framework::Column::Id.eq(framework_id))
        .exec(conn)
        .await?;

    let summary = ImportSummary {
        title: &fw.title,
        source_name,
        source_sha256,
        level_counts: fw.level_counts(),
        units_created,
        aliases_added,
        assignments: assignment_count,
        diagnostics: library.diagnostics.len(),
    };
    let mut entry = AuditEntry::new(
        actor,
        "framework.import",
        "framework",
        Some(framework_id.to_string()),
    )
    .after(summary);
    if let Some(prev) = previous {
        entry = entry.before(serde_json::json!({"current": prev.id, "title": prev.title}));
    }
    append_audit(tx, entry).await?;
    Ok(FrameworkId(framework_id))
}

/// Id of the current version.
pub(crate) async fn current_framework_id(conn: &impl ConnectionTrait) -> StoreResult<Option<i64>> {
    Ok(framework::Entity::find()
        .filter(framework::Column::IsCurrent.eq(true))
        .one(conn)
        .await?
        .map(|f| f.id))
}

/// Subquery: ids of the nodes of one version.
pub(crate) fn node_ids_of(framework_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(framework_node::Column::Id)
        .from(framework_node::Entity)
        .and_where(framework_node::Column::FrameworkId.eq(framework_id))
        .to_owned()
}

/// Unit id → name of all units.
pub(crate) async fn unit_names(conn: &impl ConnectionTrait) -> StoreResult<HashMap<i64, String>> {
    Ok(unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// The assignments of one version, grouped by node, in document order of units.
pub(crate) async fn assignments_of(
    conn: &impl ConnectionTrait,
    framework_id: i64,
) -> StoreResult<HashMap<i64, Vec<StoredAssignment>>> {
    let names = unit_names(conn).await?;
    let rows = assignment::Entity::find()
        .filter(assignment::Column::NodeId.in_subquery(node_ids_of(framework_id)))
        .order_by_asc(assignment::Column::NodeId)
        .order_by_asc(assignment::Column::Position)
        .all(conn)
        .await?;
    let mut out: HashMap<i64, Vec<StoredAssignment>> = HashMap::new();
    for row in rows {
        out.entry(row.node_id).or_default().push(StoredAssignment {
            unit_id: UnitId(row.unit_id),
            unit_name: names.get(&row.unit_id).cloned().unwrap_or_default(),
            role: enum_from_str(&row.role)?,
        });
    }
    Ok(out)
}

pub(crate) async fn load_tree(
    conn: &impl ConnectionTrait,
    framework_id: i64,
) -> StoreResult<StoredFramework> {
    let info = framework::Entity::find_by_id(framework_id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("指标体系版本 #{framework_id}")))?;
    let nodes = framework_node::Entity::find()
        .filter(framework_node::Column::FrameworkId.eq(framework_id))
        .order_by_asc(framework_node::Column::DocOrder)
        .all(conn)
        .await?;
    let mut assignments = assignments_of(conn, framework_id).await?;
    let mut children: HashMap<Option<i64>, Vec<framework_node::Model>> = HashMap::new();
    for node in nodes {
        children.entry(node.parent_id).or_default().push(node);
    }
    fn build(
        parent: Option<i64>,
        children: &mut HashMap<Option<i64>, Vec<framework_node::Model>>,
        assignments: &mut HashMap<i64, Vec<StoredAssignment>>,
    ) -> Vec<StoredNode> {
        let Some(mut list) = children.remove(&parent) else {
            return Vec::new();
        };
        list.sort_by_key(|n| n.position);
        list.into_iter()
            .map(|n| StoredNode {
                id: NodeId(n.id),
                children: build(Some(n.id), children, assignments),
                assignments: assignments.remove(&n.id).unwrap_or_default(),
                code: n.code,
                title: n.title,
                is_leaf: n.is_leaf,
                depth: u32::try_from(n.depth).unwrap_or(0),
                source_line: n.source_line.and_then(|l| u32::try_from(l).ok()),
            })
            .collect()
    }
    let roots = build(None, &mut children, &mut assignments);
    Ok(StoredFramework {
        info: info.into(),
        roots,
    })
}
