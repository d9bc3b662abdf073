//! Backup and restore (等保 8.1.4.11): the database, the evidence and the
//! audit checkpoints, with a manifest that proves a backup whole before
//! anything is restored from it.
//!
//! `duban backup DIR` writes a snapshot directory `DIR/<UTC time>/` with
//! - `database.dump`: `pg_dump` in its custom format;
//! - `audit-checkpoints.jsonl`: the signed checkpoints, a new one written
//!   first so the snapshot's own head is among them;
//! - `manifest.json`: the SHA-256 and size of every file of the snapshot;
//!
//! and puts the evidence objects into `DIR/evidence/<sha256>`, shared by
//! all snapshots of DIR: an object is content-addressed, so one already
//! there is not copied again (a nightly run copies only the day's new
//! files).
//!
//! `duban restore SNAPSHOT` checks every file against the manifest and
//! refuses on the first difference, refuses a database that is not empty,
//! then restores the database, the evidence and the checkpoints. The
//! checkpoint signing key is not in the backup, on purpose: it is kept
//! apart, so that whoever holds the backups cannot forge checkpoints.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use diesel::prelude::*;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::Database;
use crate::storage::Storage;

const FORMAT: &str = "duban-backup-1";
const DATABASE_FILE: &str = "database.dump";
const CHECKPOINT_FILE: &str = "audit-checkpoints.jsonl";
const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub duban_version: String,
    /// Paths relative to the snapshot directory (evidence: `../evidence/…`).
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub size: u64,
}

/// What a backup wrote.
pub struct BackupSummary {
    pub snapshot: PathBuf,
    pub evidence_objects: usize,
    pub evidence_copied: usize,
}

pub fn backup(settings: &Settings, can: &crate::authz::KeepAudit, dir: &Path) -> anyhow::Result<BackupSummary> {
    let db = Database::open(settings)?;
    let storage = Storage::open(&settings.storage)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let snapshot = new_snapshot_dir(dir)?;
    let evidence_dir = dir.join("evidence");
    std::fs::create_dir_all(&evidence_dir)?;

    // The head as of now is signed and written down first, so the snapshot
    // carries a checkpoint of itself.
    let anchoring = &settings.audit_anchor;
    let key = crate::audit::anchor::SigningKey::load_or_create(anchoring)?;
    crate::audit::anchor::write_checkpoint(&mut *db.pool.get()?, can, &key, &anchoring.checkpoint_file)?;

    run(
        std::process::Command::new(pg_tool("pg_dump")?)
            .args(["--format=custom", "--no-owner", "--file"])
            .arg(snapshot.join(DATABASE_FILE))
            .arg(&db.url),
        "pg_dump",
    )?;
    std::fs::copy(&anchoring.checkpoint_file, snapshot.join(CHECKPOINT_FILE))
        .with_context(|| format!("copying {}", anchoring.checkpoint_file.display()))?;

    let mut files = BTreeMap::new();
    for name in [DATABASE_FILE, CHECKPOINT_FILE] {
        files.insert(name.to_owned(), entry_of(&snapshot.join(name))?);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let objects = runtime.block_on(list_objects(&storage))?;
    let mut copied = 0;
    for object in &objects {
        let target = evidence_dir.join(object);
        let size = match std::fs::metadata(&target) {
            Ok(metadata) => metadata.len(),
            Err(_) => {
                let size = runtime.block_on(copy_object(&storage, object, &target))?;
                copied += 1;
                size
            }
        };
        files.insert(format!("../evidence/{object}"), FileEntry { sha256: object.clone(), size });
    }
    let manifest =
        Manifest { format: FORMAT.to_owned(), created_at: chrono::Utc::now(), duban_version: env!("CARGO_PKG_VERSION").to_owned(), files };
    let mut out = std::fs::File::create(snapshot.join(MANIFEST_FILE))?;
    out.write_all(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    out.sync_all()?;
    Ok(BackupSummary { snapshot, evidence_objects: objects.len(), evidence_copied: copied })
}

/// A new directory named by the time; a second backup within the same
/// second gets a suffix rather than overwriting the first.
fn new_snapshot_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    for attempt in 1.. {
        let name = if attempt == 1 { stamp.clone() } else { format!("{stamp}-{attempt}") };
        let candidate = dir.join(name);
        match std::fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error).with_context(|| format!("creating {}", candidate.display())),
        }
    }
    unreachable!("some suffix is free")
}

/// What a restore put back.
pub struct RestoreSummary {
    pub files_checked: usize,
    pub evidence_objects: usize,
}

pub fn restore(settings: &Settings, snapshot: &Path) -> anyhow::Result<RestoreSummary> {
    let manifest = check_manifest(snapshot)?;
    let db = Database::open_unmigrated(settings)?;
    let mut conn = PgConnection::establish(&db.url)?;
    #[derive(QueryableByName)]
    struct Tables {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let tables =
        diesel::sql_query("SELECT count(*) AS count FROM pg_tables WHERE schemaname = 'public'").get_result::<Tables>(&mut conn)?;
    if tables.count > 0 {
        bail!("the database is not empty ({} tables): restore goes into an empty database only", tables.count);
    }
    run(
        std::process::Command::new(pg_tool("pg_restore")?)
            .args(["--no-owner", "--exit-on-error", "--single-transaction", "--dbname"])
            .arg(&db.url)
            .arg(snapshot.join(DATABASE_FILE)),
        "pg_restore",
    )?;
    // A backup of an older release is brought up to this one.
    crate::db::migrate(&mut conn)?;

    let storage = Storage::open(&settings.storage)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut objects = 0;
    for (path, entry) in &manifest.files {
        if !path.starts_with("../evidence/") {
            continue;
        }
        let staged = storage.staging_dir().join(format!("restore-{}", entry.sha256));
        std::fs::create_dir_all(storage.staging_dir())?;
        std::fs::copy(snapshot.join(path), &staged)?;
        runtime.block_on(storage.store(&entry.sha256, &staged, false))?;
        objects += 1;
    }
    let checkpoints = &settings.audit_anchor.checkpoint_file;
    if checkpoints.exists() {
        tracing::warn!(path = %checkpoints.display(), "a checkpoint file exists here already; the snapshot's is left in the snapshot");
    } else {
        if let Some(parent) = checkpoints.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(snapshot.join(CHECKPOINT_FILE), checkpoints)?;
    }
    Ok(RestoreSummary { files_checked: manifest.files.len(), evidence_objects: objects })
}

/// The manifest, once every file it names is there with its size and hash.
fn check_manifest(snapshot: &Path) -> anyhow::Result<Manifest> {
    let path = snapshot.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("{} (is this a snapshot directory?)", path.display()))?;
    let manifest: Manifest = serde_json::from_str(&text).with_context(|| format!("{} is not a manifest", path.display()))?;
    if manifest.format != FORMAT {
        bail!("{}: format {:?}, expected {FORMAT:?}", path.display(), manifest.format);
    }
    for required in [DATABASE_FILE, CHECKPOINT_FILE] {
        if !manifest.files.contains_key(required) {
            bail!("the manifest does not list {required}");
        }
    }
    for (name, expected) in &manifest.files {
        if name.contains("..") && !name.starts_with("../evidence/") || name.matches("..").count() > 1 {
            bail!("the manifest names {name:?}, outside the backup");
        }
        let found = entry_of(&snapshot.join(name)).with_context(|| format!("{name} is missing"))?;
        if &found != expected {
            bail!(
                "{name} does not match the manifest (SHA-256 {}, {} bytes; the manifest says {}, {} bytes)",
                found.sha256,
                found.size,
                expected.sha256,
                expected.size
            );
        }
    }
    Ok(manifest)
}

fn entry_of(path: &Path) -> anyhow::Result<FileEntry> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok(FileEntry { sha256: hex::encode(hasher.finalize()), size })
}

async fn list_objects(storage: &Storage) -> anyhow::Result<Vec<String>> {
    match storage.list().await {
        Ok(objects) => Ok(objects),
        // A store nobody has uploaded to yet has no objects directory.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(error.into()),
    }
}

/// Copies one object out of the store, checking it against its name.
async fn copy_object(storage: &Storage, object: &str, target: &Path) -> anyhow::Result<u64> {
    let partial = target.with_extension("partial");
    let mut out = std::fs::File::create(&partial)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut stream = storage.read(object, None).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        out.write_all(&chunk)?;
        size += chunk.len() as u64;
    }
    out.sync_all()?;
    if hex::encode(hasher.finalize()) != object {
        std::fs::remove_file(&partial)?;
        bail!("evidence object {object} does not match its hash; run `duban evidence verify` and repair it before backing up");
    }
    std::fs::rename(&partial, target)?;
    Ok(size)
}

/// PostgreSQL's own tools, from the installation duban runs its clusters with.
fn pg_tool(name: &str) -> anyhow::Result<PathBuf> {
    let dir = duban_pgcluster::find_bin_dir().map_err(|error| anyhow::anyhow!("{name}: {error}"))?;
    Ok(dir.join(name))
}

fn run(command: &mut std::process::Command, what: &str) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}
