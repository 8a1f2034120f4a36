//! STS over the Query protocol: GetCallerIdentity and AssumeRole, and the same AssumeRole
//! for trailwatch's own services acting through service principals.

use std::collections::BTreeMap;

use async_trait::async_trait;
use policy::{Decision, Policy, PolicyKind};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::{AwsError, CallContext, Model, OperationSpec, PrincipalKind, Protocol, Service};

use crate::authorize::{AccessRequest, request_context};
use crate::directory::Snapshot;
use crate::entities::{Role, new_access_key_id, new_secret};
use crate::session::{self, SessionClaims};
use crate::{Caller, Identities};

static OPERATIONS: &[OperationSpec] = &[
    // AWS: "No permissions are required to perform this operation", even under an explicit deny.
    OperationSpec::read("GetCallerIdentity").permissionless(),
    OperationSpec::read("AssumeRole").records_response().sensitive(&["SessionToken"]).on(&["{RoleArn}"]),
];

/// Shortest and default session lengths, seconds.
const MIN_DURATION: i64 = 900;
const DEFAULT_DURATION: i64 = 3600;
/// Longest session a role session may get by assuming another role (role chaining).
const CHAINED_MAX_DURATION: i64 = 3600;
/// Largest packed session policy AWS accepts; the packed size is reported as a percentage of it.
const PACKED_POLICY_LIMIT: usize = 2048;

/// The STS service.
pub struct StsService {
    model: Model,
    identities: Identities,
}

impl StsService {
    /// STS over the given identities, with its embedded botocore model.
    pub fn new(identities: Identities) -> Self {
        StsService { model: Model::parse(include_str!("../../wire/models/sts.json")), identities }
    }
}

#[async_trait]
impl Service for StsService {
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
        match op.name {
            "GetCallerIdentity" => Ok(json!({
                "UserId": ctx.principal.id,
                "Account": ctx.principal.account_id,
                "Arn": ctx.principal.arn,
            })),
            "AssumeRole" => self.identities.assume_role(ctx, &input),
            other => Err(AwsError::client("InvalidAction", format!("Could not find operation {other} for version 2011-06-15"))),
        }
    }
}

/// What a session is being issued for.
struct SessionRequest<'a> {
    role: &'a Role,
    role_arn: String,
    session_name: &'a str,
    duration: i64,
    policy: Option<String>,
    policy_arns: Vec<String>,
    service: Option<String>,
    chained: bool,
    now: OffsetDateTime,
}

impl Identities {
    /// STS AssumeRole for a signed caller. The pipeline has already checked that the
    /// caller's own policies allow `sts:AssumeRole` on the role; here the role's trust
    /// policy must allow the caller too.
    fn assume_role(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let role_arn = input["RoleArn"].as_str().unwrap_or_default();
        let session_name = input["RoleSessionName"].as_str().unwrap_or_default();
        let now = OffsetDateTime::from_unix_timestamp(ctx.now_millis / 1000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        if ctx.principal.kind == PrincipalKind::Root {
            return Err(AwsError::new("AccessDenied", 403, "Roles may not be assumed by root accounts."));
        }
        let snapshot = self.snapshot();
        let not_authorized = || {
            AwsError::new(
                "AccessDenied",
                403,
                format!("User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}", ctx.principal.arn),
            )
        };
        let role = self.role_by_arn(&snapshot, role_arn).ok_or_else(not_authorized)?;
        let request = AccessRequest {
            action: "sts:AssumeRole",
            resources: &[],
            region: &ctx.region,
            source_ip: ctx.source_ip,
            secure_transport: false,
            now,
            request_tags: &[],
            tag_keys: &[],
            resource_tags: &BTreeMap::new(),
        };
        // The trust policy sees the caller as its principal, with STS's own condition keys.
        let mut context = request_context(&ctx.principal, &snapshot, &request, role_arn);
        context.set("sts:RoleSessionName", session_name);
        if let Some(external) = input["ExternalId"].as_str() {
            context.set("sts:ExternalId", external);
        }
        if !trusts(&snapshot, role, &context) {
            return Err(not_authorized());
        }
        let chained = ctx.principal.session.is_some();
        let duration = session_duration(input["DurationSeconds"].as_i64(), role, chained)?;
        let (policy, policy_arns) = session_policies(&snapshot, input)?;
        let packed = policy.as_ref().map(|p| packed_size(p));
        let request = SessionRequest {
            role,
            role_arn: role_arn.to_owned(),
            session_name,
            duration,
            policy,
            policy_arns,
            service: None,
            chained,
            now,
        };
        let (claims, token) = self.issue(&request);
        let mut out = json!({
            "Credentials": {
                "AccessKeyId": claims.access_key_id,
                "SecretAccessKey": claims.secret,
                "SessionToken": token,
                "Expiration": iso(claims.expires_at),
            },
            "AssumedRoleUser": {
                "AssumedRoleId": format!("{}:{}", role.id, session_name),
                "Arn": format!("arn:aws:sts::{}:assumed-role/{}/{}", self.dir.account, role.name, session_name),
            },
        });
        if let Some(size) = packed {
            out["PackedPolicySize"] = json!(size);
        }
        Ok(out)
    }

    /// AssumeRole on behalf of a trailwatch service (CloudTrail delivering to a log group,
    /// the database publisher): the role's trust policy must allow the service principal.
    /// The returned caller is authorized as that role session.
    pub fn assume_role_for_service(
        &self,
        service: &str,
        role_arn: &str,
        session_name: &str,
        now: OffsetDateTime,
    ) -> Result<Caller, AwsError> {
        let snapshot = self.snapshot();
        let not_authorized = || {
            AwsError::new(
                "AccessDenied",
                403,
                format!("Service: {service} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
            )
        };
        let role = self.role_by_arn(&snapshot, role_arn).ok_or_else(not_authorized)?;
        let mut context = policy::RequestContext::new("sts:AssumeRole", role_arn);
        context.principal = Some(policy::Principal::Service(service.to_owned()));
        context.set("aws:CurrentTime", now.format(&Rfc3339).unwrap_or_default());
        context.set("aws:EpochTime", now.unix_timestamp().to_string());
        context.set("aws:SourceAccount", self.dir.account.clone());
        if !trusts(&snapshot, role, &context) {
            return Err(not_authorized());
        }
        let request = SessionRequest {
            role,
            role_arn: role_arn.to_owned(),
            session_name,
            duration: DEFAULT_DURATION,
            policy: None,
            policy_arns: Vec::new(),
            service: Some(service.to_owned()),
            chained: false,
            now,
        };
        let (claims, token) = self.issue(&request);
        self.authenticate(&claims.access_key_id, Some(&token), now.unix_timestamp()).map_err(|_| not_authorized())
    }

    /// The role an ARN names, if it is in this account and the path matches.
    fn role_by_arn<'a>(&self, snapshot: &'a Snapshot, arn: &str) -> Option<&'a Role> {
        let rest = arn.strip_prefix(&format!("arn:aws:iam::{}:role", self.dir.account))?;
        let name = rest.rsplit('/').next()?;
        let role = snapshot.role(name)?;
        (format!("{}{}", role.path, role.name) == rest).then_some(role)
    }

    fn issue(&self, r: &SessionRequest<'_>) -> (SessionClaims, String) {
        let issued_at = r.now.unix_timestamp();
        let claims = SessionClaims {
            access_key_id: new_access_key_id("ASIA"),
            secret: new_secret(),
            account: self.dir.account.clone(),
            role_name: r.role.name.clone(),
            role_id: r.role.id.clone(),
            role_arn: r.role_arn.clone(),
            session_name: r.session_name.to_owned(),
            issued_at,
            expires_at: issued_at + r.duration,
            policy: r.policy.clone(),
            policy_arns: r.policy_arns.clone(),
            service: r.service.clone(),
            chained: r.chained,
        };
        let token = session::seal(&self.dir.store, &claims);
        (claims, token)
    }
}

/// Whether the role's trust policy allows the principal in `context` to assume it.
fn trusts(snapshot: &Snapshot, role: &Role, context: &policy::RequestContext) -> bool {
    let Some(trust) = snapshot.trust.get(&role.name.to_lowercase()) else { return false };
    policy::decide(&[trust.as_ref()], context) == Decision::Allow
}

fn session_duration(requested: Option<i64>, role: &Role, chained: bool) -> Result<i64, AwsError> {
    let duration = requested.unwrap_or(DEFAULT_DURATION);
    if chained && duration > CHAINED_MAX_DURATION {
        return Err(AwsError::client(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > role.max_session {
        return Err(AwsError::client("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    }
    Ok(duration.max(MIN_DURATION))
}

/// The inline session policy and the managed session policy ARNs, validated.
fn session_policies(snapshot: &Snapshot, input: &Value) -> Result<(Option<String>, Vec<String>), AwsError> {
    let policy = input["Policy"].as_str().map(str::to_owned);
    if let Some(doc) = &policy {
        Policy::parse_as(doc, PolicyKind::Session).map_err(|e| AwsError::client("MalformedPolicyDocument", e.message()))?;
        if packed_size(doc) > 100 {
            return Err(AwsError::client(
                "PackedPolicyTooLarge",
                format!("Packed size of consumed sessionPolicies exceeds 100% of limit: {}%", packed_size(doc)),
            ));
        }
    }
    let mut arns = Vec::new();
    for entry in input["PolicyArns"].as_array().into_iter().flatten() {
        let arn = entry["arn"].as_str().unwrap_or_default();
        if snapshot.managed_document(arn).is_none() {
            return Err(AwsError::client("InvalidParameterValue", format!("The policy {arn} does not exist or is not attachable.")));
        }
        arns.push(arn.to_owned());
    }
    Ok((policy, arns))
}

/// AWS reports the packed session policy size as a percentage of its limit; whitespace
/// does not count.
fn packed_size(document: &str) -> usize {
    let packed = document.chars().filter(|c| !c.is_whitespace()).count();
    (packed * 100).div_ceil(PACKED_POLICY_LIMIT)
}

fn iso(epoch_secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch_secs).unwrap_or(OffsetDateTime::UNIX_EPOCH).format(&Rfc3339).unwrap_or_default()
}
