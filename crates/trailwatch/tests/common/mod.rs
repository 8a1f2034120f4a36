//! Test harness: starts the real `trailwatch` binary on a free port with a fresh data
//! directory and builds AWS SDK clients pointed at it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

/// Access key the tests give the server as its root credentials.
pub const ACCESS_KEY: &str = "AKIATESTROOT00000001";
/// Secret key the tests give the server.
pub const SECRET_KEY: &str = "testSecretKey/For+TrailwatchIntegration1";
/// Region the clients sign for.
pub const REGION: &str = "us-east-1";
/// The account ID the tests give the server.
pub const ACCOUNT: &str = "111122223333";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A running trailwatch server.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The data directory (removed on drop unless the test failed).
    pub data_dir: PathBuf,
    extra_args: Vec<String>,
}

/// A fresh, empty directory for one test server.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("trailwatch-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Server {
    /// Starts a server with a fresh data directory.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// Starts a server with a fresh data directory and extra `serve` flags.
    pub fn start_with(extra: &[&str]) -> Server {
        let data_dir = fresh_dir("data");
        let mut s = Server { child: None, endpoint: String::new(), data_dir, extra_args: extra.iter().map(|s| s.to_string()).collect() };
        s.launch(None);
        s
    }

    /// The binary under test.
    pub fn binary() -> PathBuf {
        PathBuf::from(env!("CARGO_BIN_EXE_trailwatch"))
    }

    fn launch(&mut self, listen: Option<&str>) {
        let listen = listen.unwrap_or("127.0.0.1:0").to_owned();
        let mut child = Command::new(Self::binary())
            .arg("serve")
            .arg("--listen")
            .arg(&listen)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--account-id")
            .arg(ACCOUNT)
            .args(&self.extra_args)
            .env("TRAILWATCH_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
            .env("TRAILWATCH_ROOT_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("TRAILWATCH_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start trailwatch");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let endpoint = loop {
            let line = lines.next().expect("trailwatch exited before listening").unwrap();
            if let Some(url) = line.strip_prefix("trailwatch listening on ") {
                break url.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.endpoint = endpoint;
        self.child = Some(child);
        wait_healthy(&self.endpoint);
    }

    /// The `host:port` the server listens on.
    pub fn addr(&self) -> String {
        self.endpoint.trim_start_matches("http://").to_owned()
    }

    /// Kills the server with SIGKILL: no chance to flush anything.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server with SIGTERM and waits for a graceful exit; returns its status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        Some(c.wait().unwrap())
    }

    /// Starts the server again on the same port and data directory.
    pub fn restart(&mut self) {
        let addr = self.addr();
        self.launch(Some(&addr));
    }

    /// The server's process ID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// An SDK config for this server, signing at the current time.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        self.sdk_config_with(ACCESS_KEY, SECRET_KEY, None)
    }

    /// An SDK config with other credentials and, optionally, a fixed signing time.
    pub fn sdk_config_with(&self, access_key: &str, secret: &str, signing_time: Option<SystemTime>) -> aws_config::SdkConfig {
        let mut b = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                access_key, secret, None, None, "test",
            )))
            .retry_config(aws_config::retry::RetryConfig::disabled());
        if let Some(t) = signing_time {
            b = b.time_source(aws_smithy_async::time::StaticTimeSource::new(t));
        }
        b.build()
    }

    /// A CloudWatch Logs client for this server.
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk_config())
    }

    /// An STS client for this server.
    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// Waits until `/_trailwatch/health` answers 200.
pub fn wait_healthy(endpoint: &str) {
    let addr = endpoint.trim_start_matches("http://");
    for _ in 0..200 {
        if let Ok(body) = http_get(addr, "/_trailwatch/health")
            && body.starts_with("HTTP/1.1 200")
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("trailwatch at {endpoint} never became healthy");
}

/// A plain HTTP GET, returning the raw response.
pub fn http_get(addr: &str, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Every file under a directory, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
