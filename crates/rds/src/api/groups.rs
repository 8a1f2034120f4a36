//! DB cluster parameter groups: the audit settings live here, and a change reaches the
//! running servers of every cluster using the group without a restart.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wire::AwsError;

use super::{Request, invalid, not_found};
use crate::docs::{Cluster, KIND_CLUSTER, KIND_PARAMETER_GROUP, ParameterGroup};
use crate::params;

pub(super) async fn call(r: &Request<'_>, name: &str) -> Result<Value, AwsError> {
    match name {
        "CreateDBClusterParameterGroup" => create(r).await,
        "DescribeDBClusterParameterGroups" => describe(r).await,
        "DescribeDBClusterParameters" => parameters(r).await,
        "ModifyDBClusterParameterGroup" => modify(r).await,
        "ResetDBClusterParameterGroup" => reset(r).await,
        _ => delete(r).await,
    }
}

/// The families trailwatch has parameter groups for.
const FAMILIES: &[&str] = &["aurora-mysql8.0", "aurora-mysql5.7", "mysql8.0", "mysql5.7", "mariadb10.11", "mariadb10.6"];

/// A group by name: a stored one, or a family's `default.FAMILY` group.
pub(crate) async fn find(r: &Request<'_>, name: &str) -> Result<ParameterGroup, AwsError> {
    let name = name.to_lowercase();
    if let Some(family) = name.strip_prefix("default.").filter(|f| FAMILIES.contains(f)) {
        return Ok(default_group(r, family));
    }
    r.load(KIND_PARAMETER_GROUP, &name)
        .await?
        .ok_or_else(|| not_found("DBParameterGroupNotFound", format!("DBClusterParameterGroup not found: {name}")))
}

fn default_group(r: &Request<'_>, family: &str) -> ParameterGroup {
    ParameterGroup {
        home: r.home.clone(),
        name: format!("default.{family}"),
        family: family.to_owned(),
        description: format!("Default cluster parameter group for {family}"),
        values: BTreeMap::new(),
    }
}

async fn create(r: &Request<'_>) -> Result<Value, AwsError> {
    let name = r.str("DBClusterParameterGroupName").unwrap_or_default().to_lowercase();
    if name.starts_with("default") || !name.starts_with(|c: char| c.is_ascii_alphabetic()) || name.ends_with('-') || name.contains("--") {
        return Err(invalid(format!("The parameter DBClusterParameterGroupName is not a valid identifier: {name}")));
    }
    let family = r.str("DBParameterGroupFamily").unwrap_or_default().to_lowercase();
    if !FAMILIES.contains(&family.as_str()) {
        return Err(invalid(format!("ParameterGroupFamily {family} is not a valid parameter group family")));
    }
    let group = ParameterGroup {
        home: r.home.clone(),
        name: name.clone(),
        family,
        description: r.str("Description").unwrap_or_default().to_owned(),
        values: BTreeMap::new(),
    };
    let exists = AwsError::client("DBParameterGroupAlreadyExists", format!("Parameter group {name} already exists"));
    r.insert(KIND_PARAMETER_GROUP, &name, &group, exists).await?;
    Ok(json!({"DBClusterParameterGroup": group.output()}))
}

async fn describe(r: &Request<'_>) -> Result<Value, AwsError> {
    r.known_filters(&[])?;
    let groups = match r.str("DBClusterParameterGroupName") {
        Some(name) => vec![find(r, name).await?],
        None => {
            let mut all: Vec<ParameterGroup> = FAMILIES.iter().map(|f| default_group(r, f)).collect();
            all.extend(r.list::<ParameterGroup>(KIND_PARAMETER_GROUP).await?);
            all.sort_by(|a, b| a.name.cmp(&b.name));
            all
        }
    };
    let (page, marker) = r.page(groups, |g| g.name.as_str())?;
    let mut out = json!({"DBClusterParameterGroups": page.iter().map(ParameterGroup::output).collect::<Vec<_>>()});
    if let Some(m) = marker {
        out["Marker"] = json!(m);
    }
    Ok(out)
}

async fn parameters(r: &Request<'_>) -> Result<Value, AwsError> {
    let group = find(r, r.str("DBClusterParameterGroupName").unwrap_or_default()).await?;
    let source = r.str("Source");
    if let Some(s) = source
        && !matches!(s, "user" | "engine-default" | "system")
    {
        return Err(invalid(format!("Invalid source: {s}. Valid sources are: user, system, engine-default")));
    }
    let listed: Vec<Value> = params::PARAMETERS
        .iter()
        .map(|p| params::output(p, &group.values))
        .filter(|p| source.is_none_or(|s| p["Source"].as_str() == Some(s)))
        .collect();
    let (page, marker) = r.page(listed, |p| p["ParameterName"].as_str().unwrap_or_default())?;
    let mut out = json!({"Parameters": page});
    if let Some(m) = marker {
        out["Marker"] = json!(m);
    }
    Ok(out)
}

/// The stored group a change applies to; default groups cannot change.
async fn changeable(r: &Request<'_>) -> Result<ParameterGroup, AwsError> {
    let name = r.str("DBClusterParameterGroupName").unwrap_or_default().to_lowercase();
    if name.starts_with("default.") {
        find(r, &name).await?;
        return Err(invalid(format!("Default parameter groups cannot be modified: {name}")));
    }
    find(r, &name).await
}

/// One entry of a request's `Parameters`: name, value, apply method.
type Requested = (String, Option<String>, Option<String>);

/// The `Parameters` of a request, at most 20.
fn requested(r: &Request<'_>) -> Result<Vec<Requested>, AwsError> {
    let list = r.input.get("Parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    if list.len() > 20 {
        return Err(invalid("A maximum of 20 parameters can be modified in a single request."));
    }
    Ok(list
        .iter()
        .map(|p| {
            (
                p["ParameterName"].as_str().unwrap_or_default().to_owned(),
                p["ParameterValue"].as_str().map(str::to_owned),
                p["ApplyMethod"].as_str().map(str::to_owned),
            )
        })
        .collect())
}

async fn modify(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut group = changeable(r).await?;
    let wanted = requested(r)?;
    if wanted.is_empty() {
        return Err(invalid("Parameters: must contain at least one parameter"));
    }
    // Every change is checked before any is made.
    for (name, value, method) in &wanted {
        let spec = params::find(name).ok_or_else(|| invalid(format!("Could not find parameter with name: {name}")))?;
        if !spec.modifiable {
            return Err(invalid(format!("The parameter {name} cannot be modified.")));
        }
        let value = value.as_deref().ok_or_else(|| invalid(format!("The parameter {name} must have a value.")))?;
        params::check(spec, value)?;
        if !spec.dynamic && method.as_deref() == Some("immediate") {
            return Err(AwsError::client(
                "InvalidParameterCombination",
                format!("cannot use immediate apply method for static parameter {name}"),
            ));
        }
    }
    for (name, value, _) in wanted {
        group.values.insert(name, value.unwrap_or_default());
    }
    r.save(KIND_PARAMETER_GROUP, &group.name, &group).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBClusterParameterGroupName": group.name}))
}

async fn reset(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let mut group = changeable(r).await?;
    let wanted = requested(r)?;
    let all = r.bool("ResetAllParameters").unwrap_or(false);
    match (all, wanted.is_empty()) {
        (true, false) => {
            return Err(AwsError::client("InvalidParameterCombination", "Cannot specify both ResetAllParameters and Parameters"));
        }
        (false, true) => return Err(invalid("Parameters: must contain at least one parameter when ResetAllParameters is false")),
        (true, true) => group.values.clear(),
        (false, false) => {
            for (name, _, _) in &wanted {
                params::find(name).ok_or_else(|| invalid(format!("Could not find parameter with name: {name}")))?;
            }
            for (name, _, _) in wanted {
                group.values.remove(&name);
            }
        }
    }
    r.save(KIND_PARAMETER_GROUP, &group.name, &group).await?;
    r.rds.wake.notify_one();
    Ok(json!({"DBClusterParameterGroupName": group.name}))
}

async fn delete(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.rds.docs.lock().await;
    let group = changeable(r).await.map_err(|e| {
        if e.code == "InvalidParameterValue" {
            AwsError::client("InvalidDBParameterGroupState", "Default parameter groups cannot be deleted")
        } else {
            e
        }
    })?;
    let clusters: Vec<Cluster> = r.list(KIND_CLUSTER).await?;
    if clusters.iter().any(|c| c.parameter_group == group.name) {
        return Err(AwsError::client(
            "InvalidDBParameterGroupState",
            format!("Cannot delete parameter group {} because it is in use by a DB cluster", group.name),
        ));
    }
    r.rds.store.rds_delete(&r.home.account_id, &r.home.region, KIND_PARAMETER_GROUP, &group.name).await.map_err(super::internal)?;
    Ok(json!({}))
}
