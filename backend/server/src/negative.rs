//! The negative list: seven things that must never happen. Each unit
//! attests, each period, that an item did not occur, or reports that it
//! did; an occurrence the lead office confirms vetoes the campaign (否决),
//! whatever its other results.

use chrono::Utc;
use diesel::prelude::*;
use duban_dto::api::{NegativeItemStatus, NegativeReport, NegativeStatus, NewNegativeReport, TaskRef, UnitRef};
use duban_dto::{TaskList, UnitKind};
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{Caller, ConfirmNegative, ReadProgress, ReportNegative};
use crate::db::lookups::campaign_id;
use crate::db::schema::{assignments, campaigns, evidence, negative_reports, tasks, units};
use crate::error::Error;
use crate::limits::Bounded;

/// A period in a request body.
pub fn body_period(period: &str) -> Result<(), Error> {
    duban_rules::period::check(period).map_err(|why| Error::invalid("invalid_period", why))
}

/// A period in a query string.
pub fn query_period(period: &str) -> Result<(), Error> {
    duban_rules::period::check(period).map_err(|why| Error::bad_parameter("invalid_query", why))
}

/// A report with its item and unit, as the API shows it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = negative_reports, check_for_backend(diesel::pg::Pg))]
struct ReportRow {
    id: i64,
    #[diesel(select_expression = tasks::id)]
    task_id: i64,
    #[diesel(select_expression = campaigns::code)]
    campaign: String,
    #[diesel(select_expression = tasks::code)]
    code: String,
    #[diesel(select_expression = tasks::text)]
    text: String,
    #[diesel(select_expression = units::id)]
    unit_id: i64,
    #[diesel(select_expression = units::name)]
    unit_name: String,
    period: String,
    occurred: bool,
    occurred_on: Option<chrono::NaiveDate>,
    description: Option<String>,
    evidence_id: Option<i64>,
    reported_at: chrono::DateTime<Utc>,
    confirmed_at: Option<chrono::DateTime<Utc>>,
}

impl ReportRow {
    fn dto(self) -> NegativeReport {
        NegativeReport {
            id: self.id,
            item: TaskRef { id: self.task_id, campaign: self.campaign, code: self.code, text: self.text },
            unit: UnitRef { id: self.unit_id, name: self.unit_name },
            period: self.period,
            occurred: self.occurred,
            occurred_on: self.occurred_on,
            description: self.description,
            evidence_id: self.evidence_id,
            reported_at: self.reported_at,
            confirmed: self.confirmed_at.is_some(),
        }
    }
}

fn reports(
    conn: &mut PgConnection,
    filter: impl FnOnce(negative_reports::BoxedQuery<'static, diesel::pg::Pg>) -> negative_reports::BoxedQuery<'static, diesel::pg::Pg>,
) -> QueryResult<Vec<NegativeReport>> {
    let ids: Vec<i64> = filter(negative_reports::table.into_boxed()).select(negative_reports::id).load(conn)?;
    let rows: Vec<ReportRow> = negative_reports::table
        .inner_join(tasks::table.inner_join(campaigns::table))
        .inner_join(units::table)
        .filter(negative_reports::id.eq_any(&ids))
        .order((tasks::number, units::id))
        .select(ReportRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(ReportRow::dto).collect())
}

/// Records a unit's report; a report already given for the item and period
/// is replaced, unless an occurrence in it was confirmed.
pub fn report(
    conn: &mut PgConnection,
    can: &ReportNegative,
    caller: &Caller,
    campaign: &str,
    new: &NewNegativeReport,
) -> Result<NegativeReport, Error> {
    new.check_lengths()?;
    body_period(&new.period)?;
    let description = new.description.as_deref().map(str::trim).filter(|text| !text.is_empty());
    if new.occurred && (new.occurred_on.is_none() || description.is_none()) {
        return Err(Error::invalid("occurrence_incomplete", "an occurrence needs its date (occurred_on) and a description"));
    }
    if !new.occurred && new.occurred_on.is_some() {
        return Err(Error::invalid("not_an_occurrence", "occurred_on belongs to an occurrence: set occurred to true"));
    }
    conn.transaction(|conn| {
        let campaign_id = campaign_id(conn, campaign)?;
        let task: Option<i64> = tasks::table
            .filter(tasks::campaign_id.eq(campaign_id))
            .filter(tasks::list.eq(TaskList::Negative.as_str()))
            .filter(tasks::code.eq(new.item.trim().to_uppercase()))
            .select(tasks::id)
            .first(conn)
            .optional()?;
        let task = task.ok_or_else(|| {
            Error::invalid("unknown_item", format!("{:?} is not an item of the campaign's negative list (N1 …)", new.item))
        })?;
        if let Some(evidence_id) = new.evidence_id {
            let owner: Option<i64> = evidence::table
                .inner_join(assignments::table)
                .filter(evidence::id.eq(evidence_id))
                .select(assignments::unit_id)
                .first(conn)
                .optional()?;
            if owner != Some(can.unit_id()) {
                return Err(Error::invalid("unknown_evidence", format!("evidence {evidence_id} is not the reporting unit's")));
            }
        }
        let existing: Option<(i64, Option<chrono::DateTime<Utc>>)> = negative_reports::table
            .filter(negative_reports::task_id.eq(task))
            .filter(negative_reports::unit_id.eq(can.unit_id()))
            .filter(negative_reports::period.eq(&new.period))
            .select((negative_reports::id, negative_reports::confirmed_at))
            .first(conn)
            .optional()?;
        let user = caller.user().map(|user| user.id);
        let id = match existing {
            Some((_, Some(_))) => return Err(Error::conflict("confirmed", "a confirmed occurrence cannot be changed")),
            Some((id, None)) => {
                diesel::update(negative_reports::table.find(id))
                    .set((
                        negative_reports::occurred.eq(new.occurred),
                        negative_reports::occurred_on.eq(new.occurred_on),
                        negative_reports::description.eq(description),
                        negative_reports::evidence_id.eq(new.evidence_id),
                        negative_reports::reported_by.eq(user),
                        negative_reports::reported_at.eq(Utc::now()),
                    ))
                    .execute(conn)?;
                id
            }
            None => diesel::insert_into(negative_reports::table)
                .values((
                    negative_reports::task_id.eq(task),
                    negative_reports::unit_id.eq(can.unit_id()),
                    negative_reports::period.eq(&new.period),
                    negative_reports::occurred.eq(new.occurred),
                    negative_reports::occurred_on.eq(new.occurred_on),
                    negative_reports::description.eq(description),
                    negative_reports::evidence_id.eq(new.evidence_id),
                    negative_reports::reported_by.eq(user),
                ))
                .returning(negative_reports::id)
                .get_result(conn)?,
        };
        let event = Event::new("negative.report").entity("negative_report", id).after(json!({
            "item": new.item, "unit_id": can.unit_id(), "period": new.period, "occurred": new.occurred,
            "occurred_on": new.occurred_on, "description": description,
        }));
        audit::record(conn, &caller.audit_actor(), event)?;
        Ok(reports(conn, |query| query.filter(negative_reports::id.eq(id)))?.remove(0))
    })
}

/// Confirms a reported occurrence: from now on the campaign is vetoed.
pub fn confirm(conn: &mut PgConnection, _can: &ConfirmNegative, caller: &Caller, report_id: i64) -> Result<NegativeReport, Error> {
    conn.transaction(|conn| {
        let (occurred, confirmed): (bool, Option<chrono::DateTime<Utc>>) = negative_reports::table
            .find(report_id)
            .select((negative_reports::occurred, negative_reports::confirmed_at))
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::not_found(format!("there is no negative-list report {report_id}")))?;
        if !occurred {
            return Err(Error::conflict("not_an_occurrence", "the report attests that nothing occurred; there is nothing to confirm"));
        }
        if confirmed.is_none() {
            diesel::update(negative_reports::table.find(report_id))
                .set((negative_reports::confirmed_at.eq(Utc::now()), negative_reports::confirmed_by.eq(caller.user().map(|user| user.id))))
                .execute(conn)?;
            audit::record(conn, &caller.audit_actor(), Event::new("negative.confirm").entity("negative_report", report_id))?;
        }
        Ok(reports(conn, |query| query.filter(negative_reports::id.eq(report_id)))?.remove(0))
    })
}

/// Whether a confirmed occurrence vetoes the campaign.
pub fn vetoed(conn: &mut PgConnection, campaign_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        negative_reports::table
            .inner_join(tasks::table)
            .filter(tasks::campaign_id.eq(campaign_id))
            .filter(negative_reports::confirmed_at.is_not_null()),
    ))
    .get_result(conn)
}

/// The negative list of a campaign for a period: who attested what, who has
/// not reported, what occurred.
pub fn status(conn: &mut PgConnection, _can: &ReadProgress, campaign: &str, period: &str) -> Result<NegativeStatus, Error> {
    query_period(period)?;
    let campaign_id = campaign_id(conn, campaign)?;
    let region: i64 = campaigns::table.find(campaign_id).select(campaigns::region_id).first(conn)?;
    let items: Vec<(i64, String, String)> = tasks::table
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(tasks::list.eq(TaskList::Negative.as_str()))
        .order(tasks::number)
        .select((tasks::id, tasks::code, tasks::text))
        .load(conn)?;
    // Every government department and township reports; party organs and
    // the courts are outside the government's negative list.
    let reporting: Vec<(i64, String)> = units::table
        .filter(units::region_id.eq(region))
        .filter(units::kind.eq_any([UnitKind::GovernmentDepartment.as_str(), UnitKind::Township.as_str()]))
        .order(units::id)
        .select((units::id, units::name))
        .load(conn)?;
    let period_owned = period.to_owned();
    let all = reports(conn, move |query| query.filter(negative_reports::period.eq(period_owned)))?;
    let statuses = items
        .into_iter()
        .map(|(task_id, code, text)| {
            let of_item: Vec<&NegativeReport> = all.iter().filter(|report| report.item.id == task_id).collect();
            NegativeItemStatus {
                item: TaskRef { id: task_id, campaign: campaign.to_owned(), code, text: text.clone() },
                text,
                attested: of_item.iter().filter(|report| !report.occurred).count() as i64,
                unreported: reporting
                    .iter()
                    .filter(|(unit, _)| !of_item.iter().any(|report| report.unit.id == *unit))
                    .map(|(id, name)| UnitRef { id: *id, name: name.clone() })
                    .collect(),
                occurrences: of_item.into_iter().filter(|report| report.occurred).cloned().collect(),
            }
        })
        .collect();
    Ok(NegativeStatus { campaign: campaign.to_owned(), period: period.to_owned(), vetoed: vetoed(conn, campaign_id)?, items: statuses })
}
