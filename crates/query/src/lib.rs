//! CloudWatch Logs filter patterns, as used by FilterLogEvents, metric filters,
//! subscription filters and Live Tail.
//!
//! Source: AWS, "Filter pattern syntax for metric filters, subscription filters, filter
//! log events, and Live Tail" (CloudWatch Logs User Guide, FilterAndPatternSyntax.html).
//!
//! This stage implements unstructured (term) patterns:
//! - an empty or all-whitespace pattern matches every event;
//! - terms are case-sensitive substrings of the raw message; all plain terms must occur;
//! - `"..."` is an exact phrase (spaces and punctuation included); any term with a
//!   character other than an ASCII letter, digit or `_` must be quoted, otherwise AWS's
//!   `Invalid character(s) in term '...'` error is returned; `" "` matches everything;
//! - `?term` terms are alternatives (at least one must occur), but are ignored entirely
//!   when the pattern also has plain or `-` terms, as AWS documents;
//! - `-term` excludes events containing the term.
//!
//! JSON (`{ ... }`), space-delimited (`[ ... ]`) and regular-expression (`%...%`)
//! patterns are refused with a "not supported by this server yet" error, never
//! silently treated as match-all.

mod error;
mod terms;

pub use error::{PatternError, PatternErrorKind};

use terms::TermsPattern;

/// The parsed forms of a filter pattern; JSON, space-delimited and regex forms slot in here.
#[derive(Debug, Clone)]
enum Pattern {
    /// The empty pattern, or one that no message can fail (such as `" "`).
    Everything,
    /// Words, quoted phrases, `?` alternatives and `-` exclusions.
    Terms(TermsPattern),
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
            Some('{') => return Err(refuse_json(text)),
            Some('[') => return Err(refuse_delimited(text)),
            Some('%') => return Err(refuse_regex(text)),
            Some(_) => terms_or_everything(TermsPattern::parse(text)?),
        };
        Ok(FilterPattern { pattern })
    }

    /// True when the message matches. Must not allocate per call on the common path.
    pub fn matches(&self, message: &[u8]) -> bool {
        match &self.pattern {
            Pattern::Everything => true,
            Pattern::Terms(terms) => terms.matches(message),
        }
    }

    /// True when every message matches, so callers may skip matching altogether.
    pub fn matches_everything(&self) -> bool {
        matches!(self.pattern, Pattern::Everything)
    }
}

/// Folds a terms pattern that constrains nothing into `Everything`, so callers can skip it.
fn terms_or_everything(terms: TermsPattern) -> Pattern {
    if terms.matches_everything() { Pattern::Everything } else { Pattern::Terms(terms) }
}

/// Checks the closing brace first because AWS reports that before anything else.
fn refuse_json(text: &str) -> PatternError {
    if text.ends_with('}') { PatternError::unsupported("JSON filter patterns ({ ... })") } else { PatternError::unclosed_json() }
}

fn refuse_delimited(text: &str) -> PatternError {
    if text.ends_with(']') {
        PatternError::unsupported("space-delimited filter patterns ([ ... ])")
    } else {
        PatternError::unclosed('[', ']', "space-delimited pattern")
    }
}

fn refuse_regex(text: &str) -> PatternError {
    if text.len() >= 2 && text.ends_with('%') {
        PatternError::unsupported("regular-expression filter patterns (%...%)")
    } else {
        PatternError::unclosed('%', '%', "regular-expression pattern")
    }
}
