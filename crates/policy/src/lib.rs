//! IAM policy documents: parse, validate, evaluate, with AWS's semantics.
//!
//! - [`Policy::parse`] reads any policy document; [`Policy::parse_as`] also applies the rules
//!   IAM applies to one [`PolicyKind`] of document. Errors carry the exact text IAM returns in
//!   `MalformedPolicyDocument` ([`PolicyError::message`]).
//! - [`decide`] evaluates a [`RequestContext`] against a set of policies of one kind;
//!   [`explain`] adds the deciding statements and the context keys the request lacked.
//!
//! Combining sets of policies (identity, session, resource-based, trust, boundaries) is the
//! caller's: this crate answers for one set at a time.
//!
//! ```
//! use policy::{Decision, Policy, PolicyKind, RequestContext, decide};
//!
//! let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:Put*",
//!     "Resource":"arn:aws:logs:*:*:log-group:/app/${aws:username}/*"}]}"#;
//! let policy = Policy::parse_as(doc, PolicyKind::Identity).expect("valid");
//! let mut request = RequestContext::new(
//!     "logs:PutLogEvents",
//!     "arn:aws:logs:us-east-1:111122223333:log-group:/app/alice/api:log-stream:s1",
//! );
//! request.set("aws:username", "alice");
//! assert_eq!(decide(&[&policy], &request), Decision::Allow);
//!
//! let err = Policy::parse_as(r#"{"Statement":{"Effect":"Allow","Action":"PutLogEvents","Resource":"*"}}"#, PolicyKind::Identity);
//! assert_eq!(err.unwrap_err().message(), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
//! ```
//!
//! Modules: `document` (grammar and compilation), `validate` (per-kind rules), `matching`
//! (wildcards and ARNs), `condition` (operators), `variables` (`${…}`), `principal`,
//! `context`, `spans` (statement positions), `evaluate`.

#![warn(missing_docs)]

mod condition;
mod context;
mod document;
mod error;
mod evaluate;
mod matching;
mod principal;
mod spans;
mod validate;
mod variables;

pub use context::RequestContext;
pub use document::{Effect, Policy, PolicyKind, PolicyVersion, Statement};
pub use error::{PolicyError, messages};
pub use evaluate::{Decision, Explanation, MatchedStatement, decide, explain};
pub use principal::Principal;
pub use spans::Position;
