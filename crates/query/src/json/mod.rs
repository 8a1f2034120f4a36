//! JSON patterns: `{ $.eventType = "UpdateTrail" }`, `{ $.latency > 1000 }`,
//! `{ $.SomeObject IS NULL }`, `{ ($.a = 1) && ($.b = x || $.c NOT EXISTS) }`.
//!
//! Semantics, from "Using filter patterns to match terms in JSON log events":
//! - only a message that is one valid JSON object can match;
//! - "If a property selector points to an array or object, the filter pattern won't
//!   match the log format": both `=` and `!=` are false there, and on a missing property;
//! - `IS NULL`, `IS TRUE`, `IS FALSE` test the value; `NOT EXISTS` holds when the
//!   selector reaches nothing; "The variables `IS NOT` and `EXISTS` currently aren't
//!   supported", so they are refused;
//! - a wildcard selector (`$.*`, `[*]`) holds when any value it reaches satisfies the
//!   condition; at most one wildcard per selector and three per pattern;
//! - at most two `%regex%` values per pattern (the page's quota for JSON patterns).

mod scan;
pub(crate) mod selector;

use memchr::memmem::Finder;

use crate::error::PatternError;
use crate::expr::{Cursor, Expr};
use crate::value::{Comparison, Literal, Op, Scalar};

pub(crate) use scan::{Kind, Value, root as json_root, unescape};
use selector::Selector;

/// AWS: "up to three wildcard selectors in a filter pattern with compound expressions".
const MAX_WILDCARDS: usize = 3;
/// AWS: "a limit of 2 regex for each filter pattern when creating a delimited or JSON
/// filter pattern".
pub(crate) const MAX_REGEXES: usize = 2;

/// What a condition checks about the selected value.
#[derive(Debug, Clone)]
enum Test {
    Compare(Comparison),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// `selector test`, e.g. `$.latency >= 500` or `$.SomeObject IS NULL`.
#[derive(Debug, Clone)]
struct Condition {
    selector: Selector,
    test: Test,
    /// `"key"` for the selector's last property name: absent from a message without
    /// escapes, the property is absent from the document.
    key_needle: Option<Box<Finder<'static>>>,
    /// The text an `=` string value requires: absent from a message without escapes, no
    /// value can equal it.
    value_needle: Option<Box<Finder<'static>>>,
}

impl Condition {
    fn new(selector: Selector, test: Test) -> Self {
        let key_needle = selector.last_key().map(|k| Box::new(Finder::new(format!("\"{k}\"").as_bytes()).into_owned()));
        let value_needle = match &test {
            Test::Compare(cmp) => cmp.required_text().map(|t| Box::new(Finder::new(t).into_owned())),
            _ => None,
        };
        Condition { selector, test, key_needle, value_needle }
    }

    /// Whether the condition holds; `plain` says the message has no backslash, so its
    /// raw bytes spell its keys and strings and the substring prefilters apply.
    fn holds(&self, doc: &[u8], root: Value<'_>, plain: bool) -> bool {
        if plain {
            if self.key_needle.as_ref().is_some_and(|k| k.find(doc).is_none()) {
                return matches!(self.test, Test::NotExists);
            }
            if self.value_needle.as_ref().is_some_and(|v| v.find(doc).is_none()) {
                return false;
            }
        }
        let kind_is = |kind: Kind| move |v: Value<'_>| v.kind == kind;
        match &self.test {
            Test::NotExists => !self.selector.any(doc, root, &mut |_| true),
            Test::IsNull => self.selector.any(doc, root, &mut kind_is(Kind::Null)),
            Test::IsTrue => self.selector.any(doc, root, &mut kind_is(Kind::True)),
            Test::IsFalse => self.selector.any(doc, root, &mut kind_is(Kind::False)),
            Test::Compare(cmp) => self.selector.any(doc, root, &mut |v| scalar(v).is_some_and(|s| cmp.test(&s))),
        }
    }
}

/// The comparable form of a JSON value; objects and arrays have none.
pub(crate) fn scalar(value: Value<'_>) -> Option<Scalar<'_>> {
    Some(match value.kind {
        Kind::String => Scalar::JsonString(unescape(value.raw)),
        Kind::Number => Scalar::JsonNumber(value.raw),
        Kind::True => Scalar::Bool(true),
        Kind::False => Scalar::Bool(false),
        Kind::Null => Scalar::Null,
        Kind::Object | Kind::Array => return None,
    })
}

/// A compiled JSON pattern.
#[derive(Debug, Clone)]
pub(crate) struct JsonPattern {
    expr: Expr<Condition>,
}

impl JsonPattern {
    /// Parses `text`, which the caller knows starts with `{` and ends with `}`.
    pub(crate) fn parse(text: &str) -> Result<Self, PatternError> {
        let inner = &text[1..text.len() - 1];
        let mut cursor = Cursor::new(inner);
        cursor.skip_ws();
        if cursor.at_end() {
            return Err(PatternError::syntax("a JSON pattern needs a condition between '{' and '}'"));
        }
        let expr = Expr::parse(&mut cursor, &mut parse_condition)?;
        cursor.skip_ws();
        if !cursor.at_end() {
            return Err(PatternError::syntax(format_args!("expected '&&', '||' or '}}' but found {}", cursor.snippet())));
        }
        let (mut wildcards, mut regexes) = (0, 0);
        expr.for_each(&mut |c: &Condition| {
            wildcards += c.selector.wildcards();
            regexes += usize::from(matches!(&c.test, Test::Compare(cmp) if cmp.is_regex()));
        });
        if wildcards > MAX_WILDCARDS {
            return Err(PatternError::limit("a JSON pattern may use at most 3 wildcard selectors"));
        }
        if regexes > MAX_REGEXES {
            return Err(PatternError::limit("a JSON pattern may use at most 2 regular expressions"));
        }
        Ok(JsonPattern { expr })
    }

    /// True when `message` is a JSON object satisfying the pattern. Allocation-free unless
    /// a compared string value holds JSON escapes.
    pub(crate) fn matches(&self, message: &[u8]) -> bool {
        let Some(root) = json_root(message) else {
            return false;
        };
        let plain = memchr::memchr(b'\\', message).is_none();
        // Conditions are decided on the bytes as they are; a document that turns out to
        // be malformed is caught here, and only for events that would otherwise match.
        self.expr.eval(&mut |c| c.holds(message, root, plain)) && scan::is_valid_object(message)
    }
}

/// Consumes `word` when it is the next token (any case), not merely a prefix of one.
fn eat_keyword(cursor: &mut Cursor<'_>, word: &str) -> bool {
    let rest = cursor.rest();
    let Some(head) = rest.get(..word.len()) else {
        return false;
    };
    let boundary = rest[word.len()..].chars().next().is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
    if head.eq_ignore_ascii_case(word) && boundary {
        cursor.advance(word.len());
        true
    } else {
        false
    }
}

/// Parses `selector op value`, `selector IS NULL|TRUE|FALSE` or `selector NOT EXISTS`.
fn parse_condition(cursor: &mut Cursor<'_>) -> Result<Condition, PatternError> {
    cursor.skip_ws();
    let selector = Selector::parse(cursor)?;
    cursor.skip_ws();
    let test = if eat_keyword(cursor, "IS") {
        cursor.skip_ws();
        if eat_keyword(cursor, "NULL") {
            Test::IsNull
        } else if eat_keyword(cursor, "TRUE") {
            Test::IsTrue
        } else if eat_keyword(cursor, "FALSE") {
            Test::IsFalse
        } else if eat_keyword(cursor, "NOT") {
            return Err(PatternError::syntax("IS NOT is not supported; use != or NOT EXISTS"));
        } else {
            return Err(PatternError::syntax(format_args!("IS must be followed by NULL, TRUE or FALSE, not {}", cursor.snippet())));
        }
    } else if eat_keyword(cursor, "NOT") {
        cursor.skip_ws();
        if !eat_keyword(cursor, "EXISTS") {
            return Err(PatternError::syntax(format_args!("NOT must be followed by EXISTS, not {}", cursor.snippet())));
        }
        Test::NotExists
    } else if eat_keyword(cursor, "EXISTS") {
        return Err(PatternError::syntax("EXISTS is not supported; use NOT EXISTS, or = * to require a value"));
    } else if let Some(op) = Op::parse(cursor) {
        Test::Compare(Comparison::new(op, Literal::parse(cursor)?)?)
    } else {
        return Err(PatternError::syntax(format_args!(
            "expected an operator (=, !=, <, <=, >, >=, IS, NOT EXISTS) but found {}",
            cursor.snippet()
        )));
    };
    Ok(Condition::new(selector, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The substring prefilters are shortcuts only: with or without them, every condition
    /// decides the same way.
    #[test]
    fn prefilters_never_change_a_result() {
        let patterns = [
            "{ $.eventName = \"CreateDBInstance\" }",
            "{ $.eventName = Create* }",
            "{ $.eventName != \"CreateDBInstance\" }",
            "{ $.errorCode NOT EXISTS }",
            "{ $.errorCode = * }",
            "{ $.n = 4* }",
            "{ $.flag = true }",
            "{ $.list[*] = \"b\" }",
            "{ $.* = \"b\" }",
            "{ $.['a.b'] = \"x\" }",
        ];
        let docs = [
            r#"{"eventName":"CreateDBInstance","n":404,"flag":true,"list":["a","b"],"a.b":"x"}"#,
            r#"{"eventName":"DeleteDBInstance","errorCode":"AccessDenied","n":504,"flag":false,"list":[]}"#,
            r#"{"other":"eventName CreateDBInstance \"errorCode\"","list":"b"}"#,
            r#"{"eventName":"Create\u0044BInstance","errorCod\u0065":1}"#,
            r#"{}"#,
        ];
        for text in patterns {
            let pattern = JsonPattern::parse(text).unwrap();
            for doc in docs {
                let doc = doc.as_bytes();
                let root = json_root(doc).unwrap();
                let plain = memchr::memchr(b'\\', doc).is_none();
                pattern.expr.for_each(&mut |c: &Condition| {
                    assert_eq!(c.holds(doc, root, plain), c.holds(doc, root, false), "{text} on {}", String::from_utf8_lossy(doc));
                });
            }
        }
    }
}
