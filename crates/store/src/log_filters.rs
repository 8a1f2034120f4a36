//! The catalog side of metric filters, subscription filters and saved Insights queries,
//! and the two ways the logs crate reads events besides `scan`: ingest blocks in ingest
//! order after a cursor (what filters have not yet applied), and every block of a time
//! range in any order (what an Insights query reads).

use std::sync::Arc;

use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;

use crate::codec::Rows;
use crate::scan::{BlockRef, decode_unit};
use crate::{LogGroup, Store, StoreError};

/// Which kind of filter a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// A metric filter (PutMetricFilter).
    Metric,
    /// A subscription filter (PutSubscriptionFilter).
    Subscription,
}

impl FilterKind {
    fn table(self) -> &'static str {
        match self {
            FilterKind::Metric => "metric_filters",
            FilterKind::Subscription => "subscription_filters",
        }
    }
}

/// One filter as stored: its group, name, the logs crate's document, and its cursor.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogFilterRecord {
    /// The log group's internal ID.
    pub group_id: i64,
    /// The log group's account.
    pub account_id: String,
    /// The log group's region.
    pub region: String,
    /// The log group's name.
    pub group_name: String,
    /// The filter name.
    pub name: String,
    /// The filter's document (JSON the logs crate owns the shape of).
    pub body: String,
    /// Seq of the last ingested event the filter has been applied to.
    pub cursor: i64,
}

/// One saved Insights query (PutQueryDefinition).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueryDefinitionRecord {
    /// The query definition ID.
    pub id: String,
    /// Its name (may contain `/` folders).
    pub name: String,
    /// The logs crate's document.
    pub body: String,
}

/// One block of a log group's events, as an Insights query reads it.
#[derive(Debug, Clone)]
pub struct EventBlock {
    inner: BlockRef,
}

impl EventBlock {
    /// The stream whose events the block holds.
    pub fn stream_id(&self) -> i64 {
        self.inner.stream_id
    }

    /// Message bytes in the block.
    pub fn raw_bytes(&self) -> i64 {
        self.inner.raw_bytes
    }
}

/// Ingest blocks a filter consumer reads per round at most.
const MAX_BLOCKS_PER_READ: i64 = 256;

impl Store {
    /// Creates or replaces a filter. A new filter starts at the group's current end, so
    /// it applies to events ingested from now on; a replaced one keeps its cursor.
    /// Returns false, changing nothing, when the group already has `limit` other filters.
    pub async fn put_log_filter(&self, kind: FilterKind, group_id: i64, name: &str, body: &str, limit: i64) -> Result<bool, StoreError> {
        let table = kind.table();
        let mut tx = self.write_tx().await?;
        let others: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE group_id = $1 AND name != $2"))
            .bind(group_id)
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        if others >= limit {
            return Ok(false);
        }
        // Commits are serialized and segment IDs grow, so no event committed after this
        // transaction can have a seq at or below the newest segment's last possible row.
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM segments").fetch_one(&mut *tx).await?;
        let cursor = ((head + 1) << crate::ingest::SEQ_ROW_BITS) - 1;
        let sql = format!(
            "INSERT INTO {table} (group_id, name, body, cursor) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (group_id, name) DO UPDATE SET body = excluded.body"
        );
        sqlx::query(&sql).bind(group_id).bind(name).bind(body).bind(cursor).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The filters of one group, or of every group when `group_id` is `None`, by group and name.
    pub async fn log_filters(&self, kind: FilterKind, group_id: Option<i64>) -> Result<Vec<LogFilterRecord>, StoreError> {
        let sql = format!(
            "SELECT f.group_id, g.account_id, g.region, g.name AS group_name, f.name, f.body, f.cursor FROM {} f JOIN log_groups g ON g.id = f.group_id \
             WHERE ($1 IS NULL OR f.group_id = $2) ORDER BY g.name, f.name",
            kind.table()
        );
        Ok(sqlx::query_as(&sql).bind(group_id).bind(group_id).fetch_all(&self.db).await?)
    }

    /// The filters of an account and region, by group and name.
    pub async fn log_filters_in(&self, kind: FilterKind, account_id: &str, region: &str) -> Result<Vec<LogFilterRecord>, StoreError> {
        let sql = format!(
            "SELECT f.group_id, g.account_id, g.region, g.name AS group_name, f.name, f.body, f.cursor FROM {} f JOIN log_groups g ON g.id = f.group_id \
             WHERE g.account_id = $1 AND g.region = $2 ORDER BY g.name, f.name",
            kind.table()
        );
        Ok(sqlx::query_as(&sql).bind(account_id).bind(region).fetch_all(&self.db).await?)
    }

    /// Deletes a filter; false when it does not exist.
    pub async fn delete_log_filter(&self, kind: FilterKind, group_id: i64, name: &str) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM {} WHERE group_id = $1 AND name = $2", kind.table());
        let done = sqlx::query(&sql).bind(group_id).bind(name).execute(&self.db).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records that a filter has applied every event up to `cursor`. A filter deleted
    /// or replaced meanwhile is left as it is.
    pub async fn advance_log_filter(&self, kind: FilterKind, group_id: i64, name: &str, body: &str, cursor: i64) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {} SET cursor = CASE WHEN cursor < $1 THEN $1 ELSE cursor END WHERE group_id = $2 AND name = $3 AND body = $4",
            kind.table()
        );
        sqlx::query(&sql).bind(cursor).bind(group_id).bind(name).bind(body).execute(&self.db).await?;
        Ok(())
    }

    /// Number of filters of a kind on a group (DescribeLogGroups' metricFilterCount).
    pub async fn log_filter_count(&self, kind: FilterKind, group_id: i64) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE group_id = $1", kind.table());
        Ok(sqlx::query_scalar(&sql).bind(group_id).fetch_one(&self.db).await?)
    }

    /// Ingest blocks of a group holding events after `after_seq`, decoded, in ingest
    /// order; at most a bounded number per call, so callers loop.
    pub async fn ingested_after(&self, group: &LogGroup, after_seq: i64) -> Result<Vec<Rows>, StoreError> {
        // An ingest block's rows are seq_base .. seq_base + row_count - 1.
        let sql = "SELECT b.segment_id, s.key, b.stream_id, b.kind, b.byte_offset, b.byte_length, b.row_start, b.row_count, b.seq_base, b.min_ts, b.max_ts, b.raw_bytes \
                   FROM blocks b JOIN segments s ON s.id = b.segment_id WHERE b.group_id = $1 AND b.kind = 0 AND b.seq_base + b.row_count - 1 > $2 \
                   ORDER BY b.seq_base LIMIT $3";
        let blocks: Vec<BlockRef> =
            sqlx::query_as(sql).bind(group.id).bind(after_seq).bind(MAX_BLOCKS_PER_READ).fetch_all(&self.db).await?;
        let mut out = Vec::with_capacity(blocks.len());
        for block in &blocks {
            out.push(self.read_unit(group, block).await?);
        }
        Ok(out)
    }

    /// Wakes when the next ingest commit lands (or at once if one landed since the
    /// returned future was first polled).
    pub fn ingest_committed(&self) -> tokio::sync::futures::Notified<'_> {
        self.ingested.notified()
    }

    /// Every block of a group that may hold events in `[start_ts, end_ts]`, in no
    /// particular order: what an Insights query reads.
    pub async fn blocks_in_range(&self, group: &LogGroup, start_ts: i64, end_ts: i64) -> Result<Vec<EventBlock>, StoreError> {
        let sql = "SELECT b.segment_id, s.key, b.stream_id, b.kind, b.byte_offset, b.byte_length, b.row_start, b.row_count, b.seq_base, b.min_ts, b.max_ts, b.raw_bytes \
                   FROM blocks b JOIN segments s ON s.id = b.segment_id WHERE b.group_id = $1 AND b.max_ts >= $2 AND b.min_ts <= $3 ORDER BY b.min_ts";
        let blocks: Vec<BlockRef> = sqlx::query_as(sql).bind(group.id).bind(start_ts).bind(end_ts).fetch_all(&self.db).await?;
        Ok(blocks.into_iter().map(|inner| EventBlock { inner }).collect())
    }

    /// Reads and decodes one block through the block cache, which is sized for the
    /// recent data that people query again and again while they refine a question.
    pub async fn read_block(&self, group: &LogGroup, block: &EventBlock) -> Result<Arc<Rows>, StoreError> {
        let key = self.group_key(group.id, &group.data_key)?;
        self.load_block(&key, group.id, &block.inner).await
    }

    async fn read_unit(&self, group: &LogGroup, block: &BlockRef) -> Result<Rows, StoreError> {
        let key = self.group_key(group.id, &group.data_key)?;
        let range = block.byte_offset as u64..(block.byte_offset + block.byte_length) as u64;
        let sealed = self.objects.get_range(&ObjectPath::from(block.key.as_str()), range).await?;
        let (group_id, b) = (group.id, block.clone());
        tokio::task::spawn_blocking(move || decode_unit(&key, group_id, &b, &sealed))
            .await
            .map_err(|e| StoreError::Corrupt(format!("decode task: {e}")))?
    }

    /// The names of a group's streams by ID (rows carry stream IDs).
    pub async fn stream_names(&self, group_id: i64) -> Result<std::collections::HashMap<i64, String>, StoreError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM log_streams WHERE group_id = $1").bind(group_id).fetch_all(&self.db).await?;
        Ok(rows.into_iter().collect())
    }

    /// The log group with that internal ID, if it still exists.
    pub async fn log_group_by_id(&self, group_id: i64) -> Result<Option<LogGroup>, StoreError> {
        let sql = format!("SELECT {} FROM log_groups WHERE id = $1", crate::catalog::GROUP_COLUMNS);
        Ok(sqlx::query_as(&sql).bind(group_id).fetch_optional(&self.db).await?)
    }

    /// Saved queries of an account and region, by name.
    pub async fn query_definitions(&self, account_id: &str, region: &str) -> Result<Vec<QueryDefinitionRecord>, StoreError> {
        Ok(sqlx::query_as("SELECT id, name, body FROM query_definitions WHERE account_id = $1 AND region = $2 ORDER BY name, id")
            .bind(account_id)
            .bind(region)
            .fetch_all(&self.db)
            .await?)
    }

    /// Creates or replaces a saved query.
    pub async fn put_query_definition(&self, account_id: &str, region: &str, rec: &QueryDefinitionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO query_definitions (account_id, region, id, name, body) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (account_id, region, id) DO UPDATE SET name = excluded.name, body = excluded.body",
        )
        .bind(account_id)
        .bind(region)
        .bind(&rec.id)
        .bind(&rec.name)
        .bind(&rec.body)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Deletes a saved query; false when it does not exist.
    pub async fn delete_query_definition(&self, account_id: &str, region: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM query_definitions WHERE account_id = $1 AND region = $2 AND id = $3")
            .bind(account_id)
            .bind(region)
            .bind(id)
            .execute(&self.db)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Keeps compaction off ingest blocks some filter of their group has not applied yet:
/// a SQL condition on `b` (a blocks row) for compaction's queries.
pub(crate) const NOT_HELD_BY_FILTERS: &str = "NOT (b.kind = 0 AND b.seq_base + b.row_count - 1 > COALESCE((SELECT MIN(c) FROM \
     (SELECT cursor AS c FROM metric_filters WHERE group_id = b.group_id UNION ALL SELECT cursor FROM subscription_filters WHERE group_id = b.group_id) AS cursors), \
     9223372036854775807))";
