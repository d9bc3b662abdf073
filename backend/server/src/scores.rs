//! Scores (考核评分) of a campaign and its units on a day, derived from the
//! record by the rulebook's `duban_rules::scoring`, never typed in.
//!
//! "As of" a day means as the record stood at the end of that day in China:
//! assignments made by then, each in the status its last decision by then
//! left it, notices issued by then with the replies made by then, and
//! negative-list occurrences confirmed by then. Due dates and quantified
//! outcomes are taken as they stand now; a bulletin freezes its inputs when
//! it is issued, so an issued bulletin never changes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use duban_dto::api::{
    BulletinInputs, CampaignScores, IndicatorScore, LateAssignment, LateUnit, NegativeLine, ProgressLine, Rate, ScoredAssignment,
    ScoredNotice, ScoringScheme, UnitRef, UnitScore, UnitScoreDetail,
};
use duban_dto::{AssignmentStatus, TaskList, UnitKind};
use duban_rules::scoring::{self, Ranked, UnitRates, rate};
use duban_rules::workflow::Step;
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{Caller, ManageScoring, ReadProgress};
use crate::clock;
use crate::db::lookups;
use crate::db::schema::{
    assignments, decisions, negative_reports, notice_events, notice_recipients, notices, scoring_schemes, tasks, units,
};
use crate::error::Error;

/// The scheme a campaign is scored by: the lead office's, or the default.
pub fn scheme(conn: &mut PgConnection, campaign_id: i64) -> Result<ScoringScheme, Error> {
    let stored: Option<serde_json::Value> =
        scoring_schemes::table.find(campaign_id).select(scoring_schemes::scheme).first(conn).optional()?;
    match stored {
        Some(value) => serde_json::from_value(value).map_err(Error::internal),
        None => Ok(ScoringScheme::default()),
    }
}

pub fn read_scheme(conn: &mut PgConnection, _can: &ReadProgress, code: &str) -> Result<ScoringScheme, Error> {
    let campaign_id = lookups::campaign_id(conn, code)?;
    scheme(conn, campaign_id)
}

/// Replaces a campaign's scheme, audited.
pub fn set_scheme(
    conn: &mut PgConnection,
    _can: &ManageScoring,
    caller: &Caller,
    code: &str,
    wanted: &ScoringScheme,
) -> Result<ScoringScheme, Error> {
    validate(wanted)?;
    conn.transaction(|conn| {
        let campaign_id = lookups::campaign_id(conn, code)?;
        let before = scheme(conn, campaign_id)?;
        let value = serde_json::to_value(wanted).map_err(Error::internal)?;
        diesel::insert_into(scoring_schemes::table)
            .values((
                scoring_schemes::campaign_id.eq(campaign_id),
                scoring_schemes::scheme.eq(&value),
                scoring_schemes::updated_by.eq(caller.user_id()),
            ))
            .on_conflict(scoring_schemes::campaign_id)
            .do_update()
            .set((
                scoring_schemes::scheme.eq(&value),
                scoring_schemes::updated_at.eq(Utc::now()),
                scoring_schemes::updated_by.eq(caller.user_id()),
            ))
            .execute(conn)?;
        let event = Event::new("scoring_scheme.update").entity("campaign", campaign_id).before(json!(before)).after(json!(wanted));
        audit::record(conn, &caller.audit_actor(), event)?;
        Ok(wanted.clone())
    })
}

fn validate(scheme: &ScoringScheme) -> Result<(), Error> {
    let weights = &scheme.unit_weights;
    let all = scheme.indicator_points.values().chain(scheme.level2_weights.values()).chain([
        &scheme.default_indicator_points,
        &scheme.quantified_points,
        &weights.completion,
        &weights.on_time,
        &weights.first_pass,
        &weights.notices,
    ]);
    for value in all {
        if !value.is_finite() || *value < 0.0 || *value > 1000.0 {
            return Err(Error::invalid("invalid_weight", "points and weights are numbers from 0 to 1000"));
        }
    }
    if weights.completion + weights.on_time + weights.first_pass + weights.notices <= 0.0 {
        return Err(Error::invalid("invalid_weight", "at least one of a unit's rates needs a weight above 0"));
    }
    Ok(())
}

/// The first instant after `day` in China.
fn end_of(day: NaiveDate) -> DateTime<Utc> {
    let next = (day + Days::new(1)).and_hms_opt(0, 0, 0).expect("midnight exists");
    clock::china().from_local_datetime(&next).single().expect("UTC+8 has no gaps").with_timezone(&Utc)
}

fn check_day(as_of: NaiveDate) -> Result<(), Error> {
    if as_of > clock::today() {
        return Err(Error::bad_parameter("as_of_in_future", "scores are of a day that has begun: choose today or earlier"));
    }
    Ok(())
}

/// One assignment as it stood at the end of the day.
struct AssignmentAsOf {
    unit_id: i64,
    task_id: i64,
    scored: ScoredAssignment,
}

/// Everything a campaign's scores are made of, on a day.
struct Record {
    campaign_id: i64,
    as_of: NaiveDate,
    scheme: ScoringScheme,
    assignments: Vec<AssignmentAsOf>,
    units: BTreeMap<i64, (String, UnitKind)>,
    notices: BTreeMap<i64, Vec<ScoredNotice>>,
    /// Units with a confirmed occurrence, and the tasks it was on.
    vetoes: BTreeMap<i64, Vec<String>>,
}

fn record(conn: &mut PgConnection, code: &str, as_of: NaiveDate) -> Result<Record, Error> {
    check_day(as_of)?;
    let campaign_id = lookups::campaign_id(conn, code)?;
    let cutoff = end_of(as_of);
    let rows: Vec<(i64, i64, String, i64, Option<NaiveDate>)> = assignments::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(assignments::created_at.lt(cutoff))
        .order(assignments::id)
        .select((assignments::id, assignments::task_id, tasks::code, assignments::unit_id, assignments::due_date))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|row| row.0).collect();
    let steps: Vec<(i64, String, AssignmentStatus, DateTime<Utc>)> = decisions::table
        .filter(decisions::assignment_id.eq_any(&ids))
        .filter(decisions::at.lt(cutoff))
        .order((decisions::at, decisions::id))
        .select((decisions::assignment_id, decisions::action, decisions::to_status, decisions::at))
        .load(conn)?;
    #[derive(Default)]
    struct History {
        status: Option<AssignmentStatus>,
        first_submitted: Option<NaiveDate>,
        returned: bool,
    }
    let mut histories: BTreeMap<i64, History> = BTreeMap::new();
    for (assignment_id, action, to, at) in steps {
        let history = histories.entry(assignment_id).or_default();
        history.status = Some(to);
        if action == Step::Submit.as_str() && history.first_submitted.is_none() {
            history.first_submitted = Some(clock::today_at(at));
        }
        if action == Step::Return.as_str() {
            history.returned = true;
        }
    }
    let assignments = rows
        .into_iter()
        .map(|(id, task_id, task_code, unit_id, due_date)| {
            let history = histories.remove(&id).unwrap_or_default();
            let status = history.status.unwrap_or(AssignmentStatus::NotStarted);
            let on_time = match (due_date, history.first_submitted) {
                (Some(due), Some(submitted)) => Some(submitted <= due),
                (Some(due), None) if due < as_of => Some(false),
                _ => None,
            };
            let first_pass = (status == AssignmentStatus::Approved).then_some(!history.returned);
            let scored = ScoredAssignment {
                assignment_id: id,
                task_code,
                status,
                due_date,
                first_submitted_on: history.first_submitted,
                on_time,
                first_pass,
            };
            AssignmentAsOf { unit_id, task_id, scored }
        })
        .collect::<Vec<_>>();

    let unit_ids: Vec<i64> = assignments.iter().map(|a| a.unit_id).collect();
    let units: BTreeMap<i64, (String, UnitKind)> = units::table
        .filter(units::id.eq_any(&unit_ids))
        .select((units::id, units::name, units::kind))
        .load::<(i64, String, UnitKind)>(conn)?
        .into_iter()
        .map(|(id, name, kind)| (id, (name, kind)))
        .collect();

    let recipients: Vec<(i64, i64, String, NaiveDate)> = notice_recipients::table
        .inner_join(notices::table)
        .filter(notices::campaign_id.eq(campaign_id))
        .filter(notices::issued_at.lt(cutoff))
        .order(notice_recipients::id)
        .select((notice_recipients::id, notice_recipients::unit_id, notices::doc_number, notice_recipients::reply_due))
        .load(conn)?;
    let recipient_ids: Vec<i64> = recipients.iter().map(|r| r.0).collect();
    let mut replied: BTreeMap<i64, NaiveDate> = BTreeMap::new();
    for (recipient_id, at) in notice_events::table
        .filter(notice_events::recipient_id.eq_any(&recipient_ids))
        .filter(notice_events::kind.eq(duban_dto::NoticeStep::Reply.as_str()))
        .filter(notice_events::at.lt(cutoff))
        .order((notice_events::at, notice_events::id))
        .select((notice_events::recipient_id, notice_events::at))
        .load::<(i64, DateTime<Utc>)>(conn)?
    {
        replied.entry(recipient_id).or_insert(clock::today_at(at));
    }
    let mut notices: BTreeMap<i64, Vec<ScoredNotice>> = BTreeMap::new();
    for (recipient_id, unit_id, doc_number, reply_due) in recipients {
        let replied_on = replied.get(&recipient_id).copied();
        // Counted once replied, or once the reply date has passed.
        if replied_on.is_none() && reply_due >= as_of {
            continue;
        }
        let on_time = replied_on.is_some_and(|day| day <= reply_due);
        notices.entry(unit_id).or_default().push(ScoredNotice { recipient_id, doc_number, reply_due, replied_on, on_time });
    }

    let mut vetoes: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (unit_id, code) in negative_reports::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(negative_reports::occurred.eq(true))
        .filter(negative_reports::confirmed_at.lt(cutoff))
        .order(negative_reports::id)
        .select((negative_reports::unit_id, tasks::code))
        .load::<(i64, String)>(conn)?
    {
        vetoes.entry(unit_id).or_default().push(code);
    }
    let scheme = scheme(conn, campaign_id)?;
    Ok(Record { campaign_id, as_of, scheme, assignments, units, notices, vetoes })
}

impl Record {
    fn rates(&self, unit_id: i64) -> UnitRates {
        let mine = || self.assignments.iter().filter(move |a| a.unit_id == unit_id).map(|a| &a.scored);
        let count = |values: Vec<Option<bool>>| {
            let counted: Vec<bool> = values.into_iter().flatten().collect();
            rate(counted.iter().filter(|ok| **ok).count() as i64, counted.len() as i64)
        };
        let notices = self.notices.get(&unit_id).map(Vec::as_slice).unwrap_or_default();
        UnitRates {
            completion: rate(mine().filter(|a| a.status == AssignmentStatus::Approved).count() as i64, mine().count() as i64),
            on_time: count(mine().map(|a| a.on_time).collect()),
            first_pass: count(mine().map(|a| a.first_pass).collect()),
            notices: rate(notices.iter().filter(|n| n.on_time).count() as i64, notices.len() as i64),
        }
    }

    /// Every unit's score, ranked within its kind, kinds in their order.
    fn unit_scores(&self) -> Vec<UnitScore> {
        let mut scores: Vec<UnitScore> = self
            .units
            .iter()
            .map(|(&id, (name, kind))| {
                let rates = self.rates(id);
                let vetoed = self.vetoes.contains_key(&id);
                UnitScore {
                    unit: UnitRef { id, name: name.clone() },
                    kind: *kind,
                    score: scoring::unit_score(&self.scheme.unit_weights, &rates, self.scheme.veto, vetoed),
                    rank: None,
                    vetoed: vetoed && scoring::vetoes_units(self.scheme.veto),
                    completion: rates.completion,
                    on_time: rates.on_time,
                    first_pass: rates.first_pass,
                    notices: rates.notices,
                }
            })
            .collect();
        let mut ordered = Vec::with_capacity(scores.len());
        for kind in UnitKind::ALL {
            let of_kind: Vec<usize> = (0..scores.len()).filter(|&i| scores[i].kind == *kind).collect();
            let ranked: Vec<Ranked<'_>> = of_kind
                .iter()
                .map(|&i| Ranked { score: scores[i].score, on_time: scores[i].on_time.value, name: &scores[i].unit.name })
                .collect();
            let order = scoring::rank(&ranked, self.scheme.ties);
            let placed: Vec<(usize, Option<i64>)> = order.into_iter().map(|(position, rank)| (of_kind[position], rank)).collect();
            for (index, rank) in placed {
                scores[index].rank = rank;
                ordered.push(index);
            }
        }
        let mut taken: Vec<Option<UnitScore>> = scores.into_iter().map(Some).collect();
        ordered.into_iter().filter_map(|index| taken[index].take()).collect()
    }
}

/// A campaign's scores and its units' on `as_of`.
pub fn campaign_scores(conn: &mut PgConnection, _can: &ReadProgress, code: &str, as_of: NaiveDate) -> Result<CampaignScores, Error> {
    let record = record(conn, code, as_of)?;
    scores_of(conn, code, &record)
}

impl Record {
    /// Whether each task given out by then was approved by then: it has
    /// assignments and all of them are approved.
    fn approved_tasks(&self) -> BTreeMap<i64, bool> {
        let mut states: BTreeMap<i64, bool> = BTreeMap::new();
        for assignment in &self.assignments {
            let entry = states.entry(assignment.task_id).or_insert(true);
            *entry &= assignment.scored.status == AssignmentStatus::Approved;
        }
        states
    }

    /// Assignments not approved by the end of the day and past their due date.
    fn late(&self) -> impl Iterator<Item = (&AssignmentAsOf, NaiveDate)> {
        self.assignments.iter().filter_map(|a| {
            let due = a.scored.due_date?;
            (a.scored.status != AssignmentStatus::Approved && due < self.as_of).then_some((a, due))
        })
    }
}

fn scores_of(conn: &mut PgConnection, code: &str, record: &Record) -> Result<CampaignScores, Error> {
    let scheme = &record.scheme;
    let approved_tasks = record.approved_tasks();
    let approved = |task_id: i64| approved_tasks.get(&task_id).copied().unwrap_or(false);
    let basic: Vec<(i64, Option<i64>)> = tasks::table
        .filter(tasks::campaign_id.eq(record.campaign_id))
        .filter(tasks::list.eq(TaskList::Basic))
        .select((tasks::id, tasks::indicator_id))
        .load(conn)?;
    let count_under = |indicator_id: i64| -> Rate {
        let under: Vec<i64> = basic.iter().filter(|(_, indicator)| *indicator == Some(indicator_id)).map(|(id, _)| *id).collect();
        rate(under.iter().filter(|id| approved(**id)).count() as i64, under.len() as i64)
    };
    let mut indicators = Vec::new();
    for level1 in lookups::indicator_tree(conn, record.campaign_id)? {
        let mut level2: Vec<(String, Rate)> = level1.children.iter().map(|child| (child.code.clone(), count_under(child.id))).collect();
        level2.push((level1.code.clone(), count_under(level1.id)));
        let all = level2.iter().fold(Rate::default(), |sum, (_, r)| rate(sum.met + r.met, sum.of + r.of));
        let points = scoring::indicator_points(scheme, &level1.code);
        let earned = scoring::round(points * scoring::indicator_completion(scheme, &level2).unwrap_or(0.0));
        indicators.push(IndicatorScore { id: level1.id, code: level1.code, title: level1.title, points, approved: all, earned });
    }
    let summary = crate::dashboard::quantified_summary(conn, record.campaign_id, &record.as_of.format("%Y").to_string())?;
    let quantified = rate(summary.met, summary.met + summary.not_met + summary.unknown);
    let campaign_vetoed = !record.vetoes.is_empty();
    let earned: Vec<f64> = indicators.iter().map(|indicator| indicator.earned).collect();
    Ok(CampaignScores {
        campaign: code.to_owned(),
        as_of: record.as_of,
        scheme: scheme.clone(),
        score: scoring::campaign_score(scheme, &earned, quantified, campaign_vetoed),
        max_score: scoring::round(indicators.iter().map(|i| i.points).sum::<f64>() + scheme.quantified_points),
        vetoed: campaign_vetoed && scoring::vetoes_campaign(scheme.veto),
        quantified_earned: scoring::round(scheme.quantified_points * quantified.value.unwrap_or(0.0)),
        indicators,
        quantified,
        units: record.unit_scores(),
    })
}

/// What a bulletin on `as_of` reports: the scores, progress per indicator
/// and list, the late units and their late work, and the negative list,
/// all as the record stood at the end of that day.
pub(crate) fn bulletin_inputs(conn: &mut PgConnection, code: &str, as_of: NaiveDate) -> Result<BulletinInputs, Error> {
    let record = record(conn, code, as_of)?;
    let scores = scores_of(conn, code, &record)?;
    let approved_tasks = record.approved_tasks();
    let late_tasks: BTreeSet<i64> = record.late().map(|(a, _)| a.task_id).collect();
    let all_tasks: Vec<(i64, TaskList, Option<i64>, String, String)> = tasks::table
        .filter(tasks::campaign_id.eq(record.campaign_id))
        .order((tasks::list, tasks::number))
        .select((tasks::id, tasks::list, tasks::indicator_id, tasks::code, tasks::text))
        .load(conn)?;
    let line = |label: String, list: bool, ids: &[i64]| ProgressLine {
        label,
        list,
        tasks: ids.len() as i64,
        approved: ids.iter().filter(|id| approved_tasks.get(id).copied().unwrap_or(false)).count() as i64,
        overdue: ids.iter().filter(|id| late_tasks.contains(id)).count() as i64,
    };
    let mut progress = Vec::new();
    for level1 in lookups::indicator_tree(conn, record.campaign_id)? {
        let under: BTreeSet<i64> = level1.children.iter().map(|child| child.id).chain([level1.id]).collect();
        let ids: Vec<i64> = all_tasks.iter().filter(|t| t.2.is_some_and(|i| under.contains(&i))).map(|t| t.0).collect();
        progress.push(line(format!("{} {}", level1.code, level1.title), false, &ids));
    }
    for list in TaskList::ALL {
        let ids: Vec<i64> = all_tasks.iter().filter(|t| t.1 == *list).map(|t| t.0).collect();
        progress.push(line(list.zh_name().to_owned(), true, &ids));
    }

    let unit_name = |id: i64| record.units.get(&id).map(|(name, _)| name.clone()).unwrap_or_default();
    let mut late_assignments: Vec<LateAssignment> = record
        .late()
        .map(|(a, due)| LateAssignment {
            assignment_id: a.scored.assignment_id,
            unit: unit_name(a.unit_id),
            task_code: a.scored.task_code.clone(),
            due_date: due,
            days: (as_of - due).num_days(),
        })
        .collect();
    late_assignments.sort_by(|a, b| b.days.cmp(&a.days).then(a.assignment_id.cmp(&b.assignment_id)));
    let mut by_unit: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (a, due) in record.late() {
        let entry = by_unit.entry(a.unit_id).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max((as_of - due).num_days());
    }
    let mut late: Vec<LateUnit> = by_unit
        .into_iter()
        .map(|(id, (count, most_days))| LateUnit { unit: UnitRef { id, name: unit_name(id) }, late: count, most_days })
        .collect();
    late.sort_by(|a, b| b.most_days.cmp(&a.most_days).then(b.late.cmp(&a.late)).then_with(|| a.unit.name.cmp(&b.unit.name)));

    let negative = all_tasks
        .iter()
        .filter(|t| t.1 == TaskList::Negative)
        .map(|(_, _, _, code, text)| NegativeLine {
            code: code.clone(),
            text: text.clone(),
            occurred_in: record.vetoes.iter().filter(|(_, codes)| codes.contains(code)).map(|(unit, _)| unit_name(*unit)).collect(),
        })
        .collect();
    Ok(BulletinInputs { scores, progress, late, negative, late_assignments })
}

/// One unit's score on `as_of`, with every assignment and notice counted.
pub fn unit_detail(
    conn: &mut PgConnection,
    _can: &ReadProgress,
    code: &str,
    unit_id: i64,
    as_of: NaiveDate,
) -> Result<UnitScoreDetail, Error> {
    let record = record(conn, code, as_of)?;
    let score = record
        .unit_scores()
        .into_iter()
        .find(|score| score.unit.id == unit_id)
        .ok_or_else(|| Error::not_found(format!("unit {unit_id} has no work in campaign {code:?} by {as_of}")))?;
    Ok(UnitScoreDetail {
        as_of,
        score,
        assignments: record.assignments.iter().filter(|a| a.unit_id == unit_id).map(|a| a.scored.clone()).collect(),
        notices: record.notices.get(&unit_id).cloned().unwrap_or_default(),
        vetoed_by: record.vetoes.get(&unit_id).cloned().unwrap_or_default(),
    })
}
