//! Statistics by name and metric data by period: what GetMetricStatistics,
//! GetMetricData and the alarm evaluator all compute from stored buckets.

use std::collections::BTreeMap;

use store::metrics::{Bucket, SeriesKey, Stats};
use store::{Store, StoreError};

/// A statistic CloudWatch computes over one period.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stat {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
    /// `pNN` or `pNN.NN`: a percentile from 0 to 100.
    Percentile(f64),
}

impl Stat {
    /// A statistic or extended statistic by its CloudWatch name.
    pub(crate) fn parse(name: &str) -> Option<Stat> {
        Some(match name {
            "SampleCount" => Stat::SampleCount,
            "Average" => Stat::Average,
            "Sum" => Stat::Sum,
            "Minimum" => Stat::Minimum,
            "Maximum" => Stat::Maximum,
            other => Stat::Percentile(percentile(other)?),
        })
    }

    /// The statistic of the samples; percentiles need the samples themselves, and
    /// CloudWatch gives none for negative ones.
    pub(crate) fn of(&self, s: &Stats) -> Option<f64> {
        match self {
            Stat::SampleCount => Some(s.count),
            Stat::Average => Some(s.average()),
            Stat::Sum => Some(s.sum),
            Stat::Minimum => Some(s.min),
            Stat::Maximum => Some(s.max),
            Stat::Percentile(_) if s.min < 0.0 => None,
            Stat::Percentile(p) => s.percentile(*p),
        }
    }
}

/// The percentile of an extended statistic name: `p` and a number from 0 to 100 with at
/// most two decimals.
pub(crate) fn percentile(name: &str) -> Option<f64> {
    let digits = name.strip_prefix('p')?;
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || !plain(whole) || !plain(frac) || frac.len() > 2 || (digits.contains('.') && frac.is_empty()) {
        return None;
    }
    digits.parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p))
}

/// Whether CloudWatch accepts a period (seconds): 1, 5, 10, 20, 30 for high-resolution
/// data, else a multiple of 60.
pub(crate) fn valid_period(period: i64) -> bool {
    matches!(period, 1 | 5 | 10 | 20 | 30) || (period > 0 && period % 60 == 0)
}

/// Where the first period of a request starts: the start time rounded down to the
/// minute, or to the second for sub-minute periods, as CloudWatch rounds it.
pub(crate) fn round_start(start_ms: i64, period_s: i64) -> i64 {
    let grain = if period_s % 60 == 0 { 60_000 } else { 1000 };
    start_ms.div_euclid(grain) * grain
}

/// Consecutive periods from `origin_ms` up to (not including) `end_ms`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub origin_ms: i64,
    pub period_ms: i64,
    pub end_ms: i64,
}

impl Window {
    /// The start of the period a time falls in.
    pub(crate) fn period_of(&self, ms: i64) -> i64 {
        self.origin_ms + (ms - self.origin_ms).div_euclid(self.period_ms) * self.period_ms
    }

    /// The start of every period, in order.
    pub(crate) fn starts(&self) -> Vec<i64> {
        (0..).map(|i| self.origin_ms + i * self.period_ms).take_while(|t| *t < self.end_ms).collect()
    }

    /// How many periods it spans.
    pub(crate) fn len(&self) -> i64 {
        (self.end_ms - self.origin_ms + self.period_ms - 1).div_euclid(self.period_ms).max(0)
    }
}

/// The buckets of a metric inside the window, of one unit or all; none when the metric
/// was never put.
pub(crate) async fn buckets(
    store: &Store,
    account: &str,
    region: &str,
    key: &SeriesKey,
    w: &Window,
    unit: Option<&str>,
) -> Result<Vec<Bucket>, StoreError> {
    let Some(id) = store.metrics_series_id(account, region, key).await? else { return Ok(Vec::new()) };
    store.metrics_buckets(id, w.origin_ms, w.end_ms, unit).await
}

/// The samples of each period that has any, all units together.
pub(crate) fn by_period(buckets: &[Bucket], w: &Window) -> BTreeMap<i64, Stats> {
    let mut out: BTreeMap<i64, Stats> = BTreeMap::new();
    for b in buckets {
        merge_into(&mut out, w.period_of(b.start_ms), &b.stats);
    }
    out
}

/// The samples of each period and unit that has any.
pub(crate) fn by_period_and_unit(buckets: &[Bucket], w: &Window) -> BTreeMap<(i64, String), Stats> {
    let mut out: BTreeMap<(i64, String), Stats> = BTreeMap::new();
    for b in buckets {
        merge_into(&mut out, (w.period_of(b.start_ms), b.unit.clone()), &b.stats);
    }
    out
}

fn merge_into<K: Ord>(map: &mut BTreeMap<K, Stats>, key: K, stats: &Stats) {
    match map.get_mut(&key) {
        Some(s) => s.merge(stats),
        None => {
            map.insert(key, stats.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Stat::parse("Sum"), Some(Stat::Sum));
        assert_eq!(Stat::parse("p99"), Some(Stat::Percentile(99.0)));
        assert_eq!(Stat::parse("p99.99"), Some(Stat::Percentile(99.99)));
        for bad in ["p", "p101", "p99.999", "P99", "sum", "p9.", "tm99"] {
            assert_eq!(Stat::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn periods() {
        assert!(valid_period(60) && valid_period(300) && valid_period(10) && valid_period(1));
        assert!(!valid_period(90) && !valid_period(15) && !valid_period(0));
        assert_eq!(round_start(125_500, 60), 120_000);
        assert_eq!(round_start(125_500, 10), 125_000);
        let w = Window { origin_ms: 120_000, period_ms: 60_000, end_ms: 300_000 };
        assert_eq!(w.starts(), vec![120_000, 180_000, 240_000]);
        assert_eq!(w.len(), 3);
        assert_eq!(w.period_of(239_999), 180_000);
    }
}
