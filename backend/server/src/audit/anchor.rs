//! Anchoring the audit chain outside the database, so that an insider with
//! database access cannot rewrite it undetected.
//!
//! The chain alone shows an edited or removed row, but whoever can write
//! the table can also recompute every hash after a change, or cut the tail
//! off. So the head of the chain (the last row's id and hash) is written
//! down every hour and at every `duban audit verify` as a *checkpoint*,
//! signed with an Ed25519 key that the database does not hold (a key file
//! or an environment variable), and appended to a file outside the
//! database. Verifying then checks, besides the chain, that every
//! checkpoint's signature is good and that the row it saw is still there
//! with the hash it saw: a recomputed or truncated tail fails that.
//!
//! The checkpoint file is one JSON object per line. Copying it elsewhere
//! (a log collector, a write-once medium) is the operator's to arrange;
//! docs/security.md says how.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};

use crate::db::schema::{audit_checkpoints, audit_log};

/// Where the signing key and the checkpoints live.
#[derive(Clone, PartialEq, Eq)]
pub struct AnchorSettings {
    /// The key's 32-byte seed in hex (DUBAN_AUDIT_SIGNING_KEY), which
    /// overrides the key file.
    pub signing_key: Option<String>,
    /// The key file: the seed in hex, created (mode 0600) when missing.
    pub signing_key_file: PathBuf,
    pub checkpoint_file: PathBuf,
    pub interval: std::time::Duration,
}

/// The key itself is never printed.
impl std::fmt::Debug for AnchorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnchorSettings")
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<hidden>"))
            .field("signing_key_file", &self.signing_key_file)
            .field("checkpoint_file", &self.checkpoint_file)
            .field("interval", &self.interval)
            .finish()
    }
}

/// The checkpoint signing key.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// The configured key, or a new one written to the key file.
    pub fn load_or_create(settings: &AnchorSettings) -> anyhow::Result<SigningKey> {
        if let Some(hex_seed) = &settings.signing_key {
            return Self::from_hex(hex_seed).map_err(|why| anyhow::anyhow!("DUBAN_AUDIT_SIGNING_KEY: {why}"));
        }
        let path = &settings.signing_key_file;
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(text.trim()).map_err(|why| anyhow::anyhow!("{}: {why}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let seed: [u8; 32] = crate::auth::secrets::random_bytes();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_private(path, &hex::encode(seed))?;
                tracing::info!(path = %path.display(), "created the audit checkpoint signing key; keep a copy apart from the database backups");
                Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
            }
            Err(error) => Err(anyhow::anyhow!("{}: {error}", path.display())),
        }
    }

    fn from_hex(text: &str) -> Result<SigningKey, String> {
        let bytes = hex::decode(text).map_err(|_| "not hexadecimal".to_owned())?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| "an Ed25519 key is 32 bytes (64 hex digits)".to_owned())?;
        Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.0.verifying_key()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> ed25519_dalek::Signature {
        self.0.sign(message)
    }
}

/// A short name of a public key: the first 8 bytes, in hex.
pub fn key_id(key: &ed25519_dalek::VerifyingKey) -> String {
    hex::encode(&key.as_bytes()[..8])
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// One signed record of the chain's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub at: DateTime<Utc>,
    /// The last row's id and hash (hex), and how many rows the log held.
    pub last_id: i64,
    pub head: String,
    pub row_count: i64,
    pub key_id: String,
    /// Ed25519 over [`Checkpoint::message`], in hex.
    pub signature: String,
}

impl Checkpoint {
    fn message(at: &DateTime<Utc>, last_id: i64, head: &str, row_count: i64) -> String {
        format!("duban audit checkpoint v1|{}|{last_id}|{head}|{row_count}", at.to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    fn signed_by(&self, key: &ed25519_dalek::VerifyingKey) -> bool {
        let Ok(bytes) = hex::decode(&self.signature) else { return false };
        let Ok(signature) = ed25519_dalek::Signature::from_slice(&bytes) else { return false };
        key.verify(Self::message(&self.at, self.last_id, &self.head, self.row_count).as_bytes(), &signature).is_ok()
    }
}

/// Signs the chain's current head and appends it to the checkpoint file
/// (and to the table, for listing; the file is what counts). Nothing is
/// written while the log is empty.
pub fn write_checkpoint(
    conn: &mut PgConnection,
    _can: &crate::authz::KeepAudit,
    key: &SigningKey,
    file: &Path,
) -> anyhow::Result<Option<Checkpoint>> {
    let head: Option<(i64, Vec<u8>)> =
        audit_log::table.order(audit_log::id.desc()).select((audit_log::id, audit_log::hash)).first(conn).optional()?;
    let Some((last_id, hash)) = head else { return Ok(None) };
    let row_count: i64 = audit_log::table.filter(audit_log::id.le(last_id)).count().get_result(conn)?;
    let at = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let head = hex::encode(&hash);
    let signature = key.0.sign(Checkpoint::message(&at, last_id, &head, row_count).as_bytes());
    let checkpoint =
        Checkpoint { at, last_id, head, row_count, key_id: key_id(&key.verifying_key()), signature: hex::encode(signature.to_bytes()) };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(file)?;
    writeln!(out, "{}", serde_json::to_string(&checkpoint)?)?;
    out.sync_all()?;
    diesel::insert_into(audit_checkpoints::table)
        .values((
            audit_checkpoints::at.eq(checkpoint.at),
            audit_checkpoints::last_id.eq(last_id),
            audit_checkpoints::head_hash.eq(&hash),
            audit_checkpoints::row_count.eq(row_count),
            audit_checkpoints::key_id.eq(&checkpoint.key_id),
            audit_checkpoints::signature.eq(signature.to_bytes().as_slice()),
        ))
        .execute(conn)?;
    Ok(Some(checkpoint))
}

/// The checkpoints of a file, oldest first; a line that is not one is named.
pub fn read_checkpoints(file: &Path) -> Result<Vec<Checkpoint>, String> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(format!("{}: {error}", file.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|error| format!("{} line {}: not a checkpoint ({error})", file.display(), index + 1))
        })
        .collect()
}

/// Checks the (already verified) chain against every checkpoint: each must
/// be signed by `key`, and the row it saw must still be there with the
/// hash it saw. The first failure is returned in words.
pub fn check(conn: &mut PgConnection, checkpoints: &[Checkpoint], key: &ed25519_dalek::VerifyingKey) -> QueryResult<Result<(), String>> {
    let last_row: Option<i64> = audit_log::table.select(diesel::dsl::max(audit_log::id)).first(conn)?;
    let archived_up_to: Option<i64> =
        crate::db::schema::audit_archives::table.select(diesel::dsl::max(crate::db::schema::audit_archives::last_id)).first(conn)?;
    for checkpoint in checkpoints {
        let when = checkpoint.at.to_rfc3339_opts(SecondsFormat::Secs, true);
        if !checkpoint.signed_by(key) {
            return Ok(Err(format!(
                "the checkpoint of {when} is not signed by this key ({}): the checkpoint file was altered, or another key signed it",
                key_id(key)
            )));
        }
        let hash: Option<Vec<u8>> = audit_log::table.find(checkpoint.last_id).select(audit_log::hash).first(conn).optional()?;
        match hash {
            // Archived and pruned: the archive files answer for it.
            None if archived_up_to.is_some_and(|archived| checkpoint.last_id <= archived) => {}
            None if last_row.is_none_or(|last| last < checkpoint.last_id) => {
                return Ok(Err(format!(
                    "the log was truncated: the checkpoint of {when} saw row {}, but the log now ends at {}",
                    checkpoint.last_id,
                    last_row.map_or("no row".to_owned(), |last| format!("row {last}"))
                )));
            }
            None => {
                return Ok(Err(format!("row {} that the checkpoint of {when} saw was deleted", checkpoint.last_id)));
            }
            Some(hash) if hex::encode(&hash) != checkpoint.head => {
                return Ok(Err(format!(
                    "the chain was rewritten: row {} no longer has the hash the checkpoint of {when} recorded (the rows up to it were changed and their hashes recomputed)",
                    checkpoint.last_id
                )));
            }
            Some(_) => {}
        }
    }
    Ok(Ok(()))
}

/// Writes a checkpoint every `interval`, for as long as the process runs.
pub fn start(pool: crate::db::PgPool, can: crate::authz::KeepAudit, settings: AnchorSettings) -> anyhow::Result<()> {
    let key = SigningKey::load_or_create(&settings)?;
    std::thread::Builder::new().name("audit-checkpoints".to_owned()).spawn(move || {
        loop {
            std::thread::sleep(settings.interval);
            let written = pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| write_checkpoint(&mut conn, &can, &key, &settings.checkpoint_file));
            match written {
                Ok(Some(checkpoint)) => tracing::info!(last_id = checkpoint.last_id, head = %checkpoint.head, "audit checkpoint written"),
                Ok(None) => {}
                Err(error) => tracing::error!(%error, "writing the audit checkpoint"),
            }
        }
    })?;
    Ok(())
}

/// Recomputes the hashes of every row from `first_id` on, as an insider
/// who knows the hashing would after changing a row: the chain verifies
/// again, and only a checkpoint shows it. For the tests that show that.
#[cfg(feature = "test-support")]
pub fn recompute_tail_for_tests(conn: &mut PgConnection, first_id: i64) -> QueryResult<()> {
    use super::chain::Row;
    conn.transaction(|conn| {
        diesel::sql_query("SET LOCAL session_replication_role = replica").execute(conn)?;
        let function = super::ChainHash::of(conn)?;
        let mut prev: Vec<u8> = audit_log::table
            .filter(audit_log::id.lt(first_id))
            .order(audit_log::id.desc())
            .select(audit_log::hash)
            .first(conn)
            .optional()?
            .unwrap_or_else(|| super::GENESIS.to_vec());
        let rows: Vec<Row> =
            audit_log::table.filter(audit_log::id.ge(first_id)).order(audit_log::id).select(Row::as_select()).load(conn)?;
        for mut row in rows {
            row.prev_hash = prev.clone();
            let hash = row.recomputed_hash(function).expect("a known actor kind").to_vec();
            diesel::update(audit_log::table.find(row.id)).set((audit_log::prev_hash.eq(&prev), audit_log::hash.eq(&hash))).execute(conn)?;
            prev = hash;
        }
        Ok(())
    })
}
