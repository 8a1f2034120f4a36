//! The IAM service over the Query protocol: each operation described once in
//! [`OPERATIONS`] (its IAM action's resources included) and handled in the module of its
//! entity.

mod groups;
mod keys;
mod policies;
mod roles;
mod simulate;
mod users;

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::{AwsError, CallContext, Model, OperationSpec, Principal, Protocol, Service};

use crate::Identities;
use crate::entities::Tag;

const USER: &str = "arn:aws:iam::{account}:user/{UserName}";
const GROUP: &str = "arn:aws:iam::{account}:group/{GroupName}";
const ROLE: &str = "arn:aws:iam::{account}:role/{RoleName}";
const POLICY: &str = "{PolicyArn}";

/// Every IAM operation trailwatch serves, with the resources the Service Authorization
/// Reference lists for its action.
static OPERATIONS: &[OperationSpec] = &[
    OperationSpec::write("CreateUser").on(&["arn:aws:iam::{account}:user{Path}{UserName}"]),
    OperationSpec::read("GetUser").on(&[USER]),
    OperationSpec::read("ListUsers"),
    OperationSpec::write("UpdateUser").on(&[USER]),
    OperationSpec::write("DeleteUser").on(&[USER]),
    OperationSpec::write("TagUser").on(&[USER]),
    OperationSpec::write("UntagUser").on(&[USER]),
    OperationSpec::read("ListUserTags").on(&[USER]),
    OperationSpec::write("CreateAccessKey").on(&[USER]),
    OperationSpec::read("ListAccessKeys").on(&[USER]),
    OperationSpec::write("UpdateAccessKey").on(&[USER]),
    OperationSpec::write("DeleteAccessKey").on(&[USER]),
    OperationSpec::read("GetAccessKeyLastUsed"),
    OperationSpec::write("CreateGroup").on(&["arn:aws:iam::{account}:group{Path}{GroupName}"]),
    OperationSpec::read("GetGroup").on(&[GROUP]),
    OperationSpec::read("ListGroups"),
    OperationSpec::write("DeleteGroup").on(&[GROUP]),
    OperationSpec::write("AddUserToGroup").on(&[GROUP]),
    OperationSpec::write("RemoveUserFromGroup").on(&[GROUP]),
    OperationSpec::read("ListGroupsForUser").on(&[USER]),
    OperationSpec::write("CreateRole").on(&["arn:aws:iam::{account}:role{Path}{RoleName}"]),
    OperationSpec::read("GetRole").on(&[ROLE]),
    OperationSpec::read("ListRoles"),
    OperationSpec::write("UpdateRole").on(&[ROLE]),
    OperationSpec::write("UpdateAssumeRolePolicy").on(&[ROLE]),
    OperationSpec::write("DeleteRole").on(&[ROLE]),
    OperationSpec::write("TagRole").on(&[ROLE]),
    OperationSpec::write("UntagRole").on(&[ROLE]),
    OperationSpec::read("ListRoleTags").on(&[ROLE]),
    OperationSpec::write("PutUserPolicy").on(&[USER]),
    OperationSpec::read("GetUserPolicy").on(&[USER]),
    OperationSpec::read("ListUserPolicies").on(&[USER]),
    OperationSpec::write("DeleteUserPolicy").on(&[USER]),
    OperationSpec::write("PutGroupPolicy").on(&[GROUP]),
    OperationSpec::read("GetGroupPolicy").on(&[GROUP]),
    OperationSpec::read("ListGroupPolicies").on(&[GROUP]),
    OperationSpec::write("DeleteGroupPolicy").on(&[GROUP]),
    OperationSpec::write("PutRolePolicy").on(&[ROLE]),
    OperationSpec::read("GetRolePolicy").on(&[ROLE]),
    OperationSpec::read("ListRolePolicies").on(&[ROLE]),
    OperationSpec::write("DeleteRolePolicy").on(&[ROLE]),
    OperationSpec::write("CreatePolicy").on(&["arn:aws:iam::{account}:policy{Path}{PolicyName}"]),
    OperationSpec::read("GetPolicy").on(&[POLICY]),
    OperationSpec::read("ListPolicies"),
    OperationSpec::write("DeletePolicy").on(&[POLICY]),
    OperationSpec::write("CreatePolicyVersion").on(&[POLICY]),
    OperationSpec::read("GetPolicyVersion").on(&[POLICY]),
    OperationSpec::read("ListPolicyVersions").on(&[POLICY]),
    OperationSpec::write("DeletePolicyVersion").on(&[POLICY]),
    OperationSpec::write("SetDefaultPolicyVersion").on(&[POLICY]),
    OperationSpec::read("ListEntitiesForPolicy").on(&[POLICY]),
    OperationSpec::write("AttachUserPolicy").on(&[USER]),
    OperationSpec::write("DetachUserPolicy").on(&[USER]),
    OperationSpec::read("ListAttachedUserPolicies").on(&[USER]),
    OperationSpec::write("AttachGroupPolicy").on(&[GROUP]),
    OperationSpec::write("DetachGroupPolicy").on(&[GROUP]),
    OperationSpec::read("ListAttachedGroupPolicies").on(&[GROUP]),
    OperationSpec::write("AttachRolePolicy").on(&[ROLE]),
    OperationSpec::write("DetachRolePolicy").on(&[ROLE]),
    OperationSpec::read("ListAttachedRolePolicies").on(&[ROLE]),
    OperationSpec::write("PutUserPermissionsBoundary").on(&[USER]),
    OperationSpec::write("DeleteUserPermissionsBoundary").on(&[USER]),
    OperationSpec::write("PutRolePermissionsBoundary").on(&[ROLE]),
    OperationSpec::write("DeleteRolePermissionsBoundary").on(&[ROLE]),
    OperationSpec::read("SimulatePrincipalPolicy").on(&["{PolicySourceArn}"]),
    OperationSpec::read("SimulateCustomPolicy"),
];

/// The IAM service.
pub struct IamService {
    model: Model,
    identities: Identities,
}

impl IamService {
    /// IAM over the given identities, with its embedded botocore model.
    pub fn new(identities: Identities) -> Self {
        IamService { model: Model::parse(include_str!("../../../wire/models/iam.json")), identities }
    }
}

#[async_trait]
impl Service for IamService {
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
        "ValidationError"
    }

    async fn call(&self, ctx: &CallContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        let ids = &self.identities;
        let r = Request { ctx, input: &input };
        match op.name {
            "CreateUser" | "GetUser" | "ListUsers" | "UpdateUser" | "DeleteUser" | "TagUser" | "UntagUser" | "ListUserTags" => {
                users::call(ids, op.name, &r).await
            }
            "CreateAccessKey" | "ListAccessKeys" | "UpdateAccessKey" | "DeleteAccessKey" | "GetAccessKeyLastUsed" => {
                keys::call(ids, op.name, &r).await
            }
            "CreateGroup" | "GetGroup" | "ListGroups" | "DeleteGroup" | "AddUserToGroup" | "RemoveUserFromGroup" | "ListGroupsForUser" => {
                groups::call(ids, op.name, &r).await
            }
            "CreateRole"
            | "GetRole"
            | "ListRoles"
            | "UpdateRole"
            | "UpdateAssumeRolePolicy"
            | "DeleteRole"
            | "TagRole"
            | "UntagRole"
            | "ListRoleTags" => roles::call(ids, op.name, &r).await,
            "SimulatePrincipalPolicy" | "SimulateCustomPolicy" => simulate::call(ids, op.name, &r),
            _ => policies::call(ids, op.name, &r).await,
        }
    }

    /// IAM resources carry their path: `user/division/alice` for a user created with
    /// path `/division/`.
    fn resource_member(&self, member: &str, value: &str) -> String {
        let snapshot = self.identities.snapshot();
        let path = match member {
            "UserName" => snapshot.user(value).map(|u| u.path.clone()),
            "GroupName" => snapshot.group(value).map(|g| g.path.clone()),
            "RoleName" => snapshot.role(value).map(|r| r.path.clone()),
            _ => None,
        };
        match path {
            Some(p) => format!("{}{value}", &p[1..]),
            None => value.to_owned(),
        }
    }

    /// Operations on "the user" default to the caller's own user; paths default to `/`.
    fn default_member(&self, member: &str, principal: &Principal) -> Option<String> {
        match member {
            "UserName" => principal.user_name().map(str::to_owned),
            "Path" => Some("/".to_owned()),
            _ => None,
        }
    }
}

/// A handler's view of the call.
pub(crate) struct Request<'a> {
    pub ctx: &'a CallContext,
    pub input: &'a Value,
}

impl Request<'_> {
    /// A string member (required ones are guaranteed present by model validation).
    pub fn str(&self, member: &str) -> &str {
        self.input[member].as_str().unwrap_or_default()
    }

    /// An optional string member.
    pub fn opt(&self, member: &str) -> Option<&str> {
        self.input[member].as_str()
    }

    /// The call time, epoch seconds.
    pub fn now(&self) -> i64 {
        self.ctx.now_millis / 1000
    }

    /// `UserName`, or the caller's own user when left out, as IAM does.
    pub fn user_name(&self) -> Result<String, AwsError> {
        if let Some(name) = self.opt("UserName") {
            return Ok(name.to_owned());
        }
        self.ctx
            .principal
            .user_name()
            .map(str::to_owned)
            .ok_or_else(|| AwsError::client("ValidationError", "Must specify userName when calling with non-User credentials"))
    }

    /// The `Tags` member as tags.
    pub fn tags(&self) -> Vec<Tag> {
        self.input["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| Tag {
                key: t["Key"].as_str().unwrap_or_default().to_owned(),
                value: t["Value"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }
}

/// ISO 8601 as IAM writes dates.
pub(crate) fn iso(epoch_secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch_secs).unwrap_or(OffsetDateTime::UNIX_EPOCH).format(&Rfc3339).unwrap_or_default()
}

/// RFC 3986 unreserved characters stay; IAM returns policy documents URL-encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A policy document as IAM returns it: URL-encoded.
pub(crate) fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, ENCODE).to_string()
}

/// The `PermissionsBoundary` member of a created user or role, checked to exist.
pub(crate) fn boundary_arg(snapshot: &crate::directory::Snapshot, r: &Request<'_>) -> Result<Option<String>, AwsError> {
    let Some(arn) = r.opt("PermissionsBoundary") else { return Ok(None) };
    if snapshot.managed_document(arn).is_none() {
        return Err(no_such_entity(format!("Scope ARN: {arn} does not exist or is not attachable.")));
    }
    Ok(Some(arn.to_owned()))
}

/// Adds the model's `AttachedPermissionsBoundary` to a user or role.
pub(crate) fn with_boundary(mut v: Value, boundary: &Option<String>) -> Value {
    if let Some(arn) = boundary {
        v["PermissionsBoundary"] = json!({"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn});
    }
    v
}

/// Tags as the model's `Tag` list.
pub(crate) fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(tags.iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect())
}

/// Adds or replaces tags (keys compare case-insensitively); `LimitExceeded` past 50.
pub(crate) fn merge_tags(existing: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), AwsError> {
    for tag in new {
        match existing.iter_mut().find(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
            Some(t) => *t = tag,
            None => existing.push(tag),
        }
    }
    if existing.len() > 50 {
        return Err(limit_exceeded("Cannot exceed quota for TagsPerResource: 50"));
    }
    Ok(())
}

/// Removes the named tag keys.
pub(crate) fn remove_tags(existing: &mut Vec<Tag>, keys: &Value) {
    let keys: Vec<&str> = keys.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    existing.retain(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)));
}

/// One page of a listing, IAM-style: `Marker` is the sort key of the first item of the
/// next page, `MaxItems` defaults to 100.
pub(crate) fn page<T>(mut items: Vec<T>, r: &Request<'_>, key: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if let Some(marker) = r.opt("Marker") {
        items.retain(|i| key(i).as_str() >= marker);
    }
    let max = r.input["MaxItems"].as_u64().unwrap_or(100) as usize;
    if items.len() <= max {
        return (items, None);
    }
    let next = key(&items[max]);
    items.truncate(max);
    (items, Some(next))
}

/// Puts `IsTruncated` and `Marker` on a listing output.
pub(crate) fn paged(mut out: Value, next: Option<String>) -> Value {
    out["IsTruncated"] = json!(next.is_some());
    if let Some(marker) = next {
        out["Marker"] = json!(marker);
    }
    out
}

/// The path prefix filter of listings (`/` = everything).
pub(crate) fn under(path: &str, r: &Request<'_>) -> bool {
    path.starts_with(r.opt("PathPrefix").unwrap_or("/"))
}

pub(crate) fn no_such_entity(message: impl Into<String>) -> AwsError {
    AwsError::new("NoSuchEntity", 404, message)
}

pub(crate) fn already_exists(message: impl Into<String>) -> AwsError {
    AwsError::new("EntityAlreadyExists", 409, message)
}

pub(crate) fn delete_conflict(message: impl Into<String>) -> AwsError {
    AwsError::new("DeleteConflict", 409, message)
}

pub(crate) fn limit_exceeded(message: impl Into<String>) -> AwsError {
    AwsError::new("LimitExceeded", 409, message)
}

pub(crate) fn malformed(message: impl Into<String>) -> AwsError {
    AwsError::client("MalformedPolicyDocument", message)
}

pub(crate) fn invalid_input(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidInput", message)
}
