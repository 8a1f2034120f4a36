//! Event blocks on disk: the row format of freshly ingested blocks and the Parquet
//! format of compacted segments, both decoded into one in-memory [`Rows`] form.

use std::sync::Arc;

use arrow_array::{Array, BinaryArray, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::PageIndexPolicy;
use parquet::file::properties::WriterProperties;

use crate::StoreError;

/// zstd level for freshly ingested blocks: fast, because it is on the ingest path.
const INGEST_ZSTD_LEVEL: i32 = 1;
/// zstd level inside compacted Parquet segments: smaller, because it runs in the background.
const COMPACT_ZSTD_LEVEL: i32 = 3;
/// Rows per Parquet row group: small enough that reading one stream skips most of a file.
const ROW_GROUP_ROWS: usize = 16 * 1024;

/// Decoded events of one block, columnar, sorted by (timestamp, seq).
#[derive(Debug, Default)]
pub struct Rows {
    /// The stream of each row (all equal in an ingest block).
    pub stream: Vec<i64>,
    /// Event timestamps, epoch milliseconds.
    pub ts: Vec<i64>,
    /// Unique, ingestion-ordered sequence numbers that break timestamp ties.
    pub seq: Vec<i64>,
    /// Ingestion times, epoch milliseconds.
    pub ingest: Vec<i64>,
    /// End offset of each message in `data`.
    pub ends: Vec<u32>,
    /// All message bytes, concatenated.
    pub data: Vec<u8>,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The message bytes of row `i`.
    pub fn message(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.data[start..self.ends[i] as usize]
    }

    /// Appends one row.
    pub fn push(&mut self, stream: i64, ts: i64, seq: i64, ingest: i64, message: &[u8]) {
        self.stream.push(stream);
        self.ts.push(ts);
        self.seq.push(seq);
        self.ingest.push(ingest);
        self.data.extend_from_slice(message);
        self.ends.push(self.data.len() as u32);
    }

    /// Approximate heap size, for the cache's budget.
    pub fn heap_bytes(&self) -> usize {
        self.data.len() + self.ts.len() * (8 * 4 + 4)
    }
}

/// One event as PutLogEvents hands it to the store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Event timestamp, epoch milliseconds.
    pub timestamp: i64,
    /// The message.
    pub message: String,
}

/// Encodes an ingest block: `count u32, then per event ts i64, ingest i64, len u32, bytes`,
/// zstd-compressed. Sequence numbers are not stored: they derive from the block's
/// `seq_base` in the catalog, which is only known when the flush commits.
pub fn encode_ingest_block(events: &[NewEvent], ingest_time: i64) -> Vec<u8> {
    let size: usize = events.iter().map(|e| e.message.len() + 20).sum::<usize>() + 4;
    let mut plain = Vec::with_capacity(size);
    plain.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for e in events {
        plain.extend_from_slice(&e.timestamp.to_le_bytes());
        plain.extend_from_slice(&ingest_time.to_le_bytes());
        plain.extend_from_slice(&(e.message.len() as u32).to_le_bytes());
        plain.extend_from_slice(e.message.as_bytes());
    }
    zstd::bulk::compress(&plain, INGEST_ZSTD_LEVEL).expect("zstd compression of a buffer cannot fail")
}

/// Decodes an ingest block of `stream`, numbering rows `seq_base + i`.
pub fn decode_ingest_block(compressed: &[u8], stream: i64, seq_base: i64) -> Result<Rows, StoreError> {
    let plain = zstd::stream::decode_all(compressed).map_err(|e| StoreError::Corrupt(format!("zstd: {e}")))?;
    let mut r = Reader { buf: &plain, pos: 0 };
    let count = r.u32()? as usize;
    let mut rows = Rows { data: Vec::with_capacity(plain.len()), ..Rows::default() };
    for i in 0..count {
        let ts = r.i64()?;
        let ingest = r.i64()?;
        let len = r.u32()? as usize;
        let msg = r.take(len)?;
        rows.push(stream, ts, seq_base + i as i64, ingest, msg);
    }
    Ok(rows)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len()).ok_or_else(|| StoreError::Corrupt("truncated block".into()))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u32(&mut self) -> Result<u32, StoreError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn i64(&mut self) -> Result<i64, StoreError> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
}

fn parquet_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("stream", DataType::Int64, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("seq", DataType::Int64, false),
        Field::new("ingest", DataType::Int64, false),
        Field::new("message", DataType::Binary, false),
    ]))
}

/// Encodes rows (already sorted by stream, timestamp, seq) as a Parquet file with zstd.
pub fn encode_parquet(rows: &Rows) -> Result<Vec<u8>, StoreError> {
    let messages: BinaryArray = (0..rows.len()).map(|i| Some(rows.message(i))).collect();
    let batch = RecordBatch::try_new(
        parquet_schema(),
        vec![
            Arc::new(Int64Array::from(rows.stream.clone())),
            Arc::new(Int64Array::from(rows.ts.clone())),
            Arc::new(Int64Array::from(rows.seq.clone())),
            Arc::new(Int64Array::from(rows.ingest.clone())),
            Arc::new(messages),
        ],
    )
    .map_err(|e| StoreError::Corrupt(format!("arrow: {e}")))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(COMPACT_ZSTD_LEVEL).expect("valid zstd level")))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut out = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut out, parquet_schema(), Some(props)).map_err(|e| StoreError::Corrupt(format!("parquet: {e}")))?;
    writer.write(&batch).map_err(|e| StoreError::Corrupt(format!("parquet: {e}")))?;
    writer.close().map_err(|e| StoreError::Corrupt(format!("parquet: {e}")))?;
    Ok(out)
}

/// Decodes rows `start..start + count` of a Parquet segment, skipping the row groups
/// and pages outside them.
pub fn decode_parquet(file: Vec<u8>, start: usize, count: usize) -> Result<Rows, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("parquet: {e}"));
    let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
    let selection = RowSelection::from(vec![RowSelector::skip(start), RowSelector::select(count)]);
    let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(Bytes::from(file), options)
        .map_err(|e| corrupt(&e))?
        .with_row_selection(selection)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| corrupt(&e))?;
    let mut rows = Rows::default();
    for batch in reader {
        let batch = batch.map_err(|e| corrupt(&e))?;
        let col = |i: usize| batch.column(i).as_any().downcast_ref::<Int64Array>().expect("int64 column").clone();
        let (stream, ts, seq, ingest) = (col(0), col(1), col(2), col(3));
        let msg = batch.column(4).as_any().downcast_ref::<BinaryArray>().expect("binary column");
        rows.stream.extend_from_slice(stream.values());
        rows.ts.extend_from_slice(ts.values());
        rows.seq.extend_from_slice(seq.values());
        rows.ingest.extend_from_slice(ingest.values());
        // The batch's messages are one contiguous run of its value buffer: copy it at once
        // and shift its offsets to ours.
        let offsets = msg.value_offsets();
        let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
        let shift = rows.data.len() as i64 - first as i64;
        rows.data.extend_from_slice(&msg.value_data()[first..last]);
        rows.ends.extend(offsets[1..].iter().map(|&end| (i64::from(end) + shift) as u32));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_block_roundtrip() {
        let events = vec![NewEvent { timestamp: 5, message: "a".into() }, NewEvent { timestamp: 6, message: "bcd".into() }];
        let rows = decode_ingest_block(&encode_ingest_block(&events, 99), 7, 100).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.message(1), b"bcd");
        assert_eq!((rows.ts[1], rows.seq[1], rows.ingest[0], rows.stream[0]), (6, 101, 99, 7));
    }

    #[test]
    fn parquet_roundtrip() {
        let mut rows = Rows::default();
        for i in 0..1000 {
            rows.push(i / 100, i, i * 2, 1, format!("message {i}").as_bytes());
        }
        let file = encode_parquet(&rows).unwrap();
        let back = decode_parquet(file.clone(), 0, 1000).unwrap();
        assert_eq!(back.len(), 1000);
        assert_eq!(back.message(999), b"message 999");
        assert_eq!((back.stream[999], back.seq[999]), (9, 1998));
        let slice = decode_parquet(file, 300, 100).unwrap();
        assert_eq!(slice.len(), 100);
        assert_eq!((slice.stream[0], slice.message(0)), (3, b"message 300".as_slice()));
        for k in 0..100 {
            assert_eq!(slice.message(k), format!("message {}", 300 + k).as_bytes());
        }
        assert!((0..1000).all(|k| back.message(k) == format!("message {k}").as_bytes()));
    }
}
