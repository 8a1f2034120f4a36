//! Log file integrity validation: what `aws cloudtrail validate-logs` does, over any
//! bucket reader, plus the detection of log files that no digest lists.
//!
//! The walk follows the aws CLI (`awscli/customizations/cloudtrail/validation.py`): list
//! the trail's digests whose key time lies in [start, end + 1 h], start at the newest,
//! check its signature, follow `previousDigestS3Object` to older digests while they
//! still cover the range, and fall back to the listing when a digest is missing or
//! invalid or a chain starts (a gap). For each valid digest every listed log file is
//! fetched and the SHA-256 of its uncompressed bytes compared. Beyond the CLI, it checks
//! that each digest's hash and signature are the ones its successor recorded, and it
//! reports log files in the trail's folders, within the period the valid digests cover,
//! that no digest lists (added files).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io::Write;
use std::sync::Mutex;

use async_trait::async_trait;
use futures::StreamExt;

use crate::digest::{self, Digest};
use crate::keys::VerifyError;

pub mod args;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Log files fetched at once while checking one digest's list.
const FETCH_CONCURRENCY: usize = 8;
/// Log files named within this long before the end of a covered period are not reported
/// as added: they may have been delivered after that period's digest was written and
/// belong to a digest not written yet.
pub const ADDED_FILE_SLACK: i64 = 15 * MINUTE;

/// An object's bytes and user metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredObject {
    /// The object's bytes, as stored (gzip for log and digest files).
    pub body: Vec<u8>,
    /// User metadata (`x-amz-meta-*`), names without the prefix.
    pub metadata: BTreeMap<String, String>,
}

/// Why reading a bucket failed (anything but a missing key), which ends validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(pub String);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// Read access to the buckets holding a trail's files.
#[async_trait]
pub trait BucketReader: Send + Sync {
    /// Every key under `prefix` that sorts after `start_after`, in byte order.
    async fn list(&self, bucket: &str, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, ReadError>;
    /// An object's bytes and user metadata; `None` when there is no such key.
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, ReadError>;
}

/// Buckets held in memory, for tests and tools.
#[derive(Debug, Default)]
pub struct MemoryBuckets {
    objects: Mutex<BTreeMap<(String, String), StoredObject>>,
}

impl MemoryBuckets {
    /// Writes (or replaces) an object.
    pub fn put(&self, bucket: &str, key: &str, body: Vec<u8>, metadata: BTreeMap<String, String>) {
        self.objects.lock().expect("buckets lock").insert((bucket.to_owned(), key.to_owned()), StoredObject { body, metadata });
    }

    /// Removes an object, returning it.
    pub fn remove(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        self.objects.lock().expect("buckets lock").remove(&(bucket.to_owned(), key.to_owned()))
    }

    /// An object, if present.
    pub fn object(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        self.objects.lock().expect("buckets lock").get(&(bucket.to_owned(), key.to_owned())).cloned()
    }

    /// Every object as (bucket, key, object), in order.
    pub fn objects(&self) -> Vec<(String, String, StoredObject)> {
        self.objects.lock().expect("buckets lock").iter().map(|((b, k), o)| (b.clone(), k.clone(), o.clone())).collect()
    }
}

#[async_trait]
impl BucketReader for MemoryBuckets {
    async fn list(&self, bucket: &str, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, ReadError> {
        let objects = self.objects.lock().expect("buckets lock");
        Ok(objects
            .range((bucket.to_owned(), prefix.to_owned())..)
            .take_while(|((b, k), _)| b == bucket && k.starts_with(prefix))
            .map(|((_, k), _)| k)
            .filter(|k| start_after.is_none_or(|after| k.as_str() > after))
            .cloned()
            .collect())
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, ReadError> {
        Ok(self.object(bucket, key))
    }
}

/// Which trail, where and when to validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The trail's account (from its ARN).
    pub account_id: String,
    /// The trail's name (from its ARN).
    pub trail_name: String,
    /// The trail's home region (from its ARN); also where its public keys come from.
    pub home_region: String,
    /// The region whose files to validate (the aws CLI's `--region`).
    pub region: String,
    /// The bucket of the newest digests.
    pub bucket: String,
    /// The trail's S3 key prefix, without a trailing slash; `None` or empty for none.
    pub prefix: Option<String>,
    /// Start of the range, epoch ms.
    pub start: i64,
    /// End of the range, epoch ms.
    pub end: i64,
    /// Files named in this last stretch of a covered period are not reported as added:
    /// the next digest may list them ([`ADDED_FILE_SLACK`] by default, matching AWS's
    /// delivery pace; less for trailwatch servers delivering faster).
    pub added_file_slack: i64,
}

/// Public keys by fingerprint: DER PKCS#1 RSAPublicKey bytes (ListPublicKeys' Value).
pub type PublicKeys = HashMap<String, Vec<u8>>;

/// What became of one digest file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestStatus {
    /// Its signature verified (and it matches what its successor recorded).
    Valid,
    /// The object does not exist.
    NotFound,
    /// Not gzip, not JSON, or a required field is missing.
    InvalidFormat,
    /// The signature does not verify, or the signature metadata is missing.
    SignatureFailed,
    /// The digest names another bucket or key than where it was read.
    Moved,
    /// No public key of that fingerprint was found.
    PublicKeyNotFound {
        /// The region the keys were looked up in.
        region: String,
        /// The digest's fingerprint.
        fingerprint: String,
    },
    /// The public key of that fingerprint is not a PKCS#1 key.
    BadPublicKey {
        /// The digest's fingerprint.
        fingerprint: String,
    },
    /// Validly signed, but not the digest its successor recorded (hash or signature differ).
    ChainMismatch,
}

impl fmt::Display for DigestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestStatus::Valid => f.write_str("valid"),
            DigestStatus::NotFound => f.write_str("INVALID: not found"),
            DigestStatus::InvalidFormat => f.write_str("INVALID: invalid format"),
            DigestStatus::SignatureFailed => f.write_str("INVALID: signature verification failed"),
            DigestStatus::Moved => f.write_str("INVALID: has been moved from its original location"),
            DigestStatus::PublicKeyNotFound { region, fingerprint } => {
                write!(f, "INVALID: public key not found in region {region} for fingerprint {fingerprint}")
            }
            DigestStatus::BadPublicKey { fingerprint } => write!(f, "INVALID: Unable to load PKCS #1 key with fingerprint {fingerprint}"),
            DigestStatus::ChainMismatch => f.write_str("INVALID: hash or signature differs from the one recorded by the next digest"),
        }
    }
}

/// What became of one log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStatus {
    /// Its hash matches the digest's.
    Valid,
    /// Its hash differs from the digest's.
    HashMismatch,
    /// The digest lists it but the object does not exist.
    NotFound,
    /// It is not gzip.
    InvalidFormat,
    /// It lies in the trail's folder within a period the digests cover, but no digest lists it.
    NotInDigest,
}

impl fmt::Display for LogStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogStatus::Valid => "valid",
            LogStatus::HashMismatch => "INVALID: hash value doesn't match",
            LogStatus::NotFound => "INVALID: not found",
            LogStatus::InvalidFormat => "INVALID: invalid format",
            LogStatus::NotInDigest => "INVALID: not listed in any digest",
        })
    }
}

/// One finding of the walk, in the order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A digest file and its verdict.
    Digest {
        /// Where it was read.
        bucket: String,
        /// Its key.
        key: String,
        /// The verdict.
        status: DigestStatus,
    },
    /// A log file and its verdict.
    LogFile {
        /// Where it was read.
        bucket: String,
        /// Its key.
        key: String,
        /// The verdict.
        status: LogStatus,
    },
    /// A chain started here: no digest covers the time between (logging or validation was off).
    Gap {
        /// End of the older chain (its newest digest's key time), epoch ms.
        from: i64,
        /// Start of the newer chain, epoch ms.
        to: i64,
    },
}

impl Entry {
    /// Whether this finding makes the validation fail.
    pub fn is_invalid(&self) -> bool {
        match self {
            Entry::Digest { status, .. } => *status != DigestStatus::Valid,
            Entry::LogFile { status, .. } => *status != LogStatus::Valid,
            Entry::Gap { .. } => false,
        }
    }

    /// Whether the aws CLI shows this finding even without `--verbose` (on stderr).
    pub fn is_notice(&self) -> bool {
        self.is_invalid() || matches!(self, Entry::Gap { .. })
    }

    /// The line the aws CLI prints for this finding.
    pub fn line(&self) -> String {
        match self {
            Entry::Digest { bucket, key, status } => format!("Digest file\ts3://{bucket}/{key}\t{status}"),
            Entry::LogFile { bucket, key, status } => format!("Log file\ts3://{bucket}/{key}\t{status}"),
            Entry::Gap { from, to } => {
                format!("No log files were delivered by CloudTrail between {} and {}", digest::format_time(*from), digest::format_time(*to))
            }
        }
    }
}

/// Progress of a validation, reported as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// How many digest files of the trail the listing found in the range.
    DigestsListed(usize),
    /// A finding, in order.
    Entry(&'a Entry),
}

/// The outcome of a validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Start of the requested range, epoch ms.
    pub start: i64,
    /// End of the requested range, epoch ms.
    pub end: i64,
    /// Every finding, in order.
    pub entries: Vec<Entry>,
    /// The part of the range the valid digests cover (the CLI's "Results found for").
    pub found: Option<(i64, i64)>,
}

impl Report {
    /// Valid and invalid digest files.
    pub fn digest_counts(&self) -> (usize, usize) {
        self.counts(|e| matches!(e, Entry::Digest { .. }))
    }

    /// Valid and invalid log files (added files count as invalid).
    pub fn log_counts(&self) -> (usize, usize) {
        self.counts(|e| matches!(e, Entry::LogFile { .. }))
    }

    fn counts(&self, kind: impl Fn(&Entry) -> bool) -> (usize, usize) {
        self.entries.iter().filter(|e| kind(e)).fold((0, 0), |(v, i), e| if e.is_invalid() { (v, i + 1) } else { (v + 1, i) })
    }

    /// Whether nothing was found invalid (the CLI's exit status 0).
    pub fn is_valid(&self) -> bool {
        !self.entries.iter().any(Entry::is_invalid)
    }
}

/// Validates a trail's digests and log files in a range; fails only when a bucket
/// cannot be read (a missing object is a finding, not a failure).
pub async fn validate(
    reader: &dyn BucketReader,
    keys: &PublicKeys,
    request: &Request,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<Report, ReadError> {
    let mut walk =
        Walk { reader, keys, req: request, progress, entries: Vec::new(), found: None, covered: Vec::new(), known: HashSet::new() };
    let listing = walk.list_digests(&request.bucket, request.prefix.as_deref(), request.end).await?;
    (walk.progress)(Progress::DigestsListed(listing.ours.len()));
    walk.walk(listing.ours).await?;
    walk.find_added(&request.bucket, &listing.siblings).await?;
    Ok(Report { start: request.start, end: request.end, entries: walk.entries, found: walk.found })
}

/// The trail's digest keys (with their key times, oldest first) and those of other
/// trails delivering to the same folder.
struct Listing {
    ours: Vec<(String, i64)>,
    siblings: Vec<String>,
}

/// A period a valid digest covers, and where its log files live.
struct Covered {
    bucket: String,
    /// The log folder of the region, `[PREFIX/]AWSLogs/ACCT/CloudTrail/REGION/`.
    log_folder: String,
    start: i64,
    end: i64,
}

enum Loaded {
    Invalid(DigestStatus),
    Valid { digest: Box<Digest>, sha256: String, signature: String },
}

struct Walk<'a> {
    reader: &'a dyn BucketReader,
    keys: &'a PublicKeys,
    req: &'a Request,
    progress: &'a mut (dyn FnMut(Progress<'_>) + Send),
    entries: Vec<Entry>,
    found: Option<(i64, i64)>,
    covered: Vec<Covered>,
    /// Log files (bucket, key) that a valid digest lists.
    known: HashSet<(String, String)>,
}

impl Walk<'_> {
    fn push(&mut self, entry: Entry) {
        (self.progress)(Progress::Entry(&entry));
        self.entries.push(entry);
    }

    fn digest_folder(&self, prefix: Option<&str>) -> String {
        format!("{}AWSLogs/{}/CloudTrail-Digest/{}/", prefix_path(prefix), self.req.account_id, self.req.region)
    }

    /// Lists digest keys whose key time lies in [start, end + 1 h], as the aws CLI does.
    async fn list_digests(&self, bucket: &str, prefix: Option<&str>, end: i64) -> Result<Listing, ReadError> {
        let folder = self.digest_folder(prefix);
        // Start listing at the folder of the day before the range (the CLI starts one
        // minute before it), so other trails' digests of that day are seen as well.
        let day = digest::format_time(self.req.start - MINUTE)[..10].replace('-', "/");
        let marker = format!("{folder}{day}");
        let keys = self.reader.list(bucket, &folder, Some(&marker)).await?;
        let (lo, hi) = (digest::format_key_time(self.req.start), digest::format_key_time(end + HOUR));
        let ours_prefix =
            format!("{}_CloudTrail-Digest_{}_{}_{}_", self.req.account_id, self.req.region, self.req.trail_name, self.req.home_region);
        let any_prefix = format!("{}_CloudTrail-Digest_{}_", self.req.account_id, self.req.region);
        let mut listing = Listing { ours: Vec::new(), siblings: Vec::new() };
        for key in keys {
            let Some(name) = key.strip_prefix(&folder).and_then(dated_file_name) else { continue };
            let Some(stamp) =
                name.strip_suffix(".json.gz").filter(|s| !s.ends_with("_backfill")).and_then(|s| s.get(s.len().checked_sub(16)?..))
            else {
                continue;
            };
            let Some(time) = digest::parse_key_time(stamp) else { continue };
            if stamp < lo.as_str() || stamp > hi.as_str() {
                continue;
            }
            if name.len() == ours_prefix.len() + 16 + 8 && name.starts_with(&ours_prefix) {
                listing.ours.push((key, time));
            } else if name.starts_with(&any_prefix) {
                listing.siblings.push(key);
            }
        }
        listing.ours.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        Ok(listing)
    }

    /// Walks the chain from the newest digest to the oldest one that covers the start.
    async fn walk(&mut self, mut digests: Vec<(String, i64)>) -> Result<(), ReadError> {
        let mut bucket = self.req.bucket.clone();
        let mut next = digests.pop();
        let mut last_start = next.as_ref().map_or(i64::MIN, |(_, t)| *t);
        // What the newer digest recorded about the one being loaded: its hash and signature.
        let mut recorded: Option<(Option<String>, Option<String>)> = None;
        while let Some((key, _)) = next.take() {
            if self.req.start > last_start {
                break;
            }
            let loaded = self.load(&bucket, &key).await?;
            let (digest, sha256, signature) = match loaded {
                Loaded::Valid { digest, sha256, signature } => (*digest, sha256, signature),
                Loaded::Invalid(status) => {
                    self.push(Entry::Digest { bucket: bucket.clone(), key: key.clone(), status });
                    next = next_before(&mut digests, &key);
                    recorded = None;
                    continue;
                }
            };
            if let Some((hash, sig)) = recorded.take() {
                let same = |recorded: &Option<String>, actual: &str| recorded.as_deref().is_none_or(|r| r.eq_ignore_ascii_case(actual));
                if !same(&hash, &sha256) || !same(&sig, &signature) {
                    self.push(Entry::Digest { bucket: bucket.clone(), key: key.clone(), status: DigestStatus::ChainMismatch });
                    next = next_before(&mut digests, &key);
                    continue;
                }
            }
            let start = digest::parse_time(&digest.start_time);
            let end = digest::parse_time(&digest.end_time);
            if let Some(start) = start {
                last_start = start;
            }
            self.push(Entry::Digest { bucket: bucket.clone(), key: key.clone(), status: DigestStatus::Valid });
            if let (Some(start), Some(end)) = (start, end) {
                self.track(&digest, start, end);
            }
            self.check_logs(&digest).await?;
            match (digest.previous_bucket, digest.previous_key) {
                (Some(previous_bucket), Some(previous_key)) => {
                    recorded = Some((digest.previous_sha256, digest.previous_signature));
                    if previous_bucket != bucket {
                        // The trail moved buckets: continue with the older bucket's listing.
                        let prefix = key_prefix_of(&previous_key, &self.req.account_id);
                        digests = self.list_digests(&previous_bucket, prefix.as_deref(), end.unwrap_or(self.req.end)).await?.ours;
                        bucket = previous_bucket;
                    }
                    let time = end.unwrap_or(last_start);
                    next = Some((previous_key, time));
                }
                _ => {
                    next = next_before(&mut digests, &key);
                    if let Some((_, from)) = &next {
                        let entry = Entry::Gap { from: *from, to: last_start };
                        self.push(entry);
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads and checks one digest as the CLI does, in its order of checks.
    async fn load(&self, bucket: &str, key: &str) -> Result<Loaded, ReadError> {
        let Some(object) = self.reader.get(bucket, key).await? else { return Ok(Loaded::Invalid(DigestStatus::NotFound)) };
        let Ok(json) = digest::gunzip(&object.body) else { return Ok(Loaded::Invalid(DigestStatus::InvalidFormat)) };
        if serde_json::from_slice::<serde_json::Value>(&json).is_err() {
            return Ok(Loaded::Invalid(DigestStatus::InvalidFormat));
        }
        let meta = |name: &str| object.metadata.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        let (Some(signature), Some(_)) = (meta(digest::META_SIGNATURE), meta(digest::META_SIGNATURE_ALGORITHM)) else {
            return Ok(Loaded::Invalid(DigestStatus::SignatureFailed));
        };
        let Ok(parsed) = Digest::parse(&json) else { return Ok(Loaded::Invalid(DigestStatus::InvalidFormat)) };
        if parsed.bucket != bucket || parsed.key != key {
            return Ok(Loaded::Invalid(DigestStatus::Moved));
        }
        let Some(public) = self.keys.get(&parsed.fingerprint) else {
            return Ok(Loaded::Invalid(DigestStatus::PublicKeyNotFound {
                region: self.req.home_region.clone(),
                fingerprint: parsed.fingerprint.clone(),
            }));
        };
        match digest::verify(&parsed, &json, &signature, public) {
            Ok(()) => Ok(Loaded::Valid { sha256: digest::sha256_hex(&json), digest: Box::new(parsed), signature }),
            Err(VerifyError::BadKey) => Ok(Loaded::Invalid(DigestStatus::BadPublicKey { fingerprint: parsed.fingerprint })),
            Err(VerifyError::BadSignature) => Ok(Loaded::Invalid(DigestStatus::SignatureFailed)),
        }
    }

    /// Records what a valid digest covers: the found range, its period and its files.
    fn track(&mut self, digest: &Digest, start: i64, end: i64) {
        let (found_start, found_end) = (start.max(self.req.start), end.min(self.req.end));
        self.found = Some(match self.found {
            None => (found_start, found_end),
            Some((s, e)) => (s.min(found_start), e.max(found_end)),
        });
        if let Some(prefix) = key_prefix_of(&digest.key, &self.req.account_id) {
            self.covered.push(Covered {
                bucket: digest.bucket.clone(),
                log_folder: format!("{}AWSLogs/{}/CloudTrail/{}/", prefix_path(Some(&prefix)), self.req.account_id, self.req.region),
                start,
                end,
            });
        }
        self.known.extend(digest.log_files.iter().map(|f| (f.bucket.clone(), f.key.clone())));
    }

    /// Fetches every log file a valid digest lists and compares hashes.
    async fn check_logs(&mut self, digest: &Digest) -> Result<(), ReadError> {
        let reader = self.reader;
        let results: Vec<Result<LogStatus, ReadError>> =
            futures::stream::iter(digest.log_files.iter()).map(|file| check_log(reader, file)).buffered(FETCH_CONCURRENCY).collect().await;
        for (file, status) in digest.log_files.iter().zip(results) {
            self.push(Entry::LogFile { bucket: file.bucket.clone(), key: file.key.clone(), status: status? });
        }
        Ok(())
    }

    /// Reports log files that lie wholly within the covered periods (and the requested
    /// range) that no valid digest lists: files added to the trail's folders.
    async fn find_added(&mut self, bucket: &str, siblings: &[String]) -> Result<(), ReadError> {
        let mut candidates = BTreeSet::new();
        let mut groups: BTreeMap<(String, String), Vec<(i64, i64)>> = BTreeMap::new();
        for c in &self.covered {
            groups.entry((c.bucket.clone(), c.log_folder.clone())).or_default().push((c.start, c.end));
        }
        for ((log_bucket, folder), periods) in groups {
            for (start, end) in merge(periods) {
                let lo = start.max(self.req.start);
                let hi = (end - self.req.added_file_slack).min(self.req.end);
                if hi - lo < MINUTE {
                    continue;
                }
                let mut day = lo - lo.rem_euclid(DAY);
                while day <= hi {
                    let day_folder = format!("{folder}{}/", &digest::format_time(day)[..10].replace('-', "/"));
                    for key in self.reader.list(&log_bucket, &day_folder, None).await? {
                        if key.ends_with('/') || self.known.contains(&(log_bucket.clone(), key.clone())) {
                            continue;
                        }
                        let named = log_file_time(&key[day_folder.len()..], &self.req.account_id, &self.req.region);
                        if named.is_none_or(|t| t >= lo && t + MINUTE <= hi) {
                            candidates.insert((log_bucket.clone(), key));
                        }
                    }
                    day += DAY;
                }
            }
        }
        if !candidates.is_empty() {
            // Another trail may deliver to the same folder: what its valid digests list was not added.
            for key in siblings {
                if let Loaded::Valid { digest, .. } = self.load(bucket, key).await? {
                    for file in digest.log_files {
                        candidates.remove(&(file.bucket, file.key));
                    }
                }
            }
        }
        for (bucket, key) in candidates {
            self.push(Entry::LogFile { bucket, key, status: LogStatus::NotInDigest });
        }
        Ok(())
    }
}

/// Fetches one log file and compares the SHA-256 of its uncompressed bytes with the digest's.
async fn check_log(reader: &dyn BucketReader, file: &digest::ListedLogFile) -> Result<LogStatus, ReadError> {
    let Some(object) = reader.get(&file.bucket, &file.key).await? else { return Ok(LogStatus::NotFound) };
    let Ok(bytes) = digest::gunzip(&object.body) else { return Ok(LogStatus::InvalidFormat) };
    Ok(if digest::sha256_hex(&bytes).eq_ignore_ascii_case(&file.sha256) { LogStatus::Valid } else { LogStatus::HashMismatch })
}

/// Pops listed digests until one older (by key time) than `key`: where the walk goes
/// when the chain is broken or starts.
fn next_before(digests: &mut Vec<(String, i64)>, key: &str) -> Option<(String, i64)> {
    let before = key_time(key)?;
    while let Some((k, t)) = digests.pop() {
        if t < before {
            return Some((k, t));
        }
    }
    None
}

/// The timestamp of a digest key, epoch ms.
fn key_time(key: &str) -> Option<i64> {
    let stem = key.strip_suffix(".json.gz")?;
    digest::parse_key_time(stem.get(stem.len().checked_sub(16)?..)?)
}

/// `YYYY/MM/DD/NAME` (digits only in the date parts, as the CLI's pattern) → `NAME`.
fn dated_file_name(rest: &str) -> Option<&str> {
    let mut parts = rest.splitn(4, '/');
    for _ in 0..3 {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    parts.next().filter(|name| !name.is_empty() && !name.contains('/'))
}

/// The key prefix (without the trailing slash) of a file under `[PREFIX/]AWSLogs/ACCT/`;
/// `Some("")` when there is none, `None` when the key is not under such a folder.
fn key_prefix_of(key: &str, account_id: &str) -> Option<String> {
    let marker = format!("AWSLogs/{account_id}/");
    if key.starts_with(&marker) {
        return Some(String::new());
    }
    let at = key.find(&format!("/{marker}"))?;
    Some(key[..at].to_owned())
}

fn prefix_path(prefix: Option<&str>) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}/"),
        _ => String::new(),
    }
}

/// The delivery minute (epoch ms) of a log file named
/// `ACCT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`; `None` for any other name.
fn log_file_time(name: &str, account_id: &str, region: &str) -> Option<i64> {
    let rest = name.strip_prefix(&format!("{account_id}_CloudTrail_{region}_"))?.strip_suffix(".json.gz")?;
    let (stamp, unique) = rest.split_once('_')?;
    if stamp.len() != 14 || unique.is_empty() || !unique.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    digest::parse_key_time(&format!("{}00Z", &stamp[..13]))
}

/// Sorts periods and joins those that overlap or touch.
fn merge(mut periods: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    periods.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(periods.len());
    for (start, end) in periods {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Writes findings and the summary exactly as `aws cloudtrail validate-logs` does:
/// the startup line and summary on stdout, invalid files and gaps on stderr set apart by
/// blank lines, valid files on stdout only when verbose.
#[derive(Debug)]
pub struct TextOutput {
    verbose: bool,
    last_double_space: bool,
}

impl TextOutput {
    /// An output that lists valid files too when `verbose`.
    pub fn new(verbose: bool) -> TextOutput {
        TextOutput { verbose, last_double_space: true }
    }

    /// `Validating log files for trail ARN between START and END`, then a blank line.
    pub fn startup(&mut self, trail_arn: &str, start: i64, end: i64, out: &mut dyn Write) -> std::io::Result<()> {
        write!(
            out,
            "Validating log files for trail {trail_arn} between {} and {}\n\n",
            digest::format_time(start),
            digest::format_time(end)
        )
    }

    /// One finding: notices to `err`, valid files to `out` when verbose.
    pub fn entry(&mut self, entry: &Entry, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<()> {
        if entry.is_notice() {
            if self.last_double_space {
                write!(err, "{}\n\n", entry.line())?;
            } else {
                write!(err, "\n{}\n\n", entry.line())?;
            }
            self.last_double_space = true;
        } else if self.verbose {
            self.last_double_space = false;
            writeln!(out, "{}", entry.line())?;
        }
        Ok(())
    }

    /// The closing summary: requested and found ranges, then the counts.
    pub fn summary(&mut self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        if !self.last_double_space {
            writeln!(out)?;
        }
        writeln!(out, "Results requested for {} to {}", digest::format_time(report.start), digest::format_time(report.end))?;
        let (valid_digests, invalid_digests) = report.digest_counts();
        if valid_digests + invalid_digests == 0 {
            return writeln!(out, "No digests found");
        }
        match report.found {
            None => writeln!(out, "No valid digests found in range")?,
            Some((start, end)) => writeln!(out, "Results found for {} to {}:", digest::format_time(start), digest::format_time(end))?,
        }
        ratio(out, valid_digests, invalid_digests, "digest")?;
        let (valid_logs, invalid_logs) = report.log_counts();
        ratio(out, valid_logs, invalid_logs, "log")?;
        writeln!(out)
    }
}

fn ratio(out: &mut dyn Write, valid: usize, invalid: usize, name: &str) -> std::io::Result<()> {
    let total = valid + invalid;
    if total > 0 {
        write!(out, "\n{valid}/{total} {name} files valid")?;
        if invalid > 0 {
            write!(out, ", {invalid}/{total} {name} files INVALID")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
