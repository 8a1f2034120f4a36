//! MariaDB as the engine behind every DB instance: a data directory per instance, a
//! `mariadbd` process trailwatch starts and stops, and administrative statements sent
//! as the instance's root, which authenticates by the Unix socket as the OS user
//! running trailwatch (so no administrative password exists anywhere).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

/// How long a server may take to start or stop.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// What a server is to its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Not in a cluster.
    Standalone,
    /// A cluster's writer: takes writes, logs them for the readers.
    Writer { server_id: u32 },
    /// A cluster's reader: replicates the writer and takes no writes of its own.
    Reader { server_id: u32 },
}

/// Where MariaDB's programs are and what address servers listen on.
#[derive(Debug, Clone)]
pub struct Engine {
    mariadbd: PathBuf,
    install_db: PathBuf,
    client: PathBuf,
    dump: PathBuf,
    /// The address servers bind to and DescribeDBInstances reports.
    pub host: String,
}

/// The files of one instance under trailwatch's data directory.
#[derive(Debug, Clone)]
pub struct InstanceDir {
    pub root: PathBuf,
}

impl InstanceDir {
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// The live audit file; server_audit renames it to `.1`, `.2`, ... as it rotates.
    pub fn audit_log(&self) -> PathBuf {
        self.logs().join("audit").join("server_audit.log")
    }
    pub fn error_log(&self) -> PathBuf {
        self.logs().join("error.log")
    }
    pub fn general_log(&self) -> PathBuf {
        self.logs().join("general.log")
    }
    pub fn slow_log(&self) -> PathBuf {
        self.logs().join("slowquery.log")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("mariadbd.pid")
    }
    /// The publisher's checkpoints.
    pub fn publisher_state(&self) -> PathBuf {
        self.root.join("publisher")
    }
    /// The server's socket; Unix socket paths must stay under 108 bytes, so a long data
    /// directory gets one in the temporary directory named by a hash of the instance's.
    pub fn socket(&self) -> PathBuf {
        let near = self.root.join("mariadbd.sock");
        if near.as_os_str().len() < 100 {
            return near;
        }
        use sha2::Digest;
        let hash = hex::encode(&sha2::Sha256::digest(self.root.as_os_str().as_encoded_bytes())[..8]);
        std::env::temp_dir().join(format!("trailwatch-{hash}.sock"))
    }
}

impl Engine {
    /// Finds MariaDB's programs on PATH or where Debian installs them.
    pub fn discover(host: String) -> anyhow::Result<Engine> {
        let find = |names: &[&str]| -> anyhow::Result<PathBuf> {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let dirs: Vec<PathBuf> = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/usr/bin".into()]).collect();
            for name in names {
                for d in &dirs {
                    let p = d.join(name);
                    if p.is_file() {
                        return Ok(p);
                    }
                }
            }
            bail!("{} not found (install mariadb-server)", names[0])
        };
        Ok(Engine {
            mariadbd: find(&["mariadbd", "mysqld"])?,
            install_db: find(&["mariadb-install-db", "mysql_install_db"])?,
            client: find(&["mariadb", "mysql"])?,
            dump: find(&["mariadb-dump", "mysqldump"])?,
            host,
        })
    }

    /// Creates the instance's system tables, once.
    pub async fn initialize(&self, dir: &InstanceDir) -> anyhow::Result<()> {
        if dir.data().join("mysql").is_dir() {
            return Ok(());
        }
        std::fs::create_dir_all(dir.logs().join("audit"))?;
        // A half-made directory from a crash during initialization is made again.
        let _ = std::fs::remove_dir_all(dir.data());
        let user = os_user();
        let out = Command::new(&self.install_db)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.data().display()))
            .arg("--auth-root-authentication-method=socket")
            .arg(format!("--auth-root-socket-user={user}"))
            .arg("--skip-test-db")
            .arg(format!("--user={user}"))
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .output()
            .await
            .context("running mariadb-install-db")?;
        if !out.status.success() {
            bail!("mariadb-install-db failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(())
    }

    /// Starts the server and waits until it accepts connections on its socket. Members
    /// of a cluster write a binary log, so readers can replicate; readers are read-only.
    pub async fn start(&self, dir: &InstanceDir, port: u16, role: Role) -> anyhow::Result<Child> {
        std::fs::create_dir_all(dir.logs().join("audit"))?;
        stop_stale(dir).await;
        let mut cmd = Command::new(&self.mariadbd);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", dir.data().display()))
            .arg(format!("--port={port}"))
            .arg(format!("--bind-address={}", self.host))
            .arg(format!("--socket={}", dir.socket().display()))
            .arg(format!("--pid-file={}", dir.pid_file().display()))
            .arg(format!("--log-error={}", dir.error_log().display()))
            .arg(format!("--general-log-file={}", dir.general_log().display()))
            .arg(format!("--slow-query-log-file={}", dir.slow_log().display()))
            .arg("--plugin-load-add=server_audit")
            .arg(format!("--server-audit-file-path={}", dir.audit_log().display()))
            .arg("--server-audit-logging=OFF")
            .arg("--server-audit-file-rotate-size=100000000")
            .arg("--server-audit-file-rotations=9")
            .arg("--skip-name-resolve")
            .arg("--character-set-server=utf8mb4")
            .arg("--innodb-buffer-pool-size=32M")
            .arg("--innodb-log-file-size=16M")
            .arg(format!("--user={}", os_user()))
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(false);
        if let Role::Writer { server_id } | Role::Reader { server_id } = role {
            cmd.arg(format!("--server-id={server_id}"))
                .arg(format!("--log-bin={}", dir.data().join("mariadb-bin").display()))
                .arg("--binlog-format=ROW")
                .arg("--binlog-expire-logs-seconds=86400");
        }
        if let Role::Reader { .. } = role {
            cmd.arg("--read-only");
        }
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to signal the child
        // when trailwatch dies, so a killed trailwatch leaves no server behind.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = cmd.spawn().context("starting mariadbd")?;
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("mariadbd exited at start ({status}); see {}", dir.error_log().display());
            }
            if tokio::net::UnixStream::connect(dir.socket()).await.is_ok() && self.admin(dir, "SELECT 1;").await.is_ok() {
                return Ok(child);
            }
            if tokio::time::Instant::now() > deadline {
                let _ = child.start_kill();
                bail!("mariadbd did not start within {START_TIMEOUT:?}; see {}", dir.error_log().display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs statements as the instance's root over its socket; they travel on stdin so
    /// no secret in them shows in a process listing.
    pub async fn admin(&self, dir: &InstanceDir, sql: &str) -> anyhow::Result<String> {
        self.admin_bytes(dir, sql.as_bytes()).await
    }

    /// [`Engine::admin`] for SQL that need not be UTF-8, such as a dump.
    pub async fn admin_bytes(&self, dir: &InstanceDir, sql: &[u8]) -> anyhow::Result<String> {
        let mut child = Command::new(&self.client)
            .arg("--no-defaults")
            .arg(format!("--socket={}", dir.socket().display()))
            .arg("--user=root")
            .arg("--batch")
            .arg("--skip-column-names")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running the mariadb client")?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(sql).await?;
        drop(stdin);
        let out = child.wait_with_output().await?;
        if !out.status.success() {
            bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A consistent dump of every database (one transaction for InnoDB tables).
    pub async fn dump(&self, dir: &InstanceDir) -> anyhow::Result<Vec<u8>> {
        self.dump_with(dir, &[]).await
    }

    /// A dump to start a replica from: it also sets the replica's GTID position.
    pub async fn dump_for_replica(&self, dir: &InstanceDir) -> anyhow::Result<Vec<u8>> {
        self.dump_with(dir, &["--master-data=1", "--gtid"]).await
    }

    async fn dump_with(&self, dir: &InstanceDir, extra: &[&str]) -> anyhow::Result<Vec<u8>> {
        let out = Command::new(&self.dump)
            .arg("--no-defaults")
            .arg(format!("--socket={}", dir.socket().display()))
            .arg("--user=root")
            .arg("--single-transaction")
            .arg("--all-databases")
            .arg("--routines")
            .arg("--events")
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .await
            .context("running mariadb-dump")?;
        if !out.status.success() {
            bail!("mariadb-dump failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(out.stdout)
    }
}

/// Stops a server: SIGTERM (a clean InnoDB shutdown), SIGKILL if it hangs.
pub async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }
    if tokio::time::timeout(STOP_TIMEOUT, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}

/// A server left running by an earlier trailwatch (its pid file names a live mariadbd)
/// is stopped before a new one takes the data directory.
async fn stop_stale(dir: &InstanceDir) {
    let Ok(text) = std::fs::read_to_string(dir.pid_file()) else { return };
    let Ok(pid) = text.trim().parse::<i32>() else { return };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let datadir = format!("--datadir={}", dir.data().display());
    if !String::from_utf8_lossy(&cmdline).contains(&datadir) {
        return;
    }
    tracing::warn!(pid, dir = %dir.root.display(), "stopping a server left by an earlier run");
    // SAFETY: the pid names a mariadbd on this instance's data directory.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    for _ in 0..600 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// The name of the OS user trailwatch runs as.
fn os_user() -> String {
    // SAFETY: getpwuid returns a pointer to static storage or null; read at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() {
            return "root".into();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned()
    }
}

/// A port nobody listens on now.
pub fn free_port(host: &str) -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind((host, 0)).context("finding a free port")?;
    Ok(l.local_addr()?.port())
}
