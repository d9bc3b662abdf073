//! Accounts: signing in and out and the sessions it opens
//! ([`sessions`]), user accounts ([`users`]), and the API clients of
//! portals and scripts ([`api_clients`]). Every change writes its audit row
//! in the same transaction; nothing secret is ever put in one.

pub mod api_clients;
pub mod mfa;
pub mod sessions;
pub mod users;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use duban_dto::Role;
use duban_dto::api::{Me, UnitRef, User};
use serde_json::{Value, json};

use crate::db::schema::{regions, units, users as user_table};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_table)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: Role,
    unit_id: Option<i64>,
    region_id: Option<i64>,
    password_hash: String,
    is_demo: bool,
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    password_changed_at: DateTime<Utc>,
    must_change_password: bool,
    totp_enabled_at: Option<DateTime<Utc>>,
}

impl UserRow {
    /// What the audit log records of a user: never the password hash.
    fn snapshot(&self) -> Value {
        json!({
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "unit_id": self.unit_id,
            "is_demo": self.is_demo,
            "disabled": self.disabled_at.is_some(),
        })
    }
}

fn unit_ref(conn: &mut PgConnection, unit_id: Option<i64>) -> QueryResult<Option<UnitRef>> {
    let Some(id) = unit_id else { return Ok(None) };
    let name = units::table.find(id).select(units::name).first(conn)?;
    Ok(Some(UnitRef { id, name }))
}

fn region_name(conn: &mut PgConnection, region_id: Option<i64>) -> QueryResult<Option<String>> {
    let Some(id) = region_id else { return Ok(None) };
    regions::table.find(id).select(regions::name).first(conn).map(Some)
}

fn user_dto(conn: &mut PgConnection, row: &UserRow) -> QueryResult<User> {
    Ok(User {
        id: row.id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        role: row.role,
        unit: unit_ref(conn, row.unit_id)?,
        region: region_name(conn, row.region_id)?,
        is_demo: row.is_demo,
        disabled: row.disabled_at.is_some(),
        created_at: row.created_at,
    })
}

fn me(conn: &mut PgConnection, row: &UserRow) -> Result<Me, crate::error::Error> {
    let policy = crate::policy::cached(conn)?;
    let now = Utc::now();
    let max_age = i64::from(policy.password_max_age_days);
    Ok(Me {
        id: row.id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        role: row.role,
        unit: unit_ref(conn, row.unit_id)?,
        region: region_name(conn, row.region_id)?,
        is_demo: row.is_demo,
        restriction: crate::authz::restriction(
            row.role,
            row.must_change_password,
            row.password_changed_at,
            row.totp_enabled_at.is_some(),
            &policy,
            now,
        ),
        mfa_enabled: row.totp_enabled_at.is_some(),
        mfa_required: crate::authz::mfa_required(row.role, &policy),
        password_expires_at: (max_age > 0).then(|| row.password_changed_at + chrono::Duration::days(max_age)),
    })
}
