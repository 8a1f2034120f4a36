//! Identities and access: who signed a request, whether they may make the call, and the
//! IAM and STS services that manage both.
//!
//! - [`Identities`] is what the request pipeline holds: [`Identities::authenticate`] turns
//!   an access key (and session token) into a [`Caller`], [`Identities::authorize`]
//!   evaluates the caller's policies for an action on resources, as AWS does.
//! - `directory`: every IAM entity in memory as a snapshot, persisted in the catalog.
//! - `api`: the IAM service (users, groups, roles, policies, keys, simulation).
//! - `sts`: GetCallerIdentity and AssumeRole; `session`: sealed session tokens.
//! - `managed`: the AWS managed policies.
//! - The policy language itself is the `policy` crate.

mod api;
mod authorize;
mod directory;
mod entities;
mod managed;
mod session;
mod sts;

use std::sync::{Arc, RwLock};

use policy::Policy;
use store::{Store, StoreError};
use wire::{Principal, PrincipalKind};

pub use api::IamService;
pub use authorize::{AccessRequest, Denied, request_tags};
pub use directory::PolicySource;
pub use sts::StsService;

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

/// The credentials, principals and policies of the account; cheap to clone.
#[derive(Clone)]
pub struct Identities {
    dir: Arc<directory::Directory>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities").field("account", &self.dir.account).finish_non_exhaustive()
    }
}

/// Why credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// The access key or session token is unknown, inactive or altered.
    UnknownKey,
    /// The session token has expired.
    ExpiredToken,
}

/// An authenticated caller: the principal, the key to check its signature with, and
/// what its permissions are made of.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who the caller is.
    pub principal: Principal,
    secret: Secret,
    grant: Grant,
}

/// Where a caller's permissions come from.
#[derive(Debug, Clone)]
enum Grant {
    /// The account root: everything.
    Root,
    /// An IAM user: its policies and its groups'.
    User { key: String },
    /// A service-linked role's session: the fixed permissions AWS gives that role.
    ServiceLinked { policy: Arc<Policy> },
    /// A role session: the role's policies, narrowed by session policies.
    Session {
        role_key: String,
        role_id: String,
        /// Session policies; when any were given, an action needs their allow too.
        session_policies: Option<Vec<Arc<Policy>>>,
    },
}

impl Caller {
    /// The secret the request must have been signed with.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}

impl Identities {
    /// Loads the account's IAM entities; the root signs with the given key pair.
    pub async fn load(
        store: Arc<Store>,
        account_id: impl Into<String>,
        root_access_key_id: impl Into<String>,
        root_secret: Secret,
    ) -> Result<Self, StoreError> {
        let account = account_id.into();
        let (entities, fingerprint) = directory::load(&store, &account).await?;
        let snapshot = Arc::new(directory::build(&store, entities));
        let dir = directory::Directory {
            store,
            account,
            root_access_key_id: root_access_key_id.into(),
            root_secret,
            state: RwLock::new(snapshot),
            writes: tokio::sync::Mutex::new(()),
            loaded: std::sync::Mutex::new(fingerprint),
        };
        Ok(Identities { dir: Arc::new(dir) })
    }

    /// The account this server serves.
    pub fn account_id(&self) -> &str {
        &self.dir.account
    }

    /// The caller behind an access key and, for temporary credentials, a session token.
    pub fn authenticate(&self, access_key_id: &str, session_token: Option<&str>, now_secs: i64) -> Result<Caller, AuthFailure> {
        match session_token {
            Some(token) => self.session_caller(access_key_id, token, now_secs),
            None if access_key_id == self.dir.root_access_key_id => Ok(Caller {
                principal: Principal::root(&self.dir.account, access_key_id),
                secret: self.dir.root_secret.clone(),
                grant: Grant::Root,
            }),
            None => self.user_caller(access_key_id),
        }
    }

    fn user_caller(&self, access_key_id: &str) -> Result<Caller, AuthFailure> {
        let snapshot = self.snapshot();
        let key = snapshot.entities.keys.get(access_key_id).filter(|k| k.status == "Active").ok_or(AuthFailure::UnknownKey)?;
        let user = snapshot.user(&key.user).ok_or(AuthFailure::UnknownKey)?;
        let secret = snapshot.secrets.get(access_key_id).ok_or(AuthFailure::UnknownKey)?.clone();
        let principal = Principal {
            kind: PrincipalKind::User { name: user.name.clone() },
            arn: entities::arn(&self.dir.account, "user", &user.path, &user.name),
            account_id: self.dir.account.clone(),
            id: user.id.clone(),
            access_key_id: access_key_id.to_owned(),
            session: None,
        };
        Ok(Caller { principal, secret, grant: Grant::User { key: user.name.to_lowercase() } })
    }

    fn session_caller(&self, access_key_id: &str, token: &str, now_secs: i64) -> Result<Caller, AuthFailure> {
        let claims = session::open(&self.dir.store, token).ok_or(AuthFailure::UnknownKey)?;
        if claims.access_key_id != access_key_id || claims.account != self.dir.account {
            return Err(AuthFailure::UnknownKey);
        }
        if now_secs >= claims.expires_at {
            return Err(AuthFailure::ExpiredToken);
        }
        let session_policies = self.session_policies(&claims);
        let principal = Principal {
            kind: PrincipalKind::AssumedRole { role: claims.role_name.clone(), session: claims.session_name.clone() },
            arn: format!("arn:aws:sts::{}:assumed-role/{}/{}", claims.account, claims.role_name, claims.session_name),
            account_id: claims.account.clone(),
            id: format!("{}:{}", claims.role_id, claims.session_name),
            access_key_id: access_key_id.to_owned(),
            session: Some(wire::Session {
                role_arn: claims.role_arn.clone(),
                role_id: claims.role_id.clone(),
                role_name: claims.role_name.clone(),
                issued_at: claims.issued_at,
                expires_at: claims.expires_at,
                invoked_by: claims.service.clone(),
            }),
        };
        let grant = Grant::Session { role_key: claims.role_name.to_lowercase(), role_id: claims.role_id, session_policies };
        Ok(Caller { principal, secret: Secret::new(claims.secret), grant })
    }

    /// A session of a service-linked role (`AWSServiceRoleForRDS`): how a trailwatch
    /// service acts on its own behalf, with the permissions `policy` gives it and no
    /// others. The role is AWS's: it is not an IAM entity of the account, and only the
    /// service can hold it.
    pub fn service_linked_session(&self, service: &str, role_name: &str, policy: &str, now_secs: i64) -> Caller {
        let short = service.split('.').next().unwrap_or(service);
        let account = &self.dir.account;
        let role_id = format!("AROA{}", short.to_uppercase());
        let principal = Principal {
            kind: PrincipalKind::AssumedRole { role: role_name.to_owned(), session: short.to_owned() },
            arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{short}"),
            account_id: account.clone(),
            id: format!("{role_id}:{short}"),
            access_key_id: String::new(),
            session: Some(wire::Session {
                role_arn: format!("arn:aws:iam::{account}:role/aws-service-role/{service}/{role_name}"),
                role_id,
                role_name: role_name.to_owned(),
                issued_at: now_secs,
                expires_at: now_secs + 3600,
                invoked_by: Some(service.to_owned()),
            }),
        };
        let policy = Arc::new(Policy::parse(policy).expect("a service-linked role's policy is valid"));
        Caller { principal, secret: Secret::new(String::new()), grant: Grant::ServiceLinked { policy } }
    }

    /// Compiles the session policies a token carries; they were validated when issued.
    fn session_policies(&self, claims: &session::SessionClaims) -> Option<Vec<Arc<Policy>>> {
        if claims.policy.is_none() && claims.policy_arns.is_empty() {
            return None;
        }
        let snapshot = self.snapshot();
        let inline = claims.policy.as_deref().and_then(|d| Policy::parse(d).ok()).map(Arc::new);
        let managed = claims.policy_arns.iter().filter_map(|arn| snapshot.managed_document(arn)).filter_map(|d| Policy::parse(d).ok());
        Some(inline.into_iter().chain(managed.map(Arc::new)).collect())
    }
}
