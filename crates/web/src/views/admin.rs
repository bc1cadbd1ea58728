//! The coordinating office's pages: units, users, importing a new edition of the table,
//! framework versions and the audit log. Every handler starts with `require_admin`.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use fazhi_import::{ImportOptions, ImportOutput, Severity};
use fazhi_store::{
    AuditFilter, AuditRecord, FrameworkInfo, NewUser, UnitDetail, UnitId, UnitKind, UnitSummary,
    User, UserId, UserRole,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::units::kind_options;
use super::{Layout, flash, opt_id, render, require_admin};
use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::password;
use crate::session::{CurrentUser, random_token};

fn parse_kind(key: &str) -> WebResult<UnitKind> {
    key.parse()
        .map_err(|_| WebError::BadRequest(format!("不认识的单位类型“{key}”")))
}

#[derive(Template)]
#[template(path = "unit_edit.html")]
struct UnitEditPage {
    layout: Option<Layout>,
    csrf: String,
    unit: UnitDetail,
    kind: &'static str,
    kinds: Vec<(&'static str, &'static str)>,
    /// For a group: every other non-group unit, with whether it is a member.
    candidates: Vec<(UnitSummary, bool)>,
}

pub async fn unit_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> WebResult<impl IntoResponse> {
    require_admin(&cu.user)?;
    let unit = state.store.unit(UnitId(id)).await?;
    let candidates = if unit.kind == UnitKind::Group {
        state
            .store
            .units()
            .await?
            .into_iter()
            .filter(|u| u.kind != UnitKind::Group && !u.disabled)
            .map(|u| {
                let member = unit.members.iter().any(|(m, _)| *m == u.id);
                (u, member)
            })
            .collect()
    } else {
        Vec::new()
    };
    render(&UnitEditPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        kind: unit.kind.as_str(),
        unit,
        kinds: kind_options(),
        candidates,
    })
}

#[derive(Deserialize)]
pub struct UnitForm {
    name: String,
    kind: String,
}

pub async fn create_unit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(form): Form<UnitForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let kind = parse_kind(&form.kind)?;
    let id = state
        .store
        .create_unit(&form.name, kind, &cu.user.actor())
        .await?;
    flash(&state, &cu, format!("已新增单位“{}”", form.name.trim())).await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

pub async fn update_unit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<UnitForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let kind = parse_kind(&form.kind)?;
    state
        .store
        .update_unit(UnitId(id), &form.name, kind, &cu.user.actor())
        .await?;
    flash(&state, &cu, "单位信息已保存").await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct AliasForm {
    alias: String,
}

pub async fn add_alias(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AliasForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    state
        .store
        .add_alias(UnitId(id), &form.alias, &cu.user.actor())
        .await?;
    flash(&state, &cu, format!("已添加别名“{}”", form.alias.trim())).await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

pub async fn remove_alias(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AliasForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    state
        .store
        .remove_alias(UnitId(id), &form.alias, &cu.user.actor())
        .await?;
    flash(&state, &cu, format!("已删除别名“{}”", form.alias.trim())).await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

pub async fn set_members(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    // Checkbox lists repeat the field name: read the pairs directly.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| WebError::BadRequest(format!("表单格式错误：{e}")))?;
    let members: Vec<UnitId> = pairs
        .iter()
        .filter(|(k, _)| k == "member")
        .filter_map(|(_, v)| v.parse().ok().map(UnitId))
        .collect();
    state
        .store
        .set_group_members(UnitId(id), &members, &cu.user.actor())
        .await?;
    flash(
        &state,
        &cu,
        format!("已保存成员单位（{}个）", members.len()),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/units/{id}")).into_response())
}

pub struct UserRow {
    pub user: User,
    pub unit_name: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Option<Layout>,
    csrf: String,
    me: UserId,
    users: Vec<UserRow>,
    units: Vec<UnitSummary>,
}

pub async fn users(State(state): State<AppState>, cu: CurrentUser) -> WebResult<impl IntoResponse> {
    require_admin(&cu.user)?;
    let units = state.store.units().await?;
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            unit_name: u
                .unit_id
                .and_then(|id| units.iter().find(|x| x.id == id))
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            user: u,
        })
        .collect();
    render(&UsersPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        me: cu.user.id,
        users,
        units,
    })
}

#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    unit_id: Option<String>,
}

fn parse_role(raw: &str) -> WebResult<UserRole> {
    raw.parse()
        .map_err(|_| WebError::BadRequest(format!("不认识的角色“{raw}”")))
}

async fn hash_blocking(p: String) -> WebResult<String> {
    password::hash_async(p).await
}

pub async fn create_user(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(form): Form<NewUserForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let role = parse_role(&form.role)?;
    let first = password::generate()?;
    let hash = hash_blocking(first.clone()).await?;
    let username = form.username.trim().to_string();
    state
        .store
        .create_user(
            NewUser {
                username: username.clone(),
                display_name: form.display_name,
                password_hash: hash,
                role,
                unit_id: opt_id(&form.unit_id).map(UnitId),
                must_change_password: true,
            },
            &cu.user.actor(),
        )
        .await?;
    flash(
        &state,
        &cu,
        format!(
            "已创建用户 {username}，初始密码：{first}（只显示这一次，请转交本人；首次登录须修改）"
        ),
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

pub async fn reset_password(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let user = state.store.user(UserId(id)).await?;
    let first = password::generate()?;
    let hash = hash_blocking(first.clone()).await?;
    state
        .store
        .set_password_hash(user.id, &hash, true, &cu.user.actor())
        .await?;
    flash(
        &state,
        &cu,
        format!(
            "{} 的密码已重置为：{first}（只显示这一次；下次登录须修改）",
            user.username
        ),
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
pub struct DisableForm {
    disabled: String,
}

pub async fn set_disabled(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DisableForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let disabled = form.disabled == "true";
    if UserId(id) == cu.user.id && disabled {
        return Err(WebError::BadRequest("不能停用自己的账号".into()));
    }
    state
        .store
        .set_disabled(UserId(id), disabled, &cu.user.actor())
        .await?;
    flash(
        &state,
        &cu,
        if disabled {
            "账号已停用"
        } else {
            "账号已启用"
        },
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Option<Layout>,
    csrf: String,
    preview: Option<Preview>,
    error: Option<String>,
    max_mb: usize,
}

pub struct Preview {
    pub token: String,
    pub file_name: String,
    pub output: ImportOutput,
    pub counts: Vec<(String, usize)>,
    pub warnings: usize,
}

const LEVELS: [&str; 6] = [
    "一级指标",
    "二级指标",
    "三级指标",
    "四级指标",
    "五级指标",
    "六级指标",
];

fn counts(out: &ImportOutput) -> Vec<(String, usize)> {
    let c = out.framework.level_counts();
    let Some((leaves, headings)) = c.split_last() else {
        return Vec::new();
    };
    let mut v: Vec<(String, usize)> = headings
        .iter()
        .enumerate()
        .map(|(i, n)| (LEVELS.get(i).copied().unwrap_or("下级指标").to_string(), *n))
        .collect();
    v.push(("末级指标（考核项）".into(), *leaves));
    v.push(("责任单位".into(), out.framework.units.len()));
    v
}

pub async fn import_form(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> WebResult<impl IntoResponse> {
    require_admin(&cu.user)?;
    render(&ImportPage {
        layout: Layout::build(&state, &cu).await?,
        csrf: cu.csrf.clone(),
        preview: None,
        error: None,
        max_mb: state.config.max_import_bytes / (1024 * 1024),
    })
}

/// Keep only safe characters of an uploaded file name, for display and the extension.
fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .take(120)
        .collect();
    if cleaned.trim().is_empty() {
        "未命名文件".into()
    } else {
        cleaned
    }
}

/// Step 1: upload, parse and show what would be imported. The file waits under the
/// data directory for the confirmation.
pub async fn import_preview(
    State(state): State<AppState>,
    cu: CurrentUser,
    mut multipart: Multipart,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(format!("上传中断或文件过大：{e}")))?
    {
        if field.name() == Some("file") {
            let name = clean_file_name(field.file_name().unwrap_or(""));
            let bytes = field
                .bytes()
                .await
                .map_err(|e| WebError::BadRequest(format!("上传中断或文件过大：{e}")))?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let layout = Layout::build(&state, &cu).await?;
    let max_mb = state.config.max_import_bytes / (1024 * 1024);
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(render(&ImportPage {
            layout,
            csrf: cu.csrf.clone(),
            preview: None,
            error: Some("请选择要导入的文件".into()),
            max_mb,
        })?
        .into_response());
    };
    let output =
        match fazhi_import::import_bytes(&bytes, Some(&file_name), &ImportOptions::default()) {
            Ok(o) => o,
            Err(e) => {
                return Ok(render(&ImportPage {
                    layout,
                    csrf: cu.csrf.clone(),
                    preview: None,
                    error: Some(format!("“{file_name}”无法导入：{e}")),
                    max_mb,
                })?
                .into_response());
            }
        };
    let token = random_token()?;
    let dir = state.config.import_dir();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(WebError::internal)?;
    tokio::fs::write(dir.join(format!("{token}.upload")), &bytes)
        .await
        .map_err(WebError::internal)?;
    tokio::fs::write(dir.join(format!("{token}.name")), file_name.as_bytes())
        .await
        .map_err(WebError::internal)?;
    let warnings = output
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    Ok(render(&ImportPage {
        layout,
        csrf: cu.csrf.clone(),
        preview: Some(Preview {
            token,
            file_name,
            counts: counts(&output),
            warnings,
            output,
        }),
        error: None,
        max_mb,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    token: String,
}

/// Step 2: store the previewed file as a new framework version.
pub async fn import_confirm(
    State(state): State<AppState>,
    cu: CurrentUser,
    Form(form): Form<ConfirmForm>,
) -> WebResult<Response> {
    require_admin(&cu.user)?;
    if form.token.len() != 64 || !form.token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::BadRequest("导入编号无效，请重新上传文件".into()));
    }
    let dir = state.config.import_dir();
    let upload = dir.join(format!("{}.upload", form.token));
    let name_path = dir.join(format!("{}.name", form.token));
    let bytes = tokio::fs::read(&upload).await.map_err(|_| {
        WebError::BadRequest("找不到待导入的文件（可能已导入或已过期），请重新上传".into())
    })?;
    let file_name = tokio::fs::read_to_string(&name_path)
        .await
        .unwrap_or_else(|_| "上传文件".into());
    let output = fazhi_import::import_bytes(&bytes, Some(&file_name), &ImportOptions::default())
        .map_err(|e| WebError::BadRequest(format!("“{file_name}”无法导入：{e}")))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let id = state
        .store
        .import_library(&output, &file_name, &sha, &cu.user.actor())
        .await?;
    tokio::fs::remove_file(&upload).await.ok();
    tokio::fs::remove_file(&name_path).await.ok();
    flash(
        &state,
        &cu,
        format!("已导入“{file_name}”，成为第{id}版指标体系（当前使用）。此前的版本仍保留。"),
    )
    .await?;
    Ok(Redirect::to("/admin/frameworks").into_response())
}

#[derive(Template)]
#[template(path = "frameworks.html")]
struct FrameworksPage {
    layout: Option<Layout>,
    versions: Vec<FrameworkInfo>,
}

pub async fn frameworks(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> WebResult<impl IntoResponse> {
    require_admin(&cu.user)?;
    render(&FrameworksPage {
        layout: Layout::build(&state, &cu).await?,
        versions: state.store.frameworks().await?,
    })
}

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
            link,
            before: e.before_json.as_deref().map(pretty_json),
            after: e.after_json.as_deref().map(pretty_json),
            e,
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
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
    cu: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> WebResult<impl IntoResponse> {
    require_admin(&cu.user)?;
    let entity = q.entity.unwrap_or_default().trim().to_string();
    let page = q.page.unwrap_or(0);
    let filter = AuditFilter {
        entity: (!entity.is_empty()).then(|| entity.clone()),
        limit: Some(AUDIT_PAGE + 1),
        offset: Some(page * AUDIT_PAGE),
        ..Default::default()
    };
    let mut entries = state.store.audit_entries(&filter).await?;
    let has_more = entries.len() as u64 > AUDIT_PAGE;
    entries.truncate(AUDIT_PAGE as usize);
    let verified = state.store.verify_audit().await?.map_err(|b| b.to_string());
    render(&AuditPage {
        layout: Layout::build(&state, &cu).await?,
        entries: entries.into_iter().map(AuditRow::from).collect(),
        entities: AUDIT_ENTITIES,
        verified,
        entity,
        page,
        has_more,
    })
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
