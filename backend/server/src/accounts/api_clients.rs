//! The API clients of portals and scripts, and their keys.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use duban_dto::Scope;
use duban_dto::api::{ApiClient, ApiKeyInfo, CreatedApiKey, NewApiClient, NewApiKey};
use serde_json::json;

use crate::audit::{self, Event};
use crate::auth::api_keys;
use crate::authz::{Caller, ManageApiClients};
use crate::db::schema::{api_clients, api_keys as keys};
use crate::error::Error;
use crate::limits::Bounded;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = keys)]
struct KeyRow {
    id: i64,
    client_id: i64,
    prefix: String,
    scopes: Vec<Scope>,
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
            scopes: self.scopes.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            revoked: self.revoked_at.is_some(),
        }
    }
}

pub fn list_api_clients(conn: &mut PgConnection, _can: &ManageApiClients) -> Result<Vec<ApiClient>, Error> {
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
) -> Result<ApiClient, Error> {
    new.check_lengths()?;
    let name = new.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("invalid_name", "the client's name must not be blank"));
    }
    conn.transaction(|conn| {
        let taken: bool = diesel::select(diesel::dsl::exists(api_clients::table.filter(api_clients::name.eq(name)))).get_result(conn)?;
        if taken {
            return Err(Error::conflict("name_taken", format!("there is already an API client named {name:?}")));
        }
        let (id, created_at): (i64, DateTime<Utc>) = diesel::insert_into(api_clients::table)
            .values((
                api_clients::name.eq(name),
                api_clients::description.eq(&new.description),
                api_clients::created_by.eq(caller.user_id()),
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
) -> Result<CreatedApiKey, Error> {
    if new.scopes.is_empty() {
        return Err(Error::invalid("no_scopes", "a key needs at least one scope"));
    }
    if new.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Error::invalid("expired", "expires_at must be in the future"));
    }
    let mut scopes: Vec<Scope> = new.scopes.clone();
    scopes.sort_unstable_by_key(|scope| scope.as_str());
    scopes.dedup();
    conn.transaction(|conn| {
        let exists: bool = diesel::select(diesel::dsl::exists(api_clients::table.find(client_id))).get_result(conn)?;
        if !exists {
            return Err(Error::not_found(format!("no API client {client_id}")));
        }
        let generated = api_keys::generate();
        let row: KeyRow = diesel::insert_into(keys::table)
            .values((
                keys::client_id.eq(client_id),
                keys::prefix.eq(&generated.prefix),
                keys::secret_hash.eq(generated.secret_digest.as_slice()),
                keys::scopes.eq(&scopes),
                keys::created_by.eq(caller.user_id()),
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

pub fn revoke_api_key(conn: &mut PgConnection, _can: &ManageApiClients, caller: &Caller, client_id: i64, key_id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let revoked = diesel::update(keys::table.find(key_id).filter(keys::client_id.eq(client_id)).filter(keys::revoked_at.is_null()))
            .set(keys::revoked_at.eq(Utc::now()))
            .execute(conn)?;
        if revoked == 0 {
            let exists: bool =
                diesel::select(diesel::dsl::exists(keys::table.find(key_id).filter(keys::client_id.eq(client_id)))).get_result(conn)?;
            return if exists { Ok(()) } else { Err(Error::not_found(format!("no key {key_id} of API client {client_id}"))) };
        }
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("api_key.revoke").entity("api_key", key_id).after(json!({"client_id": client_id})),
        )?;
        Ok(())
    })
}
