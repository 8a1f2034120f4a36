//! Durable storage for trailwatch: a SQL catalog (through sqlx) and immutable, encrypted
//! segment objects (through object_store).
//!
//! - [`catalog`]: log groups, streams, tags and the index of blocks, in one SQLite file
//!   or (cluster mode) a PostgreSQL database, through sqlx's Any driver.
//! - [`objects`]: where segments live: a directory, or an S3-compatible bucket.
//! - [`lease`]: which node runs each background job.
//! - [`ingest`]: group commit — batches become one fsynced object and one catalog
//!   transaction before anyone is told they are stored.
//! - [`scan`]: reads events of a stream or a group in (timestamp, seq) order, merging
//!   overlapping blocks, with a cache of decoded blocks.
//! - [`maintenance`]: compaction into Parquet, retention, and removal of dead objects.
//! - [`iam`]: IAM entities as documents, changed in atomic change sets.
//! - [`insights_queries`]: Logs Insights queries, so every node answers for them.
//! - [`trail_keys`]: the RSA keys that sign CloudTrail digests (private halves sealed).
//! - [`crypto`]: AES-256-GCM with per-group data keys wrapped by a master key.

mod background;
pub mod buckets;
pub mod catalog;
pub mod codec;
pub mod crypto;
pub mod iam;
pub mod ingest;
pub mod insights_queries;
pub mod lease;
pub mod log_filters;
pub mod maintenance;
pub mod metrics;
pub mod migrate;
pub mod objects;
pub mod rds;
pub mod scan;
pub mod trail;
pub mod trail_keys;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use object_store::ObjectStore;

pub use catalog::{Backend, GroupQuery, LogGroup, LogStream, NewLogGroup, StreamOrder};
pub use codec::{NewEvent, Rows};
pub use iam::{IamRecord, IamWrite};
pub use insights_queries::InsightsQueryRecord;
pub use log_filters::{EventBlock, FilterKind, LogFilterRecord, QueryDefinitionRecord};
pub use objects::{ObjectsConfig, S3Objects};
pub use scan::{Direction, Position, ScanRequest, ScanResult, ScannedEvent, StreamFilter};
pub use trail_keys::TrailKeyRecord;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named resource does not exist.
    #[error("not found")]
    NotFound,
    /// A resource with that name already exists.
    #[error("already exists")]
    AlreadyExists,
    /// The catalog database failed.
    #[error("catalog: {0}")]
    Catalog(#[from] sqlx::Error),
    /// The object store failed.
    #[error("object store: {0}")]
    Objects(#[from] object_store::Error),
    /// Stored bytes did not decode or authenticate.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The store is shutting down and accepts no more writes.
    #[error("the store is shutting down")]
    ShuttingDown,
}

/// How the store is set up.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Where the catalog, the segments and the generated master key live by default.
    pub data_dir: PathBuf,
    /// The catalog's database URL (`postgres://…` or `sqlite://…`); `None` is the SQLite
    /// file `catalog.sqlite` in `data_dir`.
    pub catalog_url: Option<String>,
    /// Where segment objects live.
    pub objects: ObjectsConfig,
    /// The master key; generated into `data_dir/master.key` (mode 0600) when absent.
    pub master_key: Option<[u8; 32]>,
    /// How long the committer waits for more batches before flushing.
    pub commit_window: Duration,
    /// Budget of the decoded-block cache, in bytes.
    pub cache_bytes: usize,
    /// Settings of the background jobs.
    pub maintenance: maintenance::MaintenanceConfig,
}

impl StoreConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        StoreConfig {
            objects: ObjectsConfig::Directory(data_dir.join("segments")),
            data_dir,
            catalog_url: None,
            master_key: None,
            commit_window: Duration::from_millis(2),
            cache_bytes: 128 << 20,
            maintenance: maintenance::MaintenanceConfig::default(),
        }
    }
}

/// The storage engine: one per process, shared by every request.
pub struct Store {
    pub(crate) db: Db,
    /// Which database the catalog is: transactions lock differently.
    pub(crate) backend: Backend,
    pub(crate) objects: Arc<dyn ObjectStore>,
    pub(crate) master: crypto::Key,
    pub(crate) keys: Mutex<std::collections::HashMap<i64, crypto::Key>>,
    pub(crate) cache: scan::BlockCache,
    pub(crate) committer: ingest::Committer,
    pub(crate) config: StoreConfig,
    /// When this process opened the store; objects written since are never orphans.
    pub(crate) opened_at_millis: i64,
    /// Woken after every ingest commit, so filter consumers need not poll hard.
    pub(crate) ingested: tokio::sync::Notify,
    /// This process's name in leases: unique per start.
    pub(crate) node_id: String,
    /// The leases this node holds, renewed by [`Store::spawn_lease_keeper`].
    pub(crate) leases: lease::Held,
}

/// The catalog's connection pool: SQLite or PostgreSQL behind sqlx's Any driver. Every
/// statement is written once, in the SQL both accept, with `$N` parameters.
pub(crate) type Db = sqlx::AnyPool;
/// A catalog transaction.
pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// A deployment-wide lock held until dropped (see [`Store::deployment_lock`]).
pub struct DeploymentLock(#[allow(dead_code)] Option<Tx>);

impl Store {
    /// Opens (or creates) the store in its data directory and starts the committer.
    pub async fn open(config: StoreConfig) -> Result<Arc<Store>, StoreError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| StoreError::Corrupt(format!("cannot create data dir: {e}")))?;
        let master = crypto::Key::from_bytes(&load_or_create_master_key(&config)?);
        let url = match &config.catalog_url {
            Some(url) => url.clone(),
            None => catalog::sqlite_url(&config.data_dir.join("catalog.sqlite")),
        };
        let (db, backend) = catalog::open(&url).await?;
        let objects = config.objects.open()?;
        let store = Arc::new_cyclic(|weak| Store {
            db,
            backend,
            objects,
            master,
            keys: Mutex::new(Default::default()),
            cache: scan::BlockCache::new(config.cache_bytes),
            committer: ingest::Committer::start(weak.clone(), config.commit_window),
            config,
            opened_at_millis: maintenance::now_millis(),
            ingested: tokio::sync::Notify::new(),
            node_id: lease::node_id(),
            leases: lease::Held::default(),
        });
        store.clear_leases_if_embedded().await?;
        Ok(store)
    }

    /// Waits until every batch handed to the committer is durable or failed, then stops it.
    pub async fn shutdown(&self) {
        self.committer.shutdown().await;
        self.release_all_leases().await;
    }

    /// The data key of a log group, unwrapped once and kept in memory.
    pub(crate) fn group_key(&self, group_id: i64, wrapped: &[u8]) -> Result<crypto::Key, StoreError> {
        if let Some(k) = self.keys.lock().expect("key cache lock").get(&group_id) {
            return Ok(k.clone());
        }
        let key = self.master.unwrap_data_key(wrapped)?;
        self.keys.lock().expect("key cache lock").insert(group_id, key.clone());
        Ok(key)
    }

    /// A transaction that takes the catalog's write lock at once, so writers run one at
    /// a time on every node and commit in the order they began.
    ///
    /// SQLite: `BEGIN IMMEDIATE` (a deferred transaction that reads first fails with
    /// SQLITE_BUSY, without waiting, when another writer commits before it writes).
    /// PostgreSQL: one transaction-scoped advisory lock shared by every node. Its
    /// serial order is what the catalog's readers rely on: segment IDs and trail event
    /// seqs grow in commit order, so a cursor never skips a row committed late.
    pub(crate) async fn write_tx(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.db.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => {
                let mut tx = self.db.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(catalog::WRITE_LOCK).execute(&mut *tx).await?;
                Ok(tx)
            }
        }
    }

    /// Holds the deployment-wide lock `key` until the returned guard is dropped, so a
    /// read-check-write sequence runs on one node at a time. In PostgreSQL it is a
    /// transaction holding `pg_advisory_xact_lock(key)`, rolled back (and the lock freed)
    /// on drop; an embedded catalog has one node, whose own mutex suffices.
    pub async fn deployment_lock(&self, key: i64) -> Result<DeploymentLock, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(DeploymentLock(None));
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(key).execute(&mut *tx).await?;
        Ok(DeploymentLock(Some(tx)))
    }

    /// Which database holds the catalog.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Forgets a deleted group's data key.
    pub(crate) fn forget_group_key(&self, group_id: i64) {
        self.keys.lock().expect("key cache lock").remove(&group_id);
    }
}

/// The master key from configuration, or the one generated at first start.
fn load_or_create_master_key(config: &StoreConfig) -> Result<[u8; 32], StoreError> {
    if let Some(k) = config.master_key {
        return Ok(k);
    }
    let path = config.data_dir.join("master.key");
    if path.exists() {
        return read_key_file(&path);
    }
    let key = crypto::random_array::<32>();
    write_secret_file(&path, hex::encode(key).as_bytes()).map_err(|e| StoreError::Corrupt(format!("cannot write master key: {e}")))?;
    Ok(key)
}

/// The master key kept in a data directory (`master.key`), if there is one.
pub fn load_master_key(data_dir: &Path) -> Result<Option<[u8; 32]>, StoreError> {
    let path = data_dir.join("master.key");
    if !path.exists() {
        return Ok(None);
    }
    read_key_file(&path).map(Some)
}

fn read_key_file(path: &Path) -> Result<[u8; 32], StoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| StoreError::Corrupt(format!("cannot read master key: {e}")))?;
    let bytes = hex::decode(text.trim()).map_err(|_| StoreError::Corrupt("master.key is not hex".into()))?;
    bytes.try_into().map_err(|_| StoreError::Corrupt("master.key must hold 32 bytes".into()))
}

/// Writes a file readable by its owner only (mode 0600), durably.
pub fn write_secret_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

impl Store {
    /// Seals a configuration secret (such as the root secret key) under the master key,
    /// so it is never stored in clear.
    pub fn seal_secret(&self, purpose: &str, secret: &[u8]) -> Vec<u8> {
        self.master.seal(secret, purpose.as_bytes())
    }

    /// Opens a secret sealed by [`Store::seal_secret`] for the same purpose.
    pub fn open_secret(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.master.open(sealed, purpose.as_bytes())
    }
}
