//! Alarm actions: the CloudWatch alarm JSON a transition announces, and its delivery as
//! an SNS HTTP notification to the endpoint configured for the action's topic (as trail
//! delivery notifies), retried with backoff, each outcome an Action history item.

use std::time::Duration;

use serde_json::{Value, json};
use store::metrics::{AlarmNotification, NewAlarmHistory};

use crate::alarm::Alarm;
use crate::{Monitoring, timefmt};

/// How long one POST may take, and its connection.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts before a notification is given up (and recorded as failed).
const MAX_ATTEMPTS: i64 = 5;
/// How long a claimed notification stays claimed: past it, a crash mid-delivery retries.
const LEASE_MS: i64 = 60_000;
/// How many notifications one round posts.
const BATCH: i64 = 100;

/// The subject CloudWatch gives alarm notifications (SNS allows 100 characters).
pub(crate) fn subject(alarm: &Alarm, region: &str) -> String {
    let s = format!("{}: \"{}\" in {}", alarm.state_value, alarm.alarm_name, region_name(region));
    s.chars().take(100).collect()
}

/// The CloudWatch alarm JSON of a transition, members in CloudWatch's order.
pub(crate) fn alarm_message(alarm: &Alarm, account: &str, region: &str, old_state: &str, now_ms: i64) -> String {
    let members: [(&str, String); 14] = [
        ("AlarmName", json!(alarm.alarm_name).to_string()),
        ("AlarmDescription", json!(alarm.alarm_description).to_string()),
        ("AWSAccountId", json!(account).to_string()),
        ("AlarmConfigurationUpdatedTimestamp", json!(timefmt::cloudwatch(alarm.config_updated_ms)).to_string()),
        ("NewStateValue", json!(alarm.state_value).to_string()),
        ("NewStateReason", json!(alarm.state_reason).to_string()),
        ("StateChangeTime", json!(timefmt::cloudwatch(now_ms)).to_string()),
        ("Region", json!(region_name(region)).to_string()),
        ("AlarmArn", json!(alarm.alarm_arn).to_string()),
        ("OldStateValue", json!(old_state).to_string()),
        ("OKActions", json!(alarm.ok_actions).to_string()),
        ("AlarmActions", json!(alarm.alarm_actions).to_string()),
        ("InsufficientDataActions", json!(alarm.insufficient_data_actions).to_string()),
        ("Trigger", ordered_trigger(&alarm.trigger())),
    ];
    let body: Vec<String> = members.iter().map(|(k, v)| format!("{}:{v}", json!(k))).collect();
    format!("{{{}}}", body.join(","))
}

/// The trigger object with its members in CloudWatch's order (and dimensions as
/// `{"value", "name"}`), whatever order the JSON library keeps.
fn ordered_trigger(t: &Value) -> String {
    const ORDER: [&str; 15] = [
        "MetricName",
        "Namespace",
        "StatisticType",
        "Statistic",
        "ExtendedStatistic",
        "Unit",
        "Dimensions",
        "Period",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "ComparisonOperator",
        "Threshold",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
        "Metrics",
    ];
    let parts: Vec<String> = ORDER
        .iter()
        .filter_map(|k| t.get(*k).map(|v| (k, v)))
        .map(|(k, v)| {
            let value = match *k {
                "Dimensions" => {
                    let dims: Vec<String> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|d| format!("{{\"value\":{},\"name\":{}}}", d["value"], d["name"]))
                        .collect();
                    format!("[{}]", dims.join(","))
                }
                _ => v.to_string(),
            };
            format!("{}:{value}", json!(k))
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// The name CloudWatch gives a region in notifications.
pub(crate) fn region_name(region: &str) -> String {
    let name = match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-south-2" => "Asia Pacific (Hyderabad)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-southeast-3" => "Asia Pacific (Jakarta)",
        "ap-southeast-4" => "Asia Pacific (Melbourne)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ca-central-1" => "Canada (Central)",
        "ca-west-1" => "Canada West (Calgary)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-central-2" => "EU (Zurich)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-south-1" => "EU (Milan)",
        "eu-south-2" => "EU (Spain)",
        "eu-north-1" => "EU (Stockholm)",
        "il-central-1" => "Israel (Tel Aviv)",
        "me-south-1" => "Middle East (Bahrain)",
        "me-central-1" => "Middle East (UAE)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => other,
    };
    name.to_owned()
}

/// Why an attempt failed: worth retrying, or not.
enum Failure {
    Transient(String),
    Permanent(String),
}

/// Claims the due notifications and posts them concurrently; returns how many.
pub(crate) async fn deliver(mon: &Monitoring, now_ms: i64) -> usize {
    let claimed = match mon.store.alarm_notifications_claim(now_ms, LEASE_MS, BATCH).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read alarm notifications");
            return 0;
        }
    };
    futures::future::join_all(claimed.iter().map(|n| one(mon, n, now_ms))).await;
    claimed.len()
}

async fn one(mon: &Monitoring, n: &AlarmNotification, now_ms: i64) {
    let outcome = post(mon, n, now_ms).await;
    let result = match outcome {
        Ok(message_id) => mon.store.alarm_notification_done(n, &succeeded(n, &message_id, now_ms)).await,
        Err(Failure::Transient(e)) if n.attempts < MAX_ATTEMPTS => {
            tracing::warn!(action = %n.action, error = %e, "alarm notification failed; will retry");
            mon.store.alarm_notification_retry(n.id, now_ms + (1000 << n.attempts.clamp(0, 8))).await
        }
        Err(Failure::Transient(e) | Failure::Permanent(e)) => {
            tracing::warn!(action = %n.action, error = %e, "alarm notification failed");
            mon.store.alarm_notification_done(n, &failed(n, &e, now_ms)).await
        }
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot record an alarm notification's outcome");
    }
}

/// POSTs the SNS notification; the message ID when the endpoint accepted it.
async fn post(mon: &Monitoring, n: &AlarmNotification, now_ms: i64) -> Result<String, Failure> {
    let topic = sns_topic(&n.action).ok_or_else(|| Failure::Permanent(format!("Action {} is not an SNS topic", n.action)))?;
    let url = mon.topics.get(topic).ok_or_else(|| Failure::Permanent(format!("No endpoint is configured for topic {topic}")))?;
    let message_id = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": n.action,
        "Subject": n.subject,
        "Message": n.message,
        "Timestamp": timefmt::sns(now_ms),
        "SignatureVersion": "1",
    });
    let sent = mon
        .http
        .post(url)
        .header("x-amz-sns-message-type", "Notification")
        .header("x-amz-sns-message-id", &message_id)
        .header("x-amz-sns-topic-arn", &n.action)
        .json(&body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Ok(message_id),
        Ok(r) => Err(Failure::Transient(format!("The endpoint answered {}", r.status()))),
        Err(e) => Err(Failure::Transient(format!("The endpoint is unreachable: {e}"))),
    }
}

/// The topic name of an SNS topic ARN.
fn sns_topic(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns").then(|| parts[5])
}

fn succeeded(n: &AlarmNotification, message_id: &str, now_ms: i64) -> NewAlarmHistory {
    let data = json!({
        "actionState": "Succeeded",
        "stateUpdateTimestamp": n.state_ms,
        "notificationResource": n.action,
        "publishedMessage": {"messageId": message_id, "sentTimestamp": now_ms},
    });
    action_history(n, format!("Successfully executed action {}", n.action), data, now_ms)
}

fn failed(n: &AlarmNotification, error: &str, now_ms: i64) -> NewAlarmHistory {
    let data = json!({"actionState": "Failed", "stateUpdateTimestamp": n.state_ms, "notificationResource": n.action, "error": error});
    action_history(n, format!("Failed to execute action {}. Received error: \"{error}\"", n.action), data, now_ms)
}

fn action_history(n: &AlarmNotification, summary: String, data: Value, now_ms: i64) -> NewAlarmHistory {
    NewAlarmHistory {
        alarm_name: n.alarm_name.clone(),
        at_ms: now_ms,
        item_type: "Action".into(),
        summary: summary.chars().take(255).collect(),
        data: data.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_regions() {
        assert_eq!(sns_topic("arn:aws:sns:us-east-1:111122223333:alerts"), Some("alerts"));
        assert_eq!(sns_topic("arn:aws:lambda:us-east-1:111122223333:function:f"), None);
        assert_eq!(region_name("ap-northeast-1"), "Asia Pacific (Tokyo)");
        assert_eq!(region_name("xx-test-1"), "xx-test-1");
    }

    #[test]
    fn trigger_members_keep_cloudwatch_order() {
        let t = json!({"Threshold": 1.0, "MetricName": "m", "Dimensions": [{"name": "a", "value": "b"}], "Unit": null});
        assert_eq!(ordered_trigger(&t), r#"{"MetricName":"m","Unit":null,"Dimensions":[{"value":"b","name":"a"}],"Threshold":1.0}"#);
    }
}
