//! Subscription filters: PutSubscriptionFilter, DescribeSubscriptionFilters and
//! DeleteSubscriptionFilter, and delivery of matching events to their destination.
//!
//! A destination ARN (a Lambda function, a Kinesis or Firehose stream, a logs
//! destination) is reached over HTTP: `--subscription-endpoint NAME=URL` maps the
//! resource name at the end of the ARN to a URL. Payloads are AWS's: the
//! `DATA_MESSAGE` JSON, gzip-compressed; a Lambda function receives it base64-encoded
//! as `{"awslogs":{"data":...}}`, a stream receives the gzip bytes themselves. Delivery
//! is at least once and in order per stream: the consumer posts one ingest block (one
//! stream's batch) at a time and moves the filter's cursor only after the endpoint
//! answers 2xx.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::FilterKind;
use wire::{AwsError, CallContext};

use crate::metric_filters::{page, parse_pattern};
use crate::{LogsService, group_not_found, invalid, storage};

/// Subscription filters a log group may have (AWS's quota).
const MAX_SUBSCRIPTION_FILTERS: i64 = 2;

/// PutSubscriptionFilter's input.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutSubscriptionFilter {
    log_group_name: String,
    filter_name: String,
    filter_pattern: String,
    destination_arn: String,
    role_arn: Option<String>,
    distribution: Option<String>,
    #[serde(default)]
    apply_on_transformed_logs: bool,
}

/// DescribeSubscriptionFilters' input.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeSubscriptionFilters {
    log_group_name: String,
    filter_name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

/// DeleteSubscriptionFilter's input.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteSubscriptionFilter {
    log_group_name: String,
    filter_name: String,
}

/// A subscription filter as stored (the catalog's `body`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SubscriptionDoc {
    pub(crate) filter_name: String,
    pub(crate) filter_pattern: String,
    pub(crate) destination_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    distribution: String,
    creation_time: i64,
    apply_on_transformed_logs: bool,
}

/// What kind of receiver a destination ARN names, which decides the payload's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DestinationKind {
    /// A Lambda function: `{"awslogs":{"data":"<base64 of gzip>"}}`.
    Lambda,
    /// A Kinesis or Firehose stream, or a logs destination: the gzip bytes.
    Stream,
}

/// Where subscription payloads go: destination names mapped to HTTP endpoints.
pub struct Destinations {
    endpoints: BTreeMap<String, String>,
    http: reqwest::Client,
}

impl Destinations {
    /// Destinations from `NAME → URL` pairs.
    pub fn new(endpoints: BTreeMap<String, String>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("an HTTP client builds");
        Destinations { endpoints, http }
    }

    /// The endpoint and kind of a destination ARN, if it is configured.
    pub(crate) fn resolve(&self, arn: &str) -> Option<(&str, DestinationKind)> {
        let (kind, name) = parse_destination(arn)?;
        self.endpoints.get(name).map(|url| (url.as_str(), kind))
    }

    /// Posts one payload (uncompressed JSON) to a destination; Ok once it answers 2xx.
    pub(crate) async fn post(&self, url: &str, kind: DestinationKind, payload: &Value) -> Result<(), String> {
        let gz = gzip(payload.to_string().as_bytes());
        let request = match kind {
            DestinationKind::Lambda => {
                let data = base64::engine::general_purpose::STANDARD.encode(&gz);
                self.http.post(url).json(&json!({"awslogs": {"data": data}}))
            }
            DestinationKind::Stream => self.http.post(url).header("content-type", "application/octet-stream").body(gz),
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        if response.status().is_success() { Ok(()) } else { Err(format!("the destination answered {}", response.status())) }
    }
}

/// Parses a destination ARN into its kind and resource name.
fn parse_destination(arn: &str) -> Option<(DestinationKind, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, _partition, service, _region, _account, resource] = parts.as_slice() else { return None };
    if *arn_word != "arn" {
        return None;
    }
    let (kind, name) = match *service {
        "lambda" => (DestinationKind::Lambda, resource.strip_prefix("function:")?.split(':').next()?),
        "kinesis" => (DestinationKind::Stream, resource.strip_prefix("stream/")?),
        "firehose" => (DestinationKind::Stream, resource.strip_prefix("deliverystream/")?),
        "logs" => (DestinationKind::Stream, resource.strip_prefix("destination:")?),
        _ => return None,
    };
    (!name.is_empty()).then_some((kind, name))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("writing to memory succeeds");
    enc.finish().expect("writing to memory succeeds")
}

impl LogsService {
    pub(crate) async fn put_subscription_filter(&self, ctx: &CallContext, req: PutSubscriptionFilter) -> Result<Value, AwsError> {
        parse_pattern(&req.filter_pattern)?;
        let distribution = req.distribution.unwrap_or_else(|| "ByLogStream".into());
        if parse_destination(&req.destination_arn).is_none() {
            return Err(invalid(format!("Invalid destination ARN: {}", req.destination_arn)));
        }
        let group = self.group(ctx, &req.log_group_name).await?;
        // AWS sends a test message before it accepts a destination.
        let control = json!({
            "messageType": "CONTROL_MESSAGE",
            "owner": "CloudwatchLogs",
            "logGroup": "",
            "logStream": "",
            "subscriptionFilters": [],
            "logEvents": [{"id": "", "timestamp": ctx.now_millis, "message": "CWL CONTROL MESSAGE: Checking health of destination"}],
        });
        let reached = match self.destinations.resolve(&req.destination_arn) {
            Some((url, kind)) => self.destinations.post(url, kind, &control).await.is_ok(),
            None => false,
        };
        if !reached {
            return Err(invalid("Could not deliver test message to specified destination. Check if the destination is valid."));
        }
        let doc = SubscriptionDoc {
            filter_name: req.filter_name.clone(),
            filter_pattern: req.filter_pattern,
            destination_arn: req.destination_arn,
            role_arn: req.role_arn,
            distribution,
            creation_time: ctx.now_millis,
            apply_on_transformed_logs: req.apply_on_transformed_logs,
        };
        let body = serde_json::to_string(&doc).expect("a subscription filter serializes");
        let stored = self
            .store
            .put_log_filter(FilterKind::Subscription, group.id, &req.filter_name, &body, MAX_SUBSCRIPTION_FILTERS)
            .await
            .map_err(storage)?;
        if !stored {
            return Err(AwsError::client("LimitExceededException", "Resource limit exceeded."));
        }
        self.consumer_wake.notify_one();
        Ok(json!({}))
    }

    pub(crate) async fn describe_subscription_filters(
        &self,
        ctx: &CallContext,
        req: DescribeSubscriptionFilters,
    ) -> Result<Value, AwsError> {
        let group =
            self.store.log_group(&ctx.account_id, &ctx.region, &req.log_group_name).await.map_err(storage)?.ok_or_else(group_not_found)?;
        let records = self.store.log_filters(FilterKind::Subscription, Some(group.id)).await.map_err(storage)?;
        let items = records
            .into_iter()
            .filter_map(|rec| {
                let doc: SubscriptionDoc = serde_json::from_str(&rec.body).ok()?;
                if req.filter_name_prefix.as_deref().is_some_and(|p| !doc.filter_name.starts_with(p)) {
                    return None;
                }
                let mut item = serde_json::to_value(&doc).ok()?;
                item["logGroupName"] = json!(rec.group_name);
                Some((doc.filter_name, item))
            })
            .collect();
        page(items, req.next_token.as_deref(), req.limit.unwrap_or(50), "subscription-filters", "subscriptionFilters")
    }

    pub(crate) async fn delete_subscription_filter(&self, ctx: &CallContext, req: DeleteSubscriptionFilter) -> Result<Value, AwsError> {
        let group = self.group(ctx, &req.log_group_name).await?;
        if !self.store.delete_log_filter(FilterKind::Subscription, group.id, &req.filter_name).await.map_err(storage)? {
            return Err(AwsError::client("ResourceNotFoundException", "The specified subscription filter does not exist."));
        }
        Ok(json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_arns() {
        assert_eq!(
            parse_destination("arn:aws:lambda:us-east-1:123456789012:function:audit-alerts"),
            Some((DestinationKind::Lambda, "audit-alerts"))
        );
        assert_eq!(parse_destination("arn:aws:lambda:us-east-1:123456789012:function:f:PROD"), Some((DestinationKind::Lambda, "f")));
        assert_eq!(parse_destination("arn:aws:kinesis:us-east-1:123456789012:stream/s1"), Some((DestinationKind::Stream, "s1")));
        assert_eq!(parse_destination("arn:aws:firehose:us-east-1:123456789012:deliverystream/d"), Some((DestinationKind::Stream, "d")));
        assert_eq!(parse_destination("arn:aws:logs:us-east-1:123456789012:destination:x"), Some((DestinationKind::Stream, "x")));
        assert_eq!(parse_destination("arn:aws:s3:::bucket"), None);
        assert_eq!(parse_destination("not-an-arn"), None);
    }
}
