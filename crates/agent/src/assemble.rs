//! Turns a file's bytes into log events: lines, multi-line grouping, decoding,
//! timestamps, and events too large for one PutLogEvents entry.

use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{NaiveDateTime, TimeZone as _};
use regex::Regex;

use crate::config::{Oversize, SourceConfig, TimeZone, Transform};

/// Where reading has got to in a file: a byte offset at the start of an event, and how
/// many parts of that event were already sent when it was split for size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub offset: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub part: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Position {
    pub fn at(offset: u64) -> Position {
        Position { offset, part: 0 }
    }
}

/// One log event read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub message: String,
    /// Where reading resumes once this event is acknowledged.
    pub end: Position,
}

/// What an [`Assembler`] noticed about the events it made, for the agent's counters.
#[derive(Debug, Default, Clone, Copy)]
pub struct Notes {
    pub truncated: u64,
    pub split: u64,
}

/// A source's rules for finding events in bytes; shared by the assemblers of its files.
#[derive(Debug)]
pub struct Parser {
    start_pattern: Option<Regex>,
    timestamp: Option<TimestampFormat>,
    encoding: &'static encoding_rs::Encoding,
    max_message_bytes: usize,
    oversize: Oversize,
    transform: Option<Transform>,
}

impl Parser {
    pub fn new(source: &SourceConfig) -> anyhow::Result<Parser> {
        let timestamp = source.timestamp_format.as_deref().map(|f| TimestampFormat::new(f, source.timezone)).transpose()?;
        let start_pattern = match source.multi_line_start_pattern.as_deref() {
            None => None,
            Some("{timestamp_format}") => match &timestamp {
                Some(t) => Some(Regex::new(&format!("^(?:{})", t.pattern))?),
                None => bail!("multi_line_start_pattern {{timestamp_format}} needs timestamp_format"),
            },
            Some(p) => Some(Regex::new(p).context("multi_line_start_pattern is not a valid regular expression")?),
        };
        Ok(Parser {
            start_pattern,
            timestamp,
            encoding: source.encoding()?,
            max_message_bytes: source.max_message_bytes(),
            oversize: source.oversize,
            transform: source.transform.clone(),
        })
    }

    fn starts_event(&self, line: &[u8]) -> bool {
        match &self.start_pattern {
            None => true,
            Some(p) => match std::str::from_utf8(line) {
                Ok(text) => p.is_match(text),
                Err(_) => p.is_match(&String::from_utf8_lossy(line)),
            },
        }
    }

    fn decode<'a>(&self, bytes: &'a [u8]) -> std::borrow::Cow<'a, str> {
        if self.encoding == encoding_rs::UTF_8 {
            // Valid UTF-8 is the rule; std's validator is several times faster than the
            // lossy decoder, which is kept for the exception.
            return match std::str::from_utf8(bytes) {
                Ok(text) => std::borrow::Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(bytes),
            };
        }
        self.encoding.decode_without_bom_handling(bytes).0
    }
}

/// Reassembles one file's events from the bytes read from it, in order.
#[derive(Debug)]
pub struct Assembler {
    parser: Arc<Parser>,
    /// Offset of the next byte [`Assembler::push`] expects.
    offset: u64,
    /// The current line, not yet ended by `\n`.
    line: Vec<u8>,
    line_start: u64,
    /// The event being gathered in multi-line mode: its lines so far and where it began.
    event: Vec<u8>,
    event_start: Option<u64>,
    event_end: u64,
    /// Parts of the first event already sent, when resuming inside a split event.
    skip_parts: u32,
    last_timestamp: Option<i64>,
    cache: TimestampCache,
    pub notes: Notes,
}

impl Assembler {
    /// An assembler that starts reading at `from`, which is the start of an event.
    pub fn new(parser: Arc<Parser>, from: Position) -> Assembler {
        Assembler {
            parser,
            offset: from.offset,
            line: Vec::new(),
            line_start: from.offset,
            event: Vec::new(),
            event_start: None,
            event_end: from.offset,
            skip_parts: from.part,
            last_timestamp: None,
            cache: TimestampCache::default(),
            notes: Notes::default(),
        }
    }

    /// Offset of the next byte to read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether a multi-line event is waiting for its end (a complete line is held).
    pub fn has_pending_event(&self) -> bool {
        self.event_start.is_some()
    }

    /// Consumes the next bytes of the file, emitting every event they complete.
    /// `now_ms` stamps events when the source has no timestamp format.
    pub fn push(&mut self, data: &[u8], now_ms: i64, out: &mut Vec<Event>) {
        let mut rest = data;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let (head, tail) = rest.split_at(i);
            let end = self.offset + i as u64 + 1;
            if self.line.is_empty() {
                self.line_done(head, end, now_ms, out);
            } else {
                self.line.extend_from_slice(head);
                let line = std::mem::take(&mut self.line);
                self.line_done(&line, end, now_ms, out);
                self.line = line;
                self.line.clear();
            }
            self.offset = end;
            self.line_start = end;
            rest = &tail[1..];
        }
        self.line.extend_from_slice(rest);
        self.offset += rest.len() as u64;
    }

    /// Emits the event being gathered: its file has been quiet for the flush interval, or
    /// has ended. With `partial_line`, a last line without `\n` is taken as complete too
    /// (the file was rotated away or deleted, so nothing will end it).
    pub fn flush(&mut self, now_ms: i64, partial_line: bool, out: &mut Vec<Event>) {
        if partial_line && !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, self.offset, now_ms, out);
            self.line_start = self.offset;
        }
        self.emit_event(now_ms, out);
    }

    fn line_done(&mut self, line: &[u8], end: u64, now_ms: i64, out: &mut Vec<Event>) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if self.parser.start_pattern.is_none() {
            if !line.is_empty() {
                self.emit(line, self.line_start, end, now_ms, out);
            }
            return;
        }
        if self.parser.starts_event(line) || self.event_start.is_none() {
            self.emit_event(now_ms, out);
            if line.is_empty() {
                return;
            }
            self.event_start = Some(self.line_start);
        } else {
            self.event.push(b'\n');
        }
        self.event.extend_from_slice(line);
        self.event_end = end;
    }

    fn emit_event(&mut self, now_ms: i64, out: &mut Vec<Event>) {
        let Some(start) = self.event_start.take() else { return };
        let event = std::mem::take(&mut self.event);
        self.emit(&event, start, self.event_end, now_ms, out);
        self.event = event;
        self.event.clear();
    }

    fn emit(&mut self, bytes: &[u8], start: u64, end: u64, now_ms: i64, out: &mut Vec<Event>) {
        let mut text = self.parser.decode(bytes);
        if let Some(t) = &self.parser.transform {
            text = std::borrow::Cow::Owned((t.0)(&text));
        }
        let timestamp = match &self.parser.timestamp {
            None => now_ms,
            Some(format) => {
                let first_line = text.split('\n').next().unwrap_or("");
                match self.cache.get(format, first_line) {
                    Some(ts) => ts,
                    None => self.last_timestamp.unwrap_or(now_ms),
                }
            }
        };
        self.last_timestamp = Some(timestamp);
        let max = self.parser.max_message_bytes;
        if text.len() <= max {
            self.push_event(timestamp, text.into_owned(), end, out);
            return;
        }
        match self.parser.oversize {
            Oversize::Truncate => {
                self.notes.truncated += 1;
                const MARK: &str = "[Truncated...]";
                let mut message = text[..floor_char_boundary(&text, max - MARK.len())].to_owned();
                message.push_str(MARK);
                self.push_event(timestamp, message, end, out);
            }
            Oversize::Split => {
                self.notes.split += 1;
                let skip = std::mem::take(&mut self.skip_parts);
                let mut rest: &str = &text;
                let mut part = 0u32;
                while !rest.is_empty() {
                    let first_char = rest.chars().next().map_or(0, char::len_utf8);
                    let (piece, tail) = rest.split_at(floor_char_boundary(rest, max).max(first_char));
                    rest = tail;
                    part += 1;
                    let at = if rest.is_empty() { Position::at(end) } else { Position { offset: start, part } };
                    if part > skip {
                        out.push(Event { timestamp, message: piece.to_owned(), end: at });
                    }
                }
            }
        }
    }

    fn push_event(&mut self, timestamp: i64, message: String, end: u64, out: &mut Vec<Event>) {
        self.skip_parts = 0;
        out.push(Event { timestamp, message, end: Position::at(end) });
    }
}

/// The largest index `<= i` on a character boundary of `s`.
fn floor_char_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    (0..=i).rev().find(|&j| s.is_char_boundary(j)).unwrap_or(0)
}

/// A timestamp format compiled to a regular expression that finds it in a line, and
/// the way to turn what it found into milliseconds.
#[derive(Debug)]
pub struct TimestampFormat {
    /// The expression without anchors, for multi-line start patterns.
    pattern: String,
    finder: Regex,
    kind: TimestampKind,
    zone: TimeZone,
}

#[derive(Debug)]
enum TimestampKind {
    EpochSeconds,
    EpochMillis,
    EpochMicros,
    /// A chrono format; `has_year` false means the current year is assumed.
    Strftime {
        format: String,
        has_year: bool,
        has_offset: bool,
        has_date: bool,
    },
}

impl TimestampFormat {
    pub fn new(format: &str, zone: TimeZone) -> anyhow::Result<TimestampFormat> {
        let (pattern, kind) = match format {
            "epoch_seconds" => (r"\d{10}(?:\.\d+)?".to_owned(), TimestampKind::EpochSeconds),
            "epoch_millis" => (r"\d{13}".to_owned(), TimestampKind::EpochMillis),
            "epoch_micros" => (r"\d{16}".to_owned(), TimestampKind::EpochMicros),
            _ => strftime_pattern(format)?,
        };
        let finder = Regex::new(&pattern)?;
        Ok(TimestampFormat { pattern, finder, kind, zone })
    }

    /// Finds the timestamp in `line`, in milliseconds since the epoch.
    pub fn find(&self, line: &str) -> Option<i64> {
        let found = self.finder.find(line)?.as_str();
        self.parse(found)
    }

    fn find_text<'a>(&self, line: &'a str) -> Option<&'a str> {
        Some(self.finder.find(line)?.as_str())
    }

    fn parse(&self, text: &str) -> Option<i64> {
        match &self.kind {
            TimestampKind::EpochSeconds => text.parse::<f64>().ok().map(|s| (s * 1000.0) as i64),
            TimestampKind::EpochMillis => text.parse().ok(),
            TimestampKind::EpochMicros => text.parse::<i64>().ok().map(|us| us / 1000),
            TimestampKind::Strftime { format, has_year, has_offset, has_date } => {
                if *has_offset {
                    return chrono::DateTime::parse_from_str(text, format).ok().map(|t| t.timestamp_millis());
                }
                let naive = if !has_date {
                    let time = chrono::NaiveTime::parse_from_str(text, format).ok()?;
                    chrono::Local::now().date_naive().and_time(time)
                } else if *has_year {
                    NaiveDateTime::parse_from_str(text, format).ok()?
                } else {
                    let year = chrono::Local::now().format("%Y").to_string();
                    NaiveDateTime::parse_from_str(&format!("{year} {text}"), &format!("%Y {format}")).ok()?
                };
                match self.zone {
                    TimeZone::Utc => Some(naive.and_utc().timestamp_millis()),
                    TimeZone::Local => chrono::Local.from_local_datetime(&naive).earliest().map(|t| t.timestamp_millis()),
                }
            }
        }
    }
}

/// Translates a strftime format into a regular expression for its text.
fn strftime_pattern(format: &str) -> anyhow::Result<(String, TimestampKind)> {
    let mut pattern = String::new();
    let (mut has_year, mut has_offset, mut has_date) = (false, false, false);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            pattern.push_str(&regex::escape(&c.to_string()));
            continue;
        }
        let spec = chars.next().context("timestamp_format ends in a lone %")?;
        let piece = match spec {
            'Y' => {
                has_year = true;
                has_date = true;
                r"\d{4}"
            }
            'y' => {
                has_year = true;
                has_date = true;
                r"\d{2}"
            }
            'm' | 'd' => {
                has_date = true;
                r"\d{1,2}"
            }
            'e' => {
                has_date = true;
                r" ?\d{1,2}"
            }
            'j' => {
                has_date = true;
                r"\d{3}"
            }
            'b' | 'h' => {
                has_date = true;
                r"[A-Za-z]{3}"
            }
            'B' => {
                has_date = true;
                r"[A-Za-z]+"
            }
            'F' => {
                has_year = true;
                has_date = true;
                r"\d{4}-\d{2}-\d{2}"
            }
            'H' | 'M' | 'S' | 'I' | 'k' | 'l' => r" ?\d{1,2}",
            'T' => r"\d{2}:\d{2}:\d{2}",
            'f' => r"\d{6}",
            'p' => r"(?:AM|PM|am|pm)",
            'a' => r"[A-Za-z]{3}",
            'A' => r"[A-Za-z]+",
            'z' => {
                has_offset = true;
                r"(?:[+-]\d{2}:?\d{2}|Z)"
            }
            '%' => "%",
            other => bail!("timestamp_format uses %{other}, which is not supported"),
        };
        pattern.push_str(piece);
    }
    // Python's %f (what CloudWatch agent configurations use) is six digits of microseconds.
    let format = format.replace("%f", "%6f");
    Ok((pattern, TimestampKind::Strftime { format, has_year, has_offset, has_date }))
}

/// Consecutive lines often carry the same timestamp text; parsing it once saves the
/// most expensive step of reading a timestamped file.
#[derive(Debug, Default)]
struct TimestampCache {
    text: String,
    value: Option<i64>,
}

impl TimestampCache {
    fn get(&mut self, format: &TimestampFormat, line: &str) -> Option<i64> {
        let text = format.find_text(line)?;
        if text != self.text || self.value.is_none() {
            self.value = format.parse(text);
            self.text.clear();
            self.text.push_str(text);
        }
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(extra: &str) -> SourceConfig {
        let text = format!("path = \"/x\"\nlog_group = \"g\"\n{extra}\n");
        toml::from_str(&text).unwrap()
    }

    fn events(extra: &str, pieces: &[&[u8]], from: Position) -> Vec<Event> {
        let mut asm = Assembler::new(Arc::new(Parser::new(&source(extra)).unwrap()), from);
        let mut out = Vec::new();
        for p in pieces {
            asm.push(p, 7, &mut out);
        }
        asm.flush(7, false, &mut out);
        out
    }

    fn messages(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.message.as_str()).collect()
    }

    #[test]
    fn lines_become_events_across_reads_without_empty_lines() {
        let e = events("", &[b"one\r\ntw", b"o\n\nthree\npartial"], Position::default());
        assert_eq!(messages(&e), ["one", "two", "three"]);
        assert_eq!(e.iter().map(|e| e.end.offset).collect::<Vec<_>>(), [5, 9, 16]);
        assert!(e.iter().all(|e| e.timestamp == 7), "ingestion time");
    }

    #[test]
    fn multi_line_records_stay_whole() {
        let log = b"20261121 10:00:00,db,admin,localhost,1,1,QUERY,test,'SELECT 1\nFROM dual\n  WHERE x',0\n\
20261121 10:00:01,db,admin,localhost,1,2,QUERY,test,'SELECT 2',0\n";
        let extra = "timestamp_format = \"%Y%m%d %H:%M:%S\"\ntimezone = \"UTC\"\nmulti_line_start_pattern = \"{timestamp_format}\"";
        let e = events(extra, &[&log[..30], &log[30..]], Position::default());
        assert_eq!(e.len(), 2);
        assert!(e[0].message.ends_with("SELECT 1\nFROM dual\n  WHERE x',0"));
        assert_eq!(e[0].timestamp, 1_795_255_200_000);
        assert_eq!(e[1].timestamp, 1_795_255_201_000);
        assert_eq!(e[0].end.offset, 85);
    }

    #[test]
    fn a_multi_line_event_waits_for_the_next_start_or_a_flush() {
        let parser = Arc::new(Parser::new(&source("multi_line_start_pattern = \"^\\\\S\"")).unwrap());
        let mut asm = Assembler::new(parser, Position::default());
        let mut out = Vec::new();
        asm.push(b"Error\n  at a\n  at b\n", 1, &mut out);
        assert!(out.is_empty() && asm.has_pending_event());
        asm.push(b"Next\n", 1, &mut out);
        assert_eq!(messages(&out), ["Error\n  at a\n  at b"]);
        asm.flush(1, false, &mut out);
        assert_eq!(messages(&out), ["Error\n  at a\n  at b", "Next"]);
    }

    #[test]
    fn oversize_events_are_truncated_or_split_and_split_parts_resume() {
        let long = format!("{}\n", "é".repeat(40));
        let cut = events("max_event_size = 56", &[long.as_bytes()], Position::default());
        assert_eq!(cut.len(), 1);
        assert!(cut[0].message.ends_with("[Truncated...]") && cut[0].message.len() <= 30);
        let parts = events("max_event_size = 56\noversize = \"split\"", &[long.as_bytes()], Position::default());
        assert_eq!(parts.iter().map(|e| e.message.len()).collect::<Vec<_>>(), [30, 30, 20]);
        assert_eq!(parts.concat_messages(), "é".repeat(40));
        assert_eq!(
            parts.iter().map(|e| e.end).collect::<Vec<_>>(),
            [Position { offset: 0, part: 1 }, Position { offset: 0, part: 2 }, Position::at(81)]
        );
        let resumed = events("max_event_size = 56\noversize = \"split\"", &[long.as_bytes()], Position { offset: 0, part: 2 });
        assert_eq!(resumed, parts[2..].to_vec());
    }

    trait Concat {
        fn concat_messages(&self) -> String;
    }
    impl Concat for Vec<Event> {
        fn concat_messages(&self) -> String {
            self.iter().map(|e| e.message.as_str()).collect()
        }
    }

    #[test]
    fn timestamps_are_found_in_several_formats() {
        let utc = |f: &str, line: &str| TimestampFormat::new(f, TimeZone::Utc).unwrap().find(line);
        assert_eq!(utc("%Y-%m-%d %H:%M:%S", "[2026-11-21 10:00:00] x"), Some(1_795_255_200_000));
        assert_eq!(utc("%Y-%m-%dT%H:%M:%S%z", "at 2026-11-21T11:00:00+01:00 x"), Some(1_795_255_200_000));
        assert_eq!(utc("%d/%b/%Y:%H:%M:%S %z", "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] GET"), Some(1_795_255_200_000));
        assert_eq!(utc("%Y-%m-%d %H:%M:%S.%f", "2026-11-21 10:00:00.250000 x"), Some(1_795_255_200_250));
        assert_eq!(utc("epoch_micros", "1795255200123456,c731-instance-1,admin"), Some(1_795_255_200_123));
        assert_eq!(utc("epoch_seconds", "t=1795255200.5"), Some(1_795_255_200_500));
        assert_eq!(utc("%Y-%m-%d", "no date here"), None);
        let syslog = utc("%b %d %H:%M:%S", "Nov 21 10:00:00 host sshd[1]: ok").unwrap();
        assert_eq!(syslog % 86_400_000, 36_000_000, "the current year is assumed");
    }

    #[test]
    fn other_encodings_are_decoded() {
        let e = events("encoding = \"latin1\"", &[b"caf\xe9\n"], Position::default());
        assert_eq!(messages(&e), ["café"]);
    }
}
