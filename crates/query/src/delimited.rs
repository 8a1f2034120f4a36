//! Space-delimited patterns: `[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]`.
//!
//! From "Using filter patterns to match terms in space-delimited log events":
//! - the message splits into fields at spaces; "Characters between brackets ("[]") and
//!   double quotation marks ("") are considered single fields" (the field's value is
//!   what is inside them, as the page's extracted `$4` = `10/Oct/2000:13:25:15 -0700`
//!   shows);
//! - the pattern names the fields in order, separated by commas; a field may carry a
//!   condition (`status_code = 4*`, `bytes > 1000`, `ip=%127\.0\.0\.[1-9]%`), and
//!   conditions combine with `&&` and `||` (`status_code = 404 || status_code = 410`);
//! - `...` stands for any number of fields ("Elipsis can reference as many fields as
//!   needed"): `[..., status_code, bytes]`, `[ip, user, ...]`;
//! - without `...` the last named field takes the rest of the line when the message has
//!   more fields: the page's `[w1=ERROR, w2]` "returns log events where the first word
//!   in the log events is ERROR" for lines such as `ERROR 09/25/2014 12:00:02 Failed to
//!   process request`, and it says a blank `w2` must follow `w1` for that to work. A
//!   message with fewer fields than the pattern never matches;
//! - an empty field name (the page's trailing comma in `[..., status_code=4*,]`) is an
//!   unnamed field.
//!
//! A condition may also name another field of the pattern (AWS's older example
//! `status_code = 4* && bytes > 1000` reads `bytes`); a name the pattern does not declare
//! is refused, as is a name declared twice.
//!
//! Matching walks the message once (twice when fields are anchored at its end), keeps
//! field positions in a stack buffer and never allocates for patterns of up to
//! [`INLINE_FIELDS`] fields.

use std::ops::Range;

use memchr::memmem::Finder;

use crate::error::PatternError;
use crate::expr::{Cursor, Expr};
use crate::json::MAX_REGEXES;
use crate::value::{Comparison, Literal, Op, Scalar};

/// Field positions of patterns with at most this many fields live on the stack.
const INLINE_FIELDS: usize = 32;

/// A condition on one field: `name op value`, with the name resolved to a slot.
#[derive(Debug, Clone)]
struct FieldCond {
    slot: usize,
    cmp: Comparison,
}

/// One named (or unnamed) field of the pattern.
#[derive(Debug, Clone)]
struct Slot {
    name: Option<String>,
    expr: Option<Expr<FieldCond>>,
    /// True when every condition of `expr` is about this slot, so it can be checked as
    /// soon as the slot is placed.
    local: bool,
}

/// Where a slot landed in the message.
#[derive(Debug, Clone, Copy, Default)]
struct Placed {
    /// Byte range of the value (inside quotes/brackets, or the rest of the line).
    value: (usize, usize),
    /// Zero-based index of the message field.
    index: usize,
    /// True when the slot took the rest of the line.
    absorbs: bool,
}

/// A compiled space-delimited pattern.
#[derive(Debug, Clone)]
pub(crate) struct DelimitedPattern {
    slots: Vec<Slot>,
    /// Runs of consecutive slots between `...`s, in order.
    groups: Vec<Range<usize>>,
    /// The first group is anchored at the start of the message (no leading `...`).
    leading: bool,
    /// The last group is anchored at the end of the message (no trailing `...`).
    trailing: bool,
    /// Slots whose conditions read other slots; checked once every slot is placed.
    cross: Vec<usize>,
    /// Texts the message must contain: every field value is a substring of the message,
    /// so an `=` string that a slot requires (alone or under `&&`) must occur in it.
    required: Vec<Finder<'static>>,
}

/// A condition as written, before its field name is resolved.
#[derive(Debug, Clone)]
struct RawCond {
    name: String,
    cmp: Comparison,
}

/// A comma-separated item of the pattern.
enum Item {
    Ellipsis,
    Field { name: Option<String>, expr: Option<Expr<RawCond>> },
}

/// Characters of a field name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl DelimitedPattern {
    /// Parses `text`, which the caller knows starts with `[` and ends with `]`.
    pub(crate) fn parse(text: &str) -> Result<Self, PatternError> {
        let inner = &text[1..text.len() - 1];
        if inner.trim().is_empty() {
            return Err(PatternError::syntax("a space-delimited pattern needs at least one field between '[' and ']'"));
        }
        let items = parse_items(inner)?;
        Self::compile(items)
    }

    fn compile(items: Vec<Item>) -> Result<Self, PatternError> {
        let mut names: Vec<Option<String>> = Vec::new();
        let mut raw_exprs = Vec::new();
        let mut groups: Vec<Range<usize>> = Vec::new();
        let mut open: Option<usize> = None;
        for item in &items {
            match item {
                Item::Ellipsis => {
                    if let Some(start) = open.take() {
                        groups.push(start..names.len());
                    }
                }
                Item::Field { name, expr } => {
                    open.get_or_insert(names.len());
                    if let Some(n) = name
                        && names.iter().flatten().any(|m| m == n)
                    {
                        return Err(PatternError::syntax(format_args!("the field name '{n}' is used twice")));
                    }
                    names.push(name.clone());
                    raw_exprs.push(expr.clone());
                }
            }
        }
        if let Some(start) = open {
            groups.push(start..names.len());
        }
        let leading = !matches!(items.first(), Some(Item::Ellipsis));
        let trailing = !matches!(items.last(), Some(Item::Ellipsis));

        let mut regexes = 0;
        let mut slots = Vec::with_capacity(names.len());
        let mut cross = Vec::new();
        for (index, (name, raw)) in names.iter().zip(raw_exprs).enumerate() {
            let expr = raw.map(|e| resolve(e, &names, &mut regexes)).transpose()?;
            let mut local = true;
            if let Some(e) = &expr {
                e.for_each(&mut |c: &FieldCond| local &= c.slot == index);
            }
            if !local {
                cross.push(index);
            }
            slots.push(Slot { name: name.clone(), expr, local });
        }
        if regexes > MAX_REGEXES {
            return Err(PatternError::limit("a space-delimited pattern may use at most 2 regular expressions"));
        }
        let required = slots.iter().filter_map(|s| s.expr.as_ref()).flat_map(required_texts).map(|t| Finder::new(t).into_owned()).collect();
        Ok(DelimitedPattern { slots, groups, leading, trailing, cross, required })
    }

    /// True when the pattern is only ellipses, which every message satisfies.
    pub(crate) fn matches_everything(&self) -> bool {
        self.slots.is_empty()
    }

    /// The longest text a field condition requires, which every matching message contains.
    pub(crate) fn required_literal(&self) -> Option<&[u8]> {
        self.required.iter().map(Finder::needle).filter(|n| !n.is_empty()).max_by_key(|n| n.len())
    }

    /// True when the message satisfies the pattern. Allocation-free for patterns of up
    /// to [`INLINE_FIELDS`] fields.
    pub(crate) fn matches(&self, message: &[u8]) -> bool {
        if !self.required.iter().all(|f| f.find(message).is_some()) {
            return false;
        }
        with_placed(self.slots.len(), |placed| self.place(message, placed) && self.cross_ok(message, placed))
    }

    /// The fields of a matching message, named as AWS's extracted values are: `$name` for
    /// named fields and `$N` (one-based position) for unnamed ones and for fields covered
    /// by `...`.
    pub(crate) fn extract<'a>(&self, message: &'a [u8]) -> Option<Vec<(String, &'a [u8])>> {
        with_placed(self.slots.len(), |placed| {
            if !(self.place(message, placed) && self.cross_ok(message, placed)) {
                return None;
            }
            let mut out = Vec::new();
            for (index, token) in Tokens::new(message).enumerate() {
                match placed.iter().position(|p| p.index == index) {
                    Some(slot) => {
                        let p = placed[slot];
                        let key = match &self.slots[slot].name {
                            Some(name) => format!("${name}"),
                            None => format!("${}", index + 1),
                        };
                        out.push((key, &message[p.value.0..p.value.1]));
                        if p.absorbs {
                            break;
                        }
                    }
                    _ => out.push((format!("${}", index + 1), &message[token.value.0..token.value.1])),
                }
            }
            Some(out)
        })
    }

    /// Assigns every slot a message field, checking local conditions as it goes.
    fn place(&self, message: &[u8], placed: &mut [Placed]) -> bool {
        if self.slots.is_empty() {
            return true;
        }
        if self.groups.len() == 1 && self.leading && self.trailing {
            return self.place_exact(message, placed);
        }
        // Fields anchored at the end need the field count; otherwise one pass suffices.
        let total = if self.trailing { Some(Tokens::new(message).count()) } else { None };
        let needed: usize = self.groups.iter().map(|g| g.len()).sum();
        if total.is_some_and(|n| n < needed) {
            return false;
        }
        let mut tokens = Tokens::new(message);
        let mut next = 0; // index of the field `tokens` yields next
        let last = self.groups.len() - 1;
        for (g, group) in self.groups.iter().enumerate() {
            if g == last && self.trailing {
                let Some(start) = total.map(|n| n - group.len()) else { return false };
                if start < next {
                    return false;
                }
                for _ in next..start {
                    tokens.next();
                }
                return self.place_group(message, group.clone(), &mut tokens, start, placed);
            }
            if g == 0 && self.leading {
                if !self.place_group(message, group.clone(), &mut tokens, next, placed) {
                    return false;
                }
                next += group.len();
                continue;
            }
            // A floating group: the leftmost run of fields that satisfies it. Fixed-width
            // runs make leftmost-first sufficient for the groups that follow.
            let later: usize = self.groups[g + 1..].iter().map(|r| r.len()).sum();
            let found = loop {
                if total.is_some_and(|n| next + group.len() + later > n) {
                    break false;
                }
                let mut probe = tokens.clone();
                if self.place_group(message, group.clone(), &mut probe, next, placed) {
                    tokens = probe;
                    break true;
                }
                if tokens.next().is_none() {
                    break false;
                }
                next += 1;
            };
            if !found {
                return false;
            }
            next += group.len();
        }
        true
    }

    /// The pattern without `...`: one field per slot, the last slot taking the rest.
    fn place_exact(&self, message: &[u8], placed: &mut [Placed]) -> bool {
        let mut tokens = Tokens::new(message);
        let last = self.slots.len() - 1;
        for slot in 0..=last {
            let Some(token) = tokens.next() else { return false };
            let rest = slot == last && tokens.clone().next().is_some();
            let value = if rest { (token.start, trimmed_end(message)) } else { token.value };
            placed[slot] = Placed { value, index: slot, absorbs: rest };
            if !self.local_ok(slot, message, placed) {
                return false;
            }
        }
        true
    }

    /// Places the slots of `group` on consecutive fields from `tokens`.
    fn place_group(&self, message: &[u8], group: Range<usize>, tokens: &mut Tokens<'_>, first_index: usize, placed: &mut [Placed]) -> bool {
        for (offset, slot) in group.enumerate() {
            let Some(token) = tokens.next() else { return false };
            placed[slot] = Placed { value: token.value, index: first_index + offset, absorbs: false };
            if !self.local_ok(slot, message, placed) {
                return false;
            }
        }
        true
    }

    /// Checks a slot's own conditions; slots reading other slots wait for `cross_ok`.
    fn local_ok(&self, slot: usize, message: &[u8], placed: &[Placed]) -> bool {
        let s = &self.slots[slot];
        !s.local || s.expr.as_ref().is_none_or(|e| eval(e, message, placed))
    }

    fn cross_ok(&self, message: &[u8], placed: &[Placed]) -> bool {
        self.cross.iter().all(|&slot| self.slots[slot].expr.as_ref().is_none_or(|e| eval(e, message, placed)))
    }
}

/// The texts an expression requires: those of its `=` string conditions that must all
/// hold (the expression itself, or the direct parts of a top-level `&&`).
fn required_texts(expr: &Expr<FieldCond>) -> Vec<&[u8]> {
    match expr {
        Expr::Cond(c) => c.cmp.required_text().into_iter().collect(),
        Expr::All(parts) => parts
            .iter()
            .filter_map(|p| match p {
                Expr::Cond(c) => c.cmp.required_text(),
                _ => None,
            })
            .collect(),
        Expr::Any(_) => Vec::new(),
    }
}

fn eval(expr: &Expr<FieldCond>, message: &[u8], placed: &[Placed]) -> bool {
    expr.eval(&mut |c| {
        let (start, end) = placed[c.slot].value;
        c.cmp.test(&Scalar::Field(&message[start..end]))
    })
}

/// Runs `f` with a scratch slice of `n` placements, on the stack when small enough.
fn with_placed<R>(n: usize, f: impl FnOnce(&mut [Placed]) -> R) -> R {
    if n <= INLINE_FIELDS {
        let mut buffer = [Placed::default(); INLINE_FIELDS];
        f(&mut buffer[..n])
    } else {
        f(&mut vec![Placed::default(); n])
    }
}

/// Resolves condition names to slots and counts regular expressions.
fn resolve(expr: Expr<RawCond>, names: &[Option<String>], regexes: &mut usize) -> Result<Expr<FieldCond>, PatternError> {
    Ok(match expr {
        Expr::Cond(RawCond { name, cmp }) => {
            let Some(slot) = names.iter().position(|n| n.as_deref() == Some(name.as_str())) else {
                return Err(PatternError::syntax(format_args!("the condition on '{name}' does not name a field of the pattern")));
            };
            *regexes += usize::from(cmp.is_regex());
            Expr::Cond(FieldCond { slot, cmp })
        }
        Expr::All(parts) => Expr::All(parts.into_iter().map(|p| resolve(p, names, regexes)).collect::<Result<_, _>>()?),
        Expr::Any(parts) => Expr::Any(parts.into_iter().map(|p| resolve(p, names, regexes)).collect::<Result<_, _>>()?),
    })
}

/// Splits the text between the brackets into items.
fn parse_items(inner: &str) -> Result<Vec<Item>, PatternError> {
    let mut cursor = Cursor::new(inner);
    let mut items = Vec::new();
    loop {
        cursor.skip_ws();
        // The older page spells the ellipsis with the single character `…`.
        if cursor.eat("...") || cursor.eat("…") {
            items.push(Item::Ellipsis);
        } else if cursor.at_end() || cursor.peek() == Some(',') {
            items.push(Item::Field { name: None, expr: None });
        } else {
            items.push(parse_field(&mut cursor)?);
        }
        cursor.skip_ws();
        if cursor.at_end() {
            return Ok(items);
        }
        if !cursor.eat(",") {
            return Err(PatternError::syntax(format_args!("expected ',' or ']' but found {}", cursor.snippet())));
        }
    }
}

/// A bare field name, or conditions whose first name names the field.
fn parse_field(cursor: &mut Cursor<'_>) -> Result<Item, PatternError> {
    let mut probe = cursor.clone();
    let name = probe.take_while(is_name_char);
    probe.skip_ws();
    if !name.is_empty() && (probe.at_end() || probe.peek() == Some(',')) {
        *cursor = probe;
        return Ok(Item::Field { name: Some(name.to_owned()), expr: None });
    }
    let expr = Expr::parse(cursor, &mut parse_condition)?;
    let mut first = None;
    expr.for_each(&mut |c: &RawCond| {
        first.get_or_insert_with(|| c.name.clone());
    });
    Ok(Item::Field { name: first, expr: Some(expr) })
}

/// `name op value`.
fn parse_condition(cursor: &mut Cursor<'_>) -> Result<RawCond, PatternError> {
    cursor.skip_ws();
    let name = cursor.take_while(is_name_char);
    if name.is_empty() {
        return Err(PatternError::syntax(format_args!("expected a field name but found {}", cursor.snippet())));
    }
    cursor.skip_ws();
    let Some(op) = Op::parse(cursor) else {
        return Err(PatternError::syntax(format_args!(
            "expected an operator (=, !=, <, <=, >, >=) after '{name}' but found {}",
            cursor.snippet()
        )));
    };
    let cmp = Comparison::new(op, Literal::parse(cursor)?)?;
    Ok(RawCond { name: name.to_owned(), cmp })
}

/// Bytes that separate fields.
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The message length without trailing separators.
fn trimmed_end(message: &[u8]) -> usize {
    message.iter().rposition(|&b| !is_separator(b)).map_or(0, |i| i + 1)
}

/// One field of the message.
#[derive(Debug, Clone, Copy)]
struct Token {
    /// Offset of its first byte (the quote or bracket, if any).
    start: usize,
    /// Byte range of its value.
    value: (usize, usize),
}

/// The fields of a message, left to right. Runs of separators count as one; a field
/// that starts with `"` runs to the next unescaped `"`, one that starts with `[` to the
/// next `]` (to the end of the line if unclosed).
#[derive(Debug, Clone)]
struct Tokens<'a> {
    message: &'a [u8],
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn new(message: &'a [u8]) -> Self {
        Tokens { message, pos: 0 }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let m = self.message;
        let start = self.pos + m.get(self.pos..)?.iter().position(|&b| !is_separator(b))?;
        let (value, end) = match m[start] {
            b'"' => {
                let mut j = start + 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &m[j..]) {
                        Some(k) if m[j + k] == b'\\' => j += k + 2,
                        Some(k) => break ((start + 1, j + k), j + k + 1),
                        None => break ((start + 1, trimmed_end(m).max(start + 1)), m.len()),
                    }
                    if j >= m.len() {
                        break ((start + 1, trimmed_end(m).max(start + 1)), m.len());
                    }
                }
            }
            b'[' => match memchr::memchr(b']', &m[start + 1..]) {
                Some(k) => ((start + 1, start + 1 + k), start + 2 + k),
                None => ((start + 1, trimmed_end(m).max(start + 1)), m.len()),
            },
            _ => {
                let end = m[start..].iter().position(|&b| is_separator(b)).map_or(m.len(), |k| start + k);
                ((start, end), end)
            }
        };
        self.pos = end;
        Some(Token { start, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(message: &str) -> Vec<&str> {
        Tokens::new(message.as_bytes()).map(|t| &message[t.value.0..t.value.1]).collect()
    }

    #[test]
    fn splits_the_documented_apache_line() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
        assert_eq!(
            fields(line),
            vec!["127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700", "GET /apache_pb.gif HTTP/1.0", "200", "1534"]
        );
    }

    #[test]
    fn separators_collapse_and_edges_are_trimmed() {
        assert_eq!(fields("  a \t b\n"), vec!["a", "b"]);
        assert!(fields("   ").is_empty());
        assert!(fields("").is_empty());
    }

    #[test]
    fn quotes_and_brackets() {
        assert_eq!(fields(r#"a "b \" c" d"#), vec!["a", r#"b \" c"#, "d"]);
        assert_eq!(fields(r#""" []"#), vec!["", ""]);
        assert_eq!(fields(r#"a "unclosed rest "#), vec!["a", "unclosed rest"]);
        assert_eq!(fields("a [unclosed"), vec!["a", "unclosed"]);
        assert_eq!(fields(r#"a"b c"#), vec![r#"a"b"#, "c"]);
        assert_eq!(fields(r#"x "a\"#), vec!["x", r"a\"]);
    }

    /// Exhaustive reference: does some placement of the pattern's slots on the message's
    /// fields (`None` = `...`, `Some(c)` = a field that must equal `c`, `Some('?')` = any)
    /// satisfy it? Without `...` the last slot takes the rest of the line.
    fn model(items: &[Option<char>], words: &[char]) -> bool {
        if !items.contains(&None) {
            let k = items.len();
            if words.len() < k {
                return false;
            }
            return items.iter().enumerate().all(|(i, item)| {
                let c = item.unwrap_or('?');
                c == '?' || (words[i] == c && (i + 1 < k || words.len() == k))
            });
        }
        fn place(items: &[Option<char>], words: &[char]) -> bool {
            match items.split_first() {
                None => words.is_empty(),
                Some((None, rest)) => (0..=words.len()).any(|skip| place(rest, &words[skip..])),
                Some((Some(c), rest)) => words.first().is_some_and(|w| *c == '?' || w == c) && place(rest, &words[1..]),
            }
        }
        place(items, words)
    }

    #[test]
    fn placement_agrees_with_exhaustive_search() {
        let mut seed: u64 = 0x0123_4567_89ab_cdef;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        const ITEMS: [Option<char>; 4] = [None, Some('a'), Some('b'), Some('?')];
        for _ in 0..20_000 {
            let items: Vec<Option<char>> = (0..1 + next(5)).map(|_| ITEMS[next(4)]).collect();
            let words: Vec<char> = (0..next(7)).map(|_| ['a', 'b', 'c'][next(3)]).collect();
            let text = items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    None => "...".to_owned(),
                    Some('?') => format!("f{i}"),
                    Some(c) => format!("f{i} = {c}"),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let message: String = words.iter().map(char::to_string).collect::<Vec<_>>().join(" ");
            let pattern = DelimitedPattern::parse(&format!("[{text}]")).unwrap();
            assert_eq!(pattern.matches(message.as_bytes()), model(&items, &words), "[{text}] on {message:?}");
            assert_eq!(pattern.extract(message.as_bytes()).is_some(), model(&items, &words), "[{text}] on {message:?}");
        }
    }

    #[test]
    fn groups_split_at_ellipses() {
        let p = DelimitedPattern::parse("[..., a, b, ..., c, ...]").unwrap();
        assert_eq!(p.groups, vec![0..2, 2..3]);
        assert!(!p.leading && !p.trailing);
        let q = DelimitedPattern::parse("[a, ..., ..., b]").unwrap();
        assert_eq!(q.groups, vec![0..1, 1..2]);
        assert!(q.leading && q.trailing);
    }
}
