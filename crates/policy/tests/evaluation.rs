//! The table of evaluation cases in `data/evaluation.json`: policies, a request, the expected
//! decision, and a note citing what the AWS IAM User Guide says.
//!
//! A group holds one set of policies (given as JSON text, kept verbatim, or as a JSON object)
//! and a default request; each case overrides the request's `action`, `resource` and
//! `principal` and merges its `context` into the group's (a `null` value removes a key).
//! Defaults: action `s3:GetObject`, resource `*`, no principal.
//!
//! Principals: `{"arn", "account", "role_arn"?}` for IAM principals, `{"service"}`,
//! `{"federated"}`, or `"anonymous"`.

use policy::{Decision, Policy, Principal, RequestContext, decide, explain};
use serde_json::{Map, Value};

const CASES: &str = include_str!("data/evaluation.json");

fn principal(v: &Value) -> Principal {
    if v == "anonymous" {
        return Principal::Anonymous;
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(service) = s("service") {
        return Principal::Service(service);
    }
    if let Some(federated) = s("federated") {
        return Principal::Federated(federated);
    }
    Principal::Aws { arn: s("arn").expect("arn"), account: s("account").expect("account"), role_arn: s("role_arn") }
}

fn request(group: &Map<String, Value>, case: &Map<String, Value>) -> RequestContext {
    let field = |k: &str| case.get(k).or_else(|| group.get(k));
    let text = |k: &str, default: &str| field(k).and_then(Value::as_str).unwrap_or(default).to_string();
    let mut ctx = RequestContext::new(text("action", "s3:GetObject"), text("resource", "*"));
    ctx.principal = field("principal").map(principal);
    let mut keys = Map::new();
    for source in [group, case] {
        if let Some(Value::Object(c)) = source.get("context") {
            keys.extend(c.clone());
        }
    }
    for (k, v) in keys {
        match v {
            Value::Null => {}
            Value::String(s) => {
                ctx.set(&k, s);
            }
            Value::Array(items) => {
                ctx.set_all(&k, items.iter().map(|i| i.as_str().expect("context values are strings").to_string()));
            }
            other => panic!("context value {other} is not a string or list"),
        }
    }
    ctx
}

fn expected(v: &Value) -> Decision {
    match v.as_str() {
        Some("Allow") => Decision::Allow,
        Some("ExplicitDeny") => Decision::ExplicitDeny,
        Some("ImplicitDeny") => Decision::ImplicitDeny,
        other => panic!("unknown expectation {other:?}"),
    }
}

#[test]
fn evaluation_table() {
    let data: Value = serde_json::from_str(CASES).expect("evaluation.json is JSON");
    let mut failures = Vec::new();
    let mut count = 0;
    for group in data["groups"].as_array().expect("groups") {
        let name = group["group"].as_str().expect("group name");
        let policies: Vec<Policy> = group["policies"]
            .as_array()
            .expect("policies")
            .iter()
            .map(|p| {
                let text = match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Policy::parse(&text).unwrap_or_else(|e| panic!("{name}: policy does not parse: {e}\n{text}"))
            })
            .collect();
        let set: Vec<&Policy> = policies.iter().collect();
        let request_defaults = group["request"].as_object().expect("request");
        for case in group["cases"].as_array().expect("cases") {
            count += 1;
            let case = case.as_object().expect("case");
            let ctx = request(request_defaults, case);
            let want = expected(&case["expect"]);
            let got = decide(&set, &ctx);
            let why = explain(&set, &ctx);
            if got != want || why.decision != got {
                failures.push(format!(
                    "[{name}] {}: expected {want:?}, decide gave {got:?}, explain gave {:?}\n    request: {ctx:?}",
                    case["note"].as_str().unwrap_or("?"),
                    why.decision
                ));
            }
        }
    }
    println!("{count} evaluation cases");
    assert!(count >= 200, "only {count} cases");
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
}
