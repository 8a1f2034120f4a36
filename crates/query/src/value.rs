//! Values on the right of `=`, `!=`, `<`, ... in JSON and space-delimited patterns, and
//! how they compare with what a log event holds.
//!
//! AWS's rules, from FilterAndPatternSyntax.html:
//! - strings may be quoted or not; "Strings that contain types other than alphanumeric
//!   characters and the underscore symbol must be placed in double quotation marks" — in
//!   practice AWS's own examples leave dots and wildcards unquoted (`123.123.*`,
//!   `*.html*`, CIS's `kms.amazonaws.com`), so the unquoted set here is letters, digits
//!   and `_ - . * + : /`; anything else (`@`, `$`, `\`, unicode, ...) must be quoted;
//! - `*` is a wildcard "at, before, or after a search term": `*Event`, `Event*` and
//!   `*html*` match by suffix, prefix and substring, while "`Ev*ent` will only match the
//!   actual string `Ev*ent`" (older edition of the page), so only a leading or trailing
//!   `*` is special; a bare `*` matches any value (`{ $.latency = * }`);
//! - numbers are "integers that contain plus or minus symbols and follow scientific
//!   notation": `+1000`, `55.5`, `10e-3`, `1e+3`; the numeric operators are
//!   `= != < <= > >=`, and only `=` and `!=` apply to strings;
//! - a `%regex%` may stand in for a string value.

use std::borrow::Cow;

use memchr::memmem::Finder;

use crate::error::PatternError;
use crate::expr::Cursor;
use crate::regex::AwsRegex;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    /// Reads an operator at the cursor, longest first so `<=` is not read as `<`.
    pub(crate) fn parse(cursor: &mut Cursor<'_>) -> Option<Op> {
        const OPS: [(&str, Op); 6] = [("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("=", Op::Eq), ("<", Op::Lt), (">", Op::Gt)];
        OPS.iter().find(|(token, _)| cursor.eat(token)).map(|&(_, op)| op)
    }

    fn is_equality(self) -> bool {
        matches!(self, Op::Eq | Op::Ne)
    }
}

/// Where the wildcards of a string value are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Exact,
    Prefix,
    Suffix,
    Contains,
}

/// A string value with its optional leading/trailing `*`.
#[derive(Debug, Clone)]
pub(crate) struct TextMatch {
    needle: Vec<u8>,
    shape: Shape,
    /// Substring searcher, built once for `*text*` values (boxed: it is large).
    finder: Option<Box<Finder<'static>>>,
}

impl TextMatch {
    /// Interprets a leading and a trailing `*` as wildcards; inner ones stay literal.
    fn literal(text: &str) -> Literal {
        let leading = text.starts_with('*');
        let trailing = text.len() > usize::from(leading) && text.ends_with('*');
        let core = &text[usize::from(leading)..text.len() - usize::from(trailing)];
        if (leading || trailing) && core.bytes().all(|b| b == b'*') {
            return Literal::Any;
        }
        let shape = match (leading, trailing) {
            (false, false) => Shape::Exact,
            (false, true) => Shape::Prefix,
            (true, false) => Shape::Suffix,
            (true, true) => Shape::Contains,
        };
        let needle = core.as_bytes().to_vec();
        let finder = (shape == Shape::Contains).then(|| Box::new(Finder::new(&needle).into_owned()));
        Literal::Text(TextMatch { needle, shape, finder })
    }

    fn matches(&self, text: &[u8]) -> bool {
        match self.shape {
            Shape::Exact => text == self.needle.as_slice(),
            Shape::Prefix => text.starts_with(&self.needle),
            Shape::Suffix => text.ends_with(&self.needle),
            Shape::Contains => self.finder.as_ref().is_some_and(|f| f.find(text).is_some()),
        }
    }
}

/// A numeric value as written (`+1000`, `10e-3`) and as a number.
#[derive(Debug, Clone)]
pub(crate) struct Number {
    value: f64,
    text: String,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    /// A bare `*`: any value.
    Any,
    /// A string, possibly with a leading and/or trailing wildcard.
    Text(TextMatch),
    /// An unquoted number.
    Number(Number),
    /// A `%regex%`.
    Regex(AwsRegex),
}

impl Literal {
    /// True when the value is a regular expression (AWS limits how many a pattern holds).
    pub(crate) fn is_regex(&self) -> bool {
        matches!(self, Literal::Regex(_))
    }

    /// Reads a value at the cursor: `"quoted"`, `%regex%`, a number, or an unquoted string.
    pub(crate) fn parse(cursor: &mut Cursor<'_>) -> Result<Literal, PatternError> {
        cursor.skip_ws();
        match cursor.peek() {
            Some('"') => Ok(TextMatch::literal(&parse_quoted(cursor)?)),
            Some('%') => {
                cursor.advance(1);
                let body = cursor.take_while(|c| c != '%');
                if !cursor.eat("%") {
                    return Err(PatternError::syntax(format_args!("the regular expression %{body} has no closing '%'")));
                }
                Ok(Literal::Regex(AwsRegex::parse(body)?))
            }
            _ => {
                let word = cursor.take_while(is_unquoted_char);
                match cursor.peek() {
                    None | Some(')' | '&' | '|' | ',') => {}
                    Some(c) if c.is_ascii_whitespace() => {}
                    Some(_) => {
                        return Err(PatternError::syntax(format_args!(
                            "the value {word}{} must be enclosed in double quotes",
                            cursor.rest().chars().take_while(|c| !c.is_ascii_whitespace() && !matches!(c, ')' | ',')).collect::<String>()
                        )));
                    }
                }
                if word.is_empty() {
                    return Err(PatternError::syntax(format_args!("expected a value but found {}", cursor.snippet())));
                }
                match parse_number(word.as_bytes(), true) {
                    Some(value) => Ok(Literal::Number(Number { value, text: word.to_owned() })),
                    None => Ok(TextMatch::literal(word)),
                }
            }
        }
    }
}

/// Characters an unquoted value may hold (see the module comment).
fn is_unquoted_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*' | '+' | ':' | '/')
}

/// Reads a double-quoted string; `\"` and `\\` are the escapes, as in term patterns.
pub(crate) fn parse_quoted(cursor: &mut Cursor<'_>) -> Result<String, PatternError> {
    let start = cursor.rest();
    cursor.advance(1);
    if let Some((text, end)) = unescape_to_quote(cursor.rest()) {
        cursor.advance(end + 1);
        return Ok(text);
    }
    let quoted: String = start.chars().take(30).collect();
    Err(PatternError::syntax(format_args!("unterminated quoted string {quoted}")))
}

/// The text of a quoted string up to its closing `"` (the byte index returned with it):
/// `\"` and `\\` stand for `"` and `\`, other backslashes are literal, as in every
/// pattern form. `None` when the quote is never closed.
pub(crate) fn unescape_to_quote(inner: &str) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((text, i)),
            '\\' => match chars.next() {
                Some((_, escaped @ ('"' | '\\'))) => text.push(escaped),
                Some((_, other)) => {
                    text.push('\\');
                    text.push(other);
                }
                None => return None,
            },
            _ => text.push(c),
        }
    }
    None
}

/// A value found in a log event, borrowed from the message.
#[derive(Debug, Clone)]
pub(crate) enum Scalar<'a> {
    /// A JSON string, unescaped.
    JsonString(Cow<'a, [u8]>),
    /// A JSON number, as written.
    JsonNumber(&'a [u8]),
    /// A JSON `true` or `false`.
    Bool(bool),
    /// A JSON `null`.
    Null,
    /// A space-delimited field.
    Field(&'a [u8]),
}

impl Scalar<'_> {
    /// The text string comparisons see; JSON booleans compare as `true`/`false`.
    fn text(&self) -> Option<&[u8]> {
        match self {
            Scalar::JsonString(s) => Some(s),
            Scalar::JsonNumber(raw) | Scalar::Field(raw) => Some(raw),
            Scalar::Bool(true) => Some(b"true"),
            Scalar::Bool(false) => Some(b"false"),
            Scalar::Null => None,
        }
    }

    /// The number numeric comparisons see. "Strings don't support scientific notation",
    /// so a JSON string counts as a number only when written as a plain decimal.
    fn number(&self) -> Option<f64> {
        match self {
            Scalar::JsonNumber(raw) | Scalar::Field(raw) => parse_number(raw, true),
            Scalar::JsonString(s) => parse_number(s, false),
            Scalar::Bool(_) | Scalar::Null => None,
        }
    }
}

/// An operator and its value, checked so that `<`, `<=`, `>` and `>=` only take numbers.
#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    op: Op,
    literal: Literal,
}

impl Comparison {
    /// Pairs an operator with its value, refusing what AWS documents as unsupported.
    pub(crate) fn new(op: Op, literal: Literal) -> Result<Self, PatternError> {
        if !op.is_equality() && !matches!(literal, Literal::Number(_)) {
            return Err(PatternError::syntax("the operators <, <=, > and >= need a number"));
        }
        Ok(Comparison { op, literal })
    }

    /// True when the value is a regular expression.
    pub(crate) fn is_regex(&self) -> bool {
        self.literal.is_regex()
    }

    /// Text that any value satisfying the comparison must contain: the non-empty core of
    /// an `=` string value (wildcards aside). Other comparisons have none.
    pub(crate) fn required_text(&self) -> Option<&[u8]> {
        match (&self.literal, self.op) {
            (Literal::Text(text), Op::Eq) if !text.needle.is_empty() => Some(&text.needle),
            _ => None,
        }
    }

    /// Whether the event's value satisfies the comparison. A null satisfies nothing:
    /// only `IS NULL` tests for it.
    pub(crate) fn test(&self, value: &Scalar<'_>) -> bool {
        if matches!(value, Scalar::Null) {
            return false;
        }
        match &self.literal {
            Literal::Number(number) => self.test_number(number, value),
            literal => {
                let equal = match literal {
                    Literal::Any => true,
                    Literal::Text(text) => value.text().is_some_and(|t| text.matches(t)),
                    Literal::Regex(regex) => value.text().is_some_and(|t| regex.is_match(t)),
                    Literal::Number(_) => false,
                };
                equal == (self.op == Op::Eq)
            }
        }
    }

    fn test_number(&self, number: &Number, value: &Scalar<'_>) -> bool {
        let Some(actual) = value.number() else {
            // Not a number (`-` in an access log's bytes field, "1e3" in a JSON string):
            // `=` falls back to comparing the text as written, `!=` is its negation, and
            // an ordering never holds.
            let equal = value.text() == Some(number.text.as_bytes());
            return match self.op {
                Op::Eq => equal,
                Op::Ne => !equal,
                _ => false,
            };
        };
        let expected = number.value;
        match self.op {
            Op::Eq => actual == expected,
            Op::Ne => actual != expected,
            Op::Lt => actual < expected,
            Op::Le => actual <= expected,
            Op::Gt => actual > expected,
            Op::Ge => actual >= expected,
        }
    }
}

/// Parses `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`, refusing what Rust's float
/// parser would otherwise accept (`inf`, `NaN`); exponents only when `exponent` is set.
pub(crate) fn parse_number(text: &[u8], exponent: bool) -> Option<f64> {
    let mut i = usize::from(matches!(text.first(), Some(b'+' | b'-')));
    let digits = |from: usize| text[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int = digits(i);
    i += int;
    let mut frac = 0;
    if text.get(i) == Some(&b'.') {
        frac = digits(i + 1);
        i += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    if exponent && matches!(text.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(text.get(i + 1), Some(b'+' | b'-')));
        let exp = digits(i + 1 + sign);
        if exp == 0 {
            return None;
        }
        i += 1 + sign + exp;
    }
    if i != text.len() {
        return None;
    }
    // The syntax is checked above, so the standard parser only does the conversion.
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(text: &str) -> Literal {
        Literal::parse(&mut Cursor::new(text)).unwrap()
    }

    fn cmp(op: Op, text: &str) -> Comparison {
        Comparison::new(op, literal(text)).unwrap()
    }

    #[test]
    fn numbers_follow_the_documented_syntax() {
        for (text, value) in
            [("400", 400.0), ("+1000", 1000.0), ("-5", -5.0), ("55.5", 55.5), ("10e3", 10e3), ("10e-3", 10e-3), ("1e+3", 1e3), (".5", 0.5)]
        {
            assert_eq!(parse_number(text.as_bytes(), true), Some(value), "{text}");
        }
        for text in ["", "+", "e3", "1e", "1e+", "inf", "NaN", "1.2.3", "12a", "0x10", "1 "] {
            assert_eq!(parse_number(text.as_bytes(), true), None, "{text}");
        }
        assert_eq!(parse_number(b"1e3", false), None);
    }

    #[test]
    fn wildcards_only_at_the_ends() {
        let field = |s: &'static str| Scalar::Field(s.as_bytes());
        assert!(cmp(Op::Eq, "*Event").test(&field("PutEvent")));
        assert!(cmp(Op::Eq, "Event*").test(&field("EventName")));
        assert!(cmp(Op::Eq, "*html*").test(&field("GET /index.html")));
        assert!(!cmp(Op::Eq, "Ev*ent").test(&field("Event")));
        assert!(cmp(Op::Eq, "Ev*ent").test(&field("Ev*ent")));
        assert!(matches!(literal("*"), Literal::Any));
        assert!(matches!(literal("**"), Literal::Any));
    }

    #[test]
    fn numeric_comparisons_parse_text_fields() {
        let bytes = Scalar::Field(b"1534");
        assert!(cmp(Op::Gt, "1000").test(&bytes));
        assert!(!cmp(Op::Lt, "1000").test(&bytes));
        assert!(cmp(Op::Ne, "1000").test(&Scalar::Field(b"-")));
        assert!(!cmp(Op::Gt, "1000").test(&Scalar::Field(b"-")));
    }

    #[test]
    fn ordering_needs_a_number() {
        assert!(Comparison::new(Op::Gt, literal("abc")).is_err());
        assert!(Comparison::new(Op::Lt, literal("\"5\"")).is_err());
        assert!(Comparison::new(Op::Ge, literal("*")).is_err());
    }

    #[test]
    fn special_characters_need_quotes() {
        assert!(Literal::parse(&mut Cursor::new("john@example.com")).is_err());
        assert!(Literal::parse(&mut Cursor::new("a$b")).is_err());
        assert!(matches!(literal("\"john@example.com\""), Literal::Text(_)));
    }
}
