//! AWS's sample queries for CloudTrail logs ("Sample queries", CloudTrail section) over
//! generated CloudTrail records; every expected answer is computed here from the records.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{Event, Rng, START, format_time, get, map, names, run};
use serde_json::json;

const SERVICES: [(&str, &[&str]); 5] = [
    ("ec2.amazonaws.com", &["StartInstances", "StopInstances", "DescribeInstances"]),
    ("s3.amazonaws.com", &["GetObject", "PutObject", "ListBuckets"]),
    ("iam.amazonaws.com", &["CreateUser", "ListUsers"]),
    ("logs.amazonaws.com", &["PutLogEvents", "CreateLogGroup"]),
    ("cloudtrail.amazonaws.com", &["UpdateTrail"]),
];
const REGIONS: [&str; 3] = ["us-east-1", "us-east-2", "eu-west-1"];
const ERRORS: [(&str, &str); 3] = [
    ("AccessDenied", "Access Denied"),
    ("AccessDeniedException", "User is not authorized to perform this action"),
    ("ThrottlingException", "Rate exceeded"),
];

/// One generated CloudTrail record, as the test knows it.
#[derive(Debug, Clone)]
struct Record {
    time: i64,
    source: &'static str,
    name: &'static str,
    region: &'static str,
    arn: String,
    error: Option<(&'static str, &'static str)>,
    tls: &'static str,
    bucket: Option<String>,
    new_user: Option<String>,
    read_only: bool,
}

impl Record {
    fn message(&self) -> String {
        let mut record = json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "arn": self.arn, "accountId": "123456789012", "userName": self.arn.rsplit('/').next()},
            "eventTime": "2022-05-20T00:00:00Z",
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": self.region,
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": null,
            "responseElements": null,
            "readOnly": self.read_only,
            "eventType": "AwsApiCall",
            "recipientAccountId": "123456789012",
            "tlsDetails": {"tlsVersion": self.tls, "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256", "clientProvidedHostHeader": "x"},
        });
        if let Some((code, message)) = self.error {
            record["errorCode"] = json!(code);
            record["errorMessage"] = json!(message);
        }
        if let Some(bucket) = &self.bucket {
            record["resources"] = json!([
                {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/key")},
                {"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")},
            ]);
        }
        if let Some(user) = &self.new_user {
            record["requestParameters"] = json!({"userName": user});
            record["responseElements"] = json!({"user": {"arn": format!("arn:aws:iam::123456789012:user/{user}"), "userName": user}});
        }
        record.to_string()
    }
}

fn records(n: usize) -> Vec<Record> {
    let mut rng = Rng::new(7);
    (0..n)
        .map(|i| {
            let (source, names) = rng.pick(&SERVICES);
            let name = rng.pick(names);
            let error = (rng.below(6) == 0).then(|| rng.pick(&ERRORS));
            let tls = rng.pick(&["TLSv1.2", "TLSv1.2", "TLSv1.3", "TLSv1", "TLSv1.1"]);
            Record {
                time: START + i as i64 * 60_000 + rng.below(50_000) as i64,
                source,
                name,
                region: rng.pick(&REGIONS),
                arn: format!("arn:aws:iam::123456789012:user/user-{}", rng.below(5)),
                error,
                tls,
                bucket: (source == "s3.amazonaws.com").then(|| format!("bucket-{}", rng.below(4))),
                new_user: (name == "CreateUser").then(|| format!("new-{i}")),
                read_only: name.starts_with("Describe") || name.starts_with("List") || name.starts_with("Get"),
            }
        })
        .collect()
}

fn events(records: &[Record]) -> Vec<Event> {
    records.iter().map(|r| Event::new(r.time, "trail-stream", r.message())).collect()
}

fn counts<K: Ord>(keys: impl Iterator<Item = K>) -> BTreeMap<K, usize> {
    let mut counts = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn number_of_entries_by_service_event_and_region() {
    let records = records(1500);
    let output = run("stats count(*) by eventSource, eventName, awsRegion", &events(&records)).await;
    let expected = counts(records.iter().map(|r| (r.source.to_string(), r.name.to_string(), r.region.to_string())));
    let got: BTreeMap<(String, String, String), usize> = output
        .results
        .iter()
        .map(|row| {
            assert_eq!(names(row), ["eventSource", "eventName", "awsRegion", "count(*)"]);
            let m = map(row);
            ((m["eventSource"].clone(), m["eventName"].clone(), m["awsRegion"].clone()), m["count(*)"].parse().unwrap())
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(output.records_matched, 1500.0);
    assert_eq!(output.records_scanned, 1500.0);
}

#[tokio::test]
async fn instances_started_or_stopped_in_a_region() {
    let records = records(1500);
    let query = r#"fields @timestamp, eventName, userIdentity.arn
        | filter (eventName="StartInstances" or eventName="StopInstances") and awsRegion="us-east-2""#;
    let output = run(query, &events(&records)).await;
    let mut expected: Vec<&Record> =
        records.iter().filter(|r| (r.name == "StartInstances" || r.name == "StopInstances") && r.region == "us-east-2").collect();
    expected.sort_by_key(|r| std::cmp::Reverse(r.time));
    assert!(!expected.is_empty());
    assert_eq!(output.results.len(), expected.len());
    for (row, record) in output.results.iter().zip(&expected) {
        assert_eq!(names(row), ["@timestamp", "eventName", "userIdentity.arn", "@ptr"]);
        assert_eq!(get(row, "@timestamp"), Some(format_time(record.time).as_str()));
        assert_eq!(get(row, "eventName"), Some(record.name));
        assert_eq!(get(row, "userIdentity.arn"), Some(record.arn.as_str()));
    }
    assert_eq!(output.records_matched, expected.len() as f64);
}

#[tokio::test]
async fn entries_per_hour_newest_bin_first() {
    let records = records(1500);
    let output = run("stats count(*) by bin(1h)", &events(&records)).await;
    let by_hour = counts(records.iter().map(|r| r.time - (r.time - START).rem_euclid(3_600_000)));
    let expected: Vec<(String, String)> = by_hour.iter().rev().map(|(hour, n)| (format_time(*hour), n.to_string())).collect();
    let got: Vec<(String, String)> = output
        .results
        .iter()
        .map(|row| {
            assert_eq!(names(row), ["bin(1h)", "count(*)"]);
            (row[0].1.clone(), row[1].1.clone())
        })
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn access_denied_errors_by_user() {
    let records = records(1500);
    let query = "filter errorCode like /Denied/ | stats count(*) as denied by userIdentity.arn | sort denied desc";
    let output = run(query, &events(&records)).await;
    let expected = counts(records.iter().filter(|r| r.error.is_some_and(|(code, _)| code.contains("Denied"))).map(|r| r.arn.clone()));
    let got: BTreeMap<String, usize> = output.results.iter().map(|row| (row[0].1.clone(), row[1].1.parse().unwrap())).collect();
    assert_eq!(got, expected);
    let order: Vec<usize> = output.results.iter().map(|row| row[1].1.parse().unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]), "{order:?}");
    assert_eq!(output.records_matched, expected.values().sum::<usize>() as f64);
}

#[tokio::test]
async fn twenty_latest_calls() {
    let records = records(800);
    let output = run("fields @timestamp, userIdentity.arn, eventName | sort @timestamp desc | limit 20", &events(&records)).await;
    let mut expected = records.clone();
    expected.sort_by_key(|r| std::cmp::Reverse(r.time));
    assert_eq!(output.results.len(), 20);
    for (row, record) in output.results.iter().zip(&expected) {
        assert_eq!(names(row), ["@timestamp", "userIdentity.arn", "eventName", "@ptr"]);
        assert_eq!(row[0].1, format_time(record.time));
        assert_eq!(row[1].1, record.arn);
        assert_eq!(row[2].1, record.name);
    }
}

#[tokio::test]
async fn update_trail_exceptions() {
    let records = records(3000);
    let query = r#"filter eventName="UpdateTrail" and ispresent(errorCode) | stats count(*) by errorCode, errorMessage"#;
    let output = run(query, &events(&records)).await;
    let expected = counts(records.iter().filter(|r| r.name == "UpdateTrail").filter_map(|r| r.error));
    assert!(!expected.is_empty());
    let got: BTreeMap<(&str, &str), usize> =
        output.results.iter().map(|row| ((row[0].1.as_str(), row[1].1.as_str()), row[2].1.parse().unwrap())).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn calls_with_outdated_tls_per_service() {
    let records = records(1500);
    let query = r#"filter tlsDetails.tlsVersion in [ "TLSv1", "TLSv1.1" ]
        | stats count(*) as numOutdatedTlsCalls by eventSource
        | sort numOutdatedTlsCalls desc"#;
    let output = run(query, &events(&records)).await;
    let expected = counts(records.iter().filter(|r| r.tls == "TLSv1" || r.tls == "TLSv1.1").map(|r| r.source));
    let got: BTreeMap<&str, usize> = output.results.iter().map(|row| (row[0].1.as_str(), row[1].1.parse().unwrap())).collect();
    assert_eq!(got, expected);
    assert_eq!(names(&output.results[0]), ["eventSource", "numOutdatedTlsCalls"]);
}

#[tokio::test]
async fn newly_created_users() {
    let records = records(1500);
    let query = r#"filter eventName="CreateUser" | fields awsRegion, requestParameters.userName, responseElements.user.arn"#;
    let output = run(query, &events(&records)).await;
    let mut expected: Vec<&Record> = records.iter().filter(|r| r.name == "CreateUser").collect();
    expected.sort_by_key(|r| std::cmp::Reverse(r.time));
    assert_eq!(output.results.len(), expected.len());
    for (row, record) in output.results.iter().zip(expected) {
        let user = record.new_user.as_deref().unwrap();
        assert_eq!(get(row, "awsRegion"), Some(record.region));
        assert_eq!(get(row, "requestParameters.userName"), Some(user));
        assert_eq!(get(row, "responseElements.user.arn"), Some(format!("arn:aws:iam::123456789012:user/{user}").as_str()));
    }
}

#[tokio::test]
async fn array_elements_and_booleans() {
    let records = records(1500);
    let query = r#"filter resources.1.ARN like "bucket-2" and resources.0.type = "AWS::S3::Object" | stats count(*) as n by readOnly"#;
    let output = run(query, &events(&records)).await;
    let expected = counts(records.iter().filter(|r| r.bucket.as_deref() == Some("bucket-2")).map(|r| if r.read_only { "1" } else { "0" }));
    let got: BTreeMap<&str, usize> =
        output.results.iter().map(|row| (get(row, "readOnly").unwrap(), get(row, "n").unwrap().parse().unwrap())).collect();
    assert_eq!(got, expected);

    let writes = run("filter readOnly = 0 | stats count(*) as writes", &events(&records)).await;
    assert_eq!(writes.results[0][0].1, records.iter().filter(|r| !r.read_only).count().to_string());
}

#[tokio::test]
async fn missing_fields_are_left_out_of_rows() {
    let records = records(300);
    let output = run("fields eventName, errorCode | sort @timestamp asc | limit 300", &events(&records)).await;
    let mut expected = records.clone();
    expected.sort_by_key(|r| r.time);
    for (row, record) in output.results.iter().zip(&expected) {
        let m: HashMap<_, _> = row.iter().cloned().collect();
        assert_eq!(m.get("errorCode").map(String::as_str), record.error.map(|e| e.0));
        assert!(m.contains_key("@ptr"));
    }
}
