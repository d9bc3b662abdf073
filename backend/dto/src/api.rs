//! Response bodies of the read API.

use serde::{Deserialize, Serialize};

use crate::TaskList;

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
