//! AWS wire protocols: the botocore models, JSON 1.1, Query/XML, REST-XML and RPC v2 CBOR codecs, AWS errors,
//! and the contract between the request pipeline and the services it dispatches to.
//!
//! Nothing here knows about a particular service: each service crate describes its
//! operations as data ([`service::OperationSpec`]) and the pipeline in `server` uses
//! these codecs to turn HTTP into calls and results back into HTTP.

pub mod authz;
pub mod cbor;
pub mod error;
pub mod json;
pub mod model;
pub mod query;
pub mod rest_xml;
pub mod service;

pub use error::AwsError;
pub use model::Model;
pub use service::{CallContext, OperationSpec, Principal, PrincipalKind, Protocol, Service, Session};
