use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{TaskRef, UnitRef};
use crate::{Channel, DeliveryStatus, NoticeLevel, NoticeStep, NotificationKind, RecipientState, TaskList};

/// Which late assignments a notice (or an urging) goes to, instead of
/// naming them: every overdue assignment of the campaign that matches.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LateFilter {
    #[serde(default)]
    pub task_id: Option<i64>,
    /// A level-1 or level-2 indicator.
    #[serde(default)]
    pub indicator_id: Option<i64>,
    #[serde(default)]
    pub list: Option<TaskList>,
    #[serde(default)]
    pub unit_id: Option<i64>,
}

/// A supervision notice (督办单) to issue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    /// The campaign's code.
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub campaign: String,
    pub level: NoticeLevel,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub title: String,
    /// What the units must do.
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub requirement: String,
    /// Working days to reply (the Chinese calendar, 调休 included), 1 to 60.
    pub reply_working_days: u32,
    /// The assignments addressed; or give `late`.
    #[serde(default)]
    pub assignment_ids: Vec<i64>,
    /// Every overdue assignment of the campaign matching this filter.
    #[serde(default)]
    pub late: Option<LateFilter>,
}

/// A file attached to a notice or a reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeFile {
    pub id: i64,
    pub file_name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
}

/// An extension a unit asked for, not yet decided.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExtensionRequest {
    pub until: NaiveDate,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
}

/// One step in the history of a notice for one unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeEvent {
    pub id: i64,
    /// A [`NoticeStep`], or `issued`, `urged`, `escalated_to_manager`, `escalated_to_leader`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The reply date after a granted extension, or asked for in a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Who took the step: the person's name, and their unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_unit: Option<UnitRef>,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub files: Vec<NoticeFile>,
}

/// One unit addressed by a notice, about one of its assignments.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeRecipient {
    pub id: i64,
    pub assignment_id: i64,
    pub task: TaskRef,
    pub unit: UnitRef,
    pub state: RecipientState,
    /// When the reply is due (moved by a granted extension).
    pub reply_due: NaiveDate,
    /// Not replied (or not closed) by the reply date.
    pub overdue: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// How often the unit was urged (催办), by hand or by the rules.
    pub urged: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<ExtensionRequest>,
    /// The steps the caller may take now (the rulebook's answer).
    pub open_steps: Vec<NoticeStep>,
    pub history: Vec<NoticeEvent>,
}

/// A supervision notice with every unit it addresses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    pub id: i64,
    pub campaign: String,
    /// The document number, e.g. 罗法治办督〔2026〕3号.
    pub doc_number: String,
    pub level: NoticeLevel,
    pub title: String,
    pub requirement: String,
    pub reply_working_days: u32,
    pub issued_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    pub attachments: Vec<NoticeFile>,
    pub recipients: Vec<NoticeRecipient>,
}

/// A notice in a list: how far its units are.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeSummary {
    pub id: i64,
    pub campaign: String,
    pub doc_number: String,
    pub level: NoticeLevel,
    pub title: String,
    pub issued_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// The earliest reply date of the units not yet closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_reply_due: Option<NaiveDate>,
    pub units: i64,
    pub acknowledged: i64,
    pub replied: i64,
    pub closed: i64,
    /// Units past their reply date and not closed.
    pub overdue: i64,
    /// Extensions asked for and not yet decided.
    pub extensions_pending: i64,
}

/// A step on a notice for one unit; which fields it needs depends on the step.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeAction {
    pub step: NoticeStep,
    /// The reason of an extension request, a return or a refusal; a
    /// closing remark.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub text: Option<String>,
    /// The reply date an extension request asks for.
    #[serde(default)]
    pub until: Option<NaiveDate>,
}

/// A unit's reply (办理情况反馈) without files; with files it is a
/// multipart form of `text` and `file` fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeReply {
    /// What was done.
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub text: String,
}

/// Urge units by hand (催办): named assignments, or every late one matching.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UrgeRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub campaign: String,
    #[serde(default)]
    pub assignment_ids: Vec<i64>,
    #[serde(default)]
    pub late: Option<LateFilter>,
    /// What to tell them.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Urged {
    /// The assignments urged, each with how often it has been urged now.
    pub assignments: Vec<UrgedAssignment>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UrgedAssignment {
    pub assignment_id: i64,
    pub unit: UnitRef,
    pub task: TaskRef,
    pub urged: i32,
}

/// The county leader in charge of a unit (分管领导), to whom unacknowledged
/// notices escalate. Contact details are personal data: shown to the lead
/// office, the unit's manager and administrators only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnitLeader {
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub title: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub phone: Option<String>,
}

/// A user's contacts (personal data: seen by the user, their unit's manager
/// and administrators) and the channels each kind of message goes to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelSettings {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub phone: Option<String>,
    /// The kinds of message also sent by e-mail (the inbox gets them all).
    #[serde(default)]
    pub email_kinds: Vec<NotificationKind>,
}

/// Where messages go besides people's inboxes: a portal's signed webhook or
/// a group robot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub id: i64,
    pub channel: Channel,
    pub name: String,
    pub url: String,
    /// The kinds of event delivered to it.
    pub events: Vec<NotificationKind>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A new endpoint. Its secret signs webhook deliveries (HMAC-SHA256) or
/// DingTalk requests; it is kept and never shown again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `webhook`, `dingtalk` or `wecom`.
    pub channel: Channel,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub url: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub secret: Option<String>,
    pub events: Vec<NotificationKind>,
}

/// One outgoing message and how its delivery went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<i64>,
    /// The address or URL it goes to.
    pub destination: String,
    pub kind: NotificationKind,
    /// Receivers de-duplicate on this: a delivery may arrive more than once.
    pub idempotency_key: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub log: Vec<DeliveryAttempt>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status (or the SMTP reply code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A webhook delivery's body: the event, signed. The headers carry
/// `X-Duban-Delivery` (the idempotency key), `X-Duban-Timestamp` (Unix
/// seconds) and `X-Duban-Signature: sha256=<hex HMAC-SHA256 of
/// "<timestamp>.<body>" with the endpoint's secret>`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEvent {
    /// The idempotency key, also in `X-Duban-Delivery`.
    pub id: String,
    pub kind: NotificationKind,
    pub created_at: DateTime<Utc>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitRef>,
}

/// When to remind and whom to escalate to, for one notice level or for
/// assignment deadlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReminderRule {
    /// Remind this many working days before the due date (0: on the day).
    pub before: Vec<u32>,
    /// Once overdue, remind every this many working days.
    pub overdue_every: u32,
    /// An unacknowledged notice goes to the unit's manager after this many
    /// working days; `None` for assignment deadlines.
    pub escalate_to_manager_after: Option<u32>,
    /// … and to the county leader in charge of the unit after this many.
    pub escalate_to_leader_after: Option<u32>,
}

/// The lead office's reminder rules: for assignment deadlines, and per
/// notice level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReminderRules {
    pub deadlines: ReminderRule,
    pub general: ReminderRule,
    pub key: ReminderRule,
    pub urgent: ReminderRule,
}

impl Default for ReminderRules {
    /// Remind 3 working days before, on the day, and every 2 working days
    /// overdue; escalate an unacknowledged notice after 1 working day to
    /// the unit's manager and after 3 to its leader in charge.
    fn default() -> Self {
        let notices =
            ReminderRule { before: vec![3, 0], overdue_every: 2, escalate_to_manager_after: Some(1), escalate_to_leader_after: Some(3) };
        ReminderRules {
            deadlines: ReminderRule {
                before: vec![3, 0],
                overdue_every: 2,
                escalate_to_manager_after: None,
                escalate_to_leader_after: None,
            },
            general: notices.clone(),
            key: notices.clone(),
            urgent: notices,
        }
    }
}

impl ReminderRules {
    pub fn for_level(&self, level: NoticeLevel) -> &ReminderRule {
        match level {
            NoticeLevel::General => &self.general,
            NoticeLevel::Key => &self.key,
            NoticeLevel::Urgent => &self.urgent,
        }
    }

    /// Says what is wrong with the rules, if anything.
    pub fn check(&self) -> Result<(), String> {
        for (name, rule) in [("deadlines", &self.deadlines), ("general", &self.general), ("key", &self.key), ("urgent", &self.urgent)] {
            if rule.overdue_every == 0 || rule.overdue_every > 30 {
                return Err(format!("{name}.overdue_every must be 1 to 30 working days"));
            }
            if rule.before.len() > 5 || rule.before.iter().any(|days| *days > 30) {
                return Err(format!("{name}.before: at most 5 reminders, each at most 30 working days before"));
            }
            if let (Some(manager), Some(leader)) = (rule.escalate_to_manager_after, rule.escalate_to_leader_after)
                && leader < manager
            {
                return Err(format!("{name}: the leader in charge comes after the manager"));
            }
        }
        Ok(())
    }
}
