//! The aws CLI's own validation logic (`awscli/customizations/cloudtrail/validation.py`)
//! accepts the digests this crate writes, and prints exactly what `validate` and
//! `TextOutput` print, for an untouched chain and for tampered ones.
//!
//! Needs `python3` with the `awscli` package; without it the test says so and passes.

mod fixture;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use fixture::{BUCKET, Fixture, HOUR, MINUTE, T0, TRAIL};
use trail::digest;
use trail::keys::SigningKey;
use trail::validate::{self, Entry, LogStatus, TextOutput};

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(T0))
}

fn awscli_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import awscli.customizations.cloudtrail.validation"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: python3 with the awscli package is not available, so the aws CLI cross-check did not run");
    }
    ok
}

/// What a validation printed: stdout, stderr, exit status.
#[derive(Debug, PartialEq, Eq)]
struct Printed {
    stdout: String,
    stderr: String,
    status: i32,
}

async fn ours(f: &Fixture, start: i64, end: i64, verbose: bool) -> Printed {
    let keys = fixture::public_keys(&[key()]);
    let report = validate::validate(&f.buckets, &keys, &f.request(start, end), &mut |_| {}).await.unwrap();
    assert!(!report.entries.iter().any(|e| matches!(e, Entry::LogFile { status: LogStatus::NotInDigest, .. })));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut text = TextOutput::new(verbose);
    text.startup(&fixture::trail_arn(), start, end, &mut out).unwrap();
    for e in &report.entries {
        text.entry(e, &mut out, &mut err).unwrap();
    }
    text.summary(&report, &mut out).unwrap();
    Printed { stdout: String::from_utf8(out).unwrap(), stderr: String::from_utf8(err).unwrap(), status: i32::from(!report.is_valid()) }
}

fn awscli(f: &Fixture, start: i64, end: i64, verbose: bool) -> Printed {
    let b64 = base64::engine::general_purpose::STANDARD;
    let objects: Vec<serde_json::Value> = f
        .buckets
        .objects()
        .into_iter()
        .map(|(bucket, key, o)| serde_json::json!({"bucket": bucket, "key": key, "body": b64.encode(&o.body), "metadata": o.metadata}))
        .collect();
    let manifest = serde_json::json!({
        "objects": objects,
        "public_keys": [{"fingerprint": key().fingerprint(), "value": b64.encode(key().public_der())}],
        "trail_arn": fixture::trail_arn(),
        "start_time": digest::format_time(start),
        "end_time": digest::format_time(end),
        "bucket": BUCKET,
        "prefix": f.prefix,
        "region": fixture::REGION,
        "verbose": verbose,
    });
    let mut name = [0u8; 6];
    getrandom::fill(&mut name).unwrap();
    let path = std::env::temp_dir().join(format!("trail-awscli-{}-{}.json", std::process::id(), hex::encode(name)));
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/awscli_validate.py"))
        .arg(&path)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&path);
    let printed = Printed {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        status: out.status.code().unwrap_or(-1),
    };
    assert!(printed.status == 0 || printed.status == 1, "the aws CLI logic failed: {printed:#?}");
    printed
}

async fn same_as_awscli(name: &str, f: &Fixture, start: i64, end: i64, expect_status: i32) {
    for verbose in [false, true] {
        let theirs = awscli(f, start, end, verbose);
        let mine = ours(f, start, end, verbose).await;
        assert_eq!(mine, theirs, "{name} (verbose: {verbose})");
        assert_eq!(theirs.status, expect_status, "{name}: {theirs:#?}");
    }
}

#[tokio::test]
async fn the_aws_cli_accepts_our_digests_and_agrees_on_tampering() {
    if !awscli_available() {
        return;
    }
    let chain = |prefix: Option<&str>, stopped: &[usize]| {
        let mut f = Fixture::new(prefix);
        f.chain(key(), TRAIL, 5, stopped);
        f
    };

    let f = chain(Some("org/team"), &[]);
    same_as_awscli("untouched chain", &f, T0, T0 + 5 * HOUR, 0).await;
    same_as_awscli("part of a chain", &f, T0 + 90 * MINUTE, T0 + 150 * MINUTE, 0).await;
    same_as_awscli("nothing in range", &f, T0 + 20 * HOUR, T0 + 21 * HOUR, 0).await;

    let f = chain(None, &[]);
    f.buckets.put(BUCKET, &f.logs[3], digest::gzip(br#"{"Records":[]}"#), BTreeMap::new());
    f.buckets.remove(BUCKET, &f.logs[0]);
    f.buckets.put(BUCKET, &f.logs[8], b"not gzip".to_vec(), BTreeMap::new());
    same_as_awscli("altered, deleted and garbled log files", &f, T0, T0 + 5 * HOUR, 1).await;

    let f = chain(None, &[]);
    let mut doc: serde_json::Value = serde_json::from_slice(&f.digests[2].json).unwrap();
    doc["logFiles"].as_array_mut().unwrap().remove(0);
    f.buckets.put(BUCKET, &f.digests[2].key, digest::gzip(&serde_json::to_vec(&doc).unwrap()), f.digests[2].metadata.clone());
    f.buckets.remove(BUCKET, &f.digests[4].key);
    f.buckets.remove(BUCKET, &f.digests[1].key);
    same_as_awscli("altered and deleted digests", &f, T0, T0 + 5 * HOUR, 1).await;

    let f = chain(None, &[]);
    let older = f.buckets.object(BUCKET, &f.digests[1].key).unwrap();
    f.buckets.put(BUCKET, &f.digests[3].key, older.body, older.metadata);
    f.buckets.put(BUCKET, &f.digests[0].key, f.digests[0].gzip.clone(), BTreeMap::new());
    same_as_awscli("moved digest and missing signature", &f, T0, T0 + 5 * HOUR, 1).await;

    let f = chain(None, &[2]);
    same_as_awscli("logging stopped for an hour", &f, T0, T0 + 5 * HOUR, 0).await;
}
