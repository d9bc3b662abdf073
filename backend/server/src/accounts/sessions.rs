//! Signing in and out: sessions, their access and refresh tokens, the
//! second factor at sign-in, the caller's own password, and the lists of
//! sessions. A session ends after the policy's idle time and, in any case,
//! its absolute time (`auth::credentials` checks both on every request and
//! [`refresh`] does too).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use duban_dto::api::{LoginRequest, Me, PasswordChange, TokenResponse};
use duban_dto::limits;
use serde_json::json;
use uuid::Uuid;

use super::{UserRow, me};
use crate::audit::{self, Event};
use crate::auth::throttle;
use crate::auth::tokens::{ACCESS_TOKEN_SECONDS, JwtKeys};
use crate::auth::{password, secrets, totp};
use crate::authz::{Caller, ManageSessions, OwnAccount, RequestInfo};
use crate::clock;
use crate::db::schema::{password_history, recovery_codes, refresh_tokens, sessions, users};
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

/// Starts a session and returns its tokens. It ends, in any case, after
/// the policy's absolute time.
fn open_session(conn: &mut PgConnection, jwt: &JwtKeys, row: &UserRow, info: &RequestInfo) -> Result<TokenResponse, Error> {
    let now = Utc::now();
    let session = Uuid::new_v4();
    let policy = crate::policy::cached(conn)?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session),
            sessions::user_id.eq(row.id),
            sessions::expires_at.eq(now + Duration::hours(i64::from(policy.session_absolute_hours))),
            sessions::client_address.eq(&info.address),
            sessions::user_agent.eq(&info.user_agent),
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
pub(super) fn refused(refusal: &throttle::Refusal) -> Error {
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
    // The second factor, when the account has one: a code from the
    // authenticator (each accepted once) or a one-time recovery code. A
    // missing code is asked for; a wrong one counts as a failed sign-in.
    let mut factor = "password";
    if row.totp_enabled_at.is_some() {
        let given = request.otp.as_deref().map(str::trim).filter(|code| !code.is_empty());
        let recovery = request.recovery_code.as_deref().map(str::trim).filter(|code| !code.is_empty());
        if given.is_none() && recovery.is_none() {
            return Err(Error::SecondFactor {
                code: "mfa_required",
                detail: "请输入动态口令（enter the code of your authenticator, or a recovery code)".to_owned(),
            });
        }
        let accepted = match (given, recovery) {
            (Some(code), _) => second_factor(conn, row.id, code)?.then_some("totp"),
            (None, Some(code)) => use_recovery_code(conn, row.id, code)?.then_some("recovery_code"),
            (None, None) => None,
        };
        let Some(used) = accepted else {
            let locked = throttle::failed(conn, limits_of_sign_in, &username)?;
            let event =
                Event::new("auth.login_failed").entity("user", &username).after(json!({"reason": "second_factor", "locked_until": locked}));
            audit::record(conn, &info.anonymous(Some(&username)), event)?;
            return Err(Error::SecondFactor {
                code: "invalid_otp",
                detail: "动态口令不正确或已使用（the code is wrong or was used already)".to_owned(),
            });
        };
        factor = used;
    }
    throttle::succeeded(conn, &username, info.address.as_deref())?;
    conn.transaction(|conn| {
        let tokens = open_session(conn, jwt, &row, info)?;
        let event =
            Event::new("auth.login").entity("user", row.id).after(json!({"factor": factor, "restriction": tokens.user.restriction}));
        audit::record(conn, &info.user(row.id, &row.username, row.unit_id), event)?;
        Ok(tokens)
    })
}

/// Checks a code of the user's authenticator and records its step, so that
/// it is never accepted again.
pub(super) fn second_factor(conn: &mut PgConnection, user_id: i64, code: &str) -> Result<bool, Error> {
    conn.transaction(|conn| {
        let (secret, last_step): (Option<Vec<u8>>, Option<i64>) =
            users::table.find(user_id).for_update().select((users::totp_secret, users::totp_last_step)).first(conn)?;
        let Some(secret) = secret else { return Ok(false) };
        match totp::accepted_step(&secret, code, Utc::now().timestamp(), last_step) {
            Some(step) => {
                diesel::update(users::table.find(user_id)).set(users::totp_last_step.eq(step)).execute(conn)?;
                Ok(true)
            }
            None => Ok(false),
        }
    })
}

/// Uses one of the user's recovery codes, if it is one not used yet.
fn use_recovery_code(conn: &mut PgConnection, user_id: i64, code: &str) -> Result<bool, Error> {
    let normalised: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    let used = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(secrets::digest(&normalised).as_slice()))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Utc::now()))
    .execute(conn)?;
    Ok(used == 1)
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
        // A session idle too long, or too old, is not renewed.
        let (created_at, last_used_at): (DateTime<Utc>, DateTime<Utc>) =
            sessions::table.find(session).select((sessions::created_at, sessions::last_used_at)).first(conn)?;
        let policy = crate::policy::cached(conn)?;
        if let Some(reason) = crate::auth::credentials::session_over(&policy, created_at, last_used_at, now) {
            end_session(conn, session, reason)?;
            return Ok(Err(None));
        }
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
        return Err(Error::invalid("password_reused", "新密码不得与当前密码相同（the new password must differ from the current one）"));
    }
    check_new_password(conn, row.id, &row.username, new)?;
    let hash = password::hash(new);
    conn.transaction(|conn| {
        set_password(conn, row.id, &hash, false)?;
        let ended = end_sessions_of(conn, row.id, Some(own.session_id()), "password_changed")?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("user.password_change").entity("user", row.id).after(json!({"other_sessions_ended": ended})),
        )?;
        Ok(())
    })
}

/// Whether a new password may be used: the policy's rules (named in the
/// error), not published, not one of the user's last ones.
pub(super) fn check_new_password(conn: &mut PgConnection, user_id: i64, username: &str, new: &str) -> Result<(), Error> {
    let policy = crate::policy::cached(conn)?;
    password::check_strength(new, username, &policy).map_err(|(code, why)| Error::invalid(code, why))?;
    password::check_not_published(new, &crate::seeds::demo_accounts().password).map_err(|(code, why)| Error::invalid(code, why))?;
    if policy.password_history > 0 {
        let mut recent: Vec<String> = vec![users::table.find(user_id).select(users::password_hash).first(conn)?];
        recent.extend(
            password_history::table
                .filter(password_history::user_id.eq(user_id))
                .order(password_history::id.desc())
                .limit(i64::from(policy.password_history))
                .select(password_history::password_hash)
                .load::<String>(conn)?,
        );
        recent.truncate(policy.password_history as usize);
        if recent.iter().any(|hash| password::verify(hash, new)) {
            let count = policy.password_history;
            return Err(Error::invalid(
                "password_reused",
                format!("不得使用最近 {count} 次用过的密码（one of the last {count} passwords）"),
            ));
        }
    }
    Ok(())
}

/// Sets a password; the one it replaces joins the history. `set_by_other`:
/// someone else set it, so the user must change it at the next sign-in.
pub(super) fn set_password(conn: &mut PgConnection, user_id: i64, hash: &str, set_by_other: bool) -> QueryResult<usize> {
    let now = Utc::now();
    let previous: String = users::table.find(user_id).select(users::password_hash).first(conn)?;
    diesel::insert_into(password_history::table)
        .values((password_history::user_id.eq(user_id), password_history::password_hash.eq(previous)))
        .execute(conn)?;
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(hash),
            users::password_changed_at.eq(now),
            users::must_change_password.eq(set_by_other),
            users::updated_at.eq(now),
        ))
        .execute(conn)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
struct SessionRow {
    id: Uuid,
    user_id: i64,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    client_address: Option<String>,
    user_agent: Option<String>,
}

/// Live sessions, newest first: a user's, or everyone's.
fn live_sessions(conn: &mut PgConnection, user_id: Option<i64>, current: Option<Uuid>) -> Result<Vec<duban_dto::api::SessionInfo>, Error> {
    let policy = crate::policy::cached(conn)?;
    let now = Utc::now();
    let mut query = sessions::table
        .inner_join(users::table)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_used_at.gt(now - Duration::minutes(i64::from(policy.session_idle_minutes))))
        .filter(sessions::created_at.gt(now - Duration::hours(i64::from(policy.session_absolute_hours))))
        .order(sessions::created_at.desc())
        .select((SessionRow::as_select(), users::username))
        .limit(1000)
        .into_boxed();
    if let Some(user) = user_id {
        query = query.filter(sessions::user_id.eq(user));
    }
    let rows: Vec<(SessionRow, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, username)| duban_dto::api::SessionInfo {
            id: row.id.to_string(),
            user_id: row.user_id,
            username,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            idle_until: row.last_used_at + Duration::minutes(i64::from(policy.session_idle_minutes)),
            ends_at: row.expires_at.min(row.created_at + Duration::hours(i64::from(policy.session_absolute_hours))),
            client_address: row.client_address,
            user_agent: row.user_agent,
            current: Some(row.id) == current,
        })
        .collect())
}

/// The caller's own live sessions.
pub fn own_sessions(conn: &mut PgConnection, own: &OwnAccount) -> Result<Vec<duban_dto::api::SessionInfo>, Error> {
    live_sessions(conn, Some(own.user_id()), Some(own.session_id()))
}

/// Every user's live sessions, or one user's.
pub fn all_sessions(
    conn: &mut PgConnection,
    _can: &ManageSessions,
    user_id: Option<i64>,
) -> Result<Vec<duban_dto::api::SessionInfo>, Error> {
    live_sessions(conn, user_id, None)
}

fn parse_session(id: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::not_found(format!("there is no session {id}")))
}

/// Ends one of the caller's own sessions.
pub fn end_own_session(conn: &mut PgConnection, own: &OwnAccount, caller: &Caller, id: &str) -> Result<(), Error> {
    let session = parse_session(id)?;
    conn.transaction(|conn| {
        let ended = diesel::update(
            sessions::table.find(session).filter(sessions::user_id.eq(own.user_id())).filter(sessions::revoked_at.is_null()),
        )
        .set((sessions::revoked_at.eq(Utc::now()), sessions::revoked_reason.eq("ended_by_user")))
        .execute(conn)?;
        if ended == 0 {
            return Err(Error::not_found(format!("you have no session {id}")));
        }
        audit::record(conn, &caller.audit_actor(), Event::new("auth.session_end").entity("session", session))?;
        Ok(())
    })
}

/// An administrator ends any user's session.
pub fn end_any_session(conn: &mut PgConnection, _can: &ManageSessions, caller: &Caller, id: &str) -> Result<(), Error> {
    let session = parse_session(id)?;
    conn.transaction(|conn| {
        let ended: Option<i64> = diesel::update(sessions::table.find(session).filter(sessions::revoked_at.is_null()))
            .set((sessions::revoked_at.eq(Utc::now()), sessions::revoked_reason.eq("ended_by_administrator")))
            .returning(sessions::user_id)
            .get_result(conn)
            .optional()?;
        let user = ended.ok_or_else(|| Error::not_found(format!("there is no live session {id}")))?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("auth.session_end").entity("session", session).after(json!({"user_id": user})),
        )?;
        Ok(())
    })
}

/// Opens a session for a user without signing in, for the integration
/// tests that are not about signing in (the demo administrators sign in
/// with a second factor, and a code works once).
#[cfg(feature = "test-support")]
pub fn open_for_tests(conn: &mut PgConnection, jwt: &JwtKeys, username: &str) -> Result<TokenResponse, Error> {
    let row: UserRow = users::table.filter(users::username.eq(username)).select(UserRow::as_select()).first(conn)?;
    let info = RequestInfo { request_id: "test".to_owned(), address: None, user_agent: Some("duban-tests".to_owned()) };
    open_session(conn, jwt, &row, &info)
}
