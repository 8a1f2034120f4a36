//! Reading the claim out of the `Authorization` header or the presign query parameters.
//!
//! The checks run in the order AWS runs them (as observed on real responses), so a request
//! with several faults gets the same first complaint it would get from AWS.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::{ALGORITHM, Claim, Error, Location, Request, TERMINATOR, header_value};

/// Longest lifetime of a presigned URL: seven days, the life of a signing key.
const MAX_EXPIRES_SECS: i64 = 604_800;

/// Parse: Ok(None) when the request carries no SigV4 authentication at all (no
/// Authorization header, no X-Amz-Algorithm/X-Amz-Credential query) -> caller answers
/// MissingAuthenticationToken.
///
/// An `Authorization` header that does not start with `AWS4-` (a bearer token, SigV2) and a
/// presign query whose `X-Amz-Algorithm` is not `AWS4-HMAC-SHA256` also count as "no SigV4
/// authentication", as they do at AWS.
pub fn parse(req: &Request) -> Result<Option<Claim>, Error> {
    let authorization = header_value(req.headers, "authorization");
    let query_algorithm = query_param(req.query, "X-Amz-Algorithm").is_some();
    if authorization.is_some() && query_algorithm {
        return Err(Error::Mismatch(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP \
             header."
                .to_owned(),
        ));
    }
    if let Some(value) = authorization {
        if !value.trim_start().starts_with("AWS4-") {
            return Ok(None);
        }
        return parse_header(req, value.trim()).map(Some);
    }
    if query_algorithm || query_param(req.query, "X-Amz-Credential").is_some() {
        return parse_query(req);
    }
    Ok(None)
}

/// The parameters of an `Authorization: AWS4-HMAC-SHA256 Credential=..., ...` header.
#[derive(Default)]
struct HeaderParams<'a> {
    credential: Option<&'a str>,
    signed_headers: Option<&'a str>,
    signature: Option<&'a str>,
}

/// Claim from the `Authorization` header; `header` is its trimmed value.
fn parse_header(req: &Request, header: &str) -> Result<Claim, Error> {
    let (algorithm, rest) = header.split_once(|c: char| c.is_ascii_whitespace()).unwrap_or((header, ""));
    let params = header_params(header, rest)?;
    let date = header_value(req.headers, "x-amz-date").map(|v| (v, true)).or_else(|| header_value(req.headers, "date").map(|v| (v, false)));

    let mut missing = String::new();
    if params.credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if params.signature.is_none() {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if params.signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header. ",
        );
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some((date, is_amz_date))) =
        (params.credential, params.signature, params.signed_headers, date)
    else {
        missing.push_str("Authorization=");
        missing.push_str(header);
        return Err(Error::Incomplete(missing));
    };

    let request_time = if is_amz_date { parse_amz_date(date.trim())? } else { parse_http_date(date.trim())? };
    check_algorithm(algorithm)?;
    let scope = parse_credential(credential)?;
    Ok(Claim {
        location: Location::Header,
        access_key_id: scope.access_key_id.to_owned(),
        scope_date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        signed_headers: split_signed_headers(signed_headers),
        signature: signature.to_owned(),
        amz_date: format_amz_date(request_time),
        request_time,
        security_token: header_value(req.headers, "x-amz-security-token").map(|t| t.trim().to_owned()),
        expires_secs: None,
    })
}

/// Splits the header's parameters the way AWS does: on commas and whitespace alike, so
/// `Credential= AKID/...` leaves a token without `=`, which AWS rejects. A repeated key keeps
/// its last value; unknown keys are ignored.
fn header_params<'a>(header: &str, rest: &'a str) -> Result<HeaderParams<'a>, Error> {
    let mut params = HeaderParams::default();
    let tokens = rest.split(|c: char| c == ',' || c.is_ascii_whitespace()).filter(|t| !t.is_empty());
    for token in tokens {
        let Some((key, value)) = token.split_once('=') else {
            return Err(Error::Incomplete(format!(
                "'{token}' not a valid key=value pair (missing equal-sign) in Authorization \
                 header: '{header}'."
            )));
        };
        match key {
            "Credential" => params.credential = Some(value),
            "SignedHeaders" => params.signed_headers = Some(value),
            "Signature" => params.signature = Some(value),
            _ => {}
        }
    }
    Ok(params)
}

/// Claim from the `X-Amz-*` query parameters of a presigned URL.
fn parse_query(req: &Request) -> Result<Option<Claim>, Error> {
    let get = |name| query_param(req.query, name);
    let algorithm = get("X-Amz-Algorithm");
    let credential = get("X-Amz-Credential");
    let signature = get("X-Amz-Signature");
    let signed_headers = get("X-Amz-SignedHeaders");
    let date = get("X-Amz-Date");

    let mut missing = String::new();
    for (name, value) in [
        ("X-Amz-Algorithm", &algorithm),
        ("X-Amz-Credential", &credential),
        ("X-Amz-Signature", &signature),
        ("X-Amz-SignedHeaders", &signed_headers),
        ("X-Amz-Date", &date),
    ] {
        if value.is_none() {
            missing.push_str("AWS query-string parameters must include '");
            missing.push_str(name);
            missing.push_str("'. ");
        }
    }
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (algorithm, credential, signature, signed_headers, date)
    else {
        missing.push_str("Re-examine the query-string parameters.");
        return Err(Error::Incomplete(missing));
    };
    // AWS answers an unknown presign algorithm as if the request were not signed at all.
    if algorithm != ALGORITHM {
        return Ok(None);
    }

    let expires_secs = get("X-Amz-Expires").map(|v| parse_expires(&v)).transpose()?;
    let request_time = parse_amz_date(&date)?;
    let scope = parse_credential(&credential)?;
    Ok(Some(Claim {
        location: Location::Query,
        access_key_id: scope.access_key_id.to_owned(),
        scope_date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        signed_headers: split_signed_headers(&signed_headers),
        signature: signature.into_owned(),
        amz_date: format_amz_date(request_time),
        request_time,
        security_token: get("X-Amz-Security-Token").map(Cow::into_owned),
        expires_secs,
    }))
}

/// `X-Amz-Expires` must be a number of seconds up to a week (S3's messages; other services
/// publish none).
fn parse_expires(value: &str) -> Result<u64, Error> {
    let secs: i64 = value.parse().map_err(|_| Error::Incomplete("X-Amz-Expires should be a number".to_owned()))?;
    if secs < 0 {
        return Err(Error::Incomplete("X-Amz-Expires must be non-negative".to_owned()));
    }
    if secs > MAX_EXPIRES_SECS {
        return Err(Error::Incomplete(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given \
             X-Amz-Expires must be less than 604800 seconds"
                .to_owned(),
        ));
    }
    Ok(secs.unsigned_abs())
}

/// Only HMAC-SHA256 is supported (SigV4a's ECDSA is not).
fn check_algorithm(algorithm: &str) -> Result<(), Error> {
    if algorithm == ALGORITHM {
        Ok(())
    } else {
        Err(Error::Incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). ")))
    }
}

/// The five parts of `AKID/20150830/us-east-1/service/aws4_request`.
struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

/// Splits the credential; AWS ignores trailing slashes and insists on the terminator.
fn parse_credential(credential: &str) -> Result<Scope<'_>, Error> {
    let trimmed = credential.trim_end_matches('/');
    let parts: Vec<&str> = trimmed.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(Error::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{trimmed}'"
        )));
    };
    if terminator != TERMINATOR {
        return Err(Error::Mismatch(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
             '{terminator}'. "
        )));
    }
    Ok(Scope { access_key_id, date, region, service })
}

/// `host;x-amz-date` -> `["host", "x-amz-date"]`, lowercased, empty names dropped.
fn split_signed_headers(list: &str) -> Vec<String> {
    list.split(';').map(str::trim).filter(|h| !h.is_empty()).map(str::to_ascii_lowercase).collect()
}

/// AWS's complaint about a date it cannot read.
fn bad_date(value: &str) -> Error {
    Error::Incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{value}'. See \
         http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// `20150830T123600Z`, the only form `X-Amz-Date` may take.
pub(crate) fn parse_amz_date(value: &str) -> Result<OffsetDateTime, Error> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    if value.len() != 16 {
        return Err(bad_date(value));
    }
    PrimitiveDateTime::parse(value, format).map(PrimitiveDateTime::assume_utc).map_err(|_| bad_date(value))
}

/// The `Date` header: the HTTP form `Sun, 30 Aug 2015 12:36:00 GMT`, or the basic ISO form.
fn parse_http_date(value: &str) -> Result<OffsetDateTime, Error> {
    let format = format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    PrimitiveDateTime::parse(value, format)
        .map(PrimitiveDateTime::assume_utc)
        .or_else(|_| parse_amz_date(value))
        .map_err(|_| bad_date(value))
}

/// ISO-8601 basic format in UTC, as used in the string to sign and in AWS's messages.
pub(crate) fn format_amz_date(time: OffsetDateTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time.to_offset(time::UtcOffset::UTC).format(format).expect("a UTC time formats in the basic format")
}

/// Raw `name=value` pairs of a query string; a piece without `=` has an empty value.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Decoded value of the first query parameter whose decoded name is `name`.
fn query_param<'a>(query: &'a str, name: &str) -> Option<Cow<'a, str>> {
    query_pairs(query)
        .find(|(n, _)| percent_decode_str(n).decode_utf8_lossy() == name)
        .map(|(_, v)| percent_decode_str(v).decode_utf8_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

    fn request<'a>(headers: &'a [(&'a str, &'a str)], query: &'a str) -> Request<'a> {
        Request {
            method: "GET",
            path: "/",
            query,
            headers,
            payload_sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        }
    }

    fn incomplete(headers: &[(&str, &str)], query: &str) -> String {
        match parse(&request(headers, query)) {
            Err(Error::Incomplete(m)) => m,
            other => panic!("expected Incomplete, got {other:?}"),
        }
    }

    #[test]
    fn header_claim_has_every_part() {
        let headers =
            [("Host", "iam.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("X-Amz-Security-Token", " tok "), ("Authorization", AUTH)];
        let claim = parse(&request(&headers, "")).unwrap().unwrap();
        assert_eq!(claim.location, Location::Header);
        assert_eq!(claim.access_key_id, "AKIDEXAMPLE");
        assert_eq!(claim.scope_date, "20150830");
        assert_eq!(claim.region, "us-east-1");
        assert_eq!(claim.service, "iam");
        assert_eq!(claim.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(claim.signature, "abc");
        assert_eq!(claim.amz_date, "20150830T123600Z");
        assert_eq!(claim.request_time, time::macros::datetime!(2015-08-30 12:36:00 UTC));
        assert_eq!(claim.security_token.as_deref(), Some("tok"));
        assert_eq!(claim.expires_secs, None);
    }

    #[test]
    fn date_header_is_the_fallback_and_x_amz_date_wins() {
        let headers = [("Date", "Sun, 30 Aug 2015 12:36:00 GMT"), ("Authorization", AUTH)];
        let claim = parse(&request(&headers, "")).unwrap().unwrap();
        assert_eq!(claim.amz_date, "20150830T123600Z");

        let headers = [("Date", "Mon, 31 Aug 2015 00:00:00 GMT"), ("x-amz-date", "20150830T123600Z"), ("Authorization", AUTH)];
        let claim = parse(&request(&headers, "")).unwrap().unwrap();
        assert_eq!(claim.amz_date, "20150830T123600Z");
    }

    #[test]
    fn unreadable_dates_are_incomplete() {
        for bad in ["201", "2015-08-30T12:36:00Z", "20150830T123600", "20150830T123600Zx"] {
            let headers = [("X-Amz-Date", bad), ("Authorization", AUTH)];
            assert_eq!(
                incomplete(&headers, ""),
                format!(
                    "Date must be in ISO-8601 'basic format'. Got '{bad}'. See \
                     http://en.wikipedia.org/wiki/ISO_8601"
                )
            );
        }
        let headers = [("Date", "yesterday"), ("Authorization", AUTH)];
        assert!(incomplete(&headers, "").contains("Got 'yesterday'"));
    }

    #[test]
    fn no_sigv4_at_all_is_none() {
        assert_eq!(parse(&request(&[("Host", "h")], "Action=List")), Ok(None));
        for other in ["Bearer abc", "AWS AKID:sig", "", "AWS4"] {
            let headers = [("Authorization", other)];
            assert_eq!(parse(&request(&headers, "")), Ok(None), "{other:?}");
        }
    }

    #[test]
    fn header_and_query_together_are_refused() {
        let headers = [("X-Amz-Date", "20150830T123600Z"), ("Authorization", AUTH)];
        assert_eq!(
            parse(&request(&headers, "X-Amz-Algorithm=AWS4-HMAC-SHA256")),
            Err(Error::Mismatch(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as \
                 HTTP header."
                    .to_owned()
            ))
        );
    }

    #[test]
    fn every_missing_part_is_listed_with_the_header() {
        let headers = [("Authorization", "AWS4-HMAC-SHA256 Credential=ABCDEF")];
        assert_eq!(
            incomplete(&headers, ""),
            "Authorization header requires 'Signature' parameter. Authorization header \
             requires 'SignedHeaders' parameter. Authorization header requires existence of \
             either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 \
             Credential=ABCDEF"
        );
    }

    #[test]
    fn a_token_without_equal_sign_is_named() {
        let header = "AWS4-HMAC-SHA256 Credential= AKID/20150830/us-east-1/iam/aws4_request, \
                      SignedHeaders=host, Signature=abc";
        let headers = [("X-Amz-Date", "20150830T123600Z"), ("Authorization", header)];
        assert_eq!(
            incomplete(&headers, ""),
            format!(
                "'AKID/20150830/us-east-1/iam/aws4_request' not a valid key=value pair \
                 (missing equal-sign) in Authorization header: '{header}'."
            )
        );
    }

    #[test]
    fn other_algorithms_are_unsupported() {
        let header = AUTH.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
        let headers = [("X-Amz-Date", "20150830T123600Z"), ("Authorization", &header)];
        assert_eq!(
            incomplete(&headers, ""),
            "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for \
             now). "
        );
    }

    #[test]
    fn credential_needs_five_parts_and_the_terminator() {
        let header = AUTH.replace("/iam/aws4_request", "/iam");
        let headers = [("X-Amz-Date", "20150830T123600Z"), ("Authorization", &header)];
        assert_eq!(
            incomplete(&headers, ""),
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/iam'"
        );

        let header = AUTH.replace("aws4_request", "aws4_request//");
        let headers = [("X-Amz-Date", "20150830T123600Z"), ("Authorization", &header)];
        assert!(parse(&request(&headers, "")).unwrap().is_some());

        let header = AUTH.replace("aws4_request", "aws4_reqest");
        let headers = [("X-Amz-Date", "20150830T123600Z"), ("Authorization", &header)];
        assert_eq!(
            parse(&request(&headers, "")),
            Err(Error::Mismatch(
                "Credential should be scoped with a valid terminator: 'aws4_request', not \
                 'aws4_reqest'. "
                    .to_owned()
            ))
        );
    }

    const PRESIGN: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=a%2Bb%3D&X-Amz-Signature=abc";

    #[test]
    fn query_claim_has_every_part() {
        let claim = parse(&request(&[], PRESIGN)).unwrap().unwrap();
        assert_eq!(claim.location, Location::Query);
        assert_eq!(claim.access_key_id, "AKID");
        assert_eq!(claim.service, "sts");
        assert_eq!(claim.signed_headers, ["host"]);
        assert_eq!(claim.expires_secs, Some(60));
        assert_eq!(claim.security_token.as_deref(), Some("a+b="));
        assert_eq!(claim.signature, "abc");
    }

    #[test]
    fn query_lists_every_missing_parameter() {
        assert_eq!(
            incomplete(&[], "X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request"),
            "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string \
             parameters must include 'X-Amz-Signature'. AWS query-string parameters must \
             include 'X-Amz-SignedHeaders'. AWS query-string parameters must include \
             'X-Amz-Date'. Re-examine the query-string parameters."
        );
    }

    #[test]
    fn unknown_presign_algorithm_is_not_sigv4() {
        let query = PRESIGN.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
        assert_eq!(parse(&request(&[], &query)), Ok(None));
    }

    #[test]
    fn expires_is_bounded() {
        let with = |v: &str| PRESIGN.replace("X-Amz-Expires=60", &format!("X-Amz-Expires={v}"));
        assert_eq!(incomplete(&[], &with("soon")), "X-Amz-Expires should be a number");
        assert_eq!(incomplete(&[], &with("-1")), "X-Amz-Expires must be non-negative");
        assert_eq!(
            incomplete(&[], &with("604801")),
            "X-Amz-Expires must be less than a week (in seconds); that is, the given \
             X-Amz-Expires must be less than 604800 seconds"
        );
        let claim = parse(&request(&[], &with("604800"))).unwrap().unwrap();
        assert_eq!(claim.expires_secs, Some(604_800));
        let without = PRESIGN.replace("X-Amz-Expires=60&", "");
        let claim = parse(&request(&[], &without)).unwrap().unwrap();
        assert_eq!(claim.expires_secs, None);
    }
}
