//! A read-only S3 API over the local bucket directory: enough for `aws s3 ls`,
//! `aws s3 cp` and `aws cloudtrail validate-logs` to read trail buckets.
//!
//! A bucket is a directory `<bucket-dir>/<bucket>`; an object is the file at
//! `<bucket-dir>/<bucket>/<key>`, read through `object_store`'s local file system. The
//! catalog keeps what a directory cannot: the region a bucket was created in and the
//! objects' `x-amz-meta-*` user metadata. Buckets can be created (`aws s3 mb`); objects
//! are written only by trailwatch itself (trail delivery), never through this API.

mod listing;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};
use store::Store;
use time::OffsetDateTime;
use wire::rest_xml::format_iso;
use wire::{AwsError, CallContext, Model, OperationSpec, Protocol, Service};

const BUCKET: &[&str] = &["arn:{partition}:s3:::{Bucket}"];
const OBJECT: &[&str] = &["arn:{partition}:s3:::{Bucket}/{Key}"];

/// The operations: the reads, bucket creation, and the object writes that are refused
/// (described so that IAM still decides first and the call is recorded as what it was).
static OPERATIONS: &[OperationSpec] = &[
    OperationSpec::read("ListBuckets").action("ListAllMyBuckets"),
    OperationSpec::write("CreateBucket").on(BUCKET),
    OperationSpec::read("HeadBucket").action("ListBucket").on(BUCKET),
    OperationSpec::read("GetBucketLocation").on(BUCKET),
    OperationSpec::read("ListObjects").action("ListBucket").on(BUCKET).data(),
    OperationSpec::read("ListObjectsV2").action("ListBucket").on(BUCKET).data(),
    OperationSpec::read("GetObject").on(OBJECT).data(),
    OperationSpec::read("HeadObject").action("GetObject").on(OBJECT).data(),
    OperationSpec::write("PutObject").on(OBJECT).data(),
    OperationSpec::write("CopyObject").action("PutObject").on(OBJECT).data(),
    OperationSpec::write("DeleteObject").on(OBJECT).data(),
    OperationSpec::write("DeleteObjects").action("DeleteObject").on(&["arn:{partition}:s3:::{Bucket}/*"]).data(),
    OperationSpec::write("CreateMultipartUpload").action("PutObject").on(OBJECT).data(),
    OperationSpec::write("UploadPart").action("PutObject").on(OBJECT).data(),
    OperationSpec::write("UploadPartCopy").action("PutObject").on(OBJECT).data(),
    OperationSpec::write("CompleteMultipartUpload").action("PutObject").on(OBJECT).data(),
    OperationSpec::write("AbortMultipartUpload").on(OBJECT).data(),
];

/// How many object digests (ETags) are remembered, by path, size and modification time.
const ETAG_CACHE_ENTRIES: usize = 16_384;

/// The S3 service over one bucket directory.
pub struct S3Service {
    model: Model,
    root: PathBuf,
    objects: LocalFileSystem,
    store: Arc<Store>,
    etags: Mutex<lru::LruCache<(String, u64, i64), String>>,
}

impl S3Service {
    /// The service over `bucket_dir`, which is created if missing.
    pub fn new(store: Arc<Store>, bucket_dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = bucket_dir.into();
        std::fs::create_dir_all(&root)?;
        let objects = LocalFileSystem::new_with_prefix(&root).map_err(std::io::Error::other)?;
        Ok(S3Service {
            model: Model::parse(include_str!("../../wire/models/s3.json")),
            root,
            objects,
            store,
            etags: Mutex::new(lru::LruCache::new(ETAG_CACHE_ENTRIES.try_into().expect("non-zero"))),
        })
    }
}

#[async_trait]
impl Service for S3Service {
    fn model(&self) -> &Model {
        &self.model
    }

    fn protocol(&self) -> Protocol {
        Protocol::RestXml
    }

    fn operations(&self) -> &'static [OperationSpec] {
        OPERATIONS
    }

    fn validation_error_code(&self) -> &'static str {
        "InvalidArgument"
    }

    async fn call(&self, ctx: &CallContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        match op.name {
            "ListBuckets" => self.list_buckets(ctx, &input).await,
            "CreateBucket" => self.create_bucket(ctx, &input).await,
            "HeadBucket" => {
                let region = self.bucket_region(str_member(&input, "Bucket")).await?;
                Ok(json!({"BucketRegion": region, "BucketArn": format!("arn:aws:s3:::{}", str_member(&input, "Bucket"))}))
            }
            "GetBucketLocation" => {
                let region = self.bucket_region(str_member(&input, "Bucket")).await?;
                // us-east-1 is the empty constraint, as S3 has always answered.
                Ok(if region == "us-east-1" { json!({}) } else { json!({"LocationConstraint": region}) })
            }
            "ListObjects" => self.list_objects(ctx, &input, listing::Version::V1).await,
            "ListObjectsV2" => self.list_objects(ctx, &input, listing::Version::V2).await,
            "GetObject" => self.get_object(&input, true).await,
            "HeadObject" => self.get_object(&input, false).await,
            // Objects are written only by trailwatch (trail delivery): a log file that a
            // client could replace or delete would defeat the trail's integrity. S3's
            // NotImplemented (501) says the capability is absent; AccessDenied would send
            // the caller looking for a permission that no policy can grant.
            _ => Err(AwsError::new(
                "NotImplemented",
                501,
                "trailwatch serves its buckets read-only: objects are written by trail delivery, never through the S3 API.",
            )),
        }
    }
}

/// A string member of the input (the model validator has checked required ones).
fn str_member<'a>(input: &'a Value, name: &str) -> &'a str {
    input.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn no_such_bucket(bucket: &str) -> AwsError {
    AwsError::new("NoSuchBucket", 404, "The specified bucket does not exist").with("BucketName", bucket)
}

fn no_such_key(key: &str) -> AwsError {
    AwsError::new("NoSuchKey", 404, "The specified key does not exist.").with("Key", key)
}

fn internal(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "s3 storage failure");
    AwsError::new("InternalError", 500, "We encountered an internal error. Please try again.")
}

/// Whether S3 accepts `name` for a new bucket (the general purpose bucket naming rules).
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'-'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !["xn--", "sthree-", "amzn-s3-demo-"].iter().any(|p| name.starts_with(p))
        && !["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].iter().any(|s| name.ends_with(s))
}

/// Whether `name` can name a directory directly under the bucket directory (and nothing
/// else: no separators, no `.` or `..`).
fn addressable(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// The canonical user ID S3 shows as the owner: 64 hex digits, stable per account.
fn canonical_id(account_id: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(format!("trailwatch-canonical-user:{account_id}")))
}

/// Seconds precision, as S3 keeps LastModified and CreationDate.
fn whole_seconds(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn millis_of(t: std::time::SystemTime) -> i64 {
    OffsetDateTime::from(t).unix_timestamp_nanos().div_euclid(1_000_000) as i64
}

impl S3Service {
    /// The region of an existing bucket: recorded at creation, else us-east-1.
    async fn bucket_region(&self, bucket: &str) -> Result<String, AwsError> {
        self.require_bucket(bucket).await?;
        Ok(self.store.bucket(bucket).await.map_err(internal)?.map_or_else(|| "us-east-1".to_owned(), |(region, _)| region))
    }

    /// NoSuchBucket unless the bucket's directory exists.
    async fn require_bucket(&self, bucket: &str) -> Result<(), AwsError> {
        if !addressable(bucket) {
            return Err(no_such_bucket(bucket));
        }
        match tokio::fs::metadata(self.root.join(bucket)).await {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(no_such_bucket(bucket)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(no_such_bucket(bucket)),
            Err(e) => Err(internal(e)),
        }
    }

    async fn list_buckets(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let recorded = self.store.buckets().await.map_err(internal)?;
        let mut names = Vec::new();
        let mut dir = tokio::fs::read_dir(&self.root).await.map_err(internal)?;
        while let Some(entry) = dir.next_entry().await.map_err(internal)? {
            let Ok(name) = entry.file_name().into_string() else { continue };
            let Ok(meta) = entry.metadata().await else { continue };
            if meta.is_dir() && valid_bucket_name(&name) {
                let fallback = meta.created().or_else(|_| meta.modified()).map(millis_of).unwrap_or(0);
                names.push((name, fallback));
            }
        }
        names.sort();
        let prefix = str_member(input, "Prefix");
        let region_filter = input.get("BucketRegion").and_then(Value::as_str);
        let after = input.get("ContinuationToken").and_then(Value::as_str);
        let max = input.get("MaxBuckets").and_then(Value::as_u64).map_or(usize::MAX, |m| m as usize);
        let mut buckets = Vec::new();
        let mut next = None;
        for (name, fallback) in names {
            let (region, created) = recorded.get(&name).cloned().unwrap_or_else(|| ("us-east-1".to_owned(), fallback));
            if !name.starts_with(prefix) || after.is_some_and(|a| name.as_str() <= a) || region_filter.is_some_and(|r| r != region) {
                continue;
            }
            if buckets.len() == max {
                next = buckets.last().and_then(|b: &Value| b["Name"].as_str().map(str::to_owned));
                break;
            }
            buckets.push(json!({
                "Name": name,
                "CreationDate": format_iso(whole_seconds(created)),
                "BucketRegion": region,
                "BucketArn": format!("arn:aws:s3:::{name}"),
            }));
        }
        let mut out = json!({"Buckets": buckets, "Owner": {"ID": canonical_id(&ctx.account_id)}});
        if let Some(next) = next {
            out["ContinuationToken"] = json!(next);
        }
        if input.get("Prefix").is_some() {
            out["Prefix"] = json!(prefix);
        }
        Ok(out)
    }

    async fn create_bucket(&self, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
        let bucket = str_member(input, "Bucket");
        if !valid_bucket_name(bucket) {
            return Err(AwsError::client("InvalidBucketName", "The specified bucket is not valid.").with("BucketName", bucket));
        }
        let constraint = input.pointer("/CreateBucketConfiguration/LocationConstraint").and_then(Value::as_str);
        let region = match constraint {
            None | Some("") => "us-east-1",
            Some("EU") => "eu-west-1",
            Some(c) => c,
        };
        if region != ctx.region {
            let what = constraint.filter(|c| !c.is_empty()).map_or_else(|| "unspecified".to_owned(), str::to_owned);
            return Err(AwsError::client(
                "IllegalLocationConstraintException",
                format!("The {what} location constraint is incompatible for the region specific endpoint this request was sent to."),
            ));
        }
        match tokio::fs::create_dir(self.root.join(bucket)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(AwsError::new(
                    "BucketAlreadyOwnedByYou",
                    409,
                    "Your previous request to create the named bucket succeeded and you already own it.",
                )
                .with("BucketName", bucket));
            }
            Err(e) => return Err(internal(e)),
        }
        self.store.put_bucket(bucket, region, ctx.now_millis).await.map_err(internal)?;
        Ok(json!({"Location": format!("/{bucket}"), "BucketArn": format!("arn:aws:s3:::{bucket}")}))
    }

    async fn list_objects(&self, ctx: &CallContext, input: &Value, version: listing::Version) -> Result<Value, AwsError> {
        let bucket = str_member(input, "Bucket");
        self.require_bucket(bucket).await?;
        let request = listing::Request::from_input(input, version)?;
        let candidates = self.objects_under(bucket, &request.prefix).await?;
        let page = listing::page(&candidates, &request);
        let mut contents = Vec::with_capacity(page.objects.len());
        for object in &page.objects {
            let etag = self.etag(&object.meta).await?;
            contents.push(listing::ObjectEntry { key: &object.key, meta: &object.meta, etag });
        }
        Ok(listing::output(bucket, &canonical_id(&ctx.account_id), &request, &page, &contents))
    }

    /// The objects of a bucket whose keys start with `prefix`, in key order. Only the
    /// deepest directory the prefix names is walked.
    async fn objects_under(&self, bucket: &str, prefix: &str) -> Result<Vec<listing::Object>, AwsError> {
        use futures::TryStreamExt;
        let dir = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        let walked = match Path::parse(format!("{bucket}/{dir}")) {
            Ok(p) if !dir.is_empty() && p.as_ref() == format!("{bucket}/{dir}") => p,
            _ => Path::parse(bucket).unwrap_or_else(|_| Path::from(bucket)),
        };
        let metas: Vec<object_store::ObjectMeta> = match self.objects.list(Some(&walked)).try_collect().await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(internal(e)),
        };
        let strip = format!("{bucket}/");
        let mut objects: Vec<listing::Object> = metas
            .into_iter()
            .filter_map(|meta| {
                let key = meta.location.as_ref().strip_prefix(&strip)?.to_owned();
                key.starts_with(prefix).then_some(listing::Object { key, meta })
            })
            .collect();
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// The quoted MD5 of an object's bytes, remembered while its size and time stay the same.
    async fn etag(&self, meta: &object_store::ObjectMeta) -> Result<String, AwsError> {
        let id = (meta.location.to_string(), meta.size, meta.last_modified.timestamp_nanos_opt().unwrap_or_default());
        if let Some(tag) = self.etags.lock().expect("etag cache lock").get(&id) {
            return Ok(tag.clone());
        }
        let bytes = match self.objects.get(&meta.location).await {
            Ok(r) => r.bytes().await.map_err(internal)?,
            Err(object_store::Error::NotFound { .. }) => return Ok(String::new()),
            Err(e) => return Err(internal(e)),
        };
        Ok(self.remember_etag(id, &bytes))
    }

    fn remember_etag(&self, id: (String, u64, i64), bytes: &[u8]) -> String {
        let tag = format!("\"{}\"", hex::encode(Md5::digest(bytes)));
        self.etags.lock().expect("etag cache lock").put(id, tag.clone());
        tag
    }

    /// GetObject (`with_body`) and HeadObject.
    async fn get_object(&self, input: &Value, with_body: bool) -> Result<Value, AwsError> {
        let bucket = str_member(input, "Bucket");
        let key = str_member(input, "Key");
        self.require_bucket(bucket).await?;
        // Keys that cannot be a file below the bucket (`a//b`, `../x`, `dir/`) name nothing.
        let full = format!("{bucket}/{key}");
        let location = match Path::parse(&full) {
            Ok(p) if p.as_ref() == full => p,
            _ => return Err(no_such_key(key)),
        };
        let result = match self.objects.get(&location).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Err(no_such_key(key)),
            Err(e) => return Err(internal(e)),
        };
        let meta = result.meta.clone();
        let bytes = result.bytes().await.map_err(internal)?;
        let id = (meta.location.to_string(), meta.size, meta.last_modified.timestamp_nanos_opt().unwrap_or_default());
        let etag = self.remember_etag(id, &bytes);
        let metadata: BTreeMap<String, String> = self.store.object_metadata(bucket, key).await.map_err(internal)?;
        let size = bytes.len() as u64;
        let mut out = json!({
            "AcceptRanges": "bytes",
            "LastModified": format_iso(whole_seconds(meta.last_modified.timestamp_millis())),
            "ContentLength": size,
            "ETag": etag,
            "ContentType": "binary/octet-stream",
        });
        if !metadata.is_empty() {
            out["Metadata"] = json!(metadata);
        }
        let range = match input.get("Range").and_then(Value::as_str) {
            Some(header) => listing::parse_range(header, size).map_err(|()| {
                AwsError::new("InvalidRange", 416, "The requested range is not satisfiable")
                    .with("RangeRequested", header)
                    .with("ActualObjectSize", size.to_string())
            })?,
            None => None,
        };
        let body = match range {
            Some((start, end)) => {
                out["ContentRange"] = json!(format!("bytes {start}-{end}/{size}"));
                out["ContentLength"] = json!(end - start + 1);
                &bytes[start as usize..=end as usize]
            }
            None => &bytes[..],
        };
        if with_body {
            out["Body"] = json!(BASE64.encode(body));
        }
        Ok(out)
    }
}
