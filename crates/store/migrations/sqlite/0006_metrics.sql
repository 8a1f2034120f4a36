-- CloudWatch metrics and alarms: per-period statistic buckets of each metric, alarm
-- documents the monitoring crate owns the shape of, their history, and the outbox of
-- alarm notifications waiting for their endpoints.

-- One row per metric identity; dimensions are canonical JSON ([[name, value], ...] sorted
-- by name), so the same metric put with its dimensions in another order is the same row.
CREATE TABLE metric_series (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    dimensions  TEXT NOT NULL,
    last_put_ms INTEGER NOT NULL,  -- when data last arrived: ListMetrics' RecentlyActive
    UNIQUE (account_id, region, namespace, name, dimensions)
);

-- The statistics of one metric, unit and bucket (60 s, or 1 s for high resolution).
-- distribution: (value, count) pairs as little-endian f64s, sorted by value, at most
-- 1,000 distinct values; NULL when percentiles are unavailable for the bucket (a
-- statistic set of more than one distinct sample).
CREATE TABLE metric_buckets (
    series_id    INTEGER NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
    start_ms     INTEGER NOT NULL,
    width_s      INTEGER NOT NULL,
    unit         TEXT NOT NULL,
    count        REAL NOT NULL,
    sum          REAL NOT NULL,
    min          REAL NOT NULL,
    max          REAL NOT NULL,
    distribution BLOB,
    PRIMARY KEY (series_id, start_ms, width_s, unit)
) WITHOUT ROWID;
CREATE INDEX metric_buckets_age ON metric_buckets (start_ms);

-- One metric alarm: its configuration and state as one JSON document.
CREATE TABLE metric_alarms (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

-- DescribeAlarmHistory: configuration updates, state updates and actions; kept after
-- the alarm is deleted, as CloudWatch keeps them.
CREATE TABLE metric_alarm_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    alarm_name TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    item_type  TEXT NOT NULL,
    summary    TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX metric_alarm_history_alarm ON metric_alarm_history (account_id, region, alarm_name, at_ms);
CREATE INDEX metric_alarm_history_time ON metric_alarm_history (account_id, region, at_ms);

-- Alarm notifications to SNS topics, written with the state change they announce and
-- removed once the endpoint acknowledged them or every attempt failed.
CREATE TABLE metric_alarm_notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    alarm_name TEXT NOT NULL,
    action     TEXT NOT NULL,     -- the topic ARN
    subject    TEXT NOT NULL,
    message    TEXT NOT NULL,     -- the CloudWatch alarm JSON
    state_ms   INTEGER NOT NULL,  -- the state update it announces
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_ms     INTEGER NOT NULL
);
CREATE INDEX metric_alarm_notifications_due ON metric_alarm_notifications (due_ms);
