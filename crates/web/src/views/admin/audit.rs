//! 操作日志: the audit log with its filters and the hash-chain check.

use crate::AppState;
use crate::access::Admin;
use crate::error::{WebError, WebResult};
use crate::views::{Layout, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use fazhi_store::{AuditFilter, AuditRecord};
use serde::Deserialize;

/// Entity types of the audit log with their Chinese names, in the filter's order.
pub const AUDIT_ENTITIES: &[(&str, &str)] = &[
    ("framework", "指标体系"),
    ("indicator", "责任分工"),
    ("unit", "单位"),
    ("user", "用户"),
    ("api_token", "接口令牌"),
    ("campaign_round", "轮次"),
    ("task", "任务"),
    ("progress_report", "工作进展"),
    ("evidence", "佐证材料"),
    ("blob", "文件"),
    ("rule_correction", "量化要求更正"),
    ("measurement", "填报数据"),
    ("ledger_case", "台账"),
    ("supervision_notice", "督办单"),
    ("calendar_year", "节假日安排"),
    ("calendar_feed", "日历订阅"),
    ("job", "后台任务（材料汇编）"),
];

/// The Chinese name of an audit action code, if known.
pub fn audit_action_label(code: &str) -> Option<&'static str> {
    code.parse::<fazhi_store::AuditAction>()
        .ok()
        .map(fazhi_store::AuditAction::label)
}

/// The Chinese name of an audit entity type, if known.
pub fn audit_entity_label(code: &str) -> Option<&'static str> {
    AUDIT_ENTITIES
        .iter()
        .find(|(k, _)| *k == code)
        .map(|(_, label)| *label)
}

/// One audit entry as the log page shows it: Chinese names (the raw codes stay
/// visible, since people filter by them), a link to the object where there is a page.
pub struct AuditRow {
    pub e: AuditRecord,
    /// The Chinese name, or the raw code when unknown.
    pub action_label: String,
    pub entity_label: String,
    /// The entity id as shown (a file's SHA-256 shortened).
    pub entity_id_shown: Option<String>,
    /// The name of the user or unit the entry is about (`张三`, `县司法局`), when known:
    /// people read names, not `用户 #5`.
    pub entity_name: Option<String>,
    pub link: Option<String>,
    /// The recorded states, indented for reading.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Indented JSON for reading; the stored text as it is when it is not JSON.
fn pretty_json(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string())
}

impl From<AuditRecord> for AuditRow {
    fn from(e: AuditRecord) -> Self {
        let link = match (e.entity.as_str(), e.entity_id.as_deref()) {
            ("task", Some(id)) if id.parse::<i64>().is_ok() => Some(format!("/tasks/{id}")),
            ("job", Some(_)) if e.action.starts_with("package.") => Some("/packages".into()),
            _ => None,
        };
        let entity_id_shown = e.entity_id.as_ref().map(|id| {
            if id.chars().count() > 16 {
                format!("{}…", id.chars().take(12).collect::<String>())
            } else {
                id.clone()
            }
        });
        AuditRow {
            action_label: audit_action_label(&e.action)
                .map_or_else(|| e.action.clone(), str::to_string),
            entity_label: audit_entity_label(&e.entity)
                .map_or_else(|| e.entity.clone(), str::to_string),
            entity_id_shown,
            entity_name: None,
            link,
            before: e.before_json.as_deref().map(pretty_json),
            after: e.after_json.as_deref().map(pretty_json),
            e,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Option<Layout>,
    entries: Vec<AuditRow>,
    entities: &'static [(&'static str, &'static str)],
    verified: Result<u64, String>,
    entity: String,
    page: u64,
    has_more: bool,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    entity: Option<String>,
    page: Option<u64>,
}

const AUDIT_PAGE: u64 = 50;

pub async fn audit(
    State(state): State<AppState>,
    Admin(cu): Admin,
    Query(q): Query<AuditQuery>,
) -> WebResult<impl IntoResponse> {
    let entity = q.entity.unwrap_or_default().trim().to_string();
    let page = q.page.unwrap_or(0);
    // The database takes a signed 64-bit offset; a page beyond it is a bad link, not a crash.
    let offset = page
        .checked_mul(AUDIT_PAGE)
        .filter(|o| i64::try_from(*o).is_ok())
        .ok_or_else(|| WebError::BadRequest(format!("页码 {page} 超出范围")))?;
    let filter = AuditFilter {
        entity: (!entity.is_empty()).then(|| entity.clone()),
        limit: Some(AUDIT_PAGE + 1),
        offset: Some(offset),
        ..Default::default()
    };
    let mut entries = state.store.audit_entries(&filter).await?;
    let has_more = entries.len() as u64 > AUDIT_PAGE;
    entries.truncate(AUDIT_PAGE as usize);
    let verified = state.store.verify_audit().await?.map_err(|b| b.to_string());
    let mut rows: Vec<AuditRow> = entries.into_iter().map(AuditRow::from).collect();
    name_entities(&state, &mut rows).await?;
    render(&AuditPage {
        layout: Layout::build(&state, &cu).await?,
        entries: rows,
        entities: AUDIT_ENTITIES,
        verified,
        entity,
        page,
        has_more,
    })
}

/// Fills in the names of the users and units the rows are about (one query each, only
/// when a row needs it).
async fn name_entities(state: &AppState, rows: &mut [AuditRow]) -> WebResult<()> {
    use std::collections::HashMap;
    let needs = |kind: &str| rows.iter().any(|r| r.e.entity == kind);
    let users: HashMap<String, String> = if needs("user") {
        state
            .store
            .users()
            .await?
            .into_iter()
            .map(|u| {
                (
                    u.id.0.to_string(),
                    format!("{}（{}）", u.display_name, u.username),
                )
            })
            .collect()
    } else {
        HashMap::new()
    };
    let units: HashMap<String, String> = if needs("unit") {
        state
            .store
            .units()
            .await?
            .into_iter()
            .map(|u| (u.id.0.to_string(), u.name))
            .collect()
    } else {
        HashMap::new()
    };
    for r in rows.iter_mut() {
        let names = match r.e.entity.as_str() {
            "user" => &users,
            "unit" => &units,
            _ => continue,
        };
        r.entity_name = r.e.entity_id.as_ref().and_then(|id| names.get(id).cloned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{AUDIT_ENTITIES, AuditRow, audit_action_label, audit_entity_label};
    use fazhi_store::{AuditId, AuditRecord};

    fn record(action: &str, entity: &str, id: Option<&str>, after: Option<&str>) -> AuditRecord {
        AuditRecord {
            id: AuditId(7),
            at: chrono::Utc::now(),
            actor_user_id: None,
            actor_name: "系统".into(),
            action: action.into(),
            entity: entity.into(),
            entity_id: id.map(str::to_string),
            before_json: None,
            after_json: after.map(str::to_string),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn audit_codes_get_chinese_names_and_unknown_ones_stay_readable() {
        let r = AuditRow::from(record("task.return", "task", Some("4"), Some(r#"{"a":1}"#)));
        assert_eq!(r.action_label, "退回任务");
        assert_eq!(r.entity_label, "任务");
        assert_eq!(r.link.as_deref(), Some("/tasks/4"));
        assert_eq!(r.after.as_deref(), Some("{\n  \"a\": 1\n}"));
        let r = AuditRow::from(record(
            "thing.frobnicate",
            "gadget",
            Some("x"),
            Some("not json"),
        ));
        assert_eq!(r.action_label, "thing.frobnicate");
        assert_eq!(r.entity_label, "gadget");
        assert_eq!(r.link, None);
        assert_eq!(r.after.as_deref(), Some("not json"));
        let sha = "ab".repeat(32);
        let r = AuditRow::from(record("blob.put", "blob", Some(&sha), None));
        assert_eq!(r.entity_label, "文件");
        assert_eq!(r.entity_id_shown.as_deref(), Some("abababababab…"));
        assert_eq!(r.link, None);
        let r = AuditRow::from(record("task.set_due", "task", None, None));
        assert_eq!((r.action_label.as_str(), r.link), ("设置截止日期", None));
        for (code, label) in [
            ("rule.correct", "更正量化要求"),
            ("measure.record", "填报数据"),
            ("notice.acknowledge", "签收督办单"),
            ("calendar.set_year", "录入节假日安排"),
            ("feed.renew", "重置日历订阅"),
        ] {
            assert_eq!(audit_action_label(code), Some(label));
        }
        for entity in [
            "campaign_round",
            "progress_report",
            "rule_correction",
            "calendar_feed",
        ] {
            assert!(audit_entity_label(entity).is_some(), "{entity}");
        }
        let mut codes: Vec<_> = AUDIT_ENTITIES.iter().map(|(k, _)| k).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), AUDIT_ENTITIES.len(), "each entity listed once");
    }
}
