//! One call as a CloudTrail record (eventVersion 1.09): who called, what they asked,
//! what they got, with secrets masked by the operation's descriptor and the model.

use serde_json::{Map, Value, json};
use store::trail::NewTrailEvent;
use time::OffsetDateTime;
use time::macros::format_description;
use wire::{AwsError, CallContext, Model, OperationSpec, Principal, PrincipalKind, Service};

/// The record format version trailwatch writes.
pub const EVENT_VERSION: &str = "1.09";

/// What masks a sensitive request member, as AWS shows it.
const MASK: &str = "****";

/// Request parameters or response elements larger than this are omitted, as AWS does.
const MAX_ELEMENTS_BYTES: usize = 100 * 1024;

/// Strings AWS cuts at 1 KB (userAgent, errorCode, errorMessage).
const MAX_FIELD_CHARS: usize = 1024;

/// How a call ended.
pub enum Outcome<'a> {
    /// The operation's output.
    Success(&'a Value),
    /// The error returned to the caller.
    Failure(&'a AwsError),
}

/// The request half of a record, taken before the input moves into the service.
pub struct Started<'a> {
    ctx: &'a CallContext,
    model: &'a Model,
    op: &'a OperationSpec,
    request_parameters: Value,
    resources: Vec<Resource>,
}

impl<'a> Started<'a> {
    /// Captures a call that passed authentication; `input` is `None` when it did not decode.
    pub fn new(ctx: &'a CallContext, service: &'a dyn Service, op: &'a OperationSpec, input: Option<&Value>) -> Self {
        let model = service.model();
        let input_shape = model.operations.get(op.name).and_then(|o| o.input.as_ref()).map(|r| r.shape.as_str());
        let request_parameters = match input {
            Some(input) => elements(model, input_shape, input, op.sensitive, Secret::Mask),
            None => Value::Null,
        };
        let resources = input.map(|input| resources(service, op, ctx, input)).unwrap_or_default();
        Started { ctx, model, op, request_parameters, resources }
    }

    /// The stored event of the call, now that it has ended.
    pub fn finish(self, outcome: Outcome<'_>) -> NewTrailEvent {
        let Started { ctx, model, op, request_parameters, resources } = self;
        let source = event_source(model);
        let region = event_region(model, &ctx.region);
        let mut record = Map::with_capacity(20);
        record.insert("eventVersion".into(), EVENT_VERSION.into());
        record.insert("userIdentity".into(), user_identity(&ctx.principal));
        record.insert("eventTime".into(), iso_time(ctx.now_millis).into());
        record.insert("eventSource".into(), source.clone().into());
        record.insert("eventName".into(), op.name.into());
        record.insert("awsRegion".into(), region.clone().into());
        record.insert("sourceIPAddress".into(), source_ip(ctx).into());
        if let Some(agent) = &ctx.user_agent {
            record.insert("userAgent".into(), truncate(agent).into());
        }
        if let Outcome::Failure(err) = &outcome {
            record.insert("errorCode".into(), truncate(&err.code).into());
            record.insert("errorMessage".into(), truncate(&err.message).into());
        }
        record.insert("requestParameters".into(), request_parameters);
        let response_elements = match &outcome {
            Outcome::Success(output) if !op.read_only || op.records_response => {
                let output_shape = model.operations.get(op.name).and_then(|o| o.output.as_ref()).map(|r| r.shape.as_str());
                elements(model, output_shape, output, op.sensitive, Secret::Remove)
            }
            _ => Value::Null,
        };
        record.insert("responseElements".into(), response_elements);
        record.insert("requestID".into(), ctx.request_id.clone().into());
        let event_id = uuid::Uuid::new_v4().to_string();
        record.insert("eventID".into(), event_id.clone().into());
        record.insert("readOnly".into(), op.read_only.into());
        if !resources.is_empty() {
            let listed: Vec<Value> = resources.iter().map(|r| json!({"accountId": ctx.account_id, "type": r.kind, "ARN": r.arn})).collect();
            record.insert("resources".into(), listed.into());
        }
        record.insert("eventType".into(), "AwsApiCall".into());
        record.insert("managementEvent".into(), (!op.data_event).into());
        record.insert("recipientAccountId".into(), ctx.account_id.clone().into());
        record.insert("eventCategory".into(), if op.data_event { "Data" } else { "Management" }.into());
        let lookup_resources: Vec<Value> = resources.iter().map(|r| json!({"ResourceType": r.kind, "ResourceName": r.name})).collect();
        NewTrailEvent {
            account_id: ctx.account_id.clone(),
            region,
            event_time: ctx.now_millis,
            event_id,
            event_name: op.name.to_owned(),
            event_source: source,
            read_only: op.read_only,
            management: !op.data_event,
            username: Some(username(&ctx.principal)),
            access_key_id: Some(ctx.principal.access_key_id.clone()).filter(|k| !k.is_empty()),
            resources: Value::Array(lookup_resources).to_string(),
            body: Value::Object(record).to_string(),
        }
    }
}

/// A call a trailwatch service made on its own behalf (CloudTrail assuming a delivery
/// role): recorded with an `AWSService` identity, as AWS records them.
pub struct ServiceCall<'a> {
    /// The service principal, e.g. `cloudtrail.amazonaws.com`.
    pub invoked_by: &'a str,
    /// The account the call acts in.
    pub account_id: &'a str,
    /// The region.
    pub region: &'a str,
    /// The event source, e.g. `sts.amazonaws.com`.
    pub event_source: &'a str,
    /// The operation, e.g. `AssumeRole`.
    pub event_name: &'a str,
    /// requestParameters.
    pub request_parameters: Value,
    /// responseElements, or the error.
    pub outcome: Result<Value, &'a AwsError>,
    /// When the call was made, epoch ms.
    pub now_millis: i64,
    /// Resources as (type, name, ARN).
    pub resources: Vec<(String, String, String)>,
}

/// Builds the stored event of a service's own call.
pub fn from_service_call(call: ServiceCall<'_>) -> NewTrailEvent {
    let event_id = uuid::Uuid::new_v4().to_string();
    let mut record = Map::with_capacity(20);
    record.insert("eventVersion".into(), EVENT_VERSION.into());
    record.insert("userIdentity".into(), json!({"type": "AWSService", "invokedBy": call.invoked_by}));
    record.insert("eventTime".into(), iso_time(call.now_millis).into());
    record.insert("eventSource".into(), call.event_source.into());
    record.insert("eventName".into(), call.event_name.into());
    record.insert("awsRegion".into(), call.region.into());
    record.insert("sourceIPAddress".into(), call.invoked_by.into());
    record.insert("userAgent".into(), call.invoked_by.into());
    let response = match call.outcome {
        Ok(v) => v,
        Err(err) => {
            record.insert("errorCode".into(), err.code.clone().into());
            record.insert("errorMessage".into(), truncate(&err.message).into());
            Value::Null
        }
    };
    record.insert("requestParameters".into(), call.request_parameters);
    record.insert("responseElements".into(), response);
    record.insert("requestID".into(), uuid::Uuid::new_v4().to_string().into());
    record.insert("eventID".into(), event_id.clone().into());
    record.insert("readOnly".into(), false.into());
    if !call.resources.is_empty() {
        let listed: Vec<Value> =
            call.resources.iter().map(|(kind, _, arn)| json!({"accountId": call.account_id, "type": kind, "ARN": arn})).collect();
        record.insert("resources".into(), listed.into());
    }
    record.insert("eventType".into(), "AwsApiCall".into());
    record.insert("managementEvent".into(), true.into());
    record.insert("recipientAccountId".into(), call.account_id.into());
    record.insert("sharedEventID".into(), uuid::Uuid::new_v4().to_string().into());
    record.insert("eventCategory".into(), "Management".into());
    let lookup: Vec<Value> = call.resources.iter().map(|(kind, name, _)| json!({"ResourceType": kind, "ResourceName": name})).collect();
    NewTrailEvent {
        account_id: call.account_id.to_owned(),
        region: call.region.to_owned(),
        event_time: call.now_millis,
        event_id,
        event_name: call.event_name.to_owned(),
        event_source: call.event_source.to_owned(),
        read_only: false,
        management: true,
        username: Some(call.invoked_by.to_owned()),
        access_key_id: None,
        resources: Value::Array(lookup).to_string(),
        body: Value::Object(record).to_string(),
    }
}

/// `logs.amazonaws.com`, `iam.amazonaws.com`, ...
pub fn event_source(model: &Model) -> String {
    format!("{}.amazonaws.com", model.metadata.endpoint_prefix)
}

/// IAM is global: its events are recorded in us-east-1, as AWS records them.
fn event_region(model: &Model, region: &str) -> String {
    if model.metadata.endpoint_prefix == "iam" { "us-east-1".to_owned() } else { region.to_owned() }
}

/// CloudTrail's `userIdentity` for the principal.
pub fn user_identity(p: &Principal) -> Value {
    match &p.kind {
        PrincipalKind::Root => json!({
            "type": "Root",
            "principalId": p.id,
            "arn": p.arn,
            "accountId": p.account_id,
            "accessKeyId": p.access_key_id,
        }),
        PrincipalKind::User { name } => json!({
            "type": "IAMUser",
            "principalId": p.id,
            "arn": p.arn,
            "accountId": p.account_id,
            "accessKeyId": p.access_key_id,
            "userName": name,
        }),
        PrincipalKind::AssumedRole { .. } => {
            let mut identity = json!({
                "type": "AssumedRole",
                "principalId": p.id,
                "arn": p.arn,
                "accountId": p.account_id,
                "accessKeyId": p.access_key_id,
            });
            if let Some(s) = &p.session {
                identity["sessionContext"] = json!({
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": s.role_id,
                        "arn": s.role_arn,
                        "accountId": p.account_id,
                        "userName": s.role_name,
                    },
                    "attributes": {
                        "creationDate": iso_time(s.issued_at * 1000),
                        "mfaAuthenticated": "false",
                    },
                });
                if let Some(service) = &s.invoked_by {
                    identity["invokedBy"] = service.clone().into();
                }
            }
            identity
        }
    }
}

/// LookupEvents' Username: the user name, `root`, or the role session's name.
fn username(p: &Principal) -> String {
    match &p.kind {
        PrincipalKind::Root => "root".to_owned(),
        PrincipalKind::User { name } => name.clone(),
        PrincipalKind::AssumedRole { session, .. } => session.clone(),
    }
}

fn source_ip(ctx: &CallContext) -> String {
    if let Some(service) = ctx.principal.session.as_ref().and_then(|s| s.invoked_by.as_ref()) {
        return service.clone();
    }
    ctx.source_ip.map(|ip| ip.to_string()).unwrap_or_default()
}

/// `2026-11-21T10:00:00Z`: CloudTrail's eventTime format.
pub fn iso_time(millis: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap_or_default()
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_FIELD_CHARS) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

/// What happens to a secret member in a record.
#[derive(Clone, Copy)]
enum Secret {
    /// Request parameters keep the member with its value masked.
    Mask,
    /// Response elements leave it out, as AWS leaves out secret keys.
    Remove,
}

/// Request parameters or response elements: member names in lower camel case (as AWS
/// writes them), secrets masked or removed; null when empty or too large.
fn elements(model: &Model, shape: Option<&str>, value: &Value, sensitive: &[&str], secret: Secret) -> Value {
    let rendered = render(model, shape, value, sensitive, secret);
    match &rendered {
        Value::Object(m) if m.is_empty() => Value::Null,
        v if v.to_string().len() > MAX_ELEMENTS_BYTES => Value::Null,
        _ => rendered,
    }
}

fn render(model: &Model, shape: Option<&str>, value: &Value, sensitive: &[&str], secret: Secret) -> Value {
    let shape = shape.and_then(|s| model.shapes.get(s));
    match value {
        Value::Object(members) => {
            let mut out = Map::with_capacity(members.len());
            for (name, v) in members {
                let member = shape.and_then(|s| s.members.get(name));
                let member_shape = member.map(|m| m.shape.as_str());
                let is_secret =
                    sensitive.contains(&name.as_str()) || member_shape.and_then(|s| model.shapes.get(s)).is_some_and(|s| s.sensitive);
                if is_secret {
                    if let Secret::Mask = secret {
                        out.insert(lower_camel(name), MASK.into());
                    }
                    continue;
                }
                // Map values take the map's value shape; structure members their own.
                let next = match shape.map(|s| s.kind.as_str()) {
                    Some("map") => shape.and_then(|s| s.value.as_ref()).map(|r| r.shape.as_str()),
                    _ => member_shape,
                };
                let key = if shape.is_some_and(|s| s.kind == "map") { name.clone() } else { lower_camel(name) };
                out.insert(key, render(model, next, v, sensitive, secret));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let item_shape = shape.and_then(|s| s.member.as_ref()).map(|r| r.shape.as_str());
            Value::Array(items.iter().map(|v| render(model, item_shape, v, sensitive, secret)).collect())
        }
        other => other.clone(),
    }
}

/// `DBInstanceIdentifier` → `dBInstanceIdentifier`, as CloudTrail writes member names.
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A resource a call acted on.
struct Resource {
    kind: &'static str,
    name: String,
    arn: String,
}

/// The resources named by the call's authorization ARNs that identify one resource.
fn resources(service: &dyn Service, op: &OperationSpec, ctx: &CallContext, input: &Value) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    for arn in wire::authz::resources(service, op, ctx, input) {
        if arn.contains('*') {
            continue;
        }
        if let Some(r) = resource_of(&arn)
            && !out.iter().any(|o| o.arn == r.arn)
        {
            out.push(r);
        }
    }
    out
}

/// The CloudFormation-style type and name of the resource an ARN names.
fn resource_of(arn: &str) -> Option<Resource> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, _, _, rest] = parts.as_slice() else { return None };
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_owned();
    let (kind, name, arn) = match *service {
        "logs" => {
            let group = rest.strip_prefix("log-group:")?.split(":log-stream:").next()?.trim_end_matches(":*");
            let group_arn = format!("{}:log-group:{group}", parts[..5].join(":"));
            ("AWS::Logs::LogGroup", group.to_owned(), group_arn)
        }
        "iam" => {
            let (kind_name, _) = rest.split_once('/')?;
            let kind = match kind_name {
                "user" => "AWS::IAM::User",
                "role" => "AWS::IAM::Role",
                "group" => "AWS::IAM::Group",
                "policy" => "AWS::IAM::Policy",
                _ => return None,
            };
            let name = if kind_name == "policy" { arn.to_owned() } else { last(rest) };
            (kind, name, arn.to_owned())
        }
        "cloudtrail" => ("AWS::CloudTrail::Trail", arn.to_owned(), arn.to_owned()),
        "s3" if rest.contains('/') => ("AWS::S3::Object", rest.to_string(), arn.to_owned()),
        "s3" => ("AWS::S3::Bucket", rest.to_string(), arn.to_owned()),
        "rds" => {
            let (kind_name, name) = rest.split_once(':')?;
            let kind = match kind_name {
                "db" => "AWS::RDS::DBInstance",
                "cluster" => "AWS::RDS::DBCluster",
                "snapshot" => "AWS::RDS::DBSnapshot",
                "cluster-snapshot" => "AWS::RDS::DBClusterSnapshot",
                "pg" => "AWS::RDS::DBParameterGroup",
                "cluster-pg" => "AWS::RDS::DBClusterParameterGroup",
                _ => return None,
            };
            (kind, name.to_owned(), arn.to_owned())
        }
        _ => return None,
    };
    Some(Resource { kind, name, arn })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_are_lower_camel() {
        assert_eq!(lower_camel("DBInstanceIdentifier"), "dBInstanceIdentifier");
        assert_eq!(lower_camel("logGroupName"), "logGroupName");
        assert_eq!(lower_camel("RoleArn"), "roleArn");
    }

    #[test]
    fn resources_from_arns() {
        let r = resource_of("arn:aws:logs:us-east-1:123456789012:log-group:app/web:*").unwrap();
        assert_eq!(
            (r.kind, r.name.as_str(), r.arn.as_str()),
            ("AWS::Logs::LogGroup", "app/web", "arn:aws:logs:us-east-1:123456789012:log-group:app/web")
        );
        let r = resource_of("arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s").unwrap();
        assert_eq!(r.name, "g");
        let r = resource_of("arn:aws:iam::123456789012:user/ops/Alice").unwrap();
        assert_eq!((r.kind, r.name.as_str()), ("AWS::IAM::User", "Alice"));
        let r = resource_of("arn:aws:rds:us-west-2:123456789012:db:mydb").unwrap();
        assert_eq!((r.kind, r.name.as_str()), ("AWS::RDS::DBInstance", "mydb"));
        assert!(resource_of("arn:aws:sts::123456789012:assumed-role/r/s").is_none());
    }

    #[test]
    fn times_are_whole_seconds_utc() {
        assert_eq!(iso_time(1_389_716_629_123), "2014-01-14T16:23:49Z");
    }
}
