//! The CloudWatch operations: metric data in [`metrics`], alarms in [`alarms`].

mod alarms;
pub(crate) mod metrics;

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use wire::{AwsError, CallContext};

use crate::Monitoring;
use crate::alarm::Alarm;

/// Runs one operation.
pub(crate) async fn call(mon: &Monitoring, ctx: &CallContext, name: &str, input: &Value) -> Result<Value, AwsError> {
    let r = Request { mon, account: &ctx.account_id, region: &ctx.region, input, now: ctx.now_millis };
    match name {
        "PutMetricData" => metrics::put(&r).await,
        "GetMetricStatistics" => metrics::statistics(&r).await,
        "GetMetricData" => metrics::data(&r).await,
        "ListMetrics" => metrics::list(&r).await,
        "PutMetricAlarm" => alarms::put(&r).await,
        "DescribeAlarms" => alarms::describe(&r).await,
        "DescribeAlarmsForMetric" => alarms::for_metric(&r).await,
        "DeleteAlarms" => alarms::delete(&r).await,
        "SetAlarmState" => alarms::set_state(&r).await,
        "DescribeAlarmHistory" => alarms::history(&r).await,
        "EnableAlarmActions" => alarms::actions_enabled(&r, true).await,
        "DisableAlarmActions" => alarms::actions_enabled(&r, false).await,
        "TagResource" => alarms::tag(&r).await,
        "UntagResource" => alarms::untag(&r).await,
        "ListTagsForResource" => alarms::list_tags(&r).await,
        other => Err(AwsError::client("InvalidAction", format!("Could not find operation {other} for version 2010-08-01"))),
    }
}

/// The tags of the alarm an ARN names, for `aws:ResourceTag/*` conditions.
pub(crate) async fn alarm_tags(mon: &Monitoring, ctx: &CallContext, arn: &str) -> BTreeMap<String, String> {
    let Some(name) = alarms::name_in_arn(arn, &ctx.account_id, &ctx.region) else { return BTreeMap::new() };
    let Ok(Some(body)) = mon.store.alarm_get(&ctx.account_id, &ctx.region, name).await else { return BTreeMap::new() };
    let Ok(alarm) = serde_json::from_str::<Alarm>(&body) else { return BTreeMap::new() };
    alarm.tags.into_iter().map(|t| (t.key, t.value)).collect()
}

/// One call: the state, where it acts, its input and its time.
pub(crate) struct Request<'a> {
    pub mon: &'a Monitoring,
    pub account: &'a str,
    pub region: &'a str,
    pub input: &'a Value,
    pub now: i64,
}

impl Request<'_> {
    /// A string member.
    pub fn str(&self, member: &str) -> Option<&str> {
        self.input.get(member).and_then(Value::as_str)
    }

    /// An integer member.
    pub fn int(&self, member: &str) -> Option<i64> {
        self.input.get(member).and_then(Value::as_i64)
    }

    /// A list-of-strings member.
    pub fn strings(&self, member: &str) -> Vec<String> {
        strings(self.input.get(member))
    }

    /// A timestamp member, epoch ms; a value that is no time is InvalidParameterValue.
    pub fn time(&self, member: &str) -> Result<Option<i64>, AwsError> {
        let Some(v) = self.input.get(member).filter(|v| !v.is_null()) else { return Ok(None) };
        crate::timefmt::parse(v).map(Some).ok_or_else(|| invalid(format!("The parameter {member} must be a valid timestamp.")))
    }

    /// A required timestamp member (the model makes it present).
    pub fn required_time(&self, member: &str) -> Result<i64, AwsError> {
        self.time(member)?.ok_or_else(|| missing(format!("The parameter {member} is required.")))
    }
}

/// The strings of a list value.
pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// `[{Name, Value}]` as pairs.
pub(crate) fn dimensions(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|d| (d["Name"].as_str().unwrap_or_default().to_owned(), d["Value"].as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// An opaque paging token for a position of some kind.
pub(crate) fn token(kind: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

/// The position a token of that kind holds.
pub(crate) fn untoken(kind: &str, token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(kind)?.strip_prefix(':').map(str::to_owned)
}

/// InvalidParameterValue.
pub(crate) fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterValue", message)
}

/// InvalidParameterCombination.
pub(crate) fn combination(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterCombination", message)
}

/// MissingParameter.
pub(crate) fn missing(message: impl Into<String>) -> AwsError {
    AwsError::client("MissingParameter", message)
}

/// ValidationError: what CloudWatch answers for semantic checks of alarms and queries.
pub(crate) fn validation(message: impl Into<String>) -> AwsError {
    AwsError::client("ValidationError", message)
}

/// InvalidNextToken.
pub(crate) fn bad_token() -> AwsError {
    AwsError::client("InvalidNextToken", "The service cannot process the provided NextToken.")
}

/// ResourceNotFound (404), the alarm operations' not-found fault.
pub(crate) fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::new("ResourceNotFound", 404, message)
}

/// A storage failure, as CloudWatch's InternalServiceError.
pub(crate) fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::new("InternalServiceError", 500, e.to_string())
}
