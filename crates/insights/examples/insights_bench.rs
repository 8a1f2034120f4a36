//! Times two Logs Insights queries over N generated Aurora MySQL audit records streamed in
//! batches, as the logs service streams a group's events.
//!
//! `cargo run --release -p insights --example insights_bench -- [events] [batch size]`
//! (defaults: 10,000,000 events in batches of 8,192).

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use futures::StreamExt;
use insights::{GroupEvents, Language, base_schema, compile, execute};

const START_MICROS: i64 = 1_653_004_800_000_000;
const USERS: [&str; 4] = ["admin", "app", "report", "rdsadmin"];
const OPERATIONS: [&str; 6] = ["QUERY", "QUERY", "CONNECT", "DISCONNECT", "READ", "WRITE"];
const STATEMENTS: [&str; 6] = [
    "SELECT * FROM orders WHERE id = 42",
    "INSERT INTO orders (id, note) VALUES (42, \\'a,b\\')",
    "UPDATE accounts SET balance = balance - 10 WHERE id = 7",
    "SELECT count(*) FROM customers",
    "DELETE FROM sessions WHERE expires < now()",
    "DROP TABLE tmp_orders",
];

/// Audit record `i`: about 2,000 a second, with a DROP TABLE now and then.
fn line(i: u64, out: &mut String) -> i64 {
    use std::fmt::Write;
    let micros = START_MICROS + (i as i64) * 500;
    let hash = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    let operation = OPERATIONS[(hash % 6) as usize];
    let statement = if hash.is_multiple_of(997) { STATEMENTS[5] } else { STATEMENTS[(hash / 7 % 5) as usize] };
    out.clear();
    let _ = write!(
        out,
        "{micros},db-instance-1,{},10.0.{}.{},{},{i},{operation},shop,",
        USERS[(hash / 3 % 4) as usize],
        hash % 4,
        hash % 250,
        hash % 64
    );
    match operation {
        "QUERY" => {
            let _ = write!(out, "'{statement}',0");
        }
        "READ" | "WRITE" => out.push_str("orders,0"),
        _ => out.push_str(",0"),
    }
    micros / 1000
}

/// Events `first..first + rows` as one base batch; returns it and its message bytes.
fn make_batch(first: u64, rows: u64) -> (RecordBatch, usize) {
    let mut text = String::new();
    let mut times = Vec::with_capacity(rows as usize);
    let mut messages = Vec::with_capacity(rows as usize);
    for i in first..first + rows {
        times.push(line(i, &mut text));
        messages.push(text.clone());
    }
    let bytes = messages.iter().map(String::len).sum();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(times.clone())),
        Arc::new(Int64Array::from(times)),
        Arc::new(StringArray::from(vec!["db-instance-1.audit.log"; rows as usize])),
        Arc::new(StringArray::from(messages)),
    ];
    (RecordBatch::try_new(base_schema(), columns).expect("batch"), bytes)
}

/// The events prepared in memory beforehand, so the timing is the query's alone.
fn prepare(events: u64, batch_size: u64) -> (Vec<RecordBatch>, usize) {
    let mut batches = Vec::new();
    let mut bytes = 0;
    let mut first = 0;
    while first < events {
        let rows = batch_size.min(events - first);
        let (batch, size) = make_batch(first, rows);
        batches.push(batch);
        bytes += size;
        first += rows;
    }
    (batches, bytes)
}

fn group(batches: &[RecordBatch]) -> GroupEvents {
    let batches: Vec<_> = batches.iter().cloned().map(Ok).collect();
    GroupEvents {
        log: "123456789012:/aws/rds/cluster/db/audit".to_string(),
        name: "/aws/rds/cluster/db/audit".to_string(),
        batches: futures::stream::iter(batches).boxed(),
    }
}

async fn time_query(text: &str, batches: &[RecordBatch], events: u64) {
    let query = compile(text, Language::Cwli).expect("query compiles");
    let started = Instant::now();
    let output = execute(&query, vec![group(batches)], 10_000).await.expect("query runs");
    let seconds = started.elapsed().as_secs_f64();
    println!("{text}");
    println!(
        "  {seconds:.3} s, {:.0} events/s, {} rows, matched {}, scanned {} events / {} bytes",
        events as f64 / seconds,
        output.results.len(),
        output.records_matched,
        output.records_scanned,
        output.bytes_scanned
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let events: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let batch_size: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(8_192);
    let started = Instant::now();
    let (batches, bytes) = prepare(events, batch_size);
    println!("prepared {events} events ({:.2} GB of messages) in {:.1} s", bytes as f64 / 1e9, started.elapsed().as_secs_f64());
    time_query("stats count(*) by operation, bin(5m)", &batches, events).await;
    time_query("filter object like /DROP TABLE/ | sort @timestamp desc | limit 20", &batches, events).await;
}
