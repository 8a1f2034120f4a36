//! Runs every case of the AWS SigV4 signing test suite (aws-c-auth `v4`) through the
//! verifier, signed in the header and presigned in the query, and checks that every
//! alteration of a signed part is refused.
//!
//! The suite lives outside the repository, in `/work/shared/testdata`; it is read in place.

use std::fmt::Debug;
use std::fs;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use sigv4::{
    Claim, Error, Location, Options, Request, canonical_request, canonical_request_with, check_scope, parse, signature, signing_key,
    string_to_sign, verify, verify_with,
};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const MISMATCH: &str = "The request signature we calculated does not match the signature you \
provided. Check your AWS Secret Access Key and signing method. Consult the service \
documentation for details.";

const SKEW: Duration = Duration::minutes(5);

/// Cases the brief names explicitly; their absence would mean a different corpus.
const REQUIRED_CASES: [&str; 6] = [
    "get-vanilla",
    "get-vanilla-with-session-token",
    "post-sts-header-after",
    "post-sts-header-before",
    "get-header-value-multiline",
    "post-x-www-form-urlencoded",
];

// ---------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------

fn suite_dir() -> PathBuf {
    // Read at run time: a test binary reused from a build in another checkout must still
    // look beside this one.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from);
    let dir = manifest.join("../../../shared/testdata/aws-signing-test-suite/v4");
    assert!(
        dir.is_dir(),
        "the AWS signing test suite corpus is missing: expected it at {} \
         (shared/testdata/aws-signing-test-suite/v4 next to the repository; CI provides it)",
        dir.display()
    );
    dir
}

/// One case folder with its `context.json`.
struct Case {
    name: String,
    dir: PathBuf,
    access_key_id: String,
    secret: String,
    token: Option<String>,
    region: String,
    service: String,
    timestamp: OffsetDateTime,
    expires_secs: u64,
    options: Options,
}

impl Case {
    fn load(dir: PathBuf) -> Case {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(dir.join("context.json")).unwrap();
        let ctx: serde_json::Value = serde_json::from_str(&text).unwrap();
        let s = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
        let creds = &ctx["credentials"];
        Case {
            access_key_id: s(&creds["access_key_id"]),
            secret: s(&creds["secret_access_key"]),
            token: creds["token"].as_str().map(str::to_owned),
            region: s(&ctx["region"]),
            service: s(&ctx["service"]),
            timestamp: OffsetDateTime::parse(ctx["timestamp"].as_str().unwrap(), &Rfc3339).unwrap(),
            expires_secs: ctx["expiration_in_seconds"].as_u64().unwrap(),
            // The suite always double-encodes (as every non-S3 service does); `normalize`
            // and `omit_session_token` vary per case.
            options: Options {
                normalize_path: ctx["normalize"].as_bool().unwrap(),
                double_encode_path: true,
                presigned_token_signed: !ctx["omit_session_token"].as_bool().unwrap_or(false),
            },
            name,
            dir,
        }
    }

    fn file(&self, loc: Location, suffix: &str) -> String {
        let path = self.dir.join(format!("{}-{suffix}", prefix(loc)));
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn signed_request(&self, loc: Location) -> HttpRequest {
        HttpRequest::parse(&self.file(loc, "signed-request.txt"))
    }

    /// Whether the crate's defaults (what logs/iam/sts use) are this case's rules.
    fn uses_defaults(&self) -> bool {
        self.options == Options::default()
    }

    fn canonical(&self, req: &Request, claim: &Claim) -> String {
        if self.uses_defaults() { canonical_request(req, claim) } else { canonical_request_with(req, claim, &self.options) }
    }

    /// Parses and verifies `req` as a server would; a request without SigV4 is a test bug.
    fn check(&self, req: &HttpRequest, secret: &str, now: OffsetDateTime) -> Result<(), Error> {
        self.check_with_skew(req, secret, now, SKEW)
    }

    fn check_with_skew(&self, req: &HttpRequest, secret: &str, now: OffsetDateTime, skew: Duration) -> Result<(), Error> {
        req.with(|r| {
            let claim = parse(r)?.expect("the request should carry a SigV4 signature");
            if self.uses_defaults() {
                verify(r, &claim, secret, now, skew)
            } else {
                verify_with(r, &claim, secret, now, skew, &self.options)
            }
        })
    }
}

fn prefix(loc: Location) -> &'static str {
    match loc {
        Location::Header => "header",
        Location::Query => "query",
    }
}

fn cases() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> =
        fs::read_dir(suite_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("context.json").is_file()).collect();
    dirs.sort();
    let cases: Vec<Case> = dirs.into_iter().map(Case::load).collect();
    for required in REQUIRED_CASES {
        assert!(cases.iter().any(|c| c.name == required), "suite case {required} is missing");
    }
    cases
}

// ---------------------------------------------------------------------------------------
// Raw HTTP/1.1 requests as the suite writes them
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct HttpRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl HttpRequest {
    /// Request line, headers (a line starting with whitespace continues the previous value;
    /// the fold is kept so the verifier's whitespace handling is what gets tested), blank
    /// line, body.
    fn parse(text: &str) -> HttpRequest {
        let (head, body) = match text.find("\n\n") {
            Some(i) => (&text[..i], &text[i + 2..]),
            None => (text.trim_end_matches('\n'), ""),
        };
        let mut lines = head.lines();
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method");
        // The target may hold spaces (get-space): the version is after the last one.
        let (target, _version) = rest.rsplit_once(' ').expect("HTTP version");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let (_, value) = headers.last_mut().expect("a folded line follows a header");
                value.push('\n');
                value.push_str(line);
            } else {
                let (name, value) = line.split_once(':').expect("header line");
                headers.push((name.to_owned(), value.to_owned()));
            }
        }
        HttpRequest { method: method.to_owned(), path: path.to_owned(), query: query.to_owned(), headers, body: body.to_owned() }
    }

    /// Runs `f` on the borrowed view a server would build, hashing the body.
    fn with<R>(&self, f: impl FnOnce(&Request) -> R) -> R {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let hash = hex::encode(Sha256::digest(self.body.as_bytes()));
        f(&Request { method: &self.method, path: &self.path, query: &self.query, headers: &headers, payload_sha256: &hash })
    }

    fn claim(&self) -> Claim {
        self.with(parse).expect("parse").expect("a SigV4 claim")
    }

    fn header_mut(&mut self, name: &str) -> &mut String {
        let (_, value) = self.headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)).unwrap_or_else(|| panic!("no header {name}"));
        value
    }

    fn without_header(&self, name: &str) -> HttpRequest {
        let mut r = self.clone();
        r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        r
    }

    fn with_header(&self, name: &str, value: &str) -> HttpRequest {
        let mut r = self.clone();
        r.headers.push((name.to_owned(), value.to_owned()));
        r
    }

    fn edit(&self, f: impl FnOnce(&mut HttpRequest)) -> HttpRequest {
        let mut r = self.clone();
        f(&mut r);
        r
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                (n.to_owned(), v.to_owned())
            })
            .collect()
    }

    fn set_query_pairs(&mut self, pairs: &[(String, String)]) {
        self.query = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&");
    }

    /// Replaces the raw value of query parameter `name` by `f(old)`.
    fn with_query_value(&self, name: &str, f: impl FnOnce(&str) -> String) -> HttpRequest {
        let mut pairs = self.query_pairs();
        let pair = pairs.iter_mut().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no query parameter {name}"));
        pair.1 = f(&pair.1);
        self.edit(|r| r.set_query_pairs(&pairs))
    }

    fn without_query(&self, names: &[&str]) -> HttpRequest {
        let pairs: Vec<_> = self.query_pairs().into_iter().filter(|(n, _)| !names.contains(&n.as_str())).collect();
        self.edit(|r| r.set_query_pairs(&pairs))
    }

    /// Replaces the signature, wherever the request carries it.
    fn with_signature(&self, loc: Location, f: impl FnOnce(&str) -> String) -> HttpRequest {
        match loc {
            Location::Query => self.with_query_value("X-Amz-Signature", f),
            Location::Header => self.edit(|r| {
                let auth = r.header_mut("authorization");
                let at = auth.find("Signature=").unwrap() + "Signature=".len();
                let new = f(&auth[at..]);
                auth.replace_range(at.., &new);
            }),
        }
    }

    /// Drops `host` from the signed header list, wherever the request carries it.
    fn without_signed_host(&self, loc: Location) -> HttpRequest {
        let drop_host = |list: &str, sep: &str| list.split(sep).filter(|h| *h != "host").collect::<Vec<_>>().join(sep);
        match loc {
            Location::Query => self.with_query_value("X-Amz-SignedHeaders", |v| drop_host(v, "%3B")),
            Location::Header => self.edit(|r| {
                let auth = r.header_mut("authorization");
                let start = auth.find("SignedHeaders=").unwrap() + "SignedHeaders=".len();
                let end = start + auth[start..].find(',').unwrap();
                let new = drop_host(&auth[start..end], ";");
                auth.replace_range(start..end, &new);
            }),
        }
    }

    /// Replaces the credential (`AKID/date/region/service/aws4_request`), wherever it is.
    fn with_credential(&self, loc: Location, f: impl Fn(&str) -> String) -> HttpRequest {
        match loc {
            Location::Query => self.with_query_value("X-Amz-Credential", |v| f(&v.replace("%2F", "/")).replace('/', "%2F")),
            Location::Header => self.edit(|r| {
                let auth = r.header_mut("authorization");
                let start = auth.find("Credential=").unwrap() + "Credential=".len();
                let end = start + auth[start..].find(',').unwrap();
                let new = f(&auth[start..end]);
                auth.replace_range(start..end, &new);
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Collecting results: one line per check, all failures reported together
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Report {
    checks: usize,
    failures: Vec<String>,
}

impl Report {
    fn expect<T: PartialEq + Debug>(&mut self, what: String, got: T, want: T) {
        self.checks += 1;
        if got != want {
            self.failures.push(format!("{what}\n    got:  {got:?}\n    want: {want:?}"));
        }
    }

    fn finish(self, test: &str) {
        println!("{test}: {} checks, {} failed", self.checks, self.failures.len());
        assert!(self.checks > 0, "{test} checked nothing");
        assert!(
            self.failures.is_empty(),
            "{test}: {} of {} checks failed:\n{}",
            self.failures.len(),
            self.checks,
            self.failures.join("\n")
        );
    }
}

const LOCATIONS: [Location; 2] = [Location::Header, Location::Query];

fn mismatch() -> Result<(), Error> {
    Err(Error::Mismatch(MISMATCH.to_owned()))
}

fn incomplete(message: String) -> Result<Option<Claim>, Error> {
    Err(Error::Incomplete(message))
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn every_signed_request_verifies_with_the_suites_canonical_forms() {
    let mut report = Report::default();
    for case in cases() {
        for loc in LOCATIONS {
            let label = |what: &str| format!("{} [{}] {what}", case.name, prefix(loc));
            let req = case.signed_request(loc);
            let claim = req.claim();

            report.expect(label("location"), claim.location, loc);
            report.expect(label("access key"), claim.access_key_id.clone(), case.access_key_id.clone());
            report.expect(label("scope date"), claim.scope_date.clone(), "20150830".to_owned());
            report.expect(label("region"), claim.region.clone(), case.region.clone());
            report.expect(label("service"), claim.service.clone(), case.service.clone());
            report.expect(label("request time"), claim.request_time, case.timestamp);
            report.expect(label("amz date"), claim.amz_date.clone(), "20150830T123600Z".to_owned());
            report.expect(label("signature"), claim.signature.clone(), case.file(loc, "signature.txt").trim().to_owned());
            // Whoever carries a token in this suite carries the context's token.
            report.expect(label("security token"), claim.security_token.clone(), case.token.clone());
            let expires = match loc {
                Location::Header => None,
                Location::Query => Some(case.expires_secs),
            };
            report.expect(label("expires"), claim.expires_secs, expires);

            let want_canonical = case.file(loc, "canonical-request.txt");
            let signed_line = want_canonical.lines().nth_back(1).unwrap();
            report.expect(label("signed headers"), claim.signed_headers.join(";"), signed_line.to_owned());

            let canonical = req.with(|r| case.canonical(r, &claim));
            report.expect(label("canonical request"), canonical.clone(), want_canonical);
            let sts = string_to_sign(&claim, &canonical);
            report.expect(label("string to sign"), sts.clone(), case.file(loc, "string-to-sign.txt"));
            let key = signing_key(&case.secret, &claim.scope_date, &claim.region, &claim.service);
            report.expect(label("computed signature"), signature(&key, &sts), case.file(loc, "signature.txt").trim().to_owned());

            report.expect(label("verify"), case.check(&req, &case.secret, case.timestamp), Ok(()));
            report.expect(label("scope"), check_scope(&claim, &case.region, &case.service), Ok(()));
        }
    }
    report.finish("every_signed_request_verifies");
}

/// Every way of changing what the signature covers, for one signed request.
fn alterations(case: &Case, loc: Location, req: &HttpRequest) -> Vec<(String, HttpRequest)> {
    let claim = req.claim();
    let mut out: Vec<(String, HttpRequest)> = Vec::new();

    let other_method = if req.method == "GET" { "POST" } else { "GET" };
    out.push(("method".into(), req.edit(|r| r.method = other_method.into())));
    out.push(("path".into(), req.edit(|r| r.path.push('x'))));
    out.push(("body".into(), req.edit(|r| r.body.push('x'))));

    // Query: a parameter more, and each signed value changed.
    out.push((
        "extra query parameter".into(),
        req.edit(|r| {
            if !r.query.is_empty() {
                r.query.push('&');
            }
            r.query.push_str("extra=1");
        }),
    ));
    for (name, _) in req.query_pairs() {
        let signed = match name.as_str() {
            "X-Amz-Signature" | "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Date" | "X-Amz-SignedHeaders" => false,
            "X-Amz-Security-Token" => case.options.presigned_token_signed,
            _ => true,
        };
        if signed {
            let altered = req.with_query_value(&name, |v| {
                if name == "X-Amz-Expires" { (v.parse::<u64>().unwrap() - 1).to_string() } else { format!("{v}x") }
            });
            out.push((format!("query value {name}"), altered));
        }
    }

    // Credential scope parts that enter the string to sign.
    out.push(("credential region".into(), req.with_credential(loc, |c| c.replace("/us-east-1/", "/us-west-2/"))));
    out.push(("credential service".into(), req.with_credential(loc, |c| c.replace("/service/", "/logs/"))));

    // Each signed header: value changed, header removed, repeated values reordered.
    let mut names = claim.signed_headers.clone();
    names.dedup();
    for name in &names {
        let altered = req.edit(|r| {
            let value = r.header_mut(name);
            if name == "x-amz-date" {
                // Still a valid date on the same day, so only the signature can catch it.
                *value = "20150830T123601Z".into();
            } else {
                value.push('x');
            }
        });
        out.push((format!("header value {name}"), altered));
        if name != "x-amz-date" {
            out.push((format!("header removed {name}"), req.without_header(name)));
        }
        let values: Vec<String> = req.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).collect();
        if values.windows(2).any(|w| w[0] != w[1]) {
            let reordered = req.edit(|r| {
                let mut reversed = values.iter().rev();
                for (n, v) in r.headers.iter_mut() {
                    if n.eq_ignore_ascii_case(name) {
                        *v = reversed.next().unwrap().clone();
                    }
                }
            });
            out.push((format!("header order {name}"), reordered));
        }
    }

    // The signature itself.
    out.push((
        "signature last digit".into(),
        req.with_signature(loc, |s| {
            let last = if s.ends_with('0') { '1' } else { '0' };
            format!("{}{last}", &s[..s.len() - 1])
        }),
    ));
    out.push(("signature uppercase".into(), req.with_signature(loc, str::to_uppercase)));
    out.push(("signature truncated".into(), req.with_signature(loc, |s| s[..s.len() - 1].to_owned())));
    out.push(("signature empty".into(), req.with_signature(loc, |_| String::new())));
    out
}

#[test]
fn altering_any_signed_part_is_a_mismatch() {
    let mut report = Report::default();
    for case in cases() {
        for loc in LOCATIONS {
            let req = case.signed_request(loc);
            let label = |what: &str| format!("{} [{}] {what}", case.name, prefix(loc));
            for (what, altered) in alterations(&case, loc, &req) {
                report.expect(label(&what), case.check(&altered, &case.secret, case.timestamp), mismatch());
            }
            for secret in ["wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz", "", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY "] {
                report.expect(label(&format!("secret {secret:?}")), case.check(&req, secret, case.timestamp), mismatch());
            }
        }
    }
    report.finish("altering_any_signed_part_is_a_mismatch");
}

#[test]
fn changes_outside_the_signature_still_verify() {
    let mut report = Report::default();
    for case in cases() {
        for loc in LOCATIONS {
            let req = case.signed_request(loc);
            let label = |what: &str| format!("{} [{}] {what}", case.name, prefix(loc));
            let ok = |r: &HttpRequest| case.check(r, &case.secret, case.timestamp);

            let unsigned = req
                .with_header("X-Forwarded-For", "10.0.0.1")
                .with_header("User-Agent", "aws-cli/2.15")
                .with_header("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793");
            report.expect(label("unsigned headers added"), ok(&unsigned), Ok(()));

            let recased = req.edit(|r| {
                for (n, _) in r.headers.iter_mut() {
                    *n = n.to_ascii_uppercase();
                }
            });
            report.expect(label("header names upper-cased"), ok(&recased), Ok(()));

            let padded = req.edit(|r| {
                for (n, v) in r.headers.iter_mut() {
                    if !n.eq_ignore_ascii_case("authorization") {
                        *v = format!("  {v} \t");
                    }
                }
            });
            report.expect(label("header values padded"), ok(&padded), Ok(()));

            let reordered = req.edit(|r| {
                let mut pairs = r.query_pairs();
                pairs.reverse();
                r.set_query_pairs(&pairs);
            });
            report.expect(label("query parameters reordered"), ok(&reordered), Ok(()));

            if case.options.normalize_path {
                let dotted = req.edit(|r| r.path.insert_str(0, "/."));
                report.expect(label("equivalent path /./..."), ok(&dotted), Ok(()));
            }

            // Tokens added after signing (omit_session_token) are not covered, by design.
            if case.token.is_some() && loc == Location::Header {
                let signed = req.claim().signed_headers.iter().any(|h| h == "x-amz-security-token");
                if !signed {
                    let changed = req.edit(|r| r.header_mut("x-amz-security-token").push('x'));
                    report.expect(label("unsigned token header changed"), ok(&changed), Ok(()));
                }
            }
            if case.token.is_some() && loc == Location::Query && !case.options.presigned_token_signed {
                let changed = req.with_query_value("X-Amz-Security-Token", |v| format!("{v}x"));
                report.expect(label("unsigned token parameter changed"), ok(&changed), Ok(()));
            }
        }
    }
    report.finish("changes_outside_the_signature_still_verify");
}

#[test]
fn unsigned_x_amz_headers_and_unsigned_host_are_refused() {
    let mut report = Report::default();
    for case in cases() {
        for loc in LOCATIONS {
            let req = case.signed_request(loc);
            let label = |what: &str| format!("{} [{}] {what}", case.name, prefix(loc));
            report.expect(
                label("unsigned x-amz header"),
                case.check(&req.with_header("X-Amz-Meta-Foo", "bar"), &case.secret, case.timestamp),
                Err(Error::Mismatch("'x-amz-meta-foo' must be a 'SignedHeader' in the AWS Authorization.".into())),
            );
            // Take host out of the signed list (the signature breaks too, but AWS names host).
            let unsigned_host = req.without_signed_host(loc);
            report.expect(
                label("host not signed"),
                case.check(&unsigned_host, &case.secret, case.timestamp),
                Err(Error::Mismatch("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into())),
            );
        }
    }
    report.finish("unsigned_x_amz_headers_and_unsigned_host_are_refused");
}

#[test]
fn the_clock_window_and_presign_expiry_are_enforced() {
    let mut report = Report::default();
    for case in cases() {
        for loc in LOCATIONS {
            let req = case.signed_request(loc);
            let label = |what: &str| format!("{} [{}] {what}", case.name, prefix(loc));
            let t = case.timestamp;
            let at = |now: OffsetDateTime| case.check(&req, &case.secret, now);

            report.expect(
                label("20 minutes later"),
                at(t + Duration::minutes(20)),
                Err(Error::Expired(
                    "Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z \
                     (20150830T125600Z - 5 min.)"
                        .into(),
                )),
            );
            report.expect(
                label("20 minutes earlier"),
                at(t - Duration::minutes(20)),
                Err(Error::Expired(
                    "Signature not yet current: 20150830T123600Z is still later than \
                     20150830T122100Z (20150830T121600Z + 5 min.)"
                        .into(),
                )),
            );
            report.expect(label("5 minutes later"), at(t + SKEW), Ok(()));
            report.expect(label("5 minutes earlier"), at(t - SKEW), Ok(()));
            let just_out = SKEW + Duration::seconds(1);
            report.expect(label("5 minutes 1 second later"), at(t + just_out).map_err(|e| matches!(e, Error::Expired(_))), Err(true));
            report.expect(label("5 minutes 1 second earlier"), at(t - just_out).map_err(|e| matches!(e, Error::Expired(_))), Err(true));

            if loc == Location::Query {
                // With a window wider than X-Amz-Expires, the URL's own lifetime decides.
                let wide = Duration::hours(2);
                let expires = Duration::seconds(case.expires_secs as i64);
                let check = |now| case.check_with_skew(&req, &case.secret, now, wide);
                report.expect(label("at X-Amz-Expires"), check(t + expires), Ok(()));
                report.expect(
                    label("after X-Amz-Expires"),
                    check(t + expires + Duration::seconds(1)),
                    Err(Error::Expired("Request has expired".into())),
                );
            }
        }
    }
    report.finish("the_clock_window_and_presign_expiry_are_enforced");
}

#[test]
fn requests_without_sigv4_parse_to_none() {
    let mut report = Report::default();
    for case in cases() {
        let label = |loc, what: &str| format!("{} [{}] {what}", case.name, prefix(loc));
        let header = case.signed_request(Location::Header);
        let none = |r: &HttpRequest| r.with(parse);
        report.expect(label(Location::Header, "no Authorization"), none(&header.without_header("authorization")), Ok(None));
        report.expect(
            label(Location::Header, "bearer Authorization"),
            none(&header.edit(|r| *r.header_mut("authorization") = "Bearer abc.def".into())),
            Ok(None),
        );
        let query = case.signed_request(Location::Query);
        report.expect(
            label(Location::Query, "no X-Amz-Algorithm nor X-Amz-Credential"),
            none(&query.without_query(&["X-Amz-Algorithm", "X-Amz-Credential"])),
            Ok(None),
        );
    }
    report.finish("requests_without_sigv4_parse_to_none");
}

#[test]
fn truncated_or_incomplete_authorization_is_incomplete() {
    let mut report = Report::default();
    for case in cases() {
        let req = case.signed_request(Location::Header);
        let label = |what: &str| format!("{} [header] {what}", case.name);
        let auth = req.headers.iter().find(|(n, _)| n == "Authorization").unwrap().1.clone();
        let with_auth = |value: &str| req.edit(|r| *r.header_mut("authorization") = value.into());
        let parsed = |r: &HttpRequest| r.with(parse);

        let before_signature = &auth[..auth.find(", Signature=").unwrap()];
        report.expect(
            label("cut before Signature"),
            parsed(&with_auth(before_signature)),
            incomplete(format!(
                "Authorization header requires 'Signature' parameter. \
                 Authorization={before_signature}"
            )),
        );
        let before_signed = &auth[..auth.find(", SignedHeaders=").unwrap()];
        report.expect(
            label("cut before SignedHeaders"),
            parsed(&with_auth(before_signed)),
            incomplete(format!(
                "Authorization header requires 'Signature' parameter. Authorization header \
                 requires 'SignedHeaders' parameter. Authorization={before_signed}"
            )),
        );
        report.expect(
            label("algorithm only"),
            parsed(&with_auth("AWS4-HMAC-SHA256")),
            incomplete(
                "Authorization header requires 'Credential' parameter. Authorization header \
                 requires 'Signature' parameter. Authorization header requires \
                 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"
                    .into(),
            ),
        );
        report.expect(
            label("cut inside a key"),
            parsed(&with_auth("AWS4-HMAC-SHA256 Credential")),
            incomplete(
                "'Credential' not a valid key=value pair (missing equal-sign) in Authorization \
                 header: 'AWS4-HMAC-SHA256 Credential'."
                    .into(),
            ),
        );
        report.expect(
            label("no date header"),
            parsed(&req.without_header("x-amz-date")),
            incomplete(format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
                 header. Authorization={auth}"
            )),
        );
        report.expect(
            label("unreadable date"),
            parsed(&req.edit(|r| *r.header_mut("x-amz-date") = "2015-08-30T12:36:00Z".into())),
            incomplete(
                "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See \
                 http://en.wikipedia.org/wiki/ISO_8601"
                    .into(),
            ),
        );
        report.expect(
            label("other algorithm"),
            parsed(&with_auth(&auth.replacen("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1))),
            incomplete("Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1' (only AWS4-HMAC-SHA256 for now). ".into()),
        );
        report.expect(
            label("credential cut"),
            parsed(&req.with_credential(Location::Header, |c| c[..c.find("/service").unwrap()].into())),
            incomplete(
                "Credential must have exactly 5 slash-delimited elements, e.g. \
                 keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1'"
                    .into(),
            ),
        );
        // Both ways at once.
        let query = case.signed_request(Location::Query);
        report.expect(
            label("header and query signatures"),
            parsed(&req.edit(|r| r.query = query.query.clone())),
            Err(Error::Mismatch(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as \
                 HTTP header."
                    .into(),
            )),
        );

        let label = |what: &str| format!("{} [query] {what}", case.name);
        for name in ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"] {
            report.expect(
                label(&format!("without {name}")),
                parsed(&query.without_query(&[name])),
                incomplete(format!(
                    "AWS query-string parameters must include '{name}'. Re-examine the \
                     query-string parameters."
                )),
            );
        }
        report.expect(
            label("expires beyond a week"),
            parsed(&query.with_query_value("X-Amz-Expires", |_| "604801".into())),
            incomplete(
                "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                 X-Amz-Expires must be less than 604800 seconds"
                    .into(),
            ),
        );
    }
    report.finish("truncated_or_incomplete_authorization_is_incomplete");
}

#[test]
fn scope_is_checked_against_the_endpoint() {
    let mut report = Report::default();
    for case in cases() {
        for loc in LOCATIONS {
            let claim = case.signed_request(loc).claim();
            report.expect(
                format!("{} [{}] wrong region and service", case.name, prefix(loc)),
                check_scope(&claim, "eu-west-1", "logs"),
                Err(Error::Mismatch(
                    "Credential should be scoped to a valid region, not 'us-east-1'. Credential \
                     should be scoped to correct service: 'logs'. "
                        .into(),
                )),
            );
        }
    }
    report.finish("scope_is_checked_against_the_endpoint");
}
