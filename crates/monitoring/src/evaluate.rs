//! The alarm evaluator: each alarm's last EvaluationPeriods complete periods, the state
//! they call for, and the transition (state, history, notifications) when it differs.
//!
//! Periods are aligned to multiples of the alarm's period since the epoch, and only
//! complete ones count: the period in progress at `now` is left out, so a datapoint is
//! evaluated once its period has ended (CloudWatch similarly evaluates the latest
//! periods it has data for, a little behind real time).

use serde_json::{Value, json};
use store::metrics::{AlarmUpdate, NewAlarmHistory, NewAlarmNotification, SeriesKey};
use wire::AwsError;

use crate::alarm::Alarm;
use crate::api::metrics::{queries, run};
use crate::reason::{self, Point, Verdict};
use crate::stat::{self, Stat, Window};
use crate::{Monitoring, notify};

/// Evaluates every alarm of every account and region.
pub(crate) async fn all(mon: &Monitoring, now_ms: i64) {
    let rows = match mon.store.alarm_list_all().await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read alarms to evaluate");
            return;
        }
    };
    for (account, region, body) in rows {
        let alarm: Alarm = match serde_json::from_str(&body) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a stored alarm");
                continue;
            }
        };
        if let Err(e) = one(mon, &account, &region, &alarm, now_ms).await {
            tracing::warn!(alarm = %alarm.alarm_arn, error = %e, "alarm evaluation failed");
        }
    }
}

async fn one(mon: &Monitoring, account: &str, region: &str, alarm: &Alarm, now_ms: i64) -> Result<(), AwsError> {
    let points = points(mon, account, region, alarm, now_ms).await?;
    let Some(verdict) = reason::decide(alarm, &points, now_ms) else { return Ok(()) };
    // An unchanged state is left alone, except that the first evaluation replaces the
    // creation's "Unchecked" reason with what the data says.
    if verdict.state == alarm.state_value && !alarm.state_reason.starts_with("Unchecked:") {
        return Ok(());
    }
    let _docs = mon.alarms.lock().await;
    let Some(body) = mon.store.alarm_get(account, region, &alarm.alarm_name).await.map_err(internal)? else { return Ok(()) };
    let current: Alarm = serde_json::from_str(&body).map_err(internal)?;
    // Changed since it was read (reconfigured, or set by SetAlarmState): the next round decides.
    if current.config_updated_ms != alarm.config_updated_ms || current.state_updated_ms != alarm.state_updated_ms {
        return Ok(());
    }
    transition(mon, account, region, current, verdict, now_ms).await.map_err(internal)
}

/// The alarm's evaluation range, oldest period first.
pub(crate) async fn points(mon: &Monitoring, account: &str, region: &str, alarm: &Alarm, now_ms: i64) -> Result<Vec<Point>, AwsError> {
    let period_ms = alarm.metric_period() * 1000;
    let end_ms = now_ms.div_euclid(period_ms) * period_ms;
    let w = Window { origin_ms: end_ms - alarm.evaluation_periods * period_ms, period_ms, end_ms };
    if alarm.metrics.is_some() {
        return math_points(mon, account, region, alarm, &w).await;
    }
    let dims = alarm.dimensions.iter().map(|d| (d.name.clone(), d.value.clone())).collect();
    let key = SeriesKey::new(alarm.namespace.as_deref().unwrap_or_default(), alarm.metric_name.as_deref().unwrap_or_default(), dims);
    let stat_name = alarm.statistic.as_deref().or(alarm.extended_statistic.as_deref()).unwrap_or_default();
    let stat = Stat::parse(stat_name).ok_or_else(|| internal(format!("unknown statistic {stat_name}")))?;
    let buckets = stat::buckets(&mon.store, account, region, &key, &w, alarm.unit.as_deref()).await.map_err(internal)?;
    let periods = stat::by_period(&buckets, &w);
    let ignore_low = alarm.evaluate_low_sample_count_percentile.as_deref() == Some("ignore");
    Ok(w.starts()
        .into_iter()
        .map(|t| {
            let s = periods.get(&t);
            let low_sample = match (&stat, s) {
                (Stat::Percentile(p), Some(s)) if ignore_low && *p < 100.0 => s.count < 10.0 / (1.0 - p / 100.0),
                _ => false,
            };
            Point { start_ms: t, value: s.and_then(|s| stat.of(s)), samples: s.map(|s| s.count), low_sample }
        })
        .collect())
}

async fn math_points(mon: &Monitoring, account: &str, region: &str, alarm: &Alarm, w: &Window) -> Result<Vec<Point>, AwsError> {
    let list = Value::Array(alarm.metrics.clone().unwrap_or_default());
    let parsed = queries(Some(&list), "Metrics", account)?;
    let results = run(mon, account, region, &parsed, w.origin_ms, w.end_ms).await?;
    let returned = parsed.iter().find(|q| q.return_data).and_then(|q| results.get(&q.id));
    Ok(w.starts()
        .into_iter()
        .map(|t| Point { start_ms: t, value: returned.and_then(|s| s.get(&t).copied()), samples: None, low_sample: false })
        .collect())
}

/// Moves an alarm to the verdict's state: the new state and reason, a StateUpdate
/// history item and, when actions are enabled, a notification per action of the new
/// state, all in one transaction. A verdict of the current state only updates the reason.
pub(crate) async fn transition(
    mon: &Monitoring,
    account: &str,
    region: &str,
    mut alarm: Alarm,
    v: Verdict,
    now_ms: i64,
) -> Result<(), store::StoreError> {
    let old_state = std::mem::replace(&mut alarm.state_value, v.state.to_owned());
    let old_reason = std::mem::replace(&mut alarm.state_reason, v.reason.clone());
    alarm.state_reason_data = (!v.data.is_null()).then(|| v.data.to_string());
    alarm.state_updated_ms = now_ms;
    let changed = old_state != v.state;
    if changed {
        alarm.state_transitioned_ms = now_ms;
    }
    let body = serde_json::to_string(&alarm).expect("alarms serialize");
    let (history, notifications) = if changed {
        let mut new_state = json!({"stateValue": v.state, "stateReason": v.reason});
        if !v.data.is_null() {
            new_state["stateReasonData"] = v.data.clone();
        }
        let data = json!({"version": "1.0", "oldState": {"stateValue": old_state, "stateReason": old_reason}, "newState": new_state});
        let item = NewAlarmHistory {
            alarm_name: alarm.alarm_name.clone(),
            at_ms: now_ms,
            item_type: "StateUpdate".into(),
            summary: format!("Alarm updated from {old_state} to {}", v.state),
            data: data.to_string(),
        };
        (vec![item], announce(&alarm, account, region, &old_state, now_ms))
    } else {
        (Vec::new(), Vec::new())
    };
    let update = AlarmUpdate { name: &alarm.alarm_name, body: &body, history: &history, notifications: &notifications, state_ms: now_ms };
    mon.store.alarm_update(account, region, &update).await?;
    Ok(())
}

/// The notifications of a transition: one per action of the new state, when enabled.
fn announce(alarm: &Alarm, account: &str, region: &str, old_state: &str, now_ms: i64) -> Vec<NewAlarmNotification> {
    if !alarm.actions_enabled {
        return Vec::new();
    }
    let actions = alarm.actions_for(&alarm.state_value);
    if actions.is_empty() {
        return Vec::new();
    }
    let message = notify::alarm_message(alarm, account, region, old_state, now_ms);
    let subject = notify::subject(alarm, region);
    actions.iter().map(|a| NewAlarmNotification { action: a.clone(), subject: subject.clone(), message: message.clone() }).collect()
}

fn internal(e: impl std::fmt::Display) -> AwsError {
    crate::api::internal(e)
}
