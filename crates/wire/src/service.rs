//! The contract between the request pipeline and a service: operations described as
//! data, the caller's identity, and the one async entry point each service implements.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;

use crate::error::AwsError;
use crate::model::Model;

/// The wire protocol a service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// JSON 1.1: `X-Amz-Target` routing, JSON bodies (logs, cloudtrail).
    Json,
    /// Query: form-encoded `Action=` requests, XML responses (iam, sts, rds).
    Query,
    /// REST-XML: the method and path pick the operation, members travel in the URI,
    /// query string, headers and an XML or raw body (s3).
    RestXml,
    /// Smithy RPC v2 CBOR: `POST /service/S/operation/O`, CBOR bodies (what the AWS SDK
    /// for Rust speaks to CloudWatch; botocore, so the aws CLI, picks CloudWatch's JSON
    /// 1.0, and older SDKs its Query).
    Cbor,
}

/// One operation, described once: what the pipeline needs to authorize, record and route it.
#[derive(Debug)]
pub struct OperationSpec {
    /// The operation name as on the wire, e.g. `PutLogEvents`.
    pub name: &'static str,
    /// Whether the operation only reads (CloudTrail's `readOnly`).
    pub read_only: bool,
    /// Request members whose values are secrets: masked in any record of the call.
    pub sensitive: &'static [&'static str],
    /// Whether the call is a data event rather than a management event.
    pub data_event: bool,
    /// The resources the IAM action applies to, as ARN templates (see [`crate::authz`]):
    /// the Service Authorization Reference's resource types for this action.
    pub resources: &'static [&'static str],
    /// Whether the call needs no IAM permission at all (STS GetCallerIdentity).
    pub permissionless: bool,
    /// Whether CloudTrail records the response though the call only reads (AssumeRole
    /// reads, yet its record shows the credentials it issued).
    pub records_response: bool,
    /// The IAM action when it is not the operation's name (S3's ListObjects is
    /// `s3:ListBucket`); without the service prefix.
    pub action: Option<&'static str>,
}

impl OperationSpec {
    /// A management operation that changes state.
    pub const fn write(name: &'static str) -> Self {
        OperationSpec {
            name,
            read_only: false,
            sensitive: &[],
            data_event: false,
            resources: &["*"],
            permissionless: false,
            records_response: false,
            action: None,
        }
    }

    /// A management operation that only reads.
    pub const fn read(name: &'static str) -> Self {
        OperationSpec {
            name,
            read_only: true,
            sensitive: &[],
            data_event: false,
            resources: &["*"],
            permissionless: false,
            records_response: false,
            action: None,
        }
    }

    /// Marks the operation as a data event (e.g. PutLogEvents, GetLogEvents).
    pub const fn data(mut self) -> Self {
        self.data_event = true;
        self
    }

    /// Names the request members that must never be recorded in clear.
    pub const fn sensitive(mut self, members: &'static [&'static str]) -> Self {
        self.sensitive = members;
        self
    }

    /// Marks the operation as needing no permission: any authenticated caller may call it.
    pub const fn permissionless(mut self) -> Self {
        self.permissionless = true;
        self
    }

    /// Records the response elements of a read-only call (see [`OperationSpec::records_response`]).
    pub const fn records_response(mut self) -> Self {
        self.records_response = true;
        self
    }

    /// Names the resources the action is authorized on, as ARN templates.
    pub const fn on(mut self, resources: &'static [&'static str]) -> Self {
        self.resources = resources;
        self
    }

    /// Names the IAM action the operation is authorized as, when it differs from the
    /// operation's name (`.action("ListBucket")` for S3's ListObjects).
    pub const fn action(mut self, action: &'static str) -> Self {
        self.action = Some(action);
        self
    }

    /// The IAM action without the service prefix: the override, else the operation's name.
    pub fn iam_action(&self) -> &'static str {
        self.action.unwrap_or(self.name)
    }
}

/// What kind of principal made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    User {
        /// The user name.
        name: String,
    },
    /// A session of an assumed role.
    AssumedRole {
        /// The role name.
        role: String,
        /// The session name.
        session: String,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The kind of principal.
    pub kind: PrincipalKind,
    /// The principal's ARN.
    pub arn: String,
    /// The account the principal belongs to.
    pub account_id: String,
    /// The principal's unique ID (the account ID for root, `AIDA...` for users).
    pub id: String,
    /// The access key the request was signed with.
    pub access_key_id: String,
    /// For temporary credentials: the role session they belong to.
    pub session: Option<Session>,
}

/// The role session behind temporary credentials (CloudTrail's `sessionContext`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The ARN of the role that was assumed, with its path.
    pub role_arn: String,
    /// The role's unique ID (`AROA...`).
    pub role_id: String,
    /// The role's name.
    pub role_name: String,
    /// When the credentials were issued, epoch seconds.
    pub issued_at: i64,
    /// When the credentials expire, epoch seconds.
    pub expires_at: i64,
    /// The service principal that assumed the role (`cloudtrail.amazonaws.com`), when
    /// trailwatch's own service holds the session (CloudTrail's `invokedBy`).
    pub invoked_by: Option<String>,
}

impl Principal {
    /// The root principal of an account signing with the given key.
    pub fn root(account_id: &str, access_key_id: &str) -> Self {
        Principal {
            kind: PrincipalKind::Root,
            arn: format!("arn:aws:iam::{account_id}:root"),
            account_id: account_id.to_owned(),
            id: account_id.to_owned(),
            access_key_id: access_key_id.to_owned(),
            session: None,
        }
    }

    /// The user name for IAM users, which IAM operations default their `UserName` to.
    pub fn user_name(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::User { name } => Some(name),
            _ => None,
        }
    }
}

/// Everything a handler knows about the call besides its input.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The request ID returned to the client.
    pub request_id: String,
    /// The account the call acts in.
    pub account_id: String,
    /// The region from the SigV4 credential scope.
    pub region: String,
    /// The authenticated caller.
    pub principal: Principal,
    /// Server time at which the request was received, in epoch milliseconds.
    pub now_millis: i64,
    /// The address the request came from.
    pub source_ip: Option<std::net::IpAddr>,
    /// The caller's `User-Agent`.
    pub user_agent: Option<String>,
}

/// A service the pipeline dispatches to.
#[async_trait]
pub trait Service: Send + Sync + 'static {
    /// The botocore model of the service.
    fn model(&self) -> &Model;
    /// The protocol the service speaks.
    fn protocol(&self) -> Protocol;
    /// The operations the service implements.
    fn operations(&self) -> &'static [OperationSpec];
    /// The error code for model validation failures (`InvalidParameterException` for
    /// logs, `ValidationError` for Query services).
    fn validation_error_code(&self) -> &'static str;
    /// Executes an authorized, validated operation.
    async fn call(&self, ctx: &CallContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError>;

    /// The operation of that name, if the service implements it.
    fn operation(&self, name: &str) -> Option<&'static OperationSpec> {
        self.operations().iter().find(|op| op.name == name)
    }

    /// How an input member's value is written into a resource ARN template; logs, for
    /// example, accepts a log group ARN where a name goes.
    fn resource_member(&self, _member: &str, value: &str) -> String {
        value.to_owned()
    }

    /// The value of a template member the request left out (IAM's `UserName` defaults
    /// to the caller); `None` renders `*`.
    fn default_member(&self, _member: &str, _principal: &Principal) -> Option<String> {
        None
    }

    /// The tags of the resource an ARN names, for `aws:ResourceTag/*` conditions.
    async fn resource_tags(&self, _ctx: &CallContext, _arn: &str) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}
