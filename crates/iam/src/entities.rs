//! The IAM entities as stored: one JSON document per user, group, role, customer managed
//! policy and access key (see the store's `iam_entities` table).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A tag on a user, role or policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The tag key; unique per entity, case-insensitively.
    pub key: String,
    /// The tag value.
    pub value: String,
}

/// Policies held by a user, group or role.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Permissions {
    /// Inline policies: name → document as the caller wrote it.
    pub inline: BTreeMap<String, String>,
    /// Attached managed policies, by ARN, in attachment order.
    pub attached: Vec<String>,
    /// The managed policy that bounds a user's or role's permissions, by ARN.
    #[serde(default)]
    pub boundary: Option<String>,
}

/// An IAM user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub id: String,
    pub path: String,
    /// Epoch seconds.
    pub created: i64,
    pub tags: Vec<Tag>,
    pub permissions: Permissions,
}

/// An IAM group; membership is kept on the group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub id: String,
    pub path: String,
    pub created: i64,
    /// Member user names, in the order they were added.
    pub members: Vec<String>,
    pub permissions: Permissions,
}

/// An IAM role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub path: String,
    pub created: i64,
    /// The trust policy (AssumeRolePolicyDocument) as written.
    pub trust: String,
    pub description: Option<String>,
    /// Longest session AssumeRole may grant, in seconds.
    pub max_session: i64,
    pub tags: Vec<Tag>,
    pub permissions: Permissions,
}

/// One version of a managed policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub id: String,
    pub document: String,
    pub created: i64,
}

/// A customer managed policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub description: Option<String>,
    pub created: i64,
    pub updated: i64,
    pub default_version: String,
    pub versions: Vec<PolicyVersion>,
    /// The number the next version takes (IAM never reuses version IDs).
    pub next_version: u32,
    pub tags: Vec<Tag>,
}

impl ManagedPolicy {
    /// The document of the default version.
    pub fn default_document(&self) -> &str {
        self.versions.iter().find(|v| v.id == self.default_version).map_or("", |v| v.document.as_str())
    }
}

/// An access key of a user; the secret is sealed under the master key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub user: String,
    /// Base64 of the sealed secret access key.
    pub sealed_secret: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub created: i64,
}

/// The ARN of a user, group, role or policy in `account`, with its path.
pub fn arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

/// A new unique ID with IAM's prefix (`AIDA` users, `AGPA` groups, `AROA` roles,
/// `ANPA` policies): 21 characters of upper-case base32.
pub fn new_id(prefix: &str) -> String {
    random_chars(prefix, 17, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
}

/// A new access key ID (`AKIA` long-term, `ASIA` temporary): 20 characters.
pub fn new_access_key_id(prefix: &str) -> String {
    random_chars(prefix, 16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
}

/// A new 40-character secret access key.
pub fn new_secret() -> String {
    random_chars("", 40, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}

fn random_chars(prefix: &str, n: usize, alphabet: &[u8]) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let mut out = String::with_capacity(prefix.len() + n);
    out.push_str(prefix);
    // 256 is a multiple of both alphabet sizes (32, 64), so the modulo keeps it uniform.
    out.extend(bytes.iter().map(|b| alphabet[usize::from(*b) % alphabet.len()] as char));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        let id = new_id("AIDA");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA") && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(new_access_key_id("AKIA").len(), 20);
        assert_eq!(new_secret().len(), 40);
        assert_eq!(arn("1", "user", "/a/b/", "n"), "arn:aws:iam::1:user/a/b/n");
    }
}
