//! Signing in and out: sessions, their access and refresh tokens, and the
//! caller's own password.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use duban_dto::api::{Me, TokenResponse};
use serde_json::json;
use uuid::Uuid;

use super::{UserRow, me};
use crate::audit::{self, Event};
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::{ACCESS_TOKEN_SECONDS, JwtKeys, SESSION_DAYS};
use crate::auth::{password, secrets};
use crate::authz::{Caller, OwnAccount, RequestInfo};
use crate::db::schema::{refresh_tokens, sessions, users};
use crate::error::Error;

/// The signed-in user's own account.
pub fn current_user(conn: &mut PgConnection, own: &OwnAccount) -> Result<Me, Error> {
    let row: UserRow = users::table.find(own.user_id()).select(UserRow::as_select()).first(conn)?;
    Ok(me(conn, &row)?)
}

fn wrong_credentials() -> Error {
    Error::Unauthenticated("wrong username or password".to_owned())
}

/// Starts a session and returns its tokens.
fn open_session(conn: &mut PgConnection, jwt: &JwtKeys, row: &UserRow, info: &RequestInfo) -> Result<TokenResponse, Error> {
    let now = Utc::now();
    let session = Uuid::new_v4();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session),
            sessions::user_id.eq(row.id),
            sessions::expires_at.eq(now + Duration::days(SESSION_DAYS)),
            sessions::client_address.eq(&info.address),
        ))
        .execute(conn)?;
    tokens_for(conn, jwt, row, session, now)
}

fn tokens_for(conn: &mut PgConnection, jwt: &JwtKeys, row: &UserRow, session: Uuid, now: DateTime<Utc>) -> Result<TokenResponse, Error> {
    let refresh_token = secrets::random_token();
    diesel::insert_into(refresh_tokens::table)
        .values((refresh_tokens::token_hash.eq(secrets::digest(&refresh_token).as_slice()), refresh_tokens::session_id.eq(session)))
        .execute(conn)?;
    Ok(TokenResponse {
        access_token: jwt.issue(row.id, session, now),
        token_type: "Bearer".to_owned(),
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token,
        user: me(conn, row)?,
    })
}

/// Signs a user in. Failures are throttled per account and per address,
/// and audited; the answer never tells which of username and password was wrong.
pub fn login(
    conn: &mut PgConnection,
    jwt: &JwtKeys,
    throttle: &LoginThrottle,
    info: &RequestInfo,
    username: &str,
    password_given: &str,
) -> Result<TokenResponse, Error> {
    let username = username.trim().to_lowercase();
    if let Err(wait) = throttle.check(&username, info.address.as_deref()) {
        audit::record(conn, &info.anonymous(Some(&username)), Event::new("auth.login_throttled").entity("user", &username))?;
        return Err(Error::Throttled {
            detail: format!("too many failed sign-ins; try again in {} seconds", wait.as_secs()),
            retry_after_seconds: wait.as_secs(),
        });
    }
    let row: Option<UserRow> = users::table.filter(users::username.eq(&username)).select(UserRow::as_select()).first(conn).optional()?;
    let valid = match &row {
        Some(row) => password::verify(&row.password_hash, password_given) && row.disabled_at.is_none(),
        None => {
            password::verify_against_nothing(password_given);
            false
        }
    };
    let Some(row) = row.filter(|_| valid) else {
        throttle.record_failure(&username, info.address.as_deref());
        audit::record(conn, &info.anonymous(Some(&username)), Event::new("auth.login_failed").entity("user", &username))?;
        return Err(wrong_credentials());
    };
    throttle.record_success(&username);
    conn.transaction(|conn| {
        let tokens = open_session(conn, jwt, &row, info)?;
        audit::record(conn, &info.user(row.id, &row.username, row.unit_id), Event::new("auth.login").entity("user", row.id))?;
        Ok(tokens)
    })
}

/// Exchanges a refresh token for a new pair. Each refresh token works once;
/// presenting a used one again means it was stolen (or replayed), and ends
/// the whole session for everyone holding its tokens.
pub fn refresh(conn: &mut PgConnection, jwt: &JwtKeys, info: &RequestInfo, token: &str) -> Result<TokenResponse, Error> {
    let digest = secrets::digest(token);
    let ended = || Error::Unauthenticated("the refresh token is invalid or the session has ended; sign in again".to_owned());
    let outcome = conn.transaction::<_, Error, _>(|conn| {
        let now = Utc::now();
        let claimed: Option<Uuid> = diesel::update(refresh_tokens::table.find(digest.as_slice()).filter(refresh_tokens::used_at.is_null()))
            .set(refresh_tokens::used_at.eq(now))
            .returning(refresh_tokens::session_id)
            .get_result(conn)
            .optional()?;
        let Some(session) = claimed else {
            let reused: Option<Uuid> =
                refresh_tokens::table.find(digest.as_slice()).select(refresh_tokens::session_id).first(conn).optional()?;
            return Ok(Err(reused));
        };
        let live: Option<UserRow> = users::table
            .inner_join(sessions::table)
            .filter(sessions::id.eq(session))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .filter(users::disabled_at.is_null())
            .select(UserRow::as_select())
            .first(conn)
            .optional()?;
        let Some(row) = live else { return Ok(Err(None)) };
        diesel::update(sessions::table.find(session)).set(sessions::last_used_at.eq(now)).execute(conn)?;
        Ok(Ok(tokens_for(conn, jwt, &row, session, now)?))
    })?;
    match outcome {
        Ok(tokens) => Ok(tokens),
        Err(Some(session)) => {
            conn.transaction::<_, Error, _>(|conn| {
                let user: i64 = sessions::table.find(session).select(sessions::user_id).first(conn)?;
                end_session(conn, session, "refresh_token_reused")?;
                let actor = info.anonymous(None);
                audit::record(conn, &actor, Event::new("auth.refresh_reused").entity("session", session).after(json!({"user_id": user})))?;
                Ok(())
            })?;
            Err(ended())
        }
        Err(None) => Err(ended()),
    }
}

/// Signs the caller out: its session ends, its refresh token stops working
/// and so do its access tokens.
pub fn logout(conn: &mut PgConnection, own: &OwnAccount, caller: &Caller) -> Result<(), Error> {
    conn.transaction(|conn| {
        end_session(conn, own.session_id(), "logout")?;
        audit::record(conn, &caller.audit_actor(), Event::new("auth.logout").entity("session", own.session_id()))?;
        Ok(())
    })
}

fn end_session(conn: &mut PgConnection, session: Uuid, reason: &str) -> QueryResult<usize> {
    diesel::update(sessions::table.find(session).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(Utc::now()), sessions::revoked_reason.eq(reason)))
        .execute(conn)
}

/// Ends every session of a user, except `keep`.
pub(super) fn end_sessions_of(conn: &mut PgConnection, user_id: i64, keep: Option<Uuid>, reason: &str) -> QueryResult<usize> {
    let mut query =
        diesel::update(sessions::table).filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()).into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(keep));
    }
    query.set((sessions::revoked_at.eq(Utc::now()), sessions::revoked_reason.eq(reason))).execute(conn)
}

/// Changes the caller's own password and signs out its other sessions.
pub fn change_password(conn: &mut PgConnection, own: &OwnAccount, caller: &Caller, current: &str, new: &str) -> Result<(), Error> {
    let row: UserRow = users::table.find(own.user_id()).select(UserRow::as_select()).first(conn)?;
    if !password::verify(&row.password_hash, current) {
        return Err(Error::invalid("wrong_password", "the current password is wrong"));
    }
    password::check_strength(new, &row.username).map_err(|why| Error::invalid("weak_password", why))?;
    let hash = password::hash(new);
    conn.transaction(|conn| {
        set_password(conn, row.id, &hash)?;
        let ended = end_sessions_of(conn, row.id, Some(own.session_id()), "password_changed")?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("user.password_change").entity("user", row.id).after(json!({"other_sessions_ended": ended})),
        )?;
        Ok(())
    })
}

pub(super) fn set_password(conn: &mut PgConnection, user_id: i64, hash: &str) -> QueryResult<usize> {
    let now = Utc::now();
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(hash), users::password_changed_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
}
