-- RDS: parameter groups, clusters, instances and snapshots as documents the rds crate
-- owns the shape of, the events DescribeEvents reads, and where snapshot dumps live.

-- One row per RDS resource. kind: 'cluster-pg', 'cluster', 'db', 'snapshot'.
CREATE TABLE rds_resources (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,     -- the identifier, lower case as RDS keeps it
    body       TEXT NOT NULL,
    PRIMARY KEY (account_id, region, kind, name)
);

-- Events about RDS resources (DescribeEvents), kept 14 days as RDS keeps them.
CREATE TABLE rds_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    at_millis   INTEGER NOT NULL,
    source_type TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX rds_events_time ON rds_events (account_id, region, at_millis);

-- Sealed snapshot dumps in the object store; the orphan sweep keeps what is listed here.
CREATE TABLE rds_snapshot_objects (
    object_key TEXT PRIMARY KEY
);
