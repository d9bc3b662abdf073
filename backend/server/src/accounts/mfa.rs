//! The second factor of one's own account: enrolling an authenticator
//! (TOTP), confirming it with a code, one-time recovery codes, and turning
//! it off where the policy does not require it. Every step is audited; the
//! secret and the codes never are.

use chrono::Utc;
use diesel::prelude::*;
use duban_dto::api::{RecoveryCodes, TotpEnrolment};
use serde_json::json;

use super::sessions::second_factor;
use crate::audit::{self, Event};
use crate::auth::{secrets, throttle, totp};
use crate::authz::{Caller, OwnAccount};
use crate::db::schema::{recovery_codes, users};
use crate::error::Error;

/// Runs a step that checks a code of the caller's authenticator, counting
/// wrong codes against the account like failed sign-ins: a stolen session
/// must not become a way to guess six digits. A wrong code is audited.
fn counted<T>(
    conn: &mut PgConnection,
    own: &OwnAccount,
    caller: &Caller,
    limits: &throttle::Limits,
    step: impl FnOnce(&mut PgConnection) -> Result<T, Error>,
) -> Result<T, Error> {
    let username: String = users::table.find(own.user_id()).select(users::username).first(conn)?;
    if let Err(refusal) = throttle::reserve_for_account(conn, limits, &username)? {
        return Err(super::sessions::refused(&refusal));
    }
    let result = step(conn);
    match &result {
        Err(Error::Invalid { code: "invalid_otp", .. }) => {
            let locked = throttle::failed(conn, limits, &username)?;
            let event = Event::new("user.mfa_code_failed").entity("user", own.user_id()).after(json!({"locked_until": locked}));
            audit::record(conn, &caller.audit_actor(), event)?;
        }
        Ok(_) => throttle::succeeded_for_account(conn, &username)?,
        Err(_) => {}
    }
    result
}

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// The issuer authenticator apps show beside the account.
const ISSUER: &str = "督办 duban";

/// Starts enrolling: a new secret, not in force until a code from it is
/// confirmed. Starting again replaces a secret not yet confirmed; an
/// enabled second factor must be turned off first.
pub fn start(conn: &mut PgConnection, own: &OwnAccount, caller: &Caller) -> Result<TotpEnrolment, Error> {
    conn.transaction(|conn| {
        let (username, enabled): (String, Option<chrono::DateTime<Utc>>) =
            users::table.find(own.user_id()).select((users::username, users::totp_enabled_at)).first(conn)?;
        if enabled.is_some() {
            return Err(Error::conflict(
                "mfa_enabled",
                "the second factor is on already; turn it off first to enrol another authenticator",
            ));
        }
        let mut secret = vec![0u8; totp::SECRET_BYTES];
        getrandom::fill(&mut secret).map_err(|error| Error::internal(anyhow::anyhow!("no randomness: {error}")))?;
        diesel::update(users::table.find(own.user_id()))
            .set((users::totp_secret.eq(&secret), users::totp_last_step.eq(None::<i64>)))
            .execute(conn)?;
        audit::record(conn, &caller.audit_actor(), Event::new("user.mfa_enrolment_started").entity("user", own.user_id()))?;
        let uri = totp::otpauth_uri(ISSUER, &username, &secret);
        Ok(TotpEnrolment { secret: totp::base32(&secret), qr_svg: totp::qr_svg(&uri), otpauth_uri: uri })
    })
}

/// A new set of recovery codes, replacing any earlier ones; shown once.
fn new_recovery_codes(conn: &mut PgConnection, user_id: i64) -> Result<RecoveryCodes, Error> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
    let mut codes = Vec::new();
    for _ in 0..RECOVERY_CODES {
        // Ten characters from a token, in two groups for reading aloud.
        let token: String =
            secrets::random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(10).collect::<String>().to_lowercase();
        diesel::insert_into(recovery_codes::table)
            .values((recovery_codes::user_id.eq(user_id), recovery_codes::code_hash.eq(secrets::digest(&token).as_slice())))
            .execute(conn)?;
        codes.push(format!("{}-{}", &token[..5], &token[5..]));
    }
    Ok(RecoveryCodes { codes })
}

/// Confirms enrolment with a code from the authenticator: the second
/// factor is on from now, and the recovery codes are given, once.
pub fn confirm(
    conn: &mut PgConnection,
    own: &OwnAccount,
    caller: &Caller,
    limits: &throttle::Limits,
    code: &str,
) -> Result<RecoveryCodes, Error> {
    crate::limits::at_most("code", code, 16)?;
    counted(conn, own, caller, limits, |conn| {
        conn.transaction(|conn| {
            let (secret, enabled): (Option<Vec<u8>>, Option<chrono::DateTime<Utc>>) =
                users::table.find(own.user_id()).select((users::totp_secret, users::totp_enabled_at)).first(conn)?;
            if enabled.is_some() {
                return Err(Error::conflict("mfa_enabled", "the second factor is on already"));
            }
            if secret.is_none() {
                return Err(Error::conflict("mfa_not_started", "start enrolling first (POST /api/v1/me/mfa/totp)"));
            }
            if !second_factor(conn, own.user_id(), code)? {
                return Err(Error::invalid("invalid_otp", "动态口令不正确（the code does not match; check the device's clock)"));
            }
            diesel::update(users::table.find(own.user_id())).set(users::totp_enabled_at.eq(Utc::now())).execute(conn)?;
            let codes = new_recovery_codes(conn, own.user_id())?;
            audit::record(conn, &caller.audit_actor(), Event::new("user.mfa_enabled").entity("user", own.user_id()))?;
            Ok(codes)
        })
    })
}

/// New recovery codes (the old ones stop working), with a current code.
pub fn renew_recovery_codes(
    conn: &mut PgConnection,
    own: &OwnAccount,
    caller: &Caller,
    limits: &throttle::Limits,
    code: &str,
) -> Result<RecoveryCodes, Error> {
    crate::limits::at_most("code", code, 16)?;
    counted(conn, own, caller, limits, |conn| {
        conn.transaction(|conn| {
            let enabled: Option<chrono::DateTime<Utc>> = users::table.find(own.user_id()).select(users::totp_enabled_at).first(conn)?;
            if enabled.is_none() {
                return Err(Error::conflict("mfa_not_enabled", "the second factor is not on"));
            }
            if !second_factor(conn, own.user_id(), code)? {
                return Err(Error::invalid("invalid_otp", "动态口令不正确（the code is wrong or was used already)"));
            }
            let codes = new_recovery_codes(conn, own.user_id())?;
            audit::record(conn, &caller.audit_actor(), Event::new("user.mfa_recovery_renewed").entity("user", own.user_id()))?;
            Ok(codes)
        })
    })
}

/// Turns the second factor off, with a current code, where the policy
/// does not require it.
pub fn disable(conn: &mut PgConnection, own: &OwnAccount, caller: &Caller, limits: &throttle::Limits, code: &str) -> Result<(), Error> {
    crate::limits::at_most("code", code, 16)?;
    let policy = crate::policy::cached(conn)?;
    counted(conn, own, caller, limits, |conn| {
        conn.transaction(|conn| {
            let (role, enabled): (duban_dto::Role, Option<chrono::DateTime<Utc>>) =
                users::table.find(own.user_id()).select((users::role, users::totp_enabled_at)).first(conn)?;
            if crate::authz::mfa_required(role, &policy) {
                return Err(Error::conflict("mfa_required", "the policy requires a second factor of this account"));
            }
            if enabled.is_none() {
                return Err(Error::conflict("mfa_not_enabled", "the second factor is not on"));
            }
            if !second_factor(conn, own.user_id(), code)? {
                return Err(Error::invalid("invalid_otp", "动态口令不正确（the code is wrong or was used already)"));
            }
            diesel::update(users::table.find(own.user_id()))
                .set((
                    users::totp_secret.eq(None::<Vec<u8>>),
                    users::totp_enabled_at.eq(None::<chrono::DateTime<Utc>>),
                    users::totp_last_step.eq(None::<i64>),
                ))
                .execute(conn)?;
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(own.user_id()))).execute(conn)?;
            audit::record(
                conn,
                &caller.audit_actor(),
                Event::new("user.mfa_disabled").entity("user", own.user_id()).after(json!({"by": "user"})),
            )?;
            Ok(())
        })
    })
}
