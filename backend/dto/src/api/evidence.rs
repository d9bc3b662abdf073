use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{TaskRef, UnitRef};
use crate::{AssignmentStatus, NotificationKind, Outcome, ReviewDecision};

/// One version of a piece of evidence: one uploaded file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceVersion {
    pub id: i64,
    pub version: i32,
    /// The file name exactly as uploaded.
    pub file_name: String,
    pub size: i64,
    /// Judged from the content, not the name.
    pub content_type: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_by: Option<String>,
    /// Covered by an approval: frozen for good.
    pub sealed: bool,
}

/// A piece of evidence (佐证材料) on an assignment, with its versions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub id: i64,
    pub assignment_id: i64,
    pub description: String,
    /// When the material takes effect, as the unit states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub withdrawn: bool,
    /// The newest version.
    pub current: EvidenceVersion,
    /// Every version, newest first.
    pub versions: Vec<EvidenceVersion>,
}

/// A piece of evidence in the campaign-wide listing, with the task and
/// unit it was handed in for, so a portal need not walk every assignment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignEvidence {
    pub task: TaskRef,
    pub unit: UnitRef,
    pub evidence: Evidence,
}

/// An evidence version as a decision recorded it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoveredEvidence {
    pub evidence_id: i64,
    pub version_id: i64,
    pub version: i32,
    pub file_name: String,
    pub sha256: String,
}

/// A submission or a decision on it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    pub id: i64,
    /// The round of review: 1 for the first submission, 2 after one return …
    pub round: i32,
    /// `submit`, `accept`, `return` or `approve`.
    pub action: String,
    pub from_status: AssignmentStatus,
    pub to_status: AssignmentStatus,
    /// The account (username) that took the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// That person's name, as people know them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_unit: Option<UnitRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    /// The evidence versions the step covered, with their hashes.
    pub evidence: Vec<CoveredEvidence>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub decision: ReviewDecision,
    /// Required for a return: what must change.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub reason: Option<String>,
}

/// A measured value of a quantified task's target, for a period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measurement {
    pub id: i64,
    pub assignment_id: i64,
    pub unit: UnitRef,
    /// Which target of the task (1-based, in the task's order).
    pub target_position: i16,
    /// `2026` or `2026-06`.
    pub period: String,
    /// In the target's unit.
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub outcome: Outcome,
    pub reported_at: DateTime<Utc>,
}

/// Reports a measured value: `value` directly, or `numerator` and
/// `denominator` for a rate (%), or `start_date` and `end_date` for a
/// duration (工作日 or 日).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMeasurement {
    pub target_position: i16,
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub period: String,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub numerator: Option<f64>,
    #[serde(default)]
    pub denominator: Option<f64>,
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub note: Option<String>,
}

/// One target of a quantified task with every unit's measurement for a period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetEvaluation {
    pub position: i16,
    pub metric: String,
    pub comparator: crate::Comparator,
    /// The threshold: the target's value, or the reference figure entered for the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub unit: crate::TargetUnit,
    pub measurements: Vec<Measurement>,
    /// Met when every reported measurement meets it; unknown when none is reported.
    pub outcome: Outcome,
}

/// The figure a reference target is compared with, for a period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReferenceValue {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub period: String,
    pub value: f64,
}

/// A unit's report on a negative-list item for a period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NegativeReport {
    pub id: i64,
    pub item: TaskRef,
    pub unit: UnitRef,
    pub period: String,
    /// False: the unit attests the item did not occur.
    pub occurred: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_id: Option<i64>,
    pub reported_at: DateTime<Utc>,
    /// An occurrence the lead office confirmed: it vetoes the campaign.
    pub confirmed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNegativeReport {
    /// The item's code, N1 … N7.
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub item: String,
    /// The reporting unit; a unit's own users may leave it out.
    #[serde(default)]
    pub unit_id: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub period: String,
    pub occurred: bool,
    #[serde(default)]
    pub occurred_on: Option<NaiveDate>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub description: Option<String>,
    /// Evidence already uploaded on one of the unit's assignments.
    #[serde(default)]
    pub evidence_id: Option<i64>,
}

/// One negative-list item for a period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NegativeItemStatus {
    pub item: TaskRef,
    pub text: String,
    /// Units that attested the item did not occur.
    pub attested: i64,
    /// Units that have not reported on the item for the period.
    pub unreported: Vec<UnitRef>,
    pub occurrences: Vec<NegativeReport>,
}

/// The negative list of a campaign for a period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NegativeStatus {
    pub campaign: String,
    pub period: String,
    /// A confirmed occurrence (of any period) vetoes the campaign (否决).
    pub vetoed: bool,
    pub items: Vec<NegativeItemStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub kind: NotificationKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<i64>,
    /// The supervision notice the message is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// A day of the working-day calendar.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub is_workday: bool,
    /// `override` (entered in duban), `published` (the State Council's
    /// schedule) or `weekday` (no schedule known: Monday to Friday work).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CalendarOverride {
    pub is_workday: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub note: Option<String>,
}
