//! Retention: the audit log keeps every row for at least 180 days (网络安全法
//! §21); older rows may leave the database only through a signed archive.
//!
//! `duban audit archive --before DATE DIR` takes the oldest rows still in
//! the table, up to DATE (which must be at least 180 days ago), checks that
//! they chain, writes them to `DIR/audit-archive-<first>-<last>.jsonl` (one
//! row per line, then a trailer signed with the checkpoint key over the
//! file's hash and the segment's bounds), records the archive in the
//! database, and only then deletes the rows: the table's trigger lets a
//! row go only when it is old enough and an archive holds it.
//!
//! `duban audit verify --archives DIR` checks every archive file too: its
//! rows chain from the previous archive, its trailer is signed by the key,
//! and the database's record of it agrees.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use ed25519_dalek::Verifier;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::anchor::{SigningKey, key_id};
use super::chain::{GENESIS, Row};
use crate::db::schema::{audit_archives, audit_log};

/// The shortest time a row stays in the database.
pub const RETENTION_DAYS: i64 = 180;

/// One archived row, every column kept, hashes in hex.
#[derive(Debug, Serialize, Deserialize)]
struct ArchivedRow {
    id: i64,
    at: DateTime<Utc>,
    actor_kind: String,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    unit_id: Option<i64>,
    action: String,
    entity_type: Option<String>,
    entity_id: Option<String>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    request_id: Option<String>,
    client_address: Option<String>,
    prev_hash: String,
    hash: String,
}

impl ArchivedRow {
    fn of(row: &Row) -> ArchivedRow {
        ArchivedRow {
            id: row.id,
            at: row.at,
            actor_kind: row.actor_kind.clone(),
            actor_id: row.actor_id,
            actor_name: row.actor_name.clone(),
            unit_id: row.unit_id,
            action: row.action.clone(),
            entity_type: row.entity_type.clone(),
            entity_id: row.entity_id.clone(),
            before: row.before.clone(),
            after: row.after.clone(),
            request_id: row.request_id.clone(),
            client_address: row.client_address.clone(),
            prev_hash: hex::encode(&row.prev_hash),
            hash: hex::encode(&row.hash),
        }
    }

    fn row(&self) -> Option<Row> {
        Some(Row {
            id: self.id,
            at: self.at,
            actor_kind: self.actor_kind.clone(),
            actor_id: self.actor_id,
            actor_name: self.actor_name.clone(),
            unit_id: self.unit_id,
            action: self.action.clone(),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            before: self.before.clone(),
            after: self.after.clone(),
            request_id: self.request_id.clone(),
            client_address: self.client_address.clone(),
            prev_hash: hex::decode(&self.prev_hash).ok()?,
            hash: hex::decode(&self.hash).ok()?,
        })
    }
}

/// The last line of an archive file.
#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    first_id: i64,
    last_id: i64,
    row_count: i64,
    last_hash: String,
    /// SHA-256 of every line before the trailer.
    rows_sha256: String,
    key_id: String,
    signature: String,
}

impl Trailer {
    fn message(&self) -> String {
        format!("duban audit archive v1|{}|{}|{}|{}|{}", self.first_id, self.last_id, self.row_count, self.last_hash, self.rows_sha256)
    }
}

/// What an archive run did.
pub struct Archived {
    pub file: PathBuf,
    pub rows: i64,
}

/// Archives and prunes the oldest rows up to `before`.
pub fn archive(
    conn: &mut PgConnection,
    _can: &crate::authz::KeepAudit,
    key: &SigningKey,
    before: NaiveDate,
    dir: &Path,
) -> anyhow::Result<Option<Archived>> {
    let newest_allowed = crate::clock::today() - chrono::Duration::days(RETENTION_DAYS);
    if before > newest_allowed {
        bail!("rows younger than {RETENTION_DAYS} days are kept: --before can be {newest_allowed} at the latest");
    }
    let cutoff = before.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let (start_after, mut expected_prev) = match last_archive(conn)? {
        Some((last_id, hash)) => (last_id, hash),
        None => (0, GENESIS.to_vec()),
    };
    let function = super::ChainHash::of(conn)?;
    let rows: Vec<Row> = audit_log::table
        .filter(audit_log::id.gt(start_after))
        .filter(audit_log::at.lt(cutoff))
        .order(audit_log::id)
        .select(Row::as_select())
        .load(conn)?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return Ok(None) };
    let (first_id, last_id) = (first.id, last.id);
    // Only a whole, intact stretch is archived: rows are ordered by time
    // as by id, so none newer sits between them.
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.prev_hash != expected_prev || row.recomputed_hash(function).is_none_or(|hash| hash.as_slice() != row.hash.as_slice()) {
            bail!("row {} does not chain; run `duban audit verify` before archiving", row.id);
        }
        expected_prev = row.hash.clone();
        lines.push(serde_json::to_string(&ArchivedRow::of(row))?);
    }
    let body = lines.iter().map(|line| format!("{line}\n")).collect::<String>();
    let mut trailer = Trailer {
        first_id,
        last_id,
        row_count: rows.len() as i64,
        last_hash: hex::encode(&last.hash),
        rows_sha256: hex::encode(Sha256::digest(body.as_bytes())),
        key_id: key_id(&key.verifying_key()),
        signature: String::new(),
    };
    trailer.signature = hex::encode(key.sign(trailer.message().as_bytes()).to_bytes());
    std::fs::create_dir_all(dir)?;
    let file = dir.join(format!("audit-archive-{first_id:012}-{last_id:012}.jsonl"));
    let mut out = std::fs::File::create_new(&file).with_context(|| format!("creating {}", file.display()))?;
    out.write_all(body.as_bytes())?;
    writeln!(out, "{}", serde_json::to_string(&trailer)?)?;
    out.sync_all()?;
    let file_sha256 = Sha256::digest(std::fs::read(&file)?);
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        diesel::insert_into(audit_archives::table)
            .values((
                audit_archives::first_id.eq(first_id),
                audit_archives::last_id.eq(last_id),
                audit_archives::last_hash.eq(&last.hash),
                audit_archives::row_count.eq(rows.len() as i64),
                audit_archives::file_name.eq(file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()),
                audit_archives::file_sha256.eq(file_sha256.as_slice()),
            ))
            .execute(conn)?;
        diesel::sql_query("SET LOCAL duban.audit_prune = 'on'").execute(conn)?;
        let deleted = diesel::delete(audit_log::table.filter(audit_log::id.between(first_id, last_id))).execute(conn)?;
        if deleted != rows.len() {
            bail!("expected to prune {} rows, pruned {deleted}", rows.len());
        }
        super::record(
            conn,
            &super::Actor::command_line(),
            super::Event::new("audit.archive").after(
                serde_json::json!({"first_id": first_id, "last_id": last_id, "rows": rows.len(), "file": file.display().to_string()}),
            ),
        )?;
        Ok(())
    })?;
    Ok(Some(Archived { file, rows: rows.len() as i64 }))
}

fn last_archive(conn: &mut PgConnection) -> QueryResult<Option<(i64, Vec<u8>)>> {
    audit_archives::table
        .order(audit_archives::last_id.desc())
        .select((audit_archives::last_id, audit_archives::last_hash))
        .first(conn)
        .optional()
}

/// Checks every archive the database records against its file in `dir`:
/// the file is there with the recorded hash, its trailer is signed by
/// `key`, and its rows chain from the archive before. The first problem is
/// returned in words.
pub fn verify_archives(conn: &mut PgConnection, dir: &Path, key: &ed25519_dalek::VerifyingKey) -> anyhow::Result<Result<usize, String>> {
    let recorded: Vec<(i64, i64, Vec<u8>, String, Vec<u8>)> = audit_archives::table
        .order(audit_archives::first_id)
        .select((
            audit_archives::first_id,
            audit_archives::last_id,
            audit_archives::last_hash,
            audit_archives::file_name,
            audit_archives::file_sha256,
        ))
        .load(conn)?;
    let mut expected_prev = GENESIS.to_vec();
    let function = super::ChainHash::of(conn)?;
    for (first_id, last_id, last_hash, file_name, file_sha256) in &recorded {
        let path = dir.join(file_name);
        let Ok(bytes) = std::fs::read(&path) else { return Ok(Err(format!("archive {} is missing", path.display()))) };
        if Sha256::digest(&bytes).as_slice() != file_sha256.as_slice() {
            return Ok(Err(format!("archive {file_name} is not the file that was archived (its SHA-256 differs)")));
        }
        let text = String::from_utf8_lossy(&bytes);
        let mut lines: Vec<&str> = text.lines().collect();
        let Some(trailer_line) = lines.pop() else { return Ok(Err(format!("archive {file_name} is empty"))) };
        let Ok(trailer) = serde_json::from_str::<Trailer>(trailer_line) else {
            return Ok(Err(format!("archive {file_name} has no trailer")));
        };
        let signature = hex::decode(&trailer.signature).ok().and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok());
        if signature.is_none_or(|signature| key.verify(trailer.message().as_bytes(), &signature).is_err()) {
            return Ok(Err(format!("archive {file_name} is not signed by this key ({})", key_id(key))));
        }
        let body: String = lines.iter().map(|line| format!("{line}\n")).collect();
        if hex::encode(Sha256::digest(body.as_bytes())) != trailer.rows_sha256
            || trailer.first_id != *first_id
            || trailer.last_id != *last_id
            || trailer.last_hash != hex::encode(last_hash)
        {
            return Ok(Err(format!("archive {file_name} does not agree with its signed trailer or the database's record")));
        }
        for line in lines {
            let row = serde_json::from_str::<ArchivedRow>(line).ok().and_then(|archived| archived.row());
            let Some(row) = row else { return Ok(Err(format!("archive {file_name} holds a line that is not a row"))) };
            if row.prev_hash != expected_prev || row.recomputed_hash(function).is_none_or(|hash| hash.as_slice() != row.hash.as_slice()) {
                return Ok(Err(format!("archive {file_name}: row {} does not chain", row.id)));
            }
            expected_prev = row.hash;
        }
    }
    Ok(Ok(recorded.len()))
}
