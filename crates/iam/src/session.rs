//! Temporary credentials: the session token is the session itself, sealed.
//!
//! AWS session tokens are opaque. Ours carry everything a request signed with them needs
//! (the key pair, the role, the session name, the expiry, the session policy), sealed
//! with AES-256-GCM under the master key, so any node that holds the key can verify
//! them without shared session state, and nobody can forge or alter one.

use base64::Engine;
use serde::{Deserialize, Serialize};
use store::Store;

/// Purpose bound into the sealing of session tokens.
const TOKEN_PURPOSE: &str = "sts-session-token";

/// What a session token holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionClaims {
    /// The temporary access key ID (`ASIA...`).
    pub access_key_id: String,
    /// The temporary secret access key.
    pub secret: String,
    pub account: String,
    pub role_name: String,
    pub role_id: String,
    pub role_arn: String,
    pub session_name: String,
    /// Epoch seconds.
    pub issued_at: i64,
    /// Epoch seconds.
    pub expires_at: i64,
    /// The inline session policy, if the session was narrowed.
    pub policy: Option<String>,
    /// Managed policies passed as session policies.
    #[serde(default)]
    pub policy_arns: Vec<String>,
    /// The service principal that assumed the role, for sessions trailwatch's own services hold.
    #[serde(default)]
    pub service: Option<String>,
    /// Whether the session came from another role session (role chaining).
    #[serde(default)]
    pub chained: bool,
}

/// Seals the claims into a session token.
pub(crate) fn seal(store: &Store, claims: &SessionClaims) -> String {
    let json = serde_json::to_vec(claims).expect("claims serialize");
    base64::engine::general_purpose::STANDARD.encode(store.seal_secret(TOKEN_PURPOSE, &json))
}

/// Opens a session token; `None` when it was not sealed by this deployment's key or was altered.
pub(crate) fn open(store: &Store, token: &str) -> Option<SessionClaims> {
    let sealed = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    let json = store.open_secret(TOKEN_PURPOSE, &sealed).ok()?;
    serde_json::from_slice(&json).ok()
}
