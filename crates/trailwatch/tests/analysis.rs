//! Questioning the audit: metric filters counting audit records into CloudWatch metrics
//! and an alarm announcing "someone ran DROP TABLE" to an HTTP endpoint; subscription
//! filters delivering matching events; Logs Insights answering AWS's sample queries.
//! Everything through the stock `aws` CLI (CloudWatch over its RPC v2 CBOR protocol) and
//! the AWS SDK for Rust, against the real binary.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;

use base64::Engine as _;
use common::aws::Aws;
use common::capture::Capture;
use serde_json::{Value, json};

/// An Aurora MySQL audit record, as RDS publishes it.
fn audit(ts_ms: i64, user: &str, operation: &str, object: &str) -> String {
    format!("{}000,db-1,{user},10.0.0.5,17,{},{operation},shop,{object},0", ts_ms, ts_ms % 100_000)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_metric_filter_on_ddl_drives_an_alarm_to_an_http_endpoint() {
    let alerts = Capture::start(0);
    let topic = format!("ddl-alerts={}", alerts.url);
    let server = common::Server::start_with(&["--alarm-evaluation-secs", "1", "--sns-endpoint", &topic]);
    let aws = Aws::new(&server);
    let logs = server.logs();
    let group = "/aws/rds/cluster/shop/audit";
    common::create_group(&logs, group, &["db-1"]).await;

    // The filter: DDL statements in the audit records.
    let ddl = r#"?"CREATE TABLE" ?"ALTER TABLE" ?"DROP TABLE""#;
    aws.ok(&[
        "logs",
        "put-metric-filter",
        "--log-group-name",
        group,
        "--filter-name",
        "ddl",
        "--filter-pattern",
        ddl,
        "--metric-transformations",
        "metricName=DDLStatements,metricNamespace=Audit,metricValue=1,unit=Count",
    ]);
    let described = aws.ok(&["logs", "describe-metric-filters", "--log-group-name", group]);
    let filter = &described["metricFilters"][0];
    assert_eq!(filter["filterName"], "ddl");
    assert_eq!(filter["filterPattern"], ddl);
    assert_eq!(filter["logGroupName"], group);
    assert_eq!(
        filter["metricTransformations"][0],
        json!({"metricName": "DDLStatements", "metricNamespace": "Audit", "metricValue": "1", "unit": "Count"})
    );
    let groups = aws.ok(&["logs", "describe-log-groups", "--log-group-name-prefix", group]);
    assert_eq!(groups["logGroups"][0]["metricFilterCount"], 1);
    let by_metric = aws.ok(&["logs", "describe-metric-filters", "--metric-name", "DDLStatements", "--metric-namespace", "Audit"]);
    assert_eq!(by_metric["metricFilters"].as_array().unwrap().len(), 1);

    // The alarm: any DDL within a minute.
    let topic_arn = format!("arn:aws:sns:us-east-1:{}:ddl-alerts", common::ACCOUNT);
    aws.ok(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "ddl-run",
        "--alarm-description",
        "Someone changed the schema",
        "--namespace",
        "Audit",
        "--metric-name",
        "DDLStatements",
        "--statistic",
        "Sum",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "1",
        "--comparison-operator",
        "GreaterThanOrEqualToThreshold",
        "--treat-missing-data",
        "notBreaching",
        "--alarm-actions",
        &topic_arn,
        "--ok-actions",
        &topic_arn,
    ]);
    let alarms = aws.ok(&["cloudwatch", "describe-alarms", "--alarm-names", "ddl-run"]);
    assert_eq!(alarms["MetricAlarms"][0]["AlarmActions"][0], topic_arn.as_str());

    // Ordinary work, then a DROP TABLE.
    let now = common::now_millis();
    let mut events: Vec<(i64, String)> = (0..50)
        .map(|i| (now - 1000 + i, audit(now - 1000 + i, "app", "QUERY", &format!("'SELECT * FROM orders WHERE id = {i}'"))))
        .collect();
    events.push((now, audit(now, "mallory", "QUERY", "'DROP TABLE orders'")));
    common::put_events(&logs, group, "db-1", &events).await;

    let fired = common::poll("the alarm's notification", 120, || {
        let found = alerts.requests().into_iter().map(|r| r.json()).find(|n| n["Subject"].as_str().is_some_and(|s| s.starts_with("ALARM")));
        std::future::ready(found)
    })
    .await;
    assert_eq!(fired["Type"], "Notification");
    assert_eq!(fired["TopicArn"], topic_arn.as_str());
    let message: Value = serde_json::from_str(fired["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["AlarmName"], "ddl-run");
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["AlarmDescription"], "Someone changed the schema");
    assert_eq!(message["Trigger"]["MetricName"], "DDLStatements");
    assert_eq!(message["Trigger"]["Namespace"], "Audit");

    // The metric counts exactly the one DDL record.
    let start = (now / 1000 - 600).to_string();
    let end = (now / 1000 + 600).to_string();
    let stats = aws.ok(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "Audit",
        "--metric-name",
        "DDLStatements",
        "--statistics",
        "Sum",
        "SampleCount",
        "--period",
        "60",
        "--start-time",
        &start,
        "--end-time",
        &end,
    ]);
    let points = stats["Datapoints"].as_array().unwrap();
    let sum: f64 = points.iter().map(|p| p["Sum"].as_f64().unwrap()).sum();
    assert_eq!(sum, 1.0, "one DDL statement counted: {stats}");
    let listed = aws.ok(&["cloudwatch", "list-metrics", "--namespace", "Audit"]);
    assert_eq!(listed["Metrics"][0]["MetricName"], "DDLStatements");

    let alarms = aws.ok(&["cloudwatch", "describe-alarms", "--alarm-names", "ddl-run"]);
    assert_eq!(alarms["MetricAlarms"][0]["StateValue"], "ALARM");
    let history = aws.ok(&["cloudwatch", "describe-alarm-history", "--alarm-name", "ddl-run"]);
    assert!(history["AlarmHistoryItems"].as_array().unwrap().iter().any(|h| h["HistoryItemType"] == "StateUpdate"));

    // A filter that does not parse is refused with AWS's error, and nothing changes.
    aws.fails_with_code(
        &[
            "logs",
            "put-metric-filter",
            "--log-group-name",
            group,
            "--filter-name",
            "bad",
            "--filter-pattern",
            "{ $.x = ",
            "--metric-transformations",
            "metricName=X,metricNamespace=Audit,metricValue=1",
        ],
        "InvalidParameterException",
        "PutMetricFilter",
    );
    let described = aws.ok(&["logs", "describe-metric-filters", "--log-group-name", group]);
    assert_eq!(described["metricFilters"].as_array().unwrap().len(), 1);
    aws.fails(
        &["logs", "delete-metric-filter", "--log-group-name", group, "--filter-name", "nope"],
        "ResourceNotFoundException",
        "DeleteMetricFilter",
        "The specified metric filter does not exist.",
    );
    aws.ok(&["logs", "delete-metric-filter", "--log-group-name", group, "--filter-name", "ddl"]);
    let described = aws.ok(&["logs", "describe-metric-filters", "--log-group-name", group]);
    assert!(described["metricFilters"].as_array().unwrap().is_empty());
    aws.ok(&["cloudwatch", "delete-alarms", "--alarm-names", "ddl-run"]);
    let alarms = aws.ok(&["cloudwatch", "describe-alarms"]);
    assert!(alarms["MetricAlarms"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn metric_filters_take_values_and_dimensions_from_json_events() {
    let server = common::Server::start();
    let aws = Aws::new(&server);
    let logs = server.logs();
    let group = "api-latency";
    common::create_group(&logs, group, &["web-1"]).await;
    aws.ok(&[
        "logs", "put-metric-filter", "--log-group-name", group, "--filter-name", "latency", "--filter-pattern", "{ $.latency > 0 }",
        "--metric-transformations",
        r#"[{"metricName":"Latency","metricNamespace":"Api","metricValue":"$.latency","unit":"Milliseconds","dimensions":{"Operation":"$.op"}}]"#,
    ]);
    let now = common::now_millis();
    let mut events = Vec::new();
    for i in 0..30i64 {
        let op = if i % 3 == 0 { "Put" } else { "Get" };
        events.push((now + i, json!({"op": op, "latency": i + 1}).to_string()));
    }
    events.push((now + 40, r#"{"op": "Get", "latency": "fast"}"#.to_owned()));
    common::put_events(&logs, group, "web-1", &events).await;

    let (start, end) = ((now / 1000 - 300).to_string(), (now / 1000 + 300).to_string());
    let get = |op: &str| {
        aws.ok(&[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "Api",
            "--metric-name",
            "Latency",
            "--dimensions",
            &format!("Name=Operation,Value={op}"),
            "--statistics",
            "Sum",
            "SampleCount",
            "Maximum",
            "--period",
            "300",
            "--start-time",
            &start,
            "--end-time",
            &end,
        ])
    };
    let put = common::poll("the Put latency metric", 30, || {
        std::future::ready(get("Put")["Datapoints"].as_array().filter(|d| !d.is_empty()).cloned())
    })
    .await;
    let expected_put: Vec<i64> = (0..30).filter(|i| i % 3 == 0).map(|i| i + 1).collect();
    assert_eq!(put[0]["SampleCount"].as_f64().unwrap(), expected_put.len() as f64);
    assert_eq!(put[0]["Sum"].as_f64().unwrap(), expected_put.iter().sum::<i64>() as f64);
    assert_eq!(put[0]["Maximum"].as_f64().unwrap(), 28.0);
    assert_eq!(put[0]["Unit"], "Milliseconds");
    let got = get("Get")["Datapoints"].clone();
    // The event whose latency is not a number published nothing.
    assert_eq!(got[0]["SampleCount"].as_f64().unwrap(), 20.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_filter_delivers_matching_events_in_order_at_least_once() {
    let lambda = Capture::start(0);
    let stream = Capture::start(0);
    let server = common::Server::start_with(&[
        "--subscription-endpoint",
        &format!("audit-fn={}", lambda.url),
        "--subscription-endpoint",
        &format!("audit-stream={}", stream.url),
    ]);
    let aws = Aws::new(&server);
    let logs = server.logs();
    let group = "/aws/rds/cluster/shop/audit";
    common::create_group(&logs, group, &["db-1", "db-2"]).await;
    let function = format!("arn:aws:lambda:us-east-1:{}:function:audit-fn", common::ACCOUNT);

    aws.fails(
        &[
            "logs",
            "put-subscription-filter",
            "--log-group-name",
            group,
            "--filter-name",
            "x",
            "--filter-pattern",
            "",
            "--destination-arn",
            &format!("arn:aws:lambda:us-east-1:{}:function:nobody", common::ACCOUNT),
        ],
        "InvalidParameterException",
        "PutSubscriptionFilter",
        "Could not deliver test message to specified destination. Check if the destination is valid.",
    );
    aws.ok(&[
        "logs",
        "put-subscription-filter",
        "--log-group-name",
        group,
        "--filter-name",
        "drops",
        "--filter-pattern",
        r#""DROP TABLE""#,
        "--destination-arn",
        &function,
    ]);
    // AWS checks a destination with a control message first.
    let control = decode_lambda(&lambda.requests()[0].body);
    assert_eq!(control["messageType"], "CONTROL_MESSAGE");

    let now = common::now_millis();
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (s, stream_name) in ["db-1", "db-2"].iter().enumerate() {
        let mut events = Vec::new();
        for i in 0..40i64 {
            let ts = now + i;
            let object = if i % 4 == 0 { format!("'DROP TABLE t{s}_{i}'") } else { format!("'SELECT {i}'") };
            let line = audit(ts, "app", "QUERY", &object);
            if i % 4 == 0 {
                expected.entry(stream_name).or_default().push(line.clone());
            }
            events.push((ts, line));
        }
        common::put_events(&logs, group, stream_name, &events[..20]).await;
        common::put_events(&logs, group, stream_name, &events[20..]).await;
    }
    let delivered = common::poll("all matching events delivered", 30, || {
        let mut by_stream: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in lambda.requests().iter().filter(|r| r.status == 200) {
            let payload = decode_lambda(&r.body);
            if payload["messageType"] != "DATA_MESSAGE" {
                continue;
            }
            assert_eq!(payload["owner"], common::ACCOUNT);
            assert_eq!(payload["logGroup"], group);
            assert_eq!(payload["subscriptionFilters"], json!(["drops"]));
            let stream = payload["logStream"].as_str().unwrap().to_owned();
            for e in payload["logEvents"].as_array().unwrap() {
                assert!(e["id"].as_str().is_some_and(|id| !id.is_empty()));
                by_stream.entry(stream.clone()).or_default().push(e["message"].as_str().unwrap().to_owned());
            }
        }
        let done = by_stream.values().map(Vec::len).sum::<usize>() >= 20;
        std::future::ready(done.then_some(by_stream))
    })
    .await;
    for (stream_name, lines) in &expected {
        assert_eq!(&delivered[*stream_name], lines, "{stream_name}: every DROP TABLE, in order, nothing else");
    }

    // The destination fails for a while: nothing is lost, order holds, delivery resumes.
    lambda.refuse(true);
    let later: Vec<(i64, String)> =
        (0..10i64).map(|i| (now + 100 + i, audit(now + 100 + i, "ops", "QUERY", &format!("'DROP TABLE late{i}'")))).collect();
    common::put_events(&logs, group, "db-1", &later).await;
    common::poll("a refused delivery", 30, || std::future::ready(lambda.requests().iter().any(|r| r.status == 500).then_some(()))).await;
    lambda.refuse(false);
    let resent = common::poll("the late events delivered", 30, || {
        let lines: Vec<String> = lambda
            .requests()
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| decode_lambda(&r.body))
            .flat_map(|p| p["logEvents"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["message"].as_str().filter(|m| m.contains("late")).map(str::to_owned))
            .collect();
        std::future::ready((lines.len() >= 10).then_some(lines))
    })
    .await;
    let wanted: Vec<String> = later.iter().map(|(_, m)| m.clone()).collect();
    assert_eq!(resent, wanted, "the refused batch arrives whole and in order once the destination is back");

    // A stream destination receives the gzip payload itself.
    let kinesis = format!("arn:aws:kinesis:us-east-1:{}:stream/audit-stream", common::ACCOUNT);
    aws.ok(&[
        "logs",
        "put-subscription-filter",
        "--log-group-name",
        group,
        "--filter-name",
        "fails",
        "--filter-pattern",
        "FAILED_CONNECT",
        "--destination-arn",
        &kinesis,
        "--role-arn",
        &format!("arn:aws:iam::{}:role/CWLtoKinesis", common::ACCOUNT),
    ]);
    let failed = audit(now + 500, "eve", "FAILED_CONNECT", "");
    common::put_events(&logs, group, "db-2", &[(now + 500, failed.clone())]).await;
    let payload = common::poll("the stream delivery", 30, || {
        let found = stream.requests().iter().map(|r| gunzip_json(&r.body)).find(|p| p["messageType"] == "DATA_MESSAGE");
        std::future::ready(found)
    })
    .await;
    assert_eq!(payload["logEvents"][0]["message"], failed.as_str());
    assert_eq!(payload["logStream"], "db-2");

    let filters = aws.ok(&["logs", "describe-subscription-filters", "--log-group-name", group]);
    let names: BTreeSet<&str> =
        filters["subscriptionFilters"].as_array().unwrap().iter().map(|f| f["filterName"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["drops", "fails"]));
    assert_eq!(filters["subscriptionFilters"][0]["distribution"], "ByLogStream");
    aws.fails(
        &[
            "logs",
            "put-subscription-filter",
            "--log-group-name",
            group,
            "--filter-name",
            "third",
            "--filter-pattern",
            "",
            "--destination-arn",
            &function,
        ],
        "LimitExceededException",
        "PutSubscriptionFilter",
        "Resource limit exceeded.",
    );
    aws.ok(&["logs", "delete-subscription-filter", "--log-group-name", group, "--filter-name", "drops"]);
    aws.fails(
        &["logs", "delete-subscription-filter", "--log-group-name", group, "--filter-name", "drops"],
        "ResourceNotFoundException",
        "DeleteSubscriptionFilter",
        "The specified subscription filter does not exist.",
    );
}

/// A Lambda payload: `{"awslogs":{"data": base64(gzip(json))}}`.
fn decode_lambda(body: &[u8]) -> Value {
    let outer: Value = serde_json::from_slice(body).unwrap();
    let data = base64::engine::general_purpose::STANDARD.decode(outer["awslogs"]["data"].as_str().unwrap()).unwrap();
    gunzip_json(&data)
}

fn gunzip_json(bytes: &[u8]) -> Value {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Runs an Insights query with the CLI and waits for its results: rows as field → value.
fn insights(aws: &Aws, groups: &[&str], query: &str, start: i64, end: i64) -> Vec<BTreeMap<String, String>> {
    let (start, end) = (start.to_string(), end.to_string());
    let mut args = vec!["logs", "start-query", "--start-time", &start, "--end-time", &end, "--query-string", query, "--log-group-names"];
    args.extend(groups);
    let id = aws.ok(&args)["queryId"].as_str().unwrap().to_owned();
    for _ in 0..600 {
        let out = aws.ok(&["logs", "get-query-results", "--query-id", &id]);
        match out["status"].as_str().unwrap() {
            "Complete" => {
                return out["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|row| {
                        row.as_array()
                            .unwrap()
                            .iter()
                            .map(|f| (f["field"].as_str().unwrap().to_owned(), f["value"].as_str().unwrap().to_owned()))
                            .collect()
                    })
                    .collect();
            }
            "Running" | "Scheduled" => std::thread::sleep(std::time::Duration::from_millis(100)),
            other => panic!("query {query:?} ended {other}: {out}"),
        }
    }
    panic!("query {query:?} did not finish");
}

/// CloudTrail-like records: a few services, events, regions, users and errors.
fn cloudtrail_events(now: i64) -> Vec<(i64, Value)> {
    let services = [
        ("ec2.amazonaws.com", ["StartInstances", "StopInstances"]),
        ("iam.amazonaws.com", ["CreateUser", "DeleteUser"]),
        ("cloudtrail.amazonaws.com", ["UpdateTrail", "GetTrail"]),
    ];
    let regions = ["us-east-1", "us-east-2", "eu-west-1"];
    (0..300i64)
        .map(|i| {
            let (source, names) = services[(i % 3) as usize];
            let name = names[((i / 3) % 2) as usize];
            let region = regions[((i / 7) % 3) as usize];
            let mut record = json!({
                "eventVersion": "1.09",
                "eventSource": source,
                "eventName": name,
                "awsRegion": region,
                "sourceIPAddress": format!("10.0.{}.{}", i % 4, i % 9),
                "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{}:user/u{}", common::ACCOUNT, i % 5), "accountId": common::ACCOUNT},
                "requestParameters": {"userName": format!("new{i}")},
                "responseElements": {"user": {"arn": format!("arn:aws:iam::{}:user/new{i}", common::ACCOUNT)}},
            });
            if name == "UpdateTrail" && i % 2 == 0 {
                record["errorCode"] = json!("TrailNotFoundException");
                record["errorMessage"] = json!("Unknown trail");
            }
            (now - 3_000_000 + i * 10_000, record)
        })
        .collect()
}

/// VPC flow log records in the default format.
fn flow_logs(now: i64) -> Vec<(i64, String)> {
    (0..200i64)
        .map(|i| {
            let src = format!("10.0.0.{}", i % 7);
            let dst = format!("10.0.1.{}", i % 3);
            let protocol = if i % 5 == 0 { 17 } else { 6 };
            let action = if i % 4 == 0 { "REJECT" } else { "ACCEPT" };
            let (packets, bytes) = (i % 11 + 1, (i % 13 + 1) * 100);
            let t = (now - 3_000_000 + i * 10_000) / 1000;
            let line = format!(
                "2 {} eni-0abc {src} {dst} 443 {} {protocol} {packets} {bytes} {t} {} {action} OK",
                common::ACCOUNT,
                40000 + i,
                t + 60
            );
            (now - 3_000_000 + i * 10_000, line)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn insights_answers_the_documented_sample_queries() {
    let server = common::Server::start();
    let aws = Aws::new(&server);
    let logs = server.logs();
    let now = common::now_millis();
    let (start, end) = (now / 1000 - 7200, now / 1000 + 60);

    common::create_group(&logs, "trail", &["a", "b"]).await;
    let records = cloudtrail_events(now);
    let (first, second) = records.split_at(150);
    for (stream, part) in [("a", first), ("b", second)] {
        let events: Vec<(i64, String)> = part.iter().map(|(t, r)| (*t, r.to_string())).collect();
        common::put_events(&logs, "trail", stream, &events).await;
    }

    // Count by service, event and region.
    let rows = insights(&aws, &["trail"], "stats count(*) by eventSource, eventName, awsRegion", start, end);
    let mut expected: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for (_, r) in &records {
        let key = (
            r["eventSource"].as_str().unwrap().to_owned(),
            r["eventName"].as_str().unwrap().to_owned(),
            r["awsRegion"].as_str().unwrap().to_owned(),
        );
        *expected.entry(key).or_default() += 1;
    }
    let got: BTreeMap<(String, String, String), usize> = rows
        .iter()
        .map(|row| ((row["eventSource"].clone(), row["eventName"].clone(), row["awsRegion"].clone()), row["count(*)"].parse().unwrap()))
        .collect();
    assert_eq!(got, expected);

    // EC2 instances started or stopped in one region.
    let rows = insights(
        &aws,
        &["trail"],
        r#"filter (eventName="StartInstances" or eventName="StopInstances") and awsRegion="us-east-2""#,
        start,
        end,
    );
    let wanted = records
        .iter()
        .filter(|(_, r)| (r["eventName"] == "StartInstances" || r["eventName"] == "StopInstances") && r["awsRegion"] == "us-east-2")
        .count();
    assert_eq!(rows.len(), wanted);
    assert!(rows.iter().all(|r| r.contains_key("@ptr") && r.contains_key("@timestamp")));

    // New IAM users with their region and ARN.
    let rows = insights(
        &aws,
        &["trail"],
        r#"filter eventName="CreateUser" | fields awsRegion, requestParameters.userName, responseElements.user.arn"#,
        start,
        end,
    );
    let users: BTreeSet<String> = rows.iter().map(|r| r["requestParameters.userName"].clone()).collect();
    let wanted: BTreeSet<String> = records
        .iter()
        .filter(|(_, r)| r["eventName"] == "CreateUser")
        .map(|(_, r)| r["requestParameters"]["userName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, wanted);
    assert!(rows.iter().all(|r| r["responseElements.user.arn"].ends_with(&format!("user/{}", r["requestParameters.userName"]))));

    // Errors of UpdateTrail.
    let rows = insights(
        &aws,
        &["trail"],
        r#"filter eventName="UpdateTrail" and ispresent(errorCode) | stats count(*) by errorCode, errorMessage"#,
        start,
        end,
    );
    let wanted = records.iter().filter(|(_, r)| r["eventName"] == "UpdateTrail" && r.get("errorCode").is_some()).count();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["errorCode"], "TrailNotFoundException");
    assert_eq!(rows[0]["count(*)"], wanted.to_string());

    // The newest 20 events first.
    let rows = insights(&aws, &["trail"], "fields @timestamp, eventName | sort @timestamp desc | limit 20", start, end);
    assert_eq!(rows.len(), 20);
    let newest = &records.last().unwrap().1;
    assert_eq!(rows[0]["eventName"], newest["eventName"].as_str().unwrap());
    let stamps: Vec<&String> = rows.iter().map(|r| &r["@timestamp"]).collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "sorted newest first: {stamps:?}");

    // VPC flow logs: top byte transfers, and rejections by source.
    common::create_group(&logs, "flows", &["eni-0abc"]).await;
    let flows = flow_logs(now);
    common::put_events(&logs, "flows", "eni-0abc", &flows).await;
    let rows = insights(
        &aws,
        &["flows"],
        "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
        start,
        end,
    );
    let mut sums: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (_, line) in &flows {
        let f: Vec<&str> = line.split(' ').collect();
        *sums.entry((f[3].to_owned(), f[4].to_owned())).or_default() += f[9].parse::<i64>().unwrap();
    }
    let mut top: Vec<i64> = sums.values().copied().collect();
    top.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<i64> = rows.iter().map(|r| r["bytesTransferred"].parse().unwrap()).collect();
    assert_eq!(got, top[..10.min(top.len())].to_vec());
    for r in &rows {
        assert_eq!(sums[&(r["srcAddr"].clone(), r["dstAddr"].clone())].to_string(), r["bytesTransferred"]);
    }
    let rows = insights(
        &aws,
        &["flows"],
        r#"filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20"#,
        start,
        end,
    );
    let mut rejections: BTreeMap<String, usize> = BTreeMap::new();
    for (_, line) in flows.iter().filter(|(_, l)| l.contains(" REJECT ")) {
        *rejections.entry(line.split(' ').nth(3).unwrap().to_owned()).or_default() += 1;
    }
    let got: BTreeMap<String, usize> = rows.iter().map(|r| (r["srcAddr"].clone(), r["numRejections"].parse().unwrap())).collect();
    assert_eq!(got, rejections);

    // Aurora audit records: their named fields, stats by operation and 5-minute bins.
    common::create_group(&logs, "audit", &["db-1"]).await;
    let lines: Vec<(i64, String)> = (0..120i64)
        .map(|i| {
            let ts = now - 3_000_000 + i * 20_000;
            let (op, object) = if i % 10 == 0 {
                ("QUERY", "'DROP TABLE t'".to_owned())
            } else if i % 3 == 0 {
                ("CONNECT", String::new())
            } else {
                ("READ", "orders".to_owned())
            };
            (ts, audit(ts, if i % 2 == 0 { "app" } else { "admin" }, op, &object))
        })
        .collect();
    common::put_events(&logs, "audit", "db-1", &lines).await;
    let rows = insights(&aws, &["audit"], "stats count(*) by operation, bin(5m)", start, end);
    let mut expected: BTreeMap<(String, i64), usize> = BTreeMap::new();
    for (ts, line) in &lines {
        let op = line.split(',').nth(6).unwrap().to_owned();
        *expected.entry((op, ts - ts.rem_euclid(300_000))).or_default() += 1;
    }
    assert_eq!(rows.len(), expected.len());
    let total: usize = rows.iter().map(|r| r["count(*)"].parse::<usize>().unwrap()).sum();
    assert_eq!(total, lines.len());
    let rows = insights(
        &aws,
        &["audit"],
        r#"filter operation = "QUERY" and object like /DROP TABLE/ | stats count(*) as drops by username"#,
        start,
        end,
    );
    let got: BTreeMap<String, String> = rows.iter().map(|r| (r["username"].clone(), r["drops"].clone())).collect();
    assert_eq!(got, BTreeMap::from([("app".to_owned(), "12".to_owned())]));

    // Two groups at once, and SQL.
    let rows = insights(&aws, &["trail", "flows"], "stats count(*) as n by @log", start, end);
    let counts: BTreeMap<String, String> = rows.iter().map(|r| (r["@log"].clone(), r["n"].clone())).collect();
    assert_eq!(counts[&format!("{}:trail", common::ACCOUNT)], "300");
    assert_eq!(counts[&format!("{}:flows", common::ACCOUNT)], "200");
    let (s, e) = (start.to_string(), end.to_string());
    let id = aws.ok(&[
        "logs",
        "start-query",
        "--query-language",
        "SQL",
        "--start-time",
        &s,
        "--end-time",
        &e,
        "--query-string",
        "SELECT COUNT(*) AS n FROM `audit`",
    ])["queryId"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = common::poll("the SQL query", 60, || {
        let out = aws.ok(&["logs", "get-query-results", "--query-id", &id]);
        std::future::ready((out["status"] == "Complete").then_some(out))
    })
    .await;
    assert_eq!(out["results"][0][0]["value"], "120");
    assert_eq!(out["statistics"]["recordsScanned"].as_f64(), Some(120.0));

    // Statuses, errors and saved queries.
    let queries = aws.ok(&["logs", "describe-queries", "--log-group-name", "trail"]);
    assert!(queries["queries"].as_array().unwrap().iter().all(|q| q["status"] == "Complete"));
    aws.fails_with_code(
        &[
            "logs",
            "start-query",
            "--log-group-name",
            "trail",
            "--start-time",
            &s,
            "--end-time",
            &e,
            "--query-string",
            "frobnicate everything",
        ],
        "MalformedQueryException",
        "StartQuery",
    );
    aws.fails(
        &["logs", "start-query", "--log-group-name", "nope", "--start-time", &s, "--end-time", &e, "--query-string", "fields @message"],
        "ResourceNotFoundException",
        "StartQuery",
        &format!("Log group 'nope' does not exist for account ID '{}'", common::ACCOUNT),
    );
    let saved = aws.ok(&[
        "logs",
        "put-query-definition",
        "--name",
        "audit/drops",
        "--query-string",
        "filter object like /DROP/",
        "--log-group-names",
        "audit",
    ]);
    let id = saved["queryDefinitionId"].as_str().unwrap().to_owned();
    let defs = aws.ok(&["logs", "describe-query-definitions", "--query-definition-name-prefix", "audit/"]);
    assert_eq!(defs["queryDefinitions"][0]["queryString"], "filter object like /DROP/");
    assert_eq!(defs["queryDefinitions"][0]["logGroupNames"], json!(["audit"]));
    aws.ok(&[
        "logs",
        "put-query-definition",
        "--query-definition-id",
        &id,
        "--name",
        "audit/drops",
        "--query-string",
        "filter object like /DROP TABLE/",
    ]);
    let defs = aws.ok(&["logs", "describe-query-definitions"]);
    assert_eq!(defs["queryDefinitions"].as_array().unwrap().len(), 1);
    assert_eq!(defs["queryDefinitions"][0]["queryString"], "filter object like /DROP TABLE/");
    assert_eq!(aws.ok(&["logs", "delete-query-definition", "--query-definition-id", &id])["success"], true);
    aws.fails(
        &["logs", "delete-query-definition", "--query-definition-id", &id],
        "ResourceNotFoundException",
        "DeleteQueryDefinition",
        "The specified query definition does not exist.",
    );
}

/// The AWS SDK for Rust speaks CloudWatch's RPC v2 CBOR protocol (the CLI speaks JSON 1.0):
/// the same service answers both, errors included.
#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_answers_the_rust_sdk_over_cbor() {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, StandardUnit, StatisticSet};

    let server = common::Server::start();
    let cw = aws_sdk_cloudwatch::Client::new(&server.sdk_config());
    let now = common::now_millis() / 1000;
    let minute = now - now % 60 - 120;
    let dim = Dimension::builder().name("Cluster").value("shop").build();
    cw.put_metric_data()
        .namespace("Audit")
        .metric_data(
            MetricDatum::builder()
                .metric_name("FailedLogins")
                .dimensions(dim.clone())
                .timestamp(DateTime::from_secs(minute + 5))
                .set_values(Some(vec![1.0, 3.0]))
                .set_counts(Some(vec![2.0, 1.0]))
                .unit(StandardUnit::Count)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("FailedLogins")
                .dimensions(dim.clone())
                .timestamp(DateTime::from_secs(minute + 65))
                .statistic_values(StatisticSet::builder().sample_count(2.0).sum(10.0).minimum(4.0).maximum(6.0).build())
                .unit(StandardUnit::Count)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let metric = Metric::builder().namespace("Audit").metric_name("FailedLogins").dimensions(dim.clone()).build();
    let out = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder().id("m1").metric_stat(MetricStat::builder().metric(metric).period(60).stat("Sum").build()).build(),
        )
        .metric_data_queries(MetricDataQuery::builder().id("doubled").expression("m1 * 2").build())
        .start_time(DateTime::from_secs(minute - 600))
        .end_time(DateTime::from_secs(minute + 600))
        .send()
        .await
        .unwrap();
    let results = out.metric_data_results();
    let m1 = results.iter().find(|r| r.id() == Some("m1")).unwrap();
    // Newest first: the statistic set's minute, then the values' (1 + 1 + 3).
    assert_eq!(m1.values(), &[10.0, 5.0]);
    assert_eq!(m1.timestamps().iter().map(|t| t.secs()).collect::<Vec<_>>(), vec![minute + 60, minute]);
    let doubled = results.iter().find(|r| r.id() == Some("doubled")).unwrap();
    assert_eq!(doubled.values(), &[20.0, 10.0]);

    let listed = cw.list_metrics().namespace("Audit").send().await.unwrap();
    assert_eq!(listed.metrics().len(), 1);
    assert_eq!(listed.metrics()[0].dimensions(), &[dim]);

    // Errors reach the SDK with CloudWatch's own codes.
    let err = cw
        .put_metric_data()
        .namespace("Audit")
        .metric_data(
            MetricDatum::builder()
                .metric_name("X")
                .value(1.0)
                .statistic_values(StatisticSet::builder().sample_count(1.0).sum(1.0).minimum(1.0).maximum(1.0).build())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().meta().code(), Some("InvalidParameterCombination"));
    let err = cw
        .get_metric_statistics()
        .namespace("Audit")
        .metric_name("FailedLogins")
        .period(60)
        .start_time(DateTime::from_secs(minute))
        .end_time(DateTime::from_secs(minute + 60))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().meta().code(), Some("InvalidParameterCombination"));
}
