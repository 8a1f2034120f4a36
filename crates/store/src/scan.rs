//! Reading events back in order.
//!
//! Blocks are sorted inside by (timestamp, seq) but overlap each other in time (late
//! events, several writers), so a scan merges them: blocks are opened in order of their
//! time bound and an event is emitted only once no unopened block can hold an earlier
//! one. Blocks are fetched and decoded ahead on blocking threads, where the filter
//! pattern also runs, so a scan uses every core.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::{Arc, Mutex};

use memchr::memmem::Finder;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use sqlx::FromRow;

use crate::catalog::LogGroup;
use crate::codec::{self, Rows};
use crate::crypto::Key;
use crate::{Store, StoreError};

/// How many blocks are fetched and decoded ahead of the merge: reading a page of one
/// stream needs few; a filter scan keeps both cores busy.
const PREFETCH_READ: usize = 2;
const PREFETCH_FILTER: usize = 4;

/// A point between events: events are ordered by (timestamp, seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Event timestamp.
    pub ts: i64,
    /// Event sequence number.
    pub seq: i64,
}

impl Position {
    /// Before every event.
    pub const START: Position = Position { ts: i64::MIN, seq: i64::MIN };
    /// After every event.
    pub const END: Position = Position { ts: i64::MAX, seq: i64::MAX };
}

/// Scan direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first, events strictly after the position.
    Forward,
    /// Newest first, events strictly before the position.
    Backward,
}

/// Which streams of the group a scan reads.
#[derive(Debug, Clone)]
pub enum StreamFilter {
    /// Every stream.
    All,
    /// Only these stream IDs.
    Only(Vec<i64>),
}

/// A filter over message bytes (a compiled filter pattern) and, when the pattern has one,
/// a literal every matching message contains. With a literal, a block's messages are
/// searched as one buffer at memchr speed, as grep searches a file, and the predicate runs
/// only on the messages holding it.
#[derive(Clone)]
pub struct Matcher {
    predicate: Predicate,
    literal: Option<Arc<Finder<'static>>>,
}

/// Whether a message matches.
type Predicate = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

impl Matcher {
    /// A matcher running `predicate`, first searching for `literal` when given (the caller
    /// guarantees every message the predicate accepts contains it).
    pub fn new(predicate: impl Fn(&[u8]) -> bool + Send + Sync + 'static, literal: Option<&[u8]>) -> Self {
        let literal = literal.filter(|l| !l.is_empty()).map(|l| Arc::new(Finder::new(l).into_owned()));
        Matcher { predicate: Arc::new(predicate), literal }
    }

    /// The rows with a timestamp in `[lo, hi]` whose message matches, ascending.
    fn select(&self, rows: &Rows, lo: i64, hi: i64) -> Vec<u32> {
        let keep = |i: usize| rows.ts[i] >= lo && rows.ts[i] <= hi && (self.predicate)(rows.message(i));
        let Some(finder) = &self.literal else {
            return (0..rows.len()).filter(|&i| keep(i)).map(|i| i as u32).collect();
        };
        let mut selected = Vec::new();
        let mut from = 0;
        while let Some(hit) = finder.find(&rows.data[from..]) {
            let at = from + hit;
            // The row holding the hit's first byte is the first one ending past it.
            let row = rows.ends.partition_point(|&end| end as usize <= at);
            let end = rows.ends[row] as usize;
            // A hit running past its row's end spans two messages and is no hit; a real
            // one can only start in a later row, and so can the next candidate.
            if at + finder.needle().len() <= end && keep(row) {
                selected.push(row as u32);
            }
            from = end;
        }
        selected
    }
}

/// What to read.
#[derive(Clone)]
pub struct ScanRequest {
    /// The streams to read.
    pub streams: StreamFilter,
    /// Earliest timestamp, inclusive.
    pub start_ts: i64,
    /// Latest timestamp, inclusive.
    pub end_ts: i64,
    /// Where to start (exclusive), in scan direction.
    pub from: Position,
    /// The direction.
    pub direction: Direction,
    /// Most events to return.
    pub limit: usize,
    /// Most response bytes (message bytes + 26 per event) to return.
    pub max_bytes: usize,
    /// Stop after examining this many message bytes, even with nothing found.
    pub max_scan_bytes: usize,
    /// Only events whose message matches.
    pub matcher: Option<Matcher>,
    /// Server time, for retention.
    pub now_millis: i64,
}

/// One event read back.
#[derive(Debug, Clone)]
pub struct ScannedEvent {
    /// The stream it belongs to.
    pub stream_id: i64,
    /// Event timestamp.
    pub ts: i64,
    /// Sequence number.
    pub seq: i64,
    /// Ingestion time.
    pub ingest: i64,
    /// The message.
    pub message: String,
}

impl ScannedEvent {
    /// The event's position.
    pub fn position(&self) -> Position {
        Position { ts: self.ts, seq: self.seq }
    }
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct ScanResult {
    /// Matching events, in scan direction.
    pub events: Vec<ScannedEvent>,
    /// The last position examined, when the scan stopped before the end.
    pub resume: Option<Position>,
    /// Message bytes examined.
    pub scanned_bytes: u64,
}

/// A block's catalog row, joined with its segment's key.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct BlockRef {
    pub segment_id: i64,
    pub key: String,
    pub stream_id: i64,
    pub kind: i64,
    pub byte_offset: i64,
    pub byte_length: i64,
    pub row_start: i64,
    pub row_count: i64,
    pub seq_base: i64,
    pub min_ts: i64,
    pub max_ts: i64,
    pub raw_bytes: i64,
}

impl Store {
    /// Reads events of a group in (timestamp, seq) order from a position.
    pub async fn scan(self: &Arc<Self>, group: &LogGroup, req: ScanRequest) -> Result<ScanResult, StoreError> {
        let key = self.group_key(group.id, &group.data_key)?;
        let start_ts = group.retention_cutoff(req.now_millis).map_or(req.start_ts, |c| c.max(req.start_ts));
        let req = ScanRequest { start_ts, ..req };
        if req.start_ts > req.end_ts {
            return Ok(ScanResult::default());
        }
        let blocks = self.candidate_blocks(group.id, &req).await?;
        Merge::new(self.clone(), key, group.id, req, blocks).run().await
    }

    async fn candidate_blocks(&self, group_id: i64, req: &ScanRequest) -> Result<Vec<BlockRef>, StoreError> {
        let (lo, hi) = match req.direction {
            Direction::Forward => (req.start_ts.max(req.from.ts), req.end_ts),
            Direction::Backward => (req.start_ts, req.end_ts.min(req.from.ts)),
        };
        let single = match &req.streams {
            StreamFilter::Only(ids) if ids.len() == 1 => Some(ids[0]),
            _ => None,
        };
        let sql = "SELECT b.segment_id, s.key, b.stream_id, b.kind, b.byte_offset, b.byte_length, b.row_start, b.row_count, b.seq_base, b.min_ts, b.max_ts, b.raw_bytes \
                   FROM blocks b JOIN segments s ON s.id = b.segment_id WHERE b.group_id = $1 AND b.max_ts >= $2 AND b.min_ts <= $3 AND ($4 IS NULL OR b.stream_id = $5)";
        let mut blocks: Vec<BlockRef> =
            sqlx::query_as(sql).bind(group_id).bind(lo).bind(hi).bind(single).bind(single).fetch_all(&self.db).await?;
        if let StreamFilter::Only(ids) = &req.streams {
            blocks.retain(|b| ids.contains(&b.stream_id));
        }
        match req.direction {
            Direction::Forward => blocks.sort_by_key(|b| (b.min_ts, b.segment_id)),
            Direction::Backward => blocks.sort_by_key(|b| Reverse((b.max_ts, b.segment_id))),
        }
        Ok(blocks)
    }

    /// Fetches and decodes a block's rows (all of them, from row 0), through the cache.
    pub(crate) async fn load_block(&self, key: &Key, group_id: i64, block: &BlockRef) -> Result<Arc<Rows>, StoreError> {
        let cache_key = (block.segment_id, block.byte_offset, block.row_start);
        if let Some(rows) = self.cache.get(&cache_key) {
            return Ok(rows);
        }
        let range = block.byte_offset as u64..(block.byte_offset + block.byte_length) as u64;
        let sealed = self.objects.get_range(&ObjectPath::from(block.key.as_str()), range).await?;
        let (key, b) = (key.clone(), block.clone());
        let rows = tokio::task::spawn_blocking(move || decode_unit(&key, group_id, &b, &sealed))
            .await
            .map_err(|e| StoreError::Corrupt(format!("decode task: {e}")))??;
        let rows = Arc::new(rows);
        self.cache.put(cache_key, rows.clone());
        Ok(rows)
    }
}

/// Opens a sealed unit and decodes the block's rows: an ingest block whole, or the
/// block's row range of a Parquet segment.
pub(crate) fn decode_unit(key: &Key, group_id: i64, block: &BlockRef, sealed: &[u8]) -> Result<Rows, StoreError> {
    if block.kind == 0 {
        let compressed = key.open(sealed, &crate::ingest::ingest_aad(group_id, block.stream_id))?;
        codec::decode_ingest_block(&compressed, block.stream_id, block.seq_base)
    } else {
        let file = key.open(sealed, &crate::maintenance::compacted_aad(group_id, &block.key))?;
        codec::decode_parquet(file, block.row_start as usize, block.row_count as usize)
    }
}

/// A decoded block and the rows a cursor visits in it.
struct OpenBlock {
    rows: Arc<Rows>,
    visit: Visit,
}

/// Which rows of a block a scan visits, in ascending order.
enum Visit {
    /// Every row (no filter: the time range is checked row by row).
    Every,
    /// Only these rows, which match the filter and lie in the time range.
    Only(Vec<u32>),
}

impl OpenBlock {
    /// Number of rows visited.
    fn len(&self) -> usize {
        match &self.visit {
            Visit::Every => self.rows.len(),
            Visit::Only(rows) => rows.len(),
        }
    }

    /// The row index of the `k`th visited row.
    fn row(&self, k: usize) -> usize {
        match &self.visit {
            Visit::Every => k,
            Visit::Only(rows) => rows[k] as usize,
        }
    }
}

type Loading = tokio::task::JoinHandle<Result<OpenBlock, StoreError>>;

/// A cursor into an open block, ordered for the heap by its current event.
struct Cursor {
    block: Arc<OpenBlock>,
    /// Next visited row to emit (forward) or one past it (backward), counted in visited rows.
    idx: usize,
    forward: bool,
}

impl Cursor {
    /// The row index of the current event.
    fn current(&self) -> Option<usize> {
        if self.forward {
            (self.idx < self.block.len()).then(|| self.block.row(self.idx))
        } else {
            (self.idx > 0).then(|| self.block.row(self.idx - 1))
        }
    }
    fn key(&self) -> Position {
        let i = self.current().expect("cursors in the heap have a current row");
        Position { ts: self.block.rows.ts[i], seq: self.block.rows.seq[i] }
    }
    fn advance(&mut self) {
        if self.forward { self.idx += 1 } else { self.idx -= 1 }
    }
}

impl PartialEq for Cursor {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Cursor {}
impl PartialOrd for Cursor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Cursor {
    // BinaryHeap is a max-heap: forward scans want the smallest key on top.
    fn cmp(&self, other: &Self) -> Ordering {
        let o = self.key().cmp(&other.key());
        if self.forward { o.reverse() } else { o }
    }
}

struct Merge {
    store: Arc<Store>,
    key: Key,
    group_id: i64,
    req: ScanRequest,
    pending: VecDeque<BlockRef>,
    loading: VecDeque<(BlockRef, Loading)>,
    heap: BinaryHeap<Cursor>,
    /// Message bytes examined so far.
    scanned: u64,
}

impl Merge {
    fn new(store: Arc<Store>, key: Key, group_id: i64, req: ScanRequest, blocks: Vec<BlockRef>) -> Self {
        Merge { store, key, group_id, req, pending: blocks.into(), loading: VecDeque::new(), heap: BinaryHeap::new(), scanned: 0 }
    }

    fn forward(&self) -> bool {
        self.req.direction == Direction::Forward
    }

    /// The earliest key (in scan order) any unopened block can hold.
    fn next_bound(&self) -> Option<i64> {
        let b = self.loading.front().map(|(b, _)| b).or_else(|| self.pending.front())?;
        Some(if self.forward() { b.min_ts } else { b.max_ts })
    }

    fn start_loads(&mut self) {
        let ahead = if self.req.matcher.is_some() { PREFETCH_FILTER } else { PREFETCH_READ };
        while self.loading.len() < ahead {
            let Some(b) = self.pending.pop_front() else { break };
            let handle = self.spawn_load(b.clone());
            self.loading.push_back((b, handle));
        }
    }

    fn spawn_load(&self, b: BlockRef) -> Loading {
        let store = self.store.clone();
        let (key, group_id, matcher) = (self.key.clone(), self.group_id, self.req.matcher.clone());
        let (lo, hi) = (self.req.start_ts, self.req.end_ts);
        tokio::spawn(async move {
            let rows = store.load_block(&key, group_id, &b).await?;
            let visit = match matcher {
                None => Visit::Every,
                Some(m) => {
                    let rows = rows.clone();
                    let selected = tokio::task::spawn_blocking(move || m.select(&rows, lo, hi))
                        .await
                        .map_err(|e| StoreError::Corrupt(format!("match task: {e}")))?;
                    Visit::Only(selected)
                }
            };
            Ok(OpenBlock { rows, visit })
        })
    }

    /// Opens every block that may hold an event before the heap's current top. Returns a
    /// position to resume from when a filter scan has spent its byte budget with nothing
    /// left open.
    async fn open_due(&mut self) -> Result<Option<Position>, StoreError> {
        loop {
            self.start_loads();
            let Some(bound) = self.next_bound() else { return Ok(None) };
            if let Some(top) = self.heap.peek() {
                let top_ts = top.key().ts;
                let due = if self.forward() { bound <= top_ts } else { bound >= top_ts };
                if !due {
                    return Ok(None);
                }
            } else if self.scanned >= self.req.max_scan_bytes as u64 {
                // Every event before the next block's bound lies in an opened block and was
                // examined, and every match emitted lies before that bound: resume there.
                return Ok(Some(if self.forward() {
                    Position { ts: bound.saturating_sub(1), seq: i64::MAX }
                } else {
                    Position { ts: bound.saturating_add(1), seq: i64::MIN }
                }));
            }
            let (_, handle) = self.loading.pop_front().expect("next_bound saw a block");
            let block = handle.await.map_err(|e| StoreError::Corrupt(format!("load task: {e}")))??;
            if let Visit::Only(_) = block.visit {
                self.scanned += block.rows.data.len() as u64;
            }
            self.push_cursor(Arc::new(block));
        }
    }

    fn push_cursor(&mut self, block: Arc<OpenBlock>) {
        let from = self.req.from;
        let rows = &block.rows;
        // Skip to the first visited row past the starting position.
        let pos_of = |k: usize| {
            let i = block.row(k);
            Position { ts: rows.ts[i], seq: rows.seq[i] }
        };
        let idx =
            if self.forward() { partition(0..block.len(), |k| pos_of(k) <= from) } else { partition(0..block.len(), |k| pos_of(k) < from) };
        let cursor = Cursor { block: block.clone(), idx, forward: self.forward() };
        if cursor.current().is_some() {
            self.heap.push(cursor);
        }
    }

    async fn run(mut self) -> Result<ScanResult, StoreError> {
        let mut out = ScanResult::default();
        let mut bytes = 0usize;
        loop {
            if let Some(resume) = self.open_due().await? {
                out.resume = Some(resume);
                break;
            }
            let Some(mut cursor) = self.heap.pop() else { break };
            let i = cursor.current().expect("heap cursors have a row");
            let (rows, block) = (&cursor.block.rows, &cursor.block);
            let ts = rows.ts[i];
            let msg = rows.message(i);
            let matched = match &block.visit {
                Visit::Only(_) => true,
                Visit::Every => {
                    self.scanned += msg.len() as u64;
                    ts >= self.req.start_ts && ts <= self.req.end_ts
                }
            };
            if matched {
                let size = msg.len() + 26;
                if bytes + size > self.req.max_bytes && !out.events.is_empty() {
                    out.resume = out.events.last().map(ScannedEvent::position);
                    break;
                }
                bytes += size;
                out.events.push(ScannedEvent {
                    stream_id: rows.stream[i],
                    ts,
                    seq: rows.seq[i],
                    ingest: rows.ingest[i],
                    message: String::from_utf8_lossy(msg).into_owned(),
                });
                if out.events.len() >= self.req.limit {
                    out.resume = Some(Position { ts, seq: rows.seq[i] });
                    break;
                }
            }
            let here = Position { ts, seq: rows.seq[i] };
            cursor.advance();
            if cursor.current().is_some() {
                self.heap.push(cursor);
            }
            if self.scanned >= self.req.max_scan_bytes as u64 {
                out.resume = Some(here);
                break;
            }
        }
        out.scanned_bytes = self.scanned;
        Ok(out)
    }
}

impl Drop for Merge {
    // A scan that stops early (page full) must not leave its read-ahead running.
    fn drop(&mut self) {
        for (_, handle) in &self.loading {
            handle.abort();
        }
    }
}

/// The number of leading indices in `range` for which `pred` holds (pred is monotone).
fn partition(range: std::ops::Range<usize>, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (range.start, range.end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo - range.start
}

/// A bounded cache of decoded blocks, keyed by (segment, byte offset, first row).
pub struct BlockCache {
    inner: Mutex<lru::LruCache<(i64, i64, i64), Arc<Rows>>>,
    budget: usize,
    used: Mutex<usize>,
}

impl BlockCache {
    /// A cache holding at most `budget` bytes of decoded rows.
    pub fn new(budget: usize) -> Self {
        BlockCache { inner: Mutex::new(lru::LruCache::unbounded()), budget, used: Mutex::new(0) }
    }

    fn get(&self, key: &(i64, i64, i64)) -> Option<Arc<Rows>> {
        self.inner.lock().expect("cache lock").get(key).cloned()
    }

    fn put(&self, key: (i64, i64, i64), rows: Arc<Rows>) {
        let size = rows.heap_bytes();
        if size > self.budget / 2 {
            return;
        }
        let mut inner = self.inner.lock().expect("cache lock");
        let mut used = self.used.lock().expect("cache lock");
        if let Some(old) = inner.put(key, rows) {
            *used -= old.heap_bytes();
        }
        *used += size;
        while *used > self.budget {
            let Some((_, evicted)) = inner.pop_lru() else { break };
            *used -= evicted.heap_bytes();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(messages: &[&str]) -> Rows {
        let mut rows = Rows::default();
        for (i, m) in messages.iter().enumerate() {
            rows.push(1, i as i64, i as i64, 0, m.as_bytes());
        }
        rows
    }

    fn contains(needle: &'static str) -> impl Fn(&[u8]) -> bool + Send + Sync + 'static {
        move |m: &[u8]| m.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn a_literal_search_finds_what_the_predicate_finds() {
        // "aa" across the first boundary ("…a" + "aa…") must not hide the second row's own
        // hit; an empty row and a hit at a row's very start count like any other.
        let r = rows(&["xa", "aab", "", "aa", "b", "zaa", "a"]);
        let by_literal = Matcher::new(contains("aa"), Some(b"aa"));
        let by_predicate = Matcher::new(contains("aa"), None);
        assert_eq!(by_literal.select(&r, i64::MIN, i64::MAX), vec![1, 3, 5]);
        assert_eq!(by_predicate.select(&r, i64::MIN, i64::MAX), vec![1, 3, 5]);
        // The time range and the predicate both still apply to rows holding the literal.
        assert_eq!(by_literal.select(&r, 2, 4), vec![3]);
        let stricter = Matcher::new(|m: &[u8]| m.ends_with(b"aa"), Some(b"aa"));
        assert_eq!(stricter.select(&r, i64::MIN, i64::MAX), vec![3, 5]);
    }

    #[test]
    fn a_literal_straddling_every_boundary_is_never_a_hit() {
        let r = rows(&["ab", "ab", "ab"]);
        let m = Matcher::new(contains("ba"), Some(b"ba"));
        assert!(m.select(&r, i64::MIN, i64::MAX).is_empty());
    }
}
