//! IAM entities in the catalog: stored as documents, changed in atomic change sets.

use crate::{Store, StoreError};

/// One stored IAM entity.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IamRecord {
    /// `user`, `group`, `role`, `policy` or `access-key`.
    pub kind: String,
    /// The entity's key within its kind (lowercased name, policy ARN, access key ID).
    pub key: String,
    /// The entity as JSON, owned by the iam crate.
    pub body: String,
}

/// One change of an IAM change set.
#[derive(Debug, Clone)]
pub enum IamWrite {
    /// Creates or replaces the entity.
    Put(IamRecord),
    /// Removes the entity if present.
    Delete {
        /// The entity's kind.
        kind: String,
        /// The entity's key.
        key: String,
    },
}

impl Store {
    /// Every IAM entity of the account.
    pub async fn load_iam(&self, account_id: &str) -> Result<Vec<IamRecord>, StoreError> {
        let rows = sqlx::query_as::<_, IamRecord>("SELECT kind, key, body FROM iam_entities WHERE account_id = $1 ORDER BY kind, key")
            .bind(account_id)
            .fetch_all(&self.db)
            .await?;
        Ok(rows)
    }

    /// Applies a change set in one transaction: all of it becomes durable, or none.
    pub async fn write_iam(&self, account_id: &str, writes: &[IamWrite]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for write in writes {
            match write {
                IamWrite::Put(r) => {
                    sqlx::query(
                        "INSERT INTO iam_entities (account_id, kind, key, body) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (account_id, kind, key) DO UPDATE SET body = excluded.body",
                    )
                    .bind(account_id)
                    .bind(&r.kind)
                    .bind(&r.key)
                    .bind(&r.body)
                    .execute(&mut *tx)
                    .await?;
                }
                IamWrite::Delete { kind, key } => {
                    sqlx::query("DELETE FROM iam_entities WHERE account_id = $1 AND kind = $2 AND key = $3")
                        .bind(account_id)
                        .bind(kind)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
