//! Matching must not allocate: it runs once per stored event on every FilterLogEvents.
//! Checked for every form on its common paths: terms, regexes, space-delimited patterns
//! (matching or not), and JSON patterns on plain text, on JSON lacking the compared keys,
//! on broken JSON and on the matching event (no JSON escapes in the compared values).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use query::FilterPattern;

/// Counts allocations made by the current thread only, so the test harness's other
/// threads cannot disturb the count.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, i.e. from the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Matches every pattern against every message twice and returns the allocations and
/// hits of the second round. The first round is a warm-up: the regex crate builds a
/// per-thread search cache on first use, once, not per event.
fn count_second_round(patterns: &[&str], messages: &[&[u8]]) -> (usize, usize) {
    let patterns: Vec<FilterPattern> = patterns.iter().map(|text| FilterPattern::parse(text).unwrap()).collect();
    let round = || {
        let mut hits = 0;
        for pattern in &patterns {
            for message in messages {
                hits += usize::from(pattern.matches(std::hint::black_box(message)));
            }
        }
        hits
    };
    round();
    let before = allocations();
    let hits = round();
    (allocations() - before, hits)
}

#[test]
fn matching_does_not_allocate() {
    let patterns = ["", "ERROR", "\"INTERNAL SERVER ERROR\" -DEBUG", "?FAILED_CONNECT ?DISCONNECT", "admin shop QUERY -SELECT", "\"café\""];
    let messages: [&[u8]; 4] = [
        b"20261121 11:45:01,ip-10-0-0-12,admin,10.0.0.5,1234,5678,QUERY,shop,'SELECT 1',0",
        b"[ERROR 500] INTERNAL SERVER ERROR",
        "un café".as_bytes(),
        b"",
    ];
    let (allocated, hits) = count_second_round(&patterns, &messages);
    assert_eq!(allocated, 0, "matching allocated");
    // Guards against the loop being vacuous: these patterns do match some messages.
    assert!(hits >= 6, "only {hits} matches");
}

const APACHE: &[u8] = br#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
const CLOUDTRAIL: &[u8] = br#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"alice"},"eventTime":"2026-11-21T11:45:01Z","eventSource":"rds.amazonaws.com","eventName":"CreateDBInstance","sourceIPAddress":"10.0.0.5","requestParameters":{"dBInstanceIdentifier":"shop","allocatedStorage":20},"responseElements":null,"readOnly":false,"resources":[{"ARN":"arn:aws:rds:eu-west-1:123456789012:db:shop"}]}"#;

#[test]
fn regex_matching_does_not_allocate() {
    let patterns = ["%AUTHORIZED%", r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", "%^[hc]at%"];
    let messages: [&[u8]; 3] = [b"[ERROR 401] UNAUTHORIZED REQUEST", APACHE, b"nothing here"];
    let (allocated, hits) = count_second_round(&patterns, &messages);
    assert_eq!(allocated, 0, "regex matching allocated");
    assert_eq!(hits, 2);
}

#[test]
fn space_delimited_matching_does_not_allocate() {
    let patterns = [
        "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes > 1000]",
        "[..., status_code = 5*, bytes]",
        "[ip, user, ..., status_code != 200, bytes]",
        "[..., request = %GET%, ...]",
        "[w1 = ERROR || w1 = WARN, w2]",
        "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000, bytes]",
    ];
    let messages: [&[u8]; 4] = [APACHE, b"ERROR 09/25/2014 12:00:02 Failed to process request", b"", CLOUDTRAIL];
    let (allocated, hits) = count_second_round(&patterns, &messages);
    assert_eq!(allocated, 0, "space-delimited matching allocated");
    assert!(hits >= 4, "only {hits} matches");
}

#[test]
fn json_matching_does_not_allocate() {
    let patterns = [
        "{ $.eventName = \"CreateDBInstance\" }",
        "{ $.eventName = Create* && $.requestParameters.allocatedStorage >= 20 }",
        "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS }",
        "{ $.missing = 1 || $.resources[0].ARN = \"*:db:shop\" }",
        "{ $.responseElements IS NULL && $.readOnly IS FALSE }",
        "{ $.resources[*].ARN = %rds% }",
        "{ $.eventName = \"CreateDBInstance\" }",
    ];
    // Plain text, JSON without the compared keys, the matching event, and broken JSON.
    let messages: [&[u8]; 5] = [APACHE, br#"{"level":"info","msg":"started"}"#, CLOUDTRAIL, b"{\"eventName\": \"CreateDBInstance\"", b""];
    let (allocated, hits) = count_second_round(&patterns, &messages);
    assert_eq!(allocated, 0, "JSON matching allocated");
    assert!(hits >= 5, "only {hits} matches");
}

#[test]
fn counter_sees_allocations() {
    // Proves the allocator is installed, so the test above can fail.
    let before = allocations();
    let boxed = std::hint::black_box(Box::new(7_u64));
    assert!(allocations() > before);
    drop(boxed);
}
