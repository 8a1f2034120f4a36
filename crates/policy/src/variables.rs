//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, `${*}`.
//!
//! A value that may hold variables is compiled once into [`Tok`]s; evaluation resolves the
//! variables against the request context. Rules (IAM User Guide, "Policy variables"):
//! - only in policies with `"Version": "2012-10-17"`; older documents keep `${…}` literally;
//! - only in the resource part of a Resource ARN and in String, ARN and Bool condition values;
//! - the key is case-insensitive and may be any context key; a key that is absent, or has
//!   more than one value (multivalued keys cannot be variables), takes the default if one
//!   is given (`, 'text'`, with `''` for a quote) and otherwise makes the value match nothing;
//! - `${*}`, `${?}` and `${$}` stand for a literal `*`, `?` and `$`;
//! - substitution is one pass: a resolved value is literal text, never wildcards or variables.
//!
//! How a malformed variable (`${`, `${}`, `${a b}`, `${a, x}`) behaves is not in AWS's docs;
//! it is treated like an unresolvable variable without default, which is what IAM-compatible
//! clouds document for the same syntax.

use crate::context::RequestContext;

/// One element of a compiled pattern or value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Text compared as is (lowercased at compile time when matching ignores case).
    Lit(Box<str>),
    /// `*`: any run of characters, including none (only in wildcard contexts).
    Star,
    /// `?`: exactly one character (only in wildcard contexts).
    One,
    /// A variable to resolve from the request context.
    Var(Var),
    /// A malformed `${…}`: never resolves.
    Broken,
}

/// A `${key}` or `${key, 'default'}` variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Var {
    /// The context key, lowercased (keys are case-insensitive).
    pub(crate) key: Box<str>,
    /// The text used when the key has no single value.
    pub(crate) default: Option<Box<str>>,
}

impl Var {
    /// The text this variable stands for in `ctx`, if any.
    pub(crate) fn resolve<'a>(&'a self, ctx: &'a RequestContext) -> Option<&'a str> {
        match ctx.get_lowercase(&self.key) {
            Some([one]) => Some(one.as_str()),
            _ => self.default.as_deref(),
        }
    }
}

/// How to read a text into tokens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (StringLike, ARN and Resource patterns, actions).
    pub(crate) wildcards: bool,
    /// `${…}` is a variable (2012-10-17 documents, in places variables are allowed).
    pub(crate) variables: bool,
    /// Lowercase literal text (case-insensitive comparison).
    pub(crate) fold: bool,
}

/// Splits `text` into tokens under `syntax`; adjacent literal text is merged.
pub(crate) fn tokenize(text: &str, syntax: Syntax) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if syntax.variables && rest.starts_with("${") {
            let (tok, used) = read_variable(&rest[2..]);
            rest = &rest[2 + used..];
            match tok {
                Tok::Lit(s) => lit.push_str(&s),
                other => {
                    flush(&mut out, &mut lit, syntax.fold);
                    out.push(other);
                }
            }
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '*' if syntax.wildcards => {
                flush(&mut out, &mut lit, syntax.fold);
                // `**` means the same as `*`; keeping one keeps matching linear.
                if out.last() != Some(&Tok::Star) {
                    out.push(Tok::Star);
                }
            }
            '?' if syntax.wildcards => {
                flush(&mut out, &mut lit, syntax.fold);
                out.push(Tok::One);
            }
            _ => lit.push(c),
        }
    }
    flush(&mut out, &mut lit, syntax.fold);
    out
}

fn flush(out: &mut Vec<Tok>, lit: &mut String, fold: bool) {
    if lit.is_empty() {
        return;
    }
    let text = std::mem::take(lit);
    let text = if fold { text.to_lowercase() } else { text };
    out.push(Tok::Lit(text.into_boxed_str()));
}

/// Reads the inside of `${…}` from `s` (just after `${`): the token and the bytes used,
/// the closing brace included.
fn read_variable(s: &str) -> (Tok, usize) {
    for special in ["*", "?", "$"] {
        if s.strip_prefix(special).is_some_and(|r| r.starts_with('}')) {
            return (Tok::Lit(special.into()), 2);
        }
    }
    match parse_variable(s) {
        Some((var, used)) => (Tok::Var(var), used),
        // Skip to the next closing brace so the rest of the text is still read.
        None => (Tok::Broken, s.find('}').map_or(s.len(), |i| i + 1)),
    }
}

fn parse_variable(s: &str) -> Option<(Var, usize)> {
    let bytes = s.as_bytes();
    let mut i = skip_ws(bytes, 0);
    let key_start = i;
    while i < bytes.len() && !matches!(bytes[i], b'}' | b',') && !bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    let key = &s[key_start..i];
    if key.is_empty() {
        return None;
    }
    i = skip_ws(bytes, i);
    let mut default = None;
    if bytes.get(i) == Some(&b',') {
        i = skip_ws(bytes, i + 1);
        if bytes.get(i) != Some(&b'\'') {
            return None;
        }
        i += 1;
        let mut text = String::new();
        loop {
            let c = s[i..].chars().next()?;
            i += c.len_utf8();
            if c == '\'' {
                if bytes.get(i) == Some(&b'\'') {
                    text.push('\'');
                    i += 1;
                    continue;
                }
                break;
            }
            text.push(c);
        }
        default = Some(text.into_boxed_str());
        i = skip_ws(bytes, i);
    }
    if bytes.get(i) != Some(&b'}') {
        return None;
    }
    Some((Var { key: key.to_lowercase().into_boxed_str(), default }, i + 1))
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The context keys that the variables in `toks` read.
pub(crate) fn variable_keys(toks: &[Tok]) -> impl Iterator<Item = &Var> {
    toks.iter().filter_map(|t| match t {
        Tok::Var(v) => Some(v),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Syntax = Syntax { wildcards: true, variables: true, fold: false };

    fn lit(s: &str) -> Tok {
        Tok::Lit(s.into())
    }

    #[test]
    fn plain_text_and_wildcards() {
        assert_eq!(tokenize("a*b?c", ALL), vec![lit("a"), Tok::Star, lit("b"), Tok::One, lit("c")]);
        assert_eq!(tokenize("a**b", ALL), vec![lit("a"), Tok::Star, lit("b")]);
        let no_wild = Syntax { wildcards: false, ..ALL };
        assert_eq!(tokenize("a*b?", no_wild), vec![lit("a*b?")]);
    }

    #[test]
    fn variables_and_defaults() {
        let toks = tokenize("home/${aws:UserName}/*", ALL);
        assert_eq!(toks[1], Tok::Var(Var { key: "aws:username".into(), default: None }));
        let toks = tokenize("${ aws:PrincipalTag/team , 'it''s' }", ALL);
        assert_eq!(toks, vec![Tok::Var(Var { key: "aws:principaltag/team".into(), default: Some("it's".into()) })]);
    }

    #[test]
    fn special_characters_are_literal() {
        assert_eq!(tokenize("a${*}b${?}${$}", ALL), vec![lit("a*b?$")]);
    }

    #[test]
    fn malformed_variables_never_resolve() {
        for text in ["${", "${}", "${a b}", "${a, x}", "${a, 'x}", "${a 'x'}"] {
            assert!(tokenize(text, ALL).contains(&Tok::Broken), "{text}");
        }
    }

    #[test]
    fn without_variables_dollar_braces_are_text() {
        let syntax = Syntax { variables: false, ..ALL };
        assert_eq!(tokenize("${aws:username}", syntax), vec![lit("${aws:username}")]);
    }
}
