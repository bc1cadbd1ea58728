//! Campaign rounds (创建周期): the list, and opening a new round, which creates the tasks.

use crate::AppState;
use crate::access::{Admin, CountyReader};
use crate::error::{WebError, WebResult};
use crate::views::opt_date;
use crate::views::{Layout, flash_with_warning, opt_id, render};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_store::{NewRound, RoundId, RoundInfo, UserRole};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    layout: Option<Layout>,
    csrf: String,
    is_admin: bool,
    rounds: Vec<RoundInfo>,
    /// What a round opened now would leave out, said before the office opens it.
    gaps: fazhi_store::DivisionGaps,
    /// The round in progress and the current framework version, when the round uses an
    /// earlier one.
    newer_version: Option<(RoundId, fazhi_store::FrameworkInfo)>,
    /// Tasks of the round in progress kept on an indicator of an earlier version.
    earlier_tasks: Vec<fazhi_store::SyncedTask>,
}

pub async fn rounds(
    State(state): State<AppState>,
    CountyReader(cu): CountyReader,
) -> WebResult<impl IntoResponse> {
    let rounds = state.store.rounds().await?;
    let active = rounds.iter().find(|r| r.is_active);
    let current = state
        .store
        .frameworks()
        .await?
        .into_iter()
        .find(|f| f.is_current);
    let newer_version = match (active, current) {
        (Some(r), Some(f)) if f.id != r.framework_id => Some((r.id, f)),
        _ => None,
    };
    let earlier_tasks = match active {
        Some(r) => state.store.tasks_on_earlier_versions(r.id).await?,
        None => Vec::new(),
    };
    render(&RoundsPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        is_admin: cu.user.role == UserRole::Admin,
        gaps: state.store.division_gaps().await?,
        rounds,
        newer_version,
        earlier_tasks,
    })
}

#[derive(Deserialize)]
pub struct RoundForm {
    name: String,
    starts_on: Option<String>,
    ends_on: Option<String>,
    due_on: Option<String>,
    copy_from: Option<String>,
}

pub async fn open_round(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Form(f): Form<RoundForm>,
) -> WebResult<Response> {
    let starts_on = opt_date(&f.starts_on, "开始日期")?
        .ok_or_else(|| WebError::BadRequest("请填写开始日期".into()))?;
    let ends_on = opt_date(&f.ends_on, "结束日期")?
        .ok_or_else(|| WebError::BadRequest("请填写结束日期".into()))?;
    let summary = state
        .store
        .open_round(
            NewRound {
                name: f.name,
                starts_on,
                ends_on,
                framework_id: None,
                due_on: opt_date(&f.due_on, "统一截止日期")?,
                copy_from: opt_id(&f.copy_from).map(RoundId),
            },
            &cu.user.actor(),
        )
        .await?;
    let mut msg = format!(
        "已开启新一轮创建工作，生成任务 {} 项",
        summary.tasks_created
    );
    if summary.due_dates_copied > 0 {
        msg.push_str(&format!(
            "，沿用上一轮截止日期 {} 项",
            summary.due_dates_copied
        ));
    }
    msg.push('。');
    let mut warnings = Vec::new();
    for g in &summary.empty_groups {
        warnings.push(format!(
            "“{}”尚未设置成员单位，第{}项指标暂未生成任务（设置成员单位后自动补建）。",
            g.name,
            g.indicator_codes.join("、")
        ));
    }
    if !summary.indicators_without_units.is_empty() {
        warnings.push(format!(
            "第{}项指标没有责任单位，未生成任务（分派责任单位后自动补建）。",
            summary.indicators_without_units.join("、")
        ));
    }
    let warning = (!warnings.is_empty()).then(|| format!("注意：{}", warnings.concat()));
    flash_with_warning(&state, &cu, msg, warning).await?;
    Ok(Redirect::to("/tasks").into_response())
}

/// `POST /admin/rounds/{id}/close`: 结束本轮. The round is kept, read-only, exportable.
pub async fn close_round(
    State(state): State<AppState>,
    Admin(cu): Admin,
    axum::extract::Path(id): axum::extract::Path<RoundId>,
) -> WebResult<Response> {
    let closed = state.store.close_round(id, &cu.user.actor()).await?;
    flash_with_warning(
        &state,
        &cu,
        format!(
            "“{}”已结束：任务只能查看和导出，不再修改。可以以它为基础开启新一轮（沿用截止日期）。",
            closed.name
        ),
        None,
    )
    .await?;
    Ok(Redirect::to("/rounds").into_response())
}

// ---- 改用新版本指标体系 (Store::remap_round) ----

/// One indicator of the round's version and the indicator of the new version it most
/// likely became, with the other candidates, for the office to confirm.
pub struct RemapRow {
    pub old_id: i64,
    pub old_code: String,
    pub old_text: String,
    /// Tasks of the round on this indicator.
    pub tasks: usize,
    /// (node id, code, text, similarity in percent), the guess first.
    pub choices: Vec<(i64, String, String, u32)>,
    /// The guess is the same text (nothing to check).
    pub same: bool,
}

#[derive(Template)]
#[template(path = "rounds_remap.html")]
struct RemapPage {
    layout: Option<Layout>,
    csrf: String,
    round: RoundInfo,
    from: fazhi_store::FrameworkInfo,
    to: fazhi_store::FrameworkInfo,
    rows: Vec<RemapRow>,
    unchanged: usize,
    reworded: usize,
    unmatched: usize,
    /// Indicators of the new version no old one maps to: they get new tasks.
    added: Vec<(String, String)>,
}

/// The round and the two versions, or why the round cannot move.
async fn remap_sides(
    state: &AppState,
    id: RoundId,
) -> WebResult<(
    RoundInfo,
    fazhi_store::StoredFramework,
    fazhi_store::StoredFramework,
)> {
    let round = state.store.round(id).await?;
    if round.is_closed() || !round.is_active {
        return Err(WebError::BadRequest(format!(
            "轮次“{}”不在办理中，不能改用新版本",
            round.name
        )));
    }
    let Some(current) = state.store.current_framework().await? else {
        return Err(WebError::BadRequest("还没有导入指标体系".into()));
    };
    if current.info.id == round.framework_id {
        return Err(WebError::Conflict(format!(
            "轮次“{}”已在使用当前的第{}版指标体系，无需改用",
            round.name, current.info.id
        )));
    }
    let old = state.store.framework_tree(round.framework_id).await?;
    Ok((round, old, current))
}

pub async fn remap_form(
    State(state): State<AppState>,
    Admin(cu): Admin,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> WebResult<Response> {
    let (round, old, new) = remap_sides(&state, RoundId(id)).await?;
    let old_leaves = old.leaves();
    let new_leaves = new.leaves();
    let guesses = fazhi_import::compare::map_indicators(&old.to_domain(), &new.to_domain());
    let tasks = state
        .store
        .tasks(&fazhi_store::TaskFilter {
            round: Some(round.id),
            ..Default::default()
        })
        .await?;
    let mut per_node: std::collections::HashMap<i64, usize> = Default::default();
    for t in &tasks {
        *per_node.entry(t.node_id.0).or_default() += 1;
    }
    let choice = |g: &fazhi_import::compare::Guess| {
        new_leaves.get(g.new).map(|(_, n)| {
            (
                n.id.0,
                n.code.clone(),
                n.title.clone(),
                (g.score * 100.0).round() as u32,
            )
        })
    };
    let mut rows = Vec::with_capacity(old_leaves.len());
    let mut mapped_to = std::collections::HashSet::new();
    for m in &guesses {
        let Some((_, node)) = old_leaves.get(m.old) else {
            continue;
        };
        let mut choices: Vec<_> = m.guess.iter().filter_map(choice).collect();
        if let Some(g) = &m.guess {
            mapped_to.insert(g.new);
        }
        choices.extend(m.alternatives.iter().filter_map(choice));
        let same = choices.first().is_some_and(|c| c.2 == node.title);
        rows.push(RemapRow {
            old_id: node.id.0,
            old_code: node.code.clone(),
            old_text: node.title.clone(),
            tasks: per_node.get(&node.id.0).copied().unwrap_or(0),
            choices,
            same,
        });
    }
    let unchanged = rows.iter().filter(|r| r.same).count();
    let unmatched = rows.iter().filter(|r| r.choices.is_empty()).count();
    let reworded = rows.len() - unchanged - unmatched;
    let added = new_leaves
        .iter()
        .enumerate()
        .filter(|(i, _)| !mapped_to.contains(i))
        .map(|(_, (_, n))| (n.code.clone(), n.title.clone()))
        .collect();
    let from = old.info.clone();
    let to = new.info.clone();
    render(&RemapPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        round,
        from,
        to,
        rows,
        unchanged,
        reworded,
        unmatched,
        added,
    })
    .map(IntoResponse::into_response)
}

/// `map_<old node id>` = new node id or `none`; `code_<old node id>` = a 序号 of the new
/// version typed in, which wins over the choice.
pub async fn remap(
    State(state): State<AppState>,
    Admin(cu): Admin,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let (round, old, new) = remap_sides(&state, RoundId(id)).await?;
    let old_ids: std::collections::HashSet<i64> =
        old.leaves().iter().map(|(_, n)| n.id.0).collect();
    let by_code: std::collections::HashMap<String, i64> = new
        .leaves()
        .iter()
        .map(|(_, n)| (n.code.clone(), n.id.0))
        .collect();
    let new_ids: std::collections::HashSet<i64> = by_code.values().copied().collect();
    let mut mapping = std::collections::HashMap::new();
    let mut typed = std::collections::HashMap::new();
    for (key, value) in &fields {
        let value = value.trim();
        if let Some(old) = key.strip_prefix("map_") {
            let old: i64 = old
                .parse()
                .map_err(|_| WebError::BadRequest(format!("表单字段“{key}”无效")))?;
            if value == "none" || value.is_empty() {
                continue;
            }
            let new: i64 = value
                .parse()
                .ok()
                .filter(|n| new_ids.contains(n))
                .ok_or_else(|| WebError::BadRequest(format!("所选的新指标“{value}”不存在")))?;
            mapping.insert(fazhi_store::NodeId(old), fazhi_store::NodeId(new));
        } else if let Some(old) = key.strip_prefix("code_")
            && !value.is_empty()
        {
            let old: i64 = old
                .parse()
                .map_err(|_| WebError::BadRequest(format!("表单字段“{key}”无效")))?;
            let code = value.trim_start_matches('第').trim_end_matches('项');
            let new = by_code.get(code).copied().ok_or_else(|| {
                WebError::BadRequest(format!("新版本中没有第{code}项指标，请核对填写的序号"))
            })?;
            typed.insert(fazhi_store::NodeId(old), fazhi_store::NodeId(new));
        }
    }
    mapping.extend(typed);
    if let Some(bad) = mapping.keys().find(|k| !old_ids.contains(&k.0)) {
        return Err(WebError::BadRequest(format!(
            "指标 #{bad} 不属于本轮所用的版本"
        )));
    }
    let done = state
        .store
        .remap_round(round.id, new.info.id, &mapping, &cu.user.actor())
        .await?;
    flash_with_warning(&state, &cu, done.summary(), None).await?;
    Ok(Redirect::to("/rounds").into_response())
}
