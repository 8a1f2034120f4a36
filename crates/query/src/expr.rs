//! The boolean layer shared by JSON and space-delimited patterns: a cursor over the
//! pattern text and `&&` / `||` / parenthesised expressions over some condition type.
//!
//! AWS: "Compound expressions support the use of parentheses ("()") and the following
//! standard order of operations: () > && > ||." The same operators appear inside a
//! space-delimited field (`status_code = 404 || status_code = 410`).

use crate::error::PatternError;

/// A read position in the pattern text, with the small lexing helpers both grammars need.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'p> {
    text: &'p str,
    pos: usize,
}

impl<'p> Cursor<'p> {
    /// A cursor at the start of `text`.
    pub(crate) fn new(text: &'p str) -> Self {
        Cursor { text, pos: 0 }
    }

    /// The text not consumed yet.
    pub(crate) fn rest(&self) -> &'p str {
        &self.text[self.pos..]
    }

    /// True when everything has been consumed.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// The next character, if any.
    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Consumes `n` bytes; callers only pass lengths of text they just inspected.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.text.len());
    }

    /// Skips ASCII whitespace, which is insignificant between tokens in both grammars.
    pub(crate) fn skip_ws(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        self.pos += rest.len() - trimmed.len();
    }

    /// Consumes `token` if the text continues with it.
    pub(crate) fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// Consumes the longest run of characters satisfying `keep` and returns it.
    pub(crate) fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'p str {
        let rest = self.rest();
        let end = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.pos += end;
        &rest[..end]
    }

    /// A short quotation of what follows, for error messages.
    pub(crate) fn snippet(&self) -> String {
        let rest = self.rest();
        if rest.is_empty() {
            return "end of pattern".to_owned();
        }
        let cut: String = rest.chars().take(20).collect();
        format!("'{cut}'")
    }
}

/// A boolean combination of conditions.
#[derive(Debug, Clone)]
pub(crate) enum Expr<C> {
    /// One condition.
    Cond(C),
    /// Every part must hold (`&&`).
    All(Vec<Expr<C>>),
    /// At least one part must hold (`||`).
    Any(Vec<Expr<C>>),
}

impl<C> Expr<C> {
    /// Evaluates with short-circuiting; `test` decides each condition.
    pub(crate) fn eval(&self, test: &mut impl FnMut(&C) -> bool) -> bool {
        match self {
            Expr::Cond(c) => test(c),
            Expr::All(parts) => parts.iter().all(|p| p.eval(test)),
            Expr::Any(parts) => parts.iter().any(|p| p.eval(test)),
        }
    }

    /// Calls `visit` on every condition, left to right.
    pub(crate) fn for_each(&self, visit: &mut impl FnMut(&C)) {
        match self {
            Expr::Cond(c) => visit(c),
            Expr::All(parts) | Expr::Any(parts) => parts.iter().for_each(|p| p.for_each(visit)),
        }
    }

    /// Parses `or := and ('||' and)*` from the cursor; `cond` parses one condition.
    /// Stops (without consuming) at anything that is not an operator, leaving the
    /// caller to check for its own terminator (`}` or `,`).
    pub(crate) fn parse(
        cursor: &mut Cursor<'_>,
        cond: &mut impl FnMut(&mut Cursor<'_>) -> Result<C, PatternError>,
    ) -> Result<Self, PatternError> {
        Self::parse_depth(cursor, cond, 0)
    }

    fn parse_depth(
        cursor: &mut Cursor<'_>,
        cond: &mut impl FnMut(&mut Cursor<'_>) -> Result<C, PatternError>,
        depth: usize,
    ) -> Result<Self, PatternError> {
        let mut parts = vec![Self::parse_and(cursor, cond, depth)?];
        loop {
            cursor.skip_ws();
            if !cursor.eat("||") {
                break;
            }
            parts.push(Self::parse_and(cursor, cond, depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Any(parts) })
    }

    fn parse_and(
        cursor: &mut Cursor<'_>,
        cond: &mut impl FnMut(&mut Cursor<'_>) -> Result<C, PatternError>,
        depth: usize,
    ) -> Result<Self, PatternError> {
        let mut parts = vec![Self::parse_primary(cursor, cond, depth)?];
        loop {
            cursor.skip_ws();
            if !cursor.eat("&&") {
                break;
            }
            parts.push(Self::parse_primary(cursor, cond, depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::All(parts) })
    }

    fn parse_primary(
        cursor: &mut Cursor<'_>,
        cond: &mut impl FnMut(&mut Cursor<'_>) -> Result<C, PatternError>,
        depth: usize,
    ) -> Result<Self, PatternError> {
        // Patterns are at most a few kilobytes, but nesting still gets a bound so a
        // hostile `((((...` cannot exhaust the stack.
        const MAX_NESTING: usize = 64;
        cursor.skip_ws();
        if cursor.eat("(") {
            if depth >= MAX_NESTING {
                return Err(PatternError::syntax("parentheses are nested too deeply"));
            }
            let inner = Self::parse_depth(cursor, cond, depth + 1)?;
            cursor.skip_ws();
            if !cursor.eat(")") {
                return Err(PatternError::syntax(format_args!("expected ')' but found {}", cursor.snippet())));
            }
            return Ok(inner);
        }
        Ok(Expr::Cond(cond(cursor)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Conditions are single letters; `T` is true and `F` false.
    fn parse(text: &str) -> Expr<char> {
        let mut cursor = Cursor::new(text);
        let expr = Expr::parse(&mut cursor, &mut |c: &mut Cursor<'_>| {
            c.skip_ws();
            let ch = c.peek().ok_or_else(|| PatternError::syntax("letter expected"))?;
            c.advance(ch.len_utf8());
            Ok(ch)
        })
        .unwrap();
        cursor.skip_ws();
        assert!(cursor.at_end(), "{text}: left {:?}", cursor.rest());
        expr
    }

    fn truth(text: &str) -> bool {
        parse(text).eval(&mut |c| *c == 'T')
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert!(truth("T || F && F"));
        assert!(!truth("(T || F) && F"));
        assert!(truth("F && F || T"));
    }

    #[test]
    fn whitespace_is_optional() {
        assert!(truth("(F)||(T)"));
        assert!(!truth("T&&F"));
    }

    #[test]
    fn visits_conditions_in_order() {
        let mut seen = String::new();
        parse("(a || b) && c").for_each(&mut |c| seen.push(*c));
        assert_eq!(seen, "abc");
    }
}
