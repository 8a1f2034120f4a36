//! The RSA keys that sign CloudTrail digests: public halves in clear, private halves
//! sealed under the master key by the trail crate before they get here.

use crate::{Store, StoreError};

/// One stored digest signing key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TrailKeyRecord {
    /// 32 hex characters: md5 of the DER PKCS#1 public key.
    pub fingerprint: String,
    /// When the key started signing, epoch ms.
    pub valid_from: i64,
    /// When the key stopped signing, epoch ms; `None` while it is current.
    pub valid_to: Option<i64>,
    /// The DER PKCS#1 RSAPublicKey.
    pub public_der: Vec<u8>,
    /// The private key as sealed by [`Store::seal_secret`]; never the clear key.
    pub private_sealed: Vec<u8>,
}

impl Store {
    /// Every digest signing key, oldest first.
    pub async fn load_trail_keys(&self) -> Result<Vec<TrailKeyRecord>, StoreError> {
        let rows = sqlx::query_as::<_, TrailKeyRecord>(
            "SELECT fingerprint, valid_from, valid_to, public_der, private_sealed FROM trail_keys ORDER BY valid_from, fingerprint",
        )
        .fetch_all(&self.db)
        .await?;
        Ok(rows)
    }

    /// Stores a new signing key; fails with `AlreadyExists` when its fingerprint is taken.
    pub async fn insert_trail_key(&self, key: &TrailKeyRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO trail_keys (fingerprint, valid_from, valid_to, public_der, private_sealed) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(&key.fingerprint)
        .bind(key.valid_from)
        .bind(key.valid_to)
        .bind(&key.public_der)
        .bind(&key.private_sealed)
        .execute(&self.db)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::AlreadyExists);
        }
        Ok(())
    }

    /// Ends a key's validity at `valid_to` (epoch ms); fails with `NotFound` for an unknown fingerprint.
    pub async fn set_trail_key_valid_to(&self, fingerprint: &str, valid_to: i64) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE trail_keys SET valid_to = $1 WHERE fingerprint = $2")
            .bind(valid_to)
            .bind(fingerprint)
            .execute(&self.db)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreConfig;

    fn record(fingerprint: &str, valid_from: i64) -> TrailKeyRecord {
        TrailKeyRecord {
            fingerprint: fingerprint.into(),
            valid_from,
            valid_to: None,
            public_der: vec![0x30, 1, 2],
            private_sealed: vec![9; 40],
        }
    }

    #[tokio::test]
    async fn insert_load_and_end_keys() {
        let dir = std::env::temp_dir().join(format!("trailwatch-trail-keys-{}-{}", std::process::id(), crypto_suffix()));
        let store = Store::open(StoreConfig::new(&dir)).await.unwrap();
        assert!(store.load_trail_keys().await.unwrap().is_empty());

        store.insert_trail_key(&record("bb", 2_000)).await.unwrap();
        store.insert_trail_key(&record("aa", 1_000)).await.unwrap();
        assert!(matches!(store.insert_trail_key(&record("aa", 5)).await, Err(StoreError::AlreadyExists)));

        store.set_trail_key_valid_to("aa", 2_000).await.unwrap();
        assert!(matches!(store.set_trail_key_valid_to("zz", 1).await, Err(StoreError::NotFound)));

        let keys = store.load_trail_keys().await.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], TrailKeyRecord { valid_to: Some(2_000), ..record("aa", 1_000) });
        assert_eq!(keys[1], record("bb", 2_000));
        store.shutdown().await;
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn crypto_suffix() -> String {
        hex::encode(crate::crypto::random_array::<4>())
    }
}
