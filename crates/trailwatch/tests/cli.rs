//! The stock `aws` CLI (v1, from PyPI) against the real binary: what users actually type.
//!
//! The CLI lives in the workspace's `.venv` (or wherever `TRAILWATCH_AWS_CLI` points).
//! Every invocation runs with the test's credentials and region in its environment, no
//! config or credentials file, no pager and no retries, and prints JSON that the tests
//! parse. Errors are checked as the CLI prints them: exit code 254/255 and the line
//! `An error occurred (CODE) when calling the OP operation: MESSAGE`.
//!
//! The v1 CLI has no `aws logs tail` (a v2 customization), so it is not tested here.

mod common;

use common::aws::Aws;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

const GROUP_NOT_FOUND: &str = "The specified log group does not exist.";
const STREAM_NOT_FOUND: &str = "The specified log stream does not exist.";
const BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const BAD_TOKEN: &str = "The security token included in the request is invalid.";

/// The events of a FilterLogEvents/GetLogEvents output as (stream, timestamp, message).
fn events(out: &Value) -> Vec<(String, i64, String)> {
    out["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events array in {out}"))
        .iter()
        .map(|e| {
            (
                e["logStreamName"].as_str().unwrap_or("").to_owned(),
                e["timestamp"].as_i64().unwrap_or_else(|| panic!("event without timestamp: {e}")),
                e["message"].as_str().unwrap_or_else(|| panic!("event without message: {e}")).to_owned(),
            )
        })
        .collect()
}

/// The log group names of a DescribeLogGroups output.
fn group_names(out: &Value) -> Vec<String> {
    out["logGroups"]
        .as_array()
        .unwrap_or_else(|| panic!("no logGroups array in {out}"))
        .iter()
        .map(|g| g["logGroupName"].as_str().unwrap().to_owned())
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn tags(out: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(out["tags"].clone()).unwrap_or_else(|e| panic!("bad tags in {out}: {e}"))
}

fn tag_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Runs every closure on its own thread (each is one or more `aws` invocations).
fn in_parallel(jobs: Vec<Box<dyn FnOnce() + Send + '_>>) {
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.into_iter().map(|job| s.spawn(job)).collect();
        for h in handles {
            if let Err(panic) = h.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

#[test]
fn groups_tags_and_retention() {
    let server = common::Server::start();
    let aws = Aws::new(&server);
    let kms = format!("arn:aws:kms:us-east-1:{}:key/1234abcd-12ab-34cd-56ef-1234567890ab", common::ACCOUNT);
    let before = common::now_millis();
    aws.ok(&["logs", "create-log-group", "--log-group-name", "/tw/app/one", "--tags", "env=prod,team=core", "--kms-key-id", &kms]);
    in_parallel(vec![
        Box::new(|| assert_eq!(aws.ok(&["logs", "create-log-group", "--log-group-name", "/tw/app/two"]), Value::Null)),
        Box::new(|| assert_eq!(aws.ok(&["logs", "create-log-group", "--log-group-name", "/tw/other/Payments"]), Value::Null)),
        Box::new(|| assert_eq!(aws.ok(&["logs", "create-log-group", "--log-group-name", "/tw/other/payroll"]), Value::Null)),
        Box::new(|| {
            aws.fails(
                &["logs", "create-log-group", "--log-group-name", "/tw/app/one"],
                "ResourceAlreadyExistsException",
                "CreateLogGroup",
                "The specified log group already exists",
            )
        }),
    ]);
    let after = common::now_millis();

    // Prefix: full descriptions, ASCII order.
    let out = aws.ok(&["logs", "describe-log-groups", "--log-group-name-prefix", "/tw/app/"]);
    assert_eq!(group_names(&out), strings(&["/tw/app/one", "/tw/app/two"]), "{out}");
    assert!(out.get("nextToken").is_none(), "{out}");
    let one = &out["logGroups"][0];
    let arn = format!("arn:aws:logs:us-east-1:{}:log-group:/tw/app/one", common::ACCOUNT);
    assert_eq!(one["arn"], json!(format!("{arn}:*")), "{one}");
    assert_eq!(one["logGroupArn"], json!(arn), "{one}");
    assert_eq!(one["kmsKeyId"], json!(kms), "{one}");
    assert_eq!(one["logGroupClass"], json!("STANDARD"), "{one}");
    assert_eq!(one["storedBytes"], json!(0), "{one}");
    assert_eq!(one["metricFilterCount"], json!(0), "{one}");
    assert!(one.get("retentionInDays").is_none(), "{one}");
    let created = one["creationTime"].as_i64().unwrap();
    assert!((before..=after).contains(&created), "creationTime {created} not in [{before}, {after}]");
    assert!(out["logGroups"][1].get("kmsKeyId").is_none(), "{out}");

    // Pattern: case-sensitive substring; only arn, creationTime and logGroupName.
    let out = aws.ok(&["logs", "describe-log-groups", "--log-group-name-pattern", "Pay"]);
    assert_eq!(group_names(&out), strings(&["/tw/other/Payments"]), "{out}");
    let keys: BTreeSet<&str> = out["logGroups"][0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["arn", "creationTime", "logGroupName"]), "{out}");
    let out = aws.ok(&["logs", "describe-log-groups", "--log-group-name-pattern", "pay"]);
    assert_eq!(group_names(&out), strings(&["/tw/other/payroll"]), "{out}");

    // Tags: the name-based API and the ARN-based one see the same tags.
    assert_eq!(
        tags(&aws.ok(&["logs", "list-tags-log-group", "--log-group-name", "/tw/app/one"])),
        tag_map(&[("env", "prod"), ("team", "core")])
    );
    assert_eq!(aws.ok(&["logs", "tag-log-group", "--log-group-name", "/tw/app/one", "--tags", "owner=ops"]), Value::Null);
    assert_eq!(
        tags(&aws.ok(&["logs", "list-tags-for-resource", "--resource-arn", &arn])),
        tag_map(&[("env", "prod"), ("owner", "ops"), ("team", "core")])
    );
    assert_eq!(aws.ok(&["logs", "tag-resource", "--resource-arn", &arn, "--tags", "env=staging,tier=1"]), Value::Null);
    assert_eq!(aws.ok(&["logs", "untag-resource", "--resource-arn", &arn, "--tag-keys", "team", "absent"]), Value::Null);
    let expected = tag_map(&[("env", "staging"), ("owner", "ops"), ("tier", "1")]);
    assert_eq!(tags(&aws.ok(&["logs", "list-tags-for-resource", "--resource-arn", &arn])), expected);
    assert_eq!(tags(&aws.ok(&["logs", "list-tags-log-group", "--log-group-name", "/tw/app/one"])), expected);

    // Retention: a valid value shows up, an invalid one is refused, delete clears it.
    assert_eq!(aws.ok(&["logs", "put-retention-policy", "--log-group-name", "/tw/app/one", "--retention-in-days", "30"]), Value::Null);
    let out = aws.ok(&["logs", "describe-log-groups", "--log-group-name-prefix", "/tw/app/one"]);
    assert_eq!(out["logGroups"][0]["retentionInDays"], json!(30), "{out}");
    aws.fails(
        &["logs", "put-retention-policy", "--log-group-name", "/tw/app/one", "--retention-in-days", "2"],
        "InvalidParameterException",
        "PutRetentionPolicy",
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: \
         [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
    );
    assert_eq!(aws.ok(&["logs", "delete-retention-policy", "--log-group-name", "/tw/app/one"]), Value::Null);

    // Delete: gone from the listing; deleting or using it again is ResourceNotFound.
    assert_eq!(aws.ok(&["logs", "delete-log-group", "--log-group-name", "/tw/app/two"]), Value::Null);
    let out = aws.ok(&["logs", "describe-log-groups"]);
    assert_eq!(group_names(&out), strings(&["/tw/app/one", "/tw/other/Payments", "/tw/other/payroll"]), "{out}");
    assert!(out["logGroups"][0].get("retentionInDays").is_none(), "retention was not deleted: {out}");
    in_parallel(vec![
        Box::new(|| {
            aws.fails(
                &["logs", "delete-log-group", "--log-group-name", "/tw/app/two"],
                "ResourceNotFoundException",
                "DeleteLogGroup",
                GROUP_NOT_FOUND,
            )
        }),
        Box::new(|| {
            aws.fails(
                &["logs", "list-tags-log-group", "--log-group-name", "/tw/app/two"],
                "ResourceNotFoundException",
                "ListTagsLogGroup",
                GROUP_NOT_FOUND,
            )
        }),
    ]);
}

#[test]
fn describe_log_groups_paginates() {
    let server = common::Server::start();
    let aws = &Aws::new(&server);
    let mut names: Vec<String> = (0..6).map(|i| format!("/tw/page/g{i:02}")).collect();
    names.push("/tw/zzz".to_owned());
    for chunk in names.chunks(3) {
        in_parallel(
            chunk
                .iter()
                .map(|n| {
                    Box::new(move || assert_eq!(aws.ok(&["logs", "create-log-group", "--log-group-name", n]), Value::Null))
                        as Box<dyn FnOnce() + Send>
                })
                .collect(),
        );
    }

    // The server honours the limit and hands out a token.
    let out = aws.ok(&["logs", "describe-log-groups", "--no-paginate", "--limit", "3"]);
    assert_eq!(group_names(&out), names[..3].to_vec(), "{out}");
    assert!(out["nextToken"].as_str().is_some_and(|t| !t.is_empty()), "no nextToken with more groups to come: {out}");

    // The CLI follows the tokens: 3 pages of 2 under the prefix, every group once, in order.
    let out = aws.ok(&["logs", "describe-log-groups", "--log-group-name-prefix", "/tw/page/", "--page-size", "2"]);
    assert_eq!(group_names(&out), names[..6].to_vec(), "{out}");
    assert!(out.get("nextToken").is_none() && out.get("NextToken").is_none(), "{out}");

    // --max-items stops mid-page with the CLI's own token; --starting-token resumes there.
    let first = aws.ok(&["logs", "describe-log-groups", "--page-size", "2", "--max-items", "3"]);
    assert_eq!(group_names(&first), names[..3].to_vec(), "{first}");
    let token = first["NextToken"].as_str().unwrap_or_else(|| panic!("no NextToken: {first}"));
    let rest = aws.ok(&["logs", "describe-log-groups", "--page-size", "2", "--starting-token", token]);
    assert_eq!(group_names(&rest), names[3..].to_vec(), "{rest}");
    assert!(rest.get("NextToken").is_none(), "{rest}");

    // Named groups are found wherever they sit in the listing, page by page.
    let out =
        aws.ok(&["logs", "describe-log-groups", "--log-group-identifiers", "/tw/page/g05", "/tw/page/g03", "/tw/zzz", "--page-size", "2"]);
    assert_eq!(group_names(&out), strings(&["/tw/page/g03", "/tw/page/g05", "/tw/zzz"]), "{out}");
}

#[test]
fn streams_events_and_filters() {
    let server = common::Server::start();
    let aws = &Aws::new(&server);
    let group = "/tw/events";
    let t0 = common::now_millis() - 600_000;
    let t = |offset: i64| (t0 + offset).to_string();
    aws.ok(&["logs", "create-log-group", "--log-group-name", group]);
    in_parallel(
        ["api", "batch", "cron"]
            .into_iter()
            .map(|s| {
                Box::new(move || {
                    assert_eq!(aws.ok(&["logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", s]), Value::Null)
                }) as Box<dyn FnOnce() + Send>
            })
            .collect(),
    );
    aws.fails(
        &["logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "api"],
        "ResourceAlreadyExistsException",
        "CreateLogStream",
        "The specified log stream already exists",
    );

    // api: from a file; batch and cron: shorthand, one with a sequence token (ignored).
    let api = [
        (0, "INFO GET /health 200"),
        (1000, "ERROR payment failed: card declined"),
        (2000, "WARN slow request took 1200ms"),
        (3000, "ERROR db timeout after 30s"),
        (4000, "DEBUG cache hit for user 42"),
    ];
    let file: Vec<Value> = api.iter().map(|(o, m)| json!({ "timestamp": t0 + o, "message": m })).collect();
    aws.write("events.json", &serde_json::to_string_pretty(&file).unwrap());
    let put_api =
        aws.ok(&["logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "api", "--log-events", "file://events.json"]);
    let put_batch = aws.ok(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        group,
        "--log-stream-name",
        "batch",
        "--sequence-token",
        "49039859213234029341934092385290348523948572348957234958",
        "--log-events",
        &format!("timestamp={},message=\"ERROR payment failed, retry scheduled\"", t(1500)),
        &format!("timestamp={},message=INFO batch done", t(8000)),
    ]);
    let put_cron = aws.ok(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        group,
        "--log-stream-name",
        "cron",
        "--log-events",
        &format!("timestamp={},message=WARN cron skipped", t(6000)),
    ]);
    for out in [&put_api, &put_batch, &put_cron] {
        assert!(out["nextSequenceToken"].as_str().is_some_and(|t| !t.is_empty()), "{out}");
        assert!(out.get("rejectedLogEventsInfo").is_none(), "{out}");
    }

    // Streams by last event time, newest first: batch (8000), cron (6000), api (4000).
    let out = aws.ok(&["logs", "describe-log-streams", "--log-group-name", group, "--order-by", "LastEventTime", "--descending"]);
    let streams = out["logStreams"].as_array().unwrap();
    let names: Vec<&str> = streams.iter().map(|s| s["logStreamName"].as_str().unwrap()).collect();
    assert_eq!(names, ["batch", "cron", "api"], "{out}");
    let batch = &streams[0];
    assert_eq!(batch["firstEventTimestamp"], json!(t0 + 1500), "{batch}");
    assert_eq!(batch["lastEventTimestamp"], json!(t0 + 8000), "{batch}");
    assert_eq!(batch["arn"], json!(format!("arn:aws:logs:us-east-1:{}:log-group:{group}:log-stream:batch", common::ACCOUNT)), "{batch}");
    assert_eq!(streams[2]["firstEventTimestamp"], json!(t0), "{out}");
    assert_eq!(streams[2]["lastEventTimestamp"], json!(t0 + 4000), "{out}");
    // The same order when the CLI pages through it one stream at a time.
    let paged = aws.ok(&[
        "logs",
        "describe-log-streams",
        "--log-group-name",
        group,
        "--order-by",
        "LastEventTime",
        "--descending",
        "--page-size",
        "1",
    ]);
    assert_eq!(paged["logStreams"], out["logStreams"], "{paged}");

    // GetLogEvents from the head: the file's events in order, as written.
    let out = aws.ok(&["logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "api", "--start-from-head"]);
    let got: Vec<(i64, String)> = events(&out).into_iter().map(|(_, ts, m)| (ts, m)).collect();
    let want: Vec<(i64, String)> = api.iter().map(|(o, m)| (t0 + o, m.to_string())).collect();
    assert_eq!(got, want, "{out}");
    assert!(out["events"].as_array().unwrap().iter().all(|e| e["ingestionTime"].as_i64().is_some()), "{out}");
    let out = aws.ok(&["logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "batch"]);
    assert_eq!(
        events(&out).into_iter().map(|(_, _, m)| m).collect::<Vec<_>>(),
        strings(&["ERROR payment failed, retry scheduled", "INFO batch done"]),
        "{out}"
    );

    // FilterLogEvents: the group's events in time order, across streams.
    let filter = |extra: &[&str]| -> Vec<(String, i64, String)> {
        let mut args = vec!["logs", "filter-log-events", "--log-group-name", group];
        args.extend_from_slice(extra);
        let out = aws.ok(&args);
        for e in out["events"].as_array().unwrap() {
            assert!(e["eventId"].as_str().is_some_and(|id| !id.is_empty()), "{e}");
            assert!(e["ingestionTime"].as_i64().is_some(), "{e}");
        }
        assert!(out.get("nextToken").is_none(), "{out}");
        events(&out)
    };
    let ev = |stream: &str, offset: i64, message: &str| (stream.to_owned(), t0 + offset, message.to_owned());
    std::thread::scope(|s| {
        let phrase = s.spawn(|| filter(&["--filter-pattern", "\"payment failed\""]));
        let any = s.spawn(|| filter(&["--filter-pattern", "?WARN ?DEBUG"]));
        let exclude = s.spawn(|| filter(&["--filter-pattern", "ERROR -timeout"]));
        let only_exclude = s.spawn(|| filter(&["--filter-pattern=-ERROR"]));
        let by_stream = s.spawn(|| filter(&["--log-stream-names", "api", "cron"]));
        let by_time = s.spawn(|| filter(&["--start-time", &t(1000), "--end-time", &t(3000)]));
        assert_eq!(
            phrase.join().unwrap(),
            vec![ev("api", 1000, "ERROR payment failed: card declined"), ev("batch", 1500, "ERROR payment failed, retry scheduled")]
        );
        assert_eq!(
            any.join().unwrap(),
            vec![
                ev("api", 2000, "WARN slow request took 1200ms"),
                ev("api", 4000, "DEBUG cache hit for user 42"),
                ev("cron", 6000, "WARN cron skipped")
            ]
        );
        assert_eq!(
            exclude.join().unwrap(),
            vec![ev("api", 1000, "ERROR payment failed: card declined"), ev("batch", 1500, "ERROR payment failed, retry scheduled")]
        );
        assert_eq!(
            only_exclude.join().unwrap(),
            vec![
                ev("api", 0, "INFO GET /health 200"),
                ev("api", 2000, "WARN slow request took 1200ms"),
                ev("api", 4000, "DEBUG cache hit for user 42"),
                ev("cron", 6000, "WARN cron skipped"),
                ev("batch", 8000, "INFO batch done")
            ]
        );
        let mut want: Vec<_> = api.iter().map(|(o, m)| ev("api", *o, m)).collect();
        want.push(ev("cron", 6000, "WARN cron skipped"));
        assert_eq!(by_stream.join().unwrap(), want);
        // startTime and endTime are both inclusive.
        assert_eq!(
            by_time.join().unwrap(),
            vec![
                ev("api", 1000, "ERROR payment failed: card declined"),
                ev("batch", 1500, "ERROR payment failed, retry scheduled"),
                ev("api", 2000, "WARN slow request took 1200ms"),
                ev("api", 3000, "ERROR db timeout after 30s")
            ]
        );
    });

    // Deleting a stream removes it and its events.
    assert_eq!(aws.ok(&["logs", "delete-log-stream", "--log-group-name", group, "--log-stream-name", "cron"]), Value::Null);
    let out = aws.ok(&["logs", "describe-log-streams", "--log-group-name", group]);
    let names: Vec<&str> = out["logStreams"].as_array().unwrap().iter().map(|s| s["logStreamName"].as_str().unwrap()).collect();
    assert_eq!(names, ["api", "batch"], "{out}");
    in_parallel(vec![
        Box::new(|| assert!(filter(&["--filter-pattern", "cron"]).is_empty())),
        Box::new(|| {
            aws.fails(
                &["logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "cron"],
                "ResourceNotFoundException",
                "GetLogEvents",
                STREAM_NOT_FOUND,
            )
        }),
        Box::new(|| {
            aws.fails(
                &["logs", "delete-log-stream", "--log-group-name", group, "--log-stream-name", "cron"],
                "ResourceNotFoundException",
                "DeleteLogStream",
                STREAM_NOT_FOUND,
            )
        }),
    ]);

    // Deleting the group takes everything with it.
    assert_eq!(aws.ok(&["logs", "delete-log-group", "--log-group-name", group]), Value::Null);
    aws.fails(&["logs", "filter-log-events", "--log-group-name", group], "ResourceNotFoundException", "FilterLogEvents", GROUP_NOT_FOUND);
}

#[test]
fn event_paging_returns_every_event_once() {
    let server = common::Server::start();
    let aws = &Aws::new(&server);
    let group = "/tw/bulk";
    let t0 = common::now_millis() - 600_000;
    const PER_STREAM: i64 = 400;
    aws.ok(&["logs", "create-log-group", "--log-group-name", group]);
    let message = |s: usize, j: i64| format!("s{s} event {j:04} {}", if j % 2 == 0 { "even" } else { "odd" });
    // The streams share timestamps, so the merge and the tokens must break ties; s0 is
    // written by two writers whose batches overlap in time (even events, then odd ones).
    let batches: Vec<(usize, &str, Vec<i64>)> = vec![
        (0, "even", (0..PER_STREAM).step_by(2).collect()),
        (0, "odd", (1..PER_STREAM).step_by(2).collect()),
        (1, "all", (0..PER_STREAM).collect()),
        (2, "all", (0..PER_STREAM).collect()),
    ];
    in_parallel(
        ["s0", "s1", "s2"]
            .into_iter()
            .map(|stream| {
                Box::new(move || {
                    assert_eq!(aws.ok(&["logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", stream]), Value::Null)
                }) as Box<dyn FnOnce() + Send>
            })
            .collect(),
    );
    in_parallel(
        batches
            .into_iter()
            .map(|(s, part, js)| {
                let message = &message;
                Box::new(move || {
                    let stream = format!("s{s}");
                    let batch: Vec<Value> = js.iter().map(|&j| json!({ "timestamp": t0 + j * 50, "message": message(s, j) })).collect();
                    let file = format!("events-{stream}-{part}.json");
                    aws.write(&file, &serde_json::to_string(&batch).unwrap());
                    let out = aws.ok(&[
                        "logs",
                        "put-log-events",
                        "--log-group-name",
                        group,
                        "--log-stream-name",
                        &stream,
                        "--log-events",
                        &format!("file://{file}"),
                    ]);
                    assert!(out.get("rejectedLogEventsInfo").is_none(), "{out}");
                }) as Box<dyn FnOnce() + Send>
            })
            .collect(),
    );

    let check_filter_pages = |extra: &[&str], want: Vec<(String, i64, String)>| {
        let mut args = vec!["logs", "filter-log-events", "--log-group-name", group];
        args.extend_from_slice(extra);
        let out = aws.ok(&args);
        assert!(out.get("nextToken").is_none() && out.get("NextToken").is_none(), "paging did not finish");
        let ids: HashSet<&str> = out["events"].as_array().unwrap().iter().map(|e| e["eventId"].as_str().unwrap()).collect();
        let got = events(&out);
        assert_eq!(ids.len(), got.len(), "eventIds are not unique");
        assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "events out of time order");
        let seen: HashSet<&(String, i64, String)> = got.iter().collect();
        assert_eq!(seen.len(), got.len(), "some events came back more than once");
        let mut sorted = got.clone();
        sorted.sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
        let mut want = want;
        want.sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
        assert_eq!(sorted.len(), want.len(), "wrong number of events");
        assert!(sorted == want, "the events differ from those written");
    };
    let all: Vec<(String, i64, String)> =
        (0..3).flat_map(|s| (0..PER_STREAM).map(move |j| (format!("s{s}"), t0 + j * 50, message(s, j)))).collect();
    let odd_s0_s2: Vec<_> = all.iter().filter(|(s, _, m)| s != "s1" && m.ends_with("odd")).cloned().collect();
    std::thread::scope(|s| {
        s.spawn(|| check_filter_pages(&["--page-size", "37"], all.clone()));
        s.spawn(|| {
            check_filter_pages(&["--filter-pattern", "odd", "--log-stream-names", "s0", "s2", "--page-size", "25"], odd_s0_s2.clone())
        });
    });

    // GetLogEvents on s0 (two overlapping blocks), forward by token: 150, 150, 100, then
    // nothing and the same token back.
    let s0: Vec<(i64, String)> = (0..PER_STREAM).map(|j| (t0 + j * 50, message(0, j))).collect();
    let page = |extra: &[&str]| -> (Vec<(i64, String)>, String, String) {
        let mut args = vec!["logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "s0"];
        args.extend_from_slice(extra);
        let out = aws.ok(&args);
        let evs = events(&out).into_iter().map(|(_, ts, m)| (ts, m)).collect();
        (evs, out["nextForwardToken"].as_str().unwrap().to_owned(), out["nextBackwardToken"].as_str().unwrap().to_owned())
    };
    let mut token: Option<String> = None;
    let mut got = Vec::new();
    for want in [150, 150, 100, 0] {
        let (evs, forward, _) = match &token {
            None => page(&["--start-from-head", "--limit", "150"]),
            Some(t) => page(&["--start-from-head", "--limit", "150", "--next-token", t]),
        };
        assert_eq!(evs.len(), want, "forward page sizes");
        if want == 0 {
            assert_eq!(Some(&forward), token.as_ref(), "the end of the stream returns the token passed in");
        }
        got.extend(evs);
        token = Some(forward);
    }
    assert!(got == s0, "forward pages differ from the stream");

    // Backward from the end: the newest 250, then the 150 before them, then nothing.
    let (newest, _, back) = page(&["--limit", "250"]);
    assert!(newest == s0[150..], "the default read returns the newest events, oldest first");
    let (older, _, back2) = page(&["--limit", "250", "--next-token", &back]);
    assert!(older == s0[..150], "the backward token pages to older events");
    let (none, _, back3) = page(&["--limit", "250", "--next-token", &back2]);
    assert!(none.is_empty(), "nothing before the first event");
    assert_eq!(back3, back2, "the start of the stream returns the token passed in");

    // GetLogEvents' endTime is exclusive, its startTime inclusive.
    let (window, _, _) = page(&["--start-from-head", "--start-time", &(t0 + 1000).to_string(), "--end-time", &(t0 + 2000).to_string()]);
    assert!(window == s0[20..40], "time window [1000, 2000) gave {window:?}");

    // Following the stream: an event written later comes back with the final token.
    let late = t0 + PER_STREAM * 50;
    aws.ok(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        group,
        "--log-stream-name",
        "s0",
        "--log-events",
        &format!("timestamp={late},message=late arrival"),
    ]);
    let (evs, forward, _) = page(&["--start-from-head", "--next-token", token.as_deref().unwrap()]);
    assert_eq!(evs, vec![(late, "late arrival".to_owned())]);
    assert_ne!(Some(&forward), token.as_ref(), "the forward token moves past the new event");
}

#[test]
fn sts_identity_and_failures() {
    let server = common::Server::start();
    let aws = Aws::new(&server);
    let wrong_secret = Aws::with_keys(&server, common::ACCESS_KEY, "notTheSecretKey/ForTrailwatchIntegration0");
    let unknown_key = Aws::with_keys(&server, "AKIAUNKNOWNKEY000000", common::SECRET_KEY);
    in_parallel(vec![
        Box::new(|| {
            let who = aws.ok(&["sts", "get-caller-identity"]);
            assert_eq!(who["Account"], json!(common::ACCOUNT), "{who}");
            assert_eq!(who["Arn"], json!(format!("arn:aws:iam::{}:root", common::ACCOUNT)), "{who}");
            assert_eq!(who["UserId"], json!(common::ACCOUNT), "{who}");
        }),
        Box::new(|| wrong_secret.fails(&["logs", "describe-log-groups"], "InvalidSignatureException", "DescribeLogGroups", BAD_SIGNATURE)),
        Box::new(|| wrong_secret.fails(&["sts", "get-caller-identity"], "SignatureDoesNotMatch", "GetCallerIdentity", BAD_SIGNATURE)),
        Box::new(|| unknown_key.fails(&["logs", "describe-log-groups"], "UnrecognizedClientException", "DescribeLogGroups", BAD_TOKEN)),
        Box::new(|| unknown_key.fails(&["sts", "get-caller-identity"], "InvalidClientTokenId", "GetCallerIdentity", BAD_TOKEN)),
        Box::new(|| {
            aws.fails(
                &["logs", "describe-log-streams", "--log-group-name", "/tw/missing"],
                "ResourceNotFoundException",
                "DescribeLogStreams",
                GROUP_NOT_FOUND,
            )
        }),
        Box::new(|| {
            aws.fails(
                &["logs", "create-log-stream", "--log-group-name", "/tw/missing", "--log-stream-name", "s"],
                "ResourceNotFoundException",
                "CreateLogStream",
                GROUP_NOT_FOUND,
            )
        }),
    ]);
    // The failed calls created nothing.
    assert_eq!(group_names(&aws.ok(&["logs", "describe-log-groups"])), Vec::<String>::new());
}

/// Seed 004's commands as written: the trust policy and the role policy come from
/// `file://` documents, and the CLI decodes the URL-encoded documents IAM returns.
#[test]
fn seed_004_role_from_file_documents() {
    let server = common::Server::start();
    let aws = Aws::new(&server);
    let trust = common::SEED_004_TRUST;
    aws.write("assume_role_policy_document.json", trust);
    let role = aws.ok(&[
        "iam",
        "create-role",
        "--role-name",
        "CloudTrail_CloudWatchLogs_Role",
        "--assume-role-policy-document",
        "file://assume_role_policy_document.json",
    ]);
    let role_arn = role["Role"]["Arn"].as_str().unwrap().to_owned();
    assert_eq!(role_arn, format!("arn:aws:iam::{}:role/CloudTrail_CloudWatchLogs_Role", common::ACCOUNT));
    let trust_json: Value = serde_json::from_str(trust).unwrap();
    assert_eq!(role["Role"]["AssumeRolePolicyDocument"], trust_json, "the CLI decodes the document IAM returns");

    // The role policy of the seed, with its placeholders filled in.
    let stream_prefix = format!("{}_CloudTrail_us-east-1", common::ACCOUNT);
    let resource = format!("arn:aws:logs:us-east-1:{}:log-group:CloudTrail/DefaultLogGroup:log-stream:{stream_prefix}*", common::ACCOUNT);
    let role_policy = format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{

      "Sid": "AWSCloudTrailCreateLogStream2014110",
      "Effect": "Allow",
      "Action": [
        "logs:CreateLogStream"
      ],
      "Resource": [
        "{resource}"
      ]

    }},
    {{
      "Sid": "AWSCloudTrailPutLogEvents20141101",
      "Effect": "Allow",
      "Action": [
        "logs:PutLogEvents"
      ],
      "Resource": [
        "{resource}"
      ]
    }}
  ]
}}"#
    );
    aws.write("role-policy-document.json", &role_policy);
    aws.ok(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "CloudTrail_CloudWatchLogs_Role",
        "--policy-name",
        "cloudtrail-policy",
        "--policy-document",
        "file://role-policy-document.json",
    ]);
    let got = aws.ok(&["iam", "get-role-policy", "--role-name", "CloudTrail_CloudWatchLogs_Role", "--policy-name", "cloudtrail-policy"]);
    assert_eq!(got["PolicyDocument"], serde_json::from_str::<Value>(&role_policy).unwrap());

    // The simulator, which is the enforcing engine, agrees with what the seed intends.
    let stream = |name: &str| format!("arn:aws:logs:us-east-1:{}:log-group:CloudTrail/DefaultLogGroup:log-stream:{name}", common::ACCOUNT);
    let ours = stream(&format!("{stream_prefix}_2"));
    let other = stream("someone-else");
    let sim = aws.ok(&[
        "iam",
        "simulate-principal-policy",
        "--policy-source-arn",
        &role_arn,
        "--action-names",
        "logs:PutLogEvents",
        "logs:CreateLogStream",
        "logs:DeleteLogGroup",
        "--resource-arns",
        &ours,
        &other,
    ]);
    let decisions: Vec<(String, String, String)> = sim["EvaluationResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("EvalActionName"), s("EvalResourceName"), s("EvalDecision"))
        })
        .collect();
    let expect = |action: &str, resource: &str, decision: &str| (action.to_owned(), resource.to_owned(), decision.to_owned());
    assert_eq!(
        decisions,
        vec![
            expect("logs:PutLogEvents", &ours, "allowed"),
            expect("logs:PutLogEvents", &other, "implicitDeny"),
            expect("logs:CreateLogStream", &ours, "allowed"),
            expect("logs:CreateLogStream", &other, "implicitDeny"),
            expect("logs:DeleteLogGroup", &ours, "implicitDeny"),
            expect("logs:DeleteLogGroup", &other, "implicitDeny"),
        ]
    );

    // Only CloudTrail is trusted: a user, even an administrator, cannot assume the role.
    aws.ok(&["iam", "create-user", "--user-name", "ops"]);
    aws.ok(&["iam", "attach-user-policy", "--user-name", "ops", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess"]);
    let key = aws.ok(&["iam", "create-access-key", "--user-name", "ops"]);
    let ops =
        Aws::with_keys(&server, key["AccessKey"]["AccessKeyId"].as_str().unwrap(), key["AccessKey"]["SecretAccessKey"].as_str().unwrap());
    let who = ops.ok(&["sts", "get-caller-identity"]);
    assert_eq!(who["Arn"], json!(format!("arn:aws:iam::{}:user/ops", common::ACCOUNT)));
    ops.fails(
        &["sts", "assume-role", "--role-arn", &role_arn, "--role-session-name", "attempt"],
        "AccessDenied",
        "AssumeRole",
        &format!("User: arn:aws:iam::{}:user/ops is not authorized to perform: sts:AssumeRole on resource: {role_arn}", common::ACCOUNT),
    );

    // Identity policies may not name a principal; the error is IAM's and nothing is created.
    aws.write(
        "with-principal.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"logs:*","Resource":"*"}]}"#,
    );
    aws.fails(
        &["iam", "create-policy", "--policy-name", "bad", "--policy-document", "file://with-principal.json"],
        "MalformedPolicyDocument",
        "CreatePolicy",
        "Policy document should not specify a principal.",
    );
    let local = aws.ok(&["iam", "list-policies", "--scope", "Local"]);
    assert_eq!(local["Policies"], json!([]));
}

/// Seed 004, run verbatim: a trail sends its events to the `CloudTrail/logs` group in
/// stream `ACCOUNT_CloudTrail_REGION` as the role CloudTrail assumes; a role that lacks
/// logs:PutLogEvents shows in GetTrailStatus, and delivery resumes once it is fixed.
#[test]
fn seed_004_trail_events_reach_the_log_group() {
    let server = common::Server::start_with(&["--trail-delivery-secs", "1"]);
    let aws = Aws::new(&server);
    std::fs::create_dir_all(server.data_dir.join("buckets").join("seed-004-bucket")).unwrap();
    aws.ok(&["cloudtrail", "create-trail", "--name", "trail_name", "--s3-bucket-name", "seed-004-bucket"]);
    aws.ok(&["cloudtrail", "start-logging", "--name", "trail_name"]);

    // Creating a log group, and retrieving its ARN.
    aws.ok(&["logs", "create-log-group", "--log-group-name", "CloudTrail/logs"]);
    let groups = aws.ok(&["logs", "describe-log-groups"]);
    let group = groups["logGroups"].as_array().unwrap().iter().find(|g| g["logGroupName"] == "CloudTrail/logs").unwrap();
    let group_arn = group["arn"].as_str().unwrap().to_owned();

    // Creating the role, and its policy, from the seed's files.
    aws.write("assume_role_policy_document.json", common::SEED_004_TRUST);
    let role = aws.ok(&[
        "iam",
        "create-role",
        "--role-name",
        "role_name",
        "--assume-role-policy-document",
        "file://assume_role_policy_document.json",
    ]);
    let role_arn = role["Role"]["Arn"].as_str().unwrap().to_owned();
    let resource = format!("arn:aws:logs:us-east-1:{0}:log-group:CloudTrail/logs:log-stream:{0}_CloudTrail_us-east-1*", common::ACCOUNT);
    let policy = format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{ "Sid": "AWSCloudTrailCreateLogStream2014110", "Effect": "Allow", "Action": ["logs:CreateLogStream"], "Resource": ["{resource}"] }},
    {{ "Sid": "AWSCloudTrailPutLogEvents20141101", "Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": ["{resource}"] }}
  ]
}}"#
    );
    aws.write("role-policy-document.json", &policy);
    let put_policy = [
        "iam",
        "put-role-policy",
        "--role-name",
        "role_name",
        "--policy-name",
        "cloudtrail-policy",
        "--policy-document",
        "file://role-policy-document.json",
    ];
    aws.ok(&put_policy);

    // Updating the trail.
    aws.ok(&[
        "cloudtrail",
        "update-trail",
        "--name",
        "trail_name",
        "--cloud-watch-logs-log-group-arn",
        &group_arn,
        "--cloud-watch-logs-role-arn",
        &role_arn,
    ]);
    aws.ok(&["logs", "create-log-group", "--log-group-name", "watched/one"]);

    let stream = format!("{}_CloudTrail_us-east-1", common::ACCOUNT);
    let records = |aws: &Aws| -> Vec<Value> {
        let out =
            aws.run(&["logs", "get-log-events", "--log-group-name", "CloudTrail/logs", "--log-stream-name", &stream, "--start-from-head"]);
        if !out.status.success() {
            return Vec::new();
        }
        let page: Value = serde_json::from_slice(&out.stdout).unwrap();
        page["events"].as_array().unwrap().iter().map(|e| serde_json::from_str(e["message"].as_str().unwrap()).unwrap()).collect()
    };
    let wait_for = |aws: &Aws, group: &str| {
        for _ in 0..60 {
            let found = records(aws);
            if found.iter().any(|r| r["requestParameters"]["logGroupName"] == group) {
                return found;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        panic!("the CreateLogGroup of {group} never reached CloudTrail/logs");
    };
    // The trail's LatestCloudWatchLogsDeliveryError, once it shows (empty if it never does).
    let delivery_error = |aws: &Aws| -> String {
        for _ in 0..60 {
            let status = aws.ok(&["cloudtrail", "get-trail-status", "--name", "trail_name"]);
            if let Some(e) = status["LatestCloudWatchLogsDeliveryError"].as_str() {
                return e.to_owned();
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        String::new()
    };
    let found = wait_for(&aws, "watched/one");
    let event = found.iter().find(|r| r["requestParameters"]["logGroupName"] == "watched/one").unwrap();
    assert_eq!(event["eventVersion"], "1.09", "each log event is one record, without the Records wrapper");
    assert_eq!(event["userIdentity"]["type"], "Root");

    // CloudTrail's own AssumeRole is recorded as an AWS service's call.
    let assumed = aws.ok(&["cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=AssumeRole"]);
    let record: Value = serde_json::from_str(assumed["Events"][0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["userIdentity"], json!({"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}));
    assert_eq!(record["sourceIPAddress"], "cloudtrail.amazonaws.com");
    // And the stream it created, as the role session invoked by CloudTrail.
    let created = aws.ok(&["cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=CreateLogStream"]);
    let record: Value = serde_json::from_str(created["Events"][0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["userIdentity"]["type"], "AssumedRole");
    assert_eq!(record["userIdentity"]["invokedBy"], "cloudtrail.amazonaws.com");
    assert_eq!(record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"], role_arn.as_str());

    // Without logs:PutLogEvents the error shows in the trail's status...
    aws.ok(&["iam", "delete-role-policy", "--role-name", "role_name", "--policy-name", "cloudtrail-policy"]);
    aws.ok(&["logs", "create-log-group", "--log-group-name", "watched/two"]);
    let error = delivery_error(&aws);
    assert!(error.contains("AccessDeniedException") && error.contains("logs:PutLogEvents"), "{error}");
    // ...and delivery resumes, with nothing lost, once the role is fixed.
    aws.ok(&put_policy);
    let found = wait_for(&aws, "watched/two");
    let status = aws.ok(&["cloudtrail", "get-trail-status", "--name", "trail_name"]);
    assert!(status.get("LatestCloudWatchLogsDeliveryError").is_none(), "{status}");
    assert!(status["LatestCloudWatchLogsDeliveryTime"].is_number() || status["LatestCloudWatchLogsDeliveryTime"].is_string());
    let ids: Vec<&str> = found.iter().map(|r| r["eventID"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "no event sent twice");

    // A missing log group shows too, and delivery resumes once it is back.
    aws.ok(&["logs", "delete-log-group", "--log-group-name", "CloudTrail/logs"]);
    let error = delivery_error(&aws);
    assert!(error.starts_with("ResourceNotFoundException"), "{error}");
    aws.ok(&["logs", "create-log-group", "--log-group-name", "CloudTrail/logs"]);
    aws.ok(&["logs", "create-log-group", "--log-group-name", "watched/three"]);
    wait_for(&aws, "watched/three");
}

/// Decompressed JSON of every gzip object under `dir` whose path contains `part`.
fn gz_documents(dir: &Path, part: &str) -> Vec<(PathBuf, Value)> {
    use std::io::Read;
    let mut out = Vec::new();
    for path in common::files_under(dir) {
        // `NAME#N` is object_store's file being written: not an object yet.
        if !path.to_string_lossy().contains(part) || path.to_string_lossy().contains('#') {
            continue;
        }
        let mut text = String::new();
        if flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).is_ok()
            && let Ok(doc) = serde_json::from_str(&text)
        {
            out.push((path, doc));
        }
    }
    out
}

/// Log file integrity validation end to end: trailwatch writes signed, chained digests;
/// the stock `aws cloudtrail validate-logs` (reading the bucket through trailwatch's S3
/// API) and `trailwatch validate-logs` both pass them, and both catch a log file that
/// was altered or deleted; `trailwatch validate-logs` also catches one that was added.
#[test]
fn validate_logs_proves_and_catches_tampering() {
    let server = common::Server::start_with(&["--trail-delivery-secs", "1", "--trail-digest-secs", "2"]);
    let aws = Aws::new(&server);
    aws.ok(&["s3api", "create-bucket", "--bucket", "validated-bucket"]);
    let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(2);
    let start = start.format(&time::format_description::well_known::Rfc3339).unwrap();
    let trail = aws.ok(&[
        "cloudtrail",
        "create-trail",
        "--name",
        "validated",
        "--s3-bucket-name",
        "validated-bucket",
        "--enable-log-file-validation",
    ]);
    let arn = trail["TrailARN"].as_str().unwrap().to_owned();
    aws.ok(&["cloudtrail", "start-logging", "--name", "validated"]);
    for i in 0..3 {
        aws.ok(&["logs", "create-log-group", "--log-group-name", &format!("validated/{i}")]);
    }
    let bucket = server.data_dir.join("buckets").join("validated-bucket");
    // Wait for two digests, the newer listing at least two log files.
    let mut listed: Vec<String> = Vec::new();
    for _ in 0..120 {
        let digests = gz_documents(&bucket, "CloudTrail-Digest");
        let files: Vec<String> = digests
            .iter()
            .flat_map(|(_, d)| d["logFiles"].as_array().cloned().unwrap_or_default())
            .map(|f| f["s3Object"].as_str().unwrap().to_owned())
            .collect();
        if digests.len() >= 2 && files.len() >= 2 {
            listed = files;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(listed.len() >= 2, "digests listing log files were not written");
    // Log file names have minute resolution: let the digests cover more than a minute,
    // so a file added inside their period can be told from one a later digest will list.
    std::thread::sleep(std::time::Duration::from_secs(70));
    let key_of = |k: &str| bucket.join(k);
    let s3_env = [("AWS_ENDPOINT_URL_S3", server.endpoint.as_str())];
    let stock = ["cloudtrail", "validate-logs", "--trail-arn", &arn, "--start-time", &start, "--verbose"];

    // Untouched, both validators pass.
    let out = aws.run_with_env(&stock, &s3_env);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "aws cloudtrail validate-logs failed:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("digest files valid") && text.contains("log files valid"), "{text}");
    assert!(!text.contains("INVALID"), "{text}");
    let ours = || {
        Command::new(common::Server::binary())
            .args(["validate-logs", "--trail-arn", &arn, "--start-time", &start, "--verbose", "--endpoint-url", &server.endpoint])
            // Digests here cover seconds, not hours: nothing recent is left to a later digest.
            .args(["--added-file-slack-secs", "0"])
            .env("AWS_ACCESS_KEY_ID", common::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", common::SECRET_KEY)
            .env("AWS_REGION", common::REGION)
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .unwrap()
    };
    let out = ours();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "trailwatch validate-logs failed:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("INVALID"), "{text}");

    // Alter one listed log file, delete another, add one no digest lists.
    let altered = &listed[0];
    let deleted = &listed[1];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, br#"{"Records":[]}"#).unwrap();
    std::fs::write(key_of(altered), gz.finish().unwrap()).unwrap();
    std::fs::remove_file(key_of(deleted)).unwrap();
    // (A file named like a log file of the last minutes could still be listed by the
    // next digest, so the added one is a stray object in the same day folder.)
    let added = altered.rsplit_once('/').map(|(folder, _)| format!("{folder}/extra-records.json.gz")).unwrap();
    std::fs::copy(key_of(altered), key_of(&added)).unwrap();

    let out = aws.run_with_env(&stock, &s3_env);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("Log file\ts3://validated-bucket/{altered}\tINVALID: hash value doesn't match")), "{text}");
    assert!(text.contains(&format!("Log file\ts3://validated-bucket/{deleted}\tINVALID: not found")), "{text}");
    let out = ours();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(altered) && text.contains(deleted) && text.contains(&added), "{text}");
}
