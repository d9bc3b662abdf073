//! Who presents a credential: the user of a valid access token whose
//! session is live, or the client of a valid API key. Identification only;
//! what the caller may do is `authz`'s concern.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use duban_dto::{Role, Scope};

use super::{api_keys, secrets, tokens::Claims};
use crate::authz::{Actor, ClientActor, UserActor};
use crate::db::schema::{api_clients, api_keys as keys, sessions, users};
use crate::error::Error;

fn unauthenticated(detail: &str) -> Error {
    Error::Unauthenticated(detail.to_owned())
}

/// How often a session's last activity is written: often enough for the
/// idle timeout, rarely enough not to write on every request.
const ACTIVITY_EVERY_SECONDS: i64 = 30;

/// The user of a valid token, if the user and the session are still live:
/// not revoked, not idle longer than the policy allows, not older than its
/// absolute limit. A session found idle or too old is ended here, so that
/// its refresh token stops too. Records the session's activity.
pub fn user_of_token(conn: &mut PgConnection, claims: &Claims) -> Result<Actor, Error> {
    let user_id: i64 = claims.sub.parse().map_err(|_| unauthenticated("the access token is invalid"))?;
    let now = Utc::now();
    #[allow(clippy::type_complexity)]
    let row: Option<(
        i64,
        String,
        Role,
        Option<i64>,
        Option<i64>,
        Option<Vec<i64>>,
        bool,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        DateTime<Utc>,
        DateTime<Utc>,
    )> = users::table
        .inner_join(sessions::table)
        .filter(users::id.eq(user_id))
        .filter(sessions::id.eq(claims.sid))
        .filter(users::disabled_at.is_null())
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            users::id,
            users::username,
            users::role,
            users::unit_id,
            users::region_id,
            crate::db::areas::account_area_column(),
            users::must_change_password,
            users::password_changed_at,
            users::totp_enabled_at,
            sessions::created_at,
            sessions::last_used_at,
        ))
        .first(conn)
        .optional()?;
    let (id, username, role, unit_id, region_id, area_regions, must_change, changed_at, totp_enabled_at, created_at, last_used_at) =
        row.ok_or_else(|| unauthenticated("the session has ended; sign in again"))?;
    let policy = crate::policy::cached(conn)?;
    if let Some(reason) = session_over(&policy, created_at, last_used_at, now) {
        end_expired(conn, id, &username, claims.sid, reason)?;
        return Err(unauthenticated(match reason {
            "idle" => "the session ended after a time without activity; sign in again",
            _ => "the session reached its time limit; sign in again",
        }));
    }
    if (now - last_used_at).num_seconds() >= ACTIVITY_EVERY_SECONDS {
        diesel::update(sessions::table.find(claims.sid)).set(sessions::last_used_at.eq(now)).execute(conn)?;
    }
    let restriction = crate::authz::restriction(role, must_change, changed_at, totp_enabled_at.is_some(), &policy, now);
    let area = crate::db::areas::area_of(region_id, area_regions);
    Ok(Actor::User(UserActor { id, username, role, unit_id, session_id: claims.sid, restriction, area }))
}

/// Ends a session the policy says is over, and says so in the audit log.
fn end_expired(conn: &mut PgConnection, user_id: i64, username: &str, session: uuid::Uuid, reason: &str) -> Result<(), Error> {
    conn.transaction(|conn| {
        let ended = diesel::update(sessions::table.find(session).filter(sessions::revoked_at.is_null()))
            .set((sessions::revoked_at.eq(Utc::now()), sessions::revoked_reason.eq(reason)))
            .execute(conn)?;
        if ended > 0 {
            let actor = crate::audit::Actor {
                kind: crate::audit::ActorKind::User,
                id: Some(user_id),
                name: Some(username.to_owned()),
                unit_id: None,
                request_id: None,
                client_address: None,
            };
            let event =
                crate::audit::Event::new("auth.session_expired").entity("session", session).after(serde_json::json!({"reason": reason}));
            crate::audit::record(conn, &actor, event)?;
        }
        Ok(())
    })
}

/// Why a session is over by the policy (`idle`, `time_limit`), if it is.
pub fn session_over(
    policy: &duban_dto::api::SecurityPolicy,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    if now - last_used_at > chrono::Duration::minutes(i64::from(policy.session_idle_minutes)) {
        Some("idle")
    } else if now - created_at > chrono::Duration::hours(i64::from(policy.session_absolute_hours)) {
        Some("time_limit")
    } else {
        None
    }
}

/// The client of a valid API key. Marks the key used, at most once a
/// minute: identification's only write, so an operator sees which keys
/// are still in use.
pub fn client_of_key(conn: &mut PgConnection, key: &str) -> Result<Actor, Error> {
    let invalid = || unauthenticated("the API key is invalid, revoked or expired");
    let (prefix, secret) = api_keys::parse(key).ok_or_else(invalid)?;
    let now = Utc::now();
    let row: Option<(i64, Vec<u8>, Vec<Scope>, Option<chrono::DateTime<Utc>>, i64, String)> = keys::table
        .inner_join(api_clients::table)
        .filter(keys::prefix.eq(prefix))
        .filter(keys::revoked_at.is_null())
        .filter(keys::expires_at.is_null().or(keys::expires_at.gt(now)))
        .filter(api_clients::disabled_at.is_null())
        .select((keys::id, keys::secret_hash, keys::scopes, keys::last_used_at, api_clients::id, api_clients::name))
        .first(conn)
        .optional()?;
    let (key_id, stored, scopes, last_used, client_id, name) = row.ok_or_else(invalid)?;
    if !secrets::same_digest(&stored, &secrets::digest(secret)) {
        return Err(invalid());
    }
    if last_used.is_none_or(|at| now - at > chrono::Duration::minutes(1)) {
        diesel::update(keys::table.find(key_id)).set(keys::last_used_at.eq(now)).execute(conn)?;
    }
    Ok(Actor::ApiClient(ClientActor { client_id, key_id, name, scopes }))
}
