//! Where a campaign stands: the dashboard (总览).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::UnitRef;
use crate::TaskList;

/// A campaign's progress at a glance, computed for one day.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub campaign: String,
    pub name: String,
    /// The day (in China) the figures are for.
    pub as_of: NaiveDate,
    /// Share of the campaign period that has passed, 0 to 100; absent when
    /// the campaign has no period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_percent: Option<f64>,
    /// All tasks.
    pub total: Progress,
    /// Per list, in the order of the province's checklist.
    pub lists: Vec<ListProgress>,
    /// Per level-1 indicator, each with its level-2 indicators (basic tasks).
    pub indicators: Vec<IndicatorProgress>,
    /// Per unit with assignments, in roster order.
    pub units: Vec<UnitProgress>,
    pub quantified: QuantifiedSummary,
    pub negative: NegativeSummary,
}

/// How a set of tasks stands.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    pub tasks: i64,
    pub approved: i64,
    /// Every assignment submitted, some perhaps accepted, none approved yet.
    pub submitted: i64,
    pub in_progress: i64,
    pub returned: i64,
    pub not_started: i64,
    /// Not approved and past a due date (also counted under their status).
    pub overdue: i64,
    pub lights: Lights,
}

/// Schedule lights (进度灯): red for overdue or far behind the time that
/// has passed, yellow for due within seven days or behind, green otherwise.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lights {
    pub red: i64,
    pub yellow: i64,
    pub green: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListProgress {
    pub list: TaskList,
    pub progress: Progress,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorProgress {
    pub id: i64,
    /// 一 or (一).
    pub code: String,
    pub title: String,
    pub progress: Progress,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<IndicatorProgress>,
}

/// One unit's assignments, as lead and as responsible unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitProgress {
    pub unit: UnitRef,
    pub lead: AssignmentCounts,
    pub responsible: AssignmentCounts,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentCounts {
    pub total: i64,
    pub approved: i64,
    /// Submitted or accepted, awaiting the next decision.
    pub in_review: i64,
    pub returned: i64,
    pub overdue: i64,
}

/// The quantified tasks' targets this year: a task is met when every target
/// is met, not met when one is not, unknown until every target has a value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuantifiedSummary {
    /// The year the measurements are for, e.g. `2026`.
    pub period: String,
    pub met: i64,
    pub not_met: i64,
    pub unknown: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NegativeSummary {
    /// A confirmed occurrence vetoes the campaign (一票否决).
    pub vetoed: bool,
    pub confirmed: i64,
    /// Reported occurrences the lead office has not confirmed yet.
    pub awaiting_confirmation: i64,
}

/// Every campaign of the province at a glance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvinceDashboard {
    pub as_of: NaiveDate,
    pub total: Progress,
    pub lists: Vec<ListProgress>,
    /// Each county's campaign, in the order they were created.
    pub campaigns: Vec<CampaignProgress>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignProgress {
    pub code: String,
    pub name: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_percent: Option<f64>,
    pub progress: Progress,
    pub vetoed: bool,
}
