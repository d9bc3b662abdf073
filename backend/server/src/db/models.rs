//! Rows as diesel reads and writes them.

use chrono::NaiveDate;
use diesel::prelude::*;
use duban_breakdown::seed::TargetSeed;
use duban_dto::{AssignmentStatus, Comparator, PartyRole, TargetUnit, TaskList, UnitKind};

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: i64,
    pub region_id: i64,
    pub code: String,
    pub name: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub source_title: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = indicators)]
pub struct Indicator {
    pub id: i64,
    pub campaign_id: i64,
    pub level: i16,
    pub ordinal: i32,
    pub code: String,
    pub title: String,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tasks)]
pub struct Task {
    pub id: i64,
    pub campaign_id: i64,
    pub list: TaskList,
    pub number: i32,
    pub code: String,
    pub indicator_id: Option<i64>,
    pub text: String,
    pub responsible_text: Option<String>,
    pub source_line: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = task_targets)]
pub struct Target {
    pub task_id: i64,
    pub position: i16,
    pub metric: String,
    pub comparator: Comparator,
    pub value: Option<f64>,
    pub reference: Option<String>,
    pub unit: TargetUnit,
}

impl Target {
    /// The target as the campaign seed and the API describe it.
    pub fn seed(&self) -> TargetSeed {
        TargetSeed {
            metric: self.metric.clone(),
            comparator: self.comparator,
            value: self.value,
            reference: self.reference.clone(),
            unit: self.unit,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = task_parties)]
pub struct TaskParty {
    pub task_id: i64,
    pub role: PartyRole,
    pub position: i16,
    pub as_written: String,
    pub unit_id: Option<i64>,
    pub group_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = units)]
pub struct Unit {
    pub id: i64,
    pub region_id: i64,
    pub name: String,
    pub kind: UnitKind,
    pub law_enforcement: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = unit_groups)]
pub struct UnitGroup {
    pub id: i64,
    pub region_id: i64,
    pub phrase: String,
    pub member_kinds: Vec<UnitKind>,
    pub law_enforcement_only: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assignments)]
pub struct Assignment {
    pub id: i64,
    pub task_id: i64,
    pub unit_id: i64,
    pub role: PartyRole,
    pub status: AssignmentStatus,
}
