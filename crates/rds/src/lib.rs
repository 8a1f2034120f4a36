//! RDS: the control plane of DB clusters, instances, parameter groups and snapshots over
//! the Query protocol, with real MariaDB servers behind it and their audit logs
//! published to CloudWatch Logs as Aurora's Advanced Auditing publishes them.
//!
//! API handlers ([`api`]) only change documents in the catalog and wake the
//! [`supervisor`], which brings the servers in line: it starts, reconfigures, restarts
//! and stops `mariadbd` processes ([`engine`]) and the publisher of each instance's logs
//! ([`publish`]), and moves each resource through RDS's states.

pub mod api;
pub mod audit;
pub mod docs;
pub mod engine;
pub mod params;
pub mod publish;
pub mod supervisor;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use serde_json::{Value, json};
use store::Store;
use tokio::sync::{Mutex, Notify};
use wire::{AwsError, CallContext, Model, OperationSpec, Protocol, Service};

use crate::docs::Home;
use crate::engine::{Engine, InstanceDir};

const CLUSTER_PG: &str = "arn:aws:rds:{region}:{account}:cluster-pg:{DBClusterParameterGroupName}";
const CLUSTER: &str = "arn:aws:rds:{region}:{account}:cluster:{DBClusterIdentifier}";
const DB: &str = "arn:aws:rds:{region}:{account}:db:{DBInstanceIdentifier}";
const SNAPSHOT: &str = "arn:aws:rds:{region}:{account}:snapshot:{DBSnapshotIdentifier}";

/// Every RDS operation trailwatch serves, with the resources the Service Authorization
/// Reference lists for its action.
static OPERATIONS: &[OperationSpec] = &[
    OperationSpec::write("CreateDBClusterParameterGroup").on(&[CLUSTER_PG]),
    OperationSpec::read("DescribeDBClusterParameterGroups").on(&[CLUSTER_PG]),
    OperationSpec::read("DescribeDBClusterParameters").on(&[CLUSTER_PG]),
    OperationSpec::write("ModifyDBClusterParameterGroup").on(&[CLUSTER_PG]),
    OperationSpec::write("ResetDBClusterParameterGroup").on(&[CLUSTER_PG]),
    OperationSpec::write("DeleteDBClusterParameterGroup").on(&[CLUSTER_PG]),
    OperationSpec::write("CreateDBCluster").on(&[CLUSTER]).sensitive(&["MasterUserPassword"]),
    OperationSpec::read("DescribeDBClusters").on(&[CLUSTER]),
    OperationSpec::write("ModifyDBCluster").on(&[CLUSTER]).sensitive(&["MasterUserPassword"]),
    OperationSpec::write("DeleteDBCluster").on(&[CLUSTER]),
    OperationSpec::write("AddRoleToDBCluster").on(&[CLUSTER]),
    OperationSpec::write("RemoveRoleFromDBCluster").on(&[CLUSTER]),
    OperationSpec::write("CreateDBInstance").on(&[DB]).sensitive(&["MasterUserPassword"]),
    OperationSpec::read("DescribeDBInstances").on(&[DB]),
    OperationSpec::write("ModifyDBInstance").on(&[DB]).sensitive(&["MasterUserPassword"]),
    OperationSpec::write("RebootDBInstance").on(&[DB]),
    OperationSpec::write("DeleteDBInstance").on(&[DB]),
    OperationSpec::write("CreateDBSnapshot").on(&[DB, SNAPSHOT]),
    OperationSpec::read("DescribeDBSnapshots").on(&[DB, SNAPSHOT]),
    OperationSpec::write("DeleteDBSnapshot").on(&[SNAPSHOT]),
    OperationSpec::read("DescribeEvents"),
];

/// The RDS state shared by the API and the supervisor.
pub struct Rds {
    store: Arc<Store>,
    /// MariaDB's programs; `None` when MariaDB is not installed (instances cannot start).
    engine: Option<Engine>,
    /// Where instances keep their files: `<data-dir>/rds`.
    root: PathBuf,
    /// Wakes the supervisor after a handler changed something.
    wake: Notify,
    /// Held for every read-modify-write of a document, by handlers and the supervisor.
    docs: Mutex<()>,
    /// The servers and publishers running now.
    running: Mutex<HashMap<(Home, String), supervisor::Running>>,
    /// What publishers need from the server, set once the pipeline exists.
    services: OnceLock<publish::Services>,
}

impl Rds {
    /// RDS over the store, running instances under `root` with MariaDB when installed.
    pub fn new(store: Arc<Store>, root: PathBuf, host: String) -> Arc<Rds> {
        let engine = match Engine::discover(host) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!(error = %e, "MariaDB is not installed: DB instances cannot run");
                None
            }
        };
        Arc::new(Rds {
            store,
            engine,
            root,
            wake: Notify::new(),
            docs: Mutex::new(()),
            running: Mutex::new(HashMap::new()),
            services: OnceLock::new(),
        })
    }

    /// The files of an instance.
    pub fn instance_dir(&self, home: &Home, id: &str) -> InstanceDir {
        InstanceDir { root: self.root.join(&home.account_id).join(&home.region).join(id) }
    }

    /// Records an RDS event (DescribeEvents).
    pub async fn event(&self, home: &Home, source_type: &str, source_id: &str, kind: &str, categories: &[&str], message: &str) {
        let now = now_millis();
        let body = json!({
            "SourceIdentifier": source_id,
            "SourceType": source_type,
            "Message": message,
            "EventCategories": categories,
            "Date": docs::iso(now),
            "SourceArn": home.arn(kind, source_id),
        });
        let event = store::rds::RdsEvent {
            at_millis: now,
            source_type: source_type.to_owned(),
            source_id: source_id.to_owned(),
            body: body.to_string(),
        };
        if let Err(e) = self.store.rds_add_event(&home.account_id, &home.region, &event).await {
            tracing::warn!(error = %e, "cannot record an RDS event");
        }
    }
}

/// The RDS service.
pub struct RdsService {
    model: Model,
    rds: Arc<Rds>,
}

impl RdsService {
    /// The RDS API over shared RDS state, with its embedded botocore model.
    pub fn new(rds: Arc<Rds>) -> Self {
        RdsService { model: Model::parse(include_str!("../../wire/models/rds.json")), rds }
    }
}

#[async_trait]
impl Service for RdsService {
    fn model(&self) -> &Model {
        &self.model
    }

    fn protocol(&self) -> Protocol {
        Protocol::Query
    }

    fn operations(&self) -> &'static [OperationSpec] {
        OPERATIONS
    }

    fn validation_error_code(&self) -> &'static str {
        "InvalidParameterValue"
    }

    async fn call(&self, ctx: &CallContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        api::call(&self.rds, ctx, op.name, &input).await
    }

    /// RDS identifiers are case-insensitive and kept in lower case, in ARNs too.
    fn resource_member(&self, _member: &str, value: &str) -> String {
        value.to_lowercase()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
