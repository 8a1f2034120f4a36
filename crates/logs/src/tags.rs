//! Tags on log groups: the ARN-based API and the older name-based one.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use wire::{AwsError, CallContext};

use crate::{LogsService, invalid, storage};

/// AWS's limit of tags per resource.
const MAX_TAGS: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagResource {
    resource_arn: String,
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UntagResource {
    resource_arn: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceArn {
    resource_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagLogGroup {
    log_group_name: String,
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UntagLogGroup {
    log_group_name: String,
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupName {
    log_group_name: String,
}

impl LogsService {
    pub(crate) async fn tag_resource(&self, ctx: &CallContext, req: TagResource) -> Result<Value, AwsError> {
        let name = arn_group_name(ctx, &req.resource_arn)?;
        self.add_tags(ctx, &name, &req.tags, Some(&req.resource_arn)).await
    }

    pub(crate) async fn untag_resource(&self, ctx: &CallContext, req: UntagResource) -> Result<Value, AwsError> {
        let name = arn_group_name(ctx, &req.resource_arn)?;
        let group = self.group(ctx, &name).await?;
        self.store.remove_tags(group.id, &req.tag_keys).await.map_err(storage)?;
        Ok(json!({}))
    }

    pub(crate) async fn list_tags_for_resource(&self, ctx: &CallContext, req: ResourceArn) -> Result<Value, AwsError> {
        let name = arn_group_name(ctx, &req.resource_arn)?;
        let group = self.group(ctx, &name).await?;
        Ok(json!({ "tags": self.store.tags(group.id).await.map_err(storage)? }))
    }

    pub(crate) async fn tag_log_group(&self, ctx: &CallContext, req: TagLogGroup) -> Result<Value, AwsError> {
        self.add_tags(ctx, &req.log_group_name, &req.tags, None).await
    }

    pub(crate) async fn untag_log_group(&self, ctx: &CallContext, req: UntagLogGroup) -> Result<Value, AwsError> {
        let group = self.group(ctx, &req.log_group_name).await?;
        self.store.remove_tags(group.id, &req.tags).await.map_err(storage)?;
        Ok(json!({}))
    }

    pub(crate) async fn list_tags_log_group(&self, ctx: &CallContext, req: GroupName) -> Result<Value, AwsError> {
        let group = self.group(ctx, &req.log_group_name).await?;
        Ok(json!({ "tags": self.store.tags(group.id).await.map_err(storage)? }))
    }

    async fn add_tags(&self, ctx: &CallContext, name: &str, tags: &BTreeMap<String, String>, arn: Option<&str>) -> Result<Value, AwsError> {
        let group = self.group(ctx, name).await?;
        // Concurrent calls would each see room for their tags and together pass 50.
        let _serialized = self.tag_writes.lock().await;
        let mut merged = self.store.tags(group.id).await.map_err(storage)?;
        merged.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        if merged.len() > MAX_TAGS {
            let resource = arn.map(str::to_owned).unwrap_or_else(|| crate::group_arn(ctx, name));
            return Err(AwsError::client("TooManyTagsException", format!("A resource can have no more than 50 tags: {resource}")));
        }
        self.store.put_tags(group.id, tags).await.map_err(storage)?;
        Ok(json!({}))
    }
}

/// The log group a tagging ARN names; only log groups are taggable here.
fn arn_group_name(ctx: &CallContext, arn: &str) -> Result<String, AwsError> {
    if !arn.starts_with("arn:") {
        return Err(invalid(format!("Invalid resource ARN: {arn}")));
    }
    crate::group_name_from_identifier(ctx, arn)
}
