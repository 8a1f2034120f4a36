//! Where events go: the CloudWatch Logs calls the shipper needs, behind a trait so the
//! agent ships through the AWS SDK and the server (collecting database audit logs)
//! through its own request pipeline.

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use crate::assemble::Event;

/// Why a call to the log service failed, by what the shipper should do about it.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Throttled, a server error, or credentials not (yet) valid: the call was not
    /// carried out; try again later.
    #[error("{0}")]
    Retry(String),
    /// No answer: unreachable, timed out, or the connection dropped. The call may or may
    /// not have been carried out; try again later, after finding out which.
    #[error("{0}")]
    Unanswered(String),
    /// The log group or stream does not exist (any more): create it and try again.
    #[error("{0}")]
    Missing(String),
    /// The caller may not do this (AccessDeniedException): retried, as a policy can be
    /// fixed, but not something to wait on where there is another way.
    #[error("{0}")]
    Denied(String),
    /// The request itself is refused (InvalidParameterException): sending it again cannot help.
    #[error("{0}")]
    Rejected(String),
}

/// Events PutLogEvents accepted the call but refused one by one, by index in the batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub too_new_start: Option<usize>,
    pub too_old_end: Option<usize>,
    pub expired_end: Option<usize>,
}

impl Refused {
    /// How many of a batch of `len` events were refused.
    pub fn count(&self, len: usize) -> usize {
        let old = self.too_old_end.max(self.expired_end).map_or(0, |i| i + 1);
        let new = self.too_new_start.map_or(0, |i| len.saturating_sub(i));
        (old + new).min(len)
    }
}

/// The log service as the shipper uses it.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Creates the group (with `retention` if it had to be created) and the stream, if missing.
    async fn ensure_stream(&self, group: &str, stream: &str, retention: Option<i32>) -> Result<(), SinkError>;
    /// Sends one batch, in chronological order and within PutLogEvents' limits.
    async fn put(&self, group: &str, stream: &str, events: &[Event]) -> Result<Refused, SinkError>;
    /// The messages of the stream's events with timestamps in `[start, end]`, to tell
    /// whether a batch in flight at a crash was stored.
    async fn messages_between(&self, group: &str, stream: &str, start: i64, end: i64) -> Result<Vec<String>, SinkError>;
}

/// CloudWatch Logs through the AWS SDK for Rust: trailwatch or AWS itself.
pub struct CloudWatchSink {
    client: Client,
}

impl CloudWatchSink {
    pub fn new(client: Client) -> CloudWatchSink {
        CloudWatchSink { client }
    }
}

fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static, R: std::fmt::Debug + Send + Sync + 'static>(
    err: SdkError<E, R>,
) -> SinkError {
    let (code, message) = match &err {
        SdkError::ServiceError(e) => (e.err().code().unwrap_or("").to_owned(), e.err().message().unwrap_or("").to_owned()),
        other => return SinkError::Unanswered(format!("{}", aws_smithy_types::error::display::DisplayErrorContext(other))),
    };
    classify_code(&code, &message)
}

/// What the shipper should do about a CloudWatch Logs error code.
pub fn classify_code(code: &str, message: &str) -> SinkError {
    let text = format!("{code}: {message}");
    match code {
        "ResourceNotFoundException" => SinkError::Missing(text),
        "AccessDeniedException" => SinkError::Denied(text),
        "InvalidParameterException" | "InvalidParameterCombinationException" | "DataAlreadyAcceptedException" => SinkError::Rejected(text),
        _ => SinkError::Retry(text),
    }
}

#[async_trait]
impl Sink for CloudWatchSink {
    async fn ensure_stream(&self, group: &str, stream: &str, retention: Option<i32>) -> Result<(), SinkError> {
        match self.client.create_log_group().log_group_name(group).send().await {
            Ok(_) => {
                if let Some(days) = retention {
                    self.client.put_retention_policy().log_group_name(group).retention_in_days(days).send().await.map_err(classify)?;
                }
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_already_exists_exception()) => {}
            // A role that may write to an existing group but not create groups is refused
            // here; the stream call below says whether that matters.
            Err(e) => match classify(e) {
                SinkError::Denied(_) => {}
                other => return Err(other),
            },
        }
        match self.client.create_log_stream().log_group_name(group).log_stream_name(stream).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_already_exists_exception()) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn put(&self, group: &str, stream: &str, events: &[Event]) -> Result<Refused, SinkError> {
        let events = events
            .iter()
            .map(|e| InputLogEvent::builder().timestamp(e.timestamp).message(e.message.clone()).build().expect("both members are set"))
            .collect();
        let out = self
            .client
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .map_err(classify)?;
        let Some(info) = out.rejected_log_events_info() else { return Ok(Refused::default()) };
        let index = |i: Option<i32>| i.and_then(|i| usize::try_from(i).ok());
        Ok(Refused {
            too_new_start: index(info.too_new_log_event_start_index()),
            too_old_end: index(info.too_old_log_event_end_index()),
            expired_end: index(info.expired_log_event_end_index()),
        })
    }

    async fn messages_between(&self, group: &str, stream: &str, start: i64, end: i64) -> Result<Vec<String>, SinkError> {
        let mut messages = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .start_time(start)
                .end_time(end + 1)
                .start_from_head(true)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(classify)?;
            let events = out.events();
            messages.extend(events.iter().filter_map(|e| e.message().map(str::to_owned)));
            let next = out.next_forward_token().map(str::to_owned);
            // The last page hands back the token it was given.
            if next.is_none() || next == token {
                return Ok(messages);
            }
            token = next;
        }
    }
}

/// A client for the configured endpoint with the SDK's usual credential chain. Retries
/// are the shipper's (with its own backoff), so the SDK's are off.
pub async fn client(agent: &crate::config::AgentSection) -> Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(5))
                .operation_attempt_timeout(std::time::Duration::from_secs(60))
                .build(),
        );
    if let Some(region) = &agent.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &agent.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &agent.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    Client::new(&loader.load().await)
}
