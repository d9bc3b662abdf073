//! The audit log's hash chain: appending a row and verifying the chain.
//!
//! Rules:
//! - A change and its audit row are written in the same transaction, so
//!   there is never one without the other.
//! - Rows are append-only: database triggers refuse UPDATE, DELETE and
//!   TRUNCATE, for every role.
//! - Rows form a hash chain. Each row's hash is SHA-256 over the previous
//!   row's hash and the row's canonical content (JSON with sorted keys, the
//!   time in microseconds). Appends take a transaction-scoped advisory lock,
//!   so id order is chain order. [`verify`] walks the chain and names the
//!   first row that was altered, removed or inserted out of order.
//! - Secrets never enter a row: snapshots are built field by field by the
//!   code that records them (no password hashes, tokens or keys).

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::schema::audit_log;

/// Serialises appends so that id order and chain order agree.
pub(crate) const CHAIN_LOCK: i64 = 0x6175_6469_7400; // "audit\0"
/// The `prev_hash` of the first row.
pub const GENESIS: [u8; 32] = [0; 32];

/// The hash function of the chain, chosen once at installation (the
/// `audit_hash` setting, kept in `server_settings`): SHA-256, or SM3 (GB/T
/// 32905-2016) for sites that must use 国密 algorithms. It cannot change
/// later, since every row's hash depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChainHash {
    #[default]
    Sha256,
    Sm3,
}

const CHAIN_HASH_KEY: &str = "audit_hash";

impl ChainHash {
    pub fn parse(text: &str) -> Option<ChainHash> {
        match text {
            "sha256" => Some(ChainHash::Sha256),
            "sm3" => Some(ChainHash::Sm3),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChainHash::Sha256 => "sha256",
            ChainHash::Sm3 => "sm3",
        }
    }

    /// The chain's hash function in this database.
    pub fn of(conn: &mut PgConnection) -> QueryResult<ChainHash> {
        use crate::db::schema::server_settings;
        let stored: Option<String> = server_settings::table.find(CHAIN_HASH_KEY).select(server_settings::value).first(conn).optional()?;
        Ok(stored.as_deref().and_then(ChainHash::parse).unwrap_or_default())
    }

    /// Records the configured function at installation: while the log is
    /// empty. A log begun under SHA-256 (every installation before the
    /// setting existed) stays SHA-256. Returns the function in force.
    pub fn install(conn: &mut PgConnection, configured: ChainHash) -> QueryResult<ChainHash> {
        use crate::db::schema::server_settings;
        conn.transaction(|conn| {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(CHAIN_LOCK).execute(conn)?;
            let stored: Option<String> =
                server_settings::table.find(CHAIN_HASH_KEY).select(server_settings::value).first(conn).optional()?;
            if let Some(stored) = stored.as_deref().and_then(ChainHash::parse) {
                return Ok(stored);
            }
            let empty = audit_log::table.select(audit_log::id).first::<i64>(conn).optional()?.is_none();
            let chosen = if empty { configured } else { ChainHash::Sha256 };
            diesel::insert_into(server_settings::table)
                .values((server_settings::key.eq(CHAIN_HASH_KEY), server_settings::value.eq(chosen.as_str())))
                .on_conflict_do_nothing()
                .execute(conn)?;
            Ok(chosen)
        })
    }

    pub fn digest(self, parts: &[&[u8]]) -> [u8; 32] {
        match self {
            ChainHash::Sha256 => {
                let mut hasher = Sha256::new();
                parts.iter().for_each(|part| hasher.update(part));
                hasher.finalize().into()
            }
            ChainHash::Sm3 => {
                let mut hasher = sm3::Sm3::new();
                parts.iter().for_each(|part| hasher.update(part));
                hasher.finalize().into()
            }
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    User,
    ApiClient,
    /// duban itself or its command line on the server.
    System,
    /// Someone not signed in (a failed login).
    Anonymous,
}

impl ActorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiClient => "api_client",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }
}

/// The actor and the request context of an audit row.
#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<i64>,
    pub name: Option<String>,
    pub unit_id: Option<i64>,
    pub request_id: Option<String>,
    pub client_address: Option<String>,
}

impl Actor {
    /// duban's command line, run by an operator on the server.
    pub fn command_line() -> Actor {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
        Actor {
            kind: ActorKind::System,
            id: None,
            name: Some(format!("cli:{user}")),
            unit_id: None,
            request_id: None,
            client_address: None,
        }
    }

    /// duban itself (first-start seeding).
    pub fn system(name: &str) -> Actor {
        Actor { kind: ActorKind::System, id: None, name: Some(name.to_owned()), unit_id: None, request_id: None, client_address: None }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct Event {
    /// `<entity>.<verb>`: `user.create`, `auth.login_failed`, `import.campaign` …
    pub action: &'static str,
    pub entity_type: Option<&'static str>,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Event {
    pub fn new(action: &'static str) -> Event {
        Event { action, entity_type: None, entity_id: None, before: None, after: None }
    }

    pub fn entity(mut self, entity_type: &'static str, id: impl ToString) -> Event {
        self.entity_type = Some(entity_type);
        self.entity_id = Some(id.to_string());
        self
    }

    pub fn before(mut self, before: Value) -> Event {
        self.before = Some(before);
        self
    }

    pub fn after(mut self, after: Value) -> Event {
        self.after = Some(after);
        self
    }

    /// Records only the fields that changed between two snapshots.
    pub fn changed(mut self, before: &Value, after: &Value) -> Event {
        let (old, new) = changed_fields(before, after);
        self.before = Some(old);
        self.after = Some(new);
        self
    }
}

/// The top-level fields of two JSON objects that differ, as two objects.
pub fn changed_fields(before: &Value, after: &Value) -> (Value, Value) {
    let (Some(old), Some(new)) = (before.as_object(), after.as_object()) else {
        return (before.clone(), after.clone());
    };
    let mut old_changed = serde_json::Map::new();
    let mut new_changed = serde_json::Map::new();
    for key in old.keys().chain(new.keys()) {
        let (a, b) = (old.get(key).unwrap_or(&Value::Null), new.get(key).unwrap_or(&Value::Null));
        if a != b {
            old_changed.insert(key.clone(), a.clone());
            new_changed.insert(key.clone(), b.clone());
        }
    }
    (Value::Object(old_changed), Value::Object(new_changed))
}

/// A row as hashed: everything but the hashes themselves.
pub(crate) struct Content<'a> {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
}

/// The columns of a row in the order [`Content::write_csv`] writes them,
/// for appending many rows at once with `COPY` (`duban gen-data`).
pub(crate) const COPY_COLUMNS: (
    audit_log::id,
    audit_log::at,
    audit_log::actor_kind,
    audit_log::actor_id,
    audit_log::actor_name,
    audit_log::unit_id,
    audit_log::action,
    audit_log::entity_type,
    audit_log::entity_id,
    audit_log::before,
    audit_log::after,
    audit_log::request_id,
    audit_log::client_address,
    audit_log::prev_hash,
    audit_log::hash,
) = (
    audit_log::id,
    audit_log::at,
    audit_log::actor_kind,
    audit_log::actor_id,
    audit_log::actor_name,
    audit_log::unit_id,
    audit_log::action,
    audit_log::entity_type,
    audit_log::entity_id,
    audit_log::before,
    audit_log::after,
    audit_log::request_id,
    audit_log::client_address,
    audit_log::prev_hash,
    audit_log::hash,
);

impl Content<'_> {
    /// The row as one line of `COPY … (FORMAT csv)` in [`COPY_COLUMNS`]
    /// order: an empty unquoted field is NULL, text is quoted.
    pub(crate) fn write_csv(&self, prev_hash: &[u8], hash: &[u8], out: &mut Vec<u8>) {
        fn text(out: &mut Vec<u8>, value: Option<&str>) {
            if let Some(value) = value {
                out.push(b'"');
                out.extend_from_slice(value.replace('"', "\"\"").as_bytes());
                out.push(b'"');
            }
        }
        fn number(out: &mut Vec<u8>, value: Option<i64>) {
            if let Some(value) = value {
                out.extend_from_slice(value.to_string().as_bytes());
            }
        }
        let json = |value: Option<&Value>| value.map(|value| value.to_string());
        number(out, Some(self.id));
        out.push(b',');
        out.extend_from_slice(self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true).as_bytes());
        out.push(b',');
        text(out, Some(self.actor.kind.as_str()));
        out.push(b',');
        number(out, self.actor.id);
        out.push(b',');
        text(out, self.actor.name.as_deref());
        out.push(b',');
        number(out, self.actor.unit_id);
        out.push(b',');
        text(out, Some(self.action));
        out.push(b',');
        text(out, self.entity_type);
        out.push(b',');
        text(out, self.entity_id);
        out.push(b',');
        text(out, json(self.before).as_deref());
        out.push(b',');
        text(out, json(self.after).as_deref());
        out.push(b',');
        text(out, self.actor.request_id.as_deref());
        out.push(b',');
        text(out, self.actor.client_address.as_deref());
        out.push(b',');
        out.extend_from_slice(format!("\\x{}", hex::encode(prev_hash)).as_bytes());
        out.push(b',');
        out.extend_from_slice(format!("\\x{}", hex::encode(hash)).as_bytes());
        out.push(b'\n');
    }

    /// Canonical bytes: object keys sorted at every depth, and jsonb gives
    /// back the same values, so a row read back hashes the same.
    fn canonical(&self) -> Vec<u8> {
        let content = json!({
            "id": self.id,
            "at": self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "actor_kind": self.actor.kind.as_str(),
            "actor_id": self.actor.id,
            "actor_name": self.actor.name,
            "unit_id": self.actor.unit_id,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "before": self.before,
            "after": self.after,
            "request_id": self.actor.request_id,
            "client_address": self.actor.client_address,
        });
        let mut bytes = Vec::new();
        write_canonical(&content, &mut bytes);
        bytes
    }

    pub(crate) fn hash(&self, function: ChainHash, prev_hash: &[u8]) -> [u8; 32] {
        function.digest(&[prev_hash, &self.canonical()])
    }
}

/// Writes JSON with every object's keys in sorted order, at every depth.
/// The order is written out here rather than left to `serde_json::Map`,
/// whose order a dependency can change (its `preserve_order` feature):
/// the chain's hashes must not depend on how duban was built.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).expect("a string serialises");
                out.push(b':');
                write_canonical(&map[key], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).expect("a JSON scalar serialises"),
    }
}

/// Appends one row. Call it inside the transaction of the change it records.
pub fn record(conn: &mut PgConnection, actor: &Actor, event: Event) -> QueryResult<i64> {
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(CHAIN_LOCK).execute(conn)?;
        let prev_hash: Vec<u8> = audit_log::table
            .order(audit_log::id.desc())
            .select(audit_log::hash)
            .first(conn)
            .optional()?
            .unwrap_or_else(|| GENESIS.to_vec());
        let id: i64 = diesel::select(diesel::dsl::sql::<BigInt>("nextval(pg_get_serial_sequence('audit_log', 'id'))")).get_result(conn)?;
        let at = Utc::now().trunc_subsecs(6);
        let content = Content {
            id,
            at,
            actor,
            action: event.action,
            entity_type: event.entity_type,
            entity_id: event.entity_id.as_deref(),
            before: event.before.as_ref(),
            after: event.after.as_ref(),
        };
        let hash = content.hash(ChainHash::of(conn)?, &prev_hash);
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::id.eq(id),
                audit_log::at.eq(at),
                audit_log::actor_kind.eq(actor.kind.as_str()),
                audit_log::actor_id.eq(actor.id),
                audit_log::actor_name.eq(&actor.name),
                audit_log::unit_id.eq(actor.unit_id),
                audit_log::action.eq(event.action),
                audit_log::entity_type.eq(event.entity_type),
                audit_log::entity_id.eq(&event.entity_id),
                audit_log::before.eq(&event.before),
                audit_log::after.eq(&event.after),
                audit_log::request_id.eq(&actor.request_id),
                audit_log::client_address.eq(&actor.client_address),
                audit_log::prev_hash.eq(&prev_hash),
                audit_log::hash.eq(hash.as_slice()),
            ))
            .execute(conn)?;
        Ok(id)
    })
}

/// A stored row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct Row {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub unit_id: Option<i64>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<String>,
    pub client_address: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl Row {
    pub(crate) fn recomputed_hash(&self, function: ChainHash) -> Option<[u8; 32]> {
        let kind = match self.actor_kind.as_str() {
            "user" => ActorKind::User,
            "api_client" => ActorKind::ApiClient,
            "system" => ActorKind::System,
            "anonymous" => ActorKind::Anonymous,
            _ => return None,
        };
        let actor = Actor {
            kind,
            id: self.actor_id,
            name: self.actor_name.clone(),
            unit_id: self.unit_id,
            request_id: self.request_id.clone(),
            client_address: self.client_address.clone(),
        };
        let content = Content {
            id: self.id,
            at: self.at,
            actor: &actor,
            action: &self.action,
            entity_type: self.entity_type.as_deref(),
            entity_id: self.entity_id.as_deref(),
            before: self.before.as_ref(),
            after: self.after.as_ref(),
        };
        Some(content.hash(function, &self.prev_hash))
    }

    pub fn entry(self) -> duban_dto::api::AuditEntry {
        duban_dto::api::AuditEntry {
            id: self.id,
            at: self.at,
            actor_kind: self.actor_kind,
            actor_id: self.actor_id,
            actor_name: self.actor_name,
            unit_id: self.unit_id,
            action: self.action,
            entity_type: self.entity_type,
            entity_id: self.entity_id,
            before: self.before,
            after: self.after,
            request_id: self.request_id,
            client_address: self.client_address,
            hash: hex::encode(&self.hash),
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every row is intact and in order; `head` is the last row's hash,
    /// worth writing down outside duban to anchor the chain.
    Intact { rows: i64, head: String },
    /// The first row that breaks the chain, and how.
    Broken { id: i64, problem: String },
}

/// Walks the whole chain, oldest row first. Rows archived and pruned (see
/// [`super::archive`]) are checked in their archive files; the chain in the
/// table then starts where the last archive ends.
pub fn verify(conn: &mut PgConnection) -> QueryResult<Verdict> {
    const BATCH: i64 = 2000;
    let archived: Option<(i64, Vec<u8>)> = crate::db::schema::audit_archives::table
        .order(crate::db::schema::audit_archives::last_id.desc())
        .select((crate::db::schema::audit_archives::last_id, crate::db::schema::audit_archives::last_hash))
        .first(conn)
        .optional()?;
    let mut expected_prev = archived.as_ref().map_or(GENESIS.to_vec(), |(_, hash)| hash.clone());
    let mut previous_id: Option<i64> = archived.map(|(last_id, _)| last_id);
    let mut rows = 0;
    let function = ChainHash::of(conn)?;
    loop {
        let batch: Vec<Row> = audit_log::table
            .filter(audit_log::id.gt(previous_id.unwrap_or(0)))
            .order(audit_log::id)
            .limit(BATCH)
            .select(Row::as_select())
            .load(conn)?;
        if batch.is_empty() {
            return Ok(Verdict::Intact { rows, head: hex::encode(&expected_prev) });
        }
        for row in batch {
            if row.prev_hash != expected_prev {
                let after = previous_id.map_or("the start of the log".to_owned(), |id| format!("row {id}"));
                return Ok(Verdict::Broken {
                    id: row.id,
                    problem: format!(
                        "row {} does not follow {after}: a row before it was removed, or it was inserted out of order",
                        row.id
                    ),
                });
            }
            if row.recomputed_hash(function).is_none_or(|hash| hash.as_slice() != row.hash.as_slice()) {
                return Ok(Verdict::Broken {
                    id: row.id,
                    problem: format!("row {} was altered: its content no longer matches its hash", row.id),
                });
            }
            expected_prev = row.hash.clone();
            previous_id = Some(row.id);
            rows += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_matches_the_standards_examples() {
        // GB/T 32905-2016, appendix A: "abc" and "abcd" sixteen times.
        assert_eq!(hex::encode(ChainHash::Sm3.digest(&[b"abc"])), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        let sixty_four = b"abcd".repeat(16);
        assert_eq!(hex::encode(ChainHash::Sm3.digest(&[&sixty_four])), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
        // Parts are hashed as one message.
        assert_eq!(ChainHash::Sm3.digest(&[b"ab", b"c"]), ChainHash::Sm3.digest(&[b"abc"]));
        assert_eq!(hex::encode(ChainHash::Sha256.digest(&[b"abc"])), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn records_only_changed_fields() {
        let (before, after) = changed_fields(&json!({"a": 1, "b": "x", "c": null}), &json!({"a": 1, "b": "y", "d": true}));
        assert_eq!(before, json!({"b": "x", "d": null}));
        assert_eq!(after, json!({"b": "y", "d": true}));
    }

    #[test]
    fn canonical_content_sorts_keys_and_keeps_microseconds() {
        let actor = Actor::system("test");
        let at = "2026-11-28T21:00:00.123456Z".parse().unwrap();
        let after = json!({"z": 1, "a": 2});
        let content =
            Content { id: 1, at, actor: &actor, action: "x.y", entity_type: None, entity_id: None, before: None, after: Some(&after) };
        let text = String::from_utf8(content.canonical()).unwrap();
        assert!(text.contains(r#""after":{"a":2,"z":1}"#), "{text}");
        assert!(text.contains("2026-11-28T21:00:00.123456Z"), "{text}");
        assert!(text.find("\"action\"").unwrap() < text.find("\"actor_kind\"").unwrap());
    }
}
