//! AWS managed policies: the documents AWS publishes, present under their
//! `arn:aws:iam::aws:policy/...` ARNs, read-only, attachable like any managed policy.
//!
//! The documents live in `crates/iam/managed/` with an `index.json` of their metadata
//! (version, dates, source); they are embedded in the binary.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use policy::Policy;
use serde::Deserialize;

/// One AWS managed policy.
#[derive(Debug)]
pub struct AwsPolicy {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub description: String,
    pub default_version: String,
    /// Epoch seconds.
    pub created: i64,
    /// Epoch seconds.
    pub updated: i64,
    pub document: &'static str,
    pub policy: Arc<Policy>,
}

#[derive(Deserialize)]
struct IndexEntry {
    name: String,
    path: String,
    arn: String,
    description: String,
    default_version: String,
    create_date: String,
    update_date: String,
}

/// The embedded documents, by policy name.
const DOCUMENTS: &[(&str, &str)] = &[
    ("AdministratorAccess", include_str!("../managed/AdministratorAccess.json")),
    ("AmazonRDSFullAccess", include_str!("../managed/AmazonRDSFullAccess.json")),
    ("AmazonRDSReadOnlyAccess", include_str!("../managed/AmazonRDSReadOnlyAccess.json")),
    ("AWSCloudTrail_FullAccess", include_str!("../managed/AWSCloudTrail_FullAccess.json")),
    ("AWSCloudTrail_ReadOnlyAccess", include_str!("../managed/AWSCloudTrail_ReadOnlyAccess.json")),
    ("CloudWatchLogsFullAccess", include_str!("../managed/CloudWatchLogsFullAccess.json")),
    ("CloudWatchLogsReadOnlyAccess", include_str!("../managed/CloudWatchLogsReadOnlyAccess.json")),
    ("IAMFullAccess", include_str!("../managed/IAMFullAccess.json")),
    ("IAMReadOnlyAccess", include_str!("../managed/IAMReadOnlyAccess.json")),
    ("ReadOnlyAccess", include_str!("../managed/ReadOnlyAccess.json")),
];

static POLICIES: LazyLock<BTreeMap<String, AwsPolicy>> = LazyLock::new(|| {
    let index: Vec<IndexEntry> = serde_json::from_str(include_str!("../managed/index.json")).expect("managed/index.json parses");
    let mut out = BTreeMap::new();
    for entry in index {
        let Some((_, document)) = DOCUMENTS.iter().find(|(n, _)| *n == entry.name) else { continue };
        let policy = Policy::parse(document).unwrap_or_else(|e| panic!("AWS managed policy {} does not parse: {e}", entry.name));
        let p = AwsPolicy {
            created: parse_date(&entry.create_date),
            updated: parse_date(&entry.update_date),
            name: entry.name,
            path: entry.path,
            description: entry.description,
            default_version: entry.default_version,
            document,
            policy: Arc::new(policy),
            arn: entry.arn,
        };
        out.insert(p.arn.clone(), p);
    }
    out
});

fn parse_date(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_or(0, |t| t.unix_timestamp())
}

/// The AWS managed policy with that ARN.
pub fn aws_policy(arn: &str) -> Option<&'static AwsPolicy> {
    if !arn.starts_with("arn:aws:iam::aws:policy/") {
        return None;
    }
    POLICIES.get(arn)
}

/// Every AWS managed policy, by ARN.
pub fn aws_policies() -> impl Iterator<Item = &'static AwsPolicy> {
    POLICIES.values()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_is_indexed_and_parses() {
        assert_eq!(aws_policies().count(), DOCUMENTS.len());
        let logs = aws_policy("arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess").expect("present");
        assert_eq!(logs.name, "CloudWatchLogsReadOnlyAccess");
        assert!(logs.created > 0 && logs.updated >= logs.created);
    }
}
