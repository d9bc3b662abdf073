//! Importing a county's unit roster, and the roster as the campaign import
//! sees it: names, aliases and group phrases with their ids.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use duban_breakdown::knowledge::Knowledge;
use duban_breakdown::resolve::RosterIndex;
use duban_breakdown::seed::{GroupSeed, RosterSeed, UnitSeed};
use duban_dto::UnitKind;

use super::{ChangeAction, Entity, ImportError, ImportReport};
use crate::authz::ImportData;
use crate::db::models::{Unit, UnitGroup};
use crate::db::schema::{regions, unit_aliases, unit_group_members, unit_groups, units};

/// A region's units and groups, indexed for resolving written names.
pub(super) struct RegionRoster {
    pub region_id: i64,
    pub index: RosterIndex,
    unit_ids: BTreeMap<String, i64>,
    unit_names: BTreeMap<i64, String>,
    group_ids: BTreeMap<String, i64>,
}

impl RegionRoster {
    pub fn load_or_create(conn: &mut PgConnection, can: &ImportData, region: &str, report: &mut ImportReport) -> Result<Self, ImportError> {
        let region_id = region_id(conn, can, region, report)?;
        let mut index = RosterIndex::default();
        index.set_knowledge(Knowledge::builtin().for_region(region));
        let mut roster =
            RegionRoster { region_id, index, unit_ids: BTreeMap::new(), unit_names: BTreeMap::new(), group_ids: BTreeMap::new() };
        let unit_rows: Vec<(i64, String)> =
            units::table.filter(units::region_id.eq(region_id)).select((units::id, units::name)).load(conn)?;
        let alias_rows: Vec<(i64, String)> = unit_aliases::table
            .filter(unit_aliases::region_id.eq(region_id))
            .select((unit_aliases::unit_id, unit_aliases::alias))
            .load(conn)?;
        let mut aliases: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (unit_id, alias) in alias_rows {
            aliases.entry(unit_id).or_default().push(alias);
        }
        for (id, name) in unit_rows {
            roster.add_unit(id, &name, aliases.get(&id).map(Vec::as_slice).unwrap_or_default());
        }
        let group_rows: Vec<(i64, String)> =
            unit_groups::table.filter(unit_groups::region_id.eq(region_id)).select((unit_groups::id, unit_groups::phrase)).load(conn)?;
        for (id, phrase) in group_rows {
            roster.index.add_group(&phrase);
            roster.group_ids.insert(phrase, id);
        }
        Ok(roster)
    }

    fn add_unit(&mut self, id: i64, name: &str, aliases: &[String]) {
        self.index.add_unit(name, aliases.iter().map(String::as_str));
        self.unit_ids.insert(name.to_owned(), id);
        self.unit_names.insert(id, name.to_owned());
    }

    pub fn unit_id(&self, name: &str) -> i64 {
        self.unit_ids[name]
    }

    pub fn unit_name(&self, id: i64) -> &str {
        &self.unit_names[&id]
    }

    pub fn group_id(&self, phrase: &str) -> i64 {
        self.group_ids[phrase]
    }

    /// Creates a unit the roster lacks, with the law-enforcement default
    /// the built-in names give its organ, and the other forms the document
    /// wrote it in as aliases.
    pub(super) fn create_unit(
        &mut self,
        conn: &mut PgConnection,
        name: &str,
        kind: UnitKind,
        aliases: &[String],
        report: &mut ImportReport,
    ) -> QueryResult<()> {
        let law_enforcement =
            self.index.knowledge().and_then(|knowledge| knowledge.organ_named(name)).is_some_and(|organ| organ.law_enforcement);
        let id = diesel::insert_into(units::table)
            .values((
                units::region_id.eq(self.region_id),
                units::name.eq(name),
                units::kind.eq(kind.as_str()),
                units::law_enforcement.eq(law_enforcement),
            ))
            .returning(units::id)
            .get_result(conn)?;
        for alias in aliases {
            diesel::insert_into(unit_aliases::table)
                .values((unit_aliases::unit_id.eq(id), unit_aliases::region_id.eq(self.region_id), unit_aliases::alias.eq(alias)))
                .execute(conn)?;
        }
        self.add_unit(id, name, aliases);
        report.record(Entity::Unit, name, ChangeAction::Created);
        Ok(())
    }

    /// Creates a group the roster lacks, with the rule the built-in names
    /// give its phrase (who belongs to it), or none.
    pub(super) fn create_group(&mut self, conn: &mut PgConnection, phrase: &str, report: &mut ImportReport) -> QueryResult<()> {
        let rule = self.index.knowledge().and_then(|knowledge| knowledge.phrase_named(phrase));
        let member_kinds: Vec<String> =
            rule.map(|rule| rule.member_kinds.iter().map(|kind| kind.as_str().to_owned()).collect()).unwrap_or_default();
        let id = diesel::insert_into(unit_groups::table)
            .values((
                unit_groups::region_id.eq(self.region_id),
                unit_groups::phrase.eq(phrase),
                unit_groups::member_kinds.eq(member_kinds),
                unit_groups::law_enforcement_only.eq(rule.is_some_and(|rule| rule.law_enforcement_only)),
            ))
            .returning(unit_groups::id)
            .get_result(conn)?;
        self.index.add_group(phrase);
        self.group_ids.insert(phrase.to_owned(), id);
        report.record(Entity::UnitGroup, phrase, ChangeAction::Created);
        Ok(())
    }
}

/// The id of the region called `name`, created when new.
/// The region called `name`, created when the caller may add regions.
/// A region outside the caller's area is refused as if it were anyone
/// else's: the caller imports into its own area only.
fn region_id(conn: &mut PgConnection, can: &ImportData, name: &str, report: &mut ImportReport) -> Result<i64, ImportError> {
    let outside =
        || ImportError::Refused(format!("{name} is not in your area: you import into your own county (or your area's counties) only"));
    if let Some(id) = regions::table.filter(regions::name.eq(name)).select(regions::id).first(conn).optional()? {
        return if can.area().contains(id) { Ok(id) } else { Err(outside()) };
    }
    let parent = can.new_region_parent().map_err(|()| outside())?;
    let id = diesel::insert_into(regions::table)
        .values((regions::name.eq(name), regions::parent_id.eq(parent)))
        .returning(regions::id)
        .get_result(conn)?;
    report.record(Entity::Region, name, ChangeAction::Created);
    Ok(id)
}

/// Brings the region's units and groups to what the roster says. Units and
/// groups the roster leaves out are kept — tasks and assignments may refer
/// to them — and reported.
pub(super) fn import(conn: &mut PgConnection, can: &ImportData, seed: &RosterSeed, report: &mut ImportReport) -> Result<(), ImportError> {
    seed.validate()?;
    let region_id = region_id(conn, can, &seed.region, report)?;
    let existing: Vec<Unit> = units::table.filter(units::region_id.eq(region_id)).order(units::id).select(Unit::as_select()).load(conn)?;
    let mut by_name: BTreeMap<String, Unit> = existing.into_iter().map(|unit| (unit.name.clone(), unit)).collect();
    let mut unit_ids: BTreeMap<String, i64> = by_name.iter().map(|(name, unit)| (name.clone(), unit.id)).collect();

    for unit in &seed.units {
        let id = match by_name.remove(&unit.name) {
            Some(row) => update_unit(conn, &row, unit, report)?,
            None => {
                let id = diesel::insert_into(units::table)
                    .values((
                        units::region_id.eq(region_id),
                        units::name.eq(&unit.name),
                        units::kind.eq(unit.kind.as_str()),
                        units::law_enforcement.eq(unit.law_enforcement),
                        units::note.eq(&unit.note),
                    ))
                    .returning(units::id)
                    .get_result(conn)?;
                report.record(Entity::Unit, &unit.name, ChangeAction::Created);
                id
            }
        };
        unit_ids.insert(unit.name.clone(), id);
    }
    for name in by_name.keys() {
        report.warn(format!("unit {name:?} is in the database but not in the roster; it is kept"));
    }
    sync_aliases(conn, region_id, seed, &unit_ids, report)?;

    let existing: Vec<UnitGroup> =
        unit_groups::table.filter(unit_groups::region_id.eq(region_id)).order(unit_groups::id).select(UnitGroup::as_select()).load(conn)?;
    let mut groups_by_phrase: BTreeMap<String, UnitGroup> = existing.into_iter().map(|group| (group.phrase.clone(), group)).collect();
    for group in &seed.groups {
        let member_kinds: Vec<UnitKind> = group.member_kinds.clone();
        let (id, mut fields) = match groups_by_phrase.remove(&group.phrase) {
            Some(row) => {
                let mut fields = Vec::new();
                if row.member_kinds != member_kinds {
                    fields.push("member_kinds");
                }
                if row.law_enforcement_only != group.law_enforcement_only {
                    fields.push("law_enforcement_only");
                }
                if row.note != group.note {
                    fields.push("note");
                }
                if !fields.is_empty() {
                    diesel::update(unit_groups::table.find(row.id))
                        .set((
                            unit_groups::member_kinds.eq(&member_kinds),
                            unit_groups::law_enforcement_only.eq(group.law_enforcement_only),
                            unit_groups::note.eq(&group.note),
                            unit_groups::updated_at.eq(diesel::dsl::now),
                        ))
                        .execute(conn)?;
                }
                (row.id, fields)
            }
            None => {
                let id = diesel::insert_into(unit_groups::table)
                    .values((
                        unit_groups::region_id.eq(region_id),
                        unit_groups::phrase.eq(&group.phrase),
                        unit_groups::member_kinds.eq(&member_kinds),
                        unit_groups::law_enforcement_only.eq(group.law_enforcement_only),
                        unit_groups::note.eq(&group.note),
                    ))
                    .returning(unit_groups::id)
                    .get_result(conn)?;
                report.record(Entity::UnitGroup, &group.phrase, ChangeAction::Created);
                (id, Vec::new())
            }
        };
        if sync_members(conn, region_id, id, group, &unit_ids)? {
            fields.push("members");
        }
        report.record_update(Entity::UnitGroup, &group.phrase, fields);
    }
    for phrase in groups_by_phrase.keys() {
        report.warn(format!("group {phrase:?} is in the database but not in the roster; it is kept"));
    }
    Ok(())
}

fn update_unit(conn: &mut PgConnection, row: &Unit, unit: &UnitSeed, report: &mut ImportReport) -> QueryResult<i64> {
    let mut fields = Vec::new();
    if row.kind != unit.kind {
        fields.push("kind");
    }
    if row.law_enforcement != unit.law_enforcement {
        fields.push("law_enforcement");
    }
    if row.note != unit.note {
        fields.push("note");
    }
    if !fields.is_empty() {
        diesel::update(units::table.find(row.id))
            .set((
                units::kind.eq(unit.kind.as_str()),
                units::law_enforcement.eq(unit.law_enforcement),
                units::note.eq(&unit.note),
                units::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    report.record_update(Entity::Unit, &unit.name, fields);
    Ok(row.id)
}

/// Aliases move between units in two steps — all removals, then all
/// additions — so an alias handed from one unit to another never collides.
fn sync_aliases(
    conn: &mut PgConnection,
    region_id: i64,
    seed: &RosterSeed,
    unit_ids: &BTreeMap<String, i64>,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let stored: Vec<(i64, i64, String)> = unit_aliases::table
        .filter(unit_aliases::region_id.eq(region_id))
        .select((unit_aliases::id, unit_aliases::unit_id, unit_aliases::alias))
        .load(conn)?;
    let desired: BTreeSet<(i64, &str)> =
        seed.units.iter().flat_map(|unit| unit.aliases.iter().map(move |alias| (unit_ids[&unit.name], alias.as_str()))).collect();
    let in_seed: BTreeSet<i64> = seed.units.iter().map(|unit| unit_ids[&unit.name]).collect();
    let mut changed: BTreeSet<i64> = BTreeSet::new();
    let mut present = BTreeSet::new();
    for (id, unit_id, alias) in &stored {
        if !in_seed.contains(unit_id) || desired.contains(&(*unit_id, alias.as_str())) {
            present.insert((*unit_id, alias.clone()));
            continue;
        }
        diesel::delete(unit_aliases::table.find(id)).execute(conn)?;
        changed.insert(*unit_id);
    }
    for &(unit_id, alias) in &desired {
        if present.contains(&(unit_id, alias.to_owned())) {
            continue;
        }
        if let Some((other, _)) = unit_ids.iter().find(|(name, _)| name.as_str() == alias) {
            return Err(ImportError::Refused(format!("alias {alias:?} is the name of the unit {other:?}")));
        }
        diesel::insert_into(unit_aliases::table)
            .values((unit_aliases::unit_id.eq(unit_id), unit_aliases::region_id.eq(region_id), unit_aliases::alias.eq(alias)))
            .execute(conn)?;
        changed.insert(unit_id);
    }
    for unit in seed.units.iter().filter(|unit| changed.contains(&unit_ids[&unit.name])) {
        let already = report.changes.iter().any(|c| c.entity == Entity::Unit && c.key == unit.name);
        if !already {
            report.record_update(Entity::Unit, &unit.name, vec!["aliases"]);
        }
    }
    Ok(())
}

/// Makes a group's explicit members exactly the seed's. Returns whether
/// anything changed.
fn sync_members(
    conn: &mut PgConnection,
    region_id: i64,
    group_id: i64,
    group: &GroupSeed,
    unit_ids: &BTreeMap<String, i64>,
) -> Result<bool, ImportError> {
    let mut desired: BTreeSet<(i64, &str)> = BTreeSet::new();
    for (names, inclusion) in [(&group.include, "include"), (&group.exclude, "exclude")] {
        for name in names {
            let id = unit_ids.get(name).ok_or_else(|| {
                ImportError::Refused(format!("group {:?} names the unknown unit {name:?} in its {inclusion} list", group.phrase))
            })?;
            desired.insert((*id, inclusion));
        }
    }
    let stored: Vec<(i64, String)> = unit_group_members::table
        .filter(unit_group_members::group_id.eq(group_id))
        .select((unit_group_members::unit_id, unit_group_members::inclusion))
        .load(conn)?;
    let stored: BTreeSet<(i64, &str)> = stored.iter().map(|(id, inclusion)| (*id, inclusion.as_str())).collect();
    if stored == desired {
        return Ok(false);
    }
    diesel::delete(unit_group_members::table.filter(unit_group_members::group_id.eq(group_id))).execute(conn)?;
    let rows: Vec<_> = desired
        .iter()
        .map(|&(unit_id, inclusion)| {
            (
                unit_group_members::group_id.eq(group_id),
                unit_group_members::unit_id.eq(unit_id),
                unit_group_members::region_id.eq(region_id),
                unit_group_members::inclusion.eq(inclusion),
            )
        })
        .collect();
    diesel::insert_into(unit_group_members::table).values(&rows).execute(conn)?;
    Ok(true)
}
