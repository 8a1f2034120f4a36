-- Local buckets created through the S3 API: the region they were created in (what
-- GetBucketLocation answers) and when. A bucket directory without a row is in us-east-1.
CREATE TABLE buckets (
    name       TEXT COLLATE "C" PRIMARY KEY,
    region     TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL  -- epoch ms
);
