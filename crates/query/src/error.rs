//! Why a filter pattern was refused, worded the way CloudWatch Logs words it.
//!
//! AWS answers a bad `filterPattern` with `InvalidParameterException`. Observed messages:
//! `Invalid filter pattern` (FilterLogEvents), `Invalid character(s) in term ':'`
//! (FilterLogEvents, PutMetricFilter, PutSubscriptionFilter), `Invalid filter pattern:
//! Invalid character(s) in term '""'` (StartLiveTail) and `If a filter pattern starts with
//! '{' it must end with '}'` (FilterLogEvents). We reuse those texts where they apply and
//! use the `Invalid filter pattern: <detail>` shape for everything else.

/// What kind of mistake made a pattern invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// An unquoted term holds a character other than an ASCII letter, digit or `_`.
    InvalidCharacters,
    /// A quoted phrase has no closing double quote.
    UnterminatedQuote,
    /// A `?` or `-` has no term after it.
    MissingTerm,
    /// Two terms touch with no whitespace between them.
    MissingSeparator,
    /// A `{`, `[` or `%` form is not closed at the end of the pattern.
    Unclosed,
    /// A JSON or space-delimited pattern that does not follow the grammar.
    Syntax,
    /// A JSON property selector (`$.a.b[0]`) that is malformed.
    InvalidSelector,
    /// A `%...%` regular expression outside the subset AWS accepts.
    InvalidRegex,
    /// A documented per-pattern limit (wildcard selectors, regular expressions) is exceeded.
    LimitExceeded,
}

/// Why a pattern is invalid; `message()` is the text for InvalidParameterException.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PatternError {
    kind: PatternErrorKind,
    message: String,
}

impl PatternError {
    /// The message to send back in the InvalidParameterException.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The kind of mistake, for callers and tests that must not depend on wording.
    pub fn kind(&self) -> PatternErrorKind {
        self.kind
    }

    fn new(kind: PatternErrorKind, message: String) -> Self {
        PatternError { kind, message }
    }

    /// AWS's own wording; `run` is the offending characters, as AWS quotes them.
    pub(crate) fn invalid_characters(run: &str) -> Self {
        Self::new(PatternErrorKind::InvalidCharacters, format!("Invalid character(s) in term '{run}'"))
    }

    pub(crate) fn unterminated_quote(phrase: &str) -> Self {
        Self::new(PatternErrorKind::UnterminatedQuote, format!("Invalid filter pattern: unterminated quoted phrase {phrase}"))
    }

    pub(crate) fn missing_term(operator: char) -> Self {
        Self::new(PatternErrorKind::MissingTerm, format!("Invalid filter pattern: '{operator}' must be followed by a term"))
    }

    pub(crate) fn missing_separator(after: &str) -> Self {
        Self::new(PatternErrorKind::MissingSeparator, format!("Invalid filter pattern: expected whitespace before '{after}'"))
    }

    /// AWS's own wording for a JSON pattern without its closing brace.
    pub(crate) fn unclosed_json() -> Self {
        Self::new(PatternErrorKind::Unclosed, "If a filter pattern starts with '{' it must end with '}'".to_owned())
    }

    pub(crate) fn unclosed(open: char, close: char, form: &str) -> Self {
        Self::new(PatternErrorKind::Unclosed, format!("Invalid filter pattern: a {form} that starts with '{open}' must end with '{close}'"))
    }

    /// A grammar mistake in a JSON or space-delimited pattern; `detail` says what was expected.
    pub(crate) fn syntax(detail: impl std::fmt::Display) -> Self {
        Self::new(PatternErrorKind::Syntax, format!("Invalid filter pattern: {detail}"))
    }

    /// A malformed JSON property selector.
    pub(crate) fn selector(selector: &str, detail: &str) -> Self {
        Self::new(PatternErrorKind::InvalidSelector, format!("Invalid filter pattern: invalid property selector '{selector}': {detail}"))
    }

    /// A regular expression AWS would refuse.
    pub(crate) fn regex(regex: &str, detail: impl std::fmt::Display) -> Self {
        Self::new(PatternErrorKind::InvalidRegex, format!("Invalid filter pattern: invalid regular expression %{regex}%: {detail}"))
    }

    /// A documented quota exceeded.
    pub(crate) fn limit(detail: &str) -> Self {
        Self::new(PatternErrorKind::LimitExceeded, format!("Invalid filter pattern: {detail}"))
    }
}
