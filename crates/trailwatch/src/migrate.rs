//! `trailwatch migrate`: moves a deployment between the embedded mode (SQLite and a
//! directory) and the cluster mode (PostgreSQL and an S3-compatible bucket), either way,
//! with a progress bar, and checks that every row and object arrived.

use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use store::migrate::Progress;
use store::{ObjectsConfig, Store, StoreConfig};

/// `trailwatch migrate`.
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// The source's data directory (its master key, and by default its catalog and segments).
    #[arg(long)]
    from_data_dir: PathBuf,
    /// The source's catalog URL [default: <from-data-dir>/catalog.sqlite].
    #[arg(long)]
    from_catalog: Option<String>,
    /// The source's objects: `s3://bucket/prefix` or a directory [default: <from-data-dir>/segments].
    #[arg(long)]
    from_objects: Option<String>,
    /// The target's data directory: holds an embedded target's catalog, segments and
    /// master key [default: <from-data-dir>.migrated].
    #[arg(long)]
    to_data_dir: Option<PathBuf>,
    /// The target's catalog URL, e.g. `postgres://user:password@host/db` [default: an
    /// embedded catalog in the target's data directory].
    #[arg(long, hide_env_values = true, env = "TRAILWATCH_MIGRATE_TO_CATALOG")]
    to_catalog: Option<String>,
    /// The target's objects: `s3://bucket/prefix` or a directory [default: <to-data-dir>/segments].
    #[arg(long)]
    to_objects: Option<String>,
    /// The S3-compatible endpoint of whichever side is in a bucket [default: AWS_ENDPOINT_URL].
    #[arg(long)]
    objects_endpoint: Option<String>,
    /// The region to sign for there [default: AWS_REGION].
    #[arg(long)]
    objects_region: Option<String>,
    /// Access key ID there [default: AWS_ACCESS_KEY_ID].
    #[arg(long, env = "TRAILWATCH_OBJECTS_ACCESS_KEY_ID", hide_env_values = true)]
    objects_access_key_id: Option<String>,
    /// Secret access key there [default: AWS_SECRET_ACCESS_KEY].
    #[arg(long, env = "TRAILWATCH_OBJECTS_SECRET_ACCESS_KEY", hide_env_values = true)]
    objects_secret_access_key: Option<String>,
    /// The master key, 64 hex digits [default: <from-data-dir>/master.key]. The target
    /// keeps it: start its nodes with the same `--master-key`.
    #[arg(long, env = "TRAILWATCH_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
}

/// Runs the migration; prints what moved.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let key = match &args.master_key {
        Some(hex_key) => crate::config::parse_master_key(hex_key)?,
        None => store::load_master_key(&args.from_data_dir)?
            .with_context(|| format!("no --master-key and no {}/master.key", args.from_data_dir.display()))?,
    };
    let to_data_dir = args.to_data_dir.clone().unwrap_or_else(|| args.from_data_dir.with_extension("migrated"));
    let from = Store::open(config(&args, &args.from_data_dir, args.from_catalog.clone(), args.from_objects.as_deref(), key)?)
        .await
        .context("opening the source")?;
    let to_config = config(&args, &to_data_dir, args.to_catalog.clone(), args.to_objects.as_deref(), key)?;
    if to_config.catalog_url.is_none() {
        // An embedded target is started later from its data directory alone.
        std::fs::create_dir_all(&to_data_dir).with_context(|| format!("creating {}", to_data_dir.display()))?;
        store::write_secret_file(&to_data_dir.join("master.key"), hex::encode(key).as_bytes())?;
    }
    let to = Store::open(to_config).await.context("opening the target")?;
    let bar = ProgressBar::new(0);
    let mut on_progress = |p: Progress<'_>| match p {
        Progress::Table(table, rows) => {
            bar.set_style(ProgressStyle::with_template("{msg:28} [{bar:40}] {pos}/{len} rows").expect("valid template"));
            bar.set_message(table.to_owned());
            bar.set_length(rows);
            bar.set_position(0);
        }
        Progress::Rows(done) => bar.set_position(done),
        Progress::Objects(count, bytes) => {
            bar.set_style(ProgressStyle::with_template("{msg:28} [{bar:40}] {bytes}/{total_bytes}").expect("valid template"));
            bar.set_message(format!("{count} objects"));
            bar.set_length(bytes);
            bar.set_position(0);
        }
        Progress::Object(bytes) => bar.inc(bytes),
    };
    let moved = from.migrate_into(&to, &mut on_progress).await.map_err(|e| match e {
        store::StoreError::AlreadyExists => anyhow::anyhow!("the target already holds a deployment; migrate only into an empty one"),
        e => anyhow::Error::from(e),
    })?;
    bar.finish_and_clear();
    from.shutdown().await;
    to.shutdown().await;
    let rows: u64 = moved.tables.iter().map(|(_, n)| n).sum();
    println!(
        "migrated {rows} catalog rows in {} tables and {} objects ({} bytes); counts verified on the target",
        moved.tables.len(),
        moved.objects,
        moved.object_bytes
    );
    for (table, n) in moved.tables.iter().filter(|(_, n)| *n > 0) {
        println!("  {table}: {n}");
    }
    Ok(())
}

/// The store settings of one side.
fn config(
    args: &MigrateArgs,
    data_dir: &std::path::Path,
    catalog: Option<String>,
    objects: Option<&str>,
    key: [u8; 32],
) -> anyhow::Result<StoreConfig> {
    let mut c = StoreConfig::new(data_dir);
    c.catalog_url = catalog;
    c.master_key = Some(key);
    if let Some(location) = objects {
        c.objects = match ObjectsConfig::parse(location).map_err(|e| anyhow::anyhow!(e))? {
            ObjectsConfig::S3(mut s3) => {
                s3.endpoint = args.objects_endpoint.clone();
                s3.region = args.objects_region.clone();
                s3.access_key_id = args.objects_access_key_id.clone();
                s3.secret_access_key = args.objects_secret_access_key.clone();
                ObjectsConfig::S3(s3)
            }
            dir => dir,
        };
    }
    Ok(c)
}
