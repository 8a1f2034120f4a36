//! The filter consumer: applies metric filters and subscription filters to ingested
//! events, in ingest order, after they are durable.
//!
//! Each filter has a cursor in the catalog (the seq of the last event it has applied).
//! A round reads the ingest blocks past a group's smallest cursor (compaction leaves
//! those alone), applies each filter to the rows past its own cursor, and moves the
//! cursor once the effect is durable: metric data stored, or a subscription payload
//! acknowledged. A crash between the effect and the cursor repeats at most one round's
//! work; subscriptions are therefore at least once, and in order per stream.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use store::{FilterKind, LogFilterRecord, LogGroup, Position, Rows, StoreError};

use crate::LogsService;
use crate::events::event_id;
use crate::metric_filters::{Aggregates, CompiledMetricFilter};
use crate::subscriptions::SubscriptionDoc;

/// The lease under which one node applies metric and subscription filters.
pub const FILTERS_JOB: &str = "log-filters";

/// Rounds of blocks one group gets before the consumer moves on to the next group.
const MAX_READS_PER_GROUP: usize = 16;

impl LogsService {
    /// Runs the consumer until the task is aborted: after each ingest commit, when a
    /// filter is created, and every `every` at the latest (to retry failed deliveries,
    /// and to see other nodes' ingest); only while this node holds [`FILTERS_JOB`].
    pub fn spawn_filters(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let committed = this.store.ingest_committed();
                match this.store.acquire_lease(FILTERS_JOB, store::lease::TTL).await {
                    Ok(true) => {
                        if let Err(e) = this.apply_filters_once().await {
                            tracing::warn!(error = %e, "applying log filters failed; retrying");
                        }
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "asking for the log filters' lease failed"),
                }
                tokio::select! {
                    _ = committed => {}
                    _ = this.consumer_wake.notified() => {}
                    _ = tokio::time::sleep(every) => {}
                }
            }
        })
    }

    /// Applies every filter of every group to what it has not yet seen.
    pub async fn apply_filters_once(&self) -> Result<(), StoreError> {
        let mut by_group: BTreeMap<i64, (Vec<LogFilterRecord>, Vec<LogFilterRecord>)> = BTreeMap::new();
        for rec in self.store.log_filters(FilterKind::Metric, None).await? {
            by_group.entry(rec.group_id).or_default().0.push(rec);
        }
        for rec in self.store.log_filters(FilterKind::Subscription, None).await? {
            by_group.entry(rec.group_id).or_default().1.push(rec);
        }
        for (group_id, (metric, subscription)) in by_group {
            let Some(group) = self.store.log_group_by_id(group_id).await? else { continue };
            self.consume_group(&group, metric, subscription).await?;
        }
        Ok(())
    }

    async fn consume_group(
        &self,
        group: &LogGroup,
        mut metric: Vec<LogFilterRecord>,
        mut subs: Vec<LogFilterRecord>,
    ) -> Result<(), StoreError> {
        let compiled: Vec<Option<CompiledMetricFilter>> = metric.iter().map(|r| CompiledMetricFilter::from_body(&r.body)).collect();
        let sub_docs: Vec<Option<(SubscriptionDoc, query::FilterPattern)>> = subs
            .iter()
            .map(|r| {
                let doc: SubscriptionDoc = serde_json::from_str(&r.body).ok()?;
                let pattern = query::FilterPattern::parse(&doc.filter_pattern).ok()?;
                Some((doc, pattern))
            })
            .collect();
        let mut streams: Option<HashMap<i64, String>> = None;
        for _ in 0..MAX_READS_PER_GROUP {
            let from = metric.iter().chain(subs.iter()).map(|r| r.cursor).min().unwrap_or(i64::MAX);
            let blocks = self.store.ingested_after(group, from).await?;
            let Some(end) = blocks.iter().filter_map(|b| b.seq.last().copied()).max() else { return Ok(()) };
            for (rec, filter) in metric.iter_mut().zip(&compiled) {
                self.apply_metric_filter(group, rec, filter.as_ref(), &blocks, end).await?;
            }
            if streams.is_none() && !subs.is_empty() {
                streams = Some(self.store.stream_names(group.id).await?);
            }
            let names = streams.as_ref();
            let mut stuck = false;
            for (rec, doc) in subs.iter_mut().zip(&sub_docs) {
                stuck |= !self.deliver_subscription(group, rec, doc.as_ref(), &blocks, names).await?;
            }
            if stuck {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Applies one metric filter to the rows past its cursor and stores the data points.
    async fn apply_metric_filter(
        &self,
        group: &LogGroup,
        rec: &mut LogFilterRecord,
        filter: Option<&CompiledMetricFilter>,
        blocks: &[Rows],
        end: i64,
    ) -> Result<(), StoreError> {
        if rec.cursor >= end {
            return Ok(());
        }
        if let Some(filter) = filter {
            let mut aggregates = Aggregates::default();
            for rows in blocks {
                for i in 0..rows.len() {
                    if rows.seq[i] > rec.cursor {
                        filter.apply(&mut aggregates, rows.ts[i], rows.message(i));
                    }
                }
            }
            let data = filter.data(aggregates);
            if let Some(monitoring) = &self.monitoring
                && !data.is_empty()
            {
                monitoring.put(&group.account_id, &group.region, data).await?;
            }
        }
        self.store.advance_log_filter(FilterKind::Metric, rec.group_id, &rec.name, &rec.body, end).await?;
        rec.cursor = end;
        Ok(())
    }

    /// Delivers one subscription's matching rows block by block; false when a delivery
    /// failed (the cursor stays before it, to be retried).
    async fn deliver_subscription(
        &self,
        group: &LogGroup,
        rec: &mut LogFilterRecord,
        doc: Option<&(SubscriptionDoc, query::FilterPattern)>,
        blocks: &[Rows],
        streams: Option<&HashMap<i64, String>>,
    ) -> Result<bool, StoreError> {
        for rows in blocks {
            let Some(&last) = rows.seq.last() else { continue };
            if last <= rec.cursor {
                continue;
            }
            if let Some((doc, pattern)) = doc {
                let events: Vec<Value> = (0..rows.len())
                    .filter(|&i| rows.seq[i] > rec.cursor && pattern.matches(rows.message(i)))
                    .map(|i| {
                        let message = String::from_utf8_lossy(rows.message(i));
                        json!({"id": event_id(Position { ts: rows.ts[i], seq: rows.seq[i] }), "timestamp": rows.ts[i], "message": message})
                    })
                    .collect();
                if !events.is_empty() {
                    let stream = rows.stream.first().and_then(|id| streams.and_then(|s| s.get(id))).cloned().unwrap_or_default();
                    let payload = json!({
                        "messageType": "DATA_MESSAGE",
                        "owner": group.account_id,
                        "logGroup": group.name,
                        "logStream": stream,
                        "subscriptionFilters": [doc.filter_name],
                        "logEvents": events,
                    });
                    let Some((url, kind)) = self.destinations.resolve(&doc.destination_arn) else {
                        tracing::warn!(filter = %doc.filter_name, "subscription destination has no endpoint; holding its events");
                        return Ok(false);
                    };
                    if let Err(e) = self.destinations.post(url, kind, &payload).await {
                        tracing::warn!(filter = %doc.filter_name, error = %e, "subscription delivery failed; will retry");
                        metrics::counter!("trailwatch_subscription_delivery_failures_total").increment(1);
                        return Ok(false);
                    }
                    metrics::counter!("trailwatch_subscription_events_delivered_total").increment(events_len(&payload));
                }
            }
            self.store.advance_log_filter(FilterKind::Subscription, rec.group_id, &rec.name, &rec.body, last).await?;
            rec.cursor = last;
        }
        Ok(true)
    }
}

fn events_len(payload: &Value) -> u64 {
    payload["logEvents"].as_array().map_or(0, |a| a.len() as u64)
}
