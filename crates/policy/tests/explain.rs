//! `explain`: the deciding statements, their positions, and the context keys a request lacked.

use policy::{Decision, Effect, Policy, PolicyKind, Position, Principal, RequestContext, explain};

const MULTILINE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadOwnPrefix",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::bucket/home/${aws:username}/*"
    },
    {
      "Sid": "OnlyFromOffice",
      "Effect": "Deny",
      "Action": "s3:*",
      "Resource": "*",
      "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}, "StringEqualsIfExists": {"aws:PrincipalTag/dept": "eng"}}
    },
    {"Sid": "ListTagged", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
     "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team, 'none'}"}}}
  ]
}"#;

fn pos(line: u32, column: u32) -> Option<Position> {
    Some(Position { line, column })
}

#[test]
fn positions_of_statements() {
    let p = Policy::parse(MULTILINE).unwrap();
    let s = p.statements();
    assert_eq!((s[0].start_position(), s[0].end_position()), (pos(4, 5), pos(9, 6)));
    assert_eq!((s[1].start_position(), s[1].end_position()), (pos(10, 5), pos(16, 6)));
    assert_eq!((s[2].start_position(), s[2].end_position()), (pos(17, 5), pos(18, 98)));
    assert_eq!(s[1].sid(), Some("OnlyFromOffice"));
    assert_eq!(s[1].effect(), Effect::Deny);
}

#[test]
fn positions_count_characters_not_bytes() {
    let doc = "{\"Id\":\"ééé\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}";
    let p = Policy::parse(doc).unwrap();
    assert_eq!(p.statements()[0].start_position(), pos(1, 25));
}

#[test]
fn allow_names_the_allowing_statements() {
    let p = Policy::parse(MULTILINE).unwrap();
    let mut ctx = RequestContext::new("s3:GetObject", "arn:aws:s3:::bucket/home/alice/x");
    ctx.set("aws:username", "alice").set("aws:SourceIp", "192.0.2.10");
    let e = explain(&[&p], &ctx);
    assert_eq!(e.decision, Decision::Allow);
    assert_eq!(e.matched_statements.len(), 1);
    let m = &e.matched_statements[0];
    assert_eq!((m.policy_index, m.statement_index, m.sid.as_deref(), m.effect), (0, 0, Some("ReadOwnPrefix"), Effect::Allow));
    assert_eq!((m.start_position, m.end_position), (pos(4, 5), pos(9, 6)));
    // The Deny's action matched; it reads aws:PrincipalTag/dept, which the request lacks.
    assert_eq!(e.missing_context_values, vec!["aws:principaltag/dept"]);
}

#[test]
fn explicit_deny_names_only_the_deny() {
    let p = Policy::parse(MULTILINE).unwrap();
    let mut ctx = RequestContext::new("s3:GetObject", "arn:aws:s3:::bucket/home/alice/x");
    ctx.set("aws:username", "alice").set("aws:SourceIp", "198.51.100.1");
    let e = explain(&[&p], &ctx);
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.matched_statements.iter().map(|m| m.statement_index).collect::<Vec<_>>(), vec![1]);
    // The Deny needed aws:PrincipalTag/dept and did not have it (IfExists made it true anyway).
    assert_eq!(e.missing_context_values, vec!["aws:principaltag/dept".to_string()]);
}

#[test]
fn missing_context_values() {
    let p = Policy::parse(MULTILINE).unwrap();
    let ctx = RequestContext::new("s3:GetObject", "arn:aws:s3:::bucket/home/alice/x");
    let e = explain(&[&p], &ctx);
    assert_eq!(e.decision, Decision::ExplicitDeny, "no aws:SourceIp: NotIpAddress is true");
    assert_eq!(e.missing_context_values, vec!["aws:principaltag/dept", "aws:sourceip", "aws:username"]);

    // A variable with a default is not missing; the condition key is.
    let ctx = RequestContext::new("s3:ListBucket", "arn:aws:s3:::bucket");
    let e = explain(&[&p], &ctx);
    assert!(e.missing_context_values.contains(&"aws:resourcetag/team".to_string()));
    assert!(!e.missing_context_values.contains(&"aws:principaltag/team".to_string()));
}

#[test]
fn implicit_deny_has_no_statements() {
    let p = Policy::parse(MULTILINE).unwrap();
    let mut ctx = RequestContext::new("ec2:RunInstances", "*");
    ctx.set("aws:SourceIp", "192.0.2.1");
    let e = explain(&[&p], &ctx);
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(e.matched_statements.is_empty());
}

#[test]
fn policy_indexes_across_a_set() {
    let a = Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#).unwrap();
    let b = Policy::parse(r#"{"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#).unwrap();
    let e = explain(&[&a, &b], &RequestContext::new("s3:GetObject", "*"));
    assert_eq!(e.matched_statements.iter().map(|m| (m.policy_index, m.statement_index)).collect::<Vec<_>>(), vec![(0, 0), (1, 0)]);
    assert_eq!(e.matched_statements[0].start_position, pos(1, 14));
}

#[test]
fn condition_keys_of_a_document() {
    let p = Policy::parse(MULTILINE).unwrap();
    assert_eq!(
        p.condition_keys(),
        vec!["aws:principaltag/dept", "aws:principaltag/team", "aws:resourcetag/team", "aws:sourceip", "aws:username"]
    );
    let old = Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username}"}}"#).unwrap();
    assert!(old.condition_keys().is_empty(), "2008-10-17 documents have no variables");
}

#[test]
fn trust_policy_with_session_principal() {
    let trust = Policy::parse_as(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/path/Deployer"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    let session = Principal::Aws {
        arn: "arn:aws:sts::111122223333:assumed-role/Deployer/ci".into(),
        account: "111122223333".into(),
        role_arn: Some("arn:aws:iam::111122223333:role/path/Deployer".into()),
    };
    let ctx = RequestContext::new("sts:AssumeRole", "arn:aws:iam::444455556666:role/Target").with_principal(session);
    assert_eq!(trust.decide(&ctx), Decision::Allow);
}
