//! A metric alarm as the catalog keeps it: PutMetricAlarm's configuration, its state,
//! its tags, and how it is shown (DescribeAlarms) and announced (the alarm JSON of its
//! notifications).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::timefmt;

/// The states of an alarm.
pub(crate) const OK: &str = "OK";
pub(crate) const ALARM: &str = "ALARM";
pub(crate) const INSUFFICIENT_DATA: &str = "INSUFFICIENT_DATA";

/// A dimension as the API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Dimension {
    pub name: String,
    pub value: String,
}

/// A tag as the API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub key: String,
    pub value: String,
}

/// One metric alarm. Member names are the API's, so the configuration part serializes
/// straight into DescribeAlarms' MetricAlarm.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Alarm {
    pub alarm_name: String,
    pub alarm_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_description: Option<String>,
    pub actions_enabled: bool,
    #[serde(rename = "OKActions")]
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub evaluation_periods: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    pub comparison_operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_low_sample_count_percentile: Option<String>,
    /// MetricDataQueries as given, for alarms on metric math.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Value>>,
    pub state_value: String,
    pub state_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<String>,
    /// Epoch ms of the last change of state or reason (StateUpdatedTimestamp).
    pub state_updated_ms: i64,
    /// Epoch ms of the last change of state (StateTransitionedTimestamp).
    pub state_transitioned_ms: i64,
    /// Epoch ms of the last PutMetricAlarm (AlarmConfigurationUpdatedTimestamp).
    pub config_updated_ms: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl Alarm {
    /// DescribeAlarms' MetricAlarm.
    pub(crate) fn describe(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("alarms serialize");
        let obj = v.as_object_mut().expect("an object");
        for internal in ["StateUpdatedMs", "StateTransitionedMs", "ConfigUpdatedMs", "Tags"] {
            obj.remove(internal);
        }
        if self.dimensions.is_empty() && self.metrics.is_some() {
            obj.remove("Dimensions");
        }
        obj.insert("AlarmConfigurationUpdatedTimestamp".into(), timefmt::secs(self.config_updated_ms));
        obj.insert("StateUpdatedTimestamp".into(), timefmt::secs(self.state_updated_ms));
        obj.insert("StateTransitionedTimestamp".into(), timefmt::secs(self.state_transitioned_ms));
        v
    }

    /// The actions a transition into `state` runs.
    pub(crate) fn actions_for(&self, state: &str) -> &[String] {
        match state {
            ALARM => &self.alarm_actions,
            OK => &self.ok_actions,
            _ => &self.insufficient_data_actions,
        }
    }

    /// DatapointsToAlarm, which defaults to EvaluationPeriods.
    pub(crate) fn datapoints(&self) -> i64 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    /// TreatMissingData, which defaults to `missing`.
    pub(crate) fn missing_data(&self) -> &str {
        self.treat_missing_data.as_deref().unwrap_or("missing")
    }

    /// The configuration as history items and notifications show it: camel-case names.
    pub(crate) fn config_json(&self) -> Value {
        let mut out = Map::new();
        let described = self.describe();
        for (k, v) in described.as_object().expect("an object") {
            if k.starts_with("State") || k == "AlarmConfigurationUpdatedTimestamp" {
                continue;
            }
            out.insert(camel(k), v.clone());
        }
        out.insert("alarmConfigurationUpdatedTimestamp".into(), Value::from(timefmt::cloudwatch(self.config_updated_ms)));
        Value::Object(out)
    }

    /// The `Trigger` of the alarm JSON in notifications.
    pub(crate) fn trigger(&self) -> Value {
        let mut t = Map::new();
        if let Some(metrics) = &self.metrics {
            t.insert("Period".into(), json!(self.metric_period()));
            t.insert("EvaluationPeriods".into(), json!(self.evaluation_periods));
            if let Some(m) = self.datapoints_to_alarm {
                t.insert("DatapointsToAlarm".into(), json!(m));
            }
            t.insert("ComparisonOperator".into(), json!(self.comparison_operator));
            t.insert("Threshold".into(), json!(self.threshold));
            t.insert("TreatMissingData".into(), json!(self.missing_data()));
            t.insert(
                "EvaluateLowSampleCountPercentile".into(),
                json!(self.evaluate_low_sample_count_percentile.clone().unwrap_or_default()),
            );
            t.insert("Metrics".into(), Value::Array(metrics.iter().map(lower_dimensions).collect()));
            return Value::Object(t);
        }
        t.insert("MetricName".into(), json!(self.metric_name));
        t.insert("Namespace".into(), json!(self.namespace));
        match (&self.statistic, &self.extended_statistic) {
            (Some(s), _) => {
                t.insert("StatisticType".into(), json!("Statistic"));
                t.insert("Statistic".into(), json!(statistic_enum(s)));
            }
            (None, e) => {
                t.insert("StatisticType".into(), json!("ExtendedStatistic"));
                t.insert("ExtendedStatistic".into(), json!(e));
            }
        }
        t.insert("Unit".into(), json!(self.unit));
        t.insert("Dimensions".into(), Value::Array(self.dimensions.iter().map(|d| json!({"value": d.value, "name": d.name})).collect()));
        t.insert("Period".into(), json!(self.period));
        t.insert("EvaluationPeriods".into(), json!(self.evaluation_periods));
        if let Some(m) = self.datapoints_to_alarm {
            t.insert("DatapointsToAlarm".into(), json!(m));
        }
        t.insert("ComparisonOperator".into(), json!(self.comparison_operator));
        t.insert("Threshold".into(), json!(self.threshold));
        t.insert("TreatMissingData".into(), json!(self.missing_data()));
        t.insert("EvaluateLowSampleCountPercentile".into(), json!(self.evaluate_low_sample_count_percentile.clone().unwrap_or_default()));
        Value::Object(t)
    }

    /// The period the alarm evaluates, in seconds: its own, or that of the query that
    /// returns data (else the first metric query's) for alarms on metric math.
    pub(crate) fn metric_period(&self) -> i64 {
        if let Some(p) = self.period {
            return p;
        }
        let metrics = self.metrics.as_deref().unwrap_or_default();
        let returning = metrics.iter().find(|q| q["ReturnData"].as_bool().unwrap_or(true));
        let period_of = |q: &Value| q["Period"].as_i64().or_else(|| q["MetricStat"]["Period"].as_i64());
        returning.and_then(period_of).or_else(|| metrics.iter().find_map(period_of)).unwrap_or(60)
    }
}

/// A member name in lower camel case (`AlarmName` → `alarmName`, `OKActions` → `okActions`).
fn camel(name: &str) -> String {
    match name {
        "OKActions" => "okActions".into(),
        other => {
            let mut c = other.chars();
            c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
        }
    }
}

/// The statistic as the alarm JSON names it (`SUM`, `SAMPLE_COUNT`).
fn statistic_enum(s: &str) -> String {
    match s {
        "SampleCount" => "SAMPLE_COUNT".into(),
        other => other.to_uppercase(),
    }
}

/// A metric query with its dimensions as the alarm JSON writes them (`{value, name}`).
fn lower_dimensions(q: &Value) -> Value {
    let mut q = q.clone();
    if let Some(dims) = q.pointer_mut("/MetricStat/Metric/Dimensions").and_then(Value::as_array_mut) {
        for d in dims.iter_mut() {
            *d = json!({"value": d["Value"], "name": d["Name"]});
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialisms_stay_as_cloudwatch_writes_them() {
        assert_eq!(camel("OKActions"), "okActions");
        assert_eq!(camel("AlarmName"), "alarmName");
        assert_eq!(statistic_enum("SampleCount"), "SAMPLE_COUNT");
        assert_eq!(statistic_enum("Average"), "AVERAGE");
    }
}
