//! Moving a deployment: every catalog row and every segment object from one store into
//! another (SQLite + directory into PostgreSQL + bucket, or back), then counting both
//! sides. `trailwatch migrate` drives it; the target must be empty and the nodes of
//! the source stopped.

use futures::StreamExt;
use object_store::ObjectStoreExt;
use sqlx::{Column, Row, TypeInfo};

use crate::{Backend, Store, StoreError};

/// Every table, parents before children (foreign keys), as the migrations create them.
/// Leases are not moved: they belong to the processes of the source.
const TABLES: &[&str] = &[
    "log_groups",
    "log_group_tags",
    "log_streams",
    "segments",
    "blocks",
    "iam_entities",
    "trail_events",
    "trails",
    "trail_cursors",
    "trail_status",
    "trail_files",
    "trail_digests",
    "trail_keys",
    "trail_notifications",
    "bucket_object_metadata",
    "buckets",
    "rds_resources",
    "rds_events",
    "rds_snapshot_objects",
    "metric_series",
    "metric_buckets",
    "metric_alarms",
    "metric_alarm_history",
    "metric_alarm_notifications",
    "metric_filters",
    "subscription_filters",
    "query_definitions",
    "insights_queries",
    "deployment",
];

/// Rows copied per INSERT statement.
const ROWS_PER_INSERT: usize = 200;

/// What a migration step reports as it goes.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    /// A table is about to be copied: its name and row count.
    Table(&'a str, u64),
    /// Rows of the current table copied so far.
    Rows(u64),
    /// The objects are about to be copied: how many, and their bytes.
    Objects(u64, u64),
    /// One more object copied, of this many bytes.
    Object(u64),
}

/// What was moved: rows per table and the objects, each counted on both sides.
#[derive(Debug, Default)]
pub struct Moved {
    /// (table, rows) in copy order.
    pub tables: Vec<(String, u64)>,
    /// Objects copied.
    pub objects: u64,
    /// Their bytes.
    pub object_bytes: u64,
}

/// One column value on its way between databases.
enum Value {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl Store {
    /// Copies this store's catalog and objects into `target`, whose catalog must hold
    /// no log group, IAM entity or trail event yet, then checks every count.
    pub async fn migrate_into(&self, target: &Store, progress: &mut dyn FnMut(Progress<'_>)) -> Result<Moved, StoreError> {
        target.ensure_empty().await?;
        let mut moved = Moved::default();
        for table in TABLES {
            let rows = self.copy_table(target, table, progress).await?;
            moved.tables.push((table.to_string(), rows));
        }
        target.restart_identities().await?;
        let (objects, bytes) = self.copy_objects(target, progress).await?;
        (moved.objects, moved.object_bytes) = (objects, bytes);
        self.check_counts(target, &moved).await?;
        Ok(moved)
    }

    async fn ensure_empty(&self) -> Result<(), StoreError> {
        for table in ["log_groups", "iam_entities", "trail_events", "segments"] {
            if self.count_rows(table).await? > 0 {
                return Err(StoreError::AlreadyExists);
            }
        }
        Ok(())
    }

    async fn count_rows(&self, table: &str) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&self.db).await?;
        Ok(n as u64)
    }

    /// Copies one table in one transaction of the target, rows in batches.
    async fn copy_table(&self, target: &Store, table: &str, progress: &mut dyn FnMut(Progress<'_>)) -> Result<u64, StoreError> {
        let total = self.count_rows(table).await?;
        progress(Progress::Table(table, total));
        let select = format!("SELECT * FROM {table}");
        let mut rows = sqlx::query(&select).fetch(&self.db);
        let mut tx = target.write_tx().await?;
        let (mut batch, mut columns, mut copied) = (Vec::new(), Vec::new(), 0u64);
        while let Some(row) = rows.next().await {
            let row = row?;
            if columns.is_empty() {
                columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
            }
            batch.push(values(&row)?);
            if batch.len() == ROWS_PER_INSERT {
                insert(&mut tx, table, &columns, &batch).await?;
                copied += batch.len() as u64;
                batch.clear();
                progress(Progress::Rows(copied));
            }
        }
        if !batch.is_empty() {
            insert(&mut tx, table, &columns, &batch).await?;
            copied += batch.len() as u64;
            progress(Progress::Rows(copied));
        }
        tx.commit().await?;
        Ok(copied)
    }

    /// Moves PostgreSQL's identity sequences past the copied IDs (SQLite's
    /// AUTOINCREMENT follows inserted IDs by itself).
    async fn restart_identities(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let identities: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND is_identity = 'YES'",
        )
        .fetch_all(&self.db)
        .await?;
        for (table, column) in identities {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}), false)"
            );
            sqlx::query(&sql).execute(&self.db).await?;
        }
        Ok(())
    }

    /// Copies every object (segments and snapshot dumps), keys unchanged.
    async fn copy_objects(&self, target: &Store, progress: &mut dyn FnMut(Progress<'_>)) -> Result<(u64, u64), StoreError> {
        let mut listing = self.objects.list(None);
        let mut all = Vec::new();
        while let Some(meta) = listing.next().await {
            all.push(meta?);
        }
        let bytes: u64 = all.iter().map(|m| m.size).sum();
        progress(Progress::Objects(all.len() as u64, bytes));
        for meta in &all {
            let body = self.objects.get(&meta.location).await?.bytes().await?;
            target.objects.put(&meta.location, body.into()).await?;
            progress(Progress::Object(meta.size));
        }
        Ok((all.len() as u64, bytes))
    }

    /// Counts rows and objects on the target against what was copied.
    async fn check_counts(&self, target: &Store, moved: &Moved) -> Result<(), StoreError> {
        for (table, rows) in &moved.tables {
            let there = target.count_rows(table).await?;
            if there != *rows {
                return Err(StoreError::Corrupt(format!("{table}: {rows} rows copied but the target holds {there}")));
            }
        }
        let mut listing = target.objects.list(None);
        let mut objects = 0u64;
        while let Some(meta) = listing.next().await {
            meta?;
            objects += 1;
        }
        if objects != moved.objects {
            return Err(StoreError::Corrupt(format!("{} objects copied but the target holds {objects}", moved.objects)));
        }
        Ok(())
    }
}

/// A row's values, typed by their columns' declared types.
fn values(row: &sqlx::any::AnyRow) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::with_capacity(row.columns().len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_info().name().to_ascii_uppercase();
        let value = if ty.contains("INT") {
            Value::Int(row.try_get(i)?)
        } else if ty.contains("REAL") || ty.contains("DOUBLE") || ty.contains("FLOAT") {
            Value::Float(row.try_get(i)?)
        } else if ty.contains("BLOB") || ty.contains("BYTEA") {
            Value::Blob(row.try_get(i)?)
        } else {
            Value::Text(row.try_get(i)?)
        };
        out.push(value);
    }
    Ok(out)
}

/// One multi-row INSERT of `rows` into `table`.
async fn insert(tx: &mut crate::Tx, table: &str, columns: &[String], rows: &[Vec<Value>]) -> Result<(), StoreError> {
    let width = columns.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|r| format!("({})", (1..=width).map(|c| format!("${}", r * width + c)).collect::<Vec<_>>().join(", ")))
        .collect();
    let sql = format!("INSERT INTO {table} ({}) VALUES {}", columns.join(", "), tuples.join(", "));
    let mut query = sqlx::query(&sql);
    for row in rows {
        for value in row {
            query = match value {
                Value::Int(v) => query.bind(*v),
                Value::Float(v) => query.bind(*v),
                Value::Text(v) => query.bind(v.clone()),
                Value::Blob(v) => query.bind(v.clone()),
            };
        }
    }
    query.execute(&mut **tx).await?;
    Ok(())
}
