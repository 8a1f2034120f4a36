//! The HTTP server: routing, the one request pipeline every AWS call flows through,
//! the `/_trailwatch/` endpoints, and the lifecycle of background work.

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
}

/// Builds the router over a pipeline.
pub fn router(pipeline: Arc<Pipeline>, metrics: observe::Metrics) -> Router {
    Router::new()
        .route("/_trailwatch/health", get(|| async { "ok" }))
        .route("/_trailwatch/metrics", get(move || std::future::ready(metrics.render())))
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
    let logs = Arc::new(logs::LogsService::new(store.clone(), config.logs_limits.clone()));
    let sts = Arc::new(iam::StsService::new(config.identities.clone()));
    let iam = Arc::new(iam::IamService::new(config.identities.clone()));
    let s3 = Arc::new(
        s3::S3Service::new(store.clone(), &config.bucket_dir)
            .map_err(|e| anyhow::anyhow!("opening the bucket directory {}: {e}", config.bucket_dir.display()))?,
    );
    let pipeline = Arc::new(Pipeline::new(config.identities, config.max_clock_skew, vec![logs, sts, iam, s3]));
    let maintenance = store.spawn_maintenance();
    let app = router(pipeline, metrics).into_make_service_with_connect_info::<SocketAddr>();
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
    store.shutdown().await;
    Ok(())
}
