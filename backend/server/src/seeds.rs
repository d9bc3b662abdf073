//! The demo data compiled into the binary: Luoping county's roster, its
//! breakdown of the province's checklist, and demo accounts — all as
//! committed under `seeds/`.

use diesel::prelude::*;
use duban_dto::Role;
use duban_dto::api::NewUser;
use serde::Deserialize;

use crate::audit::Actor;
use crate::authz::Operator;
use crate::db::schema::{campaigns, regions, units, users};
use crate::error::Error;
use crate::import::{self, ImportError, ImportReport, Source};

pub const LUOPING_ROSTER: &str = include_str!("../../../seeds/luoping.units.json");
pub const LUOPING_CAMPAIGN: &str = include_str!("../../../seeds/luoping.campaign.json");
pub const DEMO_ACCOUNTS: &str = include_str!("../../../seeds/demo-accounts.json");

/// `seeds/demo-accounts.json`: accounts with one published password.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoAccounts {
    pub format: String,
    pub note: String,
    pub password: String,
    /// The demo administrators' authenticator secret (base32), published
    /// like the password: add it to an authenticator app to sign in.
    pub totp_secret: String,
    pub accounts: Vec<DemoAccount>,
    pub areas_note: String,
    /// Regions above the counties (a city with its counties, then the
    /// province with its cities: each area after the regions it holds), so
    /// that the demo has area offices to sign in as.
    pub areas: Vec<DemoArea>,
    /// The region `duban gen-data` places its generated counties in.
    pub province: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoArea {
    pub name: String,
    pub regions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub unit: Option<String>,
    /// The region of an account without a unit (see `areas`).
    #[serde(default)]
    pub region: Option<String>,
}

pub fn demo_accounts() -> DemoAccounts {
    serde_json::from_str(DEMO_ACCOUNTS).expect("seeds/demo-accounts.json is valid (tested)")
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("demo account: {0}")]
    Account(String),
}

impl From<Error> for SeedError {
    fn from(error: Error) -> Self {
        SeedError::Account(error.to_string())
    }
}

impl From<diesel::result::Error> for SeedError {
    fn from(error: diesel::result::Error) -> Self {
        SeedError::Import(ImportError::Database(error))
    }
}

/// Loads the roster, the campaign and the demo accounts, each step in its
/// own transaction; steps already done change nothing.
pub fn load_demo(conn: &mut PgConnection, operator: &Operator) -> Result<Vec<ImportReport>, SeedError> {
    let actor = Actor::system("demo-data");
    let roster = Source::from_json(LUOPING_ROSTER)?;
    let campaign = Source::from_json(LUOPING_CAMPAIGN)?;
    let reports = vec![
        import::run(conn, &operator.import_data(), &actor, &roster, "demo roster (seeds/luoping.units.json)", false)?,
        import::run(conn, &operator.import_data(), &actor, &campaign, "demo campaign (seeds/luoping.campaign.json)", false)?,
    ];
    let demo = demo_accounts();
    for area in &demo.areas {
        place_regions(conn, operator, &area.name, &area.regions)?;
    }
    let can = operator.manage_accounts();
    for account in &demo.accounts {
        let exists: bool =
            diesel::select(diesel::dsl::exists(users::table.filter(users::username.eq(&account.username)))).get_result(conn)?;
        if exists {
            continue;
        }
        let unit_id = match &account.unit {
            Some(name) => Some(
                units::table
                    .filter(units::name.eq(name))
                    .select(units::id)
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| SeedError::Account(format!("{}: no unit {name:?} in the roster", account.username)))?,
            ),
            None => None,
        };
        let new = NewUser {
            username: account.username.clone(),
            display_name: account.display_name.clone(),
            role: account.role,
            unit_id,
            region: account.region.clone(),
            password: demo.password.clone(),
        };
        crate::accounts::users::create_demo_user(conn, &can, &actor, &new)?;
    }
    Ok(reports)
}

/// Creates region `area` if it is missing and places `regions` below it.
pub(crate) fn place_regions(conn: &mut PgConnection, _operator: &Operator, area: &str, below: &[String]) -> QueryResult<()> {
    let existing: Option<i64> = regions::table.filter(regions::name.eq(area)).select(regions::id).first(conn).optional()?;
    let area_id = match existing {
        Some(id) => id,
        None => diesel::insert_into(regions::table).values(regions::name.eq(area)).returning(regions::id).get_result(conn)?,
    };
    diesel::update(regions::table.filter(regions::name.eq_any(below))).set(regions::parent_id.eq(area_id)).execute(conn)?;
    Ok(())
}

/// On a database with no campaigns, units or accounts — a first start —
/// loads the demo data. Returns whether it did.
pub fn load_demo_if_empty(conn: &mut PgConnection, operator: &Operator) -> Result<bool, SeedError> {
    let campaigns: i64 = campaigns::table.count().get_result(conn)?;
    let units: i64 = units::table.count().get_result(conn)?;
    let users: i64 = users::table.count().get_result(conn)?;
    if campaigns > 0 || units > 0 || users > 0 {
        return Ok(false);
    }
    for report in load_demo(conn, operator)? {
        tracing::info!(source = report.source, changes = report.changes.len(), "demo data loaded");
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_accounts_are_valid() {
        let demo = demo_accounts();
        assert_eq!(demo.format, "duban.demo-accounts/1");
        for account in &demo.accounts {
            assert_eq!(account.role.is_unit_role(), account.unit.is_some() && account.role != Role::LeadOffice, "{}", account.username);
            crate::auth::password::check_strength(&demo.password, &account.username, &duban_dto::api::SecurityPolicy::default()).unwrap();
        }
        assert!(crate::auth::totp::from_base32(&demo.totp_secret).is_some_and(|secret| secret.len() >= 10));
        for role in Role::ALL {
            assert!(demo.accounts.iter().any(|account| account.role == *role), "a demo account for every role: {role}");
        }
        // Each area comes after the areas it holds, so that every region it
        // places below itself exists by then.
        for (index, area) in demo.areas.iter().enumerate() {
            assert!(
                demo.areas[index + 1..].iter().all(|later| !area.regions.contains(&later.name)),
                "{} is listed before a region it holds",
                area.name
            );
        }
        assert!(demo.areas.iter().any(|area| area.name == demo.province), "the province is one of the areas");
    }
}
