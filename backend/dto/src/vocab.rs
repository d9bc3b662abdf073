//! The closed vocabularies of the campaign: which list a task is on, what
//! kind a unit is, and so on. Each has one stable snake_case spelling used in
//! JSON, in the database (checked by a CHECK constraint) and in seed files.
//!
//! With the `diesel` feature each vocabulary is a diesel type stored as
//! text: it is written by its spelling and read back through its `parse`,
//! so an unknown spelling in the database is a read error, never a panic.

use serde::{Deserialize, Serialize};

/// Declares a closed vocabulary with its stable text spelling.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:tt ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
        #[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
        pub enum $name { $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+ }

        #[cfg(feature = "diesel")]
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(self.as_str(), out)
            }
        }

        #[cfg(feature = "diesel")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(value)?;
                Self::parse(&text).ok_or_else(|| format!("{text:?} is not a {}", stringify!($name)).into())
            }
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable spelling used in JSON, SQL and seed files.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stable spelling; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// The four lists of the province's checklist. Each list numbers its
    /// tasks from 1; only basic tasks hang under an indicator.
    pub enum TaskList {
        Basic = "basic",
        Quantified = "quantified",
        Extended = "extended",
        Negative = "negative",
    }
}

impl TaskList {
    /// The list's name as the province's documents write it.
    pub const fn zh_name(self) -> &'static str {
        match self {
            TaskList::Basic => "基础任务清单",
            TaskList::Quantified => "量化任务清单",
            TaskList::Extended => "延伸任务清单",
            TaskList::Negative => "负面清单",
        }
    }

    /// The stable task code for a task number on this list: B001, Q01,
    /// E01, N1. The database computes the same code in a generated column;
    /// an integration test checks that the two agree.
    pub fn task_code(self, number: u32) -> String {
        match self {
            TaskList::Basic => format!("B{number:03}"),
            TaskList::Quantified => format!("Q{number:02}"),
            TaskList::Extended => format!("E{number:02}"),
            TaskList::Negative => format!("N{number}"),
        }
    }
}

vocabulary! {
    /// What kind of organisation a unit is.
    pub enum UnitKind {
        /// 党的机关: county party committee offices and departments.
        PartyOrgan = "party_organ",
        /// 政府部门: county government offices, bureaus and agencies.
        GovernmentDepartment = "government_department",
        /// 乡镇(街道): townships, ethnic townships and subdistricts.
        Township = "township",
        /// 法院、检察院.
        CourtOrProcuratorate = "court_or_procuratorate",
        /// Everything else: people's congress offices, federations, media centres.
        Other = "other",
    }
}

impl UnitKind {
    pub const fn zh_name(self) -> &'static str {
        match self {
            UnitKind::PartyOrgan => "党的机关",
            UnitKind::GovernmentDepartment => "政府部门",
            UnitKind::Township => "乡镇(街道)",
            UnitKind::CourtOrProcuratorate => "法院、检察院",
            UnitKind::Other => "其他",
        }
    }
}

vocabulary! {
    /// The part a unit plays in a task.
    pub enum PartyRole {
        /// 牵头单位: coordinates the task and reviews the responsible units.
        Lead = "lead",
        /// 责任单位: does the work and reports it.
        Responsible = "responsible",
    }
}

vocabulary! {
    /// Where one unit's work on one task stands.
    pub enum AssignmentStatus {
        NotStarted = "not_started",
        InProgress = "in_progress",
        Submitted = "submitted",
        Returned = "returned",
        Accepted = "accepted",
        Approved = "approved",
    }
}

impl AssignmentStatus {
    /// The status as county staff say it.
    pub const fn zh_name(self) -> &'static str {
        match self {
            AssignmentStatus::NotStarted => "未开始",
            AssignmentStatus::InProgress => "推进中",
            AssignmentStatus::Submitted => "已报送",
            AssignmentStatus::Returned => "已退回",
            AssignmentStatus::Accepted => "牵头单位已审核",
            AssignmentStatus::Approved => "已通过",
        }
    }
}

vocabulary! {
    /// How a measured value is compared with a quantified task's target.
    pub enum Comparator {
        AtLeast = ">=",
        AtMost = "<=",
        Equal = "=",
        MoreThan = ">",
        LessThan = "<",
    }
}

vocabulary! {
    /// The units a quantified target is measured in.
    pub enum TargetUnit {
        Percent = "%",
        WorkingDays = "工作日",
        Days = "日",
        Hours = "小时",
        StudyHours = "学时",
        Times = "次",
        Sessions = "期",
        People = "名",
        Persons = "人",
        Items = "件",
    }
}

vocabulary! {
    /// What a user may do; see ARCHITECTURE.md for the capabilities of each.
    /// The three administrators are separate (三员分立): no account holds two
    /// of their roles, and an administrative role is never changed.
    pub enum Role {
        /// 系统管理员: units, accounts of the campaign's users, configuration.
        SystemAdmin = "system_admin",
        /// 安全管理员: roles and their assignment, the security policy, API
        /// clients and keys, unlocking accounts.
        SecurityAdmin = "security_admin",
        /// 审计管理员: reads and exports the audit log, nothing else.
        AuditAdmin = "audit_admin",
        /// 依法治县办: assigns, supervises, approves, reports.
        LeadOffice = "lead_office",
        /// Manages a unit's work and its staff accounts.
        UnitManager = "unit_manager",
        /// Works on a unit's assignments.
        UnitStaff = "unit_staff",
        /// Reads everything of its county, changes nothing.
        Inspector = "inspector",
        /// 上级依法治理办 (a province's or city's office): reads every county's
        /// campaign in its area and starts campaigns there from the
        /// checklist; changes nothing else.
        AreaOffice = "area_office",
    }
}

impl Role {
    pub const fn zh_name(self) -> &'static str {
        match self {
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
            Role::LeadOffice => "依法治县办",
            Role::UnitManager => "单位管理员",
            Role::UnitStaff => "单位经办人",
            Role::Inspector => "督查人员",
            Role::AreaOffice => "上级依法治理办",
        }
    }

    /// Whether the role acts for one unit.
    pub const fn is_unit_role(self) -> bool {
        matches!(self, Role::UnitManager | Role::UnitStaff)
    }

    /// One of the three separated administrators (三员).
    pub const fn is_administrator(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin)
    }
}

vocabulary! {
    /// What a signed-in user must do before anything else.
    pub enum Restriction {
        /// The password was set by someone else, or has expired: change it.
        PasswordChangeRequired = "password_change_required",
        /// The policy requires a second factor: enrol an authenticator.
        MfaEnrolmentRequired = "mfa_enrolment_required",
    }
}

impl Restriction {
    pub const fn zh_name(self) -> &'static str {
        match self {
            Restriction::PasswordChangeRequired => "请先修改密码",
            Restriction::MfaEnrolmentRequired => "请先绑定动态口令（双因素认证）",
        }
    }
}

vocabulary! {
    /// What an API key of a third-party portal may do.
    pub enum Scope {
        /// Read campaigns, indicators, tasks, units and groups.
        TasksRead = "tasks:read",
        /// Read assignments and their progress.
        ProgressRead = "progress:read",
        /// Read and download evidence.
        EvidenceRead = "evidence:read",
        /// Read the audit log.
        AuditRead = "audit:read",
        /// Import data in bulk.
        ImportWrite = "import:write",
    }
}

vocabulary! {
    /// A task's status, derived from its assignments (see duban::rollup).
    pub enum TaskStatus {
        NotStarted = "not_started",
        InProgress = "in_progress",
        Submitted = "submitted",
        Returned = "returned",
        Approved = "approved",
        /// An unapproved assignment is past its due date.
        Overdue = "overdue",
    }
}

impl TaskStatus {
    /// The status as county staff say it.
    pub const fn zh_name(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "未开始",
            TaskStatus::InProgress => "推进中",
            TaskStatus::Submitted => "已报送",
            TaskStatus::Returned => "已退回",
            TaskStatus::Approved => "已通过",
            TaskStatus::Overdue => "已逾期",
        }
    }
}

vocabulary! {
    /// Whether a measured value meets a quantified target.
    pub enum Outcome {
        Met = "met",
        NotMet = "not_met",
        /// A reference figure the target depends on has not been entered.
        Unknown = "unknown",
    }
}

vocabulary! {
    /// A decision on a submission, by a lead unit or the lead office.
    pub enum ReviewDecision {
        Accept = "accept",
        Return = "return",
        Approve = "approve",
    }
}

vocabulary! {
    /// What a notification (and a message on any channel) is about.
    pub enum NotificationKind {
        Assigned = "assigned",
        Submitted = "submitted",
        Returned = "returned",
        Accepted = "accepted",
        Approved = "approved",
        DueSoon = "due_soon",
        Overdue = "overdue",
        /// A supervision notice (督办单) addressed to the unit.
        NoticeIssued = "notice_issued",
        /// The lead office urges (催办), by hand or by the reminder rules.
        NoticeUrged = "notice_urged",
        /// An unacknowledged notice escalated to the unit's manager or leader.
        NoticeEscalated = "notice_escalated",
        /// A unit replied to a notice, or asked for more time (for the lead office).
        NoticeReplied = "notice_replied",
        /// The lead office returned a reply, decided on an extension or closed the notice.
        NoticeDecided = "notice_decided",
        /// A bulletin (通报) was issued.
        BulletinIssued = "bulletin_issued",
    }
}

impl NotificationKind {
    /// The kind as the inbox and the channel settings name it.
    pub const fn zh_name(self) -> &'static str {
        match self {
            NotificationKind::Assigned => "新任务",
            NotificationKind::Submitted => "待审核",
            NotificationKind::Returned => "被退回",
            NotificationKind::Accepted => "初审通过",
            NotificationKind::Approved => "终审通过",
            NotificationKind::DueSoon => "临期提醒",
            NotificationKind::Overdue => "逾期提醒",
            NotificationKind::NoticeIssued => "督办单",
            NotificationKind::NoticeUrged => "催办",
            NotificationKind::NoticeEscalated => "督办升级",
            NotificationKind::NoticeReplied => "督办反馈",
            NotificationKind::NoticeDecided => "督办处理结果",
            NotificationKind::BulletinIssued => "通报",
        }
    }
}

vocabulary! {
    /// How urgent a supervision notice is, shown as its colour.
    pub enum NoticeLevel {
        /// 一般 (blue).
        General = "general",
        /// 重点 (yellow).
        Key = "key",
        /// 紧急 (red).
        Urgent = "urgent",
    }
}

impl NoticeLevel {
    pub const fn zh_name(self) -> &'static str {
        match self {
            NoticeLevel::General => "一般",
            NoticeLevel::Key => "重点",
            NoticeLevel::Urgent => "紧急",
        }
    }

    /// The colour county offices give it: blue, yellow, red.
    pub const fn colour(self) -> &'static str {
        match self {
            NoticeLevel::General => "blue",
            NoticeLevel::Key => "yellow",
            NoticeLevel::Urgent => "red",
        }
    }

    /// The colour in Chinese: 蓝色, 黄色, 红色.
    pub const fn colour_zh(self) -> &'static str {
        match self {
            NoticeLevel::General => "蓝色",
            NoticeLevel::Key => "黄色",
            NoticeLevel::Urgent => "红色",
        }
    }
}

vocabulary! {
    /// Where one addressed unit stands with a supervision notice.
    pub enum RecipientState {
        /// Sent, not yet acknowledged.
        Sent = "sent",
        /// Receipt acknowledged (签收).
        Acknowledged = "acknowledged",
        /// The unit replied (办理情况反馈).
        Replied = "replied",
        /// The lead office found the reply insufficient.
        Returned = "returned",
        /// Closed (销号).
        Closed = "closed",
    }
}

impl RecipientState {
    pub const fn zh_name(self) -> &'static str {
        match self {
            RecipientState::Sent => "待签收",
            RecipientState::Acknowledged => "已签收",
            RecipientState::Replied => "已反馈",
            RecipientState::Returned => "已退回",
            RecipientState::Closed => "已销号",
        }
    }
}

vocabulary! {
    /// A step on a supervision notice, by the unit or the lead office.
    pub enum NoticeStep {
        Acknowledge = "acknowledge",
        Reply = "reply",
        RequestExtension = "request_extension",
        GrantExtension = "grant_extension",
        RefuseExtension = "refuse_extension",
        Return = "return",
        Close = "close",
    }
}

impl NoticeStep {
    /// The step as a past participle, for messages.
    pub const fn past_tense(self) -> &'static str {
        match self {
            NoticeStep::Acknowledge => "acknowledged",
            NoticeStep::Reply => "replied to",
            NoticeStep::RequestExtension => "given an extension request",
            NoticeStep::GrantExtension => "given the extension",
            NoticeStep::RefuseExtension => "refused the extension",
            NoticeStep::Return => "returned",
            NoticeStep::Close => "closed",
        }
    }

    pub const fn zh_name(self) -> &'static str {
        match self {
            NoticeStep::Acknowledge => "签收",
            NoticeStep::Reply => "反馈办理情况",
            NoticeStep::RequestExtension => "申请延期",
            NoticeStep::GrantExtension => "同意延期",
            NoticeStep::RefuseExtension => "不同意延期",
            NoticeStep::Return => "退回反馈",
            NoticeStep::Close => "销号",
        }
    }
}

vocabulary! {
    /// Where messages go besides the inbox.
    pub enum Channel {
        /// E-mail over SMTP, to the user's own address.
        Email = "email",
        /// A DingTalk group robot (钉钉自定义机器人).
        Dingtalk = "dingtalk",
        /// A WeCom group robot (企业微信群机器人).
        Wecom = "wecom",
        /// A portal's signed webhook.
        Webhook = "webhook",
    }
}

vocabulary! {
    /// How an outgoing message's delivery stands.
    pub enum DeliveryStatus {
        /// Waiting for its (next) attempt.
        Pending = "pending",
        Delivered = "delivered",
        /// Gave up after retrying for a day (or the endpoint is gone).
        Failed = "failed",
    }
}

vocabulary! {
    /// What a bulk import brings in.
    pub enum ImportKind {
        /// The breakdown table (任务分解表): tasks, indicators, lead and
        /// responsible units. Word, workbook, text dump, flat CSV/JSON, or
        /// a campaign seed.
        Breakdown = "breakdown",
        /// Units of a county, by name.
        Units = "units",
        /// Accounts, by username.
        Users = "users",
        /// Units assigned to tasks, by task code, unit and role.
        Assignments = "assignments",
    }
}

vocabulary! {
    /// Where an import job stands.
    pub enum ImportJobStatus {
        Queued = "queued",
        Running = "running",
        /// Every row was valid; written, or for a dry run, checked.
        Completed = "completed",
        /// Some rows (or the file) are invalid; nothing was written.
        Rejected = "rejected",
        /// duban failed (or was restarted) while running the job; nothing
        /// was written.
        Failed = "failed",
    }
}

vocabulary! {
    /// What an import does with one row.
    pub enum RowAction {
        Created = "created",
        Updated = "updated",
        Unchanged = "unchanged",
        Deleted = "deleted",
        Invalid = "invalid",
    }
}

vocabulary! {
    /// A task's schedule light (进度灯); the rule is in duban::dashboard.
    pub enum ScheduleLight {
        /// Past due, or far behind the time that has passed.
        Red = "red",
        /// Due within seven days, or behind.
        Yellow = "yellow",
        Green = "green",
    }
}

vocabulary! {
    /// Whose score a confirmed negative-list occurrence (一票否决) zeroes.
    pub enum VetoScope {
        /// The campaign's score and the score of the unit it occurred in.
        CampaignAndUnit = "campaign_and_unit",
        /// The campaign's score only.
        Campaign = "campaign",
        /// The unit's score only.
        Unit = "unit",
        /// Nobody's (the occurrence is still reported).
        None = "none",
    }
}

vocabulary! {
    /// How units with the same score (to one decimal, as shown) are ranked.
    pub enum TieRule {
        /// They share the rank, and the ranks after skip (1, 2, 2, 4); they
        /// are listed by name.
        Shared = "shared",
        /// The higher on-time rate goes first; equal on that too, they share.
        OnTimeRate = "on_time_rate",
    }
}

vocabulary! {
    /// What a bulletin (通报) reports on.
    pub enum BulletinPeriod {
        Week = "week",
        Month = "month",
        Quarter = "quarter",
        /// A special bulletin (专项通报), on any span.
        Special = "special",
    }
}

vocabulary! {
    /// Where a bulletin stands.
    pub enum BulletinState {
        /// Being written: figures refresh, text may change.
        Draft = "draft",
        /// Signed and issued (签发): frozen for good.
        Issued = "issued",
    }
}
