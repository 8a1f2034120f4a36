//! `%regex%` patterns: AWS's restricted regular-expression subset, checked and translated
//! to the `regex` crate's syntax so that a pattern AWS refuses is refused here too, and
//! one it accepts means the same thing.
//!
//! From "Supported regular expressions (regex) syntax" (FilterAndPatternSyntax.html):
//! - allowed: letters, digits, the symbols `: _ # = @ / ; , -` and the operators
//!   `^ $ ? [ ] { } | \ * + .` ("`%something!%` would be rejected since `!` is not
//!   supported"); the page's own example `%^starting|^initializing|^shutting down%` holds
//!   a space, so a space is accepted as a literal too;
//! - "The `(` and `)` operators are not supported"; "Multi-byte characters are not
//!   supported";
//! - `{m,n}`: "Either m or n can be omitted";
//! - `\d \D \s \S \w \W` are ASCII classes (`\w` is `[a-zA-Z_0-9]`, whitespace is tab,
//!   space and newline); `\xhh` is an ASCII character ("`%\x28%` matches `(`"); `\`
//!   before an operator or symbol makes it literal.
//!
//! Matching is a case-sensitive search anywhere in the value (`%AUTHORIZED%` matches
//! `[ERROR 401] UNAUTHORIZED REQUEST`). `^` and `$` anchor to the start and end of the
//! whole value; `$` also allows one final line break, as Java's (and so AWS's) does.

use std::fmt::Write as _;

use regex::bytes::{Regex, RegexBuilder};

use crate::error::PatternError;

/// A compiled `%...%` expression.
#[derive(Debug, Clone)]
pub(crate) struct AwsRegex {
    regex: Regex,
}

impl AwsRegex {
    /// Checks `body` (the text between the `%` signs) against AWS's subset and compiles it.
    pub(crate) fn parse(body: &str) -> Result<Self, PatternError> {
        if body.is_empty() {
            return Err(PatternError::regex(body, "the expression is empty"));
        }
        let translated = translate(body)?;
        // Bounded so that `a{1000}{1000}`-style patterns fail at parse time instead of
        // eating memory; real filter patterns are far below it.
        let regex = RegexBuilder::new(&translated)
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 21)
            .build()
            .map_err(|e| PatternError::regex(body, first_line(&e.to_string())))?;
        Ok(AwsRegex { regex })
    }

    /// True when the expression matches somewhere in `haystack`.
    pub(crate) fn is_match(&self, haystack: &[u8]) -> bool {
        self.regex.is_match(haystack)
    }
}

/// The regex crate's messages span several lines; the first one says what is wrong.
fn first_line(message: &str) -> String {
    let line = message.lines().rev().find(|l| l.trim_start().starts_with("error:")).unwrap_or(message);
    line.trim().trim_start_matches("error:").trim().to_owned()
}

/// ASCII whitespace as the regex crate's `(?-u:\s)` has it.
const SPACE_CLASS: &str = r"\t\n\x0B\x0C\r\x20";
const DIGIT_CLASS: &str = "0-9";
const WORD_CLASS: &str = "0-9A-Za-z_";

/// Symbols that are literal characters in AWS's subset.
fn is_symbol(c: char) -> bool {
    matches!(c, ':' | '_' | '#' | '=' | '@' | '/' | ';' | ',' | '-' | ' ')
}

/// Characters with an operator meaning in AWS's subset.
fn is_operator(c: char) -> bool {
    matches!(c, '^' | '$' | '?' | '[' | ']' | '{' | '}' | '|' | '\\' | '*' | '+' | '.')
}

/// Emits `c` as an escaped literal, immune to any meaning it has in the regex crate.
fn push_literal(out: &mut String, c: u8) {
    if c.is_ascii_alphanumeric() {
        out.push(char::from(c));
    } else {
        let _ = write!(out, r"\x{c:02X}");
    }
}

/// Translates AWS's syntax to the regex crate's, refusing what AWS refuses.
fn translate(body: &str) -> Result<String, PatternError> {
    let bad = |detail: String| PatternError::regex(body, detail);
    if let Some(c) = body.chars().find(|c| !c.is_ascii()) {
        return Err(bad(format!("multi-byte characters such as '{c}' are not supported")));
    }
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len() * 2);
    let mut i = 0;
    while i < bytes.len() {
        let c = char::from(bytes[i]);
        i += 1;
        match c {
            '(' | ')' => return Err(bad("the ( and ) operators are not supported".to_owned())),
            '\\' => i = translate_escape(body, i, &mut out, false)?,
            '[' => i = translate_class(body, i, &mut out)?,
            '{' => i = translate_repetition(body, i, &mut out)?,
            '}' | ']' => return Err(bad(format!("unmatched '{c}'"))),
            // Java's `$` also matches before a final line terminator.
            '$' => out.push_str(r"(?:\r?\n)?$"),
            '^' | '?' | '|' | '*' | '+' | '.' => out.push(c),
            c if c.is_ascii_alphanumeric() || is_symbol(c) => push_literal(&mut out, bytes[i - 1]),
            c => return Err(bad(format!("the character '{}' is not supported", c.escape_default()))),
        }
    }
    Ok(out)
}

/// Translates the escape whose backslash ends just before `i`; returns the next index.
/// Inside a character class the shorthand classes are emitted without their brackets.
fn translate_escape(body: &str, i: usize, out: &mut String, in_class: bool) -> Result<usize, PatternError> {
    let bytes = body.as_bytes();
    let Some(&next) = bytes.get(i) else {
        return Err(PatternError::regex(body, "a trailing '\\' escapes nothing"));
    };
    let class = |set: &str, negated: bool| match (in_class, negated) {
        (true, false) => set.to_owned(),
        (_, true) => format!("[^{set}]"),
        (false, false) => format!("[{set}]"),
    };
    let emitted = match next {
        b'd' => class(DIGIT_CLASS, false),
        b'D' => class(DIGIT_CLASS, true),
        b's' => class(SPACE_CLASS, false),
        b'S' => class(SPACE_CLASS, true),
        b'w' => class(WORD_CLASS, false),
        b'W' => class(WORD_CLASS, true),
        b'x' => {
            let hex = body.get(i + 1..i + 3).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
            let value = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).filter(u8::is_ascii);
            let Some(value) = value else {
                return Err(PatternError::regex(body, "\\x must be followed by two hexadecimal digits of an ASCII character"));
            };
            let mut s = String::new();
            push_literal(&mut s, value);
            out.push_str(&s);
            return Ok(i + 3);
        }
        c if is_operator(char::from(c)) || is_symbol(char::from(c)) => {
            let mut s = String::new();
            push_literal(&mut s, c);
            s
        }
        c => {
            return Err(PatternError::regex(body, format!("the escape \\{} is not supported", char::from(c).escape_default())));
        }
    };
    out.push_str(&emitted);
    Ok(i + 1)
}

/// Translates a character class whose `[` ends just before `i`; returns the index after `]`.
fn translate_class(body: &str, mut i: usize, out: &mut String) -> Result<usize, PatternError> {
    let bytes = body.as_bytes();
    out.push('[');
    if bytes.get(i) == Some(&b'^') {
        out.push('^');
        i += 1;
    }
    let mut items = 0;
    loop {
        let Some(&c) = bytes.get(i) else {
            return Err(PatternError::regex(body, "a '[' character class is not closed"));
        };
        i += 1;
        match c {
            b']' if items > 0 => break,
            b']' => return Err(PatternError::regex(body, "empty character class")),
            b'\\' => i = translate_escape(body, i, out, true)?,
            b'[' | b'(' | b')' => {
                return Err(PatternError::regex(body, format!("'{}' is not allowed in a character class", char::from(c))));
            }
            // A range `a-z`: the dash is special only between two plain characters.
            c if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(|&e| e != b']') => {
                let end = bytes[i + 1];
                if end == b'\\' || end == b'[' {
                    return Err(PatternError::regex(body, "a range must end with a plain character"));
                }
                if end < c {
                    return Err(PatternError::regex(body, format!("the range {}-{} is out of order", char::from(c), char::from(end))));
                }
                check_class_char(body, c)?;
                check_class_char(body, end)?;
                push_literal(out, c);
                out.push('-');
                push_literal(out, end);
                i += 2;
            }
            c => {
                check_class_char(body, c)?;
                push_literal(out, c);
            }
        }
        items += 1;
    }
    out.push(']');
    Ok(i)
}

/// A character inside `[...]` must still be one AWS allows.
fn check_class_char(body: &str, c: u8) -> Result<(), PatternError> {
    let ch = char::from(c);
    if ch.is_ascii_alphanumeric() || is_symbol(ch) || is_operator(ch) {
        Ok(())
    } else {
        Err(PatternError::regex(body, format!("the character '{}' is not supported", ch.escape_default())))
    }
}

/// Translates `{m}`, `{m,n}`, `{m,}` or `{,n}` whose `{` ends just before `i`.
fn translate_repetition(body: &str, i: usize, out: &mut String) -> Result<usize, PatternError> {
    let Some(len) = body[i..].find('}') else {
        return Err(PatternError::regex(body, "a '{' repetition is not closed"));
    };
    let inner: String = body[i..i + len].chars().filter(|c| *c != ' ').collect();
    let number = |s: &str| -> Result<Option<u32>, PatternError> {
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<u32>() {
            Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
            _ => Err(PatternError::regex(body, format!("'{{{inner}}}' is not a repetition count"))),
        }
    };
    let (min, max) = match inner.split_once(',') {
        None => match number(&inner)? {
            Some(n) => (Some(n), Some(n)),
            None => return Err(PatternError::regex(body, "empty repetition '{}'")),
        },
        Some((lo, hi)) => (number(lo)?, number(hi)?),
    };
    match (min, max) {
        (None, None) => return Err(PatternError::regex(body, format!("'{{{inner}}}' gives no bound"))),
        (Some(lo), Some(hi)) if lo > hi => {
            return Err(PatternError::regex(body, format!("'{{{inner}}}' has its minimum above its maximum")));
        }
        (Some(lo), Some(hi)) if lo == hi && !inner.contains(',') => {
            let _ = write!(out, "{{{lo}}}");
        }
        (lo, Some(hi)) => {
            let _ = write!(out, "{{{},{hi}}}", lo.unwrap_or(0));
        }
        (Some(lo), None) => {
            let _ = write!(out, "{{{lo},}}");
        }
    }
    Ok(i + len + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(body: &str) -> AwsRegex {
        AwsRegex::parse(body).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn refused(body: &str) -> String {
        AwsRegex::parse(body).map(|_| ()).expect_err(body).message().to_owned()
    }

    #[test]
    fn translates_documented_operators() {
        assert!(re("^[hc]at").is_match(b"hat trick"));
        assert!(!re("^[hc]at").is_match(b"that"));
        assert!(re("[hc]at$").is_match(b"a cat"));
        assert!(re("[hc]at$").is_match(b"a cat\n"));
        assert!(re("colou?r").is_match(b"color"));
        assert!(re("a{3,5}").is_match(b"aaaa"));
        assert!(re("^a{,2}b").is_match(b"b"));
        assert!(re("^a{2,}b").is_match(b"aaab"));
        assert!(!re("^a{2,}b").is_match(b"ab"));
        assert!(re(r"\[.\]").is_match(b"[@]"));
        assert!(re(r"\x3A").is_match(b"a:b"));
        assert!(re(r"\x28").is_match(b"f(x)"));
        assert!(re(r"[\d\s]x").is_match(b" x"));
    }

    #[test]
    fn refuses_what_aws_refuses() {
        assert!(refused("something!").contains("'!'"));
        assert!(refused("(ab)+").contains("( and )"));
        assert!(refused("café").contains("multi-byte"));
        assert!(refused(r"\q").contains("\\q"));
        assert!(refused("[abc").contains("not closed"));
        assert!(refused("a{5,3}").contains("minimum"));
        assert!(refused("*a").contains("repetition"));
        assert!(refused(r"\x80").contains("ASCII"));
        assert!(refused("").contains("empty"));
    }

    #[test]
    fn symbols_are_literal_even_where_the_regex_crate_gives_them_meaning() {
        assert!(re("a#b").is_match(b"a#b"));
        assert!(re("[a-c-]").is_match(b"-"));
        assert!(re("[-a]").is_match(b"-"));
    }
}
