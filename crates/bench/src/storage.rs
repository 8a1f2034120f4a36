//! Storage figures: DescribeLogGroups storedBytes once compaction settles, and bytes on disk.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_cloudwatchlogs::Client;
use serde_json::{Value, json};

use crate::client::sdk_error;
use crate::stats::{mb, round3};

/// How often storedBytes and the data dir are sampled while settling.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Both figures must hold still this long to count as settled.
///
/// Long enough that a compaction pass that starts shortly after the last write
/// is not mistaken for a finished one.
const QUIET_FOR: Duration = Duration::from_secs(10);

/// Storage cost of what was written.
pub struct StorageResult {
    /// Message bytes written (the raw input).
    pub raw_bytes: u64,
    /// storedBytes of the log group, if the server reports it.
    pub stored_bytes: Option<i64>,
    /// Sum of file lengths under the data dir, if known.
    pub disk_bytes: Option<u64>,
    /// Whether both figures held still for [`QUIET_FOR`] before the deadline.
    pub settled: bool,
    /// How long the polling took.
    pub waited: Duration,
}

/// Polls storedBytes (and the data dir size) until both are stable or `max_wait` passes.
pub async fn settle(client: &Client, group: &str, data_dir: Option<&Path>, raw_bytes: u64, max_wait: Duration) -> Result<StorageResult> {
    let started = Instant::now();
    let mut last = None;
    let mut quiet_since = Instant::now();
    loop {
        let sample = (stored_bytes(client, group).await?, data_dir.map(dir_size).transpose()?);
        if last != Some(sample) {
            last = Some(sample);
            quiet_since = Instant::now();
        }
        // Zero means the server has not accounted anything yet, not that it is done.
        let settled = sample.0.unwrap_or(0) > 0 && quiet_since.elapsed() >= QUIET_FOR;
        if settled || started.elapsed() >= max_wait {
            return Ok(StorageResult { raw_bytes, stored_bytes: sample.0, disk_bytes: sample.1, settled, waited: started.elapsed() });
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// storedBytes of exactly `group`, paging through DescribeLogGroups by prefix.
async fn stored_bytes(client: &Client, group: &str) -> Result<Option<i64>> {
    let mut token = None;
    loop {
        let page = client
            .describe_log_groups()
            .log_group_name_prefix(group)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeLogGroups", e))?;
        if let Some(found) = page.log_groups().iter().find(|g| g.log_group_name() == Some(group)) {
            return Ok(found.stored_bytes());
        }
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => anyhow::bail!("DescribeLogGroups does not list {group}"),
        }
    }
}

/// Sum of file lengths under `dir`, not following symlinks.
///
/// Files that vanish mid-walk are skipped: background compaction deletes
/// segments while we look.
pub fn dir_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        other => other?,
    };
    for entry in entries {
        let entry = entry?;
        let meta = match entry.path().symlink_metadata() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            other => other?,
        };
        total += if meta.is_dir() { dir_size(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}

impl StorageResult {
    /// One human-readable line.
    pub fn text(&self) -> String {
        let stored = self.stored_bytes.map_or("stored n/a".to_owned(), |s| {
            format!("stored {:.1} MB (raw/stored {})", mb(s.max(0) as u64), ratio(self.raw_bytes, s as f64))
        });
        let disk = self
            .disk_bytes
            .map_or("on disk n/a".to_owned(), |d| format!("on disk {:.1} MB (raw/disk {})", mb(d), ratio(self.raw_bytes, d as f64)));
        let settled = if self.settled { "settled" } else { "NOT settled" };
        format!("raw {:.1} MB, {stored}, {disk}; {settled} after {:.0} s", mb(self.raw_bytes), self.waited.as_secs_f64())
    }

    /// The result as JSON.
    pub fn json(&self) -> Value {
        let ratio = |d: f64| (d > 0.0).then(|| round3(self.raw_bytes as f64 / d));
        json!({
            "raw_bytes": self.raw_bytes,
            "stored_bytes": self.stored_bytes,
            "raw_per_stored": self.stored_bytes.and_then(|s| ratio(s as f64)),
            "disk_bytes": self.disk_bytes,
            "raw_per_disk": self.disk_bytes.and_then(|d| ratio(d as f64)),
            "settled": self.settled,
            "settle_seconds": round3(self.waited.as_secs_f64()),
        })
    }
}

/// `7.52x`, or `n/a` when the denominator is zero.
fn ratio(raw: u64, stored: f64) -> String {
    if stored > 0.0 { format!("{:.2}x", raw as f64 / stored) } else { "n/a".to_owned() }
}
