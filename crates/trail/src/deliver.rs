//! Trail delivery, run in the background: log files to the trail's bucket, events to its
//! log group, digests, and notifications of delivered files.
//!
//! Each sink keeps a cursor (the seq of the last event it has dealt with) in the catalog.
//! A log file's key is derived from the trail, region and first event of its batch, and
//! the cursor moves in the transaction that registers the file: after a crash the same
//! events are written again under the same key, so every event lands exactly once.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::Store;
use store::trail::{DeliveredFile, TrailEvent};
use wire::AwsError;

use crate::buckets::Buckets;
use crate::trails::Trail;
use crate::{Recorder, SERVICE_PRINCIPAL};

/// Events read per delivery step.
const BATCH_EVENTS: i64 = 2000;

/// The lease under which one node delivers trails, writes digests and expires history.
pub const DELIVERY_JOB: &str = "trail-delivery";

/// CloudTrail does not send events over 256 KB to CloudWatch Logs.
const MAX_LOGS_EVENT_BYTES: usize = 256 * 1024;

/// PutLogEvents limits: events and bytes (each event counts 26 bytes more).
const PUT_MAX_EVENTS: usize = 10_000;
const PUT_MAX_BYTES: usize = 1_048_576;

/// How often expired event history is removed.
const EXPIRY_EVERY: Duration = Duration::from_secs(3600);

/// Calls an operation as a caller inside trailwatch, through the request pipeline's
/// validation, authorization and recording (implemented by `server::Pipeline`).
#[async_trait::async_trait]
pub trait Dispatch: Send + Sync {
    /// Runs `operation` of the service with `signing_name` for `caller` in `region`.
    async fn call_as(
        &self,
        caller: &iam::Caller,
        region: &str,
        signing_name: &str,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError>;
}

/// How delivery is paced.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// How often new events are delivered (AWS: about 5 minutes).
    pub interval: Duration,
    /// How long each digest covers (AWS: one hour).
    pub digest_interval: Duration,
    /// Notification endpoints by SNS topic name.
    pub topics: BTreeMap<String, String>,
}

/// The background deliverer.
pub struct Delivery {
    store: Arc<Store>,
    buckets: Arc<Buckets>,
    identities: iam::Identities,
    dispatch: Arc<dyn Dispatch>,
    recorder: Recorder,
    keys: Arc<crate::keys::SigningKeys>,
    config: DeliveryConfig,
    http: reqwest::Client,
    /// Role sessions held for log group delivery, by role ARN, until they near expiry.
    sessions: tokio::sync::Mutex<HashMap<String, iam::Caller>>,
    /// Log streams known to exist, as (group, stream).
    streams: tokio::sync::Mutex<std::collections::HashSet<(String, String)>>,
}

impl Delivery {
    /// A deliverer over the store and buckets.
    pub fn new(
        store: Arc<Store>,
        buckets: Arc<Buckets>,
        identities: iam::Identities,
        dispatch: Arc<dyn Dispatch>,
        recorder: Recorder,
        keys: Arc<crate::keys::SigningKeys>,
        config: DeliveryConfig,
    ) -> Self {
        Delivery {
            store,
            buckets,
            identities,
            dispatch,
            recorder,
            keys,
            config,
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("HTTP client builds"),
            sessions: Default::default(),
            streams: Default::default(),
        }
    }

    /// Runs delivery every interval, on the node holding [`DELIVERY_JOB`], until the
    /// task is aborted.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut last_expiry: Option<std::time::Instant> = None;
            loop {
                tokio::time::sleep(self.config.interval).await;
                match self.store.acquire_lease(DELIVERY_JOB, store::lease::TTL).await {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "asking for the trail delivery lease failed");
                        continue;
                    }
                }
                self.run_once().await;
                if last_expiry.is_none_or(|t| t.elapsed() >= EXPIRY_EVERY) {
                    let cutoff = now_millis() - crate::service::HISTORY_MILLIS;
                    if let Err(e) = self.store.expire_trail_events(cutoff).await {
                        tracing::warn!(error = %e, "expiring event history failed");
                    }
                    last_expiry = Some(std::time::Instant::now());
                }
            }
        })
    }

    /// One round: every trail's sinks, then due notifications.
    pub async fn run_once(&self) {
        let trails = match self.store.load_all_trails().await {
            Ok(rows) => rows.into_iter().filter_map(|(_, body)| serde_json::from_str::<Trail>(&body).ok()).collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!(error = %e, "loading trails failed");
                return;
            }
        };
        for trail in &trails {
            self.drive(trail, "s3", || self.deliver_file_batch(trail)).await;
            if trail.cwl_group_arn.is_some() && trail.cwl_role_arn.is_some() {
                self.drive(trail, "logs", || self.deliver_logs_batch(trail)).await;
            }
            if trail.log_file_validation && trail.logging {
                self.deliver_digests(trail).await;
            }
        }
        self.notify().await;
    }

    /// The events after a sink's cursor that the trail selects, with the seq to move the
    /// cursor to; `None` when there is nothing new.
    async fn next_events(&self, trail: &Trail, sink: &str) -> Result<Option<(Vec<TrailEvent>, i64)>, String> {
        let arn = trail.arn();
        let cursor = match self.store.trail_cursor(&arn, sink).await.map_err(|e| e.to_string())? {
            Some(c) => c,
            None if trail.logging => {
                let latest = self.store.latest_trail_event_seq().await.map_err(|e| e.to_string())?;
                self.store.set_trail_cursor(&arn, sink, latest).await.map_err(|e| e.to_string())?;
                latest
            }
            None => return Ok(None),
        };
        let events = self.store.trail_events_after(&trail.account_id, cursor, BATCH_EVENTS).await.map_err(|e| e.to_string())?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(None) };
        // A stopped trail still delivers what was recorded while it was logging.
        let until = if trail.logging { i64::MAX } else { trail.stopped_at.unwrap_or(0) };
        let selected = events.into_iter().filter(|e| e.event_time <= until && trail.selects(e)).collect();
        Ok(Some((selected, last)))
    }

    /// Runs a sink's delivery steps until one finds nothing new or fails, recording the
    /// outcome of each for GetTrailStatus; a failure is retried on the next round.
    async fn drive<F, Fut>(&self, trail: &Trail, sink: &str, mut step: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, String>>,
    {
        let arn = trail.arn();
        loop {
            let result = step().await;
            let now = now_millis();
            match result {
                Ok(false) => return,
                Ok(true) => {
                    let _ = self.store.set_trail_status(&arn, sink, now, None).await;
                }
                Err(e) => {
                    tracing::warn!(trail = %arn, sink, error = %e, "trail delivery failed; will retry");
                    let _ = self.store.set_trail_status(&arn, sink, now, Some(&e)).await;
                    return;
                }
            }
        }
    }

    /// Writes the log files of one batch; returns whether there was a batch.
    async fn deliver_file_batch(&self, trail: &Trail) -> Result<bool, String> {
        let Some((events, last_seq)) = self.next_events(trail, "s3").await? else { return Ok(false) };
        let arn = trail.arn();
        let mut by_region: BTreeMap<&str, Vec<&TrailEvent>> = BTreeMap::new();
        for e in &events {
            by_region.entry(e.region.as_str()).or_default().push(e);
        }
        let mut files = Vec::new();
        let mut notifications = Vec::new();
        for (region, events) in by_region {
            let file = log_file(trail, region, &events);
            self.buckets.put(&trail.s3_bucket, &file.key, file.gzip, &BTreeMap::new()).await?;
            if let Some(topic) = &trail.sns_topic_name {
                notifications.push((topic.clone(), json!({"s3Bucket": trail.s3_bucket, "s3ObjectKey": [file.key]}).to_string()));
            }
            files.push(DeliveredFile {
                region: region.to_owned(),
                bucket: trail.s3_bucket.clone(),
                key: file.key,
                sha256: file.sha256,
                oldest_event: file.oldest,
                newest_event: file.newest,
                delivered_at: now_millis(),
            });
        }
        self.store.commit_trail_files(&arn, &files, &notifications, last_seq).await.map_err(|e| e.to_string())?;
        if !files.is_empty() {
            metrics::counter!("trailwatch_trail_files_delivered_total").increment(files.len() as u64);
        }
        Ok(true)
    }

    /// Sends one batch of events to the trail's log group as its role.
    async fn deliver_logs_batch(&self, trail: &Trail) -> Result<bool, String> {
        let Some((events, last_seq)) = self.next_events(trail, "logs").await? else { return Ok(false) };
        let (Some(role), Some(group), Some(group_arn)) = (&trail.cwl_role_arn, trail.cwl_group_name(), &trail.cwl_group_arn) else {
            return Ok(false);
        };
        let group_region = group_arn.split(':').nth(3).unwrap_or(&trail.home_region).to_owned();
        let caller = self.session(trail, role).await.map_err(|e| format!("{}: {}", e.code, e.message))?;
        let mut by_stream: BTreeMap<String, Vec<&TrailEvent>> = BTreeMap::new();
        for e in events.iter().filter(|e| e.body.len() <= MAX_LOGS_EVENT_BYTES) {
            by_stream.entry(format!("{}_CloudTrail_{}", trail.account_id, e.region)).or_default().push(e);
        }
        for (stream, mut events) in by_stream {
            self.ensure_stream(&caller, &group_region, &group, &stream).await?;
            events.sort_by_key(|e| (e.event_time, e.seq));
            for batch in put_batches(&events) {
                let log_events: Vec<Value> = batch.iter().map(|e| json!({"timestamp": e.event_time, "message": e.body})).collect();
                let input = json!({"logGroupName": group, "logStreamName": stream, "logEvents": log_events});
                if let Err(e) = self.dispatch.call_as(&caller, &group_region, "logs", "PutLogEvents", input).await {
                    if e.code == "ResourceNotFoundException" {
                        // The group or stream was deleted: create the stream again next time.
                        self.streams.lock().await.remove(&(group.clone(), stream.clone()));
                    }
                    return Err(format!("{}: {}", e.code, e.message));
                }
            }
        }
        self.store.set_trail_cursor(&trail.arn(), "logs", last_seq).await.map_err(|e| e.to_string())?;
        Ok(true)
    }

    async fn ensure_stream(&self, caller: &iam::Caller, region: &str, group: &str, stream: &str) -> Result<(), String> {
        let key = (group.to_owned(), stream.to_owned());
        if self.streams.lock().await.contains(&key) {
            return Ok(());
        }
        let input = json!({"logGroupName": group, "logStreamName": stream});
        match self.dispatch.call_as(caller, region, "logs", "CreateLogStream", input).await {
            Ok(_) => {}
            Err(e) if e.code == "ResourceAlreadyExistsException" => {}
            Err(e) => return Err(format!("{}: {}", e.code, e.message)),
        }
        self.streams.lock().await.insert(key);
        Ok(())
    }

    /// A session of the trail's role, assumed as `cloudtrail.amazonaws.com` and kept until
    /// five minutes before it expires. Each AssumeRole is recorded as AWS records it.
    async fn session(&self, trail: &Trail, role: &str) -> Result<iam::Caller, AwsError> {
        let now = time::OffsetDateTime::now_utc();
        let mut sessions = self.sessions.lock().await;
        if let Some(c) = sessions.get(role)
            && c.principal.session.as_ref().is_some_and(|s| s.expires_at > now.unix_timestamp() + 300)
        {
            return Ok(c.clone());
        }
        let session_name = "CloudTrailCloudWatchLogsDelivery";
        let result =
            self.recorder.assume_role_for_service(&self.identities, SERVICE_PRINCIPAL, role, session_name, &trail.home_region).await;
        let caller = result?;
        sessions.insert(role.to_owned(), caller.clone());
        Ok(caller)
    }

    async fn deliver_digests(&self, trail: &Trail) {
        if let Err(e) = crate::digests::deliver(self, trail).await {
            tracing::warn!(trail = %trail.arn(), error = %e, "digest delivery failed; will retry");
            let _ = self.store.set_trail_status(&trail.arn(), "digest", now_millis(), Some(&e)).await;
        }
    }

    /// Posts due notifications to their endpoints; failures are retried with backoff.
    async fn notify(&self) {
        let due = match self.store.due_trail_notifications(now_millis(), 100).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reading notifications failed");
                return;
            }
        };
        for n in due {
            let Some(url) = self.config.topics.get(&n.topic) else { continue };
            let region = n.trail_arn.split(':').nth(3).unwrap_or("us-east-1");
            let account = n.trail_arn.split(':').nth(4).unwrap_or("");
            let body = json!({
                "Type": "Notification",
                "MessageId": uuid::Uuid::new_v4().to_string(),
                "TopicArn": format!("arn:aws:sns:{region}:{account}:{}", n.topic),
                "Message": n.message,
                "Timestamp": crate::record::iso_time(now_millis()),
                "SignatureVersion": "1",
            });
            let sent = self.http.post(url).header("x-amz-sns-message-type", "Notification").json(&body).send().await;
            let now = now_millis();
            match sent {
                Ok(r) if r.status().is_success() => {
                    let _ = self.store.finish_trail_notification(n.id).await;
                    let _ = self.store.set_trail_status(&n.trail_arn, "sns", now, None).await;
                }
                outcome => {
                    let error = match outcome {
                        Ok(r) => format!("endpoint answered {}", r.status()),
                        Err(e) => format!("endpoint unreachable: {e}"),
                    };
                    let backoff = 1000i64 << n.attempts.clamp(0, 8);
                    let _ = self.store.retry_trail_notification(n.id, now + backoff).await;
                    let _ = self.store.set_trail_status(&n.trail_arn, "sns", now, Some(&error)).await;
                }
            }
        }
    }

    /// The store delivery works on.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The buckets delivery writes to.
    pub(crate) fn buckets(&self) -> &Buckets {
        &self.buckets
    }

    /// The keys digests are signed with.
    pub(crate) fn signing_keys(&self) -> &crate::keys::SigningKeys {
        &self.keys
    }

    /// How long each digest covers.
    pub(crate) fn digest_interval(&self) -> Duration {
        self.config.digest_interval
    }
}

/// Splits time-ordered events into PutLogEvents batches within AWS's limits.
fn put_batches<'a>(events: &'a [&'a TrailEvent]) -> Vec<&'a [&'a TrailEvent]> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, e) in events.iter().enumerate() {
        let size = e.body.len() + 26;
        let span_ok = events[start].event_time + 24 * 3600 * 1000 > e.event_time;
        if i > start && (i - start >= PUT_MAX_EVENTS || bytes + size > PUT_MAX_BYTES || !span_ok) {
            batches.push(&events[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < events.len() {
        batches.push(&events[start..]);
    }
    batches
}

/// A log file ready to write.
struct LogFile {
    key: String,
    gzip: Vec<u8>,
    sha256: String,
    oldest: i64,
    newest: i64,
}

/// `{"Records":[...]}` of one region's events, gzip-compressed, under AWS's key layout.
fn log_file(trail: &Trail, region: &str, events: &[&TrailEvent]) -> LogFile {
    let mut json = Vec::with_capacity(events.iter().map(|e| e.body.len() + 1).sum::<usize>() + 16);
    json.extend_from_slice(b"{\"Records\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(e.body.as_bytes());
    }
    json.extend_from_slice(b"]}");
    let sha256 = hex::encode(Sha256::digest(&json));
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::default());
    gz.write_all(&json).expect("writing to memory");
    let gzip = gz.finish().expect("writing to memory");
    let first = events.first().map(|e| (e.event_time, e.seq)).unwrap_or((0, 0));
    let unique = unique_suffix(&format!("{}|{region}|{}", trail.arn(), first.1));
    let key = crate::digest::log_file_key(trail.s3_key_prefix.as_deref(), &trail.account_id, region, first.0, &unique);
    let oldest = events.iter().map(|e| e.event_time).min().unwrap_or(0);
    let newest = events.iter().map(|e| e.event_time).max().unwrap_or(0);
    LogFile { key, gzip, sha256, oldest, newest }
}

/// Sixteen alphanumerics derived from the batch's identity, so a batch written again
/// after a crash lands on the same key.
fn unique_suffix(identity: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    Sha256::digest(identity.as_bytes()).iter().take(16).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

pub(crate) fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_aws_layout() {
        let key = crate::digest::log_file_key(Some("audit"), "123456789012", "us-west-2", 1_389_716_629_000, "AbCdEfGh12345678");
        assert_eq!(
            key,
            "audit/AWSLogs/123456789012/CloudTrail/us-west-2/2014/01/14/123456789012_CloudTrail_us-west-2_20140114T1623Z_AbCdEfGh12345678.json.gz"
        );
        assert_eq!(unique_suffix("x").len(), 16);
        assert_eq!(unique_suffix("x"), unique_suffix("x"));
        assert_ne!(unique_suffix("x"), unique_suffix("y"));
    }

    #[test]
    fn batches_respect_put_limits() {
        let event = |t: i64, size: usize| TrailEvent {
            seq: t,
            region: "r".into(),
            event_time: t,
            event_id: String::new(),
            event_name: String::new(),
            event_source: String::new(),
            read_only: false,
            management: true,
            username: None,
            access_key_id: None,
            resources: String::new(),
            body: "x".repeat(size),
        };
        let events: Vec<TrailEvent> = (0..10).map(|i| event(i, 200_000)).collect();
        let refs: Vec<&TrailEvent> = events.iter().collect();
        let batches = put_batches(&refs);
        assert!(batches.iter().all(|b| b.iter().map(|e| e.body.len() + 26).sum::<usize>() <= PUT_MAX_BYTES));
        assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 10);
        let spread = [event(0, 10), event(25 * 3600 * 1000, 10)];
        let refs: Vec<&TrailEvent> = spread.iter().collect();
        assert_eq!(put_batches(&refs).len(), 2);
    }
}
