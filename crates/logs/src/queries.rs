//! Logs Insights: StartQuery, GetQueryResults, StopQuery, DescribeQueries and saved
//! queries. The language and its execution live in the `insights` crate; this module
//! turns log groups into the event batches it reads and keeps queries while they run.
//!
//! Queries live in the catalog while they run and for a day after they finish (AWS
//! keeps results for seven days), so any node answers GetQueryResults, StopQuery and
//! DescribeQueries for a query another node started. The node running a query holds its
//! lease and watches its row: a StopQuery on another node ends it within a second, and a
//! query whose node died is marked Failed. Saved query definitions are in the catalog.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::ArrowError;
use datafusion::arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::error::DataFusionError;
use futures::StreamExt;
use insights::{CompiledQuery, GroupEvents, Language};
use serde::Deserialize;
use serde_json::{Value, json};
use store::insights_queries::query_lease;
use store::{EventBlock, InsightsQueryRecord, LogGroup, QueryDefinitionRecord, Rows, Store};
use wire::{AwsError, CallContext};

use crate::metric_filters::page;
use crate::{LogsService, group_name_from_identifier, invalid, storage};

/// Log groups one query may read (AWS's quota).
const MAX_GROUPS: usize = 50;
/// Queries running at once per account (AWS's quota).
const MAX_RUNNING: i64 = 30;
/// How long a finished query's results are kept.
const KEEP_MS: i64 = 24 * 3_600_000;
/// Blocks read and decoded ahead of the query engine.
const READ_AHEAD: usize = 4;
/// How long a query may run (AWS's limit) before it ends as Timeout.
const TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How often a running query's node renews its lease and looks for a StopQuery.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Queries running on this node, by ID, so a StopQuery here ends them at once.
#[derive(Default)]
pub(crate) struct Queries {
    running: Mutex<HashMap<String, tokio::task::AbortHandle>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartQuery {
    query_language: Option<String>,
    log_group_name: Option<String>,
    log_group_names: Option<Vec<String>>,
    log_group_identifiers: Option<Vec<String>>,
    start_time: i64,
    end_time: i64,
    query_string: String,
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryId {
    query_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeQueries {
    log_group_name: Option<String>,
    status: Option<String>,
    max_results: Option<usize>,
    next_token: Option<String>,
    query_language: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutQueryDefinition {
    query_language: Option<String>,
    name: String,
    query_definition_id: Option<String>,
    log_group_names: Option<Vec<String>>,
    query_string: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeQueryDefinitions {
    query_language: Option<String>,
    query_definition_name_prefix: Option<String>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteQueryDefinition {
    query_definition_id: String,
}

impl LogsService {
    pub(crate) async fn start_query(&self, ctx: &CallContext, req: StartQuery) -> Result<Value, AwsError> {
        let language_name = req.query_language.clone().unwrap_or_else(|| "CWLI".into());
        let language = Language::from_name(&language_name).map_err(|e| invalid(e.message()))?;
        if req.end_time < req.start_time {
            return Err(invalid("End time should not be before the start time."));
        }
        let query = insights::compile(&req.query_string, language).map_err(malformed)?;
        let names = self.query_group_names(ctx, &req, &query)?;
        let mut groups = Vec::with_capacity(names.len());
        for name in &names {
            let group = self.store.log_group(&ctx.account_id, &ctx.region, name).await.map_err(storage)?;
            groups.push(group.ok_or_else(|| {
                AwsError::client(
                    "ResourceNotFoundException",
                    format!("Log group '{name}' does not exist for account ID '{}'", ctx.account_id),
                )
            })?);
        }
        self.store.settle_insights_queries(ctx.now_millis, KEEP_MS).await.map_err(storage)?;
        if self.store.running_insights_queries(&ctx.account_id).await.map_err(storage)? >= MAX_RUNNING {
            return Err(AwsError::client("LimitExceededException", "Account maximum query concurrency limit of [30] reached."));
        }
        let id = uuid::Uuid::new_v4().to_string();
        // The lease first: a Running row without a live lease is an orphan to any node.
        self.store.acquire_lease(&query_lease(&id), store::lease::TTL).await.map_err(storage)?;
        let info = json!({
            "queryLanguage": language_name,
            "queryId": id,
            "queryString": req.query_string,
            "createTime": ctx.now_millis,
            "logGroupName": names.first(),
        });
        let record = InsightsQueryRecord {
            query_id: id.clone(),
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            info: info.to_string(),
            status: RUNNING.into(),
            created_ms: ctx.now_millis,
            finished_ms: None,
            output: None,
        };
        if let Err(e) = self.store.insert_insights_query(&record).await {
            let _ = self.store.release_lease(&query_lease(&id)).await;
            return Err(storage(e));
        }
        let run = QueryRun {
            store: self.store.clone(),
            queries: self.queries.clone(),
            id: id.clone(),
            query,
            groups,
            start_ms: req.start_time.saturating_mul(1000),
            end_ms: req.end_time.saturating_mul(1000).saturating_add(999),
            limit: req.limit.unwrap_or(10_000),
        };
        // The task is registered before it can finish, under the same lock it takes to leave.
        {
            let mut running = self.queries.running.lock().expect("queries lock");
            let task = tokio::spawn(run.run());
            running.insert(id.clone(), task.abort_handle());
        }
        Ok(json!({"queryId": id}))
    }

    /// The groups a query reads: named in the request (exactly one way), or in a SQL query.
    fn query_group_names(&self, ctx: &CallContext, req: &StartQuery, query: &CompiledQuery) -> Result<Vec<String>, AwsError> {
        let given = [req.log_group_name.is_some(), req.log_group_names.is_some(), req.log_group_identifiers.is_some()];
        let names: Vec<String> = match given.iter().filter(|g| **g).count() {
            0 => query.source_groups(),
            1 => {
                if let Some(n) = &req.log_group_name {
                    vec![n.clone()]
                } else if let Some(ns) = &req.log_group_names {
                    ns.clone()
                } else {
                    let ids = req.log_group_identifiers.as_deref().unwrap_or_default();
                    ids.iter().map(|i| group_name_from_identifier(ctx, i)).collect::<Result<_, _>>()?
                }
            }
            _ => return Err(invalid("Only one of logGroupName, logGroupNames or logGroupIdentifiers may be specified.")),
        };
        if names.is_empty() {
            return Err(invalid("Log group names or identifiers must be specified."));
        }
        if names.len() > MAX_GROUPS {
            return Err(invalid(format!("Query cannot be run on more than {MAX_GROUPS} log groups.")));
        }
        Ok(names)
    }

    pub(crate) async fn get_query_results(&self, ctx: &CallContext, req: QueryId) -> Result<Value, AwsError> {
        let run = self.known_query(ctx, &req.query_id).await?;
        let info: Value = serde_json::from_str(&run.info).unwrap_or_default();
        let output: Value =
            run.output.as_deref().and_then(|o| serde_json::from_str(o).ok()).unwrap_or_else(
                || json!({"results": [], "statistics": {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}}),
            );
        Ok(json!({
            "queryLanguage": info["queryLanguage"],
            "results": output["results"],
            "statistics": output["statistics"],
            "status": run.status,
        }))
    }

    pub(crate) async fn stop_query(&self, ctx: &CallContext, req: QueryId) -> Result<Value, AwsError> {
        let run = self.known_query(ctx, &req.query_id).await?;
        if run.status != RUNNING {
            return Ok(json!({"success": false}));
        }
        let stopped = self.store.finish_insights_query(&run.query_id, "Cancelled", ctx.now_millis, None).await.map_err(storage)?;
        // Here it ends at once; on another node, its watcher sees the row within a second.
        let here = self.queries.running.lock().expect("queries lock").remove(&run.query_id);
        if let Some(task) = here {
            task.abort();
            let _ = self.store.release_lease(&query_lease(&run.query_id)).await;
        }
        Ok(json!({"success": stopped}))
    }

    pub(crate) async fn describe_queries(&self, ctx: &CallContext, req: DescribeQueries) -> Result<Value, AwsError> {
        self.store.settle_insights_queries(ctx.now_millis, KEEP_MS).await.map_err(storage)?;
        let records = self.store.insights_queries(&ctx.account_id, &ctx.region).await.map_err(storage)?;
        let items = records
            .into_iter()
            .filter(|r| req.status.as_deref().is_none_or(|s| s == r.status))
            .filter_map(|r| {
                let mut info: Value = serde_json::from_str(&r.info).ok()?;
                if req.log_group_name.as_deref().is_some_and(|g| info["logGroupName"] != g)
                    || req.query_language.as_deref().is_some_and(|l| info["queryLanguage"] != l)
                {
                    return None;
                }
                info["status"] = json!(r.status);
                // Newest first, as AWS lists them.
                Some((format!("{:020}{}", i64::MAX - r.created_ms, r.query_id), info))
            })
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .collect();
        page(items, req.next_token.as_deref(), req.max_results.unwrap_or(1000), "queries", "queries")
    }

    /// The caller's query `id`. Only a query still Running can have lost its node, so
    /// only then are orphans settled (a write) and the row read again: polling a
    /// finished query's results stays a read.
    async fn known_query(&self, ctx: &CallContext, id: &str) -> Result<InsightsQueryRecord, AwsError> {
        let run = self.query_record(ctx, id).await?;
        if run.status != RUNNING {
            return Ok(run);
        }
        self.store.settle_insights_queries(ctx.now_millis, KEEP_MS).await.map_err(storage)?;
        self.query_record(ctx, id).await
    }

    async fn query_record(&self, ctx: &CallContext, id: &str) -> Result<InsightsQueryRecord, AwsError> {
        self.store.insights_query(&ctx.account_id, &ctx.region, id).await.map_err(storage)?.ok_or_else(query_not_found)
    }

    pub(crate) async fn put_query_definition(&self, ctx: &CallContext, req: PutQueryDefinition) -> Result<Value, AwsError> {
        let id = match req.query_definition_id {
            Some(id) => {
                let existing = self.store.query_definitions(&ctx.account_id, &ctx.region).await.map_err(storage)?;
                if !existing.iter().any(|d| d.id == id) {
                    return Err(AwsError::client("ResourceNotFoundException", "The specified query definition does not exist."));
                }
                id
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let body = json!({
            "queryLanguage": req.query_language.unwrap_or_else(|| "CWLI".into()),
            "queryDefinitionId": id,
            "name": req.name,
            "queryString": req.query_string,
            "lastModified": ctx.now_millis,
            "logGroupNames": req.log_group_names.unwrap_or_default(),
        });
        let rec = QueryDefinitionRecord { id: id.clone(), name: req.name, body: body.to_string() };
        self.store.put_query_definition(&ctx.account_id, &ctx.region, &rec).await.map_err(storage)?;
        Ok(json!({"queryDefinitionId": id}))
    }

    pub(crate) async fn describe_query_definitions(&self, ctx: &CallContext, req: DescribeQueryDefinitions) -> Result<Value, AwsError> {
        let records = self.store.query_definitions(&ctx.account_id, &ctx.region).await.map_err(storage)?;
        let items = records
            .into_iter()
            .filter(|r| req.query_definition_name_prefix.as_deref().is_none_or(|p| r.name.starts_with(p)))
            .filter_map(|r| {
                let body: Value = serde_json::from_str(&r.body).ok()?;
                if req.query_language.as_deref().is_some_and(|l| body["queryLanguage"] != l) {
                    return None;
                }
                Some((format!("{}\u{0}{}", r.name, r.id), body))
            })
            .collect();
        page(items, req.next_token.as_deref(), req.max_results.unwrap_or(1000), "query-definitions", "queryDefinitions")
    }

    pub(crate) async fn delete_query_definition(&self, ctx: &CallContext, req: DeleteQueryDefinition) -> Result<Value, AwsError> {
        if !self.store.delete_query_definition(&ctx.account_id, &ctx.region, &req.query_definition_id).await.map_err(storage)? {
            return Err(AwsError::client("ResourceNotFoundException", "The specified query definition does not exist."));
        }
        Ok(json!({"success": true}))
    }
}

const RUNNING: &str = "Running";

/// One query on the node that runs it: what to read and where to report.
struct QueryRun {
    store: Arc<Store>,
    queries: Arc<Queries>,
    id: String,
    query: CompiledQuery,
    groups: Vec<LogGroup>,
    start_ms: i64,
    end_ms: i64,
    limit: usize,
}

impl QueryRun {
    /// Runs the query to its end, renewing its lease and watching for a stop or the
    /// time limit, then records how it ended.
    async fn run(self) {
        let lease = query_lease(&self.id);
        let inputs = self.groups.iter().map(|g| group_events(&self.store, g, self.start_ms, self.end_ms)).collect();
        let work = insights::execute(&self.query, inputs, self.limit);
        tokio::pin!(work);
        let began = Instant::now();
        let mut watch = tokio::time::interval(WATCH_EVERY);
        watch.tick().await;
        let ended = loop {
            tokio::select! {
                result = &mut work => break Some(result),
                _ = watch.tick() => {
                    if began.elapsed() > TIMEOUT {
                        self.finish("Timeout", None).await;
                        break None;
                    }
                    match self.store.insights_query_status(&self.id).await {
                        Ok(Some(status)) if status == RUNNING => {}
                        Ok(_) => break None,
                        Err(e) => tracing::warn!(query = %self.id, error = %e, "reading a query's status failed"),
                    }
                    if let Err(e) = self.store.acquire_lease(&lease, store::lease::TTL).await {
                        tracing::warn!(query = %self.id, error = %e, "renewing a query's lease failed");
                    }
                }
            }
        };
        match ended {
            Some(Ok(output)) => self.finish("Complete", Some(output_document(&output).to_string())).await,
            Some(Err(e)) => {
                tracing::warn!(query = %self.id, error = e.message(), "query failed");
                self.finish("Failed", None).await;
            }
            None => {}
        }
        self.queries.running.lock().expect("queries lock").remove(&self.id);
        if let Err(e) = self.store.release_lease(&lease).await {
            tracing::warn!(query = %self.id, error = %e, "releasing a query's lease failed; it will expire");
        }
    }

    async fn finish(&self, status: &str, output: Option<String>) {
        if let Err(e) = self.store.finish_insights_query(&self.id, status, now_millis(), output.as_deref()).await {
            tracing::warn!(query = %self.id, error = %e, "recording a query's end failed");
        }
    }
}

/// GetQueryResults' results and statistics for a finished query.
fn output_document(out: &insights::QueryOutput) -> Value {
    let results: Vec<Vec<Value>> =
        out.results.iter().map(|row| row.iter().map(|(f, v)| json!({"field": f, "value": v})).collect()).collect();
    json!({
        "results": results,
        "statistics": {"recordsMatched": out.records_matched, "recordsScanned": out.records_scanned, "bytesScanned": out.bytes_scanned},
    })
}

fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn query_not_found() -> AwsError {
    AwsError::client("ResourceNotFoundException", "The specified query does not exist.")
}

/// MalformedQueryException carrying the compile error, as AWS returns it.
fn malformed(e: insights::QueryError) -> AwsError {
    AwsError::client("MalformedQueryException", e.message().to_owned())
}

/// A group's events in a time range as the query engine reads them: block by block,
/// decoded a few blocks ahead, only the rows inside the range.
fn group_events(store: &Arc<Store>, group: &LogGroup, start_ms: i64, end_ms: i64) -> GroupEvents {
    let (store, group) = (store.clone(), group.clone());
    let log = format!("{}:{}", group.account_id, group.name);
    let name = group.name.clone();
    let batches = futures::stream::once(async move {
        let blocks = store.blocks_in_range(&group, start_ms, end_ms).await.map_err(external)?;
        let streams = store.stream_names(group.id).await.map_err(external)?;
        Ok::<_, DataFusionError>((store, group, blocks, Arc::new(streams)))
    })
    .map(move |setup| match setup {
        Ok((store, group, blocks, streams)) => futures::stream::iter(blocks)
            .map(move |block| {
                let (store, group, streams) = (store.clone(), group.clone(), streams.clone());
                async move { read_batch(&store, &group, &block, &streams, start_ms, end_ms).await }
            })
            .buffered(READ_AHEAD)
            .boxed(),
        Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
    })
    .flatten()
    .filter_map(|b| async move { b.transpose() })
    .boxed();
    GroupEvents { log, name, batches }
}

async fn read_batch(
    store: &Store,
    group: &LogGroup,
    block: &EventBlock,
    streams: &HashMap<i64, String>,
    start_ms: i64,
    end_ms: i64,
) -> Result<Option<RecordBatch>, DataFusionError> {
    let rows = store.read_block(group, block).await.map_err(external)?;
    let stream = streams.get(&block.stream_id()).map_or("", String::as_str);
    let batch = to_batch(&rows, stream, start_ms, end_ms).map_err(|e| DataFusionError::ArrowError(Box::new(e), None))?;
    Ok(batch.filter(|b| b.num_rows() > 0))
}

/// The rows inside `[start_ms, end_ms]` as a batch of the engine's base schema. The
/// messages are copied into the column in one piece, not row by row; only a block
/// straddling the range's edge is filtered.
fn to_batch(rows: &Rows, stream: &str, start_ms: i64, end_ms: i64) -> Result<Option<RecordBatch>, ArrowError> {
    let in_range: BooleanArray = rows.ts.iter().map(|&t| Some(t >= start_ms && t <= end_ms)).collect();
    let kept = in_range.true_count();
    if kept == 0 {
        return Ok(None);
    }
    let count = rows.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(rows.ts.clone())),
        Arc::new(Int64Array::from(rows.ingest.clone())),
        Arc::new(StringArray::new_repeated(stream, count)),
        Arc::new(message_column(&rows.ends, &rows.data)?),
    ];
    let batch = RecordBatch::try_new(insights::base_schema(), columns)?;
    if kept == count {
        return Ok(Some(batch));
    }
    filter_record_batch(&batch, &in_range).map(Some)
}

/// Messages as a string column; bytes that are not UTF-8 (never written by PutLogEvents,
/// which takes strings) are replaced as `from_utf8_lossy` does.
fn message_column(ends: &[u32], data: &[u8]) -> Result<StringArray, ArrowError> {
    if std::str::from_utf8(data).is_ok() {
        let offsets: Vec<i32> = std::iter::once(0).chain(ends.iter().map(|&e| e as i32)).collect();
        return StringArray::try_new(OffsetBuffer::new(ScalarBuffer::from(offsets)), Buffer::from_slice_ref(data), None);
    }
    let mut start = 0;
    Ok(StringArray::from_iter_values(ends.iter().map(|&end| {
        let message = String::from_utf8_lossy(&data[start..end as usize]);
        start = end as usize;
        message
    })))
}

fn external(e: store::StoreError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
