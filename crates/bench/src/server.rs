//! Starting, health-checking and stopping a `trailwatch serve` child process.

use std::fs::{self, File};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::Creds;

/// How long the server may take to answer its health check after spawning.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the server may take to exit after SIGTERM before it is killed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);

/// A server the bench started; stopped (and its files kept) if dropped early.
pub struct ServerProcess {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The server's data directory, inside `work_dir`.
    pub data_dir: PathBuf,
    /// Holds the data directory and `server.log`.
    pub work_dir: PathBuf,
    /// Set once [`ServerProcess::stop`] ran, i.e. the bench reached its normal end.
    stopped: bool,
}

impl ServerProcess {
    /// Spawns `bin serve` on a free port with a fresh data dir and waits until healthy.
    pub async fn start(bin: &Path, creds: &Creds) -> Result<Self> {
        Self::start_with(bin, creds, &[]).await
    }

    /// Like [`ServerProcess::start`], with more `serve` flags.
    pub async fn start_with(bin: &Path, creds: &Creds, flags: &[&str]) -> Result<Self> {
        let work_dir = fresh_work_dir()?;
        let spawned = Self::spawn(bin, creds, work_dir.clone(), flags);
        let mut server = match spawned {
            Ok(server) => server,
            Err(e) => {
                // Nothing ran, so there is nothing worth keeping.
                let _ = fs::remove_dir_all(&work_dir);
                return Err(e);
            }
        };
        server.wait_healthy().await?;
        Ok(server)
    }

    /// Launches the process; output goes to `work_dir/server.log`.
    fn spawn(bin: &Path, creds: &Creds, work_dir: PathBuf, flags: &[&str]) -> Result<Self> {
        let data_dir = work_dir.join("data");
        fs::create_dir(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let log_path = work_dir.join("server.log");
        let log = File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let addr = format!("127.0.0.1:{}", free_port()?);

        let child = Command::new(bin)
            .args(["serve", "--listen", &addr, "--data-dir"])
            .arg(&data_dir)
            .args(flags)
            .env("TRAILWATCH_ROOT_ACCESS_KEY_ID", &creds.access_key_id)
            .env("TRAILWATCH_ROOT_SECRET_ACCESS_KEY", &creds.secret_access_key)
            .stdin(Stdio::null())
            // Server output goes to a file so it cannot interleave with the figures.
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {} (build it with `cargo build --release`)", bin.display()))?;

        Ok(Self { child, endpoint: format!("http://{addr}"), addr, data_dir, work_dir, stopped: false })
    }

    /// The server's process id, for memory sampling.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `GET /_trailwatch/health` until it answers 200.
    async fn wait_healthy(&mut self) -> Result<()> {
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < STARTUP_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                bail!("server exited during startup with {status}\n{}", self.log_tail());
            }
            match health_status(&self.addr).await {
                Ok(200) => return Ok(()),
                Ok(code) => last = format!("HTTP {code}"),
                Err(e) => last = format!("{e:#}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("server not healthy after {STARTUP_TIMEOUT:?} (last: {last})\n{}", self.log_tail())
    }

    /// Sends SIGTERM, waits for a clean exit, and SIGKILLs after a timeout.
    pub fn stop(&mut self) -> Result<ExitStatus> {
        self.stopped = true;
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        // std has no SIGTERM and libc is not a dependency; kill(1) is everywhere.
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().context("running kill -TERM")?;
        if sent.success() {
            let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
            while Instant::now() < deadline {
                if let Some(status) = self.child.try_wait()? {
                    return Ok(status);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!("server: no exit {SHUTDOWN_TIMEOUT:?} after SIGTERM, sending SIGKILL");
        }
        self.child.kill()?;
        Ok(self.child.wait()?)
    }

    /// Removes the work dir (data and log).
    pub fn remove_files(&self) -> Result<()> {
        fs::remove_dir_all(&self.work_dir).with_context(|| format!("removing {}", self.work_dir.display()))
    }

    /// The last lines of `server.log`, for startup failures.
    fn log_tail(&self) -> String {
        let mut text = String::new();
        let path = self.work_dir.join("server.log");
        if File::open(&path).and_then(|mut f| f.read_to_string(&mut text)).is_err() {
            return format!("(could not read {})", path.display());
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", path.display())
    }
}

impl Drop for ServerProcess {
    /// On an early exit (error or panic) never leave a server running; keep
    /// its files, since they are what you want to look at after a failure.
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        let how = match self.child.try_wait() {
            Ok(Some(status)) => format!("had exited by itself ({status})"),
            _ => {
                let _ = self.stop();
                "stopped".to_owned()
            }
        };
        eprintln!("server: {how}; log and data kept in {}", self.work_dir.display());
    }
}

/// `GET /_trailwatch/health` over a raw connection; returns the status code.
pub async fn health_status(addr: &str) -> Result<u16> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!("GET /_trailwatch/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        // The status line arrives first; no need to read the whole body.
        let mut head = vec![0; 64];
        let mut len = 0;
        while len < head.len() && !head[..len].contains(&b'\n') {
            let n = stream.read(&mut head[len..]).await?;
            if n == 0 {
                break;
            }
            len += n;
        }
        head.truncate(len);
        anyhow::Ok(head)
    };
    let head = tokio::time::timeout(Duration::from_secs(2), exchange).await.context("health check timed out")??;
    parse_status(&head).with_context(|| format!("bad HTTP response {:?}", String::from_utf8_lossy(&head)))
}

/// The status code of an `HTTP/1.x NNN ...` status line.
fn parse_status(head: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(head).ok()?.lines().next()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

/// Asks the OS for a free port; the tiny race until the server binds is acceptable.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A new, empty, uniquely named directory under the system temp dir.
fn fresh_work_dir() -> Result<PathBuf> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.subsec_nanos();
    let dir = std::env::temp_dir().join(format!("trailwatch-bench-{}-{nanos}", std::process::id()));
    fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 200 OK\r\ncontent-length: 2"), Some(200));
        assert_eq!(parse_status(b"HTTP/1.0 503 Service Unavailable\r\n"), Some(503));
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }
}
