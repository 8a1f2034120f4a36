//! Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter and
//! TestMetricFilter, all on the one pattern parser and matcher of the `query` crate.
//! The filters are applied to ingested events by the consumer in `consume.rs`.

use monitoring::{Datum, DatumValue};
use query::{FieldRef, FilterPattern};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::FilterKind;
use wire::{AwsError, CallContext};

use crate::{LogsService, group_not_found, invalid, storage};

/// Metric filters a log group may have (AWS's quota).
const MAX_METRIC_FILTERS: i64 = 100;
/// Dimensions a metric transformation may have.
const MAX_DIMENSIONS: usize = 3;

/// TestMetricFilter's input.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestMetricFilter {
    filter_pattern: String,
    log_event_messages: Vec<String>,
}

/// PutMetricFilter's input.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutMetricFilter {
    log_group_name: String,
    filter_name: String,
    filter_pattern: String,
    metric_transformations: Vec<Transformation>,
    #[serde(default)]
    apply_on_transformed_logs: bool,
}

/// A metric transformation, as the API and the stored document spell it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Transformation {
    metric_name: String,
    metric_namespace: String,
    metric_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    dimensions: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
}

/// A metric filter as stored (the catalog's `body`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MetricFilterDoc {
    filter_name: String,
    filter_pattern: String,
    metric_transformations: Vec<Transformation>,
    creation_time: i64,
    apply_on_transformed_logs: bool,
}

/// DescribeMetricFilters' input.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeMetricFilters {
    log_group_name: Option<String>,
    filter_name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
    metric_name: Option<String>,
    metric_namespace: Option<String>,
}

/// DeleteMetricFilter's input.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteMetricFilter {
    log_group_name: String,
    filter_name: String,
}

impl LogsService {
    pub(crate) fn test_metric_filter(&self, req: TestMetricFilter) -> Result<Value, AwsError> {
        let pattern = parse_pattern(&req.filter_pattern)?;
        let matches: Vec<Value> = req
            .log_event_messages
            .iter()
            .enumerate()
            .filter_map(|(i, message)| {
                let fields = pattern.extract(message.as_bytes())?;
                let extracted: Map<String, Value> =
                    fields.iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_text().into_owned()))).collect();
                Some(json!({"eventNumber": i, "eventMessage": message, "extractedValues": extracted}))
            })
            .collect();
        Ok(json!({"matches": matches}))
    }

    pub(crate) async fn put_metric_filter(&self, ctx: &CallContext, req: PutMetricFilter) -> Result<Value, AwsError> {
        parse_pattern(&req.filter_pattern)?;
        for t in &req.metric_transformations {
            CompiledTransformation::compile(t)?;
        }
        let group = self.group(ctx, &req.log_group_name).await?;
        let doc = MetricFilterDoc {
            filter_name: req.filter_name.clone(),
            filter_pattern: req.filter_pattern,
            metric_transformations: req.metric_transformations,
            creation_time: ctx.now_millis,
            apply_on_transformed_logs: req.apply_on_transformed_logs,
        };
        let body = serde_json::to_string(&doc).expect("a metric filter serializes");
        let stored =
            self.store.put_log_filter(FilterKind::Metric, group.id, &req.filter_name, &body, MAX_METRIC_FILTERS).await.map_err(storage)?;
        if !stored {
            return Err(AwsError::client("LimitExceededException", "Resource limit exceeded."));
        }
        self.consumer_wake.notify_one();
        Ok(json!({}))
    }

    pub(crate) async fn describe_metric_filters(&self, ctx: &CallContext, req: DescribeMetricFilters) -> Result<Value, AwsError> {
        if req.filter_name_prefix.is_some() && req.log_group_name.is_none() {
            return Err(invalid("If filterNamePrefix is specified, logGroupName must also be specified."));
        }
        if req.metric_name.is_some() != req.metric_namespace.is_some() {
            return Err(invalid("If metricName is specified, metricNamespace must also be specified, and vice versa."));
        }
        let records = match &req.log_group_name {
            Some(name) => {
                let group = self.store.log_group(&ctx.account_id, &ctx.region, name).await.map_err(storage)?.ok_or_else(group_not_found)?;
                self.store.log_filters(FilterKind::Metric, Some(group.id)).await.map_err(storage)?
            }
            None => self.store.log_filters_in(FilterKind::Metric, &ctx.account_id, &ctx.region).await.map_err(storage)?,
        };
        let mut items = Vec::new();
        for rec in records {
            let Ok(doc) = serde_json::from_str::<MetricFilterDoc>(&rec.body) else { continue };
            if req.filter_name_prefix.as_deref().is_some_and(|p| !doc.filter_name.starts_with(p)) {
                continue;
            }
            if let (Some(name), Some(ns)) = (&req.metric_name, &req.metric_namespace)
                && !doc.metric_transformations.iter().any(|t| &t.metric_name == name && &t.metric_namespace == ns)
            {
                continue;
            }
            items.push((format!("{}\u{0}{}", rec.group_name, doc.filter_name), describe(&doc, &rec.group_name)));
        }
        page(items, req.next_token.as_deref(), req.limit.unwrap_or(50), "metric-filters", "metricFilters")
    }

    pub(crate) async fn delete_metric_filter(&self, ctx: &CallContext, req: DeleteMetricFilter) -> Result<Value, AwsError> {
        let group = self.group(ctx, &req.log_group_name).await?;
        if !self.store.delete_log_filter(FilterKind::Metric, group.id, &req.filter_name).await.map_err(storage)? {
            return Err(AwsError::client("ResourceNotFoundException", "The specified metric filter does not exist."));
        }
        Ok(json!({}))
    }
}

/// One DescribeMetricFilters item.
fn describe(doc: &MetricFilterDoc, group_name: &str) -> Value {
    json!({
        "filterName": doc.filter_name,
        "filterPattern": doc.filter_pattern,
        "metricTransformations": doc.metric_transformations,
        "creationTime": doc.creation_time,
        "logGroupName": group_name,
        "applyOnTransformedLogs": doc.apply_on_transformed_logs,
    })
}

/// A page of `(key, item)` pairs sorted by key, after `token` (which carries the last
/// key of the previous page, as `kind` tokens).
pub(crate) fn page(items: Vec<(String, Value)>, token: Option<&str>, limit: usize, kind: &str, member: &str) -> Result<Value, AwsError> {
    let after = token.map(|t| crate::tokens::decode(kind, t)).transpose()?;
    let mut rest = items.into_iter().filter(|(k, _)| after.as_deref().is_none_or(|a| k.as_str() > a)).peekable();
    let mut out = Vec::new();
    let mut last = None;
    while out.len() < limit {
        let Some((k, v)) = rest.next() else { break };
        last = Some(k);
        out.push(v);
    }
    let mut body = Map::new();
    body.insert(member.to_owned(), Value::Array(out));
    if let (Some(_), Some(last)) = (rest.peek(), last) {
        body.insert("nextToken".into(), Value::String(crate::tokens::encode(kind, &last)));
    }
    Ok(Value::Object(body))
}

/// Parses a filter pattern; a bad one is InvalidParameterException with the parser's message.
pub(crate) fn parse_pattern(text: &str) -> Result<FilterPattern, AwsError> {
    FilterPattern::parse(text).map_err(|e| invalid(e.message()))
}

/// A metric transformation ready to apply: its value and dimension references compiled.
pub(crate) struct CompiledTransformation {
    namespace: String,
    name: String,
    value: MetricValue,
    default_value: Option<f64>,
    dimensions: Vec<(String, FieldRef)>,
    unit: Option<String>,
}

/// Where a metric's value comes from.
enum MetricValue {
    /// A number, usually `1`: each matching event counts that much.
    Constant(f64),
    /// A field of the event (`$.latency`, `$bytes`); events where it is not a number publish nothing.
    Field(FieldRef),
}

impl CompiledTransformation {
    /// Checks and compiles a transformation; AWS's InvalidParameterException when it is wrong.
    pub(crate) fn compile(t: &Transformation) -> Result<CompiledTransformation, AwsError> {
        let value = match t.metric_value.trim() {
            v if v.starts_with('$') => {
                MetricValue::Field(FieldRef::parse(v).map_err(|e| invalid(format!("Invalid metric value: {}", e.message())))?)
            }
            v => MetricValue::Constant(
                v.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| invalid(format!("Invalid metric value: {v}")))?,
            ),
        };
        if t.dimensions.len() > MAX_DIMENSIONS {
            return Err(invalid("A metric transformation can have at most 3 dimensions."));
        }
        if !t.dimensions.is_empty() && t.default_value.is_some() {
            return Err(invalid("Metric transformations with dimensions cannot have a default value."));
        }
        let mut dimensions = Vec::with_capacity(t.dimensions.len());
        for (name, field) in &t.dimensions {
            let text = field.as_str().unwrap_or_default();
            let field = FieldRef::parse(text).map_err(|_| invalid(format!("Invalid dimension value for dimension {name}: {text}")))?;
            dimensions.push((name.clone(), field));
        }
        dimensions.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(CompiledTransformation {
            namespace: t.metric_namespace.clone(),
            name: t.metric_name.clone(),
            value,
            default_value: t.default_value,
            dimensions,
            unit: t.unit.clone().filter(|u| u != "None"),
        })
    }
}

/// A metric filter compiled for the consumer.
pub(crate) struct CompiledMetricFilter {
    pub(crate) pattern: FilterPattern,
    transformations: Vec<CompiledTransformation>,
}

impl CompiledMetricFilter {
    /// Compiles a stored filter document.
    pub(crate) fn from_body(body: &str) -> Option<CompiledMetricFilter> {
        let doc: MetricFilterDoc = serde_json::from_str(body).ok()?;
        let pattern = FilterPattern::parse(&doc.filter_pattern).ok()?;
        let transformations = doc.metric_transformations.iter().map(CompiledTransformation::compile).collect::<Result<_, _>>().ok()?;
        Some(CompiledMetricFilter { pattern, transformations })
    }

    /// Adds one event to the per-minute aggregates: its values when it matches, and
    /// the minute it fell in (for default values) either way.
    pub(crate) fn apply(&self, aggregates: &mut Aggregates, ts: i64, message: &[u8]) {
        let minute = ts.div_euclid(60_000) * 60_000;
        let fields = self.pattern.extract(message);
        for (i, t) in self.transformations.iter().enumerate() {
            aggregates.seen.entry((i, minute)).or_insert(false);
            let Some(fields) = &fields else { continue };
            let value = match &t.value {
                MetricValue::Constant(v) => *v,
                MetricValue::Field(f) => match fields.get(f).and_then(|v| v.as_f64()) {
                    Some(v) => v,
                    None => continue,
                },
            };
            let mut dims = Vec::with_capacity(t.dimensions.len());
            for (name, field) in &t.dimensions {
                let Some(v) = fields.get(field) else { break };
                dims.push((name.clone(), v.to_text().into_owned()));
            }
            if dims.len() != t.dimensions.len() {
                continue;
            }
            aggregates.seen.insert((i, minute), true);
            let set = aggregates.sets.entry((i, minute, dims)).or_insert(Set {
                count: 0.0,
                sum: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
            });
            set.count += 1.0;
            set.sum += value;
            set.min = set.min.min(value);
            set.max = set.max.max(value);
        }
    }

    /// The data points of a round: the matched statistic sets, and default values for
    /// the minutes that had events but no match.
    pub(crate) fn data(&self, aggregates: Aggregates) -> Vec<Datum> {
        let mut out = Vec::new();
        for ((i, minute, dims), s) in aggregates.sets {
            let t = &self.transformations[i];
            out.push(datum(t, dims, minute, DatumValue::Set { count: s.count, sum: s.sum, min: s.min, max: s.max }));
        }
        for ((i, minute), matched) in aggregates.seen {
            let t = &self.transformations[i];
            if let (false, Some(v)) = (matched, t.default_value) {
                out.push(datum(t, Vec::new(), minute, DatumValue::Set { count: 1.0, sum: v, min: v, max: v }));
            }
        }
        out
    }
}

fn datum(t: &CompiledTransformation, dimensions: Vec<(String, String)>, minute: i64, value: DatumValue) -> Datum {
    Datum {
        namespace: t.namespace.clone(),
        name: t.name.clone(),
        dimensions,
        timestamp_ms: minute,
        value,
        unit: t.unit.clone(),
        storage_resolution: 60,
    }
}

/// A statistic set being gathered.
pub(crate) struct Set {
    count: f64,
    sum: f64,
    min: f64,
    max: f64,
}

/// A statistic set's key: transformation, minute, dimensions.
type SetKey = (usize, i64, Vec<(String, String)>);

/// Per-minute aggregates of one filter over one round of events.
#[derive(Default)]
pub(crate) struct Aggregates {
    /// (transformation, minute, dimensions) → statistics of the matched values.
    sets: std::collections::BTreeMap<SetKey, Set>,
    /// (transformation, minute) → whether any event of that minute matched.
    seen: std::collections::BTreeMap<(usize, i64), bool>,
}
