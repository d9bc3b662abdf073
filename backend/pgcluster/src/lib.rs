//! A private PostgreSQL cluster in a data directory, run with the server
//! binaries installed on the machine (Debian's `postgresql` package).
//!
//! duban uses it as its embedded default database and the test suite uses
//! it as a throwaway server. The cluster listens on a Unix socket only, in a
//! directory nobody else can enter, so it never clashes with another server
//! and accepts connections only from this machine's account that runs it.
//!
//! PostgreSQL refuses to run as root. When duban runs as root, the cluster
//! runs as an unprivileged OS user (`postgres`, which the Debian package
//! creates) and owns its directories.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The port number only names the socket file (`.s.PGSQL.<port>`); nothing
/// listens on TCP.
pub const PORT: u16 = 5432;

/// The settings every duban session runs with, as (parameter, value)
/// pairs: the server sets them on each pooled connection and the benchmark
/// gives pgbench the same, so the two run the same plans. Why these values:
/// see `SessionSettings` in the server's `db` module.
pub const SESSION_SETTINGS: &[(&str, &str)] =
    &[("plan_cache_mode", "force_generic_plan"), ("max_parallel_workers_per_gather", "0"), ("jit", "off")];

/// [`SESSION_SETTINGS`] as `SET` statements for one batch.
pub fn session_settings_sql() -> String {
    SESSION_SETTINGS.iter().map(|(name, value)| format!("SET {name} = {value};")).collect::<Vec<_>>().join(" ")
}

/// [`SESSION_SETTINGS`] as libpq's `PGOPTIONS` (for psql, pgbench).
pub fn session_settings_pgoptions() -> String {
    SESSION_SETTINGS.iter().map(|(name, value)| format!("-c {name}={value}")).collect::<Vec<_>>().join(" ")
}

/// A Unix socket path may not exceed 107 bytes on Linux.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries were not found (looked for initdb and postgres in {searched}). \
         Install them with `sudo apt-get install postgresql`, point DUBAN_PG_BIN_DIR at the directory \
         that holds them, or set DATABASE_URL to use an existing server"
    )]
    BinariesNotFound { searched: String },
    #[error(
        "duban runs as root and PostgreSQL refuses to; it needs the unprivileged OS user {user:?} to run the \
         database (the Debian package postgresql creates it: `sudo apt-get install postgresql`), or set \
         DATABASE_URL to use an existing server"
    )]
    NoUnprivilegedUser { user: String },
    #[error(
        "the database user {user:?} cannot enter {dir}, a parent of the data directory; choose a data \
         directory elsewhere (for example DUBAN_DATA_DIR=/var/lib/duban) or make {dir} traversable"
    )]
    ParentNotTraversable { user: String, dir: PathBuf },
    #[error("{path} exists but is not a PostgreSQL data directory (it has no PG_VERSION); choose an empty or new directory")]
    NotADataDirectory { path: PathBuf },
    #[error("{command} failed ({status}); its output is in {log}:\n{tail}")]
    CommandFailed { command: String, status: String, log: PathBuf, tail: String },
    #[error("PostgreSQL did not accept connections within {seconds} s; its log is {log}:\n{tail}")]
    NotReady { seconds: u64, log: PathBuf, tail: String },
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ClusterError {
    let path = path.to_owned();
    move |source| ClusterError::Io { action, path, source }
}

/// How to run a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The cluster's data directory (PGDATA). Created and initialised when missing.
    pub data_dir: PathBuf,
    /// Where the cluster's log goes.
    pub log_file: PathBuf,
    /// Directory with `initdb`, `postgres` and `pg_isready`; found when `None`.
    pub bin_dir: Option<PathBuf>,
    /// The OS user that runs the cluster when this process is root.
    pub os_user: String,
    /// Whether commits must survive a power loss. Off only for tests.
    pub durable: bool,
    /// Whether the cluster stops when the process that started it dies,
    /// even by SIGKILL. Off for a cluster shared by many test processes.
    pub stop_with_parent: bool,
}

impl ClusterOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        let log_file = data_dir.with_extension("log");
        ClusterOptions { data_dir, log_file, bin_dir: None, os_user: "postgres".to_owned(), durable: true, stop_with_parent: true }
    }
}

/// A running cluster. Dropping it stops the cluster if this process started it.
#[derive(Debug)]
pub struct Cluster {
    child: Option<Child>,
    /// How it was started, to start it again.
    options: ClusterOptions,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    /// Whether this process started the cluster (and so stops it).
    owned: bool,
}

impl Cluster {
    /// Starts the cluster in `options.data_dir`, initialising it first if
    /// the directory is new; reuses it when it is already running.
    pub fn start(options: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let bin_dir = match &options.bin_dir {
            Some(dir) => dir.clone(),
            None => find_bin_dir()?,
        };
        let runner = Runner::for_current_process(&options.os_user)?;
        let data_dir = absolute(&options.data_dir)?;
        let socket_dir = socket_dir_for(&data_dir);

        if let Some(parent) = data_dir.parent() {
            fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
            runner.check_traversable(parent)?;
        }
        if let Some(parent) = options.log_file.parent() {
            fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
        }
        runner.private_dir(&socket_dir)?;

        let cluster = |child, owned| Cluster {
            child,
            options: options.clone(),
            data_dir: data_dir.clone(),
            socket_dir: socket_dir.clone(),
            log_file: options.log_file.clone(),
            owned,
        };

        if data_dir.join("postmaster.pid").exists() && is_ready(&bin_dir, &socket_dir) {
            tracing::info!(data_dir = %data_dir.display(), "reusing the PostgreSQL cluster that is already running");
            return Ok(cluster(None, false));
        }

        clear_stale_lock(&data_dir)?;
        if !data_dir.join("PG_VERSION").exists() {
            let occupied = fs::read_dir(&data_dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
            if occupied {
                return Err(ClusterError::NotADataDirectory { path: data_dir });
            }
            runner.private_dir(&data_dir)?;
            initdb(&bin_dir, &runner, &data_dir, options)?;
        }

        let log = open_log(&options.log_file)?;
        let mut command = Command::new(bin_dir.join("postgres"));
        command
            .arg("-D")
            .arg(&data_dir)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-p", &PORT.to_string(), "-c", "listen_addresses=", "-c", "unix_socket_permissions=0700"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io_error("opening", &options.log_file))?)
            .stderr(log)
            // Its own process group: a Ctrl-C in the terminal reaches duban,
            // which shuts down in order and then stops the cluster.
            .process_group(0);
        if !options.durable {
            command.args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
        runner.apply(&mut command);
        if options.stop_with_parent {
            // SAFETY: prctl is async-signal-safe and touches no memory of
            // the parent; it runs in the child between fork and exec, after
            // the user switch (which would otherwise clear the setting).
            unsafe {
                command.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = command.spawn().map_err(io_error("starting", &bin_dir.join("postgres")))?;
        let mut started = cluster(Some(child), true);
        started.wait_until_ready(&bin_dir)?;
        tracing::info!(data_dir = %data_dir.display(), pid = started.pid(), "PostgreSQL cluster started");
        Ok(started)
    }

    /// Makes a streaming replica of this cluster in `options.data_dir`
    /// (new or empty) and starts it: a base backup with the WAL streamed
    /// alongside and the standby settings written (`pg_basebackup -X stream
    /// -R`), run as the cluster's user.
    pub fn start_replica(&self, options: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let bin_dir = match &options.bin_dir {
            Some(dir) => dir.clone(),
            None => find_bin_dir()?,
        };
        let runner = Runner::for_current_process(&options.os_user)?;
        let data_dir = absolute(&options.data_dir)?;
        if let Some(parent) = data_dir.parent() {
            fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
            runner.check_traversable(parent)?;
        }
        runner.private_dir(&data_dir)?;
        let log = open_log(&options.log_file)?;
        let mut command = Command::new(bin_dir.join("pg_basebackup"));
        command
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-p", &PORT.to_string(), "-U", "postgres", "-X", "stream", "-R", "-c", "fast", "-D"])
            .arg(&data_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io_error("opening", &options.log_file))?)
            .stderr(log);
        runner.apply(&mut command);
        let status = command.status().map_err(io_error("running", &bin_dir.join("pg_basebackup")))?;
        if !status.success() {
            return Err(ClusterError::CommandFailed {
                command: "pg_basebackup".to_owned(),
                status: status.to_string(),
                log: options.log_file.clone(),
                tail: tail_of(&options.log_file),
            });
        }
        Cluster::start(options)
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn wait_until_ready(&mut self, bin_dir: &Path) -> Result<(), ClusterError> {
        const LIMIT: Duration = Duration::from_secs(60);
        let started = Instant::now();
        loop {
            if is_ready(bin_dir, &self.socket_dir) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.owned = false;
                return Err(ClusterError::CommandFailed {
                    command: "postgres".to_owned(),
                    status: status.to_string(),
                    log: self.log_file.clone(),
                    tail: tail_of(&self.log_file),
                });
            }
            if started.elapsed() > LIMIT {
                return Err(ClusterError::NotReady { seconds: LIMIT.as_secs(), log: self.log_file.clone(), tail: tail_of(&self.log_file) });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the postmaster this process started has exited; reaps it
    /// when it has (a dead child left unreaped keeps its pid, and its stale
    /// lock file would then look alive).
    pub fn has_exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok().flatten()?;
        self.child = None;
        tracing::error!(data_dir = %self.data_dir.display(), %status, "the PostgreSQL postmaster exited");
        Some(status)
    }

    /// Whether this process runs the cluster's postmaster (as far as it
    /// knows: see [`Cluster::has_exited`]).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the cluster again after its postmaster died. Fails while the
    /// dead postmaster's backends still hold its shared memory; call again.
    pub fn restart(&mut self) -> Result<(), ClusterError> {
        let mut restarted = Cluster::start(&self.options)?;
        self.child = restarted.child.take();
        self.owned = restarted.owned;
        restarted.owned = false;
        Ok(())
    }

    /// The directory of the cluster's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A libpq connection URL for `database` as the superuser `postgres`.
    pub fn url(&self, database: &str) -> String {
        socket_url(&self.socket_dir, database)
    }

    /// Leaves the cluster running after this value is dropped, for a
    /// cluster shared by several processes. Stop it with [`stop_data_dir`].
    pub fn detach(mut self) {
        self.owned = false;
        self.child = None;
    }

    /// Stops the cluster if this process started it: a fast shutdown that
    /// rolls back open transactions and writes a clean checkpoint.
    pub fn stop(&mut self) {
        if !self.owned {
            return;
        }
        self.owned = false;
        if let Some(mut child) = self.child.take() {
            match stop_child(&mut child) {
                Ok(()) => tracing::info!(data_dir = %self.data_dir.display(), "PostgreSQL cluster stopped"),
                Err(error) => tracing::error!(%error, "stopping the PostgreSQL cluster"),
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A libpq URL that connects over the Unix socket in `socket_dir`.
pub fn socket_url(socket_dir: &Path, database: &str) -> String {
    format!("postgres://postgres@/{database}?host={}&port={PORT}", percent_encode(&socket_dir.to_string_lossy()))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn stop_child(child: &mut Child) -> io::Result<()> {
    let pid = child.id() as libc::pid_t;
    for (signal, patience) in [(libc::SIGINT, 30), (libc::SIGQUIT, 5), (libc::SIGKILL, 5)] {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        // SAFETY: kill has no memory effects; the pid is our own child, not yet reaped.
        unsafe { libc::kill(pid, signal) };
        let deadline = Instant::now() + Duration::from_secs(patience);
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Err(io::Error::other("postgres did not exit"))
}

/// Removes the data directory's lock file when the postmaster it names is
/// gone: its pid is not running, or is now some other program. A lock file
/// of a live postmaster is left alone.
fn clear_stale_lock(data_dir: &Path) -> Result<(), ClusterError> {
    let lock = data_dir.join("postmaster.pid");
    let Ok(contents) = fs::read_to_string(&lock) else { return Ok(()) };
    let Some(pid) = contents.lines().next().and_then(|line| line.trim().parse::<libc::pid_t>().ok()) else {
        return Ok(());
    };
    // SAFETY: signal 0 only asks whether the process exists; kill touches no memory.
    let exists = unsafe { libc::kill(pid, 0) } == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    let command = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let is_postgres = String::from_utf8_lossy(&command).contains("postgres");
    // A zombie still exists but is not running.
    let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false);
    if !exists || !is_postgres || zombie {
        tracing::warn!(pid, lock = %lock.display(), "removing the lock file of a PostgreSQL that is no longer running");
        fs::remove_file(&lock).map_err(io_error("removing", &lock))?;
    }
    Ok(())
}

/// Stops a cluster started by another process (a detached test cluster)
/// by signalling the postmaster named in its lock file.
pub fn stop_data_dir(data_dir: &Path) -> Result<bool, ClusterError> {
    let lock = data_dir.join("postmaster.pid");
    let Ok(contents) = fs::read_to_string(&lock) else { return Ok(false) };
    let Some(pid) = contents.lines().next().and_then(|line| line.trim().parse::<libc::pid_t>().ok()) else {
        return Ok(false);
    };
    // SAFETY: signalling a pid read from the lock file; kill touches no memory.
    if unsafe { libc::kill(pid, libc::SIGINT) } != 0 {
        return Ok(false);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while lock.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(true)
}

/// Finds the PostgreSQL server to run: the directory `DUBAN_PG_BIN_DIR`
/// names when it is set (and only that), else the newest of Debian's
/// /usr/lib/postgresql/<version>/bin, else the PATH.
pub fn find_bin_dir() -> Result<PathBuf, ClusterError> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    let mut searched = Vec::new();
    if let Some(dir) = std::env::var_os("DUBAN_PG_BIN_DIR").map(PathBuf::from) {
        if has_server(&dir) {
            return Ok(dir);
        }
        return Err(ClusterError::BinariesNotFound { searched: format!("{} (DUBAN_PG_BIN_DIR)", dir.display()) });
    }
    let debian = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(debian)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    searched.push(format!("{}/*/bin", debian.display()));
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if has_server(&dir) {
            return Ok(dir);
        }
    }
    searched.push("the PATH".to_owned());
    Err(ClusterError::BinariesNotFound { searched: searched.join(", ") })
}

fn is_ready(bin_dir: &Path, socket_dir: &Path) -> bool {
    Command::new(bin_dir.join("pg_isready"))
        .arg("-q")
        .arg("-h")
        .arg(socket_dir)
        .args(["-p", &PORT.to_string(), "-U", "postgres", "-d", "postgres", "-t", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn initdb(bin_dir: &Path, runner: &Runner, data_dir: &Path, options: &ClusterOptions) -> Result<(), ClusterError> {
    let log = open_log(&options.log_file)?;
    let mut command = Command::new(bin_dir.join("initdb"));
    command
        .arg("-D")
        .arg(data_dir)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(io_error("opening", &options.log_file))?)
        .stderr(log);
    if !options.durable {
        command.arg("--no-sync");
    }
    runner.apply(&mut command);
    let status = command.status().map_err(io_error("running", &bin_dir.join("initdb")))?;
    if !status.success() {
        return Err(ClusterError::CommandFailed {
            command: "initdb".to_owned(),
            status: status.to_string(),
            log: options.log_file.clone(),
            tail: tail_of(&options.log_file),
        });
    }
    tracing::info!(data_dir = %data_dir.display(), "initialised a new PostgreSQL cluster");
    Ok(())
}

fn open_log(path: &Path) -> Result<File, ClusterError> {
    OpenOptions::new().create(true).append(true).open(path).map_err(io_error("opening", path))
}

fn tail_of(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn absolute(path: &Path) -> Result<PathBuf, ClusterError> {
    std::path::absolute(path).map_err(io_error("resolving", path))
}

/// A 64-bit hash of `bytes` that is the same in every run and with every
/// Rust version, unlike `DefaultHasher` (FNV-1a): for names derived from
/// paths and contents (socket directories, test databases) and for
/// fingerprints that must survive a restart (pagination cursors).
pub fn stable_hash(bytes: impl IntoIterator<Item = impl std::borrow::Borrow<u8>>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(*byte.borrow())).wrapping_mul(0x0100_0000_01b3))
}

/// The socket lives next to the data directory when that path is short
/// enough, and in /tmp under a name derived from the data directory otherwise.
fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let beside = data_dir.with_extension("sock");
    let socket_file_len = format!("/.s.PGSQL.{PORT}.lock").len();
    if beside.as_os_str().len() + socket_file_len <= MAX_SOCKET_PATH {
        return beside;
    }
    let hash = stable_hash(data_dir.as_os_str().as_encoded_bytes());
    std::env::temp_dir().join(format!("duban-pg-{hash:016x}"))
}

/// Who runs PostgreSQL's processes: this process's user, or when that is
/// root, the unprivileged OS user.
struct Runner {
    switch_to: Option<(String, u32, u32)>,
}

impl Runner {
    fn for_current_process(os_user: &str) -> Result<Runner, ClusterError> {
        // SAFETY: geteuid cannot fail and has no side effects.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(Runner { switch_to: None });
        }
        let name = CString::new(os_user).map_err(|_| ClusterError::NoUnprivilegedUser { user: os_user.to_owned() })?;
        // SAFETY: getpwnam returns a pointer into static storage or null; the
        // fields are copied out at once, before any other call could reuse it.
        let entry = unsafe { libc::getpwnam(name.as_ptr()) };
        if entry.is_null() {
            return Err(ClusterError::NoUnprivilegedUser { user: os_user.to_owned() });
        }
        // SAFETY: entry is non-null and points to a valid passwd record.
        let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
        Ok(Runner { switch_to: Some((os_user.to_owned(), uid, gid)) })
    }

    fn apply(&self, command: &mut Command) {
        if let Some((_, uid, gid)) = &self.switch_to {
            command.uid(*uid).gid(*gid);
        }
    }

    /// Creates a directory only the cluster's user may enter.
    fn private_dir(&self, dir: &Path) -> Result<(), ClusterError> {
        fs::create_dir_all(dir).map_err(io_error("creating", dir))?;
        if let Some((_, uid, gid)) = &self.switch_to {
            std::os::unix::fs::chown(dir, Some(*uid), Some(*gid)).map_err(io_error("changing the owner of", dir))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_error("restricting", dir))
    }

    /// Every directory above the data directory must be enterable by the
    /// cluster's user: a data directory under /root, for one, is not.
    fn check_traversable(&self, dir: &Path) -> Result<(), ClusterError> {
        let Some((user, uid, gid)) = &self.switch_to else { return Ok(()) };
        for ancestor in dir.ancestors() {
            let metadata = fs::metadata(ancestor).map_err(io_error("inspecting", ancestor))?;
            let mode = metadata.mode();
            let may_enter = if metadata.uid() == *uid {
                mode & 0o100 != 0
            } else if metadata.gid() == *gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if !may_enter {
                return Err(ClusterError::ParentNotTraversable { user: user.clone(), dir: ancestor.to_owned() });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_socket_paths_short() {
        let short = socket_dir_for(Path::new("/var/lib/duban/pg"));
        assert_eq!(short, Path::new("/var/lib/duban/pg.sock"));
        let long = PathBuf::from(format!("/{}/pg", "x".repeat(120)));
        let socket = socket_dir_for(&long);
        assert!(socket.starts_with(std::env::temp_dir()), "{}", socket.display());
        assert_eq!(socket, socket_dir_for(&long), "the same data directory gets the same socket");
    }

    #[test]
    fn urls_encode_unusual_paths() {
        assert_eq!(socket_url(Path::new("/tmp/a b"), "duban"), "postgres://postgres@/duban?host=/tmp/a%20b&port=5432");
    }

    #[test]
    fn starts_stops_and_restarts_a_cluster() {
        let Ok(bin_dir) = find_bin_dir() else {
            panic!("this test needs PostgreSQL's server binaries: apt-get install postgresql");
        };
        let root = tempfile::Builder::new().prefix("duban-pgcluster-").tempdir_in("/tmp").unwrap();
        let mut options = ClusterOptions::new(root.path().join("pg"));
        options.bin_dir = Some(bin_dir.clone());
        options.durable = false;
        let mut cluster = Cluster::start(&options).unwrap();
        assert!(is_ready(&bin_dir, cluster.socket_dir()));
        let socket = cluster.socket_dir().to_owned();
        cluster.stop();
        assert!(!is_ready(&bin_dir, &socket));
        assert!(!root.path().join("pg/postmaster.pid").exists(), "a fast shutdown removes the lock file");

        // The second start reuses the initialised directory.
        let started = Instant::now();
        let cluster = Cluster::start(&options).unwrap();
        assert!(is_ready(&bin_dir, cluster.socket_dir()));
        assert!(started.elapsed() < Duration::from_secs(20));
        let log = fs::read_to_string(&options.log_file).unwrap();
        assert_eq!(log.matches("Success. You can now start the database server").count(), 1, "initdb ran once");
    }
}
