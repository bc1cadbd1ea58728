//! The indicator system (指标体系): the tree with its filters, one indicator's page, and
//! the office's changes to who is responsible for it.

use crate::AppState;
use crate::access::Admin;
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;
use crate::views::{Layout, flash_division, opt_id, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_store::{
    NodeId, Role, StoredFramework, StoredNode, UnitId, UnitKind, UnitSummary, UserRole,
};
use serde::Deserialize;
use std::collections::HashSet;

pub(crate) async fn current(state: &AppState) -> WebResult<std::sync::Arc<StoredFramework>> {
    state.current_framework().await
}

/// A unit shown next to an indicator.
#[derive(Debug, Clone)]
pub struct Badge {
    pub unit_id: UnitId,
    pub name: String,
    pub lead: bool,
    /// For a group whose members are not named yet.
    pub group_note: Option<&'static str>,
}

pub const GROUP_WITHOUT_MEMBERS: &str = "成员单位尚未设置";

#[derive(Debug, Clone)]
pub struct LeafView {
    pub id: NodeId,
    pub code: String,
    pub text: String,
    pub badges: Vec<Badge>,
}

#[derive(Debug, Clone)]
pub enum TreeEvent {
    /// `sep` follows the code as the document prints it: `一、` at the top, `1. ` below.
    Open {
        code: String,
        sep: &'static str,
        title: String,
        count: usize,
        /// Shown open: the 一级指标 always, the rest when the list is filtered (so every
        /// hit is in view); otherwise the tree starts folded to its 二级指标.
        open: bool,
    },
    Leaf(LeafView),
    Close,
}

/// Group units that have no members yet, so pages can say so.
pub(crate) async fn empty_groups(
    state: &AppState,
    units: &[UnitSummary],
) -> WebResult<HashSet<UnitId>> {
    let mut out = HashSet::new();
    for u in units.iter().filter(|u| u.kind == UnitKind::Group) {
        if state.store.unit(u.id).await?.members.is_empty() {
            out.insert(u.id);
        }
    }
    Ok(out)
}

pub(crate) fn badges(node: &StoredNode, empty_groups: &HashSet<UnitId>) -> Vec<Badge> {
    node.assignments
        .iter()
        .map(|a| Badge {
            unit_id: a.unit_id,
            name: a.unit_name.clone(),
            lead: a.role == Role::Lead,
            group_note: empty_groups
                .contains(&a.unit_id)
                .then_some(GROUP_WITHOUT_MEMBERS),
        })
        .collect()
}

struct Filter<'a> {
    visible: Option<&'a HashSet<NodeId>>,
    text: Option<&'a str>,
    empty_groups: &'a HashSet<UnitId>,
}

impl Filter<'_> {
    fn is_active(&self) -> bool {
        self.visible.is_some() || self.text.is_some()
    }
}

/// `text` cut around each occurrence of `query`: `(piece, is_hit)` in order, for the
/// search hits to be marked. Without a query, the whole text, not a hit.
pub fn highlight(text: &str, query: &str) -> Vec<(String, bool)> {
    let query = query.trim();
    if query.is_empty() {
        return vec![(text.to_string(), false)];
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(query) {
        if at > 0 {
            out.push((rest[..at].to_string(), false));
        }
        out.push((query.to_string(), true));
        rest = &rest[at + query.len()..];
    }
    if !rest.is_empty() {
        out.push((rest.to_string(), false));
    }
    out
}

/// Flatten the tree into open/leaf/close events, keeping only matching leaves and the
/// headings above them. Returns the number of leaves kept.
fn events(
    nodes: &[StoredNode],
    f: &Filter,
    heading_matches: bool,
    depth: usize,
    out: &mut Vec<TreeEvent>,
) -> usize {
    let mut kept = 0;
    for node in nodes {
        if node.is_leaf {
            let in_unit = f.visible.is_none_or(|v| v.contains(&node.id));
            let in_text = heading_matches
                || f.text
                    .is_none_or(|t| node.title.contains(t) || node.code == t);
            if in_unit && in_text {
                out.push(TreeEvent::Leaf(LeafView {
                    id: node.id,
                    code: node.code.clone(),
                    text: node.title.clone(),
                    badges: badges(node, f.empty_groups),
                }));
                kept += 1;
            }
        } else {
            let here = heading_matches || f.text.is_some_and(|t| node.title.contains(t));
            let start = out.len();
            out.push(TreeEvent::Open {
                code: node.code.clone(),
                sep: if depth == 0 { "、" } else { ". " },
                title: node.title.clone(),
                count: 0,
                open: depth == 0 || f.is_active(),
            });
            let n = events(&node.children, f, here, depth + 1, out);
            if n == 0 {
                out.truncate(start);
            } else {
                if let Some(TreeEvent::Open { count, .. }) = out.get_mut(start) {
                    *count = n;
                }
                out.push(TreeEvent::Close);
                kept += n;
            }
        }
    }
    kept
}

#[derive(Template)]
#[template(path = "indicators/tree.html")]
struct TreePage {
    layout: Option<Layout>,
    title: String,
    total: usize,
    shown: usize,
    events: Vec<TreeEvent>,
    units: Vec<UnitSummary>,
    unit: Option<UnitId>,
    unit_locked: bool,
    q: String,
}

impl TreePage {
    fn is_selected(&self, id: &UnitId) -> bool {
        self.unit == Some(*id)
    }
}

#[derive(Deserialize)]
pub struct TreeQuery {
    unit: Option<String>,
    q: Option<String>,
}

pub async fn tree(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(query): Query<TreeQuery>,
) -> WebResult<impl IntoResponse> {
    let fw = current(&state).await?;
    let liaison = cu.user.role == UserRole::Liaison;
    let unit = if liaison {
        Some(cu.user.unit_id.ok_or_else(WebError::forbidden)?)
    } else {
        opt_id(&query.unit).map(UnitId)
    };
    let visible: Option<HashSet<NodeId>> = match unit {
        Some(u) => Some(
            state
                .unit_indicators(u)
                .await?
                .iter()
                .map(|i| i.node_id)
                .collect(),
        ),
        None => None,
    };
    let units = state.store.units().await?;
    let groups = empty_groups(&state, &units).await?;
    let q = query.q.unwrap_or_default().trim().to_string();
    let filter = Filter {
        visible: visible.as_ref(),
        text: (!q.is_empty()).then_some(q.as_str()),
        empty_groups: &groups,
    };
    let mut evs = Vec::new();
    let shown = events(&fw.roots, &filter, false, 0, &mut evs);
    render(&TreePage {
        layout: Layout::build(&state, &cu).await?,
        title: fw.info.title.clone(),
        total: fw.leaves().len(),
        shown,
        events: evs,
        units: if liaison { Vec::new() } else { units },
        unit,
        unit_locked: liaison,
        q,
    })
}

#[derive(Template)]
#[template(path = "indicators/indicator.html")]
struct DetailPage {
    layout: Option<Layout>,
    csrf: String,
    is_admin: bool,
    leaf: LeafView,
    path: Vec<(String, String)>,
    source_line: Option<u32>,
    rules: super::rules::IndicatorRules,
    units: Vec<UnitSummary>,
}

pub async fn detail(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<NodeId>,
) -> WebResult<impl IntoResponse> {
    let fw = current(&state).await?;
    let leaves = fw.leaves();
    let (ancestors, node) = leaves
        .iter()
        .find(|(_, n)| n.id == id)
        .ok_or_else(|| WebError::NotFound("未找到该指标".into()))?;
    if cu.user.role == UserRole::Liaison {
        let unit = cu.user.unit_id.ok_or_else(WebError::forbidden)?;
        let mine = state
            .unit_indicators(unit)
            .await?
            .iter()
            .any(|i| i.node_id == id);
        if !mine {
            return Err(WebError::Forbidden("这项指标不在本单位的责任清单中".into()));
        }
    }
    let units = state.store.units().await?;
    let groups = empty_groups(&state, &units).await?;
    render(&DetailPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        is_admin: cu.user.role == UserRole::Admin,
        leaf: LeafView {
            id: node.id,
            code: node.code.clone(),
            text: node.title.clone(),
            badges: badges(node, &groups),
        },
        path: ancestors
            .iter()
            .map(|h| (h.code.clone(), h.title.clone()))
            .collect(),
        source_line: node.source_line,
        rules: super::rules::indicator_rules(&state, node.id, &node.code).await?,
        units: units.into_iter().filter(|u| !u.disabled).collect(),
    })
}

#[derive(Deserialize)]
pub struct AssignForm {
    unit_id: i64,
    #[serde(default)]
    role: Option<String>,
}

async fn unit_name(state: &AppState, id: UnitId) -> WebResult<String> {
    Ok(state.store.unit(id).await?.name)
}

pub async fn assign(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<NodeId>,
    Form(form): Form<AssignForm>,
) -> WebResult<Response> {
    let role = if form.role.as_deref() == Some("lead") {
        Role::Lead
    } else {
        Role::Co
    };
    let unit = UnitId(form.unit_id);
    let change = state.store.assign(id, unit, role, &cu.user.actor()).await?;
    let name = unit_name(&state, unit).await?;
    flash_division(
        &state,
        &cu,
        format!("已将{name}设为{}单位", role.label()),
        &change.tasks,
    )
    .await?;
    Ok(Redirect::to(&format!("/indicators/{id}")).into_response())
}

pub async fn unassign(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<NodeId>,
    Form(form): Form<AssignForm>,
) -> WebResult<Response> {
    let unit = UnitId(form.unit_id);
    let change = state.store.unassign(id, unit, &cu.user.actor()).await?;
    let name = unit_name(&state, unit).await?;
    flash_division(&state, &cu, format!("已取消{name}的责任"), &change.tasks).await?;
    Ok(Redirect::to(&format!("/indicators/{id}")).into_response())
}

pub async fn set_lead(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<NodeId>,
    Form(form): Form<AssignForm>,
) -> WebResult<Response> {
    let unit = UnitId(form.unit_id);
    let change = state.store.set_lead(id, unit, &cu.user.actor()).await?;
    let name = unit_name(&state, unit).await?;
    flash_division(
        &state,
        &cu,
        format!("已将{name}设为牵头单位"),
        &change.tasks,
    )
    .await?;
    Ok(Redirect::to(&format!("/indicators/{id}")).into_response())
}
