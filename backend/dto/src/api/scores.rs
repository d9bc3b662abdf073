//! Scores (考核评分) and bulletins (通报).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::UnitRef;
use crate::{AssignmentStatus, BulletinPeriod, BulletinState, TieRule, UnitKind, VetoScope};

/// How a campaign is scored; the lead office edits it. Scores are always
/// derived from the record with it, never typed in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScoringScheme {
    /// Points of each level-1 indicator, by its code (一 … 九), earned in
    /// proportion to its basic tasks approved. Indicators not named get
    /// `default_indicator_points`.
    #[serde(default)]
    pub indicator_points: BTreeMap<String, f64>,
    pub default_indicator_points: f64,
    /// Optional relative weights of level-2 indicators (by code, e.g.
    /// `(一)`) within their level-1 indicator; unnamed ones weigh 1.
    #[serde(default)]
    pub level2_weights: BTreeMap<String, f64>,
    /// Points for the quantified list, earned in proportion to its tasks
    /// whose targets are met this year.
    pub quantified_points: f64,
    /// The weights of a unit's four rates; a rate with no inputs is left
    /// out and the others share its weight.
    pub unit_weights: UnitWeights,
    pub veto: VetoScope,
    pub ties: TieRule,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnitWeights {
    /// Assignments approved, of all the unit's assignments.
    pub completion: f64,
    /// Assignments first submitted by their due date, of those due.
    pub on_time: f64,
    /// Assignments approved without ever being returned, of those approved.
    pub first_pass: f64,
    /// Supervision notices replied to by their (extended) reply date, of
    /// those due.
    pub notices: f64,
}

impl Default for ScoringScheme {
    fn default() -> Self {
        ScoringScheme {
            indicator_points: BTreeMap::new(),
            default_indicator_points: 10.0,
            level2_weights: BTreeMap::new(),
            quantified_points: 10.0,
            unit_weights: UnitWeights { completion: 40.0, on_time: 30.0, first_pass: 20.0, notices: 10.0 },
            veto: VetoScope::CampaignAndUnit,
            ties: TieRule::Shared,
        }
    }
}

/// A rate with its numerator and denominator, so a reader can check it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rate {
    pub met: i64,
    pub of: i64,
    /// `met / of`, 0 to 1; absent when `of` is 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// One unit's score on a day.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitScore {
    pub unit: UnitRef,
    pub kind: UnitKind,
    /// 0 to 100, one decimal; absent when the unit has nothing to score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Rank among the units of its kind (1 is best); absent without a score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    /// A confirmed negative-list occurrence in this unit zeroed the score.
    pub vetoed: bool,
    pub completion: Rate,
    pub on_time: Rate,
    pub first_pass: Rate,
    pub notices: Rate,
}

/// One level-1 indicator's part of the campaign's score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorScore {
    pub id: i64,
    pub code: String,
    pub title: String,
    /// The points it carries in the scheme.
    pub points: f64,
    /// Its basic tasks approved, of all of them.
    pub approved: Rate,
    /// The points earned, one decimal.
    pub earned: f64,
}

/// A campaign's scores on a day: the campaign's own and each unit's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignScores {
    pub campaign: String,
    /// The scores as they stood at the end of this day (China time).
    pub as_of: NaiveDate,
    pub scheme: ScoringScheme,
    /// The campaign's score, one decimal; 0 when vetoed.
    pub score: f64,
    /// The most the scheme gives.
    pub max_score: f64,
    pub vetoed: bool,
    pub indicators: Vec<IndicatorScore>,
    /// Quantified tasks whose targets are met this year, of all of them.
    pub quantified: Rate,
    pub quantified_earned: f64,
    /// Units in rank order within each kind.
    pub units: Vec<UnitScore>,
}

/// One assignment as a unit's score counted it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoredAssignment {
    pub assignment_id: i64,
    pub task_code: String,
    /// Its status at the end of the day scored.
    pub status: AssignmentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_submitted_on: Option<NaiveDate>,
    /// Counted in the on-time rate (due by then, or submitted); whether on time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
    /// Counted in the first-pass rate (approved); whether never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_pass: Option<bool>,
}

/// One supervision notice as a unit's score counted it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoredNotice {
    pub recipient_id: i64,
    pub doc_number: String,
    /// The reply date, extended if an extension was granted.
    pub reply_due: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_on: Option<NaiveDate>,
    pub on_time: bool,
}

/// A unit's score with every input that produced it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitScoreDetail {
    pub as_of: NaiveDate,
    pub score: UnitScore,
    pub assignments: Vec<ScoredAssignment>,
    pub notices: Vec<ScoredNotice>,
    /// Tasks of confirmed negative-list occurrences in the unit.
    pub vetoed_by: Vec<String>,
}

/// A bulletin (通报) in the list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bulletin {
    pub id: i64,
    pub campaign: String,
    pub period: BulletinPeriod,
    /// The span reported on; `as_of` is its last day.
    pub from: NaiveDate,
    pub as_of: NaiveDate,
    pub state: BulletinState,
    /// 罗法治办通〔2026〕5号, given when issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_number: Option<String>,
    pub title: String,
    /// 主送: who it is addressed to.
    pub addressees: String,
    /// The office's own words: the opening summary.
    pub summary: String,
    /// The office's own words: what is required next.
    pub requirements: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_by: Option<String>,
    /// SHA-256 of the issued .docx, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether a PDF of the issued document is kept.
    pub has_pdf: bool,
    pub version: i32,
}

/// A new bulletin, or changes to a draft's text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulletinDraft {
    pub period: BulletinPeriod,
    pub from: NaiveDate,
    pub as_of: NaiveDate,
    pub title: String,
    pub addressees: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub requirements: String,
}

/// What a bulletin's figures are made of, frozen when it is issued: the
/// scores and the late work as they stood.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulletinInputs {
    pub scores: CampaignScores,
    /// Each level-1 indicator and list: tasks, approved, overdue.
    pub progress: Vec<ProgressLine>,
    /// Units named for late work (点名通报), most days late first.
    pub late: Vec<LateUnit>,
    /// The negative list: each item and whether an occurrence is confirmed.
    pub negative: Vec<NegativeLine>,
    /// Every late assignment behind `late`, for the inputs appendix.
    pub late_assignments: Vec<LateAssignment>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgressLine {
    /// 一 … 九 with the indicator's title, or the list's name.
    pub label: String,
    /// A whole list (the lines of the four lists add up to the campaign).
    pub list: bool,
    pub tasks: i64,
    pub approved: i64,
    pub overdue: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LateUnit {
    pub unit: UnitRef,
    pub late: i64,
    /// The most days any of its assignments is overdue.
    pub most_days: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LateAssignment {
    pub assignment_id: i64,
    pub unit: String,
    pub task_code: String,
    pub due_date: NaiveDate,
    pub days: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NegativeLine {
    pub code: String,
    pub text: String,
    /// Units with a confirmed occurrence.
    pub occurred_in: Vec<String>,
}
