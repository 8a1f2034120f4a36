//! Resource ARNs for authorization, rendered from an operation's templates.
//!
//! An [`OperationSpec`](crate::OperationSpec) names its resources as ARN templates such as
//! `arn:aws:logs:{region}:{account}:log-group:{logGroupName}:log-stream:{logStreamName}`.
//! `{region}`, `{account}` and `{partition}` come from the call; any other `{Member}` is the
//! top-level input member of that name, passed through the service's
//! [`resource_member`](crate::Service::resource_member). An absent member takes the
//! service's [`default_member`](crate::Service::default_member), else `*`, which is what
//! AWS authorizes when a request does not narrow the resource. `{a|b}` takes the first of
//! the members that is present (logs accepts `logGroupName` or `logGroupIdentifier`).

use serde_json::Value;

use crate::service::{CallContext, OperationSpec, Service};

/// The ARNs the operation is authorized on for this input, in template order.
pub fn resources(service: &dyn Service, op: &OperationSpec, ctx: &CallContext, input: &Value) -> Vec<String> {
    op.resources.iter().map(|template| render(service, template, ctx, input)).collect()
}

/// Fills one template.
fn render(service: &dyn Service, template: &str, ctx: &CallContext, input: &Value) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&placeholder(service, name, ctx, input));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn placeholder(service: &dyn Service, name: &str, ctx: &CallContext, input: &Value) -> String {
    match name {
        "region" => ctx.region.clone(),
        "account" => ctx.account_id.clone(),
        "partition" => "aws".to_owned(),
        members => {
            for member in members.split('|') {
                if let Some(value) = input.get(member).and_then(Value::as_str) {
                    return service.resource_member(member, value);
                }
            }
            members.split('|').find_map(|m| service.default_member(m, &ctx.principal)).unwrap_or_else(|| "*".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AwsError, Model, Principal, Protocol};
    use async_trait::async_trait;
    use serde_json::json;

    struct Fake(Model);

    #[async_trait]
    impl Service for Fake {
        fn model(&self) -> &Model {
            &self.0
        }
        fn protocol(&self) -> Protocol {
            Protocol::Json
        }
        fn operations(&self) -> &'static [OperationSpec] {
            &[]
        }
        fn validation_error_code(&self) -> &'static str {
            "ValidationException"
        }
        async fn call(&self, _: &CallContext, _: &'static OperationSpec, _: Value) -> Result<Value, AwsError> {
            Ok(Value::Null)
        }
        fn resource_member(&self, _: &str, value: &str) -> String {
            value.trim_start_matches("arn:").to_owned()
        }
    }

    fn ctx() -> CallContext {
        CallContext {
            request_id: "r".into(),
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            principal: Principal::root("111122223333", "AKIA"),
            now_millis: 0,
            source_ip: None,
            user_agent: None,
        }
    }

    #[test]
    fn fills_call_values_members_and_stars() {
        let model = Model::parse(r#"{"metadata":{"apiVersion":"1","endpointPrefix":"x"},"operations":{},"shapes":{}}"#);
        let fake = Fake(model);
        let op = OperationSpec::write("X").on(&["arn:{partition}:logs:{region}:{account}:log-group:{g|id}:log-stream:{s}", "*"]);
        let got = resources(&fake, &op, &ctx(), &json!({"g": "arn:grp"}));
        assert_eq!(got, ["arn:aws:logs:eu-west-1:111122223333:log-group:grp:log-stream:*", "*"]);
        let got = resources(&fake, &op, &ctx(), &json!({"id": "other", "s": "x"}));
        assert_eq!(got[0], "arn:aws:logs:eu-west-1:111122223333:log-group:other:log-stream:x");
    }

    #[test]
    fn s3_arns_have_no_region_or_account() {
        let model = Model::parse(r#"{"metadata":{"apiVersion":"1","endpointPrefix":"x"},"operations":{},"shapes":{}}"#);
        let fake = Fake(model);
        let op = OperationSpec::read("GetObject").on(&["arn:{partition}:s3:::{Bucket}/{Key}"]);
        let got = resources(&fake, &op, &ctx(), &json!({"Bucket": "logs", "Key": "AWSLogs/1/a b.json.gz"}));
        assert_eq!(got, ["arn:aws:s3:::logs/AWSLogs/1/a b.json.gz"]);
        let op = OperationSpec::read("ListObjects").action("ListBucket").on(&["arn:{partition}:s3:::{Bucket}"]);
        assert_eq!(resources(&fake, &op, &ctx(), &json!({"Bucket": "logs"})), ["arn:aws:s3:::logs"]);
        assert_eq!(op.iam_action(), "ListBucket");
        assert_eq!(OperationSpec::read("GetObject").iam_action(), "GetObject");
    }
}
