//! The CloudTrail API: trails, their status and selectors, tags, event history and the
//! public keys of digest signatures.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use serde_json::{Value, json};
use store::Store;
use store::trail::{EventQuery, LookupAttribute};
use wire::{AwsError, CallContext, Model, OperationSpec, Protocol, Service};

use crate::buckets::Buckets;
use crate::trails::{self, MAX_TRAILS_PER_REGION, Trail};

const TRAIL: &str = "arn:aws:cloudtrail:{region}:{account}:trail/{Name}";
const TRAIL_BY_SELECTORS: &str = "arn:aws:cloudtrail:{region}:{account}:trail/{TrailName}";

/// Every operation this service implements, described once.
pub static OPERATIONS: &[OperationSpec] = &[
    OperationSpec::write("CreateTrail").on(&[TRAIL]),
    OperationSpec::write("UpdateTrail").on(&[TRAIL]),
    OperationSpec::write("DeleteTrail").on(&[TRAIL]),
    OperationSpec::read("GetTrail").on(&[TRAIL]),
    OperationSpec::read("DescribeTrails"),
    OperationSpec::read("ListTrails"),
    OperationSpec::write("StartLogging").on(&[TRAIL]),
    OperationSpec::write("StopLogging").on(&[TRAIL]),
    OperationSpec::read("GetTrailStatus").on(&[TRAIL]),
    OperationSpec::write("PutEventSelectors").on(&[TRAIL_BY_SELECTORS]),
    OperationSpec::read("GetEventSelectors").on(&[TRAIL_BY_SELECTORS]),
    OperationSpec::write("AddTags").on(&["{ResourceId}"]),
    OperationSpec::write("RemoveTags").on(&["{ResourceId}"]),
    OperationSpec::read("ListTags"),
    OperationSpec::read("LookupEvents"),
    OperationSpec::read("ListPublicKeys"),
];

/// Event history keeps 90 days, as AWS does.
pub const HISTORY_MILLIS: i64 = 90 * 24 * 3600 * 1000;

/// Most tags on a trail.
const MAX_TAGS: usize = 50;

/// The CloudTrail service over the catalog.
pub struct CloudTrailService {
    model: Model,
    store: Arc<Store>,
    buckets: Arc<Buckets>,
    identities: iam::Identities,
    recorder: crate::Recorder,
    keys: Arc<crate::keys::SigningKeys>,
    /// Topic names the operator mapped to notification endpoints.
    topics: BTreeMap<String, String>,
    /// Serializes trail changes so limit and existence checks and the write are one step.
    writes: tokio::sync::Mutex<()>,
}

impl CloudTrailService {
    /// The service with its embedded botocore model.
    pub fn new(
        store: Arc<Store>,
        buckets: Arc<Buckets>,
        identities: iam::Identities,
        recorder: crate::Recorder,
        keys: Arc<crate::keys::SigningKeys>,
        topics: BTreeMap<String, String>,
    ) -> Self {
        CloudTrailService {
            model: Model::parse(include_str!("../../wire/models/cloudtrail.json")),
            store,
            buckets,
            identities,
            recorder,
            keys,
            topics,
            writes: tokio::sync::Mutex::new(()),
        }
    }
}

#[async_trait]
impl Service for CloudTrailService {
    fn model(&self) -> &Model {
        &self.model
    }

    fn protocol(&self) -> Protocol {
        Protocol::Json
    }

    fn operations(&self) -> &'static [OperationSpec] {
        OPERATIONS
    }

    fn validation_error_code(&self) -> &'static str {
        "InvalidParameterException"
    }

    async fn call(&self, ctx: &CallContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        match op.name {
            "CreateTrail" => self.create_trail(ctx, &input).await,
            "UpdateTrail" => self.update_trail(ctx, &input).await,
            "DeleteTrail" => self.delete_trail(ctx, &input).await,
            "GetTrail" => Ok(json!({"Trail": self.find(ctx, str_of(&input, "Name")).await?.describe()})),
            "DescribeTrails" => self.describe_trails(ctx, &input).await,
            "ListTrails" => self.list_trails(ctx).await,
            "StartLogging" => self.set_logging(ctx, &input, true).await,
            "StopLogging" => self.set_logging(ctx, &input, false).await,
            "GetTrailStatus" => self.trail_status(ctx, &input).await,
            "PutEventSelectors" => self.put_event_selectors(ctx, &input).await,
            "GetEventSelectors" => self.get_event_selectors(ctx, &input).await,
            "AddTags" => self.add_tags(ctx, &input).await,
            "RemoveTags" => self.remove_tags(ctx, &input).await,
            "ListTags" => self.list_tags(ctx, &input).await,
            "LookupEvents" => self.lookup_events(ctx, &input).await,
            "ListPublicKeys" => self.list_public_keys(&input).await,
            other => Err(AwsError::client("UnknownOperationException", format!("Operation {other} is not supported."))),
        }
    }

    /// A trail ARN where a name goes is authorized as that ARN's name.
    fn resource_member(&self, member: &str, value: &str) -> String {
        if matches!(member, "Name" | "TrailName") {
            return value.rsplit_once(":trail/").map_or(value, |(_, name)| name).to_owned();
        }
        value.to_owned()
    }
}

fn str_of<'a>(input: &'a Value, member: &str) -> &'a str {
    input.get(member).and_then(Value::as_str).unwrap_or("")
}

fn opt_str(input: &Value, member: &str) -> Option<String> {
    input.get(member).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn storage(e: store::StoreError) -> AwsError {
    tracing::error!(error = %e, "cloudtrail storage failure");
    AwsError::new("InternalFailure", 500, "An internal error occurred.")
}

fn not_found(ctx: &CallContext, name_or_arn: &str) -> AwsError {
    let arn = if name_or_arn.starts_with("arn:") {
        name_or_arn.to_owned()
    } else {
        format!("arn:aws:cloudtrail:{}:{}:trail/{name_or_arn}", ctx.region, ctx.account_id)
    };
    AwsError::client("TrailNotFoundException", format!("Unknown trail: {arn} for the user: {}", ctx.account_id))
}

/// Epoch seconds, as JSON 1.1 writes timestamps.
fn seconds(millis: i64) -> Value {
    json!(millis as f64 / 1000.0)
}

/// A JSON 1.1 timestamp (epoch seconds as a number, or ISO 8601) in milliseconds.
fn timestamp_millis(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_f64() {
        return Some((n * 1000.0) as i64);
    }
    let s = v.as_str()?;
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

impl CloudTrailService {
    async fn load(&self, account: &str) -> Result<Vec<Trail>, AwsError> {
        let rows = self.store.load_trails(account).await.map_err(storage)?;
        Ok(rows.into_iter().filter_map(|(_, _, body)| serde_json::from_str(&body).ok()).collect())
    }

    /// The trail a name or ARN names, as seen from the caller's region: its own trails
    /// and other regions' multi-region trails.
    async fn find(&self, ctx: &CallContext, name_or_arn: &str) -> Result<Trail, AwsError> {
        let wanted = trails::parse_trail_arn(name_or_arn)?;
        if wanted.is_none() {
            trails::check_name(name_or_arn)?;
        }
        let all = self.load(&ctx.account_id).await?;
        let found = all.into_iter().find(|t| match &wanted {
            Some((region, account, name)) => &t.home_region == region && &t.account_id == account && &t.name == name,
            None => t.name == name_or_arn && (t.home_region == ctx.region || t.is_multi_region),
        });
        let visible = found.filter(|t| t.home_region == ctx.region || t.is_multi_region);
        visible.ok_or_else(|| not_found(ctx, name_or_arn))
    }

    /// Like [`Self::find`], for changes, which only the home region may make.
    async fn find_home(&self, ctx: &CallContext, name_or_arn: &str) -> Result<Trail, AwsError> {
        let trail = self.find(ctx, name_or_arn).await?;
        if trail.home_region != ctx.region {
            return Err(AwsError::client(
                "InvalidHomeRegionException",
                format!("This operation must be called from the trail's home region, {}.", trail.home_region),
            ));
        }
        Ok(trail)
    }

    async fn save(&self, trail: &Trail) -> Result<(), AwsError> {
        let body = serde_json::to_string(trail).expect("trails serialize");
        self.store.put_trail(&trail.account_id, &trail.home_region, &trail.name, &body).await.map_err(storage)
    }

    async fn create_trail(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let name = str_of(input, "Name");
        trails::check_name(name)?;
        let _guard = self.writes.lock().await;
        let existing = self.load(&ctx.account_id).await?;
        if existing.iter().any(|t| t.name == name && t.home_region == ctx.region) {
            let arn = format!("arn:aws:cloudtrail:{}:{}:trail/{name}", ctx.region, ctx.account_id);
            return Err(AwsError::client(
                "TrailAlreadyExistsException",
                format!("Trail {arn} already exists for customer: {}", ctx.account_id),
            ));
        }
        if existing.iter().filter(|t| t.home_region == ctx.region).count() >= MAX_TRAILS_PER_REGION {
            return Err(AwsError::client(
                "MaximumNumberOfTrailsExceededException",
                format!("User: {} already has {MAX_TRAILS_PER_REGION} trails in {}.", ctx.account_id, ctx.region),
            ));
        }
        let mut trail = Trail::new(name, &ctx.account_id, &ctx.region, "");
        if let Some(tags) = input.get("TagsList").and_then(Value::as_array) {
            add_tags(&mut trail, tags)?;
        }
        self.apply(ctx, &mut trail, input).await?;
        self.save(&trail).await?;
        Ok(create_output(&trail))
    }

    async fn update_trail(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let mut trail = self.find_home(ctx, str_of(input, "Name")).await?;
        self.apply(ctx, &mut trail, input).await?;
        self.save(&trail).await?;
        Ok(create_output(&trail))
    }

    /// Applies the settings CreateTrail and UpdateTrail share, checking each as AWS does.
    async fn apply(&self, ctx: &CallContext, trail: &mut Trail, input: &Value) -> Result<(), AwsError> {
        if input.get("KmsKeyId").and_then(Value::as_str).is_some_and(|k| !k.is_empty()) {
            let key = str_of(input, "KmsKeyId");
            return Err(AwsError::client("KmsKeyNotFoundException", format!("KMS key {key} was not found: trailwatch has no KMS.")));
        }
        if input.get("IsOrganizationTrail").and_then(Value::as_bool) == Some(true) {
            return Err(AwsError::client("OrganizationsNotInUseException", "This account is not a member of an organization."));
        }
        if let Some(bucket) = opt_str(input, "S3BucketName") {
            if !crate::buckets::valid_name(&bucket) {
                return Err(AwsError::client("InvalidS3BucketNameException", format!("Bucket name {bucket} is not valid.")));
            }
            if !self.buckets.exists(&bucket).await {
                return Err(AwsError::client("S3BucketDoesNotExistException", format!("S3 bucket {bucket} does not exist.")));
            }
            trail.s3_bucket = bucket;
        }
        if let Some(prefix) = input.get("S3KeyPrefix").and_then(Value::as_str) {
            if prefix.len() > 200 || prefix.starts_with('/') {
                return Err(AwsError::client("InvalidS3PrefixException", format!("Prefix {prefix} is not valid.")));
            }
            trail.s3_key_prefix = Some(prefix.trim_end_matches('/').to_owned()).filter(|p| !p.is_empty());
        }
        if let Some(topic) = input.get("SnsTopicName").and_then(Value::as_str) {
            let name = topic.rsplit(':').next().unwrap_or(topic);
            if !name.is_empty() && !self.topics.contains_key(name) {
                return Err(AwsError::client("InsufficientSnsTopicPolicyException", format!("SNS Topic does not exist: {topic}")));
            }
            trail.sns_topic_name = Some(name.to_owned()).filter(|n| !n.is_empty());
        }
        if let Some(v) = input.get("IncludeGlobalServiceEvents").and_then(Value::as_bool) {
            trail.include_global_service_events = v;
        }
        if let Some(v) = input.get("IsMultiRegionTrail").and_then(Value::as_bool) {
            trail.is_multi_region = v;
        }
        if trail.is_multi_region && !trail.include_global_service_events {
            return Err(AwsError::client("InvalidParameterCombinationException", "Multi-Region trail must include global service events."));
        }
        if let Some(v) = input.get("EnableLogFileValidation").and_then(Value::as_bool) {
            trail.log_file_validation = v;
        }
        let group = input.get("CloudWatchLogsLogGroupArn").and_then(Value::as_str);
        let role = input.get("CloudWatchLogsRoleArn").and_then(Value::as_str);
        if group.is_some() || role.is_some() {
            self.apply_logs_delivery(ctx, trail, group.unwrap_or(""), role.unwrap_or(""))?;
        }
        Ok(())
    }

    /// Sets (or, with both empty, clears) delivery to a log group. The role must be one
    /// CloudTrail can assume; whether it may write to the group shows at delivery time.
    fn apply_logs_delivery(&self, ctx: &CallContext, trail: &mut Trail, group: &str, role: &str) -> Result<(), AwsError> {
        if group.is_empty() && role.is_empty() {
            trail.cwl_group_arn = None;
            trail.cwl_role_arn = None;
            return Ok(());
        }
        if group.is_empty() || role.is_empty() {
            return Err(AwsError::client("InvalidCloudWatchLogsLogGroupArnException", "You must specify a log group and role ARN."));
        }
        trails::check_group_arn(group, &ctx.account_id)?;
        let now = time::OffsetDateTime::now_utc();
        if self.identities.assume_role_for_service(crate::SERVICE_PRINCIPAL, role, "CloudTrailCheck", now).is_err() {
            return Err(AwsError::client(
                "InvalidCloudWatchLogsRoleArnException",
                "Access denied. Check the trust relationships for your role.",
            ));
        }
        trail.cwl_group_arn = Some(group.to_owned());
        trail.cwl_role_arn = Some(role.to_owned());
        Ok(())
    }

    async fn delete_trail(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let trail = self.find_home(ctx, str_of(input, "Name")).await?;
        self.store.delete_trail(&trail.account_id, &trail.home_region, &trail.name, &trail.arn()).await.map_err(storage)?;
        Ok(json!({}))
    }

    async fn describe_trails(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let shadows = input.get("includeShadowTrails").and_then(Value::as_bool).unwrap_or(true);
        let names: Vec<&str> =
            input.get("trailNameList").and_then(Value::as_array).map(|l| l.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let all = self.load(&ctx.account_id).await?;
        let visible = all.into_iter().filter(|t| t.home_region == ctx.region || (shadows && t.is_multi_region));
        let mut list = Vec::new();
        for t in visible {
            let named = names.is_empty() || names.iter().any(|n| *n == t.name || *n == t.arn());
            if named {
                list.push(t.describe());
            }
        }
        for n in &names {
            if trails::parse_trail_arn(n)?.is_none() {
                trails::check_name(n)?;
            }
        }
        Ok(json!({"trailList": list}))
    }

    async fn list_trails(&self, ctx: &CallContext) -> Result<Value, AwsError> {
        let all = self.load(&ctx.account_id).await?;
        let list: Vec<Value> = all.iter().map(|t| json!({"TrailARN": t.arn(), "Name": t.name, "HomeRegion": t.home_region})).collect();
        Ok(json!({"Trails": list}))
    }

    async fn set_logging(&self, ctx: &CallContext, input: &Value, on: bool) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let mut trail = self.find_home(ctx, str_of(input, "Name")).await?;
        if trail.logging == on {
            return Ok(json!({}));
        }
        trail.logging = on;
        if on {
            trail.started_at = Some(ctx.now_millis);
            // Delivery begins with the events recorded from now on, as a new trail on AWS
            // does; this StartLogging call itself is recorded after the cursor, so it is
            // the trail's first event.
            let arn = trail.arn();
            let latest = self.store.latest_trail_event_seq().await.map_err(storage)?;
            for sink in ["s3", "logs"] {
                if self.store.trail_cursor(&arn, sink).await.map_err(storage)?.is_none() {
                    self.store.set_trail_cursor(&arn, sink, latest).await.map_err(storage)?;
                }
            }
        } else {
            trail.stopped_at = Some(ctx.now_millis);
        }
        self.save(&trail).await?;
        Ok(json!({}))
    }

    async fn trail_status(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let trail = self.find(ctx, str_of(input, "Name")).await?;
        let mut out = json!({"IsLogging": trail.logging});
        if let Some(t) = trail.started_at {
            out["StartLoggingTime"] = seconds(t);
            out["TimeLoggingStarted"] = crate::record::iso_time(t).into();
        }
        if let Some(t) = trail.stopped_at {
            out["StopLoggingTime"] = seconds(t);
            out["TimeLoggingStopped"] = crate::record::iso_time(t).into();
        }
        for s in self.store.trail_status(&trail.arn()).await.map_err(storage)? {
            let (time_key, error_key) = match s.sink.as_str() {
                "s3" => ("LatestDeliveryTime", "LatestDeliveryError"),
                "logs" => ("LatestCloudWatchLogsDeliveryTime", "LatestCloudWatchLogsDeliveryError"),
                "digest" => ("LatestDigestDeliveryTime", "LatestDigestDeliveryError"),
                "sns" => ("LatestNotificationTime", "LatestNotificationError"),
                _ => continue,
            };
            if let Some(t) = s.last_ok {
                out[time_key] = seconds(t);
            }
            if let Some(e) = &s.last_error {
                out[error_key] = e.clone().into();
            }
            let attempt = s.last_attempt.map(crate::record::iso_time).unwrap_or_default();
            let succeeded = if s.last_attempt.is_some() { s.last_error.is_none().to_string() } else { String::new() };
            match s.sink.as_str() {
                "s3" => {
                    out["LatestDeliveryAttemptTime"] = attempt.into();
                    out["LatestDeliveryAttemptSucceeded"] = succeeded.into();
                }
                "sns" => {
                    out["LatestNotificationAttemptTime"] = attempt.into();
                    out["LatestNotificationAttemptSucceeded"] = succeeded.into();
                }
                _ => {}
            }
        }
        Ok(out)
    }

    async fn put_event_selectors(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let mut trail = self.find_home(ctx, str_of(input, "TrailName")).await?;
        let basic = input.get("EventSelectors").and_then(Value::as_array);
        let advanced = input.get("AdvancedEventSelectors").and_then(Value::as_array);
        let invalid = |m: &str| Err(AwsError::client("InvalidEventSelectorsException", m));
        match (basic, advanced) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(AwsError::client(
                    "InvalidParameterCombinationException",
                    "You must specify either EventSelectors or AdvancedEventSelectors, but not both.",
                ));
            }
            (Some(list), None) => {
                if list.len() > 5 {
                    return invalid("You can specify up to five event selectors for a trail.");
                }
                let mut selectors = Vec::new();
                for s in list {
                    let mut s = s.clone();
                    s["ReadWriteType"] = s.get("ReadWriteType").cloned().unwrap_or_else(|| "All".into());
                    s["IncludeManagementEvents"] = s.get("IncludeManagementEvents").cloned().unwrap_or(Value::Bool(true));
                    s["DataResources"] = s.get("DataResources").cloned().unwrap_or_else(|| json!([]));
                    s["ExcludeManagementEventSources"] = s.get("ExcludeManagementEventSources").cloned().unwrap_or_else(|| json!([]));
                    selectors.push(s);
                }
                trail.event_selectors = Some(Value::Array(selectors));
                trail.advanced_event_selectors = None;
            }
            (None, Some(list)) => {
                if list.iter().any(|s| s.get("FieldSelectors").and_then(Value::as_array).is_none_or(|f| f.is_empty())) {
                    return invalid("Each advanced event selector needs at least one field selector.");
                }
                trail.advanced_event_selectors = Some(Value::Array(list.clone()));
                trail.event_selectors = None;
            }
        }
        self.save(&trail).await?;
        Ok(selectors_output(&trail))
    }

    async fn get_event_selectors(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let trail = self.find(ctx, str_of(input, "TrailName")).await?;
        Ok(selectors_output(&trail))
    }

    async fn tagged_trail(&self, ctx: &CallContext, resource_id: &str) -> Result<Trail, AwsError> {
        if trails::parse_trail_arn(resource_id)?.is_none() {
            return Err(AwsError::client(
                "CloudTrailARNInvalidException",
                format!(
                    "Invalid trail ARN: {resource_id}. The ARN must be in the format arn:aws:cloudtrail:region:account-id:trail/trail-name."
                ),
            ));
        }
        self.find(ctx, resource_id)
            .await
            .map_err(|_| AwsError::client("ResourceNotFoundException", format!("Resource not found: {resource_id}")))
    }

    async fn add_tags(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let mut trail = self.tagged_trail(ctx, str_of(input, "ResourceId")).await?;
        add_tags(&mut trail, input.get("TagsList").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]))?;
        self.save(&trail).await?;
        Ok(json!({}))
    }

    async fn remove_tags(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let mut trail = self.tagged_trail(ctx, str_of(input, "ResourceId")).await?;
        for tag in input.get("TagsList").and_then(Value::as_array).into_iter().flatten() {
            trail.tags.remove(str_of(tag, "Key"));
        }
        self.save(&trail).await?;
        Ok(json!({}))
    }

    async fn list_tags(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let mut list = Vec::new();
        for id in input.get("ResourceIdList").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            let trail = self.tagged_trail(ctx, id).await?;
            let tags: Vec<Value> = trail.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
            list.push(json!({"ResourceId": id, "TagsList": tags}));
        }
        Ok(json!({"ResourceTagList": list}))
    }

    async fn lookup_events(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let attribute = lookup_attribute(input)?;
        let now = ctx.now_millis;
        let start = input.get("StartTime").and_then(timestamp_millis).unwrap_or(0).max(now - HISTORY_MILLIS);
        let end = input.get("EndTime").and_then(timestamp_millis).unwrap_or(now);
        if let (Some(s), Some(e)) = (input.get("StartTime").and_then(timestamp_millis), input.get("EndTime").and_then(timestamp_millis))
            && s > e
        {
            return Err(AwsError::client("InvalidTimeRangeException", "Start time must be before end time."));
        }
        if input.get("EventCategory").and_then(Value::as_str).is_some_and(|c| c != "insight") {
            return Err(AwsError::client("InvalidEventCategoryException", "Event category is not valid."));
        }
        let limit = input.get("MaxResults").and_then(Value::as_i64).unwrap_or(50);
        if !(1..=50).contains(&limit) {
            return Err(AwsError::client("InvalidMaxResultsException", "MaxResults must be between 1 and 50."));
        }
        let before = match input.get("NextToken").and_then(Value::as_str) {
            Some(token) => Some(decode_token(token)?),
            None => None,
        };
        // Insight events are not generated, so an insight lookup is empty.
        if input.get("EventCategory").is_some() {
            return Ok(json!({"Events": []}));
        }
        let query =
            EventQuery { account_id: ctx.account_id.clone(), region: ctx.region.clone(), start, end, attribute, before, limit: limit + 1 };
        self.recorder.flush().await;
        let mut rows = self.store.lookup_trail_events(&query).await.map_err(storage)?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| encode_token(r.event_time, r.seq))
        } else {
            None
        };
        let events: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut e = json!({
                    "EventId": r.event_id,
                    "EventName": r.event_name,
                    "ReadOnly": r.read_only.to_string(),
                    "EventTime": seconds(r.event_time),
                    "EventSource": r.event_source,
                    "Resources": serde_json::from_str::<Value>(&r.resources).unwrap_or_else(|_| json!([])),
                    "CloudTrailEvent": r.body,
                });
                if let Some(k) = &r.access_key_id {
                    e["AccessKeyId"] = k.clone().into();
                }
                if let Some(u) = &r.username {
                    e["Username"] = u.clone().into();
                }
                e
            })
            .collect();
        let mut out = json!({"Events": events});
        if let Some(next) = next {
            out["NextToken"] = next.into();
        }
        Ok(out)
    }

    async fn list_public_keys(&self, input: &Value) -> Result<Value, AwsError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let start = input.get("StartTime").and_then(timestamp_millis).unwrap_or(now);
        let end = input.get("EndTime").and_then(timestamp_millis).unwrap_or(now);
        if start > end {
            return Err(AwsError::client("InvalidTimeRangeException", "Start time must be before end time."));
        }
        let list: Vec<Value> = self
            .keys
            .public_keys(start, end)
            .iter()
            .map(|k| {
                json!({
                    "Value": base64::engine::general_purpose::STANDARD.encode(&k.value),
                    "ValidityStartTime": seconds(k.validity_start_time),
                    "ValidityEndTime": seconds(k.validity_end_time),
                    "Fingerprint": k.fingerprint,
                })
            })
            .collect();
        Ok(json!({"PublicKeyList": list}))
    }
}

fn create_output(trail: &Trail) -> Value {
    let mut v = trail.describe();
    if let Some(o) = v.as_object_mut() {
        for k in ["HomeRegion", "HasCustomEventSelectors", "HasInsightSelectors"] {
            o.remove(k);
        }
    }
    v
}

fn selectors_output(trail: &Trail) -> Value {
    match &trail.advanced_event_selectors {
        Some(advanced) => json!({"TrailARN": trail.arn(), "AdvancedEventSelectors": advanced}),
        None => json!({"TrailARN": trail.arn(), "EventSelectors": trail.effective_selectors()}),
    }
}

fn add_tags(trail: &mut Trail, tags: &[Value]) -> Result<(), AwsError> {
    for tag in tags {
        let key = str_of(tag, "Key");
        if key.is_empty() || key.starts_with("aws:") {
            return Err(AwsError::client("InvalidTagParameterException", format!("Tag key {key} is not valid.")));
        }
        trail.tags.insert(key.to_owned(), str_of(tag, "Value").to_owned());
    }
    if trail.tags.len() > MAX_TAGS {
        return Err(AwsError::client("TagsLimitExceededException", format!("The number of tags exceeds the limit of {MAX_TAGS}.")));
    }
    Ok(())
}

fn lookup_attribute(input: &Value) -> Result<Option<LookupAttribute>, AwsError> {
    let list = input.get("LookupAttributes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let invalid = |m: &str| Err(AwsError::client("InvalidLookupAttributesException", m));
    if list.len() > 1 {
        return invalid("You cannot specify more than one lookup attribute.");
    }
    let Some(a) = list.first() else { return Ok(None) };
    let value = str_of(a, "AttributeValue").to_owned();
    Ok(Some(match str_of(a, "AttributeKey") {
        "EventId" => LookupAttribute::EventId(value),
        "EventName" => LookupAttribute::EventName(value),
        "ReadOnly" => match value.as_str() {
            "true" => LookupAttribute::ReadOnly(true),
            "false" => LookupAttribute::ReadOnly(false),
            _ => return invalid("ReadOnly attribute value must be true or false."),
        },
        "Username" => LookupAttribute::Username(value),
        "ResourceType" => LookupAttribute::ResourceType(value),
        "ResourceName" => LookupAttribute::ResourceName(value),
        "EventSource" => LookupAttribute::EventSource(value),
        "AccessKeyId" => LookupAttribute::AccessKeyId(value),
        other => return invalid(&format!("Lookup attribute key {other} is not valid.")),
    }))
}

fn encode_token(time: i64, seq: i64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{time}:{seq}"))
}

fn decode_token(token: &str) -> Result<(i64, i64), AwsError> {
    let invalid = || AwsError::client("InvalidNextTokenException", "Invalid NextToken.");
    let bytes = base64::engine::general_purpose::STANDARD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (t, s) = text.split_once(':').ok_or_else(invalid)?;
    Ok((t.parse().map_err(|_| invalid())?, s.parse().map_err(|_| invalid())?))
}
