//! CloudTrail: every call recorded as an event in AWS's record format, event history
//! (LookupEvents), trails delivering log files to a bucket and events to a log group,
//! and signed digests that prove the files were not altered.
//!
//! - [`record`]: a call as a CloudTrail record, secrets masked.
//! - [`recorder`]: makes records durable off the request path.
//! - [`service`]: the CloudTrail API.
//! - [`trails`]: a trail's settings and which events it selects.
//! - [`deliver`]: background delivery to buckets, log groups and notification endpoints.
//! - [`buckets`]: local or S3-compatible buckets.

pub mod buckets;
pub mod deliver;
mod digests;
pub mod record;
pub mod recorder;
pub mod service;
pub mod trails;

pub use deliver::{Delivery, DeliveryConfig, Dispatch};
pub use recorder::Recorder;
pub use service::CloudTrailService;

/// The service principal CloudTrail acts as when it assumes a delivery role.
pub const SERVICE_PRINCIPAL: &str = "cloudtrail.amazonaws.com";

/// A public key as ListPublicKeys returns it.
pub(crate) struct PublicKeyInfo {
    pub der: Vec<u8>,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
    pub fingerprint: String,
}

/// The digest signing keys valid in a time range.
pub(crate) async fn keys_for(_store: &store::Store, _start: i64, _end: i64) -> Result<Vec<PublicKeyInfo>, store::StoreError> {
    // Replaced by the signing keys of digests.rs once they land.
    Ok(Vec::new())
}
