//! Units, latency percentiles and number formatting shared by all phases.

use std::time::Duration;

use serde_json::{Value, json};

/// Bytes per MB in every figure: decimal megabytes, 10^6 bytes.
pub const MB: f64 = 1e6;

/// Latency distribution of one phase's requests.
#[derive(Clone, Copy, Debug, Default)]
pub struct LatencySummary {
    /// Number of requests measured.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest request.
    pub max: Duration,
}

impl LatencySummary {
    /// Summarizes raw request latencies (nearest-rank percentiles).
    pub fn from_samples(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self {
            count: samples.len(),
            p50: percentile(&samples, 0.50),
            p99: percentile(&samples, 0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }

    /// `p50 1.23 ms, p99 4.56 ms, max 7.89 ms`.
    pub fn text(&self) -> String {
        format!(
            "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests)",
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            count(self.count as u64)
        )
    }

    /// The summary as JSON fields in milliseconds.
    pub fn json(&self) -> Value {
        json!({
            "requests": self.count,
            "p50_ms": round3(ms(self.p50)),
            "p99_ms": round3(ms(self.p99)),
            "max_ms": round3(ms(self.max)),
        })
    }
}

/// Nearest-rank percentile of sorted samples; zero when there are none.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A duration in fractional milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Bytes per second in MB/s; zero for an empty interval.
pub fn mb_per_s(bytes: u64, elapsed: Duration) -> f64 {
    per_s(bytes, elapsed) / MB
}

/// Items per second; zero for an empty interval.
pub fn per_s(items: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { items as f64 / secs } else { 0.0 }
}

/// Bytes as MB for display and JSON.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / MB
}

/// Rounds to three decimals so the JSON summary stays readable.
pub fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// An integer with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = LatencySummary::from_samples(samples);
        assert_eq!(s.p50, Duration::from_millis(50));
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!(s.max, Duration::from_millis(100));
        assert_eq!(LatencySummary::from_samples(vec![]).p99, Duration::ZERO);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
