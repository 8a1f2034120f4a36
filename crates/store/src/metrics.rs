//! The catalog of CloudWatch metrics and alarms: statistic buckets per metric and period,
//! alarm documents, their history, and the outbox of alarm notifications.
//!
//! A bucket keeps what every statistic needs (count, sum, min, max) and, for percentiles,
//! the samples themselves as (value, count) pairs, bounded as CloudWatch bounds its
//! Values/Counts: past [`MAX_DISTINCT`] distinct values the two closest are merged.

use std::collections::HashMap;

use sqlx::Row;

use crate::{Store, StoreError};

/// How many distinct values a bucket keeps for percentiles.
pub const MAX_DISTINCT: usize = 1000;

/// The statistics of a set of samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The number of samples (a statistic set may say 2.5).
    pub count: f64,
    /// Their sum.
    pub sum: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// The samples as (value, count) sorted by value; `None` when they are unknown (a
    /// statistic set of several distinct samples), which makes percentiles unavailable.
    pub values: Option<Vec<(f64, f64)>>,
}

impl Stats {
    /// The statistics of values seen `counts` times each (a missing count is 1); `None`
    /// when nothing was counted.
    pub fn from_values(values: &[f64], counts: &[f64]) -> Option<Stats> {
        let mut pairs: Vec<(f64, f64)> =
            values.iter().enumerate().map(|(i, v)| (*v, counts.get(i).copied().unwrap_or(1.0))).filter(|(_, c)| *c > 0.0).collect();
        if pairs.is_empty() {
            return None;
        }
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let pairs = coalesce(pairs);
        let count = pairs.iter().map(|p| p.1).sum();
        let sum = pairs.iter().map(|p| p.0 * p.1).sum();
        let (min, max) = (pairs[0].0, pairs[pairs.len() - 1].0);
        Some(Stats { count, sum, min, max, values: Some(cap(pairs)) })
    }

    /// A statistic set; its samples are known only when they are all one value.
    pub fn from_set(count: f64, sum: f64, min: f64, max: f64) -> Stats {
        let known = count == 1.0 || min == max;
        Stats { count, sum, min, max, values: known.then(|| vec![(min, count)]) }
    }

    /// Adds another set of samples to this one.
    pub fn merge(&mut self, other: &Stats) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.values = match (self.values.take(), &other.values) {
            (Some(a), Some(b)) => Some(merge_sorted(a, b)),
            _ => None,
        };
    }

    /// The average sample.
    pub fn average(&self) -> f64 {
        if self.count == 0.0 { 0.0 } else { self.sum / self.count }
    }

    /// The `p`th percentile (0–100) by nearest rank, when the samples are known.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let values = self.values.as_ref()?;
        let total: f64 = values.iter().map(|v| v.1).sum();
        let rank = (p / 100.0 * total).max(f64::MIN_POSITIVE);
        let mut seen = 0.0;
        for (v, c) in values {
            seen += c;
            if seen >= rank - 1e-9 {
                return Some(*v);
            }
        }
        values.last().map(|v| v.0)
    }
}

/// Sums the counts of equal adjacent values.
fn coalesce(sorted: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
    for (v, c) in sorted {
        match out.last_mut() {
            Some(last) if last.0 == v => last.1 += c,
            _ => out.push((v, c)),
        }
    }
    out
}

fn merge_sorted(a: Vec<(f64, f64)>, b: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut all = a;
    all.extend_from_slice(b);
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    cap(coalesce(all))
}

/// Keeps at most [`MAX_DISTINCT`] values by merging the closest neighbours into their
/// count-weighted mean: exact below the cap, close above it.
fn cap(mut values: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    while values.len() > MAX_DISTINCT {
        let i = (0..values.len() - 1)
            .min_by(|&i, &j| (values[i + 1].0 - values[i].0).total_cmp(&(values[j + 1].0 - values[j].0)))
            .expect("more than one value");
        let (a, b) = (values[i], values[i + 1]);
        let count = a.1 + b.1;
        values[i] = ((a.0 * a.1 + b.0 * b.1) / count, count);
        values.remove(i + 1);
    }
    values
}

/// The samples as stored: little-endian (value, count) pairs.
fn encode(values: &Option<Vec<(f64, f64)>>) -> Option<Vec<u8>> {
    let values = values.as_ref()?;
    let mut out = Vec::with_capacity(values.len() * 16);
    for (v, c) in values {
        out.extend_from_slice(&v.to_le_bytes());
        out.extend_from_slice(&c.to_le_bytes());
    }
    Some(out)
}

fn decode(bytes: Option<Vec<u8>>) -> Option<Vec<(f64, f64)>> {
    let bytes = bytes?;
    let f = |b: &[u8]| f64::from_le_bytes(b.try_into().expect("8 bytes"));
    Some(bytes.chunks_exact(16).map(|c| (f(&c[..8]), f(&c[8..]))).collect())
}

/// What identifies a metric within an account and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    /// The namespace.
    pub namespace: String,
    /// The metric name.
    pub name: String,
    /// The dimensions, sorted by name.
    pub dimensions: Vec<(String, String)>,
}

impl SeriesKey {
    /// A key with its dimensions put in canonical (name) order.
    pub fn new(namespace: &str, name: &str, mut dimensions: Vec<(String, String)>) -> Self {
        dimensions.sort();
        SeriesKey { namespace: namespace.to_owned(), name: name.to_owned(), dimensions }
    }

    fn dimensions_json(&self) -> String {
        serde_json::to_string(&self.dimensions).expect("strings serialize")
    }
}

/// Samples to add to one bucket.
#[derive(Debug, Clone)]
pub struct BucketWrite {
    /// The metric.
    pub series: SeriesKey,
    /// The bucket's start, epoch ms, a multiple of its width.
    pub start_ms: i64,
    /// The bucket's width in seconds: 60, or 1 for high-resolution data.
    pub width_s: i64,
    /// The unit the samples were put with (`None` when unspecified).
    pub unit: String,
    /// The samples.
    pub stats: Stats,
}

/// One stored bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Start, epoch ms.
    pub start_ms: i64,
    /// Width in seconds.
    pub width_s: i64,
    /// Unit.
    pub unit: String,
    /// The statistics of its samples.
    pub stats: Stats,
}

/// A metric as ListMetrics finds it.
#[derive(Debug, Clone)]
pub struct SeriesRow {
    /// Internal ID, increasing in creation order (the paging key).
    pub id: i64,
    /// The metric.
    pub key: SeriesKey,
    /// When data last arrived, epoch ms.
    pub last_put_ms: i64,
}

/// One alarm history item.
#[derive(Debug, Clone)]
pub struct AlarmHistoryRecord {
    /// Internal ID, increasing in insertion order (the paging key).
    pub id: i64,
    /// The alarm.
    pub alarm_name: String,
    /// When it happened, epoch ms.
    pub at_ms: i64,
    /// ConfigurationUpdate, StateUpdate or Action.
    pub item_type: String,
    /// HistorySummary.
    pub summary: String,
    /// HistoryData (JSON).
    pub data: String,
}

/// Which history items DescribeAlarmHistory wants.
#[derive(Debug, Clone, Default)]
pub struct AlarmHistoryQuery {
    /// One alarm, or all.
    pub alarm_name: Option<String>,
    /// One item type, or all.
    pub item_type: Option<String>,
    /// Items at or after, epoch ms.
    pub start_ms: i64,
    /// Items at or before, epoch ms.
    pub end_ms: i64,
    /// Oldest first rather than newest first.
    pub ascending: bool,
    /// Resume after this item ID (in the scan's direction).
    pub after_id: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// An alarm notification to queue with a state change.
#[derive(Debug, Clone)]
pub struct NewAlarmNotification {
    /// The topic ARN.
    pub action: String,
    /// The SNS subject.
    pub subject: String,
    /// The CloudWatch alarm JSON.
    pub message: String,
}

/// A queued alarm notification, claimed for one delivery attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlarmNotification {
    /// Internal ID.
    pub id: i64,
    /// The account of the alarm.
    pub account_id: String,
    /// The region of the alarm.
    pub region: String,
    /// The alarm.
    pub alarm_name: String,
    /// The topic ARN.
    pub action: String,
    /// The SNS subject.
    pub subject: String,
    /// The CloudWatch alarm JSON.
    pub message: String,
    /// The state update it announces, epoch ms.
    pub state_ms: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Which metrics ListMetrics wants from one page.
#[derive(Debug, Clone, Copy)]
pub struct SeriesQuery<'a> {
    /// Only this namespace.
    pub namespace: Option<&'a str>,
    /// Only this metric name.
    pub name: Option<&'a str>,
    /// Metrics after this ID.
    pub after_id: i64,
    /// Metrics that received data since, epoch ms.
    pub active_since_ms: i64,
    /// At most this many.
    pub limit: i64,
}

/// A changed alarm document, with what the change adds to history and the outbox.
#[derive(Debug, Clone, Copy)]
pub struct AlarmUpdate<'a> {
    /// The alarm.
    pub name: &'a str,
    /// Its new document.
    pub body: &'a str,
    /// History items to add.
    pub history: &'a [NewAlarmHistory],
    /// Notifications to queue.
    pub notifications: &'a [NewAlarmNotification],
    /// The state update the notifications announce, epoch ms.
    pub state_ms: i64,
}

/// A history item to write, without its ID.
#[derive(Debug, Clone)]
pub struct NewAlarmHistory {
    /// The alarm.
    pub alarm_name: String,
    /// When, epoch ms.
    pub at_ms: i64,
    /// ConfigurationUpdate, StateUpdate or Action.
    pub item_type: String,
    /// HistorySummary.
    pub summary: String,
    /// HistoryData (JSON).
    pub data: String,
}

use crate::Tx;

impl Store {
    /// Adds samples to their buckets, creating metrics as needed, in one transaction.
    pub async fn metrics_put(&self, account_id: &str, region: &str, now_ms: i64, writes: &[BucketWrite]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let mut ids: HashMap<&SeriesKey, i64> = HashMap::new();
        for w in writes {
            let id = match ids.get(&w.series) {
                Some(id) => *id,
                None => {
                    let id = upsert_series(&mut tx, account_id, region, &w.series, now_ms).await?;
                    ids.insert(&w.series, id);
                    id
                }
            };
            upsert_bucket(&mut tx, id, w).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The ID of a metric with exactly these dimensions, if data was ever put to it.
    pub async fn metrics_series_id(&self, account_id: &str, region: &str, key: &SeriesKey) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM metric_series WHERE account_id = $1 AND region = $2 AND namespace = $3 AND name = $4 AND dimensions = $5",
        )
        .bind(account_id)
        .bind(region)
        .bind(&key.namespace)
        .bind(&key.name)
        .bind(key.dimensions_json())
        .fetch_optional(&self.db)
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// The buckets of a metric starting in `[start_ms, end_ms)`, of one unit or all, by start.
    pub async fn metrics_buckets(&self, series_id: i64, start_ms: i64, end_ms: i64, unit: Option<&str>) -> Result<Vec<Bucket>, StoreError> {
        let rows = sqlx::query(
            "SELECT start_ms, width_s, unit, count, sum, min, max, distribution FROM metric_buckets \
             WHERE series_id = $1 AND start_ms >= $2 AND start_ms < $3 AND ($4 IS NULL OR unit = $5) ORDER BY start_ms",
        )
        .bind(series_id)
        .bind(start_ms)
        .bind(end_ms)
        .bind(unit)
        .bind(unit)
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Bucket {
                start_ms: r.get(0),
                width_s: r.get(1),
                unit: r.get(2),
                stats: Stats { count: r.get(3), sum: r.get(4), min: r.get(5), max: r.get(6), values: decode(r.get(7)) },
            })
            .collect())
    }

    /// Metrics as ListMetrics pages through them, by ID.
    pub async fn metrics_series_page(&self, account_id: &str, region: &str, q: &SeriesQuery<'_>) -> Result<Vec<SeriesRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, namespace, name, dimensions, last_put_ms FROM metric_series \
             WHERE account_id = $1 AND region = $2 AND id > $3 AND last_put_ms >= $4 \
             AND ($5 IS NULL OR namespace = $6) AND ($7 IS NULL OR name = $8) ORDER BY id LIMIT $9",
        )
        .bind(account_id)
        .bind(region)
        .bind(q.after_id)
        .bind(q.active_since_ms)
        .bind(q.namespace)
        .bind(q.namespace)
        .bind(q.name)
        .bind(q.name)
        .bind(q.limit)
        .fetch_all(&self.db)
        .await?;
        rows.into_iter()
            .map(|r| {
                let dims: String = r.get(3);
                let dimensions = serde_json::from_str(&dims).map_err(|e| StoreError::Corrupt(format!("metric dimensions: {e}")))?;
                let key = SeriesKey { namespace: r.get(1), name: r.get(2), dimensions };
                Ok(SeriesRow { id: r.get(0), key, last_put_ms: r.get(4) })
            })
            .collect()
    }

    /// Drops buckets that started before `before_ms`, metrics silent since then, and alarm
    /// history older than `history_before_ms`; returns how many buckets went.
    pub async fn metrics_expire(&self, before_ms: i64, history_before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM metric_buckets WHERE start_ms < $1").bind(before_ms).execute(&self.db).await?;
        sqlx::query("DELETE FROM metric_series WHERE last_put_ms < $1").bind(before_ms).execute(&self.db).await?;
        sqlx::query("DELETE FROM metric_alarm_history WHERE at_ms < $1").bind(history_before_ms).execute(&self.db).await?;
        Ok(done.rows_affected())
    }

    /// One alarm document, if it exists.
    pub async fn alarm_get(&self, account_id: &str, region: &str, name: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT body FROM metric_alarms WHERE account_id = $1 AND region = $2 AND name = $3")
            .bind(account_id)
            .bind(region)
            .bind(name)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Every alarm document of an account and region, by name.
    pub async fn alarm_list(&self, account_id: &str, region: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT body FROM metric_alarms WHERE account_id = $1 AND region = $2 ORDER BY name")
            .bind(account_id)
            .bind(region)
            .fetch_all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Every alarm document, with its account and region: what the evaluator works through.
    pub async fn alarm_list_all(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT account_id, region, body FROM metric_alarms ORDER BY account_id, region, name")
            .fetch_all(&self.db)
            .await?)
    }

    /// How many alarms an account has in a region.
    pub async fn alarm_count(&self, account_id: &str, region: &str) -> Result<i64, StoreError> {
        let row: (i64,) = sqlx::query_as("SELECT count(*) FROM metric_alarms WHERE account_id = $1 AND region = $2")
            .bind(account_id)
            .bind(region)
            .fetch_one(&self.db)
            .await?;
        Ok(row.0)
    }

    /// Creates or replaces an alarm document with its history item, in one transaction.
    pub async fn alarm_put(
        &self,
        account_id: &str,
        region: &str,
        name: &str,
        body: &str,
        history: &[NewAlarmHistory],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO metric_alarms (account_id, region, name, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, region, name) DO UPDATE SET body = excluded.body",
        )
        .bind(account_id)
        .bind(region)
        .bind(name)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        insert_history(&mut tx, account_id, region, history).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces an existing alarm document, adding history and queuing notifications in the
    /// same transaction; false (and nothing written) when the alarm no longer exists.
    pub async fn alarm_update(&self, account_id: &str, region: &str, u: &AlarmUpdate<'_>) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE metric_alarms SET body = $1 WHERE account_id = $2 AND region = $3 AND name = $4")
            .bind(u.body)
            .bind(account_id)
            .bind(region)
            .bind(u.name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_history(&mut tx, account_id, region, u.history).await?;
        for n in u.notifications {
            sqlx::query(
                "INSERT INTO metric_alarm_notifications (account_id, region, alarm_name, action, subject, message, state_ms, due_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
            )
            .bind(account_id)
            .bind(region)
            .bind(u.name)
            .bind(&n.action)
            .bind(&n.subject)
            .bind(&n.message)
            .bind(u.state_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes alarms with their history items, in one transaction.
    pub async fn alarm_delete(
        &self,
        account_id: &str,
        region: &str,
        names: &[String],
        history: &[NewAlarmHistory],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for name in names {
            sqlx::query("DELETE FROM metric_alarms WHERE account_id = $1 AND region = $2 AND name = $3")
                .bind(account_id)
                .bind(region)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        insert_history(&mut tx, account_id, region, history).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds history items on their own (actions executed).
    pub async fn alarm_add_history(&self, account_id: &str, region: &str, history: &[NewAlarmHistory]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        insert_history(&mut tx, account_id, region, history).await?;
        tx.commit().await?;
        Ok(())
    }

    /// History items of an account and region as DescribeAlarmHistory asks for them, in
    /// the order they were written (which is time order, and a stable paging key).
    pub async fn alarm_history(
        &self,
        account_id: &str,
        region: &str,
        q: &AlarmHistoryQuery,
    ) -> Result<Vec<AlarmHistoryRecord>, StoreError> {
        let (order, cmp, after) = match (q.ascending, q.after_id) {
            (true, a) => ("ASC", ">", a.unwrap_or(i64::MIN)),
            (false, a) => ("DESC", "<", a.unwrap_or(i64::MAX)),
        };
        let sql = format!(
            "SELECT id, alarm_name, at_ms, item_type, summary, data FROM metric_alarm_history \
             WHERE account_id = $1 AND region = $2 AND at_ms >= $3 AND at_ms <= $4 AND id {cmp} $5 \
             AND ($6 IS NULL OR alarm_name = $7) AND ($8 IS NULL OR item_type = $9) ORDER BY id {order} LIMIT $10"
        );
        let rows = sqlx::query(&sql)
            .bind(account_id)
            .bind(region)
            .bind(q.start_ms)
            .bind(q.end_ms)
            .bind(after)
            .bind(&q.alarm_name)
            .bind(&q.alarm_name)
            .bind(&q.item_type)
            .bind(&q.item_type)
            .bind(q.limit)
            .fetch_all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| AlarmHistoryRecord {
                id: r.get(0),
                alarm_name: r.get(1),
                at_ms: r.get(2),
                item_type: r.get(3),
                summary: r.get(4),
                data: r.get(5),
            })
            .collect())
    }

    /// Claims due notifications for one attempt each: their next attempt moves `lease_ms`
    /// ahead, so a crash mid-delivery retries them and two deliverers never share one.
    pub async fn alarm_notifications_claim(&self, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<AlarmNotification>, StoreError> {
        let mut tx = self.write_tx().await?;
        let claimed: Vec<AlarmNotification> = sqlx::query_as(
            "UPDATE metric_alarm_notifications SET attempts = attempts + 1, due_ms = $1 \
             WHERE id IN (SELECT id FROM metric_alarm_notifications WHERE due_ms <= $2 ORDER BY id LIMIT $3) \
             RETURNING id, account_id, region, alarm_name, action, subject, message, state_ms, attempts",
        )
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut claimed = claimed;
        claimed.sort_by_key(|n| n.id);
        Ok(claimed)
    }

    /// Forgets a notification that was delivered or given up on, recording the outcome.
    pub async fn alarm_notification_done(&self, n: &AlarmNotification, history: &NewAlarmHistory) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM metric_alarm_notifications WHERE id = $1").bind(n.id).execute(&mut *tx).await?;
        insert_history(&mut tx, &n.account_id, &n.region, std::slice::from_ref(history)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Schedules the next attempt of a notification.
    pub async fn alarm_notification_retry(&self, id: i64, due_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE metric_alarm_notifications SET due_ms = $1 WHERE id = $2").bind(due_ms).bind(id).execute(&self.db).await?;
        Ok(())
    }
}

async fn upsert_series(tx: &mut Tx, account_id: &str, region: &str, key: &SeriesKey, now_ms: i64) -> Result<i64, StoreError> {
    let row: (i64,) = sqlx::query_as(
        "INSERT INTO metric_series (account_id, region, namespace, name, dimensions, last_put_ms) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (account_id, region, namespace, name, dimensions) DO UPDATE SET last_put_ms = CASE WHEN metric_series.last_put_ms < excluded.last_put_ms THEN excluded.last_put_ms ELSE metric_series.last_put_ms END \
         RETURNING id",
    )
    .bind(account_id)
    .bind(region)
    .bind(&key.namespace)
    .bind(&key.name)
    .bind(key.dimensions_json())
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.0)
}

async fn upsert_bucket(tx: &mut Tx, series_id: i64, w: &BucketWrite) -> Result<(), StoreError> {
    let existing = sqlx::query(
        "SELECT count, sum, min, max, distribution FROM metric_buckets WHERE series_id = $1 AND start_ms = $2 AND width_s = $3 AND unit = $4",
    )
    .bind(series_id)
    .bind(w.start_ms)
    .bind(w.width_s)
    .bind(&w.unit)
    .fetch_optional(&mut **tx)
    .await?;
    let mut stats = w.stats.clone();
    if let Some(r) = existing {
        let mut old = Stats { count: r.get(0), sum: r.get(1), min: r.get(2), max: r.get(3), values: decode(r.get(4)) };
        old.merge(&w.stats);
        stats = old;
    }
    sqlx::query(
        "INSERT INTO metric_buckets (series_id, start_ms, width_s, unit, count, sum, min, max, distribution) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (series_id, start_ms, width_s, unit) DO UPDATE SET \
         count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, distribution = excluded.distribution",
    )
    .bind(series_id)
    .bind(w.start_ms)
    .bind(w.width_s)
    .bind(&w.unit)
    .bind(stats.count)
    .bind(stats.sum)
    .bind(stats.min)
    .bind(stats.max)
    .bind(encode(&stats.values))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_history(tx: &mut Tx, account_id: &str, region: &str, items: &[NewAlarmHistory]) -> Result<(), StoreError> {
    for h in items {
        sqlx::query(
            "INSERT INTO metric_alarm_history (account_id, region, alarm_name, at_ms, item_type, summary, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(account_id)
        .bind(region)
        .bind(&h.alarm_name)
        .bind(h.at_ms)
        .bind(&h.item_type)
        .bind(&h.summary)
        .bind(&h.data)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_give_exact_percentiles_below_the_cap() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Stats::from_values(&values, &[]).unwrap();
        assert_eq!((s.count, s.sum, s.min, s.max), (100.0, 5050.0, 1.0, 100.0));
        assert_eq!(s.percentile(50.0), Some(50.0));
        assert_eq!(s.percentile(99.0), Some(99.0));
        assert_eq!(s.percentile(100.0), Some(100.0));
        assert_eq!(s.percentile(0.0), Some(1.0));
    }

    #[test]
    fn counts_weight_values_and_merge_adds() {
        let mut a = Stats::from_values(&[1.0, 10.0], &[3.0, 1.0]).unwrap();
        assert_eq!(a.percentile(75.0), Some(1.0));
        a.merge(&Stats::from_values(&[10.0], &[4.0]).unwrap());
        assert_eq!(a.values, Some(vec![(1.0, 3.0), (10.0, 5.0)]));
        assert_eq!(a.percentile(50.0), Some(10.0));
    }

    #[test]
    fn statistic_sets_hide_percentiles_unless_one_value() {
        assert!(Stats::from_set(2.0, 3.0, 1.0, 2.0).values.is_none());
        assert_eq!(Stats::from_set(5.0, 10.0, 2.0, 2.0).percentile(90.0), Some(2.0));
        let mut s = Stats::from_values(&[1.0], &[]).unwrap();
        s.merge(&Stats::from_set(2.0, 3.0, 1.0, 2.0));
        assert!(s.percentile(50.0).is_none());
    }

    #[test]
    fn the_cap_merges_closest_values() {
        let values: Vec<f64> = (0..1500).map(f64::from).collect();
        let s = Stats::from_values(&values, &[]).unwrap();
        let kept = s.values.as_ref().unwrap();
        assert_eq!(kept.len(), MAX_DISTINCT);
        assert_eq!(kept.iter().map(|v| v.1).sum::<f64>(), 1500.0);
        let p50 = s.percentile(50.0).unwrap();
        assert!((p50 - 749.0).abs() < 2.0, "{p50}");
        assert_eq!(decode(encode(&s.values)), s.values);
    }
}
