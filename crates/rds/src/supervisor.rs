//! The supervisor: brings the servers and publishers in line with the documents, and
//! moves resources through RDS's states (creating → available, modifying, rebooting,
//! backing-up, deleting). It wakes when a handler changes something, and every second
//! to notice a server that died.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::process::Child;
use tokio::task::JoinHandle;

use crate::docs::{Cluster, Home, Instance, KIND_CLUSTER, KIND_INSTANCE, KIND_SNAPSHOT, ParameterGroup, Snapshot};
use crate::engine::{self, Engine, Role};
use crate::params::{Settings, sql_string};
use crate::publish::{Plan, Publisher, Services};
use crate::{Rds, now_millis};

/// How often the supervisor looks without being woken.
const TICK: Duration = Duration::from_secs(1);
/// How long a stopped server's last records get to reach the log service.
const LAST_RECORDS: Duration = Duration::from_millis(1500);

/// A server trailwatch runs, and what it was told.
pub struct Running {
    child: Child,
    reboots: u64,
    applied: Option<Settings>,
    publisher: Option<Publisher>,
    /// Why the instance's logs are not published, as last reported.
    unpublished: Option<String>,
}

/// The lease under which one node runs the DB servers and publishes their logs.
pub const SUPERVISOR_JOB: &str = "rds-supervisor";

impl Rds {
    /// Starts the supervisor; `services` lets publishers call the log service.
    pub fn spawn(self: &Arc<Rds>, services: Services) -> JoinHandle<()> {
        let _ = self.services.set(services);
        let rds = self.clone();
        tokio::spawn(async move {
            loop {
                match rds.store.acquire_lease(SUPERVISOR_JOB, store::lease::TTL).await {
                    Ok(true) => rds.round().await,
                    // Another node supervises: servers this node still runs (it lost the
                    // lease while alive) stop, so no instance runs twice.
                    Ok(false) => rds.shutdown().await,
                    Err(e) => tracing::warn!(error = %e, "asking for the RDS supervisor's lease failed"),
                }
                let _ = tokio::time::timeout(TICK, rds.wake.notified()).await;
            }
        })
    }

    /// Stops every server cleanly and every publisher after it (the supervisor must be
    /// stopped first). Instances start again with the next trailwatch.
    pub async fn shutdown(&self) {
        let mut running = self.running.lock().await;
        for (_, mut r) in running.drain() {
            engine::stop(&mut r.child).await;
            if let Some(p) = r.publisher.take() {
                p.stop().await;
            }
        }
    }

    /// One pass over every cluster, instance and snapshot.
    async fn round(self: &Arc<Rds>) {
        match self.all::<Cluster>(KIND_CLUSTER).await {
            Ok(clusters) => {
                for c in clusters {
                    if let Err(e) = self.cluster(c).await {
                        tracing::warn!(error = %e, "supervising a DB cluster");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "listing DB clusters"),
        }
        let Some(engine) = self.engine.clone() else { return };
        match self.all::<Instance>(KIND_INSTANCE).await {
            Ok(instances) => {
                for i in instances {
                    let (home, id) = (i.home.clone(), i.id.clone());
                    if let Err(e) = self.instance(&engine, i).await {
                        tracing::warn!(instance = %id, error = format!("{e:#}"), "supervising a DB instance");
                        self.event(&home, "db-instance", &id, KIND_INSTANCE, &["failure"], &format!("{e:#}")).await;
                        let failed = self.update::<Instance>(&home, KIND_INSTANCE, &id, |i| {
                            if i.status == "creating" {
                                i.status = "failed".into();
                            }
                        });
                        if let Err(e) = failed.await {
                            tracing::warn!(instance = %id, error = %e, "marking a DB instance failed");
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "listing DB instances"),
        }
        match self.all::<Snapshot>(KIND_SNAPSHOT).await {
            Ok(snapshots) => {
                for s in snapshots.into_iter().filter(|s| s.status == "creating") {
                    if let Err(e) = self.take_snapshot(&engine, &s).await {
                        tracing::warn!(snapshot = %s.id, error = format!("{e:#}"), "taking a snapshot");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "listing DB snapshots"),
        }
    }

    async fn all<T: serde::de::DeserializeOwned>(&self, kind: &str) -> anyhow::Result<Vec<T>> {
        let bodies = self.store.rds_list_all(kind).await?;
        bodies.iter().map(|b| serde_json::from_str(b).context("a stored RDS document")).collect()
    }

    /// Changes a document under the documents lock, reading it afresh; false when it is gone.
    async fn update<T: serde::de::DeserializeOwned + serde::Serialize>(
        &self,
        home: &Home,
        kind: &str,
        name: &str,
        change: impl FnOnce(&mut T),
    ) -> anyhow::Result<bool> {
        let _docs = self.docs.lock().await;
        let Some(body) = self.store.rds_get(&home.account_id, &home.region, kind, name).await? else { return Ok(false) };
        let mut doc: T = serde_json::from_str(&body)?;
        change(&mut doc);
        Ok(self.store.rds_update(&home.account_id, &home.region, kind, name, &serde_json::to_string(&doc)?).await?)
    }

    async fn cluster(&self, c: Cluster) -> anyhow::Result<()> {
        match c.status.as_str() {
            "creating" | "modifying" => {
                let created = c.status == "creating";
                self.update::<Cluster>(&c.home, KIND_CLUSTER, &c.id, |c| c.status = "available".into()).await?;
                if created {
                    self.event(&c.home, "db-cluster", &c.id, KIND_CLUSTER, &["creation"], "DB cluster created").await;
                }
            }
            "deleting" => {
                let instances: Vec<Instance> = self.all(KIND_INSTANCE).await?;
                if instances.iter().any(|i| i.home == c.home && i.cluster.as_deref() == Some(&c.id)) {
                    return Ok(());
                }
                let _docs = self.docs.lock().await;
                self.store.rds_delete(&c.home.account_id, &c.home.region, KIND_CLUSTER, &c.id).await?;
                drop(_docs);
                self.event(&c.home, "db-cluster", &c.id, KIND_CLUSTER, &["deletion"], "DB cluster deleted").await;
            }
            _ => {}
        }
        Ok(())
    }

    /// What an instance's server is told and what it publishes, or why it publishes nothing.
    async fn desired(&self, i: &Instance) -> anyhow::Result<(Settings, Option<Plan>, Option<String>)> {
        let Some(cluster_id) = &i.cluster else {
            // A standalone instance has no cluster parameter group: audit records are
            // written when its `audit` log is exported, with the audit plugin's defaults.
            let mut settings = Settings::from_values(&Default::default());
            if i.exports.iter().any(|t| t == "audit") {
                settings.audit_on = true;
                settings.audit_events = "CONNECT,QUERY".into();
            }
            settings.general_log = i.exports.iter().any(|t| t == "general");
            settings.slow_query_log = i.exports.iter().any(|t| t == "slowquery");
            // Standalone instances publish with RDS's service-linked role, as on AWS.
            let plan = (!i.exports.is_empty()).then(|| Plan {
                role: None,
                group_prefix: format!("/aws/rds/instance/{}", i.id),
                stream: i.id.clone(),
                log_types: i.exports.clone(),
            });
            return Ok((settings, plan, None));
        };
        let Some(body) = self.store.rds_get(&i.home.account_id, &i.home.region, KIND_CLUSTER, cluster_id).await? else {
            return Ok((Settings::default(), None, None));
        };
        let cluster: Cluster = serde_json::from_str(&body)?;
        let values = match self
            .store
            .rds_get(&i.home.account_id, &i.home.region, crate::docs::KIND_PARAMETER_GROUP, &cluster.parameter_group)
            .await?
        {
            Some(body) => serde_json::from_str::<ParameterGroup>(&body)?.values,
            None => Default::default(),
        };
        let settings = Settings::from_values(&values);
        let mut log_types: Vec<String> = cluster.exports.iter().filter(|t| t.as_str() != "audit").cloned().collect();
        if settings.audit_upload || cluster.exports.iter().any(|t| t == "audit") {
            log_types.insert(0, "audit".into());
        }
        if log_types.is_empty() {
            return Ok((settings, None, None));
        }
        let Some(role) = settings.logs_role.clone() else {
            let why = format!(
                "Logs of DB instance {} are not published to CloudWatch Logs: the DB cluster parameter aws_default_logs_role is not set.",
                i.id
            );
            return Ok((settings, None, Some(why)));
        };
        let plan = Plan { role: Some(role), group_prefix: format!("/aws/rds/cluster/{cluster_id}"), stream: i.id.clone(), log_types };
        Ok((settings, Some(plan), None))
    }

    async fn instance(self: &Arc<Rds>, engine: &Engine, i: Instance) -> anyhow::Result<()> {
        if i.status == "deleting" {
            return self.delete_instance(engine, &i).await;
        }
        if i.status == "failed" {
            return Ok(());
        }
        let key = (i.home.clone(), i.id.clone());
        let dir = self.instance_dir(&i.home, &i.id);
        let (settings, plan, unpublished) = self.desired(&i).await?;
        let mut running = self.running.lock().await;
        let alive = match running.get_mut(&key) {
            Some(r) => r.child.try_wait()?.is_none(),
            None => false,
        };
        if !alive {
            if let Some(mut dead) = running.remove(&key) {
                let status = dead.child.try_wait().ok().flatten().map(|s| s.to_string()).unwrap_or_default();
                self.event(&i.home, "db-instance", &i.id, KIND_INSTANCE, &["availability"], &format!("DB instance restarted ({status})"))
                    .await;
                if let Some(p) = dead.publisher.take() {
                    p.stop().await;
                }
            }
            // A reader of a cluster starts from its writer, which must be up first.
            let writer = match &i.cluster {
                Some(c) => self.writer(&i.home, c).await?,
                None => None,
            };
            let joins = writer.as_ref().filter(|w| w.id != i.id && i.status == "creating");
            if let Some(w) = joins
                && !running.contains_key(&(w.home.clone(), w.id.clone()))
            {
                return Ok(());
            }
            engine.initialize(&dir).await?;
            // The publisher starts first, so it sees the server's files from their beginning.
            let publisher = plan.clone().map(|p| self.publisher(p, &i));
            let child = engine.start(&dir, i.port, role(&i, writer.as_ref())).await?;
            // A restarted reader resumes replicating by itself.
            match joins {
                Some(w) => self.replicate(engine, &i, w).await?,
                None if i.status == "creating" => self.create_master_user(engine, &i).await?,
                None => {}
            }
            engine.admin(&dir, &settings.statements()).await.context("applying parameters")?;
            running
                .insert(key.clone(), Running { child, reboots: i.reboots, applied: Some(settings.clone()), publisher, unpublished: None });
        }
        let r = running.get_mut(&key).expect("inserted above");
        if r.reboots != i.reboots {
            let writer = match &i.cluster {
                Some(c) => self.writer(&i.home, c).await?,
                None => None,
            };
            engine::stop(&mut r.child).await;
            r.child = engine.start(&dir, i.port, role(&i, writer.as_ref())).await?;
            r.applied = None;
            r.reboots = i.reboots;
            self.event(&i.home, "db-instance", &i.id, KIND_INSTANCE, &["availability"], "DB instance restarted").await;
        }
        if let Some(sealed) = &i.pending_password {
            let password = self.open_password(&i, sealed)?;
            let user = sql_string(&i.master_username);
            engine
                .admin(&dir, &format!("ALTER USER {user}@'%' IDENTIFIED BY {};\n", sql_string(&password)))
                .await
                .context("changing the master password")?;
            self.update::<Instance>(&i.home, KIND_INSTANCE, &i.id, |i| i.pending_password = None).await?;
            self.event(&i.home, "db-instance", &i.id, KIND_INSTANCE, &["configuration change"], "Reset master credentials").await;
        }
        if r.applied.as_ref() != Some(&settings) {
            engine.admin(&dir, &settings.statements()).await.context("applying parameters")?;
            r.applied = Some(settings);
        }
        if r.publisher.as_ref().map(|p| &p.plan) != plan.as_ref() {
            if let Some(p) = r.publisher.take() {
                let old = p.plan.log_types.clone();
                p.stop().await;
                // What is written while a log type is not published stays unpublished:
                // its publisher forgets where it was and starts again at the files' ends.
                for kind in old.iter().filter(|k| !plan.as_ref().is_some_and(|p| p.log_types.contains(k))) {
                    let _ = std::fs::remove_dir_all(Publisher::state_dir(&dir, kind));
                }
            }
            r.publisher = plan.map(|p| self.publisher(p, &i));
        }
        if r.unpublished != unpublished {
            if let Some(why) = &unpublished {
                self.event(&i.home, "db-instance", &i.id, KIND_INSTANCE, &["notification"], why).await;
            }
            r.unpublished = unpublished;
        }
        drop(running);
        let (message, category) = match i.status.as_str() {
            "creating" => ("DB instance created", "creation"),
            "modifying" => ("Finished applying modification to DB instance", "configuration change"),
            "rebooting" => ("DB instance restarted", "availability"),
            _ => return Ok(()),
        };
        let status = i.status.clone();
        self.update::<Instance>(&i.home, KIND_INSTANCE, &i.id, |i| {
            if i.status == status {
                i.status = "available".into();
            }
        })
        .await?;
        if status != "rebooting" {
            self.event(&i.home, "db-instance", &i.id, KIND_INSTANCE, &[category], message).await;
        }
        Ok(())
    }

    fn publisher(self: &Arc<Rds>, plan: Plan, i: &Instance) -> Publisher {
        let services = self.services.get().expect("the supervisor runs with services").clone();
        let (rds, home, id) = (self.clone(), i.home.clone(), i.id.clone());
        let report = Arc::new(move |message: String| {
            let (rds, home, id) = (rds.clone(), home.clone(), id.clone());
            tokio::spawn(async move { rds.event(&home, "db-instance", &id, KIND_INSTANCE, &["notification"], &message).await });
        });
        Publisher::start(plan, &i.home, &self.instance_dir(&i.home, &i.id), services, report)
    }

    fn open_password(&self, i: &Instance, sealed: &[u8]) -> anyhow::Result<String> {
        let purpose = match &i.cluster {
            Some(c) => i.home.arn(KIND_CLUSTER, c),
            None => i.home.arn(KIND_INSTANCE, &i.id),
        };
        let bytes = self.store.open_secret(&purpose, sealed).context("opening the master password")?;
        Ok(String::from_utf8(bytes)?)
    }

    /// A cluster's writer: its oldest instance.
    async fn writer(&self, home: &Home, cluster: &str) -> anyhow::Result<Option<Instance>> {
        let mut members: Vec<Instance> = self.all::<Instance>(KIND_INSTANCE).await?;
        members.retain(|m| &m.home == home && m.cluster.as_deref() == Some(cluster) && m.status != "deleting");
        Ok(members.into_iter().min_by_key(|m| (m.created_ms, m.id.clone())))
    }

    /// Makes a new reader a replica of the writer: a replication user on the writer, a
    /// dump of the writer (users included) loaded here at its GTID position, then
    /// replication from there on. Like Aurora's readers, it takes no writes of its own.
    async fn replicate(&self, engine: &Engine, reader: &Instance, writer: &Instance) -> anyhow::Result<()> {
        let writer_dir = self.instance_dir(&writer.home, &writer.id);
        let dir = self.instance_dir(&reader.home, &reader.id);
        let cluster_id = reader.cluster.as_deref().context("a reader is in a cluster")?;
        let body = self
            .store
            .rds_get(&reader.home.account_id, &reader.home.region, KIND_CLUSTER, cluster_id)
            .await?
            .context("the cluster is gone")?;
        let cluster: Cluster = serde_json::from_str(&body)?;
        let purpose = format!("{}/replication", reader.home.arn(KIND_CLUSTER, cluster_id));
        let password = String::from_utf8(self.store.open_secret(&purpose, &cluster.sealed_replication_password)?)?;
        let secret = sql_string(&password);
        engine
            .admin(
                &writer_dir,
                &format!(
                    "CREATE USER IF NOT EXISTS 'rdsrepl'@'%' IDENTIFIED BY {secret};\n\
                     GRANT REPLICATION SLAVE ON *.* TO 'rdsrepl'@'%';\n"
                ),
            )
            .await
            .context("creating the replication user")?;
        let dump = engine.dump_for_replica(&writer_dir).await.context("dumping the writer")?;
        engine.admin_bytes(&dir, &dump).await.context("loading the writer's dump")?;
        let sql = format!(
            "CHANGE MASTER TO MASTER_HOST = {}, MASTER_PORT = {}, MASTER_USER = 'rdsrepl', MASTER_PASSWORD = {secret}, MASTER_USE_GTID = slave_pos;\n\
             START SLAVE;\nFLUSH PRIVILEGES;\n",
            sql_string(&engine.host),
            writer.port
        );
        engine.admin(&dir, &sql).await.context("starting replication")?;
        Ok(())
    }

    /// The writer is gone: the oldest reader stops replicating and takes writes, and the
    /// other readers replicate it instead, as Aurora fails over.
    async fn fail_over(
        &self,
        engine: &Engine,
        running: &HashMap<(Home, String), Running>,
        old: &Instance,
        cluster: &str,
    ) -> anyhow::Result<()> {
        let Some(new) = self.writer(&old.home, cluster).await? else { return Ok(()) };
        if !running.contains_key(&(new.home.clone(), new.id.clone())) {
            return Ok(());
        }
        let new_dir = self.instance_dir(&new.home, &new.id);
        engine.admin(&new_dir, "STOP SLAVE;\nRESET SLAVE ALL;\nSET GLOBAL read_only = OFF;\n").await.context("promoting a reader")?;
        let mut members: Vec<Instance> = self.all::<Instance>(KIND_INSTANCE).await?;
        members.retain(|m| {
            m.home == old.home && m.cluster.as_deref() == Some(cluster) && m.id != old.id && m.id != new.id && m.status != "deleting"
        });
        for m in members.iter().filter(|m| running.contains_key(&(m.home.clone(), m.id.clone()))) {
            let sql = format!(
                "STOP SLAVE;\nCHANGE MASTER TO MASTER_HOST = {}, MASTER_PORT = {};\nSTART SLAVE;\n",
                sql_string(&engine.host),
                new.port
            );
            engine.admin(&self.instance_dir(&m.home, &m.id), &sql).await.context("pointing a reader at the new writer")?;
        }
        let message = format!("Completed failover to DB instance: {}", new.id);
        self.event(&old.home, "db-cluster", cluster, KIND_CLUSTER, &["failover"], &message).await;
        Ok(())
    }

    /// The master user with every privilege, and the initial database.
    async fn create_master_user(&self, engine: &Engine, i: &Instance) -> anyhow::Result<()> {
        let sealed = match &i.cluster {
            Some(c) => {
                let body = self.store.rds_get(&i.home.account_id, &i.home.region, KIND_CLUSTER, c).await?.context("the cluster is gone")?;
                serde_json::from_str::<Cluster>(&body)?.sealed_password
            }
            None => i.sealed_password.clone().context("a standalone instance keeps its master password")?,
        };
        let password = sql_string(&self.open_password(i, &sealed)?);
        let user = sql_string(&i.master_username);
        let mut sql = format!(
            "CREATE USER IF NOT EXISTS {user}@'%' IDENTIFIED BY {password};\nALTER USER {user}@'%' IDENTIFIED BY {password};\n\
             GRANT ALL PRIVILEGES ON *.* TO {user}@'%' WITH GRANT OPTION;\n\
             REVOKE READ_ONLY ADMIN ON *.* FROM {user}@'%';\n"
        );
        if let Some(db) = &i.db_name {
            sql.push_str(&format!("CREATE DATABASE IF NOT EXISTS `{}`;\n", db.replace('`', "``")));
        }
        engine.admin(&self.instance_dir(&i.home, &i.id), &sql).await.context("creating the master user")?;
        Ok(())
    }

    async fn delete_instance(&self, engine: &Engine, i: &Instance) -> anyhow::Result<()> {
        let key = (i.home.clone(), i.id.clone());
        let dir = self.instance_dir(&i.home, &i.id);
        let was_writer = match &i.cluster {
            Some(c) => {
                let mut members: Vec<Instance> = self.all::<Instance>(KIND_INSTANCE).await?;
                members.retain(|m| m.home == i.home && m.cluster.as_deref() == Some(c));
                members.iter().min_by_key(|m| (m.created_ms, m.id.clone())).is_some_and(|w| w.id == i.id)
            }
            None => false,
        };
        let mut running = self.running.lock().await;
        if let Some(snapshot_id) = &i.final_snapshot
            && running.contains_key(&key)
        {
            let dump = engine.dump(&dir).await?;
            let snapshot = self.final_snapshot(i, snapshot_id);
            self.store.rds_put_snapshot(&snapshot.object_key, &dump).await?;
            let body = serde_json::to_string(&snapshot)?;
            self.store.rds_insert(&i.home.account_id, &i.home.region, KIND_SNAPSHOT, snapshot_id, &body).await?;
            self.event(&i.home, "db-snapshot", snapshot_id, KIND_SNAPSHOT, &["backup"], "Manual snapshot created").await;
        }
        if let Some(mut r) = running.remove(&key) {
            engine::stop(&mut r.child).await;
            if let Some(p) = r.publisher.take() {
                tokio::time::sleep(LAST_RECORDS).await;
                p.stop().await;
            }
        }
        if was_writer && let Some(cluster) = &i.cluster {
            self.fail_over(engine, &running, i, cluster).await?;
        }
        drop(running);
        std::fs::remove_dir_all(&dir.root).or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })?;
        let _docs = self.docs.lock().await;
        self.store.rds_delete(&i.home.account_id, &i.home.region, KIND_INSTANCE, &i.id).await?;
        drop(_docs);
        self.event(&i.home, "db-instance", &i.id, KIND_INSTANCE, &["deletion"], "DB instance deleted").await;
        Ok(())
    }

    fn final_snapshot(&self, i: &Instance, id: &str) -> Snapshot {
        let now = now_millis();
        Snapshot {
            home: i.home.clone(),
            id: id.to_owned(),
            instance: i.id.clone(),
            status: "available".into(),
            engine: i.engine.clone(),
            engine_version: i.engine_version.clone(),
            master_username: i.master_username.clone(),
            port: i.port,
            allocated_storage: i.allocated_storage,
            instance_created_ms: i.created_ms,
            created_ms: now,
            object_key: format!("rds-snapshots/{}/{}/{id}-{}.sql", i.home.account_id, i.home.region, uuid::Uuid::new_v4()),
            snapshot_type: "manual".into(),
            tags: i.tags.clone(),
        }
    }

    async fn take_snapshot(&self, engine: &Engine, s: &Snapshot) -> anyhow::Result<()> {
        let dir = self.instance_dir(&s.home, &s.instance);
        if !self.running.lock().await.contains_key(&(s.home.clone(), s.instance.clone())) {
            return Ok(()); // the server starts first
        }
        self.event(&s.home, "db-snapshot", &s.id, KIND_SNAPSHOT, &["backup"], "Creating manual snapshot").await;
        let dump = engine.dump(&dir).await?;
        self.store.rds_put_snapshot(&s.object_key, &dump).await?;
        self.update::<Snapshot>(&s.home, KIND_SNAPSHOT, &s.id, |s| s.status = "available".into()).await?;
        self.update::<Instance>(&s.home, KIND_INSTANCE, &s.instance, |i| {
            if i.status == "backing-up" {
                i.status = "available".into();
            }
        })
        .await?;
        self.event(&s.home, "db-snapshot", &s.id, KIND_SNAPSHOT, &["backup"], "Manual snapshot created").await;
        Ok(())
    }
}

/// What an instance is to its cluster, given the cluster's writer.
fn role(i: &Instance, writer: Option<&Instance>) -> Role {
    match (&i.cluster, writer) {
        (None, _) => Role::Standalone,
        (Some(_), Some(w)) if w.id != i.id => Role::Reader { server_id: server_id(i) },
        (Some(_), _) => Role::Writer { server_id: server_id(i) },
    }
}

/// A server ID unique to the instance, for replication within its cluster.
fn server_id(i: &Instance) -> u32 {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(format!("{}/{}/{}", i.home.account_id, i.home.region, i.id));
    (u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]) & 0x7fff_fffe) + 1
}
