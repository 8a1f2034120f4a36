//! Logs Insights queries in the catalog, so a query started on one node is answered by
//! every node: its state while it runs, its results for a day after.
//!
//! The node running a query holds the lease [`query_lease`] while it runs. A query
//! still `Running` whose lease has expired lost its node (a crash, or a restart of the
//! embedded server) and is settled as `Failed` by whichever node looks next.

use crate::{Store, StoreError};

/// One Insights query as every node sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InsightsQueryRecord {
    /// The query ID StartQuery returned.
    pub query_id: String,
    /// The account that started it.
    pub account_id: String,
    /// The region it was started in.
    pub region: String,
    /// The logs crate's description of the query (DescribeQueries' QueryInfo, less its status).
    pub info: String,
    /// Running, Complete, Failed, Cancelled or Timeout.
    pub status: String,
    /// When it was started (epoch ms).
    pub created_ms: i64,
    /// When it ended (epoch ms), once it has.
    pub finished_ms: Option<i64>,
    /// The logs crate's results document, once complete.
    pub output: Option<String>,
}

/// The lease a node holds while it runs query `query_id`.
pub fn query_lease(query_id: &str) -> String {
    format!("{LEASE_PREFIX}{query_id}")
}

const LEASE_PREFIX: &str = "insights/";
const COLUMNS: &str = "query_id, account_id, region, info, status, created_ms, finished_ms, output";

impl Store {
    /// Records a query that has just started (its node already holds [`query_lease`]).
    pub async fn insert_insights_query(&self, rec: &InsightsQueryRecord) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO insights_queries ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        sqlx::query(&sql)
            .bind(&rec.query_id)
            .bind(&rec.account_id)
            .bind(&rec.region)
            .bind(&rec.info)
            .bind(&rec.status)
            .bind(rec.created_ms)
            .bind(rec.finished_ms)
            .bind(&rec.output)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// The query `query_id` of the account and region, if it exists.
    pub async fn insights_query(&self, account_id: &str, region: &str, query_id: &str) -> Result<Option<InsightsQueryRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM insights_queries WHERE query_id = $1 AND account_id = $2 AND region = $3");
        Ok(sqlx::query_as(&sql).bind(query_id).bind(account_id).bind(region).fetch_optional(&self.db).await?)
    }

    /// A query's status, whoever started it; `None` once it has been forgotten.
    pub async fn insights_query_status(&self, query_id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT status FROM insights_queries WHERE query_id = $1").bind(query_id).fetch_optional(&self.db).await?)
    }

    /// The account's queries in a region, newest first.
    pub async fn insights_queries(&self, account_id: &str, region: &str) -> Result<Vec<InsightsQueryRecord>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM insights_queries WHERE account_id = $1 AND region = $2 ORDER BY created_ms DESC, query_id");
        Ok(sqlx::query_as(&sql).bind(account_id).bind(region).fetch_all(&self.db).await?)
    }

    /// How many of the account's queries are running, in every region.
    pub async fn running_insights_queries(&self, account_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM insights_queries WHERE account_id = $1 AND status = 'Running'")
            .bind(account_id)
            .fetch_one(&self.db)
            .await?)
    }

    /// Ends a running query with `status` (and its results document): false when it had
    /// already ended, so a query is stopped, timed out or completed exactly once.
    pub async fn finish_insights_query(&self, query_id: &str, status: &str, now_ms: i64, output: Option<&str>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE insights_queries SET status = $1, finished_ms = $2, output = $3 WHERE query_id = $4 AND status = 'Running'",
        )
        .bind(status)
        .bind(now_ms)
        .bind(output)
        .bind(query_id)
        .execute(&self.db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Forgets queries that ended more than `keep_ms` ago, and fails running queries
    /// whose node is gone (their lease expired).
    pub async fn settle_insights_queries(&self, now_ms: i64, keep_ms: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM insights_queries WHERE finished_ms IS NOT NULL AND finished_ms < $1")
            .bind(now_ms - keep_ms)
            .execute(&self.db)
            .await?;
        let orphans = sqlx::query(
            "UPDATE insights_queries SET status = 'Failed', finished_ms = $1 WHERE status = 'Running' AND NOT EXISTS \
             (SELECT 1 FROM leases WHERE leases.job = $2 || insights_queries.query_id AND leases.expires_ms > $1)",
        )
        .bind(now_ms)
        .bind(LEASE_PREFIX)
        .execute(&self.db)
        .await?;
        if orphans.rows_affected() > 0 {
            tracing::warn!(queries = orphans.rows_affected(), "Insights queries whose node is gone were marked Failed");
        }
        Ok(())
    }
}
