//! `duban backup` and `duban restore`: the demo data with evidence and an
//! audit trail, backed up, restored on a fresh PostgreSQL cluster, and
//! found whole there; a damaged backup and a non-empty database refused.

use std::path::Path;
use std::process::{Command, Output};

use diesel::prelude::*;
use duban_tests::{ServerOptions, TestDb, TestServer};

use crate::evidence::{lead_assignment, pdf, upload};
use crate::support::DUBAN;

/// `duban` with its database, data directory and evidence store.
fn duban(args: &[&str], database_url: &str, data: &Path, evidence: &Path, key_file: &Path) -> Output {
    Command::new(DUBAN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("DUBAN_DATA_DIR", data)
        .env("DUBAN_EVIDENCE_DIR", evidence)
        .env("DUBAN_AUDIT_SIGNING_KEY_FILE", key_file)
        .env_remove("DUBAN_AUDIT_SIGNING_KEY")
        .env("DUBAN_LOG", "warn")
        .output()
        .unwrap()
}

fn said(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Rows per table of the public schema.
fn row_counts(url: &str) -> Vec<(String, i64)> {
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let mut conn = PgConnection::establish(url).unwrap();
    let tables: Vec<Table> = diesel::sql_query("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        .load(&mut conn)
        .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let count =
                diesel::sql_query(format!("SELECT count(*) AS count FROM \"{}\"", table.name)).get_result::<Count>(&mut conn).unwrap();
            (table.name, count.count)
        })
        .collect()
}

#[test]
fn a_backup_restores_on_a_fresh_cluster_whole_and_verified() {
    let db = TestDb::with_demo();
    let evidence = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_options(
        &db,
        ServerOptions {
            storage: Some(duban::storage::StorageConfig::Local { root: evidence.path().to_owned() }),
            ..ServerOptions::default()
        },
    );
    let justice = server.login("sfj");
    let assignment = lead_assignment(&justice, "B010", "县司法局");
    for (name, content) in [("自查报告.pdf", "自查"), ("整改台账.pdf", "整改")] {
        assert_eq!(upload(&justice, assignment, &[(name, pdf(content))], &[]).status(), 201);
    }
    drop(server);

    let data = tempfile::tempdir().unwrap();
    let key_file = data.path().join("audit-signing.key");
    let backups = tempfile::tempdir().unwrap();
    let made = duban(&["backup", backups.path().to_str().unwrap()], db.url(), data.path(), evidence.path(), &key_file);
    assert!(made.status.success(), "{}", said(&made));
    let text = said(&made);
    assert!(text.contains("2 evidence objects (2 copied now)"), "{text}");
    let first = text.split("backup written to ").nth(1).unwrap().split(':').next().unwrap().to_owned();
    // A second run copies nothing it already has, and keeps the first snapshot.
    let again = duban(&["backup", backups.path().to_str().unwrap()], db.url(), data.path(), evidence.path(), &key_file);
    let text = said(&again);
    assert!(text.contains("(0 copied now)"), "{text}");
    let snapshot = text.split("backup written to ").nth(1).unwrap().split(':').next().unwrap().to_owned();
    assert_ne!(snapshot, first);
    assert!(Path::new(&first).join("manifest.json").exists());

    // A fresh cluster, as on a replacement server.
    let cluster_dir = tempfile::tempdir().unwrap();
    let mut options = duban_pgcluster::ClusterOptions::new(cluster_dir.path().join("data"));
    options.log_file = cluster_dir.path().join("postgres.log");
    options.durable = false;
    let mut cluster = duban_pgcluster::Cluster::start(&options).unwrap();
    diesel::sql_query("CREATE DATABASE restored").execute(&mut PgConnection::establish(&cluster.url("postgres")).unwrap()).unwrap();
    let restored_url = cluster.url("restored");
    let (restored_data, restored_evidence) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let restore = |snapshot: &str| duban(&["restore", snapshot], &restored_url, restored_data.path(), restored_evidence.path(), &key_file);

    // A damaged backup is refused before anything is touched.
    let damaged = tempfile::tempdir().unwrap();
    let copy = damaged.path().join("snapshot");
    std::fs::create_dir(&copy).unwrap();
    for file in ["database.dump", "audit-checkpoints.jsonl", "manifest.json"] {
        std::fs::copy(Path::new(&snapshot).join(file), copy.join(file)).unwrap();
    }
    std::fs::create_dir(damaged.path().join("evidence")).unwrap();
    for object in std::fs::read_dir(backups.path().join("evidence")).unwrap() {
        let object = object.unwrap();
        std::fs::copy(object.path(), damaged.path().join("evidence").join(object.file_name())).unwrap();
    }
    let mut dump = std::fs::read(copy.join("database.dump")).unwrap();
    let middle = dump.len() / 2;
    dump[middle] ^= 0xff;
    std::fs::write(copy.join("database.dump"), dump).unwrap();
    let refused = restore(copy.to_str().unwrap());
    assert!(!refused.status.success());
    assert!(said(&refused).contains("database.dump does not match the manifest"), "{}", said(&refused));
    assert!(row_counts(&restored_url).is_empty(), "nothing was restored from a damaged backup");

    let restored = restore(&snapshot);
    assert!(restored.status.success(), "{}", said(&restored));
    assert_eq!(row_counts(&restored_url), row_counts(db.url()), "every table has its rows");
    for check in [["audit", "verify"], ["evidence", "verify"]] {
        let verified = duban(&check, &restored_url, restored_data.path(), restored_evidence.path(), &key_file);
        assert!(verified.status.success(), "{check:?}: {}", said(&verified));
    }
    assert!(
        said(&duban(&["audit", "verify"], &restored_url, restored_data.path(), restored_evidence.path(), &key_file))
            .contains("signed checkpoints"),
        "the checkpoints came along"
    );

    // Restoring over a database in use is refused.
    let again = restore(&snapshot);
    assert!(!again.status.success());
    assert!(said(&again).contains("not empty"), "{}", said(&again));
    cluster.stop();
}
