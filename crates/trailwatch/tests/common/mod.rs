//! Test harness: starts the real `trailwatch` binary on a free port with a fresh data
//! directory and builds AWS SDK clients pointed at it.
#![allow(dead_code)]

pub mod aws;
pub mod capture;
pub use testbed as cluster;

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

/// Seed 001: the policy Aurora needs to publish its logs to CloudWatch Logs, verbatim.
pub const SEED_001_POLICY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EnableCreationAndManagementOfRDSCloudwatchLogEvents",
            "Effect": "Allow",
            "Action": [
                "logs:GetLogEvents",
                "logs:PutLogEvents"
            ],
            "Resource": "arn:aws:logs:*:*:log-group:/aws/rds/*:log-stream:*"
        },
        {
            "Sid": "EnableCreationAndManagementOfRDSCloudwatchLogStreams",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutRetentionPolicy"
            ],
            "Resource": "arn:aws:logs:*:*:log-group:/aws/rds/*"
        },
        {
            "Sid": "EnableCreationAndManagementOfRDSCloudwatchLogGroups",
            "Effect": "Allow",
            "Action": "logs:CreateLogGroup",
            "Resource": "*"
        }
    ]
}"#;

/// Seed 004: the trust policy that lets CloudTrail assume its role, verbatim.
pub const SEED_004_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "",
      "Effect": "Allow",
      "Principal": {
        "Service": "cloudtrail.amazonaws.com"
      },
      "Action": "sts:AssumeRole"
    }
  ]
}"#;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The master key every cluster node of the tests shares (cluster mode needs one given).
pub const CLUSTER_MASTER_KEY: &str = "5eedc0de5eedc0de5eedc0de5eedc0de5eedc0de5eedc0de5eedc0de5eedc0de";

/// Whether the suite runs in cluster mode (`TRAILWATCH_TEST_CLUSTER=1`): every server
/// then keeps its catalog in the shared PostgreSQL and its segments in Garage.
pub fn cluster_mode() -> bool {
    std::env::var_os("TRAILWATCH_TEST_CLUSTER").is_some_and(|v| v == "1")
}

/// `serve` flags for a cluster node: a catalog database (from
/// [`cluster::Postgres::create_database`]), a prefix in the shared Garage bucket, and
/// the shared master key. Nodes given the same two share one deployment.
pub fn cluster_flags(catalog_url: &str, objects_prefix: &str) -> Vec<String> {
    cluster::Garage::shared().serve_flags(catalog_url, objects_prefix, CLUSTER_MASTER_KEY)
}

/// A fresh cluster deployment's flags: a new database and a new objects prefix.
pub fn fresh_cluster_flags(tag: &str) -> Vec<String> {
    let url = cluster::Postgres::shared().create_database(tag);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    cluster_flags(&url, &format!("{tag}-{}-{n}", std::process::id()))
}

/// A running trailwatch server.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The data directory (removed on drop unless the test failed).
    pub data_dir: PathBuf,
    extra_args: Vec<String>,
    extra_env: Vec<(String, String)>,
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

    /// Starts a server with a fresh data directory and extra `serve` flags; in
    /// [`cluster_mode`], on a fresh cluster deployment.
    pub fn start_with(extra: &[&str]) -> Server {
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        if cluster_mode() {
            args.extend(fresh_cluster_flags("suite"));
        }
        Self::start_args(args)
    }

    /// Starts one node of a cluster deployment (see [`cluster_flags`]).
    pub fn start_node(flags: &[String]) -> Server {
        Self::start_args(flags.to_vec())
    }

    /// Starts a server on an existing data directory (one `trailwatch migrate` wrote).
    pub fn start_in(data_dir: PathBuf) -> Server {
        let mut s = Server { child: None, endpoint: String::new(), data_dir, extra_args: Vec::new(), extra_env: Vec::new() };
        s.launch(None);
        s
    }

    fn start_args(args: Vec<String>) -> Server {
        let data_dir = fresh_dir("data");
        let mut s = Server { child: None, endpoint: String::new(), data_dir, extra_args: args, extra_env: Vec::new() };
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
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)))
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

    /// Starts the server again on the same port and data directory with other extra
    /// `serve` flags (call after [`Server::stop`] or [`Server::kill`]).
    pub fn restart_with(&mut self, extra: &[&str]) {
        let cluster: Vec<String> = self.cluster_args();
        self.extra_args = extra.iter().map(|s| s.to_string()).chain(cluster).collect();
        self.restart();
    }

    /// The cluster flags this server was started with (empty when embedded).
    fn cluster_args(&self) -> Vec<String> {
        match self.extra_args.iter().position(|a| a == "--catalog") {
            Some(i) => self.extra_args[i..].to_vec(),
            None => Vec::new(),
        }
    }

    /// Starts the server again with extra environment variables (call after
    /// [`Server::stop`] or [`Server::kill`]), e.g. libfaketime's to move its clock.
    pub fn restart_with_env(&mut self, env: &[(&str, &str)]) {
        self.extra_env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.restart();
    }

    /// The body of `/_trailwatch/metrics` (Prometheus text format).
    pub fn metrics(&self) -> String {
        let raw = http_get(&self.addr(), "/_trailwatch/metrics").expect("metrics endpoint answers");
        assert!(raw.starts_with("HTTP/1.1 200"), "metrics endpoint failed: {raw}");
        raw.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
    }

    /// Whether the server process was started and not yet killed or stopped.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
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

    /// An IAM client for this server, signed by the root.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config())
    }

    /// An SDK config signing with temporary credentials (key pair and session token).
    pub fn sdk_config_session(&self, access_key: &str, secret: &str, token: &str) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                access_key,
                secret,
                Some(token.to_owned()),
                None,
                "test-session",
            )))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build()
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

/// The sum of every sample of metric `name` (exact name, e.g. `trailwatch_requests_total`
/// or `trailwatch_request_duration_seconds_bucket`) whose labels include all of `labels`.
/// `None` when no sample matches.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else { continue };
        let (label_text, value) = if let Some(r) = rest.strip_prefix('{') {
            let Some((l, v)) = r.split_once('}') else { continue };
            (l, v)
        } else if rest.starts_with(' ') {
            ("", rest)
        } else {
            continue;
        };
        let has = |k: &str, v: &str| label_text.split(',').any(|pair| pair == format!("{k}=\"{v}\""));
        if !labels.iter().all(|(k, v)| has(k, v)) {
            continue;
        }
        let v: f64 = value.trim().parse().unwrap_or_else(|_| panic!("bad sample line {line:?}"));
        *found.get_or_insert(0.0) += v;
    }
    found
}

/// Polls `check` every 200 ms until it returns `Some`, for at most `secs` seconds.
pub async fn poll<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Creates a log group and the named streams in it.
pub async fn create_group(logs: &aws_sdk_cloudwatchlogs::Client, group: &str, streams: &[&str]) {
    logs.create_log_group().log_group_name(group).send().await.unwrap();
    for s in streams {
        logs.create_log_stream().log_group_name(group).log_stream_name(*s).send().await.unwrap();
    }
}

/// One PutLogEvents call that must be accepted whole.
pub async fn put_events(logs: &aws_sdk_cloudwatchlogs::Client, group: &str, stream: &str, events: &[(i64, String)]) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let batch: Vec<InputLogEvent> =
        events.iter().map(|(ts, m)| InputLogEvent::builder().timestamp(*ts).message(m).build().unwrap()).collect();
    let out = logs.put_log_events().log_group_name(group).log_stream_name(stream).set_log_events(Some(batch)).send().await.unwrap();
    assert!(out.rejected_log_events_info().is_none(), "events were rejected: {:?}", out.rejected_log_events_info());
}

/// Every event of a stream, oldest first, read with GetLogEvents forward paging.
pub async fn read_stream(logs: &aws_sdk_cloudwatchlogs::Client, group: &str, stream: &str) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100_000 {
        let page = logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .limit(500)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        for e in page.events() {
            out.push((e.timestamp().unwrap(), e.message().unwrap().to_owned()));
        }
        let next = page.next_forward_token().map(str::to_owned);
        if page.events().is_empty() && next == token {
            return out;
        }
        assert!(next.is_some(), "GetLogEvents returned no nextForwardToken");
        token = next;
    }
    panic!("GetLogEvents paging of {group}/{stream} never ended");
}

/// Every event of a group as (stream, timestamp, message), read with FilterLogEvents paging.
pub async fn filter_group(logs: &aws_sdk_cloudwatchlogs::Client, group: &str) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = logs.filter_log_events().log_group_name(group).set_next_token(token.clone()).send().await.unwrap();
        for e in page.events() {
            out.push((e.log_stream_name().unwrap().to_owned(), e.timestamp().unwrap(), e.message().unwrap().to_owned()));
        }
        match page.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

/// DescribeLogGroups' storedBytes of one group.
pub async fn stored_bytes(logs: &aws_sdk_cloudwatchlogs::Client, group: &str) -> i64 {
    let out = logs.describe_log_groups().log_group_name_prefix(group).send().await.unwrap();
    let g = out.log_groups().iter().find(|g| g.log_group_name() == Some(group)).unwrap_or_else(|| panic!("no log group {group}"));
    g.stored_bytes().expect("storedBytes is reported")
}

/// Files under `dir` whose contents include `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| std::fs::read(p).map(|b| b.windows(needle.len()).any(|w| w == needle)).unwrap_or(false))
        .collect()
}

/// `%XX` escapes decoded: IAM returns policy documents URL-encoded.
pub fn url_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8().expect("UTF-8").into_owned()
}
