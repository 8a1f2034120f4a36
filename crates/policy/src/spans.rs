//! Where each statement sits in the source text, for SimulatePolicy's `StartPosition` /
//! `EndPosition`.
//!
//! serde_json parses the document; this scanner only walks text that serde_json has already
//! accepted, to find the byte range of every element of the top-level `Statement` (the last
//! `Statement` key when it repeats, as serde_json keeps the last). It is iterative, so depth
//! cannot overflow the stack, and it gives up (no positions) rather than panic on surprises.

/// A place in the source text as IAM reports it: 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// Line number, from 1.
    pub line: u32,
    /// Column number, from 1, counted in characters.
    pub column: u32,
}

/// Byte ranges `[start, end)` of each statement, or `None` if the text could not be walked.
pub(crate) fn statement_ranges(text: &str) -> Option<Vec<(usize, usize)>> {
    let b = text.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut found = None;
    loop {
        i = ws(b, i);
        match b.get(i)? {
            b'}' => return found,
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let (key, after) = string(text, i)?;
        i = ws(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(b, i + 1);
        let end = skip_value(b, i)?;
        if key == "Statement" {
            found = Some(match b.get(i)? {
                b'[' => elements(b, i)?,
                _ => vec![(i, end)],
            });
        }
        i = end;
    }
}

/// The ranges of the elements of the array starting at `i`.
fn elements(b: &[u8], mut i: usize) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    i += 1;
    loop {
        i = ws(b, i);
        match b.get(i)? {
            b']' => return Some(out),
            b',' => i += 1,
            _ => {
                let end = skip_value(b, i)?;
                out.push((i, end));
                i = end;
            }
        }
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Decodes the string starting at the quote at `i`; returns it and the index after it.
fn string(text: &str, i: usize) -> Option<(String, usize)> {
    let end = skip_string(text.as_bytes(), i)?;
    let decoded: String = serde_json::from_str(text.get(i..end)?).ok()?;
    Some((decoded, end))
}

fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// The index just after the value starting at `i`.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match b.get(i)? {
            b'"' => i = skip_string(b, i)?,
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            _ if depth == 0 => {
                // A scalar at the top: runs to the next delimiter.
                while b.get(i).is_some_and(|c| !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')) {
                    i += 1;
                }
                return Some(i);
            }
            _ => i += 1,
        }
        if depth == 0 {
            return Some(i);
        }
    }
}

/// Converts byte offsets into positions; `offsets` must be sorted.
pub(crate) fn positions(text: &str, offsets: &[usize]) -> Vec<Position> {
    let mut out = Vec::with_capacity(offsets.len());
    let (mut line, mut column) = (1u32, 1u32);
    let mut next = offsets.iter().peekable();
    for (at, c) in text.char_indices().chain(std::iter::once((text.len(), '\0'))) {
        while next.peek().is_some_and(|&&o| o == at) {
            out.push(Position { line, column });
            next.next();
        }
        if next.peek().is_none() {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_statements() {
        let doc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n    \"Effect\": \"Allow\",\n    \"Action\": \"s3:ListBucket\",\n    \"Resource\": \"arn:aws:s3:::teambucket\"\n  }\n}";
        let ranges = statement_ranges(doc).unwrap();
        assert_eq!(ranges.len(), 1);
        let p = positions(doc, &[ranges[0].0, ranges[0].1]);
        // The `{` opening the statement, and the column just past its `}`.
        assert_eq!(p, vec![Position { line: 3, column: 16 }, Position { line: 7, column: 4 }]);
    }

    #[test]
    fn arrays_and_escapes() {
        let doc = r#"{"Id":"a\"}","Statement":[{"Sid":"x]"},  {"Sid":"y"}]}"#;
        let ranges = statement_ranges(doc).unwrap();
        assert_eq!(ranges.iter().map(|&(s, e)| &doc[s..e]).collect::<Vec<_>>(), vec![r#"{"Sid":"x]"}"#, r#"{"Sid":"y"}"#]);
    }
}
