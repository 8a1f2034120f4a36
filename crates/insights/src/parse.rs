//! The Logs Insights query language (CWLI): lexer and recursive-descent parser into an AST.
//!
//! Source: AWS, "CloudWatch Logs Insights language query syntax" (CWL_QuerySyntax.html) and the
//! pages of each command and function. Commands are separated by `|`; `#` starts a comment that
//! runs to the end of the line. Command names, keywords (`and`, `or`, `not`, `like`, `in`, `as`,
//! `by`, `asc`, `desc`) and function names are matched case-insensitively.

use crate::QueryError;

/// A parsed query: its commands in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The pipeline, first command first.
    pub commands: Vec<Command>,
}

impl Query {
    /// True when some command reads or shows the field `name`.
    pub fn references(&self, name: &str) -> bool {
        let mut found = false;
        let mut check = |e: &Expr| e.visit_fields(&mut |f| found |= f == name);
        for command in &self.commands {
            match command {
                Command::Fields(items) | Command::Display(items) => items.iter().for_each(|i| check(&i.expr)),
                Command::Filter(e) => check(e),
                Command::Stats(s) => s.aggs.iter().chain(&s.by).for_each(|i| check(&i.expr)),
                Command::Sort(keys) => keys.iter().for_each(|k| check(&k.expr)),
                Command::Parse(p) => check(&p.source),
                Command::Dedup(names) => names.iter().for_each(|n| check(&Expr::Field(n.clone()))),
                Command::Limit(_) | Command::Unmask => {}
            }
        }
        found
    }
}

/// One command of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `fields a, expr as b`: computes fields and adds them to the displayed ones.
    Fields(Vec<Item>),
    /// `display a, b`: the fields shown; the last `display` wins.
    Display(Vec<Item>),
    /// `filter expr`.
    Filter(Expr),
    /// `stats agg [as x], ... [by group [as y], ...]`.
    Stats(Stats),
    /// `sort key [asc|desc], ...`.
    Sort(Vec<SortKey>),
    /// `limit n`.
    Limit(usize),
    /// `parse field "glob" as a, b` or `parse field /regex with (?<named>groups)/`.
    Parse(Parse),
    /// `dedup a, b`: keeps the first row of each combination of values.
    Dedup(Vec<String>),
    /// `unmask`: nothing is masked here, so it changes nothing.
    Unmask,
}

/// An expression with the name its result takes (the alias, or the expression's text).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// What to compute.
    pub expr: Expr,
    /// The result field's name.
    pub name: String,
}

/// The `stats` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Aggregations (expressions containing aggregate calls), in order.
    pub aggs: Vec<Item>,
    /// Grouping expressions (`by`), in order.
    pub by: Vec<Item>,
}

/// One key of `sort`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// The sorted expression.
    pub expr: Expr,
    /// True for `desc`; AWS sorts ascending when no direction is given.
    pub desc: bool,
}

/// The `parse` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Parse {
    /// The parsed field (`@message` when omitted).
    pub source: Expr,
    /// The regular expression the pattern compiles to (globs are translated).
    pub regex: String,
    /// The created fields, one per capture group, in order.
    pub names: Vec<String>,
}

/// A time period such as `5m` (bin, datefloor, dateceiling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A fixed length in milliseconds (ms, s, m, h, d).
    Millis(i64),
    /// Whole weeks, starting on Mondays.
    Weeks(i64),
    /// Calendar months (mo, q = 3 months, y = 12 months).
    Months(i64),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `^`
    Pow,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field: built-in (`@timestamp`), discovered (`userIdentity.arn`) or created.
    Field(String),
    /// A string literal.
    Str(String),
    /// A number literal; `int` when written without a fraction.
    Num { value: f64, int: bool },
    /// A regular expression literal `/.../`.
    Regex(String),
    /// A period literal such as `5m`.
    Period(Period),
    /// `*` as in `count(*)`.
    Star,
    /// Unary minus.
    Neg(Box<Expr>),
    /// `not`.
    Not(Box<Expr>),
    /// Arithmetic, comparison and boolean operators.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `like "substring"`, `like /regex/`, `=~ /regex/` and their negations.
    Like { expr: Box<Expr>, pattern: Box<Expr>, negated: bool },
    /// `in [...]`, `not in [...]`.
    In { expr: Box<Expr>, list: Vec<Expr>, negated: bool },
    /// A function call; `name` is lower case.
    Call { name: String, args: Vec<Expr> },
}

impl Expr {
    /// Calls `f` on every field name this expression reads.
    pub fn visit_fields(&self, f: &mut dyn FnMut(&str)) {
        match self {
            Expr::Field(name) => f(name),
            Expr::Neg(e) | Expr::Not(e) => e.visit_fields(f),
            Expr::Binary(_, a, b) => {
                a.visit_fields(f);
                b.visit_fields(f);
            }
            Expr::Like { expr, pattern, .. } => {
                expr.visit_fields(f);
                pattern.visit_fields(f);
            }
            Expr::In { expr, list, .. } => {
                expr.visit_fields(f);
                list.iter().for_each(|e| e.visit_fields(f));
            }
            // bin() reads @timestamp without naming it.
            Expr::Call { name, .. } if name == "bin" => f("@timestamp"),
            // earliest() and latest() order by @timestamp.
            Expr::Call { name, args } if name == "earliest" || name == "latest" => {
                f("@timestamp");
                args.iter().for_each(|e| e.visit_fields(f));
            }
            Expr::Call { args, .. } => args.iter().for_each(|e| e.visit_fields(f)),
            Expr::Str(_) | Expr::Num { .. } | Expr::Regex(_) | Expr::Period(_) | Expr::Star => {}
        }
    }

    /// True when the expression contains an aggregate function call.
    pub fn has_aggregate(&self) -> bool {
        match self {
            Expr::Call { name, args } => AGGREGATES.contains(&name.as_str()) || args.iter().any(Expr::has_aggregate),
            Expr::Neg(e) | Expr::Not(e) => e.has_aggregate(),
            Expr::Binary(_, a, b) => a.has_aggregate() || b.has_aggregate(),
            Expr::Like { expr, .. } => expr.has_aggregate(),
            Expr::In { expr, .. } => expr.has_aggregate(),
            _ => false,
        }
    }
}

/// Aggregate functions of `stats` (AWS's "aggregation" and "non-aggregation" functions in stats).
pub const AGGREGATES: &[&str] = &[
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "pct",
    "percentile",
    "stddev",
    "earliest",
    "latest",
    "sortsfirst",
    "sortslast",
];

/// Scalar functions with their argument counts (min, max).
const SCALARS: &[(&str, usize, usize)] = &[
    // String functions.
    ("strlen", 1, 1),
    ("toupper", 1, 1),
    ("tolower", 1, 1),
    ("trim", 1, 2),
    ("ltrim", 1, 2),
    ("rtrim", 1, 2),
    ("concat", 1, usize::MAX),
    ("substr", 2, 3),
    ("replace", 3, 3),
    ("strcontains", 2, 2),
    ("isempty", 1, 1),
    ("isblank", 1, 1),
    // General functions.
    ("ispresent", 1, 1),
    ("coalesce", 1, usize::MAX),
    ("unmask", 1, 1),
    // Numeric functions.
    ("abs", 1, 1),
    ("ceil", 1, 1),
    ("floor", 1, 1),
    ("greatest", 1, usize::MAX),
    ("least", 1, usize::MAX),
    ("log", 1, 1),
    ("sqrt", 1, 1),
    // Datetime functions.
    ("bin", 1, 1),
    ("datefloor", 2, 2),
    ("dateceiling", 2, 2),
    ("frommillis", 1, 1),
    ("tomillis", 1, 1),
    // IP address functions.
    ("isvalidip", 1, 1),
    ("isvalidipv4", 1, 1),
    ("isvalidipv6", 1, 1),
    ("isipinsubnet", 2, 2),
    ("isipv4insubnet", 2, 2),
    ("isipv6insubnet", 2, 2),
];

/// Argument counts (min, max) of the aggregate functions.
fn aggregate_arity(name: &str) -> (usize, usize) {
    match name {
        "pct" | "percentile" => (2, 2),
        _ => (1, 1),
    }
}

/// Parses a whole query.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let tokens = lex(text)?;
    let mut parser = Parser { text, tokens, at: 0 };
    parser.query()
}

// ---------------------------------------------------------------------------------------------
// Lexer

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word: field, command, keyword or function name.
    Ident(String),
    /// A field written in backticks (never a keyword).
    Quoted(String),
    Str(String),
    Regex(String),
    Num(f64, bool),
    Period(Period),
    Pipe,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eof,
}

/// A token with where it was found.
#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Byte range in the query text.
    start: usize,
    end: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let bytes = text.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let tok = match c {
            b'"' | b'\'' => {
                let (s, next) = lex_string(text, i)?;
                i = next;
                Tok::Str(s)
            }
            b'`' => {
                let Some(len) = text[i + 1..].find('`') else {
                    return Err(unexpected(text, i, "`"));
                };
                i += len + 2;
                Tok::Quoted(text[start + 1..i - 1].to_string())
            }
            b'/' if regex_allowed(&tokens) => {
                let (s, next) = lex_regex(text, i)?;
                i = next;
                Tok::Regex(s)
            }
            b'0'..=b'9' => {
                let (tok, next) = lex_number(text, i)?;
                i = next;
                tok
            }
            c if is_ident_start(c) => {
                while i < bytes.len() && is_ident_char(bytes[i]) {
                    i += 1;
                }
                Tok::Ident(text[start..i].to_string())
            }
            _ => {
                let (tok, len) = lex_symbol(bytes, i).ok_or_else(|| unexpected(text, i, symbol_at(text, i)))?;
                i += len;
                tok
            }
        };
        tokens.push(Token { tok, start, end: i });
    }
    tokens.push(Token { tok: Tok::Eof, start: text.len(), end: text.len() });
    Ok(tokens)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || matches!(c, b'_' | b'@' | b'$') || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == b'.'
}

/// Operators and punctuation: the token and its length.
fn lex_symbol(bytes: &[u8], i: usize) -> Option<(Tok, usize)> {
    let next = bytes.get(i + 1).copied();
    let two = match (bytes[i], next) {
        (b'!', Some(b'=')) => Some(Tok::Ne),
        (b'<', Some(b'=')) => Some(Tok::Le),
        (b'>', Some(b'=')) => Some(Tok::Ge),
        (b'=', Some(b'~')) => Some(Tok::Match),
        (b'=', Some(b'=')) => Some(Tok::Eq),
        _ => None,
    };
    if let Some(tok) = two {
        return Some((tok, 2));
    }
    let tok = match bytes[i] {
        b'|' => Tok::Pipe,
        b',' => Tok::Comma,
        b'(' => Tok::LParen,
        b')' => Tok::RParen,
        b'[' => Tok::LBracket,
        b']' => Tok::RBracket,
        b'=' => Tok::Eq,
        b'<' => Tok::Lt,
        b'>' => Tok::Gt,
        b'+' => Tok::Plus,
        b'-' => Tok::Minus,
        b'*' => Tok::Star,
        b'/' => Tok::Slash,
        b'%' => Tok::Percent,
        b'^' => Tok::Caret,
        _ => return None,
    };
    Some((tok, 1))
}

/// A `/` starts a regular expression where no division can stand: after `like`, `=~`, an
/// opening bracket, a comma, `parse` or `parse field`.
fn regex_allowed(tokens: &[Token]) -> bool {
    let Some(prev) = tokens.last() else { return true };
    let is_word = |t: &Token, w: &str| matches!(&t.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(w));
    if is_word(prev, "like") || is_word(prev, "parse") {
        return true;
    }
    if matches!(prev.tok, Tok::Match | Tok::LParen | Tok::Comma | Tok::LBracket | Tok::Pipe | Tok::Eq | Tok::Ne) {
        return true;
    }
    let before = tokens.len().checked_sub(2).map(|i| &tokens[i]);
    matches!(prev.tok, Tok::Ident(_) | Tok::Quoted(_)) && before.is_some_and(|t| is_word(t, "parse"))
}

fn lex_string(text: &str, start: usize) -> Result<(String, usize), QueryError> {
    let quote = text.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((offset, c)) = chars.next() {
        if c == quote {
            return Ok((out, start + 1 + offset + 1));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, c)) if c == quote || c == '\\' => out.push(c),
            // Other escapes stay as written: glob patterns pass them on to the regex.
            Some((_, c)) => {
                out.push('\\');
                out.push(c);
            }
            None => break,
        }
    }
    Err(unexpected(text, start, &quote.to_string()))
}

fn lex_regex(text: &str, start: usize) -> Result<(String, usize), QueryError> {
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '/' => return Ok((out, start + 1 + offset + 1)),
            '\\' => match chars.next() {
                Some((_, '/')) => out.push('/'),
                Some((_, c)) => {
                    out.push('\\');
                    out.push(c);
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(unexpected(text, start, "/"))
}

/// A number, or a period when a time unit follows the digits (`5m`, `1h`, `30s`).
fn lex_number(text: &str, start: usize) -> Result<(Tok, usize), QueryError> {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let mut int = true;
    if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
        int = false;
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    let number = &text[start..i];
    let unit_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
        i += 1;
    }
    if unit_start == i {
        let value = number.parse::<f64>().map_err(|_| unexpected(text, start, number))?;
        return Ok((Tok::Num(value, int), i));
    }
    let amount = number.parse::<i64>().ok().filter(|_| int);
    let period = amount.and_then(|n| period(n, &text[unit_start..i]));
    match period {
        Some(p) => Ok((Tok::Period(p), i)),
        None => Err(unexpected(text, start, &text[start..i])),
    }
}

/// AWS's units for bin(): every unit of more than one letter may also take an `s`.
fn period(n: i64, unit: &str) -> Option<Period> {
    let unit = unit.to_ascii_lowercase();
    let base = if unit.len() > 1 { unit.strip_suffix('s').unwrap_or(&unit) } else { &unit };
    let millis = |m: i64| Some(Period::Millis(n.checked_mul(m)?));
    match base {
        "millisecond" | "ms" | "msec" => millis(1),
        "second" | "s" | "sec" => millis(1_000),
        "minute" | "m" | "min" => millis(60_000),
        "hour" | "h" | "hr" => millis(3_600_000),
        "day" | "d" => millis(86_400_000),
        "week" | "w" => Some(Period::Weeks(n)),
        "month" | "mo" | "mon" => Some(Period::Months(n)),
        "quarter" | "q" | "qtr" => Some(Period::Months(n.checked_mul(3)?)),
        "year" | "y" | "yr" => Some(Period::Months(n.checked_mul(12)?)),
        _ => None,
    }
    .filter(|p| !matches!(p, Period::Millis(0) | Period::Weeks(0) | Period::Months(0)))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Line and position (both from 1) of a byte offset.
fn line_and_position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn symbol_at(text: &str, offset: usize) -> &str {
    let rest = &text[offset..];
    let len = rest.chars().next().map_or(0, char::len_utf8);
    &rest[..len]
}

/// AWS's MalformedQueryException text for an unexpected symbol.
fn unexpected(text: &str, offset: usize, symbol: &str) -> QueryError {
    if offset >= text.len() {
        return QueryError::new("unexpected end of query".to_string());
    }
    let (line, position) = line_and_position(text, offset);
    QueryError::new(format!("unexpected symbol found {symbol} at line {line} and position {position}"))
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    at: usize,
}

/// Commands of the language that this engine does not run.
const UNSUPPORTED_COMMANDS: &[&str] = &["pattern", "diff", "anomaly", "filterindex", "source", "unnest", "lookup", "addtotals"];

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.at].tok
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    /// The error for the current token.
    fn error_here(&self) -> QueryError {
        let token = &self.tokens[self.at];
        unexpected(self.text, token.start, &self.text[token.start..token.end])
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.is_word(word);
        if found {
            self.advance();
        }
        found
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let found = self.peek() == tok;
        if found {
            self.advance();
        }
        found
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), QueryError> {
        if self.eat(tok) { Ok(()) } else { Err(self.error_here()) }
    }

    /// The source text between the start of token `from` and the end of the previous token.
    fn text_since(&self, from: usize) -> String {
        let start = self.tokens[from].start;
        let end = self.tokens[self.at.saturating_sub(1).max(from)].end;
        self.text[start..end.max(start)].trim().to_string()
    }

    fn query(&mut self) -> Result<Query, QueryError> {
        if *self.peek() == Tok::Eof {
            return Err(QueryError::new("Query string cannot be empty".to_string()));
        }
        let mut commands = Vec::new();
        loop {
            commands.push(self.command()?);
            match self.peek() {
                Tok::Eof => break,
                Tok::Pipe => {
                    self.advance();
                }
                _ => return Err(self.error_here()),
            }
        }
        Ok(Query { commands })
    }

    fn command(&mut self) -> Result<Command, QueryError> {
        let Tok::Ident(word) = self.peek().clone() else {
            return Err(self.error_here());
        };
        let word = word.to_ascii_lowercase();
        if UNSUPPORTED_COMMANDS.contains(&word.as_str()) {
            return Err(QueryError::new(format!("The {word} command is not supported")));
        }
        let command_at = self.at;
        self.advance();
        let command = match word.as_str() {
            "fields" => Command::Fields(no_aggregates(self.items()?, |i| &i.expr)?),
            "display" => Command::Display(no_aggregates(self.items()?, |i| &i.expr)?),
            "filter" => Command::Filter(no_aggregates(vec![self.expr()?], |e| e)?.remove(0)),
            "stats" => Command::Stats(self.stats()?),
            "sort" => Command::Sort(no_aggregates(self.sort_keys()?, |k| &k.expr)?),
            "limit" => Command::Limit(self.limit()?),
            "parse" => Command::Parse(self.parse_command()?),
            "dedup" => Command::Dedup(self.field_list()?),
            "unmask" => self.unmask()?,
            _ => {
                self.at = command_at;
                return Err(self.error_here());
            }
        };
        Ok(command)
    }

    fn items(&mut self) -> Result<Vec<Item>, QueryError> {
        let mut items = vec![self.item()?];
        while self.eat(&Tok::Comma) {
            items.push(self.item()?);
        }
        Ok(items)
    }

    /// `expr [as name]`; without an alias the name is the expression's text.
    fn item(&mut self) -> Result<Item, QueryError> {
        let from = self.at;
        let expr = self.expr()?;
        let text = self.text_since(from);
        let name = match self.eat_word("as") {
            true => self.name()?,
            false => match &expr {
                Expr::Field(name) => name.clone(),
                _ => text,
            },
        };
        Ok(Item { expr, name })
    }

    /// A field name: a word or a backtick-quoted name.
    fn name(&mut self) -> Result<String, QueryError> {
        match self.peek().clone() {
            Tok::Ident(s) | Tok::Quoted(s) => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.error_here()),
        }
    }

    fn field_list(&mut self) -> Result<Vec<String>, QueryError> {
        let mut names = vec![self.name()?];
        while self.eat(&Tok::Comma) {
            names.push(self.name()?);
        }
        Ok(names)
    }

    fn stats(&mut self) -> Result<Stats, QueryError> {
        let mut aggs = Vec::new();
        loop {
            let from = self.at;
            let item = self.item()?;
            if !item.expr.has_aggregate() {
                self.at = from;
                return Err(self.error_here());
            }
            aggs.push(item);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        let by = if self.eat_word("by") { self.items()? } else { Vec::new() };
        if let Some(item) = by.iter().find(|i| i.expr.has_aggregate()) {
            return Err(QueryError::new(format!("Aggregate functions are not allowed in the by clause: {}", item.name)));
        }
        Ok(Stats { aggs, by })
    }

    fn sort_keys(&mut self) -> Result<Vec<SortKey>, QueryError> {
        let mut keys = Vec::new();
        loop {
            let expr = self.expr()?;
            let desc = if self.eat_word("desc") {
                true
            } else {
                self.eat_word("asc");
                false
            };
            keys.push(SortKey { expr, desc });
            if !self.eat(&Tok::Comma) {
                return Ok(keys);
            }
        }
    }

    fn limit(&mut self) -> Result<usize, QueryError> {
        match self.peek().clone() {
            Tok::Num(n, true) if n >= 1.0 => {
                self.advance();
                Ok(n as usize)
            }
            _ => Err(self.error_here()),
        }
    }

    fn unmask(&mut self) -> Result<Command, QueryError> {
        if matches!(self.peek(), Tok::Ident(_) | Tok::Quoted(_)) {
            self.field_list()?;
        }
        Ok(Command::Unmask)
    }

    fn parse_command(&mut self) -> Result<Parse, QueryError> {
        let source = match self.peek() {
            Tok::Str(_) | Tok::Regex(_) => Expr::Field("@message".to_string()),
            _ => Expr::Field(self.name()?),
        };
        let pattern_at = self.at;
        match self.advance().tok {
            Tok::Str(glob) => {
                let regex = glob_to_regex(&glob);
                let stars = glob.matches('*').count();
                if !self.eat_word("as") {
                    return Err(self.error_here());
                }
                let names = self.field_list()?;
                if names.len() != stars {
                    return Err(QueryError::new(format!(
                        "The number of fields in the parse pattern ({stars}) does not match the number of names ({})",
                        names.len()
                    )));
                }
                Ok(Parse { source, regex, names })
            }
            Tok::Regex(regex) => {
                let compiled = regex::Regex::new(&regex).map_err(|e| invalid_regex(&regex, &e))?;
                let names: Vec<String> = compiled.capture_names().flatten().map(str::to_string).collect();
                if names.is_empty() {
                    return Err(QueryError::new(format!("The parse regular expression /{regex}/ has no named capture group")));
                }
                if self.is_word("as") {
                    return Err(self.error_here());
                }
                Ok(Parse { source, regex, names })
            }
            _ => {
                self.at = pattern_at;
                Err(self.error_here())
            }
        }
    }

    // Expressions, from the loosest binding to the tightest.

    fn expr(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and_expr()?;
        while self.eat_word("or") {
            let right = self.and_expr()?;
            left = Expr::Binary(BinOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.not_expr()?;
        while self.eat_word("and") {
            let right = self.not_expr()?;
            left = Expr::Binary(BinOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, QueryError> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(self.not_expr()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, QueryError> {
        let left = self.additive()?;
        let op = match self.peek() {
            Tok::Eq => BinOp::Eq,
            Tok::Ne => BinOp::Ne,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::Match => {
                self.advance();
                let pattern = self.regex_literal()?;
                return Ok(Expr::Like { expr: Box::new(left), pattern: Box::new(pattern), negated: false });
            }
            _ => return self.keyword_comparison(left),
        };
        self.advance();
        let right = self.additive()?;
        Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
    }

    /// `like`, `not like`, `in`, `not in` after an operand.
    fn keyword_comparison(&mut self, left: Expr) -> Result<Expr, QueryError> {
        let negated = self.is_word("not") && self.next_is_word(&["like", "in"]);
        if negated {
            self.advance();
        }
        if self.eat_word("like") {
            let pattern = self.like_pattern()?;
            return Ok(Expr::Like { expr: Box::new(left), pattern: Box::new(pattern), negated });
        }
        if self.eat_word("in") {
            let list = self.list()?;
            return Ok(Expr::In { expr: Box::new(left), list, negated });
        }
        Ok(left)
    }

    fn next_is_word(&self, words: &[&str]) -> bool {
        let next = &self.tokens[(self.at + 1).min(self.tokens.len() - 1)].tok;
        matches!(next, Tok::Ident(s) if words.iter().any(|w| s.eq_ignore_ascii_case(w)))
    }

    fn like_pattern(&mut self) -> Result<Expr, QueryError> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.advance();
                Ok(Expr::Str(s))
            }
            _ => self.regex_literal(),
        }
    }

    fn regex_literal(&mut self) -> Result<Expr, QueryError> {
        let Tok::Regex(r) = self.peek().clone() else {
            return Err(self.error_here());
        };
        regex::Regex::new(&r).map_err(|e| invalid_regex(&r, &e))?;
        self.advance();
        Ok(Expr::Regex(r))
    }

    /// `[a, b, ...]`.
    fn list(&mut self) -> Result<Vec<Expr>, QueryError> {
        self.expect(&Tok::LBracket)?;
        let mut list = Vec::new();
        if self.eat(&Tok::RBracket) {
            return Ok(list);
        }
        loop {
            list.push(self.additive()?);
            if self.eat(&Tok::RBracket) {
                return Ok(list);
            }
            self.expect(&Tok::Comma)?;
        }
    }

    fn additive(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            self.advance();
            let right = self.multiplicative()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.power()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Rem,
                _ => return Ok(left),
            };
            self.advance();
            let right = self.power()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn power(&mut self) -> Result<Expr, QueryError> {
        let base = self.unary()?;
        if !self.eat(&Tok::Caret) {
            return Ok(base);
        }
        let exponent = self.power()?;
        Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exponent)))
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.eat(&Tok::Minus) {
            return Ok(match self.unary()? {
                Expr::Num { value, int } => Expr::Num { value: -value, int },
                e => Expr::Neg(Box::new(e)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let token = self.tokens[self.at].clone();
        let expr = match token.tok {
            Tok::Num(value, int) => Expr::Num { value, int },
            Tok::Str(s) => Expr::Str(s),
            Tok::Regex(r) => Expr::Regex(r),
            Tok::Period(p) => Expr::Period(p),
            Tok::Quoted(name) => Expr::Field(name),
            Tok::LParen => {
                self.advance();
                let inner = self.expr()?;
                self.expect(&Tok::RParen)?;
                return Ok(inner);
            }
            Tok::Ident(word) if self.tokens[self.at + 1].tok == Tok::LParen => return self.call(word),
            Tok::Ident(word) if is_reserved(&word) => return Err(self.error_here()),
            Tok::Ident(word) => Expr::Field(word),
            _ => return Err(self.error_here()),
        };
        self.advance();
        Ok(expr)
    }

    fn call(&mut self, word: String) -> Result<Expr, QueryError> {
        let name = word.to_ascii_lowercase();
        let (min, max) = match SCALARS.iter().find(|(n, _, _)| *n == name) {
            Some((_, min, max)) => (*min, *max),
            None if AGGREGATES.contains(&name.as_str()) => aggregate_arity(&name),
            None => return Err(self.unknown_function(&word)),
        };
        let call_at = self.at;
        self.advance();
        self.advance();
        let mut args = Vec::new();
        if name == "count" && self.eat(&Tok::Star) {
            args.push(Expr::Star);
            self.expect(&Tok::RParen)?;
            return Ok(Expr::Call { name, args });
        }
        if !self.eat(&Tok::RParen) {
            loop {
                args.push(self.expr()?);
                if self.eat(&Tok::RParen) {
                    break;
                }
                self.expect(&Tok::Comma)?;
            }
        }
        if args.len() < min || args.len() > max {
            let (line, position) = line_and_position(self.text, self.tokens[call_at].start);
            return Err(QueryError::new(format!("Invalid number of arguments for function {word} at line {line} and position {position}")));
        }
        Ok(Expr::Call { name, args })
    }

    fn unknown_function(&self, word: &str) -> QueryError {
        let (line, position) = line_and_position(self.text, self.tokens[self.at].start);
        QueryError::new(format!("Unrecognized function name: {word} at line {line} and position {position}"))
    }
}

/// `items` unchanged when none holds an aggregate function call (those belong to `stats`).
fn no_aggregates<T>(items: Vec<T>, expr: impl Fn(&T) -> &Expr) -> Result<Vec<T>, QueryError> {
    for item in &items {
        if let Some(name) = first_aggregate(expr(item)) {
            return Err(QueryError::new(format!("The aggregate function {name} can only be used in stats")));
        }
    }
    Ok(items)
}

/// The name of the first aggregate function called in `e`.
fn first_aggregate(e: &Expr) -> Option<&str> {
    match e {
        Expr::Call { name, .. } if AGGREGATES.contains(&name.as_str()) => Some(name),
        Expr::Call { args, .. } => args.iter().find_map(first_aggregate),
        Expr::Neg(e) | Expr::Not(e) => first_aggregate(e),
        Expr::Binary(_, a, b) => first_aggregate(a).or_else(|| first_aggregate(b)),
        Expr::Like { expr, .. } | Expr::In { expr, .. } => first_aggregate(expr),
        _ => None,
    }
}

/// Keywords that cannot stand where a field is expected.
fn is_reserved(word: &str) -> bool {
    ["and", "or", "not", "like", "in", "as", "by", "asc", "desc"].iter().any(|k| word.eq_ignore_ascii_case(k))
}

fn invalid_regex(regex: &str, error: &regex::Error) -> QueryError {
    let detail = error.to_string();
    let last = detail.lines().last().unwrap_or_default().trim().to_string();
    QueryError::new(format!("Invalid regular expression /{regex}/: {last}"))
}

/// A glob of `parse` as a regular expression: every `*` captures as little as it can, except a
/// trailing one, which takes the rest of the value.
pub fn glob_to_regex(glob: &str) -> String {
    let parts: Vec<&str> = glob.split('*').collect();
    let mut regex = String::from("(?s)");
    for (i, part) in parts.iter().enumerate() {
        regex.push_str(&regex::escape(part));
        if i + 1 == parts.len() {
            break;
        }
        regex.push_str(if i + 2 == parts.len() && parts[i + 1].is_empty() { "(.*)" } else { "(.*?)" });
    }
    regex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Box<Expr> {
        Box::new(Expr::Field(name.to_string()))
    }

    #[test]
    fn precedence_of_and_over_or() {
        let q = parse("filter a = 1 or b = 2 and c = 3").unwrap();
        let Command::Filter(Expr::Binary(BinOp::Or, _, right)) = &q.commands[0] else { panic!("{q:?}") };
        assert!(matches!(**right, Expr::Binary(BinOp::And, _, _)));
    }

    #[test]
    fn regex_versus_division() {
        let q = parse("fields a / 2 as half | filter @message like /x\\/y/ | parse @message /(?<u>\\S+)/").unwrap();
        let Command::Fields(items) = &q.commands[0] else { panic!() };
        assert_eq!(items[0].expr, Expr::Binary(BinOp::Div, field("a"), Box::new(Expr::Num { value: 2.0, int: true })));
        let Command::Filter(Expr::Like { pattern, .. }) = &q.commands[1] else { panic!() };
        assert_eq!(**pattern, Expr::Regex("x/y".to_string()));
        let Command::Parse(p) = &q.commands[2] else { panic!() };
        assert_eq!(p.names, vec!["u"]);
    }

    #[test]
    fn names_of_items() {
        let q = parse("stats count(*), avg(bytes) as a by bin(5m), srcAddr").unwrap();
        let Command::Stats(s) = &q.commands[0] else { panic!() };
        assert_eq!(s.aggs[0].name, "count(*)");
        assert_eq!(s.aggs[1].name, "a");
        assert_eq!(s.by[0].name, "bin(5m)");
        assert_eq!(s.by[0].expr, Expr::Call { name: "bin".into(), args: vec![Expr::Period(Period::Millis(300_000))] });
        assert_eq!(s.by[1].name, "srcAddr");
    }

    #[test]
    fn periods() {
        assert_eq!(period(2, "hrs"), Some(Period::Millis(7_200_000)));
        assert_eq!(period(1, "q"), Some(Period::Months(3)));
        assert_eq!(period(1, "mo"), Some(Period::Months(1)));
        assert_eq!(period(1, "parsec"), None);
    }

    #[test]
    fn glob() {
        assert_eq!(glob_to_regex("user=* action=*"), "(?s)user=(.*?) action=(.*)");
        assert_eq!(glob_to_regex("[*] *"), "(?s)\\[(.*?)\\] (.*)");
    }

    #[test]
    fn comments_and_case() {
        let q = parse("# first\nFILTER x NOT LIKE \"y\" # trailing\n| SORT x DESC").unwrap();
        assert_eq!(q.commands.len(), 2);
        assert_eq!(q.commands[1], Command::Sort(vec![SortKey { expr: Expr::Field("x".into()), desc: true }]));
    }

    #[test]
    fn errors() {
        assert_eq!(parse("bad").unwrap_err().message(), "unexpected symbol found bad at line 1 and position 1");
        assert_eq!(parse("fields a\n| frob b").unwrap_err().message(), "unexpected symbol found frob at line 2 and position 3");
        assert!(parse("fields nosuch(a)").unwrap_err().message().starts_with("Unrecognized function name: nosuch"));
        assert!(parse("stats a by b").is_err());
        assert!(parse("fields a |").is_err());
        assert!(parse("limit 0").is_err());
        assert!(parse("parse @message \"* *\" as a").is_err());
    }
}
