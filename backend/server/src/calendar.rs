//! The working-day calendar in the database: the overrides an
//! administrator enters (next year's schedule, as soon as the State Council
//! publishes it) on top of the rulebook's published schedules
//! (`duban_rules::calendar`), and the calendar as the API shows and changes it.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use duban_dto::api::{CalendarDay, CalendarOverride};
use duban_rules::calendar::{Calendar, published_covers};
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{Caller, ManageCalendar};
use crate::db::schema::calendar_days;
use crate::error::Error;
use crate::limits::Bounded;

/// The calendar with the overrides stored in the database.
pub fn load(conn: &mut PgConnection) -> QueryResult<Calendar> {
    let overrides = calendar_days::table.select((calendar_days::day, calendar_days::is_workday)).load::<(NaiveDate, bool)>(conn)?;
    Ok(Calendar::with_overrides(overrides))
}

/// Every day from `from` to `to`, with where its status comes from.
pub fn list(conn: &mut PgConnection, from: NaiveDate, to: NaiveDate) -> Result<Vec<CalendarDay>, Error> {
    if to < from || (to - from).num_days() > 366 {
        return Err(Error::bad_parameter("invalid_query", "from must not be after to, and at most 367 days apart"));
    }
    let calendar = load(conn)?;
    let notes: Vec<(NaiveDate, Option<String>)> =
        calendar_days::table.filter(calendar_days::day.between(from, to)).select((calendar_days::day, calendar_days::note)).load(conn)?;
    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        let note = notes.iter().find(|(d, _)| *d == day);
        let source = if note.is_some() {
            "override"
        } else if published_covers(day) {
            "published"
        } else {
            "weekday"
        };
        days.push(CalendarDay {
            day,
            is_workday: calendar.is_workday(day),
            source: source.to_owned(),
            note: note.and_then(|(_, note)| note.clone()),
        });
        day += Duration::days(1);
    }
    Ok(days)
}

pub fn set(conn: &mut PgConnection, _can: &ManageCalendar, caller: &Caller, day: NaiveDate, value: &CalendarOverride) -> Result<(), Error> {
    value.check_lengths()?;
    conn.transaction(|conn| {
        let row = (
            calendar_days::is_workday.eq(value.is_workday),
            calendar_days::note.eq(&value.note),
            calendar_days::set_by.eq(caller.user_id()),
        );
        diesel::insert_into(calendar_days::table)
            .values((calendar_days::day.eq(day), row.clone()))
            .on_conflict(calendar_days::day)
            .do_update()
            .set(row)
            .execute(conn)?;
        let event = Event::new("calendar.set").entity("day", day).after(json!({"is_workday": value.is_workday, "note": value.note}));
        audit::record(conn, &caller.audit_actor(), event)?;
        Ok(())
    })
}

pub fn clear(conn: &mut PgConnection, _can: &ManageCalendar, caller: &Caller, day: NaiveDate) -> Result<(), Error> {
    conn.transaction(|conn| {
        let removed = diesel::delete(calendar_days::table.find(day)).execute(conn)?;
        if removed == 0 {
            return Err(Error::not_found(format!("{day} has no override")));
        }
        audit::record(conn, &caller.audit_actor(), Event::new("calendar.clear").entity("day", day))?;
        Ok(())
    })
}
