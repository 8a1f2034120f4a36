//! Roles and their trust policies: CreateRole, GetRole, ListRoles, UpdateRole,
//! UpdateAssumeRolePolicy, DeleteRole and role tags.

use policy::{Policy, PolicyKind};
use serde_json::{Value, json};
use wire::AwsError;

use super::{
    Request, already_exists, boundary_arg, delete_conflict, encode_document, iso, limit_exceeded, malformed, merge_tags, no_such_entity,
    page, paged, remove_tags, tags_json, under, with_boundary,
};
use crate::Identities;
use crate::directory::{Change, Snapshot};
use crate::entities::{Permissions, Role, arn, new_id};

/// Default and bounds of MaxSessionDuration (the model checks the bounds).
const DEFAULT_MAX_SESSION: i64 = 3600;
/// IAM's quota on the size of a trust policy, in characters without whitespace.
const TRUST_POLICY_SIZE: usize = 2048;

pub(super) async fn call(ids: &Identities, op: &str, r: &Request<'_>) -> Result<Value, AwsError> {
    let account = ids.account_id();
    match op {
        "GetRole" => {
            let snapshot = ids.snapshot();
            return Ok(json!({"Role": role_json(account, existing(&snapshot, r.str("RoleName"))?)}));
        }
        "ListRoles" => {
            let snapshot = ids.snapshot();
            let roles: Vec<&Role> = snapshot.entities.roles.values().filter(|g| under(&g.path, r)).collect();
            let (roles, next) = page(roles, r, |g| g.name.to_lowercase());
            let roles: Vec<Value> = roles
                .iter()
                .map(|role| {
                    let mut v = role_json(account, role);
                    v.as_object_mut().map(|o| o.remove("Tags"));
                    v
                })
                .collect();
            return Ok(paged(json!({"Roles": roles}), next));
        }
        "ListRoleTags" => {
            let snapshot = ids.snapshot();
            let role = existing(&snapshot, r.str("RoleName"))?;
            let (tags, next) = page(role.tags.clone(), r, |t| t.key.clone());
            return Ok(paged(json!({"Tags": tags_json(&tags)}), next));
        }
        _ => {}
    }
    let _writing = ids.lock_writes().await?;
    let snapshot = ids.snapshot();
    match op {
        "CreateRole" => {
            let name = r.str("RoleName");
            if snapshot.role(name).is_some() {
                return Err(already_exists(format!("Role with name {name} already exists.")));
            }
            let trust = r.str("AssumeRolePolicyDocument");
            check_trust(trust)?;
            let boundary = boundary_arg(&snapshot, r)?;
            let mut role = Role {
                name: name.to_owned(),
                id: new_id("AROA"),
                path: r.opt("Path").unwrap_or("/").to_owned(),
                created: r.now(),
                trust: trust.to_owned(),
                description: r.opt("Description").map(str::to_owned),
                max_session: r.input["MaxSessionDuration"].as_i64().unwrap_or(DEFAULT_MAX_SESSION),
                tags: Vec::new(),
                permissions: Permissions { boundary, ..Permissions::default() },
            };
            merge_tags(&mut role.tags, r.tags())?;
            ids.commit(vec![Change::Role(role.clone())]).await?;
            Ok(json!({"Role": role_json(account, &role)}))
        }
        "UpdateRole" => {
            let mut role = existing(&snapshot, r.str("RoleName"))?.clone();
            if let Some(d) = r.opt("Description") {
                role.description = Some(d.to_owned());
            }
            if let Some(m) = r.input["MaxSessionDuration"].as_i64() {
                role.max_session = m;
            }
            ids.commit(vec![Change::Role(role)]).await?;
            Ok(json!({}))
        }
        "UpdateAssumeRolePolicy" => {
            let mut role = existing(&snapshot, r.str("RoleName"))?.clone();
            let trust = r.str("PolicyDocument");
            check_trust(trust)?;
            role.trust = trust.to_owned();
            ids.commit(vec![Change::Role(role)]).await?;
            Ok(json!({}))
        }
        "DeleteRole" => {
            let role = existing(&snapshot, r.str("RoleName"))?;
            if !role.permissions.inline.is_empty() {
                return Err(delete_conflict("Cannot delete entity, must delete policies first."));
            }
            if !role.permissions.attached.is_empty() {
                return Err(delete_conflict("Cannot delete entity, must detach all policies first."));
            }
            ids.commit(vec![Change::DropRole(role.name.clone())]).await?;
            Ok(json!({}))
        }
        "TagRole" => {
            let mut role = existing(&snapshot, r.str("RoleName"))?.clone();
            merge_tags(&mut role.tags, r.tags())?;
            ids.commit(vec![Change::Role(role)]).await?;
            Ok(json!({}))
        }
        "UntagRole" => {
            let mut role = existing(&snapshot, r.str("RoleName"))?.clone();
            remove_tags(&mut role.tags, &r.input["TagKeys"]);
            ids.commit(vec![Change::Role(role)]).await?;
            Ok(json!({}))
        }
        other => unreachable!("roles::call routed {other}"),
    }
}

/// A trust policy must parse as one, within IAM's size quota.
fn check_trust(document: &str) -> Result<(), AwsError> {
    Policy::parse_as(document, PolicyKind::Trust).map_err(|e| malformed(e.message()))?;
    if document.chars().filter(|c| !c.is_whitespace()).count() > TRUST_POLICY_SIZE {
        return Err(limit_exceeded(format!("Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}")));
    }
    Ok(())
}

/// The role of that name, or IAM's NoSuchEntity.
pub(super) fn existing<'a>(snapshot: &'a Snapshot, name: &str) -> Result<&'a Role, AwsError> {
    snapshot.role(name).ok_or_else(|| no_such_entity(format!("The role with name {name} cannot be found.")))
}

fn role_json(account: &str, role: &Role) -> Value {
    let mut v = json!({
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.id,
        "Arn": arn(account, "role", &role.path, &role.name),
        "CreateDate": iso(role.created),
        "AssumeRolePolicyDocument": encode_document(&role.trust),
        "MaxSessionDuration": role.max_session,
    });
    if let Some(d) = &role.description {
        v["Description"] = json!(d);
    }
    if !role.tags.is_empty() {
        v["Tags"] = tags_json(&role.tags);
    }
    with_boundary(v, &role.permissions.boundary)
}
