//! The error a policy document is rejected with.
//!
//! IAM answers a bad document with the error code `MalformedPolicyDocument` and one of a
//! fixed set of texts. The texts below are the ones IAM is seen to return (in AWS's docs,
//! in error reports quoting the API, and in emulators whose tests were recorded against
//! AWS). Where no AWS text could be found the closest wording is used and a comment says so.

use std::fmt;

/// Why a policy document was rejected: the exact text IAM puts in `MalformedPolicyDocument`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    message: String,
}

impl PolicyError {
    /// An error carrying `message` verbatim.
    pub(crate) fn new(message: impl Into<String>) -> PolicyError {
        PolicyError { message: message.into() }
    }

    /// The text for the `Message` element of the `MalformedPolicyDocument` error.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// The texts, so tests and callers can compare against names rather than copies.
pub mod messages {
    /// Not JSON, or JSON that is not the policy grammar (wrong types, unknown elements,
    /// unknown condition operators, an Effect other than Allow/Deny in any case).
    pub const SYNTAX: &str = "Syntax errors in policy.";
    /// What CreateRole / UpdateAssumeRolePolicy answer for a trust policy that is not JSON.
    pub const TRUST_INVALID_JSON: &str = "This policy contains invalid Json";
    /// A trust policy whose Statement is an empty list. Seen from emulators recorded against
    /// CreateRole; permission policies answer [`SYNTAX`] instead.
    pub const TRUST_STATEMENT_EMPTY: &str = "Could not parse the policy: Statement is empty!";
    /// Effect spelled in another case ("allow"), a bad date in a Date condition, or a
    /// resource whose vendor is empty: IAM's older parser rejects these.
    pub const LEGACY_PARSING: &str = "The policy failed legacy parsing";
    /// A managed policy (CreatePolicy / CreatePolicyVersion) without `"Version": "2012-10-17"`.
    pub const VERSION_2012_REQUIRED: &str = "Policy document must be version 2012-10-17 or greater.";
    /// Two statements share a non-empty Sid.
    pub const SID_NOT_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";
    /// A Sid with characters other than ASCII letters and digits.
    pub const SID_NOT_ALPHANUMERIC: &str =
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
    /// A statement without Action or NotAction (or with an empty list).
    pub const NO_ACTIONS: &str = "Policy statement must contain actions.";
    /// A permission statement without Resource or NotResource (or with an empty list).
    pub const NO_RESOURCES: &str = "Policy statement must contain resources.";
    /// An identity or session policy with a Principal or NotPrincipal element.
    pub const PRINCIPAL_NOT_ALLOWED: &str = "Policy document should not specify a principal.";
    /// A trust or resource-based statement without Principal or NotPrincipal.
    pub const PRINCIPAL_MISSING: &str = "Missing required field Principal";
    /// A trust or resource-based statement whose Principal is `{}` or lists nothing.
    pub const PRINCIPAL_EMPTY: &str = "Missing required field Principal cannot be empty!";
    /// A trust policy statement with a Resource element.
    pub const TRUST_HAS_RESOURCE: &str = "Has prohibited field Resource";
    /// A trust policy statement with a NotResource element.
    pub const TRUST_HAS_NOT_RESOURCE: &str = "AssumeRole policy must not contain resources.";
    /// A trust policy statement whose actions are not STS role-assumption actions.
    pub const TRUST_ACTIONS: &str = "AssumeRole policy may only specify STS AssumeRole actions.";
    /// A trust policy statement with `"Effect": "Allow"` and NotPrincipal.
    pub const TRUST_ALLOW_NOT_PRINCIPAL: &str = "Allow with NotPrincipal is not allowed.";
    /// An action (or condition key) without the `vendor:` prefix.
    pub const NO_VENDOR: &str = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
    /// An action with more than one colon.
    pub const ACTION_COLONS: &str = "Actions/Condition can contain only one colon.";
    /// An ARN with a partition but nothing after it.
    pub const RESOURCE_VENDOR: &str = "Resource vendor must be fully qualified and cannot contain regexes.";
    /// The start IAM resource paths must have.
    pub const IAM_RESOURCE_PATH: &str = "IAM resource path must either be \"*\" or start with user/, federated-user/, role/, group/, \
         instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.";

    /// `Resource <x> must be in ARN format or "*".`
    pub fn resource_not_arn(resource: &str) -> String {
        format!("Resource {resource} must be in ARN format or \"*\".")
    }

    /// `Vendor <x> is not valid`: an action vendor with characters outside `[A-Za-z0-9.-]`.
    pub fn vendor_not_valid(vendor: &str) -> String {
        format!("Vendor {vendor} is not valid")
    }

    /// `Partition "<p>" is not valid for resource "arn:<p>:…".`
    pub fn partition_not_valid(partition: &str, rest: &[&str]) -> String {
        let part = |i: usize| rest.get(i).copied().filter(|s| !s.is_empty() || i > 0 || rest.len() > 1).unwrap_or("*");
        let tail = if rest.len() > 3 { rest[3..].join(":") } else { "*".to_string() };
        format!("Partition \"{partition}\" is not valid for resource \"arn:{partition}:{}:{}:{}:{tail}\".", part(0), part(1), part(2))
    }

    /// `IAM resource <x> cannot contain region information.`
    pub fn iam_region(resource: &str) -> String {
        format!("IAM resource {resource} cannot contain region information.")
    }

    /// `Resource <x> can not contain region information.` (S3's wording differs from IAM's.)
    pub fn s3_region(resource: &str) -> String {
        format!("Resource {resource} can not contain region information.")
    }

    /// `Invalid principal in policy: "AWS":"<x>"`; the type is upper-cased as IAM does.
    pub fn invalid_principal(kind: &str, value: &str) -> String {
        format!("Invalid principal in policy: \"{}\":\"{value}\"", kind.to_ascii_uppercase())
    }
}
