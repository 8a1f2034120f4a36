//! CloudTrail through the AWS SDK for Rust against the real binary: every call recorded
//! in AWS's record format, event history, trails delivering gzip log files to a bucket,
//! and delivery surviving a crash exactly once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_cloudwatchlogs::operation::RequestId;
use serde_json::Value;

fn cloudtrail(server: &common::Server) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(&server.sdk_config())
}

/// Every record of LookupEvents for one attribute, newest first, following NextToken.
async fn lookup(ct: &aws_sdk_cloudtrail::Client, key: LookupAttributeKey, value: &str) -> Vec<Value> {
    let attribute = LookupAttribute::builder().attribute_key(key).attribute_value(value).build().unwrap();
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = ct.lookup_events().lookup_attributes(attribute.clone()).max_results(2).set_next_token(token).send().await.unwrap();
        for e in page.events() {
            let record: Value = serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap();
            assert_eq!(e.event_id(), record["eventID"].as_str());
            assert_eq!(e.event_name(), record["eventName"].as_str());
            out.push(record);
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

/// The fields every record has, whoever called.
fn assert_common_fields(r: &Value, source: &str, name: &str) {
    assert_eq!(r["eventVersion"], "1.09", "{r}");
    assert_eq!(r["eventSource"], source);
    assert_eq!(r["eventName"], name);
    assert_eq!(r["awsRegion"], common::REGION);
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert!(r["userAgent"].as_str().unwrap().contains("aws-sdk-rust"), "{r}");
    assert!(r["eventTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r["eventID"].as_str().unwrap().len(), 36);
    assert_eq!(r["requestID"].as_str().unwrap().len(), 36);
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["eventCategory"], "Management");
    assert_eq!(r["recipientAccountId"], common::ACCOUNT);
    assert_eq!(r["userIdentity"]["accountId"], common::ACCOUNT);
    assert!(r.get("tlsDetails").is_none(), "served over plain HTTP");
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_are_recorded_with_every_field_in_shape() {
    let server = common::Server::start();
    let logs = server.logs();
    let iam = server.iam();
    let ct = cloudtrail(&server);

    // A root call that changes something.
    let created = logs.create_log_group().log_group_name("recorded/group").send().await.unwrap();
    let request_id = created.request_id().unwrap().to_owned();
    // PutLogEvents is a data event: not recorded in event history.
    logs.create_log_stream().log_group_name("recorded/group").log_stream_name("s").send().await.unwrap();
    common::put_events(&logs, "recorded/group", "s", &[(common::now_millis(), "secret payload".into())]).await;

    // A denied call by an IAM user, and an AssumeRole by that user.
    iam.create_user().user_name("alice").send().await.unwrap();
    let key = iam.create_access_key().user_name("alice").send().await.unwrap().access_key.unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    iam.put_user_policy().user_name("alice").policy_name("assume").policy_document(policy).send().await.unwrap();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:user/alice"}},"Action":"sts:AssumeRole"}}]}}"#,
        common::ACCOUNT
    );
    iam.create_role().role_name("auditor").assume_role_policy_document(trust).send().await.unwrap();
    let alice = server.sdk_config_with(key.access_key_id(), key.secret_access_key(), None);
    let denied = aws_sdk_cloudwatchlogs::Client::new(&alice).create_log_group().log_group_name("nope").send().await.unwrap_err();
    assert_eq!(denied.into_service_error().meta().code(), Some("AccessDeniedException"));
    let assumed = aws_sdk_sts::Client::new(&alice)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{}:role/auditor", common::ACCOUNT))
        .role_session_name("audit-session")
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    // A call made with the session's credentials.
    let session = server.sdk_config_session(creds.access_key_id(), creds.secret_access_key(), creds.session_token());
    let _ = aws_sdk_cloudwatchlogs::Client::new(&session).describe_log_groups().send().await;

    // The root's CreateLogGroup.
    let records = lookup(&ct, LookupAttributeKey::EventName, "CreateLogGroup").await;
    let root_call = records.iter().find(|r| r["requestParameters"]["logGroupName"] == "recorded/group").expect("CreateLogGroup recorded");
    assert_common_fields(root_call, "logs.amazonaws.com", "CreateLogGroup");
    assert_eq!(root_call["requestID"], request_id.as_str());
    assert_eq!(root_call["readOnly"], false);
    assert_eq!(root_call["responseElements"], Value::Null);
    let who = &root_call["userIdentity"];
    assert_eq!(who["type"], "Root");
    assert_eq!(who["principalId"], common::ACCOUNT);
    assert_eq!(who["arn"], format!("arn:aws:iam::{}:root", common::ACCOUNT));
    assert_eq!(who["accessKeyId"], common::ACCESS_KEY);
    assert_eq!(root_call["resources"][0]["type"], "AWS::Logs::LogGroup");

    // The denied call: recorded with the error, as the IAM user.
    let denied = records.iter().find(|r| r["requestParameters"]["logGroupName"] == "nope").expect("denied call recorded");
    assert_common_fields(denied, "logs.amazonaws.com", "CreateLogGroup");
    assert_eq!(denied["errorCode"], "AccessDeniedException");
    assert!(denied["errorMessage"].as_str().unwrap().contains("is not authorized to perform: logs:CreateLogGroup"));
    assert_eq!(denied["responseElements"], Value::Null);
    let who = &denied["userIdentity"];
    assert_eq!(who["type"], "IAMUser");
    assert_eq!(who["userName"], "alice");
    assert!(who["principalId"].as_str().unwrap().starts_with("AIDA"));
    assert_eq!(who["accessKeyId"], key.access_key_id());

    // AssumeRole: the session's credentials are recorded without secret or token.
    let assume = lookup(&ct, LookupAttributeKey::EventName, "AssumeRole").await;
    let assume = assume.first().expect("AssumeRole recorded");
    assert_common_fields(assume, "sts.amazonaws.com", "AssumeRole");
    assert_eq!(assume["requestParameters"]["roleSessionName"], "audit-session");
    let response = &assume["responseElements"];
    assert_eq!(response["credentials"]["accessKeyId"], creds.access_key_id());
    let text = assume.to_string();
    assert!(!text.contains(creds.secret_access_key()), "the secret key must not be recorded");
    assert!(!text.contains(creds.session_token()), "the session token must not be recorded");
    assert!(!text.contains(key.secret_access_key()));

    // CreateAccessKey: the secret never appears.
    let keys = lookup(&ct, LookupAttributeKey::EventName, "CreateAccessKey").await;
    assert_eq!(keys[0]["responseElements"]["accessKey"]["accessKeyId"], key.access_key_id());
    assert!(keys[0]["responseElements"]["accessKey"].get("secretAccessKey").is_none());
    assert_eq!(keys[0]["awsRegion"], "us-east-1", "IAM is global and recorded in us-east-1");

    // The role session's call: AssumedRole with its session context.
    let reads = lookup(&ct, LookupAttributeKey::Username, "audit-session").await;
    let read = reads.iter().find(|r| r["eventName"] == "DescribeLogGroups").expect("session call recorded");
    assert_common_fields(read, "logs.amazonaws.com", "DescribeLogGroups");
    assert_eq!(read["readOnly"], true);
    assert_eq!(read["responseElements"], Value::Null, "read-only calls have null responseElements");
    let who = &read["userIdentity"];
    assert_eq!(who["type"], "AssumedRole");
    assert_eq!(who["arn"], format!("arn:aws:sts::{}:assumed-role/auditor/audit-session", common::ACCOUNT));
    assert!(who["principalId"].as_str().unwrap().ends_with(":audit-session"));
    let issuer = &who["sessionContext"]["sessionIssuer"];
    assert_eq!(issuer["type"], "Role");
    assert_eq!(issuer["userName"], "auditor");
    assert_eq!(issuer["arn"], format!("arn:aws:iam::{}:role/auditor", common::ACCOUNT));
    assert!(issuer["principalId"].as_str().unwrap().starts_with("AROA"));
    assert_eq!(who["sessionContext"]["attributes"]["mfaAuthenticated"], "false");

    // Data events are not management events and stay out of event history.
    assert!(lookup(&ct, LookupAttributeKey::EventName, "PutLogEvents").await.is_empty());
    let everything = ct.lookup_events().max_results(50).send().await.unwrap();
    assert!(!everything.events().iter().any(|e| e.cloud_trail_event().unwrap().contains("secret payload")));
}

#[tokio::test(flavor = "multi_thread")]
async fn event_history_filters_pages_and_refuses_bad_lookups() {
    let server = common::Server::start();
    let logs = server.logs();
    let ct = cloudtrail(&server);
    for i in 0..5 {
        logs.create_log_group().log_group_name(format!("history/{i}")).send().await.unwrap();
    }
    logs.describe_log_groups().send().await.unwrap();

    // Paging through five CreateLogGroup events two at a time, newest first.
    let created = lookup(&ct, LookupAttributeKey::EventName, "CreateLogGroup").await;
    let names: Vec<&str> = created.iter().map(|r| r["requestParameters"]["logGroupName"].as_str().unwrap()).collect();
    assert_eq!(names, ["history/4", "history/3", "history/2", "history/1", "history/0"]);

    let by_resource = lookup(&ct, LookupAttributeKey::ResourceName, "history/3").await;
    assert_eq!(by_resource.len(), 1);
    let by_type = lookup(&ct, LookupAttributeKey::ResourceType, "AWS::Logs::LogGroup").await;
    assert_eq!(by_type.len(), 5);
    let reads = lookup(&ct, LookupAttributeKey::ReadOnly, "true").await;
    assert!(reads.iter().all(|r| r["readOnly"] == true) && reads.iter().any(|r| r["eventName"] == "DescribeLogGroups"));
    let by_source = lookup(&ct, LookupAttributeKey::EventSource, "logs.amazonaws.com").await;
    assert!(by_source.len() >= 6);
    let by_key = lookup(&ct, LookupAttributeKey::AccessKeyId, common::ACCESS_KEY).await;
    assert!(by_key.len() >= 6);
    let one = lookup(&ct, LookupAttributeKey::EventId, created[2]["eventID"].as_str().unwrap()).await;
    assert_eq!(one, vec![created[2].clone()]);
    assert!(lookup(&ct, LookupAttributeKey::Username, "root").await.len() >= 6);

    // The time range bounds the events.
    let future = aws_smithy_types::DateTime::from_secs(common::now_millis() / 1000 + 3600);
    let later = ct.lookup_events().start_time(future).send().await.unwrap();
    assert!(later.events().is_empty());

    // Bad lookups are refused with CloudTrail's errors.
    let attr = |k: LookupAttributeKey, v: &str| LookupAttribute::builder().attribute_key(k).attribute_value(v).build().unwrap();
    let two = ct
        .lookup_events()
        .lookup_attributes(attr(LookupAttributeKey::EventName, "a"))
        .lookup_attributes(attr(LookupAttributeKey::Username, "b"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(two.into_service_error().meta().code(), Some("InvalidLookupAttributesException"));
    let bad_bool = ct.lookup_events().lookup_attributes(attr(LookupAttributeKey::ReadOnly, "maybe")).send().await.unwrap_err();
    assert_eq!(bad_bool.into_service_error().meta().code(), Some("InvalidLookupAttributesException"));
    let now = aws_smithy_types::DateTime::from_secs(common::now_millis() / 1000);
    let earlier = aws_smithy_types::DateTime::from_secs(common::now_millis() / 1000 - 60);
    let backwards = ct.lookup_events().start_time(now).end_time(earlier).send().await.unwrap_err();
    assert_eq!(backwards.into_service_error().meta().code(), Some("InvalidTimeRangeException"));
    let bad_token = ct.lookup_events().next_token("bm90IGEgdG9rZW4=").send().await.unwrap_err();
    assert_eq!(bad_token.into_service_error().meta().code(), Some("InvalidNextTokenException"));
}

/// Every log file under a bucket directory: key → decompressed records.
fn delivered(bucket: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    for path in common::files_under(bucket) {
        let key = path.strip_prefix(bucket).unwrap().to_string_lossy().into_owned();
        // `NAME#N` is object_store's file being written (or left by a kill mid-write):
        // not an object, and invisible through the S3 API.
        if !key.contains("/CloudTrail/") || key.contains('#') {
            continue;
        }
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).unwrap();
        let file: Value = serde_json::from_str(&text).unwrap();
        out.insert(key, file["Records"].as_array().unwrap().clone());
    }
    out
}

fn bucket_dir(server: &common::Server, bucket: &str) -> PathBuf {
    let dir = server.data_dir.join("buckets").join(bucket);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn start_trail(ct: &aws_sdk_cloudtrail::Client, name: &str, bucket: &str) -> String {
    let trail = ct.create_trail().name(name).s3_bucket_name(bucket).s3_key_prefix("audit").send().await.unwrap();
    ct.start_logging().name(name).send().await.unwrap();
    trail.trail_arn().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn trails_deliver_gzip_log_files_under_aws_keys() {
    let server = common::Server::start_with(&["--trail-delivery-secs", "1"]);
    let ct = cloudtrail(&server);
    let logs = server.logs();
    let bucket = bucket_dir(&server, "audit-bucket");

    // A bucket that does not exist is refused.
    let missing = ct.create_trail().name("missing-bucket").s3_bucket_name("no-such-bucket").send().await.unwrap_err();
    assert_eq!(missing.into_service_error().meta().code(), Some("S3BucketDoesNotExistException"));
    let arn = start_trail(&ct, "main-trail", "audit-bucket").await;
    assert_eq!(arn, format!("arn:aws:cloudtrail:us-east-1:{}:trail/main-trail", common::ACCOUNT));
    logs.create_log_group().log_group_name("delivered/group").send().await.unwrap();
    logs.delete_log_group().log_group_name("delivered/group").send().await.unwrap();

    let files = common::poll("log files with both calls", 30, || {
        let files = delivered(&bucket);
        let names: BTreeSet<String> = files.values().flatten().filter_map(|r| r["eventName"].as_str().map(str::to_owned)).collect();
        std::future::ready((names.contains("CreateLogGroup") && names.contains("DeleteLogGroup")).then_some(files))
    })
    .await;
    let key_pattern = regex::Regex::new(&format!(
        r"^audit/AWSLogs/{0}/CloudTrail/us-east-1/\d{{4}}/\d{{2}}/\d{{2}}/{0}_CloudTrail_us-east-1_\d{{8}}T\d{{4}}Z_[0-9A-Za-z]{{16}}\.json\.gz$",
        common::ACCOUNT
    ))
    .unwrap();
    for key in files.keys() {
        assert!(key_pattern.is_match(key), "{key}");
    }
    let records: Vec<&Value> = files.values().flatten().collect();
    // Delivery starts with StartLogging: the CreateTrail before it is not delivered.
    assert!(records.iter().any(|r| r["eventName"] == "StartLogging"));
    assert!(!records.iter().any(|r| r["eventName"] == "CreateTrail"), "events before StartLogging are not delivered");
    let ids: BTreeSet<&str> = records.iter().map(|r| r["eventID"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), records.len(), "no event twice");

    let status = ct.get_trail_status().name("main-trail").send().await.unwrap();
    assert_eq!(status.is_logging(), Some(true));
    assert!(status.latest_delivery_time().is_some());
    assert!(status.latest_delivery_error().is_none());
    assert_eq!(status.latest_delivery_attempt_succeeded(), Some("true"));

    // Write-only selectors leave reads out.
    ct.put_event_selectors()
        .trail_name("main-trail")
        .event_selectors(
            aws_sdk_cloudtrail::types::EventSelector::builder()
                .read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::WriteOnly)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let read = logs.describe_log_groups().send().await.unwrap();
    let read_id = read.request_id().unwrap().to_owned();
    logs.create_log_group().log_group_name("after/selectors").send().await.unwrap();
    common::poll("the write after the selector change", 30, || {
        let files = delivered(&bucket);
        std::future::ready(files.values().flatten().any(|r| r["requestParameters"]["logGroupName"] == "after/selectors").then_some(()))
    })
    .await;
    let after: Vec<Value> = delivered(&bucket).into_values().flatten().collect();
    assert!(after.iter().any(|r| r["eventName"] == "PutEventSelectors"));
    assert!(!after.iter().any(|r| r["requestID"] == read_id.as_str()), "reads after the change are not delivered");

    // Stopping: nothing more is delivered.
    ct.stop_logging().name("main-trail").send().await.unwrap();
    let status = ct.get_trail_status().name("main-trail").send().await.unwrap();
    assert_eq!(status.is_logging(), Some(false));
    assert!(status.stop_logging_time().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn trail_management_follows_aws() {
    let server = common::Server::start();
    let ct = cloudtrail(&server);
    bucket_dir(&server, "trail-bucket");
    let bad = ct.create_trail().name("a").s3_bucket_name("trail-bucket").send().await.unwrap_err();
    assert_eq!(bad.into_service_error().meta().code(), Some("InvalidTrailNameException"));
    let created = ct
        .create_trail()
        .name("trail1")
        .s3_bucket_name("trail-bucket")
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .tags_list(aws_sdk_cloudtrail::types::Tag::builder().key("team").value("audit").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(created.is_multi_region_trail(), Some(true));
    assert_eq!(created.log_file_validation_enabled(), Some(true));
    let again = ct.create_trail().name("trail1").s3_bucket_name("trail-bucket").send().await.unwrap_err();
    assert_eq!(again.into_service_error().meta().code(), Some("TrailAlreadyExistsException"));
    for i in 2..=5 {
        ct.create_trail().name(format!("trail{i}")).s3_bucket_name("trail-bucket").send().await.unwrap();
    }
    let sixth = ct.create_trail().name("trail6").s3_bucket_name("trail-bucket").send().await.unwrap_err();
    assert_eq!(sixth.into_service_error().meta().code(), Some("MaximumNumberOfTrailsExceededException"));

    let got = ct.get_trail().name(created.trail_arn().unwrap()).send().await.unwrap();
    assert_eq!(got.trail().unwrap().home_region(), Some("us-east-1"));
    let described = ct.describe_trails().trail_name_list("trail1").send().await.unwrap();
    assert_eq!(described.trail_list().len(), 1);
    assert_eq!(ct.describe_trails().send().await.unwrap().trail_list().len(), 5);
    assert_eq!(ct.list_trails().send().await.unwrap().trails().len(), 5);

    // A multi-region trail shows in another region as a shadow; changes need its home region.
    let west = aws_sdk_cloudtrail::Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(&server.sdk_config())
            .region(aws_sdk_cloudtrail::config::Region::new("eu-west-1"))
            .build(),
    );
    let shadows = west.describe_trails().send().await.unwrap();
    assert_eq!(shadows.trail_list().iter().map(|t| t.name().unwrap()).collect::<Vec<_>>(), ["trail1"]);
    let elsewhere = west.delete_trail().name(created.trail_arn().unwrap()).send().await.unwrap_err();
    assert_eq!(elsewhere.into_service_error().meta().code(), Some("InvalidHomeRegionException"));
    let single = west.get_trail().name("trail2").send().await.unwrap_err();
    assert_eq!(single.into_service_error().meta().code(), Some("TrailNotFoundException"));

    let updated = ct.update_trail().name("trail2").s3_key_prefix("p").include_global_service_events(false).send().await.unwrap();
    assert_eq!(updated.s3_key_prefix(), Some("p"));
    assert_eq!(updated.include_global_service_events(), Some(false));
    let combo = ct.update_trail().name("trail2").is_multi_region_trail(true).send().await.unwrap_err();
    assert_eq!(combo.into_service_error().meta().code(), Some("InvalidParameterCombinationException"));
    let bad_group = ct
        .update_trail()
        .name("trail2")
        .cloud_watch_logs_log_group_arn("nonsense")
        .cloud_watch_logs_role_arn("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad_group.into_service_error().meta().code(), Some("InvalidCloudWatchLogsLogGroupArnException"));

    let tags = ct.list_tags().resource_id_list(created.trail_arn().unwrap()).send().await.unwrap();
    assert_eq!(tags.resource_tag_list()[0].tags_list()[0].key(), "team");
    ct.remove_tags()
        .resource_id(created.trail_arn().unwrap())
        .tags_list(aws_sdk_cloudtrail::types::Tag::builder().key("team").build().unwrap())
        .send()
        .await
        .unwrap();
    let tags = ct.list_tags().resource_id_list(created.trail_arn().unwrap()).send().await.unwrap();
    assert!(tags.resource_tag_list()[0].tags_list().is_empty());

    let selectors = ct.get_event_selectors().trail_name("trail1").send().await.unwrap();
    assert_eq!(selectors.event_selectors()[0].read_write_type(), Some(&aws_sdk_cloudtrail::types::ReadWriteType::All));

    ct.delete_trail().name("trail3").send().await.unwrap();
    let gone = ct.get_trail_status().name("trail3").send().await.unwrap_err();
    let gone = gone.into_service_error();
    assert_eq!(gone.meta().code(), Some("TrailNotFoundException"));
    assert_eq!(
        gone.meta().message(),
        Some(format!("Unknown trail: arn:aws:cloudtrail:us-east-1:{0}:trail/trail3 for the user: {0}", common::ACCOUNT).as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_recorded_before_a_crash_are_delivered_exactly_once() {
    // Delivery is slow at first, so the crash comes before anything is delivered.
    let mut server = common::Server::start_with(&["--trail-delivery-secs", "3600"]);
    let ct = cloudtrail(&server);
    let logs = server.logs();
    let bucket = bucket_dir(&server, "crash-bucket");
    start_trail(&ct, "crash-trail", "crash-bucket").await;
    for i in 0..20 {
        logs.create_log_group().log_group_name(format!("crash/{i}")).send().await.unwrap();
    }
    server.kill();
    assert!(delivered(&bucket).is_empty());

    server.restart_with(&["--trail-delivery-secs", "1"]);
    let records = common::poll("all 20 groups delivered", 30, || {
        let records: Vec<Value> = delivered(&bucket).into_values().flatten().collect();
        let n = records.iter().filter(|r| r["eventName"] == "CreateLogGroup").count();
        std::future::ready((n >= 20).then_some(records))
    })
    .await;
    let created: Vec<&str> = records
        .iter()
        .filter(|r| r["eventName"] == "CreateLogGroup")
        .map(|r| r["requestParameters"]["logGroupName"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = created.iter().copied().collect();
    assert_eq!(created.len(), 20, "each event exactly once: {created:?}");
    assert_eq!(unique.len(), 20);

    // Crash again right after delivery and restart: nothing is delivered twice.
    server.kill();
    server.restart_with(&["--trail-delivery-secs", "1"]);
    cloudtrail(&server).get_trail_status().name("crash-trail").send().await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again: Vec<Value> = delivered(&bucket).into_values().flatten().collect();
    let ids: Vec<&str> = again.iter().map(|r| r["eventID"].as_str().unwrap()).collect();
    let unique_ids: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique_ids.len(), "no event delivered twice");
    assert_eq!(again.iter().filter(|r| r["eventName"] == "CreateLogGroup").count(), 20);
}

/// A notification endpoint that refuses its first request and accepts the rest; each
/// request it answered as its status and JSON body.
fn notification_endpoint() -> (String, common::capture::Capture) {
    let capture = common::capture::Capture::start(1);
    (capture.url.clone(), capture)
}

#[tokio::test(flavor = "multi_thread")]
async fn delivered_files_are_announced_until_acknowledged() {
    let (url, seen) = notification_endpoint();
    let endpoint = format!("alerts={url}");
    let server = common::Server::start_with(&["--trail-delivery-secs", "1", "--sns-endpoint", &endpoint]);
    let ct = cloudtrail(&server);
    let bucket = bucket_dir(&server, "notified-bucket");
    let unknown = ct.create_trail().name("quiet").s3_bucket_name("notified-bucket").sns_topic_name("nobody").send().await.unwrap_err();
    assert_eq!(unknown.into_service_error().meta().code(), Some("InsufficientSnsTopicPolicyException"));
    let trail = ct.create_trail().name("notified").s3_bucket_name("notified-bucket").sns_topic_name("alerts").send().await.unwrap();
    assert_eq!(trail.sns_topic_arn(), Some(format!("arn:aws:sns:us-east-1:{}:alerts", common::ACCOUNT).as_str()));
    ct.start_logging().name("notified").send().await.unwrap();

    let acknowledged = common::poll("an acknowledged notification", 60, || {
        let seen = seen.requests();
        std::future::ready(seen.iter().find(|r| r.status == 200).map(|r| r.json()))
    })
    .await;
    let seen = seen.requests();
    assert_eq!(seen[0].status, 500, "the first attempt was refused");
    assert_eq!(seen[0].json()["Message"], acknowledged["Message"], "and the same notification was sent again");
    assert_eq!(acknowledged["Type"], "Notification");
    assert_eq!(acknowledged["TopicArn"], format!("arn:aws:sns:us-east-1:{}:alerts", common::ACCOUNT));
    let message: Value = serde_json::from_str(acknowledged["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["s3Bucket"], "notified-bucket");
    let key = message["s3ObjectKey"][0].as_str().unwrap();
    assert!(bucket.join(key).is_file(), "the announced file {key} is in the bucket");
    let status = ct.get_trail_status().name("notified").send().await.unwrap();
    assert!(status.latest_notification_time().is_some());
}
