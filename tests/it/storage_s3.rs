//! Evidence in an S3-compatible object store: a real one (moto's server),
//! started here, not a mock.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use duban_tests::{ServerOptions, TestDb, TestServer};
use serde_json::Value;

use crate::evidence::{lead_assignment, pdf, upload};
use crate::support::workspace;

struct S3Server {
    child: Option<Child>,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `DUBAN_TEST_S3_ENDPOINT` when set; otherwise moto's server from the
/// tools `cargo xtask setup` installs, on a free port.
fn s3_server() -> S3Server {
    if let Ok(endpoint) = std::env::var("DUBAN_TEST_S3_ENDPOINT") {
        return S3Server { child: None, endpoint };
    }
    let moto = workspace().join(".tools/venv/bin/moto_server");
    assert!(moto.exists(), "{} is missing: run `cargo xtask setup`", moto.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child =
        Command::new(moto).args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::blocking::get(&endpoint).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    S3Server { child: Some(child), endpoint }
}

#[test]
fn evidence_round_trips_through_an_s3_store() {
    let s3 = s3_server();
    let bucket = format!("duban-test-{}", uuid::Uuid::new_v4().simple());
    let created = reqwest::blocking::Client::new().put(format!("{}/{bucket}", s3.endpoint)).send().unwrap();
    assert!(created.status().is_success(), "creating the bucket: {}", created.status());
    let staging = tempfile::Builder::new().prefix("duban-s3-staging-").tempdir_in("/tmp").unwrap();
    let config = duban::storage::StorageConfig::S3 {
        endpoint: Some(s3.endpoint.clone()),
        bucket: bucket.clone(),
        region: "us-east-1".to_owned(),
        access_key_id: "testing".to_owned(),
        secret_access_key: "testing".to_owned(),
        prefix: "evidence/".to_owned(),
        allow_http: true,
        staging: staging.path().to_owned(),
    };
    let db = TestDb::with_demo();
    let server = TestServer::start_with_options(&db, ServerOptions { storage: Some(config), ..ServerOptions::default() });
    let staff = server.login("sfj-staff");
    let assignment = lead_assignment(&staff, "B012", "县司法局");
    // Larger than one part of a multipart upload (8 MiB), so parts are used.
    let mut content = pdf("大文件");
    content.extend((0..(9 << 20)).map(|i: u32| (i % 251) as u8));
    let response = upload(&staff, assignment, &[("执法全过程记录.pdf", content.clone())], &[]);
    assert_eq!(response.status(), 201, "{}", response.text().unwrap());
    let created: Value = response.json().unwrap();
    let version = created[0]["current"]["id"].as_i64().unwrap();
    let sha = created[0]["current"]["sha256"].as_str().unwrap().to_owned();

    let object = reqwest::blocking::get(format!("{}/{bucket}/evidence/{}/{}/{sha}", s3.endpoint, &sha[..2], &sha[2..4])).unwrap();
    assert_eq!(object.status(), 200, "the object is in the bucket under its hash");
    let downloaded = staff.get(&format!("/api/v1/evidence-versions/{version}/content"));
    assert_eq!(downloaded.bytes().unwrap().len(), content.len());
    let part = staff
        .request(reqwest::Method::GET, &format!("/api/v1/evidence-versions/{version}/content"))
        .header("Range", "bytes=1000-1999")
        .send()
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().unwrap().as_ref(), &content[1000..2000]);

    let runtime = actix_web::rt::System::new();
    let can = duban::authz::Operator::for_tests().verify_store();
    let report = runtime.block_on(duban::evidence::verify(&db.pool(), &server.storage, &can)).unwrap();
    assert!(report.is_clean() && report.checked == 1, "{report:?}");
    runtime.block_on(server.storage.overwrite_for_test(&sha, b"%PDF-1.7 forged")).unwrap();
    let report = runtime.block_on(duban::evidence::verify(&db.pool(), &server.storage, &can)).unwrap();
    assert_eq!(report.mismatched, [sha]);
    assert_eq!(std::fs::read_dir(staging.path()).unwrap().count(), 0, "staging files go once stored");
}
