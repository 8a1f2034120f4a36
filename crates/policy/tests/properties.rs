//! Property tests: parsing and evaluation never panic, whatever the input, and `decide` and
//! `explain` agree.

use policy::{Decision, Policy, PolicyKind, Principal, RequestContext, decide, explain};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const KINDS: [PolicyKind; 4] = [PolicyKind::Identity, PolicyKind::Trust, PolicyKind::Resource, PolicyKind::Session];

const SEED_001: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnableCreationAndManagementOfRDSCloudwatchLogEvents","Effect":"Allow","Action":["logs:GetLogEvents","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:/aws/rds/*:log-stream:*"},{"Sid":"EnableCreationAndManagementOfRDSCloudwatchLogStreams","Effect":"Allow","Action":["logs:CreateLogStream","logs:DescribeLogStreams","logs:PutRetentionPolicy"],"Resource":"arn:aws:logs:*:*:log-group:/aws/rds/*"},{"Sid":"EnableCreationAndManagementOfRDSCloudwatchLogGroups","Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"*"}]}"#;

/// Texts that exercise wildcards, variables (good and broken), ARNs, dates, numbers and IPs.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        Just("?".to_string()),
        Just("".to_string()),
        Just("s3:GetObject".to_string()),
        Just("logs:Put*".to_string()),
        Just("sts:AssumeRole".to_string()),
        Just("arn:aws:s3:::bucket/${aws:username}/*".to_string()),
        Just("arn:aws:logs:*:*:log-group:/aws/rds/*".to_string()),
        Just("arn:aws:iam::111122223333:role/Admin".to_string()),
        Just("arn:aws:sts::111122223333:assumed-role/Admin/s".to_string()),
        Just("111122223333".to_string()),
        Just("${aws:PrincipalTag/team, 'it''s'}".to_string()),
        Just("${".to_string()),
        Just("${a, '".to_string()),
        Just("${*}${?}${$}".to_string()),
        Just("2020-01-01T00:00:00Z".to_string()),
        Just("2020-02-30".to_string()),
        Just("1577836800".to_string()),
        Just("-1.5".to_string()),
        Just("10.0.0.0/8".to_string()),
        Just("2001:db8::/33".to_string()),
        Just("::ffff:10.0.0.1".to_string()),
        Just("QUJD".to_string()),
        Just("true".to_string()),
        Just("cloudtrail.amazonaws.com".to_string()),
        "[ -~]{0,12}",
        "\\PC{0,8}",
    ]
}

const OPERATORS: [&str; 16] = [
    "StringEquals",
    "StringNotLikeIfExists",
    "ForAllValues:StringLike",
    "ForAnyValue:StringNotEquals",
    "StringEqualsIgnoreCase",
    "NumericLessThanEquals",
    "NumericNotEqualsIfExists",
    "DateGreaterThan",
    "DateNotEqualsIfExists",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "ForAnyValue:NotIpAddress",
    "ArnLike",
    "ArnNotEqualsIfExists",
    "Null",
];

const KEYS: [&str; 6] = ["aws:username", "aws:PrincipalTag/team", "aws:SourceIp", "aws:CurrentTime", "aws:TagKeys", "s3:max-keys"];

/// A JSON value built from policy-like names and values, nested a few levels.
fn json_ish() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("Version"),
        Just("Id"),
        Just("Statement"),
        Just("Sid"),
        Just("Effect"),
        Just("Action"),
        Just("NotAction"),
        Just("Resource"),
        Just("NotResource"),
        Just("Principal"),
        Just("NotPrincipal"),
        Just("Condition"),
        Just("AWS"),
        Just("Service"),
        Just("StringLike"),
        Just("aws:SourceIp"),
        Just("Allow"),
    ]
    .prop_map(str::to_string);
    let leaf = prop_oneof![
        token().prop_map(Value::String),
        Just(json!("2012-10-17")),
        Just(json!("Allow")),
        Just(json!("Deny")),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A statement that is mostly well-formed, so evaluation gets exercised deeply.
fn statement() -> impl Strategy<Value = Value> {
    (
        prop::bool::ANY,
        prop::collection::vec(token(), 1..3),
        prop::collection::vec(token(), 1..3),
        prop::option::of(prop_oneof![
            Just(json!("*")),
            token().prop_map(|t| json!({ "AWS": t })),
            token().prop_map(|t| json!({ "Service": t }))
        ]),
        prop::collection::vec(
            (prop::sample::select(&OPERATORS[..]), prop::sample::select(&KEYS[..]), prop::collection::vec(token(), 0..3)),
            0..3,
        ),
        prop::bool::ANY,
    )
        .prop_map(|(deny, actions, resources, principal, conditions, negate)| {
            let mut s = Map::new();
            s.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
            s.insert(if negate { "NotAction" } else { "Action" }.into(), json!(actions));
            s.insert(if negate { "NotResource" } else { "Resource" }.into(), json!(resources));
            if let Some(p) = principal {
                s.insert("Principal".into(), p);
            }
            let mut cond = Map::new();
            for (op, key, values) in conditions {
                let entry = cond.entry(op.to_string()).or_insert_with(|| json!({}));
                entry[key] = json!(values);
            }
            s.insert("Condition".into(), Value::Object(cond));
            Value::Object(s)
        })
}

fn principal() -> impl Strategy<Value = Option<Principal>> {
    prop_oneof![
        Just(None),
        Just(Some(Principal::Anonymous)),
        token().prop_map(|s| Some(Principal::Service(s))),
        token().prop_map(|s| Some(Principal::Federated(s))),
        (token(), token(), prop::option::of(token())).prop_map(|(arn, account, role_arn)| Some(Principal::Aws { arn, account, role_arn })),
    ]
}

fn context() -> impl Strategy<Value = RequestContext> {
    (token(), token(), principal(), prop::collection::vec((prop::sample::select(&KEYS[..]), prop::collection::vec(token(), 0..3)), 0..6))
        .prop_map(|(action, resource, principal, keys)| {
            let mut ctx = RequestContext::new(action, resource);
            ctx.principal = principal;
            for (k, values) in keys {
                ctx.set_all(k, values);
            }
            ctx
        })
}

/// Parses with every entry point; none may panic.
fn parse_everything(text: &str) -> Option<Policy> {
    for kind in KINDS {
        let _ = Policy::parse_as(text, kind);
    }
    Policy::parse(text).ok()
}

fn check_evaluation(policies: &[&Policy], ctx: &RequestContext) {
    let decision = decide(policies, ctx);
    let why = explain(policies, ctx);
    assert_eq!(decision, why.decision);
    match decision {
        Decision::ImplicitDeny => assert!(why.matched_statements.is_empty()),
        _ => assert!(!why.matched_statements.is_empty()),
    }
}

/// Reference wildcard matching, written the obvious way: `*` any run, `?` one character.
fn reference_glob(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| reference_glob(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && reference_glob(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && reference_glob(rest, &t[1..]),
    }
}

fn glob_str(p: &str, t: &str) -> bool {
    reference_glob(&p.chars().collect::<Vec<_>>(), &t.chars().collect::<Vec<_>>())
}

/// Reference ARN matching: the pattern cut at its first five colons, the resource cut into as
/// many parts, each part matched on its own.
fn reference_arn(pattern: &str, resource: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let values: Vec<&str> = resource.splitn(parts.len(), ':').collect();
    values.len() == parts.len() && parts.iter().zip(&values).all(|(p, v)| glob_str(p, v))
}

fn allows(statement: Value, ctx: &RequestContext) -> bool {
    // No Version: `${…}` is plain text, so the references need not know about variables.
    let p = Policy::parse(&json!({ "Statement": statement }).to_string()).expect("parses");
    let d = decide(&[&p], ctx);
    assert_eq!(d, explain(&[&p], ctx).decision);
    d == Decision::Allow
}

proptest! {
    #[test]
    fn resources_match_like_the_reference(pattern in "[ab:*?/]{0,12}", resource in "[ab:/]{0,12}") {
        let got = allows(json!({"Effect": "Allow", "Action": "*", "Resource": pattern}), &RequestContext::new("s3:GetObject", resource.clone()));
        prop_assert_eq!(got, reference_arn(&pattern, &resource), "pattern {:?} resource {:?}", pattern, resource);
    }

    #[test]
    fn arn_conditions_match_like_the_reference(pattern in "(arn:(aws|\\*):[ab*?]{0,3}:[ab*?]{0,3}:[0-9*]{0,3}:[ab:/*?]{0,6}|[ab:*?]{0,10})", value in "(arn:aws:[ab]{0,3}:[ab]{0,3}:[0-9]{0,3}:[ab:/]{0,6}|[ab:]{0,10})") {
        let mut ctx = RequestContext::new("s3:GetObject", "*");
        ctx.set("aws:SourceArn", value.clone());
        let got = allows(json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ArnLike": {"aws:SourceArn": pattern}}}), &ctx);
        prop_assert_eq!(got, reference_arn(&pattern, &value), "pattern {:?} value {:?}", pattern, value);
    }

    #[test]
    fn actions_match_like_the_reference(pattern in "[aB:*?]{0,8}", action in "[Ab:]{0,8}") {
        let got = allows(json!({"Effect": "Allow", "Action": pattern, "Resource": "*"}), &RequestContext::new(action.clone(), "*"));
        prop_assert_eq!(got, glob_str(&pattern.to_lowercase(), &action.to_lowercase()), "pattern {:?} action {:?}", pattern, action);
    }

    #[test]
    fn string_like_matches_like_the_reference(pattern in "[aBé*?]{0,8}", value in "[aBé]{0,8}") {
        let mut ctx = RequestContext::new("s3:GetObject", "*");
        ctx.set("aws:k", value.clone());
        let like = allows(json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringLike": {"aws:k": pattern}}}), &ctx);
        prop_assert_eq!(like, glob_str(&pattern, &value));
        let equals = allows(json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualsIgnoreCase": {"aws:k": pattern}}}), &ctx);
        prop_assert_eq!(equals, pattern.to_lowercase() == value.to_lowercase());
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        parse_everything(&text);
    }

    #[test]
    fn arbitrary_ascii_json_punctuation_never_panics(text in "[{}\\[\\]\":,0-9a-zA-Z$*? \\\\]{0,64}") {
        parse_everything(&text);
    }

    #[test]
    fn mutated_seed_never_panics(at in 0usize..SEED_001.len(), with in "\\PC{0,3}", cut in 0usize..4) {
        let mut text = SEED_001.to_string();
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let end = (at..=(at + cut).min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(at);
        text.replace_range(at..end, &with);
        if let Some(p) = parse_everything(&text) {
            check_evaluation(&[&p], &RequestContext::new("logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:/aws/rds/x:log-stream:y"));
        }
    }

    #[test]
    fn json_ish_documents_never_panic(doc in json_ish(), ctx in context()) {
        let text = doc.to_string();
        if let Some(p) = parse_everything(&text) {
            check_evaluation(&[&p], &ctx);
            let _ = p.condition_keys();
        }
        let wrapped = json!({"Version": "2012-10-17", "Statement": doc}).to_string();
        if let Some(p) = parse_everything(&wrapped) {
            check_evaluation(&[&p], &ctx);
        }
    }

    #[test]
    fn structured_policies_evaluate_consistently(
        statements in prop::collection::vec(statement(), 1..5),
        versioned in prop::bool::ANY,
        ctx in context(),
    ) {
        let mut doc = json!({"Statement": statements});
        if versioned {
            doc["Version"] = json!("2012-10-17");
        }
        let text = serde_json::to_string_pretty(&doc).unwrap();
        parse_everything(&text);
        if let Ok(p) = Policy::parse(&text) {
            check_evaluation(&[&p], &ctx);
            // A Deny of everything added to the set always wins.
            let deny_all = Policy::parse(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#).unwrap();
            prop_assert_eq!(decide(&[&p, &deny_all], &ctx), Decision::ExplicitDeny);
            // Each statement's positions lie inside the text.
            for s in p.statements() {
                let (start, end) = (s.start_position().unwrap(), s.end_position().unwrap());
                prop_assert!((start.line, start.column) < (end.line, end.column));
            }
        }
    }
}
