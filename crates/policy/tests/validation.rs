//! The MalformedPolicyDocument texts `Policy::parse` and `Policy::parse_as` answer with.

use policy::messages as m;
use policy::{Policy, PolicyKind};

use PolicyKind::{Identity, Resource, Session, Trust};

const SEED_001: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnableCreationAndManagementOfRDSCloudwatchLogEvents","Effect":"Allow","Action":["logs:GetLogEvents","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:/aws/rds/*:log-stream:*"},{"Sid":"EnableCreationAndManagementOfRDSCloudwatchLogStreams","Effect":"Allow","Action":["logs:CreateLogStream","logs:DescribeLogStreams","logs:PutRetentionPolicy"],"Resource":"arn:aws:logs:*:*:log-group:/aws/rds/*"},{"Sid":"EnableCreationAndManagementOfRDSCloudwatchLogGroups","Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"*"}]}"#;
const SEED_004: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// An identity policy with one statement whose body is `statement` (JSON object members).
fn identity(statement: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{{statement}}}]}}"#)
}

/// A trust policy with one statement whose body is `statement`.
fn trust(statement: &str) -> String {
    identity(statement)
}

fn error(document: &str, kind: Option<PolicyKind>) -> String {
    let result = match kind {
        Some(kind) => Policy::parse_as(document, kind),
        None => Policy::parse(document),
    };
    match result {
        Ok(_) => "<accepted>".to_string(),
        Err(e) => {
            assert_eq!(e.to_string(), e.message(), "Display is the message");
            e.message().to_string()
        }
    }
}

#[track_caller]
fn rejects(kind: Option<PolicyKind>, document: &str, message: &str) {
    assert_eq!(error(document, kind), message, "document: {document}");
}

#[track_caller]
fn accepts(kind: Option<PolicyKind>, document: &str) {
    assert_eq!(error(document, kind), "<accepted>", "document: {document}");
}

const ALLOW_ALL: &str = r#""Effect":"Allow","Action":"s3:GetObject","Resource":"*""#;
const ASSUME: &str = r#""Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole""#;

#[test]
fn seeds_are_valid() {
    accepts(Some(Identity), SEED_001);
    accepts(Some(Trust), SEED_004);
    accepts(None, SEED_001);
    accepts(None, SEED_004);
    let seed = Policy::parse_as(SEED_004, Trust).unwrap();
    assert_eq!(seed.statements()[0].sid(), Some(""), "an empty Sid is kept");
}

#[test]
fn json_errors() {
    for kind in [None, Some(Identity), Some(Session), Some(Resource)] {
        rejects(kind, "not json", m::SYNTAX);
        rejects(kind, "{", m::SYNTAX);
        rejects(kind, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",}]}"#, m::SYNTAX);
        rejects(kind, "", m::SYNTAX);
    }
    // CreateRole and UpdateAssumeRolePolicy word it differently.
    rejects(Some(Trust), "not json", m::TRUST_INVALID_JSON);
    rejects(Some(Trust), "{", m::TRUST_INVALID_JSON);
}

#[test]
fn deep_nesting_is_a_syntax_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    rejects(None, &deep, m::SYNTAX);
    let deep_condition = format!(
        r#"{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}1{}}}}}"#,
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    rejects(None, &deep_condition, m::SYNTAX);
}

#[test]
fn grammar_errors() {
    let k = Some(Identity);
    rejects(k, "[]", m::SYNTAX);
    rejects(k, "{}", m::SYNTAX);
    rejects(k, r#"{"Version":"2012-10-17"}"#, m::SYNTAX);
    rejects(k, &format!(r#"{{"Version":"2012-10-17","Statements":[{{{ALLOW_ALL}}}]}}"#), m::SYNTAX);
    rejects(k, &format!(r#"{{"Version":"2012-10-18","Statement":[{{{ALLOW_ALL}}}]}}"#), m::SYNTAX);
    rejects(k, &format!(r#"{{"Version":2012,"Statement":[{{{ALLOW_ALL}}}]}}"#), m::SYNTAX);
    rejects(k, &format!(r#"{{"Id":7,"Statement":[{{{ALLOW_ALL}}}]}}"#), m::SYNTAX);
    rejects(k, r#"{"Version":"2012-10-17","Statement":[]}"#, m::SYNTAX);
    rejects(k, r#"{"Version":"2012-10-17","Statement":"x"}"#, m::SYNTAX);
    rejects(k, r#"{"Version":"2012-10-17","Statement":["x"]}"#, m::SYNTAX);
    rejects(k, &identity(r#""Effect":"Allow","Actions":"s3:GetObject","Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""effect":"Allow","Action":"s3:GetObject","Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""Action":"s3:GetObject","Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""Effect":"Maybe","Action":"s3:GetObject","Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""Effect":true,"Action":"s3:GetObject","Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:Put*","Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""Effect":"Allow","Action":"s3:GetObject","Resource":"*","NotResource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""Effect":"Allow","Action":7,"Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""Effect":"Allow","Action":["s3:GetObject",7],"Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(r#""Effect":"Allow","Action":"s3:GetObject","Resource":{"a":"b"}"#), m::SYNTAX);
    rejects(k, &identity(r#""Sid":1,"Effect":"Allow","Action":"s3:GetObject","Resource":"*""#), m::SYNTAX);
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":"x""#)), m::SYNTAX);
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"StringEquals":"x"}}"#)), m::SYNTAX);
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"StringEquals":{{"aws:a":{{"b":"c"}}}}}}"#)), m::SYNTAX);
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"StringEquals":{{"aws:a":null}}}}"#)), m::SYNTAX);
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"StringEquals":{{"aws:a":[["x"]]}}}}"#)), m::SYNTAX);
    rejects(Some(Trust), &trust(r#""Effect":"Allow","Principal":"arn:aws:iam::111122223333:root","Action":"sts:AssumeRole""#), m::SYNTAX);
    rejects(Some(Trust), &trust(r#""Effect":"Allow","Principal":{"Aws":"*"},"Action":"sts:AssumeRole""#), m::SYNTAX);
}

#[test]
fn condition_operators() {
    let k = Some(Identity);
    // An unknown operator with keys is a syntax error; IAM lets one through that names no key.
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"StringEqualz":{{"aws:a":"b"}}}}"#)), m::SYNTAX);
    accepts(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"StringEqualz":{{}}}}"#)));
    // Operator names are case-sensitive.
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"stringequals":{{"aws:a":"b"}}}}"#)), m::SYNTAX);
    // "…IfExists to the end of any condition operator name except the Null condition".
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"NullIfExists":{{"aws:a":"true"}}}}"#)), m::SYNTAX);
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"ForAnyValues:StringEquals":{{"aws:a":"b"}}}}"#)), m::SYNTAX);
    for op in [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
    ] {
        for name in [op.to_string(), format!("{op}IfExists"), format!("ForAllValues:{op}"), format!("ForAnyValue:{op}IfExists")] {
            accepts(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"{name}":{{"aws:a":["1",2,true]}}}}"#)));
        }
    }
    accepts(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"Null":{{"aws:a":true}}}}"#)));
    accepts(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{}}"#)));
}

#[test]
fn legacy_parsing() {
    for kind in [None, Some(Identity), Some(Session)] {
        rejects(kind, &identity(r#""Effect":"allow","Action":"s3:GetObject","Resource":"*""#), m::LEGACY_PARSING);
        rejects(kind, &identity(r#""Effect":"DENY","Action":"s3:GetObject","Resource":"*""#), m::LEGACY_PARSING);
        rejects(
            kind,
            &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"DateLessThan":{{"aws:CurrentTime":"tomorrow"}}}}"#)),
            m::LEGACY_PARSING,
        );
        rejects(
            kind,
            &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"DateLessThanIfExists":{{"aws:CurrentTime":"2020-13-01T00:00:00Z"}}}}"#)),
            m::LEGACY_PARSING,
        );
    }
    let k = Some(Identity);
    accepts(
        k,
        &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"DateLessThan":{{"aws:CurrentTime":["2020-01-01","1577836800",1577836800]}}}}"#)),
    );
    // An empty vendor, or "::" with fewer than five colons.
    rejects(k, &identity(r#""Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws::x:y:z""#), m::LEGACY_PARSING);
    rejects(k, &identity(r#""Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3::bucket""#), m::LEGACY_PARSING);
}

#[test]
fn actions_and_resources_required() {
    for kind in [None, Some(Identity), Some(Session), Some(Resource), Some(Trust)] {
        let principal = if matches!(kind, Some(Trust | Resource)) { r#""Principal":"*","# } else { "" };
        rejects(kind, &identity(&format!(r#"{principal}"Effect":"Allow","Resource":"*""#)), m::NO_ACTIONS);
        rejects(kind, &identity(&format!(r#"{principal}"Effect":"Allow","Action":[],"Resource":"*""#)), m::NO_ACTIONS);
    }
    for kind in [Identity, Session] {
        rejects(Some(kind), &identity(r#""Effect":"Allow","Action":"s3:GetObject""#), m::NO_RESOURCES);
        rejects(Some(kind), &identity(r#""Effect":"Allow","Action":"s3:GetObject","Resource":[]"#), m::NO_RESOURCES);
        rejects(Some(kind), &identity(r#""Effect":"Allow","Action":"s3:GetObject","NotResource":[]"#), m::NO_RESOURCES);
        accepts(Some(kind), &identity(r#""Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b""#));
    }
    rejects(Some(Resource), &identity(r#""Effect":"Allow","Principal":"*","Action":"s3:GetObject""#), m::NO_RESOURCES);
    // `parse` alone does not know whether the document is a trust policy.
    accepts(None, &identity(r#""Effect":"Allow","Action":"s3:GetObject""#));
}

#[test]
fn principal_rules() {
    let with_principal = identity(r#""Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*""#);
    let with_not_principal = identity(r#""Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*""#);
    for kind in [Identity, Session] {
        rejects(Some(kind), &with_principal, m::PRINCIPAL_NOT_ALLOWED);
        rejects(Some(kind), &with_not_principal, m::PRINCIPAL_NOT_ALLOWED);
    }
    accepts(Some(Resource), &with_principal);
    accepts(Some(Resource), &with_not_principal);
    accepts(None, &with_principal);

    rejects(Some(Trust), &trust(r#""Effect":"Allow","Action":"sts:AssumeRole""#), m::PRINCIPAL_MISSING);
    rejects(Some(Resource), &identity(ALLOW_ALL), m::PRINCIPAL_MISSING);
    rejects(Some(Trust), &trust(r#""Effect":"Allow","Principal":{},"Action":"sts:AssumeRole""#), m::PRINCIPAL_EMPTY);
    rejects(Some(Trust), &trust(r#""Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole""#), m::PRINCIPAL_EMPTY);
    rejects(
        Some(Trust),
        &trust(r#""Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole""#),
        m::TRUST_ALLOW_NOT_PRINCIPAL,
    );

    rejects(
        Some(Trust),
        &trust(r#""Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole""#),
        r#"Invalid principal in policy: "AWS":"alice""#,
    );
    rejects(
        Some(Trust),
        &trust(r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"sts:AssumeRole""#),
        r#"Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/*""#,
    );
    rejects(
        Some(Trust),
        &trust(r#""Effect":"Allow","Principal":{"Service":"amazonaws.com"},"Action":"sts:AssumeRole""#),
        r#"Invalid principal in policy: "SERVICE":"amazonaws.com""#,
    );
    for principal in [
        r#""*""#,
        r#"{"AWS":"*"}"#,
        r#"{"AWS":"111122223333"}"#,
        r#"{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:role/path/Admin","arn:aws:iam::111122223333:user/alice"]}"#,
        r#"{"AWS":"arn:aws:sts::111122223333:assumed-role/Admin/alice"}"#,
        r#"{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]}"#,
        r#"{"Federated":"cognito-identity.amazonaws.com"}"#,
        r#"{"Federated":"arn:aws:iam::111122223333:saml-provider/Corp"}"#,
    ] {
        accepts(Some(Trust), &trust(&format!(r#""Effect":"Allow","Principal":{principal},"Action":["sts:AssumeRole","sts:TagSession"]"#)));
    }
}

#[test]
fn trust_policy_rules() {
    rejects(Some(Trust), &trust(&format!(r#"{ASSUME},"Resource":"*""#)), m::TRUST_HAS_RESOURCE);
    rejects(Some(Trust), &trust(&format!(r#"{ASSUME},"NotResource":"*""#)), m::TRUST_HAS_NOT_RESOURCE);
    rejects(Some(Trust), &trust(r#""Effect":"Allow","Principal":{"AWS":"*"},"Action":"*""#), m::TRUST_ACTIONS);
    rejects(Some(Trust), &trust(r#""Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject""#), m::TRUST_ACTIONS);
    rejects(Some(Trust), r#"{"Version":"2012-10-17","Statement":[]}"#, m::TRUST_STATEMENT_EMPTY);
    accepts(Some(Trust), &trust(ASSUME));
    // A trust policy may omit Version (CloudFormation's examples do).
    accepts(Some(Trust), &format!(r#"{{"Statement":{{{ASSUME}}}}}"#));
    // Deny statements, conditions, web identity.
    accepts(
        Some(Trust),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:12345678-abcd"}}},{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
    );
}

#[test]
fn vendors() {
    let k = Some(Identity);
    rejects(k, &identity(r#""Effect":"Allow","Action":"PutLogEvents","Resource":"*""#), m::NO_VENDOR);
    rejects(k, &identity(r#""Effect":"Allow","NotAction":["logs:*","PutLogEvents"],"Resource":"*""#), m::NO_VENDOR);
    rejects(k, &identity(r#""Effect":"Allow","Action":"logs:Put:Events","Resource":"*""#), m::ACTION_COLONS);
    rejects(k, &identity(r#""Effect":"Allow","Action":"lo gs:PutLogEvents","Resource":"*""#), "Vendor lo gs is not valid");
    rejects(k, &identity(&format!(r#"{ALLOW_ALL},"Condition":{{"IpAddress":{{"SourceIp":"10.0.0.0/8"}}}}"#)), m::NO_VENDOR);
    accepts(k, &identity(r#""Effect":"Allow","Action":["*","*:Get*","logs:*","execute-api:Invoke","s3:Get?bject"],"Resource":"*""#));
}

#[test]
fn resource_formats() {
    let k = Some(Identity);
    let with = |r: &str| identity(&format!(r#""Effect":"Allow","Action":"s3:GetObject","Resource":"{r}""#));
    rejects(k, &with("bucket"), r#"Resource bucket must be in ARN format or "*"."#);
    rejects(k, &with("s3:::bucket"), r#"Resource s3:::bucket must be in ARN format or "*"."#);
    rejects(k, &with("arn:aws-cn:s3:::b"), r#"Partition "aws-cn" is not valid for resource "arn:aws-cn:s3:::b"."#);
    rejects(k, &with("arn:aws"), m::RESOURCE_VENDOR);
    rejects(
        k,
        &with("arn:aws:iam:us-east-1:111122223333:user/x"),
        "IAM resource arn:aws:iam:us-east-1:111122223333:user/x cannot contain region information.",
    );
    rejects(k, &with("arn:aws:s3:us-east-1::bucket"), "Resource arn:aws:s3:us-east-1::bucket can not contain region information.");
    rejects(k, &with("arn:aws:iam::111122223333:people/x"), m::IAM_RESOURCE_PATH);
    accepts(k, &with("arn:aws:iam::111122223333:user/${aws:username}"));
    accepts(k, &with("arn:aws:iam::111122223333:*"));
    accepts(k, &with("arn:aws:logs:*:*:log-group:/aws/rds/*:log-stream:*"));
    // The format error is reported after the missing-resources check of other statements…
    let two = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"bucket"},{"Effect":"Allow","Action":"s3:GetObject"}]}"#;
    rejects(k, two, m::NO_RESOURCES);
    // …and a resource with a format error spares the document the legacy check.
    let both =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":["bucket","arn:aws::x:y:z"]}]}"#;
    rejects(k, both, r#"Resource bucket must be in ARN format or "*"."#);
}

#[test]
fn sids() {
    let k = Some(Identity);
    let two =
        |a: &str, b: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{a}",{ALLOW_ALL}}},{{"Sid":"{b}",{ALLOW_ALL}}}]}}"#);
    rejects(k, &two("Same", "Same"), m::SID_NOT_UNIQUE);
    accepts(k, &two("One", "Two"));
    accepts(k, &two("", ""));
    rejects(k, &two("my-sid", "other"), m::SID_NOT_ALPHANUMERIC);
    rejects(
        Some(Trust),
        &trust(r#""Sid":"allow ec2","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole""#),
        m::SID_NOT_ALPHANUMERIC,
    );
    // S3 and KMS resource policies use Sids with spaces.
    accepts(
        Some(Resource),
        &identity(
            r#""Sid":"Allow CloudTrail","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"logs:PutLogEvents","Resource":"*""#,
        ),
    );
    // The character check comes before uniqueness.
    rejects(k, &two("a-b", "a-b"), m::SID_NOT_ALPHANUMERIC);
}

#[test]
fn managed_policies_need_version_2012() {
    let no_version = format!(r#"{{"Statement":[{{{ALLOW_ALL}}}]}}"#);
    let old = format!(r#"{{"Version":"2008-10-17","Statement":[{{{ALLOW_ALL}}}]}}"#);
    let p = Policy::parse_as(&no_version, Identity).expect("inline policies may omit Version");
    assert_eq!(p.check_managed_version().unwrap_err().message(), m::VERSION_2012_REQUIRED);
    assert!(!p.has_version());
    let p = Policy::parse_as(&old, Identity).unwrap();
    assert_eq!(p.check_managed_version().unwrap_err().message(), m::VERSION_2012_REQUIRED);
    assert!(Policy::parse_as(SEED_001, Identity).unwrap().check_managed_version().is_ok());
}

#[test]
fn rules_are_reported_in_iams_order() {
    // The principal rule comes before everything that is not grammar.
    rejects(Some(Identity), &identity(r#""Effect":"allow","Principal":"*","Action":"PutLogEvents""#), m::PRINCIPAL_NOT_ALLOWED);
    // Legacy parsing before Sid, action and resource rules.
    rejects(Some(Identity), &identity(r#""Sid":"a-b","Effect":"allow","Action":"PutLogEvents""#), m::LEGACY_PARSING);
    // Missing actions before missing resources.
    rejects(Some(Identity), &identity(r#""Effect":"Allow""#), m::NO_ACTIONS);
    // Missing resources before vendor prefixes.
    rejects(Some(Identity), &identity(r#""Effect":"Allow","Action":"PutLogEvents""#), m::NO_RESOURCES);
    // Resource format before vendor prefixes.
    rejects(
        Some(Identity),
        &identity(r#""Effect":"Allow","Action":"PutLogEvents","Resource":"bucket""#),
        r#"Resource bucket must be in ARN format or "*"."#,
    );
    // Trust: prohibited Resource before the STS-only rule.
    rejects(Some(Trust), &trust(r#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*""#), m::TRUST_HAS_RESOURCE);
}

#[test]
fn statement_list_and_single_statement() {
    let single = format!(r#"{{"Version":"2012-10-17","Id":"p1","Statement":{{{ALLOW_ALL}}}}}"#);
    let p = Policy::parse_as(&single, Identity).unwrap();
    assert_eq!(p.statements().len(), 1);
    assert_eq!(p.id(), Some("p1"));
    assert_eq!(p.statements()[0].effect(), policy::Effect::Allow);
}
