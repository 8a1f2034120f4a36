//! An alarm's verdict on its evaluation range: the new state with CloudWatch's reason
//! text and reason data.
//!
//! The range is the alarm's last EvaluationPeriods complete periods. With `r` real
//! datapoints of which `b` breach, and `f = max(0, M - r)` missing ones filled in
//! (M = DatapointsToAlarm), CloudWatch's table of missing-data treatments comes to:
//! - `breaching`: ALARM when `b + f >= M`, else OK;
//! - `notBreaching`: ALARM when `b >= M`, else OK;
//! - `ignore`: no data keeps the state; ALARM when `b >= M`; OK when even the filled
//!   points could not reach M (`b + f < M`); otherwise the state is kept;
//! - `missing`: no data is INSUFFICIENT_DATA; with fewer real points than M, ALARM when
//!   every real point breaches; else ALARM when `b >= M`; else OK.

use serde_json::{Value, json};

use crate::alarm::{ALARM, Alarm, INSUFFICIENT_DATA, OK};
use crate::timefmt;

/// One period of the evaluation range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    /// The period's start, epoch ms.
    pub start_ms: i64,
    /// The statistic, when the period has data.
    pub value: Option<f64>,
    /// How many samples the period had (single-metric alarms).
    pub samples: Option<f64>,
    /// Too few samples for the percentile to mean anything (EvaluateLowSampleCountPercentile).
    pub low_sample: bool,
}

/// The state an evaluation arrives at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verdict {
    pub state: &'static str,
    pub reason: String,
    pub data: Value,
}

/// Whether a value breaches the alarm's threshold.
pub(crate) fn breaches(alarm: &Alarm, v: f64) -> bool {
    let t = alarm.threshold.unwrap_or(0.0);
    match alarm.comparison_operator.as_str() {
        "GreaterThanOrEqualToThreshold" => v >= t,
        "GreaterThanThreshold" => v > t,
        "LessThanThreshold" => v < t,
        _ => v <= t,
    }
}

/// The verdict on the range (oldest period first); `None` keeps the current state.
pub(crate) fn decide(alarm: &Alarm, points: &[Point], now_ms: i64) -> Option<Verdict> {
    let n = points.len() as i64;
    let m = alarm.datapoints().min(n);
    let real: Vec<&Point> = points.iter().filter(|p| p.value.is_some() && !p.low_sample).collect();
    let treat = if points.iter().any(|p| p.low_sample) { "ignore" } else { alarm.missing_data() };
    let r = real.len() as i64;
    let b = real.iter().filter(|p| breaches(alarm, p.value.unwrap_or_default())).count() as i64;
    let filled = (m - r).max(0);
    let state = match treat {
        "breaching" if b + filled >= m => ALARM,
        "breaching" => OK,
        "notBreaching" if b >= m => ALARM,
        "notBreaching" => OK,
        "ignore" if r == 0 => return None,
        "ignore" if b >= m => ALARM,
        "ignore" if b + filled < m => OK,
        "ignore" => return None,
        _ if r == 0 => INSUFFICIENT_DATA,
        _ if r < m && b == r => ALARM,
        _ if r >= m && b >= m => ALARM,
        _ => OK,
    };
    let text = Text { alarm, n, m, real: &real, missing: n - r };
    let reason = match state {
        ALARM => text.alarm(if treat == "breaching" { b + filled } else { b }),
        OK => text.ok(),
        _ => format!("Insufficient Data: {n} {} {} unknown.", plural(n), was(n)),
    };
    Some(Verdict { state, reason, data: reason_data(alarm, points, &real, now_ms) })
}

struct Text<'a> {
    alarm: &'a Alarm,
    n: i64,
    m: i64,
    real: &'a [&'a Point],
    missing: i64,
}

impl Text<'_> {
    fn alarm(&self, count: i64) -> String {
        let hits: Vec<&Point> = self.real.iter().copied().filter(|p| breaches(self.alarm, p.value.unwrap_or_default())).collect();
        if hits.is_empty() {
            return self.all_missing("Breaching");
        }
        let (op, thr) = (operator(&self.alarm.comparison_operator), java_double(self.alarm.threshold.unwrap_or(0.0)));
        let list = list(&hits);
        if self.alarm.datapoints_to_alarm.is_none() {
            return format!("Threshold Crossed: {count} {} [{list}] {} {op} the threshold ({thr}).", plural(count), was(count));
        }
        format!(
            "Threshold Crossed: {count} out of the last {} datapoints [{list}] {} {op} the threshold ({thr}) (minimum {} {} for OK -> ALARM transition).",
            self.n,
            was(count),
            self.m,
            plural(self.m)
        )
    }

    fn ok(&self) -> String {
        let good: Vec<&Point> = self.real.iter().copied().filter(|p| !breaches(self.alarm, p.value.unwrap_or_default())).collect();
        if good.is_empty() {
            return self.all_missing("NonBreaching");
        }
        let (op, thr) = (operator(&self.alarm.comparison_operator), java_double(self.alarm.threshold.unwrap_or(0.0)));
        let (count, list) = (good.len() as i64, list(&good));
        if self.alarm.datapoints_to_alarm.is_none() {
            return format!("Threshold Crossed: {count} {} [{list}] {} not {op} the threshold ({thr}).", plural(count), was(count));
        }
        let needed = self.n - self.m + 1;
        format!(
            "Threshold Crossed: {count} out of the last {} datapoints [{list}] {} not {op} the threshold ({thr}) (minimum {needed} {} for ALARM -> OK transition).",
            self.n,
            was(count),
            plural(needed)
        )
    }

    /// The reason when only filled-in missing datapoints decided.
    fn all_missing(&self, treated_as: &str) -> String {
        let k = self.missing.max(1);
        format!(
            "Threshold Crossed: no datapoints were received for {k} {} and {k} missing {} {} treated as [{treated_as}].",
            if k == 1 { "period" } else { "periods" },
            plural(k),
            was(k)
        )
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "datapoint" } else { "datapoints" }
}

fn was(n: i64) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

fn operator(op: &str) -> &'static str {
    match op {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        _ => "less than or equal to",
    }
}

/// Datapoints newest first: `3.0 (26/11/21 23:50:00), 2.0 (26/11/21 23:49:00)`.
fn list(points: &[&Point]) -> String {
    let parts: Vec<String> =
        points.iter().rev().map(|p| format!("{} ({})", java_double(p.value.unwrap_or_default()), timefmt::reason(p.start_ms))).collect();
    parts.join(", ")
}

/// A double as Java prints it, which CloudWatch's texts use: `3.0`, `0.25`, `1.0E7`.
pub(crate) fn java_double(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{x:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
    format!("{mantissa}E{exp}")
}

/// StateReasonData: what the evaluation looked at, as CloudWatch records it.
fn reason_data(alarm: &Alarm, points: &[Point], real: &[&Point], now_ms: i64) -> Value {
    let mut data = json!({"version": "1.0", "queryDate": timefmt::cloudwatch(now_ms)});
    if let Some(first) = points.first() {
        data["startDate"] = json!(timefmt::cloudwatch(first.start_ms));
    }
    match (&alarm.statistic, &alarm.extended_statistic) {
        (Some(s), _) => data["statistic"] = json!(s),
        (None, Some(e)) => data["extendedStatistic"] = json!(e),
        _ => {}
    }
    if let Some(u) = &alarm.unit {
        data["unit"] = json!(u);
    }
    data["period"] = json!(alarm.metric_period());
    data["recentDatapoints"] = real.iter().map(|p| json!(p.value)).collect();
    data["threshold"] = json!(alarm.threshold.unwrap_or(0.0));
    data["evaluatedDatapoints"] = real
        .iter()
        .rev()
        .map(|p| match p.samples {
            Some(c) => json!({"timestamp": timefmt::cloudwatch(p.start_ms), "sampleCount": c, "value": p.value}),
            None => json!({"timestamp": timefmt::cloudwatch(p.start_ms), "value": p.value}),
        })
        .collect();
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(m: Option<i64>, n: i64, treat: &str) -> Alarm {
        serde_json::from_value(json!({
            "AlarmName": "a", "AlarmArn": "arn", "ActionsEnabled": true, "OKActions": [], "AlarmActions": [],
            "InsufficientDataActions": [], "MetricName": "m", "Namespace": "ns", "Statistic": "Maximum",
            "Period": 60, "EvaluationPeriods": n, "DatapointsToAlarm": m, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": treat,
            "StateValue": "OK", "StateReason": "", "StateUpdatedMs": 0, "StateTransitionedMs": 0, "ConfigUpdatedMs": 0
        }))
        .unwrap()
    }

    /// `0`: not breaching, `X`: breaching, `-`: missing; oldest first.
    fn points(s: &str) -> Vec<Point> {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .enumerate()
            .map(|(i, c)| Point {
                start_ms: 1_637_970_600_000 + i as i64 * 60_000,
                value: match c {
                    '0' => Some(0.0),
                    'X' => Some(3.0),
                    _ => None,
                },
                samples: Some(1.0),
                low_sample: false,
            })
            .collect()
    }

    fn state(treat: &str, s: &str) -> Option<&'static str> {
        decide(&alarm(Some(3), 5, treat), &points(s), 0).map(|v| v.state)
    }

    /// CloudWatch's table for 3 out of 5 datapoints.
    #[test]
    fn missing_data_table() {
        let rows = [
            ("0 - X - X", [Some(OK), Some(OK), Some(OK), Some(OK)]),
            ("- - - - 0", [Some(OK), Some(OK), Some(OK), Some(OK)]),
            ("- - - - -", [Some(INSUFFICIENT_DATA), None, Some(ALARM), Some(OK)]),
            ("0 X X - X", [Some(ALARM), Some(ALARM), Some(ALARM), Some(ALARM)]),
            ("- - X - -", [Some(ALARM), None, Some(ALARM), Some(OK)]),
        ];
        for (data, expected) in rows {
            for (treat, want) in ["missing", "ignore", "breaching", "notBreaching"].iter().zip(expected) {
                assert_eq!(state(treat, data), want, "{data} {treat}");
            }
        }
    }

    #[test]
    fn reasons_read_like_cloudwatch() {
        let v = decide(&alarm(Some(1), 1, "missing"), &points("X"), 0).unwrap();
        assert_eq!(
            v.reason,
            "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (26/11/21 23:50:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
        );
        let v = decide(&alarm(None, 2, "missing"), &points("0 0"), 0).unwrap();
        assert_eq!(
            v.reason,
            "Threshold Crossed: 2 datapoints [0.0 (26/11/21 23:51:00), 0.0 (26/11/21 23:50:00)] were not greater than or equal to the threshold (1.0)."
        );
        let v = decide(&alarm(None, 2, "missing"), &points("- -"), 0).unwrap();
        assert_eq!(v.reason, "Insufficient Data: 2 datapoints were unknown.");
        let v = decide(&alarm(None, 1, "breaching"), &points("-"), 0).unwrap();
        assert_eq!(
            v.reason,
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching]."
        );
        assert_eq!(v.data["recentDatapoints"], json!([]));
    }

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(java_double(3.0), "3.0");
        assert_eq!(java_double(0.25), "0.25");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.5e-4), "1.5E-4");
        assert_eq!(java_double(-2.0), "-2.0");
    }
}
