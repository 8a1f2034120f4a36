//! The read-only S3 API over the bucket directory, against the real binary: the stock
//! `aws` CLI (`aws s3 mb/ls/cp/presign`, `aws s3api ...`) and the AWS SDK for Rust
//! (path-style addressing). Objects are seeded by writing files into the bucket
//! directory, as trail delivery does; user metadata by writing it into the catalog while
//! the server is stopped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_sdk_s3::error::ProvideErrorMetadata;
use common::Server;
use serde_json::Value;

/// The `aws` executable: `TRAILWATCH_AWS_CLI`, or `<workspace>/.venv/bin/aws`.
fn aws_cli() -> PathBuf {
    let path = match std::env::var_os("TRAILWATCH_AWS_CLI") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/aws"),
    };
    assert!(
        path.is_file(),
        "the aws CLI is not installed at {}: run `./scripts/test` from the workspace root, which installs it into .venv \
         (or point TRAILWATCH_AWS_CLI at an `aws` executable)",
        path.display()
    );
    path
}

/// Runs the `aws` CLI against one server with the root's keys, from a scratch directory.
struct Aws {
    cli: PathBuf,
    endpoint: String,
    dir: PathBuf,
    /// A CLI config file, when the test needs one.
    config: Option<PathBuf>,
}

impl Aws {
    fn new(server: &Server) -> Aws {
        Aws { cli: aws_cli(), endpoint: server.endpoint.clone(), dir: common::fresh_dir("s3-cli"), config: None }
    }

    /// Makes the CLI presign with SigV4: CLI v1 presigns S3 URLs with SigV2 unless told
    /// otherwise, and trailwatch (like every S3 region opened since 2014) verifies SigV4 only.
    fn presign_with_sigv4(mut self) -> Aws {
        let path = self.dir.join("config");
        std::fs::write(&path, "[default]\ns3 =\n    signature_version = s3v4\n").unwrap();
        self.config = Some(path);
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.cli);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().to_ascii_uppercase().starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        let missing = self.dir.join("no-such-dir");
        cmd.env("AWS_ACCESS_KEY_ID", common::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", common::SECRET_KEY)
            .env("AWS_DEFAULT_REGION", common::REGION)
            .env("AWS_CONFIG_FILE", self.config.clone().unwrap_or_else(|| missing.join("config")))
            .env("AWS_SHARED_CREDENTIALS_FILE", missing.join("credentials"))
            .env("AWS_PAGER", "")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .args(args)
            .args(["--endpoint-url", &self.endpoint, "--output", "json", "--cli-read-timeout", "30", "--cli-connect-timeout", "10"])
            .current_dir(&self.dir);
        cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.cli.display()))
    }

    /// Runs a command that must succeed; its standard output.
    fn text(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "aws {args:?} failed with {}:\n{}{stdout}", out.status, String::from_utf8_lossy(&out.stderr));
        stdout
    }

    /// Runs a command that must succeed and print JSON.
    fn json(&self, args: &[&str]) -> Value {
        let stdout = self.text(args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aws {args:?} printed non-JSON ({e}):\n{stdout}"))
    }

    /// Runs a command that must fail with this service error line on stderr.
    fn fails(&self, args: &[&str], code: &str, operation: &str, message: &str) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "aws {args:?} should fail; stdout:\n{}", String::from_utf8_lossy(&out.stdout));
        let expected = format!("An error occurred ({code}) when calling the {operation} operation: {message}");
        assert!(stderr.contains(&expected), "aws {args:?}: expected\n{expected}\nin stderr:\n{stderr}");
    }
}

impl Drop for Aws {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Writes an object straight into the bucket directory, as trail delivery does.
fn seed(server: &Server, bucket: &str, key: &str, bytes: &[u8]) {
    let path = server.data_dir.join("buckets").join(bucket).join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn md5_etag(bytes: &[u8]) -> String {
    use md5::Digest;
    format!("\"{}\"", hex::encode(md5::Md5::digest(bytes)))
}

/// An S3 client with path-style addressing, signed with the given keys.
fn s3_client(server: &Server, access_key: &str, secret: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&server.sdk_config_with(access_key, secret, None)).force_path_style(true).build();
    aws_sdk_s3::Client::from_conf(config)
}

const DIGEST_KEY: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/01/01/digest.json.gz";

#[test]
fn the_aws_cli_makes_lists_and_copies() {
    let server = Server::start();
    let aws = Aws::new(&server);
    assert_eq!(aws.text(&["s3", "mb", "s3://trail-logs"]).trim(), "make_bucket: trail-logs");
    assert!(server.data_dir.join("buckets/trail-logs").is_dir(), "mb creates the bucket's directory");
    let log_key = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/01/111122223333_CloudTrail_us-east-1_20240101T0000Z_abc.json.gz";
    seed(&server, "trail-logs", log_key, b"\x1f\x8b not really gzip");
    seed(&server, "trail-logs", DIGEST_KEY, b"{\"digest\": true}");
    seed(&server, "trail-logs", "readme.txt", b"hello from the bucket\n");

    let buckets = aws.text(&["s3", "ls"]);
    assert!(buckets.lines().any(|l| l.ends_with(" trail-logs")), "{buckets}");

    let top = aws.text(&["s3", "ls", "s3://trail-logs/"]);
    let lines: Vec<&str> = top.lines().map(str::trim).collect();
    assert_eq!(lines.len(), 2, "{top}");
    assert_eq!(lines[0], "PRE AWSLogs/");
    assert!(lines[1].ends_with(" 22 readme.txt"), "{top}");

    let all = aws.text(&["s3", "ls", "s3://trail-logs/", "--recursive"]);
    let keys: Vec<&str> = all.lines().map(|l| l.split_whitespace().last().unwrap()).collect();
    let mut expected = vec![log_key, DIGEST_KEY, "readme.txt"];
    expected.sort();
    assert_eq!(keys, expected, "{all}");

    assert_eq!(aws.text(&["s3", "cp", "s3://trail-logs/readme.txt", "-"]), "hello from the bucket\n");

    let location = aws.json(&["s3api", "get-bucket-location", "--bucket", "trail-logs"]);
    assert_eq!(location["LocationConstraint"], Value::Null, "us-east-1 is the empty constraint: {location}");
    assert_eq!(aws.text(&["s3", "mb", "s3://eu-logs", "--region", "eu-west-1"]).trim(), "make_bucket: eu-logs");
    let location = aws.json(&["s3api", "get-bucket-location", "--bucket", "eu-logs"]);
    assert_eq!(location["LocationConstraint"], "eu-west-1");

    aws.fails(
        &["s3api", "create-bucket", "--bucket", "trail-logs"],
        "BucketAlreadyOwnedByYou",
        "CreateBucket",
        "Your previous request to create the named bucket succeeded and you already own it.",
    );
    aws.fails(
        &["s3api", "create-bucket", "--bucket", "Not_Valid"],
        "InvalidBucketName",
        "CreateBucket",
        "The specified bucket is not valid.",
    );
    aws.fails(
        &["s3api", "get-object", "--bucket", "trail-logs", "--key", "missing.txt", "out.txt"],
        "NoSuchKey",
        "GetObject",
        "The specified key does not exist.",
    );
    aws.fails(
        &["s3api", "list-objects", "--bucket", "no-such-bucket"],
        "NoSuchBucket",
        "ListObjects",
        "The specified bucket does not exist",
    );

    // Objects are read-only: writes are refused and nothing appears on disk.
    std::fs::write(aws.dir.join("upload.txt"), "x").unwrap();
    aws.fails(
        &["s3api", "put-object", "--bucket", "trail-logs", "--key", "upload.txt", "--body", "upload.txt"],
        "NotImplemented",
        "PutObject",
        "trailwatch serves its buckets read-only",
    );
    aws.fails(
        &["s3api", "delete-object", "--bucket", "trail-logs", "--key", "readme.txt"],
        "NotImplemented",
        "DeleteObject",
        "trailwatch serves its buckets read-only",
    );
    assert!(!server.data_dir.join("buckets/trail-logs/upload.txt").exists());
    assert!(server.data_dir.join("buckets/trail-logs/readme.txt").exists());
}

#[test]
fn list_objects_pages_with_marker_and_max_keys() {
    let server = Server::start();
    let aws = Aws::new(&server);
    aws.text(&["s3", "mb", "s3://paged"]);
    let keys: Vec<String> = (0..7).map(|i| format!("dir/{i:02}.json")).chain(["top.txt".to_owned()]).collect();
    for k in &keys {
        seed(&server, "paged", k, k.as_bytes());
    }
    let page = aws.json(&["s3api", "list-objects", "--bucket", "paged", "--max-keys", "3", "--no-paginate"]);
    let got: Vec<&str> = page["Contents"].as_array().unwrap().iter().map(|o| o["Key"].as_str().unwrap()).collect();
    assert_eq!(got, ["dir/00.json", "dir/01.json", "dir/02.json"]);
    assert_eq!(page["IsTruncated"], true);
    assert_eq!(page["MaxKeys"], 3);
    let first = &page["Contents"][0];
    assert_eq!(first["Size"], 11);
    assert_eq!(first["ETag"], md5_etag(b"dir/00.json"));
    assert_eq!(first["StorageClass"], "STANDARD");

    let page = aws.json(&["s3api", "list-objects", "--bucket", "paged", "--max-keys", "3", "--marker", "dir/02.json", "--no-paginate"]);
    let got: Vec<&str> = page["Contents"].as_array().unwrap().iter().map(|o| o["Key"].as_str().unwrap()).collect();
    assert_eq!(got, ["dir/03.json", "dir/04.json", "dir/05.json"]);
    assert_eq!(page["Marker"], "dir/02.json");

    // The CLI's own paginator walks every page through the markers.
    let all = aws.json(&["s3api", "list-objects", "--bucket", "paged", "--page-size", "2"]);
    let got: Vec<&str> = all["Contents"].as_array().unwrap().iter().map(|o| o["Key"].as_str().unwrap()).collect();
    assert_eq!(got, keys.iter().map(String::as_str).collect::<Vec<_>>());

    // With a delimiter, NextMarker names the common prefix the page ended on.
    let page = aws.json(&["s3api", "list-objects", "--bucket", "paged", "--delimiter", "/", "--max-keys", "1", "--no-paginate"]);
    assert_eq!(page["CommonPrefixes"], serde_json::json!([{"Prefix": "dir/"}]));
    assert_eq!(page["NextMarker"], "dir/");
    let page = aws.json(&["s3api", "list-objects", "--bucket", "paged", "--delimiter", "/", "--marker", "dir/", "--no-paginate"]);
    assert_eq!(page["Contents"][0]["Key"], "top.txt");
    assert_eq!(page["IsTruncated"], false);
}

#[tokio::test]
async fn head_object_shows_catalog_metadata() {
    let mut server = Server::start();
    let aws = Aws::new(&server);
    aws.text(&["s3", "mb", "s3://digests"]);
    let body = b"{\"awsAccountId\": \"111122223333\"}";
    seed(&server, "digests", DIGEST_KEY, body);
    // The catalog belongs to the server: write the metadata while it is stopped, as trail
    // delivery records it next to each digest file.
    server.stop();
    {
        let store = store::Store::open(store::StoreConfig::new(&server.data_dir)).await.unwrap();
        let metadata = [("signature".to_owned(), "0a1b2c".to_owned()), ("signing-algorithm".to_owned(), "SHA256withRSA".to_owned())];
        store.put_object_metadata("digests", DIGEST_KEY, &metadata.into_iter().collect()).await.unwrap();
        store.shutdown().await;
    }
    server.restart();

    let head = aws.json(&["s3api", "head-object", "--bucket", "digests", "--key", DIGEST_KEY]);
    assert_eq!(head["Metadata"], serde_json::json!({"signature": "0a1b2c", "signing-algorithm": "SHA256withRSA"}), "{head}");
    assert_eq!(head["ContentLength"], body.len());
    assert_eq!(head["ETag"], md5_etag(body));
    assert!(head["LastModified"].as_str().is_some_and(|t| t.ends_with("GMT") || t.ends_with("+00:00")), "{head}");

    let client = s3_client(&server, common::ACCESS_KEY, common::SECRET_KEY);
    let got = client.get_object().bucket("digests").key(DIGEST_KEY).send().await.unwrap();
    assert_eq!(got.metadata().and_then(|m| m.get("signature")).map(String::as_str), Some("0a1b2c"));
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), body);
}

#[test]
fn presigned_urls_read_objects() {
    let server = Server::start();
    let aws = Aws::new(&server).presign_with_sigv4();
    aws.text(&["s3", "mb", "s3://shared"]);
    seed(&server, "shared", "a dir/report+1.txt", b"presigned bytes");
    let url = aws.text(&["s3", "presign", "s3://shared/a dir/report+1.txt", "--expires-in", "300"]).trim().to_owned();
    assert!(url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{url}");
    // Listings travel url-encoded (the CLI asks for EncodingType=url) and decode back.
    let listed = aws.text(&["s3", "ls", "s3://shared/", "--recursive"]);
    assert!(listed.trim_end().ends_with(" 15 a dir/report+1.txt"), "{listed}");
    let raw = common::http_get(&server.addr(), url.trim_start_matches(&server.endpoint)).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.ends_with("\r\n\r\npresigned bytes"), "{raw}");

    // A changed signature is refused, with S3's XML error.
    let tampered = format!("{}0", &url[..url.len() - 1]);
    let tampered = if tampered == url { format!("{}1", &url[..url.len() - 1]) } else { tampered };
    let raw = common::http_get(&server.addr(), tampered.trim_start_matches(&server.endpoint)).unwrap();
    assert!(raw.starts_with("HTTP/1.1 403"), "{raw}");
    assert!(
        raw.contains("<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>"),
        "{raw}"
    );

    // No signature at all: S3's AccessDenied.
    let raw = common::http_get(&server.addr(), "/shared/a%20dir/report%2B1.txt").unwrap();
    assert!(raw.starts_with("HTTP/1.1 403"), "{raw}");
    assert!(raw.contains("<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"), "{raw}");
}

#[tokio::test]
async fn the_sdk_pages_reads_and_reports_errors() {
    let server = Server::start();
    let client = s3_client(&server, common::ACCESS_KEY, common::SECRET_KEY);
    client.create_bucket().bucket("sdk-bucket").send().await.unwrap();
    let mut expected = Vec::new();
    for i in 0..25u32 {
        let key = format!("logs/{:02}/part-{i}.bin", i % 4);
        let bytes: Vec<u8> = (0..(i * 37 + 1)).map(|b| (b * 7 + i) as u8).collect();
        seed(&server, "sdk-bucket", &key, &bytes);
        expected.push((key, bytes));
    }
    expected.sort();

    // ListObjectsV2 through the SDK's paginator, ten keys a page.
    let mut pages = client.list_objects_v2().bucket("sdk-bucket").max_keys(10).into_paginator().send();
    let mut listed = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        page_count += 1;
        assert_eq!(page.key_count(), Some(page.contents().len() as i32));
        for o in page.contents() {
            listed.push((o.key().unwrap().to_owned(), o.size().unwrap()));
        }
    }
    assert_eq!(page_count, 3);
    assert_eq!(listed, expected.iter().map(|(k, b)| (k.clone(), b.len() as i64)).collect::<Vec<_>>());

    // StartAfter and a prefix with a delimiter.
    let out = client.list_objects_v2().bucket("sdk-bucket").prefix("logs/").delimiter("/").send().await.unwrap();
    let prefixes: Vec<&str> = out.common_prefixes().iter().map(|p| p.prefix().unwrap()).collect();
    assert_eq!(prefixes, ["logs/00/", "logs/01/", "logs/02/", "logs/03/"]);
    assert!(out.contents().is_empty());
    let out = client.list_objects_v2().bucket("sdk-bucket").start_after(&expected[22].0).send().await.unwrap();
    assert_eq!(out.contents().iter().map(|o| o.key().unwrap()).collect::<Vec<_>>(), [&expected[23].0, &expected[24].0]);

    // Every object reads back byte for byte, with its MD5 as ETag.
    for (key, bytes) in &expected {
        let got = client.get_object().bucket("sdk-bucket").key(key).send().await.unwrap();
        assert_eq!(got.e_tag(), Some(md5_etag(bytes).as_str()));
        assert_eq!(got.content_length(), Some(bytes.len() as i64));
        assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], &bytes[..], "{key}");
    }
    let (key, bytes) = &expected[24];
    let got = client.get_object().bucket("sdk-bucket").key(key).range("bytes=10-19").send().await.unwrap();
    assert_eq!(got.content_range(), Some(format!("bytes 10-19/{}", bytes.len()).as_str()));
    assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], &bytes[10..20]);

    let head = client.head_bucket().bucket("sdk-bucket").send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    let buckets = client.list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().iter().map(|b| b.name().unwrap()).collect::<Vec<_>>(), ["sdk-bucket"]);

    let err = client.get_object().bucket("sdk-bucket").key("logs/nope").send().await.unwrap_err();
    let err = err.into_service_error();
    assert!(err.is_no_such_key(), "{err:?}");
    assert_eq!(err.message(), Some("The specified key does not exist."));
    let err = client.list_objects_v2().bucket("nope-bucket").send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("NoSuchBucket"));
    let err = client.head_object().bucket("sdk-bucket").key("logs/nope").send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    let err = client.get_object().bucket("sdk-bucket").key(key).range("bytes=100000-").send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("InvalidRange"));
}

#[tokio::test]
async fn iam_decides_who_reads_which_bucket() {
    let server = Server::start();
    let root = s3_client(&server, common::ACCESS_KEY, common::SECRET_KEY);
    for bucket in ["open-bucket", "closed-bucket"] {
        root.create_bucket().bucket(bucket).send().await.unwrap();
        seed(&server, bucket, "k.txt", bucket.as_bytes());
    }
    let iam = server.iam();
    let mut keys = Vec::new();
    for user in ["nobody", "reader"] {
        iam.create_user().user_name(user).send().await.unwrap();
        let key = iam.create_access_key().user_name(user).send().await.unwrap().access_key.unwrap();
        keys.push((key.access_key_id, key.secret_access_key));
    }
    let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::open-bucket/*"}]}"#;
    iam.put_user_policy().user_name("reader").policy_name("read-open").policy_document(policy).send().await.unwrap();

    let nobody = s3_client(&server, &keys[0].0, &keys[0].1);
    let err = nobody.list_buckets().send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert!(err.message().unwrap_or_default().contains("s3:ListAllMyBuckets"), "{err:?}");
    let err = nobody.get_object().bucket("open-bucket").key("k.txt").send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(err.into_service_error().code(), Some("AccessDenied"));

    let reader = s3_client(&server, &keys[1].0, &keys[1].1);
    let got = reader.get_object().bucket("open-bucket").key("k.txt").send().await.unwrap();
    assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], b"open-bucket");
    let err = reader.get_object().bucket("closed-bucket").key("k.txt").send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("AccessDenied"));
    // s3:GetObject does not grant s3:ListBucket.
    let err = reader.list_objects_v2().bucket("open-bucket").send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert!(err.message().unwrap_or_default().contains("s3:ListBucket"), "{err:?}");
}

#[tokio::test]
async fn the_bucket_dir_flag_places_the_buckets() {
    let buckets = common::fresh_dir("buckets");
    std::fs::create_dir_all(buckets.join("preexisting")).unwrap();
    std::fs::write(buckets.join("preexisting/file.txt"), "here").unwrap();
    let server = Server::start_with(&["--bucket-dir", buckets.to_str().unwrap()]);
    let client = s3_client(&server, common::ACCESS_KEY, common::SECRET_KEY);
    client.create_bucket().bucket("moved").send().await.unwrap();
    assert!(buckets.join("moved").is_dir());
    assert!(!server.data_dir.join("buckets/moved").exists());
    let got = client.get_object().bucket("preexisting").key("file.txt").send().await.unwrap();
    assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], b"here");
    let names: Vec<String> = client.list_buckets().send().await.unwrap().buckets().iter().map(|b| b.name().unwrap().to_owned()).collect();
    assert_eq!(names, ["moved", "preexisting"]);
    std::fs::remove_dir_all(&buckets).unwrap();
}
