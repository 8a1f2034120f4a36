//! Leases: each background job runs on exactly one live node.
//!
//! A lease is a catalog row (job, holder, expiry). A job's loop calls
//! [`Store::acquire_lease`] at the start of every round and works only when it won:
//! the holder renews its lease each round and keeps it, and when a node dies its leases
//! expire after their time to live and the next node to ask takes them. Rounds are
//! short next to [`TTL`], so two nodes never run one job's round at once. With one node
//! (SQLite) that node wins every lease.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::maintenance::now_millis;
use crate::{Backend, Store, StoreError};

/// How long a job's lease lasts without renewal: a dead node's jobs move within this.
pub const TTL: Duration = Duration::from_secs(30);

/// The leases this node won, each with when it last renewed it.
#[derive(Debug, Default)]
pub(crate) struct Held(Mutex<HashMap<String, Instant>>);

/// A name for this process in lease rows: host, process ID and a random suffix, so a
/// restarted process never mistakes its predecessor's leases for its own.
pub(crate) fn node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let suffix = hex::encode(crate::crypto::random_array::<4>());
    format!("{}-{}-{suffix}", host.trim(), std::process::id())
}

impl Store {
    /// This node's name in lease rows.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Takes or renews the lease on `job` for `ttl`: true when this node holds it now.
    /// A lease renewed less than a third of `ttl` ago is trusted without asking the
    /// catalog, so a job may ask on every wake-up.
    pub async fn acquire_lease(&self, job: &str, ttl: Duration) -> Result<bool, StoreError> {
        let began = Instant::now();
        if self.leases.0.lock().expect("lease lock").get(job).is_some_and(|at| began.duration_since(*at) < ttl / 3) {
            return Ok(true);
        }
        let now = now_millis();
        let done = sqlx::query(
            "INSERT INTO leases (job, holder, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms \
             WHERE leases.holder = excluded.holder OR leases.expires_ms < $4",
        )
        .bind(job)
        .bind(&self.node_id)
        .bind(now + ttl.as_millis() as i64)
        .bind(now)
        .execute(&self.db)
        .await?;
        let won = done.rows_affected() > 0;
        let mut held = self.leases.0.lock().expect("lease lock");
        if won {
            if held.insert(job.to_owned(), began).is_none() {
                tracing::info!(job, node = %self.node_id, "took the lease");
            }
        } else if held.remove(job).is_some() {
            tracing::warn!(job, node = %self.node_id, "lost the lease");
        }
        Ok(won)
    }

    /// Gives up `job`'s lease if this node holds it, so another node may take it at once.
    pub async fn release_lease(&self, job: &str) -> Result<(), StoreError> {
        self.leases.0.lock().expect("lease lock").remove(job);
        sqlx::query("DELETE FROM leases WHERE job = $1 AND holder = $2").bind(job).bind(&self.node_id).execute(&self.db).await?;
        Ok(())
    }

    /// Gives up every lease this node holds (at shutdown).
    pub async fn release_all_leases(&self) {
        let jobs: Vec<String> = self.leases.0.lock().expect("lease lock").keys().cloned().collect();
        for job in jobs {
            if let Err(e) = self.release_lease(&job).await {
                tracing::warn!(job, error = %e, "releasing a lease failed; it will expire");
            }
        }
    }

    /// Forgets every lease row: an embedded (SQLite) catalog has one node, and a crashed
    /// predecessor's leases must not hold its successor back.
    pub(crate) async fn clear_leases_if_embedded(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("DELETE FROM leases").execute(&self.db).await?;
        }
        Ok(())
    }
}
