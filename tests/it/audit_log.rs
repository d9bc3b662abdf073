//! The audit log: written with every change, append-only, and a hash chain
//! that shows tampering.

use std::process::Command;

use diesel::prelude::*;
use duban::audit::{self, Verdict};
use duban_tests::{DEMO_PASSWORD, TestDb, TestServer};
use serde_json::{Value, json};

use crate::support::count;

#[test]
fn changes_logins_and_failures_are_recorded_with_their_context() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    server.anonymous().post("/api/v1/auth/login", &json!({"username": "sfj", "password": "wrong-password"}));
    let office = server.login("yfzxb");
    let task: Value = office.get_json("/api/v1/tasks?q=B120");
    let townships: Value = office.get_json("/api/v1/unit-groups");
    let group = townships.as_array().unwrap().iter().find(|g| g["phrase"] == "各乡镇(街道)").unwrap()["id"].clone();
    let response = office
        .request(reqwest::Method::POST, &format!("/api/v1/tasks/{}/assignments", task["items"][0]["id"]))
        .header("x-request-id", "audit-test-request-1")
        .json(&json!({"group_id": group, "role": "responsible"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);

    let entries: Value = office.get_json("/api/v1/audit?action=assignment.create");
    assert_eq!(entries["total"], 13);
    let entry = &entries["items"][0];
    assert_eq!(entry["actor_kind"], "user");
    assert_eq!(entry["actor_name"], "yfzxb");
    assert_eq!(entry["request_id"], "audit-test-request-1");
    assert_eq!(entry["client_address"], "127.0.0.1");
    assert_eq!(entry["after"]["role"], "responsible");
    let failed: Value = office.get_json("/api/v1/audit?action=auth.login_failed");
    assert_eq!(failed["items"][0]["actor_kind"], "anonymous");
    assert_eq!(failed["items"][0]["entity_id"], "sfj");
    assert_eq!(office.get_json("/api/v1/audit?action=auth.login&limit=1")["items"][0]["actor_name"], "yfzxb");
    // The demo data's own loading is on record too, for the installation's auditor.
    assert!(server.login("auditor").get_json("/api/v1/audit?action=import.campaign")["total"].as_i64().unwrap() >= 1);
    assert_eq!(office.get_json("/api/v1/audit?action=import.campaign")["total"], 0, "a county reads what its accounts did");

    // Filters and pages: by actor, by entity, newest first, with a cursor.
    let me = office.get_json("/api/v1/me")["id"].as_i64().unwrap();
    let mine: Value = office.get_json(&format!("/api/v1/audit?actor_kind=user&actor_id={me}&limit=5"));
    assert_eq!(mine["items"].as_array().unwrap().len(), 5);
    let next: Value =
        office.get_json(&format!("/api/v1/audit?actor_kind=user&actor_id={me}&limit=5&cursor={}", mine["next_cursor"].as_str().unwrap()));
    assert!(next["items"][0]["id"].as_i64() < mine["items"][4]["id"].as_i64());

    let csv = office.get("/api/v1/audit/export?action=assignment.create");
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().unwrap();
    assert!(text.starts_with('\u{feff}'), "a BOM, so Excel and WPS read the Chinese");
    assert_eq!(text.lines().count(), 14);
    assert_eq!(office.get_json("/api/v1/audit?action=audit.export")["total"], 1, "exports are audited");

    assert!(matches!(audit::verify(&mut db.conn()).unwrap(), Verdict::Intact { .. }));
}

#[test]
fn no_secret_reaches_the_audit_log() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let admin = server.login("admin");
    let login: Value =
        server.anonymous().post("/api/v1/auth/login", &json!({"username": "zwj", "password": DEMO_PASSWORD})).json().unwrap();
    let client: Value = server.login("security").post("/api/v1/api-clients", &json!({"name": "portal"})).json().unwrap();
    let key: Value = server
        .login("security")
        .post(&format!("/api/v1/api-clients/{}/keys", client["id"]), &json!({"scopes": ["tasks:read"]}))
        .json()
        .unwrap();
    let staff = json!({"username": "zwj-li", "display_name": "李四", "role": "unit_staff", "unit_id": login["user"]["unit"]["id"], "password": "政务局Li4的登录密码"});
    assert_eq!(admin.post("/api/v1/users", &staff).status(), 201);
    admin.post(&format!("/api/v1/users/{}/password", login["user"]["id"]), &json!({"new_password": "政务局Reset密码2026"}));

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let everything: Vec<Row> = diesel::sql_query("SELECT a::text AS row FROM audit_log a").load(&mut db.conn()).unwrap();
    let everything: String = everything.into_iter().map(|r| r.row).collect::<Vec<_>>().join("\n");
    for secret in [
        DEMO_PASSWORD,
        "政务局Li4的登录密码",
        "政务局Reset密码2026",
        login["access_token"].as_str().unwrap(),
        login["refresh_token"].as_str().unwrap(),
        &key["key"].as_str().unwrap()[13..],
        "$argon2id$",
    ] {
        assert!(!everything.contains(secret), "the audit log holds a secret: {secret}");
    }
}

#[test]
fn the_database_refuses_to_change_or_delete_audit_rows() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    for statement in ["UPDATE audit_log SET action = 'x.y'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
        let error = diesel::sql_query(statement).execute(&mut conn).unwrap_err().to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
}

/// `duban audit verify`, with its signing key and checkpoints in `data`.
fn verify_command(db: &TestDb, data: &std::path::Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_duban-under-test"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", db.url())
        .env("DUBAN_DATA_DIR", data)
        .env_remove("DUBAN_AUDIT_SIGNING_KEY")
        .env("DUBAN_LOG", "warn")
        .output()
        .unwrap();
    (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

/// Changes the audit log as a superuser would: with triggers switched off.
fn as_superuser(conn: &mut PgConnection, statement: &str) {
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::sql_query("SET LOCAL session_replication_role = replica").execute(conn)?;
        diesel::sql_query(statement).execute(conn)?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn verify_names_an_altered_row() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    for user in ["sfj", "zwj", "lxjd"] {
        server.login(user);
    }
    let data = tempfile::tempdir().unwrap();
    let (ok, output) = verify_command(&db, data.path());
    assert!(ok, "{output}");
    assert!(output.contains("audit log intact"), "{output}");

    let mut conn = db.conn();
    let target: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT id FROM audit_log WHERE action = 'auth.login' ORDER BY id LIMIT 1 OFFSET 1)",
    ))
    .get_result(&mut conn)
    .unwrap();
    as_superuser(&mut conn, &format!("UPDATE audit_log SET actor_name = 'someone-else' WHERE id = {target}"));
    let (ok, output) = verify_command(&db, data.path());
    assert!(!ok);
    assert!(output.contains(&format!("row {target} was altered")), "{output}");
}

#[test]
fn verify_names_a_removed_row_and_one_out_of_order() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    for user in ["sfj", "zwj", "lxjd", "scjgj"] {
        server.login(user);
    }
    let mut conn = db.conn();
    let ids: Vec<i64> = {
        use duban::db::schema::audit_log;
        audit_log::table.filter(audit_log::action.eq("auth.login")).order(audit_log::id).select(audit_log::id).load(&mut conn).unwrap()
    };
    as_superuser(&mut conn, &format!("DELETE FROM audit_log WHERE id = {}", ids[1]));
    match audit::verify(&mut conn).unwrap() {
        Verdict::Broken { id, problem } => {
            assert_eq!(id, ids[2], "the row after the gap is the first that no longer follows");
            assert!(problem.contains("removed"), "{problem}");
        }
        intact => panic!("a removed row went unnoticed: {intact:?}"),
    }

    // A forged row slipped in with an id between two others.
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let last: i64 =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT max(id) FROM audit_log)")).get_result(&mut conn).unwrap();
    as_superuser(&mut conn, "UPDATE audit_log SET id = id + 1000 WHERE id = (SELECT max(id) FROM audit_log)");
    audit::record(&mut conn, &audit::Actor::system("test"), audit::Event::new("test.append")).unwrap();
    let _ = last;
    assert!(matches!(audit::verify(&mut conn).unwrap(), Verdict::Broken { .. }));
    assert!(count(&mut conn, "SELECT count(*) FROM audit_log") > 0);
}

/// The id of the `n`th sign-in row (0 first).
fn login_row(conn: &mut PgConnection, n: i64) -> i64 {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "(SELECT id FROM audit_log WHERE action = 'auth.login' ORDER BY id LIMIT 1 OFFSET {n})"
    )))
    .get_result(conn)
    .unwrap()
}

/// A log with a signed checkpoint outside the database, then more rows.
fn checkpointed() -> (TestDb, tempfile::TempDir, Vec<i64>) {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    for user in ["sfj", "zwj"] {
        server.login(user);
    }
    let data = tempfile::tempdir().unwrap();
    let (ok, output) = verify_command(&db, data.path());
    assert!(ok && output.contains("checkpoint written"), "{output}");
    for user in ["lxjd", "scjgj", "inspector"] {
        server.login(user);
    }
    let mut conn = db.conn();
    let logins = (0..5).map(|n| login_row(&mut conn, n)).collect();
    (db, data, logins)
}

#[test]
fn checkpoints_outside_the_database_agree_with_an_untouched_log() {
    let (db, data, _) = checkpointed();
    let key = std::fs::read_to_string(data.path().join("audit-signing.key")).unwrap();
    assert_eq!(key.trim().len(), 64, "an Ed25519 seed in hex");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("audit-signing.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner reads the key");
    }
    let (ok, output) = verify_command(&db, data.path());
    assert!(ok, "{output}");
    assert!(output.contains("1 signed checkpoints"), "{output}");
    let lines = std::fs::read_to_string(data.path().join("audit-checkpoints.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2, "every verify writes one down");
    assert!(!lines.contains(key.trim()), "the checkpoints do not reveal the key");
}

#[test]
fn a_recomputed_tail_is_caught_by_the_checkpoint() {
    let (db, data, logins) = checkpointed();
    let mut conn = db.conn();
    // An insider changes who signed in and recomputes every hash after it:
    // the chain itself verifies again …
    as_superuser(&mut conn, &format!("UPDATE audit_log SET actor_name = 'someone-else' WHERE id = {}", logins[0]));
    duban::audit::anchor::recompute_tail_for_tests(&mut conn, logins[0]).unwrap();
    assert!(matches!(audit::verify(&mut conn).unwrap(), Verdict::Intact { .. }));
    // … but not against the signed head written down before.
    let (ok, output) = verify_command(&db, data.path());
    assert!(!ok);
    assert!(output.contains("the chain was rewritten"), "{output}");
}

#[test]
fn a_deleted_row_with_a_recomputed_tail_is_caught_by_the_checkpoint() {
    let (db, data, logins) = checkpointed();
    let mut conn = db.conn();
    as_superuser(&mut conn, &format!("DELETE FROM audit_log WHERE id = {}", logins[0]));
    duban::audit::anchor::recompute_tail_for_tests(&mut conn, logins[0]).unwrap();
    assert!(matches!(audit::verify(&mut conn).unwrap(), Verdict::Intact { .. }));
    let (ok, output) = verify_command(&db, data.path());
    assert!(!ok);
    assert!(output.contains("the chain was rewritten"), "{output}");
}

#[test]
fn a_truncated_tail_is_caught_by_the_checkpoint() {
    let (db, data, logins) = checkpointed();
    let mut conn = db.conn();
    // Everything from the second sign-in on goes: what is left is a valid
    // chain, shorter than the one the checkpoint saw.
    as_superuser(&mut conn, &format!("DELETE FROM audit_log WHERE id >= {}", logins[1]));
    assert!(matches!(audit::verify(&mut conn).unwrap(), Verdict::Intact { .. }));
    let (ok, output) = verify_command(&db, data.path());
    assert!(!ok);
    assert!(output.contains("the log was truncated"), "{output}");
}

#[test]
fn an_altered_checkpoint_file_or_another_key_is_refused() {
    let (db, data, _) = checkpointed();
    let file = data.path().join("audit-checkpoints.jsonl");
    let original = std::fs::read_to_string(&file).unwrap();
    let mut checkpoint: Value = serde_json::from_str(original.lines().next().unwrap()).unwrap();
    checkpoint["last_id"] = json!(checkpoint["last_id"].as_i64().unwrap() - 1);
    std::fs::write(&file, format!("{checkpoint}\n")).unwrap();
    let (ok, output) = verify_command(&db, data.path());
    assert!(!ok);
    assert!(output.contains("is not signed by this key"), "{output}");

    // A new key cannot vouch for the old checkpoints.
    std::fs::write(&file, &original).unwrap();
    std::fs::remove_file(data.path().join("audit-signing.key")).unwrap();
    let (ok, output) = verify_command(&db, data.path());
    assert!(!ok);
    assert!(output.contains("is not signed by this key"), "{output}");
}

/// `duban audit …` with its signing key and checkpoints in `data`.
fn audit_command(db: &TestDb, data: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_duban-under-test"))
        .arg("audit")
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("DUBAN_DATA_DIR", data)
        .env_remove("DUBAN_AUDIT_SIGNING_KEY")
        .env("DUBAN_LOG", "warn")
        .output()
        .unwrap();
    (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

#[test]
fn rows_older_than_the_retention_leave_only_through_a_signed_archive() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    for user in ["sfj", "zwj", "lxjd"] {
        server.login(user);
    }
    let mut conn = db.conn();
    // The demo data's own rows are made 200 days old, as if recorded then.
    let young = login_row(&mut conn, 0);
    as_superuser(&mut conn, &format!("UPDATE audit_log SET at = at - interval '200 days' WHERE id < {young}"));
    duban::audit::anchor::recompute_tail_for_tests(&mut conn, 1).unwrap();
    let old_rows = count(&mut conn, &format!("SELECT count(*) FROM audit_log WHERE id < {young}"));
    assert!(old_rows > 10);
    let data = tempfile::tempdir().unwrap();
    let (ok, output) = verify_command(&db, data.path());
    assert!(ok, "{output}");

    // Not even an old row goes without an archive; a young one never does.
    for id in [1, young] {
        let error = conn
            .transaction::<_, diesel::result::Error, _>(|conn| {
                diesel::sql_query("SET LOCAL duban.audit_prune = 'on'").execute(conn)?;
                diesel::sql_query(format!("DELETE FROM audit_log WHERE id = {id}")).execute(conn)
            })
            .unwrap_err();
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    let archives = tempfile::tempdir().unwrap();
    let dir = archives.path().to_str().unwrap();
    let too_young = (duban::clock::today() - chrono::Duration::days(10)).to_string();
    let (ok, output) = audit_command(&db, data.path(), &["archive", "--before", &too_young, dir]);
    assert!(!ok && output.contains("younger than 180 days are kept"), "{output}");

    let before = (duban::clock::today() - chrono::Duration::days(190)).to_string();
    let (ok, output) = audit_command(&db, data.path(), &["archive", "--before", &before, dir]);
    assert!(ok, "{output}");
    assert!(output.contains(&format!("{old_rows} rows archived")), "{output}");
    assert_eq!(count(&mut conn, &format!("SELECT count(*) FROM audit_log WHERE id < {young}")), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit_log WHERE action = 'audit.archive'"), 1);

    // The chain now starts where the archive ends; both verify.
    let (ok, output) = audit_command(&db, data.path(), &["verify", "--archives", dir]);
    assert!(ok, "{output}");
    assert!(output.contains("1 archives"), "{output}");

    // An archive altered afterwards is found out.
    let file = std::fs::read_dir(archives.path()).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(&file).unwrap().replacen("\"action\":\"", "\"action\":\"x", 1);
    std::fs::write(&file, text).unwrap();
    let (ok, output) = audit_command(&db, data.path(), &["verify", "--archives", dir]);
    assert!(!ok && output.contains("is not the file that was archived"), "{output}");
}

#[test]
fn a_site_may_chain_its_audit_log_with_sm3_chosen_at_installation() {
    let db = TestDb::new();
    let data = tempfile::tempdir().unwrap();
    let created = Command::new(env!("CARGO_BIN_EXE_duban-under-test"))
        .args(["user", "create", "--username", "chief", "--display-name", "县局管理员", "--role", "system_admin"])
        .env("DATABASE_URL", db.url())
        .env("DUBAN_DATA_DIR", data.path())
        .env("DUBAN_AUDIT_HASH", "sm3")
        .env("DUBAN_LOG", "warn")
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM server_settings WHERE key = 'audit_hash' AND value = 'sm3'"), 1);
    // Verified without naming the function again: it is the database's.
    let (ok, output) = verify_command(&db, data.path());
    assert!(ok, "{output}");
    // Under SHA-256 the same rows do not verify: they really are SM3.
    diesel::sql_query("UPDATE server_settings SET value = 'sha256' WHERE key = 'audit_hash'").execute(&mut conn).unwrap();
    assert!(matches!(audit::verify(&mut conn).unwrap(), Verdict::Broken { .. }));
}
