//! 责任分工矩阵: indicators × units, who leads and who works with them.

use crate::AppState;
use crate::access::CountyReader;
use crate::error::WebResult;
use crate::views::indicators::current;
use crate::views::{Layout, render};
use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use fazhi_store::{NodeId, Role, UnitId, UnitSummary};
use std::collections::HashMap;

pub struct MatrixRow {
    pub id: NodeId,
    pub code: String,
    pub path: String,
    pub text: String,
    /// One mark per unit column: "牵", "配" or "".
    pub marks: Vec<&'static str>,
    pub unassigned: bool,
}

#[derive(Template)]
#[template(path = "matrix.html")]
struct MatrixPage {
    layout: Option<Layout>,
    units: Vec<UnitSummary>,
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
    let rows = fw
        .leaves()
        .into_iter()
        .map(|(path, node)| {
            let mut marks = vec![""; units.len()];
            for a in &node.assignments {
                if let Some(&c) = column.get(&a.unit_id) {
                    marks[c] = if a.role == Role::Lead { "牵" } else { "配" };
                }
            }
            MatrixRow {
                id: node.id,
                code: node.code.clone(),
                path: path
                    .iter()
                    .map(|h| h.code.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
                text: node.title.chars().take(40).collect(),
                marks,
                unassigned: node.assignments.is_empty(),
            }
        })
        .collect();
    render(&MatrixPage {
        layout: Layout::build(&state, &cu).await?,
        units,
        rows,
    })
}
