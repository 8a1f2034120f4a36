use std::fmt;

/// Why a request's SigV4 authentication was refused; each variant carries AWS's message.
///
/// The caller turns the kind into its protocol's code: for JSON services `Incomplete` is
/// `IncompleteSignatureException` and `Mismatch`/`Expired` are `InvalidSignatureException`;
/// for Query services (iam, sts) they are `IncompleteSignature` and `SignatureDoesNotMatch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Parts of the signature are malformed or missing (algorithm, credential, date, ...).
    Incomplete(String),
    /// The signature, or something it vouches for (scope, signed headers, payload), does not match.
    Mismatch(String),
    /// The request time is outside the allowed clock window, or a presigned URL ran out.
    Expired(String),
}

impl Error {
    /// AWS's message text for this error, ready for the response body.
    pub fn message(&self) -> &str {
        match self {
            Error::Incomplete(m) | Error::Mismatch(m) | Error::Expired(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

/// AWS's text when the recomputed signature differs from the one sent.
pub(crate) const MISMATCH: &str = "The request signature we calculated does not match the \
signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
service documentation for details.";
