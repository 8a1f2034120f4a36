//! Durable ingest with group commit.
//!
//! A PutLogEvents batch is encoded, compressed and sealed in the caller's task (so that
//! work spreads over every core), then handed to the single committer. The committer
//! coalesces what is waiting into one segment object, writes it with fsync, registers
//! every block in one catalog transaction, and only then answers each caller. A crash
//! before the transaction leaves an unreferenced object, which maintenance removes; a
//! crash after it leaves every acknowledged event readable.

use std::sync::{Arc, Weak};
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::time::Instant;

use crate::catalog::{LogGroup, LogStream};
use crate::codec::{self, NewEvent};
use crate::{Store, StoreError};

/// Rows per segment are numbered below this bound; a block's seq is `segment_id << 24 | row`.
pub const SEQ_ROW_BITS: u32 = 24;
/// Flush early once this many sealed bytes are waiting.
const MAX_FLUSH_BYTES: usize = 32 << 20;
/// Flush early once this many events are waiting (keeps row numbers under 2^24).
const MAX_FLUSH_EVENTS: u32 = 1 << 20;

/// A sealed block waiting for the committer, with the caller's reply channel.
struct Pending {
    group_id: i64,
    stream_id: i64,
    sealed: Vec<u8>,
    count: u32,
    min_ts: i64,
    max_ts: i64,
    raw_bytes: i64,
    ingest_time: i64,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle through which requests reach the committer task.
pub struct Committer {
    tx: Mutex<Option<mpsc::UnboundedSender<Pending>>>,
    done: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Committer {
    /// Starts the committer task for a store.
    pub(crate) fn start(store: Weak<Store>, window: Duration) -> Committer {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = tokio::spawn(run(store, rx, window));
        Committer { tx: Mutex::new(Some(tx)), done: Mutex::new(Some(handle)) }
    }

    /// Stops accepting batches and waits until every accepted one is answered.
    pub(crate) async fn shutdown(&self) {
        self.tx.lock().await.take();
        if let Some(h) = self.done.lock().await.take() {
            let _ = h.await;
        }
    }

    async fn submit(&self, p: Pending) -> Result<(), StoreError> {
        let guard = self.tx.lock().await;
        let tx = guard.as_ref().ok_or(StoreError::ShuttingDown)?;
        tx.send(p).map_err(|_| StoreError::ShuttingDown)
    }
}

impl Store {
    /// Stores events (sorted by timestamp) in a stream; returns once they are durable.
    pub async fn append(&self, group: &LogGroup, stream: &LogStream, events: &[NewEvent], ingest_time: i64) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let key = self.group_key(group.id, &group.data_key)?;
        let compressed = codec::encode_ingest_block(events, ingest_time);
        let sealed = key.seal(&compressed, &ingest_aad(group.id, stream.id));
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            group_id: group.id,
            stream_id: stream.id,
            sealed,
            count: events.len() as u32,
            min_ts: events.iter().map(|e| e.timestamp).min().unwrap_or_default(),
            max_ts: events.iter().map(|e| e.timestamp).max().unwrap_or_default(),
            raw_bytes: events.iter().map(|e| e.message.len() as i64).sum(),
            ingest_time,
            reply,
        };
        self.committer.submit(pending).await?;
        answer.await.map_err(|_| StoreError::ShuttingDown)?
    }
}

/// Associated data of an ingest block: binds it to its group and stream.
pub(crate) fn ingest_aad(group_id: i64, stream_id: i64) -> Vec<u8> {
    format!("ingest/{group_id}/{stream_id}").into_bytes()
}

async fn run(store: Weak<Store>, mut rx: mpsc::UnboundedReceiver<Pending>, window: Duration) {
    while let Some(first) = rx.recv().await {
        let batch = gather(first, &mut rx, window).await;
        let Some(store) = store.upgrade() else {
            fail_all(batch, || StoreError::ShuttingDown);
            continue;
        };
        flush(&store, batch).await;
    }
}

/// Collects what else is waiting, up to the window or the size limits.
async fn gather(first: Pending, rx: &mut mpsc::UnboundedReceiver<Pending>, window: Duration) -> Vec<Pending> {
    let deadline = Instant::now() + window;
    let (mut bytes, mut events) = (first.sealed.len(), first.count);
    let mut batch = vec![first];
    while bytes < MAX_FLUSH_BYTES && events < MAX_FLUSH_EVENTS {
        let next = match rx.try_recv() {
            Ok(p) => p,
            Err(_) => match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(p)) => p,
                _ => break,
            },
        };
        bytes += next.sealed.len();
        events += next.count;
        batch.push(next);
    }
    batch
}

fn fail_all(batch: Vec<Pending>, err: impl Fn() -> StoreError) {
    for p in batch {
        let _ = p.reply.send(Err(err()));
    }
}

/// Writes one segment for the batch, commits its blocks, and answers every caller.
async fn flush(store: &Arc<Store>, batch: Vec<Pending>) {
    let key = segment_key("ingest");
    let mut payload = Vec::with_capacity(batch.iter().map(|p| p.sealed.len()).sum());
    let mut offsets = Vec::with_capacity(batch.len());
    for p in &batch {
        offsets.push(payload.len() as i64);
        payload.extend_from_slice(&p.sealed);
    }
    let size = payload.len() as i64;
    if let Err(e) = store.objects.put(&ObjectPath::from(key.as_str()), PutPayload::from(payload)).await {
        tracing::error!(error = %e, "segment write failed; failing the batch");
        let msg = e.to_string();
        return fail_all(batch, || StoreError::Corrupt(format!("segment write failed: {msg}")));
    }
    match commit(store, &key, size, &batch, &offsets).await {
        Ok(missing) => {
            metrics::counter!("trailwatch_segments_written_total", "kind" => "ingest").increment(1);
            metrics::counter!("trailwatch_segment_bytes_written_total", "kind" => "ingest").increment(size as u64);
            store.ingested.notify_waiters();
            for (i, p) in batch.into_iter().enumerate() {
                let result = if missing.contains(&i) { Err(StoreError::NotFound) } else { Ok(()) };
                let _ = p.reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "catalog commit of a segment failed; failing the batch");
            let msg = e.to_string();
            fail_all(batch, || StoreError::Corrupt(format!("catalog commit failed: {msg}")));
        }
    }
}

/// Registers the segment and its blocks; returns the batch entries whose stream vanished.
async fn commit(store: &Store, key: &str, size: i64, batch: &[Pending], offsets: &[i64]) -> Result<Vec<usize>, StoreError> {
    let now = crate::maintenance::now_millis();
    let mut tx = store.write_tx().await?;
    let rows: i64 = batch.iter().map(|p| i64::from(p.count)).sum();
    let segment_id: i64 =
        sqlx::query_scalar("INSERT INTO segments (key, kind, size, rows, created) VALUES ($1, 0, $2, $3, $4) RETURNING id")
            .bind(key)
            .bind(size)
            .bind(rows)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
    let mut missing = Vec::new();
    let mut row = 0i64;
    for (i, p) in batch.iter().enumerate() {
        let updated = sqlx::query(
            "UPDATE log_streams SET \
             first_event_ts = CASE WHEN first_event_ts IS NULL OR first_event_ts > $1 THEN $1 ELSE first_event_ts END, \
             last_event_ts = CASE WHEN last_event_ts IS NULL OR last_event_ts < $2 THEN $2 ELSE last_event_ts END, \
             last_ingestion_time = $3 WHERE id = $4 AND group_id = $5",
        )
        .bind(p.min_ts)
        .bind(p.max_ts)
        .bind(p.ingest_time)
        .bind(p.stream_id)
        .bind(p.group_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            missing.push(i);
            continue;
        }
        let seq_base = (segment_id << SEQ_ROW_BITS) | row;
        row += i64::from(p.count);
        sqlx::query(
            "INSERT INTO blocks (segment_id, group_id, stream_id, kind, byte_offset, byte_length, row_start, row_count, seq_base, min_ts, max_ts, raw_bytes, stored_bytes) VALUES ($1, $2, $3, 0, $4, $5, 0, $6, $7, $8, $9, $10, $11)",
        )
        .bind(segment_id)
        .bind(p.group_id)
        .bind(p.stream_id)
        .bind(offsets[i])
        .bind(p.sealed.len() as i64)
        .bind(i64::from(p.count))
        .bind(seq_base)
        .bind(p.min_ts)
        .bind(p.max_ts)
        .bind(p.raw_bytes)
        .bind(p.sealed.len() as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE log_groups SET stored_bytes = stored_bytes + $1 WHERE id = $2")
            .bind(p.sealed.len() as i64)
            .bind(p.group_id)
            .execute(&mut *tx)
            .await?;
    }
    if missing.len() == batch.len() {
        // Nothing of this object is referenced: let maintenance remove it.
        sqlx::query("UPDATE segments SET dead_since = $1 WHERE id = $2").bind(now).bind(segment_id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(missing)
}

/// A fresh, unique object key under a dated folder.
pub(crate) fn segment_key(kind: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    let id = hex::encode(crate::crypto::random_array::<16>());
    format!("{kind}/{:04}/{:02}/{:02}/{id}.seg", now.year(), u8::from(now.month()), now.day())
}
