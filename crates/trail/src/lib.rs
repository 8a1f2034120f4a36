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
//! - [`keys`]: the RSA keys that sign digests (ListPublicKeys reads their public halves).
//! - [`digest`]: digest keys, documents and signatures (pure, no I/O).
//! - [`validate`]: log file integrity validation over any bucket reader.

// Lets the test fixture, shared with the integration tests, name this crate `trail`.
extern crate self as trail;

pub mod buckets;
pub mod deliver;
pub mod digest;
mod digests;
pub mod keys;
pub mod record;
pub mod recorder;
pub mod service;
pub mod trails;
pub mod validate;

pub use deliver::{Delivery, DeliveryConfig, Dispatch};
pub use recorder::Recorder;
pub use service::CloudTrailService;

/// The service principal CloudTrail acts as when it assumes a delivery role.
pub const SERVICE_PRINCIPAL: &str = "cloudtrail.amazonaws.com";

#[cfg(test)]
#[path = "../tests/fixture/mod.rs"]
mod fixture;
