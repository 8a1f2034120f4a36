//! Values extracted from a matched event, for metric filters.
//!
//! A metric transformation names a value the way AWS does: `metricValue: "$.latency"`
//! or `"$bytes"`, dimensions `{ "op": "$.eventName" }`. [`FieldRef::parse`] compiles such
//! a reference once; [`FilterPattern::extract`](crate::FilterPattern::extract) matches an
//! event and returns its [`Fields`], from which [`Fields::get`] reads the values:
//!
//! - after a JSON pattern, any `$.selector` (not only those in the pattern) reads the
//!   event's JSON; a selector reaching an object, an array or nothing gives `None`, and a
//!   wildcard selector gives the first value it reaches;
//! - after a space-delimited pattern, `$name` reads a named field and `$N` the N-th
//!   field (one-based) where the pattern leaves it unnamed or covers it with `...` —
//!   the same keys AWS's TestMetricFilter returns as `extractedValues`, which
//!   [`Fields::iter`] lists;
//! - other patterns (terms, `%regex%`) extract nothing, so every lookup gives `None`.

use std::borrow::Cow;

use crate::error::PatternError;
use crate::json::selector::Selector;
use crate::json::{self, Kind};
use crate::value::parse_number;

/// A compiled reference to an event value: `$.path`, `$name` or `$N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    kind: RefKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RefKind {
    /// `$.path`: a JSON property selector.
    Json(Selector),
    /// `$name` or `$N`: a space-delimited field, stored with its `$`.
    Delimited(String),
}

impl FieldRef {
    /// Parses `$.path` (a JSON property selector), `$name` or `$N` (space-delimited fields).
    pub fn parse(text: &str) -> Result<FieldRef, PatternError> {
        let kind = if text.starts_with("$.") {
            RefKind::Json(Selector::parse_str(text)?)
        } else {
            let name = text.strip_prefix('$').unwrap_or("");
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(PatternError::syntax(format_args!("'{text}' is not a field reference ($.path, $name or $N)")));
            }
            RefKind::Delimited(text.to_owned())
        };
        Ok(FieldRef { kind })
    }

    /// True for a JSON property selector (`$.path`).
    pub fn is_json(&self) -> bool {
        matches!(self.kind, RefKind::Json(_))
    }
}

/// One value read from an event.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    /// A JSON string (unescaped) or a space-delimited field.
    Text(Cow<'a, str>),
    /// A JSON number, as written in the event.
    Number(&'a str),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON null.
    Null,
}

impl FieldValue<'_> {
    /// The value as a number for a metric: JSON numbers, and text that is a number
    /// (`"1534"`, `"2.5e3"`); `None` otherwise.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Number(raw) => parse_number(raw.as_bytes(), true),
            FieldValue::Text(text) => parse_number(text.trim().as_bytes(), true),
            FieldValue::Bool(_) | FieldValue::Null => None,
        }
    }

    /// The value as text for a dimension: strings as they are, numbers as written,
    /// `true`, `false`, `null`.
    pub fn to_text(&self) -> Cow<'_, str> {
        match self {
            FieldValue::Text(text) => Cow::Borrowed(text.as_ref()),
            FieldValue::Number(raw) => Cow::Borrowed(raw),
            FieldValue::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            FieldValue::Null => Cow::Borrowed("null"),
        }
    }
}

/// The values a matched event offers to metric transformations.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    source: Source<'a>,
}

#[derive(Debug, Clone)]
enum Source<'a> {
    /// Term and regex patterns extract nothing.
    Nothing,
    /// The event is a valid JSON object.
    Json(&'a [u8]),
    /// `$key` and value of each space-delimited field.
    Delimited(Vec<(String, &'a [u8])>),
}

impl<'a> Fields<'a> {
    pub(crate) fn nothing() -> Self {
        Fields { source: Source::Nothing }
    }

    pub(crate) fn json(message: &'a [u8]) -> Self {
        Fields { source: Source::Json(message) }
    }

    pub(crate) fn delimited(values: Vec<(String, &'a [u8])>) -> Self {
        Fields { source: Source::Delimited(values) }
    }

    /// The value `field` names in this event, if it has one.
    pub fn get(&self, field: &FieldRef) -> Option<FieldValue<'a>> {
        match (&self.source, &field.kind) {
            (Source::Json(message), RefKind::Json(selector)) => {
                let root = json::json_root(message)?;
                let mut first = None;
                selector.any(message, root, &mut |v| {
                    first = Some(v);
                    true
                });
                json_value(first?)
            }
            (Source::Delimited(values), RefKind::Delimited(key)) => {
                values.iter().find(|(k, _)| k == key).map(|(_, v)| FieldValue::Text(String::from_utf8_lossy(v)))
            }
            _ => None,
        }
    }

    /// Parses `reference` and reads it; `None` if it is malformed or absent.
    pub fn lookup(&self, reference: &str) -> Option<FieldValue<'a>> {
        self.get(&FieldRef::parse(reference).ok()?)
    }

    /// The space-delimited fields as `($key, value)` pairs in message order (AWS's
    /// TestMetricFilter `extractedValues`); empty for other pattern kinds.
    pub fn iter(&self) -> impl Iterator<Item = (&str, FieldValue<'a>)> + '_ {
        let values: &[(String, &'a [u8])] = match &self.source {
            Source::Delimited(values) => values,
            Source::Nothing | Source::Json(_) => &[],
        };
        values.iter().map(|(k, v)| (k.as_str(), FieldValue::Text(String::from_utf8_lossy(v))))
    }
}

/// A JSON scalar as a [`FieldValue`]; containers have none.
fn json_value(value: json::Value<'_>) -> Option<FieldValue<'_>> {
    Some(match value.kind {
        Kind::String => FieldValue::Text(match json::unescape(value.raw) {
            Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }),
        Kind::Number => FieldValue::Number(std::str::from_utf8(value.raw).ok()?),
        Kind::True => FieldValue::Bool(true),
        Kind::False => FieldValue::Bool(false),
        Kind::Null => FieldValue::Null,
        Kind::Object | Kind::Array => return None,
    })
}
