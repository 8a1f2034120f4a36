//! Prometheus metrics: requests by operation and status, latencies, ingest and storage counters.

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from sub-millisecond to slow scans.
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's metrics registry.
#[derive(Clone)]
pub struct Metrics(PrometheusHandle);

impl Metrics {
    /// Installs the global recorder (once per process) and returns its handle.
    pub fn install() -> Metrics {
        static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("valid buckets")
                .install_recorder()
                .expect("the metrics recorder installs once")
        });
        Metrics(handle.clone())
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        self.0.render()
    }
}

/// Records one finished AWS request.
pub fn request(service: &str, operation: &str, status: u16, elapsed: Duration) {
    let labels = [("service", service.to_owned()), ("operation", operation.to_owned()), ("status", status.to_string())];
    metrics::counter!("trailwatch_requests_total", &labels).increment(1);
    let labels = [("service", service.to_owned()), ("operation", operation.to_owned())];
    metrics::histogram!("trailwatch_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
}
