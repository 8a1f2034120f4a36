//! The AWS SDK client the bench talks to trailwatch with, and the setup phase.

use std::fmt::Write as _;
use std::io::Read;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;

/// The region trailwatch serves.
pub const REGION: &str = "us-east-1";

/// Any single request taking longer than this is a failure, not a data point.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);

/// Root credentials of the server under test.
pub struct Creds {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl Creds {
    /// Fresh random credentials for a server the bench starts itself.
    pub fn invent() -> Result<Self> {
        let mut bytes = [0u8; 28];
        std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).context("reading /dev/urandom")?;
        // AWS shape: 20-character AKIA… id, 40-character secret.
        Ok(Self { access_key_id: format!("AKIA{}", hex_upper(&bytes[..8])), secret_access_key: hex_upper(&bytes[8..]) })
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

/// An SDK config pointed at `endpoint` with static credentials.
///
/// Retries are disabled: a retried PutLogEvents could store a batch twice and
/// would hide latency, and the exact-count checks need every request to count once.
pub async fn sdk_config(endpoint: &str, creds: &Creds) -> aws_config::SdkConfig {
    let credentials = Credentials::new(&creds.access_key_id, &creds.secret_access_key, None, None, "trailwatch-bench");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::builder().operation_timeout(OPERATION_TIMEOUT).build())
        .load()
        .await
}

/// Wraps an SDK error with the operation name and its full cause chain.
///
/// The SDK's own `Display` is just "service error"; the context form shows the
/// server's error code and message, which is what a server author needs.
pub fn sdk_error<E: std::error::Error>(operation: &str, error: E) -> anyhow::Error {
    anyhow!("{operation} failed: {}", DisplayErrorContext(error))
}

/// Creates the log group and one stream per name; the group must be new.
pub async fn create_group_and_streams(client: &Client, group: &str, streams: &[String]) -> Result<()> {
    if let Err(error) = client.create_log_group().log_group_name(group).send().await {
        let exists = error.as_service_error().is_some_and(|e| e.is_resource_already_exists_exception());
        if exists {
            bail!(
                "log group {group} already exists; the exact-count checks need a fresh group \
                 (delete it or pass --log-group)"
            );
        }
        return Err(sdk_error("CreateLogGroup", error));
    }
    for stream in streams {
        client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .map_err(|e| sdk_error("CreateLogStream", e))?;
    }
    Ok(())
}
