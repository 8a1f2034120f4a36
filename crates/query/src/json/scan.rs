//! A borrowing JSON scanner: finds values by walking the message bytes, with no
//! allocation and no tree. JSON patterns run on every event of a FilterLogEvents call,
//! and most events are either not JSON or do not hold the compared value, so matching
//! walks only what a selector needs and validates the whole document only when the
//! pattern would otherwise match (an invalid document never matches).
//!
//! Every function returns `None` on malformed input instead of panicking; the caller's
//! final validation turns that into "no match".

use std::borrow::Cow;

/// Nesting deeper than this is treated as invalid, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 512;

/// What kind of JSON value a [`Value`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// A value located in the message: its kind and its bytes (for a string, the bytes
/// between the quotes, still escaped).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Value<'a> {
    pub(crate) kind: Kind,
    pub(crate) raw: &'a [u8],
    /// Offset of the value's first byte in the message, to walk into containers.
    pub(crate) start: usize,
}

/// Index of the first non-whitespace byte at or after `i`.
fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// True when the whole message is one valid JSON object (surrounding whitespace allowed).
pub(crate) fn is_valid_object(b: &[u8]) -> bool {
    let start = ws(b, 0);
    b.get(start) == Some(&b'{') && value_end::<true>(b, start, 0).is_some_and(|end| ws(b, end) == b.len())
}

/// The top-level object, if the message starts like one: the cheap test that rejects
/// plain text before any scanning.
pub(crate) fn root(b: &[u8]) -> Option<Value<'_>> {
    let start = ws(b, 0);
    (b.get(start) == Some(&b'{')).then(|| Value { kind: Kind::Object, raw: &b[start..], start })
}

/// Index just past the string whose opening quote is at `i`; checks escapes. `STRICT`
/// also refuses raw control characters, as strict JSON does; walking a document to find
/// a value skips that check (and so runs at `memchr` speed), and the final validation
/// of a matching document makes it.
fn string_end<const STRICT: bool>(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let offset = if STRICT {
            // The bytes that need a look are quotes, backslashes and control characters.
            b.get(j..)?.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?
        } else {
            memchr::memchr2(b'"', b'\\', b.get(j..)?)?
        };
        j += offset;
        match b[j] {
            b'"' => return Some(j + 1),
            b'\\' => match b.get(j + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 2,
                b'u' if b.get(j + 2..j + 6)?.iter().all(u8::is_ascii_hexdigit) => j += 6,
                _ => return None,
            },
            _ => return None,
        }
    }
}

/// Index just past the number starting at `i`, per JSON's grammar.
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |from: usize| b.get(from..).map_or(0, |s| s.iter().take_while(|c| c.is_ascii_digit()).count());
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i += digits(i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}

/// Index just past the value starting at `i` (which must not be whitespace), validating
/// its structure (and, when `STRICT`, the characters of its strings).
fn value_end<const STRICT: bool>(b: &[u8], i: usize, depth: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end::<STRICT>(b, i),
        b'{' | b'[' if depth >= MAX_DEPTH => None,
        b'{' => {
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b'}') {
                return Some(j + 1);
            }
            loop {
                if b.get(j) != Some(&b'"') {
                    return None;
                }
                j = ws(b, string_end::<STRICT>(b, j)?);
                if b.get(j) != Some(&b':') {
                    return None;
                }
                j = ws(b, value_end::<STRICT>(b, ws(b, j + 1), depth + 1)?);
                match b.get(j)? {
                    b',' => j = ws(b, j + 1),
                    b'}' => return Some(j + 1),
                    _ => return None,
                }
            }
        }
        b'[' => {
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b']') {
                return Some(j + 1);
            }
            loop {
                j = ws(b, value_end::<STRICT>(b, j, depth + 1)?);
                match b.get(j)? {
                    b',' => j = ws(b, j + 1),
                    b']' => return Some(j + 1),
                    _ => return None,
                }
            }
        }
        b't' => b[i..].starts_with(b"true").then_some(i + 4),
        b'f' => b[i..].starts_with(b"false").then_some(i + 5),
        b'n' => b[i..].starts_with(b"null").then_some(i + 4),
        _ => number_end(b, i),
    }
}

/// The value starting at `i` and the index just past it.
fn value_at(b: &[u8], i: usize) -> Option<(Value<'_>, usize)> {
    let end = value_end::<false>(b, i, 0)?;
    let kind = match b[i] {
        b'"' => Kind::String,
        b'{' => Kind::Object,
        b'[' => Kind::Array,
        b't' => Kind::True,
        b'f' => Kind::False,
        b'n' => Kind::Null,
        _ => Kind::Number,
    };
    let raw = if kind == Kind::String { &b[i + 1..end - 1] } else { &b[i..end] };
    Some((Value { kind, raw, start: i }, end))
}

/// The members of the object starting at `start`, as (escaped key, value) pairs, in order.
/// Stops early on malformed input.
pub(crate) fn members(b: &[u8], start: usize) -> Members<'_> {
    Members { b, pos: ws(b, start + 1), done: b.get(start) != Some(&b'{') }
}

/// Iterator returned by [`members`].
pub(crate) struct Members<'a> {
    b: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a [u8], Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

impl<'a> Members<'a> {
    fn step(&mut self) -> Option<(&'a [u8], Value<'a>)> {
        let b = self.b;
        let mut j = self.pos;
        if b.get(j)? != &b'"' {
            return None;
        }
        let key_end = string_end::<false>(b, j)?;
        let key = &b[j + 1..key_end - 1];
        j = ws(b, key_end);
        if b.get(j)? != &b':' {
            return None;
        }
        let (value, end) = value_at(b, ws(b, j + 1))?;
        j = ws(b, end);
        match b.get(j)? {
            b',' => self.pos = ws(b, j + 1),
            b'}' => self.done = true,
            _ => return None,
        }
        Some((key, value))
    }
}

/// The elements of the array starting at `start`, in order. Stops early on malformed input.
pub(crate) fn elements(b: &[u8], start: usize) -> Elements<'_> {
    let pos = ws(b, start + 1);
    let done = b.get(start) != Some(&b'[') || b.get(pos) == Some(&b']');
    Elements { b, pos, done }
}

/// Iterator returned by [`elements`].
pub(crate) struct Elements<'a> {
    b: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = value_at(self.b, self.pos).and_then(|(value, end)| {
            let j = ws(self.b, end);
            match self.b.get(j)? {
                b',' => self.pos = ws(self.b, j + 1),
                b']' => self.done = true,
                _ => return None,
            }
            Some(value)
        });
        if step.is_none() {
            self.done = true;
        }
        step
    }
}

/// True when the escaped key `raw` spells `name`; allocates only for keys with escapes.
pub(crate) fn key_is(raw: &[u8], name: &str) -> bool {
    if !raw.contains(&b'\\') {
        return raw == name.as_bytes();
    }
    unescape(raw).as_ref() == name.as_bytes()
}

/// The text of a JSON string's escaped bytes; borrowed unless it holds escapes.
pub(crate) fn unescape(raw: &[u8]) -> Cow<'_, [u8]> {
    if !raw.contains(&b'\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = raw.get(i) else { break };
        i += 1;
        let simple = match e {
            b'b' => Some(0x08),
            b'f' => Some(0x0C),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            other => Some(other),
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let Some(unit) = hex4(raw, i) else { break };
        i += 4;
        let mut code = u32::from(unit);
        // A high surrogate followed by `\uDC00`-`\uDFFF` is one character.
        if (0xD800..0xDC00).contains(&unit)
            && raw.get(i..i + 2) == Some(b"\\u")
            && let Some(low @ 0xDC00..=0xDFFF) = hex4(raw, i + 2)
        {
            code = 0x10000 + ((code - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            i += 6;
        }
        let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
    }
    Cow::Owned(out)
}

/// The four hex digits at `i` as a UTF-16 code unit.
fn hex4(raw: &[u8], i: usize) -> Option<u16> {
    let digits = std::str::from_utf8(raw.get(i..i + 4)?).ok()?;
    u16::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_a_strict_parser() {
        for good in [r#"{}"#, r#" {"a":1} "#, r#"{"a":[1,-2.5e3,"x",true,false,null,{}]}"#, "{\"a\":\"\\u00e9\\n\"}\n"] {
            assert!(is_valid_object(good.as_bytes()), "{good}");
        }
        for bad in [
            "",
            "[]",
            "{",
            r#"{"a"}"#,
            r#"{"a":1,}"#,
            r#"{"a":01}"#,
            r#"{"a":1} x"#,
            "{\"a\":\"\t\"}",
            r#"{"a":tru}"#,
            r#"{"a":"\x"}"#,
            r#"{a:1}"#,
        ] {
            assert!(!is_valid_object(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(!is_valid_object(deep.as_bytes()));
    }

    #[test]
    fn iterates_members_and_elements() {
        let doc = br#"{"a": 1, "b": [true, "x", {"c": null}], "d\u0065": "v\"w"}"#;
        let keys: Vec<_> = members(doc, 0).map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.kind)).collect();
        assert_eq!(keys, vec![("a".into(), Kind::Number), ("b".into(), Kind::Array), ("d\\u0065".into(), Kind::String)]);
        let (_, array) = members(doc, 0).nth(1).unwrap();
        let kinds: Vec<_> = elements(doc, array.start).map(|v| v.kind).collect();
        assert_eq!(kinds, vec![Kind::True, Kind::String, Kind::Object]);
        let (key, value) = members(doc, 0).nth(2).unwrap();
        assert!(key_is(key, "de"));
        assert_eq!(unescape(value.raw).as_ref(), b"v\"w");
    }

    #[test]
    fn unescapes_surrogate_pairs() {
        assert_eq!(unescape(br"\ud83d\udd25 \u00e9").as_ref(), "🔥 é".as_bytes());
        assert_eq!(unescape(br"\/\\").as_ref(), br"/\");
    }

    #[test]
    fn empty_containers_have_no_children() {
        assert_eq!(members(b"{ }", 0).count(), 0);
        assert_eq!(elements(b"[ ]", 0).count(), 0);
    }
}
