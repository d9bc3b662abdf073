//! Signing in and out: sessions, their access and refresh tokens, and the
//! caller's own password.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use duban_dto::api::{LoginRequest, Me, PasswordChange, TokenResponse};
use duban_dto::limits;
use serde_json::json;
use uuid::Uuid;

use super::{UserRow, me};
use crate::audit::{self, Event};
use crate::auth::throttle;
use crate::auth::tokens::{ACCESS_TOKEN_SECONDS, JwtKeys, SESSION_DAYS};
use crate::auth::{password, secrets};
use crate::authz::{Caller, OwnAccount, RequestInfo};
use crate::clock;
use crate::db::schema::{refresh_tokens, sessions, users};
use crate::error::Error;
use crate::limits::Bounded;

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

/// What a refused sign-in (or password check) answers.
fn refused(refusal: &throttle::Refusal) -> Error {
    let retry_after_seconds = refusal.retry_after().as_secs().max(1);
    let detail = match refusal {
        throttle::Refusal::Locked { until } => format!(
            "the account is locked after too many failed sign-ins, until {} (UTC+8); ask the security administrator to unlock it sooner",
            until.with_timezone(&clock::china()).format("%Y-%m-%d %H:%M")
        ),
        throttle::Refusal::TooMany { .. } => format!("too many failed sign-ins; try again in {retry_after_seconds} seconds"),
    };
    Error::Throttled { detail, retry_after_seconds }
}

/// A name as the audit log keeps it: what was typed, cut to a username's length.
fn as_typed(name: &str) -> String {
    let mut kept: String = name.chars().take(limits::USERNAME).collect();
    if kept.len() < name.len() {
        kept.push('…');
    }
    kept
}

/// Signs a user in. Each attempt is counted before the password is checked
/// (per account and per address, shared by every instance); failures are
/// audited, an account is locked after too many, and the answer never tells
/// which of username and password was wrong.
pub fn login(
    conn: &mut PgConnection,
    jwt: &JwtKeys,
    limits_of_sign_in: &throttle::Limits,
    info: &RequestInfo,
    request: &LoginRequest,
) -> Result<TokenResponse, Error> {
    let username = request.username.trim().to_lowercase();
    if let Err(too_long) = request.check_lengths() {
        let event = Event::new("auth.login_failed").entity("user", as_typed(&username)).after(json!({"reason": "too_long"}));
        audit::record(conn, &info.anonymous(Some(&as_typed(&username))), event)?;
        return Err(too_long);
    }
    if let Err(refusal) = throttle::reserve(conn, limits_of_sign_in, &username, info.address.as_deref())? {
        audit::record(conn, &info.anonymous(Some(&username)), Event::new("auth.login_throttled").entity("user", &username))?;
        return Err(refused(&refusal));
    }
    let row: Option<UserRow> = users::table.filter(users::username.eq(&username)).select(UserRow::as_select()).first(conn).optional()?;
    let valid = match &row {
        Some(row) => password::verify(&row.password_hash, &request.password) && row.disabled_at.is_none(),
        None => {
            password::verify_against_nothing(&request.password);
            false
        }
    };
    let Some(row) = row.filter(|_| valid) else {
        let locked = throttle::failed(conn, limits_of_sign_in, &username)?;
        let event = Event::new("auth.login_failed").entity("user", &username).after(json!({"locked_until": locked}));
        audit::record(conn, &info.anonymous(Some(&username)), event)?;
        return Err(wrong_credentials());
    };
    throttle::succeeded(conn, &username, info.address.as_deref())?;
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
    crate::limits::at_most("refresh_token", token, limits::CODE)?;
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
/// Guesses of the current password are counted and locked out like
/// sign-ins (a stolen session must not become a way to guess it), and each
/// wrong one is audited.
pub fn change_password(
    conn: &mut PgConnection,
    own: &OwnAccount,
    caller: &Caller,
    limits_of_sign_in: &throttle::Limits,
    change: &PasswordChange,
) -> Result<(), Error> {
    change.check_lengths()?;
    let row: UserRow = users::table.find(own.user_id()).select(UserRow::as_select()).first(conn)?;
    if let Err(refusal) = throttle::reserve(conn, limits_of_sign_in, &row.username, caller.address.as_deref())? {
        audit::record(conn, &caller.audit_actor(), Event::new("user.password_change_throttled").entity("user", row.id))?;
        return Err(refused(&refusal));
    }
    if !password::verify(&row.password_hash, &change.current_password) {
        let locked = throttle::failed(conn, limits_of_sign_in, &row.username)?;
        let event = Event::new("user.password_change_failed").entity("user", row.id).after(json!({"locked_until": locked}));
        audit::record(conn, &caller.audit_actor(), event)?;
        return Err(Error::invalid("wrong_password", "the current password is wrong"));
    }
    throttle::succeeded(conn, &row.username, caller.address.as_deref())?;
    let new = change.new_password.as_str();
    if new == change.current_password {
        return Err(Error::invalid("weak_password", "the new password must differ from the current one"));
    }
    password::check_strength(new, &row.username).map_err(|why| Error::invalid("weak_password", why))?;
    password::check_not_published(new, &crate::seeds::demo_accounts().password).map_err(|why| Error::invalid("weak_password", why))?;
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
