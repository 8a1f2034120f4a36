//! CloudWatch Logs API conformance: every operation and rule, driven through the real
//! binary with the official AWS SDK for Rust.
//!
//! Every failing call is checked for its exact AWS error code (and message where AWS's
//! wording is known), and for having changed nothing.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::types::{FilteredLogEvent, InputLogEvent, LogGroup, LogGroupClass, LogStream, OrderBy};
use common::{ACCOUNT, REGION, Server, now_millis};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const MINUTE: i64 = 60_000;
/// PutLogEvents' batch limit: message bytes plus 26 per event.
const MAX_BATCH: usize = 1_048_576;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The error code and message of a call that must fail.
fn aws_err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    result: Result<T, SdkError<E, R>>,
) -> (String, String) {
    let err = result.expect_err("the call should have failed");
    assert!(matches!(err, SdkError::ServiceError(_)), "expected a service error, got {err:?}");
    (err.code().unwrap_or_default().to_owned(), err.message().unwrap_or_default().to_owned())
}

/// Asserts that a call failed with exactly this code and message.
fn assert_err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    result: Result<T, SdkError<E, R>>,
    code: &str,
    message: &str,
) {
    let (c, m) = aws_err(result);
    assert_eq!((c.as_str(), m.as_str()), (code, message));
}

/// AWS's message for one model constraint violation.
fn validation(value: &str, path: &str, constraint: &str) -> String {
    format!("1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}")
}

const GROUP_NOT_FOUND: &str = "The specified log group does not exist.";
const STREAM_NOT_FOUND: &str = "The specified log stream does not exist.";
const NAME_PATTERN: &str = r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+";
const IDENTIFIER_PATTERN: &str = r"Member must satisfy regular expression pattern: [\w#+=/:,.@-]*";
const INVALID: &str = "InvalidParameterException";
const NOT_FOUND: &str = "ResourceNotFoundException";

/// The `arn` DescribeLogGroups reports (with `:*`).
fn arn_star(group: &str) -> String {
    format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*")
}

/// The `logGroupArn` DescribeLogGroups reports (without `:*`), as tagging APIs take it.
fn arn(group: &str) -> String {
    format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}")
}

async fn create_group(logs: &Client, group: &str) {
    logs.create_log_group().log_group_name(group).send().await.unwrap();
}

async fn create_stream(logs: &Client, group: &str, stream: &str) {
    logs.create_log_stream().log_group_name(group).log_stream_name(stream).send().await.unwrap();
}

/// A group with one stream.
async fn group_with_stream(logs: &Client, group: &str, stream: &str) {
    create_group(logs, group).await;
    create_stream(logs, group, stream).await;
}

fn event(ts: i64, message: impl Into<String>) -> InputLogEvent {
    InputLogEvent::builder().timestamp(ts).message(message).build().unwrap()
}

fn events(list: &[(i64, &str)]) -> Vec<InputLogEvent> {
    list.iter().map(|(ts, m)| event(*ts, *m)).collect()
}

/// PutLogEvents that must succeed; returns the output.
async fn put(
    logs: &Client,
    group: &str,
    stream: &str,
    batch: Vec<InputLogEvent>,
) -> aws_sdk_cloudwatchlogs::operation::put_log_events::PutLogEventsOutput {
    logs.put_log_events().log_group_name(group).log_stream_name(stream).set_log_events(Some(batch)).send().await.unwrap()
}

/// PutLogEvents that must succeed without any rejected event.
async fn put_all(logs: &Client, group: &str, stream: &str, batch: Vec<InputLogEvent>) {
    let out = put(logs, group, stream, batch).await;
    assert!(out.rejected_log_events_info().is_none(), "unexpected rejections: {:?}", out.rejected_log_events_info());
}

/// Every event of a stream, oldest first, read with forward paging until the token repeats.
async fn read_stream(logs: &Client, group: &str, stream: &str) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10_000 {
        let page = logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        out.extend(page.events().iter().map(|e| (e.timestamp().unwrap(), e.message().unwrap().to_owned())));
        let next = page.next_forward_token().map(str::to_owned);
        if next == token {
            return out;
        }
        token = next;
    }
    panic!("forward paging never returned the same token");
}

/// The messages of a stream, oldest first.
async fn messages(logs: &Client, group: &str, stream: &str) -> Vec<String> {
    read_stream(logs, group, stream).await.into_iter().map(|(_, m)| m).collect()
}

/// The one log group of exactly that name, as DescribeLogGroups shows it.
async fn describe_group(logs: &Client, group: &str) -> LogGroup {
    let out = logs.describe_log_groups().log_group_name_prefix(group).send().await.unwrap();
    let found: Vec<&LogGroup> = out.log_groups().iter().filter(|g| g.log_group_name() == Some(group)).collect();
    assert_eq!(found.len(), 1, "expected exactly one group named {group}: {:?}", out.log_groups());
    found[0].clone()
}

/// Every group name, following nextToken.
async fn all_group_names(logs: &Client) -> Vec<String> {
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let out = logs.describe_log_groups().set_next_token(token).send().await.unwrap();
        names.extend(out.log_groups().iter().map(|g| g.log_group_name().unwrap().to_owned()));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return names;
        }
    }
}

/// The one stream of exactly that name.
async fn describe_stream(logs: &Client, group: &str, stream: &str) -> LogStream {
    let out = logs.describe_log_streams().log_group_name(group).log_stream_name_prefix(stream).send().await.unwrap();
    let found: Vec<&LogStream> = out.log_streams().iter().filter(|s| s.log_stream_name() == Some(stream)).collect();
    assert_eq!(found.len(), 1, "expected exactly one stream named {stream}");
    found[0].clone()
}

/// Every stream name in the requested order, following nextToken with a page size.
async fn stream_names_paged(logs: &Client, group: &str, order: OrderBy, descending: bool, limit: i32) -> Vec<String> {
    let mut names = Vec::new();
    let mut token = None;
    for _ in 0..1000 {
        let out = logs
            .describe_log_streams()
            .log_group_name(group)
            .order_by(order.clone())
            .descending(descending)
            .limit(limit)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(out.log_streams().len() <= limit as usize);
        names.extend(out.log_streams().iter().map(|s| s.log_stream_name().unwrap().to_owned()));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return names;
        }
    }
    panic!("stream paging never ended");
}

async fn tags_by_arn(logs: &Client, group: &str) -> BTreeMap<String, String> {
    let out = logs.list_tags_for_resource().resource_arn(arn(group)).send().await.unwrap();
    out.tags().cloned().unwrap_or_default().into_iter().collect()
}

async fn tags_by_name(logs: &Client, group: &str) -> BTreeMap<String, String> {
    #[allow(deprecated)]
    let out = logs.list_tags_log_group().log_group_name(group).send().await.unwrap();
    out.tags().cloned().unwrap_or_default().into_iter().collect()
}

fn tag_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn btree(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A message of exactly `len` bytes that starts with a unique label.
fn sized_message(label: &str, len: usize) -> String {
    assert!(label.len() <= len);
    format!("{label}{}", "x".repeat(len - label.len()))
}

/// FilterLogEvents over a whole group with a pattern, following nextToken; (stream, message).
async fn filter_all(logs: &Client, group: &str, pattern: &str) -> Vec<(String, String)> {
    filter_paged(logs, group, pattern, None, true).await.into_iter().map(|e| (e.log_stream_name.unwrap(), e.message.unwrap())).collect()
}

/// FilterLogEvents following nextToken until it is absent.
async fn filter_paged(logs: &Client, group: &str, pattern: &str, limit: Option<i32>, from_head: bool) -> Vec<FilteredLogEvent> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..10_000 {
        let page = logs
            .filter_log_events()
            .log_group_name(group)
            .filter_pattern(pattern)
            .set_limit(limit)
            .start_from_head(from_head)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        if let Some(l) = limit {
            assert!(page.events().len() <= l as usize);
        }
        out.extend(page.events().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
    panic!("filter paging never ended");
}

// ---------------------------------------------------------------------------------------
// CreateLogGroup / DeleteLogGroup / DescribeLogGroups
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_log_group_defaults() {
    let server = Server::start();
    let logs = server.logs();
    let before = now_millis();
    create_group(&logs, "/app/defaults").await;
    let after = now_millis();
    let g = describe_group(&logs, "/app/defaults").await;
    assert_eq!(g.arn(), Some(arn_star("/app/defaults").as_str()));
    assert_eq!(g.log_group_arn(), Some(arn("/app/defaults").as_str()));
    assert!(g.arn().unwrap().ends_with(":*") && !g.log_group_arn().unwrap().ends_with(":*"));
    let created = g.creation_time().unwrap();
    assert!(before <= created && created <= after, "{before} <= {created} <= {after}");
    assert_eq!(g.log_group_class(), Some(&LogGroupClass::Standard));
    assert_eq!(g.retention_in_days(), None);
    assert_eq!(g.kms_key_id(), None);
    assert_eq!(g.stored_bytes(), Some(0));
    assert_eq!(g.metric_filter_count(), Some(0));
    assert_eq!(g.deletion_protection_enabled(), Some(false));
    assert!(tags_by_arn(&logs, "/app/defaults").await.is_empty());
}

#[tokio::test]
async fn create_log_group_records_tags_kms_key_and_class() {
    let server = Server::start();
    let logs = server.logs();
    let kms = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    logs.create_log_group()
        .log_group_name("ia-group")
        .kms_key_id(&kms)
        .log_group_class(LogGroupClass::InfrequentAccess)
        .tags("team", "platform")
        .tags("env", "prod")
        .send()
        .await
        .unwrap();
    let g = describe_group(&logs, "ia-group").await;
    assert_eq!(g.kms_key_id(), Some(kms.as_str()));
    assert_eq!(g.log_group_class(), Some(&LogGroupClass::InfrequentAccess));
    assert_eq!(tags_by_arn(&logs, "ia-group").await, btree(&[("env", "prod"), ("team", "platform")]));
    assert_eq!(tags_by_name(&logs, "ia-group").await, btree(&[("env", "prod"), ("team", "platform")]));

    // The class filter of DescribeLogGroups sees the class too.
    create_group(&logs, "std-group").await;
    let ia = logs.describe_log_groups().log_group_class(LogGroupClass::InfrequentAccess).send().await.unwrap();
    let names: Vec<_> = ia.log_groups().iter().map(|g| g.log_group_name().unwrap()).collect();
    assert_eq!(names, ["ia-group"]);
}

#[tokio::test]
async fn create_log_group_twice_is_rejected_and_changes_nothing() {
    let server = Server::start();
    let logs = server.logs();
    logs.create_log_group().log_group_name("dup").tags("k", "v1").send().await.unwrap();
    let first = describe_group(&logs, "dup").await;
    let again = logs
        .create_log_group()
        .log_group_name("dup")
        .tags("k", "v2")
        .tags("other", "x")
        .kms_key_id("arn:aws:kms:us-east-1:111122223333:key/other")
        .log_group_class(LogGroupClass::InfrequentAccess)
        .send()
        .await;
    assert_err(again, "ResourceAlreadyExistsException", "The specified log group already exists");
    assert_eq!(describe_group(&logs, "dup").await, first);
    assert_eq!(tags_by_arn(&logs, "dup").await, btree(&[("k", "v1")]));
    assert_eq!(all_group_names(&logs).await, ["dup"]);
}

#[tokio::test]
async fn create_log_group_validates_the_name() {
    let server = Server::start();
    let logs = server.logs();
    for bad in ["bad name", "semi;colon", "star*", "colon:x", "ünïcode"] {
        let r = logs.create_log_group().log_group_name(bad).send().await;
        assert_err(r, INVALID, &validation(bad, "logGroupName", NAME_PATTERN));
    }
    // Empty breaks both the length and the pattern constraint, and AWS reports both.
    let r = logs.create_log_group().log_group_name("").send().await;
    assert_err(
        r,
        INVALID,
        &format!(
            "2 validation errors detected: Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'logGroupName' failed to satisfy constraint: {NAME_PATTERN}"
        ),
    );
    let long = "a".repeat(513);
    let r = logs.create_log_group().log_group_name(&long).send().await;
    assert_err(r, INVALID, &validation(&long, "logGroupName", "Member must have length less than or equal to 512"));
    // Names starting with aws/ are AWS's own.
    for reserved in ["aws/cwagent", "aws/lambda/f"] {
        let r = logs.create_log_group().log_group_name(reserved).send().await;
        assert_err(r, INVALID, "Log groups starting with AWS/ are reserved for AWS.");
    }
    assert!(all_group_names(&logs).await.is_empty(), "a rejected name created a group");

    // The limits themselves are fine: 512 characters and every allowed symbol.
    let max = "b".repeat(512);
    create_group(&logs, &max).await;
    create_group(&logs, "/aws/lambda/My-Func_1.2#x").await;
    create_group(&logs, "my/aws/x").await;
    assert_eq!(all_group_names(&logs).await, vec!["/aws/lambda/My-Func_1.2#x".to_owned(), max, "my/aws/x".to_owned()]);
}

#[tokio::test]
async fn delete_log_group_removes_it_and_its_events() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis();
    group_with_stream(&logs, "doomed", "s").await;
    group_with_stream(&logs, "kept", "s").await;
    put_all(&logs, "doomed", "s", events(&[(t, "old life")])).await;
    put_all(&logs, "kept", "s", events(&[(t, "survivor")])).await;

    logs.delete_log_group().log_group_name("doomed").send().await.unwrap();
    assert_eq!(all_group_names(&logs).await, ["kept"]);
    assert_err(logs.delete_log_group().log_group_name("doomed").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.describe_log_streams().log_group_name("doomed").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(
        logs.put_log_events().log_group_name("doomed").log_stream_name("s").log_events(event(t, "x")).send().await,
        NOT_FOUND,
        GROUP_NOT_FOUND,
    );
    assert_err(logs.get_log_events().log_group_name("doomed").log_stream_name("s").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.filter_log_events().log_group_name("doomed").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.delete_log_group().log_group_name("never-existed").send().await, NOT_FOUND, GROUP_NOT_FOUND);

    // A new group of the same name starts empty; the other group is untouched.
    group_with_stream(&logs, "doomed", "s").await;
    assert!(read_stream(&logs, "doomed", "s").await.is_empty());
    assert!(filter_all(&logs, "doomed", "").await.is_empty());
    assert_eq!(describe_group(&logs, "doomed").await.stored_bytes(), Some(0));
    assert_eq!(messages(&logs, "kept", "s").await, ["survivor"]);
}

#[tokio::test]
async fn deletion_protection_blocks_delete_log_group() {
    let server = Server::start();
    let logs = server.logs();
    logs.create_log_group().log_group_name("protected").deletion_protection_enabled(true).send().await.unwrap();
    create_stream(&logs, "protected", "s").await;
    let t = now_millis();
    put_all(&logs, "protected", "s", events(&[(t, "precious")])).await;
    assert_eq!(describe_group(&logs, "protected").await.deletion_protection_enabled(), Some(true));

    let r = logs.delete_log_group().log_group_name("protected").send().await;
    assert_err(r, "ValidationException", "Cannot delete log group with deletion protection enabled. Disable deletion protection first.");
    assert_eq!(all_group_names(&logs).await, ["protected"]);
    assert_eq!(messages(&logs, "protected", "s").await, ["precious"]);
}

#[tokio::test]
async fn describe_log_groups_by_prefix() {
    let server = Server::start();
    let logs = server.logs();
    for g in ["/aws/lambda/a", "/aws/lambda/b", "/aws/rds/x", "/AWS/lambda/upper", "other"] {
        create_group(&logs, g).await;
    }
    let names = |out: &aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput| -> Vec<String> {
        out.log_groups().iter().map(|g| g.log_group_name().unwrap().to_owned()).collect()
    };
    let out = logs.describe_log_groups().log_group_name_prefix("/aws/lambda/").send().await.unwrap();
    assert_eq!(names(&out), ["/aws/lambda/a", "/aws/lambda/b"]);
    let out = logs.describe_log_groups().log_group_name_prefix("/aws/").send().await.unwrap();
    assert_eq!(names(&out), ["/aws/lambda/a", "/aws/lambda/b", "/aws/rds/x"]);
    let out = logs.describe_log_groups().log_group_name_prefix("nothing").send().await.unwrap();
    assert!(out.log_groups().is_empty());
    assert!(out.next_token().is_none());
    // Without a prefix: every group, ASCII-sorted.
    assert_eq!(all_group_names(&logs).await, ["/AWS/lambda/upper", "/aws/lambda/a", "/aws/lambda/b", "/aws/rds/x", "other"]);
}

#[tokio::test]
async fn describe_log_groups_by_pattern_is_case_sensitive_and_brief() {
    let server = Server::start();
    let logs = server.logs();
    for g in ["FooBar", "/aws/Foo", "GroupFoo", "foo", "F/o/o", "Froo"] {
        create_group(&logs, g).await;
    }
    logs.put_retention_policy().log_group_name("FooBar").retention_in_days(7).send().await.unwrap();
    let out = logs.describe_log_groups().log_group_name_pattern("Foo").send().await.unwrap();
    let names: Vec<_> = out.log_groups().iter().map(|g| g.log_group_name().unwrap()).collect();
    assert_eq!(names, ["/aws/Foo", "FooBar", "GroupFoo"]);
    for g in out.log_groups() {
        let name = g.log_group_name().unwrap();
        // Only arn, creationTime and logGroupName come back with a pattern.
        let expected = LogGroup::builder().log_group_name(name).creation_time(g.creation_time().unwrap()).arn(arn_star(name)).build();
        assert_eq!(g, &expected);
    }
}

#[tokio::test]
async fn describe_log_groups_prefix_and_pattern_are_exclusive() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "abc").await;
    let (code, _) = aws_err(logs.describe_log_groups().log_group_name_prefix("a").log_group_name_pattern("b").send().await);
    assert_eq!(code, INVALID);
    // Out-of-range limits fail validation.
    let r = logs.describe_log_groups().limit(51).send().await;
    assert_err(r, INVALID, &validation("51", "limit", "Member must have value less than or equal to 50"));
    let r = logs.describe_log_groups().limit(0).send().await;
    assert_err(r, INVALID, &validation("0", "limit", "Member must have value greater than or equal to 1"));
}

#[tokio::test]
async fn describe_log_groups_pages_through_every_group_once() {
    let server = Server::start();
    let logs = server.logs();
    let mut expected: Vec<String> = (0..123).map(|i| format!("/page/g{:03}", (i * 37) % 123)).collect();
    for g in &expected {
        create_group(&logs, g).await;
    }
    create_group(&logs, "/other").await;
    expected.sort();
    for limit in [1, 7, 50] {
        let mut seen = Vec::new();
        let mut token = None;
        let mut pages = 0;
        loop {
            let out = logs.describe_log_groups().log_group_name_prefix("/page/").limit(limit).set_next_token(token).send().await.unwrap();
            pages += 1;
            assert!(out.log_groups().len() <= limit as usize);
            seen.extend(out.log_groups().iter().map(|g| g.log_group_name().unwrap().to_owned()));
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
            assert!(pages <= 200, "paging never ended");
        }
        assert_eq!(seen, expected, "limit {limit}");
        assert!(pages >= 123usize.div_ceil(limit as usize));
    }
    // Default page size is 50.
    let out = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(out.log_groups().len(), 50);
    assert!(out.next_token().is_some());
    let mut all = all_group_names(&logs).await;
    assert_eq!(all.len(), 124);
    all.dedup();
    assert_eq!(all.len(), 124);
}

#[tokio::test]
async fn describe_log_groups_by_identifiers() {
    let server = Server::start();
    let logs = server.logs();
    for i in 0..60 {
        create_group(&logs, &format!("g{i:02}")).await;
    }
    // Names and ARNs, including groups far down the name order.
    let out = logs
        .describe_log_groups()
        .log_group_identifiers("g55")
        .log_group_identifiers(arn("g02"))
        .log_group_identifiers("g59")
        .log_group_identifiers("missing")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = out.log_groups().iter().map(|g| g.log_group_name().unwrap()).collect();
    assert_eq!(names, ["g02", "g55", "g59"]);
    assert!(out.next_token().is_none());
    // Paged with a limit.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let out = logs
            .describe_log_groups()
            .set_log_group_identifiers(Some(["g58", "g03", "g40", "g17", "g59"].map(String::from).to_vec()))
            .limit(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(out.log_groups().len() <= 2);
        seen.extend(out.log_groups().iter().map(|g| g.log_group_name().unwrap().to_owned()));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["g03", "g17", "g40", "g58", "g59"]);
    let r = logs.describe_log_groups().log_group_identifiers("g01").log_group_name_prefix("g").send().await;
    assert_eq!(aws_err(r).0, INVALID);
}

#[tokio::test]
async fn concurrent_create_log_group_of_one_name_succeeds_once() {
    let server = Server::start();
    let logs = server.logs();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let logs = logs.clone();
        tasks.push(tokio::spawn(async move { logs.create_log_group().log_group_name("race").tags("writer", i.to_string()).send().await }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code(), Some("ResourceAlreadyExistsException")),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(all_group_names(&logs).await, ["race"]);
    assert_eq!(tags_by_arn(&logs, "race").await.len(), 1);
}

#[tokio::test]
async fn describe_log_groups_stored_bytes_grow_with_events() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "bytes", "s").await;
    assert_eq!(describe_group(&logs, "bytes").await.stored_bytes(), Some(0));
    let t = now_millis();
    let batch: Vec<_> = (0..200).map(|i| event(t, format!("event number {i} with some text"))).collect();
    put_all(&logs, "bytes", "s", batch).await;
    let first = describe_group(&logs, "bytes").await.stored_bytes().unwrap();
    assert!(first > 0, "storedBytes did not grow: {first}");
    let batch: Vec<_> = (0..200).map(|i| event(t, format!("another event {i} {}", "y".repeat(i)))).collect();
    put_all(&logs, "bytes", "s", batch).await;
    let second = describe_group(&logs, "bytes").await.stored_bytes().unwrap();
    assert!(second > first, "storedBytes did not grow: {first} -> {second}");
}

// ---------------------------------------------------------------------------------------
// CreateLogStream / DeleteLogStream / DescribeLogStreams
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_log_stream_errors_change_nothing() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let r = logs.create_log_stream().log_group_name("g").log_stream_name("s").send().await;
    assert_err(r, "ResourceAlreadyExistsException", "The specified log stream already exists");
    let r = logs.create_log_stream().log_group_name("missing").log_stream_name("s").send().await;
    assert_err(r, NOT_FOUND, GROUP_NOT_FOUND);
    for bad in ["a:b", "a*b"] {
        let r = logs.create_log_stream().log_group_name("g").log_stream_name(bad).send().await;
        assert_err(r, INVALID, &validation(bad, "logStreamName", "Member must satisfy regular expression pattern: [^:*]*"));
    }
    let out = logs.describe_log_streams().log_group_name("g").send().await.unwrap();
    let names: Vec<_> = out.log_streams().iter().map(|s| s.log_stream_name().unwrap()).collect();
    assert_eq!(names, ["s"]);
    assert_eq!(all_group_names(&logs).await, ["g"]);
    // Characters other than ':' and '*' are fine in stream names.
    create_stream(&logs, "g", "2025/01/01/[$LATEST]abc def").await;
}

#[tokio::test]
async fn delete_log_stream_removes_only_that_stream() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "gone").await;
    create_stream(&logs, "g", "stays").await;
    let t = now_millis();
    put_all(&logs, "g", "gone", events(&[(t, "bye")])).await;
    put_all(&logs, "g", "stays", events(&[(t, "hi")])).await;

    logs.delete_log_stream().log_group_name("g").log_stream_name("gone").send().await.unwrap();
    let r = logs.delete_log_stream().log_group_name("g").log_stream_name("gone").send().await;
    assert_err(r, NOT_FOUND, STREAM_NOT_FOUND);
    let r = logs.delete_log_stream().log_group_name("missing").log_stream_name("stays").send().await;
    assert_err(r, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.get_log_events().log_group_name("g").log_stream_name("gone").send().await, NOT_FOUND, STREAM_NOT_FOUND);
    let r = logs.put_log_events().log_group_name("g").log_stream_name("gone").log_events(event(t, "x")).send().await;
    assert_err(r, NOT_FOUND, STREAM_NOT_FOUND);

    let out = logs.describe_log_streams().log_group_name("g").send().await.unwrap();
    let names: Vec<_> = out.log_streams().iter().map(|s| s.log_stream_name().unwrap()).collect();
    assert_eq!(names, ["stays"]);
    assert_eq!(filter_all(&logs, "g", "").await, [("stays".to_owned(), "hi".to_owned())]);
    assert_eq!(messages(&logs, "g", "stays").await, ["hi"]);

    // A new stream of the same name starts empty.
    let stored = describe_group(&logs, "g").await.stored_bytes().unwrap();
    logs.delete_log_stream().log_group_name("g").log_stream_name("stays").send().await.unwrap();
    assert!(stored > 0);
    assert_eq!(describe_group(&logs, "g").await.stored_bytes(), Some(0), "storedBytes kept deleted events");
    create_stream(&logs, "g", "gone").await;
    assert!(read_stream(&logs, "g", "gone").await.is_empty());
    let s = describe_stream(&logs, "g", "gone").await;
    assert_eq!((s.first_event_timestamp(), s.last_event_timestamp(), s.last_ingestion_time()), (None, None, None));
}

#[tokio::test]
async fn describe_log_streams_by_prefix_and_name_order() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "g").await;
    for s in ["web-2", "app-b", "app-a", "web-1", "app-c", "App-upper"] {
        create_stream(&logs, "g", s).await;
    }
    let names = |out: &aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsOutput| -> Vec<String> {
        out.log_streams().iter().map(|s| s.log_stream_name().unwrap().to_owned()).collect()
    };
    let out = logs.describe_log_streams().log_group_name("g").send().await.unwrap();
    assert_eq!(names(&out), ["App-upper", "app-a", "app-b", "app-c", "web-1", "web-2"]);
    let out = logs.describe_log_streams().log_group_name("g").log_stream_name_prefix("app-").send().await.unwrap();
    assert_eq!(names(&out), ["app-a", "app-b", "app-c"]);
    let out = logs
        .describe_log_streams()
        .log_group_name("g")
        .log_stream_name_prefix("app-")
        .order_by(OrderBy::LogStreamName)
        .descending(true)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&out), ["app-c", "app-b", "app-a"]);
    let out = logs.describe_log_streams().log_group_name("g").descending(true).send().await.unwrap();
    assert_eq!(names(&out), ["web-2", "web-1", "app-c", "app-b", "app-a", "App-upper"]);
}

#[tokio::test]
async fn describe_log_streams_by_last_event_time() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "g").await;
    let t = now_millis() - HOUR;
    for (s, ts) in [("s-a", t + 30), ("s-b", t + 10), ("s-c", t + 20), ("s-d", t + 40)] {
        create_stream(&logs, "g", s).await;
        put_all(&logs, "g", s, events(&[(ts - 5, "earlier"), (ts, "last")])).await;
    }
    // A later batch with older events does not move lastEventTimestamp back.
    put_all(&logs, "g", "s-d", events(&[(t, "late arrival")])).await;
    let names = |out: &aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsOutput| -> Vec<String> {
        out.log_streams().iter().map(|s| s.log_stream_name().unwrap().to_owned()).collect()
    };
    let out = logs.describe_log_streams().log_group_name("g").order_by(OrderBy::LastEventTime).send().await.unwrap();
    assert_eq!(names(&out), ["s-b", "s-c", "s-a", "s-d"]);
    let out = logs.describe_log_streams().log_group_name("g").order_by(OrderBy::LastEventTime).descending(true).send().await.unwrap();
    assert_eq!(names(&out), ["s-d", "s-a", "s-c", "s-b"]);

    let r = logs.describe_log_streams().log_group_name("g").order_by(OrderBy::LastEventTime).log_stream_name_prefix("s-").send().await;
    assert_err(r, INVALID, "Cannot order by LastEventTime with a logStreamNamePrefix.");
}

#[tokio::test]
async fn describe_log_streams_pages_through_every_stream_once() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "g").await;
    let t = now_millis() - HOUR;
    let mut by_time = Vec::new();
    for i in 0..23 {
        let name = format!("s-{i:02}");
        let ts = t + ((i * 7) % 23) as i64 * 1000;
        create_stream(&logs, "g", &name).await;
        put_all(&logs, "g", &name, events(&[(ts, "e")])).await;
        by_time.push((ts, name));
    }
    by_time.sort();
    let by_name: Vec<String> = (0..23).map(|i| format!("s-{i:02}")).collect();
    let by_time: Vec<String> = by_time.into_iter().map(|(_, n)| n).collect();
    let rev = |v: &[String]| v.iter().rev().cloned().collect::<Vec<_>>();
    for limit in [1, 5, 50] {
        assert_eq!(stream_names_paged(&logs, "g", OrderBy::LogStreamName, false, limit).await, by_name, "limit {limit}");
        assert_eq!(stream_names_paged(&logs, "g", OrderBy::LogStreamName, true, limit).await, rev(&by_name), "limit {limit}");
        assert_eq!(stream_names_paged(&logs, "g", OrderBy::LastEventTime, false, limit).await, by_time, "limit {limit}");
        assert_eq!(stream_names_paged(&logs, "g", OrderBy::LastEventTime, true, limit).await, rev(&by_time), "limit {limit}");
    }
    // With a prefix, paging stays within it.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let out = logs
            .describe_log_streams()
            .log_group_name("g")
            .log_stream_name_prefix("s-1")
            .limit(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        seen.extend(out.log_streams().iter().map(|s| s.log_stream_name().unwrap().to_owned()));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, (10..20).map(|i| format!("s-{i}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn describe_log_streams_reports_event_times() {
    let server = Server::start();
    let logs = server.logs();
    let created_before = now_millis();
    group_with_stream(&logs, "g", "s").await;
    let created_after = now_millis();
    let s = describe_stream(&logs, "g", "s").await;
    assert!(created_before <= s.creation_time().unwrap() && s.creation_time().unwrap() <= created_after);
    assert_eq!((s.first_event_timestamp(), s.last_event_timestamp(), s.last_ingestion_time()), (None, None, None));
    assert_eq!(s.arn(), Some(format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g:log-stream:s").as_str()));

    let t = now_millis() - HOUR;
    put_all(&logs, "g", "s", events(&[(t + 10, "a"), (t + 20, "b")])).await;
    let before = now_millis();
    put_all(&logs, "g", "s", events(&[(t + 5, "c"), (t + 30, "d")])).await;
    let after = now_millis();
    let s = describe_stream(&logs, "g", "s").await;
    assert_eq!(s.first_event_timestamp(), Some(t + 5));
    assert_eq!(s.last_event_timestamp(), Some(t + 30));
    let ingested = s.last_ingestion_time().unwrap();
    assert!(before <= ingested && ingested <= after, "{before} <= {ingested} <= {after}");
    // Ingestion time is also on each event.
    let out = logs.get_log_events().log_group_name("g").log_stream_name("s").start_from_head(true).send().await.unwrap();
    let last = out.events().iter().find(|e| e.message() == Some("d")).unwrap();
    assert_eq!(last.ingestion_time(), Some(ingested));
}

#[tokio::test]
async fn describe_log_streams_by_group_identifier() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "/id/group", "s1").await;
    create_stream(&logs, "/id/group", "s2").await;
    for id in ["/id/group".to_owned(), arn("/id/group")] {
        let out = logs.describe_log_streams().log_group_identifier(&id).send().await.unwrap();
        let names: Vec<_> = out.log_streams().iter().map(|s| s.log_stream_name().unwrap()).collect();
        assert_eq!(names, ["s1", "s2"], "identifier {id}");
    }
    // The identifier pattern has no '*': the `arn` form with `:*` is refused.
    let star = arn_star("/id/group");
    let r = logs.describe_log_streams().log_group_identifier(&star).send().await;
    assert_err(r, INVALID, &validation(&star, "logGroupIdentifier", IDENTIFIER_PATTERN));
    let (code, _) = aws_err(logs.describe_log_streams().log_group_name("/id/group").log_group_identifier("/id/group").send().await);
    assert_eq!(code, INVALID);
    assert_err(logs.describe_log_streams().log_group_name("/id/missing").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.describe_log_streams().log_group_identifier(arn("/id/missing")).send().await, NOT_FOUND, GROUP_NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// PutLogEvents
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn put_log_events_stores_what_it_accepts() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis() - MINUTE;
    let out = put(&logs, "g", "s", events(&[(t, "one"), (t + 1, "two"), (t + 1, "three")])).await;
    assert!(out.rejected_log_events_info().is_none());
    assert!(out.next_sequence_token().is_some());
    // Sequence tokens are accepted and ignored: stale, repeated or made up.
    for token in ["49590338271490256608559692538361571095921575989136588898", "bogus", "bogus"] {
        let out = logs
            .put_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .sequence_token(token)
            .log_events(event(t + 2, format!("with token {token}")))
            .send()
            .await
            .unwrap();
        assert!(out.rejected_log_events_info().is_none());
    }
    let got = read_stream(&logs, "g", "s").await;
    let want = [
        (t, "one"),
        (t + 1, "two"),
        (t + 1, "three"),
        (t + 2, "with token 49590338271490256608559692538361571095921575989136588898"),
        (t + 2, "with token bogus"),
        (t + 2, "with token bogus"),
    ];
    assert_eq!(got, want.map(|(ts, m)| (ts, m.to_owned())));
    // Unicode and multi-line messages come back byte for byte.
    put_all(&logs, "g", "s", events(&[(t + 3, "ünïcödé ✓ 日本語\nsecond line\ttab")])).await;
    assert_eq!(read_stream(&logs, "g", "s").await.last().unwrap().1, "ünïcödé ✓ 日本語\nsecond line\ttab");
}

#[tokio::test]
async fn put_log_events_unknown_group_or_stream() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis();
    let r = logs.put_log_events().log_group_name("nope").log_stream_name("s").log_events(event(t, "x")).send().await;
    assert_err(r, NOT_FOUND, GROUP_NOT_FOUND);
    let r = logs.put_log_events().log_group_name("g").log_stream_name("nope").log_events(event(t, "x")).send().await;
    assert_err(r, NOT_FOUND, STREAM_NOT_FOUND);
    // PutLogEvents does not create the stream.
    let out = logs.describe_log_streams().log_group_name("g").send().await.unwrap();
    assert_eq!(out.log_streams().len(), 1);
    assert!(read_stream(&logs, "g", "s").await.is_empty());
}

#[tokio::test]
async fn put_log_events_validates_events() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis();
    let r = logs.put_log_events().log_group_name("g").log_stream_name("s").log_events(event(t, "ok")).log_events(event(t, "")).send().await;
    assert_err(r, INVALID, &validation("", "logEvents.2.member.message", "Member must have length greater than or equal to 1"));
    let r = logs.put_log_events().log_group_name("g").log_stream_name("s").log_events(event(-1, "negative")).send().await;
    assert_err(r, INVALID, &validation("-1", "logEvents.1.member.timestamp", "Member must have value greater than or equal to 0"));
    let r = logs.put_log_events().log_group_name("g").log_stream_name("s").set_log_events(Some(vec![])).send().await;
    assert_err(r, INVALID, &validation("[]", "logEvents", "Member must have length greater than or equal to 1"));
    assert!(read_stream(&logs, "g", "s").await.is_empty());
}

#[tokio::test]
async fn put_log_events_at_most_10000_events() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis();
    let too_many: Vec<_> = (0..10_001).map(|_| event(t, "x")).collect();
    let r = logs.put_log_events().log_group_name("g").log_stream_name("s").set_log_events(Some(too_many)).send().await;
    let (code, message) = aws_err(r);
    assert_eq!(code, INVALID);
    assert!(message.starts_with("1 validation error detected: Value '["), "{}", &message[..200.min(message.len())]);
    assert!(
        message.ends_with("]' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000"),
        "{}",
        &message[message.len().saturating_sub(200)..]
    );
    assert!(read_stream(&logs, "g", "s").await.is_empty());

    let exactly: Vec<_> = (0..10_000).map(|i| event(t, format!("{i}"))).collect();
    put_all(&logs, "g", "s", exactly).await;
    let got = messages(&logs, "g", "s").await;
    assert_eq!(got, (0..10_000).map(|i| i.to_string()).collect::<Vec<_>>());
}

#[tokio::test]
async fn put_log_events_batch_size_counts_utf8_bytes_plus_26() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis();
    // Four events of 262,118 UTF-8 bytes each ('é' is two bytes) is exactly 1,048,576.
    let per_event = MAX_BATCH / 4 - 26;
    assert_eq!(per_event % 2, 0);
    let msg = |extra: &str| format!("{}{extra}", "é".repeat(per_event / 2));
    let over = vec![event(t, msg("")), event(t, msg("")), event(t, msg("!")), event(t, msg(""))];
    let r = logs.put_log_events().log_group_name("g").log_stream_name("s").set_log_events(Some(over)).send().await;
    assert_err(r, INVALID, "Upload too large: 1048577 bytes exceeds limit of 1048576");
    assert!(read_stream(&logs, "g", "s").await.is_empty());

    let exact: Vec<_> = (0..4).map(|_| event(t, msg(""))).collect();
    put_all(&logs, "g", "s", exact).await;
    let got = messages(&logs, "g", "s").await;
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|m| *m == msg("")));

    // Many small events: the per-event 26 bytes count. 1000 events of 1,022 bytes = 1,048,000.
    create_stream(&logs, "g", "small").await;
    let batch: Vec<_> = (0..1001).map(|i| event(t, sized_message(&format!("{i:04}"), 1022))).collect();
    let r = logs.put_log_events().log_group_name("g").log_stream_name("small").set_log_events(Some(batch)).send().await;
    assert_err(r, INVALID, &format!("Upload too large: {} bytes exceeds limit of 1048576", 1001 * 1048));
    assert!(read_stream(&logs, "g", "small").await.is_empty());
}

#[tokio::test]
async fn put_log_events_must_be_in_chronological_order() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis() - MINUTE;
    let r = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .set_log_events(Some(events(&[(t, "a"), (t + 2, "b"), (t + 1, "c")])))
        .send()
        .await;
    assert_err(r, INVALID, "Log events in a single PutLogEvents request must be in chronological order.");
    assert!(read_stream(&logs, "g", "s").await.is_empty());
    // Equal timestamps are in order.
    put_all(&logs, "g", "s", events(&[(t, "a"), (t, "b"), (t + 1, "c")])).await;
    assert_eq!(messages(&logs, "g", "s").await, ["a", "b", "c"]);
    // A later batch may go back in time; only the order within a batch matters.
    put_all(&logs, "g", "s", events(&[(t - 10, "z")])).await;
    assert_eq!(messages(&logs, "g", "s").await, ["z", "a", "b", "c"]);
}

#[tokio::test]
async fn put_log_events_batch_spans_at_most_24_hours() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis() - 2 * DAY;
    let r = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .set_log_events(Some(events(&[(t, "first"), (t + HOUR, "middle"), (t + DAY + 1, "last")])))
        .send()
        .await;
    assert_err(r, INVALID, "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
    assert!(read_stream(&logs, "g", "s").await.is_empty());
    put_all(&logs, "g", "s", events(&[(t, "first"), (t + DAY - MINUTE, "last")])).await;
    assert_eq!(messages(&logs, "g", "s").await, ["first", "last"]);
}

#[tokio::test]
async fn put_log_events_event_size_limit_is_configurable() {
    let server = Server::start_with(&["--max-event-bytes", "1000"]);
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis();
    // 974 message bytes + 26 = 1000: allowed; one more byte is not, and fails the batch.
    let r = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event(t, sized_message("ok", 974)))
        .log_events(event(t, sized_message("big", 975)))
        .send()
        .await;
    assert_err(r, INVALID, "Log event too large: 1001 bytes exceeds limit of 1000");
    assert!(read_stream(&logs, "g", "s").await.is_empty());
    // Bytes, not characters: 488 two-byte characters are 976 bytes.
    let r = logs.put_log_events().log_group_name("g").log_stream_name("s").log_events(event(t, "é".repeat(488))).send().await;
    assert_err(r, INVALID, "Log event too large: 1002 bytes exceeds limit of 1000");
    put_all(&logs, "g", "s", vec![event(t, sized_message("ok", 974)), event(t, "é".repeat(487))]).await;
    assert_eq!(messages(&logs, "g", "s").await, [sized_message("ok", 974), "é".repeat(487)]);
}

#[tokio::test]
async fn put_log_events_one_megabyte_event() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis();
    let biggest = sized_message("biggest", MAX_BATCH - 26);
    let r = logs.put_log_events().log_group_name("g").log_stream_name("s").log_events(event(t, format!("{biggest}!"))).send().await;
    assert_err(r, INVALID, "Upload too large: 1048577 bytes exceeds limit of 1048576");
    assert!(read_stream(&logs, "g", "s").await.is_empty());
    put_all(&logs, "g", "s", vec![event(t, biggest.clone())]).await;
    let got = messages(&logs, "g", "s").await;
    assert_eq!(got.len(), 1);
    assert!(got[0] == biggest, "the 1 MB event came back changed");
    // FilterLogEvents returns it too.
    let found = filter_all(&logs, "g", "biggest").await;
    assert_eq!(found.len(), 1);
    assert!(found[0].1 == biggest);
}

#[tokio::test]
async fn put_log_events_rejects_events_more_than_14_days_old() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let now = now_millis();
    let batch = events(&[
        (now - 14 * DAY - 30 * MINUTE, "too old 1"),
        (now - 14 * DAY - 20 * MINUTE, "too old 2"),
        (now - 14 * DAY + 10 * MINUTE, "just in time"),
        (now - 13 * DAY - HOUR, "recent"),
    ]);
    let out = put(&logs, "g", "s", batch).await;
    let info = out.rejected_log_events_info().expect("rejectedLogEventsInfo");
    assert_eq!(info.too_old_log_event_end_index(), Some(1));
    assert_eq!(info.too_new_log_event_start_index(), None);
    assert_eq!(info.expired_log_event_end_index(), None);
    assert_eq!(messages(&logs, "g", "s").await, ["just in time", "recent"]);
    let s = describe_stream(&logs, "g", "s").await;
    assert_eq!(s.first_event_timestamp(), Some(now - 14 * DAY + 10 * MINUTE));

    // A batch where every event is too old stores nothing.
    let out = put(&logs, "g", "s", events(&[(now - 20 * DAY, "ancient")])).await;
    assert_eq!(out.rejected_log_events_info().unwrap().too_old_log_event_end_index(), Some(0));
    assert_eq!(messages(&logs, "g", "s").await, ["just in time", "recent"]);
}

#[tokio::test]
async fn put_log_events_rejects_events_more_than_2_hours_ahead() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let now = now_millis();
    let batch = events(&[
        (now - HOUR, "past"),
        (now + HOUR, "soon"),
        (now + 2 * HOUR - 5 * MINUTE, "almost too new"),
        (now + 2 * HOUR + 5 * MINUTE, "too new 1"),
        (now + 3 * HOUR, "too new 2"),
    ]);
    let out = put(&logs, "g", "s", batch).await;
    let info = out.rejected_log_events_info().expect("rejectedLogEventsInfo");
    assert_eq!(info.too_new_log_event_start_index(), Some(3));
    assert_eq!(info.too_old_log_event_end_index(), None);
    assert_eq!(info.expired_log_event_end_index(), None);
    assert_eq!(messages(&logs, "g", "s").await, ["past", "soon", "almost too new"]);
    assert_eq!(describe_stream(&logs, "g", "s").await.last_event_timestamp(), Some(now + 2 * HOUR - 5 * MINUTE));
}

#[tokio::test]
async fn put_log_events_rejects_events_older_than_retention() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    logs.put_retention_policy().log_group_name("g").retention_in_days(1).send().await.unwrap();
    let now = now_millis();
    let batch = events(&[
        (now - DAY - 20 * MINUTE, "expired 1"),
        (now - DAY - 10 * MINUTE, "expired 2"),
        (now - DAY + 10 * MINUTE, "kept 1"),
        (now - HOUR, "kept 2"),
    ]);
    let out = put(&logs, "g", "s", batch).await;
    let info = out.rejected_log_events_info().expect("rejectedLogEventsInfo");
    assert_eq!(info.expired_log_event_end_index(), Some(1));
    assert_eq!(info.too_old_log_event_end_index(), None);
    assert_eq!(info.too_new_log_event_start_index(), None);
    assert_eq!(messages(&logs, "g", "s").await, ["kept 1", "kept 2"]);

    // Without retention the same old event is stored.
    logs.delete_retention_policy().log_group_name("g").send().await.unwrap();
    put_all(&logs, "g", "s", events(&[(now - 3 * DAY, "fine now")])).await;
    assert_eq!(messages(&logs, "g", "s").await, ["fine now", "kept 1", "kept 2"]);
}

#[tokio::test]
async fn retention_hides_events_already_stored() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let now = now_millis();
    put_all(&logs, "g", "s", events(&[(now - 3 * DAY, "three days"), (now - 2 * DAY - HOUR, "two days")])).await;
    put_all(&logs, "g", "s", events(&[(now - HOUR, "recent")])).await;
    assert_eq!(messages(&logs, "g", "s").await, ["three days", "two days", "recent"]);
    logs.put_retention_policy().log_group_name("g").retention_in_days(1).send().await.unwrap();
    assert_eq!(messages(&logs, "g", "s").await, ["recent"]);
    let out = logs.get_log_events().log_group_name("g").log_stream_name("s").send().await.unwrap();
    let got: Vec<_> = out.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(got, ["recent"]);
    let filtered: Vec<_> = filter_all(&logs, "g", "").await.into_iter().map(|(_, m)| m).collect();
    assert_eq!(filtered, ["recent"]);
}

// ---------------------------------------------------------------------------------------
// GetLogEvents
// ---------------------------------------------------------------------------------------

/// A stream of `n` events at `t + i`, messages "e{i}".
async fn numbered_stream(logs: &Client, group: &str, stream: &str, t: i64, n: usize) -> Vec<(i64, String)> {
    group_with_stream(logs, group, stream).await;
    let all: Vec<(i64, String)> = (0..n).map(|i| (t + i as i64, format!("e{i}"))).collect();
    put_all(logs, group, stream, all.iter().map(|(ts, m)| event(*ts, m.clone())).collect()).await;
    all
}

fn pairs(events: &[aws_sdk_cloudwatchlogs::types::OutputLogEvent]) -> Vec<(i64, String)> {
    events.iter().map(|e| (e.timestamp().unwrap(), e.message().unwrap().to_owned())).collect()
}

#[tokio::test]
async fn get_log_events_start_from_head_and_limit() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = numbered_stream(&logs, "g", "s", t, 10).await;
    let get = || logs.get_log_events().log_group_name("g").log_stream_name("s");

    // Default (startFromHead false): the latest events, in ascending order.
    let out = get().limit(3).send().await.unwrap();
    assert_eq!(pairs(out.events()), all[7..]);
    let out = get().start_from_head(false).limit(3).send().await.unwrap();
    assert_eq!(pairs(out.events()), all[7..]);
    // From the head: the earliest.
    let out = get().start_from_head(true).limit(3).send().await.unwrap();
    assert_eq!(pairs(out.events()), all[..3]);
    // Without a limit, everything (both ways).
    assert_eq!(pairs(get().send().await.unwrap().events()), all);
    assert_eq!(pairs(get().start_from_head(true).send().await.unwrap().events()), all);
    // Limits out of range fail validation.
    let r = get().limit(10_001).send().await;
    assert_err(r, INVALID, &validation("10001", "limit", "Member must have value less than or equal to 10000"));
    let r = get().limit(0).send().await;
    assert_err(r, INVALID, &validation("0", "limit", "Member must have value greater than or equal to 1"));
}

#[tokio::test]
async fn get_log_events_time_range_start_inclusive_end_exclusive() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = numbered_stream(&logs, "g", "s", t, 10).await;
    let get = || logs.get_log_events().log_group_name("g").log_stream_name("s").start_time(t + 2).end_time(t + 5);
    assert_eq!(pairs(get().start_from_head(true).send().await.unwrap().events()), all[2..5]);
    assert_eq!(pairs(get().send().await.unwrap().events()), all[2..5]);
    assert_eq!(pairs(get().limit(2).send().await.unwrap().events()), all[3..5]);
    assert_eq!(pairs(get().limit(2).start_from_head(true).send().await.unwrap().events()), all[2..4]);
    // Only one bound.
    let out = logs.get_log_events().log_group_name("g").log_stream_name("s").start_time(t + 8).send().await.unwrap();
    assert_eq!(pairs(out.events()), all[8..]);
    let out = logs.get_log_events().log_group_name("g").log_stream_name("s").end_time(t + 1).send().await.unwrap();
    assert_eq!(pairs(out.events()), all[..1]);
    // An empty range.
    let out = logs.get_log_events().log_group_name("g").log_stream_name("s").start_time(t + 3).end_time(t + 3).send().await.unwrap();
    assert!(out.events().is_empty());
}

/// 25,000 events of 100-byte messages, several per timestamp: (timestamp, message).
async fn big_stream(logs: &Client) -> Vec<(i64, String)> {
    group_with_stream(logs, "big", "s").await;
    let t = now_millis() - HOUR;
    let all: Vec<(i64, String)> = (0..25_000).map(|i| (t + i / 3, sized_message(&format!("event {i:05} "), 100))).collect();
    for chunk in all.chunks(5_000) {
        put_all(logs, "big", "s", chunk.iter().map(|(ts, m)| event(*ts, m.clone())).collect()).await;
    }
    all
}

fn page_bytes(page: &[(i64, String)]) -> usize {
    page.iter().map(|(_, m)| m.len() + 26).sum()
}

#[tokio::test]
async fn get_log_events_pages_forward_until_the_token_repeats() {
    let server = Server::start();
    let logs = server.logs();
    let all = big_stream(&logs).await;
    for limit in [None, Some(1_000), Some(10_000)] {
        let mut got = Vec::new();
        let mut sizes = Vec::new();
        let mut token: Option<String> = None;
        let mut calls = 0;
        loop {
            calls += 1;
            assert!(calls < 100, "paging never ended");
            let out = logs
                .get_log_events()
                .log_group_name("big")
                .log_stream_name("s")
                .start_from_head(true)
                .set_limit(limit)
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap();
            let page = pairs(out.events());
            assert!(page_bytes(&page) <= MAX_BATCH, "page over 1 MB");
            assert!(page.len() <= limit.unwrap_or(10_000) as usize);
            let next = out.next_forward_token().unwrap().to_owned();
            assert!(next.starts_with("f/"), "{next}");
            if token.as_deref() == Some(next.as_str()) {
                assert!(page.is_empty(), "the repeated token came with events");
                break;
            }
            sizes.push(page.len());
            got.extend(page);
            token = Some(next);
        }
        assert_eq!(got.len(), all.len(), "limit {limit:?}");
        assert!(got == all, "limit {limit:?}: events missing, repeated or out of order");
        match limit {
            Some(1_000) => assert!(sizes.iter().all(|s| *s == 1_000), "{sizes:?}"),
            // 126 bytes per event: the 1 MB cap stops a page at 8,322 events.
            _ => assert_eq!(sizes, [8_322, 8_322, 8_322, 34]),
        }
    }
}

#[tokio::test]
async fn get_log_events_pages_backward_until_the_token_repeats() {
    let server = Server::start();
    let logs = server.logs();
    let all = big_stream(&logs).await;
    for limit in [None, Some(777)] {
        let first = logs.get_log_events().log_group_name("big").log_stream_name("s").set_limit(limit).send().await.unwrap();
        let mut pages = vec![pairs(first.events())];
        let mut token = first.next_backward_token().unwrap().to_owned();
        assert!(token.starts_with("b/"), "{token}");
        let mut calls = 0;
        loop {
            calls += 1;
            assert!(calls < 100, "paging never ended");
            let out =
                logs.get_log_events().log_group_name("big").log_stream_name("s").set_limit(limit).next_token(&token).send().await.unwrap();
            let page = pairs(out.events());
            assert!(page_bytes(&page) <= MAX_BATCH);
            let next = out.next_backward_token().unwrap().to_owned();
            if next == token {
                assert!(page.is_empty(), "the repeated token came with events");
                break;
            }
            pages.push(page);
            token = next;
        }
        let got: Vec<(i64, String)> = pages.into_iter().rev().flatten().collect();
        assert_eq!(got.len(), all.len(), "limit {limit:?}");
        assert!(got == all, "limit {limit:?}: events missing, repeated or out of order");
        // The repeated token keeps answering with nothing, and its forward token leads
        // to the first events.
        let out = logs.get_log_events().log_group_name("big").log_stream_name("s").limit(5).next_token(&token).send().await.unwrap();
        assert!(out.events().is_empty());
        let forward = out.next_forward_token().unwrap();
        let out = logs.get_log_events().log_group_name("big").log_stream_name("s").limit(5).next_token(forward).send().await.unwrap();
        assert_eq!(pairs(out.events()), all[..5]);
    }
}

#[tokio::test]
async fn get_log_events_backward_then_forward_tokens_meet() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = numbered_stream(&logs, "g", "s", t, 20).await;
    let get = || logs.get_log_events().log_group_name("g").log_stream_name("s");
    let latest = get().limit(5).send().await.unwrap();
    assert_eq!(pairs(latest.events()), all[15..]);
    let older = get().limit(5).next_token(latest.next_backward_token().unwrap()).send().await.unwrap();
    assert_eq!(pairs(older.events()), all[10..15]);
    // Going forward from the older page gives the latest page again.
    let newer = get().limit(5).next_token(older.next_forward_token().unwrap()).send().await.unwrap();
    assert_eq!(pairs(newer.events()), all[15..]);
    // A malformed token is refused.
    let (code, _) = aws_err(get().next_token("not-a-token").send().await);
    assert_eq!(code, INVALID);
}

#[tokio::test]
async fn get_log_events_equal_timestamps_keep_ingestion_order() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis() - HOUR;
    put_all(&logs, "g", "s", events(&[(t, "1"), (t, "2"), (t, "3")])).await;
    put_all(&logs, "g", "s", events(&[(t - 1, "0"), (t, "4"), (t, "5")])).await;
    put_all(&logs, "g", "s", events(&[(t, "6"), (t + 1, "7")])).await;
    let want = ["0", "1", "2", "3", "4", "5", "6", "7"];
    assert_eq!(messages(&logs, "g", "s").await, want);
    let out = logs.get_log_events().log_group_name("g").log_stream_name("s").send().await.unwrap();
    let got: Vec<_> = out.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(got, want);
    // Paging one at a time in both directions keeps that order too.
    let mut forward = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = logs
            .get_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .start_from_head(true)
            .limit(1)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        forward.extend(out.events().iter().map(|e| e.message().unwrap().to_owned()));
        let next = out.next_forward_token().map(str::to_owned);
        if next == token {
            break;
        }
        token = next;
    }
    assert_eq!(forward, want);
    let mut backward = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out =
            logs.get_log_events().log_group_name("g").log_stream_name("s").limit(1).set_next_token(token.clone()).send().await.unwrap();
        backward.extend(out.events().iter().map(|e| e.message().unwrap().to_owned()));
        let next = out.next_backward_token().map(str::to_owned);
        if next == token {
            break;
        }
        token = next;
    }
    backward.reverse();
    assert_eq!(backward, want);
    // FilterLogEvents orders them the same way.
    let filtered: Vec<_> = filter_all(&logs, "g", "").await.into_iter().map(|(_, m)| m).collect();
    assert_eq!(filtered, want);
}

#[tokio::test]
async fn get_log_events_returns_every_event_of_concurrent_writers() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "g", "s").await;
    let t = now_millis() - HOUR;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let logs = logs.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..5 {
                let batch: Vec<_> = (0..40).map(|i| event(t + i, format!("w{w} b{b} i{i}"))).collect();
                put_all(&logs, "g", "s", batch).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let got = read_stream(&logs, "g", "s").await;
    assert_eq!(got.len(), 8 * 5 * 40);
    let unique: HashSet<&String> = got.iter().map(|(_, m)| m).collect();
    assert_eq!(unique.len(), got.len(), "an event came back twice");
    for w in 0..8 {
        for b in 0..5 {
            for i in 0..40 {
                assert!(unique.contains(&format!("w{w} b{b} i{i}")), "w{w} b{b} i{i} missing");
            }
        }
    }
    assert!(got.windows(2).all(|p| p[0].0 <= p[1].0), "events out of timestamp order");
    // Within one writer, equal timestamps keep that writer's batch order.
    for w in 0..8 {
        for i in 0..40 {
            let order: Vec<&String> =
                got.iter().filter(|(ts, m)| *ts == t + i && m.starts_with(&format!("w{w} "))).map(|(_, m)| m).collect();
            let want: Vec<String> = (0..5).map(|b| format!("w{w} b{b} i{i}")).collect();
            assert_eq!(order, want.iter().collect::<Vec<_>>());
        }
    }
    let filtered = filter_all(&logs, "g", "").await;
    assert_eq!(filtered.len(), got.len());
}

#[tokio::test]
async fn get_log_events_forward_token_returns_newly_appended_events() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = numbered_stream(&logs, "g", "s", t, 5).await;
    let get = || logs.get_log_events().log_group_name("g").log_stream_name("s");

    // Read to the end (the token repeats), then append.
    let out = get().start_from_head(true).send().await.unwrap();
    assert_eq!(pairs(out.events()), all);
    let token = out.next_forward_token().unwrap().to_owned();
    let out = get().next_token(&token).send().await.unwrap();
    assert!(out.events().is_empty());
    assert_eq!(out.next_forward_token(), Some(token.as_str()));

    put_all(&logs, "g", "s", events(&[(t + 4, "same ts as the last"), (t + 10, "new")])).await;
    let out = get().next_token(&token).send().await.unwrap();
    let got: Vec<_> = out.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(got, ["same ts as the last", "new"]);
    let token = out.next_forward_token().unwrap().to_owned();
    let out = get().next_token(&token).send().await.unwrap();
    assert!(out.events().is_empty());

    // The default call's forward token on a stream that is still empty.
    create_stream(&logs, "g", "empty").await;
    let out = logs.get_log_events().log_group_name("g").log_stream_name("empty").send().await.unwrap();
    assert!(out.events().is_empty());
    let token = out.next_forward_token().unwrap().to_owned();
    put_all(&logs, "g", "empty", events(&[(t, "first ever")])).await;
    let out = logs.get_log_events().log_group_name("g").log_stream_name("empty").next_token(&token).send().await.unwrap();
    let got: Vec<_> = out.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(got, ["first ever"]);
}

#[tokio::test]
async fn get_log_events_by_identifier_and_unknown_names() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = numbered_stream(&logs, "/get/g", "s", t, 3).await;
    for id in ["/get/g".to_owned(), arn("/get/g")] {
        let out = logs.get_log_events().log_group_identifier(&id).log_stream_name("s").send().await.unwrap();
        assert_eq!(pairs(out.events()), all, "identifier {id}");
    }
    let star = arn_star("/get/g");
    let r = logs.get_log_events().log_group_identifier(&star).log_stream_name("s").send().await;
    assert_err(r, INVALID, &validation(&star, "logGroupIdentifier", IDENTIFIER_PATTERN));
    let (code, _) =
        aws_err(logs.get_log_events().log_group_name("/get/g").log_group_identifier("/get/g").log_stream_name("s").send().await);
    assert_eq!(code, INVALID);
    assert_err(logs.get_log_events().log_group_name("/get/nope").log_stream_name("s").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.get_log_events().log_group_name("/get/g").log_stream_name("nope").send().await, NOT_FOUND, STREAM_NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// FilterLogEvents
// ---------------------------------------------------------------------------------------

/// Group "f" with streams app-1, app-2 and web-1 and 60 events interleaved across them:
/// event i is at t + i in stream i % 3. Returns (stream, timestamp, message) in time order.
async fn filter_fixture(logs: &Client, t: i64) -> Vec<(String, i64, String)> {
    create_group(logs, "f").await;
    let streams = ["app-1", "app-2", "web-1"];
    for s in streams {
        create_stream(logs, "f", s).await;
    }
    let all: Vec<(String, i64, String)> = (0..60)
        .map(|i| {
            let level = if i % 4 == 0 { "ERROR" } else { "INFO" };
            (streams[i % 3].to_owned(), t + i as i64, format!("{level} event {i:02}"))
        })
        .collect();
    for s in streams {
        let batch: Vec<_> = all.iter().filter(|(st, _, _)| st == s).map(|(_, ts, m)| event(*ts, m.clone())).collect();
        put_all(logs, "f", s, batch).await;
    }
    all
}

fn triples(events: &[FilteredLogEvent]) -> Vec<(String, i64, String)> {
    events.iter().map(|e| (e.log_stream_name().unwrap().to_owned(), e.timestamp().unwrap(), e.message().unwrap().to_owned())).collect()
}

#[tokio::test]
async fn filter_log_events_by_name_or_arn() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = filter_fixture(&logs, t).await;
    let by_name = logs.filter_log_events().log_group_name("f").send().await.unwrap();
    assert_eq!(triples(by_name.events()), all);
    for id in ["f".to_owned(), arn("f")] {
        let out = logs.filter_log_events().log_group_identifier(&id).send().await.unwrap();
        assert_eq!(triples(out.events()), all, "identifier {id}");
    }
    let r = logs.filter_log_events().log_group_identifier(arn_star("f")).send().await;
    assert_err(r, INVALID, &validation(&arn_star("f"), "logGroupIdentifier", IDENTIFIER_PATTERN));
    let (code, _) = aws_err(logs.filter_log_events().log_group_name("f").log_group_identifier("f").send().await);
    assert_eq!(code, INVALID);
    assert_err(logs.filter_log_events().log_group_name("nope").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.filter_log_events().log_group_identifier(arn("nope")).send().await, NOT_FOUND, GROUP_NOT_FOUND);
    // Every event has an ID, unique, and its ingestion time.
    let ids: HashSet<&str> = by_name.events().iter().map(|e| e.event_id().unwrap()).collect();
    assert_eq!(ids.len(), 60);
    assert!(by_name.events().iter().all(|e| e.ingestion_time().is_some()));
}

#[tokio::test]
async fn filter_log_events_by_stream_names_or_prefix() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = filter_fixture(&logs, t).await;
    let only = |names: &[&str]| all.iter().filter(|(s, _, _)| names.contains(&s.as_str())).cloned().collect::<Vec<_>>();

    let out = logs.filter_log_events().log_group_name("f").log_stream_names("app-1").log_stream_names("web-1").send().await.unwrap();
    assert_eq!(triples(out.events()), only(&["app-1", "web-1"]));
    let out = logs.filter_log_events().log_group_name("f").log_stream_name_prefix("app-").send().await.unwrap();
    assert_eq!(triples(out.events()), only(&["app-1", "app-2"]));
    let out = logs.filter_log_events().log_group_name("f").log_stream_name_prefix("nothing").send().await.unwrap();
    assert!(out.events().is_empty());
    let r = logs.filter_log_events().log_group_name("f").log_stream_names("app-1").log_stream_name_prefix("app-").send().await;
    let (code, _) = aws_err(r);
    assert_eq!(code, INVALID);
    // Names and a pattern together.
    let out = logs.filter_log_events().log_group_name("f").log_stream_names("app-2").filter_pattern("ERROR").send().await.unwrap();
    let want: Vec<_> = only(&["app-2"]).into_iter().filter(|(_, _, m)| m.contains("ERROR")).collect();
    assert!(!want.is_empty());
    assert_eq!(triples(out.events()), want);
}

#[tokio::test]
async fn filter_log_events_time_range_is_inclusive() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = filter_fixture(&logs, t).await;
    let out = logs.filter_log_events().log_group_name("f").start_time(t + 10).end_time(t + 20).send().await.unwrap();
    assert_eq!(triples(out.events()), all[10..=20]);
    let out = logs.filter_log_events().log_group_name("f").start_time(t + 55).send().await.unwrap();
    assert_eq!(triples(out.events()), all[55..]);
    let out = logs.filter_log_events().log_group_name("f").end_time(t).send().await.unwrap();
    assert_eq!(triples(out.events()), all[..1]);
    let out = logs.filter_log_events().log_group_name("f").start_time(t + 7).end_time(t + 7).send().await.unwrap();
    assert_eq!(triples(out.events()), all[7..8]);
}

#[tokio::test]
async fn filter_log_events_patterns() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "p", "s").await;
    let t = now_millis() - HOUR;
    let lines = [
        "ERROR disk full on host1",
        "ERROR timeout connecting to db",
        "WARN disk almost full",
        "INFO all good",
        "error lowercase thing",
        "Exiting with ERRORCODE: -1",
        "user said \"hello world\" twice",
        "hello there world",
    ];
    put_all(&logs, "p", "s", lines.iter().enumerate().map(|(i, l)| event(t + i as i64, *l)).collect()).await;
    let cases: &[(&str, &[usize])] = &[
        ("", &[0, 1, 2, 3, 4, 5, 6, 7]),
        ("ERROR", &[0, 1, 5]),
        ("error", &[4]),
        ("Error", &[]),
        ("ERROR disk", &[0]),
        ("disk full", &[0, 2]),
        ("\"disk full\"", &[0]),
        ("\"hello world\"", &[6]),
        ("hello world", &[6, 7]),
        ("\"ERRORCODE: -1\"", &[5]),
        ("?WARN ?INFO", &[2, 3]),
        ("?WARN ?nothing", &[2]),
        ("-ERROR", &[2, 3, 4, 6, 7]),
        ("ERROR -disk", &[1, 5]),
        ("hello -there", &[6]),
    ];
    for (pattern, want) in cases {
        let got: Vec<String> = filter_all(&logs, "p", pattern).await.into_iter().map(|(_, m)| m).collect();
        let want: Vec<String> = want.iter().map(|i| lines[*i].to_owned()).collect();
        assert_eq!(got, want, "pattern {pattern:?}");
    }
}

#[tokio::test]
async fn filter_log_events_invalid_pattern() {
    let server = Server::start();
    let logs = server.logs();
    group_with_stream(&logs, "p", "s").await;
    put_all(&logs, "p", "s", events(&[(now_millis(), "ERROR x")])).await;
    for bad in ["\"unterminated", "ERROR \"open phrase", "{ $.level = \"error\"", "Status: timeout"] {
        let (code, message) = aws_err(logs.filter_log_events().log_group_name("p").filter_pattern(bad).send().await);
        assert_eq!(code, INVALID, "pattern {bad:?}");
        assert!(!message.is_empty(), "pattern {bad:?}");
    }
    let (_, message) = aws_err(logs.filter_log_events().log_group_name("p").filter_pattern("Status: timeout").send().await);
    assert_eq!(message, "Invalid character(s) in term ':'");
    let (_, message) = aws_err(logs.filter_log_events().log_group_name("p").filter_pattern("{ $.level = \"error\"").send().await);
    assert_eq!(message, "If a filter pattern starts with '{' it must end with '}'");
}

#[tokio::test]
async fn filter_log_events_pages_every_match_once_interleaved() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = filter_fixture(&logs, t).await;
    for limit in [1, 7, 60, 100] {
        let got = filter_paged(&logs, "f", "", Some(limit), true).await;
        assert_eq!(triples(&got), all, "limit {limit}");
        let ids: HashSet<&str> = got.iter().map(|e| e.event_id().unwrap()).collect();
        assert_eq!(ids.len(), all.len());
    }
    let errors: Vec<_> = all.iter().filter(|(_, _, m)| m.starts_with("ERROR")).cloned().collect();
    assert_eq!(errors.len(), 15);
    for limit in [2, 4, 15] {
        let got = filter_paged(&logs, "f", "ERROR", Some(limit), true).await;
        assert_eq!(triples(&got), errors, "limit {limit}");
    }
    // A limit out of range fails validation.
    let r = logs.filter_log_events().log_group_name("f").limit(10_001).send().await;
    assert_err(r, INVALID, &validation("10001", "limit", "Member must have value less than or equal to 10000"));
}

#[tokio::test]
async fn filter_log_events_newest_first() {
    let server = Server::start();
    let logs = server.logs();
    let t = now_millis() - HOUR;
    let all = filter_fixture(&logs, t).await;
    let newest_first: Vec<_> = all.iter().rev().cloned().collect();
    let out = logs.filter_log_events().log_group_name("f").start_from_head(false).send().await.unwrap();
    assert_eq!(triples(out.events()), newest_first);
    let out = logs.filter_log_events().log_group_name("f").start_from_head(false).limit(5).send().await.unwrap();
    assert_eq!(triples(out.events()), newest_first[..5]);
    for limit in [1, 7] {
        let got = filter_paged(&logs, "f", "", Some(limit), false).await;
        assert_eq!(triples(&got), newest_first, "limit {limit}");
    }
    let got = filter_paged(&logs, "f", "ERROR", Some(4), false).await;
    let want: Vec<_> = newest_first.iter().filter(|(_, _, m)| m.starts_with("ERROR")).cloned().collect();
    assert_eq!(triples(&got), want);
}

// ---------------------------------------------------------------------------------------
// PutRetentionPolicy / DeleteRetentionPolicy
// ---------------------------------------------------------------------------------------

const RETENTION_DAYS: [i32; 22] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

#[tokio::test]
async fn put_retention_policy_accepts_every_allowed_value() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "r").await;
    for days in RETENTION_DAYS {
        logs.put_retention_policy().log_group_name("r").retention_in_days(days).send().await.unwrap();
        assert_eq!(describe_group(&logs, "r").await.retention_in_days(), Some(days));
    }
    logs.delete_retention_policy().log_group_name("r").send().await.unwrap();
    assert_eq!(describe_group(&logs, "r").await.retention_in_days(), None);
    // Deleting it again is fine.
    logs.delete_retention_policy().log_group_name("r").send().await.unwrap();
    assert_eq!(describe_group(&logs, "r").await.retention_in_days(), None);
}

#[tokio::test]
async fn put_retention_policy_refuses_other_values() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "r").await;
    logs.put_retention_policy().log_group_name("r").retention_in_days(30).send().await.unwrap();
    let allowed = RETENTION_DAYS.map(|d| d.to_string()).join(", ");
    for bad in [2, 0, -1, 4000] {
        let r = logs.put_retention_policy().log_group_name("r").retention_in_days(bad).send().await;
        assert_err(
            r,
            INVALID,
            &validation(&bad.to_string(), "retentionInDays", &format!("Member must satisfy enum value set: [{allowed}]")),
        );
        assert_eq!(describe_group(&logs, "r").await.retention_in_days(), Some(30));
    }
    assert_err(logs.put_retention_policy().log_group_name("nope").retention_in_days(7).send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.delete_retention_policy().log_group_name("nope").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_eq!(all_group_names(&logs).await, ["r"]);
}

// ---------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tags_by_resource_arn() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "/t/g").await;
    create_group(&logs, "/t/other").await;
    logs.tag_resource().resource_arn(arn("/t/g")).set_tags(Some(tag_map(&[("a", "1"), ("b", "2")]))).send().await.unwrap();
    assert_eq!(tags_by_arn(&logs, "/t/g").await, btree(&[("a", "1"), ("b", "2")]));
    // Overwrite one, add one.
    logs.tag_resource().resource_arn(arn("/t/g")).set_tags(Some(tag_map(&[("b", "two"), ("c", "3")]))).send().await.unwrap();
    assert_eq!(tags_by_arn(&logs, "/t/g").await, btree(&[("a", "1"), ("b", "two"), ("c", "3")]));
    // Remove two, one of them absent.
    logs.untag_resource().resource_arn(arn("/t/g")).tag_keys("a").tag_keys("zzz").send().await.unwrap();
    assert_eq!(tags_by_arn(&logs, "/t/g").await, btree(&[("b", "two"), ("c", "3")]));
    // The name-based API sees the same tags; the other group has none.
    assert_eq!(tags_by_name(&logs, "/t/g").await, btree(&[("b", "two"), ("c", "3")]));
    assert!(tags_by_arn(&logs, "/t/other").await.is_empty());
}

#[tokio::test]
#[allow(deprecated)]
async fn tags_by_log_group_name() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "g").await;
    logs.tag_log_group().log_group_name("g").set_tags(Some(tag_map(&[("x", "1"), ("y", "2")]))).send().await.unwrap();
    assert_eq!(tags_by_name(&logs, "g").await, btree(&[("x", "1"), ("y", "2")]));
    logs.tag_log_group().log_group_name("g").tags("y", "changed").send().await.unwrap();
    assert_eq!(tags_by_name(&logs, "g").await, btree(&[("x", "1"), ("y", "changed")]));
    logs.untag_log_group().log_group_name("g").tags("x").send().await.unwrap();
    assert_eq!(tags_by_name(&logs, "g").await, btree(&[("y", "changed")]));
    assert_eq!(tags_by_arn(&logs, "g").await, btree(&[("y", "changed")]));
}

#[tokio::test]
#[allow(deprecated)]
async fn tags_at_most_50() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "g").await;
    let many =
        |range: std::ops::Range<usize>| -> HashMap<String, String> { range.map(|i| (format!("k{i:02}"), format!("v{i}"))).collect() };

    // 51 in one request breaks the model's map length.
    let (code, message) = aws_err(logs.tag_resource().resource_arn(arn("g")).set_tags(Some(many(0..51))).send().await);
    assert_eq!(code, INVALID);
    assert!(message.ends_with("at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"), "{message}");
    let (code, _) = aws_err(logs.create_log_group().log_group_name("g51").set_tags(Some(many(0..51))).send().await);
    assert_eq!(code, INVALID);
    assert_eq!(all_group_names(&logs).await, ["g"]);
    assert!(tags_by_arn(&logs, "g").await.is_empty());

    // 30 then 21 more goes over 50 in total.
    logs.tag_resource().resource_arn(arn("g")).set_tags(Some(many(0..30))).send().await.unwrap();
    let (code, _) = aws_err(logs.tag_resource().resource_arn(arn("g")).set_tags(Some(many(30..51))).send().await);
    assert_eq!(code, "TooManyTagsException");
    // AWS documents no error code for TagLogGroup over the limit; it must fail all the same.
    let (code, _) = aws_err(logs.tag_log_group().log_group_name("g").set_tags(Some(many(30..51))).send().await);
    assert!(["TooManyTagsException", INVALID].contains(&code.as_str()), "{code}");
    assert_eq!(tags_by_arn(&logs, "g").await.len(), 30);
    // Exactly 50, and overwriting existing keys at 50, are fine.
    logs.tag_resource().resource_arn(arn("g")).set_tags(Some(many(30..50))).send().await.unwrap();
    logs.tag_resource().resource_arn(arn("g")).set_tags(Some(many(0..10))).send().await.unwrap();
    assert_eq!(tags_by_arn(&logs, "g").await.len(), 50);
    let (code, _) = aws_err(logs.tag_resource().resource_arn(arn("g")).tags("one-more", "x").send().await);
    assert_eq!(code, "TooManyTagsException");
    assert_eq!(tags_by_arn(&logs, "g").await.len(), 50);
}

#[tokio::test]
async fn concurrent_tagging_never_exceeds_50_tags() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "g").await;
    let mut tasks = Vec::new();
    for w in 0..10 {
        let logs = logs.clone();
        let tags: HashMap<String, String> = (0..10).map(|i| (format!("w{w}-k{i}"), "v".to_owned())).collect();
        tasks.push(tokio::spawn(async move { logs.tag_resource().resource_arn(arn("g")).set_tags(Some(tags)).send().await }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code(), Some("TooManyTagsException")),
        }
    }
    let tags = tags_by_arn(&logs, "g").await;
    assert!(tags.len() <= 50, "{} tags after concurrent TagResource calls", tags.len());
    assert_eq!(tags.len(), ok * 10);
}

#[tokio::test]
#[allow(deprecated)]
async fn tags_unknown_group() {
    let server = Server::start();
    let logs = server.logs();
    let missing = arn("missing");
    let code = |r: (String, String)| r.0;
    assert_eq!(code(aws_err(logs.tag_resource().resource_arn(&missing).tags("a", "b").send().await)), NOT_FOUND);
    assert_eq!(code(aws_err(logs.untag_resource().resource_arn(&missing).tag_keys("a").send().await)), NOT_FOUND);
    assert_eq!(code(aws_err(logs.list_tags_for_resource().resource_arn(&missing).send().await)), NOT_FOUND);
    assert_err(logs.tag_log_group().log_group_name("missing").tags("a", "b").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.untag_log_group().log_group_name("missing").tags("a").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert_err(logs.list_tags_log_group().log_group_name("missing").send().await, NOT_FOUND, GROUP_NOT_FOUND);
    assert!(all_group_names(&logs).await.is_empty());
}

// ---------------------------------------------------------------------------------------
// Reads across background compaction
// ---------------------------------------------------------------------------------------

/// How many compactions the server has finished, from its metrics.
fn compactions(server: &Server) -> f64 {
    let raw = common::http_get(&server.addr(), "/_trailwatch/metrics").unwrap();
    raw.lines()
        .filter(|l| l.starts_with("trailwatch_compactions_total"))
        .filter_map(|l| l.rsplit(' ').next()?.trim().parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn tokens_and_event_ids_survive_compaction() {
    let server = Server::start_with(&["--compact-after-secs", "0", "--maintenance-interval-secs", "1"]);
    let logs = server.logs();
    create_group(&logs, "c").await;
    create_stream(&logs, "c", "a").await;
    create_stream(&logs, "c", "b").await;
    let t = now_millis() - HOUR;
    for batch in 0..6 {
        let stream = if batch % 2 == 0 { "a" } else { "b" };
        let list: Vec<_> = (0..100).map(|i| event(t + i / 10, format!("{stream} batch {batch} event {i:03}"))).collect();
        put_all(&logs, "c", stream, list).await;
    }
    let stream_a = read_stream(&logs, "c", "a").await;
    let all_filtered = filter_paged(&logs, "c", "", None, true).await;
    assert_eq!(stream_a.len(), 300);
    assert_eq!(all_filtered.len(), 600);

    // Tokens taken before a compaction...
    let first = logs.get_log_events().log_group_name("c").log_stream_name("a").start_from_head(true).limit(120).send().await.unwrap();
    let forward = first.next_forward_token().unwrap().to_owned();
    let latest = logs.get_log_events().log_group_name("c").log_stream_name("a").limit(120).send().await.unwrap();
    let backward = latest.next_backward_token().unwrap().to_owned();
    let page = logs.filter_log_events().log_group_name("c").limit(250).send().await.unwrap();
    let filter_token = page.next_token().unwrap().to_owned();
    let before = compactions(&server);
    let mut waited = 0;
    while compactions(&server) <= before {
        waited += 1;
        assert!(waited < 600, "no compaction ran");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // ...still lead to exactly the remaining events.
    let rest =
        logs.get_log_events().log_group_name("c").log_stream_name("a").start_from_head(true).next_token(&forward).send().await.unwrap();
    assert!(pairs(rest.events()) == stream_a[120..], "forward token after compaction");
    let older = logs.get_log_events().log_group_name("c").log_stream_name("a").next_token(&backward).send().await.unwrap();
    assert!(pairs(older.events()) == stream_a[..180], "backward token after compaction");
    let rest = logs.filter_log_events().log_group_name("c").next_token(&filter_token).send().await.unwrap();
    assert_eq!(rest.events(), &all_filtered[250..], "filter token after compaction");
    assert!(read_stream(&logs, "c", "a").await == stream_a);
    assert_eq!(filter_paged(&logs, "c", "", None, true).await, all_filtered, "event IDs or order changed");

    // New events at the same timestamps come after the compacted ones.
    put_all(&logs, "c", "a", events(&[(t, "late same ts"), (t + 9, "late last ts")])).await;
    let got = read_stream(&logs, "c", "a").await;
    assert_eq!(got.len(), 302);
    // Three compacted batches put 30 events at t before it.
    assert_eq!(got[30], (t, "late same ts".to_owned()));
    assert!(got[..30] == stream_a[..30] && got[31..301] == stream_a[30..]);
    assert_eq!(got[301], (t + 9, "late last ts".to_owned()));
    let s = describe_stream(&logs, "c", "a").await;
    assert_eq!((s.first_event_timestamp(), s.last_event_timestamp()), (Some(t), Some(t + 9)));
    assert!(describe_group(&logs, "c").await.stored_bytes().unwrap() > 0);
}

/// TestMetricFilter with the API reference's Apache access-log sample: the same matcher
/// as FilterLogEvents, events numbered from 0, space-delimited fields extracted by name.
#[tokio::test]
async fn test_metric_filter_matches_and_extracts() {
    let server = Server::start();
    let logs = server.logs();
    let messages = [
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
    ];
    let test = |pattern: &str| {
        let mut call = logs.test_metric_filter().filter_pattern(pattern);
        for m in messages {
            call = call.log_event_messages(m);
        }
        call.send()
    };
    let all = test("[ip, identity, user_id, timestamp, request, status_code, size]").await.unwrap();
    let numbers: Vec<i64> = all.matches().iter().map(|m| m.event_number()).collect();
    assert_eq!(numbers, [0, 1, 2]);
    let first = all.matches()[0].extracted_values().unwrap();
    let expected: HashMap<String, String> = [
        ("$ip", "127.0.0.1"),
        ("$identity", "-"),
        ("$user_id", "frank"),
        ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
        ("$request", "GET /apache_pb.gif HTTP/1.0"),
        ("$status_code", "200"),
        ("$size", "1534"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(first, &expected);

    let errors = test("[ip, identity, user_id, timestamp, request, status_code = 5*, size]").await.unwrap();
    assert_eq!(errors.matches().iter().map(|m| m.event_number()).collect::<Vec<_>>(), [1]);
    assert_eq!(errors.matches()[0].event_message(), Some(messages[1]));
    let none = test("\"DROP TABLE\"").await.unwrap();
    assert!(none.matches().is_empty());

    let e = test("{ $.eventName = ").await.expect_err("invalid pattern");
    assert_eq!(e.as_service_error().and_then(|s| s.meta().code()), Some("InvalidParameterException"));
}
