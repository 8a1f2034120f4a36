//! User metadata of objects in the local buckets (`x-amz-meta-*`), which a plain
//! directory cannot hold: digest files carry their signature this way.

use std::collections::BTreeMap;

use crate::{Store, StoreError};

impl Store {
    /// Records the user metadata of a local bucket's object, replacing any before.
    pub async fn put_object_metadata(&self, bucket: &str, key: &str, metadata: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let json = serde_json::to_string(metadata).expect("string maps serialize");
        sqlx::query(
            "INSERT INTO bucket_object_metadata (bucket, key, metadata) VALUES (?, ?, ?) \
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
        let row: Option<(String,)> = sqlx::query_as("SELECT metadata FROM bucket_object_metadata WHERE bucket = ? AND key = ?")
            .bind(bucket)
            .bind(key)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.and_then(|(json,)| serde_json::from_str(&json).ok()).unwrap_or_default())
    }
}
