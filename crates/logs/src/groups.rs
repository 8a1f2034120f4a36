//! Log groups: create, delete, describe, retention.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use store::{GroupQuery, LogGroup, NewLogGroup, StoreError};
use wire::{AwsError, CallContext};

use crate::{LogsService, group_arn, invalid, storage, tokens};

/// The retention values AWS accepts, in days.
pub const RETENTION_DAYS: &[i32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateLogGroup {
    log_group_name: String,
    kms_key_id: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    log_group_class: Option<String>,
    deletion_protection_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupName {
    log_group_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogGroups {
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    log_group_class: Option<String>,
    log_group_identifiers: Option<Vec<String>>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutRetentionPolicy {
    log_group_name: String,
    retention_in_days: i32,
}

impl LogsService {
    pub(crate) async fn create_log_group(&self, ctx: &CallContext, req: CreateLogGroup) -> Result<Value, AwsError> {
        // AWS: "Log group names can't start with the string aws/".
        if req.log_group_name.starts_with("aws/") {
            return Err(invalid("Log groups starting with AWS/ are reserved for AWS."));
        }
        let new = NewLogGroup {
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            name: req.log_group_name,
            creation_time: ctx.now_millis,
            kms_key_id: req.kms_key_id,
            log_group_class: req.log_group_class.unwrap_or_else(|| "STANDARD".into()),
            deletion_protection: req.deletion_protection_enabled.unwrap_or(false),
            tags: req.tags.unwrap_or_default(),
        };
        match self.store.create_log_group(&new).await {
            Ok(_) => Ok(json!({})),
            Err(StoreError::AlreadyExists) => {
                Err(AwsError::client("ResourceAlreadyExistsException", "The specified log group already exists"))
            }
            Err(e) => Err(storage(e)),
        }
    }

    pub(crate) async fn delete_log_group(&self, ctx: &CallContext, req: GroupName) -> Result<Value, AwsError> {
        let group = self.group(ctx, &req.log_group_name).await?;
        if group.deletion_protection {
            // AWS: "Protecting log groups from deletion", Error handling.
            return Err(AwsError::client(
                "ValidationException",
                "Cannot delete log group with deletion protection enabled. Disable deletion protection first.",
            ));
        }
        match self.store.delete_log_group(&group).await {
            Ok(()) => Ok(json!({})),
            Err(StoreError::NotFound) => Err(crate::group_not_found()),
            Err(e) => Err(storage(e)),
        }
    }

    pub(crate) async fn describe_log_groups(&self, ctx: &CallContext, req: DescribeLogGroups) -> Result<Value, AwsError> {
        if req.log_group_name_prefix.is_some() && req.log_group_name_pattern.is_some() {
            return Err(invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters."));
        }
        if req.log_group_identifiers.is_some() && (req.log_group_name_prefix.is_some() || req.log_group_name_pattern.is_some()) {
            return Err(invalid("LogGroupIdentifiers cannot be combined with LogGroupNamePrefix or LogGroupNamePattern."));
        }
        let limit = req.limit.unwrap_or(50);
        let after = req.next_token.as_deref().map(|t| tokens::decode("groups", t)).transpose()?;
        let mut groups = match &req.log_group_identifiers {
            // Looked up one by one (at most 50): filtering a page of the full listing
            // would miss every named group beyond that page.
            Some(ids) => {
                let mut names: Vec<String> = ids.iter().filter_map(|id| crate::group_name_from_identifier(ctx, id).ok()).collect();
                names.sort();
                names.dedup();
                let mut found = Vec::new();
                for name in names.iter().filter(|n| after.as_deref().is_none_or(|a| n.as_str() > a)) {
                    if let Some(g) = self.store.log_group(&ctx.account_id, &ctx.region, name).await.map_err(storage)?
                        && req.log_group_class.as_deref().is_none_or(|c| c == g.log_group_class)
                    {
                        found.push(g);
                    }
                }
                found
            }
            None => self
                .store
                .list_log_groups(
                    &ctx.account_id,
                    &ctx.region,
                    &GroupQuery {
                        prefix: req.log_group_name_prefix.as_deref(),
                        pattern: req.log_group_name_pattern.as_deref(),
                        class: req.log_group_class.as_deref(),
                        after: after.as_deref(),
                        limit: limit + 1,
                    },
                )
                .await
                .map_err(storage)?,
        };
        let more = groups.len() as i64 > limit;
        groups.truncate(limit as usize);
        let brief = req.log_group_name_pattern.is_some();
        let mut list = Vec::with_capacity(groups.len());
        for g in &groups {
            let filters = if brief { 0 } else { self.store.log_filter_count(store::FilterKind::Metric, g.id).await.map_err(storage)? };
            list.push(describe_group(ctx, g, brief, filters));
        }
        let mut out = json!({ "logGroups": list });
        if more && let Some(last) = groups.last() {
            out["nextToken"] = json!(tokens::encode("groups", &last.name));
        }
        Ok(out)
    }

    pub(crate) async fn put_retention_policy(&self, ctx: &CallContext, req: PutRetentionPolicy) -> Result<Value, AwsError> {
        if !RETENTION_DAYS.contains(&req.retention_in_days) {
            let allowed: Vec<String> = RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
            return Err(invalid(format!(
                "1 validation error detected: Value '{}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                req.retention_in_days,
                allowed.join(", ")
            )));
        }
        let group = self.group(ctx, &req.log_group_name).await?;
        self.store.set_retention(group.id, Some(req.retention_in_days)).await.map_err(storage)?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_retention_policy(&self, ctx: &CallContext, req: GroupName) -> Result<Value, AwsError> {
        let group = self.group(ctx, &req.log_group_name).await?;
        self.store.set_retention(group.id, None).await.map_err(storage)?;
        Ok(json!({}))
    }
}

/// A log group as DescribeLogGroups returns it; `brief` when a name pattern was given.
fn describe_group(ctx: &CallContext, g: &LogGroup, brief: bool, metric_filters: i64) -> Value {
    let arn = group_arn(ctx, &g.name);
    let mut m = Map::new();
    m.insert("logGroupName".into(), json!(g.name));
    m.insert("creationTime".into(), json!(g.creation_time));
    if !brief {
        if let Some(d) = g.retention_days {
            m.insert("retentionInDays".into(), json!(d));
        }
        m.insert("metricFilterCount".into(), json!(metric_filters));
    }
    m.insert("arn".into(), json!(format!("{arn}:*")));
    if !brief {
        m.insert("storedBytes".into(), json!(g.stored_bytes.max(0)));
        if let Some(k) = &g.kms_key_id {
            m.insert("kmsKeyId".into(), json!(k));
        }
        m.insert("logGroupClass".into(), json!(g.log_group_class));
        m.insert("logGroupArn".into(), json!(arn));
        m.insert("deletionProtectionEnabled".into(), json!(g.deletion_protection));
    }
    Value::Object(m)
}
