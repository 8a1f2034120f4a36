//! SimulatePrincipalPolicy and SimulateCustomPolicy, answered by the same evaluator that
//! enforces (the `policy` crate), so a user can ask why a call would be allowed.

use std::sync::Arc;

use policy::{Decision, Policy, PolicyKind, RequestContext};
use serde_json::{Value, json};
use wire::AwsError;

use super::{Request, invalid_input, no_such_entity, page, paged};
use crate::Identities;
use crate::directory::{PolicySource, Snapshot};
use crate::entities::Tag;

/// A policy under simulation and where it came from.
struct Source {
    policy: Arc<Policy>,
    id: String,
    kind: &'static str,
}

pub(super) fn call(ids: &Identities, op: &str, r: &Request<'_>) -> Result<Value, AwsError> {
    let snapshot = ids.snapshot();
    let mut sources = Vec::new();
    let mut caller = Caller::default();
    if op == "SimulatePrincipalPolicy" {
        principal_policies(ids, &snapshot, r.str("PolicySourceArn"), &mut sources, &mut caller)?;
    }
    for (i, doc) in r.input["PolicyInputList"].as_array().into_iter().flatten().enumerate() {
        let policy = Policy::parse_as(doc.as_str().unwrap_or_default(), PolicyKind::Identity).map_err(|e| invalid_input(e.message()))?;
        sources.push(Source { policy: Arc::new(policy), id: format!("PolicyInputList.{}", i + 1), kind: "none" });
    }
    let resource_policy = match r.opt("ResourcePolicy") {
        Some(doc) => Some(Policy::parse_as(doc, PolicyKind::Resource).map_err(|e| invalid_input(e.message()))?),
        None => None,
    };
    if let Some(arn) = r.opt("CallerArn") {
        caller = caller_from_arn(ids, &snapshot, arn)?;
    }
    let resources: Vec<String> = match r.input["ResourceArns"].as_array() {
        Some(list) if !list.is_empty() => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => vec!["*".to_owned()],
    };
    let mut results = Vec::new();
    for action in r.input["ActionNames"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        for resource in &resources {
            let context = context(r, &caller, action, resource)?;
            results.push(evaluate(&sources, resource_policy.as_ref(), &context, action, resource));
        }
    }
    let (results, next) = page(results, r, |v| format!("{}|{}", v["EvalActionName"], v["EvalResourceName"]));
    Ok(paged(json!({"EvaluationResults": results}), next))
}

/// The caller whose principal keys the simulation fills in.
#[derive(Default)]
struct Caller {
    arn: Option<String>,
    user: Option<(String, String, Vec<Tag>)>,
}

fn principal_policies(
    ids: &Identities,
    snapshot: &Snapshot,
    arn: &str,
    out: &mut Vec<Source>,
    caller: &mut Caller,
) -> Result<(), AwsError> {
    let prefix = format!("arn:aws:iam::{}:", ids.account_id());
    let not_found = || no_such_entity(format!("The entity {arn} cannot be found."));
    let rest = arn.strip_prefix(&prefix).ok_or_else(not_found)?;
    let name = rest.rsplit('/').next().unwrap_or_default();
    let key = if rest.starts_with("user/") {
        let user = snapshot.user(name).ok_or_else(not_found)?;
        *caller = Caller { arn: Some(arn.to_owned()), user: Some((user.name.clone(), user.id.clone(), user.tags.clone())) };
        format!("user:{}", name.to_lowercase())
    } else if rest.starts_with("role/") {
        snapshot.role(name).ok_or_else(not_found)?;
        format!("role:{}", name.to_lowercase())
    } else if rest.starts_with("group/") {
        let group = snapshot.group(name).ok_or_else(not_found)?;
        // A group's policies on their own, as they would apply to any member.
        let mut sources = Vec::new();
        for (pname, doc) in &group.permissions.inline {
            if let Ok(p) = Policy::parse(doc) {
                sources.push(Source { policy: Arc::new(p), id: pname.clone(), kind: "group" });
            }
        }
        for a in &group.permissions.attached {
            if let Some(p) = snapshot.managed_document(a).and_then(|d| Policy::parse(d).ok()) {
                sources.push(Source { policy: Arc::new(p), id: policy_name(a), kind: managed_kind(a) });
            }
        }
        out.extend(sources);
        return Ok(());
    } else {
        return Err(not_found());
    };
    if let Some(grants) = snapshot.grants(&key) {
        for (policy, source) in grants.policies.iter().zip(&grants.sources) {
            out.push(Source { policy: policy.clone(), id: source_id(source), kind: source.kind });
        }
    }
    Ok(())
}

fn caller_from_arn(ids: &Identities, snapshot: &Snapshot, arn: &str) -> Result<Caller, AwsError> {
    let prefix = format!("arn:aws:iam::{}:user/", ids.account_id());
    let Some(rest) = arn.strip_prefix(&prefix) else {
        return Err(invalid_input(format!("Invalid CallerArn {arn}: only IAM users can be simulated as callers.")));
    };
    let name = rest.rsplit('/').next().unwrap_or_default();
    let user = snapshot.user(name).ok_or_else(|| no_such_entity(format!("The user with name {name} cannot be found.")))?;
    Ok(Caller { arn: Some(arn.to_owned()), user: Some((user.name.clone(), user.id.clone(), user.tags.clone())) })
}

/// Managed policies are named by their policy name in simulation results, inline ones by theirs.
fn source_id(source: &PolicySource) -> String {
    if source.id.starts_with("arn:") { policy_name(&source.id) } else { source.id.clone() }
}

fn policy_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

fn managed_kind(arn: &str) -> &'static str {
    if arn.starts_with("arn:aws:iam::aws:") { "aws-managed" } else { "user-managed" }
}

/// The request context of one simulated call: the caller's keys and the given entries.
fn context(r: &Request<'_>, caller: &Caller, action: &str, resource: &str) -> Result<RequestContext, AwsError> {
    let mut ctx = RequestContext::new(action, resource);
    if let Some(arn) = &caller.arn {
        ctx.set("aws:PrincipalArn", arn.clone());
        ctx.set("aws:PrincipalType", "User");
        ctx.set("aws:PrincipalAccount", r.ctx.account_id.clone());
    }
    if let Some((name, id, tags)) = &caller.user {
        ctx.set("aws:username", name.clone());
        ctx.set("aws:userid", id.clone());
        for t in tags {
            ctx.set(&format!("aws:PrincipalTag/{}", t.key), t.value.clone());
        }
        if let Some(arn) = &caller.arn {
            ctx.principal = Some(policy::Principal::Aws { arn: arn.clone(), account: r.ctx.account_id.clone(), role_arn: None });
        }
    }
    for entry in r.input["ContextEntries"].as_array().into_iter().flatten() {
        let Some(key) = entry["ContextKeyName"].as_str() else { continue };
        let values: Vec<String> =
            entry["ContextKeyValues"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
        if values.is_empty() {
            return Err(invalid_input(format!("Context key {key} has no values.")));
        }
        ctx.set_all(key, values);
    }
    Ok(ctx)
}

fn evaluate(sources: &[Source], resource_policy: Option<&Policy>, ctx: &RequestContext, action: &str, resource: &str) -> Value {
    let policies: Vec<&Policy> = sources.iter().map(|s| s.policy.as_ref()).collect();
    let identity = policy::explain(&policies, ctx);
    let mut matched: Vec<Value> = identity
        .matched_statements
        .iter()
        .filter(|m| relevant(identity.decision, m.effect))
        .map(|m| statement_json(&sources[m.policy_index].id, sources[m.policy_index].kind, m))
        .collect();
    let mut decision = identity.decision;
    let mut missing = identity.missing_context_values.clone();
    if let Some(rp) = resource_policy {
        let resource_side = policy::explain(&[rp], ctx);
        matched.extend(
            resource_side
                .matched_statements
                .iter()
                .filter(|m| relevant(resource_side.decision, m.effect))
                .map(|m| statement_json("ResourcePolicy", "resource", m)),
        );
        missing.extend(resource_side.missing_context_values.iter().cloned());
        decision = match (decision, resource_side.decision) {
            (Decision::ExplicitDeny, _) | (_, Decision::ExplicitDeny) => Decision::ExplicitDeny,
            (Decision::Allow, _) | (_, Decision::Allow) => Decision::Allow,
            _ => Decision::ImplicitDeny,
        };
    }
    missing.sort();
    missing.dedup();
    json!({
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision_name(decision),
        "MatchedStatements": matched,
        "MissingContextValues": missing,
    })
}

/// The statements that decided: the denies of a deny, the allows of an allow.
fn relevant(decision: Decision, effect: policy::Effect) -> bool {
    match decision {
        Decision::ExplicitDeny => effect == policy::Effect::Deny,
        Decision::Allow => effect == policy::Effect::Allow,
        Decision::ImplicitDeny => false,
    }
}

fn statement_json(id: &str, kind: &str, m: &policy::MatchedStatement) -> Value {
    let mut v = json!({"SourcePolicyId": id, "SourcePolicyType": kind});
    if let (Some(start), Some(end)) = (&m.start_position, &m.end_position) {
        v["StartPosition"] = json!({"Line": start.line, "Column": start.column});
        v["EndPosition"] = json!({"Line": end.line, "Column": end.column});
    }
    v
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "allowed",
        Decision::ExplicitDeny => "explicitDeny",
        Decision::ImplicitDeny => "implicitDeny",
    }
}
