//! The HTTP server: routing, the one request pipeline every AWS call flows through,
//! the `/_trailwatch/` endpoints (health, metrics, the web console), and the lifecycle of background work.

pub mod observe;
pub mod pipeline;
mod rest;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::serve::ListenerExt;
use iam::Identities;
use store::Store;
use tokio::net::TcpListener;

pub use pipeline::Pipeline;

/// Largest request body accepted: a full PutLogEvents batch with JSON escaping fits.
const MAX_BODY_BYTES: usize = 16 << 20;

/// How soon a subscription delivery that failed is tried again (sooner when events arrive).
const FILTER_RETRY: Duration = Duration::from_secs(2);
/// How soon an IAM change made on one node is seen by the others (cluster mode).
const IAM_REFRESH: Duration = Duration::from_secs(1);

/// Everything the server needs to run.
pub struct ServerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Known credentials and principals.
    pub identities: Identities,
    /// How far a request's signing time may be from server time.
    pub max_clock_skew: Duration,
    /// Limits of the logs service.
    pub logs_limits: logs::Limits,
    /// The directory of the local S3 buckets (`<bucket-dir>/<bucket>/<key>`), which the
    /// S3 API serves and trail delivery writes into.
    pub bucket_dir: std::path::PathBuf,
    /// How trails deliver.
    pub trail: TrailSettings,
    /// Where DB instances run.
    pub rds: RdsSettings,
    /// Where subscription filters deliver: destination name → URL.
    pub subscription_endpoints: std::collections::BTreeMap<String, String>,
    /// How often alarms are evaluated.
    pub alarm_evaluation: Duration,
}

/// Where DB instances run.
pub struct RdsSettings {
    /// Their data directories and logs (`<data-dir>/rds`).
    pub dir: std::path::PathBuf,
    /// The address their servers listen on and DescribeDBInstances reports.
    pub host: String,
}

/// How trails deliver.
pub struct TrailSettings {
    /// Pacing and notification endpoints.
    pub delivery: trail::DeliveryConfig,
    /// An S3-compatible endpoint holding trail buckets instead of the bucket directory.
    pub remote_buckets: Option<trail::buckets::S3Endpoint>,
}

/// Builds the router over a pipeline.
pub fn router(pipeline: Arc<Pipeline>, metrics: observe::Metrics) -> Router {
    Router::new()
        .route("/_trailwatch/health", get(|| async { "ok" }))
        .route("/_trailwatch/metrics", get(move || std::future::ready(metrics.render())))
        .merge(console::router())
        .fallback(pipeline::handle)
        .with_state(pipeline)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Serves until `shutdown` resolves, then finishes in-flight requests and makes every
/// accepted write durable before returning.
pub async fn serve(
    config: ServerConfig,
    store: Arc<Store>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = observe::Metrics::install();
    let monitoring = monitoring::Monitoring::new(store.clone(), config.trail.delivery.topics.clone());
    let logs = Arc::new(
        logs::LogsService::new(store.clone(), config.logs_limits.clone())
            .with_monitoring(monitoring.clone())
            .with_destinations(logs::Destinations::new(config.subscription_endpoints.clone())),
    );
    let monitoring_service = Arc::new(monitoring::MonitoringService::new(monitoring.clone()));
    let sts = Arc::new(iam::StsService::new(config.identities.clone()));
    let iam = Arc::new(iam::IamService::new(config.identities.clone()));
    let s3 = Arc::new(
        s3::S3Service::new(store.clone(), &config.bucket_dir)
            .map_err(|e| anyhow::anyhow!("opening the bucket directory {}: {e}", config.bucket_dir.display()))?,
    );
    let recorder = trail::Recorder::start(store.clone());
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let keys = Arc::new(trail::keys::SigningKeys::load_or_create(&store, now).await?);
    let buckets = Arc::new(trail::buckets::Buckets::new(config.bucket_dir.clone(), config.trail.remote_buckets.clone(), store.clone()));
    let topics = config.trail.delivery.topics.clone();
    let cloudtrail = Arc::new(trail::CloudTrailService::new(
        store.clone(),
        buckets.clone(),
        config.identities.clone(),
        recorder.clone(),
        keys.clone(),
        topics,
    ));
    let identities = config.identities.clone();
    let rds = rds::Rds::new(store.clone(), config.rds.dir.clone(), config.rds.host.clone());
    let rds_service = Arc::new(rds::RdsService::new(rds.clone()));
    let pipeline = Arc::new(Pipeline::new(
        config.identities,
        config.max_clock_skew,
        vec![logs.clone(), sts, iam, s3, cloudtrail, rds_service, monitoring_service],
        recorder.clone(),
    ));
    let supervising =
        rds.spawn(rds::publish::Services { dispatch: pipeline.clone(), identities: identities.clone(), recorder: recorder.clone() });
    let delivery = Arc::new(trail::Delivery::new(
        store.clone(),
        buckets,
        identities.clone(),
        pipeline.clone(),
        recorder,
        keys,
        config.trail.delivery.clone(),
    ));
    let delivering = delivery.clone().spawn();
    let maintenance = store.spawn_maintenance();
    let filtering = logs.spawn_filters(FILTER_RETRY);
    let evaluating = monitoring.spawn(config.alarm_evaluation);
    // Other nodes change IAM in a shared catalog; an embedded one has no other writer.
    let refreshing = (store.backend() == store::Backend::Postgres).then(|| identities.spawn_refresh(IAM_REFRESH));
    let app = router(pipeline.clone(), metrics).into_make_service_with_connect_info::<SocketAddr>();
    // Small requests must not wait on Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    tracing::info!(listen = %config.listen, "trailwatch is serving");
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    tracing::info!("no more requests; flushing accepted writes");
    maintenance.abort();
    filtering.abort();
    evaluating.abort();
    if let Some(r) = refreshing {
        r.abort();
    }
    delivering.abort();
    supervising.abort();
    rds.shutdown().await;
    pipeline.shutdown().await;
    store.shutdown().await;
    Ok(())
}
