//! The AWS error every service answers with: a code, a message and an HTTP status.

use std::borrow::Cow;
use std::fmt;

/// An error as AWS returns it; the protocol codec decides how it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The error code, e.g. `ResourceNotFoundException` or `SignatureDoesNotMatch`.
    pub code: Cow<'static, str>,
    /// The human-readable message, exactly as AWS words it.
    pub message: String,
    /// The HTTP status code.
    pub status: u16,
    /// Further elements of the error document, in order (S3's `<Key>`, `<BucketName>`).
    pub details: Vec<(&'static str, String)>,
}

impl AwsError {
    /// An error with the given code, HTTP status and message.
    pub fn new(code: impl Into<Cow<'static, str>>, status: u16, message: impl Into<String>) -> Self {
        AwsError { code: code.into(), message: message.into(), status, details: Vec::new() }
    }

    /// A 400 error: the caller sent something wrong.
    pub fn client(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(code, 400, message)
    }

    /// A 500 error: something failed on our side; the message is safe to show.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailure", 500, message)
    }

    /// A 503 error, for storage that is temporarily unavailable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new("ServiceUnavailableException", 503, message)
    }

    /// Adds an element to the error document (S3 names the key or bucket it could not find).
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    /// Whether the fault is the sender's (4xx) rather than the service's.
    pub fn is_sender_fault(&self) -> bool {
        self.status < 500
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}
