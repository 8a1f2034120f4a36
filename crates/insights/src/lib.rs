//! CloudWatch Logs Insights: the query language, run on DataFusion.
//!
//! [`compile`] parses a query once (rejecting malformed ones with AWS's
//! MalformedQueryException texts); [`execute`] runs it over the events of some log groups, which
//! stream through DataFusion batch by batch, and returns GetQueryResults' rows and statistics.
//! Two languages: the Logs Insights query language (`CWLI`, see `parse` and `plan`) and SQL
//! (`SQL`, DataFusion's dialect with each log group a table).

mod fields;
mod format;
mod functions;
mod parse;
mod plan;
mod source;
mod sql;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use futures::stream::BoxStream;

/// The schema type of [`base_schema`].
pub use arrow_schema::SchemaRef;
pub use source::base_schema;

/// The query language StartQuery names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// The Logs Insights query language (`CWLI`, the default).
    #[default]
    Cwli,
    /// SQL over the log groups as tables (`SQL`).
    Sql,
}

impl Language {
    /// The language of StartQuery's `queryLanguage` value (`CWLI`, `SQL`; `PPL` is not supported).
    pub fn from_name(name: &str) -> Result<Language, QueryError> {
        match name {
            "CWLI" => Ok(Language::Cwli),
            "SQL" => Ok(Language::Sql),
            other => Err(QueryError::new(format!("The query language {other} is not supported"))),
        }
    }
}

/// Why a query cannot run: the MalformedQueryException message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    message: String,
}

impl QueryError {
    pub(crate) fn new(message: String) -> QueryError {
        QueryError { message }
    }

    /// The MalformedQueryException text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<DataFusionError> for QueryError {
    fn from(error: DataFusionError) -> QueryError {
        QueryError::new(datafusion_message(error))
    }
}

/// DataFusion's message without its category prefix.
fn datafusion_message(error: DataFusionError) -> String {
    match error {
        DataFusionError::Plan(m) | DataFusionError::Execution(m) => m,
        DataFusionError::Context(_, inner) => datafusion_message(*inner),
        DataFusionError::ArrowError(e, _) => e.to_string(),
        other => other.to_string(),
    }
}

/// A query parsed once, ready to run any number of times.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Cwli(parse::Query),
    Sql(sql::SqlQuery),
}

/// Parses and checks `text`; a malformed query fails here, before any event is read.
pub fn compile(text: &str, language: Language) -> Result<CompiledQuery, QueryError> {
    let body = match language {
        Language::Cwli => Body::Cwli(parse::parse(text)?),
        Language::Sql => Body::Sql(sql::compile(text)?),
    };
    Ok(CompiledQuery { body })
}

impl CompiledQuery {
    /// Log group names named inside the query (SQL `FROM \`name\``) — may be empty.
    pub fn source_groups(&self) -> Vec<String> {
        match &self.body {
            Body::Cwli(_) => Vec::new(),
            Body::Sql(q) => q.groups.clone(),
        }
    }
}

/// One log group's events, oldest first or in any order, already restricted to the query's time range.
pub struct GroupEvents {
    /// The `@log` value: `ACCOUNT:GROUPNAME`.
    pub log: String,
    /// The group's name, the table name of SQL queries.
    pub name: String,
    /// The events, in batches of [`base_schema`].
    pub batches: BoxStream<'static, Result<RecordBatch, DataFusionError>>,
}

/// What GetQueryResults returns for a finished query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOutput {
    /// Rows of (field, value) in AWS's order; missing fields are left out.
    pub results: Vec<Vec<(String, String)>>,
    /// Events that passed every filter (for stats queries, the events aggregated).
    pub records_matched: f64,
    /// Events read.
    pub records_scanned: f64,
    /// Message bytes read.
    pub bytes_scanned: f64,
}

/// Runs `query` over `groups`, returning at most `limit` rows (StartQuery's limit, default 10000).
pub async fn execute(query: &CompiledQuery, groups: Vec<GroupEvents>, limit: usize) -> Result<QueryOutput, QueryError> {
    let ctx = SessionContext::new();
    let scanned = Arc::new(source::ScanStats::default());
    let matched = Arc::new(AtomicU64::new(0));
    let planned = match &query.body {
        Body::Cwli(q) => {
            // Filter pushdown would merge the records-matched counter (a filter) with the
            // query's filters into one conjunction, whose right side DataFusion may evaluate on
            // rows the left side rejects; the counter must see only the rows that passed. The
            // events come from a stream, which could not use pushed filters anyway.
            ctx.remove_optimizer_rule("push_down_filter");
            let layout = source::Layout { log: q.references("@log"), row: true };
            let events = ctx.read_table(source::table(groups, layout, &scanned)?)?;
            plan::plan(q, events, matched.clone(), limit)?
        }
        Body::Sql(q) => sql::plan(&ctx, q, groups, &scanned, limit).await?,
    };
    let results = collect(planned).await?;
    let records_matched = match &query.body {
        Body::Cwli(_) => matched.load(Ordering::Relaxed) as f64,
        // SQL has no filter stage of its own to count at: its matched records are its rows.
        Body::Sql(_) => results.len() as f64,
    };
    Ok(QueryOutput {
        results,
        records_matched,
        records_scanned: scanned.records.load(Ordering::Relaxed) as f64,
        bytes_scanned: scanned.bytes.load(Ordering::Relaxed) as f64,
    })
}

/// Runs the plan and formats its rows.
async fn collect(planned: plan::Planned) -> Result<Vec<Vec<(String, String)>>, DataFusionError> {
    let mut stream = planned.frame.execute_stream().await?;
    let mut rows = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        for row in 0..batch.num_rows() {
            rows.push(format_row(&batch, row, &planned.columns, planned.with_ptr));
        }
    }
    Ok(rows)
}

fn format_row(batch: &RecordBatch, row: usize, columns: &[String], with_ptr: bool) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::with_capacity(columns.len() + 1);
    for (index, name) in columns.iter().enumerate() {
        if let Some(value) = format::value(batch.column(index), row) {
            fields.push((name.clone(), value));
        }
    }
    if with_ptr {
        let ids = batch.column(columns.len());
        let id = arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Int64Type>(ids.as_ref()).value(row);
        fields.push(("@ptr".to_string(), format::ptr(id)));
    }
    fields
}
