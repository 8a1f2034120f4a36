//! Authorization: AWS's evaluation logic over a caller's policies, and the request
//! context (global condition keys) each decision sees.
//!
//! Within one account, as on AWS: the root may do anything; a user needs an identity
//! policy (its own or a group's) that allows and none that denies; a role session needs
//! the role's policies to allow and, when the session was narrowed, its session policies
//! to allow too. An explicit deny anywhere wins.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use policy::{Decision, Policy, RequestContext};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::{Principal, PrincipalKind};

use crate::directory::Snapshot;
use crate::entities::Tag;
use crate::{Caller, Grant, Identities};

/// One call to authorize: the action, its resources and the facts conditions read.
#[derive(Debug, Clone)]
pub struct AccessRequest<'a> {
    /// The IAM action, `service:Operation`.
    pub action: &'a str,
    /// The resources the action needs, each authorized in turn.
    pub resources: &'a [String],
    /// The region of the call (`aws:RequestedRegion`).
    pub region: &'a str,
    /// The caller's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
    /// When the request arrived (`aws:CurrentTime`, `aws:EpochTime`).
    pub now: OffsetDateTime,
    /// Tags the request sets (`aws:RequestTag/*`, `aws:TagKeys`).
    pub request_tags: &'a [(String, String)],
    /// Tag keys the request names (`aws:TagKeys`).
    pub tag_keys: &'a [String],
    /// Tags of the resources, by ARN (`aws:ResourceTag/*`).
    pub resource_tags: &'a BTreeMap<String, BTreeMap<String, String>>,
}

/// A refused call: AWS's message naming the principal, the action, the resource and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The AccessDenied message.
    pub message: String,
}

/// Which kind of policy refused, for the end of AWS's message.
enum Refusal {
    NoIdentityAllow,
    IdentityDeny,
    NoBoundaryAllow,
    BoundaryDeny,
    NoSessionAllow,
    SessionDeny,
}

impl Identities {
    /// Whether authorizing this caller may read `aws:ResourceTag/*`, so the caller of
    /// [`Identities::authorize`] knows to look the tags up.
    pub fn needs_resource_tags(&self, caller: &Caller) -> bool {
        match &caller.grant {
            Grant::Root => false,
            Grant::ServiceLinked { policy } => uses_resource_tags(policy),
            Grant::User { key } => self.snapshot().grants(&format!("user:{key}")).is_some_and(|g| g.uses_resource_tags),
            Grant::Session { role_key, session_policies, .. } => {
                self.snapshot().grants(&format!("role:{role_key}")).is_some_and(|g| g.uses_resource_tags)
                    || session_policies.iter().flatten().any(|p| uses_resource_tags(p))
            }
        }
    }

    /// Decides the call: `Ok` when every resource is allowed.
    pub fn authorize(&self, caller: &Caller, request: &AccessRequest<'_>) -> Result<(), Denied> {
        if matches!(caller.grant, Grant::Root) {
            return Ok(());
        }
        let snapshot = self.snapshot();
        let star = ["*".to_owned()];
        let resources = if request.resources.is_empty() { &star[..] } else { request.resources };
        for resource in resources {
            let context = request_context(&caller.principal, &snapshot, request, resource);
            if let Err(refusal) = decide(caller, &snapshot, &context) {
                return Err(denied(caller, request.action, resource, refusal));
            }
        }
        Ok(())
    }
}

fn uses_resource_tags(p: &Policy) -> bool {
    p.condition_keys().iter().any(|k| k.starts_with("aws:resourcetag/"))
}

/// AWS's evaluation for one resource.
fn decide(caller: &Caller, snapshot: &Snapshot, context: &RequestContext) -> Result<(), Refusal> {
    let (grants_key, session_policies) = match &caller.grant {
        Grant::Root => return Ok(()),
        Grant::ServiceLinked { policy } => {
            return match policy::decide(&[policy.as_ref()], context) {
                Decision::Allow => Ok(()),
                Decision::ExplicitDeny => Err(Refusal::IdentityDeny),
                Decision::ImplicitDeny => Err(Refusal::NoIdentityAllow),
            };
        }
        Grant::User { key } => (format!("user:{key}"), None),
        Grant::Session { role_key, role_id, session_policies, .. } => {
            // A role deleted and re-created under the same name is a different role: the
            // old sessions get nothing from the new one.
            if snapshot.role(role_key).is_none_or(|r| &r.id != role_id) {
                return Err(Refusal::NoIdentityAllow);
            }
            (format!("role:{role_key}"), session_policies.as_ref())
        }
    };
    let grants = snapshot.grants(&grants_key);
    let identity: Vec<&Policy> = grants.map(|g| g.policies.iter().map(Arc::as_ref).collect()).unwrap_or_default();
    let identity_decision = policy::decide(&identity, context);
    if let Some(bound) = grants.and_then(|g| g.boundary.as_ref()) {
        let bound: Vec<&Policy> = bound.iter().map(Arc::as_ref).collect();
        match (identity_decision, policy::decide(&bound, context)) {
            (Decision::ExplicitDeny, _) => return Err(Refusal::IdentityDeny),
            (_, Decision::ExplicitDeny) => return Err(Refusal::BoundaryDeny),
            (Decision::Allow, Decision::ImplicitDeny) => return Err(Refusal::NoBoundaryAllow),
            _ => {}
        }
    }
    let session_decision = session_policies.map(|s| {
        let s: Vec<&Policy> = s.iter().map(Arc::as_ref).collect();
        policy::decide(&s, context)
    });
    match (identity_decision, session_decision) {
        (Decision::ExplicitDeny, _) => Err(Refusal::IdentityDeny),
        (_, Some(Decision::ExplicitDeny)) => Err(Refusal::SessionDeny),
        (Decision::ImplicitDeny, _) => Err(Refusal::NoIdentityAllow),
        (Decision::Allow, Some(Decision::ImplicitDeny)) => Err(Refusal::NoSessionAllow),
        (Decision::Allow, _) => Ok(()),
    }
}

fn denied(caller: &Caller, action: &str, resource: &str, refusal: Refusal) -> Denied {
    let why = match refusal {
        Refusal::NoIdentityAllow => format!("because no identity-based policy allows the {action} action"),
        Refusal::IdentityDeny => "with an explicit deny in an identity-based policy".to_owned(),
        Refusal::NoBoundaryAllow => format!("because no permissions boundary allows the {action} action"),
        Refusal::BoundaryDeny => "with an explicit deny in a permissions boundary".to_owned(),
        Refusal::NoSessionAllow => format!("because no session policy allows the {action} action"),
        Refusal::SessionDeny => "with an explicit deny in a session policy".to_owned(),
    };
    Denied { message: format!("User: {} is not authorized to perform: {action} on resource: {resource} {why}", caller.principal.arn) }
}

/// The request context of one decision: the action, the resource, and the global
/// condition keys AWS sets for this kind of principal.
pub(crate) fn request_context(principal: &Principal, snapshot: &Snapshot, request: &AccessRequest<'_>, resource: &str) -> RequestContext {
    let mut ctx = RequestContext::new(request.action, resource);
    ctx.principal = Some(policy_principal(principal));
    principal_keys(&mut ctx, principal, snapshot);
    ctx.set("aws:CurrentTime", request.now.format(&Rfc3339).unwrap_or_default());
    ctx.set("aws:EpochTime", request.now.unix_timestamp().to_string());
    ctx.set("aws:SecureTransport", request.secure_transport.to_string());
    ctx.set("aws:RequestedRegion", request.region.to_owned());
    if let Some(ip) = request.source_ip {
        ctx.set("aws:SourceIp", ip.to_string());
    }
    for (k, v) in request.request_tags {
        ctx.set(&format!("aws:RequestTag/{k}"), v.clone());
    }
    let keys: Vec<String> = request.request_tags.iter().map(|(k, _)| k.clone()).chain(request.tag_keys.iter().cloned()).collect();
    if !keys.is_empty() {
        ctx.set_all("aws:TagKeys", keys);
    }
    if let Some(tags) = request.resource_tags.get(resource) {
        for (k, v) in tags {
            ctx.set(&format!("aws:ResourceTag/{k}"), v.clone());
        }
    }
    ctx
}

/// The keys that describe the principal: aws:username, aws:userid, aws:PrincipalArn,
/// aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalTag/*, aws:TokenIssueTime and
/// aws:MultiFactorAuthPresent (present only for temporary credentials, as on AWS).
fn principal_keys(ctx: &mut RequestContext, p: &Principal, snapshot: &Snapshot) {
    ctx.set("aws:PrincipalAccount", p.account_id.clone());
    ctx.set("aws:userid", p.id.clone());
    match &p.kind {
        PrincipalKind::Root => {
            ctx.set("aws:PrincipalType", "Account".to_owned());
            ctx.set("aws:PrincipalArn", p.arn.clone());
        }
        PrincipalKind::User { name } => {
            ctx.set("aws:PrincipalType", "User".to_owned());
            ctx.set("aws:PrincipalArn", p.arn.clone());
            ctx.set("aws:username", name.clone());
            if let Some(user) = snapshot.user(name) {
                principal_tags(ctx, &user.tags);
            }
        }
        PrincipalKind::AssumedRole { role, .. } => {
            ctx.set("aws:PrincipalType", "AssumedRole".to_owned());
            if let Some(session) = &p.session {
                ctx.set("aws:PrincipalArn", session.role_arn.clone());
            }
            if let Some(r) = snapshot.role(role) {
                principal_tags(ctx, &r.tags);
            }
            if let Some(session) = &p.session {
                let issued = OffsetDateTime::from_unix_timestamp(session.issued_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
                ctx.set("aws:TokenIssueTime", issued.format(&Rfc3339).unwrap_or_default());
            }
            ctx.set("aws:MultiFactorAuthPresent", "false".to_owned());
        }
    }
}

fn principal_tags(ctx: &mut RequestContext, tags: &[Tag]) {
    for t in tags {
        ctx.set(&format!("aws:PrincipalTag/{}", t.key), t.value.clone());
    }
}

/// The caller as a resource or trust policy's `Principal` element sees it.
fn policy_principal(p: &Principal) -> policy::Principal {
    policy::Principal::Aws { arn: p.arn.clone(), account: p.account_id.clone(), role_arn: p.session.as_ref().map(|s| s.role_arn.clone()) }
}

/// The tags a request sets and the tag keys it names, for `aws:RequestTag/*` and
/// `aws:TagKeys`: a `tags` map (logs) or a `Tags` list of `Key`/`Value` (IAM), and a
/// `tagKeys`/`TagKeys` list (untagging).
pub fn request_tags(input: &serde_json::Value) -> (Vec<(String, String)>, Vec<String>) {
    let mut tags = Vec::new();
    if let Some(map) = input.get("tags").and_then(|t| t.as_object()) {
        tags.extend(map.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))));
    }
    for t in input.get("Tags").and_then(|t| t.as_array()).into_iter().flatten() {
        if let (Some(k), Some(v)) = (t["Key"].as_str(), t["Value"].as_str()) {
            tags.push((k.to_owned(), v.to_owned()));
        }
    }
    let keys = ["tagKeys", "TagKeys"]
        .iter()
        .filter_map(|m| input.get(*m).and_then(|k| k.as_array()))
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    (tags, keys)
}
