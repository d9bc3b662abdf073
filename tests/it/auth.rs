//! Signing in, tokens, sessions, passwords, throttling and API keys.

use chrono::Utc;
use diesel::prelude::*;
use duban_tests::{DEMO_PASSWORD, TestDb, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn login(server: &TestServer, username: &str, password: &str) -> reqwest::blocking::Response {
    server.anonymous().post("/api/v1/auth/login", &json!({"username": username, "password": password}))
}

fn tokens(server: &TestServer, username: &str) -> (String, String) {
    let body: Value = login(server, username, DEMO_PASSWORD).json().unwrap();
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

fn refresh(server: &TestServer, token: &str) -> reqwest::blocking::Response {
    server.anonymous().post("/api/v1/auth/refresh", &json!({"refresh_token": token}))
}

#[test]
fn signing_in_and_out() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let response = login(&server, "SFJ", DEMO_PASSWORD);
    assert_eq!(response.status(), 200, "usernames are case-insensitive");
    let body: Value = response.json().unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["role"], "unit_manager");
    assert_eq!(body["user"]["unit"]["name"], "县司法局");
    assert_eq!(body["user"]["is_demo"], true);

    let client = server.with_bearer(body["access_token"].as_str().unwrap());
    assert_eq!(client.get_json("/api/v1/me")["username"], "sfj");
    assert_eq!(client.post("/api/v1/auth/logout", &json!({})).status(), 204);
    assert_eq!(client.get("/api/v1/me").status(), 401, "the access token dies with its session");
    assert_eq!(refresh(&server, body["refresh_token"].as_str().unwrap()).status(), 401);

    let wrong = login(&server, "sfj", "not the password");
    assert_eq!(wrong.status(), 401);
    let unknown = login(&server, "nobody", DEMO_PASSWORD);
    assert_eq!(unknown.status(), 401);
    let (wrong, unknown): (Value, Value) = (wrong.json().unwrap(), unknown.json().unwrap());
    assert_eq!(wrong["detail"], unknown["detail"], "the answer does not tell which was wrong");
    assert_eq!(server.anonymous().get("/api/v1/tasks").headers()["www-authenticate"], "Bearer realm=\"duban\"");
}

#[test]
fn failed_sign_ins_are_throttled() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    for _ in 0..5 {
        assert_eq!(login(&server, "zwj", "guess-guess-guess").status(), 401);
    }
    let throttled = login(&server, "zwj", DEMO_PASSWORD);
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let wait: u64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    // Locked for 30 minutes after 5 failures (等保 level 3).
    assert!(wait > 0 && wait <= 1800, "{wait}");
    let body: Value = throttled.json().unwrap();
    assert_eq!(body["code"], "too_many_requests");
    // Another account from the same address is not yet limited.
    assert_eq!(login(&server, "sfj", DEMO_PASSWORD).status(), 200);
    // The address limit: 20 failures from one address, any accounts.
    for i in 0..20 {
        login(&server, &format!("ghost{i}"), "guess-guess-guess");
    }
    assert_eq!(login(&server, "lxjd", DEMO_PASSWORD).status(), StatusCode::TOO_MANY_REQUESTS);
}

#[test]
fn refresh_tokens_rotate_and_reuse_ends_the_session() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let (access, first) = tokens(&server, "zwj");
    let rotated: Value = refresh(&server, &first).json().unwrap();
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let new_access = rotated["access_token"].as_str().unwrap().to_owned();
    assert_eq!(server.with_bearer(&new_access).get("/api/v1/me").status(), 200);

    // The used token comes back: someone stole it. The whole family ends.
    assert_eq!(refresh(&server, &first).status(), 401);
    assert_eq!(refresh(&server, &second).status(), 401, "the thief's and the owner's tokens both stop");
    assert_eq!(server.with_bearer(&new_access).get("/api/v1/me").status(), 401);
    assert_eq!(server.with_bearer(&access).get("/api/v1/me").status(), 401);
    assert_eq!(refresh(&server, "made-up").status(), 401);
    let mut conn = db.conn();
    let reused: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM audit_log WHERE action = 'auth.refresh_reused')",
    ))
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(reused, 1);
}

#[test]
fn expired_and_forged_access_tokens_are_refused() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let (access, _) = tokens(&server, "inspector");
    let claims: Value = {
        let payload = access.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64_decode(payload)).unwrap()
    };
    // Sign an expired token with the server's own key, as only duban could.
    let secret: String = {
        use duban::db::schema::server_settings;
        server_settings::table.find("jwt_secret").select(server_settings::value).first(&mut db.conn()).unwrap()
    };
    let keys = duban::auth::tokens::JwtKeys::new(&hex_decode(&secret));
    let user: i64 = claims["sub"].as_str().unwrap().parse().unwrap();
    let session: uuid::Uuid = claims["sid"].as_str().unwrap().parse().unwrap();
    let expired = keys.issue(user, session, Utc::now() - chrono::Duration::minutes(20));
    assert_eq!(server.with_bearer(&expired).get("/api/v1/me").status(), 401);
    let fresh = keys.issue(user, session, Utc::now());
    assert_eq!(server.with_bearer(&fresh).get("/api/v1/me").status(), 200);
    let forged = duban::auth::tokens::JwtKeys::new(b"guessed secret, thirty-two bytes long").issue(user, session, Utc::now());
    assert_eq!(server.with_bearer(&forged).get("/api/v1/me").status(), 401);
    let tampered = format!("{}x", &access[..access.len() - 1]);
    assert_eq!(server.with_bearer(&tampered).get("/api/v1/me").status(), 401);
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes() {
        bits = (bits << 6) | ALPHABET.iter().position(|&b| b == byte).unwrap() as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn changing_a_password_ends_the_other_sessions() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let (laptop, _) = tokens(&server, "lxjd");
    let (phone, phone_refresh) = tokens(&server, "lxjd");
    let laptop_client = server.with_bearer(&laptop);
    let weak = laptop_client.post("/api/v1/auth/password", &json!({"current_password": DEMO_PASSWORD, "new_password": "short"}));
    assert_eq!(weak.status(), 422);
    let wrong =
        laptop_client.post("/api/v1/auth/password", &json!({"current_password": "nope-nope-nope", "new_password": "罗雄街道Xin密码2026!"}));
    assert_eq!(wrong.status(), 422);
    let changed =
        laptop_client.post("/api/v1/auth/password", &json!({"current_password": DEMO_PASSWORD, "new_password": "罗雄街道Xin密码2026!"}));
    assert_eq!(changed.status(), 204);
    assert_eq!(laptop_client.get("/api/v1/me").status(), 200, "this session stays");
    assert_eq!(server.with_bearer(&phone).get("/api/v1/me").status(), 401, "the others end");
    assert_eq!(refresh(&server, &phone_refresh).status(), 401);
    assert_eq!(login(&server, "lxjd", DEMO_PASSWORD).status(), 401);
    assert_eq!(login(&server, "lxjd", "罗雄街道Xin密码2026!").status(), 200);
}

#[test]
fn accounts_are_managed_within_their_scope() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let admin = server.login("admin");
    let manager = server.login("sfj");
    let justice: i64 = manager.get_json("/api/v1/me")["unit"]["id"].as_i64().unwrap();

    // A unit manager creates its unit's staff, nothing else.
    let staff = manager.post(
        "/api/v1/users",
        &json!({"username": "sfj-wang", "display_name": "王五", "role": "unit_staff", "unit_id": justice, "password": "司法局Wang5的新密码"}),
    );
    assert_eq!(staff.status(), 201);
    let staff: Value = staff.json().unwrap();
    let escalate = manager.post(
        "/api/v1/users",
        &json!({"username": "sfj-boss", "display_name": "x", "role": "system_admin", "password": "司法局Wang5的新密码"}),
    );
    assert_eq!(escalate.status(), 403);
    let listed: Value = manager.get_json("/api/v1/users");
    assert!(listed.as_array().unwrap().iter().all(|user| user["unit"]["id"] == justice));
    let admin_id = admin.get_json("/api/v1/me")["id"].as_i64().unwrap();
    assert_eq!(manager.get(&format!("/api/v1/users/{admin_id}")).status(), 404, "accounts of others are not shown");

    // Taken usernames, misplaced roles and weak passwords are named.
    let taken =
        admin.post("/api/v1/users", &json!({"username": "sfj", "display_name": "x", "role": "inspector", "password": "督查人员Mima2026"}));
    assert_eq!(taken.status(), 409);
    let unitless = admin
        .post("/api/v1/users", &json!({"username": "nobody", "display_name": "x", "role": "unit_staff", "password": "督查人员Mima2026"}));
    assert_eq!(unitless.json::<Value>().unwrap()["code"], "unit_required");

    // Disabling ends the sessions; the last admin stays.
    let staff_client = server.anonymous();
    let staff_login = staff_client.post("/api/v1/auth/login", &json!({"username": "sfj-wang", "password": "司法局Wang5的新密码"}));
    let staff_token = staff_login.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(manager.patch(&format!("/api/v1/users/{}", staff["id"]), &json!({"disabled": true})).status(), 200);
    assert_eq!(server.with_bearer(&staff_token).get("/api/v1/me").status(), 401);
    assert_eq!(login(&server, "sfj-wang", "司法局Wang5的新密码").status(), 401);
    let last = server.login("security").patch(&format!("/api/v1/users/{admin_id}"), &json!({"disabled": true}));
    assert_eq!(last.json::<Value>().unwrap()["code"], "last_admin");

    // An admin's password reset ends the user's sessions.
    let (zwj_token, _) = tokens(&server, "zwj");
    let zwj = server.with_bearer(&zwj_token).get_json("/api/v1/me")["id"].as_i64().unwrap();
    assert_eq!(admin.post(&format!("/api/v1/users/{zwj}/password"), &json!({"new_password": "政务局New密码2026"})).status(), 204);
    assert_eq!(server.with_bearer(&zwj_token).get("/api/v1/me").status(), 401);
}

#[test]
fn api_keys_carry_scopes_and_can_be_revoked() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let client: Value =
        server.login("security").post("/api/v1/api-clients", &json!({"name": "曲靖市政务门户", "description": "市级门户"})).json().unwrap();
    let keys_path = format!("/api/v1/api-clients/{}/keys", client["id"]);
    let created = server.login("security").post(&keys_path, &json!({"scopes": ["tasks:read"]}));
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with(created["info"]["prefix"].as_str().unwrap()));

    let portal = server.with_bearer(&key);
    assert_eq!(portal.get("/api/v1/tasks").status(), 200);
    assert_eq!(portal.get("/api/v1/assignments").status(), 403, "progress:read is another scope");
    assert_eq!(portal.get("/api/v1/me").status(), 403);
    assert_eq!(portal.post("/api/v1/units", &json!({"region": "罗平县", "name": "x", "kind": "other"})).status(), 403);

    let listed: Value = server.login("security").get_json("/api/v1/api-clients");
    let info = &listed[0]["keys"][0];
    assert!(info["last_used_at"].is_string(), "use is recorded");
    assert!(!listed.to_string().contains(&key[13..]), "the secret is never listed");

    assert_eq!(server.login("security").delete(&format!("{keys_path}/{}", info["id"])).status(), 204);
    assert_eq!(portal.get("/api/v1/tasks").status(), 401, "a revoked key stops at once");

    // An expired key, and a key whose secret is wrong.
    let second: Value = server.login("security").post(&keys_path, &json!({"scopes": ["tasks:read", "progress:read"]})).json().unwrap();
    let second_key = second["key"].as_str().unwrap().to_owned();
    assert_eq!(server.with_bearer(&second_key).get("/api/v1/assignments").status(), 200);
    let wrong_secret = format!("{}AAAA{}", &second_key[..13], &second_key[17..]);
    assert_eq!(server.with_bearer(&wrong_secret).get("/api/v1/tasks").status(), 401);
    diesel::sql_query("UPDATE api_keys SET expires_at = now() - interval '1 minute'").execute(&mut db.conn()).unwrap();
    assert_eq!(server.with_bearer(&second_key).get("/api/v1/tasks").status(), 401);
    let past = server.login("security").post(&keys_path, &json!({"scopes": ["tasks:read"], "expires_at": "2020-01-01T00:00:00Z"}));
    assert_eq!(past.status(), 422);
}

/// The current code of an authenticator enrolled with `secret` (base32).
fn code(secret: &str, steps_ahead: i64) -> String {
    let secret = duban::auth::totp::from_base32(secret).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    duban::auth::totp::code_at(&secret, duban::auth::totp::step_at(now) + steps_ahead)
}

#[test]
fn a_second_factor_is_enrolled_and_then_asked_for_with_recovery_codes_as_a_fallback() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let manager = server.login("sfj");
    let started: Value = manager.post("/api/v1/me/mfa/totp", &json!({})).json().unwrap();
    let secret = started["secret"].as_str().unwrap().to_owned();
    assert!(started["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    assert!(started["qr_svg"].as_str().unwrap().contains("<svg"));
    // Not in force until a code from it is confirmed.
    assert_eq!(login(&server, "sfj", DEMO_PASSWORD).status(), 200);
    let wrong = manager.post("/api/v1/me/mfa/totp/confirm", &json!({"code": "000000"}));
    assert_eq!(wrong.json::<Value>().unwrap()["code"], "invalid_otp");
    let first_code = code(&secret, 0);
    let confirmed: Value = manager.post("/api/v1/me/mfa/totp/confirm", &json!({"code": first_code})).json().unwrap();
    let recovery: Vec<String> = confirmed["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(manager.get_json("/api/v1/me")["mfa_enabled"], true);

    // The password alone no longer signs in; a used code does not either.
    let asked = login(&server, "sfj", DEMO_PASSWORD);
    assert_eq!(asked.status(), 401);
    assert_eq!(asked.json::<Value>().unwrap()["code"], "mfa_required");
    let with = |body: Value| server.anonymous().post("/api/v1/auth/login", &body);
    let replayed = with(json!({"username": "sfj", "password": DEMO_PASSWORD, "otp": first_code}));
    assert_eq!(replayed.json::<Value>().unwrap()["code"], "invalid_otp", "the code used to confirm is spent");
    assert_eq!(with(json!({"username": "sfj", "password": DEMO_PASSWORD, "otp": code(&secret, 1)})).status(), 200);
    // A recovery code works once.
    let by_recovery = json!({"username": "sfj", "password": DEMO_PASSWORD, "recovery_code": recovery[0]});
    assert_eq!(with(by_recovery.clone()).status(), 200);
    assert_eq!(with(by_recovery).status(), 401);
    // A wrong second factor counts as a failed sign-in.
    let failed = count_rows(&db, "SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed' AND entity_id = 'sfj'");
    assert!(failed >= 2, "{failed}");

    // The security administrator resets a lost authenticator.
    let sfj = manager.get_json("/api/v1/me")["id"].as_i64().unwrap();
    assert_eq!(server.login("security").post(&format!("/api/v1/users/{sfj}/mfa-reset"), &json!({})).status(), 204);
    assert_eq!(login(&server, "sfj", DEMO_PASSWORD).status(), 200);
}

fn count_rows(db: &TestDb, sql: &str) -> i64 {
    crate::support::count(&mut db.conn(), sql)
}

#[test]
fn administrators_enrol_first_and_expired_passwords_are_changed_first() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    // A new system administrator signs in with the initial password …
    let created = server.login("security").post(
        "/api/v1/users",
        &json!({"username": "chief", "display_name": "县局系统管理员", "role": "system_admin", "password": "Luoping-Initial-2026"}),
    );
    assert_eq!(created.status(), 201, "{}", created.text().unwrap());
    let (token, _) = {
        let response: Value = login(&server, "chief", "Luoping-Initial-2026").json().unwrap();
        assert_eq!(response["user"]["restriction"], "password_change_required");
        (response["access_token"].as_str().unwrap().to_owned(), ())
    };
    let chief = server.with_bearer(&token);
    let refused = chief.get("/api/v1/units");
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().unwrap()["code"], "password_change_required");
    // … changes it, and must then enrol an authenticator before anything else.
    let changed =
        chief.post("/api/v1/auth/password", &json!({"current_password": "Luoping-Initial-2026", "new_password": "Luoping-Admin-2026"}));
    assert_eq!(changed.status(), 204);
    assert_eq!(chief.get("/api/v1/units").json::<Value>().unwrap()["code"], "mfa_enrolment_required");
    let started: Value = chief.post("/api/v1/me/mfa/totp", &json!({})).json().unwrap();
    let secret = started["secret"].as_str().unwrap().to_owned();
    assert_eq!(chief.post("/api/v1/me/mfa/totp/confirm", &json!({"code": code(&secret, 0)})).status(), 200);
    assert_eq!(chief.get("/api/v1/units").status(), 200);
    // An administrator cannot turn the second factor off.
    let off = chief.post("/api/v1/me/mfa/disable", &json!({"code": code(&secret, 1)}));
    assert_eq!(off.json::<Value>().unwrap()["code"], "mfa_required");

    // A password older than the policy's 90 days must be changed.
    let staff = server.login("sfj-staff");
    assert_eq!(staff.get("/api/v1/tasks?limit=1").status(), 200);
    diesel::sql_query("UPDATE users SET password_changed_at = now() - interval '91 days' WHERE username = 'sfj-staff'")
        .execute(&mut db.conn())
        .unwrap();
    // The policy and the session checks are read a few seconds apart at most.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let answer = staff.get("/api/v1/tasks?limit=1");
        if answer.status() == 403 {
            assert_eq!(answer.json::<Value>().unwrap()["code"], "password_change_required");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "an expired password was not asked to change");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Nobody holds two administrator roles, whatever writes the database.
    let error = diesel::sql_query("UPDATE users SET role = 'audit_admin' WHERE username = 'chief'").execute(&mut db.conn()).unwrap_err();
    assert!(error.to_string().contains("administrat"), "{error}");
}

#[test]
fn guessing_authenticator_codes_in_a_session_is_throttled_and_audited() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let unit = server.login("zwj");
    assert_eq!(unit.post("/api/v1/me/mfa/totp", &json!({})).status(), 200);
    let mut statuses = Vec::new();
    for guess in 0..7 {
        statuses.push(unit.post("/api/v1/me/mfa/totp/confirm", &json!({"code": format!("{guess:06}")})).status());
    }
    assert_eq!(statuses.iter().filter(|status| **status == StatusCode::UNPROCESSABLE_ENTITY).count(), 5, "{statuses:?}");
    assert_eq!(statuses[6], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    assert_eq!(count_rows(&db, "SELECT count(*) FROM audit_log WHERE action = 'user.mfa_code_failed'"), 5);
}
