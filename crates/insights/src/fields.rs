//! Discovered fields: values a query names that are read out of each event's message.
//!
//! Source: AWS, "Supported logs and discovered fields". Three formats are recognised, per message:
//! - JSON (CloudTrail and any other JSON log): nested objects are flattened with dots
//!   (`userIdentity.arn`) and arrays with numeric indices (`resources.0.ARN`); strings are
//!   unescaped, numbers keep their text, `true`/`false` become `1`/`0` as Logs Insights shows
//!   them, and `null`, objects and arrays are no value (only leaves are fields).
//! - VPC flow logs in the default format (version 2: fourteen space-separated values).
//! - Aurora MySQL audit records (`timestamp,serverhost,username,host,connectionid,queryid,
//!   operation,database,object,retcode`).
//!
//! A name that the message does not hold is missing (NULL).

use std::borrow::Cow;

/// The ten fields of an Aurora MySQL audit record, in order.
const AURORA: [&str; 10] =
    ["timestamp", "serverhost", "username", "host", "connectionid", "queryid", "operation", "database", "object", "retcode"];

/// The names of the fourteen default VPC flow log fields (with the aliases AWS's documents use),
/// by position.
const VPC: [&[&str]; 14] = [
    &["@version", "version"],
    &["accountId"],
    &["interfaceId"],
    &["srcAddr"],
    &["dstAddr"],
    &["srcPort"],
    &["dstPort"],
    &["protocol"],
    &["packets"],
    &["bytes"],
    &["start", "startTime"],
    &["end", "endTime"],
    &["action"],
    &["logStatus"],
];

/// Reads a fixed list of field names out of messages.
#[derive(Debug, Clone)]
pub struct Extractor {
    names: Vec<String>,
    /// Position of each name in an Aurora audit record.
    aurora: Vec<Option<usize>>,
    /// Position of each name in a VPC flow log record.
    vpc: Vec<Option<usize>>,
}

impl Extractor {
    /// An extractor for `names`; `extract` fills one slot per name, in this order.
    pub fn new(names: &[String]) -> Extractor {
        let aurora = names.iter().map(|n| AURORA.iter().position(|a| a == n)).collect();
        let vpc = names.iter().map(|n| VPC.iter().position(|aliases| aliases.contains(&n.as_str()))).collect();
        Extractor { names: names.to_vec(), aurora, vpc }
    }

    /// Fills `out[i]` with the value of `names[i]` in `message`, or None.
    pub fn extract<'a>(&self, message: &'a str, out: &mut [Option<Cow<'a, str>>]) {
        out.iter_mut().for_each(|slot| *slot = None);
        let trimmed = message.trim_start();
        if trimmed.starts_with('{') {
            let start = message.len() - trimmed.len();
            JsonWalk { text: message, pos: start, names: &self.names, out, missing: self.names.len() }.root();
            return;
        }
        if let Some(values) = vpc_values(message) {
            fill_positional(&self.vpc, out, |i| Some(Cow::Borrowed(values[i])));
            return;
        }
        if let Some(record) = AuroraRecord::parse(message) {
            fill_positional(&self.aurora, out, |i| Some(record.value(i)));
        }
    }
}

fn fill_positional<'a>(positions: &[Option<usize>], out: &mut [Option<Cow<'a, str>>], value: impl Fn(usize) -> Option<Cow<'a, str>>) {
    for (slot, position) in out.iter_mut().zip(positions) {
        if let Some(i) = position {
            *slot = value(*i);
        }
    }
}

/// The fourteen values of a default-format (version 2) VPC flow log record.
fn vpc_values(message: &str) -> Option<[&str; 14]> {
    if !message.starts_with("2 ") {
        return None;
    }
    let mut values = [""; 14];
    let mut parts = message.split(' ');
    for value in values.iter_mut() {
        *value = parts.next().filter(|p| !p.is_empty())?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(values)
}

/// An Aurora MySQL audit record split into its fields.
struct AuroraRecord<'a> {
    /// The first eight fields, which hold no commas.
    head: [&'a str; 8],
    /// The object (query text), as written: possibly single-quoted.
    object: &'a str,
    retcode: &'a str,
}

impl<'a> AuroraRecord<'a> {
    /// Splits `message` when it looks like an audit record: a timestamp of digits first and at
    /// least ten comma-separated fields. The object may hold commas, so it is everything between
    /// the eighth comma and the last one.
    fn parse(message: &'a str) -> Option<AuroraRecord<'a>> {
        let mut head = [""; 8];
        let mut rest = message;
        for field in head.iter_mut() {
            let comma = memchr::memchr(b',', rest.as_bytes())?;
            *field = &rest[..comma];
            rest = &rest[comma + 1..];
        }
        if head[0].len() < 10 || !head[0].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let last = memchr::memrchr(b',', rest.as_bytes())?;
        Some(AuroraRecord { head, object: &rest[..last], retcode: &rest[last + 1..] })
    }

    fn value(&self, index: usize) -> Cow<'a, str> {
        match index {
            0..=7 => Cow::Borrowed(self.head[index]),
            8 => unquote(self.object),
            _ => Cow::Borrowed(self.retcode),
        }
    }
}

/// The query text of a single-quoted object without its quotes and backslash escapes.
fn unquote(object: &str) -> Cow<'_, str> {
    let inner = match object.strip_prefix('\'').and_then(|o| o.strip_suffix('\'')) {
        Some(inner) if object.len() >= 2 => inner,
        _ => return Cow::Borrowed(object),
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        if let Some(next) = chars.next() {
            out.push(unescape_char(next));
        }
    }
    Cow::Owned(out)
}

/// MySQL's escapes in quoted text.
fn unescape_char(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        '0' => '\0',
        c => c,
    }
}

/// A single pass over a JSON message that fills the slots of the wanted leaf paths and skips
/// every value no wanted path goes through.
struct JsonWalk<'a, 'n, 'o> {
    text: &'a str,
    pos: usize,
    names: &'n [String],
    out: &'o mut [Option<Cow<'a, str>>],
    /// Wanted paths not found yet: the walk stops when none is left.
    missing: usize,
}

impl<'a> JsonWalk<'a, '_, '_> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn root(&mut self) {
        let mut path = String::new();
        let _ = self.object(&mut path);
    }

    /// True when a wanted path lies below `path` (so its value must be entered).
    fn wanted_below(&self, path: &str) -> bool {
        self.names.iter().any(|n| n.len() > path.len() && n.starts_with(path) && n.as_bytes()[path.len()] == b'.')
    }

    /// Walks the object at `pos` (which is `{`). None when the JSON is malformed or the walk is done.
    fn object(&mut self, path: &mut String) -> Option<()> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return None;
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return None;
            }
            self.pos += 1;
            self.skip_ws();
            let before = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key);
            let visited = self.member(path);
            path.truncate(before);
            visited?;
            if self.missing == 0 {
                return None;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, path: &mut String) -> Option<()> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(());
        }
        let mut index = 0usize;
        loop {
            self.skip_ws();
            let before = path.len();
            path.push('.');
            path.push_str(&index.to_string());
            let visited = self.member(path);
            path.truncate(before);
            visited?;
            if self.missing == 0 {
                return None;
            }
            index += 1;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The value at `pos`, whose flattened name is `path`.
    fn member(&mut self, path: &mut String) -> Option<()> {
        let first = self.peek()?;
        if matches!(first, b'{' | b'[') {
            if !self.wanted_below(path) {
                return self.skip_container();
            }
            return if first == b'{' { self.object(path) } else { self.array(path) };
        }
        let slot = self.names.iter().position(|n| n.as_str() == path.as_str());
        let value = self.scalar()?;
        if let Some(i) = slot
            && self.out[i].is_none()
        {
            self.out[i] = value;
            self.missing -= 1;
        }
        Some(())
    }

    /// A string, number, boolean or null; null is no value.
    fn scalar(&mut self) -> Option<Option<Cow<'a, str>>> {
        match self.peek()? {
            b'"' => self.string().map(Some),
            b't' => self.word("true").map(|_| Some(Cow::Borrowed("1"))),
            b'f' => self.word("false").map(|_| Some(Cow::Borrowed("0"))),
            b'n' => self.word("null").map(|_| None),
            _ => {
                let start = self.pos;
                while matches!(self.peek(), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.pos += 1;
                }
                if start == self.pos {
                    return None;
                }
                Some(Some(Cow::Borrowed(&self.text[start..self.pos])))
            }
        }
    }

    fn word(&mut self, word: &str) -> Option<()> {
        if !self.text[self.pos..].starts_with(word) {
            return None;
        }
        self.pos += word.len();
        Some(())
    }

    /// The string at `pos` (which is `"`), unescaped.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos + 1;
        let bytes = self.bytes();
        let at = start + memchr::memchr2(b'"', b'\\', &bytes[start..])?;
        if bytes[at] == b'"' {
            self.pos = at + 1;
            return Some(Cow::Borrowed(&self.text[start..at]));
        }
        // An escape: finish the string the slow way.
        let mut out = String::from(&self.text[start..at]);
        self.pos = at;
        self.escaped_rest(&mut out)?;
        Some(Cow::Owned(out))
    }

    /// Appends the rest of a string that holds escapes, from `pos`, to `out`.
    fn escaped_rest(&mut self, out: &mut String) -> Option<()> {
        loop {
            let c = self.text[self.pos..].chars().next()?;
            self.pos += c.len_utf8();
            match c {
                '"' => return Some(()),
                '\\' => {
                    let e = self.peek()?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => out.push(self.unicode_escape()?),
                        other => out.push(other as char),
                    }
                }
                c => out.push(c),
            }
        }
    }

    /// The character of a `\uXXXX` escape (after `\u`), joining surrogate pairs.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return Some(char::from_u32(high).unwrap_or('\u{FFFD}'));
        }
        if !self.text[self.pos..].starts_with("\\u") {
            return Some('\u{FFFD}');
        }
        self.pos += 2;
        let low = self.hex4()?;
        let code = 0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
        Some(char::from_u32(code).unwrap_or('\u{FFFD}'))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// Skips the object or array at `pos`.
    fn skip_container(&mut self) -> Option<()> {
        let bytes = self.bytes();
        let mut depth = 0usize;
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b'"' => {
                    self.skip_string()?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return Some(());
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        None
    }

    fn skip_string(&mut self) -> Option<()> {
        let bytes = self.bytes();
        let mut i = self.pos + 1;
        loop {
            let at = i + memchr::memchr2(b'"', b'\\', &bytes[i..])?;
            if bytes[at] == b'"' {
                self.pos = at + 1;
                return Some(());
            }
            i = at + 2;
            if i > bytes.len() {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(message: &str, names: &[&str]) -> Vec<Option<String>> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let extractor = Extractor::new(&names);
        let mut out = vec![None; names.len()];
        extractor.extract(message, &mut out);
        out.into_iter().map(|v| v.map(|c| c.into_owned())).collect()
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some(v.to_string())).collect()
    }

    #[test]
    fn json_paths() {
        let message = r#"{"eventName":"PutLogEvents","userIdentity":{"arn":"arn:aws:iam::1:user/a\"b","n":5},"readOnly":true,
            "resources":[{"ARN":"x"},{"ARN":"y"}],"tags":["t0","t1"],"nothing":null,"bytes":1234.5,"skip":{"deep":[1,{"a":"}"}]}}"#;
        let got = extract(
            message,
            &["userIdentity.arn", "resources.1.ARN", "tags.0", "readOnly", "bytes", "nothing", "eventName", "userIdentity"],
        );
        let mut want = some(&["arn:aws:iam::1:user/a\"b", "y", "t0", "1", "1234.5"]);
        want.extend([None, Some("PutLogEvents".to_string()), None]);
        assert_eq!(got, want);
    }

    #[test]
    fn json_unicode_escapes() {
        assert_eq!(extract(r#"{"a":"\u00e9\ud83d\ude00\n"}"#, &["a"]), some(&["é😀\n"]));
    }

    #[test]
    fn vpc_flow_logs() {
        let message = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
        let got = extract(message, &["srcAddr", "dstPort", "bytes", "@version", "startTime", "end", "action", "logStatus", "operation"]);
        let mut want = some(&["172.31.16.139", "22", "4249", "2", "1418530010", "1418530070", "ACCEPT", "OK"]);
        want.push(None);
        assert_eq!(got, want);
        assert_eq!(extract("2 too few", &["srcAddr"]), vec![None]);
    }

    #[test]
    fn aurora_audit_records() {
        let plain = "1653053459680124,c731-instance-1,admin,52.94.133.136,35,698024,WRITE,testdb,test2,0";
        assert_eq!(extract(plain, &["operation", "object", "retcode", "timestamp"]), some(&["WRITE", "test2", "0", "1653053459680124"]));
        let quoted = r"1653053459680124,db1,admin,localhost,12,104,QUERY,shop,'INSERT INTO t VALUES (1,\'a,b\')',0";
        assert_eq!(extract(quoted, &["object", "retcode", "database"]), some(&["INSERT INTO t VALUES (1,'a,b')", "0", "shop"]));
        assert_eq!(extract("hello, world", &["object"]), vec![None]);
    }
}
