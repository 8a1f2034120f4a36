//! trailwatch-agent-bench: one `trailwatch agent` shipping a large file of MariaDB audit
//! lines to a local `trailwatch serve`: throughput, the agent's CPU per GB and peak
//! memory, and the latency from a line written to it being returned by GetLogEvents.

#![allow(dead_code)]

#[path = "../audit.rs"]
mod audit;
#[path = "../client.rs"]
mod client;
#[path = "../machine.rs"]
mod machine;
#[path = "../server.rs"]
mod server;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use aws_sdk_cloudwatchlogs::Client;
use clap::Parser;
use serde_json::json;

use crate::audit::AuditGen;
use crate::client::Creds;
use crate::machine::Machine;
use crate::server::ServerProcess;

#[derive(Parser, Debug)]
#[command(about = "Measures `trailwatch agent` shipping a file to a local server")]
struct Args {
    /// The trailwatch binary (server and agent).
    #[arg(long, default_value = "target/release/trailwatch")]
    bin: PathBuf,
    /// Size of the audit file to ship, in MB (10^6 bytes).
    #[arg(long, default_value_t = 1000)]
    mb: u64,
    /// Lines written one at a time for the latency figure.
    #[arg(long, default_value_t = 30)]
    latency_samples: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let creds = Creds::invent()?;
    let mut server = ServerProcess::start(&args.bin, &creds).await?;
    let client = Client::new(&client::sdk_config(&server.endpoint, &creds).await);
    let dir = server.work_dir.join("agent");
    std::fs::create_dir_all(&dir)?;
    println!("machine: {}", Machine::detect().text());

    let file = dir.join("server_audit.log");
    let (lines, bytes, last) = write_audit_file(&file, args.mb * 1_000_000)?;
    println!("wrote {} lines, {:.1} MB of audit log", lines, bytes as f64 / 1e6);

    let config = dir.join("bulk.toml");
    write_config(&config, &dir.join("state-bulk"), &server.endpoint, &file, "bulk")?;
    let started = Instant::now();
    let (status, usage) = run_agent(&args.bin, &config, &creds, &dir.join("agent-bulk.log"), true)?;
    let elapsed = started.elapsed();
    if !status {
        bail!("the agent failed; see {}", dir.join("agent-bulk.log").display());
    }
    let cpu = usage.cpu.as_secs_f64();
    let mbs = bytes as f64 / 1e6 / elapsed.as_secs_f64();
    let cpu_per_gb = cpu / (bytes as f64 / 1e9);
    println!(
        "bulk: {:.1} MB in {:.1} s = {mbs:.1} MB/s; agent CPU {cpu:.1} s = {cpu_per_gb:.1} CPU-s/GB; agent peak RSS {:.1} MB",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        usage.max_rss_kb as f64 / 1024.0
    );
    let newest =
        client.get_log_events().log_group_name("/bench/agent").log_stream_name("bulk").start_from_head(false).limit(1).send().await?;
    let got = newest.events().first().and_then(|e| e.message()).unwrap_or_default();
    if got != last {
        bail!("the stream's last event is {got:?}, the file's last line {last:?}");
    }
    let agent_log = std::fs::read_to_string(dir.join("agent-bulk.log"))?;
    if !agent_log.contains(&format!("events={lines}")) {
        bail!("the agent did not report {lines} events sent; see {}", dir.join("agent-bulk.log").display());
    }

    let latency = measure_latency(&args, &client, &creds, &server.endpoint, &dir).await?;
    println!(
        "latency line written -> returned by GetLogEvents, default settings: p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms ({} samples)",
        latency[latency.len() / 2],
        latency[latency.len() * 9 / 10],
        latency[latency.len() - 1],
        latency.len()
    );
    server.stop()?;
    println!(
        "{}",
        json!({
            "bytes": bytes, "lines": lines, "seconds": elapsed.as_secs_f64(), "mb_per_s": mbs,
            "agent_cpu_s_per_gb": cpu_per_gb, "agent_peak_rss_mb": usage.max_rss_kb as f64 / 1024.0,
            "latency_ms_p50": latency[latency.len() / 2], "latency_ms_max": latency[latency.len() - 1],
        })
    );
    server.remove_files()?;
    Ok(())
}

/// Writes MariaDB server_audit lines until `target` bytes; returns lines, bytes and the last line.
fn write_audit_file(path: &Path, target: u64) -> Result<(u64, u64, String)> {
    let start_ms = now_ms() - 2 * 3600 * 1000;
    let mut generator = AuditGen::new(0x0061_6765_6e74, start_ms);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let (mut lines, mut bytes, mut last) = (0u64, 0u64, String::new());
    while bytes < target {
        let (line, _) = generator.line();
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        bytes += line.len() as u64 + 1;
        lines += 1;
        last = line;
    }
    out.flush()?;
    Ok((lines, bytes, last))
}

fn write_config(path: &Path, state: &Path, endpoint: &str, file: &Path, stream: &str) -> Result<()> {
    let text = format!(
        "[agent]\nstate_dir = \"{}\"\nregion = \"{}\"\nendpoint_url = \"{endpoint}\"\nstatus_interval_secs = 0\n\n\
         [[source]]\npath = \"{}\"\nlog_group = \"/bench/agent\"\nlog_stream = \"{stream}\"\n\
         timestamp_format = \"%Y%m%d %H:%M:%S\"\ntimezone = \"UTC\"\n",
        state.display(),
        client::REGION,
        file.display()
    );
    std::fs::write(path, text).context("writing the agent configuration")
}

struct Usage {
    cpu: Duration,
    max_rss_kb: i64,
}

/// Runs the agent to its end (with `--once`) and returns its exit status and resource use.
fn run_agent(bin: &Path, config: &Path, creds: &Creds, log: &Path, once: bool) -> Result<(bool, Usage)> {
    let mut cmd = agent_command(bin, config, creds, log)?;
    if once {
        cmd.arg("--once");
    }
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid out-pointers; reaps it and reports its rusage alone.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if rc != pid {
        bail!("wait4 failed");
    }
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    Ok((ok, Usage { cpu: tv(usage.ru_utime) + tv(usage.ru_stime), max_rss_kb: usage.ru_maxrss }))
}

fn agent_command(bin: &Path, config: &Path, creds: &Creds, log: &Path) -> Result<Command> {
    let mut cmd = Command::new(bin);
    cmd.arg("agent")
        .arg("--config")
        .arg(config)
        .env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &creds.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(File::create(log)?);
    Ok(cmd)
}

/// Starts a following agent with default batching, appends one line at a time and
/// times until GetLogEvents returns it. Milliseconds, sorted.
async fn measure_latency(args: &Args, client: &Client, creds: &Creds, endpoint: &str, dir: &Path) -> Result<Vec<f64>> {
    let file = dir.join("live.log");
    File::create(&file)?;
    let config = dir.join("live.toml");
    write_config(&config, &dir.join("state-live"), endpoint, &file, "live")?;
    let mut agent = agent_command(&args.bin, &config, creds, &dir.join("agent-live.log"))?.spawn()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut samples = Vec::new();
    let mut generator = AuditGen::new(7, now_ms());
    for i in 0..args.latency_samples {
        let (line, _) = generator.line();
        let line = format!("{line},latency-{i}");
        let written = Instant::now();
        let mut f = std::fs::OpenOptions::new().append(true).open(&file)?;
        f.write_all(format!("{line}\n").as_bytes())?;
        drop(f);
        loop {
            let page =
                client.get_log_events().log_group_name("/bench/agent").log_stream_name("live").start_from_head(false).limit(1).send().await;
            if let Ok(page) = page
                && page.events().first().and_then(|e| e.message()) == Some(line.as_str())
            {
                break;
            }
            if written.elapsed() > Duration::from_secs(30) {
                let _ = agent.kill();
                bail!("line {i} did not arrive within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        samples.push(written.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill").arg("-TERM").arg(agent.id().to_string()).status();
    agent.wait()?;
    samples.sort_by(f64::total_cmp);
    Ok(samples)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
