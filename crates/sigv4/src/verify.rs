//! Checking a parsed claim: clock window, signed-header rules, scope, payload, signature.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::canonical::{canonical_request_with, string_to_sign};
use crate::error::MISMATCH;
use crate::parse::format_amz_date;
use crate::{Claim, Error, Location, Options, Request, TERMINATOR, header_value};

/// Verify the claim with the secret key, at server time `now`, allowing `max_skew` clock
/// difference (5 min for logs/iam/sts; a per-service setting).
pub fn verify(req: &Request, claim: &Claim, secret_access_key: &str, now: OffsetDateTime, max_skew: Duration) -> Result<(), Error> {
    let options = Options::for_service(&claim.service);
    verify_with(req, claim, secret_access_key, now, max_skew, &options)
}

/// Like [`verify`], with explicit canonicalization `options`.
///
/// Checks run in AWS's order: clock, signed headers, credential date, payload hash, and
/// last the signature, compared in constant time.
pub fn verify_with(
    req: &Request,
    claim: &Claim,
    secret_access_key: &str,
    now: OffsetDateTime,
    max_skew: Duration,
    options: &Options,
) -> Result<(), Error> {
    check_time(claim, now, max_skew)?;
    check_signed_headers(req, claim)?;
    check_scope_date(claim)?;
    check_payload_hash(req, claim)?;
    let canonical = canonical_request_with(req, claim, options);
    let key = signing_key(secret_access_key, &claim.scope_date, &claim.region, &claim.service);
    let expected = signature(&key, &string_to_sign(claim, &canonical));
    if bool::from(expected.as_bytes().ct_eq(claim.signature.as_bytes())) { Ok(()) } else { Err(Error::Mismatch(MISMATCH.to_owned())) }
}

/// Checks the credential scope against the endpoint's `region` and `service`, with AWS's
/// combined message (it also repeats [`verify`]'s check of the scope date).
pub fn check_scope(claim: &Claim, region: &str, service: &str) -> Result<(), Error> {
    let mut message = String::new();
    if claim.region != region {
        message.push_str(&format!("Credential should be scoped to a valid region, not '{}'. ", claim.region));
    }
    if claim.service != service {
        message.push_str(&format!("Credential should be scoped to correct service: '{service}'. "));
    }
    if let Err(e) = check_scope_date(claim) {
        message.push_str(e.message());
    }
    if message.is_empty() { Ok(()) } else { Err(Error::Mismatch(message)) }
}

/// The SigV4 signing key: HMAC chain over date, region, service and the terminator.
///
/// It depends only on its arguments, so a caller may cache it per key and day.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut seed = Vec::with_capacity(4 + secret.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&seed, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

/// The hex signature of `string_to_sign` under `signing_key`.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    let mut out = [0; 32];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// The request time must lie within `max_skew` of `now`. A presigned URL also runs out
/// after its `X-Amz-Expires`; outside S3, AWS applies the clock window to presigned URLs
/// as well, whatever their `X-Amz-Expires`.
fn check_time(claim: &Claim, now: OffsetDateTime, max_skew: Duration) -> Result<(), Error> {
    let t = claim.request_time;
    let latest = now + max_skew;
    if t > latest {
        return Err(Error::Expired(format!(
            "Signature not yet current: {} is still later than {} ({} + {}.)",
            claim.amz_date,
            format_amz_date(latest),
            format_amz_date(now),
            describe(max_skew)
        )));
    }
    let earliest = now - max_skew;
    let window_applies = claim.location == Location::Header || claim.service != "s3";
    if window_applies && t < earliest {
        return Err(Error::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - {}.)",
            claim.amz_date,
            format_amz_date(earliest),
            format_amz_date(now),
            describe(max_skew)
        )));
    }
    if let Some(expires) = claim.expires_secs {
        let expires = Duration::seconds(i64::try_from(expires).unwrap_or(i64::MAX));
        if now > t.saturating_add(expires) {
            return Err(Error::Expired("Request has expired".to_owned()));
        }
    }
    Ok(())
}

/// `5 min` as in AWS's messages; seconds when the window is not whole minutes.
fn describe(window: Duration) -> String {
    let secs = window.whole_seconds();
    if secs % 60 == 0 { format!("{} min", secs / 60) } else { format!("{secs} sec") }
}

/// `host` must be signed, so a signature cannot be replayed against another endpoint, and so
/// must every `x-amz-*` header sent, since those carry request semantics. The session token
/// is exempt: AWS lets signers add it after signing, and it only has to match the key id.
fn check_signed_headers(req: &Request, claim: &Claim) -> Result<(), Error> {
    let is_signed = |name: &str| claim.signed_headers.iter().any(|h| h.eq_ignore_ascii_case(name));
    if !is_signed("host") && !is_signed(":authority") {
        return Err(Error::Mismatch("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned()));
    }
    let unsigned = req
        .headers
        .iter()
        .map(|(n, _)| *n)
        .find(|name| is_amz_header(name) && !name.eq_ignore_ascii_case("x-amz-security-token") && !is_signed(name));
    match unsigned {
        Some(name) => Err(Error::Mismatch(format!("'{}' must be a 'SignedHeader' in the AWS Authorization.", name.to_ascii_lowercase()))),
        None => Ok(()),
    }
}

fn is_amz_header(name: &str) -> bool {
    name.get(..6).is_some_and(|prefix| prefix.eq_ignore_ascii_case("x-amz-"))
}

/// The scope's date must be the day of the request time.
fn check_scope_date(claim: &Claim) -> Result<(), Error> {
    let day = claim.amz_date.get(..8).unwrap_or_default();
    if claim.scope_date == day {
        Ok(())
    } else {
        Err(Error::Mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{day}', from '{}'.",
            claim.scope_date, claim.amz_date
        )))
    }
}

/// A declared `x-amz-content-sha256` must be the body's hash. S3 alone may declare
/// `UNSIGNED-PAYLOAD`; it also has its own message, while other services would simply
/// compute a different signature.
fn check_payload_hash(req: &Request, claim: &Claim) -> Result<(), Error> {
    let Some(declared) = header_value(req.headers, "x-amz-content-sha256") else {
        return Ok(());
    };
    let declared = declared.trim();
    let s3 = claim.service == "s3";
    if declared.eq_ignore_ascii_case(req.payload_sha256) || (s3 && declared == "UNSIGNED-PAYLOAD") {
        return Ok(());
    }
    Err(Error::Mismatch(if s3 {
        "The provided 'x-amz-content-sha256' header does not match what was computed.".to_owned()
    } else {
        MISMATCH.to_owned()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{canonical_request, parse};
    use time::macros::datetime;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const T: OffsetDateTime = datetime!(2015-08-30 12:36:00 UTC);

    #[test]
    fn signing_key_matches_the_aws_documentation() {
        // The example in the IAM user guide, "Calculate the signature".
        assert_eq!(
            hex::encode(signing_key(SECRET, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    /// Signs `headers` (+ body hash) with our own canonicalization, for error-path tests.
    fn sign(method: &str, path: &str, query: &str, headers: &mut Vec<(&'static str, String)>, payload: &str, service: &str, signed: &str) {
        let scope = format!("AKID/20150830/us-east-1/{service}/aws4_request");
        let mut auth = format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed}, Signature=0");
        headers.push(("Authorization", auth.clone()));
        let view: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let req = Request { method, path, query, headers: &view, payload_sha256: payload };
        let claim = parse(&req).unwrap().unwrap();
        let sts = string_to_sign(&claim, &canonical_request(&req, &claim));
        let key = signing_key(SECRET, "20150830", "us-east-1", service);
        auth.truncate(auth.len() - 1);
        auth.push_str(&signature(&key, &sts));
        headers.pop();
        headers.push(("Authorization", auth));
    }

    fn check(headers: &[(&'static str, String)], query: &str, payload: &str, now: OffsetDateTime) -> Result<(), Error> {
        let view: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let req = Request { method: "POST", path: "/", query, headers: &view, payload_sha256: payload };
        let claim = parse(&req)?.expect("signed");
        verify(&req, &claim, SECRET, now, Duration::minutes(5))
    }

    fn base() -> Vec<(&'static str, String)> {
        vec![("Host", "logs.us-east-1.amazonaws.com".to_owned()), ("X-Amz-Date", "20150830T123600Z".to_owned())]
    }

    #[test]
    fn a_self_signed_request_verifies() {
        let mut headers = base();
        sign("POST", "/", "", &mut headers, EMPTY, "logs", "host;x-amz-date");
        assert_eq!(check(&headers, "", EMPTY, T), Ok(()));
    }

    #[test]
    fn host_must_be_signed() {
        let mut headers = base();
        sign("POST", "/", "", &mut headers, EMPTY, "logs", "x-amz-date");
        assert_eq!(
            check(&headers, "", EMPTY, T),
            Err(Error::Mismatch("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned()))
        );
    }

    #[test]
    fn sent_x_amz_headers_must_be_signed_but_the_token() {
        let mut headers = base();
        headers.push(("X-Amz-Target", "Logs_20140328.PutLogEvents".to_owned()));
        sign("POST", "/", "", &mut headers, EMPTY, "logs", "host;x-amz-date");
        assert_eq!(
            check(&headers, "", EMPTY, T),
            Err(Error::Mismatch("'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.".to_owned()))
        );

        let mut headers = base();
        sign("POST", "/", "", &mut headers, EMPTY, "logs", "host;x-amz-date");
        headers.push(("X-Amz-Security-Token", "added-after-signing".to_owned()));
        headers.push(("X-Amzn-Trace-Id", "Root=1-5759e988".to_owned()));
        headers.push(("User-Agent", "aws-cli/2".to_owned()));
        assert_eq!(check(&headers, "", EMPTY, T), Ok(()));
    }

    #[test]
    fn scope_date_must_be_the_request_day() {
        let mut headers = vec![("Host", "h".to_owned()), ("X-Amz-Date", "20150831T123600Z".to_owned())];
        sign("POST", "/", "", &mut headers, EMPTY, "logs", "host;x-amz-date");
        assert_eq!(
            check(&headers, "", EMPTY, datetime!(2015-08-31 12:36:00 UTC)),
            Err(Error::Mismatch(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '20150830' != '20150831', from '20150831T123600Z'."
                    .to_owned()
            ))
        );
    }

    #[test]
    fn check_scope_combines_aws_messages() {
        let mut headers = base();
        sign("POST", "/", "", &mut headers, EMPTY, "logs", "host;x-amz-date");
        let view: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let req = Request { method: "POST", path: "/", query: "", headers: &view, payload_sha256: EMPTY };
        let claim = parse(&req).unwrap().unwrap();
        assert_eq!(check_scope(&claim, "us-east-1", "logs"), Ok(()));
        assert_eq!(
            check_scope(&claim, "eu-west-1", "sts"),
            Err(Error::Mismatch(
                "Credential should be scoped to a valid region, not 'us-east-1'. Credential \
                 should be scoped to correct service: 'sts'. "
                    .to_owned()
            ))
        );
        let mut other_day = claim.clone();
        other_day.scope_date = "20150829".to_owned();
        assert_eq!(
            check_scope(&other_day, "eu-west-1", "logs"),
            Err(Error::Mismatch(
                "Credential should be scoped to a valid region, not 'us-east-1'. Date in \
                 Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
                 HTTP: '20150829' != '20150830', from '20150830T123600Z'."
                    .to_owned()
            ))
        );
    }

    #[test]
    fn declared_payload_hash_must_match_the_body() {
        let body = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
        for (service, declared, expected) in [
            ("logs", body, Ok(())),
            ("logs", "UNSIGNED-PAYLOAD", Err(MISMATCH)),
            ("logs", EMPTY, Err(MISMATCH)),
            ("s3", "UNSIGNED-PAYLOAD", Ok(())),
            ("s3", EMPTY, Err("The provided 'x-amz-content-sha256' header does not match what was computed.")),
            (
                "s3",
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                Err("The provided 'x-amz-content-sha256' header does not match what was computed."),
            ),
        ] {
            let mut headers = base();
            headers.push(("X-Amz-Content-Sha256", declared.to_owned()));
            let signed = "host;x-amz-content-sha256;x-amz-date";
            sign("POST", "/", "", &mut headers, body, service, signed);
            assert_eq!(check(&headers, "", body, T), expected.map_err(|m| Error::Mismatch(m.to_owned())), "{service} {declared}");
        }
    }

    #[test]
    fn skew_window_is_described_as_configured() {
        let mut headers = base();
        sign("POST", "/", "", &mut headers, EMPTY, "logs", "host;x-amz-date");
        let view: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let req = Request { method: "POST", path: "/", query: "", headers: &view, payload_sha256: EMPTY };
        let claim = parse(&req).unwrap().unwrap();
        let later = T + Duration::minutes(20);
        assert_eq!(
            verify(&req, &claim, SECRET, later, Duration::minutes(15)),
            Err(Error::Expired(
                "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z \
                 (20150830T125600Z - 15 min.)"
                    .to_owned()
            ))
        );
        assert_eq!(
            verify(&req, &claim, SECRET, T - Duration::seconds(100), Duration::seconds(90)),
            Err(Error::Expired(
                "Signature not yet current: 20150830T123600Z is still later than \
                 20150830T123550Z (20150830T123420Z + 90 sec.)"
                    .to_owned()
            ))
        );
        // A server clock in another offset means the same instant.
        let offset = later.to_offset(time::macros::offset!(+2));
        assert_eq!(verify(&req, &claim, SECRET, offset, Duration::minutes(15)), verify(&req, &claim, SECRET, later, Duration::minutes(15)));
    }

    fn presigned_claim(service: &str, expires: Option<u64>) -> Claim {
        Claim {
            location: Location::Query,
            access_key_id: "AKID".to_owned(),
            scope_date: "20150830".to_owned(),
            region: "us-east-1".to_owned(),
            service: service.to_owned(),
            signed_headers: vec!["host".to_owned()],
            signature: String::new(),
            request_time: T,
            amz_date: "20150830T123600Z".to_owned(),
            security_token: None,
            expires_secs: expires,
        }
    }

    #[test]
    fn presigned_urls_run_out() {
        let skew = Duration::minutes(5);
        let sts = presigned_claim("sts", Some(60));
        assert_eq!(check_time(&sts, T + Duration::seconds(60), skew), Ok(()));
        assert_eq!(check_time(&sts, T + Duration::seconds(61), skew), Err(Error::Expired("Request has expired".to_owned())));
        // Outside S3 the clock window still bounds a long-lived URL.
        let sts = presigned_claim("sts", Some(3600));
        assert!(check_time(&sts, T + Duration::minutes(6), skew).unwrap_err().message().starts_with("Signature expired: "));
        // S3 honours X-Amz-Expires alone.
        let s3 = presigned_claim("s3", Some(3600));
        assert_eq!(check_time(&s3, T + Duration::minutes(60), skew), Ok(()));
        assert_eq!(check_time(&s3, T + Duration::minutes(61), skew), Err(Error::Expired("Request has expired".to_owned())));
    }
}
