-- Local buckets created through the S3 API: the region they were created in (what
-- GetBucketLocation answers) and when. A bucket directory without a row is in us-east-1.
CREATE TABLE buckets (
    name       TEXT PRIMARY KEY,
    region     TEXT NOT NULL,
    created_at INTEGER NOT NULL  -- epoch ms
);
