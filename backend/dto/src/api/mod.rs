//! Request and response bodies of the API, by resource.

mod accounts;
mod assignments;
mod audit;
mod auth;
mod dashboard;
mod evidence;
mod imports;
mod policy;
mod scores;
mod supervision;
mod tasks;
mod units;

pub use accounts::*;
pub use assignments::*;
pub use audit::*;
pub use auth::*;
pub use dashboard::*;
pub use evidence::*;
pub use imports::*;
pub use policy::*;
pub use scores::*;
use serde::{Deserialize, Serialize};
pub use supervision::*;
pub use tasks::*;
pub use units::*;

use crate::TaskList;

/// One page of a list, with the total number of matching items.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items match the filters, on all pages.
    pub total: i64,
    /// The page size that was applied.
    pub limit: i64,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Deserialises a field that may be absent (leave unchanged), null (clear)
/// or a value (set), as PATCH bodies need.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes the inner option: an absent field is skipped by the caller's
    /// `skip_serializing_if`, so only null and values reach here.
    pub fn serialize<T: Serialize, S: Serializer>(value: &Option<Option<T>>, serializer: S) -> Result<S::Ok, S::Error> {
        value.as_ref().and_then(Option::as_ref).serialize(serializer)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// Liveness answer of `/healthz`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: String,
    /// Whether the database answered a trivial query just now.
    pub database: bool,
    pub version: String,
}

/// Whether this instance can take requests (`GET /readyz`): the database
/// answers, its schema is this version's, and uploads can be staged.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub ready: bool,
    pub database: bool,
    /// No migration of this version is waiting to be applied.
    pub migrations_current: bool,
    /// A file can be written where uploads are staged.
    pub storage_writable: bool,
    /// The instance is stopping (SIGTERM): it still answers, but a balancer
    /// should send new requests elsewhere.
    #[serde(default)]
    pub stopping: bool,
    pub version: String,
}

/// A campaign with its task counts, as listed by `GET /api/v1/campaigns`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignSummary {
    pub id: i64,
    /// Stable slug, e.g. `luoping`.
    pub code: String,
    pub name: String,
    pub region: String,
    /// First day of the creation cycle (ISO 8601), when known.
    pub period_start: Option<String>,
    /// Last day of the creation cycle (ISO 8601), when known.
    pub period_end: Option<String>,
    pub level1_indicators: i64,
    pub level2_indicators: i64,
    pub task_counts: Vec<ListCount>,
    /// A confirmed negative-list occurrence vetoes the campaign (否决),
    /// whatever its other results.
    pub vetoed: bool,
}

/// How many tasks a campaign has on one list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListCount {
    pub list: TaskList,
    pub tasks: i64,
}

/// An error as every endpoint reports it: RFC 7807 `application/problem+json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// `urn:duban:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short, stable summary of the kind of problem.
    pub title: String,
    pub status: u16,
    /// What went wrong this time, for a person to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `not_found`, `invalid_body`.
    pub code: String,
    /// The request id, also sent in the `x-request-id` header and logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A county's campaign started from another campaign's checklist.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// Stable slug: lower-case letters, digits and hyphens, e.g. `shizong`.
    pub code: String,
    pub name: String,
    /// The county whose units will do the work, e.g. 师宗县 (created if new).
    pub region: String,
    /// The campaign whose checklist (indicators, tasks, targets) is copied,
    /// without its county's lead and responsible units.
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<chrono::NaiveDate>,
}
