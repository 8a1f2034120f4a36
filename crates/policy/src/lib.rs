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
//! Modules: `document` (grammar and compilation), `validate` (per-kind rules), `matching`
//! (wildcards and ARNs), `condition` (operators), `variables` (`${…}`), `principal`,
//! `context`, `spans` (statement positions), `evaluate`.

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
