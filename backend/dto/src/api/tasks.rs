use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Assignment, UnitRef};
use crate::{Comparator, TargetUnit, TaskList, TaskStatus};

/// A campaign in full.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicator {
    pub id: i64,
    /// 1 or 2.
    pub level: i16,
    /// 一 or (一).
    pub code: String,
    pub title: String,
    /// Tasks under the indicator (for level 1: under its children).
    pub task_count: i64,
    /// Level-2 indicators of a level-1 indicator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<Indicator>,
}

/// An indicator where a task refers to it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorRef {
    pub id: i64,
    pub code: String,
    pub title: String,
}

/// A unit or group a task names, as written and as resolved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    pub as_written: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitRef>,
    /// The collective group's id, when the name is a collective phrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Target {
    pub metric: String,
    pub comparator: Comparator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub unit: TargetUnit,
}

/// A task as lists show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskSummary {
    pub id: i64,
    /// The campaign's code.
    pub campaign: String,
    /// B001, Q01, E01, N1.
    pub code: String,
    pub list: TaskList,
    pub number: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level1: Option<IndicatorRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level2: Option<IndicatorRef>,
    pub text: String,
    pub leads: Vec<Party>,
    /// The 责任单位 phrase as written; absent where the table leaves it blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<String>,
    pub status: TaskStatus,
    /// The earliest due date among unapproved assignments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due: Option<NaiveDate>,
    pub assignment_count: i64,
}

/// A task with everything about it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskDetail {
    #[serde(flatten)]
    pub summary: TaskSummary,
    pub responsible_parties: Vec<Party>,
    pub targets: Vec<Target>,
    pub assignments: Vec<Assignment>,
}
