//! The catalog: log groups, streams and tags in SQL, the same schema for SQLite and
//! (in cluster mode) PostgreSQL.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Executor, FromRow};

use crate::{Db, Store, StoreError};

/// Which database the catalog lives in. The schema and every statement are the same;
/// migrations are kept per database and only write transactions lock differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file: the embedded default.
    Sqlite,
    /// A PostgreSQL database shared by every node: cluster mode.
    Postgres,
}

/// The advisory lock key every node's write transactions take in PostgreSQL
/// (`trlw` in ASCII).
pub(crate) const WRITE_LOCK: i64 = 0x7472_6c77;

/// The URL of a SQLite catalog file, created when missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Opens the catalog at `url` (`sqlite://…` or `postgres://…`), applies its
/// migrations, and says which database it is.
pub async fn open(url: &str) -> Result<(Db, Backend), StoreError> {
    sqlx::any::install_default_drivers();
    let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Backend::Postgres
    } else if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        return Err(StoreError::Corrupt(format!("the catalog URL must start with postgres:// or sqlite://, got {}", redact(url))));
    };
    let pool = match backend {
        // FULL: a committed transaction survives power loss, which acknowledgement promises.
        Backend::Sqlite => AnyPoolOptions::new().max_connections(8).after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON")
                    .await?;
                Ok(())
            })
        }),
        // Requests and the background jobs share the pool; writers queue on the
        // catalog's lock, not on connections.
        Backend::Postgres => AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)),
    };
    let pool = pool.connect(url).await?;
    let migrated = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await,
    };
    migrated.map_err(|e| StoreError::Corrupt(format!("migration: {e}")))?;
    Ok((pool, backend))
}

/// A catalog URL fit for logs: the password replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:****{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Reads a 0/1 integer column as a boolean: the catalog keeps flags as integers so that
/// SQLite and PostgreSQL read back the same type.
#[derive(Debug, Clone, Copy)]
pub struct Flag(pub bool);

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as sqlx::Type<sqlx::Any>>::type_info()
    }
    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<sqlx::Any>>::compatible(ty) || <bool as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        if let Ok(b) = <bool as sqlx::Decode<sqlx::Any>>::decode(value.clone()) {
            return Ok(Flag(b));
        }
        Ok(Flag(<i64 as sqlx::Decode<sqlx::Any>>::decode(value)? != 0))
    }
}

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0
    }
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
    #[sqlx(try_from = "Flag")]
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
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO log_groups (account_id, region, name, creation_time, kms_key_id, log_group_class, deletion_protection, data_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&g.account_id)
        .bind(&g.region)
        .bind(&g.name)
        .bind(g.creation_time)
        .bind(&g.kms_key_id)
        .bind(&g.log_group_class)
        .bind(i64::from(g.deletion_protection))
        .bind(&wrapped)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = inserted else {
            return Err(StoreError::AlreadyExists);
        };
        for (k, v) in &g.tags {
            sqlx::query("INSERT INTO log_group_tags (group_id, key, value) VALUES ($1, $2, $3)")
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
        let sql = format!("SELECT {GROUP_COLUMNS} FROM log_groups WHERE account_id = $1 AND region = $2 AND name = $3");
        Ok(sqlx::query_as(&sql).bind(account_id).bind(region).bind(name).fetch_optional(&self.db).await?)
    }

    /// Log groups in name order after `q.after`, filtered by prefix or case-sensitive substring.
    pub async fn list_log_groups(&self, account_id: &str, region: &str, q: &GroupQuery<'_>) -> Result<Vec<LogGroup>, StoreError> {
        let GroupQuery { prefix, pattern, class, after, limit } = *q;
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM log_groups WHERE account_id = $1 AND region = $2 AND substr(name, 1, length($3)) = $4 AND instr(name, $5) > 0 AND ($6 IS NULL OR log_group_class = $7) AND name > $8 ORDER BY name LIMIT $9"
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
        sqlx::query("DELETE FROM blocks WHERE group_id = $1").bind(group.id).execute(&mut *tx).await?;
        let deleted = sqlx::query("DELETE FROM log_groups WHERE id = $1").bind(group.id).execute(&mut *tx).await?;
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
        sqlx::query("UPDATE log_groups SET retention_days = $1 WHERE id = $2").bind(days).bind(group_id).execute(&self.db).await?;
        Ok(())
    }

    /// A group's tags.
    pub async fn tags(&self, group_id: i64) -> Result<BTreeMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM log_group_tags WHERE group_id = $1 ORDER BY key")
            .bind(group_id)
            .fetch_all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Adds or overwrites tags.
    pub async fn put_tags(&self, group_id: i64, tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for (k, v) in tags {
            sqlx::query("INSERT INTO log_group_tags (group_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value")
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
            sqlx::query("DELETE FROM log_group_tags WHERE group_id = $1 AND key = $2").bind(group_id).bind(k).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates a stream; `AlreadyExists` if the name is taken in the group.
    pub async fn create_log_stream(&self, group_id: i64, name: &str, now: i64) -> Result<(), StoreError> {
        let r = sqlx::query("INSERT INTO log_streams (group_id, name, creation_time) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
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
        Ok(sqlx::query_as("SELECT * FROM log_streams WHERE group_id = $1 AND name = $2")
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
        let all: Vec<LogStream> = sqlx::query_as("SELECT * FROM log_streams WHERE group_id = $1 AND substr(name, 1, length($2)) = $3")
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
                "SELECT * FROM log_streams WHERE group_id = $1 AND substr(name, 1, length($2)) = $3 AND ($4 IS NULL OR name {cmp} $5) ORDER BY name {dir} LIMIT $6"
            ),
            StreamOrder::LastEventTime => format!(
                "SELECT * FROM log_streams WHERE group_id = $1 AND substr(name, 1, length($2)) = $3 AND ($4 IS NULL OR (COALESCE(last_event_ts, 0), name) {cmp} ($5, $6)) ORDER BY COALESCE(last_event_ts, 0) {dir}, name {dir} LIMIT $7"
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
        let stored: Option<i64> = sqlx::query_scalar("SELECT CAST(SUM(stored_bytes) AS BIGINT) FROM blocks WHERE stream_id = $1")
            .bind(stream.id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM blocks WHERE stream_id = $1").bind(stream.id).execute(&mut *tx).await?;
        let deleted = sqlx::query("DELETE FROM log_streams WHERE id = $1").bind(stream.id).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE log_groups SET stored_bytes = stored_bytes - $1 WHERE id = $2")
            .bind(stored.unwrap_or(0))
            .bind(stream.group_id)
            .execute(&mut *tx)
            .await?;
        crate::maintenance::mark_dead_segments(&mut tx, crate::maintenance::now_millis()).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// A deployment-wide setting, shared by every node of a cluster.
    pub async fn deployment_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM deployment WHERE key = $1").bind(key).fetch_optional(&self.db).await?)
    }

    /// Sets a deployment-wide setting unless one is there already; returns the value
    /// that holds afterwards (the first node to start wins).
    pub async fn init_deployment_setting(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO deployment (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        let held: String = sqlx::query_scalar("SELECT value FROM deployment WHERE key = $1").bind(key).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Replaces a deployment-wide setting.
    pub async fn set_deployment_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO deployment (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.db)
            .await?;
        Ok(())
    }
}
