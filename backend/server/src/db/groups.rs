//! Expanding a collective group (各有关部门、各乡镇(街道)…) into its units.

use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::models::Unit;
use super::schema::{unit_group_members, unit_groups, units};

/// The units a group stands for, by name: every unit of the group's member
/// kinds (only law-enforcement units when the group says so), plus its
/// included units, minus its excluded ones. Units come in roster order.
pub fn expand(conn: &mut PgConnection, group_id: i64) -> QueryResult<Vec<Unit>> {
    let (region_id, member_kinds, law_enforcement_only): (i64, Vec<String>, bool) = unit_groups::table
        .find(group_id)
        .select((unit_groups::region_id, unit_groups::member_kinds, unit_groups::law_enforcement_only))
        .first(conn)?;
    let listed = |inclusion: &'static str| {
        unit_group_members::table
            .filter(unit_group_members::group_id.eq(group_id))
            .filter(unit_group_members::inclusion.eq(inclusion))
            .select(unit_group_members::unit_id)
    };
    // A unit enforces the law, or the group does not ask that it does.
    let enforcement_ok = BoolExpressionMethods::or(units::law_enforcement, (!law_enforcement_only).into_sql::<Bool>());
    let by_rule = units::kind.eq_any(member_kinds).and(enforcement_ok);
    units::table
        .filter(units::region_id.eq(region_id))
        .filter(BoolExpressionMethods::or(by_rule, units::id.eq_any(listed("include"))))
        .filter(units::id.ne_all(listed("exclude")))
        .order(units::id)
        .select(Unit::as_select())
        .load(conn)
}
