//! CloudTrail: every call recorded as an event in AWS's record format, event history
//! (LookupEvents), trails delivering log files to a bucket and events to a log group,
//! and signed digests that prove the files were not altered.
//!
//! - [`keys`]: the RSA keys that sign digests (ListPublicKeys reads their public halves).
//! - [`digest`]: digest keys, documents and signatures (pure, no I/O).
//! - [`validate`]: log file integrity validation over any bucket reader.

// Lets the test fixture, shared with the integration tests, name this crate `trail`.
extern crate self as trail;

pub mod digest;
pub mod keys;
pub mod validate;

#[cfg(test)]
#[path = "../tests/fixture/mod.rs"]
mod fixture;
