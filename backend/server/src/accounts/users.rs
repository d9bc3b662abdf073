//! User accounts: listing, creating, changing, resetting passwords.

use chrono::Utc;
use diesel::prelude::*;
use duban_dto::Role;
use duban_dto::api::{NewUser, User, UserPatch};
use serde_json::json;

use super::sessions::{check_new_password, end_sessions_of, set_password};
use super::{UserRow, user_dto};
use crate::audit::{self, Event};
use crate::auth::password;
use crate::authz::{AssignRoles, ManageAccounts, ReadAccounts, UnlockAccounts};
use crate::db::schema::{recovery_codes, regions, units, users};
use crate::error::Error;
use crate::limits::{self, Bounded};

/// Accounts the capability shows, by username.
pub fn list_users(conn: &mut PgConnection, can: &ReadAccounts) -> Result<Vec<User>, Error> {
    let mut query = users::table.order(users::username).select(UserRow::as_select()).into_boxed();
    if let Some(unit) = can.unit_id() {
        query = query.filter(users::unit_id.eq(unit));
    }
    if let Some(regions) = can.area().region_ids() {
        query = query.filter(users::region_id.eq_any(regions.to_vec()));
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

/// The region a new account works in: the one it names (an area office
/// must name one; administrators name none). A unit's account takes its
/// unit's region, which the database sets.
fn region_of_new_account(conn: &mut PgConnection, new: &NewUser) -> Result<Option<i64>, Error> {
    let name = new.region.as_deref().map(str::trim).filter(|name| !name.is_empty());
    match (new.role, name) {
        (Role::AreaOffice, None) => {
            return Err(Error::invalid("region_required", "an area office account oversees a region: give region"));
        }
        (role, Some(_)) if role.is_administrator() => {
            return Err(Error::invalid("region_not_allowed", format!("a {role} account serves the whole installation: leave out region")));
        }
        _ => {}
    }
    let Some(name) = name else { return Ok(None) };
    let id: Option<i64> = regions::table.filter(regions::name.eq(name)).select(regions::id).first(conn).optional()?;
    id.map(Some).ok_or_else(|| Error::invalid("unknown_region", format!("there is no region {name:?}")))
}

/// Checks that a role and a unit fit together and that the unit exists.
pub(crate) fn check_placement(conn: &mut PgConnection, role: Role, unit_id: Option<i64>) -> Result<(), Error> {
    match (role, unit_id) {
        (Role::UnitManager | Role::UnitStaff, None) => {
            return Err(Error::invalid("unit_required", format!("a {role} account belongs to a unit: give unit_id")));
        }
        (Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin | Role::Inspector | Role::AreaOffice, Some(_)) => {
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
        return Err(Error::forbidden(refusal_of_scope(new.role)));
    }
    check_placement(conn, new.role, new.unit_id)?;
    let region_id = region_of_new_account(conn, new)?;
    let policy = crate::policy::cached(conn)?;
    password::check_strength(&new.password, &username, &policy).map_err(|(code, why)| Error::invalid(code, why))?;
    if !is_demo {
        password::check_not_published(&new.password, &crate::seeds::demo_accounts().password)
            .map_err(|(code, why)| Error::invalid(code, why))?;
    }
    let hash = password::hash(&new.password);
    // The demo administrators sign in with the published demo authenticator.
    let demo_totp = (is_demo && crate::authz::mfa_required(new.role, &policy))
        .then(|| crate::auth::totp::from_base32(&crate::seeds::demo_accounts().totp_secret))
        .flatten();
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
                users::region_id.eq(region_id),
                users::password_hash.eq(&hash),
                users::is_demo.eq(is_demo),
                // Whoever set the password, the user changes it at the first sign-in.
                users::must_change_password.eq(!is_demo),
                users::totp_secret.eq(&demo_totp),
                users::totp_enabled_at.eq(demo_totp.as_ref().map(|_| Utc::now())),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)?;
        audit::record(conn, actor, Event::new("user.create").entity("user", row.id).after(row.snapshot()))?;
        Ok(user_dto(conn, &row)?)
    })
}

/// Why a capability does not cover an account with this role.
fn refusal_of_scope(role: Role) -> &'static str {
    if role.is_administrator() {
        "the administrators' accounts are the security administrator's to manage"
    } else {
        "a unit manager manages only its own unit's staff; the system administrator the campaign's accounts"
    }
}

/// Whether an enabled account of this administrative role other than
/// `except` remains.
fn another_remains(conn: &mut PgConnection, role: Role, except: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::role.eq(role)).filter(users::disabled_at.is_null()).filter(users::id.ne(except)),
    ))
    .get_result(conn)
}

/// Changes an account's name, unit or enabled state (with `can`, which must
/// cover it), and its role (with `roles`: the security administrator's).
/// An administrator's role never changes (the database refuses it too).
pub fn update_user(
    conn: &mut PgConnection,
    can: Option<&ManageAccounts>,
    roles: Option<&AssignRoles>,
    actor: &audit::Actor,
    id: i64,
    patch: &UserPatch,
) -> Result<User, Error> {
    patch.check_lengths()?;
    conn.transaction(|conn| {
        let row = visible_user(conn, can.and_then(ManageAccounts::unit_id), id)?;
        let role = patch.role.unwrap_or(row.role);
        let changes_role = role != row.role;
        let changes_other = patch.display_name.as_deref().is_some_and(|name| name.trim() != row.display_name)
            || patch.unit_id.is_some_and(|unit| unit != row.unit_id)
            || patch.disabled.is_some_and(|disabled| disabled != row.disabled_at.is_some());
        if changes_role {
            if roles.is_none() {
                return Err(Error::forbidden("roles are assigned by the security administrator"));
            }
            if role.is_administrator() || row.role.is_administrator() {
                return Err(Error::invalid(
                    "administrative_role",
                    "an administrative role is given with a new account and never changed (三员分立)",
                ));
            }
        }
        if changes_other && !can.is_some_and(|can| can.covers(row.role, row.unit_id)) {
            return Err(Error::forbidden(refusal_of_scope(row.role)));
        }
        let unit_id = patch.unit_id.unwrap_or(row.unit_id);
        if let Some(can) = can.filter(|_| changes_other)
            && !can.covers(role, unit_id)
        {
            return Err(Error::forbidden("a unit manager may not move an account out of its unit"));
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
        if row.role.is_administrator() && row.disabled_at.is_none() && disabled_at.is_some() && !another_remains(conn, row.role, id)? {
            return Err(Error::conflict(
                "last_admin",
                format!("this is the last enabled {} ({}); create another one first", row.role.zh_name(), row.role),
            ));
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

/// The security administrator unlocks an account locked after failed
/// sign-ins.
pub fn unlock(conn: &mut PgConnection, can: &UnlockAccounts, actor: &audit::Actor, id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let username: String = users::table
            .find(id)
            .select(users::username)
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::not_found(format!("no user {id}")))?;
        let was_locked = crate::auth::throttle::locked_until(conn, &username)?;
        crate::auth::throttle::clear(conn, can, &username)?;
        audit::record(conn, actor, Event::new("user.unlock").entity("user", id).after(json!({"was_locked_until": was_locked})))?;
        Ok(())
    })
}

/// The security administrator takes a user's second factor away (a lost
/// device): the user enrols again, at the next sign-in if it is required.
pub fn reset_mfa(conn: &mut PgConnection, _can: &UnlockAccounts, actor: &audit::Actor, id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let changed = diesel::update(users::table.find(id))
            .set((
                users::totp_secret.eq(None::<Vec<u8>>),
                users::totp_enabled_at.eq(None::<chrono::DateTime<Utc>>),
                users::totp_last_step.eq(None::<i64>),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(Error::not_found(format!("no user {id}")));
        }
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(id))).execute(conn)?;
        let ended = end_sessions_of(conn, id, None, "mfa_reset")?;
        audit::record(conn, actor, Event::new("user.mfa_reset").entity("user", id).after(json!({"sessions_ended": ended})))?;
        Ok(())
    })
}

/// Sets another user's password and signs that user out everywhere.
pub fn reset_password(conn: &mut PgConnection, can: &ManageAccounts, actor: &audit::Actor, id: i64, new: &str) -> Result<(), Error> {
    let row = visible_user(conn, can.unit_id(), id)?;
    if !can.covers(row.role, row.unit_id) {
        return Err(Error::forbidden(refusal_of_scope(row.role)));
    }
    limits::at_most("new_password", new, duban_dto::limits::PASSWORD)?;
    check_new_password(conn, id, &row.username, new)?;
    let hash = password::hash(new);
    conn.transaction(|conn| {
        // Set by someone else: the user changes it at the next sign-in.
        set_password(conn, id, &hash, true)?;
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
