//! Server memory: VmRSS sampled every 100 ms plus the kernel's VmHWM at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::machine::{parse_kb, proc_field};

/// How often VmRSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Background task tracking the peak VmRSS of one process.
pub struct RssSampler {
    pid: u32,
    peak_kb: Arc<AtomicU64>,
    samples: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// Peak memory of the server over the run.
pub struct MemoryResult {
    /// Highest sampled VmRSS, in kB.
    pub peak_rss_kb: u64,
    /// Number of successful samples.
    pub samples: u64,
    /// VmHWM (the kernel's own RSS high-water mark), in kB, if readable.
    pub hwm_kb: Option<u64>,
}

impl RssSampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> Self {
        let peak_kb = Arc::new(AtomicU64::new(0));
        let samples = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(sample_loop(pid, peak_kb.clone(), samples.clone(), stop.clone()));
        Self { pid, peak_kb, samples, stop, task }
    }

    /// Stops sampling and reads VmHWM; call while the process is still alive.
    pub async fn finish(self) -> MemoryResult {
        self.stop.store(true, Ordering::Relaxed);
        // The loop only ever exits normally, so a join error cannot carry a result.
        let _ = self.task.await;
        MemoryResult {
            peak_rss_kb: self.peak_kb.load(Ordering::Relaxed),
            samples: self.samples.load(Ordering::Relaxed),
            hwm_kb: status_kb(self.pid, "VmHWM"),
        }
    }
}

async fn sample_loop(pid: u32, peak_kb: Arc<AtomicU64>, samples: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        if let Some(kb) = status_kb(pid, "VmRSS") {
            peak_kb.fetch_max(kb, Ordering::Relaxed);
            samples.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A `kB` field of /proc/PID/status.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_kb(&proc_field(&status, field)?)
}

impl MemoryResult {
    /// One human-readable line.
    pub fn text(&self) -> String {
        let hwm = self.hwm_kb.map_or("unavailable".to_owned(), |kb| format!("{:.1} MB", kb_to_mb(kb)));
        format!("peak RSS {:.1} MB (VmRSS every 100 ms, {} samples), VmHWM {hwm}", kb_to_mb(self.peak_rss_kb), self.samples)
    }

    /// The result as JSON.
    pub fn json(&self) -> Value {
        json!({
            "peak_rss_mb": crate::stats::round3(kb_to_mb(self.peak_rss_kb)),
            "vm_hwm_mb": self.hwm_kb.map(|kb| crate::stats::round3(kb_to_mb(kb))),
            "samples": self.samples,
        })
    }
}

/// /proc reports kB (KiB); figures are decimal MB like the rest of the bench.
fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / crate::stats::MB
}
