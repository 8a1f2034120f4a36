//! The RDS resources as kept in the catalog (one JSON document each) and how each is
//! written in a response.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Catalog kinds, also the ARN resource types.
pub const KIND_PARAMETER_GROUP: &str = "cluster-pg";
pub const KIND_CLUSTER: &str = "cluster";
pub const KIND_INSTANCE: &str = "db";
pub const KIND_SNAPSHOT: &str = "snapshot";

/// Where a resource lives: account and region.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct Home {
    pub account_id: String,
    pub region: String,
}

impl Home {
    /// The ARN of a resource of `kind` named `name` here.
    pub fn arn(&self, kind: &str, name: &str) -> String {
        format!("arn:aws:rds:{}:{}:{kind}:{name}", self.region, self.account_id)
    }
}

/// A DB cluster parameter group: the values set on it; the rest are engine defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParameterGroup {
    pub home: Home,
    pub name: String,
    pub family: String,
    pub description: String,
    /// Values set by the user, by parameter name.
    pub values: BTreeMap<String, String>,
}

impl ParameterGroup {
    pub fn output(&self) -> Value {
        json!({
            "DBClusterParameterGroupName": self.name,
            "DBParameterGroupFamily": self.family,
            "Description": self.description,
            "DBClusterParameterGroupArn": self.home.arn(KIND_PARAMETER_GROUP, &self.name),
        })
    }
}

/// An IAM role associated with a cluster (AddRoleToDBCluster).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssociatedRole {
    pub role_arn: String,
    pub feature_name: Option<String>,
}

/// A DB cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub home: Home,
    pub id: String,
    pub resource_id: String,
    pub status: String,
    pub engine: String,
    pub engine_version: String,
    pub master_username: String,
    /// The master password sealed under the master key; every instance of the cluster gets it.
    pub sealed_password: Vec<u8>,
    /// The password readers replicate the writer with, sealed (purpose: ARN + `/replication`).
    #[serde(default)]
    pub sealed_replication_password: Vec<u8>,
    pub database_name: Option<String>,
    /// The port asked for, given to the writer when free.
    pub port: Option<u16>,
    pub parameter_group: String,
    pub exports: Vec<String>,
    pub roles: Vec<AssociatedRole>,
    pub deletion_protection: bool,
    pub created_ms: i64,
    pub tags: Vec<(String, String)>,
}

/// A DB instance: a MariaDB server trailwatch runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub home: Home,
    pub id: String,
    pub resource_id: String,
    pub cluster: Option<String>,
    pub status: String,
    pub class: String,
    pub engine: String,
    pub engine_version: String,
    pub master_username: String,
    /// Standalone instances only: the master password sealed under the master key.
    pub sealed_password: Option<Vec<u8>>,
    /// A new master password waiting to be applied (ModifyDBInstance), sealed.
    pub pending_password: Option<Vec<u8>>,
    pub db_name: Option<String>,
    /// The port the server listens on, chosen at creation.
    pub port: u16,
    /// Standalone instances: the log types exported (clusters keep theirs on the cluster).
    pub exports: Vec<String>,
    pub allocated_storage: i64,
    pub deletion_protection: bool,
    pub created_ms: i64,
    pub tags: Vec<(String, String)>,
    /// Bumped by RebootDBInstance; the supervisor restarts the server when it moves.
    pub reboots: u64,
    /// When deleting: the snapshot to take first.
    pub final_snapshot: Option<String>,
}

/// A manual DB snapshot: a consistent dump of an instance, sealed in the object store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub home: Home,
    pub id: String,
    pub instance: String,
    pub status: String,
    pub engine: String,
    pub engine_version: String,
    pub master_username: String,
    pub port: u16,
    pub allocated_storage: i64,
    pub instance_created_ms: i64,
    pub created_ms: i64,
    pub object_key: String,
    pub snapshot_type: String,
    pub tags: Vec<(String, String)>,
}

/// ISO 8601 with milliseconds, as RDS writes timestamps.
pub fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_default()
}

/// Tags as RDS writes them.
pub fn tag_list(tags: &[(String, String)]) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

/// The endpoint clients connect to.
pub fn endpoint(host: &str, port: u16) -> Value {
    json!({"Address": host, "Port": port, "HostedZoneId": "Z2R2ITUGPM61AM"})
}

/// The engine family of a parameter group that fits an engine and version.
pub fn family(engine: &str, version: &str) -> String {
    let major: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    match engine {
        "aurora-mysql" => "aurora-mysql8.0".to_owned(),
        "mysql" => format!("mysql{major}"),
        _ => format!("mariadb{major}"),
    }
}

/// The default engine version of an engine.
pub fn default_version(engine: &str) -> &'static str {
    match engine {
        "aurora-mysql" => "8.0.mysql_aurora.3.05.2",
        "mysql" => "8.0.35",
        _ => "10.11.14",
    }
}
