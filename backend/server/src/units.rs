//! Units and collective groups: reading them, and (for the admin and the
//! lead office) creating, changing and deleting them.

use std::collections::BTreeMap;

use diesel::prelude::*;
use duban_dto::UnitKind;
use duban_dto::api::{NewUnit, NewUnitGroup, Page, Unit, UnitGroup, UnitGroupPatch, UnitPatch, UnitRef};
use serde_json::{Value, json};

use crate::audit::{self, Event};
use crate::authz::{Caller, ManageCatalog, ReadCatalog, WritesUnits};
use crate::db::models;
use crate::db::schema::{assignments, regions, task_parties, unit_aliases, unit_group_members, unit_groups, units, users};
use crate::error::Error;
use crate::limits::{self, Bounded};
use crate::pagination::Cursor;

/// The filters of `GET /api/v1/units`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UnitFilter {
    pub region: Option<String>,
    pub kind: Option<UnitKind>,
    pub law_enforcement: Option<bool>,
    /// Part of the name or of an alias.
    pub q: Option<String>,
}

impl UnitFilter {
    fn query(&self, area: &crate::authz::Area) -> units::BoxedQuery<'static, diesel::pg::Pg> {
        let mut query = units::table.into_boxed();
        if let Some(regions) = area.region_ids() {
            query = query.filter(units::region_id.eq_any(regions.to_vec()));
        }
        if let Some(region) = &self.region {
            query = query.filter(units::region_id.eq_any(regions::table.filter(regions::name.eq(region.clone())).select(regions::id)));
        }
        if let Some(kind) = self.kind {
            query = query.filter(units::kind.eq(kind));
        }
        if let Some(flag) = self.law_enforcement {
            query = query.filter(units::law_enforcement.eq(flag));
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            let by_alias = unit_aliases::table.filter(unit_aliases::alias.like(pattern.clone())).select(unit_aliases::unit_id);
            query = query.filter(units::name.like(pattern).or(units::id.eq_any(by_alias)));
        }
        query
    }
}

fn unit_dtos(conn: &mut PgConnection, ids: &[i64]) -> QueryResult<Vec<Unit>> {
    let rows: Vec<(models::Unit, String)> = units::table
        .inner_join(regions::table)
        .filter(units::id.eq_any(ids))
        .select((models::Unit::as_select(), regions::name))
        .load(conn)?;
    let mut aliases: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (unit, alias) in unit_aliases::table
        .filter(unit_aliases::unit_id.eq_any(ids))
        .order(unit_aliases::id)
        .select((unit_aliases::unit_id, unit_aliases::alias))
        .load::<(i64, String)>(conn)?
    {
        aliases.entry(unit).or_default().push(alias);
    }
    let mut by_id: BTreeMap<i64, Unit> = rows
        .into_iter()
        .map(|(unit, region)| {
            let aliases = aliases.remove(&unit.id).unwrap_or_default();
            (
                unit.id,
                Unit {
                    id: unit.id,
                    region,
                    name: unit.name,
                    kind: unit.kind,
                    law_enforcement: unit.law_enforcement,
                    aliases,
                    note: unit.note,
                },
            )
        })
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

pub fn list_units(conn: &mut PgConnection, can: &ReadCatalog, filter: &UnitFilter, cursor: &Cursor) -> Result<Page<Unit>, Error> {
    limits::parameter("q", filter.q.as_deref().unwrap_or_default(), duban_dto::limits::SEARCH)?;
    let total: i64 = filter.query(can.area()).count().get_result(conn)?;
    let ids: Vec<i64> = filter.query(can.area()).order(units::id).limit(cursor.limit).offset(cursor.offset).select(units::id).load(conn)?;
    Ok(cursor.page(unit_dtos(conn, &ids)?, total))
}

pub fn unit(conn: &mut PgConnection, _can: &ReadCatalog, id: i64) -> Result<Unit, Error> {
    unit_dtos(conn, &[id])?.pop().ok_or_else(|| Error::not_found(format!("there is no unit {id}")))
}

fn snapshot(unit: &Unit) -> Value {
    json!({"name": unit.name, "kind": unit.kind, "law_enforcement": unit.law_enforcement, "aliases": unit.aliases, "note": unit.note})
}

/// Names and aliases identify one unit each within a county.
pub(crate) fn check_names(
    conn: &mut PgConnection,
    region_id: i64,
    unit_id: Option<i64>,
    name: &str,
    aliases: &[String],
) -> Result<(), Error> {
    let spellings: Vec<&str> = std::iter::once(name).chain(aliases.iter().map(String::as_str)).collect();
    if spellings.iter().any(|spelling| spelling.trim().is_empty() || spelling.trim() != *spelling) {
        return Err(Error::invalid("invalid_name", "names and aliases must not be blank or start or end with spaces"));
    }
    let mut sorted = spellings.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(Error::invalid("duplicate_alias", "the name and the aliases must all differ"));
    }
    let other = unit_id.unwrap_or(-1);
    let clash_name: Option<String> = units::table
        .filter(units::region_id.eq(region_id))
        .filter(units::id.ne(other))
        .filter(units::name.eq_any(&spellings))
        .select(units::name)
        .first(conn)
        .optional()?;
    let clash_alias: Option<String> = unit_aliases::table
        .filter(unit_aliases::region_id.eq(region_id))
        .filter(unit_aliases::unit_id.ne(other))
        .filter(unit_aliases::alias.eq_any(&spellings))
        .select(unit_aliases::alias)
        .first(conn)
        .optional()?;
    match clash_name.or(clash_alias) {
        Some(clash) => Err(Error::conflict("name_taken", format!("{clash:?} already names another unit of the county"))),
        None => Ok(()),
    }
}

/// The county `region` of the caller's area (another area's is as if absent).
fn region_id(conn: &mut PgConnection, caller: &Caller, region: &str) -> Result<i64, Error> {
    regions::table
        .filter(regions::name.eq(region))
        .select(regions::id)
        .first(conn)
        .optional()?
        .filter(|id| caller.area().contains(*id))
        .ok_or_else(|| Error::invalid("unknown_region", format!("there is no county {region:?}; import its roster first")))
}

fn replace_aliases(conn: &mut PgConnection, unit_id: i64, region_id: i64, aliases: &[String]) -> QueryResult<()> {
    diesel::delete(unit_aliases::table.filter(unit_aliases::unit_id.eq(unit_id))).execute(conn)?;
    let rows: Vec<_> = aliases
        .iter()
        .map(|alias| (unit_aliases::unit_id.eq(unit_id), unit_aliases::region_id.eq(region_id), unit_aliases::alias.eq(alias)))
        .collect();
    diesel::insert_into(unit_aliases::table).values(&rows).execute(conn).map(drop)
}

/// A unit's own fields, as created or changed by the API or an import.
#[derive(Debug, Clone)]
pub(crate) struct UnitFields<'a> {
    pub name: &'a str,
    pub kind: UnitKind,
    pub law_enforcement: bool,
    pub note: Option<&'a str>,
}

/// Adds a unit of the county with its aliases; the names must have passed
/// [`check_names`].
pub(crate) fn insert(
    conn: &mut PgConnection,
    _can: &impl WritesUnits,
    region_id: i64,
    unit: &UnitFields,
    aliases: &[String],
) -> Result<i64, Error> {
    let id: i64 = diesel::insert_into(units::table)
        .values((
            units::region_id.eq(region_id),
            units::name.eq(unit.name),
            units::kind.eq(unit.kind),
            units::law_enforcement.eq(unit.law_enforcement),
            units::note.eq(unit.note),
        ))
        .returning(units::id)
        .get_result(conn)?;
    replace_aliases(conn, id, region_id, aliases)?;
    Ok(id)
}

/// Writes a unit's fields, and its aliases when given; the names must have
/// passed [`check_names`].
pub(crate) fn write(
    conn: &mut PgConnection,
    _can: &impl WritesUnits,
    id: i64,
    unit: &UnitFields,
    aliases: Option<&[String]>,
) -> Result<(), Error> {
    let region_id: i64 = diesel::update(units::table.find(id))
        .set((
            units::name.eq(unit.name),
            units::kind.eq(unit.kind),
            units::law_enforcement.eq(unit.law_enforcement),
            units::note.eq(unit.note),
            units::updated_at.eq(diesel::dsl::now),
        ))
        .returning(units::region_id)
        .get_result(conn)?;
    if let Some(aliases) = aliases {
        replace_aliases(conn, id, region_id, aliases)?;
    }
    Ok(())
}

pub fn create_unit(conn: &mut PgConnection, can: &ManageCatalog, caller: &Caller, new: &NewUnit) -> Result<Unit, Error> {
    new.check_lengths()?;
    limits::aliases(&new.aliases)?;
    conn.transaction(|conn| {
        let region = region_id(conn, caller, &new.region)?;
        check_names(conn, region, None, &new.name, &new.aliases)?;
        let fields = UnitFields { name: &new.name, kind: new.kind, law_enforcement: new.law_enforcement, note: new.note.as_deref() };
        let id = insert(conn, can, region, &fields, &new.aliases)?;
        let unit = unit_dtos(conn, &[id])?.remove(0);
        audit::record(conn, &caller.audit_actor(), Event::new("unit.create").entity("unit", id).after(snapshot(&unit)))?;
        Ok(unit)
    })
}

pub fn update_unit(conn: &mut PgConnection, can: &ManageCatalog, caller: &Caller, id: i64, patch: &UnitPatch) -> Result<Unit, Error> {
    patch.check_lengths()?;
    limits::aliases(patch.aliases.as_deref().unwrap_or_default())?;
    conn.transaction(|conn| {
        let before = unit_dtos(conn, &[id])?.pop().ok_or_else(|| Error::not_found(format!("there is no unit {id}")))?;
        let region: i64 = units::table.find(id).select(units::region_id).first(conn)?;
        let name = patch.name.clone().unwrap_or_else(|| before.name.clone());
        let aliases = patch.aliases.clone().unwrap_or_else(|| before.aliases.clone());
        check_names(conn, region, Some(id), &name, &aliases)?;
        let note = patch.note.clone().unwrap_or_else(|| before.note.clone());
        let fields = UnitFields {
            name: &name,
            kind: patch.kind.unwrap_or(before.kind),
            law_enforcement: patch.law_enforcement.unwrap_or(before.law_enforcement),
            note: note.as_deref(),
        };
        write(conn, can, id, &fields, (aliases != before.aliases).then_some(aliases.as_slice()))?;
        let after = unit_dtos(conn, &[id])?.remove(0);
        let (old, new) = (snapshot(&before), snapshot(&after));
        if old != new {
            audit::record(conn, &caller.audit_actor(), Event::new("unit.update").entity("unit", id).changed(&old, &new))?;
        }
        Ok(after)
    })
}

/// Deletes a unit nothing refers to; a unit named by tasks, assigned work
/// or holding accounts is kept (409).
pub fn delete_unit(conn: &mut PgConnection, _can: &ManageCatalog, caller: &Caller, id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let unit = unit_dtos(conn, &[id])?.pop().ok_or_else(|| Error::not_found(format!("there is no unit {id}")))?;
        let named: i64 = task_parties::table.filter(task_parties::unit_id.eq(id)).count().get_result(conn)?;
        let assigned: i64 = assignments::table.filter(assignments::unit_id.eq(id)).count().get_result(conn)?;
        let accounts: i64 = users::table.filter(users::unit_id.eq(id)).count().get_result(conn)?;
        if named + assigned + accounts > 0 {
            return Err(Error::conflict(
                "in_use",
                format!(
                    "{} is named by {named} task(s), has {assigned} assignment(s) and {accounts} account(s); it cannot be deleted",
                    unit.name
                ),
            ));
        }
        diesel::delete(units::table.find(id)).execute(conn)?;
        audit::record(conn, &caller.audit_actor(), Event::new("unit.delete").entity("unit", id).before(snapshot(&unit)))?;
        Ok(())
    })
}

fn group_dtos(conn: &mut PgConnection, ids: &[i64]) -> QueryResult<Vec<UnitGroup>> {
    let rows: Vec<(models::UnitGroup, String)> = unit_groups::table
        .inner_join(regions::table)
        .filter(unit_groups::id.eq_any(ids))
        .select((models::UnitGroup::as_select(), regions::name))
        .load(conn)?;
    let members: Vec<(i64, i64, String, String)> = unit_group_members::table
        .inner_join(units::table)
        .filter(unit_group_members::group_id.eq_any(ids))
        .order(units::id)
        .select((unit_group_members::group_id, units::id, units::name, unit_group_members::inclusion))
        .load(conn)?;
    let mut groups = Vec::new();
    for (group, region) in rows {
        let id = group.id;
        let listed = |inclusion: &str| {
            members
                .iter()
                .filter(|(g, .., i)| *g == id && i == inclusion)
                .map(|(_, unit, name, _)| UnitRef { id: *unit, name: name.clone() })
                .collect()
        };
        groups.push(UnitGroup {
            id,
            region,
            phrase: group.phrase,
            member_kinds: group.member_kinds,
            law_enforcement_only: group.law_enforcement_only,
            include: listed("include"),
            exclude: listed("exclude"),
            note: group.note,
            member_count: crate::db::groups::expand(conn, id)?.len() as i64,
        });
    }
    let mut by_id: BTreeMap<i64, UnitGroup> = groups.into_iter().map(|group| (group.id, group)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

pub fn list_groups(conn: &mut PgConnection, can: &ReadCatalog, region: Option<&str>) -> Result<Vec<UnitGroup>, Error> {
    let mut query = unit_groups::table.order(unit_groups::id).select(unit_groups::id).into_boxed();
    if let Some(regions) = can.area().region_ids() {
        query = query.filter(unit_groups::region_id.eq_any(regions.to_vec()));
    }
    if let Some(region) = region {
        query = query.filter(unit_groups::region_id.eq_any(regions::table.filter(regions::name.eq(region.to_owned())).select(regions::id)));
    }
    let ids: Vec<i64> = query.load(conn)?;
    Ok(group_dtos(conn, &ids)?)
}

pub fn group(conn: &mut PgConnection, _can: &ReadCatalog, id: i64) -> Result<UnitGroup, Error> {
    group_dtos(conn, &[id])?.pop().ok_or_else(|| Error::not_found(format!("there is no unit group {id}")))
}

/// The units a group expands to now: the preview before assigning it.
pub fn group_members(conn: &mut PgConnection, _can: &ReadCatalog, id: i64) -> Result<Vec<UnitRef>, Error> {
    let exists: bool = diesel::select(diesel::dsl::exists(unit_groups::table.find(id))).get_result(conn)?;
    if !exists {
        return Err(Error::not_found(format!("there is no unit group {id}")));
    }
    Ok(crate::db::groups::expand(conn, id)?.into_iter().map(|unit| UnitRef { id: unit.id, name: unit.name }).collect())
}

fn group_snapshot(group: &UnitGroup) -> Value {
    let ids = |units: &[UnitRef]| units.iter().map(|unit| unit.id).collect::<Vec<_>>();
    json!({
        "phrase": group.phrase,
        "member_kinds": group.member_kinds,
        "law_enforcement_only": group.law_enforcement_only,
        "include": ids(&group.include),
        "exclude": ids(&group.exclude),
        "note": group.note,
    })
}

fn set_members(conn: &mut PgConnection, group_id: i64, region_id: i64, include: &[i64], exclude: &[i64]) -> Result<(), Error> {
    if let Some(both) = include.iter().find(|id| exclude.contains(id)) {
        return Err(Error::invalid("include_and_exclude", format!("unit {both} cannot be both included and excluded")));
    }
    let all: Vec<i64> = include.iter().chain(exclude).copied().collect();
    let known: i64 = units::table.filter(units::id.eq_any(&all)).filter(units::region_id.eq(region_id)).count().get_result(conn)?;
    let mut distinct = all.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if known != distinct.len() as i64 {
        return Err(Error::invalid("unknown_unit", "include and exclude must name units of the group's county"));
    }
    diesel::delete(unit_group_members::table.filter(unit_group_members::group_id.eq(group_id))).execute(conn)?;
    let mut rows = Vec::new();
    for (ids, inclusion) in [(include, "include"), (exclude, "exclude")] {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for unit in ids {
            rows.push((
                unit_group_members::group_id.eq(group_id),
                unit_group_members::unit_id.eq(unit),
                unit_group_members::region_id.eq(region_id),
                unit_group_members::inclusion.eq(inclusion),
            ));
        }
    }
    diesel::insert_into(unit_group_members::table).values(&rows).execute(conn)?;
    Ok(())
}

fn check_phrase(conn: &mut PgConnection, region_id: i64, group_id: Option<i64>, phrase: &str) -> Result<(), Error> {
    if phrase.trim().is_empty() || phrase.trim() != phrase {
        return Err(Error::invalid("invalid_phrase", "the phrase must not be blank or start or end with spaces"));
    }
    let taken: bool = diesel::select(diesel::dsl::exists(
        unit_groups::table
            .filter(unit_groups::region_id.eq(region_id))
            .filter(unit_groups::phrase.eq(phrase))
            .filter(unit_groups::id.ne(group_id.unwrap_or(-1))),
    ))
    .get_result(conn)?;
    if taken { Err(Error::conflict("phrase_taken", format!("the county already has the group {phrase:?}"))) } else { Ok(()) }
}

pub fn create_group(conn: &mut PgConnection, _can: &ManageCatalog, caller: &Caller, new: &NewUnitGroup) -> Result<UnitGroup, Error> {
    new.check_lengths()?;
    conn.transaction(|conn| {
        let region = region_id(conn, caller, &new.region)?;
        check_phrase(conn, region, None, &new.phrase)?;
        let kinds: Vec<&str> = new.member_kinds.iter().map(|kind| kind.as_str()).collect();
        let id: i64 = diesel::insert_into(unit_groups::table)
            .values((
                unit_groups::region_id.eq(region),
                unit_groups::phrase.eq(&new.phrase),
                unit_groups::member_kinds.eq(&kinds),
                unit_groups::law_enforcement_only.eq(new.law_enforcement_only),
                unit_groups::note.eq(&new.note),
            ))
            .returning(unit_groups::id)
            .get_result(conn)?;
        set_members(conn, id, region, &new.include, &new.exclude)?;
        let group = group_dtos(conn, &[id])?.remove(0);
        audit::record(conn, &caller.audit_actor(), Event::new("unit_group.create").entity("unit_group", id).after(group_snapshot(&group)))?;
        Ok(group)
    })
}

pub fn update_group(
    conn: &mut PgConnection,
    _can: &ManageCatalog,
    caller: &Caller,
    id: i64,
    patch: &UnitGroupPatch,
) -> Result<UnitGroup, Error> {
    patch.check_lengths()?;
    conn.transaction(|conn| {
        let before = group_dtos(conn, &[id])?.pop().ok_or_else(|| Error::not_found(format!("there is no unit group {id}")))?;
        let region: i64 = unit_groups::table.find(id).select(unit_groups::region_id).first(conn)?;
        let phrase = patch.phrase.clone().unwrap_or_else(|| before.phrase.clone());
        check_phrase(conn, region, Some(id), &phrase)?;
        let kinds: Vec<&str> = patch.member_kinds.as_ref().unwrap_or(&before.member_kinds).iter().map(|kind| kind.as_str()).collect();
        diesel::update(unit_groups::table.find(id))
            .set((
                unit_groups::phrase.eq(&phrase),
                unit_groups::member_kinds.eq(&kinds),
                unit_groups::law_enforcement_only.eq(patch.law_enforcement_only.unwrap_or(before.law_enforcement_only)),
                unit_groups::note.eq(patch.note.clone().unwrap_or_else(|| before.note.clone())),
                unit_groups::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        if patch.include.is_some() || patch.exclude.is_some() {
            let ids = |units: &[UnitRef]| units.iter().map(|unit| unit.id).collect::<Vec<_>>();
            let include = patch.include.clone().unwrap_or_else(|| ids(&before.include));
            let exclude = patch.exclude.clone().unwrap_or_else(|| ids(&before.exclude));
            set_members(conn, id, region, &include, &exclude)?;
        }
        let after = group_dtos(conn, &[id])?.remove(0);
        let (old, new) = (group_snapshot(&before), group_snapshot(&after));
        if old != new {
            audit::record(conn, &caller.audit_actor(), Event::new("unit_group.update").entity("unit_group", id).changed(&old, &new))?;
        }
        Ok(after)
    })
}

pub fn delete_group(conn: &mut PgConnection, _can: &ManageCatalog, caller: &Caller, id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let group = group_dtos(conn, &[id])?.pop().ok_or_else(|| Error::not_found(format!("there is no unit group {id}")))?;
        let named: i64 = task_parties::table.filter(task_parties::group_id.eq(id)).count().get_result(conn)?;
        if named > 0 {
            return Err(Error::conflict("in_use", format!("{:?} is named by {named} task(s); it cannot be deleted", group.phrase)));
        }
        diesel::delete(unit_groups::table.find(id)).execute(conn)?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("unit_group.delete").entity("unit_group", id).before(group_snapshot(&group)),
        )?;
        Ok(())
    })
}

/// The unit with this name or alias, for the command line.
pub fn unit_id_by_name(conn: &mut PgConnection, name: &str) -> Result<i64, Error> {
    let by_name: Option<i64> = units::table.filter(units::name.eq(name)).select(units::id).first(conn).optional()?;
    let mut by_alias =
        || unit_aliases::table.filter(unit_aliases::alias.eq(name)).select(unit_aliases::unit_id).first::<i64>(conn).optional();
    match by_name {
        Some(id) => Ok(id),
        None => by_alias()?.ok_or_else(|| Error::not_found(format!("there is no unit {name:?}"))),
    }
}

/// An assignment as a merge weighs it.
#[derive(Debug, Clone, Queryable)]
struct MergedAssignment {
    id: i64,
    task_id: i64,
    role: duban_dto::PartyRole,
    status: duban_dto::AssignmentStatus,
    progress_note: Option<String>,
}

impl MergedAssignment {
    /// No work on it yet: it can give way to the other unit's.
    fn untouched(&self) -> bool {
        self.status == duban_dto::AssignmentStatus::NotStarted && self.progress_note.is_none()
    }
}

/// Merges unit `from` into unit `into` of the same county, when they turn
/// out to be one organ written two ways: its assignments (with their
/// evidence, decisions and notices), the tasks naming it, its group
/// memberships, accounts, notices, reports and history move to `into`, its
/// name and aliases become aliases of `into`, and `from` is deleted;
/// audited. Where both have work on the same task in the same role, the
/// untouched one gives way; if both have started, nothing is merged (409).
pub fn merge(conn: &mut PgConnection, _can: &ManageCatalog, caller: &Caller, from: i64, into: i64) -> Result<Unit, Error> {
    use crate::db::schema::{decisions, negative_reports, notice_events, notice_recipients, tasks, unit_leaders};
    if from == into {
        return Err(Error::invalid("same_unit", "a unit cannot be merged into itself"));
    }
    conn.transaction(|conn| {
        let mut found = unit_dtos(conn, &[from, into])?;
        let position = |id: i64, found: &[Unit]| found.iter().position(|unit| unit.id == id);
        let source =
            position(from, &found).map(|at| found.remove(at)).ok_or_else(|| Error::not_found(format!("there is no unit {from}")))?;
        let target =
            position(into, &found).map(|at| found.remove(at)).ok_or_else(|| Error::not_found(format!("there is no unit {into}")))?;
        if source.region != target.region {
            return Err(Error::invalid(
                "other_county",
                format!("{} is in {} and {} in {}: only units of one county merge", source.name, source.region, target.name, target.region),
            ));
        }
        let region_id: i64 = units::table.find(into).select(units::region_id).first(conn)?;
        let load = |conn: &mut PgConnection, unit: i64| -> QueryResult<Vec<MergedAssignment>> {
            assignments::table
                .filter(assignments::unit_id.eq(unit))
                .select((assignments::id, assignments::task_id, assignments::role, assignments::status, assignments::progress_note))
                .load(conn)
        };
        let theirs = load(conn, from)?;
        let ours: BTreeMap<(i64, duban_dto::PartyRole), MergedAssignment> =
            load(conn, into)?.into_iter().map(|a| ((a.task_id, a.role), a)).collect();
        let (mut dropped, mut both_started) = (Vec::new(), Vec::new());
        for assignment in &theirs {
            let Some(other) = ours.get(&(assignment.task_id, assignment.role)) else { continue };
            if assignment.untouched() {
                dropped.push(assignment.id);
            } else if other.untouched() {
                dropped.push(other.id);
            } else {
                both_started.push(assignment.task_id);
            }
        }
        if !both_started.is_empty() {
            let codes: Vec<String> =
                tasks::table.filter(tasks::id.eq_any(&both_started)).order(tasks::id).select(tasks::code).load(conn)?;
            return Err(Error::conflict(
                "both_started",
                format!(
                    "{} and {} both have work under way on {}; settle those assignments first (remove one), then merge",
                    source.name,
                    target.name,
                    codes.join(", ")
                ),
            ));
        }
        let touched_tasks: Vec<i64> = theirs.iter().map(|a| a.task_id).collect();
        diesel::delete(assignments::table.filter(assignments::id.eq_any(&dropped))).execute(conn)?;
        let moved =
            diesel::update(assignments::table.filter(assignments::unit_id.eq(from))).set(assignments::unit_id.eq(into)).execute(conn)?;

        // Parties and memberships the target already has are dropped, the rest move.
        let named: Vec<(i64, duban_dto::PartyRole)> =
            task_parties::table.filter(task_parties::unit_id.eq(into)).select((task_parties::task_id, task_parties::role)).load(conn)?;
        for (task_id, role) in named {
            diesel::delete(
                task_parties::table
                    .filter(task_parties::unit_id.eq(from))
                    .filter(task_parties::task_id.eq(task_id))
                    .filter(task_parties::role.eq(role)),
            )
            .execute(conn)?;
        }
        diesel::update(task_parties::table.filter(task_parties::unit_id.eq(from))).set(task_parties::unit_id.eq(into)).execute(conn)?;
        let groups: Vec<i64> =
            unit_group_members::table.filter(unit_group_members::unit_id.eq(into)).select(unit_group_members::group_id).load(conn)?;
        diesel::delete(
            unit_group_members::table.filter(unit_group_members::unit_id.eq(from)).filter(unit_group_members::group_id.eq_any(&groups)),
        )
        .execute(conn)?;
        diesel::update(unit_group_members::table.filter(unit_group_members::unit_id.eq(from)))
            .set(unit_group_members::unit_id.eq(into))
            .execute(conn)?;
        let accounts = diesel::update(users::table.filter(users::unit_id.eq(from))).set(users::unit_id.eq(into)).execute(conn)?;
        diesel::update(notice_recipients::table.filter(notice_recipients::unit_id.eq(from)))
            .set(notice_recipients::unit_id.eq(into))
            .execute(conn)?;
        diesel::update(decisions::table.filter(decisions::actor_unit_id.eq(from))).set(decisions::actor_unit_id.eq(into)).execute(conn)?;
        diesel::update(notice_events::table.filter(notice_events::actor_unit_id.eq(from)))
            .set(notice_events::actor_unit_id.eq(into))
            .execute(conn)?;
        diesel::update(negative_reports::table.filter(negative_reports::unit_id.eq(from)))
            .set(negative_reports::unit_id.eq(into))
            .execute(conn)
            .map_err(|error| match error {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => Error::conflict(
                    "both_reported",
                    format!(
                        "{} and {} both reported on the negative list for the same item and period; merge after settling it",
                        source.name, target.name
                    ),
                ),
                other => other.into(),
            })?;
        let target_has_leader: bool = diesel::select(diesel::dsl::exists(unit_leaders::table.find(into))).get_result(conn)?;
        if target_has_leader {
            diesel::delete(unit_leaders::table.find(from)).execute(conn)?;
        } else {
            diesel::update(unit_leaders::table.find(from)).set(unit_leaders::unit_id.eq(into)).execute(conn)?;
        }
        // The source's name and aliases become the target's aliases.
        diesel::delete(unit_aliases::table.filter(unit_aliases::unit_id.eq(from))).execute(conn)?;
        diesel::delete(units::table.find(from)).execute(conn)?;
        for alias in std::iter::once(&source.name).chain(&source.aliases) {
            if *alias != target.name && !target.aliases.contains(alias) {
                diesel::insert_into(unit_aliases::table)
                    .values((unit_aliases::unit_id.eq(into), unit_aliases::region_id.eq(region_id), unit_aliases::alias.eq(alias)))
                    .execute(conn)?;
            }
        }
        crate::rollup::refresh(conn, &touched_tasks)?;
        let after = unit_dtos(conn, &[into])?.remove(0);
        let event = Event::new("unit.merge")
            .entity("unit", into)
            .before(json!({"from": {"id": from, "unit": snapshot(&source)}, "into": snapshot(&target)}))
            .after(
                json!({"unit": snapshot(&after), "assignments_moved": moved, "assignments_dropped": dropped, "accounts_moved": accounts}),
            );
        audit::record(conn, &caller.audit_actor(), event)?;
        Ok(after)
    })
}
