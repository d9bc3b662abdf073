use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::UnitRef;
use crate::{AssignmentStatus, PartyRole};

/// The task an assignment belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskRef {
    pub id: i64,
    pub campaign: String,
    pub code: String,
    /// The task's text (三级指标), so lists can show what the task is.
    pub text: String,
}

/// One unit's work on one task.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub id: i64,
    pub task: TaskRef,
    pub unit: UnitRef,
    pub role: PartyRole,
    pub status: AssignmentStatus,
    /// The units that lead the task (by a lead assignment or as named in the
    /// table): they review the responsible units' submissions. With the
    /// caller's role and unit this gives the caller's standing in the
    /// workflow (`duban_rules::workflow::Standing::of`).
    #[serde(default)]
    pub lead_unit_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    /// Past its due date and not approved.
    pub overdue: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_note: Option<String>,
    /// How often the lead office urged the unit about it (催办), by hand or
    /// by the reminder rules' notices.
    #[serde(default)]
    pub urged: i32,
    /// Changes with every update; the ETag is `"<version>"`.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// Assigns units to a task: the listed units, and the members of a group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAssignments {
    #[serde(default)]
    pub unit_ids: Vec<i64>,
    /// Expands the group into one assignment per member unit.
    #[serde(default)]
    pub group_id: Option<i64>,
    pub role: PartyRole,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentsCreated {
    pub created: Vec<Assignment>,
    /// Units that already had this assignment: left as they were, except
    /// that a due date given fills an empty one.
    pub existing: Vec<Assignment>,
}

/// Changes to an assignment. The lead office sets due dates; the unit
/// reports progress and moves between not started and in progress.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignmentPatch {
    #[serde(default)]
    pub status: Option<AssignmentStatus>,
    #[serde(default, with = "super::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub progress_note: Option<Option<String>>,
    #[serde(default, with = "super::double_option", skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Option<NaiveDate>>,
}
