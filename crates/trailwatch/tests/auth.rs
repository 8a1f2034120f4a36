//! SigV4 authentication as AWS answers it, over both protocols (CloudWatch Logs JSON 1.1
//! and STS Query), through the real binary: wrong secrets, unknown keys, clock skew,
//! missing and malformed signatures, tampered requests, presigned URLs, and the rule that
//! a refused request changes nothing.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use common::{ACCESS_KEY, ACCOUNT, REGION, SECRET_KEY, Server};

/// AWS's message when the recomputed signature differs.
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const UNKNOWN_KEY: &str = "The security token included in the request is invalid.";
const WRONG_SECRET: &str = "wrongSecretKey/For+TrailwatchIntegration00";
const LOGS_TARGET: &str = "Logs_20140328";
const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
const CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn logs_as(server: &Server, key: &str, secret: &str, at: Option<SystemTime>) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&server.sdk_config_with(key, secret, at))
}

fn sts_as(server: &Server, key: &str, secret: &str, at: Option<SystemTime>) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&server.sdk_config_with(key, secret, at))
}

/// An SDK config whose credentials carry a session token.
fn config_with_session_token(server: &Server) -> aws_config::SdkConfig {
    server.sdk_config_session(ACCESS_KEY, SECRET_KEY, "FwoGZXIvYXdzEBYaDOr+session+token")
}

/// Names of every log group, listed with the right credentials.
async fn group_names(server: &Server) -> Vec<String> {
    let out = server.logs().describe_log_groups().send().await.unwrap();
    out.log_groups().iter().map(|g| g.log_group_name().unwrap().to_owned()).collect()
}

/// The error code, message and HTTP status of a failed SDK call.
fn sdk_failure<E, T>(result: Result<T, aws_sdk_cloudwatchlogs::error::SdkError<E>>) -> (String, String, u16)
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    T: std::fmt::Debug,
{
    let err = result.expect_err("the request must be refused");
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or_else(|| panic!("no HTTP response: {err:?}"));
    let code = err.code().unwrap_or_else(|| panic!("no error code: {err:?}")).to_owned();
    let message = err.message().unwrap_or_default().to_owned();
    (code, message, status)
}

/// `YYYYMMDDTHHMMSSZ` of a time, as SigV4 writes it.
fn amz_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Seconds since the epoch of a `YYYYMMDDTHHMMSSZ` time.
fn parse_amz_date(s: &str) -> i64 {
    assert!(s.len() == 16 && &s[8..9] == "T" && s.ends_with('Z'), "not an ISO-8601 basic time: {s:?}");
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap_or_else(|_| panic!("not an ISO-8601 basic time: {s:?}"));
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15)
}

fn epoch_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Checks a clock-window message against AWS's format:
/// `Signature expired: T is now earlier than E (N - 5 min.)` or
/// `Signature not yet current: T is still later than L (N + 5 min.)`,
/// where T is the signing time, N the server's time during the call and E/L = N ∓ window.
fn check_clock_message(message: &str, expired: bool, signed_at: SystemTime, window: &str, window_secs: i64, before: i64, after: i64) {
    let (head, relation, sign) = if expired {
        ("Signature expired: ", " is now earlier than ", '-')
    } else {
        ("Signature not yet current: ", " is still later than ", '+')
    };
    let rest = message.strip_prefix(head).unwrap_or_else(|| panic!("message {message:?} does not start with {head:?}"));
    let (t, rest) = rest.split_once(relation).unwrap_or_else(|| panic!("message {message:?} lacks {relation:?}"));
    let (bound, rest) = rest.split_once(" (").unwrap_or_else(|| panic!("message {message:?} lacks ' ('"));
    let suffix = format!(" {sign} {window}.)");
    let now = rest.strip_suffix(suffix.as_str()).unwrap_or_else(|| panic!("message {message:?} does not end with {suffix:?}"));
    assert_eq!(t, amz_date(signed_at), "the first time is the request's signing time: {message}");
    let (now_s, bound_s) = (parse_amz_date(now), parse_amz_date(bound));
    assert!(before <= now_s && now_s <= after, "server time {now} is not the time of the call ({before}..={after}): {message}");
    let expected = if expired { now_s - window_secs } else { now_s + window_secs };
    assert_eq!(bound_s, expected, "the bound is the server time {sign} the window: {message}");
}

/// A response read from the wire.
#[derive(Debug)]
struct Raw {
    status: u16,
    content_type: String,
    error_type_header: Option<String>,
    body: String,
}

impl Raw {
    /// `(__type, message)` of a JSON 1.1 error, checking its shape.
    fn json_error(&self) -> (String, String) {
        assert_eq!(self.content_type, JSON_CONTENT_TYPE, "{self:?}");
        let v: serde_json::Value = serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("error body is not JSON ({e}): {self:?}"));
        let code = v["__type"].as_str().unwrap_or_else(|| panic!("no __type: {self:?}")).to_owned();
        assert_eq!(self.error_type_header.as_deref(), Some(code.as_str()), "x-amzn-ErrorType names the error: {self:?}");
        (code, v["message"].as_str().unwrap_or_default().to_owned())
    }

    /// `(Code, Message)` of a Query `<ErrorResponse>`, checking its shape.
    fn xml_error(&self) -> (String, String) {
        assert_eq!(self.content_type, "text/xml", "{self:?}");
        assert!(self.body.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"), "{self:?}");
        assert!(self.body.contains("<Type>Sender</Type>"), "{self:?}");
        assert!(self.body.contains("<RequestId>") && self.body.ends_with("</ErrorResponse>"), "{self:?}");
        (xml_text(&self.body, "Code"), xml_text(&self.body, "Message"))
    }
}

/// The text of the first `<tag>` element.
fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{tag}> in {xml}")) + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).unwrap_or_else(|| panic!("no </{tag}> in {xml}"));
    xml[start..start + end].replace("&apos;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// An unsigned CloudWatch Logs request.
fn logs_request(server: &Server, operation: &str, body: &str) -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method("POST")
        .uri(format!("{}/", server.endpoint))
        .header("content-type", JSON_CONTENT_TYPE)
        .header("x-amz-target", format!("{LOGS_TARGET}.{operation}"))
        .body(body.as_bytes().to_vec())
        .unwrap()
}

/// An unsigned STS GetCallerIdentity request.
fn sts_request(server: &Server) -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method("POST")
        .uri(format!("{}/", server.endpoint))
        .header("content-type", FORM_CONTENT_TYPE)
        .body(CALLER_IDENTITY.as_bytes().to_vec())
        .unwrap()
}

/// Signs a request in place with aws-sigv4 (headers or query string).
fn sign(req: &mut http::Request<Vec<u8>>, service: &str, secret: &str, location: SignatureLocation) {
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let identity = Credentials::new(ACCESS_KEY, secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let headers: Vec<(String, String)> =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned())).collect();
    let uri = req.uri().to_string();
    let signable = SignableRequest::new(
        req.method().as_str(),
        uri.as_str(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(req.body()),
    )
    .unwrap();
    let (instructions, _) = aws_sigv4::http_request::sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(req);
}

fn signed_logs_request(server: &Server, operation: &str, body: &str) -> http::Request<Vec<u8>> {
    let mut req = logs_request(server, operation, body);
    sign(&mut req, "logs", SECRET_KEY, SignatureLocation::Headers);
    req
}

/// Sends a request as built, over plain HTTP.
async fn send(req: http::Request<Vec<u8>>) -> Raw {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let req = reqwest::Request::try_from(req).unwrap();
    let resp = client.execute(req).await.expect("the server answers");
    let header = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, content_type, error_type_header) =
        (resp.status().as_u16(), header("content-type").unwrap_or_default(), header("x-amzn-errortype"));
    Raw { status, content_type, error_type_header, body: resp.text().await.unwrap() }
}

fn create_body(name: &str) -> String {
    serde_json::json!({ "logGroupName": name }).to_string()
}

// ---------------------------------------------------------------------------------------
// Wrong secret, unknown key, session token
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_secret_is_invalid_signature_and_changes_nothing() {
    let server = Server::start();
    let good = server.logs();
    common::create_group(&good, "existing", &["s"]).await;
    let bad = logs_as(&server, ACCESS_KEY, WRONG_SECRET, None);

    let (code, message, status) = sdk_failure(bad.create_log_group().log_group_name("wrong-secret").send().await);
    assert_eq!((code.as_str(), message.as_str(), status), ("InvalidSignatureException", MISMATCH, 400));

    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(common::now_millis()).message("forged").build().unwrap();
    let (code, ..) = sdk_failure(bad.put_log_events().log_group_name("existing").log_stream_name("s").log_events(event).send().await);
    assert_eq!(code, "InvalidSignatureException");
    let (code, ..) = sdk_failure(bad.put_retention_policy().log_group_name("existing").retention_in_days(1).send().await);
    assert_eq!(code, "InvalidSignatureException");
    let (code, ..) = sdk_failure(bad.delete_log_stream().log_group_name("existing").log_stream_name("s").send().await);
    assert_eq!(code, "InvalidSignatureException");
    let (code, ..) = sdk_failure(bad.delete_log_group().log_group_name("existing").send().await);
    assert_eq!(code, "InvalidSignatureException");

    // Nothing changed: no new group, the old one with its stream, no events, no retention.
    assert_eq!(group_names(&server).await, ["existing"]);
    let groups = good.describe_log_groups().send().await.unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), None);
    assert!(common::read_stream(&good, "existing", "s").await.is_empty());
}

#[tokio::test]
async fn wrong_secret_on_sts_is_signature_does_not_match_403_xml() {
    let server = Server::start();
    let (code, message, status) = sdk_failure(sts_as(&server, ACCESS_KEY, WRONG_SECRET, None).get_caller_identity().send().await);
    assert_eq!((code.as_str(), message.as_str(), status), ("SignatureDoesNotMatch", MISMATCH, 403));

    // The same on the wire: HTTP 403 with a Query <ErrorResponse>.
    let mut req = sts_request(&server);
    sign(&mut req, "sts", WRONG_SECRET, SignatureLocation::Headers);
    let raw = send(req).await;
    assert_eq!(raw.status, 403, "{raw:?}");
    assert_eq!(raw.xml_error(), ("SignatureDoesNotMatch".to_owned(), MISMATCH.to_owned()));
}

#[tokio::test]
async fn unknown_access_key_is_unrecognized_client() {
    let server = Server::start();
    let (code, message, status) = sdk_failure(
        logs_as(&server, "AKIAUNKNOWN000000000", SECRET_KEY, None).create_log_group().log_group_name("by-stranger").send().await,
    );
    assert_eq!((code.as_str(), message.as_str(), status), ("UnrecognizedClientException", UNKNOWN_KEY, 400));

    let (code, message, status) = sdk_failure(sts_as(&server, "AKIAUNKNOWN000000000", SECRET_KEY, None).get_caller_identity().send().await);
    assert_eq!((code.as_str(), message.as_str(), status), ("InvalidClientTokenId", UNKNOWN_KEY, 403));

    assert!(group_names(&server).await.is_empty());
}

#[tokio::test]
async fn session_token_with_root_keys_is_refused() {
    let server = Server::start();
    let config = config_with_session_token(&server);
    let (code, message, status) =
        sdk_failure(aws_sdk_cloudwatchlogs::Client::new(&config).create_log_group().log_group_name("with-token").send().await);
    assert_eq!((code.as_str(), message.as_str(), status), ("UnrecognizedClientException", UNKNOWN_KEY, 400));
    let (code, _, status) = sdk_failure(aws_sdk_sts::Client::new(&config).get_caller_identity().send().await);
    assert_eq!((code.as_str(), status), ("InvalidClientTokenId", 403));
    assert!(group_names(&server).await.is_empty());
}

// ---------------------------------------------------------------------------------------
// Clock window
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn signature_twenty_minutes_old_is_expired() {
    let server = Server::start();
    let signed_at = SystemTime::now() - Duration::from_secs(20 * 60);
    let before = epoch_secs(SystemTime::now());
    let result = logs_as(&server, ACCESS_KEY, SECRET_KEY, Some(signed_at)).create_log_group().log_group_name("stale").send().await;
    let after = epoch_secs(SystemTime::now());
    let (code, message, status) = sdk_failure(result);
    assert_eq!((code.as_str(), status), ("InvalidSignatureException", 400));
    check_clock_message(&message, true, signed_at, "5 min", 300, before, after);

    // STS says the same under its own code.
    let before = epoch_secs(SystemTime::now());
    let result = sts_as(&server, ACCESS_KEY, SECRET_KEY, Some(signed_at)).get_caller_identity().send().await;
    let after = epoch_secs(SystemTime::now());
    let (code, message, status) = sdk_failure(result);
    assert_eq!((code.as_str(), status), ("SignatureDoesNotMatch", 403));
    check_clock_message(&message, true, signed_at, "5 min", 300, before, after);

    assert!(group_names(&server).await.is_empty());
}

#[tokio::test]
async fn signature_twenty_minutes_ahead_is_not_yet_current() {
    let server = Server::start();
    let signed_at = SystemTime::now() + Duration::from_secs(20 * 60);
    let before = epoch_secs(SystemTime::now());
    let result = logs_as(&server, ACCESS_KEY, SECRET_KEY, Some(signed_at)).create_log_group().log_group_name("early").send().await;
    let after = epoch_secs(SystemTime::now());
    let (code, message, status) = sdk_failure(result);
    assert_eq!((code.as_str(), status), ("InvalidSignatureException", 400));
    check_clock_message(&message, false, signed_at, "5 min", 300, before, after);
    assert!(group_names(&server).await.is_empty());
}

#[tokio::test]
async fn signature_four_minutes_old_is_accepted() {
    let server = Server::start();
    let signed_at = SystemTime::now() - Duration::from_secs(4 * 60);
    logs_as(&server, ACCESS_KEY, SECRET_KEY, Some(signed_at)).create_log_group().log_group_name("four-minutes").send().await.unwrap();
    let who = sts_as(&server, ACCESS_KEY, SECRET_KEY, Some(signed_at)).get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(ACCOUNT));
    // Four minutes ahead is inside the window too.
    let ahead = SystemTime::now() + Duration::from_secs(4 * 60);
    logs_as(&server, ACCESS_KEY, SECRET_KEY, Some(ahead)).create_log_group().log_group_name("four-ahead").send().await.unwrap();
    assert_eq!(group_names(&server).await, ["four-ahead", "four-minutes"]);
}

#[tokio::test]
async fn configured_clock_skew_is_enforced() {
    let server = Server::start_with(&["--max-clock-skew-secs", "60"]);
    let signed_at = SystemTime::now() - Duration::from_secs(120);
    let before = epoch_secs(SystemTime::now());
    let result = logs_as(&server, ACCESS_KEY, SECRET_KEY, Some(signed_at)).create_log_group().log_group_name("two-minutes").send().await;
    let after = epoch_secs(SystemTime::now());
    let (code, message, _) = sdk_failure(result);
    assert_eq!(code, "InvalidSignatureException");
    check_clock_message(&message, true, signed_at, "1 min", 60, before, after);
    // Inside the narrower window is still fine.
    let recent = SystemTime::now() - Duration::from_secs(20);
    logs_as(&server, ACCESS_KEY, SECRET_KEY, Some(recent)).create_log_group().log_group_name("twenty-seconds").send().await.unwrap();
    assert_eq!(group_names(&server).await, ["twenty-seconds"]);
}

// ---------------------------------------------------------------------------------------
// Raw requests: missing, malformed and tampered signatures
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn raw_signed_requests_are_accepted() {
    // The control for the raw-request tests below: the signer and sender are right.
    let server = Server::start();
    let raw = send(signed_logs_request(&server, "CreateLogGroup", &create_body("raw-ok"))).await;
    assert_eq!(raw.status, 200, "{raw:?}");
    let mut req = sts_request(&server);
    sign(&mut req, "sts", SECRET_KEY, SignatureLocation::Headers);
    let raw = send(req).await;
    assert_eq!(raw.status, 200, "{raw:?}");
    assert!(raw.body.contains(&format!("<Account>{ACCOUNT}</Account>")), "{raw:?}");
    assert_eq!(group_names(&server).await, ["raw-ok"]);
}

#[tokio::test]
async fn missing_authentication_token() {
    let server = Server::start();
    let raw = send(logs_request(&server, "CreateLogGroup", &create_body("anonymous"))).await;
    assert_eq!(raw.status, 400, "{raw:?}");
    assert_eq!(raw.json_error(), ("MissingAuthenticationTokenException".to_owned(), "Missing Authentication Token".to_owned()));

    let raw = send(sts_request(&server)).await;
    assert_eq!(raw.status, 403, "{raw:?}");
    assert_eq!(raw.xml_error().0, "MissingAuthenticationToken");

    assert!(group_names(&server).await.is_empty());
}

#[tokio::test]
async fn truncated_authorization_header_is_incomplete_signature() {
    let server = Server::start();
    let truncate = |req: &mut http::Request<Vec<u8>>| {
        let auth = req.headers()["authorization"].to_str().unwrap().to_owned();
        let cut = auth[..auth.find(", SignedHeaders=").expect("a full SigV4 header")].to_owned();
        req.headers_mut().insert("authorization", http::HeaderValue::from_str(&cut).unwrap());
        cut
    };

    let mut req = signed_logs_request(&server, "CreateLogGroup", &create_body("truncated"));
    let cut = truncate(&mut req);
    let raw = send(req).await;
    assert_eq!(raw.status, 400, "{raw:?}");
    let (code, message) = raw.json_error();
    assert_eq!(code, "IncompleteSignatureException");
    assert_eq!(
        message,
        format!(
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={cut}"
        )
    );

    let mut req = sts_request(&server);
    sign(&mut req, "sts", SECRET_KEY, SignatureLocation::Headers);
    truncate(&mut req);
    let raw = send(req).await;
    assert_eq!(raw.xml_error().0, "IncompleteSignature", "{raw:?}");

    assert!(group_names(&server).await.is_empty());
}

#[tokio::test]
async fn body_altered_after_signing_is_refused() {
    let server = Server::start();
    let original = signed_logs_request(&server, "CreateLogGroup", &create_body("group-a"));
    let mut altered = http::Request::builder().method("POST").uri(original.uri().clone());
    for (k, v) in original.headers() {
        altered = altered.header(k, v);
    }
    let altered = altered.body(create_body("group-b").into_bytes()).unwrap();
    let raw = send(altered).await;
    assert_eq!(raw.status, 400, "{raw:?}");
    assert_eq!(raw.json_error(), ("InvalidSignatureException".to_owned(), MISMATCH.to_owned()));
    assert!(group_names(&server).await.is_empty());

    // The request as signed goes through, and creates only what it said.
    let raw = send(original).await;
    assert_eq!(raw.status, 200, "{raw:?}");
    assert_eq!(group_names(&server).await, ["group-a"]);
}

#[tokio::test]
async fn credential_scoped_to_another_service_is_refused() {
    let server = Server::start();
    let mut req = logs_request(&server, "CreateLogGroup", &create_body("wrong-scope"));
    sign(&mut req, "sts", SECRET_KEY, SignatureLocation::Headers);
    let raw = send(req).await;
    assert_eq!(raw.status, 400, "{raw:?}");
    let (code, message) = raw.json_error();
    assert_eq!(code, "InvalidSignatureException");
    assert!(message.contains("Credential should be scoped to correct service: 'logs'."), "{message}");

    let mut req = sts_request(&server);
    sign(&mut req, "logs", SECRET_KEY, SignatureLocation::Headers);
    let raw = send(req).await;
    assert_eq!(raw.status, 403, "{raw:?}");
    let (code, message) = raw.xml_error();
    assert_eq!(code, "SignatureDoesNotMatch");
    assert!(message.contains("Credential should be scoped to correct service: 'sts'."), "{message}");

    assert!(group_names(&server).await.is_empty());
}

#[tokio::test]
async fn presigned_sts_url() {
    let server = Server::start();
    let presigned = || {
        let mut req =
            http::Request::builder().method("GET").uri(format!("{}/?{CALLER_IDENTITY}", server.endpoint)).body(Vec::new()).unwrap();
        sign(&mut req, "sts", SECRET_KEY, SignatureLocation::QueryParams);
        assert!(req.headers().get("authorization").is_none(), "the signature travels in the URL");
        req
    };

    let raw = send(presigned()).await;
    assert_eq!(raw.status, 200, "{raw:?}");
    assert!(raw.body.starts_with("<GetCallerIdentityResponse"), "{raw:?}");
    assert!(raw.body.contains(&format!("<Account>{ACCOUNT}</Account>")), "{raw:?}");
    assert!(raw.body.contains(&format!("<Arn>arn:aws:iam::{ACCOUNT}:root</Arn>")), "{raw:?}");

    // Flip one hex digit of X-Amz-Signature.
    let req = presigned();
    let url = req.uri().to_string();
    let at = url.find("X-Amz-Signature=").expect("a presigned URL") + "X-Amz-Signature=".len();
    let flipped = if &url[at..at + 1] == "0" { "1" } else { "0" };
    let tampered = format!("{}{flipped}{}", &url[..at], &url[at + 1..]);
    assert_ne!(tampered, url);
    let raw = send(http::Request::builder().method("GET").uri(tampered).body(Vec::new()).unwrap()).await;
    assert_eq!(raw.status, 403, "{raw:?}");
    assert_eq!(raw.xml_error(), ("SignatureDoesNotMatch".to_owned(), MISMATCH.to_owned()));
}

// ---------------------------------------------------------------------------------------
// Signed but not a valid call
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_operation() {
    let server = Server::start();
    let raw = send(signed_logs_request(&server, "FrobnicateLogGroup", &create_body("frob"))).await;
    assert_eq!(raw.status, 400, "{raw:?}");
    assert_eq!(raw.json_error().0, "UnknownOperationException");

    // An unknown target prefix as well.
    let mut req = logs_request(&server, "CreateLogGroup", &create_body("frob"));
    req.headers_mut().insert("x-amz-target", http::HeaderValue::from_static("Nope_20990101.CreateLogGroup"));
    sign(&mut req, "logs", SECRET_KEY, SignatureLocation::Headers);
    let raw = send(req).await;
    assert_eq!(raw.json_error().0, "UnknownOperationException", "{raw:?}");

    assert!(group_names(&server).await.is_empty());
}

#[tokio::test]
async fn malformed_json_is_serialization_exception() {
    let server = Server::start();
    for body in ["{\"logGroupName\": \"half", "not json at all", "[\"logGroupName\"]"] {
        let raw = send(signed_logs_request(&server, "CreateLogGroup", body)).await;
        assert_eq!(raw.status, 400, "{body}: {raw:?}");
        assert_eq!(raw.json_error().0, "SerializationException", "{body}: {raw:?}");
    }
    assert!(group_names(&server).await.is_empty());
}
