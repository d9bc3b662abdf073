//! Runs schemathesis against a live duban, signed in as the lead office,
//! over every operation: no 5xx, and no response that contradicts the
//! OpenAPI document.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{setup, workspace_root};

/// The demo account the run signs in as; see seeds/demo-accounts.json.
const ACCOUNT: (&str, &str) = ("yfzxb", "duban-demo-2026");

/// Operations left out of the run, and why.
const EXCLUDED: &[(&str, &str)] = &[("/api/v1/auth/logout", "it would end the session every other request of the run uses")];

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `database_url` must name an empty database; duban migrates it and loads
/// the demo data on start.
pub fn run(database_url: &str) -> anyhow::Result<()> {
    // The duban command as the integration tests built it, with the same
    // features; building `-p duban` alone would rebuild its dependencies.
    let binary = workspace_root().join("target/debug/duban-under-test");
    let mut child = Command::new(&binary)
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("DUBAN_LISTEN", "127.0.0.1:0")
        .env("DUBAN_LOG", "info,actix_web=warn")
        .env_remove("DUBAN_STATIC_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stderr = child.stderr.take().expect("piped");
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    let address = loop {
        let line = lines.next().context("duban serve exited before listening")??;
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on http://".len()..].split_whitespace().next().unwrap_or_default().to_owned();
        }
        if Instant::now() > deadline {
            bail!("duban serve did not start listening");
        }
    };
    // Keep draining the server's log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});

    let token = login(&address)?;
    let mut command = Command::new(setup::schemathesis_bin());
    command
        .arg("run")
        .arg(format!("http://{address}/api/v1/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing", "--max-examples", "30", "--workers", "2", "--seed", "20261128"])
        .args(["--no-color", "--generation-database", "none"])
        .current_dir(std::env::temp_dir());
    for (path, why) in EXCLUDED {
        eprintln!("xtask: schemathesis leaves out {path}: {why}");
        command.args(["--exclude-path", path]);
    }
    let status = command.status().context("starting schemathesis")?;
    drop(server);
    if !status.success() {
        bail!("schemathesis found responses that break the API's contract");
    }
    Ok(())
}

/// Signs in over plain HTTP/1.1 and returns the access token.
fn login(address: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({"username": ACCOUNT.0, "password": ACCOUNT.1}).to_string();
    let mut stream = TcpStream::connect(address)?;
    write!(
        stream,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (_, json) = response.split_once("\r\n\r\n").context("an HTTP response")?;
    let value: serde_json::Value = serde_json::from_str(json.trim()).with_context(|| format!("the login answer: {response}"))?;
    value["access_token"].as_str().map(str::to_owned).with_context(|| format!("no access token in {value}"))
}
