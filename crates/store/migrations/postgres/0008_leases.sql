-- Leases: which node runs each background job, until when (epoch ms).
CREATE TABLE leases (
    job        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    holder     TEXT COLLATE "C" NOT NULL,
    expires_ms BIGINT NOT NULL
);

-- Deployment-wide settings every node reads (the account and its sealed root secret).
CREATE TABLE deployment (
    key   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

-- SQLite's functions that the shared statements use, so both databases run the same SQL.
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS BIGINT
    LANGUAGE SQL IMMUTABLE STRICT AS $$ SELECT strpos(haystack, needle)::BIGINT $$;
CREATE FUNCTION json_each(doc TEXT) RETURNS TABLE (value TEXT)
    LANGUAGE SQL IMMUTABLE STRICT AS $$ SELECT e::TEXT FROM jsonb_array_elements(doc::JSONB) AS e $$;
CREATE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT
    LANGUAGE SQL IMMUTABLE STRICT AS $$ SELECT jsonb_path_query_first(doc::JSONB, path::JSONPATH) #>> '{}' $$;
