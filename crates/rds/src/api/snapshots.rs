//! Manual DB snapshots: consistent dumps of an instance, sealed in the object store.

use serde_json::{Value, json};
use wire::AwsError;

use super::{Request, combination, internal, not_found, tags};
use crate::docs::{KIND_INSTANCE, KIND_SNAPSHOT, Snapshot, iso};

pub(super) async fn call(r: &Request<'_>, name: &str) -> Result<Value, AwsError> {
    match name {
        "CreateDBSnapshot" => create(r).await,
        "DescribeDBSnapshots" => describe(r).await,
        _ => delete(r).await,
    }
}

/// A snapshot as RDS describes it.
pub(crate) fn output(s: &Snapshot) -> Value {
    json!({
        "DBSnapshotIdentifier": s.id,
        "DBSnapshotArn": s.home.arn(KIND_SNAPSHOT, &s.id),
        "DBInstanceIdentifier": s.instance,
        "SnapshotCreateTime": iso(s.created_ms),
        "OriginalSnapshotCreateTime": iso(s.created_ms),
        "InstanceCreateTime": iso(s.instance_created_ms),
        "Engine": s.engine,
        "EngineVersion": s.engine_version,
        "AllocatedStorage": s.allocated_storage,
        "Status": s.status,
        "Port": s.port,
        "AvailabilityZone": format!("{}a", s.home.region),
        "MasterUsername": s.master_username,
        "SnapshotType": s.snapshot_type,
        "PercentProgress": if s.status == "available" { 100 } else { 0 },
        "StorageType": "gp2",
        "Encrypted": true,
        "LicenseModel": "general-public-license",
        "IAMDatabaseAuthenticationEnabled": false,
        "TagList": crate::docs::tag_list(&s.tags),
        "SnapshotTarget": "region",
    })
}

/// A snapshot of `instance`, waiting for the supervisor to dump it.
pub(crate) fn new_snapshot(r: &Request<'_>, id: &str, instance: &crate::docs::Instance, kind: &str) -> Snapshot {
    Snapshot {
        home: r.home.clone(),
        id: id.to_owned(),
        instance: instance.id.clone(),
        status: "creating".into(),
        engine: instance.engine.clone(),
        engine_version: instance.engine_version.clone(),
        master_username: instance.master_username.clone(),
        port: instance.port,
        allocated_storage: instance.allocated_storage,
        instance_created_ms: instance.created_ms,
        created_ms: r.now,
        object_key: format!("rds-snapshots/{}/{}/{id}-{}.sql", r.home.account_id, r.home.region, uuid::Uuid::new_v4()),
        snapshot_type: kind.to_owned(),
        tags: tags(r.input),
    }
}

async fn create(r: &Request<'_>) -> Result<Value, AwsError> {
    let id = r.identifier("DBSnapshotIdentifier")?;
    let _docs = r.rds.docs.lock().await;
    let mut instance = super::instances::find(r, r.str("DBInstanceIdentifier").unwrap_or_default()).await?;
    if instance.cluster.is_some() {
        return Err(combination(
            "The specified instance is a member of a cluster and a snapshot cannot be created directly. Please use the CreateDBClusterSnapshot API instead.",
        ));
    }
    if instance.status != "available" {
        return Err(AwsError::client(
            "InvalidDBInstanceState",
            format!("Cannot create a snapshot because the database instance {} is not currently in the available state.", instance.id),
        ));
    }
    let snapshot = new_snapshot(r, &id, &instance, "manual");
    let exists = AwsError::client(
        "DBSnapshotAlreadyExists",
        format!("Cannot create the snapshot because a snapshot with the identifier {id} already exists."),
    );
    r.insert(KIND_SNAPSHOT, &id, &snapshot, exists).await?;
    instance.status = "backing-up".into();
    r.save(KIND_INSTANCE, &instance.id, &instance).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBSnapshot": output(&snapshot)}))
}

async fn describe(r: &Request<'_>) -> Result<Value, AwsError> {
    r.known_filters(&["db-instance-id", "db-snapshot-id", "dbi-resource-id", "snapshot-type", "engine"])?;
    let mut all: Vec<Snapshot> = match r.str("DBSnapshotIdentifier") {
        Some(id) => vec![r.load(KIND_SNAPSHOT, &id.to_lowercase()).await?.ok_or_else(|| snapshot_not_found(id))?],
        None => r.list(KIND_SNAPSHOT).await?,
    };
    if let Some(i) = r.str("DBInstanceIdentifier") {
        let i = i.to_lowercase();
        all.retain(|s| s.instance == i);
    }
    if let Some(t) = r.str("SnapshotType") {
        all.retain(|s| s.snapshot_type == t);
    }
    if let Some(ids) = r.filter("db-instance-id") {
        all.retain(|s| ids.contains(&s.instance));
    }
    if let Some(ids) = r.filter("db-snapshot-id") {
        all.retain(|s| ids.contains(&s.id));
    }
    if let Some(types) = r.filter("snapshot-type") {
        all.retain(|s| types.contains(&s.snapshot_type));
    }
    if let Some(engines) = r.filter("engine") {
        all.retain(|s| engines.contains(&s.engine));
    }
    let (page, marker) = r.page(all, |s| s.id.as_str())?;
    let mut out = json!({"DBSnapshots": page.iter().map(output).collect::<Vec<_>>()});
    if let Some(m) = marker {
        out["Marker"] = json!(m);
    }
    Ok(out)
}

fn snapshot_not_found(id: &str) -> AwsError {
    not_found("DBSnapshotNotFound", format!("DBSnapshot {id} not found."))
}

async fn delete(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let id = r.str("DBSnapshotIdentifier").unwrap_or_default().to_lowercase();
    let mut s: Snapshot = r.load(KIND_SNAPSHOT, &id).await?.ok_or_else(|| snapshot_not_found(&id))?;
    if s.status != "available" {
        return Err(AwsError::client("InvalidDBSnapshotState", format!("Cannot delete the snapshot {id} because it is {}.", s.status)));
    }
    r.rds.store.rds_delete_snapshot(&s.object_key).await.map_err(internal)?;
    r.rds.store.rds_delete(&r.home.account_id, &r.home.region, KIND_SNAPSHOT, &id).await.map_err(internal)?;
    r.rds.event(&r.home, "db-snapshot", &id, KIND_SNAPSHOT, &["deletion"], "Manual snapshot deleted").await;
    s.status = "deleted".into();
    Ok(json!({"DBSnapshot": output(&s)}))
}
