//! The events of the queried log groups as a DataFusion table that streams: each group is one
//! partition whose batches are read as the plan pulls them, never gathered first.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray, new_null_array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::GroupEvents;
use crate::functions::TIME;

/// The hidden column that identifies a row (for `@ptr`): the group's index above [`ROW_BITS`]
/// bits of the row's position in its group.
pub const ROW: &str = "__row";

/// Bits of the row position in a [`ROW`] value.
pub const ROW_BITS: u32 = 40;

/// The schema of the batches GroupEvents carry.
pub fn base_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("@timestamp", DataType::Int64, false),
        Field::new("@ingestionTime", DataType::Int64, false),
        Field::new("@logStream", DataType::Utf8, false),
        Field::new("@message", DataType::Utf8, false),
    ]))
}

/// The columns of the partitions: times as timestamps, `@log` when a query needs it (it is a
/// copy of one string per row), and the row identity for CWLI's `@ptr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// With the `@log` column.
    pub log: bool,
    /// With the [`ROW`] column.
    pub row: bool,
}

impl Layout {
    fn schema(self) -> SchemaRef {
        let mut fields = vec![
            Field::new("@timestamp", TIME, true),
            Field::new("@ingestionTime", TIME, true),
            Field::new("@logStream", DataType::Utf8, true),
            Field::new("@message", DataType::Utf8, true),
        ];
        if self.log {
            fields.push(Field::new("@log", DataType::Utf8, false));
        }
        if self.row {
            fields.push(Field::new(ROW, DataType::Int64, false));
        }
        Arc::new(Schema::new(fields))
    }
}

/// What the query read: the statistics' records and bytes scanned.
#[derive(Debug, Default)]
pub struct ScanStats {
    /// Events read.
    pub records: AtomicU64,
    /// Message bytes read.
    pub bytes: AtomicU64,
}

/// One group's stream, handed to DataFusion once.
struct GroupPartition {
    schema: SchemaRef,
    layout: Layout,
    index: u64,
    log: String,
    batches: Mutex<Option<BoxStream<'static, Result<RecordBatch>>>>,
    stats: Arc<ScanStats>,
}

impl fmt::Debug for GroupPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupPartition").field("index", &self.index).field("log", &self.log).finish()
    }
}

impl PartitionStream for GroupPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let taken = self.batches.lock().map(|mut b| b.take()).ok().flatten();
        let schema = self.schema.clone();
        let Some(batches) = taken else {
            let error = DataFusionError::Execution("a log group's events can be read only once".to_string());
            return Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::once(async move { Err(error) })));
        };
        let converter = Converter { schema: schema.clone(), layout: self.layout, log: self.log.clone(), stats: self.stats.clone() };
        let mut next_row = (self.index as i64) << ROW_BITS;
        let converted = batches.map(move |batch| {
            let batch = batch?;
            let first = next_row;
            next_row += batch.num_rows() as i64;
            converter.convert(&batch, first)
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, converted))
    }
}

/// Turns base batches into partition batches, counting them into the statistics.
struct Converter {
    schema: SchemaRef,
    layout: Layout,
    log: String,
    stats: Arc<ScanStats>,
}

impl Converter {
    fn convert(&self, batch: &RecordBatch, first_row: i64) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let message = text_column(batch, "@message")?;
        let offsets = message.as_string::<i32>().value_offsets();
        self.stats.records.fetch_add(rows as u64, Ordering::Relaxed);
        self.stats.bytes.fetch_add((offsets[rows] - offsets[0]) as u64, Ordering::Relaxed);
        let mut columns: Vec<ArrayRef> =
            vec![time_column(batch, "@timestamp")?, time_column(batch, "@ingestionTime")?, text_column(batch, "@logStream")?, message];
        if self.layout.log {
            columns.push(Arc::new(StringArray::from_iter_values(std::iter::repeat_n(self.log.as_str(), rows))));
        }
        if self.layout.row {
            columns.push(Arc::new(Int64Array::from_iter_values(first_row..first_row + rows as i64)));
        }
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

/// An epoch-milliseconds column as a timestamp column (sharing its buffer); nulls when absent.
fn time_column(batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
    let Some(column) = batch.column_by_name(name) else {
        return Ok(new_null_array(&TIME, batch.num_rows()));
    };
    let millis = datafusion::arrow::compute::cast(column, &DataType::Int64)?;
    let millis = millis.as_primitive::<Int64Type>();
    Ok(Arc::new(TimestampMillisecondArray::new(millis.values().clone(), millis.nulls().cloned())))
}

/// A string column as Utf8; an empty-string column when absent.
fn text_column(batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
    let Some(column) = batch.column_by_name(name) else {
        return Ok(Arc::new(StringArray::from(vec![""; batch.num_rows()])));
    };
    if column.data_type() == &DataType::Utf8 {
        return Ok(column.clone());
    }
    Ok(datafusion::arrow::compute::cast(column, &DataType::Utf8)?)
}

/// The groups as one table, one partition per group (an empty partition when there are none),
/// so that DataFusion reads the groups side by side.
pub fn table(groups: Vec<GroupEvents>, layout: Layout, stats: &Arc<ScanStats>) -> Result<Arc<StreamingTable>> {
    let schema = layout.schema();
    let mut partitions: Vec<Arc<dyn PartitionStream>> = Vec::with_capacity(groups.len().max(1));
    for (index, group) in groups.into_iter().enumerate() {
        partitions.push(partition(&schema, layout, index, group, stats));
    }
    if partitions.is_empty() {
        let empty = GroupEvents { log: String::new(), name: String::new(), batches: futures::stream::empty().boxed() };
        partitions.push(partition(&schema, layout, 0, empty, stats));
    }
    Ok(Arc::new(StreamingTable::try_new(schema, partitions)?))
}

fn partition(schema: &SchemaRef, layout: Layout, index: usize, group: GroupEvents, stats: &Arc<ScanStats>) -> Arc<dyn PartitionStream> {
    Arc::new(GroupPartition {
        schema: schema.clone(),
        layout,
        index: index as u64,
        log: group.log,
        batches: Mutex::new(Some(group.batches)),
        stats: stats.clone(),
    })
}
