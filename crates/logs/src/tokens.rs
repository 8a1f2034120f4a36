//! Pagination tokens: opaque to clients, versioned, and checked when they come back.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use store::Position;
use wire::AwsError;

use crate::invalid;

/// Encodes a paging cursor for DescribeLogGroups/DescribeLogStreams/FilterLogEvents.
pub fn encode(kind: &str, payload: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("tw1|{kind}|{payload}"))
}

/// Decodes a cursor of the given kind; a token from elsewhere is InvalidParameterException.
pub fn decode(kind: &str, token: &str) -> Result<String, AwsError> {
    let bad = || invalid("The specified nextToken is invalid.");
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let rest = text.strip_prefix("tw1|").ok_or_else(bad)?;
    let payload = rest.strip_prefix(kind).and_then(|r| r.strip_prefix('|')).ok_or_else(bad)?;
    Ok(payload.to_owned())
}

/// A position as text: `ts:seq`.
pub fn position_text(p: Position) -> String {
    format!("{}:{}", p.ts, p.seq)
}

/// Parses `ts:seq`.
pub fn parse_position(text: &str) -> Result<Position, AwsError> {
    let bad = || invalid("The specified nextToken is invalid.");
    let (ts, seq) = text.split_once(':').ok_or_else(bad)?;
    Ok(Position { ts: ts.parse().map_err(|_| bad())?, seq: seq.parse().map_err(|_| bad())? })
}

/// The GetLogEvents token direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    /// `f/...`: events after the position.
    Forward,
    /// `b/...`: events before the position.
    Backward,
}

/// A GetLogEvents token in AWS's shape: `f/` or `b/` followed by digits.
///
/// The digits hold the timestamp and seq of the boundary, each biased into a fixed
/// width so the token sorts and parses without separators.
pub fn stream_token(toward: Toward, p: Position) -> String {
    let prefix = if toward == Toward::Forward { 'f' } else { 'b' };
    let bias = |v: i64| (v as i128 - i64::MIN as i128) as u128;
    format!("{prefix}/{:020}{:020}", bias(p.ts), bias(p.seq))
}

/// Parses a GetLogEvents token.
pub fn parse_stream_token(token: &str) -> Result<(Toward, Position), AwsError> {
    let bad = || invalid("The specified nextToken is invalid.");
    let (toward, digits) = match token.split_at_checked(2) {
        Some(("f/", d)) => (Toward::Forward, d),
        Some(("b/", d)) => (Toward::Backward, d),
        _ => return Err(bad()),
    };
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let unbias = |s: &str| -> Result<i64, AwsError> {
        let v: u128 = s.parse().map_err(|_| bad())?;
        i64::try_from(v as i128 + i64::MIN as i128).map_err(|_| bad())
    };
    Ok((toward, Position { ts: unbias(&digits[..20])?, seq: unbias(&digits[20..])? }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_tokens_roundtrip() {
        for p in [Position::START, Position::END, Position { ts: 1_700_000_000_000, seq: 42 << 24 }] {
            for t in [Toward::Forward, Toward::Backward] {
                let tok = stream_token(t, p);
                assert_eq!(tok.len(), 42);
                assert_eq!(parse_stream_token(&tok).unwrap(), (t, p));
            }
        }
        assert!(parse_stream_token("x/123").is_err());
        assert!(parse_stream_token("f/12").is_err());
    }

    #[test]
    fn cursors_roundtrip_and_reject_foreign_tokens() {
        let t = encode("groups", "/aws/rds");
        assert_eq!(decode("groups", &t).unwrap(), "/aws/rds");
        assert!(decode("streams", &t).is_err());
        assert!(decode("groups", "garbage!").is_err());
    }
}
