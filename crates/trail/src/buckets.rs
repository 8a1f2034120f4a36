//! Where trails deliver: buckets in a local directory (served back by trailwatch's own
//! read-only S3 API) or in any S3-compatible store.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};
use store::Store;

/// An S3-compatible endpoint that trail buckets live in instead of the local directory.
#[derive(Debug, Clone)]
pub struct S3Endpoint {
    /// e.g. `http://127.0.0.1:9000`.
    pub url: String,
    /// The region to sign for.
    pub region: String,
    /// Access key of the endpoint.
    pub access_key_id: String,
    /// Secret key of the endpoint.
    pub secret_access_key: String,
}

/// Opens trail buckets by name.
pub struct Buckets {
    root: PathBuf,
    remote: Option<S3Endpoint>,
    store: Arc<Store>,
    open: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Buckets {
    /// Buckets as directories under `root`, or in `remote` when given.
    pub fn new(root: PathBuf, remote: Option<S3Endpoint>, store: Arc<Store>) -> Self {
        Buckets { root, remote, store, open: Mutex::new(HashMap::new()) }
    }

    /// Whether the bucket exists (a directory under the root, or a reachable remote bucket).
    pub async fn exists(&self, bucket: &str) -> bool {
        if !valid_name(bucket) {
            return false;
        }
        if self.remote.is_none() {
            return self.root.join(bucket).is_dir();
        }
        let Ok(objects) = self.open(bucket) else { return false };
        objects.list_with_delimiter(Some(&Path::from("AWSLogs"))).await.is_ok()
    }

    /// Writes an object, with user metadata (`x-amz-meta-*`) when given.
    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>, metadata: &BTreeMap<String, String>) -> Result<(), String> {
        let objects = self.open(bucket)?;
        let mut options = PutOptions::default();
        if self.remote.is_some() && !metadata.is_empty() {
            let mut attributes = Attributes::new();
            for (k, v) in metadata {
                attributes.insert(Attribute::Metadata(k.clone().into()), v.clone().into());
            }
            options.attributes = attributes;
        }
        // A directory cannot hold metadata: the catalog keeps it for the S3 API, written
        // before the object so the object is never visible without it.
        if self.remote.is_none() && !metadata.is_empty() {
            self.store.put_object_metadata(bucket, key, metadata).await.map_err(|e| e.to_string())?;
        }
        objects.put_opts(&Path::from(key), PutPayload::from(Bytes::from(body)), options).await.map_err(|e| e.to_string())?;
        Ok(())
    }

    fn open(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
        if !valid_name(bucket) {
            return Err(format!("invalid bucket name {bucket}"));
        }
        if let Some(o) = self.open.lock().expect("bucket cache lock").get(bucket) {
            return Ok(o.clone());
        }
        let objects: Arc<dyn ObjectStore> = match &self.remote {
            None => {
                let dir = self.root.join(bucket);
                if !dir.is_dir() {
                    return Err(format!("The specified bucket does not exist: {bucket}"));
                }
                Arc::new(LocalFileSystem::new_with_prefix(dir).map_err(|e| e.to_string())?.with_fsync(true))
            }
            Some(remote) => Arc::new(
                AmazonS3Builder::new()
                    .with_endpoint(&remote.url)
                    .with_region(&remote.region)
                    .with_bucket_name(bucket)
                    .with_access_key_id(&remote.access_key_id)
                    .with_secret_access_key(&remote.secret_access_key)
                    .with_allow_http(true)
                    .with_virtual_hosted_style_request(false)
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
        };
        self.open.lock().expect("bucket cache lock").insert(bucket.to_owned(), objects.clone());
        Ok(objects)
    }
}

/// S3's bucket naming rules, which also keep a name from escaping the bucket directory.
pub fn valid_name(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bucket.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
        && !bucket.contains("..")
}
