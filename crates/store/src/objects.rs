//! Where segment objects live: a directory on local disk (the embedded default, every
//! write fsynced) or an S3-compatible bucket shared by every node (cluster mode).

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;

use crate::StoreError;

/// Where the store keeps its segment objects.
#[derive(Debug, Clone)]
pub enum ObjectsConfig {
    /// A local directory.
    Directory(PathBuf),
    /// A bucket (and key prefix) of an S3-compatible store.
    S3(S3Objects),
}

/// An S3-compatible location and how to reach it. Unset fields come from the usual
/// AWS environment variables (`AWS_ACCESS_KEY_ID`, `AWS_REGION`, `AWS_ENDPOINT_URL`, …).
#[derive(Debug, Clone, Default)]
pub struct S3Objects {
    /// The bucket.
    pub bucket: String,
    /// The key prefix every object is written under (no leading or trailing `/`).
    pub prefix: String,
    /// The endpoint URL, for stores other than AWS's own.
    pub endpoint: Option<String>,
    /// The region the requests are signed for.
    pub region: Option<String>,
    /// The access key ID.
    pub access_key_id: Option<String>,
    /// The secret access key (never logged).
    pub secret_access_key: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which most self-hosted stores need.
    pub path_style: bool,
}

impl ObjectsConfig {
    /// Reads `s3://bucket/prefix`, `file:///dir` or a plain directory path.
    pub fn parse(location: &str) -> Result<ObjectsConfig, String> {
        if let Some(rest) = location.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("{location}: the bucket name is missing (s3://bucket/prefix)"));
            }
            let prefix = prefix.trim_matches('/').to_owned();
            return Ok(ObjectsConfig::S3(S3Objects { bucket: bucket.to_owned(), prefix, path_style: true, ..Default::default() }));
        }
        if location.contains("://") && !location.starts_with("file://") {
            return Err(format!("{location}: objects go to s3://bucket/prefix or a directory"));
        }
        Ok(ObjectsConfig::Directory(PathBuf::from(location.trim_start_matches("file://"))))
    }

    /// Whether other nodes may share this location (cluster mode).
    pub fn is_shared(&self) -> bool {
        matches!(self, ObjectsConfig::S3(_))
    }

    /// Opens the location, creating a missing directory.
    pub(crate) fn open(&self) -> Result<Arc<dyn ObjectStore>, StoreError> {
        match self {
            ObjectsConfig::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", dir.display())))?;
                Ok(Arc::new(LocalFileSystem::new_with_prefix(dir)?.with_fsync(true)))
            }
            ObjectsConfig::S3(s3) => s3.open(),
        }
    }
}

impl S3Objects {
    fn open(&self) -> Result<Arc<dyn ObjectStore>, StoreError> {
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&self.bucket).with_virtual_hosted_style_request(!self.path_style);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &self.region {
            builder = builder.with_region(region);
        }
        if let Some(key) = &self.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &self.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let bucket = builder.build()?;
        if self.prefix.is_empty() {
            return Ok(Arc::new(bucket));
        }
        Ok(Arc::new(PrefixStore::new(bucket, self.prefix.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_as_a_bucket_and_prefix_or_a_directory() {
        let ObjectsConfig::S3(s3) = ObjectsConfig::parse("s3://audit/tw/segments/").unwrap() else { panic!("not S3") };
        assert_eq!((s3.bucket.as_str(), s3.prefix.as_str(), s3.path_style), ("audit", "tw/segments", true));
        let ObjectsConfig::S3(s3) = ObjectsConfig::parse("s3://audit").unwrap() else { panic!("not S3") };
        assert_eq!((s3.bucket.as_str(), s3.prefix.as_str()), ("audit", ""));
        assert!(ObjectsConfig::parse("s3:///x").is_err());
        assert!(ObjectsConfig::parse("gs://b/p").is_err());
        let ObjectsConfig::Directory(d) = ObjectsConfig::parse("file:///srv/seg").unwrap() else { panic!("not a dir") };
        assert_eq!(d, PathBuf::from("/srv/seg"));
    }
}
