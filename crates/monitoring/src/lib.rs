//! CloudWatch metrics and alarms over the Query protocol.
//!
//! Metric data (PutMetricData, and log metric filters through [`Monitoring::put`]) is
//! aggregated into per-minute (per-second for high resolution) statistic buckets in the
//! catalog; GetMetricStatistics, GetMetricData and ListMetrics read them. Metric alarms
//! are documents in the catalog; the evaluator ([`Monitoring::spawn`]) recomputes each
//! alarm's state from the buckets, records transitions in the alarm history and posts
//! SNS notifications to the HTTP endpoints of the alarm's topics.

mod alarm;
mod api;
mod evaluate;
mod math;
mod notify;
mod reason;
mod stat;
mod timefmt;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use store::metrics::{BucketWrite, SeriesKey, Stats};
use store::{Store, StoreError};
use tokio::sync::{Mutex, Notify};
use wire::{AwsError, CallContext, Model, OperationSpec, Protocol, Service};

const ALARM: &str = "arn:aws:cloudwatch:{region}:{account}:alarm:{AlarmName}";
const ALARMS: &str = "arn:aws:cloudwatch:{region}:{account}:alarm:*";

/// Every CloudWatch operation trailwatch serves, with the resources the Service
/// Authorization Reference lists for its action (metric actions take `*`). The metric
/// operations are CloudTrail data events (`AWS::CloudWatch::Metric`), as in AWS.
static OPERATIONS: &[OperationSpec] = &[
    OperationSpec::write("PutMetricData").data(),
    OperationSpec::read("GetMetricStatistics").data(),
    OperationSpec::read("GetMetricData").data(),
    OperationSpec::read("ListMetrics").data(),
    OperationSpec::write("PutMetricAlarm").on(&[ALARM]),
    OperationSpec::read("DescribeAlarms").on(&[ALARMS]),
    OperationSpec::read("DescribeAlarmsForMetric"),
    OperationSpec::write("DeleteAlarms").on(&[ALARMS]),
    OperationSpec::write("SetAlarmState").on(&[ALARM]),
    OperationSpec::read("DescribeAlarmHistory").on(&[ALARM]),
    OperationSpec::write("EnableAlarmActions").on(&[ALARMS]),
    OperationSpec::write("DisableAlarmActions").on(&[ALARMS]),
    OperationSpec::write("TagResource").on(&["{ResourceARN}"]),
    OperationSpec::write("UntagResource").on(&["{ResourceARN}"]),
    OperationSpec::read("ListTagsForResource").on(&["{ResourceARN}"]),
];

/// How long metric data is kept: CloudWatch keeps hourly data 15 months.
const RETENTION_MS: i64 = 455 * 86_400_000;
/// How long alarm history is kept.
const HISTORY_RETENTION_MS: i64 = 30 * 86_400_000;
/// How often the evaluator drops expired data.
const EXPIRY_EVERY_MS: i64 = 3_600_000;

/// The lease under which one node evaluates alarms.
pub const ALARMS_JOB: &str = "alarms";

/// One metric datum to store: what PutMetricData receives and what log metric filters
/// produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    /// The namespace.
    pub namespace: String,
    /// The metric name.
    pub name: String,
    /// The dimensions, in any order.
    pub dimensions: Vec<(String, String)>,
    /// When the samples were taken, epoch ms.
    pub timestamp_ms: i64,
    /// The samples.
    pub value: DatumValue,
    /// The unit (`None` when absent).
    pub unit: Option<String>,
    /// 60 (minute buckets) or 1 (second buckets, high resolution).
    pub storage_resolution: u32,
}

/// The samples of a datum.
#[derive(Debug, Clone, PartialEq)]
pub enum DatumValue {
    /// Values seen `counts` times each (a missing count is 1); `Value` is one value.
    Values {
        /// The values.
        values: Vec<f64>,
        /// How often each was seen.
        counts: Vec<f64>,
    },
    /// A statistic set.
    Set {
        /// SampleCount.
        count: f64,
        /// Sum.
        sum: f64,
        /// Minimum.
        min: f64,
        /// Maximum.
        max: f64,
    },
}

impl DatumValue {
    fn stats(&self) -> Option<Stats> {
        match self {
            DatumValue::Values { values, counts } => Stats::from_values(values, counts),
            DatumValue::Set { count, sum, min, max } => Some(Stats::from_set(*count, *sum, *min, *max)),
        }
    }
}

/// The CloudWatch state shared by the API and the alarm evaluator.
pub struct Monitoring {
    store: Arc<Store>,
    /// SNS topic name → the HTTP endpoint its notifications are posted to.
    topics: BTreeMap<String, String>,
    http: reqwest::Client,
    /// Held for every read-modify-write of an alarm document.
    alarms: Mutex<()>,
    /// Wakes the delivery of notifications a handler queued (SetAlarmState).
    wake: Notify,
}

impl Monitoring {
    /// CloudWatch over the store, notifying alarm topics at their configured endpoints.
    pub fn new(store: Arc<Store>, topics: BTreeMap<String, String>) -> Arc<Monitoring> {
        let http = reqwest::Client::builder()
            .timeout(notify::TIMEOUT)
            .connect_timeout(notify::CONNECT_TIMEOUT)
            .build()
            .expect("an HTTP client builds");
        Arc::new(Monitoring { store, topics, http, alarms: Mutex::new(()), wake: Notify::new() })
    }

    /// Adds metric data, aggregated into per-bucket statistics in one transaction.
    pub async fn put(&self, account: &str, region: &str, data: Vec<Datum>) -> Result<(), StoreError> {
        let mut buckets: HashMap<(SeriesKey, i64, i64, String), Stats> = HashMap::new();
        for d in data {
            let Some(stats) = d.value.stats() else { continue };
            let width_s = if d.storage_resolution == 1 { 1 } else { 60 };
            let start_ms = d.timestamp_ms.div_euclid(width_s * 1000) * width_s * 1000;
            let key = (SeriesKey::new(&d.namespace, &d.name, d.dimensions), start_ms, width_s, d.unit.unwrap_or_else(|| "None".into()));
            match buckets.get_mut(&key) {
                Some(s) => s.merge(&stats),
                None => {
                    buckets.insert(key, stats);
                }
            }
        }
        let writes: Vec<BucketWrite> = buckets
            .into_iter()
            .map(|((series, start_ms, width_s, unit), stats)| BucketWrite { series, start_ms, width_s, unit, stats })
            .collect();
        if writes.is_empty() {
            return Ok(());
        }
        self.store.metrics_put(account, region, now_millis(), &writes).await
    }

    /// Starts the alarm evaluator: every `every` it evaluates each alarm and delivers due
    /// notifications, on the node holding [`ALARMS_JOB`]; notifications queued by
    /// SetAlarmState go out at once from the node that queued them (each is claimed).
    pub fn spawn(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut expired_at = 0;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        match me.store.acquire_lease(ALARMS_JOB, store::lease::TTL).await {
                            Ok(true) => {}
                            Ok(false) => continue,
                            Err(e) => {
                                tracing::warn!(error = %e, "asking for the alarms' lease failed");
                                continue;
                            }
                        }
                        let now = now_millis();
                        me.evaluate_now(now).await;
                        if now - expired_at >= EXPIRY_EVERY_MS {
                            expired_at = now;
                            me.expire(now).await;
                        }
                    }
                    _ = me.wake.notified() => {
                        me.deliver_now(now_millis()).await;
                    }
                }
            }
        })
    }

    /// Evaluates every alarm as of `now_ms` and delivers the notifications due then.
    pub async fn evaluate_now(&self, now_ms: i64) {
        evaluate::all(self, now_ms).await;
        self.deliver_now(now_ms).await;
    }

    /// Posts the notifications due at `now_ms` to their endpoints; returns how many were
    /// attempted.
    pub async fn deliver_now(&self, now_ms: i64) -> usize {
        notify::deliver(self, now_ms).await
    }

    async fn expire(&self, now_ms: i64) {
        if let Err(e) = self.store.metrics_expire(now_ms - RETENTION_MS, now_ms - HISTORY_RETENTION_MS).await {
            tracing::warn!(error = %e, "cannot drop expired metric data");
        }
    }
}

/// The CloudWatch service.
pub struct MonitoringService {
    model: Model,
    monitoring: Arc<Monitoring>,
}

impl MonitoringService {
    /// The CloudWatch API over shared CloudWatch state, with its embedded botocore model.
    pub fn new(monitoring: Arc<Monitoring>) -> Self {
        MonitoringService { model: Model::parse(include_str!("../../wire/models/cloudwatch.json")), monitoring }
    }
}

#[async_trait]
impl Service for MonitoringService {
    fn model(&self) -> &Model {
        &self.model
    }

    fn protocol(&self) -> Protocol {
        Protocol::Query
    }

    fn operations(&self) -> &'static [OperationSpec] {
        OPERATIONS
    }

    /// CloudWatch answers model violations with ValidationError ("1 validation error
    /// detected: ..."), as the other Query services do.
    fn validation_error_code(&self) -> &'static str {
        "ValidationError"
    }

    async fn call(&self, ctx: &CallContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        api::call(&self.monitoring, ctx, op.name, &input).await
    }

    async fn resource_tags(&self, ctx: &CallContext, arn: &str) -> BTreeMap<String, String> {
        api::alarm_tags(&self.monitoring, ctx, arn).await
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
