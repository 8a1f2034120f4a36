//! The agent's counters, each file's lag, and the `/metrics` and `/status` endpoints.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use crate::checkpoint::Checkpoints;

/// Counters since the agent started.
#[derive(Debug, Default)]
pub struct Metrics {
    pub events_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub batches_sent: AtomicU64,
    /// Events PutLogEvents refused one by one (too old, too new, past retention).
    pub events_refused: AtomicU64,
    /// Events refused outright (InvalidParameterException) and skipped.
    pub events_rejected: AtomicU64,
    pub events_truncated: AtomicU64,
    pub events_split: AtomicU64,
    pub send_errors: AtomicU64,
    pub retries: AtomicU64,
    pub rotations: AtomicU64,
    pub truncations: AtomicU64,
}

impl Metrics {
    pub fn add(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn counters(&self) -> [(&'static str, &'static str, u64); 11] {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("events_sent_total", "Events the log service stored.", get(&self.events_sent)),
            ("bytes_sent_total", "Message bytes the log service stored.", get(&self.bytes_sent)),
            ("batches_sent_total", "PutLogEvents calls acknowledged.", get(&self.batches_sent)),
            ("events_refused_total", "Events refused as too old, too new or past retention.", get(&self.events_refused)),
            ("events_rejected_total", "Events refused as invalid and skipped.", get(&self.events_rejected)),
            ("events_truncated_total", "Events cut to the size limit.", get(&self.events_truncated)),
            ("events_split_total", "Events sent in several parts for size.", get(&self.events_split)),
            ("send_errors_total", "Failed calls to the log service.", get(&self.send_errors)),
            ("retries_total", "Retried calls to the log service.", get(&self.retries)),
            ("rotations_total", "Files seen rotated away or deleted.", get(&self.rotations)),
            ("truncations_total", "Files seen truncated (copytruncate).", get(&self.truncations)),
        ]
    }
}

/// One file's lag as reported.
pub struct FileLag {
    pub path: String,
    pub log_group: String,
    pub log_stream: String,
    pub bytes_behind: u64,
    pub seconds_behind: f64,
}

pub fn lags(checkpoints: &Checkpoints) -> Vec<FileLag> {
    checkpoints
        .snapshot()
        .into_iter()
        .map(|(c, lag)| FileLag {
            path: c.path.display().to_string(),
            log_group: c.log_group,
            log_stream: c.log_stream,
            bytes_behind: lag.size.saturating_sub(c.acked.offset),
            seconds_behind: lag.behind_since.map_or(0.0, |t| t.elapsed().as_secs_f64()),
        })
        .collect()
}

/// The Prometheus text exposition of the counters and per-file lag.
pub fn prometheus(metrics: &Metrics, checkpoints: &Checkpoints) -> String {
    let mut out = String::new();
    for (name, help, value) in metrics.counters() {
        let _ =
            writeln!(out, "# HELP trailwatch_agent_{name} {help}\n# TYPE trailwatch_agent_{name} counter\ntrailwatch_agent_{name} {value}");
    }
    let lags = lags(checkpoints);
    let _ = writeln!(out, "# HELP trailwatch_agent_file_bytes_behind Bytes in the file not yet acknowledged.");
    let _ = writeln!(out, "# TYPE trailwatch_agent_file_bytes_behind gauge");
    for l in &lags {
        let _ = writeln!(out, "trailwatch_agent_file_bytes_behind{{{}}} {}", labels(l), l.bytes_behind);
    }
    let _ = writeln!(out, "# HELP trailwatch_agent_file_seconds_behind Seconds the file has held bytes not yet acknowledged.");
    let _ = writeln!(out, "# TYPE trailwatch_agent_file_seconds_behind gauge");
    for l in &lags {
        let _ = writeln!(out, "trailwatch_agent_file_seconds_behind{{{}}} {:.3}", labels(l), l.seconds_behind);
    }
    out
}

fn labels(l: &FileLag) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("path=\"{}\",log_group=\"{}\",log_stream=\"{}\"", esc(&l.path), esc(&l.log_group), esc(&l.log_stream))
}

/// The same figures as JSON.
pub fn status(metrics: &Metrics, checkpoints: &Checkpoints) -> serde_json::Value {
    let counters: serde_json::Map<_, _> = metrics.counters().iter().map(|(n, _, v)| (n.to_string(), json!(v))).collect();
    let files: Vec<_> = lags(checkpoints)
        .into_iter()
        .map(|l| {
            json!({
                "path": l.path, "log_group": l.log_group, "log_stream": l.log_stream,
                "bytes_behind": l.bytes_behind, "seconds_behind": l.seconds_behind,
            })
        })
        .collect();
    json!({ "counters": counters, "files": files })
}

/// Serves `/metrics` and `/status` on `listen` until the process ends.
pub async fn serve(listen: String, metrics: Arc<Metrics>, checkpoints: Arc<Checkpoints>) -> anyhow::Result<()> {
    use axum::routing::get;
    let (m1, c1) = (metrics.clone(), checkpoints.clone());
    let app = axum::Router::new()
        .route("/metrics", get(move || async move { prometheus(&m1, &c1) }))
        .route("/status", get(move || async move { axum::Json(status(&metrics, &checkpoints)) }));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!(listen = %listener.local_addr()?, "serving /metrics and /status");
    axum::serve(listener, app).await?;
    Ok(())
}
