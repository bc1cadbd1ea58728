//! Who may call what: the one access policy of the web layer.
//!
//! A handler names its caller in its signature with one of these extractors, so the
//! rule is read where the route is declared and written once here:
//!
//! | extractor | who passes |
//! |---|---|
//! | [`CurrentUser`] | anyone logged in (see `session`) |
//! | [`Admin`] | 管理员 (依法治县办) |
//! | [`CountyReader`] | 管理员 and 查看人员: everything of the county, read-only for the latter |
//! | [`UnitViewer`] | the county roles, or the liaison of the unit in the path |
//! | [`TaskViewer`] | anyone who may see the task in the path: the county roles, the task's unit, its lead unit |
//! | [`TaskUnit`] | the task's own unit (填报, 上传, 报送 …) |
//! | [`TaskReviewer`] | 依法治县办 or the lead unit of the indicator (审核) |
//! | [`TaskScorer`] | the unit (自评分) or the office (审核评分) |
//! | [`EvidenceViewer`] / [`EvidenceUnit`] / [`EvidenceReviewer`] | the same, for the task an evidence item belongs to |
//! | [`UploadOwner`] | the user who started the resumable upload in the path, still the unit of its task |
//! | [`LedgerCaseUnit`] / [`NoticeUnit`] | the unit of the task a ledger case or 督办单 belongs to |
//! | [`PackageBuilder`] | who may build a 佐证材料汇编: 依法治县办 (any), a liaison (its own unit's) |
//! | [`PackageJobAccess`] | who may see, cancel and download the package job in the path (`fazhi_package::job::may_access`) |
//!
//! Lists that a liaison sees narrowed to the own unit use [`unit_scope`] and
//! [`visible_indicators`].

use std::collections::HashSet;

use axum::extract::{FromRequestParts, OriginalUri, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use fazhi_domain::task::ActorRole;
use fazhi_store::{EvidenceId, Job, JobId, NodeId, TaskId, UnitId, User, UserRole};

use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::session::CurrentUser;

/// Answer a refusal the way the route answers: JSON under `/api`, a page elsewhere.
fn reject(parts: &Parts, err: WebError) -> Response {
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map(|o| o.0.path().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    if crate::session::is_api(&path) {
        err.into_api_response()
    } else {
        err.into_response()
    }
}

/// The id in the path (`/tasks/{id}`), or a clear 400.
async fn path_id<T>(parts: &mut Parts, state: &AppState) -> Result<T, Response>
where
    T: serde::de::DeserializeOwned + Send,
{
    match Path::<T>::from_request_parts(parts, state).await {
        Ok(Path(id)) => Ok(id),
        Err(_) => Err(reject(
            parts,
            WebError::BadRequest("网址中的编号无效".into()),
        )),
    }
}

// ---- Roles ----

/// Admins and observers see every unit; a liaison only their own.
pub fn can_view_unit(user: &User, unit: UnitId) -> bool {
    match user.role {
        UserRole::Admin | UserRole::Observer => true,
        UserRole::Liaison => user.unit_id == Some(unit),
    }
}

/// The unit a list is narrowed to: a liaison's own unit (always), otherwise the one
/// asked for, if any.
pub fn unit_scope(user: &User, asked: Option<UnitId>) -> WebResult<Option<UnitId>> {
    match user.role {
        UserRole::Liaison => Ok(Some(user.unit_id.ok_or_else(WebError::forbidden)?)),
        UserRole::Admin | UserRole::Observer => Ok(asked),
    }
}

/// The indicators a user may see: `None` for all (the county roles), else the own
/// unit's 责任清单 (including those held through a group unit).
pub async fn visible_indicators(
    state: &AppState,
    user: &User,
) -> WebResult<Option<HashSet<NodeId>>> {
    if user.role != UserRole::Liaison {
        return Ok(None);
    }
    let unit = user.unit_id.ok_or_else(WebError::forbidden)?;
    Ok(Some(
        state
            .unit_indicators(unit)
            .await?
            .iter()
            .map(|i| i.node_id)
            .collect(),
    ))
}

/// Refuse an indicator outside the user's 责任清单.
pub async fn require_indicator(state: &AppState, user: &User, node: NodeId) -> WebResult<()> {
    match visible_indicators(state, user).await? {
        Some(mine) if !mine.contains(&node) => {
            Err(WebError::Forbidden("这项指标不在本单位的责任清单中".into()))
        }
        _ => Ok(()),
    }
}

/// 管理员 (依法治县办).
pub struct Admin(pub CurrentUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        if cu.user.role != UserRole::Admin {
            return Err(reject(
                parts,
                WebError::Forbidden("只有管理员（依法治县办）可以进行这项操作".into()),
            ));
        }
        Ok(Admin(cu))
    }
}

/// 管理员 or 查看人员: pages about the whole county.
pub struct CountyReader(pub CurrentUser);

impl FromRequestParts<AppState> for CountyReader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        if cu.user.role == UserRole::Liaison {
            return Err(reject(
                parts,
                WebError::Forbidden("单位联络员只能查看本单位的责任清单".into()),
            ));
        }
        Ok(CountyReader(cu))
    }
}

// ---- Tasks ----

/// The role of `user` on a task, or 403 when they may not even see it. The one place
/// that decides who sees a task.
pub async fn task_role(state: &AppState, user: &User, task: TaskId) -> WebResult<ActorRole> {
    let role = state.store.task_role(task, user).await?;
    if user.role == UserRole::Liaison
        && !matches!(role, ActorRole::ResponsibleUnit | ActorRole::LeadUnit)
    {
        return Err(WebError::Forbidden("这项任务不属于本单位".into()));
    }
    Ok(role)
}

fn require_unit(role: ActorRole) -> WebResult<()> {
    if role == ActorRole::ResponsibleUnit {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "只有承担这项任务的单位可以办理（填报、上传、报送）".into(),
        ))
    }
}

fn require_reviewer(role: ActorRole) -> WebResult<()> {
    if matches!(role, ActorRole::Office | ActorRole::LeadUnit) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "只有依法治县办或牵头单位可以审核".into(),
        ))
    }
}

/// Someone who may see the unit in the path (`/units/{id}`): the county roles, or the
/// unit's own liaison.
pub struct UnitViewer {
    pub cu: CurrentUser,
    pub unit: UnitId,
}

impl FromRequestParts<AppState> for UnitViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        let unit: UnitId = path_id(parts, state).await?;
        if !can_view_unit(&cu.user, unit) {
            return Err(reject(
                parts,
                WebError::Forbidden("联络员只能查看本单位".into()),
            ));
        }
        Ok(UnitViewer { cu, unit })
    }
}

/// Someone who may see the task in the path, with their role on it.
pub struct TaskViewer {
    pub cu: CurrentUser,
    pub task: TaskId,
    pub role: ActorRole,
}

impl FromRequestParts<AppState> for TaskViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        let task: TaskId = path_id(parts, state).await?;
        let role = task_role(state, &cu.user, task)
            .await
            .map_err(|e| reject(parts, e))?;
        Ok(TaskViewer { cu, task, role })
    }
}

/// The unit that carries out the task in the path.
pub struct TaskUnit(pub TaskViewer);

impl FromRequestParts<AppState> for TaskUnit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let v = TaskViewer::from_request_parts(parts, state).await?;
        require_unit(v.role).map_err(|e| reject(parts, e))?;
        Ok(TaskUnit(v))
    }
}

/// 依法治县办 or the lead unit, reviewing the task in the path.
pub struct TaskReviewer(pub TaskViewer);

impl FromRequestParts<AppState> for TaskReviewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let v = TaskViewer::from_request_parts(parts, state).await?;
        require_reviewer(v.role).map_err(|e| reject(parts, e))?;
        Ok(TaskReviewer(v))
    }
}

/// Which score a caller sets on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreKind {
    /// 自评分, by the unit.
    Own,
    /// 审核评分, by the office.
    Review,
}

/// The unit (自评分) or the office (审核评分) on the task in the path.
pub struct TaskScorer {
    pub viewer: TaskViewer,
    pub kind: ScoreKind,
}

impl FromRequestParts<AppState> for TaskScorer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let viewer = TaskViewer::from_request_parts(parts, state).await?;
        let kind = match viewer.role {
            ActorRole::ResponsibleUnit => ScoreKind::Own,
            ActorRole::Office => ScoreKind::Review,
            _ => {
                return Err(reject(
                    parts,
                    WebError::Forbidden(
                        "只有本单位（自评）或依法治县办（审核评分）可以评分".into(),
                    ),
                ));
            }
        };
        Ok(TaskScorer { viewer, kind })
    }
}

// ---- Evidence, ledger cases, notices: through their task ----

/// Someone who may see the evidence item in the path (and so its task).
pub struct EvidenceViewer {
    pub cu: CurrentUser,
    pub evidence: EvidenceId,
    pub task: TaskId,
    pub role: ActorRole,
}

impl FromRequestParts<AppState> for EvidenceViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        let evidence: EvidenceId = path_id(parts, state).await?;
        let found = async {
            let e = state.store.evidence(evidence).await?;
            let role = task_role(state, &cu.user, e.task_id).await?;
            Ok::<_, WebError>((e.task_id, role))
        }
        .await;
        let (task, role) = found.map_err(|e| reject(parts, e))?;
        Ok(EvidenceViewer {
            cu,
            evidence,
            task,
            role,
        })
    }
}

/// The unit that owns the evidence item in the path (replace, relink, delete).
pub struct EvidenceUnit(pub EvidenceViewer);

impl FromRequestParts<AppState> for EvidenceUnit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let v = EvidenceViewer::from_request_parts(parts, state).await?;
        require_unit(v.role).map_err(|e| reject(parts, e))?;
        Ok(EvidenceUnit(v))
    }
}

/// The user who started the resumable upload in the path (`/uploads/{token}`), while still
/// the unit of its task: someone else's upload is "not found", never shown.
pub struct UploadOwner {
    pub cu: CurrentUser,
    pub upload: fazhi_store::Upload,
}

impl FromRequestParts<AppState> for UploadOwner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        let token: String = path_id(parts, state).await?;
        let found = async {
            let upload = state.store.upload(&token).await?;
            if upload.user != cu.user.id {
                return Err(WebError::NotFound("未找到该上传".into()));
            }
            require_unit(task_role(state, &cu.user, upload.task).await?)?;
            Ok::<_, WebError>(upload)
        }
        .await;
        let upload = found.map_err(|e| reject(parts, e))?;
        Ok(UploadOwner { cu, upload })
    }
}

/// 依法治县办 or the lead unit, reviewing the evidence item in the path.
pub struct EvidenceReviewer(pub EvidenceViewer);

impl FromRequestParts<AppState> for EvidenceReviewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let v = EvidenceViewer::from_request_parts(parts, state).await?;
        require_reviewer(v.role).map_err(|e| reject(parts, e))?;
        Ok(EvidenceReviewer(v))
    }
}

/// The unit of the task whose ledger case (台账记录) is in the path.
pub struct LedgerCaseUnit {
    pub cu: CurrentUser,
    pub case: fazhi_store::LedgerCaseId,
    pub task: TaskId,
}

impl FromRequestParts<AppState> for LedgerCaseUnit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        let case: fazhi_store::LedgerCaseId = path_id(parts, state).await?;
        let found = async {
            let task = state.store.ledger_case_task(case).await?;
            require_unit(task_role(state, &cu.user, task).await?)?;
            Ok::<_, WebError>(task)
        }
        .await;
        let task = found.map_err(|e| reject(parts, e))?;
        Ok(LedgerCaseUnit { cu, case, task })
    }
}

/// The unit a 督办单 in the path was sent to (签收, 答复).
pub struct NoticeUnit {
    pub cu: CurrentUser,
    pub notice: fazhi_store::NoticeId,
    pub task: TaskId,
}

impl FromRequestParts<AppState> for NoticeUnit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let v = NoticeViewer::from_request_parts(parts, state).await?;
        if v.role != ActorRole::ResponsibleUnit {
            return Err(reject(
                parts,
                WebError::Forbidden("只有被督办的单位可以签收督办单".into()),
            ));
        }
        Ok(NoticeUnit {
            cu: v.cu,
            notice: v.notice,
            task: v.task,
        })
    }
}

/// Someone who may see the task a 督办单 in the path is about (to read or print it).
pub struct NoticeViewer {
    pub cu: CurrentUser,
    pub notice: fazhi_store::NoticeId,
    pub task: TaskId,
    /// The viewer's role on that task.
    pub role: ActorRole,
}

impl FromRequestParts<AppState> for NoticeViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        let notice: fazhi_store::NoticeId = path_id(parts, state).await?;
        let found = async {
            let task = state.store.notice_task(notice).await?;
            let role = task_role(state, &cu.user, task).await?;
            Ok::<_, WebError>((task, role))
        }
        .await;
        let (task, role) = found.map_err(|e| reject(parts, e))?;
        Ok(NoticeViewer {
            cu,
            notice,
            task,
            role,
        })
    }
}

// ---- 佐证材料汇编 ----

/// Someone who may build packages: 依法治县办 (any package) or a liaison with a unit (its
/// own unit's; `fazhi_package::job::request` checks the unit asked for). 查看人员 may not.
pub struct PackageBuilder(pub CurrentUser);

impl FromRequestParts<AppState> for PackageBuilder {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cu = CurrentUser::from_request_parts(parts, state).await?;
        let allowed = match cu.user.role {
            UserRole::Admin => true,
            UserRole::Liaison => cu.user.unit_id.is_some(),
            UserRole::Observer => false,
        };
        if !allowed {
            return Err(reject(
                parts,
                WebError::Forbidden(
                    "只有依法治县办和单位联络员可以生成材料汇编，查看人员没有权限".into(),
                ),
            ));
        }
        Ok(PackageBuilder(cu))
    }
}

/// The package job in the path, for someone who may see it: any for 依法治县办, only its
/// own unit's for a liaison (403 for another unit's). A job of another kind is not found.
pub struct PackageJobAccess {
    pub cu: CurrentUser,
    pub job: Job,
}

impl FromRequestParts<AppState> for PackageJobAccess {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let PackageBuilder(cu) = PackageBuilder::from_request_parts(parts, state).await?;
        let id: i64 = path_id(parts, state).await?;
        let found = async {
            let job = match state.store.job(JobId(id)).await {
                Ok(j) if j.kind == fazhi_package::job::JOB_KIND => j,
                Ok(_) | Err(fazhi_store::StoreError::NotFound { .. }) => {
                    return Err(WebError::NotFound(
                        "没有这份材料汇编（可能已过期删除）".into(),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            if !fazhi_package::job::may_access(&cu.user, &job) {
                return Err(WebError::Forbidden(
                    "没有权限：这份材料汇编不是本单位的".into(),
                ));
            }
            Ok(job)
        }
        .await;
        let job = found.map_err(|e| reject(parts, e))?;
        Ok(PackageJobAccess { cu, job })
    }
}
