//! trailwatch-bench: ingest, read, storage and memory figures for a trailwatch
//! server, measured through the AWS SDK exactly as a real client would see them.

mod audit;
mod client;
mod ingest;
mod machine;
mod memory;
mod reads;
mod server;
mod stats;
mod storage;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use aws_sdk_cloudwatchlogs::Client;
use clap::Parser;
use serde_json::{Map, Value, json};

use crate::audit::{AuditGen, Batch, RARE_USER};
use crate::client::Creds;
use crate::ingest::{LoadResult, LoadSpec, StopRule, StreamLog, pacing_interval, run_load};
use crate::machine::Machine;
use crate::memory::RssSampler;
use crate::server::ServerProcess;
use crate::stats::{MB, count, mb};

/// A term that occurs nowhere in the corpus, for the worst-case filter scan.
const NO_MATCH_TERM: &str = "xyzzyplugh";

/// Latency goal for the half-load phase.
const HALF_LOAD_P99_TARGET: Duration = Duration::from_millis(50);

/// Small batches pre-generated for the small-batch phase (cycled).
const SMALL_POOL_BATCHES: usize = 4096;

/// Fixed seed: every run writes the same corpus, so storage figures compare.
const SEED: u64 = 0x7472_6169_6c77_6174;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(version, about = "Benchmarks a trailwatch server over the CloudWatch Logs API")]
struct Args {
    /// Server binary to start (ignored with --endpoint).
    #[arg(long, default_value = "target/release/trailwatch")]
    server_bin: PathBuf,

    /// Use an already-running server at this URL instead of starting one.
    #[arg(long)]
    endpoint: Option<String>,

    /// Root access key id of the --endpoint server.
    #[arg(long, env = "TRAILWATCH_ROOT_ACCESS_KEY_ID", requires = "endpoint")]
    access_key_id: Option<String>,

    /// Root secret access key of the --endpoint server.
    #[arg(long, env = "TRAILWATCH_ROOT_SECRET_ACCESS_KEY", hide_env_values = true, requires = "endpoint")]
    secret_access_key: Option<String>,

    /// PID of the --endpoint server, to sample its memory.
    #[arg(long, requires = "endpoint")]
    server_pid: Option<u32>,

    /// Data directory of the --endpoint server, to measure its size on disk.
    #[arg(long, requires = "endpoint")]
    server_data_dir: Option<PathBuf>,

    /// Concurrent clients, each writing its own log stream.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    clients: u32,

    /// Duration of the large-batch ingest phase, in seconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,

    /// Instead of --seconds, send this many MB (10^6 bytes) of messages in large batches.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    megabytes: Option<u64>,

    /// Duration of the half-load phase, in seconds.
    #[arg(long, default_value_t = 10)]
    half_seconds: u64,

    /// Duration of the small-batch phase, in seconds.
    #[arg(long, default_value_t = 10)]
    small_seconds: u64,

    /// Longest wait for storedBytes to settle after the writes, in seconds.
    #[arg(long, default_value_t = 60)]
    settle_seconds: u64,

    /// MB of distinct large batches to pre-generate (cycled during ingest).
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..))]
    pool_megabytes: u64,

    /// Log group to create; it must not exist yet.
    #[arg(long, default_value = "/bench/audit")]
    log_group: String,

    /// Keep the started server's data dir and log (always kept after a failure).
    #[arg(long)]
    keep_data: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut report = Report::default();
    let outcome = run(&args, &mut report).await;
    if let Err(error) = &outcome {
        eprintln!("error: {error:#}");
        report.set("error", json!(format!("{error:#}")));
    }
    let ok = outcome.is_ok() && report.failures.is_empty();
    report.set("ok", json!(ok));
    report.set("failures", json!(report.failures));
    // Last line, machine-readable: `trailwatch-bench | tail -1 | jq`.
    println!("{}", Value::Object(report.json));
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Figures and failed checks collected over the run.
#[derive(Default)]
struct Report {
    json: Map<String, Value>,
    failures: Vec<String>,
}

impl Report {
    fn set(&mut self, key: &str, value: Value) {
        self.json.insert(key.to_owned(), value);
    }

    /// Compares an exact count; a difference is printed loudly and fails the run.
    fn check(&mut self, what: &str, got: u64, expected: u64) {
        if got == expected {
            println!("{:<32} OK: {what} = {}", "check", count(got));
        } else {
            let message = format!("{what}: got {}, expected {}", count(got), count(expected));
            println!("!!!!! MISMATCH !!!!! {message}");
            self.failures.push(message);
        }
    }
}

/// Prints one figure: a fixed-width label and its value.
fn figure(label: &str, text: impl AsRef<str>) {
    println!("{label:<32} {}", text.as_ref());
}

/// The server under test and what the bench knows about it.
struct Target {
    endpoint: String,
    creds: Creds,
    pid: Option<u32>,
    data_dir: Option<PathBuf>,
    spawned: Option<ServerProcess>,
}

impl Target {
    /// Connects to --endpoint, or starts a server of our own.
    async fn resolve(args: &Args) -> Result<Self> {
        if let Some(endpoint) = &args.endpoint {
            let (Some(id), Some(secret)) = (&args.access_key_id, &args.secret_access_key) else {
                bail!("--endpoint needs --access-key-id and --secret-access-key (or TRAILWATCH_ROOT_* in the environment)");
            };
            figure("server", format!("using {endpoint}"));
            return Ok(Self {
                endpoint: endpoint.clone(),
                creds: Creds { access_key_id: id.clone(), secret_access_key: secret.clone() },
                pid: args.server_pid,
                data_dir: args.server_data_dir.clone(),
                spawned: None,
            });
        }
        let creds = Creds::invent()?;
        let server = ServerProcess::start(&args.server_bin, &creds).await?;
        figure(
            "server",
            format!(
                "started {} (pid {}) at {}, data dir {}",
                args.server_bin.display(),
                server.pid(),
                server.endpoint,
                server.data_dir.display()
            ),
        );
        Ok(Self {
            endpoint: server.endpoint.clone(),
            creds,
            pid: Some(server.pid()),
            data_dir: Some(server.data_dir.clone()),
            spawned: Some(server),
        })
    }

    /// Stops a server we started; removes its files unless asked to keep them.
    fn shutdown(&mut self, keep_files: bool) -> Result<()> {
        let Some(server) = &mut self.spawned else {
            return Ok(());
        };
        figure("server", format!("stopped: {}", server.stop()?));
        if keep_files {
            figure("server files kept", server.work_dir.display().to_string());
        } else {
            server.remove_files()?;
        }
        Ok(())
    }
}

/// Runs every phase, printing figures as they come.
async fn run(args: &Args, report: &mut Report) -> Result<()> {
    let machine = Machine::detect();
    figure("machine", machine.text());
    figure("note", "bench clients run on the same CPUs as the server; MB = 10^6 bytes");
    report.set("machine", machine.json());
    report.set("config", config_json(args));
    figure("config", config_text(args));

    let mut target = Target::resolve(args).await?;
    let sampler = target.pid.map(RssSampler::start);
    let phases = run_phases(args, &target, report).await;

    // Memory is read before shutdown: VmHWM disappears with the process.
    match sampler {
        Some(sampler) => {
            let memory = sampler.finish().await;
            figure("memory", memory.text());
            report.set("memory", memory.json());
        }
        None => figure("memory", "n/a (pass --server-pid with --endpoint)"),
    }
    // On an error the server is stopped by ServerProcess's Drop, which keeps its files.
    phases?;
    target.shutdown(args.keep_data || !report.failures.is_empty())
}

/// Setup, ingest, read and storage phases against a running server.
async fn run_phases(args: &Args, target: &Target, report: &mut Report) -> Result<()> {
    let config = client::sdk_config(&target.endpoint, &target.creds).await;
    let clients: Vec<Client> = (0..args.clients).map(|_| Client::new(&config)).collect();
    let group = args.log_group.as_str();

    let names: Vec<String> = (0..args.clients).map(|i| format!("client-{i}")).collect();
    client::create_group_and_streams(&clients[0], group, &names).await?;
    figure("setup", format!("log group {group}, {} streams", names.len()));
    let mut streams: Vec<StreamLog> = names.into_iter().map(StreamLog::new).collect();

    let (large, small) = generate_pools(args);

    let cpu_before = (machine::cpu_seconds(target.pid), machine::cpu_seconds(None));
    let full = ingest_full(args, &clients, group, &mut streams, &large, report).await?;
    report_ingest_cpu(target.pid, cpu_before, &full, report);
    ingest_half(args, &clients, group, &mut streams, &large, &full, report).await?;
    ingest_small(args, &clients, group, &mut streams, &small, report).await?;

    let raw_bytes: u64 = streams.iter().map(|s| s.bytes).sum();
    figure(
        "written",
        format!(
            "{} events, {:.1} MB of messages in {} streams",
            count(streams.iter().map(|s| s.events).sum()),
            mb(raw_bytes),
            streams.len()
        ),
    );
    read_back(&clients[0], group, &streams, report).await?;

    let storage =
        storage::settle(&clients[0], group, target.data_dir.as_deref(), raw_bytes, Duration::from_secs(args.settle_seconds)).await?;
    figure("storage", storage.text());
    report.set("storage", storage.json());
    Ok(())
}

/// Pre-generates the large- and small-batch pools, untimed.
fn generate_pools(args: &Args) -> (Arc<Vec<Batch>>, Arc<Vec<Batch>>) {
    let started = Instant::now();
    let mut generator = AuditGen::new(SEED, ingest::first_timestamp());
    let large = audit::large_pool(&mut generator, args.pool_megabytes * MB as u64);
    let small = audit::small_pool(&mut generator, SMALL_POOL_BATCHES);
    let describe = |pool: &[Batch]| {
        let events: usize = pool.iter().map(|b| b.messages.len()).sum();
        let bytes: u64 = pool.iter().map(|b| b.bytes).sum();
        format!("{} batches, {} events, {:.1} MB", pool.len(), count(events as u64), mb(bytes))
    };
    figure(
        "generated (untimed)",
        format!("large: {}; small: {}; in {:.1} s", describe(&large), describe(&small), started.elapsed().as_secs_f64()),
    );
    (Arc::new(large), Arc::new(small))
}

/// Phase 2: every client sends ~1 MB batches back to back.
async fn ingest_full(
    args: &Args,
    clients: &[Client],
    group: &str,
    streams: &mut Vec<StreamLog>,
    pool: &Arc<Vec<Batch>>,
    report: &mut Report,
) -> Result<LoadResult> {
    let stop = match args.megabytes {
        Some(megabytes) => StopRule::Bytes(megabytes * MB as u64),
        None => StopRule::After(Duration::from_secs(args.seconds)),
    };
    let spec = LoadSpec { pool: pool.clone(), stop, interval: None };
    let full = run_load(clients, group, streams, &spec).await?;
    figure("ingest 1MB batches", full.throughput_text());
    figure("ingest 1MB batches latency", full.latency.text());
    report.set("ingest_large", full.json());
    Ok(full)
}

/// Where the CPU of the 1 MB phase went: server and bench client share these cores,
/// so the server's own cost per GB is the figure that carries over to other machines.
fn report_ingest_cpu(pid: Option<u32>, before: (Option<f64>, Option<f64>), full: &LoadResult, report: &mut Report) {
    let gb = full.bytes as f64 / 1e9;
    let (Some(server_before), Some(client_before)) = before else { return };
    let (Some(server_after), Some(client_after)) = (machine::cpu_seconds(pid), machine::cpu_seconds(None)) else { return };
    if pid.is_none() || gb <= 0.0 {
        return;
    }
    let (server, client) = (server_after - server_before, client_after - client_before);
    figure(
        "ingest 1MB CPU",
        format!(
            "server {:.1} CPU-s ({:.1} CPU-s per GB), bench clients {:.1} CPU-s ({:.1} CPU-s per GB)",
            server,
            server / gb,
            client,
            client / gb
        ),
    );
    report.set(
        "ingest_large_cpu",
        json!({"server_cpu_s": server, "server_cpu_s_per_gb": server / gb, "client_cpu_s": client, "client_cpu_s_per_gb": client / gb}),
    );
}

/// Phase 3: the same clients paced to half of phase 2's MB/s.
async fn ingest_half(
    args: &Args,
    clients: &[Client],
    group: &str,
    streams: &mut Vec<StreamLog>,
    pool: &Arc<Vec<Batch>>,
    full: &LoadResult,
    report: &mut Report,
) -> Result<()> {
    let target_rate = full.mb_per_s() * MB / 2.0;
    if target_rate <= 0.0 || args.half_seconds == 0 {
        figure("ingest half load", "skipped");
        return Ok(());
    }
    let spec = LoadSpec {
        pool: pool.clone(),
        stop: StopRule::After(Duration::from_secs(args.half_seconds)),
        interval: Some(pacing_interval(pool, clients.len(), target_rate)),
    };
    let half = run_load(clients, group, streams, &spec).await?;
    figure("ingest half load", format!("target {:.2} MB/s; achieved {}", target_rate / MB, half.throughput_text()));
    let verdict = if half.latency.p99 < HALF_LOAD_P99_TARGET { "MET" } else { "MISSED" };
    figure("ingest half load latency", format!("{}; target p99 < {HALF_LOAD_P99_TARGET:?}: {verdict}", half.latency.text()));
    let mut json = half.json();
    json["target_mb_per_s"] = json!(stats::round3(target_rate / MB));
    json["p99_target_met"] = json!(verdict == "MET");
    report.set("ingest_half", json);
    Ok(())
}

/// Phase 4: every client sends 10-event batches back to back.
async fn ingest_small(
    args: &Args,
    clients: &[Client],
    group: &str,
    streams: &mut Vec<StreamLog>,
    pool: &Arc<Vec<Batch>>,
    report: &mut Report,
) -> Result<()> {
    if args.small_seconds == 0 {
        figure("ingest 10-event batches", "skipped");
        return Ok(());
    }
    let spec = LoadSpec { pool: pool.clone(), stop: StopRule::After(Duration::from_secs(args.small_seconds)), interval: None };
    let small = run_load(clients, group, streams, &spec).await?;
    figure("ingest 10-event batches", small.throughput_text());
    figure("ingest 10-event batches latency", small.latency.text());
    report.set("ingest_small", small.json());
    Ok(())
}

/// Phase 5: read one stream back in full and scan the group with two filters.
async fn read_back(client: &Client, group: &str, streams: &[StreamLog], report: &mut Report) -> Result<()> {
    let stream = &streams[0];
    let read = reads::read_stream(client, group, &stream.name, stream.events).await?;
    figure(&format!("read GetLogEvents {}", stream.name), read.text());
    report.check(&format!("GetLogEvents events in {}", stream.name), read.events, stream.events);
    report.check(&format!("GetLogEvents message bytes in {}", stream.name), read.bytes, stream.bytes);
    report.set("read_stream", read.json());

    let raw_bytes: u64 = streams.iter().map(|s| s.bytes).sum();
    let injected: u64 = streams.iter().map(|s| s.injected).sum();
    let rare = reads::filter_group(client, group, RARE_USER, raw_bytes).await?;
    figure(&format!("filter '{RARE_USER}' (~1%)"), rare.text());
    report.check("FilterLogEvents matches for the injected user", rare.matches, injected);
    report.check("FilterLogEvents matches lacking the term", rare.non_matching, 0);
    report.set("filter_rare", rare.json());

    let none = reads::filter_group(client, group, NO_MATCH_TERM, raw_bytes).await?;
    figure(&format!("filter '{NO_MATCH_TERM}' (none)"), none.text());
    report.check("FilterLogEvents matches for an absent term", none.matches, 0);
    report.set("filter_none", none.json());
    Ok(())
}

/// The phase lengths in one line.
fn config_text(args: &Args) -> String {
    let large = match args.megabytes {
        Some(megabytes) => format!("{megabytes} MB"),
        None => format!("{} s", args.seconds),
    };
    format!(
        "{} clients; 1MB batches for {large}, half load {} s, 10-event batches {} s; settle <= {} s",
        args.clients, args.half_seconds, args.small_seconds, args.settle_seconds
    )
}

/// The options as JSON, so a summary line says what it measured.
fn config_json(args: &Args) -> Value {
    json!({
        "endpoint": args.endpoint,
        "clients": args.clients,
        "seconds": args.seconds,
        "megabytes": args.megabytes,
        "half_seconds": args.half_seconds,
        "small_seconds": args.small_seconds,
        "settle_seconds": args.settle_seconds,
        "pool_megabytes": args.pool_megabytes,
        "log_group": args.log_group,
    })
}
