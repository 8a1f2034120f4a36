//! A read-only S3 API over the local bucket directory: enough for `aws s3 ls`,
//! `aws s3 cp` and `aws cloudtrail validate-logs` to read trail buckets.
