//! The action codes of the audit log (`audit_log.action`): one value per kind of change,
//! with its Chinese name for the log page. The stored strings are the codes below
//! (`evidence.review`, …); entries of older versions keep their text and still parse.

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditAction {
    FrameworkImport,
    AssignmentAssign,
    AssignmentUnassign,
    AssignmentSetLead,
    UnitCreate,
    UnitUpdate,
    UnitDisable,
    UnitEnable,
    UnitAddAlias,
    UnitRemoveAlias,
    UnitSetMembers,
    UserCreate,
    UserUpdate,
    UserDisable,
    UserEnable,
    UserLogin,
    UserLoginFailed,
    UserSetPassword,
    ApiTokenCreate,
    ApiTokenRevoke,
    RoundOpen,
    RoundActivate,
    RoundClose,
    RoundFollowDivision,
    TaskSign,
    TaskSubmit,
    TaskWithdraw,
    TaskReturn,
    TaskApprove,
    TaskClose,
    TaskReopen,
    TaskSetDue,
    TaskSetScores,
    ReportAdd,
    BlobPut,
    EvidenceAdd,
    EvidenceReplace,
    EvidenceDelete,
    EvidenceReview,
    RuleCorrect,
    RuleRevoke,
    MeasureRecord,
    LedgerAdd,
    LedgerDelete,
    NoticeIssue,
    NoticeEscalate,
    NoticeAcknowledge,
    CalendarSetYear,
    FeedRenew,
    PackageRequest,
    PackageBuild,
    PackageFail,
    PackageCancel,
    PackageDownload,
    PackageExpire,
    ExportResponsibility,
    ExportLedger,
    ExportReport,
}

fazhi_domain::string_enum!(AuditAction, "操作类型", {
    FrameworkImport => "framework.import",
    AssignmentAssign => "assignment.assign",
    AssignmentUnassign => "assignment.unassign",
    AssignmentSetLead => "assignment.set_lead",
    UnitCreate => "unit.create",
    UnitUpdate => "unit.update",
    UnitDisable => "unit.disable",
    UnitEnable => "unit.enable",
    UnitAddAlias => "unit.add_alias",
    UnitRemoveAlias => "unit.remove_alias",
    UnitSetMembers => "unit.set_members",
    UserCreate => "user.create",
    UserUpdate => "user.update",
    UserDisable => "user.disable",
    UserEnable => "user.enable",
    UserLogin => "user.login",
    UserLoginFailed => "user.login_failed",
    UserSetPassword => "user.set_password",
    ApiTokenCreate => "api_token.create",
    ApiTokenRevoke => "api_token.revoke",
    RoundOpen => "round.open",
    RoundActivate => "round.activate",
    RoundClose => "round.close",
    RoundFollowDivision => "round.follow_division",
    TaskSign => "task.sign",
    TaskSubmit => "task.submit",
    TaskWithdraw => "task.withdraw",
    TaskReturn => "task.return",
    TaskApprove => "task.approve",
    TaskClose => "task.close",
    TaskReopen => "task.reopen",
    TaskSetDue => "task.set_due",
    TaskSetScores => "task.set_scores",
    ReportAdd => "report.add",
    BlobPut => "blob.put",
    EvidenceAdd => "evidence.add",
    EvidenceReplace => "evidence.replace",
    EvidenceDelete => "evidence.delete",
    EvidenceReview => "evidence.review",
    RuleCorrect => "rule.correct",
    RuleRevoke => "rule.revoke",
    MeasureRecord => "measure.record",
    LedgerAdd => "ledger.add",
    LedgerDelete => "ledger.delete",
    NoticeIssue => "notice.issue",
    NoticeEscalate => "notice.escalate",
    NoticeAcknowledge => "notice.acknowledge",
    CalendarSetYear => "calendar.set_year",
    FeedRenew => "feed.renew",
    PackageRequest => "package.request",
    PackageBuild => "package.build",
    PackageFail => "package.fail",
    PackageCancel => "package.cancel",
    PackageDownload => "package.download",
    PackageExpire => "package.expire",
    ExportResponsibility => "export.responsibility",
    ExportLedger => "export.ledger",
    ExportReport => "export.report",
});

impl AuditAction {
    /// The Chinese name shown in the 操作日志.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::FrameworkImport => "导入指标体系",
            AuditAction::AssignmentAssign => "分派责任单位",
            AuditAction::AssignmentUnassign => "取消责任单位",
            AuditAction::AssignmentSetLead => "设置牵头单位",
            AuditAction::UnitCreate => "新增单位",
            AuditAction::UnitUpdate => "修改单位",
            AuditAction::UnitDisable => "停用单位",
            AuditAction::UnitEnable => "启用单位",
            AuditAction::UnitAddAlias => "添加单位别名",
            AuditAction::UnitRemoveAlias => "删除单位别名",
            AuditAction::UnitSetMembers => "设置成员单位",
            AuditAction::UserCreate => "新增用户",
            AuditAction::UserUpdate => "修改用户",
            AuditAction::UserDisable => "停用用户",
            AuditAction::UserEnable => "启用用户",
            AuditAction::UserLogin => "登录",
            AuditAction::UserLoginFailed => "登录失败",
            AuditAction::UserSetPassword => "设置密码",
            AuditAction::ApiTokenCreate => "创建接口令牌",
            AuditAction::ApiTokenRevoke => "撤销接口令牌",
            AuditAction::RoundOpen => "开启创建轮次",
            AuditAction::RoundActivate => "切换当前轮次",
            AuditAction::RoundClose => "结束创建轮次",
            AuditAction::RoundFollowDivision => "本轮任务随责任分工调整",
            AuditAction::TaskSign => "签收任务",
            AuditAction::TaskSubmit => "报送任务",
            AuditAction::TaskWithdraw => "撤回报送",
            AuditAction::TaskReturn => "退回任务",
            AuditAction::TaskApprove => "审核通过",
            AuditAction::TaskClose => "销号",
            AuditAction::TaskReopen => "重新办理",
            AuditAction::TaskSetDue => "设置截止日期",
            AuditAction::TaskSetScores => "评分",
            AuditAction::ReportAdd => "填报工作进展",
            AuditAction::BlobPut => "保存上传文件",
            AuditAction::EvidenceAdd => "添加佐证材料",
            AuditAction::EvidenceReplace => "更新佐证材料（新版本）",
            AuditAction::EvidenceDelete => "删除佐证材料",
            AuditAction::EvidenceReview => "审核佐证材料",
            AuditAction::RuleCorrect => "更正量化要求",
            AuditAction::RuleRevoke => "撤销更正",
            AuditAction::MeasureRecord => "填报数据",
            AuditAction::LedgerAdd => "登记台账",
            AuditAction::LedgerDelete => "删除台账",
            AuditAction::NoticeIssue => "发督办单",
            AuditAction::NoticeEscalate => "督办升级",
            AuditAction::NoticeAcknowledge => "签收督办单",
            AuditAction::CalendarSetYear => "录入节假日安排",
            AuditAction::FeedRenew => "重置日历订阅",
            AuditAction::PackageRequest => "申请生成佐证材料汇编",
            AuditAction::PackageBuild => "生成佐证材料汇编",
            AuditAction::PackageFail => "佐证材料汇编生成失败",
            AuditAction::PackageCancel => "取消生成佐证材料汇编",
            AuditAction::PackageDownload => "下载佐证材料汇编",
            AuditAction::PackageExpire => "删除过期的佐证材料汇编",
            AuditAction::ExportResponsibility => "导出责任分工表",
            AuditAction::ExportLedger => "导出任务台账",
            AuditAction::ExportReport => "导出工作进展报告",
        }
    }
}

impl From<AuditAction> for String {
    fn from(action: AuditAction) -> String {
        action.as_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::AuditAction;
    use fazhi_domain::task::TaskActionKind;

    #[test]
    fn codes_read_back_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(a));
            assert!(seen.insert(a.as_str()), "{} twice", a.as_str());
            assert!(!a.label().is_empty());
        }
        let err = "task.unknown".parse::<AuditAction>().unwrap_err();
        assert_eq!(err.to_string(), "无法识别的操作类型“task.unknown”");
    }

    #[test]
    fn every_task_step_has_an_action() {
        // transition() logs `task.<step>`.
        for kind in TaskActionKind::ALL {
            let code = format!("task.{}", kind.as_str());
            assert!(code.parse::<AuditAction>().is_ok(), "{code}");
        }
    }
}

#[cfg(test)]
mod enum_tests {
    use crate::{EvidenceKind, UserRole, Verdict};

    #[test]
    fn store_enums_name_their_values_as_serde_does() {
        for r in UserRole::ALL {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
            assert_eq!(r.as_str().parse::<UserRole>(), Ok(r));
        }
        for k in EvidenceKind::ALL {
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
            assert_eq!(k.as_str().parse::<EvidenceKind>(), Ok(k));
        }
        for v in Verdict::ALL {
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::json!(v.as_str())
            );
            assert_eq!(v.as_str().parse::<Verdict>(), Ok(v));
        }
        assert!("root".parse::<UserRole>().is_err());
    }
}
