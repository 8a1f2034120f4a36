//! Decision latency for a principal with 10 attached policies of 10 statements each.
//!
//! Run with `cargo run --release -p policy --example bench`. Prints the median over several
//! runs of the time per `decide` call for an allowed request, an implicitly denied one and an
//! explicitly denied one (and `explain` for comparison). The target is under 5 µs.
//!
//! The policies mix what real ones hold: action lists with wildcards, ARNs with wildcards
//! and `${aws:username}`, NotAction / NotResource, Deny guard-rails, and conditions on tags,
//! source IP, TLS, MFA, time and multivalued keys. Every Allow that could match sits where
//! the evaluator has to read all 100 statements anyway: a Deny can come last.

use std::hint::black_box;
use std::time::Instant;

use policy::{Decision, Policy, PolicyKind, Principal, RequestContext, decide, explain};

const ACCOUNT: &str = "111122223333";
const SERVICES: [&str; 10] = ["ecr", "ec2", "dynamodb", "sqs", "sns", "kms", "lambda", "cloudwatch", "ssm", "secretsmanager"];

/// Ten statements for policy `n`; the comments say what each kind is modelled on.
fn policy_text(n: usize) -> String {
    let svc = SERVICES[n % SERVICES.len()];
    let other = SERVICES[(n + 3) % SERVICES.len()];
    let statements = [
        // Read-only access to one service.
        format!(
            r#"{{"Sid":"Read{n}","Effect":"Allow","Action":["{svc}:Get*","{svc}:List*","{svc}:Describe*"],"Resource":"arn:aws:{svc}:*:{ACCOUNT}:*"}}"#
        ),
        // Per-user home prefix, with a variable.
        format!(
            r#"{{"Sid":"Home{n}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::team-{n}/home/${{aws:username}}/*"}}"#
        ),
        // Tag-based access control.
        format!(
            r#"{{"Sid":"Abac{n}","Effect":"Allow","Action":"{other}:*","Resource":"*","Condition":{{"StringEquals":{{"aws:ResourceTag/team":"${{aws:PrincipalTag/team}}"}}}}}}"#
        ),
        // Network guard-rail.
        format!(
            r#"{{"Sid":"Office{n}","Effect":"Deny","Action":"{svc}:Delete*","Resource":"*","Condition":{{"NotIpAddress":{{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}}}}}"#
        ),
        // TLS only.
        format!(
            r#"{{"Sid":"Tls{n}","Effect":"Deny","Action":"{svc}:*","Resource":"*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#
        ),
        // Writes in a time window, with MFA.
        format!(
            r#"{{"Sid":"Window{n}","Effect":"Allow","Action":["{svc}:Put*","{svc}:Update*","{svc}:Create*"],"Resource":"arn:aws:{svc}:us-*:{ACCOUNT}:*","Condition":{{"DateLessThan":{{"aws:CurrentTime":"2099-01-01T00:00:00Z"}},"BoolIfExists":{{"aws:MultiFactorAuthPresent":"true"}}}}}}"#
        ),
        // Tagging only with approved keys.
        format!(
            r#"{{"Sid":"Tags{n}","Effect":"Allow","Action":["{svc}:TagResource","{svc}:UntagResource"],"Resource":"*","Condition":{{"ForAllValues:StringLike":{{"aws:TagKeys":["team","cost-*","env"]}}}}}}"#
        ),
        // Region lock with NotAction.
        format!(
            r#"{{"Sid":"Region{n}","Effect":"Deny","NotAction":["iam:*","sts:*","support:*"],"Resource":"*","Condition":{{"StringNotEquals":{{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}}}}"#
        ),
        // Logs, like seed 001.
        format!(
            r#"{{"Sid":"Logs{n}","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogStreams"],"Resource":"arn:aws:logs:*:*:log-group:/app/{svc}/*"}}"#
        ),
        // Keep out of other accounts' resources.
        format!(r#"{{"Sid":"Own{n}","Effect":"Deny","Action":"{other}:*","NotResource":["arn:aws:{other}:*:{ACCOUNT}:*","*"]}}"#),
    ];
    format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","))
}

fn request(action: &str, resource: &str) -> RequestContext {
    let mut ctx = RequestContext::new(action, resource).with_principal(Principal::Aws {
        arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        account: ACCOUNT.to_string(),
        role_arn: None,
    });
    ctx.set("aws:username", "alice")
        .set("aws:userid", "AIDAEXAMPLE")
        .set("aws:PrincipalTag/team", "blue")
        .set("aws:ResourceTag/team", "green")
        .set("aws:SourceIp", "192.0.2.44")
        .set("aws:SecureTransport", "true")
        .set("aws:CurrentTime", "2026-05-01T12:00:00Z")
        .set("aws:EpochTime", "1777636800")
        .set("aws:RequestedRegion", "us-east-1")
        .set("aws:PrincipalAccount", ACCOUNT)
        .set("aws:PrincipalType", "User");
    ctx
}

/// Median nanoseconds per call of `f` over `runs` runs of `per_run` calls.
fn measure(runs: usize, per_run: usize, mut f: impl FnMut() -> Decision) -> f64 {
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_run {
                black_box(f());
            }
            start.elapsed().as_nanos() as f64 / per_run as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let texts: Vec<String> = (0..10).map(policy_text).collect();
    let start = Instant::now();
    let policies: Vec<Policy> =
        texts.iter().map(|t| Policy::parse_as(t, PolicyKind::Identity).expect("bench policies are valid")).collect();
    let parse_us = start.elapsed().as_secs_f64() * 1e6 / texts.len() as f64;
    let set: Vec<&Policy> = policies.iter().collect();
    let statements: usize = policies.iter().map(|p| p.statements().len()).sum();

    let allow = request("logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:/app/lambda/orders:log-stream:2026/05/01");
    let implicit = request("iam:CreateUser", "arn:aws:iam::111122223333:user/mallory");
    let mut explicit = request("kms:DeleteAlias", "arn:aws:kms:us-east-1:111122223333:alias/x");
    explicit.set("aws:SourceIp", "198.51.100.7");
    let home = request("s3:PutObject", "arn:aws:s3:::team-9/home/alice/notes.txt");

    let cases = [
        ("allow (logs:PutLogEvents, allowed by policy 7 of 10)", &allow, Decision::Allow),
        ("allow (s3:PutObject, ${aws:username} in policy 10)", &home, Decision::Allow),
        ("implicit deny (iam:CreateUser, no statement)", &implicit, Decision::ImplicitDeny),
        ("explicit deny (kms:DeleteAlias from outside the office)", &explicit, Decision::ExplicitDeny),
    ];
    println!("{} policies, {statements} statements; parse + compile: {parse_us:.1} µs per policy", policies.len());
    println!("median of 9 runs x 20000 decisions each:");
    // An argument keeps only the cases whose name contains it (handy under a profiler).
    let only = std::env::args().nth(1).unwrap_or_default();
    for (name, ctx, want) in cases.into_iter().filter(|(name, _, _)| name.contains(&only)) {
        assert_eq!(decide(&set, ctx), want, "{name}");
        let ns = measure(9, 20_000, || decide(&set, ctx));
        let ns_explain = measure(9, 2_000, || explain(&set, ctx).decision);
        println!("  {name:<60} decide {:>7.0} ns ({:.2} µs)   explain {:>7.0} ns", ns, ns / 1000.0, ns_explain);
    }
}
