//! 责任分工矩阵: indicators × units, who leads and who works with them.

use crate::AppState;
use crate::access::CountyReader;
use crate::error::WebResult;
use crate::views::indicators::current;
use crate::views::{Layout, render};
use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use fazhi_store::{NodeId, Role, UnitId, UnitKind, UnitSummary};
use std::collections::HashMap;

pub struct MatrixRow {
    pub id: NodeId,
    pub code: String,
    /// The headings above, when they differ from the row before (`一、… ／ 1.…`).
    pub heading: Option<String>,
    /// The indicator's full text (shown on hover, and on its page).
    pub full: String,
    /// The first characters, for the fixed column.
    pub text: String,
    /// One mark per unit column: "牵", "配" or "".
    pub marks: Vec<&'static str>,
    pub unassigned: bool,
}

/// A unit column: the name shortened for the header, the full one on hover.
pub struct MatrixUnit {
    pub u: UnitSummary,
    pub short: String,
    pub is_group: bool,
}

/// `县行政审批服务局` → `行政审批服务局`: the county prefix says nothing in a county's own
/// table, and every character costs header height.
fn short_name(name: &str) -> String {
    let s = name
        .strip_prefix("临沂市")
        .or_else(|| name.strip_prefix('县'))
        .unwrap_or(name);
    if s.chars().count() < 2 {
        name.to_string()
    } else {
        s.to_string()
    }
}

#[derive(Template)]
#[template(path = "matrix.html")]
struct MatrixPage {
    layout: Option<Layout>,
    units: Vec<MatrixUnit>,
    rows: Vec<MatrixRow>,
}

pub async fn matrix(
    State(state): State<AppState>,
    CountyReader(cu): CountyReader,
) -> WebResult<impl IntoResponse> {
    let fw = current(&state).await?;
    let units: Vec<UnitSummary> = state
        .store
        .units()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .collect();
    let column: HashMap<UnitId, usize> = units.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
    let mut last_heading = String::new();
    let rows = fw
        .leaves()
        .into_iter()
        .map(|(path, node)| {
            let heading_text = path
                .iter()
                .map(|h| {
                    let sep = if h.depth == 0 { "、" } else { "." };
                    format!("{}{sep}{}", h.code, h.title.trim_end_matches('。'))
                })
                .collect::<Vec<_>>()
                .join(" ／ ");
            let heading = (heading_text != last_heading).then(|| heading_text.clone());
            last_heading = heading_text;
            let mut marks = vec![""; units.len()];
            for a in &node.assignments {
                if let Some(&c) = column.get(&a.unit_id) {
                    marks[c] = if a.role == Role::Lead { "牵" } else { "配" };
                }
            }
            MatrixRow {
                id: node.id,
                code: node.code.clone(),
                heading,
                full: node.title.clone(),
                text: node.title.chars().take(16).collect(),
                marks,
                unassigned: node.assignments.is_empty(),
            }
        })
        .collect();
    render(&MatrixPage {
        layout: Layout::build(&state, &cu).await?,
        units: units
            .into_iter()
            .map(|u| MatrixUnit {
                short: short_name(&u.name),
                is_group: u.kind == UnitKind::Group,
                u,
            })
            .collect(),
        rows,
    })
}
