//! Cluster mode: several `trailwatch serve` nodes sharing one PostgreSQL catalog and one
//! S3-compatible bucket (Garage), as DESIGN.md's scale-out decides. Clients write
//! through every node, a node is killed with SIGKILL mid-load, and every acknowledged
//! event must be readable from the survivors; background jobs move to a survivor.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, MetricTransformation};
use common::Server;
use common::cluster::Postgres;

const GROUP: &str = "/aws/rds/cluster/prod/audit";

/// Starts `n` nodes of one fresh deployment; returns them and the catalog URL.
fn start_cluster(tag: &str, n: usize) -> (Vec<Server>, String) {
    let flags = common::fresh_cluster_flags(tag);
    let url = flags[flags.iter().position(|f| f == "--catalog").unwrap() + 1].clone();
    ((0..n).map(|_| Server::start_node(&flags)).collect(), url)
}

/// One batch of uniquely named events through one node; the IDs it acknowledged.
async fn put_batch(logs: &aws_sdk_cloudwatchlogs::Client, stream: &str, ids: &[String]) -> Result<(), String> {
    let now = common::now_millis();
    let events: Vec<InputLogEvent> = ids
        .iter()
        .map(|id| InputLogEvent::builder().timestamp(now).message(format!("QUERY,app,'SELECT 1' id={id}")).build().unwrap())
        .collect();
    let out = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert!(out.rejected_log_events_info().is_none(), "events were rejected: {:?}", out.rejected_log_events_info());
    Ok(())
}

/// The `id=` of each message, counted.
fn ids_in(messages: impl Iterator<Item = String>) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for m in messages {
        let id = m.rsplit_once("id=").map(|(_, id)| id.to_owned()).unwrap_or_else(|| panic!("foreign message {m:?}"));
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_keep_every_acknowledged_event_when_one_is_killed() {
    let (mut nodes, _) = start_cluster("three", 3);
    let clients: Vec<_> = nodes.iter().map(|n| n.logs()).collect();
    clients[0].create_log_group().log_group_name(GROUP).send().await.unwrap();
    for (i, c) in clients.iter().enumerate() {
        c.create_log_stream().log_group_name(GROUP).log_stream_name(format!("node-{i}")).send().await.unwrap();
    }

    // Reads are consistent: what one node acknowledged, every other node returns at once.
    for i in 0..12 {
        let id = format!("consistent-{i}");
        put_batch(&clients[i % 3], "node-0", std::slice::from_ref(&id)).await.unwrap();
        for other in [(i + 1) % 3, (i + 2) % 3] {
            let got = common::read_stream(&clients[other], GROUP, "node-0").await;
            assert!(
                got.iter().any(|(_, m)| m.ends_with(&format!("id={id}"))),
                "node {other} does not return {id} acknowledged by node {}",
                i % 3
            );
            let found =
                clients[other].filter_log_events().log_group_name(GROUP).filter_pattern(format!("\"id={id}\"")).send().await.unwrap();
            assert_eq!(found.events().len(), 1, "FilterLogEvents on node {other} does not find {id}");
        }
    }

    // Load through all three nodes; node 2 is killed in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..6 {
        let (logs, stop) = (clients[w % 3].clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut failures = 0;
            for b in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let ids: Vec<String> = (0..25).map(|e| format!("w{w}-b{b}-e{e}")).collect();
                match put_batch(&logs, &format!("node-{}", w % 3), &ids).await {
                    Ok(()) => acked.extend(ids),
                    Err(_) => {
                        failures += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            (w, acked, failures)
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    nodes[2].kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = BTreeSet::new();
    for writer in writers {
        let (w, ids, failures) = writer.await.unwrap();
        if w % 3 != 2 {
            assert_eq!(failures, 0, "writer {w} through a live node failed {failures} times");
            assert!(!ids.is_empty(), "writer {w} wrote nothing");
        }
        acked.extend(ids);
    }
    assert!(acked.len() > 500, "too little load to prove anything: {} events", acked.len());

    // Every acknowledged event, exactly once, from each survivor, by both read paths.
    for (survivor, client) in clients.iter().enumerate().take(2) {
        let all = common::filter_group(client, GROUP).await;
        let seen = ids_in(all.into_iter().map(|(_, _, m)| m));
        let doubled: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).take(5).collect();
        assert!(doubled.is_empty(), "node {survivor} returns events twice: {doubled:?}");
        let missing: Vec<_> = acked.iter().filter(|id| !seen.contains_key(*id)).take(5).collect();
        assert!(missing.is_empty(), "node {survivor} lost acknowledged events, e.g. {missing:?}");
        let mut streamed = BTreeMap::new();
        for s in 0..3 {
            let events = common::read_stream(client, GROUP, &format!("node-{s}")).await;
            streamed.extend(ids_in(events.into_iter().map(|(_, m)| m)));
        }
        assert!(acked.iter().all(|id| streamed.contains_key(id)), "GetLogEvents on node {survivor} misses acknowledged events");
    }
}

/// The node (by index) whose process holds `job`'s lease, from the catalog.
fn lease_holder(url: &str, nodes: &[Server], job: &str) -> Option<usize> {
    let holder = Postgres::shared().psql(url, &format!("SELECT holder FROM leases WHERE job = '{job}'"));
    let pid: u32 = holder.trim().rsplit('-').nth(1)?.parse().ok()?;
    nodes.iter().position(|n| n.is_running() && n.pid() == pid)
}

/// The Sum of a metric over the last hour, as GetMetricStatistics reports it.
async fn metric_sum(cw: &aws_sdk_cloudwatch::Client, namespace: &str, name: &str) -> f64 {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::Statistic;
    let now = common::now_millis() / 1000;
    let out = cw
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(name)
        .start_time(DateTime::from_secs(now - 3600))
        .end_time(DateTime::from_secs(now + 60))
        .period(3600)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap();
    out.datapoints().iter().filter_map(|d| d.sum()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn background_jobs_move_to_a_survivor() {
    let (mut nodes, url) = start_cluster("jobs", 2);
    let logs: Vec<_> = nodes.iter().map(|n| n.logs()).collect();
    common::create_group(&logs[0], GROUP, &["db-1"]).await;
    logs[1]
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name("drop-table")
        .filter_pattern("\"DROP TABLE\"")
        .metric_transformations(
            MetricTransformation::builder().metric_name("DropTables").metric_namespace("Audit").metric_value("1").build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    let drops = |n: usize, from: usize| (from..from + n).map(|i| format!("QUERY,admin,'DROP TABLE t{i}' id=d{i}")).collect::<Vec<_>>();
    let put = |logs: aws_sdk_cloudwatchlogs::Client, messages: Vec<String>| async move {
        let now = common::now_millis();
        let events: Vec<(i64, String)> = messages.into_iter().map(|m| (now, m)).collect();
        common::put_events(&logs, GROUP, "db-1", &events).await;
    };
    put(logs[0].clone(), drops(5, 0)).await;
    put(logs[1].clone(), drops(5, 5)).await;

    let holder = common::poll("a node to hold the log filters' lease", 30, || async { lease_holder(&url, &nodes, "log-filters") }).await;
    let cw: Vec<_> = nodes.iter().map(|n| aws_sdk_cloudwatch::Client::new(&n.sdk_config())).collect();
    common::poll("the metric filter to count 10 drops", 60, || async {
        (metric_sum(&cw[holder], "Audit", "DropTables").await == 10.0).then_some(())
    })
    .await;

    // Kill the node applying filters; the survivor takes its lease and counts what follows.
    nodes[holder].kill();
    let survivor = 1 - holder;
    put(logs[survivor].clone(), drops(7, 10)).await;
    let took = common::poll("the survivor to take the log filters' lease", 90, || async {
        (lease_holder(&url, &nodes, "log-filters") == Some(survivor)).then_some(())
    });
    took.await;
    common::poll("the survivor's filter to count the 7 new drops", 60, || async {
        let sum = metric_sum(&cw[survivor], "Audit", "DropTables").await;
        assert!(sum <= 17.0, "events were counted twice: {sum}");
        (sum == 17.0).then_some(())
    })
    .await;
    for job in ["maintenance", "alarms", "rds-supervisor"] {
        common::poll(&format!("the survivor to hold {job}"), 90, || async {
            (lease_holder(&url, &nodes, job) == Some(survivor)).then_some(())
        })
        .await;
    }
}

/// Runs `trailwatch migrate` with these arguments; panics with its output on failure.
fn migrate(args: &[String]) -> String {
    let out = std::process::Command::new(Server::binary()).arg("migrate").args(args).output().expect("run trailwatch migrate");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "trailwatch migrate {args:?} failed:\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_moves_an_embedded_deployment_into_a_cluster_and_back() {
    // An embedded deployment with events, an IAM user and a saved query.
    let mut embedded = Server::start_node(&[]);
    let logs = embedded.logs();
    common::create_group(&logs, GROUP, &["db-1", "db-2"]).await;
    let now = common::now_millis();
    let events: Vec<(i64, String)> = (0..300).map(|i| (now + i, format!("QUERY,app,'SELECT {i}' id=m{i}"))).collect();
    common::put_events(&logs, GROUP, "db-1", &events[..150]).await;
    common::put_events(&logs, GROUP, "db-2", &events[150..]).await;
    embedded.iam().create_user().user_name("auditor").send().await.unwrap();
    let before = common::filter_group(&logs, GROUP).await;
    assert_eq!(before.len(), 300);
    embedded.stop();

    // Into PostgreSQL and Garage; a cluster node then serves the same deployment.
    let flags = common::fresh_cluster_flags("migrate");
    let value = |name: &str| flags[flags.iter().position(|f| f == name).unwrap() + 1].clone();
    let mut to_cluster = vec!["--from-data-dir".to_owned(), embedded.data_dir.display().to_string()];
    for (ours, theirs) in [
        ("--catalog", "--to-catalog"),
        ("--objects", "--to-objects"),
        ("--objects-endpoint", "--objects-endpoint"),
        ("--objects-region", "--objects-region"),
        ("--objects-access-key-id", "--objects-access-key-id"),
        ("--objects-secret-access-key", "--objects-secret-access-key"),
    ] {
        to_cluster.extend([theirs.to_owned(), value(ours)]);
    }
    let mut with_key = to_cluster.clone();
    with_key.extend(["--to-data-dir".to_owned(), common::fresh_dir("migrated").display().to_string()]);
    let report = migrate(&with_key);
    assert!(report.contains("counts verified"), "{report}");
    // The cluster's master key must be the embedded one: start the node with it.
    let key = std::fs::read_to_string(embedded.data_dir.join("master.key")).unwrap();
    let mut node_flags: Vec<String> = flags.iter().take_while(|f| *f != "--master-key").cloned().collect();
    node_flags.extend(["--master-key".to_owned(), key.trim().to_owned()]);
    let mut node = Server::start_node(&node_flags);
    let after = common::filter_group(&node.logs(), GROUP).await;
    assert_eq!(after, before, "the cluster returns other events than the embedded deployment held");
    node.iam().get_user().user_name("auditor").send().await.expect("the IAM user moved");
    // A second migration into the same (now filled) target is refused.
    let again = std::process::Command::new(Server::binary()).arg("migrate").args(&with_key).output().unwrap();
    assert!(!again.status.success(), "migrating into a filled target must fail");
    node.stop();

    // And back into a fresh embedded data directory.
    let back_dir = common::fresh_dir("back");
    let _ = std::fs::remove_dir_all(&back_dir);
    let mut to_embedded = vec![
        "--from-data-dir".to_owned(),
        common::fresh_dir("cluster-side").display().to_string(),
        "--master-key".to_owned(),
        key.trim().to_owned(),
        "--to-data-dir".to_owned(),
        back_dir.display().to_string(),
    ];
    for (ours, theirs) in [
        ("--catalog", "--from-catalog"),
        ("--objects", "--from-objects"),
        ("--objects-endpoint", "--objects-endpoint"),
        ("--objects-region", "--objects-region"),
        ("--objects-access-key-id", "--objects-access-key-id"),
        ("--objects-secret-access-key", "--objects-secret-access-key"),
    ] {
        to_embedded.extend([theirs.to_owned(), value(ours)]);
    }
    migrate(&to_embedded);
    let back = Server::start_in(back_dir);
    assert_eq!(common::filter_group(&back.logs(), GROUP).await, before, "the embedded copy differs");
    back.iam().get_user().user_name("auditor").send().await.expect("the IAM user came back");
}

/// GetQueryResults through `logs` until the query ends; its status and rows.
async fn query_outcome(logs: &aws_sdk_cloudwatchlogs::Client, id: &str) -> (String, Vec<BTreeMap<String, String>>) {
    common::poll("the query to end", 60, || async {
        let out = logs.get_query_results().query_id(id).send().await.unwrap();
        let status = out.status().map(|s| s.as_str().to_owned()).unwrap_or_default();
        let rows = out
            .results()
            .iter()
            .map(|row| row.iter().map(|f| (f.field().unwrap_or_default().to_owned(), f.value().unwrap_or_default().to_owned())).collect())
            .collect();
        (status != "Running" && status != "Scheduled").then_some((status, rows))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn insights_queries_are_answered_by_every_node() {
    let (nodes, url) = start_cluster("insights", 2);
    let logs: Vec<_> = nodes.iter().map(|n| n.logs()).collect();
    common::create_group(&logs[0], GROUP, &["db-1"]).await;
    let ids: Vec<String> = (0..25).map(|i| format!("q{i}")).collect();
    put_batch(&logs[1], "db-1", &ids).await.unwrap();

    // Started on one node, answered and listed by the other.
    let now = common::now_millis() / 1000;
    let started = logs[0]
        .start_query()
        .log_group_name(GROUP)
        .start_time(now - 600)
        .end_time(now + 60)
        .query_string("filter @message like /SELECT/ | stats count(*) as n")
        .send()
        .await
        .unwrap();
    let id = started.query_id().unwrap().to_owned();
    let (status, rows) = query_outcome(&logs[1], &id).await;
    assert_eq!(status, "Complete");
    assert_eq!(rows, vec![BTreeMap::from([("n".to_owned(), "25".to_owned())])]);
    let listed = logs[1].describe_queries().send().await.unwrap();
    let info = listed.queries().iter().find(|q| q.query_id() == Some(id.as_str())).expect("the other node lists the query");
    assert_eq!(info.status().map(|s| s.as_str()), Some("Complete"));
    assert_eq!(info.log_group_name(), Some(GROUP));
    // A finished query cannot be stopped, from either node.
    for l in &logs {
        assert!(!l.stop_query().query_id(&id).send().await.unwrap().success());
    }

    // What a killed node leaves behind: a Running query whose lease has expired. Any
    // node reports it Failed instead of Running for ever.
    let orphan = "0f0f0f0f-dead-4ead-8ead-0f0f0f0f0f0f";
    let created = common::now_millis() - 120_000;
    let info = format!(
        r#"{{"queryId":"{orphan}","queryString":"fields @message","queryLanguage":"CWLI","createTime":{created},"logGroupName":"{GROUP}"}}"#
    );
    Postgres::shared().psql(
        &url,
        &format!(
            "INSERT INTO insights_queries (query_id, account_id, region, info, status, created_ms) \
             VALUES ('{orphan}', '{}', '{}', '{info}', 'Running', {created}); \
             INSERT INTO leases (job, holder, expires_ms) VALUES ('insights/{orphan}', 'gone-1-00', {})",
            common::ACCOUNT,
            common::REGION,
            created + 30_000
        ),
    );
    let (status, rows) = query_outcome(&logs[1], orphan).await;
    assert_eq!((status.as_str(), rows.len()), ("Failed", 0));
    assert!(!logs[0].stop_query().query_id(orphan).send().await.unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn iam_writes_on_different_nodes_see_each_other() {
    use aws_sdk_iam::error::ProvideErrorMetadata;
    let (nodes, _) = start_cluster("iam", 2);
    let iam: Vec<_> = nodes.iter().map(|n| n.iam()).collect();
    // The same user created through both nodes at once: exactly one wins.
    for i in 0..8 {
        let name = format!("racer-{i}");
        let (a, b) = tokio::join!(iam[0].create_user().user_name(&name).send(), iam[1].create_user().user_name(&name).send());
        let codes: Vec<Option<String>> =
            [a.map(|_| ()), b.map(|_| ())].into_iter().map(|r| r.err().and_then(|e| e.code().map(str::to_owned))).collect();
        assert_eq!(codes.iter().filter(|c| c.is_none()).count(), 1, "{name}: {codes:?}");
        assert!(codes.contains(&Some("EntityAlreadyExists".to_owned())), "{name}: {codes:?}");
    }
    // A user created through one node is at once there for a write through the other.
    iam[0].create_user().user_name("auditor").send().await.unwrap();
    let key = iam[1].create_access_key().user_name("auditor").send().await.unwrap();
    assert_eq!(key.access_key().unwrap().user_name(), "auditor");
    let users = iam[0].list_users().send().await.unwrap();
    assert_eq!(users.users().len(), 9);
}
