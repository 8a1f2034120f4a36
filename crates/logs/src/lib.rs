//! The CloudWatch Logs service: log groups, streams, events, retention and tags, exactly
//! as the botocore `logs` model and the API reference define them.
//!
//! Operations are listed once in [`OPERATIONS`]; the request pipeline decodes,
//! authenticates, validates against the model and authorizes before [`LogsService::call`]
//! runs the handler.

mod consume;
mod events;
mod groups;
mod metric_filters;
mod queries;
mod streams;
mod subscriptions;
mod tags;
mod tokens;

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value;
use store::{LogGroup, Store, StoreError};
use wire::{AwsError, CallContext, Model, OperationSpec, Protocol, Service};

/// Every operation this service implements, described once.
/// Resources are authorized as AWS names them in its AccessDenied messages: group-level
/// actions on `log-group:NAME:log-stream:` (so `log-group:NAME:*` and `log-group:/prefix/*`
/// policies match), stream-level actions on the stream, listing on `log-group:*`.
pub static OPERATIONS: &[OperationSpec] = &[
    OperationSpec::write("CreateLogGroup").on(&[GROUP]),
    OperationSpec::write("DeleteLogGroup").on(&[GROUP]),
    OperationSpec::read("DescribeLogGroups").on(&["arn:aws:logs:{region}:{account}:log-group:*"]),
    OperationSpec::write("CreateLogStream").on(&[STREAM]),
    OperationSpec::write("DeleteLogStream").on(&[STREAM]),
    OperationSpec::read("DescribeLogStreams").on(&[GROUP]),
    OperationSpec::write("PutLogEvents").data().on(&[STREAM]),
    OperationSpec::read("GetLogEvents").data().on(&[STREAM]),
    OperationSpec::read("FilterLogEvents").data().on(&[GROUP]),
    OperationSpec::write("PutRetentionPolicy").on(&[GROUP]),
    OperationSpec::write("DeleteRetentionPolicy").on(&[GROUP]),
    OperationSpec::write("TagResource").on(&["{resourceArn}"]),
    OperationSpec::write("UntagResource").on(&["{resourceArn}"]),
    OperationSpec::read("ListTagsForResource").on(&["{resourceArn}"]),
    OperationSpec::write("TagLogGroup").on(&[GROUP]),
    OperationSpec::write("UntagLogGroup").on(&[GROUP]),
    OperationSpec::read("ListTagsLogGroup").on(&[GROUP]),
    OperationSpec::read("TestMetricFilter"),
    OperationSpec::write("PutMetricFilter").on(&[GROUP]),
    OperationSpec::read("DescribeMetricFilters").on(&[GROUP]),
    OperationSpec::write("DeleteMetricFilter").on(&[GROUP]),
    OperationSpec::write("PutSubscriptionFilter").on(&[GROUP]),
    OperationSpec::read("DescribeSubscriptionFilters").on(&[GROUP]),
    OperationSpec::write("DeleteSubscriptionFilter").on(&[GROUP]),
    OperationSpec::read("StartQuery").on(&[GROUP]),
    OperationSpec::read("GetQueryResults"),
    OperationSpec::write("StopQuery"),
    OperationSpec::read("DescribeQueries"),
    OperationSpec::write("PutQueryDefinition"),
    OperationSpec::read("DescribeQueryDefinitions"),
    OperationSpec::write("DeleteQueryDefinition"),
];

const GROUP: &str = "arn:aws:logs:{region}:{account}:log-group:{logGroupName|logGroupIdentifier}:log-stream:";
const STREAM: &str = "arn:aws:logs:{region}:{account}:log-group:{logGroupName|logGroupIdentifier}:log-stream:{logStreamName}";

/// Limits that AWS enforces and an operator may change.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest event, counted as message bytes plus 26 (1 MB since April 2025).
    pub max_event_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_event_bytes: 1_048_576 }
    }
}

/// The CloudWatch Logs service over a [`Store`].
pub struct LogsService {
    store: Arc<Store>,
    model: Model,
    limits: Limits,
    /// Serializes tag additions so the 50-tag check and the write are one step.
    tag_writes: tokio::sync::Mutex<()>,
    /// Where metric filters put their data points; none means they count nothing.
    monitoring: Option<Arc<monitoring::Monitoring>>,
    /// Where subscription filters deliver.
    destinations: subscriptions::Destinations,
    /// Wakes the filter consumer when a filter is created.
    consumer_wake: tokio::sync::Notify,
    /// Insights queries started here.
    queries: Arc<queries::Queries>,
}

pub use subscriptions::Destinations;

impl LogsService {
    /// The service with its embedded botocore model.
    pub fn new(store: Arc<Store>, limits: Limits) -> Self {
        LogsService {
            store,
            model: Model::parse(include_str!("../../wire/models/logs.json")),
            limits,
            tag_writes: tokio::sync::Mutex::new(()),
            monitoring: None,
            destinations: Destinations::new(Default::default()),
            consumer_wake: tokio::sync::Notify::new(),
            queries: Default::default(),
        }
    }

    /// Sends metric filters' data points to CloudWatch metrics.
    pub fn with_monitoring(mut self, monitoring: Arc<monitoring::Monitoring>) -> Self {
        self.monitoring = Some(monitoring);
        self
    }

    /// Delivers subscription filters' events to these destinations.
    pub fn with_destinations(mut self, destinations: Destinations) -> Self {
        self.destinations = destinations;
        self
    }
}

#[async_trait]
impl Service for LogsService {
    fn model(&self) -> &Model {
        &self.model
    }

    fn protocol(&self) -> Protocol {
        Protocol::Json
    }

    fn operations(&self) -> &'static [OperationSpec] {
        OPERATIONS
    }

    fn validation_error_code(&self) -> &'static str {
        "InvalidParameterException"
    }

    async fn call(&self, ctx: &CallContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        match op.name {
            "CreateLogGroup" => self.create_log_group(ctx, parse(input)?).await,
            "DeleteLogGroup" => self.delete_log_group(ctx, parse(input)?).await,
            "DescribeLogGroups" => self.describe_log_groups(ctx, parse(input)?).await,
            "CreateLogStream" => self.create_log_stream(ctx, parse(input)?).await,
            "DeleteLogStream" => self.delete_log_stream(ctx, parse(input)?).await,
            "DescribeLogStreams" => self.describe_log_streams(ctx, parse(input)?).await,
            "PutLogEvents" => self.put_log_events(ctx, parse(input)?).await,
            "GetLogEvents" => self.get_log_events(ctx, parse(input)?).await,
            "FilterLogEvents" => self.filter_log_events(ctx, parse(input)?).await,
            "PutRetentionPolicy" => self.put_retention_policy(ctx, parse(input)?).await,
            "DeleteRetentionPolicy" => self.delete_retention_policy(ctx, parse(input)?).await,
            "TagResource" => self.tag_resource(ctx, parse(input)?).await,
            "UntagResource" => self.untag_resource(ctx, parse(input)?).await,
            "ListTagsForResource" => self.list_tags_for_resource(ctx, parse(input)?).await,
            "TagLogGroup" => self.tag_log_group(ctx, parse(input)?).await,
            "UntagLogGroup" => self.untag_log_group(ctx, parse(input)?).await,
            "ListTagsLogGroup" => self.list_tags_log_group(ctx, parse(input)?).await,
            "TestMetricFilter" => self.test_metric_filter(parse(input)?),
            "PutMetricFilter" => self.put_metric_filter(ctx, parse(input)?).await,
            "DescribeMetricFilters" => self.describe_metric_filters(ctx, parse(input)?).await,
            "DeleteMetricFilter" => self.delete_metric_filter(ctx, parse(input)?).await,
            "PutSubscriptionFilter" => self.put_subscription_filter(ctx, parse(input)?).await,
            "DescribeSubscriptionFilters" => self.describe_subscription_filters(ctx, parse(input)?).await,
            "DeleteSubscriptionFilter" => self.delete_subscription_filter(ctx, parse(input)?).await,
            "StartQuery" => self.start_query(ctx, parse(input)?).await,
            "GetQueryResults" => self.get_query_results(ctx, parse(input)?).await,
            "StopQuery" => self.stop_query(ctx, parse(input)?).await,
            "DescribeQueries" => self.describe_queries(ctx, parse(input)?).await,
            "PutQueryDefinition" => self.put_query_definition(ctx, parse(input)?).await,
            "DescribeQueryDefinitions" => self.describe_query_definitions(ctx, parse(input)?).await,
            "DeleteQueryDefinition" => self.delete_query_definition(ctx, parse(input)?).await,
            other => Err(AwsError::client("UnknownOperationException", format!("Operation {other} is not supported."))),
        }
    }

    /// A log group ARN given as `logGroupIdentifier` is authorized by the name inside it.
    fn resource_member(&self, member: &str, value: &str) -> String {
        if member != "logGroupIdentifier" {
            return value.to_owned();
        }
        match value.strip_prefix("arn:").and_then(|rest| rest.split_once(":log-group:")) {
            Some((_, name)) => name.strip_suffix(":*").unwrap_or(name).to_owned(),
            None => value.to_owned(),
        }
    }

    /// The tags of the log group an ARN (group or stream form) names.
    async fn resource_tags(&self, ctx: &CallContext, arn: &str) -> std::collections::BTreeMap<String, String> {
        let Some((_, rest)) = arn.split_once(":log-group:") else { return Default::default() };
        let name = rest.split(":log-stream:").next().unwrap_or(rest);
        let name = name.strip_suffix(":*").unwrap_or(name);
        match self.store.log_group(&ctx.account_id, &ctx.region, name).await {
            Ok(Some(group)) => self.store.tags(group.id).await.unwrap_or_default(),
            _ => Default::default(),
        }
    }
}

/// Reads the validated input into the handler's typed request.
fn parse<T: DeserializeOwned>(input: Value) -> Result<T, AwsError> {
    serde_json::from_value(input).map_err(|e| wire::json::serialization_error(e.to_string()))
}

/// `InvalidParameterException` with AWS's message.
pub(crate) fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterException", message)
}

/// The log group the request names does not exist.
pub(crate) fn group_not_found() -> AwsError {
    AwsError::client("ResourceNotFoundException", "The specified log group does not exist.")
}

/// The log stream the request names does not exist.
pub(crate) fn stream_not_found() -> AwsError {
    AwsError::client("ResourceNotFoundException", "The specified log stream does not exist.")
}

/// Maps a storage failure that the handler did not expect to a service error.
pub(crate) fn storage(e: StoreError) -> AwsError {
    match e {
        StoreError::ShuttingDown => AwsError::unavailable("The service is shutting down."),
        other => {
            tracing::error!(error = %other, "storage failure");
            AwsError::unavailable("The service cannot complete the request.")
        }
    }
}

/// The ARN of a log group, with or without the trailing `:*` AWS adds in `arn`.
pub(crate) fn group_arn(ctx: &CallContext, name: &str) -> String {
    format!("arn:aws:logs:{}:{}:log-group:{name}", ctx.region, ctx.account_id)
}

impl LogsService {
    /// Looks up a group by name; ResourceNotFoundException when absent.
    pub(crate) async fn group(&self, ctx: &CallContext, name: &str) -> Result<LogGroup, AwsError> {
        self.store.log_group(&ctx.account_id, &ctx.region, name).await.map_err(storage)?.ok_or_else(group_not_found)
    }

    /// Resolves `logGroupName` or `logGroupIdentifier` (a name or an ARN): exactly one.
    pub(crate) async fn group_by_name_or_identifier(
        &self,
        ctx: &CallContext,
        name: Option<&str>,
        identifier: Option<&str>,
    ) -> Result<LogGroup, AwsError> {
        let name = match (name, identifier) {
            (Some(_), Some(_)) => return Err(invalid("LogGroup name and LogGroup identifier are mutually exclusive parameters.")),
            (None, None) => return Err(invalid("Should provide either the LogGroup name or the LogGroup identifier.")),
            (Some(n), None) => n.to_owned(),
            (None, Some(id)) => group_name_from_identifier(ctx, id)?,
        };
        self.group(ctx, &name).await
    }
}

/// A log group name from an identifier: the name itself or its ARN (with or without `:*`).
pub(crate) fn group_name_from_identifier(ctx: &CallContext, identifier: &str) -> Result<String, AwsError> {
    let Some(rest) = identifier.strip_prefix("arn:") else { return Ok(identifier.to_owned()) };
    let parts: Vec<&str> = rest.splitn(6, ':').collect();
    let [_partition, service, region, account, resource_type, name] = parts.as_slice() else {
        return Err(invalid(format!("Invalid ARN: {identifier}")));
    };
    if *service != "logs" || *resource_type != "log-group" {
        return Err(invalid(format!("Invalid ARN: {identifier}")));
    }
    if *region != ctx.region || *account != ctx.account_id {
        return Err(group_not_found());
    }
    Ok(name.strip_suffix(":*").unwrap_or(name).to_owned())
}
