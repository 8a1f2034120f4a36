//! PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics, and the metric
//! queries (MetricDataQueries) that GetMetricData and metric math alarms share.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};
use store::metrics::{SeriesKey, SeriesQuery};
use wire::AwsError;

use super::{Request, bad_token, combination, dimensions, internal, invalid, missing, token, untoken, validation};
use crate::math::{self, Env, Series};
use crate::reason::java_double;
use crate::stat::{self, Stat, Window};
use crate::{Datum, DatumValue, Monitoring, timefmt};

/// How far back PutMetricData accepts data (two weeks) and forward (two hours).
const PAST_MS: i64 = 14 * 86_400_000;
const FUTURE_MS: i64 = 2 * 3_600_000;
/// CloudWatch's limits on one PutMetricData request and one datum.
const MAX_DATA: usize = 1000;
const MAX_VALUES: usize = 150;
/// GetMetricStatistics returns at most this many datapoints.
const MAX_STATISTICS_POINTS: i64 = 1440;
/// GetMetricData's default MaxDatapoints.
const MAX_DATAPOINTS: i64 = 100_800;
/// ListMetrics' page size, and how far back it looks.
const LIST_PAGE: usize = 500;
const LIST_RECENT_MS: i64 = 3 * 3_600_000;

/// PutMetricData: every datum checked as CloudWatch checks it, then stored at once.
pub(crate) async fn put(r: &Request<'_>) -> Result<Value, AwsError> {
    let namespace = r.str("Namespace").unwrap_or_default();
    if namespace.starts_with("AWS/") {
        return Err(invalid(format!("The value {namespace} for parameter Namespace is invalid.")));
    }
    let mut sources: Vec<(String, &Value)> = Vec::new();
    for (i, d) in r.input.get("MetricData").and_then(Value::as_array).into_iter().flatten().enumerate() {
        sources.push((format!("MetricData.member.{}", i + 1), d));
    }
    for (i, e) in r.input.get("EntityMetricData").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for (j, d) in e.get("MetricData").and_then(Value::as_array).into_iter().flatten().enumerate() {
            sources.push((format!("EntityMetricData.member.{}.MetricData.member.{}", i + 1, j + 1), d));
        }
    }
    if sources.is_empty() {
        return Err(missing("The parameter MetricData is required."));
    }
    if sources.len() > MAX_DATA {
        return Err(invalid(format!("The collection MetricData must not have a size greater than {MAX_DATA}.")));
    }
    let mut data = Vec::with_capacity(sources.len());
    let mut late = Vec::new();
    for (path, d) in &sources {
        let datum = datum(namespace, d, path, r.now)?;
        if let Some(problem) = time_problem(datum.timestamp_ms, r.now, path) {
            late.push(problem);
        }
        data.push(datum);
    }
    if !late.is_empty() {
        return Err(invalid(late.join("\n")));
    }
    r.mon.put(r.account, r.region, data).await.map_err(internal)?;
    Ok(json!({}))
}

/// One MetricDatum, checked.
fn datum(namespace: &str, d: &Value, path: &str, now: i64) -> Result<Datum, AwsError> {
    let dims = dimensions(d.get("Dimensions"));
    let mut seen = HashSet::new();
    for (j, (name, _)) in dims.iter().enumerate() {
        if !seen.insert(name) {
            return Err(invalid(format!("The value {name} for parameter {path}.Dimensions.member.{}.Name is duplicated.", j + 1)));
        }
    }
    let timestamp_ms = match d.get("Timestamp").filter(|v| !v.is_null()) {
        Some(t) => timefmt::parse(t).ok_or_else(|| invalid(format!("The parameter {path}.Timestamp must be a valid timestamp.")))?,
        None => now,
    };
    let storage_resolution = d.get("StorageResolution").and_then(Value::as_i64).unwrap_or(60);
    if storage_resolution != 1 && storage_resolution != 60 {
        return Err(invalid(format!("The parameter {path}.StorageResolution must be a value in the set [ 1, 60 ].")));
    }
    Ok(Datum {
        namespace: namespace.to_owned(),
        name: d["MetricName"].as_str().unwrap_or_default().to_owned(),
        dimensions: dims,
        timestamp_ms,
        value: datum_value(d, path)?,
        unit: d.get("Unit").and_then(Value::as_str).map(str::to_owned),
        storage_resolution: storage_resolution as u32,
    })
}

/// Exactly one of Value, Values (with Counts) and StatisticValues.
fn datum_value(d: &Value, path: &str) -> Result<DatumValue, AwsError> {
    let value = d.get("Value").and_then(Value::as_f64);
    let values = d.get("Values").and_then(Value::as_array);
    let counts = d.get("Counts").and_then(Value::as_array);
    let set = d.get("StatisticValues").filter(|v| v.is_object());
    let both = |a: &str, b: &str| format!("The parameters {path}.{a} and {path}.{b} are mutually exclusive and you have specified both.");
    if value.is_some() && values.is_some() {
        return Err(invalid(both("Value", "Values")));
    }
    if value.is_some() && set.is_some() {
        return Err(combination(both("Value", "StatisticValues")));
    }
    if values.is_some() && set.is_some() {
        return Err(combination(both("Values", "StatisticValues")));
    }
    if let Some(set) = set {
        return statistic_set(set, path);
    }
    if let Some(v) = value {
        check_value(v, &format!("{path}.Value"))?;
        return Ok(DatumValue::Values { values: vec![v], counts: vec![] });
    }
    let Some(values) = values else {
        if counts.is_some() {
            return Err(invalid(format!("The parameters {path}.Values and {path}.Counts must be of the same size.")));
        }
        return Err(combination(format!(
            "At least one of the parameters {path}.Value, {path}.StatisticValues or {path}.Values must be specified."
        )));
    };
    if counts.is_some_and(|c| c.len() != values.len()) {
        return Err(invalid(format!("The parameters {path}.Values and {path}.Counts must be of the same size.")));
    }
    if values.len() > MAX_VALUES {
        return Err(invalid(format!("The collection {path}.Values must not have a size greater than {MAX_VALUES}.")));
    }
    let values: Vec<f64> = values.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect();
    let counts: Vec<f64> = counts.into_iter().flatten().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect();
    for v in &values {
        check_value(*v, &format!("{path}.Values"))?;
    }
    for c in &counts {
        if !c.is_finite() || *c < 0.0 {
            return Err(invalid(format!("The value {} for parameter {path}.Counts is invalid.", java_double(*c))));
        }
    }
    Ok(DatumValue::Values { values, counts })
}

fn statistic_set(set: &Value, path: &str) -> Result<DatumValue, AwsError> {
    let get = |name: &str| {
        set.get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| invalid(format!("Missing required parameter in {path}.StatisticValues: \"{name}\"")))
    };
    let (count, sum, min, max) = (get("SampleCount")?, get("Sum")?, get("Minimum")?, get("Maximum")?);
    for (name, v) in [("SampleCount", count), ("Sum", sum), ("Minimum", min), ("Maximum", max)] {
        check_value(v, &format!("{path}.StatisticValues.{name}"))?;
    }
    if count <= 0.0 {
        return Err(invalid(format!("The value {} for parameter {path}.StatisticValues.SampleCount is invalid.", java_double(count))));
    }
    if min > max {
        return Err(invalid(format!("The value {} for parameter {path}.StatisticValues.Minimum is invalid.", java_double(min))));
    }
    Ok(DatumValue::Set { count, sum, min, max })
}

/// CloudWatch takes values from -2^360 to 2^360, and no NaN or infinities.
fn check_value(v: f64, member: &str) -> Result<(), AwsError> {
    let limit = 2f64.powi(360);
    if !v.is_finite() || v.abs() > limit {
        return Err(invalid(format!("The value {} for parameter {member} is invalid.", java_double(v))));
    }
    Ok(())
}

fn time_problem(ts: i64, now: i64, path: &str) -> Option<String> {
    if ts < now - PAST_MS {
        return Some(format!("The parameter {path}.Timestamp must specify a time within the past two weeks."));
    }
    if ts > now + FUTURE_MS {
        return Some(format!("The parameter {path}.Timestamp must specify a time no more than two hours in the future."));
    }
    None
}

/// GetMetricStatistics: one datapoint per period (and unit) that has data.
pub(crate) async fn statistics(r: &Request<'_>) -> Result<Value, AwsError> {
    let namespace = r.str("Namespace").unwrap_or_default();
    let name = r.str("MetricName").unwrap_or_default();
    let (stats, extended) = (r.strings("Statistics"), r.strings("ExtendedStatistics"));
    if stats.is_empty() && extended.is_empty() {
        return Err(combination("Must specify either Statistics or ExtendedStatistics"));
    }
    if !stats.is_empty() && !extended.is_empty() {
        return Err(combination("Must specify either Statistics or ExtendedStatistics, but not both."));
    }
    let mut wanted: Vec<(String, Stat)> = stats.iter().filter_map(|s| Stat::parse(s).map(|st| (s.clone(), st))).collect();
    for e in &extended {
        match Stat::parse(e) {
            Some(st @ Stat::Percentile(_)) => wanted.push((e.clone(), st)),
            _ => return Err(invalid(format!("The value {e} for parameter ExtendedStatistics is not supported."))),
        }
    }
    let w = statistics_window(r)?;
    let key = SeriesKey::new(namespace, name, dimensions(r.input.get("Dimensions")));
    let unit = r.str("Unit");
    let buckets = stat::buckets(&r.mon.store, r.account, r.region, &key, &w, unit).await.map_err(internal)?;
    let datapoints: Vec<Value> = stat::by_period_and_unit(&buckets, &w)
        .into_iter()
        .map(|((t, u), s)| {
            let mut dp = Map::new();
            dp.insert("Timestamp".into(), timefmt::secs(t));
            let mut ext = Map::new();
            for (label, st) in &wanted {
                let Some(v) = st.of(&s) else { continue };
                match st {
                    Stat::Percentile(_) => ext.insert(label.clone(), json!(v)),
                    _ => dp.insert(label.clone(), json!(v)),
                };
            }
            if !extended.is_empty() {
                dp.insert("ExtendedStatistics".into(), Value::Object(ext));
            }
            dp.insert("Unit".into(), json!(u));
            Value::Object(dp)
        })
        .collect();
    Ok(json!({"Label": name, "Datapoints": datapoints}))
}

/// GetMetricStatistics' periods, checked against CloudWatch's limits.
fn statistics_window(r: &Request<'_>) -> Result<Window, AwsError> {
    let (start, end) = (r.required_time("StartTime")?, r.required_time("EndTime")?);
    let period = r.int("Period").unwrap_or(60);
    if !stat::valid_period(period) {
        return Err(invalid("The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60."));
    }
    if start >= end {
        return Err(invalid("The parameter StartTime must be less than the parameter EndTime."));
    }
    let w = Window { origin_ms: stat::round_start(start, period), period_ms: period * 1000, end_ms: end };
    if w.len() > MAX_STATISTICS_POINTS {
        return Err(combination(format!(
            "You have requested up to {} datapoints, which exceeds the limit of {MAX_STATISTICS_POINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
            w.len()
        )));
    }
    Ok(w)
}

/// One query of MetricDataQueries.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub id: String,
    pub label: Option<String>,
    pub return_data: bool,
    pub kind: QueryKind,
    /// Another account's metric: CloudWatch answers Forbidden without cross-account setup.
    pub foreign: bool,
}

/// What a query computes.
#[derive(Debug, Clone)]
pub(crate) enum QueryKind {
    Metric { key: SeriesKey, period: i64, stat: Stat, unit: Option<String> },
    Expression { expr: math::Expr, period: Option<i64> },
}

impl Query {
    /// The label results carry when the query names none.
    fn default_label(&self) -> String {
        match &self.kind {
            QueryKind::Metric { key, .. } => key.name.clone(),
            QueryKind::Expression { .. } => self.id.clone(),
        }
    }
}

/// MetricDataQueries, checked: IDs, exactly one of MetricStat and Expression, known
/// statistics, valid periods and expressions that parse and refer to known IDs.
pub(crate) fn queries(list: Option<&Value>, member: &str, account: &str) -> Result<Vec<Query>, AwsError> {
    let items = list.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut out: Vec<Query> = Vec::with_capacity(items.len());
    for (i, q) in items.iter().enumerate() {
        let path = format!("{member}.member.{}", i + 1);
        let query = query(q, &path, account)?;
        if out.iter().any(|o| o.id == query.id) {
            return Err(validation(format!("The value {} for parameter {path}.Id is not unique.", query.id)));
        }
        out.push(query);
    }
    let ids: HashSet<&str> = out.iter().map(|q| q.id.as_str()).collect();
    for q in &out {
        let QueryKind::Expression { expr, .. } = &q.kind else { continue };
        let mut refs = Vec::new();
        expr.ids(&mut refs);
        if let Some(unknown) = refs.iter().find(|r| !ids.contains(r.as_str())) {
            return Err(validation(format!("Error in expression {}: Unrecognized metric id {unknown}", q.id)));
        }
    }
    Ok(out)
}

fn query(q: &Value, path: &str, account: &str) -> Result<Query, AwsError> {
    let id = q["Id"].as_str().unwrap_or_default().to_owned();
    let valid_id = id.starts_with(|c: char| c.is_ascii_lowercase()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_id {
        return Err(validation(format!(
            "The value {id} for parameter {path}.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores."
        )));
    }
    let stat = q.get("MetricStat").filter(|v| v.is_object());
    let expression = q.get("Expression").and_then(Value::as_str);
    let kind = match (stat, expression) {
        (Some(_), Some(_)) => return Err(validation(format!("Exactly one of {path}.MetricStat and {path}.Expression must be specified."))),
        (None, None) => return Err(validation(format!("The parameter {path}.MetricStat is required.\n"))),
        (Some(s), None) => metric_stat(s, &format!("{path}.MetricStat"))?,
        (None, Some(e)) => expression_kind(&id, e, q.get("Period").and_then(Value::as_i64))?,
    };
    let foreign = q.get("AccountId").and_then(Value::as_str).is_some_and(|a| a != account);
    Ok(Query {
        id,
        label: q.get("Label").and_then(Value::as_str).map(str::to_owned),
        return_data: q.get("ReturnData").and_then(Value::as_bool).unwrap_or(true),
        kind,
        foreign,
    })
}

fn metric_stat(s: &Value, path: &str) -> Result<QueryKind, AwsError> {
    let metric = &s["Metric"];
    let namespace =
        metric["Namespace"].as_str().ok_or_else(|| validation(format!("The parameter {path}.Metric.Namespace is required.")))?;
    let name = metric["MetricName"].as_str().ok_or_else(|| validation(format!("The parameter {path}.Metric.MetricName is required.")))?;
    let stat_name = s["Stat"].as_str().unwrap_or_default();
    let stat =
        Stat::parse(stat_name).ok_or_else(|| invalid(format!("The value {stat_name} for parameter {path}.Stat is not supported.")))?;
    let period = s["Period"].as_i64().unwrap_or_default();
    if !stat::valid_period(period) {
        return Err(invalid(format!("The parameter {path}.Period must be 1, 5, 10, 20, 30, or a multiple of 60.")));
    }
    let key = SeriesKey::new(namespace, name, dimensions(metric.get("Dimensions")));
    Ok(QueryKind::Metric { key, period, stat, unit: s.get("Unit").and_then(Value::as_str).map(str::to_owned) })
}

fn expression_kind(id: &str, src: &str, period: Option<i64>) -> Result<QueryKind, AwsError> {
    let upper = src.trim_start().to_uppercase();
    if upper.starts_with("SELECT") || upper.starts_with("SEARCH") {
        return Err(validation(format!("Error in expression {id}: Metrics Insights queries and SEARCH expressions are not supported")));
    }
    let expr = math::parse(src).map_err(|e| validation(format!("Error in expression {id}: {e}")))?;
    if let Some(p) = period.filter(|p| !stat::valid_period(*p)) {
        return Err(invalid(format!("The value {p} for parameter Period is invalid.")));
    }
    Ok(QueryKind::Expression { expr, period })
}

/// Computes every query over the periods of `[start_ms, end_ms)`: metric queries from
/// the buckets, then expressions over their results.
pub(crate) async fn run(
    mon: &Monitoring,
    account: &str,
    region: &str,
    queries: &[Query],
    start_ms: i64,
    end_ms: i64,
) -> Result<HashMap<String, Series>, AwsError> {
    let mut done: HashMap<String, Series> = HashMap::new();
    let mut smallest = None::<i64>;
    for q in queries {
        let QueryKind::Metric { key, period, stat, unit } = &q.kind else { continue };
        smallest = Some(smallest.map_or(*period, |s| s.min(*period)));
        if q.foreign {
            done.insert(q.id.clone(), Series::new());
            continue;
        }
        let w = Window { origin_ms: stat::round_start(start_ms, *period), period_ms: period * 1000, end_ms };
        let buckets = stat::buckets(&mon.store, account, region, key, &w, unit.as_deref()).await.map_err(internal)?;
        let series = stat::by_period(&buckets, &w).into_iter().filter_map(|(t, s)| stat.of(&s).map(|v| (t, v))).collect();
        done.insert(q.id.clone(), series);
    }
    let mut resolver = Resolver { queries, done, visiting: Vec::new(), start_ms, end_ms, default_period: smallest.unwrap_or(60) };
    for q in queries {
        if matches!(q.kind, QueryKind::Expression { .. }) {
            resolver.series(&q.id).map_err(|e| validation(format!("Error in expression {}: {e}", q.id)))?;
        }
    }
    Ok(resolver.done)
}

/// Evaluates expressions on demand, each once, refusing cycles.
struct Resolver<'a> {
    queries: &'a [Query],
    done: HashMap<String, Series>,
    visiting: Vec<String>,
    start_ms: i64,
    end_ms: i64,
    default_period: i64,
}

impl Env for Resolver<'_> {
    fn series(&mut self, id: &str) -> Result<Series, String> {
        if let Some(s) = self.done.get(id) {
            return Ok(s.clone());
        }
        let q = self.queries.iter().find(|q| q.id == id).ok_or_else(|| format!("Unrecognized metric id {id}"))?;
        let QueryKind::Expression { expr, period } = &q.kind else { return Ok(Series::new()) };
        if self.visiting.iter().any(|v| v == id) {
            return Err(format!("Circular dependency on {id}"));
        }
        self.visiting.push(id.to_owned());
        let period = period.unwrap_or(self.default_period);
        let grid = Window { origin_ms: stat::round_start(self.start_ms, period), period_ms: period * 1000, end_ms: self.end_ms }.starts();
        let result = math::eval(expr, self, &grid);
        self.visiting.pop();
        let series = result?;
        self.done.insert(id.to_owned(), series.clone());
        Ok(series)
    }

    fn metrics(&mut self, filter: Option<&str>) -> Result<Vec<Series>, String> {
        let ids: Vec<String> = self
            .queries
            .iter()
            .filter(|q| matches!(q.kind, QueryKind::Metric { .. }) && filter.is_none_or(|f| q.id.contains(f)))
            .map(|q| q.id.clone())
            .collect();
        ids.iter().map(|id| self.series(id)).collect()
    }
}

/// GetMetricData: each returned query's values by period, paged by datapoint.
pub(crate) async fn data(r: &Request<'_>) -> Result<Value, AwsError> {
    let (start, end) = (r.required_time("StartTime")?, r.required_time("EndTime")?);
    if start > end {
        return Err(validation("The parameter EndTime must be greater than StartTime."));
    }
    if start == end {
        return Err(validation("The parameter StartTime must not equal parameter EndTime."));
    }
    let queries = queries(r.input.get("MetricDataQueries"), "MetricDataQueries", r.account)?;
    let max = r.int("MaxDatapoints").unwrap_or(MAX_DATAPOINTS);
    if max < 1 {
        return Err(invalid(format!("The value {max} for parameter MaxDatapoints is invalid.")));
    }
    let mut offset = match r.str("NextToken") {
        Some(t) => untoken("d", t).and_then(|p| p.parse::<i64>().ok()).ok_or_else(bad_token)?,
        None => 0,
    };
    let ascending = r.str("ScanBy") == Some("TimestampAscending");
    let computed = run(r.mon, r.account, r.region, &queries, start, end).await?;
    let (mut budget, mut consumed, mut more) = (max, offset, false);
    let mut results = Vec::new();
    for q in queries.iter().filter(|q| q.return_data) {
        let mut points: Vec<(i64, f64)> = computed.get(&q.id).map(|s| s.iter().map(|(t, v)| (*t, *v)).collect()).unwrap_or_default();
        if !ascending {
            points.reverse();
        }
        let skip = offset.min(points.len() as i64);
        offset -= skip;
        let take = budget.min(points.len() as i64 - skip);
        budget -= take;
        consumed += take;
        let page = &points[skip as usize..(skip + take) as usize];
        let partial = skip + take < points.len() as i64;
        more |= partial;
        let status = match (q.foreign, partial) {
            (true, _) => "Forbidden",
            (false, true) => "PartialData",
            (false, false) => "Complete",
        };
        results.push(json!({
            "Id": q.id,
            "Label": q.label.clone().unwrap_or_else(|| q.default_label()),
            "Timestamps": page.iter().map(|p| timefmt::secs(p.0)).collect::<Vec<_>>(),
            "Values": page.iter().map(|p| p.1).collect::<Vec<_>>(),
            "StatusCode": status,
            "Messages": [],
        }));
    }
    let mut out = json!({"MetricDataResults": results, "Messages": []});
    if more {
        out["NextToken"] = json!(token("d", &consumed.to_string()));
    }
    Ok(out)
}

/// ListMetrics: metrics with data in the past two weeks (three hours with
/// RecentlyActive), filtered, 500 a page.
pub(crate) async fn list(r: &Request<'_>) -> Result<Value, AwsError> {
    let mut after = match r.str("NextToken") {
        Some(t) => untoken("l", t).and_then(|p| p.parse::<i64>().ok()).ok_or_else(|| invalid("Request parameter NextToken is invalid"))?,
        None => 0,
    };
    let linked = r.input.get("IncludeLinkedAccounts").and_then(Value::as_bool).unwrap_or(false);
    if r.str("OwningAccount").is_some_and(|a| a != r.account) {
        return Ok(list_output(Vec::new(), None, linked, r.account));
    }
    let window = if r.str("RecentlyActive") == Some("PT3H") { LIST_RECENT_MS } else { PAST_MS };
    let filters: Vec<(String, Option<String>)> = r
        .input
        .get("Dimensions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|f| (f["Name"].as_str().unwrap_or_default().to_owned(), f["Value"].as_str().map(str::to_owned)))
        .collect();
    let mut found = Vec::new();
    loop {
        let q = SeriesQuery {
            namespace: r.str("Namespace"),
            name: r.str("MetricName"),
            after_id: after,
            active_since_ms: r.now - window,
            limit: 1000,
        };
        let rows = r.mon.store.metrics_series_page(r.account, r.region, &q).await.map_err(internal)?;
        let exhausted = rows.len() < 1000;
        for row in rows {
            after = row.id;
            if filters.iter().all(|(n, v)| row.key.dimensions.iter().any(|(dn, dv)| dn == n && v.as_ref().is_none_or(|v| v == dv))) {
                found.push(row.key);
                if found.len() == LIST_PAGE {
                    return Ok(list_output(found, Some(token("l", &after.to_string())), linked, r.account));
                }
            }
        }
        if exhausted {
            return Ok(list_output(found, None, linked, r.account));
        }
    }
}

fn list_output(found: Vec<SeriesKey>, next: Option<String>, linked: bool, account: &str) -> Value {
    let owners: Vec<&str> = found.iter().map(|_| account).collect();
    let metrics: Vec<Value> = found.into_iter().map(|k| metric_json(&k)).collect();
    let mut out = json!({"Metrics": metrics});
    if linked {
        out["OwningAccounts"] = json!(owners);
    }
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    out
}

/// A Metric as the API writes it.
pub(crate) fn metric_json(k: &SeriesKey) -> Value {
    let dims: Vec<Value> = k.dimensions.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect();
    json!({"Namespace": k.namespace, "MetricName": k.name, "Dimensions": dims})
}
