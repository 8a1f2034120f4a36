//! Wildcard patterns for actions, resource ARNs and condition values.
//!
//! Patterns are compiled once per document. Matching does not allocate unless the pattern
//! holds a policy variable (its resolved pieces are gathered into a small vector).
//!
//! - Actions: `service:Operation`, case-insensitive, `*` and `?` anywhere ("IAM JSON policy
//!   elements: Action").
//! - Resource ARNs: `arn:partition:service:region:account:resource`, case-sensitive, each of
//!   the six colon-separated parts matched on its own ("…: Resource", and the ARN condition
//!   operators: "Each of the six colon-delimited components of the ARN is checked
//!   separately"). The resource part is everything after the fifth colon, so a `*` there
//!   crosses `/` and `:` (`log-group:/aws/rds/*` covers `log-group:/aws/rds/x:log-stream:y`),
//!   while a `*` in the region part cannot swallow the account.

use crate::context::RequestContext;
use crate::variables::{Syntax, Tok, Var, tokenize, variable_keys};

/// A piece of a pattern, ready to match: resolved text or a wildcard.
#[derive(Debug, Clone, Copy)]
enum Piece<'a> {
    Lit(&'a str),
    Star,
    One,
}

/// The common forms of pattern, decided at compile time so most matches skip the general
/// wildcard loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `*`.
    Any,
    /// No wildcards, no variables: compared whole.
    Exact,
    /// Literal text then `*`, no variables (`logs:Put*`, `log-group:/aws/rds/*`).
    Prefix,
    /// Anything else.
    General,
}

/// A compiled wildcard pattern (or a plain value when it has no wildcards).
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    toks: Vec<Tok>,
    fold: bool,
    has_vars: bool,
    shape: Shape,
}

impl Glob {
    /// Compiles `text` under `syntax`.
    pub(crate) fn new(text: &str, syntax: Syntax) -> Glob {
        let toks = tokenize(text, syntax);
        let has_vars = toks.iter().any(|t| matches!(t, Tok::Var(_) | Tok::Broken));
        let shape = match toks.as_slice() {
            [Tok::Star] => Shape::Any,
            [] | [Tok::Lit(_)] => Shape::Exact,
            [Tok::Lit(_), Tok::Star] => Shape::Prefix,
            _ => Shape::General,
        };
        Glob { toks, fold: syntax.fold, has_vars, shape }
    }

    /// Whether `text` matches, resolving variables from `ctx`.
    #[inline]
    pub(crate) fn matches(&self, text: &str, ctx: &RequestContext) -> bool {
        if self.shape == Shape::Any {
            return true;
        }
        if self.fold && !text.is_ascii() {
            // Matching folds ASCII only; other letters are compared through their lowercase.
            return self.matches_folded(&text.to_lowercase(), ctx);
        }
        self.matches_folded(text, ctx)
    }

    /// Matching for a pattern without variables, by its shape.
    #[inline]
    fn matches_static(&self, text: &[u8], fold: Fold) -> bool {
        let lit = |i: usize| match self.toks.get(i) {
            Some(Tok::Lit(s)) => s.as_bytes(),
            _ => &[],
        };
        match self.shape {
            Shape::Any => true,
            Shape::Exact => text.len() == lit(0).len() && lit_at(text, 0, lit(0), fold),
            Shape::Prefix => lit_at(text, 0, lit(0), fold),
            Shape::General => glob_match(&self.toks, text, fold, tok_piece),
        }
    }

    fn matches_folded(&self, text: &str, ctx: &RequestContext) -> bool {
        if !self.has_vars {
            // Compiled literals are lowercase already when the pattern ignores case.
            return self.matches_static(text.as_bytes(), if self.fold { Fold::Text } else { Fold::None });
        }
        // Resolved pieces go in a stack buffer when they fit (they nearly always do), so
        // variables cost no allocation either.
        const INLINE: usize = 8;
        if self.toks.len() <= INLINE {
            let mut buf = [Piece::Star; INLINE];
            for (slot, tok) in buf.iter_mut().zip(&self.toks) {
                match resolve(tok, ctx) {
                    Some(piece) => *slot = piece,
                    None => return false,
                }
            }
            return glob_match(&buf[..self.toks.len()], text.as_bytes(), self.fold_both(), |p| *p);
        }
        match self.toks.iter().map(|t| resolve(t, ctx)).collect::<Option<Vec<_>>>() {
            Some(pieces) => glob_match(&pieces, text.as_bytes(), self.fold_both(), |p| *p),
            None => false,
        }
    }

    /// The variables this pattern reads.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &Var> {
        variable_keys(&self.toks)
    }

    fn fold_both(&self) -> Fold {
        if self.fold { Fold::Both } else { Fold::None }
    }
}

/// A token with its variable resolved; `None` when the variable has no value.
fn resolve<'a>(tok: &'a Tok, ctx: &'a RequestContext) -> Option<Piece<'a>> {
    Some(match tok {
        Tok::Lit(s) => Piece::Lit(s),
        Tok::Star => Piece::Star,
        Tok::One => Piece::One,
        Tok::Var(v) => Piece::Lit(v.resolve(ctx)?),
        Tok::Broken => return None,
    })
}

fn tok_piece(tok: &Tok) -> Piece<'_> {
    match tok {
        Tok::Lit(s) => Piece::Lit(s),
        Tok::Star => Piece::Star,
        Tok::One => Piece::One,
        // Only patterns without variables take this path.
        Tok::Var(_) | Tok::Broken => Piece::Lit("\u{0}${unresolved}"),
    }
}

/// Length of the UTF-8 character starting with byte `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// How literal text is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// Byte for byte.
    None,
    /// Ignoring ASCII case, the pattern side being lowercase already (compiled literals).
    Text,
    /// Ignoring ASCII case on both sides (literals that came from variables).
    Both,
}

/// Whether `lit` occurs in `text` at `at`.
#[inline]
fn lit_at(text: &[u8], at: usize, lit: &[u8], fold: Fold) -> bool {
    let Some(window) = text.get(at..at + lit.len()) else {
        return false;
    };
    match fold {
        // Short literals are the rule; a loop beats a call to memcmp for them.
        Fold::None if lit.len() <= 16 => window.iter().zip(lit).all(|(a, b)| a == b),
        Fold::None => window == lit,
        Fold::Text => window.iter().zip(lit).all(|(a, b)| a.to_ascii_lowercase() == *b),
        Fold::Both => window.eq_ignore_ascii_case(lit),
    }
}

/// Glob matching with one backtrack point: on a mismatch, the last `*` takes one more
/// character. Linear in practice, `O(pattern × text)` at worst, no recursion.
fn glob_match<P>(pattern: &[P], text: &[u8], fold: Fold, view: impl Fn(&P) -> Piece<'_>) -> bool {
    let (mut pi, mut ti) = (0, 0);
    // (pattern index just after the last `*`, text index that `*` would resume from)
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(p) = pattern.get(pi) {
            match view(p) {
                Piece::Star => {
                    star = Some((pi + 1, ti));
                    pi += 1;
                    continue;
                }
                Piece::One if ti < text.len() => {
                    ti += char_len(text[ti]);
                    pi += 1;
                    continue;
                }
                Piece::Lit(l) if lit_at(text, ti, l.as_bytes(), fold) => {
                    ti += l.len();
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        } else if ti == text.len() {
            return true;
        }
        match star {
            Some((sp, st)) if st < text.len() => {
                let next = st + char_len(text[st]);
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            _ => return false,
        }
    }
}

/// Byte offsets of the first five colons of an ARN, found once per request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArnView<'a> {
    text: &'a str,
    colons: [usize; 5],
    count: usize,
}

impl<'a> ArnView<'a> {
    /// Finds the colons of `text` (any string: one that is no ARN just has fewer parts).
    pub(crate) fn new(text: &'a str) -> ArnView<'a> {
        let mut colons = [0; 5];
        let count = first_colons(text.as_bytes(), &mut colons);
        ArnView { text, colons, count }
    }

    /// Part `i` of the text cut into `n` parts (the last part keeps any further colons).
    #[inline]
    fn part(&self, i: usize, n: usize) -> Option<&'a str> {
        if n == 0 || self.count < n - 1 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.colons[i - 1] + 1 };
        let end = if i + 1 == n { self.text.len() } else { self.colons[i] };
        self.text.get(start..end)
    }
}

/// Fills `out` with the positions of the first colons of `bytes`; returns how many.
///
/// Eight bytes at a time ("has a zero byte" on the word XOR ':'), since this runs once per
/// decision over the whole `arn:partition:service:region:account:` head.
fn first_colons(bytes: &[u8], out: &mut [usize; 5]) -> usize {
    const COLONS: u64 = u64::from_ne_bytes([b':'; 8]);
    const LOW: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut count = 0;
    let mut at = 0;
    for chunk in bytes.chunks(8) {
        let has_colon = match <[u8; 8]>::try_from(chunk) {
            Ok(word) => {
                let x = u64::from_ne_bytes(word) ^ COLONS;
                x.wrapping_sub(LOW) & !x & HIGH != 0
            }
            Err(_) => true,
        };
        if has_colon {
            for (j, &b) in chunk.iter().enumerate() {
                if b == b':' {
                    out[count] = at + j;
                    count += 1;
                    if count == out.len() {
                        return count;
                    }
                }
            }
        }
        at += chunk.len();
    }
    count
}

/// A compiled Resource / NotResource entry, or an ARN condition value.
#[derive(Debug, Clone)]
pub(crate) enum ArnPattern {
    /// `"*"`: every resource, including the `*` of actions without resource types.
    Any,
    /// The colon-separated parts; only the sixth may hold variables.
    Parts(ArnParts),
}

/// The parts of an ARN pattern, arranged so that matching does the least work: the plain
/// leading parts (`arn:aws:logs:`) are one comparison, parts that are `*` are skipped.
#[derive(Debug, Clone)]
pub(crate) struct ArnParts {
    /// How many colon-separated parts the pattern has (1 to 6).
    count: usize,
    /// The leading parts without wildcards, each followed by its colon. Such a part has no
    /// colon inside, so the text starting with `lead` is the same as each part being equal.
    lead: Box<[u8]>,
    /// The remaining parts that are not `*`, with their positions.
    rest: Vec<(usize, Glob)>,
}

impl ArnPattern {
    /// Compiles `text`; `variables` is whether the document substitutes `${…}`.
    pub(crate) fn new(text: &str, variables: bool) -> ArnPattern {
        if text == "*" {
            return ArnPattern::Any;
        }
        let prefix = Syntax { wildcards: true, variables: false, fold: false };
        // Variables are allowed only after the fifth colon (IAM User Guide, "Policy variables:
        // Resource element"); before it `${…}` is plain text, so the cut is made on the raw text.
        let mut raw_parts = Vec::with_capacity(6);
        let mut rest = text;
        while raw_parts.len() < 5 {
            match rest.split_once(':') {
                Some((head, tail)) => {
                    raw_parts.push(head);
                    rest = tail;
                }
                None => break,
            }
        }
        raw_parts.push(rest);
        let count = raw_parts.len();
        let mut lead = Vec::new();
        let mut leading = true;
        let mut parts = Vec::with_capacity(count);
        for (i, raw) in raw_parts.into_iter().enumerate() {
            let last = i + 1 == count;
            let syntax = if last { Syntax { variables: variables && count == 6, ..prefix } } else { prefix };
            let glob = Glob::new(raw, syntax);
            leading &= !last && glob.shape == Shape::Exact;
            if leading {
                lead.extend_from_slice(raw.as_bytes());
                lead.push(b':');
            } else if glob.shape != Shape::Any {
                parts.push((i, glob));
            }
        }
        ArnPattern::Parts(ArnParts { count, lead: lead.into_boxed_slice(), rest: parts })
    }

    /// Whether the resource (already cut by [`ArnView::new`]) matches.
    pub(crate) fn matches(&self, arn: &ArnView<'_>, ctx: &RequestContext) -> bool {
        let ArnPattern::Parts(p) = self else { return true };
        if arn.count + 1 < p.count || !lit_at(arn.text.as_bytes(), 0, &p.lead, Fold::None) {
            return false;
        }
        p.rest.iter().all(|(i, glob)| arn.part(*i, p.count).is_some_and(|part| glob.matches(part, ctx)))
    }

    /// The variables this pattern reads.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &Var> {
        let parts: &[(usize, Glob)] = match self {
            ArnPattern::Any => &[],
            ArnPattern::Parts(p) => &p.rest,
        };
        parts.iter().flat_map(|(_, glob)| glob.variables())
    }
}

/// A compiled Action / NotAction entry: case-insensitive, wildcards, no variables.
#[derive(Debug, Clone)]
pub(crate) struct ActionPattern(Glob);

impl ActionPattern {
    /// Compiles an action pattern such as `logs:Put*`.
    pub(crate) fn new(text: &str) -> ActionPattern {
        ActionPattern(Glob::new(text, Syntax { wildcards: true, variables: false, fold: true }))
    }

    /// Whether `action` (in any case) matches.
    pub(crate) fn matches(&self, action: &str) -> bool {
        self.0.matches_static(action.as_bytes(), Fold::Text)
    }

    /// Whether `action`, already ASCII-lowercased, matches: plain byte comparisons.
    pub(crate) fn matches_lowercase(&self, action: &[u8]) -> bool {
        self.0.matches_static(action, Fold::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        let mut c = RequestContext::new("s3:GetObject", "*");
        c.set("aws:username", "alice");
        c
    }

    fn like(pattern: &str, text: &str) -> bool {
        Glob::new(pattern, Syntax { wildcards: true, variables: true, fold: false }).matches(text, &ctx())
    }

    #[test]
    fn glob_basics() {
        assert!(like("*", ""));
        assert!(like("a*", "a"));
        assert!(like("a*c", "abbbc"));
        assert!(!like("a*c", "abbb"));
        assert!(like("a?c", "abc"));
        assert!(!like("a?c", "ac"));
        assert!(like("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!like("*a*b*c*", "xxaxxcxxbxx"));
        assert!(like("h?llo", "hällo"));
        assert!(like("home/${aws:username}/*", "home/alice/x"));
        assert!(!like("home/${aws:username}/*", "home/bob/x"));
        assert!(!like("${aws:nothing}", ""));
        assert!(like("${aws:nothing, ''}", ""));
    }

    #[test]
    fn resolved_text_is_literal() {
        let mut c = ctx();
        c.set("aws:username", "a*");
        let g = Glob::new("${aws:username}", Syntax { wildcards: true, variables: true, fold: false });
        assert!(g.matches("a*", &c));
        assert!(!g.matches("abc", &c));
    }

    #[test]
    fn arn_parts() {
        let c = ctx();
        let m = |p: &str, r: &str| ArnPattern::new(p, true).matches(&ArnView::new(r), &c);
        assert!(m("arn:aws:logs:*:*:log-group:/aws/rds/*", "arn:aws:logs:us-east-1:1:log-group:/aws/rds/x:log-stream:y"));
        assert!(!m("arn:aws:logs:*:*:log-group:/aws/rds/*", "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/x"));
        assert!(!m(
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/d"
        ));
        assert!(m("arn:aws:s3:::bucket/${aws:username}/*", "arn:aws:s3:::bucket/alice/k"));
        assert!(!m("arn:aws:s3:::bucket/*", "*"));
        assert!(m("*", "*"));
        assert!(m("arn:aws:*", "arn:aws:s3:::b"));
        assert!(m("arn:aws:sns:*:123456789012:*", "arn:aws:sns:us-east-1:123456789012:t"));
        assert!(!m("arn:aws:sns:*:123456789012:*", "arn:aws:sns:us-east-1:999999999999:t"));
        assert!(m("arn:aws:logs:us-east-1:123456789012:log-group:x", "arn:aws:logs:us-east-1:123456789012:log-group:x"));
        assert!(!m("arn:aws:logs:us-east-1:123456789012:log-group:x", "arn:aws:logs:us-east-1:123456789012:log-group"));
        assert!(!m("arn:aws:logs:us-east-1:123456789012:log-group:x", "arn:aws:logs:us-east-1"));
    }

    #[test]
    fn colon_positions() {
        let mut out = [0; 5];
        assert_eq!(first_colons(b"no colon here, none at all", &mut out), 0);
        assert_eq!(first_colons(b"a:b", &mut out), 1);
        assert_eq!(out[0], 1);
        let text = b"arn:aws:logs:us-east-1:123456789012:log-group:x:log-stream:y";
        assert_eq!(first_colons(text, &mut out), 5);
        let naive: Vec<usize> = text.iter().enumerate().filter(|(_, b)| **b == b':').map(|(i, _)| i).take(5).collect();
        assert_eq!(out.to_vec(), naive);
        assert_eq!(first_colons(b":::::::::", &mut out), 5);
        assert_eq!(out, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn actions_ignore_case() {
        assert!(ActionPattern::new("logs:Put*").matches("LOGS:putlogevents"));
        assert!(!ActionPattern::new("logs:Put*").matches("logs:GetLogEvents"));
        assert!(ActionPattern::new("*").matches("anything"));
    }
}
