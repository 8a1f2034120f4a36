//! CloudTrail: every call recorded as an event in AWS's record format, event history
//! (LookupEvents), trails delivering log files to a bucket and events to a log group,
//! and signed digests that prove the files were not altered.
//!
//! - [`keys`]: the RSA keys that sign digests (ListPublicKeys reads their public halves).
//! - [`digest`]: digest keys, documents and signatures (pure, no I/O).

pub mod digest;
pub mod keys;
