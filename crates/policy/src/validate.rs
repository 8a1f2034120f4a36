//! The rules IAM applies beyond the grammar, and the order it reports them in.
//!
//! The order follows what IAM is seen to answer when a document breaks several rules:
//! principal rules, legacy parsing, Sid rules, missing actions, missing (or, for trust
//! policies, prohibited) resources, resource ARN format, action vendors, then the trust
//! policy's action and principal checks.

use crate::condition::parse_date;
use crate::document::{PolicyKind, RawPolicy, RawPrincipal, RawStatement};
use crate::error::{PolicyError, messages};
use crate::principal::is_valid_principal;

fn fail<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError::new(message))
}

/// The checks every document gets, whatever it is used as ([`crate::Policy::parse`]).
pub(crate) fn common(raw: &RawPolicy) -> Result<(), PolicyError> {
    legacy(raw, false)?;
    actions_present(raw)
}

/// Every check for a document used as `kind` ([`crate::Policy::parse_as`]).
pub(crate) fn for_kind(raw: &RawPolicy, kind: PolicyKind) -> Result<(), PolicyError> {
    let needs_principal = matches!(kind, PolicyKind::Trust | PolicyKind::Resource);
    for s in &raw.statements {
        match (&s.principal, needs_principal) {
            (Some(_), false) => return fail(messages::PRINCIPAL_NOT_ALLOWED),
            (None, true) => return fail(messages::PRINCIPAL_MISSING),
            (Some((_, p)), true) if is_empty(p) => return fail(messages::PRINCIPAL_EMPTY),
            _ => {}
        }
        // AWS: "NotPrincipal must be used with Effect: Deny"; IAM enforces it for trust policies.
        if kind == PolicyKind::Trust && s.effect == "Allow" && s.principal.as_ref().is_some_and(|(not, _)| *not) {
            return fail(messages::TRUST_ALLOW_NOT_PRINCIPAL);
        }
    }

    legacy(raw, kind != PolicyKind::Trust)?;

    // Resource-based policies of other services accept free-form Sids (S3 and KMS examples use
    // spaces); IAM's own documents do not.
    if kind != PolicyKind::Resource
        && raw.statements.iter().filter_map(|s| s.sid.as_deref()).any(|sid| !sid.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return fail(messages::SID_NOT_ALPHANUMERIC);
    }
    let mut sids: Vec<&str> = raw.statements.iter().filter_map(|s| s.sid.as_deref()).filter(|s| !s.is_empty()).collect();
    sids.sort_unstable();
    if sids.windows(2).any(|w| w[0] == w[1]) {
        return fail(messages::SID_NOT_UNIQUE);
    }

    actions_present(raw)?;

    if kind == PolicyKind::Trust {
        for s in &raw.statements {
            match &s.resources {
                Some((false, _)) => return fail(messages::TRUST_HAS_RESOURCE),
                Some((true, _)) => return fail(messages::TRUST_HAS_NOT_RESOURCE),
                None => {}
            }
        }
    } else {
        if raw.statements.iter().any(|s| s.resources.as_ref().is_none_or(|(_, list)| list.is_empty())) {
            return fail(messages::NO_RESOURCES);
        }
        if let Some(error) = first_resource_error(raw) {
            return fail(error);
        }
    }

    for s in &raw.statements {
        for action in s.actions.iter().flat_map(|(_, list)| list) {
            check_vendor(action)?;
        }
        for clause in &s.conditions {
            // The message names conditions too: a condition key needs a vendor prefix as well.
            if !clause.key.contains(':') {
                return fail(messages::NO_VENDOR);
            }
        }
    }

    if kind == PolicyKind::Trust {
        // STS actions only (sts:AssumeRole, sts:AssumeRoleWithSAML, sts:AssumeRoleWithWebIdentity,
        // sts:TagSession, sts:SetSourceIdentity, sts:SetContext, …). IAM's exact list is not
        // documented; any `sts:` action is accepted here.
        let sts_only = raw
            .statements
            .iter()
            .flat_map(|s| s.actions.iter().flat_map(|(_, list)| list))
            .all(|a| a.split_once(':').is_some_and(|(vendor, _)| vendor.eq_ignore_ascii_case("sts")));
        if !sts_only {
            return fail(messages::TRUST_ACTIONS);
        }
    }

    if needs_principal {
        for s in &raw.statements {
            if let Some((_, RawPrincipal::Map(types))) = &s.principal {
                for (kind, values) in types {
                    if let Some(bad) = values.iter().find(|v| !is_valid_principal(kind, v)) {
                        return fail(messages::invalid_principal(kind, bad));
                    }
                }
            }
        }
    }
    Ok(())
}

fn is_empty(p: &RawPrincipal) -> bool {
    match p {
        RawPrincipal::Everyone => false,
        RawPrincipal::Map(types) => types.iter().all(|(_, values)| values.is_empty()),
    }
}

/// "The policy failed legacy parsing": an Effect not spelled `Allow` / `Deny` exactly, a Date
/// condition value that is no date, and (when `resources`) an ARN with an empty vendor or a
/// `::` but fewer than five colons. IAM skips the ARN part once a resource has a format error
/// of its own, which it reports later.
fn legacy(raw: &RawPolicy, resources: bool) -> Result<(), PolicyError> {
    for s in &raw.statements {
        if s.effect != "Allow" && s.effect != "Deny" {
            return fail(messages::LEGACY_PARSING);
        }
        for clause in s.conditions.iter().filter(|c| c.operator.is_date()) {
            if clause.values.iter().any(|v| parse_date(v).is_none()) {
                return fail(messages::LEGACY_PARSING);
            }
        }
    }
    if resources && first_resource_error(raw).is_none() {
        for r in raw.statements.iter().flat_map(resource_entries) {
            if r == "*" {
                continue;
            }
            let colons = r.matches(':').count();
            let vendor_empty = r.split(':').nth(2).is_none_or(str::is_empty);
            if (r.contains("::") && colons < 5) || vendor_empty {
                return fail(messages::LEGACY_PARSING);
            }
        }
    }
    Ok(())
}

fn resource_entries(s: &RawStatement) -> impl Iterator<Item = &str> {
    s.resources.iter().flat_map(|(_, list)| list.iter().map(String::as_str))
}

fn actions_present(raw: &RawPolicy) -> Result<(), PolicyError> {
    if raw.statements.iter().any(|s| s.actions.as_ref().is_none_or(|(_, list)| list.is_empty())) {
        return fail(messages::NO_ACTIONS);
    }
    Ok(())
}

/// `vendor:Operation`, or `*`.
fn check_vendor(action: &str) -> Result<(), PolicyError> {
    if action == "*" {
        return Ok(());
    }
    let mut parts = action.split(':');
    let vendor = parts.next().unwrap_or_default();
    match (parts.next(), parts.next()) {
        (None, _) => return fail(messages::NO_VENDOR),
        (Some(_), Some(_)) => return fail(messages::ACTION_COLONS),
        _ => {}
    }
    if vendor.is_empty() {
        return fail(messages::NO_VENDOR);
    }
    if vendor != "*" && !vendor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return fail(messages::vendor_not_valid(vendor));
    }
    Ok(())
}

const IAM_PATH_STARTS: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// The first Resource / NotResource entry, in document order, that is not an ARN IAM accepts.
fn first_resource_error(raw: &RawPolicy) -> Option<String> {
    raw.statements.iter().flat_map(resource_entries).find_map(resource_error)
}

fn resource_error(r: &str) -> Option<String> {
    if r == "*" {
        return None;
    }
    let Some(("arn", rest)) = r.split_once(':') else {
        return Some(messages::resource_not_arn(r));
    };
    let (partition, after) = match rest.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (rest, None),
    };
    // IAM runs in the `aws` partition; trailwatch is an `aws`-partition endpoint too.
    if partition != "aws" {
        let parts: Vec<&str> = after.unwrap_or("").split(':').collect();
        return Some(messages::partition_not_valid(partition, &parts));
    }
    let Some(after) = after else {
        return Some(messages::RESOURCE_VENDOR.to_string());
    };
    let Some((service, after_service)) = after.split_once(':') else {
        return match after {
            "iam" => Some(messages::iam_region(r)),
            "s3" => Some(messages::s3_region(r)),
            _ => None,
        };
    };
    let region_empty = after_service.starts_with(':');
    match service {
        "iam" if !region_empty => return Some(messages::iam_region(r)),
        "s3" if !region_empty => return Some(messages::s3_region(r)),
        _ => {}
    }
    if service == "iam" {
        let path = r.splitn(6, ':').nth(5).unwrap_or("");
        if path != "*" && !IAM_PATH_STARTS.iter().any(|p| path.starts_with(p)) {
            return Some(messages::IAM_RESOURCE_PATH.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_formats() {
        assert_eq!(resource_error("*"), None);
        assert_eq!(resource_error("arn:aws:logs:us-east-1:123456789012:log-group:x"), None);
        assert_eq!(resource_error("bucket").as_deref(), Some("Resource bucket must be in ARN format or \"*\"."));
        assert_eq!(
            resource_error("arn:aws-cn:s3:::b").as_deref(),
            Some("Partition \"aws-cn\" is not valid for resource \"arn:aws-cn:s3:::b\".")
        );
        assert_eq!(resource_error("arn:aws").as_deref(), Some(messages::RESOURCE_VENDOR));
        assert_eq!(
            resource_error("arn:aws:iam:us-east-1:123456789012:user/x").as_deref(),
            Some("IAM resource arn:aws:iam:us-east-1:123456789012:user/x cannot contain region information.")
        );
        assert_eq!(resource_error("arn:aws:iam::123456789012:bogus/x").as_deref(), Some(messages::IAM_RESOURCE_PATH));
        assert_eq!(resource_error("arn:aws:iam::123456789012:*"), None);
    }

    #[test]
    fn vendors() {
        assert!(check_vendor("logs:PutLogEvents").is_ok());
        assert!(check_vendor("*").is_ok());
        assert!(check_vendor("*:Get*").is_ok());
        assert_eq!(check_vendor("PutLogEvents").unwrap_err().message(), messages::NO_VENDOR);
        assert_eq!(check_vendor("a:b:c").unwrap_err().message(), messages::ACTION_COLONS);
        assert_eq!(check_vendor("lo gs:x").unwrap_err().message(), "Vendor lo gs is not valid");
    }
}
