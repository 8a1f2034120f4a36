//! The REST-XML side of the pipeline (S3): which requests go to a REST service, how
//! they become a [`Route`], and how results and errors are written as S3 writes them.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;
use wire::rest_xml::{self, RestRequest};
use wire::{AwsError, OperationSpec, Service};

use crate::pipeline::{Decoded, Route};

/// Whether a request that names no signing service carries no other protocol's marker
/// (`X-Amz-Target` was checked before; here `Action` in the query or a form body), so an
/// unsigned `GET /bucket/key` reaches S3 and gets S3's AccessDenied.
pub(crate) fn unmarked(headers: &HeaderMap, uri: &Uri, body: &Bytes) -> bool {
    let has_action = |bytes: &[u8]| form_urlencoded::parse(bytes).any(|(k, _)| k == "Action");
    if has_action(uri.query().unwrap_or("").as_bytes()) {
        return false;
    }
    let form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with(wire::query::CONTENT_TYPE));
    !(form && has_action(body))
}

/// The route of a REST request: the operation its method, path and query match in the
/// service's model (none: S3 answers MethodNotAllowed after authentication).
pub(crate) fn route(service: Arc<dyn Service>, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Route {
    let operation = rest_xml::match_operation(service.model(), method.as_str(), uri, headers).map(str::to_owned);
    let request = RestRequest { method: method.clone(), uri: uri.clone(), headers: headers.clone(), body: body.clone() };
    Route { service, protocol: wire::Protocol::RestXml, operation, body: Decoded::Rest(Box::new(request)) }
}

/// S3's answer to a request no operation of the model matches, or to an operation the
/// service does not implement.
pub(crate) fn unknown_operation(name: &str) -> AwsError {
    if name.is_empty() {
        AwsError::new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
    } else {
        AwsError::new("NotImplemented", 501, "A header you provided implies functionality that is not implemented.")
    }
}

/// S3's errors for requests without a usable signature.
pub(crate) fn missing_authentication() -> AwsError {
    AwsError::new("AccessDenied", 403, "Access Denied")
}

/// S3's error for an access key it does not know.
pub(crate) fn unknown_key(access_key_id: &str) -> AwsError {
    AwsError::new("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")
        .with("AWSAccessKeyId", access_key_id)
}

/// S3's error for an expired session token.
pub(crate) fn expired_token() -> AwsError {
    AwsError::new("ExpiredToken", 400, "The provided token has expired.")
}

/// S3's codes for a signature that is malformed, wrong or out of its time window.
pub(crate) fn signature_error(e: sigv4::Error) -> AwsError {
    match e {
        sigv4::Error::Incomplete(m) => AwsError::new("AuthorizationHeaderMalformed", 400, m),
        // S3 words the plain mismatch its own way; scope and header complaints stay as they are.
        sigv4::Error::Mismatch(m) if m.starts_with("The request signature we calculated") => AwsError::new(
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        ),
        sigv4::Error::Mismatch(m) => AwsError::new("SignatureDoesNotMatch", 403, m),
        // A presigned URL past its X-Amz-Expires.
        sigv4::Error::Expired(m) if m == "Request has expired" => AwsError::new("AccessDenied", 403, m),
        sigv4::Error::Expired(_) => {
            AwsError::new("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large.")
        }
    }
}

/// Writes an operation's output: headers, then the payload or the XML document.
pub(crate) fn success(service: &dyn Service, op: &OperationSpec, output: &Value, request_id: &str, method: &Method) -> Response {
    let encoded = rest_xml::encode_output(service.model(), op.name, output);
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(encoded.status).unwrap_or(StatusCode::OK);
    for (name, value) in &encoded.headers {
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value.as_bytes())) else { continue };
        response.headers_mut().append(name, value);
    }
    if method != Method::HEAD {
        let length = encoded.body.len();
        *response.body_mut() = Body::from(encoded.body);
        response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    request_ids(&mut response, request_id);
    response
}

/// Writes an error as S3's `<Error>` document; a HEAD response carries no body, as at S3.
pub(crate) fn error(err: &AwsError, request_id: &str, method: &Method) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    if method != Method::HEAD {
        *response.body_mut() = Body::from(rest_xml::error_xml(err, request_id));
    }
    request_ids(&mut response, request_id);
    response
}

/// S3 names the request in `x-amz-request-id` and its host in `x-amz-id-2`.
fn request_ids(response: &mut Response, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amz-request-id", v.clone());
        response.headers_mut().insert("x-amz-id-2", v);
    }
}
