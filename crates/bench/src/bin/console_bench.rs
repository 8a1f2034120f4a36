//! trailwatch-console-bench: how fast the web console's pages load on a stream of a
//! million events.
//!
//! It writes `--events` Aurora MySQL audit records (about 200 bytes each, 1 ms apart)
//! to one stream of a release server, then opens the console in headless Chromium
//! (Debian's, through chromedriver) and times full page loads, from navigation until
//! the page shows its data: the log groups, the streams of the group, the newest events
//! of the stream, one scroll up, a time range in the middle of the stream, a filter
//! pattern that matches 1 % of the events, one that matches none (so the whole stream
//! is scanned), and CloudTrail's event history. Each page is loaded `--runs` times;
//! the figures are the median and the slowest. The same pages are timed again after
//! compaction has rewritten the stream into Parquet.

#![allow(dead_code)]

#[path = "../audit.rs"]
mod audit;
#[path = "../client.rs"]
mod client;
#[path = "../machine.rs"]
mod machine;
#[path = "../server.rs"]
mod server;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use clap::Parser;
use testbed::browser::Browser;

use crate::audit::{AuditGen, RARE_USER};
use crate::client::{Creds, sdk_error};
use crate::machine::Machine;
use crate::server::ServerProcess;

const GROUP: &str = "/aws/rds/cluster/bench/audit";
const STREAM: &str = "bench-1";
/// Records per PutLogEvents (about 800 KB, under its 1 MB).
const BATCH: usize = 4_000;

#[derive(Parser, Debug)]
#[command(about = "Times the web console's pages on a stream of a million events")]
struct Args {
    /// The trailwatch binary.
    #[arg(long, default_value = "target/release/trailwatch")]
    bin: PathBuf,
    /// Events written to the stream.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Loads of each page.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// How long to let compaction run before the second round, in seconds.
    #[arg(long, default_value_t = 40)]
    compact_wait_secs: u64,
}

/// One page to time: its route, and the JavaScript condition that says it shows its data.
struct PageCase {
    name: &'static str,
    route: String,
    ready: String,
    /// Run after the page is ready, then wait for `ready_after` (a scroll).
    then: Option<(&'static str, String)>,
}

fn cases(first_ms: i64) -> Vec<PageCase> {
    let g = urlencode(GROUP);
    let stream = format!("#/logs/groups/{g}/streams/{STREAM}");
    let events = "document.querySelectorAll('[data-testid=event]').length";
    let middle = first_ms + 500_000;
    vec![
        PageCase { name: "log groups", route: "#/logs".into(), ready: format!("document.body.innerText.includes('{GROUP}')"), then: None },
        PageCase {
            name: "streams of the group",
            route: format!("#/logs/groups/{g}"),
            ready: "(document.querySelector('[data-testid=log-streams]')?.innerText || '').includes('bench-1')".into(),
            then: None,
        },
        PageCase { name: "newest 100 events of the stream", route: stream.clone(), ready: format!("{events} >= 100"), then: None },
        PageCase {
            name: "… then scroll up 100 older",
            route: stream.clone(),
            ready: format!("{events} >= 100"),
            then: Some(("document.querySelector('[data-testid=events]').scrollTop = 0", format!("{events} >= 200"))),
        },
        PageCase {
            name: "a minute in the middle",
            route: format!("{stream}?range=abs:{middle}:{}", middle + 60_000),
            ready: format!("{events} >= 100"),
            then: None,
        },
        PageCase {
            name: "filter matching 1 %",
            route: format!("{stream}?filter={RARE_USER}"),
            ready: format!("{events} >= 100"),
            then: None,
        },
        PageCase {
            name: "filter matching nothing (scans all)",
            route: format!("{stream}?filter=zz-no-such-term"),
            ready: "document.body.innerText.includes('No events in this range')".into(),
            then: None,
        },
        PageCase {
            name: "CloudTrail event history",
            route: "#/cloudtrail".into(),
            ready: "document.querySelectorAll('[data-testid=event-history] tbody tr').length >= 10".into(),
            then: None,
        },
    ]
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let machine = Machine::detect();
    println!("machine: {}", machine.text());
    let creds = Creds::invent()?;
    let mut server =
        ServerProcess::start_with(&args.bin, &creds, &["--compact-after-secs", "5", "--maintenance-interval-secs", "2"]).await?;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&client::sdk_config(&server.endpoint, &creds).await);
    client::create_group_and_streams(&logs, GROUP, &[STREAM.to_owned()]).await?;

    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let first_ms = now - args.events as i64 - 120_000;
    let started = Instant::now();
    let mut generator = AuditGen::new(7, first_ms);
    let mut bytes = 0usize;
    for start in (0..args.events).step_by(BATCH) {
        let batch: Vec<InputLogEvent> = (start..(start + BATCH).min(args.events))
            .map(|i| {
                let (line, _) = generator.line();
                bytes += line.len();
                InputLogEvent::builder().timestamp(first_ms + i as i64).message(line).build().expect("event")
            })
            .collect();
        logs.put_log_events()
            .log_group_name(GROUP)
            .log_stream_name(STREAM)
            .set_log_events(Some(batch))
            .send()
            .await
            .map_err(|e| sdk_error("PutLogEvents", e))?;
    }
    println!("wrote {} events ({:.0} MB) to one stream in {:.1} s", args.events, bytes as f64 / 1e6, started.elapsed().as_secs_f64());

    let mut browser = Browser::start("console-bench", server.work_dir.join("screenshots")).await;
    let signed_in = Instant::now();
    browser.sign_in(&server.endpoint, &creds.access_key_id, &creds.secret_access_key).await;
    println!("sign-in (page load, STS GetCallerIdentity, first page): {:.0} ms", signed_in.elapsed().as_secs_f64() * 1000.0);

    println!("\nfresh (ingest blocks), {} loads each:", args.runs);
    round(&mut browser, &server.endpoint, &cases(first_ms), args.runs).await?;
    tokio::time::sleep(Duration::from_secs(args.compact_wait_secs)).await;
    println!("\nafter compaction (Parquet), {} loads each:", args.runs);
    round(&mut browser, &server.endpoint, &cases(first_ms), args.runs).await?;
    browser.close().await;
    server.stop()?;
    server.remove_files()?;
    Ok(())
}

/// Loads every page `runs` times and prints the median and slowest load.
async fn round(browser: &mut Browser, endpoint: &str, cases: &[PageCase], runs: usize) -> Result<()> {
    println!("{:<40} {:>10} {:>10}", "page", "p50 ms", "max ms");
    for case in cases {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            browser.goto("about:blank").await;
            let t = Instant::now();
            browser.goto(&format!("{endpoint}/_trailwatch/console/{}", case.route)).await;
            wait(browser, &case.ready).await.with_context(|| case.name)?;
            if let Some((action, ready)) = &case.then {
                let t2 = Instant::now();
                browser.client().execute(action, vec![]).await?;
                wait(browser, ready).await.with_context(|| case.name)?;
                times.push(t2.elapsed());
            } else {
                times.push(t.elapsed());
            }
        }
        times.sort();
        println!("{:<40} {:>10.0} {:>10.0}", case.name, ms(times[times.len() / 2]), ms(*times.last().unwrap()));
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Polls a JavaScript condition every 5 ms, for up to a minute.
async fn wait(browser: &Browser, condition: &str) -> Result<()> {
    let script = format!("return !!({condition})");
    let started = Instant::now();
    loop {
        if browser.client().execute(&script, vec![]).await?.as_bool() == Some(true) {
            return Ok(());
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(60), "the page never showed: {condition}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
