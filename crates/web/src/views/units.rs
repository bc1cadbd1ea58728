//! 责任单位 list and one unit's 责任清单.

use crate::access::{CountyReader, UnitViewer};
use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use fazhi_store::{Role, UnitDetail, UnitKind, UnitSummary};

use super::{Layout, render};
use crate::AppState;
use crate::error::WebResult;

#[derive(Template)]
#[template(path = "units/list.html")]
struct UnitsPage {
    layout: Option<Layout>,
    csrf: String,
    is_admin: bool,
    units: Vec<(UnitSummary, Vec<String>)>,
    kinds: Vec<(&'static str, &'static str)>,
}

pub const KINDS: [UnitKind; 6] = [
    UnitKind::Government,
    UnitKind::Party,
    UnitKind::Judicial,
    UnitKind::Branch,
    UnitKind::Group,
    UnitKind::Other,
];

pub fn kind_options() -> Vec<(&'static str, &'static str)> {
    KINDS.iter().map(|k| (k.as_str(), k.label())).collect()
}

pub async fn list(
    State(state): State<AppState>,
    CountyReader(cu): CountyReader,
) -> WebResult<impl IntoResponse> {
    let mut units = Vec::new();
    for u in state.store.units().await? {
        let members = if u.kind == UnitKind::Group {
            state
                .store
                .unit(u.id)
                .await?
                .members
                .into_iter()
                .map(|(_, n)| n)
                .collect()
        } else {
            Vec::new()
        };
        units.push((u, members));
    }
    render(&UnitsPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        is_admin: cu.user.role == fazhi_store::UserRole::Admin,
        units,
        kinds: kind_options(),
    })
}

/// One 一级 section of a unit's list, with its 二级 sections.
pub struct Section {
    pub code: String,
    pub title: String,
    pub groups: Vec<SubSection>,
}

pub struct SubSection {
    pub code: String,
    pub title: String,
    pub items: Vec<ListItem>,
}

pub struct ListItem {
    pub id: i64,
    pub code: String,
    pub text: String,
    pub lead: bool,
    pub via_group: Option<String>,
    /// The lead units (other than this one), so a co-unit knows whom to work with.
    pub leads: String,
}

#[derive(Template)]
#[template(path = "units/responsibility.html")]
struct ListPage {
    layout: Option<Layout>,
    unit: UnitDetail,
    kind_label: &'static str,
    sections: Vec<Section>,
    lead_count: usize,
    co_count: usize,
    via_group_count: usize,
    group_without_members: bool,
    is_admin: bool,
}

pub async fn responsibility_list(
    State(state): State<AppState>,
    UnitViewer { cu, unit: id }: UnitViewer,
) -> WebResult<impl IntoResponse> {
    let unit = state.store.unit(id).await?;
    let items = state.unit_indicators(id).await?;
    let fw = super::indicators::current(&state).await?;
    let leads: std::collections::HashMap<fazhi_store::NodeId, Vec<String>> = fw
        .leaves()
        .into_iter()
        .map(|(_, n)| {
            let names = n
                .assignments
                .iter()
                .filter(|a| a.role == Role::Lead && a.unit_id != id)
                .map(|a| a.unit_name.clone())
                .collect();
            (n.id, names)
        })
        .collect();
    let mut sections: Vec<Section> = Vec::new();
    let (mut lead_count, mut co_count, mut via_group_count) = (0, 0, 0);
    for item in items.iter().cloned() {
        match (&item.via_group, item.role) {
            (Some(_), _) => via_group_count += 1,
            (None, Role::Lead) => lead_count += 1,
            (None, Role::Co) => co_count += 1,
        }
        let top = item.ancestors.first();
        let second = item.ancestors.get(1);
        let (top_code, top_title) = top
            .map(|h| (h.code.clone(), h.title.clone()))
            .unwrap_or_default();
        let (sub_code, sub_title) = second
            .map(|h| (h.code.clone(), h.title.clone()))
            .unwrap_or_default();
        if sections
            .last()
            .is_none_or(|s| s.code != top_code || s.title != top_title)
        {
            sections.push(Section {
                code: top_code,
                title: top_title,
                groups: Vec::new(),
            });
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if section
            .groups
            .last()
            .is_none_or(|g| g.code != sub_code || g.title != sub_title)
        {
            section.groups.push(SubSection {
                code: sub_code,
                title: sub_title,
                items: Vec::new(),
            });
        }
        if let Some(group) = section.groups.last_mut() {
            group.items.push(ListItem {
                leads: leads
                    .get(&item.node_id)
                    .map(|v| v.join("、"))
                    .unwrap_or_default(),
                id: item.node_id.0,
                code: item.code,
                text: item.text,
                lead: item.role == Role::Lead,
                via_group: item.via_group.map(|(_, n)| n),
            });
        }
    }
    render(&ListPage {
        layout: Layout::build(&state, &cu).await?,
        kind_label: unit.kind.label(),
        group_without_members: unit.kind == UnitKind::Group && unit.members.is_empty(),
        unit,
        sections,
        lead_count,
        co_count,
        via_group_count,
        is_admin: cu.user.role == fazhi_store::UserRole::Admin,
    })
}
