//! The crash test: concurrent writers while the server is SIGKILLed again and again.
//!
//! Each client writes numbered events to its own stream in sequential batches and records
//! which batches were acknowledged. A batch whose request failed or went unanswered is
//! unacknowledged: the client never sends it again, and sends its next batch (with new
//! numbers) only once the server that may have received it is dead and a new one runs.
//! Afterwards every acknowledged event must be readable, in order, exactly once; an
//! unacknowledged batch must be there entirely or not at all; nothing may appear twice.
//!
//! Set `TRAILWATCH_CRASH_SEED` to replay the kill timings and batch shapes of a run.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_smithy_types::error::display::DisplayErrorContext;
use common::Server;
use tokio::sync::watch;

const CLIENTS: usize = 4;
const ROUNDS: u64 = 5;
const GROUP: &str = "/crash/writers";
/// Longest a client waits for an answer before it counts the batch as unanswered.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A small deterministic generator (xorshift64*), so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn seed() -> u64 {
    std::env::var("TRAILWATCH_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| common::now_millis() as u64)
}

fn stream(client: usize) -> String {
    format!("writer-{client}")
}

/// Event `i` of batch `batch`: the text says whose and which event it is.
fn message(client: usize, batch: u64, i: usize, pad: usize) -> String {
    format!("c{client}-b{batch}-e{i}-{}", "p".repeat(pad))
}

/// Most events in one batch.
const MAX_EVENTS: usize = 400;

/// Batches never overlap in time; inside one, up to 8 events share a timestamp, so
/// their order rests on the sequence numbers the store assigns.
fn timestamp(base: i64, batch: u64, i: usize) -> i64 {
    base + batch as i64 * (MAX_EVENTS as i64 / 8 + 1) + (i / 8) as i64
}

#[derive(Debug, Clone)]
enum Outcome {
    Acknowledged,
    /// The request failed without an answer (connection refused or reset, timeout).
    Unanswered(String),
    /// The server answered with an error.
    Refused(String),
}

#[derive(Debug, Clone)]
struct Batch {
    number: u64,
    events: usize,
    pad: usize,
    /// Servers started before the request was sent (0 = the first).
    epoch: u64,
    outcome: Outcome,
}

/// One writer: sequential batches until told to stop.
async fn writer(
    client: usize,
    logs: aws_sdk_cloudwatchlogs::Client,
    base: i64,
    mut epoch: watch::Receiver<u64>,
    stop: Arc<AtomicBool>,
    acks: Arc<AtomicU64>,
    seed: u64,
) -> Vec<Batch> {
    let mut rng = Rng::new(seed ^ (client as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut batches = Vec::new();
    for number in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let sent_in = *epoch.borrow_and_update();
        // Mostly small batches, now and then a large one (a longer write to crash in).
        let (events, pad) = if number % 16 == 15 {
            (rng.range(200, MAX_EVENTS as u64) as usize, 2000)
        } else {
            (rng.range(1, 32) as usize, rng.range(0, 300) as usize)
        };
        let batch: Vec<InputLogEvent> = (0..events)
            .map(|i| {
                InputLogEvent::builder().timestamp(timestamp(base, number, i)).message(message(client, number, i, pad)).build().unwrap()
            })
            .collect();
        let request = logs.put_log_events().log_group_name(GROUP).log_stream_name(stream(client)).set_log_events(Some(batch)).send();
        let outcome = match tokio::time::timeout(ANSWER_TIMEOUT, request).await {
            Ok(Ok(out)) => {
                assert!(out.rejected_log_events_info().is_none(), "batch {number} of client {client} partly rejected");
                acks.fetch_add(1, Ordering::SeqCst);
                Outcome::Acknowledged
            }
            Ok(Err(e)) if e.as_service_error().is_some() => {
                Outcome::Refused(format!("{}: {}", e.code().unwrap_or("?"), e.message().unwrap_or("")))
            }
            Ok(Err(e)) => Outcome::Unanswered(DisplayErrorContext(&e).to_string()),
            Err(_) => Outcome::Unanswered("no answer in time".to_owned()),
        };
        let failed = !matches!(outcome, Outcome::Acknowledged);
        batches.push(Batch { number, events, pad, epoch: sent_in, outcome });
        if failed {
            // The batch may still be stored by the server that got it: write on only
            // once that server is gone and a new one runs (or the test ends).
            let _ = epoch.wait_for(|e| *e > sent_in).await;
        }
    }
    batches
}

/// What one stream holds, checked against what its writer recorded.
struct Tally {
    acknowledged: usize,
    unacknowledged: usize,
    unacknowledged_stored: usize,
    events: usize,
}

async fn check_stream(logs: &aws_sdk_cloudwatchlogs::Client, client: usize, base: i64, batches: &[Batch]) -> (Tally, Vec<(i64, String)>) {
    let events = common::read_stream(logs, GROUP, &stream(client)).await;
    let mut seen: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    let mut last: Option<(u64, usize)> = None;
    for (ts, m) in &events {
        let parts: Vec<&str> = m.splitn(4, '-').collect();
        let [c, b, i, _] = parts.as_slice() else { panic!("client {client}: unexpected message {m:?}") };
        assert_eq!(*c, format!("c{client}"), "an event of another writer in stream {}: {m:?}", stream(client));
        let b: u64 = b.strip_prefix('b').and_then(|b| b.parse().ok()).unwrap_or_else(|| panic!("bad message {m:?}"));
        let i: usize = i.strip_prefix('e').and_then(|i| i.parse().ok()).unwrap_or_else(|| panic!("bad message {m:?}"));
        let key = (b, i);
        if let Some(prev) = last {
            assert!(key > prev, "client {client}: event {key:?} follows {prev:?} (out of order or repeated)");
        }
        last = Some(key);
        assert_eq!(*ts, timestamp(base, b, i), "client {client}: wrong timestamp for {key:?}");
        let sent = batches.get(b as usize).unwrap_or_else(|| panic!("client {client}: batch {b} was never sent"));
        assert_eq!(m, &message(client, b, i, sent.pad), "client {client}: event {key:?} altered");
        seen.entry(b).or_default().push(i);
    }
    let mut tally = Tally { acknowledged: 0, unacknowledged: 0, unacknowledged_stored: 0, events: events.len() };
    for batch in batches {
        let whole: Vec<usize> = (0..batch.events).collect();
        match (&batch.outcome, seen.get(&batch.number)) {
            (Outcome::Acknowledged, Some(got)) => {
                assert_eq!(got, &whole, "client {client}: acknowledged batch {} is incomplete", batch.number);
                tally.acknowledged += 1;
            }
            (Outcome::Acknowledged, None) => {
                panic!("client {client}: acknowledged batch {} ({} events, epoch {}) was lost", batch.number, batch.events, batch.epoch)
            }
            (_, Some(got)) => {
                assert_eq!(got, &whole, "client {client}: unacknowledged batch {} is stored partly", batch.number);
                tally.unacknowledged += 1;
                tally.unacknowledged_stored += 1;
            }
            (_, None) => tally.unacknowledged += 1,
        }
    }
    (tally, events)
}

/// How the server is brought down each round.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Down {
    /// SIGKILL: nothing gets flushed.
    Kill,
    /// SIGTERM: in-flight requests finish, then a clean exit.
    Term,
}

async fn crash_rounds(down: Down, extra: &[&str]) {
    let seed = seed();
    eprintln!("crash test seed {seed} (TRAILWATCH_CRASH_SEED={seed} replays it), {down:?}, flags {extra:?}");
    let mut server = Server::start_with(extra);
    let logs = server.logs();
    let writers: Vec<String> = (0..CLIENTS).map(stream).collect();
    common::create_group(&logs, GROUP, &writers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let base = common::now_millis() - 3_600_000;

    let (epoch_tx, epoch_rx) = watch::channel(0u64);
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> =
        (0..CLIENTS).map(|k| tokio::spawn(writer(k, server.logs(), base, epoch_rx.clone(), stop.clone(), acks.clone(), seed))).collect();

    let controller_stop = stop.clone();
    let controller = tokio::task::spawn_blocking(move || {
        let mut rng = Rng::new(seed);
        for round in 0..ROUNDS {
            let acks_before = acks.load(Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(rng.range(200, 800)));
            // Every server must take writes before it is killed (bounded wait).
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while acks.load(Ordering::SeqCst) == acks_before {
                assert!(std::time::Instant::now() < deadline, "server {round} acknowledged no write in 30 s");
                std::thread::sleep(Duration::from_millis(10));
            }
            match down {
                Down::Kill => server.kill(),
                Down::Term => {
                    let status = server.stop().expect("the server was running");
                    assert!(status.success(), "SIGTERM during writes must end the server cleanly, got {status:?}");
                }
            }
            server.restart();
            epoch_tx.send_modify(|e| *e += 1);
        }
        // A last stretch on the final server, then the writers stop.
        std::thread::sleep(Duration::from_millis(500));
        controller_stop.store(true, Ordering::SeqCst);
        epoch_tx.send_modify(|e| *e += 1);
        server
    });
    let mut server = controller.await.expect("the kill/restart loop ran");
    let mut records = Vec::new();
    for t in tasks {
        records.push(t.await.expect("writer task"));
    }

    // Everything acknowledged so far survives one more crash.
    server.kill();
    server.restart();
    let logs = server.logs();

    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for b in records.iter().flatten() {
        match &b.outcome {
            Outcome::Acknowledged => {}
            Outcome::Refused(why) => panic!("the live server refused batch {} (epoch {}): {why}", b.number, b.epoch),
            Outcome::Unanswered(why) => *reasons.entry(why.chars().take(120).collect()).or_default() += 1,
        }
    }
    eprintln!("unanswered requests by error: {reasons:?}");

    let mut streams = BTreeMap::new();
    let (mut acked, mut unacked, mut unacked_stored, mut events) = (0, 0, 0, 0);
    for (k, batches) in records.iter().enumerate() {
        let (tally, read) = check_stream(&logs, k, base, batches).await;
        acked += tally.acknowledged;
        unacked += tally.unacknowledged;
        unacked_stored += tally.unacknowledged_stored;
        events += tally.events;
        streams.insert(stream(k), read);
    }
    eprintln!(
        "{ROUNDS} rounds of {down:?}: {acked} batches acknowledged, {unacked} unacknowledged ({unacked_stored} of them stored whole), {events} events read back"
    );
    assert!(unacked > 0, "the crashes never interrupted a write");

    // The group-wide reader sees the same events.
    let all = common::filter_group(&logs, GROUP).await;
    assert_eq!(all.len(), events, "FilterLogEvents over the group");
    for (name, read) in &streams {
        let mine: Vec<(i64, String)> = all.iter().filter(|(s, ..)| s == name).map(|(_, ts, m)| (*ts, m.clone())).collect();
        assert!(mine == *read, "FilterLogEvents differs from GetLogEvents for {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_repeated_sigkill() {
    crash_rounds(Down::Kill, &[]).await;
}

/// The same while maintenance compacts and removes segments underneath. (A grace of 0
/// would also let the startup orphan sweep race the first writes after each restart,
/// a separate, reported bug.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_repeated_sigkill_during_compaction() {
    crash_rounds(Down::Kill, &["--compact-after-secs", "0", "--maintenance-interval-secs", "1", "--segment-grace-secs", "1"]).await;
}

/// SIGTERM while writes are in flight: a clean exit that loses nothing acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_repeated_sigterm() {
    crash_rounds(Down::Term, &[]).await;
}
