//! Log streams: create, delete, describe.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use store::catalog::StreamCursor;
use store::{LogStream, StoreError, StreamOrder};
use wire::{AwsError, CallContext};

use crate::{LogsService, group_arn, invalid, storage, stream_not_found, tokens};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StreamName {
    log_group_name: String,
    log_stream_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogStreams {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<i64>,
}

impl LogsService {
    pub(crate) async fn create_log_stream(&self, ctx: &CallContext, req: StreamName) -> Result<Value, AwsError> {
        let group = self.group(ctx, &req.log_group_name).await?;
        match self.store.create_log_stream(group.id, &req.log_stream_name, ctx.now_millis).await {
            Ok(()) => Ok(json!({})),
            Err(StoreError::AlreadyExists) => {
                Err(AwsError::client("ResourceAlreadyExistsException", "The specified log stream already exists"))
            }
            Err(e) => Err(storage(e)),
        }
    }

    pub(crate) async fn delete_log_stream(&self, ctx: &CallContext, req: StreamName) -> Result<Value, AwsError> {
        let group = self.group(ctx, &req.log_group_name).await?;
        let stream = self.store.log_stream(group.id, &req.log_stream_name).await.map_err(storage)?.ok_or_else(stream_not_found)?;
        match self.store.delete_log_stream(&stream).await {
            Ok(()) => Ok(json!({})),
            Err(StoreError::NotFound) => Err(stream_not_found()),
            Err(e) => Err(storage(e)),
        }
    }

    pub(crate) async fn describe_log_streams(&self, ctx: &CallContext, req: DescribeLogStreams) -> Result<Value, AwsError> {
        let order = match req.order_by.as_deref() {
            None | Some("LogStreamName") => StreamOrder::Name,
            Some(_) => StreamOrder::LastEventTime,
        };
        if order == StreamOrder::LastEventTime && req.log_stream_name_prefix.is_some() {
            return Err(invalid("Cannot order by LastEventTime with a logStreamNamePrefix."));
        }
        let group = self.group_by_name_or_identifier(ctx, req.log_group_name.as_deref(), req.log_group_identifier.as_deref()).await?;
        let after = req.next_token.as_deref().map(|t| stream_cursor(t, order)).transpose()?;
        let limit = req.limit.unwrap_or(50);
        let descending = req.descending.unwrap_or(false);
        let mut streams = self
            .store
            .list_log_streams(group.id, req.log_stream_name_prefix.as_deref(), order, descending, after.as_ref(), limit + 1)
            .await
            .map_err(storage)?;
        let more = streams.len() as i64 > limit;
        streams.truncate(limit as usize);
        let arn = group_arn(ctx, &group.name);
        let list: Vec<Value> = streams.iter().map(|s| describe_stream(&arn, s)).collect();
        let mut out = json!({ "logStreams": list });
        if more && let Some(last) = streams.last() {
            let payload = match order {
                StreamOrder::Name => last.name.clone(),
                StreamOrder::LastEventTime => format!("{}|{}", last.last_event_ts.unwrap_or(0), last.name),
            };
            out["nextToken"] = json!(tokens::encode(order_kind(order), &payload));
        }
        Ok(out)
    }
}

fn order_kind(order: StreamOrder) -> &'static str {
    match order {
        StreamOrder::Name => "streams-by-name",
        StreamOrder::LastEventTime => "streams-by-time",
    }
}

fn stream_cursor(token: &str, order: StreamOrder) -> Result<StreamCursor, AwsError> {
    let payload = tokens::decode(order_kind(order), token)?;
    Ok(match order {
        StreamOrder::Name => StreamCursor { last_event_ts: 0, name: payload },
        StreamOrder::LastEventTime => {
            let (ts, name) = payload.split_once('|').ok_or_else(|| invalid("The specified nextToken is invalid."))?;
            StreamCursor { last_event_ts: ts.parse().map_err(|_| invalid("The specified nextToken is invalid."))?, name: name.to_owned() }
        }
    })
}

/// A stream as DescribeLogStreams returns it.
fn describe_stream(group_arn: &str, s: &LogStream) -> Value {
    let mut m = Map::new();
    m.insert("logStreamName".into(), json!(s.name));
    m.insert("creationTime".into(), json!(s.creation_time));
    if let Some(v) = s.first_event_ts {
        m.insert("firstEventTimestamp".into(), json!(v));
    }
    if let Some(v) = s.last_event_ts {
        m.insert("lastEventTimestamp".into(), json!(v));
    }
    if let Some(v) = s.last_ingestion_time {
        m.insert("lastIngestionTime".into(), json!(v));
    }
    m.insert("arn".into(), json!(format!("{group_arn}:log-stream:{}", s.name)));
    // Deprecated for streams since 2019: AWS reports zero.
    m.insert("storedBytes".into(), json!(0));
    Value::Object(m)
}
