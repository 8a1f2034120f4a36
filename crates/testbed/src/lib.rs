//! Scratch servers for the cluster tests and benchmarks, and (`browser`) a headless
//! Chromium for the console's. The servers: one PostgreSQL server (the
//! catalog) and one single-node Garage (the S3-compatible segment store) per process,
//! started on first use and killed with the process (parent-death signal).
//!
//! PostgreSQL: Debian's binaries from the highest /usr/lib/postgresql/*/bin, run as the
//! `postgres` OS user when the tests run as root (the server refuses root). Trust
//! authentication on loopback (initdb's `--auth=trust`), so URLs carry no password:
//! `postgres://postgres@127.0.0.1:PORT/DB`. Unix sockets are off; fsync stays on.
//!
//! Garage: the binary named by `TRAILWATCH_GARAGE`, else
//! `$HOME/.cache/trailwatch/tools/bin/garage` (scripts/test builds it). These are the
//! commands that worked by hand against Garage v2.5.0, and what [`Garage::shared`] does
//! (CFG = the garage.toml it writes, PORT = its S3 port):
//!
//! ```text
//! RUST_LOG=garage=info garage -c CFG server > garage.log 2>&1 &
//! garage -c CFG node id -q       # retried until the node answers: "<64 hex>@127.0.0.1:RPC_PORT"
//! garage -c CFG layout assign -z dc1 -c 1G <the 64 hex>
//! garage -c CFG layout apply --version 1
//! garage -c CFG key create trailwatch-test    # prints "Key ID:   GK…" and "Secret key:   <64 hex>"
//! garage -c CFG bucket create trailwatch
//! garage -c CFG bucket allow --read --write --owner trailwatch --key trailwatch-test
//! # with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY set to that key, and AWS_CONFIG_FILE
//! # holding "[default]\ns3 =\n    addressing_style = path" (an IP endpoint gets path style
//! # without it too):
//! aws --endpoint-url http://127.0.0.1:PORT --region garage s3 cp probe.txt s3://trailwatch/probe.txt
//! aws --endpoint-url http://127.0.0.1:PORT --region garage s3 ls s3://trailwatch/
//! # → requests go to http://127.0.0.1:PORT/trailwatch?list-type=2…, the listing shows probe.txt
//! ```
//!
//! Garage serves path-style addressing only here (no `root_domain`): SDK clients need
//! `force_path_style(true)` and region `garage`.

pub mod browser;

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections before the harness gives up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The scratch PostgreSQL server shared by the tests of one binary.
pub struct Postgres {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The superuser the URLs connect as (trust authentication: no password).
    pub user: String,
    /// The temporary directory holding the data directory and the server log.
    pub dir: PathBuf,
    /// The server's log file (stdout and stderr of `postgres`).
    pub log: PathBuf,
    bin: PathBuf,
    server: Kept,
    next_db: AtomicUsize,
}

/// The single-node Garage shared by the tests of one binary.
pub struct Garage {
    /// `http://127.0.0.1:PORT` of the S3 API (path-style addressing).
    pub endpoint: String,
    /// The region Garage signs and checks (`s3_region`).
    pub region: String,
    /// Access key ID of the key allowed on every bucket the harness creates.
    pub access_key: String,
    /// Secret key of that key.
    pub secret_key: String,
    /// The bucket created at start (shared by every test of the binary).
    pub bucket: String,
    /// The temporary directory holding garage.toml, metadata, data and the log.
    pub dir: PathBuf,
    /// The server's log file.
    pub log: PathBuf,
    /// `http://127.0.0.1:PORT` of the admin API.
    pub admin_endpoint: String,
    /// Bearer token of the admin API.
    pub admin_token: String,
    bin: PathBuf,
    config: PathBuf,
    server: Kept,
    next_bucket: AtomicUsize,
}

static POSTGRES: OnceLock<Postgres> = OnceLock::new();
static GARAGE: OnceLock<Garage> = OnceLock::new();

impl Postgres {
    /// The server of this test binary, started on first use.
    pub fn shared() -> &'static Postgres {
        POSTGRES.get_or_init(Postgres::start)
    }

    fn start() -> Postgres {
        let bin = postgres_bin_dir();
        let dir = scratch_dir("postgres");
        let data = dir.join("data");
        let log = dir.join("postgres.log");
        let as_root = is_root();
        if as_root {
            let (uid, gid) = postgres_user();
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown {} to the postgres user: {e}", dir.display()));
        }

        let mut initdb = as_server_user(as_root, &bin.join("initdb"), false);
        initdb.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]);
        let out = initdb.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.join("initdb").display()));
        assert!(out.status.success(), "initdb of {} failed ({}):\n{}", data.display(), out.status, output_text(&out));

        let port = free_port();
        let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let (b, d) = (bin.clone(), data.clone());
        let server = Kept::spawn("postgres", move || {
            let mut c = as_server_user(as_root, &b.join("postgres"), true);
            c.arg("-D").arg(&d).arg("-c").arg(format!("port={port}")).args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=32MB",
            ]);
            c.stdin(Stdio::null()).stdout(log_file.try_clone().unwrap()).stderr(log_file);
            c
        });

        let pg = Postgres { port, user: "postgres".into(), dir, log, bin, server, next_db: AtomicUsize::new(0) };
        let deadline = Instant::now() + START_TIMEOUT;
        let port_text = port.to_string();
        loop {
            let ready = Command::new(pg.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", port_text.as_str(), "-U", pg.user.as_str(), "-d", "postgres"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return pg;
            }
            if let Some(status) = pg.server.exited() {
                panic!("postgres exited ({status}) before accepting connections; its log is {}", pg.log.display());
            }
            if Instant::now() > deadline {
                panic!(
                    "postgres on 127.0.0.1:{port} did not accept connections within {} s; its log is {}",
                    START_TIMEOUT.as_secs(),
                    pg.log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Creates a fresh, uniquely named database and returns its URL
    /// (`postgres://postgres@127.0.0.1:PORT/DB`).
    pub fn create_database(&self, name_hint: &str) -> String {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        let name = format!("tw_{}_{n}", identifier(name_hint, 40));
        let out = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", self.port.to_string().as_str(), "-U", self.user.as_str(), name.as_str()])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run createdb: {e}"));
        assert!(
            out.status.success(),
            "createdb {name} failed ({}):\n{}\nserver log: {}",
            out.status,
            output_text(&out),
            self.log.display()
        );
        self.url(&name)
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{}@127.0.0.1:{}/{db}", self.user, self.port)
    }

    /// Runs SQL with psql on the database of `url` and returns its unaligned, tuples-only
    /// output (fields separated by `|`, one row a line); panics on any error.
    pub fn psql(&self, url: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
        assert!(out.status.success(), "psql {sql:?} on {url} failed ({}):\n{}", out.status, output_text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The server's process ID (the postmaster).
    pub fn pid(&self) -> u32 {
        self.server.pid
    }
}

impl Garage {
    /// `trailwatch serve` flags for a cluster node keeping its catalog at `catalog_url`
    /// and its segments under `prefix` in this bucket, sealed with `master_key`. Nodes
    /// given the same three form one deployment.
    pub fn serve_flags(&self, catalog_url: &str, prefix: &str, master_key: &str) -> Vec<String> {
        let objects = format!("s3://{}/{prefix}", self.bucket);
        [
            "--catalog",
            catalog_url,
            "--objects",
            &objects,
            "--objects-endpoint",
            &self.endpoint,
            "--objects-region",
            &self.region,
            "--objects-access-key-id",
            &self.access_key,
            "--objects-secret-access-key",
            &self.secret_key,
            "--master-key",
            master_key,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// The Garage of this test binary, started and set up on first use.
    pub fn shared() -> &'static Garage {
        GARAGE.get_or_init(Garage::start)
    }

    fn start() -> Garage {
        let bin = garage_bin();
        let dir = scratch_dir("garage");
        let config = dir.join("garage.toml");
        let log = dir.join("garage.log");
        let (rpc_port, s3_port, admin_port) = (free_port(), free_port(), free_port());
        let region = "garage".to_owned();
        let admin_token = random_hex(32);
        std::fs::write(
            &config,
            format!(
                r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "lmdb"
metadata_fsync = true
data_fsync = true

replication_factor = 1

rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{rpc_secret}"

[s3_api]
s3_region = "{region}"
api_bind_addr = "127.0.0.1:{s3_port}"

[admin]
api_bind_addr = "127.0.0.1:{admin_port}"
admin_token = "{admin_token}"
"#,
                meta = dir.join("meta").display(),
                data = dir.join("data").display(),
                rpc_secret = random_hex(32),
            ),
        )
        .unwrap_or_else(|e| panic!("write {}: {e}", config.display()));

        let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let (b, cfg) = (bin.clone(), config.clone());
        let server = Kept::spawn("garage", move || {
            let mut c = Command::new(&b);
            c.arg("-c").arg(&cfg).arg("server").env("RUST_LOG", "garage=info");
            c.stdin(Stdio::null()).stdout(log_file.try_clone().unwrap()).stderr(log_file);
            die_with_parent(&mut c);
            c
        });

        let mut g = Garage {
            endpoint: format!("http://127.0.0.1:{s3_port}"),
            region,
            access_key: String::new(),
            secret_key: String::new(),
            bucket: "trailwatch".into(),
            dir,
            log,
            admin_endpoint: format!("http://127.0.0.1:{admin_port}"),
            admin_token,
            bin,
            config,
            server,
            next_bucket: AtomicUsize::new(0),
        };
        let deadline = Instant::now() + START_TIMEOUT;

        // The CLI talks to the node over RPC: it answers once the node is up.
        let node = g.cli_until(deadline, &["node", "id", "-q"]);
        let node_id = node.trim().split('@').next().unwrap_or_default().to_owned();
        assert!(node_id.len() == 64 && node_id.bytes().all(|b| b.is_ascii_hexdigit()), "unexpected `garage node id -q` output {node:?}");
        g.cli_until(deadline, &["layout", "assign", "-z", "dc1", "-c", "1G", node_id.as_str()]);
        g.cli_until(deadline, &["layout", "apply", "--version", "1"]);
        let key = g.cli_until(deadline, &["key", "create", "trailwatch-test"]);
        let field = |name: &str| {
            key.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| panic!("no {name:?} line in `garage key create` output:\n{key}"))
        };
        g.access_key = field("Key ID:");
        g.secret_key = field("Secret key:");
        let bucket = g.bucket.clone();
        g.create_named_bucket(&bucket, deadline);

        // The S3 API listens once the server is up; check it answers before handing it out.
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", s3_port)).is_ok() {
                return g;
            }
            g.check_alive_before(deadline, "its S3 port accepted connections");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Creates a fresh, uniquely named bucket the harness key may read, write and own,
    /// and returns its name: tests whose clusters must not see each other's objects
    /// (orphan sweeps delete what their catalog does not list) each take their own.
    pub fn create_bucket(&self, name_hint: &str) -> String {
        let n = self.next_bucket.fetch_add(1, Ordering::SeqCst);
        let hint: String = identifier(name_hint, 40).replace('_', "-");
        let name = format!("tw-{hint}-{n}");
        self.create_named_bucket(&name, Instant::now() + START_TIMEOUT);
        name
    }

    fn create_named_bucket(&self, name: &str, deadline: Instant) {
        self.cli_until(deadline, &["bucket", "create", name]);
        self.cli_until(deadline, &["bucket", "allow", "--read", "--write", "--owner", name, "--key", "trailwatch-test"]);
    }

    /// Runs `garage -c garage.toml ARGS` once and returns its output, whatever its status.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()))
    }

    /// Runs a CLI command until it succeeds (the node may still be starting or applying
    /// its layout) and returns its stdout; panics with the last output at the deadline.
    fn cli_until(&self, deadline: Instant, args: &[&str]) -> String {
        loop {
            let out = self.cli(args);
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
            if Instant::now() > deadline {
                panic!(
                    "`garage {}` kept failing for {} s; last ({}):\n{}\nserver log: {}",
                    args.join(" "),
                    START_TIMEOUT.as_secs(),
                    out.status,
                    output_text(&out),
                    self.log.display()
                );
            }
            self.check_alive_before(deadline, &format!("`garage {}` succeeded", args.join(" ")));
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn check_alive_before(&self, deadline: Instant, what: &str) {
        if let Some(status) = self.server.exited() {
            panic!("garage exited ({status}) before {what}; its log is {}", self.log.display());
        }
        if Instant::now() > deadline {
            panic!("garage did not get ready ({what}) within {} s; its log is {}", START_TIMEOUT.as_secs(), self.log.display());
        }
    }

    /// The server's process ID.
    pub fn pid(&self) -> u32 {
        self.server.pid
    }
}

/// A server process owned by a thread of its own that waits on it. The parent-death
/// signal fires when the *thread* that spawned a process ends, and a test's thread ends
/// with the test: spawning from a thread that lives as long as the child makes the
/// signal fire only when the test process itself dies.
struct Kept {
    /// The child's process ID.
    pid: u32,
    exit: Arc<Mutex<Option<ExitStatus>>>,
}

impl Kept {
    /// Spawns the command `make` builds, on a keeper thread.
    fn spawn(what: &'static str, make: impl FnOnce() -> Command + Send + 'static) -> Kept {
        let (tx, rx) = mpsc::channel();
        let exit = Arc::new(Mutex::new(None));
        let keeper_exit = exit.clone();
        std::thread::Builder::new()
            .name(format!("{what}-keeper"))
            .spawn(move || {
                let mut child = match make().spawn() {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let _ = tx.send(Ok(child.id()));
                let status = child.wait();
                *keeper_exit.lock().unwrap() = status.ok();
            })
            .expect("spawn a keeper thread");
        let pid = rx.recv().expect("the keeper thread reports").unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Kept { pid, exit }
    }

    /// The exit status once the process has ended.
    fn exited(&self) -> Option<ExitStatus> {
        *self.exit.lock().unwrap()
    }
}

/// Has the child get SIGKILL when the thread that spawned it ends.
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            // The spawning thread waits in spawn() until exec, so it cannot be gone yet.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A command running `program` as the `postgres` OS user when the tests run as root, and
/// directly otherwise; `kill_with_parent` adds the parent-death signal. setpriv sets it
/// after switching user (a credential change clears a signal set before).
fn as_server_user(as_root: bool, program: &Path, kill_with_parent: bool) -> Command {
    if as_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
        if kill_with_parent {
            c.args(["--pdeathsig", "KILL"]);
        }
        c.arg("--").arg(program);
        c
    } else {
        let mut c = Command::new(program);
        if kill_with_parent {
            die_with_parent(&mut c);
        }
        c
    }
}

/// The bin directory of the highest PostgreSQL version under /usr/lib/postgresql.
fn postgres_bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let best = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .max_by_key(|(v, _)| *v);
    match best {
        Some((_, bin)) => bin,
        None => panic!("no PostgreSQL server under {}/*/bin: install Debian's postgresql package (scripts/test does)", root.display()),
    }
}

/// The Garage binary: `TRAILWATCH_GARAGE`, else `$HOME/.cache/trailwatch/tools/bin/garage`.
fn garage_bin() -> PathBuf {
    let path = match std::env::var_os("TRAILWATCH_GARAGE") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/trailwatch/tools/bin/garage"),
    };
    assert!(
        path.is_file(),
        "no Garage binary at {}: run scripts/test (it builds Garage 2.5.0 once) or set TRAILWATCH_GARAGE",
        path.display()
    );
    path
}

/// Whether the tests run as root.
fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The uid and gid of the `postgres` OS user.
fn postgres_user() -> (u32, u32) {
    // SAFETY: getpwnam returns null or a pointer to a static entry, read at once.
    unsafe {
        let pw = libc::getpwnam(c"postgres".as_ptr());
        assert!(!pw.is_null(), "running as root needs the postgres OS user (Debian's postgresql package creates it)");
        ((*pw).pw_uid, (*pw).pw_gid)
    }
}

/// A fresh directory `trailwatch-{what}-{pid}` under the temp dir; removes those that
/// processes no longer running left behind.
fn scratch_dir(what: &str) -> PathBuf {
    let tmp = std::env::temp_dir();
    let prefix = format!("trailwatch-{what}-");
    for e in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(&prefix)).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let dir = tmp.join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

/// `bytes` random bytes as lowercase hex.
fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("the OS random source is available");
    hex::encode(b)
}

/// `hint` as a lowercase identifier of at most `max` characters (`[a-z0-9_]`).
fn identifier(hint: &str, max: usize) -> String {
    let s: String = hint.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(max).collect();
    if s.is_empty() { "db".into() } else { s }
}

/// A command's stdout and stderr, for failure messages.
fn output_text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
