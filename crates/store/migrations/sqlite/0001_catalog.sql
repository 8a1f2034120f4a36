-- The catalog: control-plane state of CloudWatch Logs and the index of event segments.

CREATE TABLE log_groups (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id          TEXT    NOT NULL,
    region              TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    creation_time       BIGINT  NOT NULL,
    retention_days      INTEGER,
    kms_key_id          TEXT,
    log_group_class     TEXT    NOT NULL,
    deletion_protection INTEGER NOT NULL DEFAULT 0,
    data_key            BLOB    NOT NULL,  -- AES-256 key wrapped by the master key
    stored_bytes        BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (account_id, region, name)
);

CREATE TABLE log_group_tags (
    group_id INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (group_id, key)
);

CREATE TABLE log_streams (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id            INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    creation_time       BIGINT  NOT NULL,
    first_event_ts      BIGINT,
    last_event_ts       BIGINT,
    last_ingestion_time BIGINT,
    UNIQUE (group_id, name)
);

-- One immutable object in the object store: an ingest flush or a compacted segment.
CREATE TABLE segments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT    NOT NULL UNIQUE,
    kind       INTEGER NOT NULL,  -- 0 = ingest blocks, 1 = compacted Parquet
    size       BIGINT  NOT NULL,
    rows       BIGINT  NOT NULL,  -- events written into the object; more than its blocks hold = dead rows
    created    BIGINT  NOT NULL,
    dead_since BIGINT             -- set once no block refers to it; deleted after a grace period
);

-- The events of one stream inside a segment: a sealed byte range and a row range in it.
CREATE TABLE blocks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    segment_id   INTEGER NOT NULL REFERENCES segments (id),
    group_id     INTEGER NOT NULL,
    stream_id    INTEGER NOT NULL,
    kind         INTEGER NOT NULL,
    byte_offset  BIGINT  NOT NULL,
    byte_length  BIGINT  NOT NULL,
    row_start    INTEGER NOT NULL,
    row_count    INTEGER NOT NULL,
    seq_base     BIGINT  NOT NULL,  -- ingest blocks: seq of row 0; compacted: unused (seq is a column)
    min_ts       BIGINT  NOT NULL,
    max_ts       BIGINT  NOT NULL,
    raw_bytes    BIGINT  NOT NULL,  -- message bytes
    stored_bytes BIGINT  NOT NULL
);
CREATE INDEX blocks_by_stream ON blocks (stream_id, min_ts);
CREATE INDEX blocks_by_group ON blocks (group_id, min_ts);
CREATE INDEX blocks_by_segment ON blocks (segment_id);
