//! Measures filter-pattern matching speed over ~100 MB (each) of generated audit-like
//! events: MariaDB server_audit lines (terms and regexes), CloudTrail JSON records (JSON
//! patterns) and Apache access-log lines (space-delimited patterns).
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

const EVENT_NAMES: [&str; 8] =
    ["GetObject", "PutObject", "DescribeInstances", "AssumeRole", "ListBuckets", "GetParameter", "ConsoleLogin", "Decrypt"];
const IDENTITY_TYPES: [&str; 3] = ["IAMUser", "AssumedRole", "AWSService"];
const ERRORS: [&str; 3] = ["AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"];

/// One CloudTrail record on one line, about 800 bytes, in CloudTrail's own key order.
fn cloudtrail_line(rng: &mut XorShift, serial: usize) -> String {
    // About 1 in 200 records is the rare CreateDBInstance the benchmark looks for.
    let event_name = if rng.below(200) == 0 { "CreateDBInstance" } else { EVENT_NAMES[rng.below(EVENT_NAMES.len())] };
    let identity = if rng.below(1000) == 0 { "Root" } else { IDENTITY_TYPES[rng.below(IDENTITY_TYPES.len())] };
    let error = if rng.below(20) == 0 {
        format!(r#""errorCode":"{}","errorMessage":"denied","#, ERRORS[rng.below(ERRORS.len())])
    } else {
        String::new()
    };
    let second = serial % 86_400;
    format!(
        concat!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"{identity}","principalId":"AIDA{id:012}","arn":"arn:aws:iam::123456789012:user/u{user}","#,
            r#""accountId":"123456789012","accessKeyId":"AKIA{id:016}","userName":"u{user}"}},"eventTime":"2026-11-21T{h:02}:{m:02}:{s:02}Z","#,
            r#""eventSource":"service.amazonaws.com","eventName":"{event_name}","awsRegion":"eu-west-1","sourceIPAddress":"{ip}","#,
            r#""userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",{error}"requestParameters":{{"bucketName":"logs-{user}","#,
            r#""key":"2026/11/21/object-{id}.json","allocatedStorage":{storage}}},"responseElements":null,"requestID":"{id:08x}-1f2e-4d3c-8b7a-{serial:012x}","#,
            r#""eventID":"{serial:08x}-aaaa-bbbb-cccc-{id:012x}","readOnly":{read_only},"resources":[{{"accountId":"123456789012","type":"AWS::S3::Object","#,
            r#""ARN":"arn:aws:s3:::logs-{user}/2026/11/21/object-{id}.json"}}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012"}}"#
        ),
        identity = identity,
        id = rng.below(1_000_000),
        user = rng.below(50),
        h = second / 3600,
        m = second / 60 % 60,
        s = second % 60,
        event_name = event_name,
        ip = HOSTS[rng.below(HOSTS.len())],
        error = error,
        storage = 20 * (1 + rng.below(10)),
        serial = serial,
        read_only = rng.below(2) == 0,
    )
}

const PATHS: [&str; 5] = ["/index.html", "/api/orders", "/static/app.js", "/admin/login", "/images/logo.png"];

/// One Apache combined-log line, about 200 bytes.
fn access_line(rng: &mut XorShift, serial: usize) -> String {
    let status = [200, 200, 200, 200, 200, 304, 404, 500][rng.below(8)];
    let second = serial % 86_400;
    format!(
        r#"{} - u{} [21/Nov/2026:{:02}:{:02}:{:02} +0000] "{} {}?id={} HTTP/1.1" {} {} "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0""#,
        HOSTS[rng.below(HOSTS.len())],
        rng.below(50),
        second / 3600,
        second / 60 % 60,
        second % 60,
        ["GET", "GET", "GET", "POST"][rng.below(4)],
        PATHS[rng.below(PATHS.len())],
        rng.below(100_000),
        status,
        rng.below(20_000),
    )
}

/// All messages in one buffer plus their bounds, so the timed loop touches no allocator.
fn build_corpus(target_bytes: usize, line: fn(&mut XorShift, usize) -> String) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut buffer = Vec::with_capacity(target_bytes + 512);
    let mut bounds = Vec::new();
    while buffer.len() < target_bytes {
        let start = buffer.len();
        buffer.extend_from_slice(line(&mut rng, bounds.len()).as_bytes());
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

/// Builds one corpus and prints a line per pattern.
fn run(title: &str, megabytes: usize, line: fn(&mut XorShift, usize) -> String, patterns: &[&str]) {
    let (buffer, bounds) = build_corpus(megabytes * 1_000_000, line);
    let mb = buffer.len() as f64 / 1e6;
    let sample = String::from_utf8_lossy(&buffer[bounds[0].0..bounds[0].1]);
    println!("\n{title}: {} events, {mb:.1} MB, e.g. {}", bounds.len(), sample.chars().take(110).collect::<String>());
    println!("{:<72} {:>9} {:>8} {:>10}", "pattern", "matches", "MB/s", "Mevents/s");
    for text in patterns {
        let pattern = FilterPattern::parse(text).expect("benchmark patterns are valid");
        let (hits, seconds) = measure(&pattern, &buffer, &bounds);
        let events = bounds.len() as f64 / seconds / 1e6;
        println!("{text:<72} {hits:>9} {:>8.0} {events:>10.2}", mb / seconds);
    }
}

fn main() {
    let megabytes: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    run(
        "MariaDB server_audit lines (terms, regex)",
        megabytes,
        audit_line,
        &[
            "admin",
            "\"DROP TABLE\"",
            "FAILED_CONNECT",
            "QUERY -SELECT",
            "?FAILED_CONNECT ?DISCONNECT",
            "orders \"WHERE id = 42\"",
            "admin shop QUERY -SELECT -UPDATE",
            "\"no such text anywhere\"",
            "%DROP TABLE tmp_import_[0-9]+%",
            "%^20261121 1[0-9]:[0-9]{2}:[0-9]{2},ip-10-0-0-12,report,%",
        ],
    );
    run(
        "CloudTrail JSON records (JSON patterns)",
        megabytes,
        cloudtrail_line,
        &[
            "CreateDBInstance",
            "{ $.eventName = \"CreateDBInstance\" }",
            "{ $.eventName = \"NoSuchEvent\" }",
            "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }",
            "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS }",
            "{ $.requestParameters.allocatedStorage > 180 && $.readOnly IS FALSE }",
            "{ $.resources[*].ARN = %logs-4[0-9]/% }",
            "{ $.recipientAccountId = 123456789012 }",
        ],
    );
    run(
        "Apache access-log lines (space-delimited patterns)",
        megabytes,
        access_line,
        &[
            "\"/admin/login\"",
            "[ip, identity, user, timestamp, request = *admin*, status_code = 5*, bytes > 1000, referer, agent]",
            "[..., status_code = 404, bytes, referer, agent]",
            "[ip = %^10\\.0\\.1\\.%, ...]",
            "[ip, identity, user = u7, ...]",
            "[ip, identity, user, timestamp, request, status_code != 200 && status_code != 304, bytes > 19000, ...]",
        ],
    );
}
