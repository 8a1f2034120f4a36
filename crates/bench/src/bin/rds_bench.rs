//! trailwatch-rds-bench: a busy DB instance with Advanced Auditing publishing to its log
//! group. It measures the instance's query throughput with auditing off and on, the audit
//! events per second that become readable in the log group, and the lag from a query
//! answered to its audit record being returned by GetLogEvents.
//!
//! The load is sysbench-like: `--connections` clients, each running point selects,
//! updates and inserts on one table through the `mariadb` client over TCP.

#![allow(dead_code)]

#[path = "../client.rs"]
mod client;
#[path = "../machine.rs"]
mod machine;
#[path = "../server.rs"]
mod server;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use aws_credential_types::Credentials;
use aws_sdk_cloudwatchlogs::Client;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
use clap::Parser;

use crate::client::Creds;
use crate::machine::Machine;
use crate::server::ServerProcess;

const GROUP: &str = "/aws/rds/cluster/bench-cluster/audit";
const STREAM: &str = "bench-1";
const PASSWORD: &str = "Bench-pass-1";
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:GetLogEvents","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:/aws/rds/*:log-stream:*"},{"Effect":"Allow","Action":["logs:CreateLogStream","logs:DescribeLogStreams","logs:PutRetentionPolicy"],"Resource":"arn:aws:logs:*:*:log-group:/aws/rds/*"},{"Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"*"}]}"#;
const TRUST: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[derive(Parser, Debug)]
#[command(about = "Measures a busy audited DB instance publishing to CloudWatch Logs")]
struct Args {
    /// The trailwatch binary.
    #[arg(long, default_value = "target/release/trailwatch")]
    bin: PathBuf,
    /// Client connections running the load at once.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Statements each connection runs per measured run.
    #[arg(long, default_value_t = 50_000)]
    statements: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let creds = Creds::invent()?;
    let mut server = ServerProcess::start(&args.bin, &creds).await?;
    println!("machine: {}", Machine::detect().text());
    let api = Query { endpoint: server.endpoint.clone(), creds: copy(&creds), http: reqwest::Client::builder().no_proxy().build()? };
    let logs = Client::new(&client::sdk_config(&server.endpoint, &creds).await);

    let port = setup(&api).await?;
    let total = args.connections * args.statements;
    mysql(
        port,
        "CREATE DATABASE sbtest; CREATE TABLE sbtest.t (id INT PRIMARY KEY AUTO_INCREMENT, k INT, c VARCHAR(120), KEY (k)); \
                 USE sbtest; INSERT INTO t (k, c) SELECT seq, REPEAT('x', 100) FROM seq_1_to_10000;",
    )?;

    audit(&api, "0").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let off = run_load(port, args.connections, args.statements)?;
    println!("auditing off: {total} statements in {:.2} s = {:.0} statements/s", off.as_secs_f64(), total as f64 / off.as_secs_f64());

    // The tail reads from the stream's start; what is there before the load is not counted.
    let tail = Tail::start(logs.clone());
    audit(&api, "1").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = tail.count.lock().unwrap().0;
    let probes = tokio::task::spawn_blocking(move || probe(port, Duration::from_secs(600)));
    let started = Instant::now();
    let on = tokio::task::spawn_blocking(move || run_load(port, args.connections, args.statements)).await??;
    let load_end = Instant::now();
    println!(
        "auditing on:  {total} statements in {:.2} s = {:.0} statements/s ({:.1}% of off)",
        on.as_secs_f64(),
        total as f64 / on.as_secs_f64(),
        100.0 * off.as_secs_f64() / on.as_secs_f64()
    );
    // The load is done: one last marker, after every record of the load in the file;
    // once it is readable, so is everything before it.
    PROBING.store(false, std::sync::atomic::Ordering::Relaxed);
    let sent = probes.await??;
    mysql(port, "SELECT 'probe-final'")?;
    let (published, last_seen) = tail.wait_for("probe-final").await;
    let published = published.saturating_sub(before);
    let span = last_seen.duration_since(started);
    println!(
        "published: {published} audit events readable {:.2} s after the load began = {:.0} events/s",
        span.as_secs_f64(),
        published as f64 / span.as_secs_f64()
    );
    let seen = tail.seen.lock().unwrap().clone();
    // Only probes answered while the load ran count.
    let mut lags: Vec<f64> = sent
        .iter()
        .filter(|(_, at)| *at <= load_end)
        .filter_map(|(marker, at)| seen.get(marker).map(|s| s.duration_since(*at).as_secs_f64() * 1000.0))
        .collect();
    lags.sort_by(f64::total_cmp);
    if lags.is_empty() {
        bail!("no probe query was seen in the log group");
    }
    let pct = |p: f64| lags[((lags.len() - 1) as f64 * p).round() as usize];
    println!(
        "lag from a query answered to its record returned by GetLogEvents, under load ({} probes): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        lags.len(),
        pct(0.5),
        pct(0.99),
        lags[lags.len() - 1]
    );
    tail.stop();
    server.stop()?;
    server.remove_files()?;
    Ok(())
}

fn copy(c: &Creds) -> Creds {
    Creds { access_key_id: c.access_key_id.clone(), secret_access_key: c.secret_access_key.clone() }
}

/// The role, policy, parameter group, cluster and one instance; the instance's port.
async fn setup(api: &Query) -> Result<u16> {
    let policy = api.call("iam", "CreatePolicy", &[("PolicyName", "RdsLogs"), ("PolicyDocument", POLICY)]).await?;
    let policy_arn = between(&policy, "<Arn>", "</Arn>")?;
    let role = api.call("iam", "CreateRole", &[("RoleName", "RdsLogsRole"), ("AssumeRolePolicyDocument", TRUST)]).await?;
    let role_arn = between(&role, "<Arn>", "</Arn>")?;
    api.call("iam", "AttachRolePolicy", &[("RoleName", "RdsLogsRole"), ("PolicyArn", &policy_arn)]).await?;
    api.call(
        "rds",
        "CreateDBClusterParameterGroup",
        &[("DBClusterParameterGroupName", "bench-pg"), ("DBParameterGroupFamily", "aurora-mysql8.0"), ("Description", "bench")],
    )
    .await?;
    let params =
        [("server_audit_events", "CONNECT,QUERY,TABLE"), ("server_audit_logs_upload", "1"), ("aws_default_logs_role", role_arn.as_str())];
    set_params(api, &params).await?;
    api.call(
        "rds",
        "CreateDBCluster",
        &[
            ("DBClusterIdentifier", "bench-cluster"),
            ("Engine", "aurora-mysql"),
            ("MasterUsername", "admin"),
            ("MasterUserPassword", PASSWORD),
            ("DBClusterParameterGroupName", "bench-pg"),
        ],
    )
    .await?;
    api.call(
        "rds",
        "CreateDBInstance",
        &[
            ("DBInstanceIdentifier", STREAM),
            ("DBClusterIdentifier", "bench-cluster"),
            ("Engine", "aurora-mysql"),
            ("DBInstanceClass", "db.r6g.large"),
        ],
    )
    .await?;
    for _ in 0..600 {
        let out = api.call("rds", "DescribeDBInstances", &[("DBInstanceIdentifier", STREAM)]).await?;
        if out.contains("<DBInstanceStatus>available</DBInstanceStatus>") {
            return between(&out, "<Port>", "</Port>")?.parse().context("the instance's port");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("the instance did not become available")
}

async fn set_params(api: &Query, params: &[(&str, &str)]) -> Result<()> {
    let mut form: Vec<(String, String)> = vec![("DBClusterParameterGroupName".into(), "bench-pg".into())];
    for (i, (name, value)) in params.iter().enumerate() {
        let n = i + 1;
        form.push((format!("Parameters.Parameter.{n}.ParameterName"), name.to_string()));
        form.push((format!("Parameters.Parameter.{n}.ParameterValue"), value.to_string()));
        form.push((format!("Parameters.Parameter.{n}.ApplyMethod"), "immediate".into()));
    }
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    api.call("rds", "ModifyDBClusterParameterGroup", &refs).await?;
    Ok(())
}

async fn audit(api: &Query, on: &str) -> Result<()> {
    set_params(api, &[("server_audit_logging", on)]).await
}

/// Runs `sql` as the master user.
fn mysql(port: u16, sql: &str) -> Result<()> {
    let out = client_command(port).args(["-e", sql]).output()?;
    if !out.status.success() {
        bail!("mariadb: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn client_command(port: u16) -> Command {
    let mut cmd = Command::new("mariadb");
    cmd.args(["--protocol=TCP", "-h", "127.0.0.1", "-P", &port.to_string(), "-u", "admin", "--batch", "--skip-column-names"])
        .arg(format!("-p{PASSWORD}"));
    cmd
}

/// `connections` clients each running `statements` statements; the wall time.
fn run_load(port: u16, connections: usize, statements: usize) -> Result<Duration> {
    let started = Instant::now();
    let mut children = Vec::new();
    for c in 0..connections {
        let mut child = client_command(port).arg("sbtest").stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
        let mut script = String::with_capacity(statements * 60);
        for i in 0..statements {
            let id = (i * 7919 + c * 104_729) % 10_000 + 1;
            match i % 10 {
                0..=6 => script.push_str(&format!("SELECT c FROM t WHERE id = {id};\n")),
                7 | 8 => script.push_str(&format!("UPDATE t SET k = k + 1 WHERE id = {id};\n")),
                _ => script.push_str(&format!("INSERT INTO t (k, c) VALUES ({id}, 'bench row {c}-{i}');\n")),
            }
        }
        let mut stdin = child.stdin.take().context("stdin")?;
        std::thread::spawn(move || stdin.write_all(script.as_bytes()));
        children.push(child);
    }
    for mut c in children {
        if !c.wait()?.success() {
            bail!("a load client failed");
        }
    }
    Ok(started.elapsed())
}

static PROBING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Probe queries every 100 ms until told to stop: each marker and when it was answered.
fn probe(port: u16, longest: Duration) -> Result<Vec<(String, Instant)>> {
    let mut sent = Vec::new();
    let started = Instant::now();
    let mut n = 0;
    while PROBING.load(std::sync::atomic::Ordering::Relaxed) && started.elapsed() < longest {
        n += 1;
        let marker = format!("probe-{n}");
        mysql(port, &format!("SELECT '{marker}'"))?;
        sent.push((marker, Instant::now()));
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(sent)
}

/// Reads the stream as it grows, noting when each probe's record was first returned.
struct Tail {
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    count: Arc<Mutex<(u64, Instant)>>,
    task: tokio::task::JoinHandle<()>,
}

impl Tail {
    fn start(logs: Client) -> Tail {
        let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let count = Arc::new(Mutex::new((0u64, Instant::now())));
        let (s, c) = (seen.clone(), count.clone());
        let task = tokio::spawn(async move {
            let mut token: Option<String> = None;
            loop {
                let out = logs
                    .get_log_events()
                    .log_group_name(GROUP)
                    .log_stream_name(STREAM)
                    .start_from_head(true)
                    .set_next_token(token.clone())
                    .send()
                    .await;
                let Ok(out) = out else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let now = Instant::now();
                let events = out.events();
                if !events.is_empty() {
                    let mut seen = s.lock().unwrap();
                    for e in events {
                        let m = e.message().unwrap_or_default();
                        const OPEN: &str = "'SELECT \\'";
                        if let Some(at) = m.find("'SELECT \\'probe-") {
                            let marker = &m[at + OPEN.len()..];
                            let marker = marker.split("\\'").next().unwrap_or_default().to_owned();
                            seen.entry(marker).or_insert(now);
                        }
                    }
                    let mut c = c.lock().unwrap();
                    c.0 += events.len() as u64;
                    c.1 = now;
                }
                token = out.next_forward_token().map(str::to_owned);
                if events.is_empty() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
        Tail { seen, count, task }
    }

    /// Waits until the record of a marker has been read; the events read by then, and when.
    async fn wait_for(&self, marker: &str) -> (u64, Instant) {
        loop {
            if let Some(at) = self.seen.lock().unwrap().get(marker) {
                return (self.count.lock().unwrap().0, *at);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stop(self) {
        self.task.abort();
    }
}

/// Query-protocol calls (IAM, RDS) signed with the root credentials.
struct Query {
    endpoint: String,
    creds: Creds,
    http: reqwest::Client,
}

impl Query {
    async fn call(&self, service: &str, action: &str, params: &[(&str, &str)]) -> Result<String> {
        let version = if service == "iam" { "2010-05-08" } else { "2014-10-31" };
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", action).append_pair("Version", version);
        for (k, v) in params {
            form.append_pair(k, v);
        }
        let body = form.finish();
        let mut req = http::Request::builder()
            .method("POST")
            .uri(format!("{}/", self.endpoint))
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(body.into_bytes())?;
        let identity = Credentials::new(&self.creds.access_key_id, &self.creds.secret_access_key, None, None, "bench").into();
        let region = if service == "iam" { "us-east-1" } else { client::REGION };
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let headers: Vec<(String, String)> =
            req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
        let uri = req.uri().to_string();
        let signable = SignableRequest::new(
            "POST",
            uri.as_str(),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(req.body()),
        )?;
        let (instructions, _) = aws_sigv4::http_request::sign(signable, &params)?.into_parts();
        instructions.apply_to_request_http1x(&mut req);
        let resp = self.http.execute(reqwest::Request::try_from(req)?).await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("{service} {action}: {status}: {text}");
        }
        Ok(text)
    }
}

fn between(text: &str, open: &str, close: &str) -> Result<String> {
    let start = text.find(open).with_context(|| format!("{open} in {text}"))? + open.len();
    let end = text[start..].find(close).with_context(|| format!("{close} in {text}"))? + start;
    Ok(text[start..end].to_owned())
}
