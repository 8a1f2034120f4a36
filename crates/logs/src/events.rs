//! Events: PutLogEvents with AWS's limits and rejections, GetLogEvents with AWS's
//! two-way token paging, and FilterLogEvents with filter patterns.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use store::{Direction, NewEvent, Position, ScanRequest, StoreError, StreamFilter};
use wire::{AwsError, CallContext};

use crate::tokens::{self, Toward};
use crate::{LogsService, invalid, storage, stream_not_found};

/// Largest PutLogEvents batch: message bytes plus 26 per event.
const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes AWS counts per event on top of its message.
const EVENT_OVERHEAD: usize = 26;
/// Largest response page of events.
const MAX_PAGE_BYTES: usize = 1_048_576;
/// Default and largest number of events per page.
const MAX_PAGE_EVENTS: usize = 10_000;
/// Message bytes one FilterLogEvents call examines before it returns a token.
const FILTER_SCAN_BUDGET: usize = 1 << 30;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutLogEvents {
    log_group_name: String,
    log_stream_name: String,
    log_events: Vec<InputEvent>,
}

#[derive(Deserialize)]
pub(crate) struct InputEvent {
    timestamp: i64,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetLogEvents {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<usize>,
    start_from_head: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilterLogEvents {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
    start_from_head: Option<bool>,
}

/// Which events of a batch AWS refuses one by one (the rest are stored).
#[derive(Debug, Default, PartialEq, Eq)]
struct Rejections {
    too_new_start: Option<usize>,
    too_old_end: Option<usize>,
    expired_end: Option<usize>,
}

impl LogsService {
    pub(crate) async fn put_log_events(&self, ctx: &CallContext, req: PutLogEvents) -> Result<Value, AwsError> {
        check_batch(&req.log_events, self.limits.max_event_bytes)?;
        let group = self.group(ctx, &req.log_group_name).await?;
        let stream = self.store.log_stream(group.id, &req.log_stream_name).await.map_err(storage)?.ok_or_else(stream_not_found)?;
        let rejections = rejections(&req.log_events, ctx.now_millis, group.retention_cutoff(ctx.now_millis));
        let first = rejections.too_old_end.max(rejections.expired_end).map_or(0, |i| i + 1);
        let end = rejections.too_new_start.unwrap_or(req.log_events.len());
        let accepted: Vec<NewEvent> =
            req.log_events.into_iter().take(end).skip(first).map(|e| NewEvent { timestamp: e.timestamp, message: e.message }).collect();
        if !accepted.is_empty() {
            match self.store.append(&group, &stream, &accepted, ctx.now_millis).await {
                Ok(()) => {}
                Err(StoreError::NotFound) => return Err(stream_not_found()),
                Err(e) => return Err(storage(e)),
            }
            metrics::counter!("trailwatch_ingested_events_total").increment(accepted.len() as u64);
            metrics::counter!("trailwatch_ingested_bytes_total").increment(accepted.iter().map(|e| e.message.len() as u64).sum());
        }
        let mut out = json!({ "nextSequenceToken": sequence_token(ctx.now_millis) });
        if rejections != Rejections::default() {
            let mut info = Map::new();
            if let Some(i) = rejections.too_new_start {
                info.insert("tooNewLogEventStartIndex".into(), json!(i));
            }
            if let Some(i) = rejections.too_old_end {
                info.insert("tooOldLogEventEndIndex".into(), json!(i));
            }
            if let Some(i) = rejections.expired_end {
                info.insert("expiredLogEventEndIndex".into(), json!(i));
            }
            out["rejectedLogEventsInfo"] = Value::Object(info);
        }
        Ok(out)
    }

    pub(crate) async fn get_log_events(&self, ctx: &CallContext, req: GetLogEvents) -> Result<Value, AwsError> {
        let group = self.group_by_name_or_identifier(ctx, req.log_group_name.as_deref(), req.log_group_identifier.as_deref()).await?;
        let stream = self.store.log_stream(group.id, &req.log_stream_name).await.map_err(storage)?.ok_or_else(stream_not_found)?;
        let (toward, from) = match req.next_token.as_deref() {
            Some(t) => tokens::parse_stream_token(t)?,
            None if req.start_from_head.unwrap_or(false) => (Toward::Forward, Position::START),
            None => (Toward::Backward, Position::END),
        };
        let scan = ScanRequest {
            streams: StreamFilter::Only(vec![stream.id]),
            start_ts: req.start_time.unwrap_or(i64::MIN),
            // GetLogEvents excludes events at endTime.
            end_ts: req.end_time.map_or(i64::MAX, |e| e.saturating_sub(1)),
            from,
            direction: if toward == Toward::Forward { Direction::Forward } else { Direction::Backward },
            limit: req.limit.unwrap_or(MAX_PAGE_EVENTS),
            max_bytes: MAX_PAGE_BYTES,
            max_scan_bytes: usize::MAX,
            matcher: None,
            now_millis: ctx.now_millis,
        };
        let mut found = self.store.scan(&group, scan).await.map_err(storage)?;
        if toward == Toward::Backward {
            found.events.reverse();
        }
        let (forward, backward) = match (found.events.first(), found.events.last()) {
            (Some(first), Some(last)) => (last.position(), first.position()),
            _ => empty_page_bounds(toward, from),
        };
        let events: Vec<Value> =
            found.events.iter().map(|e| json!({ "timestamp": e.ts, "message": e.message, "ingestionTime": e.ingest })).collect();
        Ok(json!({
            "events": events,
            "nextForwardToken": tokens::stream_token(Toward::Forward, forward),
            "nextBackwardToken": tokens::stream_token(Toward::Backward, backward),
        }))
    }

    pub(crate) async fn filter_log_events(&self, ctx: &CallContext, req: FilterLogEvents) -> Result<Value, AwsError> {
        if req.log_stream_names.is_some() && req.log_stream_name_prefix.is_some() {
            return Err(invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters."));
        }
        let pattern = query::FilterPattern::parse(req.filter_pattern.as_deref().unwrap_or("")).map_err(|e| invalid(e.message()))?;
        let group = self.group_by_name_or_identifier(ctx, req.log_group_name.as_deref(), req.log_group_identifier.as_deref()).await?;
        let streams = self
            .store
            .streams_matching(group.id, req.log_stream_names.as_deref(), req.log_stream_name_prefix.as_deref())
            .await
            .map_err(storage)?;
        let names: HashMap<i64, String> = streams.iter().map(|s| (s.id, s.name.clone())).collect();
        let ascending = req.start_from_head.unwrap_or(true);
        let from = match req.next_token.as_deref() {
            Some(t) => tokens::parse_position(&tokens::decode(if ascending { "filter-f" } else { "filter-b" }, t)?)?,
            None if ascending => Position::START,
            None => Position::END,
        };
        let whole_group = req.log_stream_names.is_none() && req.log_stream_name_prefix.is_none();
        let matcher = (!pattern.matches_everything()).then(|| {
            let literal = pattern.required_literal().map(<[u8]>::to_vec);
            store::scan::Matcher::new(move |m: &[u8]| pattern.matches(m), literal.as_deref())
        });
        let scan = ScanRequest {
            streams: if whole_group { StreamFilter::All } else { StreamFilter::Only(names.keys().copied().collect()) },
            start_ts: req.start_time.unwrap_or(i64::MIN),
            end_ts: req.end_time.unwrap_or(i64::MAX),
            from,
            direction: if ascending { Direction::Forward } else { Direction::Backward },
            limit: req.limit.unwrap_or(MAX_PAGE_EVENTS),
            max_bytes: MAX_PAGE_BYTES,
            max_scan_bytes: FILTER_SCAN_BUDGET,
            matcher,
            now_millis: ctx.now_millis,
        };
        if !whole_group && names.is_empty() {
            return Ok(json!({ "events": [], "searchedLogStreams": [] }));
        }
        let found = self.store.scan(&group, scan).await.map_err(storage)?;
        let events: Vec<Value> = found
            .events
            .iter()
            .map(|e| {
                json!({
                    "logStreamName": names.get(&e.stream_id).cloned().unwrap_or_default(),
                    "timestamp": e.ts,
                    "message": e.message,
                    "ingestionTime": e.ingest,
                    "eventId": event_id(e.position()),
                })
            })
            .collect();
        let mut out = json!({ "events": events, "searchedLogStreams": [] });
        if let Some(resume) = found.resume {
            out["nextToken"] = json!(tokens::encode(if ascending { "filter-f" } else { "filter-b" }, &tokens::position_text(resume)));
        }
        Ok(out)
    }
}

/// Checks the whole-batch rules that fail the request: size, order and span.
fn check_batch(events: &[InputEvent], max_event_bytes: usize) -> Result<(), AwsError> {
    let total: usize = events.iter().map(|e| e.message.len() + EVENT_OVERHEAD).sum();
    if total > MAX_BATCH_BYTES {
        return Err(invalid(format!("Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")));
    }
    if let Some(e) = events.iter().find(|e| e.message.len() + EVENT_OVERHEAD > max_event_bytes) {
        return Err(invalid(format!("Log event too large: {} bytes exceeds limit of {max_event_bytes}", e.message.len() + EVENT_OVERHEAD)));
    }
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(invalid("Log events in a single PutLogEvents request must be in chronological order."));
    }
    if let (Some(first), Some(last)) = (events.first(), events.last())
        && last.timestamp - first.timestamp > DAY_MS
    {
        return Err(invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours."));
    }
    Ok(())
}

/// Events more than 2 hours ahead, more than 14 days old, or past retention.
fn rejections(events: &[InputEvent], now: i64, retention_cutoff: Option<i64>) -> Rejections {
    let too_new_start = events.iter().position(|e| e.timestamp > now + 2 * HOUR_MS);
    let too_old_end = events.iter().rposition(|e| e.timestamp < now - 14 * DAY_MS);
    let expired_end = retention_cutoff.and_then(|cutoff| events.iter().rposition(|e| e.timestamp < cutoff));
    Rejections { too_new_start, too_old_end, expired_end }
}

/// Positions for the tokens of a page with no events: the forward token stays where
/// the reader is (so paging ends on a repeated token), the backward one likewise.
fn empty_page_bounds(toward: Toward, from: Position) -> (Position, Position) {
    match toward {
        Toward::Forward => (from, Position { ts: from.ts, seq: from.seq.saturating_add(1) }),
        // Reading back from the very end found nothing: the stream is empty in range,
        // so a forward reader should start from the beginning.
        Toward::Backward if from == Position::END => (Position::START, from),
        Toward::Backward => (Position { ts: from.ts, seq: from.seq.saturating_sub(1) }, from),
    }
}

/// An event ID in AWS's shape: a long decimal string unique to the event.
pub(crate) fn event_id(p: Position) -> String {
    format!("{:020}{:020}", p.ts.max(0), p.seq.max(0))
}

/// A sequence token in AWS's shape; AWS ignores tokens now, and so do we.
fn sequence_token(now: i64) -> String {
    format!("4963{:052}", now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, msg: &str) -> InputEvent {
        InputEvent { timestamp: ts, message: msg.into() }
    }

    #[test]
    fn batch_rules() {
        assert!(check_batch(&[ev(2, "a"), ev(1, "b")], 1 << 20).unwrap_err().message.contains("chronological"));
        assert!(check_batch(&[ev(0, "a"), ev(DAY_MS + 1, "b")], 1 << 20).unwrap_err().message.contains("24 hours"));
        let big = "x".repeat(600_000);
        let err = check_batch(&[ev(1, &big), ev(2, &big)], 1 << 20).unwrap_err();
        assert_eq!(err.message, "Upload too large: 1200052 bytes exceeds limit of 1048576");
        assert!(check_batch(&[ev(1, &"y".repeat(1000))], 1000).unwrap_err().message.starts_with("Log event too large: 1026 bytes"));
        assert!(check_batch(&[ev(1, "a"), ev(1, "b")], 1 << 20).is_ok());
    }

    #[test]
    fn rejection_indices() {
        let now = 100 * DAY_MS;
        let events = [ev(now - 20 * DAY_MS, "old"), ev(now - 2 * DAY_MS, "expired"), ev(now, "ok"), ev(now + 3 * HOUR_MS, "new")];
        let r = rejections(&events, now, Some(now - DAY_MS));
        assert_eq!(r, Rejections { too_new_start: Some(3), too_old_end: Some(0), expired_end: Some(1) });
    }
}
