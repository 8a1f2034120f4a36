//! What a plain directory cannot hold about the local buckets: the region and creation
//! time of a bucket, and the user metadata of objects (`x-amz-meta-*`), which digest
//! files carry their signature in.

use std::collections::BTreeMap;

use crate::{Store, StoreError};

impl Store {
    /// Records the user metadata of a local bucket's object, replacing any before.
    pub async fn put_object_metadata(&self, bucket: &str, key: &str, metadata: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let json = serde_json::to_string(metadata).expect("string maps serialize");
        sqlx::query(
            "INSERT INTO bucket_object_metadata (bucket, key, metadata) VALUES ($1, $2, $3) \
             ON CONFLICT (bucket, key) DO UPDATE SET metadata = excluded.metadata",
        )
        .bind(bucket)
        .bind(key)
        .bind(json)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// The user metadata of a local bucket's object; empty when none was recorded.
    pub async fn object_metadata(&self, bucket: &str, key: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT metadata FROM bucket_object_metadata WHERE bucket = $1 AND key = $2")
            .bind(bucket)
            .bind(key)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.and_then(|(json,)| serde_json::from_str(&json).ok()).unwrap_or_default())
    }

    /// Records a bucket created through the S3 API, replacing a stale row of the same name.
    pub async fn put_bucket(&self, name: &str, region: &str, created_at_millis: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO buckets (name, region, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET region = excluded.region, created_at = excluded.created_at",
        )
        .bind(name)
        .bind(region)
        .bind(created_at_millis)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Every recorded bucket: name → (region, creation time in epoch ms).
    pub async fn buckets(&self) -> Result<BTreeMap<String, (String, i64)>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as("SELECT name, region, created_at FROM buckets").fetch_all(&self.db).await?;
        Ok(rows.into_iter().map(|(name, region, created)| (name, (region, created))).collect())
    }

    /// The region and creation time (epoch ms) of one recorded bucket.
    pub async fn bucket(&self, name: &str) -> Result<Option<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT region, created_at FROM buckets WHERE name = $1").bind(name).fetch_optional(&self.db).await?)
    }
}
