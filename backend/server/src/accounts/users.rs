//! User accounts: listing, creating, changing, resetting passwords.

use chrono::Utc;
use diesel::prelude::*;
use duban_dto::Role;
use duban_dto::api::{NewUser, User, UserPatch};
use serde_json::json;

use super::sessions::{end_sessions_of, set_password};
use super::{UserRow, user_dto};
use crate::audit::{self, Event};
use crate::auth::password;
use crate::authz::{ManageAccounts, ReadAccounts};
use crate::db::schema::{units, users};
use crate::error::Error;
use crate::limits::{self, Bounded};

/// Accounts the capability shows, by username.
pub fn list_users(conn: &mut PgConnection, can: &ReadAccounts) -> Result<Vec<User>, Error> {
    let mut query = users::table.order(users::username).select(UserRow::as_select()).into_boxed();
    if let Some(unit) = can.unit_id() {
        query = query.filter(users::unit_id.eq(unit));
    }
    let rows: Vec<UserRow> = query.load(conn)?;
    Ok(rows.iter().map(|row| user_dto(conn, row)).collect::<QueryResult<_>>()?)
}

fn visible_user(conn: &mut PgConnection, unit_scope: Option<i64>, id: i64) -> Result<UserRow, Error> {
    let row: Option<UserRow> = users::table.find(id).select(UserRow::as_select()).first(conn).optional()?;
    row.filter(|row| unit_scope.is_none() || row.unit_id == unit_scope).ok_or_else(|| Error::not_found(format!("no user {id}")))
}

pub fn get_user(conn: &mut PgConnection, can: &ReadAccounts, id: i64) -> Result<User, Error> {
    let row = visible_user(conn, can.unit_id(), id)?;
    Ok(user_dto(conn, &row)?)
}

/// Checks that a role and a unit fit together and that the unit exists.
pub(crate) fn check_placement(conn: &mut PgConnection, role: Role, unit_id: Option<i64>) -> Result<(), Error> {
    match (role, unit_id) {
        (Role::UnitManager | Role::UnitStaff, None) => {
            return Err(Error::invalid("unit_required", format!("a {role} account belongs to a unit: give unit_id")));
        }
        (Role::Admin | Role::Inspector, Some(_)) => {
            return Err(Error::invalid("unit_not_allowed", format!("a {role} account belongs to no unit: leave out unit_id")));
        }
        _ => {}
    }
    if let Some(unit) = unit_id {
        let exists: bool = diesel::select(diesel::dsl::exists(units::table.find(unit))).get_result(conn)?;
        if !exists {
            return Err(Error::invalid("unknown_unit", format!("there is no unit {unit}")));
        }
    }
    Ok(())
}

pub(crate) fn check_username(username: &str) -> Result<(), Error> {
    let valid = (2..=64).contains(&username.len())
        && username.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._@-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_username",
            "a username is 2 to 64 lower-case letters, digits and . _ @ -, starting with a letter or digit",
        ))
    }
}

/// Creates an account. `actor` is who is doing it, for the audit log.
pub fn create_user(conn: &mut PgConnection, can: &ManageAccounts, actor: &audit::Actor, new: &NewUser) -> Result<User, Error> {
    create_user_row(conn, can, actor, new, false)
}

/// Creates a demo account: `is_demo` marks it, so production mode refuses it.
pub(crate) fn create_demo_user(conn: &mut PgConnection, can: &ManageAccounts, actor: &audit::Actor, new: &NewUser) -> Result<User, Error> {
    create_user_row(conn, can, actor, new, true)
}

fn create_user_row(
    conn: &mut PgConnection,
    can: &ManageAccounts,
    actor: &audit::Actor,
    new: &NewUser,
    is_demo: bool,
) -> Result<User, Error> {
    new.check_lengths()?;
    let username = new.username.trim().to_lowercase();
    check_username(&username)?;
    if new.display_name.trim().is_empty() {
        return Err(Error::invalid("invalid_display_name", "the display name must not be blank"));
    }
    if !can.covers(new.role, new.unit_id) {
        return Err(Error::forbidden("a unit manager may create only staff accounts of its own unit"));
    }
    check_placement(conn, new.role, new.unit_id)?;
    password::check_strength(&new.password, &username).map_err(|why| Error::invalid("weak_password", why))?;
    if !is_demo {
        password::check_not_published(&new.password, &crate::seeds::demo_accounts().password)
            .map_err(|why| Error::invalid("weak_password", why))?;
    }
    let hash = password::hash(&new.password);
    conn.transaction(|conn| {
        let taken: bool = diesel::select(diesel::dsl::exists(users::table.filter(users::username.eq(&username)))).get_result(conn)?;
        if taken {
            return Err(Error::conflict("username_taken", format!("the username {username:?} is taken")));
        }
        let row: UserRow = diesel::insert_into(users::table)
            .values((
                users::username.eq(&username),
                users::display_name.eq(new.display_name.trim()),
                users::role.eq(new.role),
                users::unit_id.eq(new.unit_id),
                users::password_hash.eq(&hash),
                users::is_demo.eq(is_demo),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)?;
        audit::record(conn, actor, Event::new("user.create").entity("user", row.id).after(row.snapshot()))?;
        Ok(user_dto(conn, &row)?)
    })
}

/// Whether an enabled admin other than `except` remains.
fn another_admin_remains(conn: &mut PgConnection, except: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::role.eq(Role::Admin)).filter(users::disabled_at.is_null()).filter(users::id.ne(except)),
    ))
    .get_result(conn)
}

/// Changes an account's name, role, unit or enabled state.
pub fn update_user(conn: &mut PgConnection, can: &ManageAccounts, actor: &audit::Actor, id: i64, patch: &UserPatch) -> Result<User, Error> {
    patch.check_lengths()?;
    conn.transaction(|conn| {
        let row = visible_user(conn, can.unit_id(), id)?;
        if !can.covers(row.role, row.unit_id) {
            return Err(Error::forbidden("a unit manager may change only staff accounts of its own unit"));
        }
        let role = patch.role.unwrap_or(row.role);
        let unit_id = patch.unit_id.unwrap_or(row.unit_id);
        if !can.covers(role, unit_id) {
            return Err(Error::forbidden("a unit manager may not move an account out of its unit or give it another role"));
        }
        check_placement(conn, role, unit_id)?;
        let display_name = patch.display_name.as_deref().map(str::trim).unwrap_or(&row.display_name).to_owned();
        if display_name.is_empty() {
            return Err(Error::invalid("invalid_display_name", "the display name must not be blank"));
        }
        let disabled_at = match patch.disabled {
            Some(true) => row.disabled_at.or(Some(Utc::now())),
            Some(false) => None,
            None => row.disabled_at,
        };
        let stays_admin = role == Role::Admin && disabled_at.is_none();
        if row.role == Role::Admin && row.disabled_at.is_none() && !stays_admin && !another_admin_remains(conn, id)? {
            return Err(Error::conflict("last_admin", "this is the last enabled administrator; create another one first"));
        }
        let updated: UserRow = diesel::update(users::table.find(id))
            .set((
                users::display_name.eq(&display_name),
                users::role.eq(role),
                users::unit_id.eq(unit_id),
                users::disabled_at.eq(disabled_at),
                users::updated_at.eq(Utc::now()),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)?;
        if disabled_at.is_some() && row.disabled_at.is_none() {
            end_sessions_of(conn, id, None, "disabled")?;
        }
        let (before, after) = (row.snapshot(), updated.snapshot());
        if before != after {
            audit::record(conn, actor, Event::new("user.update").entity("user", id).changed(&before, &after))?;
        }
        Ok(user_dto(conn, &updated)?)
    })
}

/// Sets another user's password and signs that user out everywhere.
pub fn reset_password(conn: &mut PgConnection, can: &ManageAccounts, actor: &audit::Actor, id: i64, new: &str) -> Result<(), Error> {
    let row = visible_user(conn, can.unit_id(), id)?;
    if !can.covers(row.role, row.unit_id) {
        return Err(Error::forbidden("a unit manager may reset only staff passwords of its own unit"));
    }
    limits::at_most("new_password", new, duban_dto::limits::PASSWORD)?;
    password::check_strength(new, &row.username).map_err(|why| Error::invalid("weak_password", why))?;
    password::check_not_published(new, &crate::seeds::demo_accounts().password).map_err(|why| Error::invalid("weak_password", why))?;
    let hash = password::hash(new);
    conn.transaction(|conn| {
        set_password(conn, id, &hash)?;
        let ended = end_sessions_of(conn, id, None, "password_reset")?;
        audit::record(conn, actor, Event::new("user.password_reset").entity("user", id).after(json!({"sessions_ended": ended})))?;
        Ok(())
    })
}

/// The user with this username, for the command line.
pub fn user_id_by_name(conn: &mut PgConnection, username: &str) -> Result<i64, Error> {
    users::table
        .filter(users::username.eq(username.trim().to_lowercase()))
        .select(users::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(format!("there is no user {username:?}")))
}

/// Usernames of demo accounts that can still sign in.
pub fn enabled_demo_accounts(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    users::table.filter(users::is_demo).filter(users::disabled_at.is_null()).order(users::username).select(users::username).load(conn)
}

pub fn user_count(conn: &mut PgConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}
