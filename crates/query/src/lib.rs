//! CloudWatch Logs filter patterns, as used by FilterLogEvents, metric filters,
//! subscription filters and Live Tail.
//!
//! Source: AWS, "Filter pattern syntax for metric filters, subscription filters, filter
//! log events, and Live Tail" (CloudWatch Logs User Guide, FilterAndPatternSyntax.html).
//! The pattern's first character picks its form:
//!
//! - `{ ... }` — a JSON pattern (`json` module): property selectors, `=`/`!=`/`<`/...
//!   comparisons, `IS NULL`, `NOT EXISTS`, `&&`, `||`, parentheses;
//! - `[ ... ]` — a space-delimited pattern (`delimited` module): named fields, `...`,
//!   per-field conditions;
//! - `%...%` — a regular expression in AWS's restricted subset (`regex` module), searched
//!   anywhere in the message;
//! - anything else — unstructured terms (`terms` module): words, `"quoted phrases"`,
//!   `?` alternatives, `-` exclusions; the empty pattern matches everything.
//!
//! Matching is case-sensitive and works on the raw message bytes. A pattern is compiled
//! once; [`FilterPattern::matches`] allocates nothing on the common paths (terms,
//! regexes, space-delimited patterns of up to 32 fields, JSON patterns except when a
//! compared JSON string holds escapes). [`FilterPattern::extract`] also returns the
//! event's [`Fields`] for metric transformations.

mod delimited;
mod error;
mod expr;
mod fields;
mod json;
mod regex;
mod terms;
mod value;

pub use error::{PatternError, PatternErrorKind};
pub use fields::{FieldRef, FieldValue, Fields};

use delimited::DelimitedPattern;
use json::JsonPattern;
use regex::AwsRegex;
use terms::TermsPattern;

/// The parsed forms of a filter pattern.
#[derive(Debug, Clone)]
enum Pattern {
    /// The empty pattern, or one that no message can fail (such as `" "`).
    Everything,
    /// Words, quoted phrases, `?` alternatives and `-` exclusions.
    Terms(TermsPattern),
    /// `%regex%`.
    Regex(AwsRegex),
    /// `{ ... }`.
    Json(JsonPattern),
    /// `[ ... ]`.
    Delimited(DelimitedPattern),
}

/// A compiled filter pattern: parse once, match many messages.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    pattern: Pattern,
}

impl FilterPattern {
    /// Parses and compiles `text`; an error carries the InvalidParameterException message.
    pub fn parse(text: &str) -> Result<FilterPattern, PatternError> {
        let text = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        let pattern = match text.chars().next() {
            None => Pattern::Everything,
            Some('{') if text.len() >= 2 && text.ends_with('}') => Pattern::Json(JsonPattern::parse(text)?),
            // AWS reports the missing brace before looking at anything else.
            Some('{') => return Err(PatternError::unclosed_json()),
            Some('[') if text.len() >= 2 && text.ends_with(']') => Pattern::Delimited(DelimitedPattern::parse(text)?),
            Some('[') => return Err(PatternError::unclosed('[', ']', "space-delimited pattern")),
            Some('%') if text.len() >= 2 && text.ends_with('%') => Pattern::Regex(AwsRegex::parse(&text[1..text.len() - 1])?),
            Some('%') => return Err(PatternError::unclosed('%', '%', "regular-expression pattern")),
            Some(_) => terms_or_everything(TermsPattern::parse(text)?),
        };
        Ok(FilterPattern { pattern })
    }

    /// True when the message matches. Does not allocate on the common paths (see the crate docs).
    pub fn matches(&self, message: &[u8]) -> bool {
        match &self.pattern {
            Pattern::Everything => true,
            Pattern::Terms(terms) => terms.matches(message),
            Pattern::Regex(regex) => regex.is_match(message),
            Pattern::Json(json) => json.matches(message),
            Pattern::Delimited(delimited) => delimited.matches(message),
        }
    }

    /// A byte string every matching message contains, when the pattern has one. A caller
    /// holding many messages in one buffer can search the buffer for it at memchr speed
    /// (as grep does) and run the pattern only on the messages that contain it.
    pub fn required_literal(&self) -> Option<&[u8]> {
        match &self.pattern {
            Pattern::Terms(terms) => terms.required_literal(),
            Pattern::Delimited(delimited) => delimited.required_literal(),
            Pattern::Everything | Pattern::Regex(_) | Pattern::Json(_) => None,
        }
    }

    /// True when every message matches, so callers may skip matching altogether.
    pub fn matches_everything(&self) -> bool {
        match &self.pattern {
            Pattern::Everything => true,
            Pattern::Delimited(delimited) => delimited.matches_everything(),
            Pattern::Terms(_) | Pattern::Regex(_) | Pattern::Json(_) => false,
        }
    }

    /// Matches `message` and, when it matches, returns the values metric transformations
    /// may read from it (see [`Fields`]); `None` when it does not match.
    pub fn extract<'a>(&self, message: &'a [u8]) -> Option<Fields<'a>> {
        match &self.pattern {
            Pattern::Json(json) => json.matches(message).then(|| Fields::json(message)),
            Pattern::Delimited(delimited) => delimited.extract(message).map(Fields::delimited),
            _ => self.matches(message).then(Fields::nothing),
        }
    }
}

/// Folds a terms pattern that constrains nothing into `Everything`, so callers can skip it.
fn terms_or_everything(terms: TermsPattern) -> Pattern {
    if terms.matches_everything() { Pattern::Everything } else { Pattern::Terms(terms) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The logs crate shares one compiled pattern between scanning threads.
    #[test]
    fn patterns_and_fields_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<FilterPattern>();
        send_sync::<FieldRef>();
        send_sync::<Fields<'static>>();
        send_sync::<PatternError>();
    }
}
