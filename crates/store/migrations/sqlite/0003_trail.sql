-- CloudTrail: the recorded events of every call, trails, their delivery state, the
-- keys that sign digests, and object metadata of the local buckets.

-- One row per recorded call, in commit order (seq). Event history reads it by time and
-- attribute; trail delivery reads it by seq after each trail's cursor.
CREATE TABLE trail_events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    event_time    INTEGER NOT NULL,  -- epoch ms
    event_id      TEXT NOT NULL,
    event_name    TEXT NOT NULL,
    event_source  TEXT NOT NULL,
    read_only     INTEGER NOT NULL,
    management    INTEGER NOT NULL,
    username      TEXT,
    access_key_id TEXT,
    resources     TEXT NOT NULL,     -- JSON [{"ResourceType","ResourceName"}] for LookupEvents
    body          TEXT NOT NULL      -- the record as delivered (secrets masked before it gets here)
);
CREATE INDEX trail_events_time ON trail_events (account_id, region, event_time);
CREATE UNIQUE INDEX trail_events_id ON trail_events (event_id);

-- Trails of each account; the trail crate owns the document's shape.
CREATE TABLE trails (
    account_id  TEXT NOT NULL,
    home_region TEXT NOT NULL,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (account_id, home_region, name)
);

-- How far each trail's delivery has gone, per sink ("s3", "logs").
CREATE TABLE trail_cursors (
    trail_arn TEXT NOT NULL,
    sink      TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, sink)
);

-- Delivery outcome per trail and sink, for GetTrailStatus.
CREATE TABLE trail_status (
    trail_arn TEXT NOT NULL,
    sink      TEXT NOT NULL,     -- "s3", "logs", "digest", "sns"
    last_ok   INTEGER,           -- epoch ms of the latest success
    last_error TEXT,             -- the latest error, cleared by a success
    last_attempt INTEGER,
    PRIMARY KEY (trail_arn, sink)
);

-- Log files delivered to a bucket; a digest lists those of its period.
CREATE TABLE trail_files (
    trail_arn    TEXT NOT NULL,
    region       TEXT NOT NULL,
    bucket       TEXT NOT NULL,
    key          TEXT NOT NULL,
    sha256       TEXT NOT NULL,     -- hex, over the uncompressed file
    oldest_event INTEGER NOT NULL,  -- epoch ms
    newest_event INTEGER NOT NULL,
    delivered_at INTEGER NOT NULL,
    digested     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (trail_arn, key)
);
CREATE INDEX trail_files_pending ON trail_files (trail_arn, region, digested);

-- The newest digest of each trail and region: the next one chains to it.
CREATE TABLE trail_digests (
    trail_arn  TEXT NOT NULL,
    region     TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    signature  TEXT NOT NULL,
    end_time   INTEGER NOT NULL,   -- epoch ms
    PRIMARY KEY (trail_arn, region)
);

-- RSA keys that sign digests; the private key is sealed under the master key.
CREATE TABLE trail_keys (
    fingerprint TEXT PRIMARY KEY,
    valid_from  INTEGER NOT NULL,  -- epoch ms
    valid_to    INTEGER,           -- null while current
    public_der  BLOB NOT NULL,     -- PKCS#1 RSAPublicKey
    private_sealed BLOB NOT NULL
);

-- Notifications of delivered files waiting for their endpoint to acknowledge them.
CREATE TABLE trail_notifications (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    trail_arn TEXT NOT NULL,
    topic     TEXT NOT NULL,
    message   TEXT NOT NULL,
    attempts  INTEGER NOT NULL DEFAULT 0,
    next_at   INTEGER NOT NULL
);

-- User metadata (x-amz-meta-*) of objects in the local buckets, which a plain
-- directory cannot hold.
CREATE TABLE bucket_object_metadata (
    bucket   TEXT NOT NULL,
    key      TEXT NOT NULL,
    metadata TEXT NOT NULL,  -- JSON object of name → value
    PRIMARY KEY (bucket, key)
);
