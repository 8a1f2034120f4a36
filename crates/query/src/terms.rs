//! Unstructured patterns: words, quoted phrases, `?` alternatives and `-` exclusions.
//!
//! Every term is a case-sensitive substring test on the raw message bytes (AWS's own
//! example: `ERROR` matches `Exiting with ERRORCODE: -1`), so each one compiles to a
//! `memchr` substring finder once, and matching an event allocates nothing.

use memchr::memmem::Finder;

use crate::error::PatternError;

/// How a term takes part in the match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Plain term: must occur.
    Required,
    /// `?term`: at least one of these must occur.
    Optional,
    /// `-term`: must not occur.
    Excluded,
}

/// A term as written, before compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawTerm {
    role: Role,
    text: String,
}

/// One compiled term: a substring searcher that owns its needle.
#[derive(Debug, Clone)]
struct Term {
    finder: Finder<'static>,
}

impl Term {
    fn new(text: &str) -> Self {
        Term { finder: Finder::new(text.as_bytes()).into_owned() }
    }

    fn occurs_in(&self, message: &[u8]) -> bool {
        self.finder.find(message).is_some()
    }
}

/// A compiled unstructured pattern.
#[derive(Debug, Clone)]
pub(crate) struct TermsPattern {
    required: Vec<Term>,
    excluded: Vec<Term>,
    /// Empty means no alternative group (or one that every message satisfies).
    any_of: Vec<Term>,
}

impl TermsPattern {
    /// Lexes and compiles `text`, which the caller knows is not a JSON, `[...]` or `%...%` form.
    pub(crate) fn parse(text: &str) -> Result<Self, PatternError> {
        Ok(Self::compile(lex(text)?))
    }

    /// True when every message matches, so callers may skip matching.
    pub(crate) fn matches_everything(&self) -> bool {
        self.required.is_empty() && self.excluded.is_empty() && self.any_of.is_empty()
    }

    /// The longest term every matching message contains.
    pub(crate) fn required_literal(&self) -> Option<&[u8]> {
        self.required.iter().map(|t| t.finder.needle()).filter(|n| !n.is_empty()).max_by_key(|n| n.len())
    }

    /// True when the message satisfies every rule of the pattern.
    pub(crate) fn matches(&self, message: &[u8]) -> bool {
        self.required.iter().all(|t| t.occurs_in(message))
            && !self.excluded.iter().any(|t| t.occurs_in(message))
            && (self.any_of.is_empty() || self.any_of.iter().any(|t| t.occurs_in(message)))
    }

    fn compile(raw: Vec<RawTerm>) -> Self {
        // AWS: "If you combine "?" with other filter patterns, all question mark terms
        // will be ignored." So `?A ?B C` means `C`, and `?A -B` means `-B`.
        let ignore_optional = raw.iter().any(|t| t.role != Role::Optional);
        let mut pattern = TermsPattern { required: Vec::new(), excluded: Vec::new(), any_of: Vec::new() };
        let mut any_of_always_true = false;
        for term in raw {
            // The empty needle (from a blank phrase like `" "`) occurs in every message.
            let everywhere = term.text.is_empty();
            match term.role {
                Role::Required if everywhere => {}
                Role::Required => pattern.required.push(Term::new(&term.text)),
                // An empty excluded needle is kept: it rightly rejects every message.
                Role::Excluded => pattern.excluded.push(Term::new(&term.text)),
                Role::Optional if ignore_optional => {}
                Role::Optional => {
                    any_of_always_true |= everywhere;
                    pattern.any_of.push(Term::new(&term.text));
                }
            }
        }
        if any_of_always_true {
            pattern.any_of.clear();
        }
        pattern
    }
}

/// Whitespace that separates terms.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Characters allowed in an unquoted term: AWS says any other must be quoted.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits the pattern into terms, in order.
fn lex(text: &str) -> Result<Vec<RawTerm>, PatternError> {
    let mut terms = Vec::new();
    let mut rest = text.trim_start_matches(is_space);
    while !rest.is_empty() {
        let (term, after) = lex_term(rest)?;
        terms.push(term);
        rest = after.trim_start_matches(is_space);
    }
    Ok(terms)
}

/// Lexes one term (optional `?`/`-`, then a word or a quoted phrase) at the start of `input`.
fn lex_term(input: &str) -> Result<(RawTerm, &str), PatternError> {
    let (role, body) = split_role(input);
    let (text, after) = match body.chars().next() {
        Some('"') => lex_quoted(body)?,
        Some(_) => lex_word(body)?,
        // Only a bare `?` or `-` leaves nothing after the prefix.
        None => {
            return Err(PatternError::missing_term(input.chars().next().unwrap_or('-')));
        }
    };
    require_separator(after)?;
    Ok((RawTerm { role, text }, after))
}

/// Reads a leading `?` or `-`. AWS's own example `"ERROR" - "Exiting"` puts whitespace
/// between the minus and its term, so whitespace is allowed there.
fn split_role(input: &str) -> (Role, &str) {
    let role = match input.chars().next() {
        Some('?') => Role::Optional,
        Some('-') => Role::Excluded,
        _ => return (Role::Required, input),
    };
    (role, input[1..].trim_start_matches(is_space))
}

/// Reads an unquoted term; any non-word character in it is an error, as on AWS.
fn lex_word(body: &str) -> Result<(String, &str), PatternError> {
    let end = body.find(|c| !is_word_char(c)).unwrap_or(body.len());
    if end == 0 {
        return Err(PatternError::invalid_characters(invalid_run(body)));
    }
    let after = &body[end..];
    match after.chars().next() {
        Some(c) if !is_space(c) && c != '"' => Err(PatternError::invalid_characters(invalid_run(after))),
        _ => Ok((body[..end].to_owned(), after)),
    }
}

/// The offending characters AWS quotes in its message: from the first bad character up
/// to the next word character, whitespace or double quote (`Status:` gives `':'`,
/// `level\":\"error` gives `'\'`, as AWS reports them).
fn invalid_run(bad: &str) -> &str {
    let first = bad.chars().next().map_or(0, char::len_utf8);
    let rest = bad[first..].find(|c| is_word_char(c) || is_space(c) || c == '"').unwrap_or(bad.len() - first);
    &bad[..first + rest]
}

/// Reads a double-quoted phrase at the start of `body`. `\"` and `\\` stand for `"` and
/// `\`, which is how users match JSON-escaped text on AWS; other backslashes are literal.
fn lex_quoted(body: &str) -> Result<(String, &str), PatternError> {
    let inner = &body[1..];
    // AWS (2025) answers `""` with "Invalid character(s) in term '""'".
    if inner.starts_with('"') {
        return Err(PatternError::invalid_characters("\"\""));
    }
    match crate::value::unescape_to_quote(inner) {
        Some((text, end)) => Ok((blank_to_empty(text), &inner[end + 1..])),
        None => Err(PatternError::unterminated_quote(body)),
    }
}

/// AWS documents `" "` as the pattern that matches every event, so a blank phrase
/// becomes the empty needle, which occurs in every message.
fn blank_to_empty(text: String) -> String {
    if text.chars().all(is_space) { String::new() } else { text }
}

/// After a term there must be whitespace or the end: `ERROR"x"` or `"a""b"` are refused
/// rather than guessed at.
fn require_separator(after: &str) -> Result<(), PatternError> {
    match after.chars().next() {
        Some(c) if !is_space(c) => Err(PatternError::missing_separator(invalid_run(after))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PatternErrorKind;

    fn raw(role: Role, text: &str) -> RawTerm {
        RawTerm { role, text: text.to_owned() }
    }

    fn lex_err(text: &str) -> PatternError {
        lex(text).expect_err(text)
    }

    #[test]
    fn lexes_words_phrases_and_prefixes_in_order() {
        let terms = lex(r#"ERROR ?WARN -"exit code -1" "a b""#).unwrap();
        assert_eq!(
            terms,
            vec![
                raw(Role::Required, "ERROR"),
                raw(Role::Optional, "WARN"),
                raw(Role::Excluded, "exit code -1"),
                raw(Role::Required, "a b"),
            ]
        );
    }

    #[test]
    fn any_ascii_whitespace_separates_terms() {
        let terms = lex(" \tA\n\rB  ").unwrap();
        assert_eq!(terms, vec![raw(Role::Required, "A"), raw(Role::Required, "B")]);
    }

    #[test]
    fn whitespace_between_prefix_and_term_is_allowed() {
        assert_eq!(lex(r#"- "Exiting""#).unwrap(), vec![raw(Role::Excluded, "Exiting")]);
        assert_eq!(lex("? WARN").unwrap(), vec![raw(Role::Optional, "WARN")]);
    }

    #[test]
    fn escapes_in_quoted_phrases() {
        let terms = lex(r#""say \"hi\"" "a\\b" "C:\Users""#).unwrap();
        assert_eq!(terms, vec![raw(Role::Required, r#"say "hi""#), raw(Role::Required, r"a\b"), raw(Role::Required, r"C:\Users"),]);
    }

    #[test]
    fn blank_phrase_becomes_empty_needle_but_inner_spaces_are_kept() {
        assert_eq!(lex(r#"" ""#).unwrap(), vec![raw(Role::Required, "")]);
        assert_eq!(lex("\"\t\"").unwrap(), vec![raw(Role::Required, "")]);
        assert_eq!(lex(r#"" a ""#).unwrap(), vec![raw(Role::Required, " a ")]);
    }

    #[test]
    fn invalid_run_stops_where_aws_stops() {
        assert_eq!(invalid_run(": timeout"), ":");
        assert_eq!(invalid_run(r#"\":\"error"#), r"\");
        assert_eq!(invalid_run("@@x"), "@@");
        assert_eq!(invalid_run("é"), "é");
        assert_eq!(invalid_run("-"), "-");
    }

    #[test]
    fn unquoted_special_characters_are_refused_with_aws_message() {
        let cases = [
            ("?Status: timeout", ":"),
            ("email@domain.com", "@"),
            ("10.0.0.5", "."),
            (r#"level\":\"error"#, r"\"),
            ("ERROR-CODE", "-"),
            ("café", "é"),
            ("--ERROR", "-"),
            ("?-ERROR", "-"),
            ("ERROR %foo%", "%"),
            ("(reason", "("),
        ];
        for (pattern, run) in cases {
            let err = lex_err(pattern);
            assert_eq!(err.kind(), PatternErrorKind::InvalidCharacters, "{pattern}");
            assert_eq!(err.message(), format!("Invalid character(s) in term '{run}'"), "{pattern}");
        }
    }

    #[test]
    fn empty_quotes_are_refused_as_aws_does() {
        let err = lex_err(r#""""#);
        assert_eq!(err.message(), r#"Invalid character(s) in term '""'"#);
    }

    #[test]
    fn unterminated_quotes_are_refused() {
        for pattern in [r#""ERROR"#, r#"ERROR "foo bar"#, r#""abc\""#, r#""abc\"#, "\""] {
            assert_eq!(lex_err(pattern).kind(), PatternErrorKind::UnterminatedQuote, "{pattern}");
        }
    }

    #[test]
    fn operator_without_term_is_refused() {
        for (pattern, op) in [("-", '-'), ("?", '?'), ("ERROR -", '-'), ("ERROR ?  ", '?')] {
            let err = lex_err(pattern);
            assert_eq!(err.kind(), PatternErrorKind::MissingTerm, "{pattern}");
            assert_eq!(err.message(), format!("Invalid filter pattern: '{op}' must be followed by a term"));
        }
    }

    #[test]
    fn touching_terms_are_refused() {
        for pattern in [r#""a""b""#, r#""a"b"#, r#"ERROR"x""#] {
            assert_eq!(lex_err(pattern).kind(), PatternErrorKind::MissingSeparator, "{pattern}");
        }
    }

    #[test]
    fn compile_drops_optional_terms_when_mixed() {
        let p = TermsPattern::compile(vec![raw(Role::Optional, "A"), raw(Role::Required, "B")]);
        assert!(p.any_of.is_empty());
        assert_eq!(p.required.len(), 1);
    }

    #[test]
    fn compile_keeps_optional_terms_when_alone() {
        let p = TermsPattern::compile(vec![raw(Role::Optional, "A"), raw(Role::Optional, "B")]);
        assert_eq!(p.any_of.len(), 2);
    }

    #[test]
    fn compile_normalises_blank_terms() {
        assert!(TermsPattern::compile(vec![raw(Role::Required, "")]).matches_everything());
        let any = TermsPattern::compile(vec![raw(Role::Optional, ""), raw(Role::Optional, "A")]);
        assert!(any.matches_everything());
        let none = TermsPattern::compile(vec![raw(Role::Excluded, "")]);
        assert!(!none.matches_everything());
        assert!(!none.matches(b"anything"));
        assert!(!none.matches(b""));
    }
}
