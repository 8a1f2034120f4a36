//! `trailwatch validate-logs`: checks a trail's digest and log files as
//! `aws cloudtrail validate-logs` does (same output, same exit codes: 0 all valid,
//! 1 something invalid, 255 an error), and also reports log files no digest lists.
//!
//! The trail comes from CloudTrail DescribeTrails and the public keys from
//! ListPublicKeys; the files are read with S3 ListObjects and GetObject. Region and
//! credentials come from the usual AWS SDK chain.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use async_trait::async_trait;
use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use trail::digest;
use trail::validate::args::{TrailArn, parse_time_arg, public_key_der};
use trail::validate::{self, BucketReader, Entry, Progress, PublicKeys, ReadError, Request, StoredObject, TextOutput};

const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4566";
const HOUR_MS: i64 = 3_600_000;

/// Flags of `trailwatch validate-logs`, named as the aws CLI's.
#[derive(Args, Debug)]
pub struct ValidateLogsArgs {
    /// The ARN of the trail to validate.
    #[arg(long)]
    pub trail_arn: String,
    /// Validate log files delivered on or after this UTC time, e.g. 2026-11-21T10:00:00Z.
    #[arg(long)]
    pub start_time: String,
    /// Validate log files delivered on or before this UTC time [default: now].
    #[arg(long)]
    pub end_time: Option<String>,
    /// The bucket holding the digest files [default: the trail's, from DescribeTrails].
    #[arg(long)]
    pub s3_bucket: Option<String>,
    /// The key prefix of the digest files, with --s3-bucket [default: the trail's].
    #[arg(long)]
    pub s3_prefix: Option<String>,
    /// Log files named in this last stretch of a digest period are not reported as added,
    /// since a later digest may list them [default: 900, AWS's delivery pace].
    #[arg(long, default_value_t = 900)]
    pub added_file_slack_secs: i64,
    /// Also list every valid file.
    #[arg(long)]
    pub verbose: bool,
    /// The trailwatch endpoint [default: AWS_ENDPOINT_URL, else http://127.0.0.1:4566].
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
}

/// Runs the validation and returns the process exit status.
pub async fn run(args: ValidateLogsArgs) -> i32 {
    match validate_logs(args).await {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            // The aws CLI's way of showing a failure.
            eprint!("\n{e:#}\n");
            255
        }
    }
}

/// Returns whether everything was valid.
async fn validate_logs(args: ValidateLogsArgs) -> anyhow::Result<bool> {
    let arn = TrailArn::parse(&args.trail_arn).map_err(anyhow::Error::msg)?;
    let start = parse_time_arg(&args.start_time).map_err(anyhow::Error::msg)?;
    let end = match &args.end_time {
        Some(t) => parse_time_arg(t).map_err(anyhow::Error::msg)?,
        None => now_ms(),
    };
    if start > end {
        anyhow::bail!("Invalid time range specified: start-time must occur before end-time");
    }

    let endpoint = args.endpoint_url.clone().unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let region = aws_config::meta::region::RegionProviderChain::default_provider().or_else(aws_config::Region::new(arn.region.clone()));
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).region(region).endpoint_url(&endpoint).load().await;
    let source_region = sdk.region().map_or_else(|| arn.region.clone(), |r| r.to_string());
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk);
    let s3_endpoint = std::env::var("AWS_ENDPOINT_URL_S3").ok().filter(|e| !e.is_empty()).unwrap_or_else(|| endpoint.clone());
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).endpoint_url(&s3_endpoint).force_path_style(true).build());

    let (bucket, prefix) = match &args.s3_bucket {
        Some(bucket) => (bucket.clone(), args.s3_prefix.clone()),
        None => describe_trail(&cloudtrail, &endpoint, &args.trail_arn).await?,
    };

    let mut text = TextOutput::new(args.verbose);
    text.startup(&args.trail_arn, start, end, &mut std::io::stdout())?;

    let keys = public_keys(&cloudtrail, &endpoint, start, end + 2 * HOUR_MS).await?;
    let request = Request {
        account_id: arn.account_id,
        trail_name: arn.name,
        home_region: arn.region,
        region: source_region,
        bucket,
        prefix: prefix.filter(|p| !p.is_empty()),
        start,
        end,
        added_file_slack: args.added_file_slack_secs * 1000,
    };

    let bar = progress_bar();
    let mut logs_seen = 0u64;
    let mut on_progress = |p: Progress<'_>| match p {
        Progress::DigestsListed(n) => show_length(&bar, n as u64),
        Progress::Entry(entry) => {
            match entry {
                Entry::Digest { .. } => {
                    bar.inc(1);
                    if bar.position() > bar.length().unwrap_or(0) {
                        bar.set_length(bar.position());
                    }
                }
                Entry::LogFile { .. } => {
                    logs_seen += 1;
                    bar.set_message(format!("{logs_seen} log files"));
                }
                Entry::Gap { .. } => {}
            }
            // Write errors (a closed pipe) must not stop the validation; the exit status still tells.
            let _ = bar.suspend(|| text.entry(entry, &mut std::io::stdout(), &mut std::io::stderr()));
        }
    };
    let reader = S3Reader { client: s3, endpoint: s3_endpoint };
    let report = validate::validate(&reader, &keys, &request, &mut on_progress).await;
    bar.finish_and_clear();
    let report = report?;
    text.summary(&report, &mut std::io::stdout())?;
    std::io::stdout().flush()?;
    Ok(report.is_valid())
}

/// The progress bar on stderr, hidden when stderr is not a terminal; a spinner until
/// the number of digest files is known.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::no_length();
    bar.set_style(ProgressStyle::with_template("{spinner} listing digest files").expect("the template is valid"));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Turns the spinner into a bar over `digests` digest files.
fn show_length(bar: &ProgressBar, digests: u64) {
    bar.set_length(digests);
    bar.set_message("0 log files");
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} digest files, {msg}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
}

/// The trail's bucket and prefix, from DescribeTrails.
async fn describe_trail(client: &aws_sdk_cloudtrail::Client, endpoint: &str, trail_arn: &str) -> anyhow::Result<(String, Option<String>)> {
    let out = client.describe_trails().trail_name_list(trail_arn).send().await.map_err(|e| sdk_error(e, "DescribeTrails", endpoint))?;
    let trail = out
        .trail_list()
        .iter()
        .find(|t| t.trail_arn() == Some(trail_arn))
        .ok_or_else(|| anyhow::anyhow!("A trail could not be found for {trail_arn}"))?;
    let bucket = trail.s3_bucket_name().ok_or_else(|| anyhow::anyhow!("The trail {trail_arn} has no S3 bucket"))?;
    Ok((bucket.to_owned(), trail.s3_key_prefix().map(str::to_owned)))
}

/// The public keys valid between `start` and `end`, by fingerprint, from ListPublicKeys.
async fn public_keys(client: &aws_sdk_cloudtrail::Client, endpoint: &str, start: i64, end: i64) -> anyhow::Result<PublicKeys> {
    let mut keys = HashMap::new();
    let mut token = None;
    loop {
        let out = client
            .list_public_keys()
            .start_time(aws_sdk_cloudtrail::primitives::DateTime::from_millis(start))
            .end_time(aws_sdk_cloudtrail::primitives::DateTime::from_millis(end))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error(e, "ListPublicKeys", endpoint))?;
        for key in out.public_key_list() {
            if let (Some(fingerprint), Some(value)) = (key.fingerprint(), key.value()) {
                keys.insert(fingerprint.to_owned(), public_key_der(value.as_ref()));
            }
        }
        token = out.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    if keys.is_empty() {
        anyhow::bail!("No public keys found between {} and {}", digest::format_time(start), digest::format_time(end));
    }
    Ok(keys)
}

/// An SDK error as the aws CLI words it.
fn sdk_error<E, R>(e: SdkError<E, R>, operation: &str, endpoint: &str) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if matches!(e, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) {
        return anyhow::anyhow!("Could not connect to the endpoint URL: \"{endpoint}\"");
    }
    match (e.code(), e.message()) {
        (Some(code), message) => {
            anyhow::anyhow!("An error occurred ({code}) when calling the {operation} operation: {}", message.unwrap_or_default())
        }
        _ => anyhow::anyhow!("{operation} failed: {}", aws_sdk_cloudtrail::error::DisplayErrorContext(&e)),
    }
}

/// Reads buckets through the S3 API (ListObjects with Marker, as the aws CLI; GetObject).
struct S3Reader {
    client: aws_sdk_s3::Client,
    endpoint: String,
}

#[async_trait]
impl BucketReader for S3Reader {
    async fn list(&self, bucket: &str, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, ReadError> {
        let mut keys = Vec::new();
        let mut marker = start_after.map(str::to_owned);
        loop {
            let out = self
                .client
                .list_objects()
                .bucket(bucket)
                .prefix(prefix)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| ReadError(format!("{:#}", sdk_error(e, "ListObjects", &self.endpoint))))?;
            let page: Vec<String> = out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
            let last = page.last().cloned();
            keys.extend(page);
            match (out.is_truncated(), out.next_marker().map(str::to_owned).or(last)) {
                (Some(true), Some(next)) if Some(&next) != marker.as_ref() => marker = Some(next),
                _ => break,
            }
        }
        Ok(keys)
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, ReadError> {
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) || e.code() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(ReadError(format!("{:#}", sdk_error(e, "GetObject", &self.endpoint)))),
        };
        let metadata = out.metadata().map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect()).unwrap_or_default();
        let body = out.body.collect().await.map_err(|e| ReadError(format!("reading s3://{bucket}/{key}: {e}")))?.into_bytes().to_vec();
        Ok(Some(StoredObject { body, metadata }))
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
