//! Helpers shared by the tests: in-memory log groups and a deterministic generator.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use futures::StreamExt;
use insights::{GroupEvents, Language, QueryOutput, base_schema, compile, execute};

/// The account of every test group.
pub const ACCOUNT: &str = "123456789012";

/// One event of a test group.
#[derive(Debug, Clone)]
pub struct Event {
    pub timestamp: i64,
    pub stream: String,
    pub message: String,
}

impl Event {
    pub fn new(timestamp: i64, stream: &str, message: impl Into<String>) -> Event {
        Event { timestamp, stream: stream.to_string(), message: message.into() }
    }
}

/// The events as one batch of the base schema (ingestion one second after the event).
pub fn batch(events: &[Event]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.timestamp))),
        Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.timestamp + 1000))),
        Arc::new(StringArray::from_iter_values(events.iter().map(|e| e.stream.as_str()))),
        Arc::new(StringArray::from_iter_values(events.iter().map(|e| e.message.as_str()))),
    ];
    RecordBatch::try_new(base_schema(), columns).unwrap()
}

/// A group named `name` holding `events` in batches of `batch_size`.
pub fn group(name: &str, events: &[Event], batch_size: usize) -> GroupEvents {
    let batches: Vec<_> = events.chunks(batch_size.max(1)).map(|chunk| Ok(batch(chunk))).collect();
    GroupEvents { log: format!("{ACCOUNT}:{name}"), name: name.to_string(), batches: futures::stream::iter(batches).boxed() }
}

/// Runs a CWLI query over one group of `events` (in batches of 97, so batches do not align
/// with anything) with StartQuery's default limit.
pub async fn run(query: &str, events: &[Event]) -> QueryOutput {
    run_groups(query, vec![group("test-group", events, 97)]).await
}

/// Runs a CWLI query over `groups`.
pub async fn run_groups(query: &str, groups: Vec<GroupEvents>) -> QueryOutput {
    let compiled = compile(query, Language::Cwli).unwrap_or_else(|e| panic!("{query}: {}", e.message()));
    execute(&compiled, groups, 10_000).await.unwrap_or_else(|e| panic!("{query}: {}", e.message()))
}

/// A row as a map from field to value.
pub fn map(row: &[(String, String)]) -> BTreeMap<String, String> {
    row.iter().cloned().collect()
}

/// The field names of a row, in order.
pub fn names(row: &[(String, String)]) -> Vec<&str> {
    row.iter().map(|(n, _)| n.as_str()).collect()
}

/// The value of `field` in `row`.
pub fn get<'a>(row: &'a [(String, String)], field: &str) -> Option<&'a str> {
    row.iter().find(|(n, _)| n == field).map(|(_, v)| v.as_str())
}

/// A small deterministic pseudo-random generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Epoch milliseconds of 2022-05-20 00:00:00 UTC, the start of the generated data.
pub const START: i64 = 1_653_004_800_000;

/// `YYYY-MM-DD HH:MM:SS.mmm` of epoch milliseconds, computed independently of the crate
/// (through the days since 2022-05-20, a day the tests know).
pub fn format_time(millis: i64) -> String {
    let days_since = (millis - START).div_euclid(86_400_000);
    let in_day = (millis - START).rem_euclid(86_400_000);
    // Only May and June 2022 occur in the tests.
    let (month, day) = if days_since < 12 { (5, 20 + days_since) } else { (6, days_since - 11) };
    format!("2022-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}", in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000)
}
