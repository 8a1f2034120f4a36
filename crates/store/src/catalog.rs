//! The catalog: log groups, streams and tags in SQL, the same schema for SQLite and
//! (in cluster mode) PostgreSQL.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{FromRow, SqlitePool};

use crate::{Store, StoreError};

/// Opens the SQLite catalog with durable settings and applies migrations.
pub async fn open(path: &Path) -> Result<SqlitePool, StoreError> {
    let url = format!("sqlite://{}", path.display());
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a committed transaction survives power loss, which acknowledgement promises.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
    sqlx::migrate!("./migrations").run(&pool).await.map_err(|e| StoreError::Corrupt(format!("migration: {e}")))?;
    Ok(pool)
}

/// A log group as the catalog keeps it.
#[derive(Debug, Clone, FromRow)]
pub struct LogGroup {
    /// Internal ID.
    pub id: i64,
    /// Owning account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// The log group name.
    pub name: String,
    /// Creation time, epoch milliseconds.
    pub creation_time: i64,
    /// Retention in days; `None` keeps events forever.
    pub retention_days: Option<i32>,
    /// The KMS key ARN the caller asked for, recorded and returned.
    pub kms_key_id: Option<String>,
    /// STANDARD, INFREQUENT_ACCESS, ...
    pub log_group_class: String,
    /// Whether deletion protection is on.
    pub deletion_protection: bool,
    /// Bytes stored for this group, as kept in segments.
    pub stored_bytes: i64,
    /// The group's data key, wrapped.
    pub data_key: Vec<u8>,
}

impl LogGroup {
    /// The oldest timestamp still within retention at `now_millis`, if the group expires events.
    pub fn retention_cutoff(&self, now_millis: i64) -> Option<i64> {
        self.retention_days.map(|d| now_millis - i64::from(d) * 86_400_000)
    }
}

/// What CreateLogGroup stores.
#[derive(Debug, Clone)]
pub struct NewLogGroup {
    /// Owning account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// The log group name.
    pub name: String,
    /// Creation time, epoch milliseconds.
    pub creation_time: i64,
    /// KMS key ARN, recorded.
    pub kms_key_id: Option<String>,
    /// Log group class.
    pub log_group_class: String,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Initial tags.
    pub tags: BTreeMap<String, String>,
}

/// A log stream as the catalog keeps it.
#[derive(Debug, Clone, FromRow)]
pub struct LogStream {
    /// Internal ID.
    pub id: i64,
    /// The group it belongs to.
    pub group_id: i64,
    /// The stream name.
    pub name: String,
    /// Creation time, epoch milliseconds.
    pub creation_time: i64,
    /// Timestamp of the earliest event.
    pub first_event_ts: Option<i64>,
    /// Timestamp of the latest event.
    pub last_event_ts: Option<i64>,
    /// When events were last ingested.
    pub last_ingestion_time: Option<i64>,
}

/// Which log groups DescribeLogGroups lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupQuery<'a> {
    /// Names starting with this.
    pub prefix: Option<&'a str>,
    /// Names containing this (case-sensitive).
    pub pattern: Option<&'a str>,
    /// Only this log group class.
    pub class: Option<&'a str>,
    /// Names after this one (the previous page's last).
    pub after: Option<&'a str>,
    /// Most groups to return.
    pub limit: i64,
}

/// DescribeLogStreams ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOrder {
    /// By name.
    Name,
    /// By last event timestamp, then name.
    LastEventTime,
}

/// Where a page of streams starts: just past this (sort value, name).
#[derive(Debug, Clone)]
pub struct StreamCursor {
    /// The last event time of the previous page's last stream (LastEventTime order).
    pub last_event_ts: i64,
    /// The name of the previous page's last stream.
    pub name: String,
}

pub(crate) const GROUP_COLUMNS: &str =
    "id, account_id, region, name, creation_time, retention_days, kms_key_id, log_group_class, deletion_protection, stored_bytes, data_key";

impl Store {
    /// Creates a log group with a fresh data key; `AlreadyExists` if the name is taken.
    pub async fn create_log_group(&self, g: &NewLogGroup) -> Result<LogGroup, StoreError> {
        let (_, wrapped) = self.master.new_data_key();
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO log_groups (account_id, region, name, creation_time, kms_key_id, log_group_class, deletion_protection, data_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&g.account_id)
        .bind(&g.region)
        .bind(&g.name)
        .bind(g.creation_time)
        .bind(&g.kms_key_id)
        .bind(&g.log_group_class)
        .bind(g.deletion_protection)
        .bind(&wrapped)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::AlreadyExists);
        }
        let id = inserted.last_insert_rowid();
        for (k, v) in &g.tags {
            sqlx::query("INSERT INTO log_group_tags (group_id, key, value) VALUES (?, ?, ?)")
                .bind(id)
                .bind(k)
                .bind(v)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.log_group(&g.account_id, &g.region, &g.name).await?.ok_or(StoreError::NotFound)
    }

    /// The log group of that name, if it exists.
    pub async fn log_group(&self, account_id: &str, region: &str, name: &str) -> Result<Option<LogGroup>, StoreError> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM log_groups WHERE account_id = ? AND region = ? AND name = ?");
        Ok(sqlx::query_as(&sql).bind(account_id).bind(region).bind(name).fetch_optional(&self.db).await?)
    }

    /// Log groups in name order after `q.after`, filtered by prefix or case-sensitive substring.
    pub async fn list_log_groups(&self, account_id: &str, region: &str, q: &GroupQuery<'_>) -> Result<Vec<LogGroup>, StoreError> {
        let GroupQuery { prefix, pattern, class, after, limit } = *q;
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM log_groups WHERE account_id = ? AND region = ? AND substr(name, 1, length(?)) = ? AND instr(name, ?) > 0 AND (? IS NULL OR log_group_class = ?) AND name > ? ORDER BY name LIMIT ?"
        );
        let prefix = prefix.unwrap_or("");
        Ok(sqlx::query_as(&sql)
            .bind(account_id)
            .bind(region)
            .bind(prefix)
            .bind(prefix)
            .bind(pattern.unwrap_or(""))
            .bind(class)
            .bind(class)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.db)
            .await?)
    }

    /// Deletes a log group, its streams, tags and the index of its events. The bytes go
    /// with the data key at once (they can no longer be decrypted) and from the object
    /// store when maintenance removes the dead segments.
    pub async fn delete_log_group(&self, group: &LogGroup) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM blocks WHERE group_id = ?").bind(group.id).execute(&mut *tx).await?;
        let deleted = sqlx::query("DELETE FROM log_groups WHERE id = ?").bind(group.id).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        crate::maintenance::mark_dead_segments(&mut tx, crate::maintenance::now_millis()).await?;
        tx.commit().await?;
        self.forget_group_key(group.id);
        Ok(())
    }

    /// Sets or clears a group's retention.
    pub async fn set_retention(&self, group_id: i64, days: Option<i32>) -> Result<(), StoreError> {
        sqlx::query("UPDATE log_groups SET retention_days = ? WHERE id = ?").bind(days).bind(group_id).execute(&self.db).await?;
        Ok(())
    }

    /// A group's tags.
    pub async fn tags(&self, group_id: i64) -> Result<BTreeMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM log_group_tags WHERE group_id = ? ORDER BY key")
            .bind(group_id)
            .fetch_all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Adds or overwrites tags.
    pub async fn put_tags(&self, group_id: i64, tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for (k, v) in tags {
            sqlx::query("INSERT INTO log_group_tags (group_id, key, value) VALUES (?, ?, ?) ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value")
                .bind(group_id)
                .bind(k)
                .bind(v)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes tags by key; absent keys are ignored.
    pub async fn remove_tags(&self, group_id: i64, keys: &[String]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for k in keys {
            sqlx::query("DELETE FROM log_group_tags WHERE group_id = ? AND key = ?").bind(group_id).bind(k).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates a stream; `AlreadyExists` if the name is taken in the group.
    pub async fn create_log_stream(&self, group_id: i64, name: &str, now: i64) -> Result<(), StoreError> {
        let r = sqlx::query("INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(group_id)
            .bind(name)
            .bind(now)
            .execute(&self.db)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::AlreadyExists);
        }
        Ok(())
    }

    /// The stream of that name in the group, if it exists.
    pub async fn log_stream(&self, group_id: i64, name: &str) -> Result<Option<LogStream>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM log_streams WHERE group_id = ? AND name = ?")
            .bind(group_id)
            .bind(name)
            .fetch_optional(&self.db)
            .await?)
    }

    /// All streams of a group whose names are in `names` or start with `prefix`.
    pub async fn streams_matching(
        &self,
        group_id: i64,
        names: Option<&[String]>,
        prefix: Option<&str>,
    ) -> Result<Vec<LogStream>, StoreError> {
        let all: Vec<LogStream> = sqlx::query_as("SELECT * FROM log_streams WHERE group_id = ? AND substr(name, 1, length(?)) = ?")
            .bind(group_id)
            .bind(prefix.unwrap_or(""))
            .bind(prefix.unwrap_or(""))
            .fetch_all(&self.db)
            .await?;
        Ok(match names {
            Some(names) => all.into_iter().filter(|s| names.contains(&s.name)).collect(),
            None => all,
        })
    }

    /// A page of a group's streams in the requested order.
    pub async fn list_log_streams(
        &self,
        group_id: i64,
        prefix: Option<&str>,
        order: StreamOrder,
        descending: bool,
        after: Option<&StreamCursor>,
        limit: i64,
    ) -> Result<Vec<LogStream>, StoreError> {
        let (cmp, dir) = if descending { ("<", "DESC") } else { (">", "ASC") };
        let sql = match order {
            StreamOrder::Name => format!(
                "SELECT * FROM log_streams WHERE group_id = ? AND substr(name, 1, length(?)) = ? AND (? IS NULL OR name {cmp} ?) ORDER BY name {dir} LIMIT ?"
            ),
            StreamOrder::LastEventTime => format!(
                "SELECT * FROM log_streams WHERE group_id = ? AND substr(name, 1, length(?)) = ? AND (? IS NULL OR (COALESCE(last_event_ts, 0), name) {cmp} (?, ?)) ORDER BY COALESCE(last_event_ts, 0) {dir}, name {dir} LIMIT ?"
            ),
        };
        let prefix = prefix.unwrap_or("");
        let mut q = sqlx::query_as(&sql).bind(group_id).bind(prefix).bind(prefix).bind(after.map(|c| c.name.clone()));
        if order == StreamOrder::LastEventTime {
            q = q.bind(after.map(|c| c.last_event_ts));
        }
        Ok(q.bind(after.map(|c| c.name.clone())).bind(limit).fetch_all(&self.db).await?)
    }

    /// Deletes a stream and the index of its events; its bytes leave with compaction.
    pub async fn delete_log_stream(&self, stream: &LogStream) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let stored: Option<i64> =
            sqlx::query_scalar("SELECT SUM(stored_bytes) FROM blocks WHERE stream_id = ?").bind(stream.id).fetch_one(&mut *tx).await?;
        sqlx::query("DELETE FROM blocks WHERE stream_id = ?").bind(stream.id).execute(&mut *tx).await?;
        let deleted = sqlx::query("DELETE FROM log_streams WHERE id = ?").bind(stream.id).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE log_groups SET stored_bytes = stored_bytes - ? WHERE id = ?")
            .bind(stored.unwrap_or(0))
            .bind(stream.group_id)
            .execute(&mut *tx)
            .await?;
        crate::maintenance::mark_dead_segments(&mut tx, crate::maintenance::now_millis()).await?;
        tx.commit().await?;
        Ok(())
    }
}
