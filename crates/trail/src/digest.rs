//! Digest files: what CloudTrail writes every hour to prove which log files it delivered.
//!
//! Pure functions, no I/O. A digest is gzip of a JSON document listing the period's log
//! files with the SHA-256 of their uncompressed bytes, chained to the previous digest by
//! its hash and signature, and signed (SHA256withRSA) over
//! `digestEndTime \n bucket/key \n hex(sha256(uncompressed digest)) \n previous signature or "null"`.
//! The signature travels as the object's user metadata `signature` (hex), beside
//! `signature-algorithm` = `SHA256withRSA`.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::keys::{self, SigningKey, VerifyError};

/// The only signature algorithm digests use, as written in the JSON and the metadata.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";
/// The hash algorithm of log files and previous digests, as written in the JSON.
pub const HASH_ALGORITHM: &str = "SHA-256";
/// Object metadata name of the hex signature (header `x-amz-meta-signature`).
pub const META_SIGNATURE: &str = "signature";
/// Object metadata name of the signature algorithm (header `x-amz-meta-signature-algorithm`).
pub const META_SIGNATURE_ALGORITHM: &str = "signature-algorithm";

/// Everything a digest states about one period of one trail in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestInput {
    /// The account whose logs these are.
    pub account_id: String,
    /// The region whose log files the digest covers (the key's REGION).
    pub region: String,
    /// The trail's name.
    pub trail_name: String,
    /// The region the trail was created in (the key's HOMEREGION).
    pub home_region: String,
    /// The bucket the digest is written to.
    pub bucket: String,
    /// The trail's S3 key prefix, without a trailing slash; `None` or empty for none.
    pub prefix: Option<String>,
    /// Start of the period, epoch ms (written at second precision).
    pub start_time: i64,
    /// End of the period, epoch ms (written at second precision; also the key's timestamp).
    pub end_time: i64,
    /// The log files delivered in the period, in the order to list them.
    pub log_files: Vec<LogFileEntry>,
    /// The trail's previous digest in this region, or `None` for the first of a chain.
    pub previous: Option<PreviousDigest>,
}

/// One delivered log file as a digest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFileEntry {
    /// The bucket holding the log file.
    pub bucket: String,
    /// The log file's key.
    pub key: String,
    /// Lowercase hex SHA-256 of the uncompressed log file.
    pub sha256: String,
    /// Time of the file's oldest event, epoch ms.
    pub oldest_event_time: i64,
    /// Time of the file's newest event, epoch ms.
    pub newest_event_time: i64,
}

/// The digest a new digest chains to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousDigest {
    /// The previous digest's bucket.
    pub bucket: String,
    /// The previous digest's key.
    pub key: String,
    /// Lowercase hex SHA-256 of the previous digest's uncompressed JSON.
    pub sha256: String,
    /// The previous digest's hex signature.
    pub signature: String,
}

/// A built and signed digest, ready to be written with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDigest {
    /// The object key to write it to.
    pub key: String,
    /// The uncompressed JSON document (what the hash and the signature cover).
    pub json: Vec<u8>,
    /// The object body: gzip of `json`.
    pub gzip: Vec<u8>,
    /// Lowercase hex SHA-256 of `json`; the next digest's `previousDigestHashValue`.
    pub sha256: String,
    /// Lowercase hex signature; the next digest's `previousDigestSignature`.
    pub signature: String,
    /// Object user metadata: `signature` and `signature-algorithm`.
    pub metadata: BTreeMap<String, String>,
}

impl SignedDigest {
    /// What the next digest of the chain needs to know about this one.
    pub fn as_previous(&self, bucket: &str) -> PreviousDigest {
        PreviousDigest { bucket: bucket.to_owned(), key: self.key.clone(), sha256: self.sha256.clone(), signature: self.signature.clone() }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the time format inside digests and in the CLI's output.
pub fn format_time(ms: i64) -> String {
    datetime(ms).format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).expect("UTC times format")
}

/// `YYYYMMDDTHHMMSSZ`, the time format of digest keys.
pub fn format_key_time(ms: i64) -> String {
    datetime(ms).format(format_description!("[year][month][day]T[hour][minute][second]Z")).expect("UTC times format")
}

/// Parses a digest time (`YYYY-MM-DDTHH:MM:SSZ`, or any RFC 3339 time) to epoch ms.
pub fn parse_time(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Parses a digest key's `YYYYMMDDTHHMMSSZ` timestamp to epoch ms.
pub fn parse_key_time(text: &str) -> Option<i64> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(text, format).ok()?.assume_utc();
    Some(t.unix_timestamp() * 1000)
}

fn datetime(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).expect("epoch ms within time's range")
}

/// `PREFIX/` for a non-empty prefix, else nothing.
fn prefix_path(prefix: Option<&str>) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}/"),
        _ => String::new(),
    }
}

/// The key of a digest ending at `end_time` (epoch ms):
/// `[PREFIX/]AWSLogs/ACCT/CloudTrail-Digest/REGION/YYYY/MM/DD/ACCT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHMMSSZ.json.gz`.
pub fn digest_key(prefix: Option<&str>, account_id: &str, region: &str, trail_name: &str, home_region: &str, end_time: i64) -> String {
    let day = datetime(end_time).format(format_description!("[year]/[month]/[day]")).expect("UTC dates format");
    format!(
        "{}AWSLogs/{account_id}/CloudTrail-Digest/{region}/{day}/{account_id}_CloudTrail-Digest_{region}_{trail_name}_{home_region}_{}.json.gz",
        prefix_path(prefix),
        format_key_time(end_time)
    )
}

/// The key of a log file delivered at `delivered` (epoch ms):
/// `[PREFIX/]AWSLogs/ACCT/CloudTrail/REGION/YYYY/MM/DD/ACCT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`.
pub fn log_file_key(prefix: Option<&str>, account_id: &str, region: &str, delivered: i64, unique: &str) -> String {
    let t = datetime(delivered);
    let day = t.format(format_description!("[year]/[month]/[day]")).expect("UTC dates format");
    let stamp = t.format(format_description!("[year][month][day]T[hour][minute]Z")).expect("UTC times format");
    format!(
        "{}AWSLogs/{account_id}/CloudTrail/{region}/{day}/{account_id}_CloudTrail_{region}_{stamp}_{unique}.json.gz",
        prefix_path(prefix)
    )
}

/// The folder of a trail's log files of one day: `[PREFIX/]AWSLogs/ACCT/CloudTrail/REGION/YYYY/MM/DD/`.
pub fn log_day_prefix(prefix: Option<&str>, account_id: &str, region: &str, day: i64) -> String {
    let day = datetime(day).format(format_description!("[year]/[month]/[day]")).expect("UTC dates format");
    format!("{}AWSLogs/{account_id}/CloudTrail/{region}/{day}/", prefix_path(prefix))
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Gzip of some bytes, as log and digest files are stored.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4 + 64), flate2::Compression::default());
    enc.write_all(bytes).expect("writing to memory cannot fail");
    enc.finish().expect("writing to memory cannot fail")
}

/// The uncompressed bytes of a gzip file (every member of it).
pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// The string a digest's signature covers.
pub fn string_to_sign(digest_end_time: &str, bucket: &str, key: &str, sha256_hex: &str, previous_signature: Option<&str>) -> String {
    format!("{digest_end_time}\n{bucket}/{key}\n{sha256_hex}\n{}", previous_signature.unwrap_or("null"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DigestJson<'a> {
    aws_account_id: &'a str,
    digest_start_time: String,
    digest_end_time: String,
    digest_s3_bucket: &'a str,
    digest_s3_object: &'a str,
    digest_public_key_fingerprint: &'a str,
    digest_signature_algorithm: &'a str,
    newest_event_time: Option<String>,
    oldest_event_time: Option<String>,
    previous_digest_s3_bucket: Option<&'a str>,
    previous_digest_s3_object: Option<&'a str>,
    previous_digest_hash_value: Option<&'a str>,
    previous_digest_hash_algorithm: Option<&'a str>,
    previous_digest_signature: Option<&'a str>,
    log_files: Vec<LogFileJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogFileJson<'a> {
    s3_bucket: &'a str,
    s3_object: &'a str,
    hash_value: &'a str,
    hash_algorithm: &'a str,
    newest_event_time: String,
    oldest_event_time: String,
}

/// Builds, hashes and signs the digest of a period.
pub fn build(input: &DigestInput, key: &SigningKey) -> SignedDigest {
    let object_key =
        digest_key(input.prefix.as_deref(), &input.account_id, &input.region, &input.trail_name, &input.home_region, input.end_time);
    let end_time = format_time(input.end_time);
    let previous = input.previous.as_ref();
    let doc = DigestJson {
        aws_account_id: &input.account_id,
        digest_start_time: format_time(input.start_time),
        digest_end_time: end_time.clone(),
        digest_s3_bucket: &input.bucket,
        digest_s3_object: &object_key,
        digest_public_key_fingerprint: key.fingerprint(),
        digest_signature_algorithm: SIGNATURE_ALGORITHM,
        newest_event_time: input.log_files.iter().map(|f| f.newest_event_time).max().map(format_time),
        oldest_event_time: input.log_files.iter().map(|f| f.oldest_event_time).min().map(format_time),
        previous_digest_s3_bucket: previous.map(|p| p.bucket.as_str()),
        previous_digest_s3_object: previous.map(|p| p.key.as_str()),
        previous_digest_hash_value: previous.map(|p| p.sha256.as_str()),
        previous_digest_hash_algorithm: previous.map(|_| HASH_ALGORITHM),
        previous_digest_signature: previous.map(|p| p.signature.as_str()),
        log_files: input
            .log_files
            .iter()
            .map(|f| LogFileJson {
                s3_bucket: &f.bucket,
                s3_object: &f.key,
                hash_value: &f.sha256,
                hash_algorithm: HASH_ALGORITHM,
                newest_event_time: format_time(f.newest_event_time),
                oldest_event_time: format_time(f.oldest_event_time),
            })
            .collect(),
    };
    let json = serde_json::to_vec(&doc).expect("digests serialize");
    let sha256 = sha256_hex(&json);
    let to_sign = string_to_sign(&end_time, &input.bucket, &object_key, &sha256, previous.map(|p| p.signature.as_str()));
    let signature = hex::encode(key.sign(to_sign.as_bytes()));
    let metadata = BTreeMap::from([
        (META_SIGNATURE.to_owned(), signature.clone()),
        (META_SIGNATURE_ALGORITHM.to_owned(), SIGNATURE_ALGORITHM.to_owned()),
    ]);
    SignedDigest { key: object_key, gzip: gzip(&json), json, sha256, signature, metadata }
}

/// A digest as read back: the fields validation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// `digestStartTime` as written.
    pub start_time: String,
    /// `digestEndTime` as written (it is part of the signed string).
    pub end_time: String,
    /// `digestS3Bucket`: where the digest says it lives.
    pub bucket: String,
    /// `digestS3Object`: where the digest says it lives.
    pub key: String,
    /// `digestPublicKeyFingerprint`.
    pub fingerprint: String,
    /// `previousDigestS3Bucket`, or `None` at the start of a chain.
    pub previous_bucket: Option<String>,
    /// `previousDigestS3Object`, or `None` at the start of a chain.
    pub previous_key: Option<String>,
    /// `previousDigestHashValue`, or `None` at the start of a chain.
    pub previous_sha256: Option<String>,
    /// `previousDigestSignature`, or `None` at the start of a chain.
    pub previous_signature: Option<String>,
    /// `logFiles`.
    pub log_files: Vec<ListedLogFile>,
}

/// A log file as a digest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedLogFile {
    /// `s3Bucket`.
    pub bucket: String,
    /// `s3Object`.
    pub key: String,
    /// `hashValue`: hex SHA-256 of the uncompressed file.
    pub sha256: String,
}

/// Why a digest file could not be read as a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError;

impl Digest {
    /// Reads an uncompressed digest; fails when it is not JSON or a field that
    /// validation needs (those aws CLI requires, and each log file's location and hash)
    /// is missing or of the wrong type.
    pub fn parse(json: &[u8]) -> Result<Digest, FormatError> {
        let doc: Value = serde_json::from_slice(json).map_err(|_| FormatError)?;
        let doc = doc.as_object().ok_or(FormatError)?;
        let required = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_owned).ok_or(FormatError);
        let optional = |name: &str| match doc.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FormatError),
        };
        if !doc.contains_key("previousDigestSignature") {
            return Err(FormatError);
        }
        let log_files = match doc.get("logFiles") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(files)) => files
                .iter()
                .map(|f| {
                    let field = |name: &str| f.get(name).and_then(Value::as_str).map(str::to_owned).ok_or(FormatError);
                    Ok(ListedLogFile { bucket: field("s3Bucket")?, key: field("s3Object")?, sha256: field("hashValue")? })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(FormatError),
        };
        Ok(Digest {
            start_time: required("digestStartTime")?,
            end_time: required("digestEndTime")?,
            bucket: required("digestS3Bucket")?,
            key: required("digestS3Object")?,
            fingerprint: required("digestPublicKeyFingerprint")?,
            previous_bucket: optional("previousDigestS3Bucket")?,
            previous_key: optional("previousDigestS3Object")?,
            previous_sha256: optional("previousDigestHashValue")?,
            previous_signature: optional("previousDigestSignature")?,
            log_files,
        })
    }
}

/// Checks a digest's signature: `json` is the uncompressed digest `digest` was parsed
/// from, `signature_hex` its `signature` metadata, `public_der` the DER PKCS#1 key of
/// its fingerprint.
pub fn verify(digest: &Digest, json: &[u8], signature_hex: &str, public_der: &[u8]) -> Result<(), VerifyError> {
    let signature = hex::decode(signature_hex.trim()).map_err(|_| VerifyError::BadSignature)?;
    let to_sign = string_to_sign(&digest.end_time, &digest.bucket, &digest.key, &sha256_hex(json), digest.previous_signature.as_deref());
    keys::verify(public_der, to_sign.as_bytes(), &signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::test_key;

    const HOUR: i64 = 3_600_000;
    // 2026-11-21T10:00:00Z
    const T0: i64 = 1_795_255_200_000;

    fn input(previous: Option<PreviousDigest>, files: Vec<LogFileEntry>) -> DigestInput {
        DigestInput {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            trail_name: "audit".into(),
            home_region: "us-east-1".into(),
            bucket: "trail-bucket".into(),
            prefix: Some("org".into()),
            start_time: T0,
            end_time: T0 + HOUR + 31_000,
            log_files: files,
            previous,
        }
    }

    #[test]
    fn times_and_keys() {
        assert_eq!(format_time(T0), "2026-11-21T10:00:00Z");
        assert_eq!(format_time(T0 + 999), "2026-11-21T10:00:00Z", "second precision, truncated");
        assert_eq!(format_key_time(T0 + 61_000), "20261121T100101Z");
        assert_eq!(parse_time("2026-11-21T10:00:00Z"), Some(T0));
        assert_eq!(parse_key_time("20261121T100101Z"), Some(T0 + 61_000));
        assert_eq!(parse_key_time("20261121T1001Z"), None);
        assert_eq!(
            digest_key(Some("org"), "123456789012", "eu-west-1", "audit", "us-east-1", T0 + 61_000),
            "org/AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/11/21/123456789012_CloudTrail-Digest_eu-west-1_audit_us-east-1_20261121T100101Z.json.gz"
        );
        assert_eq!(
            digest_key(None, "123456789012", "us-east-1", "audit", "us-east-1", T0),
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/21/123456789012_CloudTrail-Digest_us-east-1_audit_us-east-1_20261121T100000Z.json.gz"
        );
        assert_eq!(digest_key(Some(""), "1", "r", "t", "h", T0), digest_key(None, "1", "r", "t", "h", T0));
        assert_eq!(
            log_file_key(None, "123456789012", "us-east-1", T0 + 5 * 60_000 + 59_999, "9nYN7gp2eWAJHIfT"),
            "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/123456789012_CloudTrail_us-east-1_20261121T1005Z_9nYN7gp2eWAJHIfT.json.gz"
        );
        assert_eq!(log_day_prefix(Some("p"), "1", "r", T0 + 13 * HOUR), "p/AWSLogs/1/CloudTrail/r/2026/11/21/");
        assert_eq!(log_day_prefix(Some("p"), "1", "r", T0 + 14 * HOUR), "p/AWSLogs/1/CloudTrail/r/2026/11/22/");
    }

    #[test]
    fn first_digest_of_a_chain_with_no_files() {
        let key = test_key(0, 0);
        let d = build(&input(None, vec![]), &key);
        let expected = format!(
            concat!(
                r#"{{"awsAccountId":"123456789012","digestStartTime":"2026-11-21T10:00:00Z","digestEndTime":"2026-11-21T11:00:31Z","#,
                r#""digestS3Bucket":"trail-bucket","digestS3Object":"{key}","digestPublicKeyFingerprint":"{fp}","#,
                r#""digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"#,
                r#""previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"#,
                r#""previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}}"#
            ),
            key = d.key,
            fp = key.fingerprint()
        );
        assert_eq!(String::from_utf8(d.json.clone()).unwrap(), expected);
        assert_eq!(
            d.key,
            "org/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/21/123456789012_CloudTrail-Digest_us-east-1_audit_us-east-1_20261121T110031Z.json.gz"
        );
        assert_eq!(gunzip(&d.gzip).unwrap(), d.json);
        assert_eq!(d.sha256, sha256_hex(&d.json));
        assert_eq!(d.metadata.get("signature"), Some(&d.signature));
        assert_eq!(d.metadata.get("signature-algorithm").map(String::as_str), Some("SHA256withRSA"));
        assert_eq!(d.metadata.len(), 2);
        assert_eq!(d.signature.len(), 512);

        // The signature covers exactly the documented string, "null" for no previous signature.
        let signed = format!("2026-11-21T11:00:31Z\ntrail-bucket/{}\n{}\nnull", d.key, d.sha256);
        assert_eq!(keys::verify(key.public_der(), signed.as_bytes(), &hex::decode(&d.signature).unwrap()), Ok(()));

        let parsed = Digest::parse(&d.json).unwrap();
        assert_eq!(parsed.previous_signature, None);
        assert!(parsed.log_files.is_empty());
        assert_eq!(verify(&parsed, &d.json, &d.signature, key.public_der()), Ok(()));
    }

    #[test]
    fn chained_digest_with_files() {
        let key = test_key(0, 0);
        let first = build(&input(None, vec![]), &key);
        let files = vec![
            LogFileEntry {
                bucket: "trail-bucket".into(),
                key: "org/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/a.json.gz".into(),
                sha256: "ab".repeat(32),
                oldest_event_time: T0 + 10_000,
                newest_event_time: T0 + 20_000,
            },
            LogFileEntry {
                bucket: "trail-bucket".into(),
                key: "org/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/b.json.gz".into(),
                sha256: "cd".repeat(32),
                oldest_event_time: T0 + 5_000,
                newest_event_time: T0 + 15_500,
            },
        ];
        let mut next = input(Some(first.as_previous("trail-bucket")), files);
        next.start_time = T0 + HOUR + 31_000;
        next.end_time = T0 + 2 * HOUR + 31_000;
        let d = build(&next, &key);
        let doc: Value = serde_json::from_slice(&d.json).unwrap();
        assert_eq!(doc["digestStartTime"], "2026-11-21T11:00:31Z");
        assert_eq!(doc["oldestEventTime"], "2026-11-21T10:00:05Z");
        assert_eq!(doc["newestEventTime"], "2026-11-21T10:00:20Z");
        assert_eq!(doc["previousDigestS3Bucket"], "trail-bucket");
        assert_eq!(doc["previousDigestS3Object"], first.key.as_str());
        assert_eq!(doc["previousDigestHashValue"], first.sha256.as_str());
        assert_eq!(doc["previousDigestHashAlgorithm"], "SHA-256");
        assert_eq!(doc["previousDigestSignature"], first.signature.as_str());
        assert_eq!(
            doc["logFiles"][1],
            serde_json::json!({
                "s3Bucket": "trail-bucket",
                "s3Object": "org/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/b.json.gz",
                "hashValue": "cd".repeat(32),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": "2026-11-21T10:00:15Z",
                "oldestEventTime": "2026-11-21T10:00:05Z",
            })
        );
        let signed = format!("2026-11-21T12:00:31Z\ntrail-bucket/{}\n{}\n{}", d.key, d.sha256, first.signature);
        assert_eq!(keys::verify(key.public_der(), signed.as_bytes(), &hex::decode(&d.signature).unwrap()), Ok(()));
        let parsed = Digest::parse(&d.json).unwrap();
        assert_eq!(parsed.log_files.len(), 2);
        assert_eq!(parsed.previous_sha256.as_deref(), Some(first.sha256.as_str()));
        assert_eq!(verify(&parsed, &d.json, &d.signature, key.public_der()), Ok(()));
    }

    #[test]
    fn verify_detects_any_change() {
        let key = test_key(0, 0);
        let d = build(&input(None, vec![]), &key);
        let parsed = Digest::parse(&d.json).unwrap();
        let mut altered = d.json.clone();
        let at = altered.len() - 3;
        altered.insert(at, b' ');
        assert_eq!(verify(&Digest::parse(&altered).unwrap(), &altered, &d.signature, key.public_der()), Err(VerifyError::BadSignature));
        assert_eq!(verify(&parsed, &d.json, &d.signature, test_key(1, 0).public_der()), Err(VerifyError::BadSignature));
        assert_eq!(verify(&parsed, &d.json, "zz", key.public_der()), Err(VerifyError::BadSignature));
        assert_eq!(verify(&parsed, &d.json, &d.signature, b"junk"), Err(VerifyError::BadKey));
        let mut moved = parsed.clone();
        moved.key.push('x');
        assert_eq!(verify(&moved, &d.json, &d.signature, key.public_der()), Err(VerifyError::BadSignature));
    }

    #[test]
    fn parse_requires_the_fields_validation_reads() {
        assert_eq!(Digest::parse(b"not json"), Err(FormatError));
        assert_eq!(Digest::parse(b"[]"), Err(FormatError));
        let key = test_key(0, 0);
        let d = build(&input(None, vec![]), &key);
        for field in [
            "digestStartTime",
            "digestEndTime",
            "digestS3Bucket",
            "digestS3Object",
            "digestPublicKeyFingerprint",
            "previousDigestSignature",
        ] {
            let mut doc: serde_json::Map<String, Value> = serde_json::from_slice(&d.json).unwrap();
            doc.remove(field);
            assert_eq!(Digest::parse(&serde_json::to_vec(&doc).unwrap()), Err(FormatError), "{field}");
        }
        let mut doc: serde_json::Map<String, Value> = serde_json::from_slice(&d.json).unwrap();
        doc.insert("logFiles".into(), serde_json::json!([{"s3Bucket": "b"}]));
        assert_eq!(Digest::parse(&serde_json::to_vec(&doc).unwrap()), Err(FormatError));
    }

    #[test]
    fn gunzip_reads_every_member_and_rejects_garbage() {
        let mut two = gzip(b"hello ");
        two.extend(gzip(b"world"));
        assert_eq!(gunzip(&two).unwrap(), b"hello world");
        assert!(gunzip(b"plain text").is_err());
    }
}
