//! Queries over a long stream of batches produced lazily: nothing is gathered before the plan
//! pulls it.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{ACCOUNT, Event, START, batch, format_time};
use futures::StreamExt;
use insights::{GroupEvents, Language, compile, execute};

const BATCHES: usize = 1_000;
const ROWS: usize = 1_000;
const OPERATIONS: [&str; 4] = ["QUERY", "CONNECT", "READ", "WRITE"];

/// Event `i` of the stream: one every 100 ms, operations in turn.
fn event(i: usize) -> Event {
    let time = START + i as i64 * 100;
    let operation = OPERATIONS[i % OPERATIONS.len()];
    Event::new(time, "audit", format!("{}000,db1,admin,10.0.0.1,1,{i},{operation},shop,'SELECT {i}',0", time))
}

/// The stream of all events, made batch by batch as it is polled; `made` counts the batches made.
fn lazy_group(made: Arc<AtomicUsize>) -> GroupEvents {
    let batches = futures::stream::iter(0..BATCHES).map(move |b| {
        made.fetch_add(1, Ordering::Relaxed);
        let events: Vec<Event> = (b * ROWS..(b + 1) * ROWS).map(event).collect();
        Ok(batch(&events))
    });
    GroupEvents { log: format!("{ACCOUNT}:audit"), name: "audit".to_string(), batches: batches.boxed() }
}

#[tokio::test]
async fn stats_over_a_million_events_in_a_thousand_batches() {
    let made = Arc::new(AtomicUsize::new(0));
    let query = compile("stats count(*) as n by operation, bin(1h)", Language::Cwli).unwrap();
    let output = execute(&query, vec![lazy_group(made.clone())], 10_000).await.unwrap();
    assert_eq!(made.load(Ordering::Relaxed), BATCHES);
    let total = BATCHES * ROWS;
    assert_eq!(output.records_scanned, total as f64);
    assert_eq!(output.records_matched, total as f64);
    // One event each 100 ms: 36,000 an hour, spread evenly over the four operations.
    let hours = total.div_ceil(36_000);
    assert_eq!(output.results.len(), hours * OPERATIONS.len());
    let mut sorted_operations = OPERATIONS;
    sorted_operations.sort();
    for (i, row) in output.results.iter().enumerate() {
        let hour = hours - 1 - i / OPERATIONS.len();
        let in_hour = (total - hour * 36_000).min(36_000);
        assert_eq!(row[0].1, sorted_operations[i % OPERATIONS.len()]);
        assert_eq!(row[1].1, format_time(START + hour as i64 * 3_600_000));
        assert_eq!(row[2].1, (in_hour / OPERATIONS.len()).to_string());
    }
}

#[tokio::test]
async fn newest_matches_of_a_long_stream() {
    let made = Arc::new(AtomicUsize::new(0));
    let query =
        compile(r#"filter operation = "WRITE" and object like /SELECT 9/ | fields @timestamp, object | limit 3"#, Language::Cwli).unwrap();
    let output = execute(&query, vec![lazy_group(made)], 10_000).await.unwrap();
    let expected: Vec<usize> =
        (0..BATCHES * ROWS).rev().filter(|i| OPERATIONS[i % 4] == "WRITE" && format!("SELECT {i}").contains("SELECT 9")).take(3).collect();
    let got: Vec<String> = output.results.iter().map(|r| r[1].1.clone()).collect();
    assert_eq!(got, expected.iter().map(|i| format!("SELECT {i}")).collect::<Vec<_>>());
    assert_eq!(output.results[0][0].1, format_time(START + expected[0] as i64 * 100));
}
