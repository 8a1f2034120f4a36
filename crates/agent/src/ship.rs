//! The shipper of one destination stream: gathers events into PutLogEvents batches,
//! records each batch as in flight before sending it, retries with backoff, and moves
//! the checkpoint only once the log service has acknowledged.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::assemble::{Event, Position};
use crate::checkpoint::{Checkpoints, Inflight};
use crate::config::EVENT_OVERHEAD;
use crate::metrics::Metrics;
use crate::sink::{Sink, SinkError};

/// The longest a batch may span, per PutLogEvents.
const MAX_SPAN_MS: i64 = 24 * 3600 * 1000;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Events read from one file, in file order.
#[derive(Debug)]
pub struct Chunk {
    pub key: u64,
    pub events: Vec<Event>,
}

/// Where a shipper sends and how it batches.
#[derive(Debug, Clone)]
pub struct Destination {
    pub log_group: String,
    pub log_stream: String,
    pub retention_in_days: Option<i32>,
    pub buffer_duration: Duration,
    pub batch_count: usize,
    pub batch_size: usize,
    /// Give up after this many failed attempts in a row (`--once`); retry forever when `None`.
    pub max_failures: Option<u32>,
}

/// Events waiting to be sent, with the running totals of the batch that would go next.
struct Queue {
    items: VecDeque<(u64, Event)>,
    /// When the oldest waiting event arrived.
    oldest: Option<Instant>,
    /// How many leading items form the next batch so far, and their size.
    run: usize,
    run_bytes: usize,
    /// The next batch can grow no further: a limit or a boundary was reached.
    run_closed: bool,
}

impl Queue {
    fn new() -> Queue {
        Queue { items: VecDeque::new(), oldest: None, run: 0, run_bytes: 0, run_closed: false }
    }

    fn push(&mut self, chunk: Chunk, dest: &Destination) {
        self.oldest.get_or_insert_with(Instant::now);
        self.items.extend(chunk.events.into_iter().map(|e| (chunk.key, e)));
        self.extend_run(dest);
    }

    /// Grows the next batch over newly queued events until a limit or a boundary: another
    /// file, a timestamp earlier than the one before (a batch must be in order), or more
    /// than 24 hours spanned.
    fn extend_run(&mut self, dest: &Destination) {
        while !self.run_closed && self.run < self.items.len() {
            let (key, event) = &self.items[self.run];
            let size = event.message.len() + EVENT_OVERHEAD;
            if self.run > 0 {
                let (first_key, first) = &self.items[0];
                let prev = &self.items[self.run - 1].1;
                if self.run >= dest.batch_count
                    || self.run_bytes + size > dest.batch_size
                    || key != first_key
                    || event.timestamp < prev.timestamp
                    || event.timestamp - first.timestamp > MAX_SPAN_MS
                {
                    self.run_closed = true;
                    break;
                }
            }
            self.run += 1;
            self.run_bytes += size;
        }
    }

    fn take_batch(&mut self, dest: &Destination) -> (u64, Vec<Event>) {
        let key = self.items[0].0;
        let batch = self.items.drain(..self.run).map(|(_, e)| e).collect();
        (self.run, self.run_bytes, self.run_closed) = (0, 0, false);
        if self.items.is_empty() {
            self.oldest = None;
        }
        self.extend_run(dest);
        (key, batch)
    }
}

/// Ships one destination's chunks until every sender is gone and all is sent.
pub async fn run(
    dest: Destination,
    mut chunks: mpsc::Receiver<Chunk>,
    sink: Arc<dyn Sink>,
    checkpoints: Arc<Checkpoints>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<()> {
    let mut shipper = Shipper { dest, sink, checkpoints, metrics, stream_ready: false };
    let mut queue = Queue::new();
    let mut open = true;
    loop {
        if queue.items.is_empty() {
            if !open {
                return Ok(());
            }
            match chunks.recv().await {
                Some(chunk) => queue.push(chunk, &shipper.dest),
                None => return Ok(()),
            }
        }
        let deadline = queue.oldest.unwrap_or_else(Instant::now) + shipper.dest.buffer_duration;
        while open && !queue.run_closed {
            match tokio::time::timeout_at(deadline, chunks.recv()).await {
                Ok(Some(chunk)) => queue.push(chunk, &shipper.dest),
                Ok(None) => open = false,
                Err(_) => break,
            }
        }
        let (key, batch) = queue.take_batch(&shipper.dest);
        shipper.ship(key, batch).await?;
        if queue.items.is_empty() && chunks.is_empty() {
            // Idle: write the acknowledgement now rather than with the next batch.
            shipper.persist().await?;
        }
    }
}

struct Shipper {
    dest: Destination,
    sink: Arc<dyn Sink>,
    checkpoints: Arc<Checkpoints>,
    metrics: Arc<Metrics>,
    stream_ready: bool,
}

impl Shipper {
    /// Sends one batch of one file's events until it is acknowledged. A batch the
    /// service refuses outright is halved until the one bad event is found, which is
    /// counted, logged and passed over.
    async fn ship(&mut self, key: u64, batch: Vec<Event>) -> anyhow::Result<()> {
        let mut pending = vec![batch];
        while let Some(batch) = pending.pop() {
            match self.send(key, &batch).await? {
                Sent::Done => {}
                Sent::Rejected(reason) if batch.len() > 1 => {
                    let mut first = batch;
                    let second = first.split_off(first.len() / 2);
                    pending.push(second);
                    pending.push(first);
                    tracing::debug!(%reason, "batch refused; sending it in halves");
                }
                Sent::Rejected(reason) => {
                    let event = &batch[0];
                    self.metrics.add(&self.metrics.events_rejected, 1);
                    tracing::warn!(
                        log_group = %self.dest.log_group,
                        log_stream = %self.dest.log_stream,
                        bytes = event.message.len(),
                        timestamp = event.timestamp,
                        %reason,
                        "event refused by the log service; skipped"
                    );
                    self.checkpoints.ack(key, event.end);
                }
            }
        }
        Ok(())
    }

    /// One batch, retried until it is stored or refused.
    async fn send(&mut self, key: u64, batch: &[Event]) -> anyhow::Result<Sent> {
        let from = self.checkpoints.acked(key).unwrap_or_default();
        let to = batch.last().expect("batches are not empty").end;
        let inflight = Inflight {
            from,
            to,
            count: batch.len(),
            min_timestamp: batch.iter().map(|e| e.timestamp).min().unwrap_or_default(),
            max_timestamp: batch.iter().map(|e| e.timestamp).max().unwrap_or_default(),
        };
        self.checkpoints.begin(key, inflight.clone());
        let mut failures = 0u32;
        // The last attempt got no answer, so the batch may be stored already.
        let mut unsure = false;
        let mut last_error = String::new();
        loop {
            if failures > 0 {
                if self.dest.max_failures.is_some_and(|max| failures >= max) {
                    anyhow::bail!(
                        "giving up on {}/{} after {failures} failed attempts: {last_error}",
                        self.dest.log_group,
                        self.dest.log_stream
                    );
                }
                self.metrics.add(&self.metrics.retries, 1);
                tokio::time::sleep(backoff(failures)).await;
            }
            // The batch is durably in flight before it leaves, so a restart can look for it.
            if let Err(e) = self.persist().await {
                tracing::error!(error = %e, "cannot write checkpoints; holding the batch");
                last_error = e.to_string();
                failures += 1;
                continue;
            }
            if unsure {
                match stored(&*self.sink, &self.dest.log_group, &self.dest.log_stream, &inflight, batch).await {
                    Ok(true) => {
                        tracing::info!(log_group = %self.dest.log_group, log_stream = %self.dest.log_stream, "an unanswered batch was stored after all");
                        self.acknowledged(key, batch, to, 0);
                        return Ok(Sent::Done);
                    }
                    Ok(false) => unsure = false,
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(error = %e, attempt = failures, "cannot yet tell whether an unanswered batch was stored; will retry");
                        last_error = e.to_string();
                        continue;
                    }
                }
            }
            let outcome = match self.stream_ready {
                true => self.sink.put(&self.dest.log_group, &self.dest.log_stream, batch).await,
                false => self.create_stream().await.map(|_| Default::default()),
            };
            match outcome {
                Ok(_) if !self.stream_ready => {
                    self.stream_ready = true;
                    continue;
                }
                Ok(refused) => {
                    let refused = refused.count(batch.len());
                    if refused > 0 {
                        tracing::warn!(log_group = %self.dest.log_group, log_stream = %self.dest.log_stream, refused, "events too old, too new or past retention were refused");
                    }
                    self.acknowledged(key, batch, to, refused);
                    return Ok(Sent::Done);
                }
                Err(SinkError::Missing(reason)) if self.stream_ready => {
                    tracing::info!(%reason, log_group = %self.dest.log_group, log_stream = %self.dest.log_stream, "stream is gone; creating it again");
                    self.stream_ready = false;
                }
                Err(SinkError::Rejected(reason)) if self.stream_ready => return Ok(Sent::Rejected(reason)),
                Err(e) => {
                    unsure = matches!(e, SinkError::Unanswered(_)) && self.stream_ready;
                    failures += 1;
                    self.metrics.add(&self.metrics.send_errors, 1);
                    tracing::warn!(error = %e, attempt = failures, log_group = %self.dest.log_group, log_stream = %self.dest.log_stream, "sending failed; will retry");
                    last_error = e.to_string();
                }
            }
        }
    }

    fn acknowledged(&self, key: u64, batch: &[Event], to: Position, refused: usize) {
        let bytes: usize = batch.iter().map(|e| e.message.len()).sum();
        self.metrics.add(&self.metrics.events_refused, refused as u64);
        self.metrics.add(&self.metrics.events_sent, (batch.len() - refused) as u64);
        self.metrics.add(&self.metrics.bytes_sent, bytes as u64);
        self.metrics.add(&self.metrics.batches_sent, 1);
        self.checkpoints.ack(key, to);
    }

    async fn create_stream(&self) -> Result<(), SinkError> {
        self.sink.ensure_stream(&self.dest.log_group, &self.dest.log_stream, self.dest.retention_in_days).await
    }

    async fn persist(&self) -> anyhow::Result<()> {
        let checkpoints = self.checkpoints.clone();
        tokio::task::spawn_blocking(move || checkpoints.persist()).await?
    }
}

enum Sent {
    Done,
    Rejected(String),
}

/// How long a batch whose sender is gone (the agent was killed, or the connection
/// dropped) may still be in the service's hands: the service goes on with a request
/// whose client has left, so a first look that finds nothing is repeated after this.
const STRAGGLER_GRACE: Duration = Duration::from_secs(2);

/// Whether the stream holds `batch`, sent as `inflight`: looked up over the batch's
/// time range, one message found is enough, since PutLogEvents stores a batch whole or
/// not at all. (A file repeating an earlier batch line for line within the same time
/// range would be taken as stored.) Nothing found is only believed after a second look
/// [`STRAGGLER_GRACE`] later.
pub(crate) async fn stored(sink: &dyn Sink, group: &str, stream: &str, inflight: &Inflight, batch: &[Event]) -> Result<bool, SinkError> {
    if holds(sink, group, stream, inflight, batch).await? {
        return Ok(true);
    }
    tokio::time::sleep(STRAGGLER_GRACE).await;
    holds(sink, group, stream, inflight, batch).await
}

async fn holds(sink: &dyn Sink, group: &str, stream: &str, inflight: &Inflight, batch: &[Event]) -> Result<bool, SinkError> {
    let stored = match sink.messages_between(group, stream, inflight.min_timestamp, inflight.max_timestamp).await {
        Ok(stored) => stored,
        Err(SinkError::Missing(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    let stored: std::collections::HashSet<&str> = stored.iter().map(String::as_str).collect();
    Ok(batch.iter().any(|e| stored.contains(e.message.as_str())))
}

/// Exponential backoff with full jitter: a random wait up to 100 ms × 2^(n-1), capped at 30 s.
fn backoff(failures: u32) -> Duration {
    let ceiling = FIRST_BACKOFF.saturating_mul(1 << failures.min(16).saturating_sub(1)).min(MAX_BACKOFF);
    let millis = rand::thread_rng().gen_range(ceiling.as_millis() as u64 / 2..=ceiling.as_millis() as u64);
    Duration::from_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::Position;

    fn dest() -> Destination {
        Destination {
            log_group: "g".into(),
            log_stream: "s".into(),
            retention_in_days: None,
            buffer_duration: Duration::from_millis(10),
            batch_count: 3,
            batch_size: 1000,
            max_failures: None,
        }
    }

    fn chunk(key: u64, stamps: &[i64]) -> Chunk {
        Chunk {
            key,
            events: stamps.iter().map(|&t| Event { timestamp: t, message: format!("m{t}"), end: Position::at(t as u64) }).collect(),
        }
    }

    #[test]
    fn batches_end_at_limits_files_and_backward_time() {
        let d = dest();
        let mut q = Queue::new();
        q.push(chunk(1, &[1, 2, 3, 4]), &d);
        assert!(q.run_closed);
        assert_eq!(q.take_batch(&d).1.len(), 3, "batch_count");
        q.push(chunk(2, &[5]), &d);
        let (key, batch) = q.take_batch(&d);
        assert_eq!((key, batch.len()), (1, 1), "another file starts a new batch");
        q.push(chunk(2, &[9, 8]), &d);
        assert_eq!(q.take_batch(&d).1.len(), 2, "5 and 9");
        assert_eq!(q.take_batch(&d).1.len(), 1, "8 is earlier than 9");
        q.push(chunk(2, &[0, MAX_SPAN_MS + 1]), &d);
        assert_eq!(q.take_batch(&d).1.len(), 1, "24 hours");
    }

    #[test]
    fn batches_respect_the_byte_limit_with_overhead() {
        let d = Destination { batch_size: 2 * (EVENT_OVERHEAD + 3), ..dest() };
        let mut q = Queue::new();
        q.push(chunk(1, &[10, 11, 12]), &d);
        assert_eq!(q.take_batch(&d).1.len(), 2);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_millis(100));
        assert!(backoff(4) >= Duration::from_millis(400));
        assert!(backoff(40) <= MAX_BACKOFF);
    }
}
