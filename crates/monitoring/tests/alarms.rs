//! Metric alarms through the CloudWatch API and the evaluator: states, reasons,
//! history, notifications posted to an SNS endpoint, missing data, SetAlarmState and
//! the alarm operations' errors.

mod common;

use common::{ACCOUNT, Fixture, REGION, endpoint, fixture, minute, secs};
use serde_json::{Value, json};
use wire::Service;

const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:alerts";

fn alarm(name: &str) -> Value {
    json!({
        "AlarmName": name,
        "AlarmDescription": "CPU too high",
        "MetricName": "CPU", "Namespace": "App", "Statistic": "Maximum",
        "Dimensions": [{"Name": "Host", "Value": "a"}],
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": [TOPIC], "OKActions": [TOPIC],
    })
}

async fn put_cpu(f: &Fixture, at: i64, value: f64) {
    f.ok("PutMetricData", json!({"Namespace": "App", "MetricData": [{"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": secs(at), "Value": value}]}))
        .await;
}

async fn describe(f: &Fixture, name: &str) -> Value {
    let out = f.ok("DescribeAlarms", json!({"AlarmNames": [name]})).await;
    out["MetricAlarms"][0].clone()
}

async fn history(f: &Fixture, name: &str) -> Vec<Value> {
    let out = f.ok("DescribeAlarmHistory", json!({"AlarmName": name, "ScanBy": "TimestampAscending"})).await;
    out["AlarmHistoryItems"].as_array().unwrap().clone()
}

fn reason_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap();
    format!("{:02}/{:02}/{:02} {:02}:{:02}:{:02}", t.day(), u8::from(t.month()), t.year() % 100, t.hour(), t.minute(), t.second())
}

#[tokio::test]
async fn alarm_goes_to_alarm_and_back_with_history_and_notifications() {
    let sns = endpoint(0).await;
    let f = fixture(&[("alerts", &sns.url)]).await;
    f.ok("PutMetricAlarm", alarm("cpu-high")).await;
    let a = describe(&f, "cpu-high").await;
    assert_eq!(a["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(a["StateReason"], "Unchecked: Initial alarm creation");
    assert_eq!(a["AlarmArn"], "arn:aws:cloudwatch:us-east-1:111122223333:alarm:cpu-high");
    assert_eq!(a["ActionsEnabled"], true);
    assert_eq!(a["OKActions"], json!([TOPIC]));

    // A breaching minute: once it is complete the alarm fires.
    let t = minute(3);
    put_cpu(&f, t + 10_000, 3.0).await;
    f.mon.evaluate_now(t + 30_000).await;
    assert_eq!(describe(&f, "cpu-high").await["StateValue"], "INSUFFICIENT_DATA", "the period in progress is not evaluated");
    f.mon.evaluate_now(t + 61_000).await;
    let a = describe(&f, "cpu-high").await;
    assert_eq!(a["StateValue"], "ALARM");
    let reason = format!("Threshold Crossed: 1 datapoint [3.0 ({})] was greater than or equal to the threshold (1.0).", reason_time(t));
    assert_eq!(a["StateReason"], reason);
    let data: Value = serde_json::from_str(a["StateReasonData"].as_str().unwrap()).unwrap();
    assert_eq!(data["recentDatapoints"], json!([3.0]));
    assert_eq!(data["statistic"], "Maximum");
    assert_eq!(data["evaluatedDatapoints"][0]["sampleCount"], 1.0);

    let received = sns.received();
    assert_eq!(received.len(), 1);
    let n = &received[0];
    assert_eq!(n.headers["x-amz-sns-message-type"], "Notification");
    assert_eq!(n.headers["x-amz-sns-topic-arn"], TOPIC);
    assert_eq!(n.body["Type"], "Notification");
    assert_eq!(n.body["TopicArn"], TOPIC);
    assert_eq!(n.body["Subject"], "ALARM: \"cpu-high\" in US East (N. Virginia)");
    assert_eq!(n.body["SignatureVersion"], "1");
    assert!(n.body["MessageId"].as_str().is_some_and(|id| id.len() == 36));
    let text = n.body["Message"].as_str().unwrap();
    assert!(
        text.starts_with("{\"AlarmName\":\"cpu-high\",\"AlarmDescription\":\"CPU too high\",\"AWSAccountId\":\"111122223333\""),
        "{text}"
    );
    let message: Value = serde_json::from_str(text).unwrap();
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(message["NewStateReason"], reason);
    assert_eq!(message["Region"], "US East (N. Virginia)");
    assert_eq!(message["AlarmArn"], "arn:aws:cloudwatch:us-east-1:111122223333:alarm:cpu-high");
    assert_eq!(
        message["Trigger"],
        json!({
            "MetricName": "CPU", "Namespace": "App", "StatisticType": "Statistic", "Statistic": "MAXIMUM", "Unit": null,
            "Dimensions": [{"value": "a", "name": "Host"}], "Period": 60, "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1.0, "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": ""
        })
    );
    assert!(message["StateChangeTime"].as_str().unwrap().ends_with("+0000"));

    // Evaluating again changes nothing and notifies nobody.
    f.mon.evaluate_now(t + 62_000).await;
    assert_eq!(sns.received().len(), 1);

    // A good minute: back to OK, announced to the OK action.
    put_cpu(&f, t + 70_000, 0.0).await;
    f.mon.evaluate_now(t + 121_000).await;
    let a = describe(&f, "cpu-high").await;
    assert_eq!(a["StateValue"], "OK");
    assert_eq!(
        a["StateReason"],
        format!("Threshold Crossed: 1 datapoint [0.0 ({})] was not greater than or equal to the threshold (1.0).", reason_time(t + 60_000))
    );
    let received = sns.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].body["Subject"], "OK: \"cpu-high\" in US East (N. Virginia)");

    // No data at all: INSUFFICIENT_DATA, which has no actions here.
    f.mon.evaluate_now(t + 181_000).await;
    assert_eq!(describe(&f, "cpu-high").await["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(sns.received().len(), 2);

    let items = history(&f, "cpu-high").await;
    let summary: Vec<(&str, &str)> =
        items.iter().map(|h| (h["HistoryItemType"].as_str().unwrap(), h["HistorySummary"].as_str().unwrap())).collect();
    let action = format!("Successfully executed action {TOPIC}");
    assert_eq!(
        summary,
        vec![
            ("ConfigurationUpdate", "Alarm \"cpu-high\" created"),
            ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
            ("Action", action.as_str()),
            ("StateUpdate", "Alarm updated from ALARM to OK"),
            ("Action", action.as_str()),
            ("StateUpdate", "Alarm updated from OK to INSUFFICIENT_DATA"),
        ]
    );
    let update: Value = serde_json::from_str(items[1]["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(update["oldState"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(update["newState"]["stateReason"], reason);
    assert_eq!(items[1]["AlarmType"], "MetricAlarm");
    let acted: Value = serde_json::from_str(items[2]["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(acted["actionState"], "Succeeded");
    assert_eq!(acted["publishedMessage"]["messageId"], received[0].body["MessageId"]);
    let only_actions = f.ok("DescribeAlarmHistory", json!({"AlarmName": "cpu-high", "HistoryItemType": "Action"})).await;
    assert_eq!(only_actions["AlarmHistoryItems"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn missing_data_is_treated_as_configured() {
    let f = fixture(&[]).await;
    for treat in ["missing", "notBreaching", "breaching", "ignore"] {
        let mut a = alarm(&format!("empty-{treat}"));
        a["TreatMissingData"] = json!(treat);
        a["EvaluationPeriods"] = json!(3);
        a["AlarmActions"] = json!([]);
        a["OKActions"] = json!([]);
        f.ok("PutMetricAlarm", a).await;
    }
    f.mon.evaluate_now(minute(0)).await;
    let states: Vec<(String, String)> = f.ok("DescribeAlarms", json!({"AlarmNamePrefix": "empty-"})).await["MetricAlarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["AlarmName"].as_str().unwrap().to_owned(), a["StateValue"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("empty-breaching", "ALARM"),
        ("empty-ignore", "INSUFFICIENT_DATA"),
        ("empty-missing", "INSUFFICIENT_DATA"),
        ("empty-notBreaching", "OK"),
    ];
    assert_eq!(states, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    let breaching = describe(&f, "empty-breaching").await;
    assert_eq!(
        breaching["StateReason"],
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."
    );
    assert_eq!(describe(&f, "empty-missing").await["StateReason"], "Insufficient Data: 3 datapoints were unknown.");

    // ignore keeps whatever state the alarm is in.
    f.ok("SetAlarmState", json!({"AlarmName": "empty-ignore", "StateValue": "OK", "StateReason": "by hand"})).await;
    f.mon.evaluate_now(minute(0) + 60_000).await;
    assert_eq!(describe(&f, "empty-ignore").await["StateValue"], "OK");
}

#[tokio::test]
async fn datapoints_to_alarm_m_out_of_n() {
    let f = fixture(&[]).await;
    let mut a = alarm("two-of-three");
    a["EvaluationPeriods"] = json!(3);
    a["DatapointsToAlarm"] = json!(2);
    a["AlarmActions"] = json!([]);
    a["OKActions"] = json!([]);
    f.ok("PutMetricAlarm", a).await;
    let t = minute(5);
    put_cpu(&f, t, 5.0).await;
    put_cpu(&f, t + 60_000, 0.0).await;
    put_cpu(&f, t + 120_000, 2.0).await;
    f.mon.evaluate_now(t + 180_000).await;
    let a = describe(&f, "two-of-three").await;
    assert_eq!(a["StateValue"], "ALARM");
    assert_eq!(
        a["StateReason"],
        format!(
            "Threshold Crossed: 2 out of the last 3 datapoints [2.0 ({}), 5.0 ({})] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).",
            reason_time(t + 120_000),
            reason_time(t)
        )
    );
    assert_eq!(a["DatapointsToAlarm"], 2);
    // One minute on, only one of the last three breaches.
    put_cpu(&f, t + 180_000, 0.0).await;
    f.mon.evaluate_now(t + 240_000).await;
    let a = describe(&f, "two-of-three").await;
    assert_eq!(a["StateValue"], "OK");
    assert!(a["StateReason"].as_str().unwrap().ends_with("(minimum 2 datapoints for ALARM -> OK transition)."), "{}", a["StateReason"]);
}

#[tokio::test]
async fn alarms_on_metric_math_and_percentiles() {
    let f = fixture(&[]).await;
    let stat = json!({"Metric": {"Namespace": "App", "MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}]}, "Period": 60, "Stat": "Sum"});
    f.ok(
        "PutMetricAlarm",
        json!({
            "AlarmName": "math", "EvaluationPeriods": 1, "Threshold": 5.0, "ComparisonOperator": "GreaterThanThreshold",
            "Metrics": [{"Id": "m1", "MetricStat": stat, "ReturnData": false}, {"Id": "e1", "Expression": "m1 * 2", "Label": "double"}],
        }),
    )
    .await;
    let mut p = alarm("p90");
    p.as_object_mut().unwrap().remove("Statistic");
    p["ExtendedStatistic"] = json!("p90");
    p["Threshold"] = json!(50.0);
    p["AlarmActions"] = json!([]);
    p["OKActions"] = json!([]);
    f.ok("PutMetricAlarm", p).await;
    let t = minute(2);
    f.ok(
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [{"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": secs(t),
               "Values": [1.0, 2.0, 3.0, 60.0], "Counts": [3.0, 3.0, 3.0, 1.0]}]}),
    )
    .await;
    f.mon.evaluate_now(t + 60_000).await;
    let math = describe(&f, "math").await;
    assert_eq!(math["StateValue"], "ALARM", "(3 + 6 + 9 + 60) * 2 > 5: {math}");
    assert!(math.get("MetricName").is_none());
    assert_eq!(math["Metrics"][1]["Expression"], "m1 * 2");
    let p90 = describe(&f, "p90").await;
    assert_eq!(p90["StateValue"], "OK", "p90 of the ten samples is 3: {p90}");
    assert_eq!(p90["ExtendedStatistic"], "p90");
}

#[tokio::test]
async fn set_alarm_state_acts_like_a_transition() {
    let sns = endpoint(0).await;
    let f = fixture(&[("alerts", &sns.url)]).await;
    f.ok("PutMetricAlarm", alarm("manual")).await;
    assert_eq!(
        f.err("SetAlarmState", json!({"AlarmName": "manual", "StateValue": "ALARM", "StateReason": "x", "StateReasonData": "{not json"}))
            .await
            .0,
        "InvalidFormat"
    );
    let (code, _) = f.err("SetAlarmState", json!({"AlarmName": "nope", "StateValue": "ALARM", "StateReason": "x"})).await;
    assert_eq!(code, "ResourceNotFound");

    f.ok("SetAlarmState", json!({"AlarmName": "manual", "StateValue": "ALARM", "StateReason": "testing", "StateReasonData": "{\"a\":1}"}))
        .await;
    let a = describe(&f, "manual").await;
    assert_eq!(
        (a["StateValue"].as_str(), a["StateReason"].as_str(), a["StateReasonData"].as_str()),
        (Some("ALARM"), Some("testing"), Some("{\"a\":1}"))
    );
    assert_eq!(f.mon.deliver_now(common::now_ms()).await, 1);
    let received = sns.received();
    assert_eq!(received.len(), 1);
    let message: Value = serde_json::from_str(received[0].body["Message"].as_str().unwrap()).unwrap();
    assert_eq!((message["NewStateReason"].as_str(), message["OldStateValue"].as_str()), (Some("testing"), Some("INSUFFICIENT_DATA")));

    // The next evaluation puts it back where the data says.
    f.mon.evaluate_now(common::now_ms() + 60_000).await;
    assert_eq!(describe(&f, "manual").await["StateValue"], "INSUFFICIENT_DATA");
    let items = history(&f, "manual").await;
    let kinds: Vec<&str> = items.iter().map(|h| h["HistoryItemType"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ConfigurationUpdate", "StateUpdate", "Action", "StateUpdate"]);
}

#[tokio::test]
async fn failed_notifications_are_retried_then_recorded() {
    let flaky = endpoint(1).await;
    let f = fixture(&[("alerts", &flaky.url)]).await;
    let mut a = alarm("flaky");
    a["AlarmActions"] = json!([TOPIC, "arn:aws:sns:us-east-1:111122223333:unconfigured"]);
    f.ok("PutMetricAlarm", a).await;
    let now = common::now_ms();
    f.ok("SetAlarmState", json!({"AlarmName": "flaky", "StateValue": "ALARM", "StateReason": "testing"})).await;
    assert_eq!(f.mon.deliver_now(now).await, 2);
    assert!(flaky.received().is_empty(), "the first attempt was refused");
    assert_eq!(f.mon.deliver_now(now).await, 0, "the retry is not due yet");
    assert_eq!(f.mon.deliver_now(now + 5_000).await, 1);
    assert_eq!(flaky.received().len(), 1);
    let items =
        f.ok("DescribeAlarmHistory", json!({"AlarmName": "flaky", "HistoryItemType": "Action", "ScanBy": "TimestampAscending"})).await;
    let summaries: Vec<&str> =
        items["AlarmHistoryItems"].as_array().unwrap().iter().map(|h| h["HistorySummary"].as_str().unwrap()).collect();
    assert_eq!(summaries.len(), 2);
    assert!(summaries[0].starts_with("Failed to execute action arn:aws:sns:us-east-1:111122223333:unconfigured."), "{summaries:?}");
    assert!(summaries[0].contains("No endpoint is configured for topic unconfigured"));
    assert_eq!(summaries[1], format!("Successfully executed action {TOPIC}"));

    // Disabled actions notify nobody.
    f.ok("DisableAlarmActions", json!({"AlarmNames": ["flaky"]})).await;
    assert_eq!(describe(&f, "flaky").await["ActionsEnabled"], false);
    f.ok("SetAlarmState", json!({"AlarmName": "flaky", "StateValue": "OK", "StateReason": "quiet"})).await;
    f.ok("SetAlarmState", json!({"AlarmName": "flaky", "StateValue": "ALARM", "StateReason": "quiet"})).await;
    assert_eq!(f.mon.deliver_now(now + 60_000).await, 0);
    f.ok("EnableAlarmActions", json!({"AlarmNames": ["flaky", "no-such-alarm"]})).await;
    assert_eq!(describe(&f, "flaky").await["ActionsEnabled"], true);
}

#[tokio::test]
async fn updates_keep_state_and_describe_filters() {
    let f = fixture(&[]).await;
    for name in ["web-1", "web-2", "db-1"] {
        f.ok("PutMetricAlarm", alarm(name)).await;
    }
    f.ok("SetAlarmState", json!({"AlarmName": "web-1", "StateValue": "ALARM", "StateReason": "by hand"})).await;
    let mut changed = alarm("web-1");
    changed["Threshold"] = json!(90.0);
    changed["Tags"] = json!([{"Key": "ignored", "Value": "on update"}]);
    f.ok("PutMetricAlarm", changed).await;
    let a = describe(&f, "web-1").await;
    assert_eq!((a["StateValue"].as_str(), a["Threshold"].as_f64()), (Some("ALARM"), Some(90.0)));
    let items = history(&f, "web-1").await;
    let last: Value = serde_json::from_str(items.last().unwrap()["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(last["type"], "Update");
    assert_eq!(last["originalUpdatedFields"], json!({"threshold": 1.0}));

    let names = |v: Value| -> Vec<String> {
        v["MetricAlarms"].as_array().unwrap().iter().map(|a| a["AlarmName"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(f.ok("DescribeAlarms", json!({})).await), ["db-1", "web-1", "web-2"]);
    assert_eq!(names(f.ok("DescribeAlarms", json!({"AlarmNamePrefix": "web"})).await), ["web-1", "web-2"]);
    assert_eq!(names(f.ok("DescribeAlarms", json!({"StateValue": "ALARM"})).await), ["web-1"]);
    assert_eq!(names(f.ok("DescribeAlarms", json!({"ActionPrefix": "arn:aws:sns:us-east-1:111122223333:al"})).await).len(), 3);
    assert!(names(f.ok("DescribeAlarms", json!({"AlarmTypes": ["CompositeAlarm"]})).await).is_empty());
    let page = f.ok("DescribeAlarms", json!({"MaxRecords": 2})).await;
    assert_eq!(names(page.clone()), ["db-1", "web-1"]);
    let rest = f.ok("DescribeAlarms", json!({"MaxRecords": 2, "NextToken": page["NextToken"]})).await;
    assert_eq!(names(rest.clone()), ["web-2"]);
    assert!(rest.get("NextToken").is_none());
    assert_eq!(f.err("DescribeAlarms", json!({"NextToken": "garbage"})).await.0, "InvalidNextToken");

    let for_metric = f
        .ok(
            "DescribeAlarmsForMetric",
            json!({"Namespace": "App", "MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}], "Statistic": "Maximum"}),
        )
        .await;
    assert_eq!(names(for_metric).len(), 3);
    let none = f.ok("DescribeAlarmsForMetric", json!({"Namespace": "App", "MetricName": "CPU"})).await;
    assert!(names(none).is_empty(), "the dimensions must match");
}

#[tokio::test]
async fn delete_alarms_is_all_or_nothing() {
    let f = fixture(&[]).await;
    f.ok("PutMetricAlarm", alarm("keep")).await;
    f.ok("PutMetricAlarm", alarm("drop")).await;
    let (code, message) = f.err("DeleteAlarms", json!({"AlarmNames": ["drop", "ghost"]})).await;
    assert_eq!(code, "ResourceNotFound");
    assert!(message.contains("ghost"), "{message}");
    assert_eq!(f.ok("DescribeAlarms", json!({})).await["MetricAlarms"].as_array().unwrap().len(), 2);
    f.ok("DeleteAlarms", json!({"AlarmNames": ["drop"]})).await;
    let left: Vec<Value> = f.ok("DescribeAlarms", json!({})).await["MetricAlarms"].as_array().unwrap().clone();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["AlarmName"], "keep");
    let items = history(&f, "drop").await;
    assert_eq!(items.last().unwrap()["HistorySummary"], "Alarm \"drop\" deleted");
}

#[tokio::test]
async fn put_metric_alarm_is_checked() {
    let f = fixture(&[]).await;
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut a = alarm("bad");
        edit(&mut a);
        a
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&|a| a["Metrics"] = json!([{"Id": "e1", "Expression": "1"}])),
            "ValidationError",
            "MetricName should not be set if list of Metrics is set.",
        ),
        (
            with(&|a| {
                a.as_object_mut().unwrap().remove("MetricName");
            }),
            "ValidationError",
            "MetricName must not be null",
        ),
        (
            with(&|a| a["TreatMissingData"] = json!("sometimes")),
            "ValidationError",
            "Option sometimes is not supported. Supported options for parameter TreatMissingData are missing, ignore, breaching and notBreaching.",
        ),
        (
            with(&|a| a["DatapointsToAlarm"] = json!(2)),
            "ValidationError",
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods.",
        ),
        (
            with(&|a| a["EvaluationPeriods"] = json!(1441)),
            "ValidationError",
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).",
        ),
        (
            with(&|a| a["AlarmActions"] = json!(["arn:aws:sns:eu-west-1:111122223333:alerts"])),
            "ValidationError",
            "Invalid region eu-west-1 specified. Only us-east-1 is supported.",
        ),
        (
            with(&|a| a["ExtendedStatistic"] = json!("p99")),
            "ValidationError",
            "Exactly one of Statistic and ExtendedStatistic must be specified.",
        ),
    ];
    for (input, code, message) in cases {
        let (c, m) = f.err("PutMetricAlarm", input.clone()).await;
        assert_eq!((c.as_str(), m.as_str()), (code, message), "{input}");
    }
    assert!(f.ok("DescribeAlarms", json!({})).await["MetricAlarms"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn tags_on_alarms() {
    let f = fixture(&[]).await;
    let mut a = alarm("tagged");
    a["Tags"] = json!([{"Key": "team", "Value": "ops"}]);
    f.ok("PutMetricAlarm", a).await;
    let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:tagged");
    f.ok("TagResource", json!({"ResourceARN": arn, "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "sre"}]})).await;
    let tags = f.ok("ListTagsForResource", json!({"ResourceARN": arn})).await;
    assert_eq!(tags["Tags"], json!([{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "sre"}]));
    let ctx = common::ctx(common::now_ms());
    let seen = f.svc.resource_tags(&ctx, &arn).await;
    assert_eq!(seen.get("team").map(String::as_str), Some("sre"));
    f.ok("UntagResource", json!({"ResourceARN": arn, "TagKeys": ["team"]})).await;
    let tags = f.ok("ListTagsForResource", json!({"ResourceARN": arn})).await;
    assert_eq!(tags["Tags"], json!([{"Key": "env", "Value": "prod"}]));
    let (code, _) =
        f.err("ListTagsForResource", json!({"ResourceARN": format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:ghost")})).await;
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn the_spawned_evaluator_runs_on_its_own() {
    let sns = endpoint(0).await;
    let f = fixture(&[("alerts", &sns.url)]).await;
    f.ok("PutMetricAlarm", alarm("background")).await;
    let task = f.mon.spawn(std::time::Duration::from_millis(50));
    f.ok("SetAlarmState", json!({"AlarmName": "background", "StateValue": "ALARM", "StateReason": "testing"})).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sns.received().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    task.abort();
    assert!(!sns.received().is_empty(), "the notification went out without an explicit delivery");
}
