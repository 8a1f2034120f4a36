-- Metric filters and subscription filters of log groups, and saved Insights queries.
--
-- A filter's cursor is the seq of the last ingested event it has been applied to
-- (seq = segment id << 24 | row, so ingest order). Compaction leaves ingest blocks past
-- the smallest cursor of their group alone, so a filter always finds what it has not
-- yet applied in ingest blocks.

CREATE TABLE metric_filters (
    group_id INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name     TEXT    NOT NULL,
    body     TEXT    NOT NULL,   -- the filter as the logs crate describes it (JSON)
    cursor   BIGINT  NOT NULL,
    PRIMARY KEY (group_id, name)
);

CREATE TABLE subscription_filters (
    group_id INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name     TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    cursor   BIGINT  NOT NULL,
    PRIMARY KEY (group_id, name)
);

-- Saved Insights queries (PutQueryDefinition).
CREATE TABLE query_definitions (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (account_id, region, id)
);
