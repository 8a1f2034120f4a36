//! Following one source's files: finding them by glob, knowing each by device, inode and
//! a fingerprint of its first bytes, noticing rotation (rename, copytruncate, delete) and
//! reading each file to its end before its successor, then handing the events to the
//! shipper of their stream.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use tokio::sync::mpsc;

use crate::assemble::{Assembler, Event, Notes, Parser, Position};
use crate::checkpoint::{Checkpoint, Checkpoints, FINGERPRINT_BYTES, FileIdentity, Fingerprint};
use crate::config::{InitialPosition, SourceConfig};
use crate::metrics::Metrics;
use crate::ship::Chunk;
use crate::sink::{Sink, SinkError};

/// Bytes read from a file at a time.
const READ_CHUNK: usize = 1 << 20;
/// Rotated copies that are compressed are never log text to follow.
const COMPRESSED: &[&str] = &["gz", "bz2", "xz", "zst", "zip", "lz4"];
/// Listings tried on start before a checkpointed file is reported missing.
const ADOPT_PASSES: usize = 5;
/// A finished file is let go (its checkpoint dropped) only after it has been missing
/// from this many scans in a row, over at least [`FORGET_AFTER`]: a listing taken
/// while rotation renames files can miss one that is still there, and a file forgotten
/// by mistake would be read again from its start.
const FORGET_AFTER_SCANS: u32 = 3;
const FORGET_AFTER: Duration = Duration::from_secs(1);

/// What the follower needs from the agent around it.
pub struct Shared {
    pub checkpoints: Arc<Checkpoints>,
    pub metrics: Arc<Metrics>,
    pub sink: Arc<dyn Sink>,
    pub runtime: tokio::runtime::Handle,
    /// Hands out checkpoint keys, unique across sources.
    pub next_key: Arc<std::sync::atomic::AtomicU64>,
    /// The sender for a `(log group, log stream)`, starting its shipper on first use.
    pub outlet: Outlet,
    pub poll_interval: Duration,
    pub rotate_wait: Duration,
    pub stop: Arc<AtomicBool>,
    /// Give up on an unreachable endpoint after this many attempts (`--once`).
    pub max_failures: Option<u32>,
}

/// Gives the sender for a `(log group, log stream)`, starting its shipper on first use.
pub type Outlet = Box<dyn FnMut(&str, &str) -> mpsc::Sender<Chunk> + Send>;

/// Placeholder values for log group and stream names.
#[derive(Debug, Clone)]
pub struct Names {
    pub hostname: String,
    pub instance_id: String,
}

impl Names {
    fn expand(&self, template: &str, file: &Path) -> String {
        let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        template.replace("{hostname}", &self.hostname).replace("{instance_id}", &self.instance_id).replace("{file_name}", &file_name)
    }
}

/// A file on disk as a scan found it, open, so that its identity, size and first bytes
/// all come from the one file even while rotation renames files around it.
#[derive(Debug, Clone)]
struct Found {
    path: PathBuf,
    file: Arc<File>,
    dev: u64,
    ino: u64,
    size: u64,
    mtime: SystemTime,
    prefix: Arc<[u8]>,
}

impl Found {
    fn open(path: &Path) -> Option<Found> {
        let file = File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        let prefix = read_prefix_fd(&file).into();
        Some(Found {
            path: path.to_owned(),
            file: Arc::new(file),
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            prefix,
        })
    }
}

/// A file being followed (or, once `file` is `None`, finished and remembered so that it
/// is not mistaken for a new one under another name).
struct Tracked {
    key: u64,
    path: PathBuf,
    file: Option<Arc<File>>,
    dev: u64,
    ino: u64,
    fingerprint: Fingerprint,
    asm: Assembler,
    out: mpsc::Sender<Chunk>,
    /// `(group, stream)`; files of one stream are read one after another, in list order.
    stream: (String, String),
    /// Moved away from where it was found, or deleted: finish it, then close it.
    rotated: bool,
    /// Since when the file has been at its end with nothing new.
    quiet_since: Option<Instant>,
    /// Where the file ended when it was finished.
    end: Position,
    /// A finished file missing from the listings: since when, and in how many scans.
    unseen: Option<(Instant, u32)>,
}

impl Tracked {
    fn identity(&self) -> FileIdentity {
        FileIdentity { dev: self.dev, ino: self.ino, fingerprint: self.fingerprint.clone() }
    }
}

/// Follows the files of one source.
pub struct Follower {
    source: SourceConfig,
    parser: Arc<Parser>,
    names: Names,
    cx: Shared,
    files: Vec<Tracked>,
    /// Checkpoints saved by the previous run for this source, adopted on the first scan.
    saved: Vec<Checkpoint>,
    /// Saved checkpoints whose file the first scan did not find; one that turns up later
    /// resumes from its checkpoint rather than from its start.
    ghosts: Vec<Checkpoint>,
    /// No checkpoint existed for this source: `initial_position` applies.
    first_run: bool,
    scanned: bool,
    last_scan: Option<Instant>,
    buf: Vec<u8>,
}

impl Follower {
    pub fn new(source: SourceConfig, names: Names, cx: Shared, saved: Vec<Checkpoint>) -> anyhow::Result<Follower> {
        let parser = Arc::new(Parser::new(&source)?);
        Ok(Follower {
            first_run: saved.is_empty(),
            source,
            parser,
            names,
            cx,
            files: Vec::new(),
            saved,
            ghosts: Vec::new(),
            scanned: false,
            last_scan: None,
            buf: vec![0; READ_CHUNK],
        })
    }

    /// Follows until told to stop; with `once`, until every file has been read to its end.
    pub fn run(mut self, once: bool) -> anyhow::Result<()> {
        loop {
            if self.cx.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            if self.last_scan.is_none_or(|t| t.elapsed() >= self.cx.poll_interval) {
                self.scan()?;
                self.last_scan = Some(Instant::now());
            }
            let more = self.read_round(once)?;
            if once && !more {
                return self.finish_once();
            }
            if !more {
                std::thread::sleep(self.cx.poll_interval.min(Duration::from_millis(50)));
            }
        }
    }

    /// `--once`: everything has been read; send the events still being gathered.
    fn finish_once(&mut self) -> anyhow::Result<()> {
        let now = now_ms();
        for i in 0..self.files.len() {
            let mut events = Vec::new();
            if self.files[i].file.is_some() {
                self.files[i].asm.flush(now, false, &mut events);
            }
            self.send(i, events)?;
        }
        Ok(())
    }

    /// Finds the source's files and notices what happened to the ones already followed.
    fn scan(&mut self) -> anyhow::Result<()> {
        let mut matches = self.glob();
        matches.sort_by(age_order);
        if !self.scanned {
            self.adopt_saved(&matches)?;
        }
        for found in &matches {
            if let Some(i) = self.open_index(found.dev, found.ino) {
                self.check(i, found)?;
            } else if let Some(t) = self.files.iter_mut().find(|t| {
                t.file.is_none()
                    && (t.dev, t.ino) == (found.dev, found.ino)
                    && found.size > t.end.offset
                    && t.fingerprint.matches(&found.prefix)
            }) {
                // A finished file that grew after all: its writer was late, or it was
                // never rotated. Follow it again from where it ended.
                tracing::info!(path = %found.path.display(), "finished file grew; following it again");
                t.file = Some(found.file.clone());
                t.quiet_since = None;
            }
        }
        for found in &matches {
            if self.open_index(found.dev, found.ino).is_some() || self.is_finished(found) {
                continue;
            }
            if self.files.iter().any(|t| t.file.is_some() && t.fingerprint.len > 0 && t.fingerprint.matches(&found.prefix)) {
                // A copy of a file being followed (copytruncate's, made just before it
                // truncates): the original's checkpoint covers it.
                continue;
            }
            if let Some(g) = self.ghosts.iter().position(|g| is_checkpointed_file(g, found)) {
                let saved = self.ghosts.swap_remove(g);
                self.resume(found, &saved)?;
                continue;
            }
            let start = match (self.scanned, self.first_run, self.source.initial_position) {
                (false, true, InitialPosition::EndOfFile) => last_line_end(&found.file, found.size),
                _ => 0,
            };
            self.track(self.files.len(), found, Position::at(start), None);
        }
        self.presume_rotated();
        self.notice_rotations(&matches);
        self.forget_finished(&matches);
        self.scanned = true;
        Ok(())
    }

    fn glob(&self) -> Vec<Found> {
        let Ok(paths) = glob::glob(&self.source.path) else { return Vec::new() };
        paths.filter_map(Result::ok).filter(|p| !is_compressed(p)).filter_map(|p| Found::open(&p)).collect()
    }

    /// Files that could be a followed file under a new name: the glob's matches and, in
    /// the directories of the matches and of `also`, the names that begin with the glob's
    /// literal file-name prefix (`x.log.1`, `x.log-20261121` beside `x.log`).
    fn rotation_pool(&self, matches: &[Found], also: &[&Path]) -> Vec<Found> {
        let pattern = Path::new(&self.source.path);
        let name = pattern.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = &name[..name.find(['*', '?', '[']).unwrap_or(name.len())];
        let mut dirs: Vec<&Path> = matches.iter().filter_map(|f| f.path.parent()).collect();
        dirs.extend(also.iter().filter_map(|p| p.parent()));
        dirs.extend(pattern.parent().filter(|d| !d.to_string_lossy().contains(['*', '?', '['])));
        dirs.sort();
        dirs.dedup();
        let mut out: Vec<Found> = matches.to_vec();
        for entry in dirs.iter().filter_map(|d| std::fs::read_dir(d).ok()).flatten().flatten() {
            let p = entry.path();
            if entry.file_name().to_string_lossy().starts_with(prefix)
                && !is_compressed(&p)
                && !out.iter().any(|f| f.path == p)
                && let Some(f) = Found::open(&p)
            {
                out.push(f);
            }
        }
        out
    }

    /// First scan: picks up each file the last run checkpointed, wherever rotation has
    /// moved it, settling a batch that was in flight when the last run ended.
    fn adopt_saved(&mut self, matches: &[Found]) -> anyhow::Result<()> {
        let mut pending = std::mem::take(&mut self.saved);
        let mut adopted: Vec<(Found, Checkpoint)> = Vec::new();
        let mut matches = matches.to_vec();
        // A rotation under way while the directory is listed can hide a file from one
        // listing; look again before deciding a checkpointed file is gone.
        for pass in 0..ADOPT_PASSES {
            if pass > 0 {
                std::thread::sleep(Duration::from_millis(20));
                matches = self.glob();
            }
            let saved_paths: Vec<&Path> = pending.iter().map(|c| c.path.as_path()).collect();
            let pool = self.rotation_pool(&matches, &saved_paths);
            pending.retain(|saved| {
                let taken = |f: &Found| adopted.iter().any(|(a, _)| (a.dev, a.ino) == (f.dev, f.ino));
                match pool.iter().find(|f| !taken(f) && is_checkpointed_file(saved, f)) {
                    Some(found) => {
                        adopted.push((found.clone(), saved.clone()));
                        false
                    }
                    None => true,
                }
            });
            if pending.is_empty() {
                break;
            }
        }
        for saved in &pending {
            tracing::warn!(path = %saved.path.display(), acked = saved.acked.offset, "a checkpointed file was not found; it resumes at its checkpoint if it turns up");
        }
        self.ghosts = pending;
        adopted.sort_by(|a, b| age_order(&a.0, &b.0));
        for (found, saved) in adopted {
            let at_glob_path = matches.iter().any(|m| m.path == found.path && (m.dev, m.ino) == (found.dev, found.ino));
            self.resume(&found, &saved)?;
            let i = self.files.len() - 1;
            self.files[i].rotated = !at_glob_path;
        }
        Ok(())
    }

    /// Follows a file the last run checkpointed, from its checkpoint.
    fn resume(&mut self, found: &Found, saved: &Checkpoint) -> anyhow::Result<()> {
        let from = self.settle_inflight(saved, found)?;
        self.track(self.files.len(), found, from, Some((saved.log_group.clone(), saved.log_stream.clone())));
        Ok(())
    }

    /// Of the open files feeding one stream, all but the newest are taken for rotated
    /// ones (`x.log.1` beside `x.log`, even when found already rotated), so each is
    /// finished, its last multi-line event included, before the next is read. One that
    /// still grows is followed again.
    fn presume_rotated(&mut self) {
        let mut newest: HashMap<&(String, String), usize> = HashMap::new();
        for (i, t) in self.files.iter().enumerate().filter(|(_, t)| t.file.is_some()) {
            newest.insert(&t.stream, i);
        }
        let keep: HashSet<usize> = newest.into_values().collect();
        for (i, t) in self.files.iter_mut().enumerate() {
            if !keep.contains(&i) {
                t.rotated = true;
            }
        }
    }

    /// Decides where to resume a file whose last batch was in flight: after the batch
    /// if the stream holds it, else at its start.
    fn settle_inflight(&self, saved: &Checkpoint, found: &Found) -> anyhow::Result<Position> {
        let Some(inflight) = &saved.inflight else { return Ok(saved.acked) };
        let path = &found.path;
        let events = reread(&self.parser, &found.file, inflight.from, inflight.to)?;
        if events.is_empty() {
            return Ok(inflight.to);
        }
        let mut failures = 0u32;
        let delivered = loop {
            let query = crate::ship::stored(&*self.cx.sink, &saved.log_group, &saved.log_stream, inflight, &events);
            match self.cx.runtime.block_on(query) {
                Ok(stored) => break stored,
                Err(e @ (SinkError::Rejected(_) | SinkError::Denied(_))) => {
                    tracing::warn!(error = %e, "cannot tell whether the batch in flight at the last stop was stored; sending it again");
                    break false;
                }
                Err(e) => {
                    failures += 1;
                    if self.cx.max_failures.is_some_and(|m| failures >= m) {
                        tracing::warn!(error = %e, "cannot tell whether the batch in flight at the last stop was stored; sending it again");
                        break false;
                    }
                    tracing::warn!(error = %e, "checking the batch in flight at the last stop; will retry");
                    std::thread::sleep(Duration::from_millis(200 * u64::from(failures.min(50))));
                }
            }
        };
        tracing::info!(path = %path.display(), events = events.len(), delivered, "settled the batch in flight at the last stop");
        Ok(if delivered { inflight.to } else { inflight.from })
    }

    /// Starts following `found` at `from`, inserted at `at` in reading order.
    fn track(&mut self, at: usize, found: &Found, from: Position, stream: Option<(String, String)>) {
        let stream = stream.unwrap_or_else(|| {
            (self.names.expand(&self.source.log_group, &found.path), self.names.expand(&self.source.log_stream, &found.path))
        });
        let key = self.cx.next_key.fetch_add(1, Ordering::Relaxed);
        let fingerprint = Fingerprint::of(&found.prefix);
        let checkpoint = Checkpoint {
            source: self.source.path.clone(),
            path: found.path.clone(),
            identity: FileIdentity { dev: found.dev, ino: found.ino, fingerprint: fingerprint.clone() },
            log_group: stream.0.clone(),
            log_stream: stream.1.clone(),
            acked: from,
            inflight: None,
        };
        self.cx.checkpoints.insert(key, checkpoint);
        self.cx.checkpoints.observe_size(key, found.size);
        tracing::info!(path = %found.path.display(), log_group = %stream.0, log_stream = %stream.1, offset = from.offset, "following");
        let out = (self.cx.outlet)(&stream.0, &stream.1);
        self.files.insert(
            at,
            Tracked {
                key,
                path: found.path.clone(),
                file: Some(found.file.clone()),
                dev: found.dev,
                ino: found.ino,
                fingerprint,
                asm: Assembler::new(self.parser.clone(), from),
                out,
                stream,
                rotated: false,
                quiet_since: None,
                end: from,
                unseen: None,
            },
        );
    }

    fn open_index(&self, dev: u64, ino: u64) -> Option<usize> {
        self.files.iter().position(|t| t.file.is_some() && (t.dev, t.ino) == (dev, ino))
    }

    /// Whether `found` is a finished file met again (a rotated name the glob also matches).
    fn is_finished(&self, found: &Found) -> bool {
        self.files.iter().any(|t| t.file.is_none() && (t.dev, t.ino) == (found.dev, found.ino) && t.fingerprint.matches(&found.prefix))
    }

    /// A followed file found again: renamed? truncated or rewritten? grown past its fingerprint?
    fn check(&mut self, i: usize, found: &Found) -> anyhow::Result<()> {
        let t = &mut self.files[i];
        if t.path != found.path {
            tracing::info!(from = %t.path.display(), to = %found.path.display(), "file renamed");
            t.path = found.path.clone();
            if !t.rotated {
                t.rotated = true;
                self.cx.metrics.add(&self.cx.metrics.rotations, 1);
            }
            self.cx.checkpoints.set_identity(t.key, &t.path, &t.identity());
        }
        self.cx.checkpoints.observe_size(t.key, found.size);
        if found.size < t.asm.offset() || !t.fingerprint.matches(&found.prefix) {
            return self.replaced(i, found);
        }
        if found.prefix.len() > t.fingerprint.len as usize {
            t.fingerprint = Fingerprint::of(&found.prefix);
            self.cx.checkpoints.set_identity(t.key, &t.path, &t.identity());
        }
        Ok(())
    }

    /// The file at `found` was truncated or rewritten in place. If a copy of what it held
    /// exists (copytruncate), the rest is read from the copy; the new content is a new file.
    fn replaced(&mut self, i: usize, found: &Found) -> anyhow::Result<()> {
        self.cx.metrics.add(&self.cx.metrics.truncations, 1);
        let matches = self.glob();
        let t = &self.files[i];
        let copy = self.rotation_pool(&matches, &[&t.path]).into_iter().find(|c| {
            (c.dev, c.ino) != (t.dev, t.ino)
                && c.size >= t.asm.offset()
                && self.open_index(c.dev, c.ino).is_none()
                && t.fingerprint.len > 0
                && t.fingerprint.matches(&c.prefix)
        });
        let t = &mut self.files[i];
        match copy {
            Some(c) => {
                let file = c.file.clone();
                tracing::info!(path = %t.path.display(), copy = %c.path.display(), offset = t.asm.offset(), "file truncated; finishing it from its copy");
                (t.path, t.dev, t.ino, t.file) = (c.path.clone(), c.dev, c.ino, Some(file));
                t.rotated = true;
                self.cx.checkpoints.set_identity(t.key, &t.path, &t.identity());
            }
            None => {
                tracing::warn!(path = %t.path.display(), offset = t.asm.offset(), "file truncated and no copy found; anything written past the offset before it was truncated is lost");
                let mut events = Vec::new();
                t.asm.flush(now_ms(), true, &mut events);
                t.end = Position::at(t.asm.offset());
                t.file = None;
                self.send(i, events)?;
            }
        }
        let stream = Some(self.files[i].stream.clone());
        self.track(i + 1, found, Position::at(0), stream);
        Ok(())
    }

    /// Marks followed files that are no longer where they were found (renamed out of the
    /// glob, or deleted). They are read to their end through the open descriptor.
    fn notice_rotations(&mut self, matches: &[Found]) {
        for t in self.files.iter_mut().filter(|t| t.file.is_some() && !t.rotated) {
            if matches.iter().any(|m| (m.dev, m.ino) == (t.dev, t.ino)) {
                continue;
            }
            let still_there = std::fs::metadata(&t.path).is_ok_and(|m| (m.dev(), m.ino()) == (t.dev, t.ino));
            if !still_there {
                tracing::info!(path = %t.path.display(), "file rotated away or deleted; reading it to its end");
                t.rotated = true;
                self.cx.metrics.add(&self.cx.metrics.rotations, 1);
            }
        }
    }

    /// Lets go of finished files once they are fully acknowledged and have been gone
    /// from the listings for a while (see [`FORGET_AFTER_SCANS`]).
    fn forget_finished(&mut self, matches: &[Found]) {
        let checkpoints = &self.cx.checkpoints;
        self.files.retain_mut(|t| {
            if t.file.is_some() || matches.iter().any(|m| (m.dev, m.ino) == (t.dev, t.ino)) {
                t.unseen = None;
                return true;
            }
            if checkpoints.acked(t.key).is_some_and(|a| a < t.end) {
                return true;
            }
            let (since, scans) = t.unseen.get_or_insert((Instant::now(), 0));
            *scans += 1;
            if *scans < FORGET_AFTER_SCANS || since.elapsed() < FORGET_AFTER {
                return true;
            }
            checkpoints.remove(t.key);
            false
        });
    }

    /// Reads what is new in each file, in order; a file not read to its end holds back the
    /// files after it that feed the same stream. Returns whether any file has more to read.
    fn read_round(&mut self, once: bool) -> anyhow::Result<bool> {
        let mut held: HashSet<(String, String)> = HashSet::new();
        let mut more = false;
        for i in 0..self.files.len() {
            let t = &mut self.files[i];
            let Some(file) = &t.file else { continue };
            if held.contains(&t.stream) {
                continue;
            }
            let offset = t.asm.offset();
            let n = file.read_at(&mut self.buf, offset).with_context(|| format!("reading {}", t.path.display()))?;
            if n > 0 && !t.fingerprint.matches(&read_prefix_fd(file)) {
                // Truncated and rewritten since the last scan (copytruncate): what was just
                // read is the new content, not this file's. The scan sorts it out.
                self.last_scan = None;
                held.insert(t.stream.clone());
                more = true;
                continue;
            }
            let now = now_ms();
            let mut events = Vec::new();
            if n > 0 {
                t.asm.push(&self.buf[..n], now, &mut events);
                t.quiet_since = None;
                if n == READ_CHUNK {
                    more = true;
                    held.insert(t.stream.clone());
                } else if t.rotated {
                    // At the end of a rotated file: its last event goes now, before its
                    // successor's first.
                    t.asm.flush(now, false, &mut events);
                }
            } else {
                let quiet = t.quiet_since.get_or_insert_with(Instant::now).elapsed();
                if t.rotated || quiet >= Duration::from_millis(self.source.multi_line_flush_ms) {
                    // A rotated file gets nothing more (bar a late writer); its last event
                    // goes now, before its successor's first.
                    t.asm.flush(now, false, &mut events);
                }
                if t.rotated && quiet >= self.cx.rotate_wait && !once {
                    // A last line without its newline is taken whole only if nothing can
                    // end it: the file is gone from where it was.
                    let gone = std::fs::metadata(&t.path).map_or(true, |m| (m.dev(), m.ino()) != (t.dev, t.ino));
                    t.asm.flush(now, gone, &mut events);
                    t.end = Position::at(t.asm.offset());
                    t.file = None;
                    tracing::info!(path = %t.path.display(), "finished rotated file");
                }
            }
            self.send(i, events)?;
        }
        Ok(more)
    }

    /// Hands a file's events to its stream's shipper, waiting while that shipper's
    /// buffer is full (the rest stays in the file meanwhile) unless the agent is stopping.
    fn send(&mut self, i: usize, events: Vec<Event>) -> anyhow::Result<()> {
        let t = &mut self.files[i];
        let notes = t.asm.notes;
        if notes.truncated > 0 || notes.split > 0 {
            self.cx.metrics.add(&self.cx.metrics.events_truncated, notes.truncated);
            self.cx.metrics.add(&self.cx.metrics.events_split, notes.split);
            if notes.truncated > 0 {
                tracing::warn!(path = %t.path.display(), events = notes.truncated, limit = self.source.max_event_size, "events over the size limit were truncated");
            }
            if notes.split > 0 {
                tracing::warn!(path = %t.path.display(), events = notes.split, limit = self.source.max_event_size, "events over the size limit were split");
            }
            t.asm.notes = Notes::default();
        }
        if events.is_empty() {
            return Ok(());
        }
        let mut chunk = Chunk { key: t.key, events };
        loop {
            match t.out.try_send(chunk) {
                Ok(()) => return Ok(()),
                // Stopping while the shipper cannot keep up (an endpoint down): these
                // events are not acknowledged, so the next start reads them again.
                Err(mpsc::error::TrySendError::Full(_)) if self.cx.stop.load(Ordering::Relaxed) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(back)) => {
                    chunk = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(mpsc::error::TrySendError::Closed(_)) => anyhow::bail!("the shipper for {}/{} stopped", t.stream.0, t.stream.1),
            }
        }
    }
}

/// Whether `found` is the file `saved` describes: the same inode with the same first
/// bytes, or (moved by a copy) another inode with the same first bytes and enough of them.
fn is_checkpointed_file(saved: &Checkpoint, found: &Found) -> bool {
    let fingerprint = &saved.identity.fingerprint;
    if !fingerprint.matches(&found.prefix) {
        return false;
    }
    (found.dev, found.ino) == (saved.identity.dev, saved.identity.ino) || fingerprint.len > 0 && found.size >= saved.acked.offset
}

/// Re-reads the events between two positions of a file, as they were read before.
fn reread(parser: &Arc<Parser>, file: &File, from: Position, to: Position) -> anyhow::Result<Vec<Event>> {
    let mut asm = Assembler::new(parser.clone(), from);
    let mut buf = vec![0; READ_CHUNK];
    let mut events = Vec::new();
    loop {
        let n = file.read_at(&mut buf, asm.offset())?;
        if n == 0 {
            asm.flush(0, true, &mut events);
            break;
        }
        asm.push(&buf[..n], 0, &mut events);
        if events.last().is_some_and(|e| e.end >= to) {
            break;
        }
    }
    events.retain(|e| e.end <= to);
    Ok(events)
}

fn read_prefix_fd(file: &File) -> Vec<u8> {
    let mut buf = vec![0; FINGERPRINT_BYTES];
    let mut len = 0;
    while len < buf.len() {
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    buf.truncate(len);
    buf
}

/// Where the last complete line of a file ends, to start "at the end" without cutting a line.
fn last_line_end(file: &File, size: u64) -> u64 {
    let from = size.saturating_sub(64 << 10);
    let mut buf = vec![0; (size - from) as usize];
    if file.read_exact_at(&mut buf, from).is_err() {
        return size;
    }
    memchr::memrchr(b'\n', &buf).map_or(size, |i| from + i as u64 + 1)
}

/// Oldest first: by modification time, and among files modified in the same instant
/// (rotation is quick), `x.log.2` before `x.log.1` before `x.log`.
fn age_order(a: &Found, b: &Found) -> std::cmp::Ordering {
    let generation =
        |f: &Found| f.path.extension().and_then(|e| e.to_str()).and_then(|e| e.parse::<u32>().ok()).map_or(i64::MAX, |n| -i64::from(n));
    a.mtime.cmp(&b.mtime).then_with(|| generation(a).cmp(&generation(b))).then_with(|| a.path.cmp(&b.path))
}

fn is_compressed(path: &Path) -> bool {
    path.extension().is_some_and(|e| COMPRESSED.iter().any(|c| e.eq_ignore_ascii_case(c)))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
