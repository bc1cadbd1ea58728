//! The office's corrections of the rules (量化要求) read from an indicator's text;
//! kept by indicator 序号 so they survive a re-import.

use crate::AppState;
use crate::access::Admin;
use crate::error::{WebError, WebResult};
use crate::views::flash;
use crate::views::opt_number;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_domain::measure::{manual_rule, rule_from_parts};
use fazhi_domain::rules::{DurationUnit, RuleKind};
use fazhi_domain::ruleset::{CorrectionAction, KeyedRule, RuleOrigin};
use fazhi_store::NodeId;
use serde::Deserialize;

// ---- Rule corrections (the office) ----

#[derive(Deserialize)]
pub struct CorrectionForm {
    /// `replace`, `delete` or `add`.
    action: String,
    key: Option<String>,
    kind: Option<String>,
    subject: Option<String>,
    op: Option<String>,
    value: Option<String>,
    unit: Option<String>,
    reason: Option<String>,
}

pub async fn correct(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(node): Path<NodeId>,
    Form(f): Form<CorrectionForm>,
) -> WebResult<Response> {
    let target = || {
        f.key
            .clone()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| WebError::BadRequest("缺少要更正的要求".into()))
    };
    let rule = || -> WebResult<_> {
        let kind = f.kind.as_deref().unwrap_or("");
        let subject = f.subject.as_deref().unwrap_or("");
        let value = opt_number(&f.value, "数值")?
            .ok_or_else(|| WebError::BadRequest("请填写数值".into()))?;
        let parsed = rule_from_parts(
            kind,
            subject,
            f.op.as_deref().unwrap_or(">="),
            value,
            f.unit.as_deref().unwrap_or(""),
        )
        .map_err(WebError::BadRequest)?;
        Ok(manual_rule(parsed, subject, None))
    };
    let action = match f.action.as_str() {
        "replace" => CorrectionAction::Replace {
            target: target()?,
            rule: rule()?,
        },
        "delete" => CorrectionAction::Delete { target: target()? },
        "add" => CorrectionAction::Add { rule: rule()? },
        other => return Err(WebError::BadRequest(format!("不认识的操作“{other}”"))),
    };
    let what = match action {
        CorrectionAction::Replace { .. } => "修正",
        CorrectionAction::Delete { .. } => "删除",
        CorrectionAction::Add { .. } => "补充",
    };
    state
        .store
        .add_rule_correction(
            node,
            action,
            f.reason.as_deref().unwrap_or(""),
            &cu.user.actor(),
        )
        .await?;
    flash(
        &state,
        &cu,
        format!("已{what}量化要求；重新导入指标体系后仍然有效"),
    )
    .await?;
    Ok(Redirect::to(&format!("/indicators/{node}#rules")).into_response())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    node: i64,
}

pub async fn revoke(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Path(id): Path<fazhi_store::CorrectionId>,
    Form(f): Form<RevokeForm>,
) -> WebResult<Response> {
    state
        .store
        .revoke_rule_correction(id, &cu.user.actor())
        .await?;
    flash(&state, &cu, "已撤销这条更正，恢复为自动识别的结果").await?;
    Ok(Redirect::to(&format!("/indicators/{}#rules", f.node)).into_response())
}

/// The rules block of an indicator page: the rules in force, with what was corrected.
pub struct IndicatorRules {
    pub rules: Vec<KeyedRule>,
    pub deleted: Vec<(i64, KeyedRule)>,
    pub corrections: Vec<fazhi_store::StoredCorrection>,
    pub stale: usize,
}

impl IndicatorRules {
    pub fn correction_id(r: &KeyedRule) -> Option<i64> {
        match &r.origin {
            RuleOrigin::Extracted => None,
            RuleOrigin::Corrected { correction_id, .. } | RuleOrigin::Added { correction_id } => {
                Some(*correction_id)
            }
        }
    }

    pub fn original(r: &KeyedRule) -> String {
        match &r.origin {
            RuleOrigin::Corrected { original, .. } => original.describe(),
            _ => String::new(),
        }
    }
}

/// Parts of a rule for prefilling the correction form: (kind, op, value, unit).
pub fn rule_parts(r: &KeyedRule) -> (&'static str, &'static str, String, String) {
    let num = |v: f64| {
        if v.fract() == 0.0 {
            format!("{}", v as i64)
        } else {
            v.to_string()
        }
    };
    match &r.rule.kind {
        RuleKind::Percent { op, value } => ("percent", op.symbol(), num(*value), String::new()),
        RuleKind::Duration { op, value, unit } => (
            "duration",
            op.symbol(),
            num(*value),
            match unit {
                DurationUnit::Workday => "workday",
                DurationUnit::Hour => "hour",
                _ => "day",
            }
            .into(),
        ),
        RuleKind::Count { op, value, unit } => ("count", op.symbol(), num(*value), unit.clone()),
        RuleKind::Frequency {
            op,
            times,
            every_years,
        } => (
            "frequency",
            op.symbol(),
            times.to_string(),
            every_years.to_string(),
        ),
        RuleKind::Deadline { month, day } => (
            "deadline",
            ">=",
            (month * 100 + day).to_string(),
            String::new(),
        ),
        RuleKind::Date { month, day } => {
            ("date", ">=", (month * 100 + day).to_string(), String::new())
        }
    }
}

pub async fn indicator_rules(
    state: &AppState,
    node: NodeId,
    code: &str,
) -> WebResult<IndicatorRules> {
    let set = state.store.node_rules(node).await?;
    Ok(IndicatorRules {
        rules: set.rules,
        deleted: set.deleted,
        stale: set.stale.len(),
        corrections: state.store.rule_corrections(code).await?,
    })
}
