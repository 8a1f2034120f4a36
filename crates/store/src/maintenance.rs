//! Background upkeep of the segment store: compaction into Parquet, retention, and the
//! removal of objects no block refers to any more.
//!
//! Every step is crash-safe: a new object is written (fsynced) before the catalog
//! transaction that swaps it in, and an old object is deleted only after a grace period
//! once no block refers to it, so a reader that listed it a moment ago still finds it.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::codec::{self, Rows};
use crate::crypto::Key;
use crate::scan::{BlockRef, decode_unit};
use crate::{Store, StoreError, Tx};

/// How often and how eagerly the background jobs work.
#[derive(Debug, Clone)]
pub struct MaintenanceConfig {
    /// Pause between rounds.
    pub interval: Duration,
    /// Ingest blocks younger than this are left to accumulate.
    pub compact_after: Duration,
    /// A group is compacted once it has this many ingest blocks (or old ones).
    pub compact_min_blocks: i64,
    /// Most message bytes per compacted segment.
    pub compact_max_bytes: i64,
    /// How long an unreferenced object is kept for readers that may still hold it.
    pub grace: Duration,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            interval: Duration::from_secs(10),
            compact_after: Duration::from_secs(30),
            compact_min_blocks: 64,
            compact_max_bytes: 32 << 20,
            grace: Duration::from_secs(60),
        }
    }
}

/// How much older than this process an unregistered object must be to be an orphan.
const ORPHAN_MARGIN_MS: i64 = 2_000;
/// With shared objects, how old an unregistered object must be to be an orphan: other
/// nodes write objects shortly before they register them, whenever they started.
const SHARED_ORPHAN_AGE_MS: i64 = 3_600_000;

/// The lease of the store-wide jobs: retention, and removing dead and orphaned objects.
pub const MAINTENANCE_JOB: &str = "maintenance";
/// How long a node may hold a group's compaction lease before another may take it.
const COMPACTION_LEASE: Duration = Duration::from_secs(600);

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Associated data of a compacted segment: binds it to its group and object key.
pub(crate) fn compacted_aad(group_id: i64, key: &str) -> Vec<u8> {
    format!("compacted/{group_id}/{key}").into_bytes()
}

/// Marks segments that no block refers to as dead from `now`.
pub(crate) async fn mark_dead_segments(tx: &mut Tx, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE segments SET dead_since = $1 WHERE dead_since IS NULL AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.segment_id = segments.id)")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Runs the background jobs until the store is dropped. Every node compacts (each
    /// group under its own lease); the holder of [`MAINTENANCE_JOB`] also applies
    /// retention and removes dead objects, and sweeps orphans once after it first wins.
    pub fn spawn_maintenance(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        let interval = self.config.maintenance.interval;
        tokio::spawn(async move {
            let mut swept = false;
            loop {
                let Some(store) = weak.upgrade() else { return };
                if !swept && matches!(store.acquire_lease(MAINTENANCE_JOB, crate::lease::TTL).await, Ok(true)) {
                    swept = true;
                    if let Err(e) = store.remove_orphans().await {
                        tracing::warn!(error = %e, "orphan sweep failed");
                    }
                }
                drop(store);
                tokio::time::sleep(interval).await;
                let Some(store) = weak.upgrade() else { return };
                if let Err(e) = store.maintain_once().await {
                    tracing::warn!(error = %e, "maintenance round failed; will retry");
                }
            }
        })
    }

    /// One round: retention, then compaction, then removal of dead objects.
    pub async fn maintain_once(&self) -> Result<(), StoreError> {
        let now = now_millis();
        let store_wide = self.acquire_lease(MAINTENANCE_JOB, crate::lease::TTL).await?;
        if store_wide {
            self.apply_retention(now).await?;
        }
        for group_id in self.groups_to_compact(now).await? {
            let job = format!("compact/{group_id}");
            if !self.acquire_lease(&job, COMPACTION_LEASE).await? {
                continue;
            }
            let compacted = self.compact_group(group_id, now).await;
            self.release_lease(&job).await?;
            compacted?;
        }
        if store_wide {
            self.remove_dead_segments(now).await?;
        }
        Ok(())
    }

    /// Drops blocks wholly past their group's retention; straddling blocks are left to
    /// compaction, which rewrites them without the expired events.
    async fn apply_retention(&self, now: i64) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let expired = "SELECT b.id FROM blocks b JOIN log_groups g ON g.id = b.group_id WHERE g.retention_days IS NOT NULL AND b.max_ts < $1 - g.retention_days * 86400000";
        let ids: Vec<i64> = sqlx::query_scalar(expired).bind(now).fetch_all(&mut *tx).await?;
        if ids.is_empty() {
            return Ok(());
        }
        for id in &ids {
            let (group_id, stored): (i64, i64) =
                sqlx::query_as("DELETE FROM blocks WHERE id = $1 RETURNING group_id, stored_bytes").bind(id).fetch_one(&mut *tx).await?;
            sqlx::query("UPDATE log_groups SET stored_bytes = stored_bytes - $1 WHERE id = $2")
                .bind(stored)
                .bind(group_id)
                .execute(&mut *tx)
                .await?;
        }
        mark_dead_segments(&mut tx, now).await?;
        tx.commit().await?;
        metrics::counter!("trailwatch_retention_blocks_deleted_total").increment(ids.len() as u64);
        Ok(())
    }

    /// Groups with enough ingest blocks, old ingest blocks, or blocks straddling retention.
    async fn groups_to_compact(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        let old = now - self.config.maintenance.compact_after.as_millis() as i64;
        let sql = "SELECT g.id FROM log_groups g WHERE \
                   (SELECT COUNT(*) FROM blocks b WHERE b.group_id = g.id AND b.kind = 0) >= $1 \
                   OR EXISTS (SELECT 1 FROM blocks b JOIN segments s ON s.id = b.segment_id WHERE b.group_id = g.id AND b.kind = 0 AND s.created < $2) \
                   OR (g.retention_days IS NOT NULL AND EXISTS (SELECT 1 FROM blocks b WHERE b.group_id = g.id AND b.min_ts < $3 - g.retention_days * 86400000)) \
                   OR EXISTS (SELECT 1 FROM segments s WHERE s.kind = 1 AND s.id IN (SELECT segment_id FROM blocks WHERE group_id = g.id) \
                              AND s.rows > (SELECT SUM(row_count) FROM blocks b2 WHERE b2.segment_id = s.id))";
        Ok(sqlx::query_scalar(sql).bind(self.config.maintenance.compact_min_blocks).bind(old).bind(now).fetch_all(&self.db).await?)
    }

    /// Rewrites a group's ingest blocks (and segments holding expired events) into one
    /// Parquet segment sorted by stream, timestamp and seq.
    pub async fn compact_group(&self, group_id: i64, now: i64) -> Result<(), StoreError> {
        let Some((wrapped, retention)): Option<(Vec<u8>, Option<i32>)> =
            sqlx::query_as("SELECT data_key, retention_days FROM log_groups WHERE id = $1").bind(group_id).fetch_optional(&self.db).await?
        else {
            return Ok(());
        };
        let cutoff = retention.map_or(i64::MIN, |d| now - i64::from(d) * 86_400_000);
        let inputs = self.compaction_inputs(group_id, cutoff).await?;
        if inputs.is_empty() {
            return Ok(());
        }
        let key = self.group_key(group_id, &wrapped)?;
        let mut sealed_units = Vec::with_capacity(inputs.len());
        let mut fetched: std::collections::HashMap<(i64, i64), bytes::Bytes> = Default::default();
        for b in &inputs {
            let unit = match fetched.get(&(b.segment_id, b.byte_offset)) {
                Some(u) => u.clone(),
                None => {
                    let range = b.byte_offset as u64..(b.byte_offset + b.byte_length) as u64;
                    let sealed = self.objects.get_range(&ObjectPath::from(b.key.as_str()), range).await?;
                    fetched.insert((b.segment_id, b.byte_offset), sealed.clone());
                    sealed
                }
            };
            sealed_units.push(unit);
        }
        drop(fetched);
        // Decoding, sorting and Parquet encoding are CPU-bound: run them on the
        // low-priority background thread so requests keep the cores when they need them.
        let object_key = crate::ingest::segment_key("compacted");
        let (k, blocks, aad) = (key.clone(), inputs.clone(), compacted_aad(group_id, &object_key));
        let built = crate::background::run(move || build_compacted(&k, group_id, &blocks, &sealed_units, cutoff, &aad)).await?;
        self.write_compacted(group_id, &object_key, &inputs, built, now).await
    }

    /// The blocks to rewrite: ingest blocks up to the size cap, and every block of a
    /// compacted segment that holds expired events or rows of a deleted stream (a
    /// segment is replaced whole, so those bytes leave the disk).
    async fn compaction_inputs(&self, group_id: i64, cutoff: i64) -> Result<Vec<BlockRef>, StoreError> {
        let sql = format!(
            "SELECT b.segment_id, s.key, b.stream_id, b.kind, b.byte_offset, b.byte_length, b.row_start, b.row_count, b.seq_base, b.min_ts, b.max_ts, b.raw_bytes \
             FROM blocks b JOIN segments s ON s.id = b.segment_id WHERE b.group_id = $1 AND (b.kind = 0 OR b.segment_id IN \
             (SELECT segment_id FROM blocks WHERE group_id = $2 AND kind = 1 AND min_ts < $3) OR b.segment_id IN \
             (SELECT s.id FROM segments s WHERE s.kind = 1 AND s.rows > (SELECT SUM(row_count) FROM blocks b2 WHERE b2.segment_id = s.id))) \
             AND {} ORDER BY b.segment_id, b.byte_offset",
            crate::log_filters::NOT_HELD_BY_FILTERS
        );
        let rows: Vec<BlockRef> = sqlx::query_as(&sql).bind(group_id).bind(group_id).bind(cutoff).fetch_all(&self.db).await?;
        let mut out = Vec::new();
        let mut budget = self.config.maintenance.compact_max_bytes;
        let mut last_segment = None;
        for r in rows {
            // Stop at a segment boundary once the budget is spent, so no segment is half-taken.
            if budget <= 0 && last_segment != Some(r.segment_id) {
                break;
            }
            budget -= r.raw_bytes;
            last_segment = Some(r.segment_id);
            out.push(r);
        }
        Ok(out)
    }

    async fn write_compacted(
        &self,
        group_id: i64,
        object_key: &str,
        inputs: &[BlockRef],
        built: Compacted,
        now: i64,
    ) -> Result<(), StoreError> {
        let Compacted { sealed, streams, rows } = built;
        let size = sealed.len() as i64;
        if !streams.is_empty() {
            self.objects.put(&ObjectPath::from(object_key), PutPayload::from(sealed)).await?;
        }
        let mut tx = self.write_tx().await?;
        let mut removed_stored = 0i64;
        let mut vanished = false;
        for b in inputs {
            let deleted: Option<i64> = sqlx::query_scalar(
                "DELETE FROM blocks WHERE segment_id = $1 AND byte_offset = $2 AND stream_id = $3 AND row_start = $4 RETURNING stored_bytes",
            )
            .bind(b.segment_id)
            .bind(b.byte_offset)
            .bind(b.stream_id)
            .bind(b.row_start)
            .fetch_optional(&mut *tx)
            .await?;
            vanished |= deleted.is_none();
            removed_stored += deleted.unwrap_or(0);
        }
        if vanished {
            // An input went meanwhile (its stream was deleted, or another node compacted
            // it): swapping in our copy would revive or duplicate events. Start over next
            // round; the object we wrote is registered dead so it leaves after the grace.
            tx.rollback().await?;
            if !streams.is_empty() {
                let mut tx = self.write_tx().await?;
                sqlx::query("INSERT INTO segments (key, kind, size, rows, created, dead_since) VALUES ($1, 1, $2, $3, $4, $4)")
                    .bind(object_key)
                    .bind(size)
                    .bind(rows)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            return Ok(());
        }
        let mut added_stored = 0i64;
        if !streams.is_empty() {
            let segment_id: i64 =
                sqlx::query_scalar("INSERT INTO segments (key, kind, size, rows, created) VALUES ($1, 1, $2, $3, $4) RETURNING id")
                    .bind(object_key)
                    .bind(size)
                    .bind(rows)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
            let total_raw: i64 = streams.iter().map(|s| s.raw_bytes).sum::<i64>().max(1);
            for s in &streams {
                // A stream deleted while we compacted must not come back.
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM log_streams WHERE id = $1").bind(s.stream_id).fetch_optional(&mut *tx).await?;
                if exists.is_none() {
                    continue;
                }
                let stored = size * s.raw_bytes / total_raw;
                added_stored += stored;
                sqlx::query(
                    "INSERT INTO blocks (segment_id, group_id, stream_id, kind, byte_offset, byte_length, row_start, row_count, seq_base, min_ts, max_ts, raw_bytes, stored_bytes) VALUES ($1, $2, $3, 1, 0, $4, $5, $6, 0, $7, $8, $9, $10)",
                )
                .bind(segment_id)
                .bind(group_id)
                .bind(s.stream_id)
                .bind(size)
                .bind(s.row_start)
                .bind(s.row_count)
                .bind(s.min_ts)
                .bind(s.max_ts)
                .bind(s.raw_bytes)
                .bind(stored)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("UPDATE log_groups SET stored_bytes = stored_bytes - $1 + $2 WHERE id = $3")
            .bind(removed_stored)
            .bind(added_stored)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        mark_dead_segments(&mut tx, now).await?;
        tx.commit().await?;
        metrics::counter!("trailwatch_compactions_total").increment(1);
        metrics::counter!("trailwatch_segments_written_total", "kind" => "compacted").increment(u64::from(!streams.is_empty()));
        metrics::counter!("trailwatch_segment_bytes_written_total", "kind" => "compacted").increment(size as u64);
        Ok(())
    }

    /// Deletes objects that have been unreferenced for longer than the grace period.
    async fn remove_dead_segments(&self, now: i64) -> Result<(), StoreError> {
        let before = now - self.config.maintenance.grace.as_millis() as i64;
        let dead: Vec<(i64, String)> = sqlx::query_as("SELECT id, key FROM segments WHERE dead_since IS NOT NULL AND dead_since < $1")
            .bind(before)
            .fetch_all(&self.db)
            .await?;
        for (id, key) in dead {
            match self.objects.delete(&ObjectPath::from(key.as_str())).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            sqlx::query("DELETE FROM segments WHERE id = $1").bind(id).execute(&self.db).await?;
            metrics::counter!("trailwatch_segments_deleted_total").increment(1);
        }
        Ok(())
    }

    /// Deletes objects the catalog never registered (a crash between write and commit).
    ///
    /// Only objects older than this process count: one written since we opened may be
    /// between its write and its catalog commit, about to be acknowledged. The margin
    /// covers coarse file timestamps. Shared objects are written by nodes that started
    /// at other times, so there only objects an hour old count.
    async fn remove_orphans(&self) -> Result<(), StoreError> {
        let horizon =
            if self.config.objects.is_shared() { now_millis() - SHARED_ORPHAN_AGE_MS } else { self.opened_at_millis - ORPHAN_MARGIN_MS };
        let mut listing = self.objects.list(None);
        let mut orphans = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if meta.last_modified.timestamp_millis() >= horizon {
                continue;
            }
            let known: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM segments WHERE key = $1 UNION ALL SELECT 1 FROM rds_snapshot_objects WHERE object_key = $1",
            )
            .bind(meta.location.as_ref())
            .fetch_optional(&self.db)
            .await?;
            if known.is_none() {
                orphans.push(meta.location);
            }
        }
        for path in orphans {
            tracing::info!(object = %path, "removing an object no catalog entry refers to");
            self.objects.delete(&path).await?;
        }
        Ok(())
    }
}

/// A compacted segment ready to write: sealed Parquet bytes and the streams in it.
struct Compacted {
    sealed: Vec<u8>,
    streams: Vec<StreamRun>,
    rows: i64,
}

/// Decodes the input blocks, drops events past retention, sorts by (stream, timestamp,
/// seq), encodes Parquet and seals it.
fn build_compacted(
    key: &Key,
    group_id: i64,
    blocks: &[BlockRef],
    sealed: &[bytes::Bytes],
    cutoff: i64,
    aad: &[u8],
) -> Result<Compacted, StoreError> {
    let mut rows = Rows::default();
    for (b, unit) in blocks.iter().zip(sealed) {
        let unit = decode_unit(key, group_id, b, unit)?;
        for i in 0..unit.len() {
            if unit.ts[i] >= cutoff {
                rows.push(unit.stream[i], unit.ts[i], unit.seq[i], unit.ingest[i], unit.message(i));
            }
        }
    }
    if rows.is_empty() {
        return Ok(Compacted { sealed: Vec::new(), streams: Vec::new(), rows: 0 });
    }
    let rows = sort_rows(rows);
    let parquet = codec::encode_parquet(&rows)?;
    Ok(Compacted { sealed: key.seal(&parquet, aad), streams: stream_runs(&rows), rows: rows.len() as i64 })
}

/// Sorts rows by (stream, timestamp, seq).
fn sort_rows(rows: Rows) -> Rows {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_unstable_by_key(|&i| (rows.stream[i], rows.ts[i], rows.seq[i]));
    let mut out = Rows { data: Vec::with_capacity(rows.data.len()), ..Rows::default() };
    for i in order {
        out.push(rows.stream[i], rows.ts[i], rows.seq[i], rows.ingest[i], rows.message(i));
    }
    out
}

/// One stream's contiguous rows in a sorted compacted segment.
struct StreamRun {
    stream_id: i64,
    row_start: i64,
    row_count: i64,
    min_ts: i64,
    max_ts: i64,
    raw_bytes: i64,
}

fn stream_runs(rows: &Rows) -> Vec<StreamRun> {
    let mut runs: Vec<StreamRun> = Vec::new();
    for i in 0..rows.len() {
        let len = rows.message(i).len() as i64;
        match runs.last_mut() {
            Some(r) if r.stream_id == rows.stream[i] => {
                r.row_count += 1;
                r.max_ts = rows.ts[i];
                r.raw_bytes += len;
            }
            _ => runs.push(StreamRun {
                stream_id: rows.stream[i],
                row_start: i as i64,
                row_count: 1,
                min_ts: rows.ts[i],
                max_ts: rows.ts[i],
                raw_bytes: len,
            }),
        }
    }
    runs
}
