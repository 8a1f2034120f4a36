//! The catalog of the RDS control plane: resource documents, events, and the sealed
//! snapshot dumps kept in the object store.

use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::{Store, StoreError};

/// One RDS event as stored: when, about what, and the event document.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RdsEvent {
    pub at_millis: i64,
    pub source_type: String,
    pub source_id: String,
    pub body: String,
}

/// How long RDS events are kept (RDS keeps 14 days).
const EVENT_RETENTION_MS: i64 = 14 * 24 * 3600 * 1000;

impl Store {
    /// Every document of a kind in an account and region, ordered by name.
    pub async fn rds_list(&self, account_id: &str, region: &str, kind: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT body FROM rds_resources WHERE account_id = $1 AND region = $2 AND kind = $3 ORDER BY name")
                .bind(account_id)
                .bind(region)
                .bind(kind)
                .fetch_all(&self.db)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Every document of a kind in every account and region: what the supervisor works through.
    pub async fn rds_list_all(&self, kind: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT body FROM rds_resources WHERE kind = $1 ORDER BY account_id, region, name")
            .bind(kind)
            .fetch_all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// One document, if it exists.
    pub async fn rds_get(&self, account_id: &str, region: &str, kind: &str, name: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM rds_resources WHERE account_id = $1 AND region = $2 AND kind = $3 AND name = $4")
                .bind(account_id)
                .bind(region)
                .bind(kind)
                .bind(name)
                .fetch_optional(&self.db)
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// Creates a document; false when one of that name exists already.
    pub async fn rds_insert(&self, account_id: &str, region: &str, kind: &str, name: &str, body: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO rds_resources (account_id, region, kind, name, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(account_id)
        .bind(region)
        .bind(kind)
        .bind(name)
        .bind(body)
        .execute(&self.db)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces a document; false when it no longer exists.
    pub async fn rds_update(&self, account_id: &str, region: &str, kind: &str, name: &str, body: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE rds_resources SET body = $1 WHERE account_id = $2 AND region = $3 AND kind = $4 AND name = $5")
            .bind(body)
            .bind(account_id)
            .bind(region)
            .bind(kind)
            .bind(name)
            .execute(&self.db)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a document; false when there was none.
    pub async fn rds_delete(&self, account_id: &str, region: &str, kind: &str, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM rds_resources WHERE account_id = $1 AND region = $2 AND kind = $3 AND name = $4")
            .bind(account_id)
            .bind(region)
            .bind(kind)
            .bind(name)
            .execute(&self.db)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records an event, and forgets events past RDS's 14 days.
    pub async fn rds_add_event(&self, account_id: &str, region: &str, event: &RdsEvent) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO rds_events (account_id, region, at_millis, source_type, source_id, body) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(account_id)
            .bind(region)
            .bind(event.at_millis)
            .bind(&event.source_type)
            .bind(&event.source_id)
            .bind(&event.body)
            .execute(&self.db)
            .await?;
        sqlx::query("DELETE FROM rds_events WHERE at_millis < $1").bind(event.at_millis - EVENT_RETENTION_MS).execute(&self.db).await?;
        Ok(())
    }

    /// Events in `[start, end]`, oldest first.
    pub async fn rds_events(&self, account_id: &str, region: &str, start: i64, end: i64) -> Result<Vec<RdsEvent>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT at_millis, source_type, source_id, body FROM rds_events \
             WHERE account_id = $1 AND region = $2 AND at_millis >= $3 AND at_millis <= $4 ORDER BY at_millis, id",
        )
        .bind(account_id)
        .bind(region)
        .bind(start)
        .bind(end)
        .fetch_all(&self.db)
        .await?)
    }

    /// Keeps a snapshot dump, sealed under the master key, durably in the object store.
    pub async fn rds_put_snapshot(&self, object_key: &str, dump: &[u8]) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO rds_snapshot_objects (object_key) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(object_key)
            .execute(&self.db)
            .await?;
        let sealed = self.master.seal(dump, object_key.as_bytes());
        self.objects.put(&ObjectPath::from(object_key), PutPayload::from(Bytes::from(sealed))).await?;
        Ok(())
    }

    /// A snapshot dump, opened.
    pub async fn rds_get_snapshot(&self, object_key: &str) -> Result<Vec<u8>, StoreError> {
        let sealed = self.objects.get(&ObjectPath::from(object_key)).await?.bytes().await?;
        self.master.open(&sealed, object_key.as_bytes())
    }

    /// Deletes a snapshot dump.
    pub async fn rds_delete_snapshot(&self, object_key: &str) -> Result<(), StoreError> {
        match self.objects.delete(&ObjectPath::from(object_key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        sqlx::query("DELETE FROM rds_snapshot_objects WHERE object_key = $1").bind(object_key).execute(&self.db).await?;
        Ok(())
    }
}
