-- Logs Insights queries while they run and for a day after, so every node answers
-- GetQueryResults, StopQuery and DescribeQueries for a query any node started.
CREATE TABLE insights_queries (
    query_id    TEXT NOT NULL PRIMARY KEY,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    info        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    finished_ms INTEGER,
    output      TEXT
);
CREATE INDEX insights_queries_by_account ON insights_queries (account_id, region, created_ms);
CREATE INDEX insights_queries_by_status ON insights_queries (status);
