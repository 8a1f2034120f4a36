//! Encryption at rest: AES-256-GCM, a master key that wraps one data key per log group.
//!
//! Every sealed unit is `nonce (12 bytes) || ciphertext || tag (16 bytes)` with
//! associated data that binds it to where it belongs, so a block cannot be moved to
//! another group or stream and still open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::StoreError;

const NONCE_LEN: usize = 12;
const WRAP_AAD: &[u8] = b"trailwatch/data-key/v1";

/// A 256-bit AES-GCM key, either the master key or a log group's data key.
#[derive(Clone)]
pub struct Key(Aes256Gcm);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Key {
        Key(Aes256Gcm::new(bytes.into()))
    }

    /// Seals plaintext under this key with the given associated data.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_array::<NONCE_LEN>();
        let nonce = Nonce::from_slice(&nonce_bytes);
        let ct = self.0.encrypt(nonce, Payload { msg: plaintext, aad }).expect("AES-GCM encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens a sealed unit; fails if it was altered or belongs elsewhere.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(StoreError::Corrupt("sealed unit too short".into()));
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| StoreError::Corrupt("authentication of a sealed unit failed".into()))
    }

    /// Generates a fresh data key and returns it with its wrapped form for the catalog.
    pub fn new_data_key(&self) -> (Key, Vec<u8>) {
        let raw = random_array::<32>();
        (Key::from_bytes(&raw), self.seal(&raw, WRAP_AAD))
    }

    /// Unwraps a data key stored in the catalog.
    pub fn unwrap_data_key(&self, wrapped: &[u8]) -> Result<Key, StoreError> {
        let raw = self.open(wrapped, WRAP_AAD)?;
        let raw: [u8; 32] = raw.try_into().map_err(|_| StoreError::Corrupt("data key has the wrong length".into()))?;
        Ok(Key::from_bytes(&raw))
    }
}

/// Random bytes from the operating system.
pub fn random_array<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the OS random source is available");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_tamper() {
        let master = Key::from_bytes(&random_array());
        let (data, wrapped) = master.new_data_key();
        let data2 = master.unwrap_data_key(&wrapped).unwrap();
        let sealed = data.seal(b"hello audit", b"g1");
        assert_eq!(data2.open(&sealed, b"g1").unwrap(), b"hello audit");
        assert!(data2.open(&sealed, b"g2").is_err(), "wrong associated data must fail");
        let mut bad = sealed.clone();
        bad[20] ^= 1;
        assert!(data2.open(&bad, b"g1").is_err(), "tampered ciphertext must fail");
        assert!(!sealed.windows(5).any(|w| w == b"hello"), "no plaintext in sealed bytes");
    }
}
