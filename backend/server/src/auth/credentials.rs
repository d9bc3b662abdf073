//! Who presents a credential: the user of a valid access token whose
//! session is live, or the client of a valid API key. Identification only;
//! what the caller may do is `authz`'s concern.

use chrono::Utc;
use diesel::prelude::*;
use duban_dto::{Role, Scope};

use super::{api_keys, secrets, tokens::Claims};
use crate::authz::{Actor, ClientActor, UserActor};
use crate::db::schema::{api_clients, api_keys as keys, sessions, users};
use crate::error::Error;

fn unauthenticated(detail: &str) -> Error {
    Error::Unauthenticated(detail.to_owned())
}

/// The user of a valid token, if the user and the session are still live.
pub fn user_of_token(conn: &mut PgConnection, claims: &Claims) -> Result<Actor, Error> {
    let user_id: i64 = claims.sub.parse().map_err(|_| unauthenticated("the access token is invalid"))?;
    let now = Utc::now();
    let row: Option<(i64, String, Role, Option<i64>)> = users::table
        .inner_join(sessions::table)
        .filter(users::id.eq(user_id))
        .filter(sessions::id.eq(claims.sid))
        .filter(users::disabled_at.is_null())
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((users::id, users::username, users::role, users::unit_id))
        .first(conn)
        .optional()?;
    let (id, username, role, unit_id) = row.ok_or_else(|| unauthenticated("the session has ended; sign in again"))?;
    Ok(Actor::User(UserActor { id, username, role, unit_id, session_id: claims.sid }))
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
