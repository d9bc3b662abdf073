//! Pages in a real headless Chromium (Debian's package; never a
//! downloaded browser).

use std::process::Command;

use duban_tests::{TestDb, TestServer};

fn chromium() -> String {
    let path = std::env::var("DUBAN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(std::path::Path::new(&path).exists(), "{path} is missing: `cargo xtask setup` installs Debian's chromium");
    path
}

/// Headless Chromium with its own profile, every host but this machine
/// unreachable, set to print the DOM of the page named last once its
/// scripts ran.
fn dump_dom(profile: &std::path::Path) -> Command {
    let mut command = Command::new(chromium());
    command
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // The network cut off: no name resolves except the loopback address.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom");
    command
}

/// Renders a page with every host but this machine unreachable, and
/// returns the DOM after its scripts ran.
fn render_offline(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = dump_dom(profile.path()).arg(url).output().unwrap();
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn api_docs_render_with_the_network_cut_off() {
    let db = TestDb::new();
    let server = TestServer::start(&db);
    let dom = render_offline(&format!("{}/docs/", server.base));
    assert!(dom.contains("duban API"), "the document's title is rendered");
    for path in ["/api/v1/tasks", "/api/v1/assignments/{id}", "/api/v1/audit/export"] {
        assert!(dom.contains(&format!("data-path=\"{path}\"")), "{path} is listed");
    }
}

/// The browser client loads without a warning in the console (the preload
/// of the wasm once carried an integrity hash that the loader's own fetch
/// did not, so Chromium warned on every page load).
#[test]
fn the_client_loads_without_console_warnings() {
    let dist = crate::support::workspace().join("frontend/dist");
    assert!(dist.join("index.html").exists(), "build the browser client first: cargo xtask frontend");
    let db = TestDb::with_demo();
    let server = TestServer::start_with_options(&db, duban_tests::ServerOptions { static_dir: Some(dist), ..Default::default() });
    let profile = tempfile::tempdir().unwrap();
    // Console messages go to standard error.
    let output = dump_dom(profile.path()).args(["--enable-logging=stderr", "--v=0"]).arg(format!("{}/", server.base)).output().unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(dom.contains("form") && dom.contains("login"), "the sign-in form rendered: {dom}");
    let console: Vec<&str> =
        std::str::from_utf8(&output.stderr).unwrap_or_default().lines().filter(|line| line.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
}
