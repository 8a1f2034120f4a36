//! Identities and access: who signed a request, whether they may make the call, and STS.
//!
//! Today the account root is the only principal: its access key authenticates and it
//! is allowed everything, as on AWS. Every other principal is denied by default, which
//! is IAM's answer for a principal with no policy. The IAM issue adds users, roles and
//! policy evaluation behind these same two entry points.

mod sts;

pub use sts::StsService;

use wire::{AwsError, OperationSpec, Principal, PrincipalKind};

/// A secret access key; never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret access key.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret, for computing signatures only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// The credentials and principals the server knows.
#[derive(Debug, Clone)]
pub struct Identities {
    account_id: String,
    root_access_key_id: String,
    root_secret: Secret,
}

impl Identities {
    /// Identities of an account whose root signs with the given key pair.
    pub fn new(account_id: impl Into<String>, root_access_key_id: impl Into<String>, root_secret: Secret) -> Self {
        Identities { account_id: account_id.into(), root_access_key_id: root_access_key_id.into(), root_secret }
    }

    /// The account this server serves.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The secret and principal of an access key; `None` for an unknown key.
    pub fn lookup(&self, access_key_id: &str) -> Option<(Secret, Principal)> {
        (access_key_id == self.root_access_key_id).then(|| (self.root_secret.clone(), Principal::root(&self.account_id, access_key_id)))
    }

    /// Decides whether the principal may call the operation of the service.
    pub fn authorize(&self, principal: &Principal, service: &str, op: &OperationSpec) -> Result<(), AwsError> {
        if principal.kind == PrincipalKind::Root && principal.account_id == self.account_id {
            return Ok(());
        }
        Err(access_denied(principal, service, op))
    }
}

/// AWS's AccessDenied for a caller with no policy allowing the action.
fn access_denied(principal: &Principal, service: &str, op: &OperationSpec) -> AwsError {
    AwsError::new(
        "AccessDeniedException",
        400,
        format!(
            "User: {} is not authorized to perform: {service}:{} because no identity-based policy allows the {service}:{} action",
            principal.arn, op.name, op.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_known_and_allowed() {
        let ids = Identities::new("123456789012", "AKIAROOT", Secret::new("s3cr3t"));
        let (secret, p) = ids.lookup("AKIAROOT").unwrap();
        assert_eq!(secret.expose(), "s3cr3t");
        assert_eq!(p.arn, "arn:aws:iam::123456789012:root");
        assert!(ids.authorize(&p, "logs", &OperationSpec::write("CreateLogGroup")).is_ok());
        assert!(ids.lookup("AKIAOTHER").is_none());
        assert!(!format!("{ids:?}").contains("s3cr3t"), "secrets never print");
    }

    #[test]
    fn other_principals_are_denied_by_default() {
        let ids = Identities::new("123456789012", "AKIAROOT", Secret::new("s"));
        let mut p = Principal::root("123456789012", "AKIAX");
        p.kind = PrincipalKind::User { name: "alice".into() };
        p.arn = "arn:aws:iam::123456789012:user/alice".into();
        let err = ids.authorize(&p, "logs", &OperationSpec::write("DeleteLogGroup")).unwrap_err();
        assert_eq!(err.code, "AccessDeniedException");
        assert!(err.message.contains("logs:DeleteLogGroup"));
    }
}
