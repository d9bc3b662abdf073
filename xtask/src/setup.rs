//! Installs what duban's build and tests need, once per machine, and only
//! from the registries this environment reaches: Debian's packages,
//! crates.io and npm. Each step checks first and does nothing when the
//! tool is already there at the right version.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::workspace_root;

/// trunk 0.22 needs a newer rustc than this workspace's 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// The binaryen npm package's wasm-opt; Debian's binaryen 108 produces
/// wasm that fails at runtime. Trunk.toml names the same version.
const BINARYEN_VERSION: &str = "132.0.0";

/// Debian packages: the PostgreSQL server the embedded database and the
/// tests run, libpq for diesel, Chromium with a CJK font for the browser
/// tests (without the font Chinese renders as boxes), a real SMTP server
/// for the mail tests (aiosmtpd), and LibreOffice with pdftotext to render
/// the documents duban writes.
const DEBIAN_PACKAGES: &[&str] = &[
    "postgresql",
    "postgresql-contrib",
    "libpq-dev",
    "pkg-config",
    "chromium",
    "chromium-driver",
    "fonts-wqy-zenhei",
    "python3-aiosmtpd",
    "libreoffice-writer-nogui",
    "poppler-utils",
    // TOTP codes of the demo administrators for `cargo xtask bench`.
    "oathtool",
    // The load balancer in front of several duban instances in the tests.
    "haproxy",
];

pub fn all() -> anyhow::Result<()> {
    debian_packages(DEBIAN_PACKAGES)?;
    // npm runs wasm-opt's installer. A machine may have Node.js from
    // elsewhere (NodeSource ships npm inside nodejs, which conflicts with
    // Debian's npm), so Debian's is installed only when npm is missing.
    if output_of("npm", &["--version"]).is_none() {
        debian_packages(&["nodejs", "npm"])?;
    }
    wasm_target()?;
    trunk()?;
    wasm_bindgen()?;
    wasm_opt()?;
    python_tools()?;
    Ok(())
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn is_root() -> bool {
    output_of("id", &["-u"]).is_some_and(|uid| uid.trim() == "0")
}

pub fn debian_packages(packages: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| {
            output_of("dpkg-query", &["-W", "-f=${Status}", package]).is_none_or(|status| !status.contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if output_of("apt-get", &["--version"]).is_none() {
        bail!("these packages are needed and this is not a Debian/Ubuntu machine with apt-get: {}", missing.join(" "));
    }
    let sudo = if is_root() {
        None
    } else if output_of("sudo", &["-n", "true"]).is_some() {
        Some("sudo")
    } else {
        bail!("install these packages first (as root): apt-get install -y {}", missing.join(" "));
    };
    eprintln!("xtask: installing Debian packages: {}", missing.join(" "));
    let apt = |args: &[&str]| {
        let mut command = match sudo {
            Some(sudo) => {
                let mut command = Command::new(sudo);
                command.arg("apt-get");
                command
            }
            None => Command::new("apt-get"),
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut command)
    };
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)
}

fn wasm_target() -> anyhow::Result<()> {
    let installed = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|line| line.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn cargo_bin(name: &str) -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    cargo_home.join("bin").join(name)
}

fn installed_version(binary: &Path) -> Option<String> {
    output_of(binary.to_str()?, &["--version"])
}

fn trunk() -> anyhow::Result<()> {
    if installed_version(&cargo_bin("trunk")).is_some_and(|version| version.contains(TRUNK_VERSION)) {
        return Ok(());
    }
    eprintln!("xtask: installing trunk {TRUNK_VERSION} (about ten minutes of compiling, once per machine)");
    run(Command::new("cargo").args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
}

/// wasm-bindgen-cli must be exactly the version of the wasm-bindgen crate
/// in Cargo.lock, or trunk would try to download one.
pub fn wasm_bindgen_version() -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next().and_then(|next| next.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen")
}

fn wasm_bindgen() -> anyhow::Result<()> {
    let version = wasm_bindgen_version()?;
    if installed_version(&cargo_bin("wasm-bindgen")).is_some_and(|installed| installed.contains(&version)) {
        return Ok(());
    }
    eprintln!("xtask: installing wasm-bindgen-cli {version} (a few minutes of compiling, once per machine)");
    // Not --locked: its lockfile pins a crate version the registry here lacks.
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &version]))
}

/// The directory of project-local tools (gitignored).
pub fn tools_dir() -> PathBuf {
    workspace_root().join(".tools")
}

fn wasm_opt() -> anyhow::Result<()> {
    let bin = tools_dir().join("node_modules/.bin/wasm-opt");
    let wanted = BINARYEN_VERSION.split('.').next().expect("a major version");
    if installed_version(&bin).is_some_and(|version| version.contains(&format!("version {wanted}"))) {
        return Ok(());
    }
    std::fs::create_dir_all(tools_dir())?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(tools_dir())
        .arg(format!("binaryen@{BINARYEN_VERSION}")))
}

/// PATH with the installed tools first, for trunk to find them.
pub fn tool_path() -> std::ffi::OsString {
    let mut paths = vec![tools_dir().join("node_modules/.bin"), cargo_bin("")];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).expect("paths without separators")
}

/// Python tools from PyPI, in a virtual environment of their own (Debian's
/// Python refuses system-wide pip installs): schemathesis, which tests the
/// live API against its contract; moto's S3 server, which the evidence
/// tests store objects in; openapi-python-client, which shows the contract
/// generates a client with every operation; openapi-spec-validator, which
/// checks the document against the OpenAPI specification.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";
pub const MOTO_VERSION: &str = "5.1.18";
pub const OPENAPI_PYTHON_CLIENT_VERSION: &str = "0.29.1";
pub const OPENAPI_SPEC_VALIDATOR_VERSION: &str = "0.9.0";

/// Each tool as pip names it, with its version.
const PYTHON_TOOLS: &[(&str, &str, &str)] = &[
    ("schemathesis", "schemathesis", SCHEMATHESIS_VERSION),
    ("moto", "moto[server]", MOTO_VERSION),
    ("openapi-python-client", "openapi-python-client", OPENAPI_PYTHON_CLIENT_VERSION),
    ("openapi-spec-validator", "openapi-spec-validator", OPENAPI_SPEC_VALIDATOR_VERSION),
];

pub fn schemathesis_bin() -> PathBuf {
    tools_dir().join("venv/bin/schemathesis")
}

fn python_tools() -> anyhow::Result<()> {
    let venv = tools_dir().join("venv");
    let pip = venv.join("bin/pip");
    let missing: Vec<String> = PYTHON_TOOLS
        .iter()
        .filter(|(name, _, version)| {
            output_of(pip.to_str().unwrap_or_default(), &["show", name])
                .is_none_or(|info| !info.lines().any(|line| line == format!("Version: {version}")))
        })
        .map(|(_, requirement, version)| format!("{requirement}=={version}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if output_of("python3", &["-m", "venv", "--help"]).is_none() {
        debian_packages(&["python3-venv"])?;
    }
    std::fs::create_dir_all(tools_dir())?;
    if !pip.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    eprintln!("xtask: installing from PyPI: {}", missing.join(" "));
    run(Command::new(&pip).args(["install", "--quiet"]).args(&missing))
}
