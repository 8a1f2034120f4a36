//! Makes recorded events durable off the request path: callers hand events to one
//! committer task, which writes whatever has gathered in one transaction.
//!
//! A call that changed something waits for its event to be durable before it is
//! answered, so no acknowledged change goes unrecorded. A read-only call does not wait:
//! its event is durable within a commit, and shutdown drains every event handed over.

use std::sync::Arc;
use std::time::Duration;

use store::Store;
use store::trail::NewTrailEvent;
use tokio::sync::{mpsc, oneshot};

/// Most events written in one transaction.
const MAX_BATCH: usize = 2048;

/// Events waiting for the committer before callers feel backpressure.
const QUEUE: usize = 65_536;

/// The handle the pipeline records through.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Pending>,
    done: Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

struct Pending {
    event: NewTrailEvent,
    ack: Option<oneshot::Sender<bool>>,
}

impl Recorder {
    /// AssumeRole by one of trailwatch's own services (`cloudtrail.amazonaws.com`
    /// delivering to a log group, `rds.amazonaws.com` publishing database logs), recorded
    /// as AWS records a service's call, durably, before the session is used.
    pub async fn assume_role_for_service(
        &self,
        identities: &iam::Identities,
        service: &str,
        role: &str,
        session_name: &str,
        region: &str,
    ) -> Result<iam::Caller, wire::AwsError> {
        let now = time::OffsetDateTime::now_utc();
        let result = identities.assume_role_for_service(service, role, session_name, now);
        let response = result.as_ref().ok().map(|c| {
            serde_json::json!({
                "credentials": {"accessKeyId": c.principal.access_key_id, "expiration": c.principal.session.as_ref().map(|s| crate::record::iso_time(s.expires_at * 1000))},
                "assumedRoleUser": {"assumedRoleId": c.principal.id, "arn": c.principal.arn},
            })
        });
        let role_name = role.rsplit('/').next().unwrap_or(role).to_owned();
        let event = crate::record::from_service_call(crate::record::ServiceCall {
            invoked_by: service,
            account_id: identities.account_id(),
            region,
            event_source: "sts.amazonaws.com",
            event_name: "AssumeRole",
            request_parameters: serde_json::json!({"roleArn": role, "roleSessionName": session_name}),
            outcome: match &result {
                Ok(_) => Ok(response.unwrap_or(serde_json::Value::Null)),
                Err(e) => Err(e),
            },
            now_millis: (now.unix_timestamp_nanos() / 1_000_000) as i64,
            resources: vec![("AWS::IAM::Role".to_owned(), role_name, role.to_owned())],
        });
        self.record(event, true).await;
        result
    }

    /// Starts the committer over a store.
    pub fn start(store: Arc<Store>) -> Recorder {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(commit_loop(store, rx));
        Recorder { tx, done: Arc::new(tokio::sync::Mutex::new(Some(task))) }
    }

    /// Hands an event over; with `durable`, returns once it is committed. Returns false
    /// when the event could not be stored (the error has been logged).
    pub async fn record(&self, event: NewTrailEvent, durable: bool) -> bool {
        let (ack, wait) = if durable {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        if self.tx.send(Pending { event, ack }).await.is_err() {
            tracing::error!("trail recorder is stopped; an event was not recorded");
            metrics::counter!("trailwatch_trail_events_lost_total").increment(1);
            return false;
        }
        match wait {
            Some(rx) => rx.await.unwrap_or(false),
            None => true,
        }
    }

    /// Returns once every event handed over before the call is committed: event history
    /// reads its own writes.
    pub async fn flush(&self) {
        let (ack, rx) = oneshot::channel();
        let barrier = Pending { event: barrier_event(), ack: Some(ack) };
        if self.tx.send(barrier).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Commits every event handed over so far and stops the committer.
    pub async fn shutdown(&self) {
        let task = self.done.lock().await.take();
        // Dropping our sender is not enough while clones live in the pipeline: drain the
        // queue through a final barrier, then stop the task.
        self.flush().await;
        if let Some(task) = task {
            task.abort();
        }
    }
}

/// A marker the committer acknowledges without storing: everything before it is durable.
fn barrier_event() -> NewTrailEvent {
    NewTrailEvent {
        account_id: String::new(),
        region: String::new(),
        event_time: 0,
        event_id: String::new(),
        event_name: String::new(),
        event_source: String::new(),
        read_only: true,
        management: false,
        username: None,
        access_key_id: None,
        resources: String::new(),
        body: String::new(),
    }
}

async fn commit_loop(store: Arc<Store>, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut events = Vec::with_capacity(batch.len());
        let mut acks = Vec::new();
        for p in batch.drain(..) {
            if !p.event.event_id.is_empty() {
                events.push(p.event);
            }
            acks.extend(p.ack);
        }
        let ok = commit(&store, &events).await;
        for ack in acks {
            let _ = ack.send(ok);
        }
    }
}

/// Writes one batch, retrying a failing catalog a few times before giving up on it.
async fn commit(store: &Store, events: &[NewTrailEvent]) -> bool {
    if events.is_empty() {
        return true;
    }
    for attempt in 0..5u32 {
        match store.insert_trail_events(events).await {
            Ok(()) => {
                metrics::counter!("trailwatch_trail_events_recorded_total").increment(events.len() as u64);
                return true;
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "recording trail events failed; retrying");
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
        }
    }
    tracing::error!(events = events.len(), "trail events could not be recorded");
    metrics::counter!("trailwatch_trail_events_lost_total").increment(events.len() as u64);
    false
}
