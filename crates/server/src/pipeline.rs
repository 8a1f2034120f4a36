//! The request pipeline of DESIGN.md, shared by every service:
//! HTTP → decode (protocol) → authenticate (SigV4, access key or session token) → caller →
//! operation descriptor → validate (botocore model) → authorize (IAM policy evaluation on
//! the descriptor's action and resources) → execute → observe → encode.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use iam::Identities;
use serde_json::Value;
use sha2::{Digest, Sha256};
use wire::{AwsError, CallContext, OperationSpec, Protocol, Service};

/// The services behind one endpoint and what every request is checked against.
pub struct Pipeline {
    identities: Identities,
    max_clock_skew: Duration,
    services: Vec<Arc<dyn Service>>,
    recorder: trail::Recorder,
}

/// Where a request is going, as far as the pipeline has worked it out.
pub(crate) struct Route {
    pub(crate) service: Arc<dyn Service>,
    /// The protocol this request speaks (a service may accept several).
    pub(crate) protocol: Protocol,
    /// The operation name from `X-Amz-Target`, `Action` or the REST method and path.
    pub(crate) operation: Option<String>,
    /// Decoded input (JSON body, Query parameters still flat, or the REST request).
    pub(crate) body: Decoded,
}

pub(crate) enum Decoded {
    Json(Bytes),
    Cbor(Bytes),
    Query(wire::query::QueryRequest),
    Rest(Box<wire::rest_xml::RestRequest>),
}

impl Pipeline {
    /// A pipeline over the given services.
    pub fn new(identities: Identities, max_clock_skew: Duration, services: Vec<Arc<dyn Service>>, recorder: trail::Recorder) -> Self {
        Pipeline { identities, max_clock_skew, services, recorder }
    }

    fn json_service(&self, target_prefix: &str) -> Option<Arc<dyn Service>> {
        self.services
            .iter()
            .find(|s| {
                (s.protocol() == Protocol::Json || s.model().metadata.speaks("json"))
                    && s.model().metadata.target_prefix.as_deref().is_some_and(|p| target_matches(p, target_prefix))
            })
            .cloned()
    }

    /// The service an RPC v2 CBOR request names by its Smithy service name (the model's target prefix).
    fn cbor_service(&self, service_name: &str) -> Option<Arc<dyn Service>> {
        self.services
            .iter()
            .find(|s| s.model().metadata.speaks("smithy-rpc-v2-cbor") && s.model().metadata.target_prefix.as_deref() == Some(service_name))
            .cloned()
    }

    fn query_service(&self, signing_name: Option<&str>, action: Option<&str>) -> Option<Arc<dyn Service>> {
        let query = self.services.iter().filter(|s| s.protocol() == Protocol::Query || s.model().metadata.speaks("query"));
        if let Some(name) = signing_name {
            return query.clone().find(|s| s.model().signing_name() == name).cloned();
        }
        let mut query = query;
        query.find(|s| action.is_some_and(|a| s.operation(a).is_some())).cloned()
    }

    /// The REST service a request signed for `signing_name` goes to; unsigned requests
    /// without another protocol's marker go to the (only) REST service, S3.
    fn rest_service(&self, signing_name: Option<&str>, unmarked: impl FnOnce() -> bool) -> Option<Arc<dyn Service>> {
        let mut rest = self.services.iter().filter(|s| s.protocol() == Protocol::RestXml);
        match signing_name {
            Some(name) => rest.find(|s| s.model().signing_name() == name).cloned(),
            None if unmarked() => rest.next().cloned(),
            None => None,
        }
    }
}

/// Whether an `X-Amz-Target` prefix names a model's target prefix. AWS accepts the full
/// prefix and its last part alike: botocore sends `com.amazonaws.cloudtrail.v20131101.
/// CloudTrail_20131101`, the AWS SDK for Rust `CloudTrail_20131101`.
fn target_matches(model_prefix: &str, sent: &str) -> bool {
    model_prefix == sent || model_prefix.rsplit_once('.').is_some_and(|(_, last)| last == sent)
}

/// The axum handler for every AWS request.
pub async fn handle(
    State(p): State<Arc<Pipeline>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let claim_service = peek_signing_service(&headers, &uri);
    let Some(route) = route(&p, &method, &headers, &uri, &body, claim_service.as_deref()) else {
        let err = AwsError::client("UnknownOperationException", "");
        return json_error(&err, &request_id);
    };
    let protocol = route.protocol;
    let op_name = route.operation.clone().unwrap_or_default();
    let service_name = route.service.model().signing_name().to_owned();
    let request = HttpRequest { method: &method, uri: &uri, headers: &headers, body: &body, peer };
    let result = execute(&p, &route, &request, &request_id).await;
    let response = match result {
        Ok((op, output)) => success(&*route.service, protocol, op, &output, &request_id, &method),
        Err(err) => error(&*route.service, protocol, &err, &request_id, &method),
    };
    crate::observe::request(&service_name, &op_name, response.status().as_u16(), started.elapsed());
    tracing::debug!(service = %service_name, operation = %op_name, status = response.status().as_u16(), %peer, request_id, "request");
    response
}

/// The parts of the HTTP request the steps after routing read.
struct HttpRequest<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    peer: SocketAddr,
}

/// Runs the pipeline's steps after routing; returns the operation and its output.
async fn execute(
    p: &Pipeline,
    route: &Route,
    http: &HttpRequest<'_>,
    request_id: &str,
) -> Result<(&'static OperationSpec, Value), AwsError> {
    let protocol = route.protocol;
    let (caller, region) = authenticate(p, route, http)?;
    let op_name = route.operation.as_deref().unwrap_or_default();
    let op = route
        .service
        .operation(op_name)
        .ok_or_else(|| unknown_operation(protocol, op_name, &route.service.model().metadata.api_version))?;
    let ctx = CallContext {
        request_id: request_id.to_owned(),
        account_id: caller.principal.account_id.clone(),
        region,
        principal: caller.principal.clone(),
        now_millis: now_millis(),
        source_ip: Some(http.peer.ip()),
        user_agent: http.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
    };
    let input = decode_input(&*route.service, op, &route.body);
    let result = run_and_record(p, &*route.service, protocol, op, &caller, &ctx, input).await;
    result.map(|output| (op, output))
}

/// Runs a decoded call and records it. The record's request half is taken before the
/// input moves into the service; data events skip recording and cost nothing here.
async fn run_and_record(
    p: &Pipeline,
    service: &dyn Service,
    protocol: Protocol,
    op: &'static OperationSpec,
    caller: &iam::Caller,
    ctx: &CallContext,
    input: Result<Value, AwsError>,
) -> Result<Value, AwsError> {
    if op.data_event {
        return run(p, service, protocol, op, caller, ctx, input?).await;
    }
    let started = trail::record::Started::new(ctx, service, op, input.as_ref().ok());
    let result = match input {
        Ok(input) => run(p, service, protocol, op, caller, ctx, input).await,
        Err(e) => Err(e),
    };
    let outcome = match &result {
        Ok(output) => trail::record::Outcome::Success(output),
        Err(err) => trail::record::Outcome::Failure(err),
    };
    // Calls that change something wait until their event is durable, so no
    // acknowledged change goes unrecorded; reads do not wait.
    p.recorder.record(started.finish(outcome), !op.read_only).await;
    result
}

/// Validates, authorizes and executes one decoded call.
async fn run(
    p: &Pipeline,
    service: &dyn Service,
    protocol: Protocol,
    op: &'static OperationSpec,
    caller: &iam::Caller,
    ctx: &CallContext,
    input: Value,
) -> Result<Value, AwsError> {
    service.model().validate_input(op.name, &input).map_err(|m| AwsError::client(service.validation_error_code(), m))?;
    if !op.permissionless {
        authorize(p, service, protocol, op, caller, ctx, &input).await?;
    }
    service.call(ctx, op, input).await
}

impl Pipeline {
    /// Runs an operation for a caller inside trailwatch (CloudTrail delivering to a log
    /// group as the trail's role): the same validation, authorization and recording as a
    /// request from outside, without HTTP or a signature.
    pub async fn call_as(
        &self,
        caller: &iam::Caller,
        region: &str,
        signing_name: &str,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let service = self
            .services
            .iter()
            .find(|s| s.model().signing_name() == signing_name)
            .ok_or_else(|| AwsError::client("UnknownOperationException", ""))?;
        let op = service.operation(operation).ok_or_else(|| AwsError::client("UnknownOperationException", ""))?;
        let ctx = CallContext {
            request_id: uuid::Uuid::new_v4().to_string(),
            account_id: caller.principal.account_id.clone(),
            region: region.to_owned(),
            principal: caller.principal.clone(),
            now_millis: now_millis(),
            source_ip: None,
            user_agent: caller.principal.session.as_ref().and_then(|s| s.invoked_by.clone()),
        };
        run_and_record(self, &**service, service.protocol(), op, caller, &ctx, Ok(input)).await
    }

    /// Commits every recorded event handed over so far.
    pub async fn shutdown(&self) {
        self.recorder.shutdown().await;
    }
}

/// Evaluates the caller's policies for the operation's action on its resources.
async fn authorize(
    p: &Pipeline,
    service: &dyn Service,
    protocol: Protocol,
    op: &OperationSpec,
    caller: &iam::Caller,
    ctx: &CallContext,
    input: &Value,
) -> Result<(), AwsError> {
    let action = format!("{}:{}", service.model().signing_name(), op.iam_action());
    let resources = wire::authz::resources(service, op, ctx, input);
    let (request_tags, tag_keys) = iam::request_tags(input);
    let mut resource_tags = BTreeMap::new();
    if p.identities.needs_resource_tags(caller) {
        for arn in &resources {
            resource_tags.insert(arn.clone(), service.resource_tags(ctx, arn).await);
        }
    }
    let request = iam::AccessRequest {
        action: &action,
        resources: &resources,
        region: &ctx.region,
        source_ip: ctx.source_ip,
        secure_transport: false,
        now: time::OffsetDateTime::from_unix_timestamp(ctx.now_millis / 1000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        request_tags: &request_tags,
        tag_keys: &tag_keys,
        resource_tags: &resource_tags,
    };
    p.identities.authorize(caller, &request).map_err(|denied| match protocol {
        // A Query-compatible service keeps its Query code in every protocol.
        Protocol::Json | Protocol::Cbor if !service.model().metadata.aws_query_compatible() => {
            AwsError::new("AccessDeniedException", 400, denied.message)
        }
        _ => AwsError::new("AccessDenied", 403, denied.message),
    })
}

/// Works out the service and operation from the protocol markers of the request.
fn route(p: &Pipeline, method: &Method, headers: &HeaderMap, uri: &Uri, body: &Bytes, claim_service: Option<&str>) -> Option<Route> {
    if headers.get(wire::cbor::PROTOCOL_HEADER).is_some_and(|v| v == wire::cbor::PROTOCOL) {
        let (name, op) = wire::cbor::parse_path(uri.path())?;
        let service = p.cbor_service(name)?;
        return Some(Route { service, protocol: Protocol::Cbor, operation: Some(op.to_owned()), body: Decoded::Cbor(body.clone()) });
    }
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, op) = wire::json::split_target(target).unwrap_or((target, ""));
        let service = p.json_service(prefix)?;
        return Some(Route { service, protocol: Protocol::Json, operation: Some(op.to_owned()), body: Decoded::Json(body.clone()) });
    }
    if let Some(service) = p.rest_service(claim_service, || crate::rest::unmarked(headers, uri, body)) {
        return Some(crate::rest::route(service, method, uri, headers, body));
    }
    let mut form = wire::query::parse_form(uri.query().unwrap_or("").as_bytes());
    let from_body = wire::query::parse_form(body);
    form.params.extend(from_body.params);
    form.action = from_body.action.or(form.action);
    form.version = from_body.version.or(form.version);
    let service = p.query_service(claim_service, form.action.as_deref()).or_else(|| p.query_service(None, form.action.as_deref()))?;
    Some(Route { service, protocol: Protocol::Query, operation: form.action.clone(), body: Decoded::Query(form) })
}

/// Verifies the SigV4 signature and returns the caller and the region it scoped.
fn authenticate(p: &Pipeline, route: &Route, http: &HttpRequest<'_>) -> Result<(iam::Caller, String), AwsError> {
    let (method, uri, headers, body) = (http.method, http.uri, http.headers, http.body);
    let protocol = route.protocol;
    let header_pairs: Vec<(&str, &str)> = headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))).collect();
    let payload_hash = hex::encode(Sha256::digest(body));
    let request = sigv4::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &header_pairs,
        payload_sha256: &payload_hash,
    };
    let claim = match sigv4::parse(&request) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(auth_error(protocol, AuthFailure::Missing)),
        Err(e) => return Err(sig_error(protocol, e)),
    };
    let service = route.service.model().signing_name();
    if claim.service != service || !valid_region(&claim.region) {
        let region = if valid_region(&claim.region) { claim.region.clone() } else { "us-east-1".to_owned() };
        if let Err(e) = sigv4::check_scope(&claim, &region, service) {
            return Err(sig_error(protocol, e));
        }
    }
    let now = time::OffsetDateTime::now_utc();
    let caller = match p.identities.authenticate(&claim.access_key_id, claim.security_token.as_deref(), now.unix_timestamp()) {
        Ok(caller) => caller,
        Err(iam::AuthFailure::UnknownKey) if protocol == Protocol::RestXml => return Err(crate::rest::unknown_key(&claim.access_key_id)),
        Err(iam::AuthFailure::UnknownKey) => return Err(auth_error(protocol, AuthFailure::UnknownKey)),
        Err(iam::AuthFailure::ExpiredToken) => return Err(auth_error(protocol, AuthFailure::ExpiredToken)),
    };
    let skew = time::Duration::try_from(p.max_clock_skew).unwrap_or(time::Duration::minutes(5));
    sigv4::verify(&request, &claim, caller.secret().expose(), now, skew).map_err(|e| sig_error(protocol, e))?;
    Ok((caller, claim.region))
}

/// The signing service named in the credential scope, read before the full parse so a
/// Query request can be routed by it.
fn peek_signing_service(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or("").to_owned())
        .or_else(|| {
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).find(|(k, _)| k == "X-Amz-Credential").map(|(_, v)| v.into_owned())
        })?;
    credential.split('/').nth(3).map(str::to_owned)
}

fn valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Turns the body into the JSON value the service and the model validator read.
fn decode_input(service: &dyn Service, op: &OperationSpec, body: &Decoded) -> Result<Value, AwsError> {
    match body {
        Decoded::Json(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Value::Object(Default::default())),
        Decoded::Json(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err(wire::json::serialization_error("Start of structure or map found where not expected.")),
            Err(_) => Err(wire::json::serialization_error("")),
        },
        Decoded::Cbor(bytes) => {
            let shape = service.model().operations.get(op.name).and_then(|o| o.input.as_ref()).map(|r| r.shape.as_str());
            wire::cbor::decode_input(service.model(), shape, bytes)
        }
        Decoded::Query(form) => wire::query::params_to_value(service.model(), op.name, &form.params),
        Decoded::Rest(request) => wire::rest_xml::decode_input(service.model(), op.name, request),
    }
}

fn unknown_operation(protocol: Protocol, name: &str, version: &str) -> AwsError {
    match protocol {
        Protocol::Json | Protocol::Cbor => AwsError::client("UnknownOperationException", ""),
        Protocol::Query => AwsError::client("InvalidAction", format!("Could not find operation {name} for version {version}")),
        Protocol::RestXml => crate::rest::unknown_operation(name),
    }
}

enum AuthFailure {
    Missing,
    UnknownKey,
    ExpiredToken,
}

fn auth_error(protocol: Protocol, failure: AuthFailure) -> AwsError {
    match (protocol, failure) {
        (Protocol::RestXml, AuthFailure::Missing) => crate::rest::missing_authentication(),
        (Protocol::RestXml, AuthFailure::UnknownKey) => crate::rest::unknown_key(""),
        (Protocol::RestXml, AuthFailure::ExpiredToken) => crate::rest::expired_token(),
        (Protocol::Json | Protocol::Cbor, AuthFailure::Missing) => {
            AwsError::new("MissingAuthenticationTokenException", 400, "Missing Authentication Token")
        }
        (Protocol::Query, AuthFailure::Missing) => {
            AwsError::new("MissingAuthenticationToken", 403, "Request is missing Authentication Token")
        }
        (Protocol::Json | Protocol::Cbor, AuthFailure::UnknownKey) => {
            AwsError::new("UnrecognizedClientException", 400, "The security token included in the request is invalid.")
        }
        (Protocol::Query, AuthFailure::UnknownKey) => {
            AwsError::new("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
        }
        (Protocol::Json | Protocol::Cbor, AuthFailure::ExpiredToken) => {
            AwsError::new("ExpiredTokenException", 400, "The security token included in the request is expired")
        }
        (Protocol::Query, AuthFailure::ExpiredToken) => {
            AwsError::new("ExpiredToken", 403, "The security token included in the request is expired")
        }
    }
}

fn sig_error(protocol: Protocol, e: sigv4::Error) -> AwsError {
    if protocol == Protocol::RestXml {
        return crate::rest::signature_error(e);
    }
    let message = e.message().to_owned();
    match (protocol, e) {
        (Protocol::Json | Protocol::Cbor, sigv4::Error::Incomplete(_)) => AwsError::new("IncompleteSignatureException", 400, message),
        (Protocol::Query, sigv4::Error::Incomplete(_)) => AwsError::new("IncompleteSignature", 400, message),
        (Protocol::Json | Protocol::Cbor, _) => AwsError::new("InvalidSignatureException", 400, message),
        (Protocol::Query | Protocol::RestXml, _) => AwsError::new("SignatureDoesNotMatch", 403, message),
    }
}

fn success(service: &dyn Service, protocol: Protocol, op: &OperationSpec, output: &Value, request_id: &str, method: &Method) -> Response {
    match protocol {
        Protocol::RestXml => crate::rest::success(service, op, output, request_id, method),
        Protocol::Json => {
            let body = serde_json::to_vec(output).expect("JSON values serialize");
            respond(StatusCode::OK, json_content_type(service), body, request_id)
        }
        Protocol::Cbor => {
            let shape = service.model().operations.get(op.name).and_then(|o| o.output.as_ref()).map(|r| r.shape.as_str());
            let mut r =
                respond(StatusCode::OK, wire::cbor::CONTENT_TYPE, wire::cbor::encode_output(service.model(), shape, output), request_id);
            r.headers_mut().insert(wire::cbor::PROTOCOL_HEADER, HeaderValue::from_static(wire::cbor::PROTOCOL));
            r
        }
        Protocol::Query => {
            let xml = wire::query::response_xml(service.model(), op.name, output, request_id);
            respond(StatusCode::OK, "text/xml", xml.into_bytes(), request_id)
        }
    }
}

fn error(service: &dyn Service, protocol: Protocol, err: &AwsError, request_id: &str, method: &Method) -> Response {
    let mut response = match protocol {
        Protocol::RestXml => return crate::rest::error(err, request_id, method),
        Protocol::Query => {
            let xml = wire::query::error_xml(&wire::query::namespace(service.model()), err, request_id);
            return respond(status(err), "text/xml", xml.into_bytes(), request_id);
        }
        Protocol::Json => {
            let mut r = json_error(err, request_id);
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(json_content_type(service)));
            r
        }
        Protocol::Cbor => {
            let mut r = respond(status(err), wire::cbor::CONTENT_TYPE, wire::cbor::encode_error(err), request_id);
            r.headers_mut().insert(wire::cbor::PROTOCOL_HEADER, HeaderValue::from_static(wire::cbor::PROTOCOL));
            r
        }
    };
    // Clients of a service that left the Query protocol read its Query error code here.
    if service.model().metadata.aws_query_compatible()
        && let Ok(v) = HeaderValue::from_str(&wire::cbor::query_error_header(err))
    {
        response.headers_mut().insert(wire::cbor::QUERY_ERROR_HEADER, v);
    }
    response
}

/// JSON 1.0 or 1.1, as the service's model says.
fn json_content_type(service: &dyn Service) -> &'static str {
    match service.model().metadata.json_version.as_deref() {
        Some("1.0") => "application/x-amz-json-1.0",
        _ => wire::json::CONTENT_TYPE,
    }
}

fn json_error(err: &AwsError, request_id: &str) -> Response {
    let mut r = respond(status(err), wire::json::CONTENT_TYPE, wire::json::error_body(err), request_id);
    if let Ok(v) = HeaderValue::from_str(&err.code) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

fn status(err: &AwsError) -> StatusCode {
    StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[async_trait::async_trait]
impl trail::Dispatch for Pipeline {
    async fn call_as(
        &self,
        caller: &iam::Caller,
        region: &str,
        signing_name: &str,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        Pipeline::call_as(self, caller, region, signing_name, operation, input).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        assert!(valid_region("us-east-1"));
        assert!(valid_region("us-gov-west-1"));
        assert!(!valid_region("nowhere"));
        assert!(!valid_region("US-EAST-1"));
    }
}
