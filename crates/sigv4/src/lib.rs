//! AWS Signature Version 4 verification, server side.
//!
//! A request goes through three steps:
//!
//! 1. [`parse`] reads what the request claims (from the `Authorization` header or the
//!    `X-Amz-*` query parameters of a presigned URL). `Ok(None)` means the request is not
//!    SigV4-authenticated at all; the caller answers `MissingAuthenticationToken`.
//! 2. The caller looks up the secret for [`Claim::access_key_id`] and may check the
//!    credential scope against its endpoint with [`check_scope`].
//! 3. [`verify`] checks the clock window, the rules on signed headers and the signature.
//!
//! Every [`Error`] carries the message AWS itself sends; the caller maps the kind to its
//! protocol's error code.

mod canonical;
mod error;
mod parse;
mod verify;

pub use canonical::{canonical_request, canonical_request_with, string_to_sign};
pub use error::Error;
pub use parse::parse;
pub use verify::{check_scope, signature, signing_key, verify, verify_with};

/// The only signing algorithm SigV4 verification supports.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every SigV4 credential scope.
const TERMINATOR: &str = "aws4_request";

/// The parts of an incoming HTTP request that signing covers.
///
/// For HTTP/2 the caller passes the `:authority` pseudo-header as a `host` header, since
/// clients sign it under that name.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method as received, e.g. `POST`.
    pub method: &'a str,
    /// Raw path as received, still percent-encoded.
    pub path: &'a str,
    /// Raw query string without the `?`; may be empty.
    pub query: &'a str,
    /// Headers in received order; names in any case; repeated names allowed.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex SHA-256 of the body, computed by the caller.
    pub payload_sha256: &'a str,
}

/// Where the request carries its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the `Authorization` header.
    Header,
    /// In `X-Amz-*` query parameters (a presigned URL).
    Query,
}

/// What the request claims: parsed from the Authorization header or the X-Amz-* query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Whether the signature came in the header or in the query.
    pub location: Location,
    /// The access key id the request was signed with.
    pub access_key_id: String,
    /// Date of the credential scope, `YYYYMMDD`.
    pub scope_date: String,
    /// Region of the credential scope; the caller checks it against its endpoint.
    pub region: String,
    /// Service of the credential scope; the caller checks it against its endpoint.
    pub service: String,
    /// Lowercase names of the signed headers, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// The signature the client sent, hex.
    pub signature: String,
    /// When the client says it signed the request.
    pub request_time: time::OffsetDateTime,
    /// `request_time` in ISO-8601 basic format (`20150830T123600Z`), as in the string to sign.
    pub amz_date: String,
    /// The session token (`X-Amz-Security-Token`) of temporary credentials, if any.
    pub security_token: Option<String>,
    /// How long a presigned URL stays valid (`X-Amz-Expires`); `None` for header signatures.
    pub expires_secs: Option<u64>,
}

/// Canonicalization choices that differ between services.
///
/// [`Options::for_service`] gives what AWS does; the other combinations exist for signers
/// that deviate (and for the AWS signing test suite, which covers them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Remove `.` and `..` segments and repeated slashes from the path before encoding.
    pub normalize_path: bool,
    /// Encode the received, already encoded path once more (true for every service but S3).
    pub double_encode_path: bool,
    /// Keep a presigned URL's `X-Amz-Security-Token` in the canonical query. AWS SDKs sign it;
    /// a few signers (IoT websockets) append it after signing.
    pub presigned_token_signed: bool,
}

impl Options {
    /// The rules AWS applies for `service`: S3 signs the path as sent, every other service
    /// normalizes it and encodes it a second time.
    pub fn for_service(service: &str) -> Options {
        let s3 = service == "s3";
        Options { normalize_path: !s3, double_encode_path: !s3, presigned_token_signed: true }
    }
}

impl Default for Options {
    /// The rules of every service but S3 (logs, iam, sts, ...).
    fn default() -> Self {
        Options::for_service("")
    }
}

/// First value of header `name` (case-insensitive), as received.
fn header_value<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}
