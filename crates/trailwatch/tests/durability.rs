//! Durability of what trailwatch acknowledges, through the real binary: restarts after
//! SIGTERM and SIGKILL, no plaintext at rest, compaction, retention, deletion and the
//! metrics that show it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use common::{Server, create_group, filter_group, metric, poll, put_events, read_stream, stored_bytes};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// An event as written: timestamp, ingestion order, message.
type Written = (i64, u64, String);

/// Writes in submission order, and what each stream must read back.
#[derive(Default)]
struct Workload {
    /// The events of each (group, stream), in ingestion order.
    written: BTreeMap<(String, String), Vec<Written>>,
    order: u64,
}

impl Workload {
    async fn put(&mut self, logs: &Client, group: &str, stream: &str, events: Vec<(i64, String)>) {
        put_events(logs, group, stream, &events).await;
        let entry = self.written.entry((group.to_owned(), stream.to_owned())).or_default();
        for (ts, m) in events {
            entry.push((ts, self.order, m));
            self.order += 1;
        }
    }

    /// A stream's events as GetLogEvents must return them: by timestamp, ties in ingestion order.
    fn expected(&self, group: &str, stream: &str) -> Vec<(i64, String)> {
        let mut v = self.written.get(&(group.to_owned(), stream.to_owned())).cloned().unwrap_or_default();
        v.sort_by_key(|(ts, order, _)| (*ts, *order));
        v.into_iter().map(|(ts, _, m)| (ts, m)).collect()
    }

    fn groups(&self) -> BTreeSet<String> {
        self.written.keys().map(|(g, _)| g.clone()).collect()
    }

    /// Every stream reads back exactly as written (in order, exactly once), and
    /// FilterLogEvents over each group returns the same events.
    async fn check(&self, logs: &Client) {
        for (group, stream) in self.written.keys() {
            let got = read_stream(logs, group, stream).await;
            let want = self.expected(group, stream);
            assert_eq!(got.len(), want.len(), "{group}/{stream}: event count");
            assert_eq!(got, want, "{group}/{stream}: events differ");
        }
        for group in self.groups() {
            let all = filter_group(logs, &group).await;
            assert!(all.windows(2).all(|w| w[0].1 <= w[1].1), "{group}: FilterLogEvents is not in timestamp order");
            let total: usize = self.written.iter().filter(|((g, _), _)| *g == group).map(|(_, v)| v.len()).sum();
            assert_eq!(all.len(), total, "{group}: FilterLogEvents count");
            for ((g, stream), _) in self.written.iter().filter(|((g, _), _)| *g == group) {
                let mine: Vec<(i64, String)> = all.iter().filter(|(s, ..)| s == stream).map(|(_, ts, m)| (*ts, m.clone())).collect();
                assert_eq!(mine, self.expected(g, stream), "{g}/{stream}: FilterLogEvents differs");
            }
        }
    }
}

/// A batch whose events pair up on timestamps (ties inside the batch) and interleave in
/// time with the other batches of the stream (`slot` shifts them by a millisecond).
fn batch(base: i64, tag: &str, slot: i64, n: usize) -> Vec<(i64, String)> {
    (0..n)
        .map(|i| {
            let ts = base + (i as i64 / 2) * 10 + slot;
            (ts, format!("{tag} slot={slot} i={i} {}", "x".repeat(i % 7 * 13)))
        })
        .collect()
}

/// Three groups of two streams, four interleaving batches per stream.
async fn write_workload(logs: &Client, w: &mut Workload, base: i64) {
    for g in 0..3 {
        let group = format!("/durable/group-{g}");
        create_group(logs, &group, &["alpha", "beta"]).await;
    }
    for slot in 0..4 {
        for g in 0..3 {
            for stream in ["alpha", "beta"] {
                let group = format!("/durable/group-{g}");
                w.put(logs, &group, stream, batch(base, &format!("{group}/{stream}"), slot, 25)).await;
            }
        }
    }
}

fn segment_files(server: &Server) -> BTreeSet<PathBuf> {
    common::files_under(&server.data_dir.join("segments")).into_iter().collect()
}

fn compactions(server: &Server) -> f64 {
    metric(&server.metrics(), "trailwatch_compactions_total", &[]).unwrap_or(0.0)
}

async fn wait_for_compactions(server: &Server, at_least: f64) {
    poll("compactions", 30, || async { (compactions(server) >= at_least).then_some(()) }).await;
}

/// Waits until no ingest segment is left (all compacted, then removed after the grace).
async fn wait_no_ingest_segments(server: &Server) {
    let dir = server.data_dir.join("segments").join("ingest");
    poll("ingest segments to be compacted away", 30, || async { common::files_under(&dir).is_empty().then_some(()) }).await;
}

// ---------------------------------------------------------------------------------------
// (a) Restarts
// ---------------------------------------------------------------------------------------

async fn restart_keeps_every_event(sigkill: bool) {
    let mut server = Server::start();
    let base = common::now_millis() - HOUR_MS;
    let mut w = Workload::default();
    write_workload(&server.logs(), &mut w, base).await;
    w.check(&server.logs()).await;

    if sigkill {
        server.kill();
    } else {
        let status = server.stop().expect("the server was running");
        assert!(status.success(), "SIGTERM must end the server cleanly, got {status:?}");
    }
    server.restart();
    let logs = server.logs();
    w.check(&logs).await;

    // Writes after the restart sort after the earlier events they tie with.
    for g in 0..3 {
        let group = format!("/durable/group-{g}");
        w.put(&logs, &group, "alpha", batch(base, &format!("{group}/alpha after restart"), 0, 10)).await;
    }
    w.check(&logs).await;

    // And a second restart neither loses nor repeats anything.
    server.kill();
    server.restart();
    w.check(&server.logs()).await;
}

#[tokio::test]
async fn sigterm_restart_keeps_every_event_once_in_order() {
    restart_keeps_every_event(false).await;
}

#[tokio::test]
async fn sigkill_after_acknowledgement_keeps_every_event_once_in_order() {
    restart_keeps_every_event(true).await;
}

// ---------------------------------------------------------------------------------------
// (b) Nothing in clear at rest
// ---------------------------------------------------------------------------------------

const MARKER: &str = "TWMARKER-plaintext-9f3a71c2";

/// Checks the data directory: no marker, no root secret, no unencrypted zstd frame or
/// Parquet file among the segments, and secret files readable by their owner only.
fn check_at_rest(server: &Server) {
    let files = common::files_under(&server.data_dir);
    assert!(!files.is_empty());
    assert_eq!(common::files_containing(&server.data_dir, MARKER.as_bytes()), Vec::<PathBuf>::new(), "message text found at rest");
    assert_eq!(common::files_containing(&server.data_dir, common::SECRET_KEY.as_bytes()), Vec::<PathBuf>::new(), "root secret in clear");
    let secret_hex = hex_encode(common::SECRET_KEY.as_bytes());
    assert_eq!(common::files_containing(&server.data_dir, secret_hex.as_bytes()), Vec::<PathBuf>::new(), "root secret in hex");
    // Compression alone could hide the marker; a sealed segment has no format magic.
    let segments = segment_files(server);
    assert!(!segments.is_empty(), "events were stored in segments");
    for magic in [&b"\x28\xb5\x2f\xfd"[..], b"PAR1"] {
        let plain: Vec<_> = segments.iter().filter(|p| std::fs::read(p).unwrap().windows(magic.len()).any(|w| w == magic)).collect();
        assert!(plain.is_empty(), "unencrypted {magic:?} data in {plain:?}");
    }
    // The root secret lives sealed in the catalog (checked above); the key beside it is
    // readable by its owner only.
    let mode = std::fs::metadata(server.data_dir.join("master.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "master.key has mode {:o}", mode & 0o777);
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn no_plaintext_at_rest_before_and_after_compaction() {
    let mut server = Server::start();
    let logs = server.logs();
    let mut w = Workload::default();
    create_group(&logs, "/secure/audit", &["api", "db"]).await;
    let now = common::now_millis();
    for b in 0..5 {
        for stream in ["api", "db"] {
            let events = (0..40)
                .map(|i| {
                    (now - 60_000 + b * 100 + i, format!("{MARKER} user=alice action=DeleteBucket bucket=payroll-{b}-{i} stream={stream}"))
                })
                .collect();
            w.put(&logs, "/secure/audit", stream, events).await;
        }
    }
    w.put(&logs, "/secure/audit", "api", vec![(now, format!("{MARKER} {}", "large payload ".repeat(4000)))]).await;
    w.check(&logs).await;

    let status = server.stop().unwrap();
    assert!(status.success(), "{status:?}");
    check_at_rest(&server);

    // Compacted (Parquet) segments are sealed too.
    server.restart_with(&["--compact-after-secs", "0", "--maintenance-interval-secs", "1"]);
    wait_for_compactions(&server, 1.0).await;
    w.check(&server.logs()).await;
    let status = server.stop().unwrap();
    assert!(status.success(), "{status:?}");
    let compacted = common::files_under(&server.data_dir.join("segments").join("compacted"));
    assert!(!compacted.is_empty(), "a compacted segment was written");
    check_at_rest(&server);

    server.restart();
    w.check(&server.logs()).await;
}

// ---------------------------------------------------------------------------------------
// (c) Compaction
// ---------------------------------------------------------------------------------------

fn audit_line(n: usize, user: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/{user}","accountId":"111122223333","userName":"{user}"}},"eventTime":"2025-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","requestParameters":{{"bucketName":"audit-logs","key":"reports/{n}.csv"}},"responseElements":null,"requestID":"REQ{n:08}","eventID":"evt-{n:08}","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333"}}"#
    )
}

#[tokio::test]
async fn compaction_keeps_every_event_and_shrinks_storage() {
    // No maintenance round during the writes, so storedBytes is the ingest blocks' size.
    let mut server = Server::start_with(&["--maintenance-interval-secs", "3600"]);
    let logs = server.logs();
    let mut w = Workload::default();
    let base = common::now_millis() - HOUR_MS;
    create_group(&logs, "/compact/a", &["s1", "s2", "s3"]).await;
    create_group(&logs, "/compact/b", &["s1"]).await;
    let mut raw = 0usize;
    let mut n = 0;
    for b in 0..12i64 {
        for (group, stream) in [("/compact/a", "s1"), ("/compact/a", "s2"), ("/compact/a", "s3"), ("/compact/b", "s1")] {
            // Late and overlapping batches: each batch spans the same minute, shifted.
            let events: Vec<(i64, String)> = (0..50)
                .map(|i| {
                    n += 1;
                    (base + i * 1000 + (b * 37) % 1000, audit_line(n, if i % 3 == 0 { "alice" } else { "bob" }))
                })
                .collect();
            if group == "/compact/a" {
                raw += events.iter().map(|(_, m)| m.len()).sum::<usize>();
            }
            w.put(&logs, group, stream, events).await;
        }
    }
    w.check(&logs).await;
    let before = stored_bytes(&logs, "/compact/a").await;
    assert!(before > 0);

    let status = server.stop().unwrap();
    assert!(status.success(), "{status:?}");
    server.restart_with(&["--compact-after-secs", "0", "--maintenance-interval-secs", "1", "--segment-grace-secs", "0"]);
    // A group's first compaction takes all its ingest blocks; one per group.
    wait_for_compactions(&server, 2.0).await;
    wait_no_ingest_segments(&server).await;
    let logs = server.logs();
    w.check(&logs).await;
    let after = stored_bytes(&logs, "/compact/a").await;
    eprintln!("raw message bytes {raw}, stored before compaction {before}, after {after}");
    assert!(after > 0, "storedBytes of a group with events");
    assert!(after < before, "compaction must shrink storage: {before} -> {after}");
    assert!((after as usize) * 10 < raw, "repetitive audit lines must compress well: {after} stored for {raw} raw bytes");

    // New writes after compaction merge with the compacted events.
    w.put(&logs, "/compact/a", "s2", batch(base, "after compaction", 3, 20)).await;
    w.check(&logs).await;
    server.kill();
    server.restart();
    w.check(&server.logs()).await;
}

// ---------------------------------------------------------------------------------------
// (d) Retention
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn retention_hides_then_removes_expired_events() {
    let mut server = Server::start_with(&["--maintenance-interval-secs", "1", "--segment-grace-secs", "0", "--compact-after-secs", "3600"]);
    let logs = server.logs();
    create_group(&logs, "/retention", &["s", "other"]).await;
    let now = common::now_millis();

    let before_old = segment_files(&server);
    let old: Vec<(i64, String)> = (0..30).map(|i| (now - 3 * DAY_MS + i * 1000, format!("three days old {i}"))).collect();
    put_events(&logs, "/retention", "s", &old).await;
    let old_files: BTreeSet<PathBuf> = segment_files(&server).difference(&before_old).cloned().collect();
    assert!(!old_files.is_empty(), "the old events went to a segment");
    let old_bytes = stored_bytes(&logs, "/retention").await;

    let recent: Vec<(i64, String)> = (0..10).map(|i| (now - 60_000 + i * 1000, format!("recent {i}"))).collect();
    put_events(&logs, "/retention", "s", &recent).await;
    put_events(&logs, "/retention", "other", &recent[..3]).await;
    let all_bytes = stored_bytes(&logs, "/retention").await;
    let recent_files: BTreeSet<PathBuf> = segment_files(&server).difference(&old_files).cloned().collect();
    assert!(!recent_files.is_empty());

    let mut everything = old.clone();
    everything.extend(recent.iter().cloned());
    assert_eq!(read_stream(&logs, "/retention", "s").await, everything, "before retention everything is readable");
    assert_eq!(filter_group(&logs, "/retention").await.len(), everything.len() + 3);

    logs.put_retention_policy().log_group_name("/retention").retention_in_days(1).send().await.unwrap();
    // At once: expired events are no longer returned.
    assert_eq!(read_stream(&logs, "/retention", "s").await, recent);
    let filtered = filter_group(&logs, "/retention").await;
    assert!(filtered.iter().all(|(_, ts, _)| *ts >= now - DAY_MS), "FilterLogEvents returned an expired event");
    assert_eq!(filtered.len(), recent.len() + 3);

    // Then maintenance removes their segment and their bytes.
    poll("the expired segment to be removed", 30, || async {
        let files = segment_files(&server);
        old_files.iter().all(|f| !files.contains(f)).then_some(())
    })
    .await;
    let after = stored_bytes(&logs, "/retention").await;
    if compactions(&server) == 0.0 {
        // Retention dropped the expired block alone.
        let files = segment_files(&server);
        assert!(recent_files.iter().all(|f| files.contains(f)), "segments of live events must stay");
        assert_eq!(after, all_bytes - old_bytes, "storedBytes drops by the expired block's bytes");
    } else {
        // The retention policy landed mid-round and the group was compacted instead,
        // which rewrites the live events too.
        assert!(0 < after && after < all_bytes, "storedBytes {after} after retention, {all_bytes} before");
    }
    assert_eq!(read_stream(&logs, "/retention", "s").await, recent);

    // Gone for good: not back after lifting retention, nor after a restart.
    logs.delete_retention_policy().log_group_name("/retention").send().await.unwrap();
    assert_eq!(read_stream(&logs, "/retention", "s").await, recent);
    server.kill();
    server.restart();
    let logs = server.logs();
    assert_eq!(read_stream(&logs, "/retention", "s").await, recent);
    assert_eq!(filter_group(&logs, "/retention").await.len(), recent.len() + 3);
}

#[tokio::test]
async fn retention_rewrites_a_block_straddling_the_cutoff() {
    let mut server = Server::start_with(&["--maintenance-interval-secs", "1", "--segment-grace-secs", "0", "--compact-after-secs", "3600"]);
    let logs = server.logs();
    create_group(&logs, "/straddle", &["s"]).await;
    let now = common::now_millis();
    // One batch, so one block: half of it older than a day, half younger.
    let events: Vec<(i64, String)> = (0..20).map(|i| (now - 25 * HOUR_MS + i * 6 * 60_000, format!("straddling {i}"))).collect();
    put_events(&logs, "/straddle", "s", &events).await;
    let ingest_files = segment_files(&server);
    let young: Vec<(i64, String)> = events.iter().filter(|(ts, _)| *ts >= now - DAY_MS + 60_000).cloned().collect();
    assert!(!young.is_empty() && young.len() < events.len());

    logs.put_retention_policy().log_group_name("/straddle").retention_in_days(1).send().await.unwrap();
    let visible = read_stream(&logs, "/straddle", "s").await;
    assert!(visible.iter().all(|(ts, _)| *ts >= now - DAY_MS), "an expired event is visible");
    assert!(visible.ends_with(&young), "events within retention stay visible");

    // Maintenance rewrites the block without its expired events and drops the old object.
    wait_for_compactions(&server, 1.0).await;
    poll("the straddling segment to be replaced", 30, || async {
        let files = segment_files(&server);
        ingest_files.iter().all(|f| !files.contains(f)).then_some(())
    })
    .await;
    let kept = read_stream(&logs, "/straddle", "s").await;
    assert!(kept.ends_with(&young) && kept.iter().all(|(ts, _)| *ts >= now - DAY_MS - 60_000), "{kept:?}");
    // What is left on disk is the rewritten segment, and storedBytes counts just it.
    let files = segment_files(&server);
    assert_eq!(files.len(), 1, "only the rewritten segment remains: {files:?}");
    let on_disk = std::fs::metadata(files.first().unwrap()).unwrap().len() as i64;
    assert_eq!(stored_bytes(&logs, "/straddle").await, on_disk);

    // The expired events are gone from disk, so lifting retention does not bring them back.
    logs.delete_retention_policy().log_group_name("/straddle").send().await.unwrap();
    assert_eq!(read_stream(&logs, "/straddle", "s").await, kept);
    server.kill();
    server.restart();
    assert_eq!(read_stream(&server.logs(), "/straddle", "s").await, kept);
}

// ---------------------------------------------------------------------------------------
// (e) Deletion
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn deleted_log_group_is_removed_and_its_name_starts_empty() {
    let mut server = Server::start_with(&["--maintenance-interval-secs", "1", "--segment-grace-secs", "0", "--compact-after-secs", "3600"]);
    let logs = server.logs();
    let base = common::now_millis() - HOUR_MS;
    let mut kept = Workload::default();
    create_group(&logs, "/kept", &["s"]).await;
    create_group(&logs, "/doomed", &["s", "t"]).await;
    kept.put(&logs, "/kept", "s", batch(base, "kept", 0, 20)).await;

    let before = segment_files(&server);
    for slot in 0..3 {
        put_events(&logs, "/doomed", "s", &batch(base, "doomed s", slot, 20)).await;
        put_events(&logs, "/doomed", "t", &batch(base, "doomed t", slot, 20)).await;
    }
    let doomed_files: BTreeSet<PathBuf> = segment_files(&server).difference(&before).cloned().collect();
    kept.put(&logs, "/kept", "s", batch(base, "kept", 1, 20)).await;
    let kept_files: BTreeSet<PathBuf> = segment_files(&server).difference(&doomed_files).cloned().collect();
    assert!(doomed_files.len() >= 2);

    logs.delete_log_group().log_group_name("/doomed").send().await.unwrap();
    let err = logs.get_log_events().log_group_name("/doomed").log_stream_name("s").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));

    poll("the deleted group's segments to be removed", 30, || async {
        let files = segment_files(&server);
        doomed_files.iter().all(|f| !files.contains(f)).then_some(())
    })
    .await;
    let files = segment_files(&server);
    assert!(kept_files.iter().all(|f| files.contains(f)), "another group's segments must stay");
    kept.check(&logs).await;

    // A new group of the same name starts empty.
    create_group(&logs, "/doomed", &["s", "t"]).await;
    assert_eq!(stored_bytes(&logs, "/doomed").await, 0);
    assert!(read_stream(&logs, "/doomed", "s").await.is_empty());
    assert!(read_stream(&logs, "/doomed", "t").await.is_empty());
    assert!(filter_group(&logs, "/doomed").await.is_empty());
    server.kill();
    server.restart();
    let logs = server.logs();
    assert!(read_stream(&logs, "/doomed", "s").await.is_empty());
    assert!(filter_group(&logs, "/doomed").await.is_empty());
    kept.check(&logs).await;
}

#[tokio::test]
async fn deleted_log_stream_never_comes_back() {
    let mut server = Server::start_with(&["--compact-after-secs", "0", "--maintenance-interval-secs", "1", "--segment-grace-secs", "0"]);
    let logs = server.logs();
    let base = common::now_millis() - HOUR_MS;
    create_group(&logs, "/streams", &["a", "b"]).await;
    let mut b_only = Workload::default();
    for slot in 0..3 {
        put_events(&logs, "/streams", "a", &batch(base, "stream a", slot, 20)).await;
        b_only.put(&logs, "/streams", "b", batch(base, "stream b", slot, 20)).await;
    }
    // Let a and b share a compacted segment before a is deleted.
    wait_for_compactions(&server, 1.0).await;
    wait_no_ingest_segments(&server).await;
    let compacted_so_far = compactions(&server);
    let bytes_before = stored_bytes(&logs, "/streams").await;

    logs.delete_log_stream().log_group_name("/streams").log_stream_name("a").send().await.unwrap();
    let err = logs.get_log_events().log_group_name("/streams").log_stream_name("a").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    b_only.check(&logs).await;
    assert!(stored_bytes(&logs, "/streams").await < bytes_before, "a deleted stream's bytes leave storedBytes");

    // Recreated, the stream is empty, and holds only what is written to it now.
    logs.create_log_stream().log_group_name("/streams").log_stream_name("a").send().await.unwrap();
    assert!(read_stream(&logs, "/streams", "a").await.is_empty());
    let mut expected = b_only;
    expected.put(&logs, "/streams", "a", batch(base, "new stream a", 0, 5)).await;
    expected.check(&logs).await;

    // Not after another compaction either, nor after a restart.
    wait_for_compactions(&server, compacted_so_far + 1.0).await;
    wait_no_ingest_segments(&server).await;
    expected.check(&logs).await;
    let status = server.stop().unwrap();
    assert!(status.success(), "{status:?}");
    server.restart();
    expected.check(&server.logs()).await;
}

// ---------------------------------------------------------------------------------------
// (f) Metrics
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn metrics_count_requests_latencies_and_ingest() {
    let server = Server::start();
    let logs = server.logs();
    create_group(&logs, "/metrics", &["s"]).await;
    let base = common::now_millis() - HOUR_MS;
    for slot in 0..3 {
        put_events(&logs, "/metrics", "s", &batch(base, "metrics", slot, 10)).await;
    }
    let dup = logs.create_log_group().log_group_name("/metrics").send().await.unwrap_err();
    assert_eq!(dup.code(), Some("ResourceAlreadyExistsException"));
    server.sts().get_caller_identity().send().await.unwrap();

    let text = server.metrics();
    let m = |name: &str, labels: &[(&str, &str)]| metric(&text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{text}"));
    let put = [("service", "logs"), ("operation", "PutLogEvents")];
    assert_eq!(m("trailwatch_requests_total", &[put[0], put[1], ("status", "200")]), 3.0);
    assert_eq!(m("trailwatch_requests_total", &[("operation", "CreateLogGroup"), ("status", "200")]), 1.0);
    assert_eq!(m("trailwatch_requests_total", &[("operation", "CreateLogGroup"), ("status", "400")]), 1.0);
    assert_eq!(m("trailwatch_requests_total", &[("service", "sts"), ("operation", "GetCallerIdentity"), ("status", "200")]), 1.0);
    assert_eq!(m("trailwatch_request_duration_seconds_bucket", &[put[0], put[1], ("le", "+Inf")]), 3.0);
    assert_eq!(m("trailwatch_request_duration_seconds_count", &put), 3.0);
    assert!(text.contains("trailwatch_request_duration_seconds_bucket{") && text.contains("le=\"0.005\""), "{text}");
    assert!(m("trailwatch_request_duration_seconds_sum", &put) > 0.0);
    assert_eq!(m("trailwatch_ingested_events_total", &[]), 30.0);
    let segments = m("trailwatch_segments_written_total", &[("kind", "ingest")]);
    assert!((1.0..=3.0).contains(&segments), "3 sequential batches make 1 to 3 ingest segments, not {segments}");
}
