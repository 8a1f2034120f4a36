//! The policy grammar: JSON text to a checked raw document, and a raw document to a compiled
//! [`Policy`].
//!
//! Grammar (IAM User Guide, "IAM JSON policy element reference" and "Grammar of the IAM JSON
//! policy language"): a JSON object with `Version` (`2012-10-17` or `2008-10-17`), `Id` and
//! `Statement` (one statement object or a non-empty list); each statement has `Sid`, `Effect`
//! (`Allow` | `Deny`), at most one of `Principal` / `NotPrincipal`, of `Action` / `NotAction`,
//! of `Resource` / `NotResource`, and `Condition`. Element names are case-sensitive; any
//! other element, or a value of the wrong JSON type, is a syntax error.

use serde_json::{Map, Value};

use crate::condition::{Clause, Operator};
use crate::error::{PolicyError, messages};
use crate::matching::{ActionPattern, ArnPattern};
use crate::principal::PrincipalSet;
use crate::spans::{Position, positions, statement_ranges};
use crate::validate;
use crate::variables::Var;

/// The two policy language versions IAM accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    /// `2008-10-17`, also what a document without `Version` is: no policy variables.
    V2008_10_17,
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
}

/// What a statement does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants the request (unless a Deny also matches).
    Allow,
    /// Refuses the request, whatever else allows it.
    Deny,
}

/// What a document is used as; decides which rules [`Policy::parse_as`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// A managed or inline policy of a user, group or role: no Principal, Resource required.
    Identity,
    /// A role's AssumeRolePolicyDocument: Principal required, no Resource, STS actions only.
    Trust,
    /// A resource-based policy (e.g. a log group's resource policy): Principal and Resource required.
    Resource,
    /// A session policy passed to AssumeRole / GetFederationToken: same rules as Identity.
    Session,
}

/// A parsed, compiled policy document (wildcards precompiled, ready to evaluate many times).
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) version: Option<PolicyVersion>,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
    condition_keys: Vec<String>,
    /// Which statements can match an action of a given service, so `decide` skips the rest.
    pub(crate) index: ActionIndex,
}

/// One compiled statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    /// `(is NotPrincipal, the principals)`; `None` when the statement names no principal.
    pub(crate) principal: Option<(bool, PrincipalSet)>,
    /// `(is NotAction, the patterns)`.
    pub(crate) actions: (bool, Vec<ActionPattern>),
    /// `(is NotResource, the patterns)`; `None` (trust policies) applies to any resource.
    pub(crate) resources: Option<(bool, Vec<ArnPattern>)>,
    /// ANDed clauses.
    pub(crate) conditions: Vec<Clause>,
    /// Lowercased context keys the statement reads (condition keys and variables), sorted.
    pub(crate) keys: Vec<String>,
    /// The subset of `keys` without which the statement cannot match: condition keys and
    /// variables without a default.
    pub(crate) required: Vec<String>,
    start: Option<Position>,
    end: Option<Position>,
}

impl Statement {
    /// The `Sid`, if the statement has one (it may be the empty string).
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// `Allow` or `Deny`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Where the statement's `{` is in the source text.
    pub fn start_position(&self) -> Option<Position> {
        self.start
    }

    /// The position just after the statement's closing `}` in the source text.
    pub fn end_position(&self) -> Option<Position> {
        self.end
    }

    /// Whether the statement has a Principal or NotPrincipal element.
    pub fn has_principal(&self) -> bool {
        self.principal.is_some()
    }

    /// The context keys the statement reads, lowercased (condition keys and variables).
    pub fn context_keys(&self) -> &[String] {
        &self.keys
    }
}

impl Policy {
    /// Parses the grammar only (any kind of policy). Error = MalformedPolicyDocument message.
    ///
    /// Checks what IAM checks of every document: JSON, the grammar, `Effect` spelled exactly,
    /// Date condition values, and that each statement has actions. The rules that depend on
    /// the kind of document are [`Policy::parse_as`]'s.
    pub fn parse(document: &str) -> Result<Policy, PolicyError> {
        let raw = read(document).map_err(|issue| issue.error(None))?;
        validate::common(&raw)?;
        Ok(compile(document, &raw))
    }

    /// Parses and applies the rules IAM applies for this kind of document.
    pub fn parse_as(document: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let raw = read(document).map_err(|issue| issue.error(Some(kind)))?;
        validate::for_kind(&raw, kind)?;
        Ok(compile(document, &raw))
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Every condition key the document references (lowercased), for SimulatePolicy's
    /// MissingContextValues: the keys of its Condition elements and of the policy variables
    /// it substitutes, sorted, without duplicates.
    pub fn condition_keys(&self) -> Vec<String> {
        self.condition_keys.clone()
    }

    /// The language version in effect (`2008-10-17` when the document has no `Version`).
    pub fn version(&self) -> PolicyVersion {
        self.version.unwrap_or(PolicyVersion::V2008_10_17)
    }

    /// Whether the document has a `Version` element.
    pub fn has_version(&self) -> bool {
        self.version.is_some()
    }

    /// The `Id` element.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The extra rule of managed policies (CreatePolicy, CreatePolicyVersion): the document
    /// must say `"Version": "2012-10-17"`. Inline, trust and session policies may omit it.
    pub fn check_managed_version(&self) -> Result<(), PolicyError> {
        match self.version {
            Some(PolicyVersion::V2012_10_17) => Ok(()),
            _ => Err(PolicyError::new(messages::VERSION_2012_REQUIRED)),
        }
    }
}

/// What stopped a document before its content could be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Issue {
    Json,
    Grammar,
    EmptyStatement,
}

impl Issue {
    fn error(self, kind: Option<PolicyKind>) -> PolicyError {
        let trust = kind == Some(PolicyKind::Trust);
        PolicyError::new(match self {
            Issue::Json if trust => messages::TRUST_INVALID_JSON,
            Issue::EmptyStatement if trust => messages::TRUST_STATEMENT_EMPTY,
            _ => messages::SYNTAX,
        })
    }
}

/// A document that passed the grammar, with its values still as text.
#[derive(Debug, Clone)]
pub(crate) struct RawPolicy {
    pub(crate) version: Option<PolicyVersion>,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<RawStatement>,
}

/// A statement that passed the grammar.
#[derive(Debug, Clone)]
pub(crate) struct RawStatement {
    pub(crate) sid: Option<String>,
    /// As written; the grammar accepted it in some case of `Allow` / `Deny`.
    pub(crate) effect: String,
    /// `(is NotPrincipal, the element)`.
    pub(crate) principal: Option<(bool, RawPrincipal)>,
    /// `(is NotAction, the entries)`.
    pub(crate) actions: Option<(bool, Vec<String>)>,
    /// `(is NotResource, the entries)`.
    pub(crate) resources: Option<(bool, Vec<String>)>,
    pub(crate) conditions: Vec<RawClause>,
}

/// A Principal element as written.
#[derive(Debug, Clone)]
pub(crate) enum RawPrincipal {
    /// `"*"`.
    Everyone,
    /// `{"AWS": [...], "Service": [...], ...}`, in document order.
    Map(Vec<(String, Vec<String>)>),
}

/// One `operator: { key: values }` entry; operators IAM does not know with no keys are dropped.
#[derive(Debug, Clone)]
pub(crate) struct RawClause {
    pub(crate) operator: Operator,
    pub(crate) key: String,
    pub(crate) values: Vec<String>,
}

const TOP_ELEMENTS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: [&str; 9] =
    ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];
const PRINCIPAL_TYPES: [&str; 4] = ["AWS", "Service", "Federated", "CanonicalUser"];

/// Parses the JSON and checks the grammar.
pub(crate) fn read(document: &str) -> Result<RawPolicy, Issue> {
    // serde_json stops at 128 levels of nesting, so hostile input cannot exhaust the stack.
    let value: Value = serde_json::from_str(document).map_err(|_| Issue::Json)?;
    let top = value.as_object().ok_or(Issue::Grammar)?;
    if top.keys().any(|k| !TOP_ELEMENTS.contains(&k.as_str())) {
        return Err(Issue::Grammar);
    }
    let version = match top.get("Version") {
        None => None,
        Some(Value::String(v)) if v == "2012-10-17" => Some(PolicyVersion::V2012_10_17),
        Some(Value::String(v)) if v == "2008-10-17" => Some(PolicyVersion::V2008_10_17),
        Some(_) => return Err(Issue::Grammar),
    };
    let id = optional_string(top, "Id")?;
    let statements = match top.get("Statement").ok_or(Issue::Grammar)? {
        Value::Array(list) if list.is_empty() => return Err(Issue::EmptyStatement),
        Value::Array(list) => list.iter().map(statement).collect::<Result<Vec<_>, _>>()?,
        one @ Value::Object(_) => vec![statement(one)?],
        _ => return Err(Issue::Grammar),
    };
    Ok(RawPolicy { version, id, statements })
}

fn optional_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, Issue> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Issue::Grammar),
    }
}

/// `"x"` or `["x", …]`; `Ok(None)` when the element is absent.
fn string_list(map: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, Issue> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map(str::to_string).ok_or(Issue::Grammar)).collect::<Result<Vec<_>, _>>().map(Some)
        }
        Some(_) => Err(Issue::Grammar),
    }
}

/// An element that has a `Not…` twin: at most one of the two may be present.
fn either<T>(
    map: &Map<String, Value>,
    name: &str,
    not_name: &str,
    read: impl Fn(&Map<String, Value>, &str) -> Result<Option<T>, Issue>,
) -> Result<Option<(bool, T)>, Issue> {
    match (read(map, name)?, read(map, not_name)?) {
        (Some(_), Some(_)) => Err(Issue::Grammar),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

fn statement(value: &Value) -> Result<RawStatement, Issue> {
    let map = value.as_object().ok_or(Issue::Grammar)?;
    if map.keys().any(|k| !STATEMENT_ELEMENTS.contains(&k.as_str())) {
        return Err(Issue::Grammar);
    }
    let effect = match map.get("Effect") {
        Some(Value::String(e)) if e.eq_ignore_ascii_case("Allow") || e.eq_ignore_ascii_case("Deny") => e.clone(),
        _ => return Err(Issue::Grammar),
    };
    Ok(RawStatement {
        sid: optional_string(map, "Sid")?,
        effect,
        principal: either(map, "Principal", "NotPrincipal", principal)?,
        actions: either(map, "Action", "NotAction", string_list)?,
        resources: either(map, "Resource", "NotResource", string_list)?,
        conditions: conditions(map.get("Condition"))?,
    })
}

fn principal(map: &Map<String, Value>, key: &str) -> Result<Option<RawPrincipal>, Issue> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s == "*" => Ok(Some(RawPrincipal::Everyone)),
        Some(Value::Object(types)) => {
            let mut out = Vec::with_capacity(types.len());
            for (kind, _) in types {
                if !PRINCIPAL_TYPES.contains(&kind.as_str()) {
                    return Err(Issue::Grammar);
                }
                let values = string_list(types, kind)?.unwrap_or_default();
                out.push((kind.clone(), values));
            }
            Ok(Some(RawPrincipal::Map(out)))
        }
        Some(_) => Err(Issue::Grammar),
    }
}

/// A condition value as text: strings as they are, numbers and booleans as JSON writes them.
fn condition_value(v: &Value) -> Result<String, Issue> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Issue::Grammar),
    }
}

fn conditions(value: Option<&Value>) -> Result<Vec<RawClause>, Issue> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let operators = value.as_object().ok_or(Issue::Grammar)?;
    let mut out = Vec::new();
    for (name, entries) in operators {
        let entries = entries.as_object().ok_or(Issue::Grammar)?;
        let Some(operator) = Operator::parse(name) else {
            // IAM lets an unknown operator through only when it names no key.
            if entries.is_empty() {
                continue;
            }
            return Err(Issue::Grammar);
        };
        for (key, values) in entries {
            let values = match values {
                Value::Array(items) => items.iter().map(condition_value).collect::<Result<Vec<_>, _>>()?,
                single => vec![condition_value(single)?],
            };
            out.push(RawClause { operator, key: key.clone(), values });
        }
    }
    Ok(out)
}

/// Builds the evaluable policy from a document that passed its checks.
fn compile(document: &str, raw: &RawPolicy) -> Policy {
    let variables = raw.version == Some(PolicyVersion::V2012_10_17);
    let spans = statement_ranges(document).filter(|r| r.len() == raw.statements.len());
    let places: Option<Vec<Position>> = spans.map(|ranges| {
        let offsets: Vec<usize> = ranges.iter().flat_map(|&(s, e)| [s, e]).collect();
        positions(document, &offsets)
    });
    let mut all_keys = Vec::new();
    let statements = raw
        .statements
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let statement = compile_statement(s, variables, places.as_deref(), i);
            all_keys.extend(statement.keys.iter().cloned());
            statement
        })
        .collect();
    all_keys.sort();
    all_keys.dedup();
    let index = ActionIndex::new(raw);
    Policy { version: raw.version, id: raw.id.clone(), statements, condition_keys: all_keys, index }
}

fn compile_statement(raw: &RawStatement, variables: bool, places: Option<&[Position]>, index: usize) -> Statement {
    let effect = if raw.effect.eq_ignore_ascii_case("Deny") { Effect::Deny } else { Effect::Allow };
    let principal = raw.principal.as_ref().map(|(not, p)| {
        let set = match p {
            RawPrincipal::Everyone => PrincipalSet::everyone(),
            RawPrincipal::Map(types) => {
                let mut set = PrincipalSet::default();
                for (kind, values) in types {
                    for v in values {
                        set.add(kind, v);
                    }
                }
                set
            }
        };
        (*not, set)
    });
    let actions = match &raw.actions {
        Some((not, list)) => (*not, list.iter().map(|a| ActionPattern::new(a)).collect()),
        // Only `parse` lets a statement without actions through: it matches no action.
        None => (false, Vec::new()),
    };
    let resources =
        raw.resources.as_ref().map(|(not, list)| (*not, list.iter().map(|r| ArnPattern::new(r, variables)).collect::<Vec<_>>()));
    let conditions: Vec<Clause> = raw.conditions.iter().map(|c| Clause::new(c.operator, &c.key, &c.values, variables)).collect();

    // Condition keys, then the keys of variables (`required` leaves out those with a default).
    let mut vars: Vec<&Var> = conditions.iter().flat_map(Clause::variables).collect();
    if let Some((_, patterns)) = &resources {
        vars.extend(patterns.iter().flat_map(ArnPattern::variables));
    }
    let mut required: Vec<String> = conditions.iter().map(|c| c.key.to_string()).collect();
    required.extend(vars.iter().filter(|v| v.default.is_none()).map(|v| v.key.to_string()));
    let mut keys = required.clone();
    keys.extend(vars.iter().map(|v| v.key.to_string()));
    for list in [&mut keys, &mut required] {
        list.sort();
        list.dedup();
    }

    let at = |j: usize| places.and_then(|p| p.get(2 * index + j)).copied();
    Statement { sid: raw.sid.clone(), effect, principal, actions, resources, conditions, keys, required, start: at(0), end: at(1) }
}

/// The statements of a policy grouped by the service their actions name.
///
/// Most Action entries start with a literal `service:`; such a statement can only match
/// requests for that service. Statements with NotAction, or with an entry whose service part
/// has wildcards (`*`, `*:Get*`, `s?s:…`), go in `always`. Evaluation order within a set does
/// not change the decision, so `decide` only looks at `always` and the request's service.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionIndex {
    /// Lowercased service name and the statements (indexes, ascending) naming it, sorted by name.
    by_service: Vec<(Box<str>, Vec<u32>)>,
    always: Vec<u32>,
}

impl ActionIndex {
    fn new(raw: &RawPolicy) -> ActionIndex {
        let mut index = ActionIndex::default();
        for (i, s) in raw.statements.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let Some((false, actions)) = &s.actions else {
                index.always.push(i);
                continue;
            };
            let services: Option<Vec<String>> = actions
                .iter()
                .map(|a| a.split_once(':').map(|(svc, _)| svc).filter(|svc| !svc.contains(['*', '?'])).map(str::to_lowercase))
                .collect();
            match services {
                Some(mut services) => {
                    services.sort();
                    services.dedup();
                    for svc in services {
                        match index.by_service.binary_search_by(|(k, _)| (**k).cmp(svc.as_str())) {
                            Ok(at) => index.by_service[at].1.push(i),
                            Err(at) => index.by_service.insert(at, (svc.into_boxed_str(), vec![i])),
                        }
                    }
                }
                None => index.always.push(i),
            }
        }
        index
    }

    /// The statements that may match `action`: those naming its service, and the rest that
    /// may match anything. Allocation-free; the service is compared without case.
    pub(crate) fn candidates(&self, action: &str) -> (&[u32], &[u32]) {
        // A byte scan: the service name is short, and `split_once` sets up a searcher.
        let bytes = action.as_bytes();
        let service = &bytes[..bytes.iter().position(|&b| b == b':').unwrap_or(bytes.len())];
        let found = self.by_service.binary_search_by(|(k, _)| cmp_ignore_ascii_case(k, service));
        let named = found.map_or(&[][..], |at| self.by_service[at].1.as_slice());
        (named, &self.always)
    }
}

/// Orders `a` (already lowercase) against `b` as if `b` were lowercased.
fn cmp_ignore_ascii_case(a: &str, b: &[u8]) -> std::cmp::Ordering {
    a.bytes().cmp(b.iter().map(|c| c.to_ascii_lowercase()))
}
