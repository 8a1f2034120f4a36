use super::*;
use crate::digest::{DigestInput, LogFileEntry, SignedDigest};
use crate::fixture::{self, BUCKET, Fixture, HOUR, MINUTE, T0, TRAIL};
use crate::keys::tests::test_key;

async fn run(f: &Fixture, keys: &PublicKeys, start: i64, end: i64) -> Report {
    run_request(f, keys, &f.request(start, end)).await
}

async fn run_request(f: &Fixture, keys: &PublicKeys, request: &Request) -> Report {
    let mut streamed = Vec::new();
    let mut listed = None;
    let report = validate(&f.buckets, keys, request, &mut |p| match p {
        Progress::DigestsListed(n) => listed = Some(n),
        Progress::Entry(e) => streamed.push(e.clone()),
    })
    .await
    .unwrap();
    assert_eq!(streamed, report.entries, "every entry is reported as it is found");
    assert!(listed.is_some());
    report
}

/// The findings that are not "valid", as the CLI prints them.
fn notices(report: &Report) -> Vec<String> {
    report.entries.iter().filter(|e| e.is_notice()).map(Entry::line).collect()
}

fn digest_line(d: &SignedDigest, status: &str) -> String {
    format!("Digest file\ts3://{BUCKET}/{}\t{status}", d.key)
}

fn log_line(key: &str, status: &str) -> String {
    format!("Log file\ts3://{BUCKET}/{key}\t{status}")
}

fn text(report: &Report, verbose: bool) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut text = TextOutput::new(verbose);
    text.startup(&fixture::trail_arn(), report.start, report.end, &mut out).unwrap();
    for e in &report.entries {
        text.entry(e, &mut out, &mut err).unwrap();
    }
    text.summary(report, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

fn standard(prefix: Option<&str>) -> (Fixture, PublicKeys) {
    let key = test_key(0, T0);
    let mut f = Fixture::new(prefix);
    f.chain(&key, TRAIL, 4, &[]);
    (f, fixture::public_keys(&[&key]))
}

#[tokio::test]
async fn untouched_chain_is_valid() {
    let (f, keys) = standard(Some("org/team"));
    let report = run(&f, &keys, T0, T0 + 4 * HOUR).await;
    assert!(report.is_valid(), "{:#?}", report.entries);
    assert_eq!(report.digest_counts(), (4, 0));
    assert_eq!(report.log_counts(), (8, 0));
    assert_eq!(report.found, Some((T0, T0 + 4 * HOUR)));
    // Newest digest first, each followed by its log files.
    let order: Vec<String> = report.entries.iter().map(Entry::line).collect();
    let mut expected = Vec::new();
    for hour in (0..4).rev() {
        expected.push(digest_line(&f.digests[hour], "valid"));
        expected.push(log_line(&f.logs[2 * hour], "valid"));
        expected.push(log_line(&f.logs[2 * hour + 1], "valid"));
    }
    assert_eq!(order, expected);

    let (out, err) = text(&report, false);
    assert_eq!(
        out,
        format!(
            "Validating log files for trail {} between 2026-11-21T10:00:00Z and 2026-11-21T14:00:00Z\n\n\
             Results requested for 2026-11-21T10:00:00Z to 2026-11-21T14:00:00Z\n\
             Results found for 2026-11-21T10:00:00Z to 2026-11-21T14:00:00Z:\n\n\
             4/4 digest files valid\n\
             8/8 log files valid\n",
            fixture::trail_arn()
        )
    );
    assert_eq!(err, "");
}

#[tokio::test]
async fn altered_deleted_and_garbled_log_files() {
    let (f, keys) = standard(None);
    f.buckets.put(BUCKET, &f.logs[3], digest::gzip(br#"{"Records":[]}"#), BTreeMap::new());
    f.buckets.remove(BUCKET, &f.logs[0]);
    f.buckets.put(BUCKET, &f.logs[6], b"not gzip at all".to_vec(), BTreeMap::new());
    let report = run(&f, &keys, T0, T0 + 4 * HOUR).await;
    assert!(!report.is_valid());
    assert_eq!(report.digest_counts(), (4, 0));
    assert_eq!(report.log_counts(), (5, 3));
    assert_eq!(
        notices(&report),
        vec![
            log_line(&f.logs[6], "INVALID: invalid format"),
            log_line(&f.logs[3], "INVALID: hash value doesn't match"),
            log_line(&f.logs[0], "INVALID: not found"),
        ]
    );

    let (out, err) = text(&report, false);
    assert!(out.ends_with("4/4 digest files valid\n5/8 log files valid, 3/8 log files INVALID\n"), "{out}");
    assert_eq!(
        err,
        format!(
            "{}\n\n{}\n\n{}\n\n",
            log_line(&f.logs[6], "INVALID: invalid format"),
            log_line(&f.logs[3], "INVALID: hash value doesn't match"),
            log_line(&f.logs[0], "INVALID: not found")
        )
    );

    // Verbose: valid files on stdout, a notice after a valid line starts with a blank line.
    let (out, err) = text(&report, true);
    assert!(out.contains(&format!("{}\n{}\n", digest_line(&f.digests[3], "valid"), log_line(&f.logs[7], "valid"))));
    assert!(out.contains(&format!("{}\n\nResults requested", log_line(&f.logs[1], "valid"))), "{out}");
    assert!(err.starts_with(&format!("\n{}\n\n", log_line(&f.logs[6], "INVALID: invalid format"))), "{err}");
}

#[tokio::test]
async fn added_log_files_are_reported() {
    let (mut f, keys) = standard(Some("p"));
    let (added, _) = f.log_file(T0 + 2 * HOUR + 20 * MINUTE);
    // Named within the slack before the newest digest's end: may belong to the next digest.
    let (_late, _) = f.log_file(T0 + 3 * HOUR + 50 * MINUTE);
    // After the covered period and outside the range.
    let (_after, _) = f.log_file(T0 + 5 * HOUR);
    let odd = "p/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/notes.json.gz";
    f.buckets.put(BUCKET, odd, digest::gzip(b"{}"), BTreeMap::new());
    let report = run(&f, &keys, T0, T0 + 6 * HOUR).await;
    assert_eq!(
        notices(&report),
        vec![log_line(&added, "INVALID: not listed in any digest"), log_line(odd, "INVALID: not listed in any digest")]
    );
    assert_eq!(report.log_counts(), (8, 2));
    assert!(!report.is_valid());

    // Outside the requested range, a log file is not looked for; an object that cannot be
    // a log file is reported for every day folder the validation looks at.
    let report = run(&f, &keys, T0 + 3 * HOUR, T0 + 4 * HOUR).await;
    assert_eq!(notices(&report), vec![log_line(odd, "INVALID: not listed in any digest")]);
    f.buckets.remove(BUCKET, odd);
    let report = run(&f, &keys, T0 + 3 * HOUR, T0 + 4 * HOUR).await;
    assert!(report.is_valid(), "{:#?}", notices(&report));
}

#[tokio::test]
async fn altered_digest_is_invalid_and_the_walk_goes_on() {
    let (f, keys) = standard(None);
    // Hide a log file from the digest of the third hour.
    let mut doc: serde_json::Value = serde_json::from_slice(&f.digests[2].json).unwrap();
    doc["logFiles"].as_array_mut().unwrap().remove(0);
    let altered = serde_json::to_vec(&doc).unwrap();
    f.buckets.put(BUCKET, &f.digests[2].key, digest::gzip(&altered), f.digests[2].metadata.clone());
    let report = run(&f, &keys, T0, T0 + 4 * HOUR).await;
    assert_eq!(notices(&report), vec![digest_line(&f.digests[2], "INVALID: signature verification failed")]);
    assert_eq!(report.digest_counts(), (3, 1));
    assert_eq!(report.log_counts(), (6, 0), "the log files of an invalid digest are not checked, as the CLI");
    assert_eq!(report.found, Some((T0, T0 + 4 * HOUR)));
    let (out, _) = text(&report, false);
    assert!(out.ends_with("3/4 digest files valid, 1/4 digest files INVALID\n6/6 log files valid\n"), "{out}");
}

#[tokio::test]
async fn digest_without_signature_metadata_or_not_gzip() {
    let (f, keys) = standard(None);
    f.buckets.put(BUCKET, &f.digests[1].key, f.digests[1].gzip.clone(), BTreeMap::new());
    f.buckets.put(BUCKET, &f.digests[3].key, b"{}".to_vec(), f.digests[3].metadata.clone());
    let report = run(&f, &keys, T0, T0 + 4 * HOUR).await;
    assert_eq!(
        notices(&report),
        vec![digest_line(&f.digests[3], "INVALID: invalid format"), digest_line(&f.digests[1], "INVALID: signature verification failed"),]
    );
    assert_eq!(report.digest_counts(), (2, 2));
}

#[tokio::test]
async fn deleted_digest_is_not_found() {
    let (f, keys) = standard(None);
    f.buckets.remove(BUCKET, &f.digests[1].key);
    let report = run(&f, &keys, T0, T0 + 4 * HOUR).await;
    assert_eq!(notices(&report), vec![digest_line(&f.digests[1], "INVALID: not found")]);
    assert_eq!(report.digest_counts(), (3, 1));
    assert_eq!(report.log_counts(), (6, 0));
    assert!(!report.is_valid());
}

#[tokio::test]
async fn deleting_the_newest_digest_only_shortens_the_found_range() {
    // As with the aws CLI: nothing links to the newest digest.
    let (f, keys) = standard(None);
    f.buckets.remove(BUCKET, &f.digests[3].key);
    let report = run(&f, &keys, T0, T0 + 4 * HOUR).await;
    assert!(report.is_valid());
    assert_eq!(report.found, Some((T0, T0 + 3 * HOUR)));
}

#[tokio::test]
async fn moved_digest() {
    let (f, keys) = standard(None);
    let older = f.buckets.object(BUCKET, &f.digests[1].key).unwrap();
    f.buckets.put(BUCKET, &f.digests[2].key, older.body, older.metadata);
    let report = run(&f, &keys, T0, T0 + 4 * HOUR).await;
    assert_eq!(notices(&report), vec![digest_line(&f.digests[2], "INVALID: has been moved from its original location")]);
}

#[tokio::test]
async fn replaced_digest_breaks_the_chain() {
    let key = test_key(0, T0);
    let (f, keys) = standard(None);
    // A validly signed digest for the second hour that omits a file: only the chain shows it.
    let kept = &f.logs[3];
    let kept_json = digest::gunzip(&f.buckets.object(BUCKET, kept).unwrap().body).unwrap();
    let forged = digest::build(
        &DigestInput {
            account_id: fixture::ACCOUNT.into(),
            region: fixture::REGION.into(),
            trail_name: TRAIL.into(),
            home_region: fixture::REGION.into(),
            bucket: BUCKET.into(),
            prefix: None,
            start_time: T0 + HOUR,
            end_time: T0 + 2 * HOUR,
            log_files: vec![LogFileEntry {
                bucket: BUCKET.into(),
                key: kept.clone(),
                sha256: digest::sha256_hex(&kept_json),
                oldest_event_time: T0 + HOUR,
                newest_event_time: T0 + HOUR,
            }],
            previous: Some(f.digests[0].as_previous(BUCKET)),
        },
        &key,
    );
    assert_eq!(forged.key, f.digests[1].key);
    f.buckets.put(BUCKET, &forged.key, forged.gzip.clone(), forged.metadata.clone());
    f.buckets.remove(BUCKET, &f.logs[2]);
    let report = run(&f, &keys, T0, T0 + 4 * HOUR).await;
    assert_eq!(
        notices(&report),
        vec![digest_line(&f.digests[1], "INVALID: hash or signature differs from the one recorded by the next digest")]
    );
    assert_eq!(report.digest_counts(), (3, 1));
    assert!(!report.is_valid());
}

#[tokio::test]
async fn unknown_or_unusable_public_key() {
    let (f, _) = standard(None);
    let report = run(&f, &fixture::public_keys(&[&test_key(1, T0)]), T0, T0 + 4 * HOUR).await;
    let fp = test_key(0, T0).fingerprint().to_owned();
    assert_eq!(report.digest_counts(), (0, 4));
    assert_eq!(
        notices(&report)[0],
        digest_line(&f.digests[3], &format!("INVALID: public key not found in region us-east-1 for fingerprint {fp}"))
    );
    assert_eq!(report.found, None);
    let (out, _) = text(&report, false);
    assert!(out.ends_with("Results requested for 2026-11-21T10:00:00Z to 2026-11-21T14:00:00Z\nNo valid digests found in range\n\n0/4 digest files valid, 4/4 digest files INVALID\n"), "{out}");

    let junk = PublicKeys::from([(fp.clone(), b"junk".to_vec())]);
    let report = run(&f, &junk, T0, T0 + 4 * HOUR).await;
    assert_eq!(notices(&report)[0], digest_line(&f.digests[3], &format!("INVALID: Unable to load PKCS #1 key with fingerprint {fp}")));
}

#[tokio::test]
async fn stopped_logging_is_a_gap_not_an_error() {
    let key = test_key(0, T0);
    let mut f = Fixture::new(None);
    f.chain(&key, TRAIL, 6, &[2, 3]);
    // Delivered while logging was off: no digest covers it, so it is not "added".
    f.log_file(T0 + 2 * HOUR + 30 * MINUTE);
    let report = run(&f, &fixture::public_keys(&[&key]), T0, T0 + 6 * HOUR).await;
    assert!(report.is_valid(), "{:#?}", notices(&report));
    assert_eq!(notices(&report), vec!["No log files were delivered by CloudTrail between 2026-11-21T12:00:00Z and 2026-11-21T14:00:00Z"]);
    assert_eq!(report.digest_counts(), (4, 0));
    assert_eq!(report.log_counts(), (8, 0));
    let (out, err) = text(&report, false);
    assert_eq!(err, "No log files were delivered by CloudTrail between 2026-11-21T12:00:00Z and 2026-11-21T14:00:00Z\n\n");
    assert!(out.ends_with("4/4 digest files valid\n8/8 log files valid\n"));
}

#[tokio::test]
async fn part_of_the_chain() {
    let (f, keys) = standard(None);
    let report = run(&f, &keys, T0 + 90 * MINUTE, T0 + 150 * MINUTE).await;
    let digests: Vec<&str> = report
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Digest { key, .. } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(digests, vec![f.digests[2].key.as_str(), f.digests[1].key.as_str()]);
    assert_eq!(report.found, Some((T0 + 90 * MINUTE, T0 + 150 * MINUTE)));
    assert_eq!(report.log_counts(), (4, 0));

    let report = run(&f, &keys, T0 + 10 * HOUR, T0 + 11 * HOUR).await;
    assert!(report.entries.is_empty());
    let (out, _) = text(&report, false);
    assert!(out.ends_with("Results requested for 2026-11-21T20:00:00Z to 2026-11-21T21:00:00Z\nNo digests found\n"), "{out}");
}

#[tokio::test]
async fn other_trails_in_the_same_folder() {
    let key = test_key(0, T0);
    let mut f = Fixture::new(Some("shared"));
    f.chain(&key, TRAIL, 3, &[]);
    f.chain(&key, "audit-2", 3, &[]);
    let keys = fixture::public_keys(&[&key]);
    let report = run(&f, &keys, T0, T0 + 3 * HOUR).await;
    assert!(report.is_valid(), "{:#?}", notices(&report));
    assert_eq!(report.digest_counts(), (3, 0), "only this trail's digests");
    assert_eq!(report.log_counts(), (6, 0), "the other trail's files are not added ones");
}

#[tokio::test]
async fn chain_across_a_bucket_change() {
    let key = test_key(0, T0);
    let f = Fixture::new(None);
    let build = |bucket: &str, hour: i64, previous: Option<(&str, &SignedDigest)>| {
        let d = digest::build(
            &DigestInput {
                account_id: fixture::ACCOUNT.into(),
                region: fixture::REGION.into(),
                trail_name: TRAIL.into(),
                home_region: fixture::REGION.into(),
                bucket: bucket.into(),
                prefix: None,
                start_time: T0 + hour * HOUR,
                end_time: T0 + (hour + 1) * HOUR,
                log_files: vec![],
                previous: previous.map(|(b, d)| d.as_previous(b)),
            },
            &key,
        );
        f.buckets.put(bucket, &d.key, d.gzip.clone(), d.metadata.clone());
        d
    };
    let d0 = build("old-bucket", 0, None);
    let d1 = build("old-bucket", 1, Some(("old-bucket", &d0)));
    let d2 = build(BUCKET, 2, Some(("old-bucket", &d1)));
    let _d3 = build(BUCKET, 3, Some((BUCKET, &d2)));
    let report = run(&f, &fixture::public_keys(&[&key]), T0, T0 + 4 * HOUR).await;
    assert!(report.is_valid(), "{:#?}", report.entries);
    assert_eq!(report.digest_counts(), (4, 0));
    assert!(report.entries.contains(&Entry::Digest { bucket: "old-bucket".into(), key: d0.key.clone(), status: DigestStatus::Valid }));
    let (out, _) = text(&report, false);
    assert!(out.ends_with("4/4 digest files valid\n"), "{out}");
}

#[test]
fn helpers() {
    assert_eq!(merge(vec![(5, 6), (1, 3), (3, 4), (10, 12), (11, 11)]), vec![(1, 4), (5, 6), (10, 12)]);
    assert_eq!(key_prefix_of("a/b/AWSLogs/1/CloudTrail-Digest/x", "1").as_deref(), Some("a/b"));
    assert_eq!(key_prefix_of("AWSLogs/1/CloudTrail-Digest/x", "1").as_deref(), Some(""));
    assert_eq!(key_prefix_of("AWSLogs/2/CloudTrail-Digest/x", "1"), None);
    assert_eq!(log_file_time("1_CloudTrail_r_20261121T1005Z_abcDEF0123456789.json.gz", "1", "r"), Some(T0 + 5 * MINUTE));
    assert_eq!(log_file_time("1_CloudTrail_r_20261121T1005Z_abc-.json.gz", "1", "r"), None);
    assert_eq!(log_file_time("2_CloudTrail_r_20261121T1005Z_abc.json.gz", "1", "r"), None);
    assert_eq!(dated_file_name("2026/11/21/name"), Some("name"));
    assert_eq!(dated_file_name("2026/11/xx/name"), None);
    assert_eq!(dated_file_name("2026/11/21/a/name"), None);
}
