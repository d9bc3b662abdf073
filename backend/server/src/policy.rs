//! The security policy an administrator sets for the whole installation,
//! kept in `server_settings` and read where it applies. Every change is
//! audited with what it was before.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use duban_dto::api::{SecurityPolicy, SecurityPolicyPatch};
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{Caller, ManagePolicy};
use crate::db::schema::server_settings;
use crate::error::Error;

const KEY: &str = "security_policy";

/// The policy in force: the stored one, or the default.
pub fn current(conn: &mut PgConnection) -> Result<SecurityPolicy, Error> {
    let stored: Option<String> = server_settings::table.find(KEY).select(server_settings::value).first(conn).optional()?;
    let policy = match stored {
        Some(text) => serde_json::from_str(&text).map_err(Error::internal)?,
        None => SecurityPolicy::default(),
    };
    *CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((Instant::now(), policy.clone()));
    Ok(policy)
}

/// How long a policy read is reused by every request of this instance; a
/// change reaches the other instances within this time.
const CACHE_FOR: Duration = Duration::from_secs(5);

static CACHE: Mutex<Option<(Instant, SecurityPolicy)>> = Mutex::new(None);

/// The policy in force, read at most every few seconds: every request's
/// session check needs it.
pub fn cached(conn: &mut PgConnection) -> Result<SecurityPolicy, Error> {
    if let Some((read_at, policy)) = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).as_ref()
        && read_at.elapsed() < CACHE_FOR
    {
        return Ok(policy.clone());
    }
    current(conn)
}

/// Changes the policy; the audit row says who changed what from what.
pub fn update(conn: &mut PgConnection, _can: &ManagePolicy, caller: &Caller, patch: &SecurityPolicyPatch) -> Result<SecurityPolicy, Error> {
    conn.transaction(|conn| {
        let before = current(conn)?;
        let after = patch.applied_to(&before);
        after.check().map_err(|why| Error::invalid("invalid_policy", why))?;
        if after != before {
            let text = serde_json::to_string(&after).map_err(Error::internal)?;
            diesel::insert_into(server_settings::table)
                .values((server_settings::key.eq(KEY), server_settings::value.eq(&text)))
                .on_conflict(server_settings::key)
                .do_update()
                .set(server_settings::value.eq(&text))
                .execute(conn)?;
            let event = Event::new("policy.update").entity("policy", KEY).changed(&json!(before), &json!(after));
            audit::record(conn, &caller.audit_actor(), event)?;
        }
        Ok(after)
    })
}
