//! trailwatch-cluster-bench: PutLogEvents through one, two and three cluster nodes
//! (a PostgreSQL catalog and a Garage bucket, both scratch servers on this machine)
//! beside the embedded mode, with the CPU each process spent, to show where the
//! bottleneck sits.

#![allow(dead_code)]

#[path = "../audit.rs"]
mod audit;
#[path = "../client.rs"]
mod client;
#[path = "../ingest.rs"]
mod ingest;
#[path = "../machine.rs"]
mod machine;
#[path = "../server.rs"]
mod server;
#[path = "../stats.rs"]
mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use aws_sdk_cloudwatchlogs::Client;
use clap::Parser;
use testbed::{Garage, Postgres};

use crate::audit::{AuditGen, Batch};
use crate::client::Creds;
use crate::ingest::{LoadResult, LoadSpec, StopRule, StreamLog, run_load};
use crate::machine::Machine;
use crate::server::ServerProcess;

const GROUP: &str = "/aws/rds/cluster/bench/audit";
/// The master key every node of a bench deployment shares.
const MASTER_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[derive(Parser, Debug)]
#[command(about = "Measures ingest through 1, 2 and 3 cluster nodes beside the embedded mode")]
struct Args {
    /// The trailwatch binary.
    #[arg(long, default_value = "target/release/trailwatch")]
    bin: PathBuf,
    /// Seconds of each load.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Concurrent clients, spread over the nodes.
    #[arg(long, default_value_t = 6)]
    clients: usize,
}

/// A deployment under test: its nodes and the label its figures carry.
struct Deployment {
    label: String,
    nodes: Vec<ServerProcess>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let creds = Creds::invent()?;
    println!("machine: {}", Machine::detect().text());
    let mut generator = AuditGen::new(7, ingest::first_timestamp());
    let large = Arc::new(audit::large_pool(&mut generator, 64 << 20));
    let small = Arc::new(audit::small_pool(&mut generator, 4096));
    let (pg, garage) = (Postgres::shared(), Garage::shared());
    println!("PostgreSQL pid {}, Garage pid {} ({})", pg.pid(), garage.pid(), garage.endpoint);

    let mut deployments = vec![Deployment { label: "embedded (SQLite + directory)".into(), nodes: vec![] }];
    for n in 1..=3 {
        deployments.push(Deployment { label: format!("cluster, {n} node{}", if n > 1 { "s" } else { "" }), nodes: vec![] });
    }
    println!();
    println!(
        "| deployment | 1 MB batches: MB/s | p50 / p99 | 10-event batches: requests/s | p50 / p99 | CPU s per GB: nodes / PostgreSQL / Garage / clients | cores busy |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (i, d) in deployments.iter_mut().enumerate() {
        let flags = if i == 0 {
            Vec::new()
        } else {
            garage.serve_flags(&pg.create_database(&format!("bench{i}")), &format!("bench-{}-{i}", std::process::id()), MASTER_KEY)
        };
        let flag_refs: Vec<&str> = flags.iter().map(String::as_str).collect();
        let count = i.max(1);
        for _ in 0..count {
            d.nodes.push(ServerProcess::start_with(&args.bin, &creds, &flag_refs).await?);
        }
        let row = measure(&args, &creds, d, &large, &small, pg, garage).await?;
        println!("{row}");
        for node in &mut d.nodes {
            node.stop()?;
            node.remove_files()?;
        }
    }
    Ok(())
}

/// Both loads against one deployment, as a table row.
async fn measure(
    args: &Args,
    creds: &Creds,
    d: &Deployment,
    large: &Arc<Vec<Batch>>,
    small: &Arc<Vec<Batch>>,
    pg: &Postgres,
    garage: &Garage,
) -> Result<String> {
    let mut clients = Vec::new();
    for i in 0..args.clients {
        let node = &d.nodes[i % d.nodes.len()];
        clients.push(Client::new(&client::sdk_config(&node.endpoint, creds).await));
    }
    let names: Vec<String> = (0..args.clients).map(|i| format!("client-{i}")).collect();
    client::create_group_and_streams(&clients[0], GROUP, &names).await?;
    let run = |pool: Arc<Vec<Batch>>| {
        let clients = clients.clone();
        let names = names.clone();
        async move {
            let mut streams: Vec<StreamLog> = names.into_iter().map(StreamLog::new).collect();
            let spec = LoadSpec { pool, stop: StopRule::After(Duration::from_secs(args.seconds)), interval: None };
            run_load(&clients, GROUP, &mut streams, &spec).await
        }
    };
    let cpu = Cpu::sample(d, pg, garage);
    let full: LoadResult = run(large.clone()).await?;
    let used = Cpu::sample(d, pg, garage).minus(&cpu);
    let small_load: LoadResult = run(small.clone()).await?;
    let gb = full.bytes as f64 / 1e9;
    Ok(format!(
        "| {} | {:.1} | {:.0} / {:.0} ms | {:.0} | {:.1} / {:.1} ms | {:.1} / {:.1} / {:.1} / {:.1} | {:.2} of {} |",
        d.label,
        full.mb_per_s(),
        stats::ms(full.latency.p50),
        stats::ms(full.latency.p99),
        small_load.requests as f64 / small_load.elapsed.as_secs_f64(),
        stats::ms(small_load.latency.p50),
        stats::ms(small_load.latency.p99),
        used.nodes / gb,
        used.postgres / gb,
        used.garage / gb,
        used.clients / gb,
        used.total() / full.elapsed.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    ))
}

/// CPU seconds used so far by the deployment's nodes, PostgreSQL (the postmaster and
/// its backends), Garage and this process (the clients).
struct Cpu {
    nodes: f64,
    postgres: f64,
    garage: f64,
    clients: f64,
}

impl Cpu {
    fn sample(d: &Deployment, pg: &Postgres, garage: &Garage) -> Cpu {
        let nodes = d.nodes.iter().filter_map(|n| machine::cpu_seconds(Some(n.pid()))).sum();
        let backends = children_of(pg.pid());
        let postgres = std::iter::once(pg.pid()).chain(backends).filter_map(|p| machine::cpu_seconds(Some(p))).sum();
        let garage = machine::cpu_seconds(Some(garage.pid())).unwrap_or(0.0);
        Cpu { nodes, postgres, garage, clients: machine::cpu_seconds(None).unwrap_or(0.0) }
    }

    fn minus(&self, before: &Cpu) -> Cpu {
        Cpu {
            nodes: self.nodes - before.nodes,
            postgres: self.postgres - before.postgres,
            garage: self.garage - before.garage,
            clients: self.clients - before.clients,
        }
    }

    /// Every process's CPU seconds together.
    fn total(&self) -> f64 {
        self.nodes + self.postgres + self.garage + self.clients
    }
}

/// Processes whose parent is `pid` (PostgreSQL's backends), from /proc. Backends that
/// exited between samples are not counted, so PostgreSQL's figure is a floor.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // The fields after the command's closing parenthesis: state, ppid, ...
            stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok()) == Some(pid)
        })
        .collect()
}
