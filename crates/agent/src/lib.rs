//! The file-following agent: ships log files, rotated or not, to CloudWatch Logs with
//! nothing lost and nothing sent twice.
//!
//! One thread per source follows its files ([`follow`]) and turns their bytes into
//! events ([`assemble`]); one task per destination stream batches and sends them
//! ([`ship`]) through a [`sink::Sink`]. Checkpoints ([`checkpoint`]) move only after
//! the log service acknowledges, and the batch in flight is recorded before it is sent,
//! so a restart after a crash resumes exactly where the stream ends.

pub mod assemble;
pub mod checkpoint;
pub mod config;
pub mod follow;
pub mod metrics;
pub mod ship;
pub mod sink;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::checkpoint::{Checkpoint, Checkpoints};
use crate::config::{Config, SourceConfig};
use crate::follow::{Follower, Names, Outlet, Shared};
use crate::metrics::Metrics;
use crate::ship::{Chunk, Destination};
use crate::sink::Sink;

/// Attempts in a row after which `--once` gives up on an unreachable endpoint.
const ONCE_MAX_FAILURES: u32 = 8;
/// How long a stopping agent keeps sending what it has read before it exits anyway
/// (what is left is re-read from the files on the next start).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the agent until `shutdown` resolves, or with `once` until every file has been
/// shipped to its end. Checkpoints are written before it returns.
pub async fn run(config: Config, sink: Arc<dyn Sink>, once: bool, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let (checkpoints, saved) = Checkpoints::open(&config.agent.state_dir)?;
    let checkpoints = Arc::new(checkpoints);
    let metrics = Arc::new(Metrics::default());
    if let Some(listen) = config.agent.metrics_listen.clone() {
        let (m, c) = (metrics.clone(), checkpoints.clone());
        tokio::spawn(async move {
            if let Err(e) = metrics::serve(listen, m, c).await {
                tracing::error!(error = %e, "the metrics endpoint stopped");
            }
        });
    }
    let status = (config.agent.status_interval_secs > 0).then(|| {
        let (m, c, every) = (metrics.clone(), checkpoints.clone(), Duration::from_secs(config.agent.status_interval_secs));
        tokio::spawn(log_status(m, c, every))
    });

    let names = Names { hostname: hostname(), instance_id: instance_id(&config) };
    let stop = Arc::new(AtomicBool::new(false));
    let shippers: Arc<Mutex<Vec<JoinHandle<anyhow::Result<()>>>>> = Arc::default();
    let next_key = Arc::new(AtomicU64::new(1));
    let mut saved_by_source: HashMap<String, Vec<Checkpoint>> = HashMap::new();
    for c in saved {
        saved_by_source.entry(c.source.clone()).or_default().push(c);
    }
    let max_failures = once.then_some(ONCE_MAX_FAILURES);
    let mut followers = Vec::new();
    for source in &config.sources {
        let shared = Shared {
            checkpoints: checkpoints.clone(),
            metrics: metrics.clone(),
            sink: sink.clone(),
            runtime: tokio::runtime::Handle::current(),
            next_key: next_key.clone(),
            outlet: outlet(source, &config, sink.clone(), checkpoints.clone(), metrics.clone(), shippers.clone(), max_failures),
            poll_interval: config.poll_interval(),
            rotate_wait: Duration::from_millis(config.agent.rotate_wait_ms),
            stop: stop.clone(),
            max_failures,
        };
        let follower = Follower::new(source.clone(), names.clone(), shared, saved_by_source.remove(&source.path).unwrap_or_default())?;
        let name = format!("follow {}", source.path);
        followers.push(std::thread::Builder::new().name(name).spawn(move || follower.run(once))?);
    }

    let followers_done = tokio::task::spawn_blocking(move || followers.into_iter().map(|f| f.join()).collect::<Vec<_>>());
    tokio::pin!(followers_done);
    tokio::pin!(shutdown);
    let joined = tokio::select! {
        joined = &mut followers_done => joined,
        () = &mut shutdown => {
            tracing::info!("stopping: sending what has been read, then writing checkpoints");
            stop.store(true, Ordering::Relaxed);
            followers_done.await
        }
    }?;
    let mut result = Ok(());
    for j in joined {
        match j {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(_) => result = Err(anyhow::anyhow!("a follower thread panicked")),
        }
    }
    // Every sender is gone with its follower, so each shipper ends once it has sent its queue.
    let handles = std::mem::take(&mut *shippers.lock().unwrap());
    let drain = async {
        for h in handles {
            match h.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(e) => return Err(anyhow::anyhow!("a shipper failed: {e}")),
            }
        }
        Ok(())
    };
    let drained = if once { drain.await } else { tokio::time::timeout(DRAIN_TIMEOUT, drain).await.unwrap_or(Ok(())) };
    if let Some(status) = status {
        status.abort();
    }
    let cp = checkpoints.clone();
    tokio::task::spawn_blocking(move || cp.persist()).await?.context("writing checkpoints")?;
    tracing::info!(
        events = metrics.events_sent.load(Ordering::Relaxed),
        bytes = metrics.bytes_sent.load(Ordering::Relaxed),
        batches = metrics.batches_sent.load(Ordering::Relaxed),
        "agent stopped"
    );
    result.and(drained)
}

/// The function a follower calls to get the sender of a stream, starting its shipper once.
fn outlet(
    source: &SourceConfig,
    config: &Config,
    sink: Arc<dyn Sink>,
    checkpoints: Arc<Checkpoints>,
    metrics: Arc<Metrics>,
    shippers: Arc<Mutex<Vec<JoinHandle<anyhow::Result<()>>>>>,
    max_failures: Option<u32>,
) -> Outlet {
    let mut senders: HashMap<(String, String), mpsc::Sender<Chunk>> = HashMap::new();
    // Chunks hold up to a megabyte of file each; the channel bounds read-ahead.
    let capacity = (config.agent.max_buffer_bytes >> 20).max(1);
    let runtime = tokio::runtime::Handle::current();
    let source = source.clone();
    Box::new(move |group: &str, stream: &str| {
        let key = (group.to_owned(), stream.to_owned());
        senders
            .entry(key)
            .or_insert_with(|| {
                let (tx, rx) = mpsc::channel(capacity);
                let dest = Destination {
                    log_group: group.to_owned(),
                    log_stream: stream.to_owned(),
                    retention_in_days: source.retention_in_days,
                    buffer_duration: Duration::from_millis(source.buffer_duration_ms),
                    batch_count: source.batch_count,
                    batch_size: source.batch_size,
                    max_failures,
                };
                let task = runtime.spawn(ship::run(dest, rx, sink.clone(), checkpoints.clone(), metrics.clone()));
                shippers.lock().unwrap().push(task);
                tx
            })
            .clone()
    })
}

/// Logs one line per file with its lag, every `every`.
async fn log_status(metrics: Arc<Metrics>, checkpoints: Arc<Checkpoints>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        for l in metrics::lags(&checkpoints) {
            tracing::info!(path = %l.path, log_group = %l.log_group, log_stream = %l.log_stream, bytes_behind = l.bytes_behind, seconds_behind = l.seconds_behind, "status");
        }
        tracing::info!(
            events_sent = metrics.events_sent.load(Ordering::Relaxed),
            events_refused = metrics.events_refused.load(Ordering::Relaxed),
            events_rejected = metrics.events_rejected.load(Ordering::Relaxed),
            send_errors = metrics.send_errors.load(Ordering::Relaxed),
            "status"
        );
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `{instance_id}`: the configured value, else cloud-init's record of the instance, else the host name.
fn instance_id(config: &Config) -> String {
    if let Some(id) = &config.agent.instance_id {
        return id.clone();
    }
    std::fs::read_to_string("/var/lib/cloud/data/instance-id")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(hostname)
}
