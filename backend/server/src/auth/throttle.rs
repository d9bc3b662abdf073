//! Sign-in throttling and account lockout, in the database so that every
//! duban instance sees the same counts.
//!
//! Every attempt is counted before its password is checked, for the
//! account and for the address it comes from, in one statement per key:
//! parallel guesses cannot outrun the limit, because the count is taken
//! before the slow hash, not recorded after it. A success clears the
//! account's count and takes its attempt back from the address's. After `per_account` failures the account is locked for
//! `lock`, whatever password comes next; an address gets `per_address`
//! attempts per `window`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Int4, Nullable, Text, Timestamptz};

use crate::db::schema::sign_in_throttle;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_account: u32,
    pub per_address: u32,
    /// How long attempts are counted.
    pub window: Duration,
    /// How long an account stays locked after `per_account` failures.
    pub lock: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { per_account: 5, per_address: 20, window: Duration::from_secs(15 * 60), lock: Duration::from_secs(30 * 60) }
    }
}

/// Why an attempt is not even checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The account is locked until then.
    Locked { until: DateTime<Utc> },
    /// Too many attempts from the address (or, briefly, on the account
    /// before its lock is set); try again after this long.
    TooMany { retry_after: Duration },
}

impl Refusal {
    pub fn retry_after(&self) -> Duration {
        match self {
            Refusal::Locked { until } => (*until - Utc::now()).to_std().unwrap_or_default().max(Duration::from_secs(1)),
            Refusal::TooMany { retry_after } => *retry_after,
        }
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.to_lowercase())
}

fn address_key(address: Option<&str>) -> String {
    format!("address:{}", address.unwrap_or("unknown"))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Int4)]
    attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    window_started: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    locked_until: Option<DateTime<Utc>>,
}

/// Counts one attempt for `key`, starting the count anew once its window
/// (or its lock) has passed.
fn count(conn: &mut PgConnection, key: &str, window: Duration) -> QueryResult<Count> {
    diesel::sql_query(
        "INSERT INTO sign_in_throttle AS t (key, attempts, window_started) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           attempts = CASE WHEN t.locked_until <= now()
                             OR (t.locked_until IS NULL AND t.window_started <= now() - make_interval(secs => $2))
                           THEN 1 ELSE t.attempts + 1 END,
           window_started = CASE WHEN t.locked_until <= now()
                                   OR (t.locked_until IS NULL AND t.window_started <= now() - make_interval(secs => $2))
                                 THEN now() ELSE t.window_started END,
           locked_until = CASE WHEN t.locked_until <= now() THEN NULL ELSE t.locked_until END
         RETURNING attempts, window_started, locked_until",
    )
    .bind::<Text, _>(key)
    .bind::<Double, _>(window.as_secs_f64())
    .get_result(conn)
}

/// Counts an attempt to sign in to `account` from `address`, before its
/// password is checked. `Err` when it must not be checked at all.
pub fn reserve(conn: &mut PgConnection, limits: &Limits, account: &str, address: Option<&str>) -> QueryResult<Result<(), Refusal>> {
    let now = Utc::now();
    let account_count = count(conn, &account_key(account), limits.window)?;
    if let Some(until) = account_count.locked_until.filter(|until| *until > now) {
        return Ok(Err(Refusal::Locked { until }));
    }
    let address_count = count(conn, &address_key(address), limits.window)?;
    let waited = |count: &Count| {
        let ends = count.window_started + chrono::Duration::from_std(limits.window).unwrap_or_default();
        (ends - now).to_std().unwrap_or_default().max(Duration::from_secs(1))
    };
    if account_count.attempts as u32 > limits.per_account {
        return Ok(Err(Refusal::TooMany { retry_after: waited(&account_count) }));
    }
    if address_count.attempts as u32 > limits.per_address {
        return Ok(Err(Refusal::TooMany { retry_after: waited(&address_count) }));
    }
    Ok(Ok(()))
}

/// Counts an attempt against the account alone, for a check made inside a
/// session (a code of one's authenticator): the session names the account,
/// and the address limit is for guesses spread over many accounts.
pub fn reserve_for_account(conn: &mut PgConnection, limits: &Limits, account: &str) -> QueryResult<Result<(), Refusal>> {
    let now = Utc::now();
    let account_count = count(conn, &account_key(account), limits.window)?;
    if let Some(until) = account_count.locked_until.filter(|until| *until > now) {
        return Ok(Err(Refusal::Locked { until }));
    }
    if account_count.attempts as u32 > limits.per_account {
        let ends = account_count.window_started + chrono::Duration::from_std(limits.window).unwrap_or_default();
        return Ok(Err(Refusal::TooMany { retry_after: (ends - now).to_std().unwrap_or_default().max(Duration::from_secs(1)) }));
    }
    Ok(Ok(()))
}

/// The check inside a session was right: the account's count starts again.
pub fn succeeded_for_account(conn: &mut PgConnection, account: &str) -> QueryResult<()> {
    diesel::delete(sign_in_throttle::table.find(account_key(account))).execute(conn).map(drop)
}

/// The password was right: the account's count starts again, and the
/// attempt no longer counts against the address (an office behind one
/// address signs in many times a morning).
pub fn succeeded(conn: &mut PgConnection, account: &str, address: Option<&str>) -> QueryResult<()> {
    diesel::delete(sign_in_throttle::table.find(account_key(account))).execute(conn)?;
    diesel::update(sign_in_throttle::table.find(address_key(address)))
        .filter(sign_in_throttle::attempts.gt(0))
        .set(sign_in_throttle::attempts.eq(sign_in_throttle::attempts - 1))
        .execute(conn)
        .map(drop)
}

/// The password was wrong: once the account has used up its attempts it is
/// locked. Returns the end of the lock when this failure set it.
pub fn failed(conn: &mut PgConnection, limits: &Limits, account: &str) -> QueryResult<Option<DateTime<Utc>>> {
    let until = Utc::now() + chrono::Duration::from_std(limits.lock).unwrap_or_default();
    diesel::update(sign_in_throttle::table.find(account_key(account)))
        .filter(sign_in_throttle::attempts.ge(limits.per_account as i32))
        .filter(sign_in_throttle::locked_until.is_null())
        .set(sign_in_throttle::locked_until.eq(until))
        .returning(sign_in_throttle::locked_until)
        .get_result::<Option<DateTime<Utc>>>(conn)
        .optional()
        .map(Option::flatten)
}

/// When the account is locked until, if it is.
pub fn locked_until(conn: &mut PgConnection, account: &str) -> QueryResult<Option<DateTime<Utc>>> {
    let until: Option<Option<DateTime<Utc>>> =
        sign_in_throttle::table.find(account_key(account)).select(sign_in_throttle::locked_until).first(conn).optional()?;
    Ok(until.flatten().filter(|until| *until > Utc::now()))
}

/// Unlocks an account and forgets its failed attempts (the security
/// administrator's decision).
pub fn clear(conn: &mut PgConnection, _can: &crate::authz::UnlockAccounts, account: &str) -> QueryResult<()> {
    diesel::delete(sign_in_throttle::table.find(account_key(account))).execute(conn).map(drop)
}
