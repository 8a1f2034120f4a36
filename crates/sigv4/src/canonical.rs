//! The canonical request and the string to sign, rebuilt from the received request.

use std::fmt::Write as _;

use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

use crate::parse::query_pairs;
use crate::{ALGORITHM, Claim, Location, Options, Request, TERMINATOR, header_value};

/// The canonical request, built with the rules AWS applies to `claim.service`.
pub fn canonical_request(req: &Request, claim: &Claim) -> String {
    canonical_request_with(req, claim, &Options::for_service(&claim.service))
}

/// The canonical request, built with explicit canonicalization `options`.
///
/// Six lines: method, URI, query, headers (one line each, then an empty line), the signed
/// header list and the payload hash. Only the headers the client listed are used.
pub fn canonical_request_with(req: &Request, claim: &Claim, options: &Options) -> String {
    let mut out = String::with_capacity(256 + 2 * (req.path.len() + req.query.len()));
    out.push_str(req.method);
    out.push('\n');
    push_uri(&mut out, req.path, options);
    out.push('\n');
    let presigned = claim.location == Location::Query;
    push_query(&mut out, req.query, presigned, options.presigned_token_signed);
    out.push('\n');
    for name in &claim.signed_headers {
        out.push_str(name);
        out.push(':');
        push_header_values(&mut out, req.headers, name);
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in claim.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash(req, claim));
    out
}

/// The string to sign: algorithm, request time, credential scope, hash of the canonical request.
pub fn string_to_sign(claim: &Claim, canonical_request: &str) -> String {
    let hash = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    format!("{ALGORITHM}\n{}\n{}/{}/{}/{TERMINATOR}\n{hash}", claim.amz_date, claim.scope_date, claim.region, claim.service)
}

/// The payload hash the client signed. Everyone but S3 signs the body's real hash; S3
/// signs whatever `x-amz-content-sha256` says (checked against the body in `verify`), and
/// presigned S3 URLs sign `UNSIGNED-PAYLOAD` when that header is absent.
fn payload_hash<'a>(req: &Request<'a>, claim: &Claim) -> &'a str {
    if claim.service != "s3" {
        return req.payload_sha256;
    }
    match header_value(req.headers, "x-amz-content-sha256") {
        Some(declared) => declared.trim(),
        None if claim.location == Location::Query => "UNSIGNED-PAYLOAD",
        None => req.payload_sha256,
    }
}

/// Appends the canonical URI of the raw `path`.
///
/// Clients sign the path they send, encoded once more (double encoding), after dropping `.`
/// and `..` segments and empty segments (botocore's `remove_dot_segments`). S3 signs the path
/// encoded just once: decoding it first makes `%7E` and `~` alike.
fn push_uri(out: &mut String, path: &str, options: &Options) {
    let start = out.len();
    if options.normalize_path {
        let mut segments: Vec<&str> = Vec::new();
        for segment in path.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    segments.pop();
                }
                s => segments.push(s),
            }
        }
        if path.starts_with('/') {
            out.push('/');
        }
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            push_path_segment(out, segment, options.double_encode_path);
        }
        if path.ends_with('/') && !segments.is_empty() {
            out.push('/');
        }
    } else {
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            push_path_segment(out, segment, options.double_encode_path);
        }
    }
    if out.len() == start {
        out.push('/');
    }
}

/// Appends one path segment, encoded over the raw text or over its decoded bytes.
fn push_path_segment(out: &mut String, segment: &str, double_encode: bool) {
    if double_encode {
        push_encoded(out, segment.as_bytes());
    } else {
        push_encoded(out, &percent_decode_str(segment).collect::<Vec<u8>>());
    }
}

/// Appends the canonical query: every parameter decoded then re-encoded the SigV4 way,
/// sorted by name then value. A presigned request leaves out its own `X-Amz-Signature`
/// (and `X-Amz-Security-Token` when the signer added it after signing).
fn push_query(out: &mut String, query: &str, presigned: bool, token_signed: bool) {
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .map(|(name, value)| (reencode(name), reencode(value)))
        .filter(|(name, _)| !presigned || !(name == "X-Amz-Signature" || (!token_signed && name == "X-Amz-Security-Token")))
        .collect();
    // Tuples compare by name first, then value, byte by byte: what SigV4 asks.
    pairs.sort_unstable();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
}

/// Decodes `%XX` escapes (a `+` stays a literal plus) and encodes the bytes again.
fn reencode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    push_encoded(&mut out, &percent_decode_str(raw).collect::<Vec<u8>>());
    out
}

/// Appends every value of header `name` in received order, joined by commas, each trimmed
/// and with inner runs of whitespace (including folded line breaks) reduced to one space.
fn push_header_values(out: &mut String, headers: &[(&str, &str)], name: &str) {
    let values = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, word) in value.split(is_header_space).filter(|w| !w.is_empty()).enumerate() {
            if j > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
}

/// Whitespace that header canonicalization collapses.
fn is_header_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Appends `bytes` URI-encoded: only `A-Za-z0-9-._~` stay as they are, the rest is `%XX`.
fn push_encoded(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            write!(out, "%{b:02X}").expect("writing to a String cannot fail");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str, options: Options) -> String {
        let mut out = String::new();
        push_uri(&mut out, path, &options);
        out
    }

    fn query(raw: &str, presigned: bool, token_signed: bool) -> String {
        let mut out = String::new();
        push_query(&mut out, raw, presigned, token_signed);
        out
    }

    const S3: Options = Options { normalize_path: false, double_encode_path: false, presigned_token_signed: true };

    #[test]
    fn service_rules() {
        assert_eq!(Options::for_service("logs"), Options::default());
        assert_eq!(Options::default(), Options { normalize_path: true, double_encode_path: true, presigned_token_signed: true });
        assert_eq!(Options::for_service("s3"), S3);
    }

    #[test]
    fn non_s3_paths_are_encoded_twice() {
        let o = Options::default();
        assert_eq!(uri("/foo%20bar/b%C3%A9", o), "/foo%2520bar/b%25C3%25A9");
        assert_eq!(uri("/a+b/c:d", o), "/a%2Bb/c%3Ad");
        assert_eq!(uri("/-._~", o), "/-._~");
    }

    #[test]
    fn non_s3_paths_are_normalized() {
        let o = Options::default();
        assert_eq!(uri("", o), "/");
        assert_eq!(uri("/", o), "/");
        assert_eq!(uri("//a//b//", o), "/a/b/");
        assert_eq!(uri("/a/./b/../c", o), "/a/c");
        assert_eq!(uri("/a/b/..", o), "/a");
        assert_eq!(uri("/../..", o), "/");
        assert_eq!(uri("/a/%2E%2E", o), "/a/%252E%252E");
    }

    #[test]
    fn s3_paths_are_encoded_once_and_kept() {
        assert_eq!(uri("/bucket/my%20key", S3), "/bucket/my%20key");
        assert_eq!(uri("/bucket/a%7Eb~c", S3), "/bucket/a~b~c");
        assert_eq!(uri("/bucket//a/./b/../", S3), "/bucket//a/./b/../");
        assert_eq!(uri("/bucket/a!b", S3), "/bucket/a%21b");
    }

    #[test]
    fn query_is_reencoded_and_sorted() {
        assert_eq!(query("b=2&a=2&a=1&c&A=0&%7e=~", false, true), "A=0&a=1&a=2&b=2&c=&~=~");
        assert_eq!(query("a=x+y&b=x%20y&c=%zz", false, true), "a=x%2By&b=x%20y&c=%25zz");
        assert_eq!(query("Param=2&Param-3=1", false, true), "Param=2&Param-3=1");
        assert_eq!(query("&&a=1&", false, true), "a=1");
        assert_eq!(query("", false, true), "");
    }

    #[test]
    fn presigned_query_drops_its_signature() {
        let raw = "X-Amz-Signature=s&X-Amz-Security-Token=t&a=1";
        assert_eq!(query(raw, true, true), "X-Amz-Security-Token=t&a=1");
        assert_eq!(query(raw, true, false), "a=1");
        assert_eq!(query(raw, false, false), "X-Amz-Security-Token=t&X-Amz-Signature=s&a=1");
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let headers =
            [("My-Header", "  a   b \t c  "), ("Other", "x"), ("my-header", "value1\n  value2\r\n     value3"), ("MY-HEADER", "")];
        let mut out = String::new();
        push_header_values(&mut out, &headers, "my-header");
        assert_eq!(out, "a b c,value1 value2 value3,");
        let mut out = String::new();
        push_header_values(&mut out, &headers, "absent");
        assert_eq!(out, "");
    }
}
