//! PutLogEvents load phases: C clients, one stream each, sending pre-generated batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::audit::Batch;
use crate::client::sdk_error;
use crate::stats::{LatencySummary, count, mb, mb_per_s, per_s, round3};

/// Event timestamps start this far in the past.
///
/// Timestamps advance 1 ms per event, which at bench rates (hundreds of
/// thousands of events/s per stream) outruns the wall clock. AWS rejects
/// events more than 2 h in the future, so starting an hour back gives ~3 h of
/// headroom while staying far inside the 14-day window.
const CLOCK_HEADSTART_MS: i64 = 3_600_000;

/// Refuse to send events further ahead than this (AWS's limit is 2 h).
const MAX_AHEAD_MS: i64 = 2 * 3_600_000 - 5 * 60_000;

/// One client's stream, its timestamp clock, and everything written to it.
pub struct StreamLog {
    /// Log stream name.
    pub name: String,
    next_timestamp: i64,
    /// Events acknowledged by the server.
    pub events: u64,
    /// Message bytes acknowledged by the server.
    pub bytes: u64,
    /// Acknowledged events carrying the rare user.
    pub injected: u64,
}

impl StreamLog {
    /// A stream with nothing written yet.
    pub fn new(name: String) -> Self {
        Self { name, next_timestamp: first_timestamp(), events: 0, bytes: 0, injected: 0 }
    }

    /// Reserves `n` consecutive millisecond timestamps; returns the first.
    ///
    /// Timestamps only ever increase per stream, so every batch is
    /// chronological and batches never overlap.
    fn stamp(&mut self, n: usize) -> Result<i64> {
        let first = self.next_timestamp;
        let last = first + n as i64 - 1;
        if last > now_ms() + MAX_AHEAD_MS {
            bail!(
                "stream {}: event timestamps ran {} min ahead of the clock (AWS rejects > 2 h); \
                 use fewer --seconds/--megabytes",
                self.name,
                (last - now_ms()) / 60_000
            );
        }
        self.next_timestamp = last + 1;
        Ok(first)
    }
}

/// Where event timestamps start: now, minus the headstart.
pub fn first_timestamp() -> i64 {
    now_ms() - CLOCK_HEADSTART_MS
}

/// Current Unix time in milliseconds.
fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// When a load phase's clients stop.
#[derive(Clone, Copy)]
pub enum StopRule {
    /// After this long.
    After(Duration),
    /// Once this many message bytes have been claimed (the last batch may overshoot).
    Bytes(u64),
}

/// One load phase: what to send, how fast, and for how long.
pub struct LoadSpec {
    /// Batches cycled through by every client, each from its own offset.
    pub pool: Arc<Vec<Batch>>,
    /// When to stop.
    pub stop: StopRule,
    /// Per-client gap between request starts; `None` sends back to back.
    pub interval: Option<Duration>,
}

/// What a load phase achieved over all clients.
pub struct LoadResult {
    /// From the first request to the last response.
    pub elapsed: Duration,
    /// Requests acknowledged.
    pub requests: u64,
    /// Events acknowledged.
    pub events: u64,
    /// Message bytes acknowledged.
    pub bytes: u64,
    /// Request latencies.
    pub latency: LatencySummary,
}

impl LoadResult {
    /// Message MB/s.
    pub fn mb_per_s(&self) -> f64 {
        mb_per_s(self.bytes, self.elapsed)
    }

    /// `12.3 MB in 20.0 s = 0.6 MB/s, 1,234 events/s, 56 requests/s`.
    pub fn throughput_text(&self) -> String {
        format!(
            "{:.1} MB in {:.2} s = {:.2} MB/s, {} events/s, {} requests/s",
            mb(self.bytes),
            self.elapsed.as_secs_f64(),
            self.mb_per_s(),
            count(per_s(self.events, self.elapsed) as u64),
            count(per_s(self.requests, self.elapsed) as u64),
        )
    }

    /// The result as JSON.
    pub fn json(&self) -> Value {
        let mut value = json!({
            "seconds": round3(self.elapsed.as_secs_f64()),
            "bytes": self.bytes,
            "events": self.events,
            "mb_per_s": round3(self.mb_per_s()),
            "events_per_s": round3(per_s(self.events, self.elapsed)),
            "requests_per_s": round3(per_s(self.requests, self.elapsed)),
        });
        if let (Value::Object(map), Value::Object(lat)) = (&mut value, self.latency.json()) {
            map.extend(lat);
        }
        value
    }
}

/// Runs one load phase with one task per client, each writing its own stream.
pub async fn run_load(clients: &[Client], group: &str, streams: &mut Vec<StreamLog>, spec: &LoadSpec) -> Result<LoadResult> {
    let budget = Arc::new(Budget::new(spec.stop));
    let n = clients.len();
    let started = Instant::now();
    let handles: Vec<JoinHandle<Result<(StreamLog, Tally)>>> = clients
        .iter()
        .zip(streams.drain(..))
        .enumerate()
        .map(|(i, (client, stream))| {
            let worker = Worker {
                client: client.clone(),
                group: group.to_owned(),
                stream,
                pool: spec.pool.clone(),
                // Clients start at different batches so they never send the same bytes together.
                first_batch: i * spec.pool.len() / n,
                // Paced clients are staggered across one interval to spread the load evenly.
                pace: spec.interval.map(|every| (started + every * i as u32 / n as u32, every)),
                budget: budget.clone(),
            };
            tokio::spawn(worker.run())
        })
        .collect();

    let mut tally = Tally::default();
    let mut first_error = None;
    for handle in handles {
        match handle.await.context("load task panicked")? {
            Ok((stream, t)) => {
                streams.push(stream);
                tally.merge(t);
            }
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    Ok(tally.finish(started.elapsed()))
}

/// Shared stop condition of one phase.
struct Budget {
    deadline: Option<Instant>,
    byte_limit: Option<u64>,
    claimed: AtomicU64,
    aborted: AtomicBool,
}

impl Budget {
    fn new(rule: StopRule) -> Self {
        let (deadline, byte_limit) = match rule {
            StopRule::After(d) => (Some(Instant::now() + d), None),
            StopRule::Bytes(b) => (None, Some(b)),
        };
        Self { deadline, byte_limit, claimed: AtomicU64::new(0), aborted: AtomicBool::new(false) }
    }

    /// Whether a client may send a batch of `bytes` now.
    fn claim(&self, bytes: u64) -> bool {
        if self.aborted.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d) {
            return false;
        }
        match self.byte_limit {
            Some(limit) => self.claimed.fetch_add(bytes, Ordering::Relaxed) < limit,
            None => true,
        }
    }

    /// Whether the phase is over by `at`.
    fn ends_before(&self, at: Instant) -> bool {
        self.deadline.is_some_and(|d| at >= d)
    }

    /// Stops every client after one fails; the phase's figures would be meaningless.
    fn abort(&self) {
        self.aborted.store(true, Ordering::Relaxed);
    }
}

/// Per-client counters, merged at the end of a phase.
#[derive(Default)]
struct Tally {
    requests: u64,
    events: u64,
    bytes: u64,
    latencies: Vec<Duration>,
}

impl Tally {
    fn add(&mut self, batch: &Batch, latency: Duration) {
        self.requests += 1;
        self.events += batch.messages.len() as u64;
        self.bytes += batch.bytes;
        self.latencies.push(latency);
    }

    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.events += other.events;
        self.bytes += other.bytes;
        self.latencies.extend(other.latencies);
    }

    fn finish(self, elapsed: Duration) -> LoadResult {
        LoadResult {
            elapsed,
            requests: self.requests,
            events: self.events,
            bytes: self.bytes,
            latency: LatencySummary::from_samples(self.latencies),
        }
    }
}

/// One client's loop over the pool.
struct Worker {
    client: Client,
    group: String,
    stream: StreamLog,
    pool: Arc<Vec<Batch>>,
    first_batch: usize,
    /// First send time and gap between sends, for paced phases.
    pace: Option<(Instant, Duration)>,
    budget: Arc<Budget>,
}

impl Worker {
    async fn run(mut self) -> Result<(StreamLog, Tally)> {
        let mut tally = Tally::default();
        let mut next_send = self.pace.map(|(start, _)| start);
        for k in 0.. {
            if let (Some(at), Some((_, every))) = (next_send, self.pace) {
                // Sleeping past the deadline would stretch the phase's elapsed
                // time without adding bytes, understating the achieved rate.
                if self.budget.ends_before(at) {
                    break;
                }
                tokio::time::sleep_until(at.into()).await;
                // A late response delays the schedule instead of causing a
                // catch-up burst; the achieved rate is reported, so lag shows.
                next_send = Some((at + every).max(Instant::now()));
            }
            let batch = &self.pool[(self.first_batch + k) % self.pool.len()];
            if !self.budget.claim(batch.bytes) {
                break;
            }
            match put_batch(&self.client, &self.group, &mut self.stream, batch).await {
                Ok(latency) => tally.add(batch, latency),
                Err(e) => {
                    self.budget.abort();
                    return Err(e);
                }
            }
        }
        Ok((self.stream, tally))
    }
}

/// Sends one batch and returns the request's latency.
///
/// Only `send()` is timed (that includes the SDK's serialization and signing,
/// as for any real client); copying the pre-generated lines is not.
async fn put_batch(client: &Client, group: &str, stream: &mut StreamLog, batch: &Batch) -> Result<Duration> {
    let first = stream.stamp(batch.messages.len())?;
    let events = batch
        .messages
        .iter()
        .zip(first..)
        .map(|(message, timestamp)| InputLogEvent::builder().timestamp(timestamp).message(message.clone()).build())
        .collect::<Result<Vec<_>, _>>()?;
    let request = client.put_log_events().log_group_name(group).log_stream_name(&stream.name).set_log_events(Some(events));

    let started = Instant::now();
    let output = request.send().await.map_err(|e| sdk_error(&format!("PutLogEvents to {}", stream.name), e))?;
    let latency = started.elapsed();

    // Our timestamps are always valid, so any rejection is a server bug and
    // would make the exact-count checks meaningless.
    if let Some(rejected) = output.rejected_log_events_info().filter(|r| {
        r.too_new_log_event_start_index().is_some()
            || r.too_old_log_event_end_index().is_some()
            || r.expired_log_event_end_index().is_some()
    }) {
        bail!("PutLogEvents to {} rejected events: {rejected:?}", stream.name);
    }
    stream.events += batch.messages.len() as u64;
    stream.bytes += batch.bytes;
    stream.injected += batch.injected;
    Ok(latency)
}

/// Per-client send interval that makes `clients` clients total `bytes_per_s`.
pub fn pacing_interval(pool: &[Batch], clients: usize, bytes_per_s: f64) -> Duration {
    let avg_batch = pool.iter().map(|b| b.bytes).sum::<u64>() as f64 / pool.len() as f64;
    Duration::from_secs_f64(avg_batch * clients as f64 / bytes_per_s)
}
