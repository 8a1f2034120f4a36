//! Read phases: GetLogEvents over one whole stream, FilterLogEvents over the group.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use aws_sdk_cloudwatchlogs::Client;
use serde_json::{Value, json};

use crate::client::sdk_error;
use crate::stats::{count, mb, mb_per_s, round3};

/// Events per page requested; AWS's maximum for both operations.
const PAGE_LIMIT: i32 = 10_000;

/// Pages a FilterLogEvents scan may take before it is declared runaway.
const MAX_FILTER_PAGES: u64 = 1_000_000;

/// A full read of one stream.
pub struct StreamRead {
    /// Events returned.
    pub events: u64,
    /// Message bytes returned.
    pub bytes: u64,
    /// GetLogEvents calls made, including the final one that repeats the token.
    pub pages: u64,
    /// Wall time of the whole read.
    pub elapsed: Duration,
}

impl StreamRead {
    /// One human-readable line.
    pub fn text(&self) -> String {
        format!(
            "{} events, {:.1} MB in {:.2} s = {:.2} MB/s ({} pages)",
            count(self.events),
            mb(self.bytes),
            self.elapsed.as_secs_f64(),
            mb_per_s(self.bytes, self.elapsed),
            count(self.pages)
        )
    }

    /// The result as JSON.
    pub fn json(&self) -> Value {
        json!({
            "events": self.events,
            "bytes": self.bytes,
            "pages": self.pages,
            "seconds": round3(self.elapsed.as_secs_f64()),
            "mb_per_s": round3(mb_per_s(self.bytes, self.elapsed)),
        })
    }
}

/// Reads a stream from its head, following nextForwardToken until it repeats.
///
/// AWS signals the end of a stream by returning the token it was given, and
/// may return empty pages before that, so an empty page is not the end.
/// `expected_events` only bounds the page count against a server that never
/// repeats its token.
pub async fn read_stream(client: &Client, group: &str, stream: &str, expected_events: u64) -> Result<StreamRead> {
    let max_pages = expected_events + 1000;
    let started = Instant::now();
    let (mut events, mut bytes, mut pages) = (0u64, 0u64, 0u64);
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            // Required on every call when paging forward with nextForwardToken.
            .start_from_head(true)
            .limit(PAGE_LIMIT)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| sdk_error("GetLogEvents", e))?;
        pages += 1;
        events += page.events().len() as u64;
        bytes += page.events().iter().map(|e| e.message().map_or(0, str::len) as u64).sum::<u64>();
        let Some(next) = page.next_forward_token() else {
            bail!("GetLogEvents returned no nextForwardToken (AWS always returns one)");
        };
        if token.as_deref() == Some(next) {
            break;
        }
        if pages >= max_pages {
            bail!("GetLogEvents: nextForwardToken never repeated after {pages} pages");
        }
        token = Some(next.to_owned());
    }
    Ok(StreamRead { events, bytes, pages, elapsed: started.elapsed() })
}

/// A full FilterLogEvents scan of the group for one pattern.
pub struct FilterScan {
    /// The filter pattern.
    pub pattern: String,
    /// Events returned.
    pub matches: u64,
    /// Returned events whose message does not contain the pattern's term.
    pub non_matching: u64,
    /// FilterLogEvents calls made.
    pub pages: u64,
    /// Message bytes in the group, all of which the server has to scan.
    pub scanned_bytes: u64,
    /// Wall time of the whole scan.
    pub elapsed: Duration,
}

impl FilterScan {
    /// One human-readable line.
    pub fn text(&self) -> String {
        format!(
            "{} matches in {} pages; scanned {:.1} MB in {:.2} s = {:.2} MB/s",
            count(self.matches),
            count(self.pages),
            mb(self.scanned_bytes),
            self.elapsed.as_secs_f64(),
            mb_per_s(self.scanned_bytes, self.elapsed)
        )
    }

    /// The result as JSON.
    pub fn json(&self) -> Value {
        json!({
            "pattern": self.pattern,
            "matches": self.matches,
            "pages": self.pages,
            "scanned_bytes": self.scanned_bytes,
            "seconds": round3(self.elapsed.as_secs_f64()),
            "scan_mb_per_s": round3(mb_per_s(self.scanned_bytes, self.elapsed)),
        })
    }
}

/// Filters the whole group with a single-term `pattern`, following nextToken until absent.
pub async fn filter_group(client: &Client, group: &str, pattern: &str, scanned_bytes: u64) -> Result<FilterScan> {
    let started = Instant::now();
    let (mut matches, mut non_matching, mut pages) = (0u64, 0u64, 0u64);
    let mut token: Option<String> = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .filter_pattern(pattern)
            .limit(PAGE_LIMIT)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| sdk_error("FilterLogEvents", e))?;
        pages += 1;
        matches += page.events().len() as u64;
        non_matching += page.events().iter().filter(|e| !e.message().is_some_and(|m| m.contains(pattern))).count() as u64;
        match page.next_token() {
            None => break,
            Some(next) if token.as_deref() == Some(next) => {
                bail!("FilterLogEvents returned the nextToken it was given (endless paging)")
            }
            Some(_) if pages >= MAX_FILTER_PAGES => {
                bail!("FilterLogEvents: still paging after {pages} pages")
            }
            Some(next) => token = Some(next.to_owned()),
        }
    }
    Ok(FilterScan { pattern: pattern.to_owned(), matches, non_matching, pages, scanned_bytes, elapsed: started.elapsed() })
}
