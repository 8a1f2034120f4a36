//! trailwatch-query-bench: searching a large audit log, side by side with ripgrep and
//! DuckDB over the same raw file.
//!
//! It writes `--events` Aurora MySQL audit records (about 200 bytes each) to a log group
//! and, as JSON objects with the same fields, to a second group, keeping both corpora as
//! raw files. Then it times, on the release server:
//! - FilterLogEvents over the whole group with a rare term (1 event in 10,000) and, on
//!   the JSON group, with a JSON pattern, in MB/s of raw message bytes scanned;
//! - Logs Insights `stats count(*) by operation, bin(5m)` and
//!   `filter object like /DROP TABLE/ | sort @timestamp desc | limit 20`, in seconds;
//!
//! and the same questions answered by `rg` over the raw files and by DuckDB (the Python
//! package) over the raw CSV and JSON files. trailwatch's questions are timed twice, once
//! decoding segments and once from its block cache; ripgrep and DuckDB keep the better of
//! two runs, so they read from a warm page cache.

#![allow(dead_code)]

#[path = "../audit.rs"]
mod audit;
#[path = "../client.rs"]
mod client;
#[path = "../machine.rs"]
mod machine;
#[path = "../server.rs"]
mod server;

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, QueryStatus};
use clap::Parser;
use tokio::sync::Mutex;

use crate::audit::Rng;
use crate::client::{Creds, sdk_error};
use crate::machine::Machine;
use crate::server::ServerProcess;

const CSV_GROUP: &str = "/aws/rds/cluster/bench/audit";
const JSON_GROUP: &str = "bench-audit-json";
/// A user name found once in [`RARE_EVERY`] records and nowhere else.
const RARE: &str = "zzauditrare";
const RARE_EVERY: u64 = 10_000;
/// Records generated per round; `put` splits them at PutLogEvents' 1 MB.
const BATCH: usize = 4_000;

#[derive(Parser, Debug)]
#[command(about = "Times FilterLogEvents and Logs Insights on a large audit log against ripgrep and DuckDB")]
struct Args {
    /// The trailwatch binary.
    #[arg(long, default_value = "target/release/trailwatch")]
    bin: PathBuf,
    /// Audit records written (to each of the two groups).
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Concurrent writers, each with its own log stream.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// A Python with the duckdb package (`pip install duckdb`).
    #[arg(long, default_value = ".venv/bin/python")]
    python: PathBuf,
    /// ripgrep.
    #[arg(long, default_value = "rg")]
    rg: PathBuf,
    /// The server's decoded-block cache, in MiB: room for the CSV group, so that repeats
    /// are served from memory as ripgrep's are from the page cache.
    #[arg(long, default_value_t = 4096)]
    block_cache_mb: u64,
    /// Seconds to wait at least after ingest before waiting for the server to go idle (its
    /// default compacts ingest blocks older than 30 s).
    #[arg(long, default_value_t = 45)]
    settle_secs: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    println!("machine: {}", Machine::detect().text());
    let creds = Creds::invent()?;
    let cache_mb = args.block_cache_mb.to_string();
    let mut server = ServerProcess::start_with(&args.bin, &creds, &["--block-cache-mb", &cache_mb]).await?;
    let config = client::sdk_config(&server.endpoint, &creds).await;
    let logs = Client::new(&config);
    let dir = server.work_dir.clone();
    let (csv_path, json_path) = (dir.join("audit.csv"), dir.join("audit.json"));

    let started = Instant::now();
    let corpus = ingest(&logs, &args, &csv_path, &json_path).await?;
    println!(
        "ingested {} records per group: {:.0} MB CSV, {:.0} MB JSON raw, in {:.1} s",
        args.events,
        corpus.csv_bytes as f64 / 1e6,
        corpus.json_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let settled = Instant::now();
    wait_until_idle(server.pid(), Duration::from_secs(args.settle_secs)).await?;
    println!("the server compacted the groups and went idle after {:.0} s", settled.elapsed().as_secs_f64());

    // Each question runs twice: the first run decodes the compressed, encrypted segments;
    // the repeat finds the decoded blocks in the server's block cache (as ripgrep and
    // DuckDB find the raw files in the page cache).
    println!("\n== FilterLogEvents (first run, repeat) ==");
    let rare = [filter(&logs, CSV_GROUP, RARE).await?, filter(&logs, CSV_GROUP, RARE).await?];
    rare.iter().for_each(|r| report_filter("rare term, CSV group", r, corpus.csv_bytes, corpus.rare));
    let json_pattern = format!("{{ $.username = \"{RARE}\" }}");
    let json = [filter(&logs, JSON_GROUP, &json_pattern).await?, filter(&logs, JSON_GROUP, &json_pattern).await?];
    json.iter().for_each(|r| report_filter("JSON pattern, JSON group", r, corpus.json_bytes, corpus.rare));

    println!("\n== Logs Insights (first run, repeat) ==");
    let (start, end) = (corpus.first_ms / 1000 - 1, corpus.last_ms / 1000 + 1);
    let stats_query = "stats count(*) by operation, bin(5m)";
    let mut stats = Vec::new();
    for _ in 0..2 {
        let run = insights(&logs, CSV_GROUP, stats_query, start, end).await?;
        println!("{stats_query}: {:.2} s, {} rows, {} records scanned", run.seconds, run.rows, run.scanned);
        stats.push(run);
    }
    let drop_query = "filter object like /DROP TABLE/ | sort @timestamp desc | limit 20";
    for _ in 0..2 {
        let run = insights(&logs, CSV_GROUP, drop_query, start, end).await?;
        println!("{drop_query}: {:.2} s, {} rows, {} records matched", run.seconds, run.rows, run.matched);
    }

    println!("\n== ripgrep over the raw files ==");
    let rg_csv = best_of(2, || async { rg(&args.rg, RARE, &csv_path) }).await?;
    println!("rg -c {RARE} audit.csv: {:.2} s = {:.0} MB/s, {} lines", rg_csv.0, corpus.csv_bytes as f64 / 1e6 / rg_csv.0, rg_csv.1);
    let rg_json = best_of(2, || async { rg(&args.rg, &format!("\"username\":\"{RARE}\""), &json_path) }).await?;
    println!(
        "rg -c '\"username\":\"{RARE}\"' audit.json: {:.2} s = {:.0} MB/s, {} lines",
        rg_json.0,
        corpus.json_bytes as f64 / 1e6 / rg_json.0,
        rg_json.1
    );

    println!("\n== DuckDB over the raw files ==");
    match duckdb(&args.python, &csv_path, &json_path) {
        Ok(text) => print!("{text}"),
        Err(e) => println!("duckdb: not run ({e:#})"),
    }

    println!("\n== side by side ==");
    let rg_mb_s = corpus.csv_bytes as f64 / 1e6 / rg_csv.0;
    for (run, scan) in ["first run", "repeat"].iter().zip(&rare) {
        let mb_s = scan.mb_per_s(corpus.csv_bytes);
        println!("FilterLogEvents rare term, {run}: {mb_s:.0} MB/s vs ripgrep {rg_mb_s:.0} MB/s ({:.0} %)", 100.0 * mb_s / rg_mb_s);
    }
    for (run, query) in ["first run", "repeat"].iter().zip(&stats) {
        println!("Insights stats, {run}: {:.2} s (DuckDB's figure is above)", query.seconds);
    }
    server.stop()?;
    server.remove_files()?;
    Ok(())
}

/// What was written.
struct Corpus {
    csv_bytes: u64,
    json_bytes: u64,
    rare: u64,
    first_ms: i64,
    last_ms: i64,
}

/// One generated record: its time and its two renderings.
struct Record {
    ts_ms: i64,
    csv: String,
    json: String,
    rare: bool,
}

/// Generates Aurora audit records: reads, writes, queries with commas and quotes inside
/// their text, connects, and now and then a DDL statement or the rare user.
struct Generator {
    rng: Rng,
    n: u64,
    start_ms: i64,
}

impl Generator {
    fn next(&mut self) -> Record {
        let ts_ms = self.start_ms + self.n as i64;
        self.n += 1;
        let rare = self.n.is_multiple_of(RARE_EVERY);
        let users = ["app_user", "shop_api", "checkout_svc", "billing_svc", "reporting", "etl_loader", "admin"];
        let user = if rare { RARE } else { users[self.rng.range(0, users.len() as u64 - 1) as usize] };
        let conn = self.rng.range(1000, 1200);
        let (operation, object) = match self.rng.range(0, 999) {
            0 => ("QUERY", format!("'DROP TABLE tmp_{}'", self.rng.range(1, 99))),
            1..=4 => ("QUERY", format!("'CREATE TABLE t{} (id INT, note VARCHAR(20))'", self.rng.range(1, 99))),
            5..=79 => (["CONNECT", "DISCONNECT"][self.rng.range(0, 1) as usize], String::new()),
            80..=299 => ("READ", ["orders", "customers", "items"][self.rng.range(0, 2) as usize].to_owned()),
            300..=399 => ("WRITE", "orders".to_owned()),
            _ => (
                "QUERY",
                format!(
                    "'SELECT id, status, total FROM orders WHERE customer_id = {} AND status IN (\\'paid\\', \\'shipped\\') LIMIT {}'",
                    self.rng.range(1, 999_999),
                    self.rng.range(1, 50)
                ),
            ),
        };
        let retcode = if self.rng.chance(5) { 1064 } else { 0 };
        let qid = self.n;
        let csv = format!("{}000,db-1,{user},10.0.{}.{},{conn},{qid},{operation},shop,{object},{retcode}", ts_ms, conn % 7, conn % 250);
        let json = serde_json::json!({
            "timestamp": ts_ms * 1000, "serverhost": "db-1", "username": user, "host": format!("10.0.{}.{}", conn % 7, conn % 250),
            "connectionid": conn, "queryid": qid, "operation": operation, "database": "shop", "object": object, "retcode": retcode,
        })
        .to_string();
        Record { ts_ms, csv, json, rare }
    }
}

/// Writes the corpus to both groups (and both raw files) with `clients` writers.
async fn ingest(logs: &Client, args: &Args, csv_path: &Path, json_path: &Path) -> Result<Corpus> {
    let streams: Vec<String> = (0..args.clients).map(|i| format!("writer-{i}")).collect();
    client::create_group_and_streams(logs, CSV_GROUP, &streams).await?;
    client::create_group_and_streams(logs, JSON_GROUP, &streams).await?;
    let now = time_now_ms();
    // One record per millisecond, ending a minute ago.
    let start_ms = now - args.events as i64 - 60_000;
    let generator = Arc::new(Mutex::new((
        Generator { rng: Rng::new(7), n: 0, start_ms },
        BufWriter::new(std::fs::File::create(csv_path)?),
        BufWriter::new(std::fs::File::create(json_path)?),
        Corpus { csv_bytes: 0, json_bytes: 0, rare: 0, first_ms: start_ms, last_ms: start_ms },
    )));
    let total = args.events;
    let mut tasks = Vec::new();
    for stream in streams {
        let (logs, generator) = (logs.clone(), generator.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let batch: Vec<Record> = {
                    let mut g = generator.lock().await;
                    let (gen_, csv, json, corpus) = &mut *g;
                    let take = (total - gen_.n).min(BATCH as u64);
                    if take == 0 {
                        break;
                    }
                    let batch: Vec<Record> = (0..take).map(|_| gen_.next()).collect();
                    for r in &batch {
                        writeln!(csv, "{}", r.csv)?;
                        writeln!(json, "{}", r.json)?;
                        corpus.csv_bytes += r.csv.len() as u64;
                        corpus.json_bytes += r.json.len() as u64;
                        corpus.rare += u64::from(r.rare);
                        corpus.last_ms = r.ts_ms;
                    }
                    batch
                };
                put(&logs, CSV_GROUP, &stream, batch.iter().map(|r| (r.ts_ms, r.csv.as_str()))).await?;
                put(&logs, JSON_GROUP, &stream, batch.iter().map(|r| (r.ts_ms, r.json.as_str()))).await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let mut g = generator.lock().await;
    g.1.flush()?;
    g.2.flush()?;
    let c = &g.3;
    Ok(Corpus { csv_bytes: c.csv_bytes, json_bytes: c.json_bytes, rare: c.rare, first_ms: c.first_ms, last_ms: c.last_ms })
}

/// PutLogEvents' size limit: message bytes plus 26 per event.
const MAX_BATCH_BYTES: usize = 1_048_576;

/// Sends `events` in as many PutLogEvents calls as the size limit asks for.
async fn put<'a>(logs: &Client, group: &str, stream: &str, events: impl Iterator<Item = (i64, &'a str)>) -> Result<()> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    for (ts, message) in events {
        if bytes + message.len() + 26 > MAX_BATCH_BYTES {
            put_batch(logs, group, stream, std::mem::take(&mut batch)).await?;
            bytes = 0;
        }
        bytes += message.len() + 26;
        batch.push(InputLogEvent::builder().timestamp(ts).message(message).build()?);
    }
    if batch.is_empty() {
        return Ok(());
    }
    put_batch(logs, group, stream, batch).await
}

async fn put_batch(logs: &Client, group: &str, stream: &str, events: Vec<InputLogEvent>) -> Result<()> {
    let out = logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .map_err(|e| sdk_error("PutLogEvents", e))?;
    if out.rejected_log_events_info().is_some() {
        bail!("events rejected: {:?}", out.rejected_log_events_info());
    }
    Ok(())
}

fn time_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// A FilterLogEvents scan of a whole group.
struct Scan {
    seconds: f64,
    matched: u64,
    pages: u64,
}

impl Scan {
    fn mb_per_s(&self, bytes: u64) -> f64 {
        bytes as f64 / 1e6 / self.seconds
    }
}

trait Timed {
    fn seconds(&self) -> f64;
}
impl Timed for Scan {
    fn seconds(&self) -> f64 {
        self.seconds
    }
}
impl Timed for QueryRun {
    fn seconds(&self) -> f64 {
        self.seconds
    }
}
impl Timed for (f64, u64) {
    fn seconds(&self) -> f64 {
        self.0
    }
}

/// Waits until the server has used under 5 % of a core for 15 s (compaction done: its
/// rounds are 10 s apart), but at least `min`, so that no background work runs while a
/// question is timed.
async fn wait_until_idle(pid: u32, min: Duration) -> Result<()> {
    tokio::time::sleep(min).await;
    let window = Duration::from_secs(15);
    loop {
        let before = cpu_seconds(pid)?;
        tokio::time::sleep(window).await;
        if cpu_seconds(pid)? - before < 0.05 * window.as_secs_f64() {
            return Ok(());
        }
    }
}

/// User plus system CPU time a process has used, from /proc.
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name (which may hold spaces) end with ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').context("a /proc stat line")?.1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // SAFETY: sysconf only reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok(ticks / per_second)
}

/// Runs `f` `n` times and keeps the fastest.
async fn best_of<T: Timed, F, Fut>(n: usize, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut best: Option<T> = None;
    for _ in 0..n {
        let run = f().await?;
        if best.as_ref().is_none_or(|b| run.seconds() < b.seconds()) {
            best = Some(run);
        }
    }
    Ok(best.expect("n > 0"))
}

async fn filter(logs: &Client, group: &str, pattern: &str) -> Result<Scan> {
    let started = Instant::now();
    let (mut matched, mut pages, mut token) = (0u64, 0u64, None::<String>);
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name(group)
            .filter_pattern(pattern)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| sdk_error("FilterLogEvents", e))?;
        pages += 1;
        matched += page.events().len() as u64;
        match page.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    Ok(Scan { seconds: started.elapsed().as_secs_f64(), matched, pages })
}

fn report_filter(what: &str, scan: &Scan, bytes: u64, expected: u64) {
    let check = if scan.matched == expected { "all found" } else { "MISMATCH" };
    println!(
        "{what}: {:.2} s = {:.0} MB/s of raw messages, {} matches ({check}; {expected} expected), {} pages",
        scan.seconds,
        scan.mb_per_s(bytes),
        scan.matched,
        scan.pages
    );
}

/// One Insights query, from StartQuery to a Complete GetQueryResults.
struct QueryRun {
    seconds: f64,
    rows: usize,
    matched: f64,
    scanned: f64,
}

async fn insights(logs: &Client, group: &str, query: &str, start: i64, end: i64) -> Result<QueryRun> {
    let started = Instant::now();
    let id = logs
        .start_query()
        .log_group_name(group)
        .query_string(query)
        .start_time(start)
        .end_time(end)
        .send()
        .await
        .map_err(|e| sdk_error("StartQuery", e))?
        .query_id
        .context("StartQuery returned no queryId")?;
    loop {
        let out = logs.get_query_results().query_id(&id).send().await.map_err(|e| sdk_error("GetQueryResults", e))?;
        match out.status() {
            Some(QueryStatus::Complete) => {
                let stats = out.statistics();
                return Ok(QueryRun {
                    seconds: started.elapsed().as_secs_f64(),
                    rows: out.results().len(),
                    matched: stats.map_or(0.0, |s| s.records_matched()),
                    scanned: stats.map_or(0.0, |s| s.records_scanned()),
                });
            }
            Some(QueryStatus::Running | QueryStatus::Scheduled) => tokio::time::sleep(Duration::from_millis(20)).await,
            other => bail!("query {query:?} ended {other:?}"),
        }
    }
}

/// `rg -c PATTERN FILE`: seconds and the count it printed.
fn rg(bin: &Path, pattern: &str, file: &Path) -> Result<(f64, u64)> {
    let started = Instant::now();
    let out = Command::new(bin).args(["-c", "-F", pattern]).arg(file).output().with_context(|| format!("running {}", bin.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let count = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
    Ok((seconds, count))
}

/// The same questions in DuckDB over the raw files, timed inside Python (best of two).
fn duckdb(python: &Path, csv: &Path, json: &Path) -> Result<String> {
    let script = r#"
import sys, time, duckdb
csv, js = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
src = f"""read_csv('{csv}', header=false, delim=',', quote='''', escape='\\', columns={{'ts':'BIGINT','serverhost':'VARCHAR','username':'VARCHAR','host':'VARCHAR','connectionid':'BIGINT','queryid':'BIGINT','operation':'VARCHAR','database':'VARCHAR','object':'VARCHAR','retcode':'INTEGER'}})"""
questions = [
    ("rare term (username) over the CSV", f"SELECT count(*) FROM {src} WHERE username = 'zzauditrare'"),
    ("rare user over the JSON", f"SELECT count(*) FROM read_json('{js}', format='newline_delimited') WHERE username = 'zzauditrare'"),
    ("stats count(*) by operation, bin(5m)", f"SELECT operation, time_bucket(INTERVAL '5 minutes', make_timestamp(ts)) AS b, count(*) FROM {src} GROUP BY ALL"),
    ("filter DROP TABLE, newest 20", f"SELECT * FROM {src} WHERE object LIKE '%DROP TABLE%' ORDER BY ts DESC LIMIT 20"),
]
for name, sql in questions:
    best, rows = None, None
    for _ in range(2):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        s = time.perf_counter() - t
        best = s if best is None or s < best else best
    print(f"{name}: {best:.2f} s, {len(rows)} rows" + (f" (count {rows[0][0]})" if len(rows) == 1 else ""))
"#;
    let out =
        Command::new(python).arg("-c").arg(script).arg(csv).arg(json).output().with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
