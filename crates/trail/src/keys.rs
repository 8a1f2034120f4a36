//! The RSA key pairs that sign digest files (SHA256withRSA, 2048 bits).
//!
//! A key is generated at first start; its private half is stored only sealed under the
//! master key (PKCS#1 DER inside [`store::Store::seal_secret`]), its public half in clear
//! for ListPublicKeys. The fingerprint is the md5 of the DER PKCS#1 public key, in hex.

use std::sync::{Arc, RwLock};

use md5::{Digest as _, Md5};
use rsa::pkcs1::der::zeroize::Zeroizing;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs1v15;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use store::{Store, StoreError, TrailKeyRecord};

/// Size of generated keys, as CloudTrail's.
const BITS: usize = 2048;
/// Associated data of a sealed private key; the fingerprint is appended, so a sealed key
/// cannot be moved to another row and still open.
const PURPOSE: &str = "trailwatch/trail-digest-key/v1/";

/// A private key that signs digests, with its public half and fingerprint.
pub struct SigningKey {
    fingerprint: String,
    public_der: Vec<u8>,
    valid_from: i64,
    signer: pkcs1v15::SigningKey<Sha256>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("fingerprint", &self.fingerprint).field("valid_from", &self.valid_from).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh 2048-bit key valid from `valid_from` (epoch ms); slow, call it off the async threads.
    pub fn generate(valid_from: i64) -> SigningKey {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, BITS).expect("RSA key generation succeeds with the OS random source");
        SigningKey::from_private(private, valid_from)
    }

    /// Loads a key from its DER PKCS#1 RSAPrivateKey bytes.
    pub fn from_pkcs1_der(private_der: &[u8], valid_from: i64) -> Result<SigningKey, StoreError> {
        let private =
            RsaPrivateKey::from_pkcs1_der(private_der).map_err(|_| StoreError::Corrupt("a digest signing key does not decode".into()))?;
        Ok(SigningKey::from_private(private, valid_from))
    }

    fn from_private(private: RsaPrivateKey, valid_from: i64) -> SigningKey {
        let public_der = private.to_public_key().to_pkcs1_der().expect("an RSA public key encodes").into_vec();
        SigningKey { fingerprint: fingerprint(&public_der), public_der, valid_from, signer: pkcs1v15::SigningKey::new(private) }
    }

    /// The key's fingerprint: 32 hex characters, md5 of the DER PKCS#1 public key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public key as DER PKCS#1 RSAPublicKey bytes (ListPublicKeys' Value).
    pub fn public_der(&self) -> &[u8] {
        &self.public_der
    }

    /// When the key started signing, epoch ms.
    pub fn valid_from(&self) -> i64 {
        self.valid_from
    }

    /// Signs a message with RSASSA-PKCS1-v1_5 over SHA-256 (Java's SHA256withRSA).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signer.sign(message).to_vec()
    }

    /// The private key as DER PKCS#1, zeroized when dropped; only ever handed to the sealer.
    fn private_der(&self) -> rsa::pkcs1::der::SecretDocument {
        self.signer.as_ref().to_pkcs1_der().expect("an RSA private key encodes")
    }
}

/// The fingerprint of a DER PKCS#1 public key: md5, 32 lowercase hex characters.
pub fn fingerprint(public_der: &[u8]) -> String {
    hex::encode(Md5::digest(public_der))
}

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The public key is not a DER PKCS#1 RSAPublicKey.
    BadKey,
    /// The signature is malformed or does not match the message.
    BadSignature,
}

/// Checks an RSASSA-PKCS1-v1_5 SHA-256 signature with a DER PKCS#1 public key.
pub fn verify(public_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let public = RsaPublicKey::from_pkcs1_der(public_der).map_err(|_| VerifyError::BadKey)?;
    let signature = pkcs1v15::Signature::try_from(signature).map_err(|_| VerifyError::BadSignature)?;
    pkcs1v15::VerifyingKey::<Sha256>::new(public).verify(message, &signature).map_err(|_| VerifyError::BadSignature)
}

/// A public key as ListPublicKeys returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// 32 hex characters (Fingerprint).
    pub fingerprint: String,
    /// DER PKCS#1 RSAPublicKey bytes (Value; the wire carries them base64-encoded).
    pub value: Vec<u8>,
    /// When the key started signing, epoch ms (ValidityStartTime).
    pub validity_start_time: i64,
    /// When the key stopped signing, epoch ms (ValidityEndTime); for the current key, the
    /// end of the requested range.
    pub validity_end_time: i64,
}

/// Every digest signing key: the current one with its private half, all with their public halves.
pub struct SigningKeys {
    inner: RwLock<Inner>,
}

struct Inner {
    current: Arc<SigningKey>,
    all: Vec<TrailKeyRecord>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys").field("current", &self.current().fingerprint).finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Loads the stored keys, generating (and storing, sealed) the first one when there is
    /// no current key; `now` is epoch ms.
    pub async fn load_or_create(store: &Store, now: i64) -> Result<SigningKeys, StoreError> {
        Self::load_or_create_with(store, now, SigningKey::generate).await
    }

    async fn load_or_create_with(
        store: &Store,
        now: i64,
        generate: impl FnOnce(i64) -> SigningKey + Send + 'static,
    ) -> Result<SigningKeys, StoreError> {
        let mut all = store.load_trail_keys().await?;
        if !all.iter().any(|k| k.valid_to.is_none()) {
            let key = generate_off_thread(now, generate).await?;
            insert(store, &key).await?;
            all = store.load_trail_keys().await?;
        }
        let current = open_current(store, &all)?;
        Ok(SigningKeys { inner: RwLock::new(Inner { current, all }) })
    }

    /// The key that signs new digests.
    pub fn current(&self) -> Arc<SigningKey> {
        self.inner.read().expect("signing keys lock").current.clone()
    }

    /// The keys that signed, or may sign, digests between `start` and `end` (epoch ms,
    /// inclusive), oldest first: what ListPublicKeys returns for that range.
    pub fn public_keys(&self, start: i64, end: i64) -> Vec<PublicKey> {
        let inner = self.inner.read().expect("signing keys lock");
        inner
            .all
            .iter()
            .filter(|k| k.valid_from <= end && k.valid_to.is_none_or(|to| to >= start))
            .map(|k| PublicKey {
                fingerprint: k.fingerprint.clone(),
                value: k.public_der.clone(),
                validity_start_time: k.valid_from,
                validity_end_time: k.valid_to.unwrap_or(end.max(k.valid_from)),
            })
            .collect()
    }

    /// Retires the current key at `now` (epoch ms) and makes a freshly generated one current.
    pub async fn rotate(&self, store: &Store, now: i64) -> Result<Arc<SigningKey>, StoreError> {
        self.rotate_with(store, now, SigningKey::generate).await
    }

    async fn rotate_with(
        &self,
        store: &Store,
        now: i64,
        generate: impl FnOnce(i64) -> SigningKey + Send + 'static,
    ) -> Result<Arc<SigningKey>, StoreError> {
        let key = generate_off_thread(now, generate).await?;
        insert(store, &key).await?;
        let old = self.current();
        store.set_trail_key_valid_to(old.fingerprint(), now).await?;
        let all = store.load_trail_keys().await?;
        let current = open_current(store, &all)?;
        *self.inner.write().expect("signing keys lock") = Inner { current: current.clone(), all };
        Ok(current)
    }
}

async fn generate_off_thread(now: i64, generate: impl FnOnce(i64) -> SigningKey + Send + 'static) -> Result<SigningKey, StoreError> {
    tokio::task::spawn_blocking(move || generate(now))
        .await
        .map_err(|e| StoreError::Corrupt(format!("generating a digest signing key failed: {e}")))
}

async fn insert(store: &Store, key: &SigningKey) -> Result<(), StoreError> {
    let sealed = store.seal_secret(&purpose(key.fingerprint()), key.private_der().as_bytes());
    let record = TrailKeyRecord {
        fingerprint: key.fingerprint().to_owned(),
        valid_from: key.valid_from(),
        valid_to: None,
        public_der: key.public_der().to_vec(),
        private_sealed: sealed,
    };
    store.insert_trail_key(&record).await
}

/// Opens the newest key without an end; several nodes starting at once may each have
/// created one, and all of them stay valid for verification.
fn open_current(store: &Store, all: &[TrailKeyRecord]) -> Result<Arc<SigningKey>, StoreError> {
    let record = all
        .iter()
        .filter(|k| k.valid_to.is_none())
        .max_by(|a, b| (a.valid_from, &a.fingerprint).cmp(&(b.valid_from, &b.fingerprint)))
        .ok_or_else(|| StoreError::Corrupt("no current digest signing key".into()))?;
    let private = Zeroizing::new(store.open_secret(&purpose(&record.fingerprint), &record.private_sealed)?);
    let key = SigningKey::from_pkcs1_der(&private, record.valid_from)?;
    if key.fingerprint() != record.fingerprint || key.public_der() != record.public_der.as_slice() {
        return Err(StoreError::Corrupt(format!("digest signing key {} does not match its public key", record.fingerprint)));
    }
    Ok(Arc::new(key))
}

fn purpose(fingerprint: &str) -> String {
    format!("{PURPOSE}{fingerprint}")
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::OnceLock;

    use super::*;

    /// Keys generated once per test process (generation is slow in debug builds).
    pub(crate) fn test_private(i: usize) -> RsaPrivateKey {
        static POOL: OnceLock<Vec<RsaPrivateKey>> = OnceLock::new();
        POOL.get_or_init(|| {
            (0..2).map(|_| RsaPrivateKey::new(&mut rand::rngs::OsRng, BITS).expect("RSA key generation succeeds")).collect::<Vec<_>>()
        })[i]
            .clone()
    }

    /// A signing key from the process's pool.
    pub(crate) fn test_key(i: usize, valid_from: i64) -> SigningKey {
        SigningKey::from_private(test_private(i), valid_from)
    }

    async fn temp_store() -> (Arc<Store>, std::path::PathBuf) {
        let mut suffix = [0u8; 6];
        getrandom::fill(&mut suffix).unwrap();
        let dir = std::env::temp_dir().join(format!("trailwatch-trail-keys-{}-{}", std::process::id(), hex::encode(suffix)));
        (Store::open(store::StoreConfig::new(&dir)).await.unwrap(), dir)
    }

    #[test]
    fn fingerprint_is_md5_of_the_pkcs1_public_der() {
        let key = test_key(0, 0);
        assert_eq!(key.fingerprint().len(), 32);
        assert!(key.fingerprint().chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(key.fingerprint(), hex::encode(Md5::digest(key.public_der())));
        // PKCS#1 RSAPublicKey: SEQUENCE { modulus INTEGER, publicExponent INTEGER }, no
        // algorithm identifier as SubjectPublicKeyInfo would have.
        let public = RsaPublicKey::from_pkcs1_der(key.public_der()).unwrap();
        assert_eq!(public, test_private(0).to_public_key());
        assert_eq!(rsa::traits::PublicKeyParts::size(&public), 256);
    }

    #[test]
    fn signatures_verify_and_detect_changes() {
        let key = test_key(0, 0);
        let other = test_key(1, 0);
        let sig = key.sign(b"2026-11-21T11:00:00Z\nbucket/key\nabc\nnull");
        assert_eq!(sig.len(), 256);
        assert_eq!(verify(key.public_der(), b"2026-11-21T11:00:00Z\nbucket/key\nabc\nnull", &sig), Ok(()));
        assert_eq!(verify(key.public_der(), b"2026-11-21T11:00:01Z\nbucket/key\nabc\nnull", &sig), Err(VerifyError::BadSignature));
        assert_eq!(verify(other.public_der(), b"2026-11-21T11:00:00Z\nbucket/key\nabc\nnull", &sig), Err(VerifyError::BadSignature));
        assert_eq!(verify(b"not a key", b"x", &sig), Err(VerifyError::BadKey));
        assert_eq!(verify(key.public_der(), b"x", b"short"), Err(VerifyError::BadSignature));
    }

    #[tokio::test]
    async fn created_once_sealed_reloaded_and_rotated() {
        let (store, dir) = temp_store().await;
        let keys = SigningKeys::load_or_create_with(&store, 1_000, |now| test_key(0, now)).await.unwrap();
        let first = keys.current();
        assert_eq!(first.fingerprint(), test_key(0, 0).fingerprint());

        // The private key is stored sealed, never in clear.
        let stored = store.load_trail_keys().await.unwrap();
        assert_eq!(stored.len(), 1);
        let clear = first.private_der();
        assert!(!stored[0].private_sealed.windows(64).any(|w| clear.as_bytes().windows(64).any(|c| c == w)));
        assert_eq!(stored[0].public_der, first.public_der());
        assert_eq!(stored[0].valid_to, None);

        // A second start finds the key instead of generating one.
        let again = SigningKeys::load_or_create_with(&store, 5_000, |_| panic!("must not generate")).await.unwrap();
        assert_eq!(again.current().fingerprint(), first.fingerprint());
        assert_eq!(again.current().valid_from(), 1_000);
        let sig = again.current().sign(b"m");
        assert_eq!(verify(first.public_der(), b"m", &sig), Ok(()));

        assert_eq!(
            keys.public_keys(2_000, 3_000),
            vec![PublicKey {
                fingerprint: first.fingerprint().into(),
                value: first.public_der().to_vec(),
                validity_start_time: 1_000,
                validity_end_time: 3_000
            }]
        );
        assert!(keys.public_keys(0, 999).is_empty(), "not valid before it was created");

        let second = keys.rotate_with(&store, 10_000, |now| test_key(1, now)).await.unwrap();
        assert_ne!(second.fingerprint(), first.fingerprint());
        assert_eq!(keys.current().fingerprint(), second.fingerprint());
        let fps =
            |v: Vec<PublicKey>| v.into_iter().map(|k| (k.fingerprint, k.validity_start_time, k.validity_end_time)).collect::<Vec<_>>();
        assert_eq!(fps(keys.public_keys(0, 5_000)), vec![(first.fingerprint().into(), 1_000, 10_000)]);
        assert_eq!(
            fps(keys.public_keys(9_000, 20_000)),
            vec![(first.fingerprint().into(), 1_000, 10_000), (second.fingerprint().into(), 10_000, 20_000)]
        );
        assert_eq!(fps(keys.public_keys(10_001, 20_000)), vec![(second.fingerprint().into(), 10_000, 20_000)]);

        let reloaded = SigningKeys::load_or_create_with(&store, 20_000, |_| panic!("must not generate")).await.unwrap();
        assert_eq!(reloaded.current().fingerprint(), second.fingerprint());

        // A sealed key moved to another fingerprint's row does not open.
        let rows = store.load_trail_keys().await.unwrap();
        assert!(store.open_secret(&purpose(&rows[1].fingerprint), &rows[0].private_sealed).is_err());

        store.shutdown().await;
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn generates_a_real_key_at_first_start() {
        let (store, dir) = temp_store().await;
        let keys = SigningKeys::load_or_create(&store, 7).await.unwrap();
        let current = keys.current();
        assert_eq!(current.valid_from(), 7);
        assert_eq!(verify(current.public_der(), b"m", &current.sign(b"m")), Ok(()));
        store.shutdown().await;
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
