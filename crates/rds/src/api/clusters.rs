//! DB clusters: a master user, a parameter group, log exports and roles shared by their
//! instances. The first instance is the writer and the cluster's endpoint.

use serde_json::{Value, json};
use wire::AwsError;

use super::{Request, check_engine, check_log_types, check_password, check_username, combination, internal, not_found, resource_id, tags};
use crate::docs::{self, AssociatedRole, Cluster, Instance, KIND_CLUSTER, KIND_INSTANCE, iso};

pub(super) async fn call(r: &Request<'_>, name: &str) -> Result<Value, AwsError> {
    match name {
        "CreateDBCluster" => create(r).await,
        "DescribeDBClusters" => describe(r).await,
        "ModifyDBCluster" => modify(r).await,
        "DeleteDBCluster" => delete(r).await,
        "AddRoleToDBCluster" => add_role(r).await,
        _ => remove_role(r).await,
    }
}

fn cluster_not_found(id: &str) -> AwsError {
    not_found("DBClusterNotFoundFault", format!("DBCluster {id} not found."))
}

/// A cluster by identifier.
pub(crate) async fn find(r: &Request<'_>, id: &str) -> Result<Cluster, AwsError> {
    r.load(KIND_CLUSTER, &id.to_lowercase()).await?.ok_or_else(|| cluster_not_found(id))
}

/// The instances of a cluster, oldest (the writer) first.
pub(crate) async fn members(r: &Request<'_>, cluster: &str) -> Result<Vec<Instance>, AwsError> {
    let mut all: Vec<Instance> = r.list(KIND_INSTANCE).await?;
    all.retain(|i| i.cluster.as_deref() == Some(cluster));
    all.sort_by_key(|i| (i.created_ms, i.id.clone()));
    Ok(all)
}

/// A cluster as RDS describes it.
pub(crate) fn output(c: &Cluster, members: &[Instance], host: &str) -> Value {
    let mut out = json!({
        "DBClusterIdentifier": c.id,
        "DBClusterArn": c.home.arn(KIND_CLUSTER, &c.id),
        "DbClusterResourceId": c.resource_id,
        "Status": c.status,
        "Engine": c.engine,
        "EngineVersion": c.engine_version,
        "EngineMode": "provisioned",
        "MasterUsername": c.master_username,
        "DBClusterParameterGroup": c.parameter_group,
        "EnabledCloudwatchLogsExports": c.exports,
        "AssociatedRoles": c.roles.iter().map(|role| {
            let mut v = json!({"RoleArn": role.role_arn, "Status": "ACTIVE"});
            if let Some(f) = &role.feature_name { v["FeatureName"] = json!(f); }
            v
        }).collect::<Vec<_>>(),
        "DBClusterMembers": members.iter().enumerate().map(|(i, m)| json!({
            "DBInstanceIdentifier": m.id,
            "IsClusterWriter": i == 0,
            "DBClusterParameterGroupStatus": "in-sync",
            "PromotionTier": 1,
        })).collect::<Vec<_>>(),
        "DeletionProtection": c.deletion_protection,
        "ClusterCreateTime": iso(c.created_ms),
        "MultiAZ": members.len() > 1,
        "StorageEncrypted": true,
        "IAMDatabaseAuthenticationEnabled": false,
        "HttpEndpointEnabled": false,
        "CopyTagsToSnapshot": false,
        "CrossAccountClone": false,
        "BackupRetentionPeriod": 1,
        "AllocatedStorage": 1,
        "AvailabilityZones": [format!("{}a", c.home.region)],
        "TagList": docs::tag_list(&c.tags),
        "HostedZoneId": "Z2R2ITUGPM61AM",
        "VpcSecurityGroups": [],
    });
    if let Some(d) = &c.database_name {
        out["DatabaseName"] = json!(d);
    }
    let writer = members.first();
    let reader = members.get(1).or(writer);
    match writer {
        Some(w) => {
            out["Endpoint"] = json!(host);
            out["Port"] = json!(w.port);
        }
        None => {
            out["Port"] = json!(c.port.unwrap_or(3306));
        }
    }
    // Each reader listens on its own port (DescribeDBInstances tells which); the
    // address is the one they share.
    if reader.is_some() {
        out["ReaderEndpoint"] = json!(host);
    }
    out
}

async fn create(r: &Request<'_>) -> Result<Value, AwsError> {
    let id = r.identifier("DBClusterIdentifier")?;
    let engine = r.str("Engine").unwrap_or_default().to_owned();
    check_engine(&engine)?;
    let username = check_username(r.str("MasterUsername"))?.to_owned();
    let password = check_password(r.str("MasterUserPassword"))?;
    let engine_version = r.str("EngineVersion").unwrap_or(docs::default_version(&engine)).to_owned();
    let exports = r.strings("EnableCloudwatchLogsExports");
    check_log_types(&exports, &engine)?;
    let group = match r.str("DBClusterParameterGroupName") {
        Some(name) => super::groups::find(r, name)
            .await
            .map_err(|_| not_found("DBClusterParameterGroupNotFound", format!("DBClusterParameterGroup not found: {name}")))?,
        None => super::groups::find(r, &format!("default.{}", docs::family(&engine, &engine_version))).await?,
    };
    let port = r.int("Port").map(|p| u16::try_from(p).map_err(|_| super::invalid(format!("Invalid port {p}")))).transpose()?;
    let arn = r.home.arn(KIND_CLUSTER, &id);
    let cluster = Cluster {
        home: r.home.clone(),
        id: id.clone(),
        resource_id: resource_id("cluster"),
        status: "creating".into(),
        engine,
        engine_version,
        master_username: username,
        sealed_password: r.rds.store.seal_secret(&arn, password.as_bytes()),
        sealed_replication_password: r
            .rds
            .store
            .seal_secret(&format!("{arn}/replication"), hex::encode(store::crypto::random_array::<16>()).as_bytes()),
        database_name: r.str("DatabaseName").map(str::to_owned),
        port,
        parameter_group: group.name,
        exports,
        roles: Vec::new(),
        deletion_protection: r.bool("DeletionProtection").unwrap_or(false),
        created_ms: r.now,
        tags: tags(r.input),
    };
    let _docs = r.rds.docs.lock().await;
    r.insert(KIND_CLUSTER, &id, &cluster, AwsError::client("DBClusterAlreadyExistsFault", "DB Cluster already exists")).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBCluster": output(&cluster, &[], &host(r))}))
}

pub(crate) fn host(r: &Request<'_>) -> String {
    r.rds.engine.as_ref().map_or_else(|| "127.0.0.1".to_owned(), |e| e.host.clone())
}

async fn describe(r: &Request<'_>) -> Result<Value, AwsError> {
    r.known_filters(&["db-cluster-id", "engine", "clone-group-id", "domain", "db-cluster-resource-id"])?;
    let mut clusters: Vec<Cluster> = match r.str("DBClusterIdentifier") {
        Some(id) => vec![find(r, id).await?],
        None => r.list(KIND_CLUSTER).await?,
    };
    if let Some(ids) = r.filter("db-cluster-id") {
        clusters.retain(|c| ids.contains(&c.id) || ids.contains(&c.home.arn(KIND_CLUSTER, &c.id)));
    }
    if let Some(engines) = r.filter("engine") {
        clusters.retain(|c| engines.contains(&c.engine));
    }
    let (page, marker) = r.page(clusters, |c| c.id.as_str())?;
    let mut listed = Vec::new();
    for c in &page {
        listed.push(output(c, &members(r, &c.id).await?, &host(r)));
    }
    let mut out = json!({"DBClusters": listed});
    if let Some(m) = marker {
        out["Marker"] = json!(m);
    }
    Ok(out)
}

async fn modify(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut c = find(r, r.str("DBClusterIdentifier").unwrap_or_default()).await?;
    if c.status != "available" {
        return Err(AwsError::client("InvalidDBClusterStateFault", format!("DB cluster {} is not in the available state", c.id)));
    }
    if r.str("NewDBClusterIdentifier").is_some() {
        return Err(combination("Renaming a DB cluster is not supported by trailwatch."));
    }
    if let Some(name) = r.str("DBClusterParameterGroupName") {
        let group = super::groups::find(r, name)
            .await
            .map_err(|_| not_found("DBClusterParameterGroupNotFound", format!("DBClusterParameterGroup not found: {name}")))?;
        c.parameter_group = group.name;
    }
    if let Some(config) = r.input.get("CloudwatchLogsExportConfiguration") {
        let enable: Vec<String> = strings(&config["EnableLogTypes"]);
        let disable: Vec<String> = strings(&config["DisableLogTypes"]);
        check_log_types(&enable, &c.engine)?;
        check_log_types(&disable, &c.engine)?;
        if enable.iter().any(|t| disable.contains(t)) {
            return Err(combination("You cannot enable and disable the same log type."));
        }
        c.exports.retain(|t| !disable.contains(t));
        for t in enable {
            if !c.exports.contains(&t) {
                c.exports.push(t);
            }
        }
        c.exports.sort();
    }
    if let Some(p) = r.str("MasterUserPassword") {
        let p = check_password(Some(p))?;
        c.sealed_password = r.rds.store.seal_secret(&c.home.arn(KIND_CLUSTER, &c.id), p.as_bytes());
        for mut m in members(r, &c.id).await? {
            m.pending_password = Some(c.sealed_password.clone());
            r.save(KIND_INSTANCE, &m.id.clone(), &m).await?;
        }
    }
    if let Some(d) = r.bool("DeletionProtection") {
        c.deletion_protection = d;
    }
    r.save(KIND_CLUSTER, &c.id, &c).await?;
    r.rds.wake.notify_one();
    r.rds.event(&c.home, "db-cluster", &c.id, KIND_CLUSTER, &["configuration change"], "DB cluster modified").await;
    Ok(json!({"DBCluster": output(&c, &members(r, &c.id).await?, &host(r))}))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

async fn delete(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut c = find(r, r.str("DBClusterIdentifier").unwrap_or_default()).await?;
    if c.deletion_protection {
        return Err(AwsError::client(
            "InvalidParameterCombination",
            "Cannot delete protected Cluster, please disable deletion protection and try again.",
        ));
    }
    let skip = r.bool("SkipFinalSnapshot").unwrap_or(false);
    if !skip && r.str("FinalDBSnapshotIdentifier").is_none() {
        return Err(combination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified."));
    }
    if skip && r.str("FinalDBSnapshotIdentifier").is_some() {
        return Err(combination("FinalDBSnapshotIdentifier can not be specified when deleting a cluster with SkipFinalSnapshot=true"));
    }
    let members = members(r, &c.id).await?;
    if members.iter().any(|m| m.status != "deleting") {
        return Err(AwsError::client(
            "InvalidDBClusterStateFault",
            "Cluster cannot be deleted, it still contains DB instances in non-deleting state.",
        ));
    }
    c.status = "deleting".into();
    r.save(KIND_CLUSTER, &c.id, &c).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBCluster": output(&c, &members, &host(r))}))
}

async fn add_role(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut c = find(r, r.str("DBClusterIdentifier").unwrap_or_default()).await?;
    let role_arn = r.str("RoleArn").unwrap_or_default().to_owned();
    if !role_arn.starts_with("arn:aws:iam::") || !role_arn.contains(":role/") {
        return Err(super::invalid(format!("Invalid role ARN: {role_arn}")));
    }
    if c.roles.iter().any(|x| x.role_arn == role_arn) {
        return Err(AwsError::client(
            "DBClusterRoleAlreadyExists",
            format!("Role ARN {role_arn} is already associated with DB Cluster {}", c.id),
        ));
    }
    if c.roles.len() >= 5 {
        return Err(AwsError::client("DBClusterRoleQuotaExceeded", "You can't associate more than 5 IAM roles with a DB cluster."));
    }
    c.roles.push(AssociatedRole { role_arn, feature_name: r.str("FeatureName").map(str::to_owned) });
    r.save(KIND_CLUSTER, &c.id, &c).await?;
    r.rds.wake.notify_one();
    Ok(json!({}))
}

async fn remove_role(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut c = find(r, r.str("DBClusterIdentifier").unwrap_or_default()).await?;
    let role_arn = r.str("RoleArn").unwrap_or_default();
    let before = c.roles.len();
    c.roles.retain(|x| x.role_arn != role_arn);
    if c.roles.len() == before {
        return Err(not_found("DBClusterRoleNotFound", format!("Role ARN {role_arn} cannot be found for DB Cluster: {}", c.id)));
    }
    r.save(KIND_CLUSTER, &c.id, &c).await.map_err(internal)?;
    r.rds.wake.notify_one();
    Ok(json!({}))
}
