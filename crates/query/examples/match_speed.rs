//! Measures filter-pattern matching speed over ~100 MB of MariaDB server_audit lines.
//!
//! Run with: `cargo run --release -p query --example match_speed [megabytes]`

use std::hint::black_box;
use std::time::Instant;

use query::FilterPattern;

const USERS: [&str; 4] = ["admin", "app", "report", "backup"];
const HOSTS: [&str; 3] = ["10.0.0.5", "10.0.1.17", "192.168.4.20"];
const DATABASES: [&str; 3] = ["shop", "billing", "analytics"];

/// Cheap deterministic generator so every run measures the same bytes.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The operation and object (query text) fields of one record.
fn operation_and_object(rng: &mut XorShift) -> (&'static str, String) {
    let id = rng.below(100_000);
    match rng.below(100) {
        0..=59 => ("QUERY", format!("'SELECT * FROM orders WHERE id = {id}'")),
        60..=74 => ("QUERY", format!("'UPDATE orders SET status = \\'shipped\\' WHERE id = {id}'")),
        75..=84 => ("QUERY", format!("'INSERT INTO order_items (order_id, sku, qty) VALUES ({id}, \\'SKU-{id}\\', 1)'")),
        85..=89 => ("CONNECT", String::new()),
        90..=94 => ("DISCONNECT", String::new()),
        95..=97 => ("FAILED_CONNECT", String::new()),
        98 => ("QUERY", format!("'GRANT SELECT ON shop.* TO \\'u{id}\\'@\\'%\\''")),
        _ => ("QUERY", format!("'DROP TABLE tmp_import_{id}'")),
    }
}

/// One server_audit record in MariaDB's layout (see shared notes, db-audit.md).
fn audit_line(rng: &mut XorShift, serial: usize) -> String {
    let (operation, object) = operation_and_object(rng);
    let second = serial % 86_400;
    format!(
        "20261121 {:02}:{:02}:{:02},ip-10-0-0-12,{},{},{},{},{},{},{},{}",
        second / 3600,
        second / 60 % 60,
        second % 60,
        USERS[rng.below(USERS.len())],
        HOSTS[rng.below(HOSTS.len())],
        1000 + rng.below(500),
        serial,
        operation,
        DATABASES[rng.below(DATABASES.len())],
        object,
        if operation == "FAILED_CONNECT" { 1045 } else { 0 },
    )
}

/// All messages in one buffer plus their bounds, so the timed loop touches no allocator.
fn build_corpus(target_bytes: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut buffer = Vec::with_capacity(target_bytes + 512);
    let mut bounds = Vec::new();
    while buffer.len() < target_bytes {
        let start = buffer.len();
        buffer.extend_from_slice(audit_line(&mut rng, bounds.len()).as_bytes());
        bounds.push((start, buffer.len()));
    }
    (buffer, bounds)
}

/// Matches every message once per round and reports the best round.
fn measure(pattern: &FilterPattern, buffer: &[u8], bounds: &[(usize, usize)]) -> (usize, f64) {
    let mut best = f64::INFINITY;
    let mut hits = 0;
    for _ in 0..3 {
        let started = Instant::now();
        hits = bounds.iter().filter(|&&(start, end)| pattern.matches(black_box(&buffer[start..end]))).count();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (hits, best)
}

fn main() {
    let megabytes: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let (buffer, bounds) = build_corpus(megabytes * 1_000_000);
    let mb = buffer.len() as f64 / 1e6;
    println!("{} events, {mb:.1} MB, e.g. {}", bounds.len(), String::from_utf8_lossy(&buffer[bounds[0].0..bounds[0].1]));
    println!("{:<40} {:>9} {:>10} {:>12}", "pattern", "matches", "MB/s", "Mevents/s");
    for text in [
        "admin",
        "\"DROP TABLE\"",
        "FAILED_CONNECT",
        "QUERY -SELECT",
        "?FAILED_CONNECT ?DISCONNECT",
        "orders \"WHERE id = 42\"",
        "admin shop QUERY -SELECT -UPDATE",
        "\"no such text anywhere\"",
    ] {
        let pattern = FilterPattern::parse(text).expect("benchmark patterns are valid");
        let (hits, seconds) = measure(&pattern, &buffer, &bounds);
        let events = bounds.len() as f64 / seconds / 1e6;
        println!("{text:<40} {hits:>9} {:>10.0} {events:>12.1}", mb / seconds);
    }
}
