//! The Principal / NotPrincipal elements and who they name.
//!
//! Rules (IAM User Guide, "AWS JSON policy elements: Principal"):
//! - `"*"` is everyone, anonymous callers included; `{"AWS": "*"}` is equivalent to it for
//!   AWS and anonymous callers (it is taken not to name service or federated principals);
//! - an account ID `123456789012` or `arn:aws:iam::123456789012:root` names every principal
//!   of that account;
//! - a user ARN names that user; a role ARN names every session of that role; an
//!   assumed-role session ARN names exactly that session;
//! - wildcards inside principal ARNs are not supported: anything but a lone `*` is compared
//!   whole;
//! - `Service`, `Federated` and `CanonicalUser` name those callers by exact name.

/// Who is calling, as resource-based and trust policies' Principal element sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM principal: its ARN (root `arn:aws:iam::123456789012:root`, user
    /// `arn:aws:iam::ACCT:user/path/name`, assumed-role session
    /// `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`), its account, and for sessions the
    /// role's ARN (`arn:aws:iam::ACCT:role/path/ROLE`), which a policy names to match the session.
    Aws {
        /// The caller's own ARN.
        arn: String,
        /// The caller's 12-digit account ID.
        account: String,
        /// For an assumed-role session, the ARN of the role.
        role_arn: Option<String>,
    },
    /// An AWS service, e.g. `cloudtrail.amazonaws.com`.
    Service(String),
    /// A federated identity provider, e.g. `cognito-identity.amazonaws.com` or a SAML provider ARN.
    Federated(String),
    /// An unauthenticated caller.
    Anonymous,
}

/// One value of a compiled Principal element.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AwsName {
    Everyone,
    Account(String),
    Arn(String),
}

/// A compiled Principal or NotPrincipal element.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrincipalSet {
    /// `"Principal": "*"`.
    everyone: bool,
    aws: Vec<AwsName>,
    services: Vec<String>,
    federated: Vec<String>,
    // CanonicalUser names are kept for completeness; no caller of this crate is one.
    canonical: Vec<String>,
}

impl PrincipalSet {
    /// `"Principal": "*"`.
    pub(crate) fn everyone() -> PrincipalSet {
        PrincipalSet { everyone: true, ..PrincipalSet::default() }
    }

    /// Adds the `value` listed under `kind` (`AWS`, `Service`, `Federated`, `CanonicalUser`).
    pub(crate) fn add(&mut self, kind: &str, value: &str) {
        match kind {
            "AWS" => self.aws.push(aws_name(value)),
            "Service" => self.services.push(value.to_ascii_lowercase()),
            "Federated" => self.federated.push(value.to_string()),
            _ => self.canonical.push(value.to_string()),
        }
    }

    /// Whether the element names `principal` (`None` counts as anonymous).
    pub(crate) fn names(&self, principal: Option<&Principal>) -> bool {
        if self.everyone {
            return true;
        }
        match principal {
            None | Some(Principal::Anonymous) => self.aws.contains(&AwsName::Everyone),
            Some(Principal::Aws { arn, account, role_arn }) => self.aws.iter().any(|name| match name {
                AwsName::Everyone => true,
                AwsName::Account(a) => a == account,
                AwsName::Arn(a) => a == arn || role_arn.as_deref() == Some(a.as_str()),
            }),
            Some(Principal::Service(s)) => self.services.iter().any(|x| x.eq_ignore_ascii_case(s)),
            Some(Principal::Federated(f)) => self.federated.iter().any(|x| x == f),
        }
    }
}

/// Reads an `AWS` principal value: `*`, an account ID, a root ARN, or another ARN.
fn aws_name(value: &str) -> AwsName {
    if value == "*" {
        return AwsName::Everyone;
    }
    if is_account_id(value) {
        return AwsName::Account(value.to_string());
    }
    if let Some(account) = value.strip_prefix("arn:aws:iam::").and_then(|r| r.strip_suffix(":root"))
        && is_account_id(account)
    {
        return AwsName::Account(account.to_string());
    }
    AwsName::Arn(value.to_string())
}

/// Twelve ASCII digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether IAM accepts `value` under `kind` in a trust or resource-based policy.
///
/// IAM also rejects ARNs of users and roles that do not exist; that check needs the account's
/// entities and belongs to the caller. What is checked here is the shape:
/// - `AWS`: `*`, an account ID, or an `arn:aws:iam::…` / `arn:aws:sts::…` ARN without wildcards;
/// - `Service`: `name.amazonaws.com` (or `.amazonaws.com.cn`, `.amazon.com`) with a non-empty
///   name — AWS's docs give no grammar; IAM is seen to reject `"amazonaws.com"` itself;
/// - `Federated`, `CanonicalUser`: any non-empty text.
pub(crate) fn is_valid_principal(kind: &str, value: &str) -> bool {
    match kind {
        "AWS" => {
            if value == "*" || is_account_id(value) {
                return true;
            }
            let rest = value.strip_prefix("arn:aws:iam::").or_else(|| value.strip_prefix("arn:aws:sts::"));
            match rest.and_then(|r| r.split_once(':')) {
                Some((account, name)) => is_account_id(account) && !name.is_empty() && !value.contains('*') && !value.contains('?'),
                None => false,
            }
        }
        "Service" => [".amazonaws.com", ".amazonaws.com.cn", ".amazon.com"].iter().any(|suffix| {
            value
                .strip_suffix(suffix)
                .is_some_and(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
        }),
        _ => !value.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Principal {
        Principal::Aws {
            arn: "arn:aws:sts::111122223333:assumed-role/Admin/alice".into(),
            account: "111122223333".into(),
            role_arn: Some("arn:aws:iam::111122223333:role/Admin".into()),
        }
    }

    fn set(kind: &str, values: &[&str]) -> PrincipalSet {
        let mut s = PrincipalSet::default();
        for v in values {
            s.add(kind, v);
        }
        s
    }

    #[test]
    fn role_arn_names_its_sessions() {
        assert!(set("AWS", &["arn:aws:iam::111122223333:role/Admin"]).names(Some(&session())));
        assert!(set("AWS", &["111122223333"]).names(Some(&session())));
        assert!(set("AWS", &["arn:aws:iam::111122223333:root"]).names(Some(&session())));
        assert!(!set("AWS", &["arn:aws:iam::111122223333:role/Other"]).names(Some(&session())));
        assert!(!set("AWS", &["444455556666"]).names(Some(&session())));
    }

    #[test]
    fn anonymous_only_by_star() {
        assert!(set("AWS", &["*"]).names(None));
        assert!(PrincipalSet::everyone().names(Some(&Principal::Anonymous)));
        assert!(!set("AWS", &["111122223333"]).names(Some(&Principal::Anonymous)));
        assert!(!set("AWS", &["*"]).names(Some(&Principal::Service("ec2.amazonaws.com".into()))));
    }

    #[test]
    fn valid_principal_shapes() {
        assert!(is_valid_principal("AWS", "arn:aws:iam::111122223333:role/x"));
        assert!(is_valid_principal("AWS", "111122223333"));
        assert!(!is_valid_principal("AWS", "arn:aws:iam::111122223333:role/*"));
        assert!(!is_valid_principal("AWS", "alice"));
        assert!(is_valid_principal("Service", "cloudtrail.amazonaws.com"));
        assert!(!is_valid_principal("Service", "amazonaws.com"));
    }
}
