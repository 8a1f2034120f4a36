-- Logs Insights queries while they run and for a day after, so every node answers
-- GetQueryResults, StopQuery and DescribeQueries for a query any node started.
CREATE TABLE insights_queries (
    query_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL,
    region      TEXT COLLATE "C" NOT NULL,
    info        TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    created_ms  BIGINT NOT NULL,
    finished_ms BIGINT,
    output      TEXT COLLATE "C"
);
CREATE INDEX insights_queries_by_account ON insights_queries (account_id, region, created_ms);
CREATE INDEX insights_queries_by_status ON insights_queries (status);
