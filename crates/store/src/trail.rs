//! CloudTrail state in the catalog: recorded events, trails, and how far each trail's
//! delivery has gone. The trail crate owns the documents' shapes; here they are rows.

use crate::{Store, StoreError};

/// One recorded call, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewTrailEvent {
    /// The account the event belongs to (recipientAccountId).
    pub account_id: String,
    /// The region the call was made in (awsRegion).
    pub region: String,
    /// eventTime, epoch milliseconds.
    pub event_time: i64,
    /// eventID.
    pub event_id: String,
    /// eventName.
    pub event_name: String,
    /// eventSource, e.g. `logs.amazonaws.com`.
    pub event_source: String,
    /// readOnly.
    pub read_only: bool,
    /// managementEvent.
    pub management: bool,
    /// LookupEvents' Username.
    pub username: Option<String>,
    /// The access key the call was signed with.
    pub access_key_id: Option<String>,
    /// LookupEvents' Resources, as JSON `[{"ResourceType", "ResourceName"}]`.
    pub resources: String,
    /// The record as delivered.
    pub body: String,
}

/// A stored event as event history and delivery read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrailEvent {
    /// Commit order.
    pub seq: i64,
    /// awsRegion.
    pub region: String,
    /// eventTime, epoch milliseconds.
    pub event_time: i64,
    /// eventID.
    pub event_id: String,
    /// eventName.
    pub event_name: String,
    /// eventSource.
    pub event_source: String,
    /// readOnly.
    #[sqlx(try_from = "crate::catalog::Flag")]
    pub read_only: bool,
    /// managementEvent.
    #[sqlx(try_from = "crate::catalog::Flag")]
    pub management: bool,
    /// LookupEvents' Username.
    pub username: Option<String>,
    /// The access key the call was signed with.
    pub access_key_id: Option<String>,
    /// LookupEvents' Resources as JSON.
    pub resources: String,
    /// The record as delivered.
    pub body: String,
}

/// The one attribute a LookupEvents request may filter on.
#[derive(Debug, Clone)]
pub enum LookupAttribute {
    /// EventId.
    EventId(String),
    /// EventName.
    EventName(String),
    /// ReadOnly.
    ReadOnly(bool),
    /// Username.
    Username(String),
    /// ResourceType.
    ResourceType(String),
    /// ResourceName.
    ResourceName(String),
    /// EventSource.
    EventSource(String),
    /// AccessKeyId.
    AccessKeyId(String),
}

/// A page of event history: newest first.
#[derive(Debug, Clone)]
pub struct EventQuery {
    /// The account whose events are read.
    pub account_id: String,
    /// The region whose events are read.
    pub region: String,
    /// Events at or after this time, epoch ms.
    pub start: i64,
    /// Events at or before this time, epoch ms.
    pub end: i64,
    /// An optional attribute filter.
    pub attribute: Option<LookupAttribute>,
    /// Continue after this (event_time, seq) position.
    pub before: Option<(i64, i64)>,
    /// Largest number of events returned.
    pub limit: i64,
}

/// Rows per INSERT statement (12 parameters each, well under SQLite's limit).
const INSERT_ROWS: usize = 400;
/// Parameters per event row.
const EVENT_PARAMS: usize = 12;

/// The multi-row INSERT for `rows` events, with numbered parameters; built once per
/// row count, since the recorder's batches repeat the same few sizes.
fn insert_events_sql(rows: usize) -> &'static str {
    static CACHE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = CACHE.get_or_init(|| {
        (0..=INSERT_ROWS)
            .map(|n| {
                let values: Vec<String> = (0..n)
                    .map(|r| {
                        let params: Vec<String> = (1..=EVENT_PARAMS).map(|c| format!("${}", r * EVENT_PARAMS + c)).collect();
                        format!("({})", params.join(", "))
                    })
                    .collect();
                format!(
                    "INSERT INTO trail_events (account_id, region, event_time, event_id, event_name, event_source, read_only, \
                     management, username, access_key_id, resources, body) VALUES {}",
                    values.join(", ")
                )
            })
            .collect()
    });
    &all[rows]
}

const EVENT_COLUMNS: &str =
    "seq, region, event_time, event_id, event_name, event_source, read_only, management, username, access_key_id, resources, body";

impl Store {
    /// Stores recorded events in one transaction, in the given order. Rows go in
    /// multi-row statements: per-statement overhead, not SQLite, bounds single inserts.
    pub async fn insert_trail_events(&self, events: &[NewTrailEvent]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for chunk in events.chunks(INSERT_ROWS) {
            let mut query = sqlx::query(insert_events_sql(chunk.len()));
            for e in chunk {
                query = query
                    .bind(&e.account_id)
                    .bind(&e.region)
                    .bind(e.event_time)
                    .bind(&e.event_id)
                    .bind(&e.event_name)
                    .bind(&e.event_source)
                    .bind(i64::from(e.read_only))
                    .bind(i64::from(e.management))
                    .bind(&e.username)
                    .bind(&e.access_key_id)
                    .bind(&e.resources)
                    .bind(&e.body);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Management events of one account and region, newest first.
    pub async fn lookup_trail_events(&self, q: &EventQuery) -> Result<Vec<TrailEvent>, StoreError> {
        let (filter, value) = match &q.attribute {
            None => ("$8 IS NULL", None),
            Some(LookupAttribute::EventId(v)) => ("event_id = $8", Some(v.clone())),
            Some(LookupAttribute::EventName(v)) => ("event_name = $8", Some(v.clone())),
            Some(LookupAttribute::ReadOnly(v)) => ("read_only = CAST($8 AS BIGINT)", Some(if *v { "1" } else { "0" }.to_owned())),
            Some(LookupAttribute::Username(v)) => ("username = $8", Some(v.clone())),
            Some(LookupAttribute::EventSource(v)) => ("event_source = $8", Some(v.clone())),
            Some(LookupAttribute::AccessKeyId(v)) => ("access_key_id = $8", Some(v.clone())),
            // json_each and json_extract are SQLite's; the PostgreSQL schema defines both.
            Some(LookupAttribute::ResourceType(v)) => {
                ("EXISTS (SELECT 1 FROM json_each(resources) r WHERE json_extract(r.value, '$.ResourceType') = $8)", Some(v.clone()))
            }
            Some(LookupAttribute::ResourceName(v)) => {
                ("EXISTS (SELECT 1 FROM json_each(resources) r WHERE json_extract(r.value, '$.ResourceName') = $8)", Some(v.clone()))
            }
        };
        let (before_time, before_seq) = q.before.unwrap_or((i64::MAX, i64::MAX));
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM trail_events WHERE account_id = $1 AND region = $2 AND management = 1 \
             AND event_time >= $3 AND event_time <= $4 AND (event_time < $5 OR (event_time = $6 AND seq < $7)) AND {filter} \
             ORDER BY event_time DESC, seq DESC LIMIT $9"
        );
        let query = sqlx::query_as::<_, TrailEvent>(&sql)
            .bind(&q.account_id)
            .bind(&q.region)
            .bind(q.start)
            .bind(q.end)
            .bind(before_time)
            .bind(before_time)
            .bind(before_seq)
            .bind(value);
        Ok(query.bind(q.limit).fetch_all(&self.db).await?)
    }

    /// Events of an account recorded after `seq`, in commit order: what a trail's
    /// delivery reads next.
    pub async fn trail_events_after(&self, account_id: &str, seq: i64, limit: i64) -> Result<Vec<TrailEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM trail_events WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        Ok(sqlx::query_as::<_, TrailEvent>(&sql).bind(account_id).bind(seq).bind(limit).fetch_all(&self.db).await?)
    }

    /// The newest event's seq, or 0: where a trail that starts logging now begins.
    pub async fn latest_trail_event_seq(&self) -> Result<i64, StoreError> {
        let row: (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM trail_events").fetch_one(&self.db).await?;
        Ok(row.0.unwrap_or(0))
    }

    /// Forgets events older than the cutoff (event history keeps 90 days); returns how many.
    pub async fn expire_trail_events(&self, before_millis: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM trail_events WHERE event_time < $1").bind(before_millis).execute(&self.db).await?;
        Ok(done.rows_affected())
    }

    /// Every trail document of an account, with its home region and name.
    pub async fn load_trails(&self, account_id: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query_as("SELECT home_region, name, body FROM trails WHERE account_id = $1 ORDER BY home_region, name")
            .bind(account_id)
            .fetch_all(&self.db)
            .await?;
        Ok(rows)
    }

    /// Every trail document of every account: what the delivery job works through.
    pub async fn load_all_trails(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT account_id, body FROM trails ORDER BY account_id, home_region, name").fetch_all(&self.db).await?)
    }

    /// Creates or replaces a trail document.
    pub async fn put_trail(&self, account_id: &str, home_region: &str, name: &str, body: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO trails (account_id, home_region, name, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, home_region, name) DO UPDATE SET body = excluded.body",
        )
        .bind(account_id)
        .bind(home_region)
        .bind(name)
        .bind(body)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Deletes a trail document and its delivery state (delivered files stay in the bucket).
    pub async fn delete_trail(&self, account_id: &str, home_region: &str, name: &str, arn: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM trails WHERE account_id = $1 AND home_region = $2 AND name = $3")
            .bind(account_id)
            .bind(home_region)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        for table in ["trail_cursors", "trail_status", "trail_files", "trail_digests", "trail_notifications"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE trail_arn = $1")).bind(arn).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A trail's delivery cursor for a sink, if delivery to it has begun.
    pub async fn trail_cursor(&self, trail_arn: &str, sink: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT seq FROM trail_cursors WHERE trail_arn = $1 AND sink = $2")
            .bind(trail_arn)
            .bind(sink)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Sets a trail's delivery cursor for a sink.
    pub async fn set_trail_cursor(&self, trail_arn: &str, sink: &str, seq: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO trail_cursors (trail_arn, sink, seq) VALUES ($1, $2, $3) ON CONFLICT (trail_arn, sink) DO UPDATE SET seq = excluded.seq",
        )
        .bind(trail_arn)
        .bind(sink)
        .bind(seq)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Records the outcome of a delivery attempt; a success clears the error.
    pub async fn set_trail_status(&self, trail_arn: &str, sink: &str, now: i64, error: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO trail_status (trail_arn, sink, last_ok, last_error, last_attempt) VALUES ($1, $2, \
             CASE WHEN $3 IS NULL THEN $4 END, $3, $4) ON CONFLICT (trail_arn, sink) DO UPDATE SET \
             last_ok = CASE WHEN $3 IS NULL THEN $4 ELSE trail_status.last_ok END, last_error = $3, last_attempt = $4",
        )
        .bind(trail_arn)
        .bind(sink)
        .bind(error)
        .bind(now)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// The outcome of the latest delivery attempts of a trail, per sink.
    pub async fn trail_status(&self, trail_arn: &str) -> Result<Vec<TrailSinkStatus>, StoreError> {
        Ok(sqlx::query_as("SELECT sink, last_ok, last_error, last_attempt FROM trail_status WHERE trail_arn = $1")
            .bind(trail_arn)
            .fetch_all(&self.db)
            .await?)
    }

    /// Registers delivered log files, queues their notifications and moves the cursor, in
    /// one transaction: a file is either delivered and accounted for, or will be written
    /// again under the same key.
    pub async fn commit_trail_files(
        &self,
        trail_arn: &str,
        files: &[DeliveredFile],
        notifications: &[(String, String)],
        cursor: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for f in files {
            sqlx::query(
                "INSERT INTO trail_files (trail_arn, region, bucket, key, sha256, oldest_event, newest_event, delivered_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (trail_arn, key) DO UPDATE SET sha256 = excluded.sha256, \
                 oldest_event = excluded.oldest_event, newest_event = excluded.newest_event, delivered_at = excluded.delivered_at",
            )
            .bind(trail_arn)
            .bind(&f.region)
            .bind(&f.bucket)
            .bind(&f.key)
            .bind(&f.sha256)
            .bind(f.oldest_event)
            .bind(f.newest_event)
            .bind(f.delivered_at)
            .execute(&mut *tx)
            .await?;
        }
        for (topic, message) in notifications {
            sqlx::query("INSERT INTO trail_notifications (trail_arn, topic, message, next_at) VALUES ($1, $2, $3, 0)")
                .bind(trail_arn)
                .bind(topic)
                .bind(message)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO trail_cursors (trail_arn, sink, seq) VALUES ($1, 's3', $2) ON CONFLICT (trail_arn, sink) DO UPDATE SET seq = excluded.seq")
            .bind(trail_arn)
            .bind(cursor)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Log files of a trail and region not yet listed in a digest, oldest first.
    pub async fn undigested_trail_files(&self, trail_arn: &str, region: &str) -> Result<Vec<DeliveredFile>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT region, bucket, key, sha256, oldest_event, newest_event, delivered_at FROM trail_files \
             WHERE trail_arn = $1 AND region = $2 AND digested = 0 ORDER BY delivered_at, key",
        )
        .bind(trail_arn)
        .bind(region)
        .fetch_all(&self.db)
        .await?)
    }

    /// The regions a trail has delivered log files for.
    pub async fn trail_file_regions(&self, trail_arn: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT region FROM trail_files WHERE trail_arn = $1").bind(trail_arn).fetch_all(&self.db).await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The newest digest of a trail in a region.
    pub async fn last_trail_digest(&self, trail_arn: &str, region: &str) -> Result<Option<DigestLink>, StoreError> {
        Ok(sqlx::query_as("SELECT bucket, key, sha256, signature, end_time FROM trail_digests WHERE trail_arn = $1 AND region = $2")
            .bind(trail_arn)
            .bind(region)
            .fetch_optional(&self.db)
            .await?)
    }

    /// Records a written digest as the newest of its chain and marks its files digested.
    pub async fn commit_trail_digest(
        &self,
        trail_arn: &str,
        region: &str,
        digest: &DigestLink,
        files: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO trail_digests (trail_arn, region, bucket, key, sha256, signature, end_time) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (trail_arn, region) DO UPDATE SET bucket = excluded.bucket, key = excluded.key, sha256 = excluded.sha256, \
             signature = excluded.signature, end_time = excluded.end_time",
        )
        .bind(trail_arn)
        .bind(region)
        .bind(&digest.bucket)
        .bind(&digest.key)
        .bind(&digest.sha256)
        .bind(&digest.signature)
        .bind(digest.end_time)
        .execute(&mut *tx)
        .await?;
        for key in files {
            sqlx::query("UPDATE trail_files SET digested = 1 WHERE trail_arn = $1 AND key = $2")
                .bind(trail_arn)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Notifications due at `now`, oldest first.
    pub async fn due_trail_notifications(&self, now: i64, limit: i64) -> Result<Vec<Notification>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, trail_arn, topic, message, attempts FROM trail_notifications WHERE next_at <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.db)
        .await?)
    }

    /// Forgets an acknowledged notification.
    pub async fn finish_trail_notification(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM trail_notifications WHERE id = $1").bind(id).execute(&self.db).await?;
        Ok(())
    }

    /// Schedules another attempt of a notification.
    pub async fn retry_trail_notification(&self, id: i64, next_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE trail_notifications SET attempts = attempts + 1, next_at = $1 WHERE id = $2")
            .bind(next_at)
            .bind(id)
            .execute(&self.db)
            .await?;
        Ok(())
    }
}

/// The latest delivery outcome of one sink of a trail.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrailSinkStatus {
    /// `s3`, `logs`, `digest` or `sns`.
    pub sink: String,
    /// When delivery last succeeded, epoch ms.
    pub last_ok: Option<i64>,
    /// The latest error, if the latest attempt failed.
    pub last_error: Option<String>,
    /// When delivery was last attempted, epoch ms.
    pub last_attempt: Option<i64>,
}

/// A log file written to a trail's bucket.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveredFile {
    /// The region whose events the file holds.
    pub region: String,
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// SHA-256 hex of the uncompressed file.
    pub sha256: String,
    /// The oldest eventTime in the file, epoch ms.
    pub oldest_event: i64,
    /// The newest eventTime in the file, epoch ms.
    pub newest_event: i64,
    /// When the file was written, epoch ms.
    pub delivered_at: i64,
}

/// The newest digest of a chain, which the next digest links to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DigestLink {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// SHA-256 hex of the uncompressed digest.
    pub sha256: String,
    /// The digest's signature, hex.
    pub signature: String,
    /// digestEndTime, epoch ms.
    pub end_time: i64,
}

/// A delivery notification waiting for its endpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    /// Row id.
    pub id: i64,
    /// The trail that delivered the file.
    pub trail_arn: String,
    /// The SNS topic name configured on the trail.
    pub topic: String,
    /// The message body.
    pub message: String,
    /// Attempts so far.
    pub attempts: i64,
}
