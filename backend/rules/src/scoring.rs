//! Scoring (考核评分): a unit's score from its four rates, the campaign's
//! from its indicators and quantified targets, the veto of the negative
//! list, and the ranking of units within their kind.
//!
//! - A rate is `met / of`; a rate with nothing to count (`of` = 0) is left
//!   out and the other rates share its weight. A unit with no rate to count
//!   has no score and no rank.
//! - Scores are rounded to one decimal, as they are shown; units are ranked
//!   by the rounded score, so that two units shown with the same score are
//!   tied.
//! - Ties follow the scheme's [`TieRule`]: `shared` gives tied units the
//!   same rank and skips the ranks after (1, 2, 2, 4), listing them by name;
//!   `on_time_rate` first puts the higher on-time rate ahead, and only units
//!   equal on that too share a rank.
//! - The veto zeroes what the scheme's [`VetoScope`] says: the campaign's
//!   score, the score of the unit the occurrence was confirmed in, both, or
//!   neither.

use std::cmp::Ordering;

use duban_dto::api::{Rate, ScoringScheme, UnitWeights};
use duban_dto::{TieRule, VetoScope};

/// A rate from its counts.
pub fn rate(met: i64, of: i64) -> Rate {
    Rate { met, of, value: (of > 0).then(|| met as f64 / of as f64) }
}

/// A score to one decimal, as shown.
pub fn round(score: f64) -> f64 {
    (score * 10.0).round() / 10.0
}

/// The four rates a unit is scored on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UnitRates {
    pub completion: Rate,
    pub on_time: Rate,
    pub first_pass: Rate,
    pub notices: Rate,
}

/// A unit's score, 0 to 100 to one decimal; `None` when no rate has
/// anything to count. A vetoed unit scores 0 if the scheme vetoes units.
pub fn unit_score(weights: &UnitWeights, rates: &UnitRates, veto: VetoScope, vetoed: bool) -> Option<f64> {
    let parts = [
        (weights.completion, rates.completion),
        (weights.on_time, rates.on_time),
        (weights.first_pass, rates.first_pass),
        (weights.notices, rates.notices),
    ];
    let (weighted, total_weight) = parts
        .iter()
        .filter_map(|(weight, rate)| rate.value.map(|value| (weight * value, *weight)))
        .fold((0.0, 0.0), |(sum, weights), (part, weight)| (sum + part, weights + weight));
    if total_weight <= 0.0 {
        return None;
    }
    if vetoed && vetoes_units(veto) {
        return Some(0.0);
    }
    Some(round(100.0 * weighted / total_weight))
}

pub fn vetoes_units(veto: VetoScope) -> bool {
    matches!(veto, VetoScope::CampaignAndUnit | VetoScope::Unit)
}

pub fn vetoes_campaign(veto: VetoScope) -> bool {
    matches!(veto, VetoScope::CampaignAndUnit | VetoScope::Campaign)
}

/// One level-1 indicator's completion: its level-2 indicators' shares of
/// approved basic tasks, weighted by the scheme (1 unless named). Level-2
/// indicators without tasks are left out; `None` if none has tasks.
pub fn indicator_completion(scheme: &ScoringScheme, level2: &[(String, Rate)]) -> Option<f64> {
    let (weighted, total) = level2
        .iter()
        .filter_map(|(code, rate)| {
            let weight = scheme.level2_weights.get(code).copied().unwrap_or(1.0);
            rate.value.map(|value| (weight * value, weight))
        })
        .fold((0.0, 0.0), |(sum, weights), (part, weight)| (sum + part, weights + weight));
    (total > 0.0).then(|| weighted / total)
}

/// The points a level-1 indicator carries.
pub fn indicator_points(scheme: &ScoringScheme, code: &str) -> f64 {
    scheme.indicator_points.get(code).copied().unwrap_or(scheme.default_indicator_points)
}

/// The campaign's score: each indicator's points times its completion,
/// plus the quantified points times the share of targets met; 0 if vetoed
/// and the scheme vetoes the campaign.
pub fn campaign_score(scheme: &ScoringScheme, indicator_earned: &[f64], quantified: Rate, vetoed: bool) -> f64 {
    if vetoed && vetoes_campaign(scheme.veto) {
        return 0.0;
    }
    let earned: f64 = indicator_earned.iter().sum::<f64>() + scheme.quantified_points * quantified.value.unwrap_or(0.0);
    round(earned)
}

/// A unit to be ranked: its score (already rounded), on-time rate and name.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked<'a> {
    pub score: Option<f64>,
    pub on_time: Option<f64>,
    pub name: &'a str,
}

/// The order and ranks of units of one kind: indices into `units`, best
/// first, each with its rank (`None` without a score; those come last).
pub fn rank(units: &[Ranked<'_>], ties: TieRule) -> Vec<(usize, Option<i64>)> {
    let key = |unit: &Ranked<'_>| -> (f64, f64) {
        let on_time = match ties {
            TieRule::Shared => 0.0,
            TieRule::OnTimeRate => unit.on_time.unwrap_or(0.0),
        };
        (unit.score.unwrap_or(f64::NEG_INFINITY), on_time)
    };
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        let (score_a, on_time_a) = key(&units[a]);
        let (score_b, on_time_b) = key(&units[b]);
        score_b
            .partial_cmp(&score_a)
            .unwrap_or(Ordering::Equal)
            .then(on_time_b.partial_cmp(&on_time_a).unwrap_or(Ordering::Equal))
            .then_with(|| units[a].name.cmp(units[b].name))
    });
    let mut ranked = Vec::with_capacity(order.len());
    let mut previous: Option<((f64, f64), i64)> = None;
    for (position, &index) in order.iter().enumerate() {
        if units[index].score.is_none() {
            ranked.push((index, None));
            continue;
        }
        let this = key(&units[index]);
        let rank = match previous {
            Some((key, rank)) if key == this => rank,
            _ => position as i64 + 1,
        };
        previous = Some((this, rank));
        ranked.push((index, Some(rank)));
    }
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights() -> UnitWeights {
        ScoringScheme::default().unit_weights
    }

    #[test]
    fn a_unit_scores_its_weighted_rates_and_missing_rates_share_their_weight() {
        let rates = UnitRates { completion: rate(1, 2), on_time: rate(1, 1), first_pass: rate(1, 1), notices: rate(0, 0) };
        // (40·0.5 + 30·1 + 20·1) / 90 · 100 = 77.8
        assert_eq!(unit_score(&weights(), &rates, VetoScope::CampaignAndUnit, false), Some(77.8));
        assert_eq!(unit_score(&weights(), &rates, VetoScope::CampaignAndUnit, true), Some(0.0));
        assert_eq!(unit_score(&weights(), &rates, VetoScope::Campaign, true), Some(77.8));
        assert_eq!(unit_score(&weights(), &UnitRates::default(), VetoScope::None, false), None);
    }

    #[test]
    fn the_veto_zeroes_the_campaign_only_when_the_scheme_says() {
        let mut scheme = ScoringScheme::default();
        assert_eq!(campaign_score(&scheme, &[5.0, 2.5], rate(16, 32), false), 12.5);
        assert_eq!(campaign_score(&scheme, &[5.0, 2.5], rate(16, 32), true), 0.0);
        scheme.veto = VetoScope::Unit;
        assert_eq!(campaign_score(&scheme, &[5.0, 2.5], rate(16, 32), true), 12.5);
    }

    #[test]
    fn level2_weights_shape_an_indicators_completion() {
        let mut scheme = ScoringScheme::default();
        let level2 = [("(一)".to_owned(), rate(1, 1)), ("(二)".to_owned(), rate(0, 3)), ("(三)".to_owned(), rate(0, 0))];
        assert_eq!(indicator_completion(&scheme, &level2), Some(0.5));
        scheme.level2_weights.insert("(一)".into(), 3.0);
        assert_eq!(indicator_completion(&scheme, &level2), Some(0.75));
        assert_eq!(indicator_completion(&scheme, &[]), None);
    }

    #[test]
    fn ties_share_a_rank_or_go_by_the_on_time_rate() {
        let units = [
            Ranked { score: Some(80.0), on_time: Some(0.5), name: "乙" },
            Ranked { score: Some(90.0), on_time: Some(0.5), name: "丙" },
            Ranked { score: Some(80.0), on_time: Some(0.9), name: "甲" },
            Ranked { score: None, on_time: None, name: "丁" },
            Ranked { score: Some(70.0), on_time: Some(1.0), name: "戊" },
        ];
        let shared = rank(&units, TieRule::Shared);
        let names = |ranked: &[(usize, Option<i64>)]| -> Vec<(&str, Option<i64>)> {
            ranked.iter().map(|(index, rank)| (units[*index].name, *rank)).collect()
        };
        assert_eq!(names(&shared), [("丙", Some(1)), ("乙", Some(2)), ("甲", Some(2)), ("戊", Some(4)), ("丁", None)]);
        let by_on_time = rank(&units, TieRule::OnTimeRate);
        assert_eq!(names(&by_on_time), [("丙", Some(1)), ("甲", Some(2)), ("乙", Some(3)), ("戊", Some(4)), ("丁", None)]);
    }
}
