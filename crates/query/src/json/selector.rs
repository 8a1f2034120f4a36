//! Property selectors: `$.eventId`, `$.users[0].id`, `$.coordinates[0][1]`,
//! `$.['cluster.name']`, and the wildcards `$.*` and `$.arrayKey[*]`.
//!
//! AWS: "Set off property selectors with a dollar sign followed by a period ("$.").
//! Property selectors are alphanumeric strings that support hyphen ("-") and underscore
//! ("_") characters. [...] Enclose elements in brackets ("[]"). [...] If the JSON
//! property contains a period ("."), then the bracket notation may be used to select
//! that property." and "You can use the JSON wildcard to select any array element or any
//! JSON object field. [...] You can only use up to one wildcard selector in a property
//! selector."

use crate::error::PatternError;
use crate::expr::Cursor;

use super::scan::{self, Kind, Value};

/// One step of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// `.name` or `['name']`: an object member.
    Key(String),
    /// `[n]`: an array element, counted from zero.
    Index(usize),
    /// `.*` or `[*]`: any member of an object or element of an array.
    Any,
}

/// A compiled property selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    steps: Vec<Step>,
}

/// Characters of an unbracketed property name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

impl Selector {
    /// Reads a selector at the cursor, which is at its `$`.
    pub(crate) fn parse(cursor: &mut Cursor<'_>) -> Result<Self, PatternError> {
        let start = cursor.rest();
        let fail = |cursor: &Cursor<'_>, detail: &str| {
            let consumed = start.len() - cursor.rest().len();
            let text: String =
                start[..consumed].chars().chain(cursor.rest().chars().take_while(|c| !c.is_ascii_whitespace()).take(10)).collect();
            PatternError::selector(&text, detail)
        };
        if !cursor.eat("$") {
            return Err(PatternError::syntax(format_args!(
                "expected a property selector starting with '$.' but found {}",
                cursor.snippet()
            )));
        }
        if cursor.peek() != Some('.') {
            return Err(fail(cursor, "selectors start with '$.'"));
        }
        let mut steps = Vec::new();
        loop {
            if cursor.eat(".") {
                if cursor.peek() == Some('[') {
                    // `$.['cluster.name']`, as AWS's own example writes it.
                    continue;
                }
                if cursor.eat("*") {
                    steps.push(Step::Any);
                    continue;
                }
                let name = cursor.take_while(is_name_char);
                if name.is_empty() {
                    return Err(fail(cursor, "a '.' must be followed by a property name, '*' or '['"));
                }
                steps.push(Step::Key(name.to_owned()));
            } else if cursor.eat("[") {
                steps.push(Self::parse_bracket(cursor).map_err(|detail| fail(cursor, detail))?);
            } else {
                break;
            }
        }
        if steps.iter().filter(|s| **s == Step::Any).count() > 1 {
            let text = &start[..start.len() - cursor.rest().len()];
            return Err(PatternError::limit(&format!("the property selector '{text}' has more than one wildcard; AWS allows one")));
        }
        Ok(Selector { steps })
    }

    /// Parses a whole string as a selector (for metric transformations' `$.path`).
    pub(crate) fn parse_str(text: &str) -> Result<Self, PatternError> {
        let mut cursor = Cursor::new(text);
        let selector = Self::parse(&mut cursor)?;
        if !cursor.at_end() {
            return Err(PatternError::selector(text, "unexpected characters after the selector"));
        }
        Ok(selector)
    }

    /// What follows a `[`: `*`, a zero-based index, or a quoted property name.
    fn parse_bracket(cursor: &mut Cursor<'_>) -> Result<Step, &'static str> {
        let step = if cursor.eat("*") {
            Step::Any
        } else if let Some(quote @ ('\'' | '"')) = cursor.peek() {
            cursor.advance(1);
            let name = cursor.take_while(|c| c != quote);
            if !cursor.eat(&quote.to_string()) {
                return Err("the quoted property name is not closed");
            }
            Step::Key(name.to_owned())
        } else {
            let digits = cursor.take_while(|c| c.is_ascii_digit());
            Step::Index(digits.parse().map_err(|_| "brackets hold an index, '*' or a quoted property name")?)
        };
        if !cursor.eat("]") {
            return Err("a '[' is not closed");
        }
        Ok(step)
    }

    /// The last property name of the selector, if it has one (for substring prefilters).
    pub(crate) fn last_key(&self) -> Option<&str> {
        self.steps.iter().rev().find_map(|s| match s {
            Step::Key(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// How many wildcard steps the selector has (AWS caps them per pattern).
    pub(crate) fn wildcards(&self) -> usize {
        self.steps.iter().filter(|s| **s == Step::Any).count()
    }

    /// Calls `found` on each value the selector reaches in the object `root` of `doc`,
    /// stopping at the first for which it returns true; returns whether one did.
    /// Without wildcards at most one value is reached.
    pub(crate) fn any<'a>(&self, doc: &'a [u8], root: Value<'a>, found: &mut impl FnMut(Value<'a>) -> bool) -> bool {
        walk(doc, root, &self.steps, found)
    }
}

fn walk<'a>(doc: &'a [u8], value: Value<'a>, steps: &[Step], found: &mut impl FnMut(Value<'a>) -> bool) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return found(value);
    };
    match (step, value.kind) {
        // Duplicate keys: the first one wins, as a streaming reader sees it.
        (Step::Key(name), Kind::Object) => {
            scan::members(doc, value.start).find(|(key, _)| scan::key_is(key, name)).is_some_and(|(_, child)| walk(doc, child, rest, found))
        }
        (Step::Index(n), Kind::Array) => scan::elements(doc, value.start).nth(*n).is_some_and(|child| walk(doc, child, rest, found)),
        (Step::Any, Kind::Object) => scan::members(doc, value.start).any(|(_, child)| walk(doc, child, rest, found)),
        (Step::Any, Kind::Array) => scan::elements(doc, value.start).any(|child| walk(doc, child, rest, found)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(text: &str) -> Vec<Step> {
        Selector::parse_str(text).unwrap_or_else(|e| panic!("{text}: {e}")).steps
    }

    fn key(k: &str) -> Step {
        Step::Key(k.to_owned())
    }

    #[test]
    fn parses_documented_forms() {
        assert_eq!(steps("$.eventId"), vec![key("eventId")]);
        assert_eq!(steps("$.users[0].id"), vec![key("users"), Step::Index(0), key("id")]);
        assert_eq!(steps("$.coordinates[0][1]"), vec![key("coordinates"), Step::Index(0), Step::Index(1)]);
        assert_eq!(steps("$.['cluster.name']"), vec![key("cluster.name")]);
        assert_eq!(steps("$.arrayKey[*]"), vec![key("arrayKey"), Step::Any]);
        assert_eq!(steps("$.*"), vec![Step::Any]);
        assert_eq!(steps("$.request-id"), vec![key("request-id")]);
    }

    #[test]
    fn refuses_malformed_selectors() {
        for text in ["$", "$a", "$.", "$.a.", "$.a[", "$.a[x]", "$.a['b]", "$.a[-1]", "$..a"] {
            assert!(Selector::parse_str(text).is_err(), "{text}");
        }
        let err = Selector::parse_str("$.a[*].b[*]").unwrap_err();
        assert_eq!(err.kind(), crate::PatternErrorKind::LimitExceeded);
    }
}
