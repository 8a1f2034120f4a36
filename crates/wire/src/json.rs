//! The JSON 1.1 protocol (CloudWatch Logs, CloudTrail): `X-Amz-Target` routing and error bodies.

use crate::error::AwsError;

/// The content type of JSON 1.1 requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Splits an `X-Amz-Target` value such as `Logs_20140328.PutLogEvents` into prefix and operation.
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    // The prefix may itself hold dots (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`).
    let (prefix, op) = target.rsplit_once('.')?;
    (!prefix.is_empty() && !op.is_empty()).then_some((prefix, op))
}

/// Serializes an error the way JSON 1.1 services do: `{"__type": ..., "message": ...}`.
pub fn error_body(err: &AwsError) -> Vec<u8> {
    let body = serde_json::json!({ "__type": err.code, "message": err.message });
    serde_json::to_vec(&body).expect("a JSON object always serializes")
}

/// The error for a body that is not the JSON object the operation expects.
pub fn serialization_error(detail: impl Into<String>) -> AwsError {
    AwsError::client("SerializationException", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_targets() {
        assert_eq!(split_target("Logs_20140328.PutLogEvents"), Some(("Logs_20140328", "PutLogEvents")));
        assert_eq!(split_target("Logs_20140328."), None);
        assert_eq!(split_target("PutLogEvents"), None);
    }

    #[test]
    fn error_body_has_type_and_message() {
        let e = AwsError::client("ResourceNotFoundException", "The specified log group does not exist.");
        let v: serde_json::Value = serde_json::from_slice(&error_body(&e)).unwrap();
        assert_eq!(v["__type"], "ResourceNotFoundException");
        assert_eq!(v["message"], "The specified log group does not exist.");
    }
}
