//! The IAM directory: every entity of the account held in memory as an immutable
//! snapshot, rebuilt after each committed change set.
//!
//! IAM state is small and read on every request (keys to verify signatures, policies to
//! authorize), so reads take an `Arc` of the current snapshot and never touch the
//! database. Writes are serialized by one lock: a handler checks the snapshot, builds its
//! changes, and [`Identities::commit`] makes them durable in one catalog transaction
//! before the new snapshot replaces the old.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use base64::Engine;
use policy::Policy;
use store::{IamRecord, IamWrite, Store};
use wire::AwsError;

use crate::entities::{AccessKey, Group, ManagedPolicy, Permissions, Role, User};
use crate::{Identities, Secret, managed};

/// Purpose bound into the sealing of access key secrets.
pub(crate) const KEY_PURPOSE: &str = "iam-access-key";

/// All entities of the account, keyed as stored.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entities {
    /// Users by lowercased name.
    pub users: BTreeMap<String, User>,
    /// Groups by lowercased name.
    pub groups: BTreeMap<String, Group>,
    /// Roles by lowercased name.
    pub roles: BTreeMap<String, Role>,
    /// Customer managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Access keys by ID.
    pub keys: BTreeMap<String, AccessKey>,
}

/// One change to the directory.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    User(User),
    DropUser(String),
    Group(Group),
    DropGroup(String),
    Role(Role),
    DropRole(String),
    Policy(ManagedPolicy),
    DropPolicy(String),
    Key(AccessKey),
    DropKey(String),
}

/// Where an identity policy came from, as SimulatePrincipalPolicy reports it.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// The inline policy's name, or the managed policy's ARN.
    pub id: String,
    /// `user`, `group`, `role`, `aws-managed` or `user-managed`.
    pub kind: &'static str,
}

/// The compiled identity policies of a user or role.
#[derive(Debug, Default)]
pub(crate) struct Grants {
    pub policies: Vec<Arc<Policy>>,
    pub sources: Vec<PolicySource>,
    /// Whether any policy reads `aws:ResourceTag/*`, so the pipeline must fetch tags.
    pub uses_resource_tags: bool,
    /// The permissions boundary: when set, an action also needs its allow (an unreadable
    /// boundary is an empty set, which allows nothing rather than lifting the bound).
    pub boundary: Option<Vec<Arc<Policy>>>,
}

/// The directory at one moment, with everything derived that requests need.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub entities: Entities,
    /// Opened secrets of active and inactive keys, by key ID.
    pub secrets: HashMap<String, Secret>,
    /// Compiled identity policies by `user:<lowercased name>` / `role:<lowercased name>`.
    pub grants: HashMap<String, Arc<Grants>>,
    /// Compiled trust policies by lowercased role name.
    pub trust: HashMap<String, Arc<Policy>>,
}

impl Snapshot {
    /// The user of that name, case-insensitively.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.entities.users.get(&name.to_lowercase())
    }

    /// The group of that name, case-insensitively.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.entities.groups.get(&name.to_lowercase())
    }

    /// The role of that name, case-insensitively.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.entities.roles.get(&name.to_lowercase())
    }

    /// The groups the user belongs to.
    pub fn groups_of<'a>(&'a self, user: &'a str) -> impl Iterator<Item = &'a Group> + 'a {
        self.entities.groups.values().filter(move |g| g.members.iter().any(|m| m.eq_ignore_ascii_case(user)))
    }

    /// A managed policy's default document, customer or AWS managed.
    pub fn managed_document(&self, arn: &str) -> Option<&str> {
        if let Some(p) = self.entities.policies.get(arn) {
            return Some(p.default_document());
        }
        managed::aws_policy(arn).map(|p| p.document)
    }

    /// The identity policies of a user (with those of its groups) or of a role.
    pub fn grants(&self, key: &str) -> Option<&Arc<Grants>> {
        self.grants.get(key)
    }
}

/// Builds a snapshot, opening secrets and compiling policies.
pub(crate) fn build(store: &Store, entities: Entities) -> Snapshot {
    let mut secrets = HashMap::new();
    for key in entities.keys.values() {
        match open_key(store, key) {
            Some(secret) => {
                secrets.insert(key.id.clone(), secret);
            }
            None => tracing::error!(access_key_id = %key.id, "cannot open a stored access key; it will not authenticate"),
        }
    }
    let mut snapshot = Snapshot { entities, secrets, ..Snapshot::default() };
    let mut compiled = PolicyCache::default();
    let mut grants = HashMap::new();
    for (key, user) in &snapshot.entities.users {
        let mut g = Grants::default();
        add_permissions(&snapshot, &mut compiled, &mut g, &user.permissions, "user");
        g.boundary = boundary(&snapshot, &mut compiled, &user.permissions);
        for group in snapshot.groups_of(&user.name) {
            add_permissions(&snapshot, &mut compiled, &mut g, &group.permissions, "group");
        }
        grants.insert(format!("user:{key}"), Arc::new(g));
    }
    let mut trust = HashMap::new();
    for (key, role) in &snapshot.entities.roles {
        let mut g = Grants::default();
        add_permissions(&snapshot, &mut compiled, &mut g, &role.permissions, "role");
        g.boundary = boundary(&snapshot, &mut compiled, &role.permissions);
        grants.insert(format!("role:{key}"), Arc::new(g));
        match Policy::parse(&role.trust) {
            Ok(p) => {
                trust.insert(key.clone(), Arc::new(p));
            }
            Err(e) => tracing::error!(role = %role.name, error = %e, "stored trust policy does not parse"),
        }
    }
    snapshot.grants = grants;
    snapshot.trust = trust;
    snapshot
}

/// Parses each managed policy once per rebuild, however many entities attach it.
#[derive(Default)]
struct PolicyCache(HashMap<String, Option<Arc<Policy>>>);

fn add_permissions(snapshot: &Snapshot, cache: &mut PolicyCache, g: &mut Grants, p: &Permissions, inline_kind: &'static str) {
    for (name, document) in &p.inline {
        push(g, compile(document), PolicySource { id: name.clone(), kind: inline_kind });
    }
    for arn in &p.attached {
        // AWS managed policies are compiled once, at startup; ReadOnlyAccess alone is 160 kB.
        if let Some(aws) = managed::aws_policy(arn) {
            push(g, Some(aws.policy.clone()), PolicySource { id: arn.clone(), kind: "aws-managed" });
            continue;
        }
        let policy = cache.0.entry(arn.clone()).or_insert_with(|| snapshot.managed_document(arn).and_then(compile)).clone();
        push(g, policy, PolicySource { id: arn.clone(), kind: "user-managed" });
    }
}

/// The compiled permissions boundary, if the holder has one.
fn boundary(snapshot: &Snapshot, cache: &mut PolicyCache, p: &Permissions) -> Option<Vec<Arc<Policy>>> {
    let arn = p.boundary.as_ref()?;
    if let Some(aws) = managed::aws_policy(arn) {
        return Some(vec![aws.policy.clone()]);
    }
    let policy = cache.0.entry(arn.clone()).or_insert_with(|| snapshot.managed_document(arn).and_then(compile)).clone();
    Some(policy.into_iter().collect())
}

fn push(g: &mut Grants, policy: Option<Arc<Policy>>, source: PolicySource) {
    let Some(policy) = policy else { return };
    g.uses_resource_tags |= policy.condition_keys().iter().any(|k| k.starts_with("aws:resourcetag/"));
    g.policies.push(policy);
    g.sources.push(source);
}

fn compile(document: &str) -> Option<Arc<Policy>> {
    match Policy::parse(document) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            tracing::error!(error = %e, "stored policy does not parse; it grants nothing");
            None
        }
    }
}

fn open_key(store: &Store, key: &AccessKey) -> Option<Secret> {
    let sealed = base64::engine::general_purpose::STANDARD.decode(&key.sealed_secret).ok()?;
    let secret = store.open_secret(KEY_PURPOSE, &sealed).ok()?;
    String::from_utf8(secret).ok().map(Secret::new)
}

/// Seals a new secret access key for storage.
pub(crate) fn seal_key(store: &Store, secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(store.seal_secret(KEY_PURPOSE, secret.as_bytes()))
}

/// Reads the stored entities of the account.
pub(crate) async fn load(store: &Store, account: &str) -> Result<(Entities, u64), store::StoreError> {
    let records = store.load_iam(account).await?;
    let mut e = Entities::default();
    for record in &records {
        if let Err(err) = e.insert_record(record) {
            // A document we cannot read must not stop the server; it is reported instead.
            tracing::error!(kind = %record.kind, key = %record.key, error = %err, "unreadable IAM entity skipped");
        }
    }
    Ok((e, fingerprint(&records)))
}

/// A digest of stored records, to tell cheaply whether another node changed them.
fn fingerprint(records: &[IamRecord]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for r in records {
        (&r.kind, &r.key, &r.body).hash(&mut h);
    }
    h.finish()
}

impl Entities {
    fn insert_record(&mut self, r: &IamRecord) -> Result<(), serde_json::Error> {
        match r.kind.as_str() {
            "user" => {
                self.users.insert(r.key.clone(), serde_json::from_str(&r.body)?);
            }
            "group" => {
                self.groups.insert(r.key.clone(), serde_json::from_str(&r.body)?);
            }
            "role" => {
                self.roles.insert(r.key.clone(), serde_json::from_str(&r.body)?);
            }
            "policy" => {
                self.policies.insert(r.key.clone(), serde_json::from_str(&r.body)?);
            }
            "access-key" => {
                self.keys.insert(r.key.clone(), serde_json::from_str(&r.body)?);
            }
            other => tracing::warn!(kind = other, "unknown IAM entity kind"),
        }
        Ok(())
    }

    /// Applies a change to the in-memory maps.
    pub(crate) fn apply(&mut self, change: &Change) {
        match change.clone() {
            Change::User(u) => drop(self.users.insert(u.name.to_lowercase(), u)),
            Change::DropUser(n) => drop(self.users.remove(&n.to_lowercase())),
            Change::Group(g) => drop(self.groups.insert(g.name.to_lowercase(), g)),
            Change::DropGroup(n) => drop(self.groups.remove(&n.to_lowercase())),
            Change::Role(r) => drop(self.roles.insert(r.name.to_lowercase(), r)),
            Change::DropRole(n) => drop(self.roles.remove(&n.to_lowercase())),
            Change::Policy(p) => drop(self.policies.insert(p.arn.clone(), p)),
            Change::DropPolicy(arn) => drop(self.policies.remove(&arn)),
            Change::Key(k) => drop(self.keys.insert(k.id.clone(), k)),
            Change::DropKey(id) => drop(self.keys.remove(&id)),
        }
    }
}

impl Change {
    /// The catalog write that makes this change durable.
    fn to_write(&self) -> IamWrite {
        fn put<T: serde::Serialize>(kind: &str, key: String, body: &T) -> IamWrite {
            IamWrite::Put(IamRecord { kind: kind.to_owned(), key, body: serde_json::to_string(body).expect("entities serialize") })
        }
        fn delete(kind: &str, key: String) -> IamWrite {
            IamWrite::Delete { kind: kind.to_owned(), key }
        }
        match self {
            Change::User(u) => put("user", u.name.to_lowercase(), u),
            Change::DropUser(n) => delete("user", n.to_lowercase()),
            Change::Group(g) => put("group", g.name.to_lowercase(), g),
            Change::DropGroup(n) => delete("group", n.to_lowercase()),
            Change::Role(r) => put("role", r.name.to_lowercase(), r),
            Change::DropRole(n) => delete("role", n.to_lowercase()),
            Change::Policy(p) => put("policy", p.arn.clone(), p),
            Change::DropPolicy(arn) => delete("policy", arn.clone()),
            Change::Key(k) => put("access-key", k.id.clone(), k),
            Change::DropKey(id) => delete("access-key", id.clone()),
        }
    }
}

/// The deployment-wide lock key of IAM writes (`trli` in ASCII).
const IAM_WRITES_LOCK: i64 = 0x7472_6c69;

/// Held while one IAM write reads, checks and commits.
pub(crate) struct WriteGuard<'a> {
    _local: tokio::sync::MutexGuard<'a, ()>,
    _shared: store::DeploymentLock,
}

/// ServiceFailure for a catalog error under an IAM write, logged here.
fn write_failed(e: store::StoreError) -> AwsError {
    tracing::error!(error = %e, "IAM change set failed");
    AwsError::new("ServiceFailure", 500, "The request processing has failed because of an unknown error, exception or failure.")
}

/// Shared state behind [`Identities`].
pub(crate) struct Directory {
    pub store: Arc<Store>,
    pub account: String,
    pub root_access_key_id: String,
    pub root_secret: Secret,
    pub state: RwLock<Arc<Snapshot>>,
    pub writes: tokio::sync::Mutex<()>,
    /// The fingerprint of the records the snapshot was last loaded from.
    pub loaded: std::sync::Mutex<u64>,
}

impl Identities {
    /// The current snapshot.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.dir.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reloads the account's entities from the catalog and publishes them when they
    /// changed since the last load: how a node sees IAM changes made on other nodes.
    pub async fn refresh(&self) -> Result<(), store::StoreError> {
        let _writes = self.dir.writes.lock().await;
        self.reload().await
    }

    /// [`Self::refresh`] for a caller already holding the write lock.
    async fn reload(&self) -> Result<(), store::StoreError> {
        let (entities, fingerprint) = load(&self.dir.store, &self.dir.account).await?;
        let mut loaded = self.dir.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if *loaded == fingerprint {
            return Ok(());
        }
        *loaded = fingerprint;
        drop(loaded);
        let snapshot = Arc::new(build(&self.dir.store, entities));
        *self.dir.state.write().unwrap_or_else(|e| e.into_inner()) = snapshot;
        Ok(())
    }

    /// Refreshes the directory every `every` until aborted (a shared catalog: IAM, like
    /// AWS's, is eventually consistent across nodes, within `every`).
    pub fn spawn_refresh(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = me.refresh().await {
                    tracing::warn!(error = %e, "reloading IAM entities failed");
                }
            }
        })
    }

    /// Serializes IAM writes: hold the guard from reading the snapshot to committing.
    /// With a shared catalog the lock is deployment-wide and the snapshot is reloaded
    /// under it, so a write on one node sees every write other nodes committed before.
    pub(crate) async fn lock_writes(&self) -> Result<WriteGuard<'_>, AwsError> {
        let local = self.dir.writes.lock().await;
        let shared = self.dir.store.deployment_lock(IAM_WRITES_LOCK).await.map_err(write_failed)?;
        if self.dir.store.backend() == store::Backend::Postgres {
            self.reload().await.map_err(write_failed)?;
        }
        Ok(WriteGuard { _local: local, _shared: shared })
    }

    /// Makes the changes durable in one transaction, then publishes the new snapshot.
    pub(crate) async fn commit(&self, changes: Vec<Change>) -> Result<(), AwsError> {
        let writes: Vec<IamWrite> = changes.iter().map(Change::to_write).collect();
        self.dir.store.write_iam(&self.dir.account, &writes).await.map_err(write_failed)?;
        let mut entities = self.snapshot().entities.clone();
        for change in &changes {
            entities.apply(change);
        }
        let snapshot = Arc::new(build(&self.dir.store, entities));
        *self.dir.state.write().unwrap_or_else(|e| e.into_inner()) = snapshot;
        Ok(())
    }
}
