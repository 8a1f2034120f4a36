//! Inline policies of users, groups and roles; customer managed policies and their
//! versions; attaching managed policies (customer or AWS managed) to entities.

use policy::{Policy, PolicyKind};
use serde_json::{Value, json};
use wire::AwsError;

use super::{
    Request, already_exists, delete_conflict, encode_document, invalid_input, iso, limit_exceeded, malformed, merge_tags, no_such_entity,
    page, paged, tags_json, under,
};
use crate::Identities;
use crate::directory::{Change, Snapshot};
use crate::entities::{Group, ManagedPolicy, Permissions, PolicyVersion, Role, User, arn, new_id};
use crate::managed::{AwsPolicy, aws_policies, aws_policy};

/// IAM's quota on a managed policy document, in characters without whitespace.
const MANAGED_POLICY_SIZE: usize = 6144;
/// IAM keeps at most five versions of a managed policy.
const MAX_VERSIONS: usize = 5;
/// Managed policies attached to one user, group or role.
const ATTACHED_PER_ENTITY: usize = 10;

/// A user, group or role: whatever holds policies.
enum Holder {
    User(User),
    Group(Group),
    Role(Role),
}

impl Holder {
    /// The holder the operation names: `PutUserPolicy` → the `UserName` user, and so on.
    fn named(snapshot: &Snapshot, op: &str, r: &Request<'_>) -> Result<Holder, AwsError> {
        if op.contains("User") {
            return super::users::existing(snapshot, r.str("UserName")).map(|u| Holder::User(u.clone()));
        }
        if op.contains("Group") {
            return super::groups::existing(snapshot, r.str("GroupName")).map(|g| Holder::Group(g.clone()));
        }
        super::roles::existing(snapshot, r.str("RoleName")).map(|role| Holder::Role(role.clone()))
    }

    fn permissions(&self) -> &Permissions {
        match self {
            Holder::User(u) => &u.permissions,
            Holder::Group(g) => &g.permissions,
            Holder::Role(r) => &r.permissions,
        }
    }

    fn permissions_mut(&mut self) -> &mut Permissions {
        match self {
            Holder::User(u) => &mut u.permissions,
            Holder::Group(g) => &mut g.permissions,
            Holder::Role(r) => &mut r.permissions,
        }
    }

    /// `user`, `group` or `role`, as IAM's messages name them.
    fn kind(&self) -> &'static str {
        match self {
            Holder::User(_) => "user",
            Holder::Group(_) => "group",
            Holder::Role(_) => "role",
        }
    }

    fn name(&self) -> &str {
        match self {
            Holder::User(u) => &u.name,
            Holder::Group(g) => &g.name,
            Holder::Role(r) => &r.name,
        }
    }

    /// The request member that names the holder.
    fn member(&self) -> &'static str {
        match self {
            Holder::User(_) => "UserName",
            Holder::Group(_) => "GroupName",
            Holder::Role(_) => "RoleName",
        }
    }

    /// IAM's quota on the holder's inline policies together, characters without whitespace.
    fn inline_quota(&self) -> usize {
        match self {
            Holder::User(_) => 2048,
            Holder::Group(_) => 5120,
            Holder::Role(_) => 10240,
        }
    }

    fn quota_name(&self) -> &'static str {
        match self {
            Holder::User(_) => "PoliciesPerUser",
            Holder::Group(_) => "PoliciesPerGroup",
            Holder::Role(_) => "PoliciesPerRole",
        }
    }

    fn into_change(self) -> Change {
        match self {
            Holder::User(u) => Change::User(u),
            Holder::Group(g) => Change::Group(g),
            Holder::Role(r) => Change::Role(r),
        }
    }
}

pub(super) async fn call(ids: &Identities, op: &str, r: &Request<'_>) -> Result<Value, AwsError> {
    if is_read(op) {
        return read(ids, op, r);
    }
    let _writing = ids.lock_writes().await?;
    let snapshot = ids.snapshot();
    let change = match op {
        "PutUserPolicy" | "PutGroupPolicy" | "PutRolePolicy" => put_inline(&snapshot, op, r)?,
        "DeleteUserPolicy" | "DeleteGroupPolicy" | "DeleteRolePolicy" => {
            let mut holder = Holder::named(&snapshot, op, r)?;
            let name = r.str("PolicyName");
            if holder.permissions_mut().inline.remove(name).is_none() {
                return Err(no_such_entity(format!("The {} policy with name {name} cannot be found.", holder.kind())));
            }
            holder.into_change()
        }
        "AttachUserPolicy" | "AttachGroupPolicy" | "AttachRolePolicy" => {
            let mut holder = Holder::named(&snapshot, op, r)?;
            let policy_arn = r.str("PolicyArn");
            if snapshot.managed_document(policy_arn).is_none() {
                return Err(no_such_entity(format!("Policy {policy_arn} does not exist or is not attachable.")));
            }
            if holder.permissions().attached.iter().any(|a| a == policy_arn) {
                return Ok(json!({}));
            }
            if holder.permissions().attached.len() >= ATTACHED_PER_ENTITY {
                return Err(limit_exceeded(format!("Cannot exceed quota for {}: {ATTACHED_PER_ENTITY}", holder.quota_name())));
            }
            holder.permissions_mut().attached.push(policy_arn.to_owned());
            holder.into_change()
        }
        "PutUserPermissionsBoundary" | "PutRolePermissionsBoundary" => {
            let mut holder = Holder::named(&snapshot, op, r)?;
            holder.permissions_mut().boundary = super::boundary_arg(&snapshot, r)?;
            holder.into_change()
        }
        "DeleteUserPermissionsBoundary" | "DeleteRolePermissionsBoundary" => {
            let mut holder = Holder::named(&snapshot, op, r)?;
            holder.permissions_mut().boundary = None;
            holder.into_change()
        }
        "DetachUserPolicy" | "DetachGroupPolicy" | "DetachRolePolicy" => {
            let mut holder = Holder::named(&snapshot, op, r)?;
            let policy_arn = r.str("PolicyArn");
            let attached = &mut holder.permissions_mut().attached;
            let before = attached.len();
            attached.retain(|a| a != policy_arn);
            if attached.len() == before {
                return Err(no_such_entity(format!("Policy {policy_arn} was not found.")));
            }
            holder.into_change()
        }
        "CreatePolicy" => return create_policy(ids, &snapshot, r).await,
        "DeletePolicy" => {
            let policy = customer_policy(&snapshot, r.str("PolicyArn"))?;
            if attachment_count(&snapshot, &policy.arn) > 0 || boundary_count(&snapshot, &policy.arn) > 0 {
                return Err(delete_conflict("Cannot delete a policy attached to entities."));
            }
            if policy.versions.len() > 1 {
                return Err(delete_conflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
                ));
            }
            Change::DropPolicy(policy.arn.clone())
        }
        "CreatePolicyVersion" => return create_version(ids, &snapshot, r).await,
        "DeletePolicyVersion" => {
            let mut policy = customer_policy(&snapshot, r.str("PolicyArn"))?.clone();
            let version = r.str("VersionId");
            if policy.default_version == version {
                return Err(delete_conflict("Cannot delete the default version of a policy."));
            }
            let before = policy.versions.len();
            policy.versions.retain(|v| v.id != version);
            if policy.versions.len() == before {
                return Err(no_such_version(&policy.arn, version));
            }
            Change::Policy(policy)
        }
        "SetDefaultPolicyVersion" => {
            let mut policy = customer_policy(&snapshot, r.str("PolicyArn"))?.clone();
            let version = r.str("VersionId");
            if !policy.versions.iter().any(|v| v.id == version) {
                return Err(no_such_version(&policy.arn, version));
            }
            policy.default_version = version.to_owned();
            policy.updated = r.now();
            Change::Policy(policy)
        }
        other => unreachable!("policies::call routed {other}"),
    };
    ids.commit(vec![change]).await?;
    Ok(json!({}))
}

fn is_read(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("List")
}

fn put_inline(snapshot: &Snapshot, op: &str, r: &Request<'_>) -> Result<Change, AwsError> {
    let mut holder = Holder::named(snapshot, op, r)?;
    let document = r.str("PolicyDocument");
    Policy::parse_as(document, PolicyKind::Identity).map_err(|e| malformed(e.message()))?;
    holder.permissions_mut().inline.insert(r.str("PolicyName").to_owned(), document.to_owned());
    let size: usize = holder.permissions().inline.values().map(|d| packed_len(d)).sum();
    if size > holder.inline_quota() {
        return Err(limit_exceeded(format!(
            "Maximum policy size of {} bytes exceeded for {} {}",
            holder.inline_quota(),
            holder.kind(),
            holder.name()
        )));
    }
    Ok(holder.into_change())
}

async fn create_policy(ids: &Identities, snapshot: &Snapshot, r: &Request<'_>) -> Result<Value, AwsError> {
    let name = r.str("PolicyName");
    let path = r.opt("Path").unwrap_or("/");
    if snapshot.entities.policies.values().any(|p| p.name.eq_ignore_ascii_case(name)) {
        return Err(already_exists(format!("A policy called {name} already exists. Duplicate names are not allowed.")));
    }
    let document = r.str("PolicyDocument");
    check_managed_document(document)?;
    let now = r.now();
    let mut policy = ManagedPolicy {
        name: name.to_owned(),
        id: new_id("ANPA"),
        path: path.to_owned(),
        arn: arn(ids.account_id(), "policy", path, name),
        description: r.opt("Description").map(str::to_owned),
        created: now,
        updated: now,
        default_version: "v1".to_owned(),
        versions: vec![PolicyVersion { id: "v1".to_owned(), document: document.to_owned(), created: now }],
        next_version: 2,
        tags: Vec::new(),
    };
    merge_tags(&mut policy.tags, r.tags())?;
    ids.commit(vec![Change::Policy(policy.clone())]).await?;
    Ok(json!({"Policy": customer_json(snapshot, &policy)}))
}

async fn create_version(ids: &Identities, snapshot: &Snapshot, r: &Request<'_>) -> Result<Value, AwsError> {
    let mut policy = customer_policy(snapshot, r.str("PolicyArn"))?.clone();
    let document = r.str("PolicyDocument");
    check_managed_document(document)?;
    if policy.versions.len() >= MAX_VERSIONS {
        return Err(limit_exceeded(
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        ));
    }
    let version = PolicyVersion { id: format!("v{}", policy.next_version), document: document.to_owned(), created: r.now() };
    policy.next_version += 1;
    let is_default = r.input["SetAsDefault"].as_bool().unwrap_or(false);
    if is_default {
        policy.default_version = version.id.clone();
        policy.updated = version.created;
    }
    let out = json!({"PolicyVersion": {"VersionId": version.id, "IsDefaultVersion": is_default, "CreateDate": iso(version.created)}});
    policy.versions.push(version);
    ids.commit(vec![Change::Policy(policy)]).await?;
    Ok(out)
}

fn check_managed_document(document: &str) -> Result<(), AwsError> {
    let policy = Policy::parse_as(document, PolicyKind::Identity).map_err(|e| malformed(e.message()))?;
    policy.check_managed_version().map_err(|e| malformed(e.message()))?;
    if packed_len(document) > MANAGED_POLICY_SIZE {
        return Err(limit_exceeded(format!("Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}")));
    }
    Ok(())
}

fn read(ids: &Identities, op: &str, r: &Request<'_>) -> Result<Value, AwsError> {
    let snapshot = ids.snapshot();
    match op {
        "GetUserPolicy" | "GetGroupPolicy" | "GetRolePolicy" => {
            let holder = Holder::named(&snapshot, op, r)?;
            let name = r.str("PolicyName");
            let document = holder
                .permissions()
                .inline
                .get(name)
                .ok_or_else(|| no_such_entity(format!("The {} policy with name {name} cannot be found.", holder.kind())))?;
            let mut out = json!({"PolicyName": name, "PolicyDocument": encode_document(document)});
            out[holder.member()] = json!(holder.name());
            Ok(out)
        }
        "ListUserPolicies" | "ListGroupPolicies" | "ListRolePolicies" => {
            let holder = Holder::named(&snapshot, op, r)?;
            let names: Vec<String> = holder.permissions().inline.keys().cloned().collect();
            let (names, next) = page(names, r, Clone::clone);
            Ok(paged(json!({"PolicyNames": names}), next))
        }
        "ListAttachedUserPolicies" | "ListAttachedGroupPolicies" | "ListAttachedRolePolicies" => {
            let holder = Holder::named(&snapshot, op, r)?;
            let attached: Vec<(String, String)> = holder
                .permissions()
                .attached
                .iter()
                .filter_map(|a| policy_name_and_path(&snapshot, a).map(|(name, path)| (a.clone(), name, path)))
                .filter(|(_, _, path)| under(path, r))
                .map(|(a, name, _)| (name, a))
                .collect();
            let (attached, next) = page(attached, r, |(name, _)| name.clone());
            let attached: Vec<Value> = attached.iter().map(|(name, a)| json!({"PolicyName": name, "PolicyArn": a})).collect();
            Ok(paged(json!({"AttachedPolicies": attached}), next))
        }
        "GetPolicy" => {
            let arn = r.str("PolicyArn");
            if let Some(p) = aws_policy(arn) {
                return Ok(json!({"Policy": aws_json(&snapshot, p)}));
            }
            Ok(json!({"Policy": customer_json(&snapshot, customer_policy(&snapshot, arn)?)}))
        }
        "ListPolicies" => list_policies(&snapshot, r),
        "GetPolicyVersion" => {
            let arn = r.str("PolicyArn");
            let version_id = r.str("VersionId");
            let (document, default, created) = version_of(&snapshot, arn, version_id)?;
            Ok(json!({"PolicyVersion": {
                "Document": encode_document(document),
                "VersionId": version_id,
                "IsDefaultVersion": default,
                "CreateDate": iso(created),
            }}))
        }
        "ListPolicyVersions" => {
            let arn = r.str("PolicyArn");
            let versions: Vec<Value> = if let Some(p) = aws_policy(arn) {
                vec![json!({"VersionId": p.default_version, "IsDefaultVersion": true, "CreateDate": iso(p.updated)})]
            } else {
                let p = customer_policy(&snapshot, arn)?;
                p.versions
                    .iter()
                    .rev()
                    .map(|v| json!({"VersionId": v.id, "IsDefaultVersion": v.id == p.default_version, "CreateDate": iso(v.created)}))
                    .collect()
            };
            let (versions, next) = page(versions, r, |v| v["VersionId"].as_str().unwrap_or_default().to_owned());
            Ok(paged(json!({"Versions": versions}), next))
        }
        "ListEntitiesForPolicy" => {
            let arn = r.str("PolicyArn");
            if snapshot.managed_document(arn).is_none() {
                return Err(no_such_entity(format!("Policy {arn} was not found.")));
            }
            let filter = r.opt("EntityFilter");
            let e = &snapshot.entities;
            // (kind, name, id) of every entity with the policy attached that the filter keeps.
            let holders: Vec<(&str, &str, &str)> = e
                .users
                .values()
                .map(|u| ("User", &u.name, &u.id, &u.permissions))
                .chain(e.groups.values().map(|g| ("Group", &g.name, &g.id, &g.permissions)))
                .chain(e.roles.values().map(|x| ("Role", &x.name, &x.id, &x.permissions)))
                .filter(|(kind, _, _, p)| filter.is_none_or(|f| f == *kind) && p.attached.iter().any(|a| a == arn))
                .map(|(kind, name, id, _)| (kind, name.as_str(), id.as_str()))
                .collect();
            let of = |kind: &str| -> Vec<Value> {
                holders
                    .iter()
                    .filter(|h| h.0 == kind)
                    .map(|(_, name, id)| json!({format!("{kind}Name"): name, format!("{kind}Id"): id}))
                    .collect()
            };
            let (users, groups, roles) = (of("User"), of("Group"), of("Role"));
            Ok(json!({"PolicyGroups": groups, "PolicyUsers": users, "PolicyRoles": roles, "IsTruncated": false}))
        }
        other => unreachable!("policies::read routed {other}"),
    }
}

fn list_policies(snapshot: &Snapshot, r: &Request<'_>) -> Result<Value, AwsError> {
    let scope = r.opt("Scope").unwrap_or("All");
    let only_attached = r.input["OnlyAttached"].as_bool().unwrap_or(false);
    let mut all: Vec<(String, Value)> = Vec::new();
    if scope != "Local" {
        all.extend(aws_policies().map(|p| (p.name.clone(), aws_json(snapshot, p))));
    }
    if scope != "AWS" {
        all.extend(snapshot.entities.policies.values().map(|p| (p.name.clone(), customer_json(snapshot, p))));
    }
    all.retain(|(_, v)| under(v["Path"].as_str().unwrap_or("/"), r));
    if only_attached {
        all.retain(|(_, v)| v["AttachmentCount"].as_u64().unwrap_or(0) > 0);
    }
    all.sort_by_key(|a| a.0.to_lowercase());
    let (policies, next) = page(all, r, |(name, _)| name.to_lowercase());
    let policies: Vec<Value> = policies.into_iter().map(|(_, v)| v).collect();
    Ok(paged(json!({"Policies": policies}), next))
}

/// The document, default flag and creation time of a version of any managed policy.
fn version_of<'a>(snapshot: &'a Snapshot, arn: &str, version_id: &str) -> Result<(&'a str, bool, i64), AwsError> {
    if let Some(p) = aws_policy(arn) {
        if p.default_version == version_id {
            return Ok((p.document, true, p.updated));
        }
        return Err(no_such_version(arn, version_id));
    }
    let p = customer_policy(snapshot, arn)?;
    let v = p.versions.iter().find(|v| v.id == version_id).ok_or_else(|| no_such_version(arn, version_id))?;
    Ok((&v.document, v.id == p.default_version, v.created))
}

fn policy_name_and_path(snapshot: &Snapshot, arn: &str) -> Option<(String, String)> {
    if let Some(p) = aws_policy(arn) {
        return Some((p.name.clone(), p.path.clone()));
    }
    snapshot.entities.policies.get(arn).map(|p| (p.name.clone(), p.path.clone()))
}

fn customer_policy<'a>(snapshot: &'a Snapshot, arn: &str) -> Result<&'a ManagedPolicy, AwsError> {
    if aws_policy(arn).is_some() {
        return Err(invalid_input(format!("Policy {arn} is an AWS managed policy and cannot be changed.")));
    }
    snapshot.entities.policies.get(arn).ok_or_else(|| no_such_entity(format!("Policy {arn} was not found.")))
}

fn no_such_version(arn: &str, version: &str) -> AwsError {
    no_such_entity(format!("Policy {arn} version {version} does not exist or is not attachable."))
}

/// How many users, groups and roles have the policy attached.
fn attachment_count(snapshot: &Snapshot, arn: &str) -> usize {
    let e = &snapshot.entities;
    let has = |p: &Permissions| p.attached.iter().any(|a| a == arn);
    e.users.values().filter(|u| has(&u.permissions)).count()
        + e.groups.values().filter(|g| has(&g.permissions)).count()
        + e.roles.values().filter(|r| has(&r.permissions)).count()
}

/// How many users and roles have the policy as their permissions boundary.
fn boundary_count(snapshot: &Snapshot, arn: &str) -> usize {
    let e = &snapshot.entities;
    let bounds = |p: &Permissions| p.boundary.as_deref() == Some(arn);
    e.users.values().filter(|u| bounds(&u.permissions)).count() + e.roles.values().filter(|r| bounds(&r.permissions)).count()
}

fn customer_json(snapshot: &Snapshot, p: &ManagedPolicy) -> Value {
    let mut v = json!({
        "PolicyName": p.name,
        "PolicyId": p.id,
        "Arn": p.arn,
        "Path": p.path,
        "DefaultVersionId": p.default_version,
        "AttachmentCount": attachment_count(snapshot, &p.arn),
        "PermissionsBoundaryUsageCount": boundary_count(snapshot, &p.arn),
        "IsAttachable": true,
        "CreateDate": iso(p.created),
        "UpdateDate": iso(p.updated),
    });
    if let Some(d) = &p.description {
        v["Description"] = json!(d);
    }
    if !p.tags.is_empty() {
        v["Tags"] = tags_json(&p.tags);
    }
    v
}

fn aws_json(snapshot: &Snapshot, p: &AwsPolicy) -> Value {
    json!({
        "PolicyName": p.name,
        "PolicyId": format!("ANPA{}", &hex_id(&p.name)),
        "Arn": p.arn,
        "Path": p.path,
        "DefaultVersionId": p.default_version,
        "AttachmentCount": attachment_count(snapshot, &p.arn),
        "PermissionsBoundaryUsageCount": boundary_count(snapshot, &p.arn),
        "IsAttachable": true,
        "Description": p.description,
        "CreateDate": iso(p.created),
        "UpdateDate": iso(p.updated),
    })
}

/// A stable 17-character ID for an AWS managed policy, derived from its name (AWS's own
/// IDs are not published in the documents we embed).
fn hex_id(name: &str) -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    Sha256::digest(name.as_bytes()).iter().take(17).map(|b| ALPHABET[usize::from(*b) % 32] as char).collect()
}

/// A document's size as IAM counts it for quotas: characters other than whitespace.
fn packed_len(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}
