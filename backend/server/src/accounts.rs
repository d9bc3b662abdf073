//! Accounts and sessions: signing in and out, refreshing tokens, changing
//! passwords, managing users and API clients. Every change writes its audit
//! row in the same transaction; nothing secret is ever put in one.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use duban_dto::api::{ApiClient, ApiKeyInfo, CreatedApiKey, Me, NewApiClient, NewApiKey, NewUser, TokenResponse, UnitRef, User, UserPatch};
use duban_dto::{Role, Scope};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::{ACCESS_TOKEN_SECONDS, JwtKeys, SESSION_DAYS};
use crate::auth::{api_keys, password, secrets};
use crate::authz::{Caller, ManageAccounts, ManageApiClients, ReadAccounts, RequestInfo};
use crate::db::schema::{api_clients, api_keys as keys, refresh_tokens, sessions, units, users};
use crate::http::ApiError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    unit_id: Option<i64>,
    password_hash: String,
    is_demo: bool,
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl UserRow {
    fn role(&self) -> Role {
        Role::parse(&self.role).expect("the CHECK constraint admits only known roles")
    }

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

fn user_dto(conn: &mut PgConnection, row: &UserRow) -> QueryResult<User> {
    Ok(User {
        id: row.id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        role: row.role(),
        unit: unit_ref(conn, row.unit_id)?,
        is_demo: row.is_demo,
        disabled: row.disabled_at.is_some(),
        created_at: row.created_at,
    })
}

fn me(conn: &mut PgConnection, row: &UserRow) -> QueryResult<Me> {
    Ok(Me {
        id: row.id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        role: row.role(),
        unit: unit_ref(conn, row.unit_id)?,
        is_demo: row.is_demo,
    })
}

/// The signed-in user's own account.
pub fn current_user(conn: &mut PgConnection, caller: &Caller) -> Result<Me, ApiError> {
    let user = caller.user().ok_or_else(|| ApiError::forbidden("an API key is not a user account"))?;
    let row: UserRow = users::table.find(user.id).select(UserRow::as_select()).first(conn)?;
    Ok(me(conn, &row)?)
}

fn wrong_credentials() -> ApiError {
    ApiError::Unauthenticated { detail: "wrong username or password".to_owned() }
}

/// Starts a session and returns its tokens.
fn open_session(conn: &mut PgConnection, jwt: &JwtKeys, row: &UserRow, info: &RequestInfo) -> Result<TokenResponse, ApiError> {
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

fn tokens_for(conn: &mut PgConnection, jwt: &JwtKeys, row: &UserRow, session: Uuid, now: DateTime<Utc>) -> Result<TokenResponse, ApiError> {
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
) -> Result<TokenResponse, ApiError> {
    let username = username.trim().to_lowercase();
    if let Err(wait) = throttle.check(&username, info.address.as_deref()) {
        audit::record(conn, &info.anonymous(Some(&username)), Event::new("auth.login_throttled").entity("user", &username))?;
        return Err(ApiError::TooManyRequests {
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
pub fn refresh(conn: &mut PgConnection, jwt: &JwtKeys, info: &RequestInfo, token: &str) -> Result<TokenResponse, ApiError> {
    let digest = secrets::digest(token);
    let ended = || ApiError::Unauthenticated { detail: "the refresh token is invalid or the session has ended; sign in again".to_owned() };
    let outcome = conn.transaction::<_, ApiError, _>(|conn| {
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
            conn.transaction::<_, ApiError, _>(|conn| {
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
pub fn logout(conn: &mut PgConnection, caller: &Caller) -> Result<(), ApiError> {
    let user = caller.user().ok_or_else(|| ApiError::forbidden("an API key has no session to end"))?;
    conn.transaction(|conn| {
        end_session(conn, user.session_id, "logout")?;
        audit::record(conn, &caller.audit_actor(), Event::new("auth.logout").entity("session", user.session_id))?;
        Ok(())
    })
}

fn end_session(conn: &mut PgConnection, session: Uuid, reason: &str) -> QueryResult<usize> {
    diesel::update(sessions::table.find(session).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(Utc::now()), sessions::revoked_reason.eq(reason)))
        .execute(conn)
}

/// Ends every session of a user, except `keep`.
fn end_sessions_of(conn: &mut PgConnection, user_id: i64, keep: Option<Uuid>, reason: &str) -> QueryResult<usize> {
    let mut query =
        diesel::update(sessions::table).filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()).into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(keep));
    }
    query.set((sessions::revoked_at.eq(Utc::now()), sessions::revoked_reason.eq(reason))).execute(conn)
}

/// Changes the caller's own password and signs out its other sessions.
pub fn change_password(conn: &mut PgConnection, caller: &Caller, current: &str, new: &str) -> Result<(), ApiError> {
    let user = caller.user().ok_or_else(|| ApiError::forbidden("an API key has no password"))?;
    let row: UserRow = users::table.find(user.id).select(UserRow::as_select()).first(conn)?;
    if !password::verify(&row.password_hash, current) {
        return Err(ApiError::unprocessable("wrong_password", "the current password is wrong"));
    }
    password::check_strength(new, &row.username).map_err(|why| ApiError::unprocessable("weak_password", why))?;
    let hash = password::hash(new);
    conn.transaction(|conn| {
        set_password(conn, row.id, &hash)?;
        let ended = end_sessions_of(conn, row.id, Some(user.session_id), "password_changed")?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("user.password_change").entity("user", row.id).after(json!({"other_sessions_ended": ended})),
        )?;
        Ok(())
    })
}

fn set_password(conn: &mut PgConnection, user_id: i64, hash: &str) -> QueryResult<usize> {
    let now = Utc::now();
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(hash), users::password_changed_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
}

/// Accounts the capability shows, by username.
pub fn list_users(conn: &mut PgConnection, can: &ReadAccounts) -> Result<Vec<User>, ApiError> {
    let mut query = users::table.order(users::username).select(UserRow::as_select()).into_boxed();
    if let Some(unit) = can.unit_id() {
        query = query.filter(users::unit_id.eq(unit));
    }
    let rows: Vec<UserRow> = query.load(conn)?;
    Ok(rows.iter().map(|row| user_dto(conn, row)).collect::<QueryResult<_>>()?)
}

fn visible_user(conn: &mut PgConnection, unit_scope: Option<i64>, id: i64) -> Result<UserRow, ApiError> {
    let row: Option<UserRow> = users::table.find(id).select(UserRow::as_select()).first(conn).optional()?;
    row.filter(|row| unit_scope.is_none() || row.unit_id == unit_scope).ok_or_else(|| ApiError::not_found(format!("no user {id}")))
}

pub fn get_user(conn: &mut PgConnection, can: &ReadAccounts, id: i64) -> Result<User, ApiError> {
    let row = visible_user(conn, can.unit_id(), id)?;
    Ok(user_dto(conn, &row)?)
}

/// Checks that a role and a unit fit together and that the unit exists.
pub(crate) fn check_placement(conn: &mut PgConnection, role: Role, unit_id: Option<i64>) -> Result<(), ApiError> {
    match (role, unit_id) {
        (Role::UnitManager | Role::UnitStaff, None) => {
            return Err(ApiError::unprocessable("unit_required", format!("a {role} account belongs to a unit: give unit_id")));
        }
        (Role::Admin | Role::Inspector, Some(_)) => {
            return Err(ApiError::unprocessable("unit_not_allowed", format!("a {role} account belongs to no unit: leave out unit_id")));
        }
        _ => {}
    }
    if let Some(unit) = unit_id {
        let exists: bool = diesel::select(diesel::dsl::exists(units::table.find(unit))).get_result(conn)?;
        if !exists {
            return Err(ApiError::unprocessable("unknown_unit", format!("there is no unit {unit}")));
        }
    }
    Ok(())
}

pub(crate) fn check_username(username: &str) -> Result<(), ApiError> {
    let valid = (2..=64).contains(&username.len())
        && username.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._@-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "invalid_username",
            "a username is 2 to 64 lower-case letters, digits and . _ @ -, starting with a letter or digit",
        ))
    }
}

/// Creates an account. `actor` is who is doing it, for the audit log.
pub fn create_user(conn: &mut PgConnection, can: &ManageAccounts, actor: &audit::Actor, new: &NewUser) -> Result<User, ApiError> {
    create_user_row(conn, can, actor, new, false)
}

/// Creates a demo account: `is_demo` marks it, so production mode refuses it.
pub(crate) fn create_demo_user(
    conn: &mut PgConnection,
    can: &ManageAccounts,
    actor: &audit::Actor,
    new: &NewUser,
) -> Result<User, ApiError> {
    create_user_row(conn, can, actor, new, true)
}

fn create_user_row(
    conn: &mut PgConnection,
    can: &ManageAccounts,
    actor: &audit::Actor,
    new: &NewUser,
    is_demo: bool,
) -> Result<User, ApiError> {
    let username = new.username.trim().to_lowercase();
    check_username(&username)?;
    if new.display_name.trim().is_empty() {
        return Err(ApiError::unprocessable("invalid_display_name", "the display name must not be blank"));
    }
    if !can.covers(new.role, new.unit_id) {
        return Err(ApiError::forbidden("a unit manager may create only staff accounts of its own unit"));
    }
    check_placement(conn, new.role, new.unit_id)?;
    password::check_strength(&new.password, &username).map_err(|why| ApiError::unprocessable("weak_password", why))?;
    let hash = password::hash(&new.password);
    conn.transaction(|conn| {
        let taken: bool = diesel::select(diesel::dsl::exists(users::table.filter(users::username.eq(&username)))).get_result(conn)?;
        if taken {
            return Err(ApiError::conflict("username_taken", format!("the username {username:?} is taken")));
        }
        let row: UserRow = diesel::insert_into(users::table)
            .values((
                users::username.eq(&username),
                users::display_name.eq(new.display_name.trim()),
                users::role.eq(new.role.as_str()),
                users::unit_id.eq(new.unit_id),
                users::password_hash.eq(&hash),
                users::is_demo.eq(is_demo),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)?;
        audit::record(conn, actor, Event::new("user.create").entity("user", row.id).after(row.snapshot()))?;
        Ok(user_dto(conn, &row)?)
    })
}

/// Whether an enabled admin other than `except` remains.
fn another_admin_remains(conn: &mut PgConnection, except: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::role.eq(Role::Admin.as_str())).filter(users::disabled_at.is_null()).filter(users::id.ne(except)),
    ))
    .get_result(conn)
}

/// Changes an account's name, role, unit or enabled state.
pub fn update_user(
    conn: &mut PgConnection,
    can: &ManageAccounts,
    actor: &audit::Actor,
    id: i64,
    patch: &UserPatch,
) -> Result<User, ApiError> {
    conn.transaction(|conn| {
        let row = visible_user(conn, can.unit_id(), id)?;
        if !can.covers(row.role(), row.unit_id) {
            return Err(ApiError::forbidden("a unit manager may change only staff accounts of its own unit"));
        }
        let role = patch.role.unwrap_or(row.role());
        let unit_id = patch.unit_id.unwrap_or(row.unit_id);
        if !can.covers(role, unit_id) {
            return Err(ApiError::forbidden("a unit manager may not move an account out of its unit or give it another role"));
        }
        check_placement(conn, role, unit_id)?;
        let display_name = patch.display_name.as_deref().map(str::trim).unwrap_or(&row.display_name).to_owned();
        if display_name.is_empty() {
            return Err(ApiError::unprocessable("invalid_display_name", "the display name must not be blank"));
        }
        let disabled_at = match patch.disabled {
            Some(true) => row.disabled_at.or(Some(Utc::now())),
            Some(false) => None,
            None => row.disabled_at,
        };
        let stays_admin = role == Role::Admin && disabled_at.is_none();
        if row.role() == Role::Admin && row.disabled_at.is_none() && !stays_admin && !another_admin_remains(conn, id)? {
            return Err(ApiError::conflict("last_admin", "this is the last enabled administrator; create another one first"));
        }
        let updated: UserRow = diesel::update(users::table.find(id))
            .set((
                users::display_name.eq(&display_name),
                users::role.eq(role.as_str()),
                users::unit_id.eq(unit_id),
                users::disabled_at.eq(disabled_at),
                users::updated_at.eq(Utc::now()),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)?;
        if disabled_at.is_some() && row.disabled_at.is_none() {
            end_sessions_of(conn, id, None, "disabled")?;
        }
        let (before, after) = (row.snapshot(), updated.snapshot());
        if before != after {
            audit::record(conn, actor, Event::new("user.update").entity("user", id).changed(&before, &after))?;
        }
        Ok(user_dto(conn, &updated)?)
    })
}

/// Sets another user's password and signs that user out everywhere.
pub fn reset_password(conn: &mut PgConnection, can: &ManageAccounts, actor: &audit::Actor, id: i64, new: &str) -> Result<(), ApiError> {
    let row = visible_user(conn, can.unit_id(), id)?;
    if !can.covers(row.role(), row.unit_id) {
        return Err(ApiError::forbidden("a unit manager may reset only staff passwords of its own unit"));
    }
    password::check_strength(new, &row.username).map_err(|why| ApiError::unprocessable("weak_password", why))?;
    let hash = password::hash(new);
    conn.transaction(|conn| {
        set_password(conn, id, &hash)?;
        let ended = end_sessions_of(conn, id, None, "password_reset")?;
        audit::record(conn, actor, Event::new("user.password_reset").entity("user", id).after(json!({"sessions_ended": ended})))?;
        Ok(())
    })
}

/// The user with this username, for the command line.
pub fn user_id_by_name(conn: &mut PgConnection, username: &str) -> Result<i64, ApiError> {
    users::table
        .filter(users::username.eq(username.trim().to_lowercase()))
        .select(users::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("there is no user {username:?}")))
}

/// Usernames of demo accounts that can still sign in.
pub fn enabled_demo_accounts(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    users::table.filter(users::is_demo).filter(users::disabled_at.is_null()).order(users::username).select(users::username).load(conn)
}

pub fn user_count(conn: &mut PgConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = keys)]
struct KeyRow {
    id: i64,
    client_id: i64,
    prefix: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl KeyRow {
    fn info(&self) -> ApiKeyInfo {
        ApiKeyInfo {
            id: self.id,
            prefix: format!("{}{}", api_keys::KEY_PREFIX, self.prefix),
            scopes: self.scopes.iter().filter_map(|scope| Scope::parse(scope)).collect(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            revoked: self.revoked_at.is_some(),
        }
    }
}

pub fn list_api_clients(conn: &mut PgConnection, _can: &ManageApiClients) -> Result<Vec<ApiClient>, ApiError> {
    let clients: Vec<(i64, String, Option<String>, DateTime<Utc>, Option<DateTime<Utc>>)> = api_clients::table
        .order(api_clients::id)
        .select((api_clients::id, api_clients::name, api_clients::description, api_clients::created_at, api_clients::disabled_at))
        .load(conn)?;
    let key_rows: Vec<KeyRow> = keys::table.order(keys::id).select(KeyRow::as_select()).load(conn)?;
    Ok(clients
        .into_iter()
        .map(|(id, name, description, created_at, disabled_at)| ApiClient {
            id,
            name,
            description,
            created_at,
            disabled: disabled_at.is_some(),
            keys: key_rows.iter().filter(|key| key.client_id == id).map(KeyRow::info).collect(),
        })
        .collect())
}

pub fn create_api_client(
    conn: &mut PgConnection,
    _can: &ManageApiClients,
    caller: &Caller,
    new: &NewApiClient,
) -> Result<ApiClient, ApiError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(ApiError::unprocessable("invalid_name", "the client's name must not be blank"));
    }
    conn.transaction(|conn| {
        let taken: bool = diesel::select(diesel::dsl::exists(api_clients::table.filter(api_clients::name.eq(name)))).get_result(conn)?;
        if taken {
            return Err(ApiError::conflict("name_taken", format!("there is already an API client named {name:?}")));
        }
        let (id, created_at): (i64, DateTime<Utc>) = diesel::insert_into(api_clients::table)
            .values((
                api_clients::name.eq(name),
                api_clients::description.eq(&new.description),
                api_clients::created_by.eq(caller.user().map(|u| u.id)),
            ))
            .returning((api_clients::id, api_clients::created_at))
            .get_result(conn)?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("api_client.create").entity("api_client", id).after(json!({"name": name, "description": new.description})),
        )?;
        Ok(ApiClient { id, name: name.to_owned(), description: new.description.clone(), created_at, disabled: false, keys: Vec::new() })
    })
}

/// Creates a key; its secret is in the answer and nowhere else.
pub fn create_api_key(
    conn: &mut PgConnection,
    _can: &ManageApiClients,
    caller: &Caller,
    client_id: i64,
    new: &NewApiKey,
) -> Result<CreatedApiKey, ApiError> {
    if new.scopes.is_empty() {
        return Err(ApiError::unprocessable("no_scopes", "a key needs at least one scope"));
    }
    if new.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::unprocessable("expired", "expires_at must be in the future"));
    }
    let mut scopes: Vec<&str> = new.scopes.iter().map(|scope| scope.as_str()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    conn.transaction(|conn| {
        let exists: bool = diesel::select(diesel::dsl::exists(api_clients::table.find(client_id))).get_result(conn)?;
        if !exists {
            return Err(ApiError::not_found(format!("no API client {client_id}")));
        }
        let generated = api_keys::generate();
        let row: KeyRow = diesel::insert_into(keys::table)
            .values((
                keys::client_id.eq(client_id),
                keys::prefix.eq(&generated.prefix),
                keys::secret_hash.eq(generated.secret_digest.as_slice()),
                keys::scopes.eq(&scopes),
                keys::created_by.eq(caller.user().map(|u| u.id)),
                keys::expires_at.eq(new.expires_at),
            ))
            .returning(KeyRow::as_returning())
            .get_result(conn)?;
        let info = row.info();
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("api_key.create")
                .entity("api_key", row.id)
                .after(json!({"client_id": client_id, "prefix": info.prefix, "scopes": scopes, "expires_at": new.expires_at})),
        )?;
        Ok(CreatedApiKey { key: generated.key, info })
    })
}

pub fn revoke_api_key(
    conn: &mut PgConnection,
    _can: &ManageApiClients,
    caller: &Caller,
    client_id: i64,
    key_id: i64,
) -> Result<(), ApiError> {
    conn.transaction(|conn| {
        let revoked = diesel::update(keys::table.find(key_id).filter(keys::client_id.eq(client_id)).filter(keys::revoked_at.is_null()))
            .set(keys::revoked_at.eq(Utc::now()))
            .execute(conn)?;
        if revoked == 0 {
            let exists: bool =
                diesel::select(diesel::dsl::exists(keys::table.find(key_id).filter(keys::client_id.eq(client_id)))).get_result(conn)?;
            return if exists { Ok(()) } else { Err(ApiError::not_found(format!("no key {key_id} of API client {client_id}"))) };
        }
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("api_key.revoke").entity("api_key", key_id).after(json!({"client_id": client_id})),
        )?;
        Ok(())
    })
}
