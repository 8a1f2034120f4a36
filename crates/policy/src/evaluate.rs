//! Deciding a request against a set of policies of one kind.
//!
//! Within one set (IAM User Guide, "Policy evaluation logic"): a matching Deny statement is an
//! explicit deny and wins; otherwise a matching Allow statement allows; otherwise the request
//! is implicitly denied. A statement matches when its action, resource and principal elements
//! match and every condition clause holds. Combining sets (identity ∪, session ∩, resource,
//! trust, boundaries) is the caller's.

use crate::context::RequestContext;
use crate::document::{Effect, Policy, Statement};
use crate::matching::ArnView;
use crate::spans::Position;

/// The outcome of evaluating one set of policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// An Allow statement matched and no Deny did.
    Allow,
    /// A Deny statement matched.
    ExplicitDeny,
    /// No statement matched.
    ImplicitDeny,
}

/// A statement that decided the outcome, for SimulatePolicy's `MatchedStatements`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    /// Index of the policy in the slice passed to [`explain`].
    pub policy_index: usize,
    /// Index of the statement within its policy.
    pub statement_index: usize,
    /// The statement's Sid.
    pub sid: Option<String>,
    /// The statement's Effect.
    pub effect: Effect,
    /// Where the statement starts in its policy's text (IAM's `StartPosition`).
    pub start_position: Option<Position>,
    /// Just past where the statement ends (IAM's `EndPosition`).
    pub end_position: Option<Position>,
}

/// A decision and why, for SimulatePrincipalPolicy / SimulateCustomPolicy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// Same as [`decide`] answers.
    pub decision: Decision,
    /// The statements that decided: the matching Deny statements for an explicit deny, the
    /// matching Allow statements for an allow, none for an implicit deny.
    pub matched_statements: Vec<MatchedStatement>,
    /// Context keys (lowercased, sorted) that the statements whose action and principal match
    /// need for their conditions or variables (those without a default), but that the request
    /// lacks, for SimulatePolicy's `MissingContextValues`.
    pub missing_context_values: Vec<String>,
}

/// The request with its resource cut into ARN parts and its action lowercased, once for
/// every statement.
struct Prepared<'a> {
    ctx: &'a RequestContext,
    arn: ArnView<'a>,
    /// The action in ASCII lowercase, when it is ASCII and fits [`ACTION_BUFFER`].
    action: Option<&'a [u8]>,
}

/// Actions longer than this (none of AWS's are) are matched without the lowercase copy.
const ACTION_BUFFER: usize = 128;

impl<'a> Prepared<'a> {
    fn new(ctx: &'a RequestContext, buf: &'a mut [u8; ACTION_BUFFER]) -> Prepared<'a> {
        let action = ctx.action.as_bytes();
        let lowered = match buf.get_mut(..action.len()) {
            Some(slot) if action.is_ascii() => {
                slot.copy_from_slice(action);
                slot.make_ascii_lowercase();
                Some(&*slot)
            }
            _ => None,
        };
        Prepared { ctx, arn: ArnView::new(&ctx.resource), action: lowered }
    }
}

impl Statement {
    /// Whether the action, resource and principal elements match (conditions aside).
    fn targets(&self, req: &Prepared<'_>) -> bool {
        self.action_and_principal_match(req) && self.resource_matches(req)
    }

    fn action_and_principal_match(&self, req: &Prepared<'_>) -> bool {
        let ctx = req.ctx;
        let (not_action, actions) = &self.actions;
        let named = match req.action {
            Some(lower) => actions.iter().any(|a| a.matches_lowercase(lower)),
            None => actions.iter().any(|a| a.matches(&ctx.action)),
        };
        if named == *not_action {
            return false;
        }
        if let Some((not_principal, principals)) = &self.principal
            && principals.names(ctx.principal.as_ref()) == *not_principal
        {
            return false;
        }
        true
    }

    fn resource_matches(&self, req: &Prepared<'_>) -> bool {
        match &self.resources {
            Some((not_resource, resources)) => resources.iter().any(|r| r.matches(&req.arn, req.ctx)) != *not_resource,
            None => true,
        }
    }

    fn conditions_hold(&self, ctx: &RequestContext) -> bool {
        self.conditions.iter().all(|c| c.holds(ctx))
    }
}

/// Union evaluation over a set of policies of one kind: any matching Deny -> ExplicitDeny,
/// else any matching Allow -> Allow, else ImplicitDeny.
///
/// Allocates nothing on the common path, policy variables included; only `BinaryEquals`,
/// case-insensitive matching of non-ASCII text and variables in patterns of more than eight
/// pieces allocate.
pub fn decide(policies: &[&Policy], request: &RequestContext) -> Decision {
    let mut buf = [0; ACTION_BUFFER];
    let req = Prepared::new(request, &mut buf);
    let mut allowed = false;
    for policy in policies {
        let (named, always) = policy.index.candidates(&request.action);
        for s in named.iter().chain(always).filter_map(|&i| policy.statements.get(i as usize)) {
            // Once allowed, only a Deny can change the answer.
            if allowed && s.effect == Effect::Allow {
                continue;
            }
            if s.targets(&req) && s.conditions_hold(request) {
                match s.effect {
                    Effect::Deny => return Decision::ExplicitDeny,
                    Effect::Allow => allowed = true,
                }
            }
        }
    }
    if allowed { Decision::Allow } else { Decision::ImplicitDeny }
}

/// Same decision plus the why, for SimulatePrincipalPolicy / SimulateCustomPolicy.
pub fn explain(policies: &[&Policy], request: &RequestContext) -> Explanation {
    let mut buf = [0; ACTION_BUFFER];
    let req = Prepared::new(request, &mut buf);
    let (mut allows, mut denies, mut missing) = (Vec::new(), Vec::new(), Vec::new());
    for (policy_index, policy) in policies.iter().enumerate() {
        for (statement_index, s) in policy.statements.iter().enumerate() {
            if !s.action_and_principal_match(&req) {
                continue;
            }
            // Keys are gathered before the resource is looked at: a Resource whose variable
            // cannot be resolved is exactly a case of a missing context value.
            missing.extend(s.required.iter().filter(|k| request.get_lowercase(k).is_none()).cloned());
            if !s.resource_matches(&req) || !s.conditions_hold(request) {
                continue;
            }
            let matched = MatchedStatement {
                policy_index,
                statement_index,
                sid: s.sid.clone(),
                effect: s.effect,
                start_position: s.start_position(),
                end_position: s.end_position(),
            };
            match s.effect {
                Effect::Deny => denies.push(matched),
                Effect::Allow => allows.push(matched),
            }
        }
    }
    missing.sort();
    missing.dedup();
    let (decision, matched_statements) = if !denies.is_empty() {
        (Decision::ExplicitDeny, denies)
    } else if !allows.is_empty() {
        (Decision::Allow, allows)
    } else {
        (Decision::ImplicitDeny, Vec::new())
    };
    Explanation { decision, matched_statements, missing_context_values: missing }
}

impl Policy {
    /// [`decide`] for this policy alone.
    pub fn decide(&self, request: &RequestContext) -> Decision {
        decide(&[self], request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_index_ignores_case_and_keeps_wildcard_services() {
        let p = Policy::parse(
            r#"{"Statement":[
                {"Effect":"Allow","Action":["S3:Get*","logs:PutLogEvents"],"Resource":"*"},
                {"Effect":"Allow","Action":"*:List*","Resource":"*"},
                {"Effect":"Deny","NotAction":"s3:*","Resource":"*","Condition":{"Bool":{"aws:x":"true"}}},
                {"Effect":"Allow","Action":"s?s:SendMessage","Resource":"*"}]}"#,
        )
        .unwrap();
        let d = |action: &str, deny: bool| {
            let mut ctx = RequestContext::new(action, "*");
            ctx.set("aws:x", if deny { "true" } else { "false" });
            (decide(&[&p], &ctx), explain(&[&p], &ctx).decision)
        };
        assert_eq!(d("s3:getobject", false), (Decision::Allow, Decision::Allow));
        assert_eq!(d("LOGS:PutLogEvents", false), (Decision::Allow, Decision::Allow));
        assert_eq!(d("ec2:ListThings", false), (Decision::Allow, Decision::Allow));
        assert_eq!(d("ec2:ListThings", true), (Decision::ExplicitDeny, Decision::ExplicitDeny));
        assert_eq!(d("sqs:SendMessage", false), (Decision::Allow, Decision::Allow));
        assert_eq!(d("noservice", false), (Decision::ImplicitDeny, Decision::ImplicitDeny));
        assert_eq!(d("s3:PutObject", true), (Decision::ImplicitDeny, Decision::ImplicitDeny));
    }
}
