//! DB instances: each one a MariaDB server, in a cluster or standalone.

use serde_json::{Value, json};
use wire::AwsError;

use super::clusters::{self, host};
use super::{Request, check_engine, check_log_types, check_password, check_username, combination, invalid, not_found, resource_id, tags};
use crate::docs::{self, Instance, KIND_INSTANCE, KIND_SNAPSHOT, iso};

pub(super) async fn call(r: &Request<'_>, name: &str) -> Result<Value, AwsError> {
    match name {
        "CreateDBInstance" => create(r).await,
        "DescribeDBInstances" => describe(r).await,
        "ModifyDBInstance" => modify(r).await,
        "RebootDBInstance" => reboot(r).await,
        _ => delete(r).await,
    }
}

fn instance_not_found(id: &str) -> AwsError {
    not_found("DBInstanceNotFound", format!("DBInstance {id} not found."))
}

/// An instance by identifier.
pub(crate) async fn find(r: &Request<'_>, id: &str) -> Result<Instance, AwsError> {
    r.load(KIND_INSTANCE, &id.to_lowercase()).await?.ok_or_else(|| instance_not_found(id))
}

/// An instance as RDS describes it; `exports` are its cluster's for cluster members.
pub(crate) fn output(i: &Instance, exports: &[String], parameter_group: &str, host: &str) -> Value {
    let mut out = json!({
        "DBInstanceIdentifier": i.id,
        "DBInstanceArn": i.home.arn(KIND_INSTANCE, &i.id),
        "DbiResourceId": i.resource_id,
        "DBInstanceClass": i.class,
        "Engine": i.engine,
        "EngineVersion": i.engine_version,
        "DBInstanceStatus": i.status,
        "MasterUsername": i.master_username,
        "AllocatedStorage": i.allocated_storage,
        "InstanceCreateTime": iso(i.created_ms),
        "PreferredBackupWindow": "03:00-03:30",
        "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
        "BackupRetentionPeriod": 1,
        "DBSecurityGroups": [],
        "VpcSecurityGroups": [],
        "DBParameterGroups": [{"DBParameterGroupName": parameter_group, "ParameterApplyStatus": "in-sync"}],
        "AvailabilityZone": format!("{}a", i.home.region),
        "MultiAZ": false,
        "AutoMinorVersionUpgrade": true,
        "ReadReplicaDBInstanceIdentifiers": [],
        "LicenseModel": "general-public-license",
        "PubliclyAccessible": false,
        "StorageType": if i.cluster.is_some() { "aurora" } else { "gp2" },
        "DbInstancePort": 0,
        "StorageEncrypted": true,
        "CopyTagsToSnapshot": false,
        "IAMDatabaseAuthenticationEnabled": false,
        "PerformanceInsightsEnabled": false,
        "DeletionProtection": i.deletion_protection,
        "EnabledCloudwatchLogsExports": exports,
        "TagList": docs::tag_list(&i.tags),
        "CACertificateIdentifier": "rds-ca-rsa2048-g1",
        "NetworkType": "IPV4",
    });
    if let Some(c) = &i.cluster {
        out["DBClusterIdentifier"] = json!(c);
        out["PromotionTier"] = json!(1);
    }
    if let Some(d) = &i.db_name {
        out["DBName"] = json!(d);
    }
    if i.status != "creating" {
        out["Endpoint"] = docs::endpoint(host, i.port);
    }
    let mut pending = serde_json::Map::new();
    if i.pending_password.is_some() || (i.status == "creating" && i.sealed_password.is_some()) {
        pending.insert("MasterUserPassword".into(), json!("****"));
    }
    if i.status == "creating" && !exports.is_empty() {
        pending.insert("PendingCloudwatchLogsExports".into(), json!({"LogTypesToEnable": exports}));
    }
    out["PendingModifiedValues"] = Value::Object(pending);
    out
}

/// An instance's output with what it takes from its cluster.
pub(crate) async fn describe_one(r: &Request<'_>, i: &Instance) -> Result<Value, AwsError> {
    let (exports, group) = match &i.cluster {
        Some(c) => match clusters::find(r, c).await {
            Ok(c) => (c.exports.clone(), format!("default.{}", docs::family(&i.engine, &i.engine_version))),
            Err(_) => (Vec::new(), String::new()),
        },
        None => (i.exports.clone(), format!("default.{}", docs::family(&i.engine, &i.engine_version))),
    };
    Ok(output(i, &exports, &group, &host(r)))
}

async fn create(r: &Request<'_>) -> Result<Value, AwsError> {
    let id = r.identifier("DBInstanceIdentifier")?;
    if id.len() > 63 {
        return Err(invalid("The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must be 1 to 63 characters."));
    }
    let engine = r.str("Engine").unwrap_or_default().to_owned();
    check_engine(&engine)?;
    let class = r.str("DBInstanceClass").unwrap_or_default().to_owned();
    if !class.starts_with("db.") {
        return Err(invalid(format!("Invalid DB Instance class: {class}")));
    }
    if r.rds.engine.is_none() {
        return Err(AwsError::client(
            "InsufficientDBInstanceCapacity",
            "MariaDB is not installed on this trailwatch server, so no DB instance can run.",
        ));
    }
    let exports = r.strings("EnableCloudwatchLogsExports");
    check_log_types(&exports, &engine)?;
    let _docs = r.rds.docs.lock().await;
    let (cluster, master_username, sealed_password, engine_version, exports, db_name) = match r.str("DBClusterIdentifier") {
        Some(cid) => {
            let c = clusters::find(r, cid).await?;
            if c.status == "deleting" {
                return Err(AwsError::client("InvalidDBClusterStateFault", format!("DB cluster {} is being deleted", c.id)));
            }
            if c.engine != engine {
                return Err(combination(format!(
                    "The engine name requested for your DB instance ({engine}) doesn't match the engine name of your DB cluster ({}).",
                    c.engine
                )));
            }
            if r.str("MasterUserPassword").is_some() || r.str("MasterUsername").is_some() {
                return Err(combination(
                    "The requested DB Instance will be a member of a DB Cluster. Set master user name and password for the DB Cluster.",
                ));
            }
            if !exports.is_empty() {
                return Err(combination("The requested DB Instance will be a member of a DB Cluster. Set log exports for the DB Cluster."));
            }
            (Some(c.id.clone()), c.master_username.clone(), None, c.engine_version.clone(), Vec::new(), c.database_name.clone())
        }
        None => {
            if engine == "aurora-mysql" {
                return Err(combination(
                    "The requested DB instance will be a member of a DB cluster: DBClusterIdentifier is required for engine aurora-mysql.",
                ));
            }
            let username = check_username(r.str("MasterUsername"))?.to_owned();
            let password = check_password(r.str("MasterUserPassword"))?;
            let sealed = r.rds.store.seal_secret(&r.home.arn(KIND_INSTANCE, &id), password.as_bytes());
            let version = r.str("EngineVersion").unwrap_or(docs::default_version(&engine)).to_owned();
            (None, username, Some(sealed), version, exports, r.str("DBName").map(str::to_owned))
        }
    };
    let cluster_port = match &cluster {
        Some(cid) => clusters::find(r, cid).await?.port,
        None => None,
    };
    let host = host(r);
    let wanted = r.int("Port").map(|p| u16::try_from(p).map_err(|_| invalid(format!("Invalid port {p}")))).transpose()?.or(cluster_port);
    let port = match wanted.filter(|p| port_free(&host, *p)) {
        Some(p) => p,
        None => crate::engine::free_port(&host).map_err(super::internal)?,
    };
    let instance = Instance {
        home: r.home.clone(),
        id: id.clone(),
        resource_id: resource_id("db"),
        cluster,
        status: "creating".into(),
        class,
        engine,
        engine_version,
        master_username,
        sealed_password,
        pending_password: None,
        db_name,
        port,
        exports,
        allocated_storage: r.int("AllocatedStorage").unwrap_or(20),
        deletion_protection: r.bool("DeletionProtection").unwrap_or(false),
        created_ms: r.now,
        tags: tags(r.input),
        reboots: 0,
        final_snapshot: None,
    };
    r.insert(KIND_INSTANCE, &id, &instance, AwsError::client("DBInstanceAlreadyExists", "DB instance already exists")).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBInstance": describe_one(r, &instance).await?}))
}

fn port_free(host: &str, port: u16) -> bool {
    std::net::TcpListener::bind((host, port)).is_ok()
}

async fn describe(r: &Request<'_>) -> Result<Value, AwsError> {
    r.known_filters(&["db-cluster-id", "db-instance-id", "dbi-resource-id", "domain", "engine"])?;
    let mut all: Vec<Instance> = match r.str("DBInstanceIdentifier") {
        Some(id) => vec![find(r, id).await?],
        None => r.list(KIND_INSTANCE).await?,
    };
    if let Some(ids) = r.filter("db-instance-id") {
        all.retain(|i| ids.contains(&i.id) || ids.contains(&i.home.arn(KIND_INSTANCE, &i.id)));
    }
    if let Some(ids) = r.filter("db-cluster-id") {
        all.retain(|i| i.cluster.as_ref().is_some_and(|c| ids.contains(c) || ids.contains(&i.home.arn(docs::KIND_CLUSTER, c))));
    }
    if let Some(engines) = r.filter("engine") {
        all.retain(|i| engines.contains(&i.engine));
    }
    if let Some(ids) = r.filter("dbi-resource-id") {
        all.retain(|i| ids.contains(&i.resource_id.to_lowercase()));
    }
    let (page, marker) = r.page(all, |i| i.id.as_str())?;
    let mut listed = Vec::new();
    for i in &page {
        listed.push(describe_one(r, i).await?);
    }
    let mut out = json!({"DBInstances": listed});
    if let Some(m) = marker {
        out["Marker"] = json!(m);
    }
    Ok(out)
}

/// The instance named in the request, which must be available for a change.
async fn available(r: &Request<'_>) -> Result<Instance, AwsError> {
    let i = find(r, r.str("DBInstanceIdentifier").unwrap_or_default()).await?;
    if i.status != "available" {
        return Err(AwsError::client(
            "InvalidDBInstanceState",
            format!("Database instance is not in available state (it is {}).", i.status),
        ));
    }
    Ok(i)
}

async fn modify(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut i = available(r).await?;
    if r.str("NewDBInstanceIdentifier").is_some() {
        return Err(combination("Renaming a DB instance is not supported by trailwatch."));
    }
    if let Some(p) = r.str("MasterUserPassword") {
        if i.cluster.is_some() {
            return Err(combination(
                "The specified DB instance is a member of a DB cluster. Modify the master password for the DB cluster using the ModifyDbCluster API.",
            ));
        }
        let p = check_password(Some(p))?;
        let sealed = r.rds.store.seal_secret(&r.home.arn(KIND_INSTANCE, &i.id), p.as_bytes());
        i.sealed_password = Some(sealed.clone());
        i.pending_password = Some(sealed);
    }
    if let Some(config) = r.input.get("CloudwatchLogsExportConfiguration") {
        if i.cluster.is_some() {
            return Err(combination(
                "The specified DB instance is a member of a DB cluster. Modify log exports for the DB cluster using the ModifyDbCluster API.",
            ));
        }
        let list = |k: &str| -> Vec<String> {
            config[k].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
        };
        let (enable, disable) = (list("EnableLogTypes"), list("DisableLogTypes"));
        check_log_types(&enable, &i.engine)?;
        check_log_types(&disable, &i.engine)?;
        i.exports.retain(|t| !disable.contains(t));
        for t in enable {
            if !i.exports.contains(&t) {
                i.exports.push(t);
            }
        }
        i.exports.sort();
    }
    if let Some(c) = r.str("DBInstanceClass") {
        if !c.starts_with("db.") {
            return Err(invalid(format!("Invalid DB Instance class: {c}")));
        }
        i.class = c.to_owned();
    }
    if let Some(d) = r.bool("DeletionProtection") {
        i.deletion_protection = d;
    }
    if let Some(s) = r.int("AllocatedStorage") {
        i.allocated_storage = s;
    }
    i.status = "modifying".into();
    r.save(KIND_INSTANCE, &i.id, &i).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBInstance": describe_one(r, &i).await?}))
}

async fn reboot(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut i = available(r).await?;
    i.status = "rebooting".into();
    i.reboots += 1;
    r.save(KIND_INSTANCE, &i.id, &i).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBInstance": describe_one(r, &i).await?}))
}

async fn delete(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut i = find(r, r.str("DBInstanceIdentifier").unwrap_or_default()).await?;
    if i.status == "deleting" {
        return Err(AwsError::client("InvalidDBInstanceState", format!("Instance {} is already being deleted.", i.id)));
    }
    if i.deletion_protection {
        return Err(combination("Cannot delete protected DB Instance, please disable deletion protection and try again."));
    }
    let skip = r.bool("SkipFinalSnapshot").unwrap_or(false);
    let final_id = r.str("FinalDBSnapshotIdentifier");
    if i.cluster.is_none() {
        match (skip, final_id) {
            (false, None) => return Err(combination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")),
            (true, Some(_)) => {
                return Err(combination(
                    "FinalDBSnapshotIdentifier can not be specified when deleting an instance with SkipFinalSnapshot=true",
                ));
            }
            (false, Some(_)) => {
                let s = r.identifier("FinalDBSnapshotIdentifier")?;
                if r.load::<docs::Snapshot>(KIND_SNAPSHOT, &s).await?.is_some() {
                    return Err(AwsError::client(
                        "DBSnapshotAlreadyExists",
                        format!("Cannot create the snapshot because a snapshot with the identifier {s} already exists."),
                    ));
                }
                i.final_snapshot = Some(s);
            }
            (true, None) => {}
        }
    } else if final_id.is_some() {
        return Err(combination("FinalDBSnapshotIdentifier can not be specified when deleting a cluster instance"));
    }
    i.status = "deleting".into();
    r.save(KIND_INSTANCE, &i.id, &i).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBInstance": describe_one(r, &i).await?}))
}
