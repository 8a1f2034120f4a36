//! Settings of `trailwatch serve`: flags, `TRAILWATCH_*` environment variables and an
//! optional TOML file, in that order of precedence, over embedded defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

/// Flags of `trailwatch serve`; each also reads a `TRAILWATCH_*` variable.
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// A TOML file with any of the settings below (keys in snake_case).
    #[arg(long, env = "TRAILWATCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:4566].
    #[arg(long, env = "TRAILWATCH_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory for the catalog, segments and keys [default: ./trailwatch-data].
    #[arg(long, env = "TRAILWATCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Directory of the local S3 buckets, one subdirectory per bucket [default: <data-dir>/buckets].
    #[arg(long, env = "TRAILWATCH_BUCKET_DIR")]
    pub bucket_dir: Option<PathBuf>,
    /// The catalog database: `postgres://user:password@host/db` for a cluster of nodes,
    /// or `sqlite://path` [default: <data-dir>/catalog.sqlite].
    #[arg(long, env = "TRAILWATCH_CATALOG", hide_env_values = true)]
    pub catalog: Option<String>,
    /// Where segments live: `s3://bucket/prefix` for a cluster of nodes, or a directory
    /// [default: <data-dir>/segments].
    #[arg(long, env = "TRAILWATCH_OBJECTS")]
    pub objects: Option<String>,
    /// The S3-compatible endpoint of `--objects` [default: AWS_ENDPOINT_URL, else AWS].
    #[arg(long, env = "TRAILWATCH_OBJECTS_ENDPOINT")]
    pub objects_endpoint: Option<String>,
    /// The region to sign for at that endpoint [default: AWS_REGION].
    #[arg(long, env = "TRAILWATCH_OBJECTS_REGION")]
    pub objects_region: Option<String>,
    /// Access key ID for the objects' bucket [default: AWS_ACCESS_KEY_ID].
    #[arg(long, env = "TRAILWATCH_OBJECTS_ACCESS_KEY_ID", hide_env_values = true)]
    pub objects_access_key_id: Option<String>,
    /// Secret access key for the objects' bucket [default: AWS_SECRET_ACCESS_KEY].
    #[arg(long, env = "TRAILWATCH_OBJECTS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub objects_secret_access_key: Option<String>,
    /// Address the objects' bucket as `bucket.endpoint` instead of `endpoint/bucket`.
    #[arg(long, env = "TRAILWATCH_OBJECTS_VIRTUAL_HOSTED_STYLE")]
    pub objects_virtual_hosted_style: bool,
    /// The 12-digit account ID [default: generated once and kept in the data directory].
    #[arg(long, env = "TRAILWATCH_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// Root access key ID [default: generated once].
    #[arg(long, env = "TRAILWATCH_ROOT_ACCESS_KEY_ID", hide_env_values = true)]
    pub root_access_key_id: Option<String>,
    /// Root secret access key [default: generated once].
    #[arg(long, env = "TRAILWATCH_ROOT_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub root_secret_access_key: Option<String>,
    /// Master key for encryption at rest, 64 hex digits [default: generated into the data directory].
    #[arg(long, env = "TRAILWATCH_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Largest accepted clock difference of a signed request, in seconds [default: 300].
    #[arg(long, env = "TRAILWATCH_MAX_CLOCK_SKEW_SECS")]
    pub max_clock_skew_secs: Option<u64>,
    /// Largest log event in bytes, message plus 26 [default: 1048576].
    #[arg(long, env = "TRAILWATCH_MAX_EVENT_BYTES")]
    pub max_event_bytes: Option<usize>,
    /// How long ingest waits to group batches into one write, in milliseconds [default: 2].
    #[arg(long, env = "TRAILWATCH_COMMIT_WINDOW_MS")]
    pub commit_window_ms: Option<u64>,
    /// Pause between background maintenance rounds, in seconds [default: 10].
    #[arg(long, env = "TRAILWATCH_MAINTENANCE_INTERVAL_SECS")]
    pub maintenance_interval_secs: Option<u64>,
    /// Age after which freshly ingested blocks are compacted, in seconds [default: 30].
    #[arg(long, env = "TRAILWATCH_COMPACT_AFTER_SECS")]
    pub compact_after_secs: Option<u64>,
    /// How long unreferenced segment objects are kept for running reads, in seconds [default: 60].
    #[arg(long, env = "TRAILWATCH_SEGMENT_GRACE_SECS")]
    pub segment_grace_secs: Option<u64>,
    /// How often trails deliver new events, in seconds [default: 300].
    #[arg(long, env = "TRAILWATCH_TRAIL_DELIVERY_SECS")]
    pub trail_delivery_secs: Option<u64>,
    /// How long each trail digest file covers, in seconds [default: 3600].
    #[arg(long, env = "TRAILWATCH_TRAIL_DIGEST_SECS")]
    pub trail_digest_secs: Option<u64>,
    /// A notification endpoint for a trail's SnsTopicName, as NAME=URL (repeatable).
    #[arg(long = "sns-endpoint", env = "TRAILWATCH_SNS_ENDPOINTS", value_delimiter = ',')]
    pub sns_endpoints: Vec<String>,
    /// An HTTP endpoint receiving a subscription filter's events, as NAME=URL where NAME
    /// is the resource name ending the destination ARN (repeatable).
    #[arg(long = "subscription-endpoint", env = "TRAILWATCH_SUBSCRIPTION_ENDPOINTS", value_delimiter = ',')]
    pub subscription_endpoints: Vec<String>,
    /// How often alarms are evaluated, in seconds [default: 10].
    #[arg(long, env = "TRAILWATCH_ALARM_EVALUATION_SECS")]
    pub alarm_evaluation_secs: Option<u64>,
    /// Memory for decoded event blocks that reads and queries reuse, in MiB [default: 128].
    /// A node that people query should hold the data they query again (see BENCHMARKS.md).
    #[arg(long, env = "TRAILWATCH_BLOCK_CACHE_MB")]
    pub block_cache_mb: Option<u64>,
    /// An S3-compatible endpoint holding trail buckets instead of the bucket directory.
    #[arg(long, env = "TRAILWATCH_TRAIL_S3_ENDPOINT")]
    pub trail_s3_endpoint: Option<String>,
    /// The region to sign for at that endpoint [default: us-east-1].
    #[arg(long, env = "TRAILWATCH_TRAIL_S3_REGION")]
    pub trail_s3_region: Option<String>,
    /// Access key ID for that endpoint.
    #[arg(long, env = "TRAILWATCH_TRAIL_S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub trail_s3_access_key_id: Option<String>,
    /// Secret access key for that endpoint.
    #[arg(long, env = "TRAILWATCH_TRAIL_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub trail_s3_secret_access_key: Option<String>,
    /// The address DB instances listen on and report as their endpoint [default: the
    /// listen address, or 127.0.0.1 when that is unspecified].
    #[arg(long, env = "TRAILWATCH_RDS_HOST")]
    pub rds_host: Option<String>,
}

/// The same settings as read from the TOML file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    bucket_dir: Option<PathBuf>,
    catalog: Option<String>,
    objects: Option<String>,
    objects_endpoint: Option<String>,
    objects_region: Option<String>,
    objects_access_key_id: Option<String>,
    objects_secret_access_key: Option<String>,
    #[serde(default)]
    objects_virtual_hosted_style: bool,
    account_id: Option<String>,
    root_access_key_id: Option<String>,
    root_secret_access_key: Option<String>,
    master_key: Option<String>,
    max_clock_skew_secs: Option<u64>,
    max_event_bytes: Option<usize>,
    commit_window_ms: Option<u64>,
    maintenance_interval_secs: Option<u64>,
    compact_after_secs: Option<u64>,
    segment_grace_secs: Option<u64>,
    trail_delivery_secs: Option<u64>,
    trail_digest_secs: Option<u64>,
    #[serde(default)]
    sns_endpoints: Vec<String>,
    #[serde(default)]
    subscription_endpoints: Vec<String>,
    alarm_evaluation_secs: Option<u64>,
    block_cache_mb: Option<u64>,
    trail_s3_endpoint: Option<String>,
    trail_s3_region: Option<String>,
    trail_s3_access_key_id: Option<String>,
    trail_s3_secret_access_key: Option<String>,
    rds_host: Option<String>,
}

/// Parses `NAME=URL` pairs; `what` names them in the error.
fn name_urls(pairs: Vec<String>, what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for e in pairs {
        let (name, url) = e.split_once('=').with_context(|| format!("{what} is NAME=URL, got {e:?}"))?;
        out.insert(name.to_owned(), url.to_owned());
    }
    Ok(out)
}

/// Resolved settings.
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The local S3 buckets: flag, `TRAILWATCH_BUCKET_DIR`, `bucket_dir`, else `<data-dir>/buckets`.
    pub bucket_dir: PathBuf,
    /// The catalog's URL; `None` is the SQLite file in the data directory.
    pub catalog: Option<String>,
    /// Where segments live.
    pub objects: store::ObjectsConfig,
    pub account_id: Option<String>,
    pub root_access_key_id: Option<String>,
    pub root_secret_access_key: Option<String>,
    pub master_key: Option<[u8; 32]>,
    pub max_clock_skew_secs: u64,
    pub max_event_bytes: usize,
    pub commit_window: Duration,
    pub maintenance_interval: Duration,
    pub compact_after: Duration,
    pub segment_grace: Duration,
    pub trail_delivery: Duration,
    pub trail_digest: Duration,
    pub sns_endpoints: BTreeMap<String, String>,
    /// Subscription destinations by name.
    pub subscription_endpoints: BTreeMap<String, String>,
    pub alarm_evaluation: Duration,
    /// Budget of the decoded-block cache, in bytes.
    pub block_cache_bytes: usize,
    pub trail_s3: Option<trail::buckets::S3Endpoint>,
    /// The address DB instances listen on and report.
    pub rds_host: String,
}

impl Settings {
    /// Merges flags and environment over the config file over the defaults.
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let master_key = args.master_key.or(file.master_key).map(|k| parse_master_key(&k)).transpose()?;
        let account_id = args.account_id.or(file.account_id);
        if let Some(id) = &account_id {
            anyhow::ensure!(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()), "the account ID must be 12 digits, got {id:?}");
        }
        let data_dir = args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("./trailwatch-data"));
        let sns_endpoints =
            name_urls(if args.sns_endpoints.is_empty() { file.sns_endpoints } else { args.sns_endpoints }, "an SNS endpoint")?;
        let subscription_endpoints = name_urls(
            if args.subscription_endpoints.is_empty() { file.subscription_endpoints } else { args.subscription_endpoints },
            "a subscription endpoint",
        )?;
        let trail_s3 = match args.trail_s3_endpoint.or(file.trail_s3_endpoint) {
            None => None,
            Some(url) => Some(trail::buckets::S3Endpoint {
                url,
                region: args.trail_s3_region.or(file.trail_s3_region).unwrap_or_else(|| "us-east-1".to_owned()),
                access_key_id: args.trail_s3_access_key_id.or(file.trail_s3_access_key_id).unwrap_or_default(),
                secret_access_key: args.trail_s3_secret_access_key.or(file.trail_s3_secret_access_key).unwrap_or_default(),
            }),
        };
        let catalog = args.catalog.or(file.catalog);
        let objects = match args.objects.or(file.objects) {
            None => store::ObjectsConfig::Directory(data_dir.join("segments")),
            Some(location) => match store::ObjectsConfig::parse(&location).map_err(|e| anyhow::anyhow!("--objects {e}"))? {
                store::ObjectsConfig::S3(mut s3) => {
                    s3.endpoint = args.objects_endpoint.or(file.objects_endpoint);
                    s3.region = args.objects_region.or(file.objects_region);
                    s3.access_key_id = args.objects_access_key_id.or(file.objects_access_key_id);
                    s3.secret_access_key = args.objects_secret_access_key.or(file.objects_secret_access_key);
                    s3.path_style = !(args.objects_virtual_hosted_style || file.objects_virtual_hosted_style);
                    store::ObjectsConfig::S3(s3)
                }
                dir => dir,
            },
        };
        let shared = objects.is_shared() || catalog.as_deref().is_some_and(|c| c.starts_with("postgres"));
        // Every node must seal and open with one key, and a key generated into one
        // node's data directory is no key the others have.
        anyhow::ensure!(
            !shared || master_key.is_some(),
            "a shared catalog or object store needs --master-key (TRAILWATCH_MASTER_KEY), the same on every node"
        );
        let listen: SocketAddr = args.listen.or(file.listen).unwrap_or_else(|| "127.0.0.1:4566".parse().expect("valid default"));
        let rds_host = args
            .rds_host
            .or(file.rds_host)
            .unwrap_or_else(|| if listen.ip().is_unspecified() { "127.0.0.1".to_owned() } else { listen.ip().to_string() });
        Ok(Settings {
            catalog,
            objects,
            rds_host,
            bucket_dir: args.bucket_dir.or(file.bucket_dir).unwrap_or_else(|| data_dir.join("buckets")),
            trail_delivery: Duration::from_secs(args.trail_delivery_secs.or(file.trail_delivery_secs).unwrap_or(300).max(1)),
            trail_digest: Duration::from_secs(args.trail_digest_secs.or(file.trail_digest_secs).unwrap_or(3600).max(1)),
            sns_endpoints,
            subscription_endpoints,
            alarm_evaluation: Duration::from_secs(args.alarm_evaluation_secs.or(file.alarm_evaluation_secs).unwrap_or(10).max(1)),
            block_cache_bytes: args.block_cache_mb.or(file.block_cache_mb).map_or(DEFAULT_BLOCK_CACHE_BYTES, |mb| (mb << 20) as usize),
            trail_s3,
            listen,
            data_dir,
            account_id,
            root_access_key_id: args.root_access_key_id.or(file.root_access_key_id),
            root_secret_access_key: args.root_secret_access_key.or(file.root_secret_access_key),
            master_key,
            max_clock_skew_secs: args.max_clock_skew_secs.or(file.max_clock_skew_secs).unwrap_or(300),
            max_event_bytes: args.max_event_bytes.or(file.max_event_bytes).unwrap_or(1_048_576),
            commit_window: Duration::from_millis(args.commit_window_ms.or(file.commit_window_ms).unwrap_or(2)),
            maintenance_interval: Duration::from_secs(args.maintenance_interval_secs.or(file.maintenance_interval_secs).unwrap_or(10)),
            compact_after: Duration::from_secs(args.compact_after_secs.or(file.compact_after_secs).unwrap_or(30)),
            segment_grace: Duration::from_secs(args.segment_grace_secs.or(file.segment_grace_secs).unwrap_or(60)),
        })
    }

    /// The storage settings.
    pub fn store_config(&self) -> store::StoreConfig {
        let mut c = store::StoreConfig::new(&self.data_dir);
        c.catalog_url = self.catalog.clone();
        c.objects = self.objects.clone();
        c.master_key = self.master_key;
        c.commit_window = self.commit_window;
        c.cache_bytes = self.block_cache_bytes;
        c.maintenance.interval = self.maintenance_interval;
        c.maintenance.compact_after = self.compact_after;
        c.maintenance.grace = self.segment_grace;
        c
    }
}

/// The default decoded-block cache: small, so a node's memory stays within the ingest
/// budget; a query-heavy node is given more with `--block-cache-mb`.
const DEFAULT_BLOCK_CACHE_BYTES: usize = 128 << 20;

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub(crate) fn parse_master_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(text.trim()).context("the master key must be hex")?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("the master key must be 32 bytes (64 hex digits)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_dir_defaults_under_the_data_dir_and_follows_file_then_flag() {
        let args = ServeArgs { data_dir: Some("/srv/tw".into()), ..Default::default() };
        assert_eq!(Settings::resolve(args).unwrap().bucket_dir, PathBuf::from("/srv/tw/buckets"));

        let dir = std::env::temp_dir().join(format!("trailwatch-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("trailwatch.toml");
        std::fs::write(&file, "data_dir = \"/srv/tw\"\nbucket_dir = \"/srv/buckets\"\n").unwrap();
        let args = ServeArgs { config: Some(file.clone()), ..Default::default() };
        assert_eq!(Settings::resolve(args).unwrap().bucket_dir, PathBuf::from("/srv/buckets"));
        let args = ServeArgs { config: Some(file), bucket_dir: Some("/mnt/b".into()), ..Default::default() };
        assert_eq!(Settings::resolve(args).unwrap().bucket_dir, PathBuf::from("/mnt/b"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_shared_catalog_or_bucket_needs_the_master_key_and_takes_the_objects_settings() {
        let pg = || ServeArgs { catalog: Some("postgres://tw@db/tw".into()), ..Default::default() };
        let err = Settings::resolve(pg()).err().expect("refused without a master key").to_string();
        assert!(err.contains("--master-key"), "{err}");
        let key = "00".repeat(32);
        let args = ServeArgs {
            objects: Some("s3://audit/prod".into()),
            objects_endpoint: Some("http://garage:3900".into()),
            master_key: Some(key.clone()),
            ..Default::default()
        };
        let store::ObjectsConfig::S3(s3) = Settings::resolve(args).unwrap().objects else { panic!("not a bucket") };
        assert_eq!(
            (s3.bucket.as_str(), s3.prefix.as_str(), s3.endpoint.as_deref(), s3.path_style),
            ("audit", "prod", Some("http://garage:3900"), true)
        );
        let embedded = Settings::resolve(ServeArgs { data_dir: Some("/srv/tw".into()), ..Default::default() }).unwrap();
        assert!(matches!(embedded.objects, store::ObjectsConfig::Directory(ref d) if d == Path::new("/srv/tw/segments")));
        assert!(embedded.catalog.is_none());
        assert!(Settings::resolve(ServeArgs { master_key: Some(key), ..pg() }).is_ok());
    }
}
