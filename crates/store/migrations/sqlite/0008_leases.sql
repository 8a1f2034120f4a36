-- Leases: which node runs each background job, until when (epoch ms).
CREATE TABLE leases (
    job        TEXT   NOT NULL PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_ms BIGINT NOT NULL
);

-- Deployment-wide settings every node reads (the account and its sealed root secret).
CREATE TABLE deployment (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
