//! STS over the Query protocol. GetCallerIdentity for now; AssumeRole arrives with IAM.

use async_trait::async_trait;
use serde_json::{Value, json};
use wire::{AwsError, CallContext, Model, OperationSpec, Protocol, Service};

static OPERATIONS: &[OperationSpec] = &[OperationSpec::read("GetCallerIdentity")];

/// The STS service.
pub struct StsService {
    model: Model,
}

impl StsService {
    /// STS with its embedded botocore model.
    pub fn new() -> Self {
        StsService { model: Model::parse(include_str!("../../wire/models/sts.json")) }
    }
}

impl Default for StsService {
    fn default() -> Self {
        Self::new()
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

    async fn call(&self, ctx: &CallContext, op: &'static OperationSpec, _input: Value) -> Result<Value, AwsError> {
        match op.name {
            "GetCallerIdentity" => Ok(json!({
                "UserId": ctx.principal.id,
                "Account": ctx.principal.account_id,
                "Arn": ctx.principal.arn,
            })),
            other => Err(AwsError::client("InvalidAction", format!("Could not find operation {other} for version 2011-06-15"))),
        }
    }
}
