//! The build, run and test tasks.

use std::process::Command;

use anyhow::{Context, bail};
use duban_pgcluster::{Cluster, ClusterOptions};

use crate::{setup, workspace_root};

pub(crate) fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{:?}", command.get_program());
    let status = command.current_dir(workspace_root()).status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} {:?} failed ({status})", command.get_args().collect::<Vec<_>>());
    }
    Ok(())
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds the browser client into frontend/dist and prints its size.
pub fn frontend() -> anyhow::Result<()> {
    setup::all()?;
    build_frontend()
}

fn build_frontend() -> anyhow::Result<()> {
    // trunk builds offline from the vendored registry cache.
    run(cargo().args(["fetch", "--locked"]))?;
    let frontend = workspace_root().join("frontend");
    let status = Command::new("trunk")
        .arg("build")
        .current_dir(&frontend)
        .env("PATH", setup::tool_path())
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("starting trunk")?;
    if !status.success() {
        bail!("trunk build failed ({status})");
    }
    for entry in std::fs::read_dir(frontend.join("dist"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "wasm" || ext == "js") {
            let (raw, compressed) = bundle_size(&path)?;
            eprintln!("xtask: bundle {}: {:.1} KiB raw, {:.1} KiB brotli", path.display(), raw as f64 / 1024.0, compressed as f64 / 1024.0);
        }
    }
    Ok(())
}

/// A file's size as stored and as the server sends it (brotli, quality 11,
/// what browsers receive from `Content-Encoding: br`).
pub fn bundle_size(path: &std::path::Path) -> anyhow::Result<(usize, usize)> {
    use std::io::Write;
    let raw = std::fs::read(path)?;
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 1 << 16, 11, 22);
        writer.write_all(&raw)?;
    }
    Ok((raw.len(), compressed.len()))
}

/// Builds everything and runs duban with its embedded database.
pub fn demo(listen: &str) -> anyhow::Result<()> {
    setup::all()?;
    build_frontend()?;
    run(cargo().args(["build", "--release", "--locked", "-p", "duban"]))?;
    let binary = workspace_root().join("target/release/duban");
    eprintln!("xtask: starting duban on http://{listen} (Ctrl-C stops it)");
    let status = Command::new(binary)
        .arg("serve")
        .env("DUBAN_LISTEN", listen)
        .env("DUBAN_STATIC_DIR", workspace_root().join("frontend/dist"))
        .env_remove("DATABASE_URL")
        .status()?;
    if !status.success() {
        bail!("duban exited with {status}");
    }
    Ok(())
}

/// Every test, as CI runs it.
pub fn test() -> anyhow::Result<()> {
    setup::all()?;
    eprintln!("xtask: checking formatting");
    run(cargo().args(["fmt", "--all", "--check"]))?;
    eprintln!("xtask: checking that the seeds and the OpenAPI document are up to date");
    crate::seeds::regenerate(true)?;

    eprintln!("xtask: building the browser client (wasm)");
    build_frontend()?;

    // One throwaway PostgreSQL for the whole run; each test clones its own
    // database from a migrated template on it.
    let scratch = tempfile::Builder::new().prefix("duban-ci-pg-").tempdir_in("/tmp")?;
    let mut options = ClusterOptions::new(scratch.path().join("data"));
    options.log_file = scratch.path().join("postgres.log");
    options.durable = false;
    let mut cluster = Cluster::start(&options)?;
    eprintln!("xtask: test PostgreSQL running in {}", scratch.path().display());

    // The browser tests leave a screenshot of every page they visit here.
    let screenshots = workspace_root().join("target/screenshots");
    let result = run(cargo()
        .args(["nextest", "run", "--locked", "--no-fail-fast"])
        .env("DUBAN_TEST_DATABASE_URL", cluster.url("postgres"))
        .env("DUBAN_SCREENSHOTS", &screenshots))
    .and_then(|()| {
        eprintln!("xtask: screenshots of the browser tests are in {}", screenshots.display());
        eprintln!("xtask: schemathesis against a live server");
        run(Command::new(psql()).args(psql_args(&cluster)).args(["-c", "CREATE DATABASE duban_schemathesis"]))?;
        crate::schemathesis::run(&cluster.url("duban_schemathesis"))
    });
    cluster.stop();
    result?;
    eprintln!("xtask: all tests passed");
    Ok(())
}

fn psql() -> std::path::PathBuf {
    duban_pgcluster::find_bin_dir().map(|dir| dir.join("psql")).unwrap_or_else(|_| "psql".into())
}

fn psql_args(cluster: &Cluster) -> Vec<String> {
    vec![
        "-h".to_owned(),
        cluster.socket_dir().display().to_string(),
        "-p".to_owned(),
        duban_pgcluster::PORT.to_string(),
        "-U".to_owned(),
        "postgres".to_owned(),
        "-d".to_owned(),
        "postgres".to_owned(),
        "-v".to_owned(),
        "ON_ERROR_STOP=1".to_owned(),
    ]
}

/// Regenerates openapi/openapi.json.
pub fn openapi() -> anyhow::Result<()> {
    let output = cargo().args(["run", "--quiet", "--locked", "-p", "duban", "--", "openapi"]).current_dir(workspace_root()).output()?;
    if !output.status.success() {
        bail!("duban openapi failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let path = workspace_root().join("openapi/openapi.json");
    std::fs::write(&path, &output.stdout)?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}
