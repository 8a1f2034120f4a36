//! Durable checkpoints: for each file, who it is and how far the log service has
//! acknowledged it, plus the batch in flight so a restart can tell whether it landed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::assemble::Position;

/// How many leading bytes of a file identify its content.
pub const FINGERPRINT_BYTES: usize = 1024;

/// A hash of a file's first bytes. Log files only grow at the end, so the hash of a
/// prefix stays true of a file for life; a rotated copy has the same one, a reused inode
/// a different one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// How many leading bytes were hashed (fewer than [`FINGERPRINT_BYTES`] while the file is small).
    pub len: u32,
    pub sha256: String,
}

impl Fingerprint {
    pub fn of(prefix: &[u8]) -> Fingerprint {
        Fingerprint { len: prefix.len() as u32, sha256: hex::encode(Sha256::digest(prefix)) }
    }

    /// Whether `prefix` (a file's first bytes, at least as many as were hashed) begins with the bytes hashed here.
    pub fn matches(&self, prefix: &[u8]) -> bool {
        let len = self.len as usize;
        prefix.len() >= len && hex::encode(Sha256::digest(&prefix[..len])) == self.sha256
    }
}

/// Who a file is: where it lives on disk and what it begins with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub fingerprint: Fingerprint,
}

/// A batch sent and not yet known to be acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inflight {
    pub from: Position,
    pub to: Position,
    pub count: usize,
    pub min_timestamp: i64,
    pub max_timestamp: i64,
}

/// One file's durable record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The `path` glob of the source that follows the file.
    pub source: String,
    /// Where the file was last seen.
    pub path: PathBuf,
    pub identity: FileIdentity,
    pub log_group: String,
    pub log_stream: String,
    /// Everything before this position has been acknowledged.
    pub acked: Position,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inflight: Option<Inflight>,
}

/// A file's progress as the status endpoint shows it; not persisted.
#[derive(Debug, Clone, Default)]
pub struct Lag {
    /// The file's size when last looked at.
    pub size: u64,
    /// Since when the file has held bytes not yet acknowledged.
    pub behind_since: Option<Instant>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    version: u32,
    files: Vec<Checkpoint>,
}

#[derive(Default)]
struct State {
    entries: BTreeMap<u64, (Checkpoint, Lag)>,
    /// Bumped by every change, so a writer can skip a snapshot older than one already written.
    version: u64,
}

/// Every file's checkpoint, shared by the readers (identity) and the shippers (progress).
pub struct Checkpoints {
    path: PathBuf,
    state: Mutex<State>,
    /// Serializes writers and remembers the newest version on disk.
    written: Mutex<u64>,
}

impl Checkpoints {
    /// Opens the checkpoint file in `state_dir`, creating the directory if need be.
    /// Entries on disk come back with keys `1..=n`; [`Checkpoints::take_saved`] hands them out.
    pub fn open(state_dir: &Path) -> anyhow::Result<(Checkpoints, Vec<Checkpoint>)> {
        std::fs::create_dir_all(state_dir).with_context(|| format!("creating {}", state_dir.display()))?;
        let path = state_dir.join("checkpoints.json");
        let saved: Saved = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Saved::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let checkpoints = Checkpoints { path, state: Mutex::new(State::default()), written: Mutex::new(0) };
        Ok((checkpoints, saved.files))
    }

    /// Starts keeping `checkpoint` under `key`.
    pub fn insert(&self, key: u64, checkpoint: Checkpoint) {
        let mut state = self.state.lock().unwrap();
        state.entries.insert(key, (checkpoint, Lag::default()));
        state.version += 1;
    }

    /// Stops keeping a file that is gone and fully shipped.
    pub fn remove(&self, key: u64) {
        let mut state = self.state.lock().unwrap();
        state.entries.remove(&key);
        state.version += 1;
    }

    /// The file behind `key` now lives at `path` with `identity` (renamed, or its content
    /// moved to a copy by copytruncate, or its fingerprint grew).
    pub fn set_identity(&self, key: u64, path: &Path, identity: &FileIdentity) {
        let mut state = self.state.lock().unwrap();
        if let Some((c, _)) = state.entries.get_mut(&key) {
            c.path = path.to_owned();
            c.identity = identity.clone();
        }
        state.version += 1;
    }

    /// Records a batch about to be sent.
    pub fn begin(&self, key: u64, inflight: Inflight) {
        let mut state = self.state.lock().unwrap();
        if let Some((c, _)) = state.entries.get_mut(&key) {
            c.inflight = Some(inflight);
        }
        state.version += 1;
    }

    /// Records that everything before `to` is acknowledged.
    pub fn ack(&self, key: u64, to: Position) {
        let mut state = self.state.lock().unwrap();
        if let Some((c, lag)) = state.entries.get_mut(&key) {
            c.acked = c.acked.max(to);
            c.inflight = None;
            if lag.size <= c.acked.offset {
                lag.behind_since = None;
            }
        }
        state.version += 1;
    }

    /// Where the file behind `key` is acknowledged up to.
    pub fn acked(&self, key: u64) -> Option<Position> {
        self.state.lock().unwrap().entries.get(&key).map(|(c, _)| c.acked)
    }

    /// Notes a file's current size for the lag figures.
    pub fn observe_size(&self, key: u64, size: u64) {
        let mut state = self.state.lock().unwrap();
        if let Some((c, lag)) = state.entries.get_mut(&key) {
            lag.size = size;
            if size > c.acked.offset {
                lag.behind_since.get_or_insert_with(Instant::now);
            } else {
                lag.behind_since = None;
            }
        }
    }

    /// Every file's checkpoint and lag, for status reports.
    pub fn snapshot(&self) -> Vec<(Checkpoint, Lag)> {
        self.state.lock().unwrap().entries.values().cloned().collect()
    }

    /// Writes the checkpoints durably: to a temporary file, fsynced, renamed over the old
    /// one, and the directory fsynced, so a crash leaves either the old or the new file.
    pub fn persist(&self) -> anyhow::Result<()> {
        let mut written = self.written.lock().unwrap();
        let (version, bytes) = {
            let state = self.state.lock().unwrap();
            let saved = Saved { version: 1, files: state.entries.values().map(|(c, _)| c.clone()).collect() };
            (state.version, serde_json::to_vec_pretty(&saved)?)
        };
        if version <= *written && *written != 0 {
            return Ok(());
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut file = File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &self.path).with_context(|| format!("replacing {}", self.path.display()))?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        *written = version;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(acked: u64) -> Checkpoint {
        Checkpoint {
            source: "/var/log/*.log".into(),
            path: "/var/log/a.log".into(),
            identity: FileIdentity { dev: 1, ino: 2, fingerprint: Fingerprint::of(b"first line\n") },
            log_group: "g".into(),
            log_stream: "s".into(),
            acked: Position::at(acked),
            inflight: None,
        }
    }

    #[test]
    fn checkpoints_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (c, saved) = Checkpoints::open(dir.path()).unwrap();
        assert!(saved.is_empty());
        c.insert(7, checkpoint(10));
        let inflight = Inflight { from: Position::at(10), to: Position::at(20), count: 2, min_timestamp: 5, max_timestamp: 6 };
        c.begin(7, inflight.clone());
        c.persist().unwrap();
        let (_, saved) = Checkpoints::open(dir.path()).unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0].acked, Position::at(10));
        assert_eq!(saved[0].inflight, Some(inflight));
        c.ack(7, Position::at(20));
        c.persist().unwrap();
        let (_, saved) = Checkpoints::open(dir.path()).unwrap();
        assert_eq!(saved[0].acked, Position::at(20));
        assert_eq!(saved[0].inflight, None);
    }

    #[test]
    fn a_fingerprint_matches_only_its_prefix() {
        let f = Fingerprint::of(b"2026 first line\n");
        assert!(f.matches(b"2026 first line\nsecond line\n"));
        assert!(!f.matches(b"2026 first"));
        assert!(!f.matches(b"2027 first line\n"));
    }
}
