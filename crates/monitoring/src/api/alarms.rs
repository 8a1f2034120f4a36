//! The metric alarm operations: documents in the catalog changed under the alarms lock,
//! each change with its history item.

use serde_json::{Map, Value, json};
use store::metrics::{AlarmHistoryQuery, NewAlarmHistory};
use wire::AwsError;

use super::metrics::{QueryKind, queries};
use super::{Request, bad_token, combination, internal, invalid, not_found, token, untoken, validation};
use crate::alarm::{Alarm, Dimension, INSUFFICIENT_DATA, Tag};
use crate::evaluate;
use crate::reason::Verdict;
use crate::stat::{self, Stat};
use crate::timefmt;

/// How many alarms an account may have in a region (CloudWatch's default quota).
const MAX_ALARMS: i64 = 10_000;
/// How many tags an alarm may carry.
const MAX_TAGS: usize = 50;
const TREATMENTS: [&str; 4] = ["missing", "ignore", "breaching", "notBreaching"];
const THRESHOLD_OPERATORS: [&str; 4] =
    ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"];

/// PutMetricAlarm: creates an alarm in INSUFFICIENT_DATA, or updates one keeping its
/// state and tags.
pub(crate) async fn put(r: &Request<'_>) -> Result<Value, AwsError> {
    let mut alarm = configuration(r)?;
    let _docs = r.mon.alarms.lock().await;
    let existing = load(r, &alarm.alarm_name).await?;
    let history = match existing {
        Some(old) => {
            alarm.state_value = old.state_value.clone();
            alarm.state_reason = old.state_reason.clone();
            alarm.state_reason_data = old.state_reason_data.clone();
            alarm.state_updated_ms = old.state_updated_ms;
            alarm.state_transitioned_ms = old.state_transitioned_ms;
            alarm.tags = old.tags.clone();
            let data = json!({"version": "1.0", "type": "Update", "updatedAlarm": alarm.config_json(), "originalUpdatedFields": changed(&old, &alarm)});
            config_history(&alarm, "updated", data, r.now)
        }
        None => {
            if r.mon.store.alarm_count(r.account, r.region).await.map_err(internal)? >= MAX_ALARMS {
                return Err(AwsError::client("LimitExceeded", format!("The maximum number of alarms ({MAX_ALARMS}) has been reached.")));
            }
            let data = json!({"version": "1.0", "type": "Create", "createdAlarm": alarm.config_json()});
            config_history(&alarm, "created", data, r.now)
        }
    };
    save(r, &alarm, &[history]).await?;
    Ok(json!({}))
}

/// The alarm PutMetricAlarm describes, checked as CloudWatch checks it.
fn configuration(r: &Request<'_>) -> Result<Alarm, AwsError> {
    let name = r.str("AlarmName").unwrap_or_default().to_owned();
    let alarm = Alarm {
        alarm_arn: format!("arn:aws:cloudwatch:{}:{}:alarm:{name}", r.region, r.account),
        alarm_name: name,
        alarm_description: r.str("AlarmDescription").map(str::to_owned),
        actions_enabled: r.input.get("ActionsEnabled").and_then(Value::as_bool).unwrap_or(true),
        ok_actions: r.strings("OKActions"),
        alarm_actions: r.strings("AlarmActions"),
        insufficient_data_actions: r.strings("InsufficientDataActions"),
        metric_name: r.str("MetricName").map(str::to_owned),
        namespace: r.str("Namespace").map(str::to_owned),
        statistic: r.str("Statistic").map(str::to_owned),
        extended_statistic: r.str("ExtendedStatistic").map(str::to_owned),
        dimensions: dimension_list(r.input.get("Dimensions")),
        period: r.int("Period"),
        unit: r.str("Unit").map(str::to_owned),
        evaluation_periods: r.int("EvaluationPeriods").ok_or_else(|| validation("EvaluationPeriods must not be null"))?,
        datapoints_to_alarm: r.int("DatapointsToAlarm"),
        threshold: r.input.get("Threshold").and_then(Value::as_f64),
        comparison_operator: r.str("ComparisonOperator").ok_or_else(|| validation("ComparisonOperator must not be null"))?.to_owned(),
        treat_missing_data: r.str("TreatMissingData").map(str::to_owned),
        evaluate_low_sample_count_percentile: r.str("EvaluateLowSampleCountPercentile").map(str::to_owned),
        metrics: r.input.get("Metrics").and_then(Value::as_array).cloned(),
        state_value: INSUFFICIENT_DATA.into(),
        state_reason: "Unchecked: Initial alarm creation".into(),
        state_reason_data: None,
        state_updated_ms: r.now,
        state_transitioned_ms: r.now,
        config_updated_ms: r.now,
        tags: tag_list(r.input.get("Tags")),
    };
    check_common(r, &alarm)?;
    match &alarm.metrics {
        Some(_) => check_metrics(r, &alarm)?,
        None => check_single_metric(&alarm)?,
    }
    Ok(alarm)
}

fn check_common(r: &Request<'_>, a: &Alarm) -> Result<(), AwsError> {
    if r.str("ThresholdMetricId").is_some() || !THRESHOLD_OPERATORS.contains(&a.comparison_operator.as_str()) {
        return Err(validation("Anomaly detection alarms (ThresholdMetricId and band comparison operators) are not supported."));
    }
    if r.input.get("EvaluationCriteria").is_some() {
        return Err(validation("PromQL alarms (EvaluationCriteria) are not supported."));
    }
    if a.threshold.is_none() {
        return Err(validation("Threshold must not be null"));
    }
    if let Some(t) = a.treat_missing_data.as_deref().filter(|t| !TREATMENTS.contains(t)) {
        return Err(validation(format!(
            "Option {t} is not supported. Supported options for parameter TreatMissingData are missing, ignore, breaching and notBreaching."
        )));
    }
    if let Some(e) = a.evaluate_low_sample_count_percentile.as_deref().filter(|e| !["evaluate", "ignore"].contains(e)) {
        return Err(validation(format!(
            "Option {e} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore."
        )));
    }
    if a.datapoints_to_alarm.is_some_and(|m| m > a.evaluation_periods) {
        return Err(validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods."));
    }
    for action in a.ok_actions.iter().chain(&a.alarm_actions).chain(&a.insufficient_data_actions) {
        check_action(r, action)?;
    }
    if a.tags.len() > MAX_TAGS {
        return Err(invalid(format!("The collection Tags must not have a size greater than {MAX_TAGS}.")));
    }
    Ok(())
}

/// Actions must be ARNs; SNS topics must be in the alarm's region, as CloudWatch requires.
fn check_action(r: &Request<'_>, action: &str) -> Result<(), AwsError> {
    let parts: Vec<&str> = action.split(':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return Err(validation(format!("Invalid action: {action}")));
    }
    if parts[2] == "sns" && parts[3] != r.region {
        return Err(validation(format!("Invalid region {} specified. Only {} is supported.", parts[3], r.region)));
    }
    Ok(())
}

fn check_single_metric(a: &Alarm) -> Result<(), AwsError> {
    if a.metric_name.is_none() {
        return Err(validation("MetricName must not be null"));
    }
    if a.namespace.is_none() {
        return Err(validation("Namespace must not be null"));
    }
    let period = a.period.ok_or_else(|| validation("Period must not be null"))?;
    match (&a.statistic, &a.extended_statistic) {
        (None, None) | (Some(_), Some(_)) => return Err(validation("Exactly one of Statistic and ExtendedStatistic must be specified.")),
        (None, Some(e)) if !matches!(Stat::parse(e), Some(Stat::Percentile(_))) => {
            return Err(invalid(format!("The value {e} for parameter ExtendedStatistic is not supported.")));
        }
        _ => {}
    }
    check_period(period, a.evaluation_periods)
}

fn check_metrics(r: &Request<'_>, a: &Alarm) -> Result<(), AwsError> {
    let single = [
        ("MetricName", a.metric_name.is_some()),
        ("Namespace", a.namespace.is_some()),
        ("Statistic", a.statistic.is_some()),
        ("ExtendedStatistic", a.extended_statistic.is_some()),
        ("Dimensions", !a.dimensions.is_empty()),
        ("Period", a.period.is_some()),
    ];
    if let Some((member, _)) = single.iter().find(|(_, set)| *set) {
        return Err(validation(format!("{member} should not be set if list of Metrics is set.")));
    }
    let parsed = queries(r.input.get("Metrics"), "Metrics", r.account)?;
    if parsed.iter().filter(|q| q.return_data).count() != 1 {
        return Err(validation("Invalid metrics list: exactly one metric or expression must have ReturnData set to true."));
    }
    if parsed.iter().any(|q| q.foreign) {
        return Err(validation("Invalid metrics list: cross-account metrics are not supported."));
    }
    if !parsed.iter().any(|q| matches!(q.kind, QueryKind::Metric { .. })) {
        return Err(validation("Invalid metrics list: at least one metric must be specified."));
    }
    check_period(a.metric_period(), a.evaluation_periods)
}

/// Periods CloudWatch alarms take, over at most a day (a week for hourly periods).
fn check_period(period: i64, evaluation_periods: i64) -> Result<(), AwsError> {
    if !stat::valid_period(period) || period == 1 || period == 5 {
        return Err(validation("The parameter Period must be 10, 20, 30 or a multiple of 60."));
    }
    let span = period * evaluation_periods;
    if period < 3600 && span > 86_400 {
        return Err(validation("Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)."));
    }
    if span > 7 * 86_400 {
        return Err(validation("Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800)."));
    }
    Ok(())
}

/// The configuration members an update changed, with their earlier values.
fn changed(old: &Alarm, new: &Alarm) -> Value {
    let (before, after) = (old.config_json(), new.config_json());
    let mut out = Map::new();
    for (k, v) in before.as_object().into_iter().flatten() {
        if k != "alarmConfigurationUpdatedTimestamp" && after.get(k) != Some(v) {
            out.insert(k.clone(), v.clone());
        }
    }
    for k in after.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !before.as_object().is_some_and(|b| b.contains_key(k)) {
            out.insert(k.clone(), Value::Null);
        }
    }
    Value::Object(out)
}

fn config_history(alarm: &Alarm, what: &str, data: Value, now: i64) -> NewAlarmHistory {
    NewAlarmHistory {
        alarm_name: alarm.alarm_name.clone(),
        at_ms: now,
        item_type: "ConfigurationUpdate".into(),
        summary: format!("Alarm \"{}\" {what}", alarm.alarm_name),
        data: data.to_string(),
    }
}

/// DescribeAlarms.
pub(crate) async fn describe(r: &Request<'_>) -> Result<Value, AwsError> {
    let names = r.strings("AlarmNames");
    let prefix = r.str("AlarmNamePrefix");
    if !names.is_empty() && prefix.is_some() {
        return Err(combination("AlarmNames and AlarmNamePrefix cannot be specified together."));
    }
    let types = r.strings("AlarmTypes");
    let metric_alarms = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
    let composite = types.iter().any(|t| t == "CompositeAlarm");
    let max = r.int("MaxRecords").unwrap_or(50) as usize;
    let after = match r.str("NextToken") {
        Some(t) => Some(untoken("a", t).ok_or_else(bad_token)?),
        None => None,
    };
    let related = r.str("ChildrenOfAlarmName").is_some() || r.str("ParentsOfAlarmName").is_some();
    let mut alarms: Vec<Alarm> = if metric_alarms && !related { all(r).await? } else { Vec::new() };
    alarms.retain(|a| {
        (names.is_empty() || names.contains(&a.alarm_name))
            && prefix.is_none_or(|p| a.alarm_name.starts_with(p))
            && r.str("StateValue").is_none_or(|s| a.state_value == s)
            && r.str("ActionPrefix")
                .is_none_or(|p| a.ok_actions.iter().chain(&a.alarm_actions).chain(&a.insufficient_data_actions).any(|x| x.starts_with(p)))
            && after.as_ref().is_none_or(|after| a.alarm_name.as_str() > after.as_str())
    });
    let next = (alarms.len() > max).then(|| token("a", &alarms[max - 1].alarm_name));
    alarms.truncate(max);
    let mut out = json!({"MetricAlarms": alarms.iter().map(Alarm::describe).collect::<Vec<_>>()});
    if composite || !types.is_empty() {
        out["CompositeAlarms"] = json!([]);
    }
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

/// DescribeAlarmsForMetric: alarms on exactly that metric (not metric math alarms).
pub(crate) async fn for_metric(r: &Request<'_>) -> Result<Value, AwsError> {
    let mut dims = dimension_list(r.input.get("Dimensions"));
    dims.sort_by(|a, b| a.name.cmp(&b.name));
    let alarms = all(r).await?;
    let found: Vec<Value> = alarms
        .iter()
        .filter(|a| {
            let mut own = a.dimensions.clone();
            own.sort_by(|x, y| x.name.cmp(&y.name));
            a.metrics.is_none()
                && a.metric_name.as_deref() == r.str("MetricName")
                && a.namespace.as_deref() == r.str("Namespace")
                && own == dims
                && r.str("Statistic").is_none_or(|s| a.statistic.as_deref() == Some(s))
                && r.str("ExtendedStatistic").is_none_or(|s| a.extended_statistic.as_deref() == Some(s))
                && r.int("Period").is_none_or(|p| a.period == Some(p))
                && r.str("Unit").is_none_or(|u| a.unit.as_deref() == Some(u))
        })
        .map(Alarm::describe)
        .collect();
    Ok(json!({"MetricAlarms": found}))
}

/// DeleteAlarms: all named alarms or none.
pub(crate) async fn delete(r: &Request<'_>) -> Result<Value, AwsError> {
    let names = r.strings("AlarmNames");
    let _docs = r.mon.alarms.lock().await;
    let mut found = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    for name in &names {
        match load(r, name).await? {
            Some(a) => found.push(a),
            None => unknown.push(name.as_str()),
        }
    }
    if !unknown.is_empty() {
        return Err(not_found(format!("{} of the alarms [{}] were not found.", unknown.len(), unknown.join(", "))));
    }
    let history: Vec<NewAlarmHistory> = found
        .iter()
        .map(|a| config_history(a, "deleted", json!({"version": "1.0", "type": "Delete", "deletedAlarm": a.config_json()}), r.now))
        .collect();
    r.mon.store.alarm_delete(r.account, r.region, &names, &history).await.map_err(internal)?;
    Ok(json!({}))
}

/// SetAlarmState: a transition like the evaluator's, actions included.
pub(crate) async fn set_state(r: &Request<'_>) -> Result<Value, AwsError> {
    let name = r.str("AlarmName").unwrap_or_default();
    let state = match r.str("StateValue").unwrap_or_default() {
        "OK" => crate::alarm::OK,
        "ALARM" => crate::alarm::ALARM,
        _ => INSUFFICIENT_DATA,
    };
    let data = match r.str("StateReasonData") {
        Some(d) => Some(
            serde_json::from_str::<Value>(d)
                .map_err(|_| AwsError::client("InvalidFormat", "The value of the parameter StateReasonData is not valid JSON."))?,
        ),
        None => None,
    };
    let _docs = r.mon.alarms.lock().await;
    let alarm = load(r, name).await?.ok_or_else(|| not_found(format!("Alarm {name} not found")))?;
    let verdict = Verdict { state, reason: r.str("StateReason").unwrap_or_default().to_owned(), data: data.unwrap_or(Value::Null) };
    evaluate::transition(r.mon, r.account, r.region, alarm, verdict, r.now).await.map_err(internal)?;
    r.mon.wake.notify_one();
    Ok(json!({}))
}

/// DescribeAlarmHistory.
pub(crate) async fn history(r: &Request<'_>) -> Result<Value, AwsError> {
    let types = r.strings("AlarmTypes");
    if (!types.is_empty() && !types.iter().any(|t| t == "MetricAlarm")) || r.str("AlarmContributorId").is_some() {
        return Ok(json!({"AlarmHistoryItems": []}));
    }
    let after_id = match r.str("NextToken") {
        Some(t) => Some(untoken("h", t).and_then(|p| p.parse::<i64>().ok()).ok_or_else(bad_token)?),
        None => None,
    };
    let limit = r.int("MaxRecords").unwrap_or(100);
    let q = AlarmHistoryQuery {
        alarm_name: r.str("AlarmName").map(str::to_owned),
        item_type: r.str("HistoryItemType").map(str::to_owned),
        start_ms: r.time("StartDate")?.unwrap_or(i64::MIN),
        end_ms: r.time("EndDate")?.unwrap_or(i64::MAX),
        ascending: r.str("ScanBy") == Some("TimestampAscending"),
        after_id,
        limit: limit + 1,
    };
    let mut items = r.mon.store.alarm_history(r.account, r.region, &q).await.map_err(internal)?;
    let next = (items.len() as i64 > limit).then(|| token("h", &items[limit as usize - 1].id.to_string()));
    items.truncate(limit as usize);
    let items: Vec<Value> = items
        .iter()
        .map(|h| {
            json!({
                "AlarmName": h.alarm_name,
                "AlarmType": "MetricAlarm",
                "Timestamp": timefmt::secs(h.at_ms),
                "HistoryItemType": h.item_type,
                "HistorySummary": h.summary,
                "HistoryData": h.data,
            })
        })
        .collect();
    let mut out = json!({"AlarmHistoryItems": items});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

/// EnableAlarmActions / DisableAlarmActions: names that match no alarm are ignored.
pub(crate) async fn actions_enabled(r: &Request<'_>, enabled: bool) -> Result<Value, AwsError> {
    let _docs = r.mon.alarms.lock().await;
    for name in r.strings("AlarmNames") {
        let Some(mut alarm) = load(r, &name).await? else { continue };
        if alarm.actions_enabled == enabled {
            continue;
        }
        alarm.actions_enabled = enabled;
        alarm.config_updated_ms = r.now;
        save(r, &alarm, &[]).await?;
    }
    Ok(json!({}))
}

/// TagResource: adds tags, replacing values of existing keys.
pub(crate) async fn tag(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.mon.alarms.lock().await;
    let mut alarm = tagged(r).await?;
    for t in tag_list(r.input.get("Tags")) {
        alarm.tags.retain(|old| old.key != t.key);
        alarm.tags.push(t);
    }
    if alarm.tags.len() > MAX_TAGS {
        return Err(invalid(format!("The resource {} cannot have more than {MAX_TAGS} tags.", alarm.alarm_arn)));
    }
    save(r, &alarm, &[]).await?;
    Ok(json!({}))
}

/// UntagResource.
pub(crate) async fn untag(r: &Request<'_>) -> Result<Value, AwsError> {
    let _docs = r.mon.alarms.lock().await;
    let mut alarm = tagged(r).await?;
    let keys = r.strings("TagKeys");
    alarm.tags.retain(|t| !keys.contains(&t.key));
    save(r, &alarm, &[]).await?;
    Ok(json!({}))
}

/// ListTagsForResource.
pub(crate) async fn list_tags(r: &Request<'_>) -> Result<Value, AwsError> {
    let alarm = tagged(r).await?;
    Ok(json!({"Tags": alarm.tags}))
}

/// The alarm the request's ResourceARN names.
async fn tagged(r: &Request<'_>) -> Result<Alarm, AwsError> {
    let arn = r.str("ResourceARN").unwrap_or_default();
    let missing = || {
        AwsError::new("ResourceNotFoundException", 404, format!("The resource {arn} was not found."))
            .with("ResourceType", "alarm")
            .with("ResourceId", arn)
    };
    let name = name_in_arn(arn, r.account, r.region).ok_or_else(missing)?;
    load(r, name).await?.ok_or_else(missing)
}

/// The alarm name in an alarm ARN of this account and region.
pub(crate) fn name_in_arn<'a>(arn: &'a str, account: &str, region: &str) -> Option<&'a str> {
    let prefix = format!("arn:aws:cloudwatch:{region}:{account}:alarm:");
    arn.strip_prefix(&prefix).filter(|n| !n.is_empty())
}

async fn load(r: &Request<'_>, name: &str) -> Result<Option<Alarm>, AwsError> {
    let body = r.mon.store.alarm_get(r.account, r.region, name).await.map_err(internal)?;
    body.map(|b| serde_json::from_str(&b).map_err(|e| internal(format!("stored alarm {name}: {e}")))).transpose()
}

async fn all(r: &Request<'_>) -> Result<Vec<Alarm>, AwsError> {
    let bodies = r.mon.store.alarm_list(r.account, r.region).await.map_err(internal)?;
    bodies.iter().map(|b| serde_json::from_str(b).map_err(|e| internal(format!("stored alarm: {e}")))).collect()
}

async fn save(r: &Request<'_>, alarm: &Alarm, history: &[NewAlarmHistory]) -> Result<(), AwsError> {
    let body = serde_json::to_string(alarm).map_err(internal)?;
    r.mon.store.alarm_put(r.account, r.region, &alarm.alarm_name, &body, history).await.map_err(internal)
}

fn dimension_list(v: Option<&Value>) -> Vec<Dimension> {
    super::dimensions(v).into_iter().map(|(name, value)| Dimension { name, value }).collect()
}

fn tag_list(v: Option<&Value>) -> Vec<Tag> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| Tag {
                    key: t["Key"].as_str().unwrap_or_default().to_owned(),
                    value: t["Value"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}
