//! Metric math: the arithmetic subset of CloudWatch's expression language over the time
//! series of other queries — `+ - * / ^`, parentheses, numbers, query IDs, `[a, b]`
//! arrays, and the functions METRICS, SUM, AVG, MIN, MAX, ABS and FILL.
//!
//! Time series combine point by point on the timestamps both have; a function of an
//! array of series gives a series, of one series a scalar, as CloudWatch's do.

use std::collections::BTreeMap;

/// A time series: period start (epoch ms) → value.
pub(crate) type Series = BTreeMap<i64, f64>;

/// What an expression can refer to.
pub(crate) trait Env {
    /// The series of the query with that ID.
    fn series(&mut self, id: &str) -> Result<Series, String>;
    /// The series of every metric query whose ID contains the filter (METRICS()).
    fn metrics(&mut self, filter: Option<&str>) -> Result<Vec<Series>, String>;
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Num(f64),
    Str(String),
    Id(String),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    List(Vec<Expr>),
}

impl Expr {
    /// The query IDs an expression refers to directly.
    pub(crate) fn ids(&self, out: &mut Vec<String>) {
        match self {
            Expr::Id(id) => out.push(id.clone()),
            Expr::Neg(e) => e.ids(out),
            Expr::Bin(_, a, b) => {
                a.ids(out);
                b.ids(out);
            }
            Expr::Call(_, args) | Expr::List(args) => args.iter().for_each(|a| a.ids(out)),
            Expr::Num(_) | Expr::Str(_) => {}
        }
    }
}

/// A value while evaluating.
#[derive(Debug, Clone)]
enum Val {
    Scalar(f64),
    Series(Series),
    Array(Vec<Series>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Sym(char),
}

fn tokens(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Tok::Num(text.parse().map_err(|_| format!("Invalid number: {text}"))?));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..].iter().position(|x| *x == c).ok_or("Unterminated string")?;
            out.push(Tok::Str(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if "+-*/^()[],".contains(c) {
            out.push(Tok::Sym(c));
            i += 1;
        } else {
            return Err(format!("Unexpected character '{c}'"));
        }
    }
    Ok(out)
}

/// Parses an expression.
pub(crate) fn parse(src: &str) -> Result<Expr, String> {
    let toks = tokens(src)?;
    let mut p = Parser { toks, at: 0 };
    let e = p.sum()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(format!("Unexpected token {}", show(t))),
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Num(n) => n.to_string(),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Ident(s) => s.clone(),
        Tok::Sym(c) => c.to_string(),
    }
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(format!("Expected '{c}'")) }
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut e = self.product()?;
        while let Some(Tok::Sym(op @ ('+' | '-'))) = self.peek().cloned() {
            self.at += 1;
            e = Expr::Bin(op, Box::new(e), Box::new(self.product()?));
        }
        Ok(e)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while let Some(Tok::Sym(op @ ('*' | '/'))) = self.peek().cloned() {
            self.at += 1;
            e = Expr::Bin(op, Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat('-') {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let base = self.primary()?;
        if self.eat('^') {
            return Ok(Expr::Bin('^', Box::new(base), Box::new(self.unary()?)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Str(s)) => Ok(Expr::Str(s)),
            Some(Tok::Sym('(')) => {
                let e = self.sum()?;
                self.expect(')')?;
                Ok(e)
            }
            Some(Tok::Sym('[')) => Ok(Expr::List(self.list(']')?)),
            Some(Tok::Ident(name)) if self.eat('(') => Ok(Expr::Call(name.to_uppercase(), self.list(')')?)),
            Some(Tok::Ident(name)) => Ok(Expr::Id(name)),
            Some(t) => Err(format!("Unexpected token {}", show(&t))),
            None => Err("Unexpected end of expression".into()),
        }
    }

    fn list(&mut self, close: char) -> Result<Vec<Expr>, String> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.sum()?);
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(',')?;
        }
    }
}

/// Evaluates an expression to one time series; a scalar result holds at every period
/// of `grid`.
pub(crate) fn eval(expr: &Expr, env: &mut dyn Env, grid: &[i64]) -> Result<Series, String> {
    match value(expr, env, grid)? {
        Val::Series(s) => Ok(s),
        Val::Scalar(x) => Ok(grid.iter().map(|t| (*t, x)).filter(|(_, v)| v.is_finite()).collect()),
        Val::Array(_) => Err("The expression must return a single time series".into()),
    }
}

fn value(expr: &Expr, env: &mut dyn Env, grid: &[i64]) -> Result<Val, String> {
    Ok(match expr {
        Expr::Num(n) => Val::Scalar(*n),
        Expr::Str(_) => return Err("A string is only allowed as the argument of METRICS".into()),
        Expr::Id(id) => Val::Series(env.series(id)?),
        Expr::Neg(e) => unary(value(e, env, grid)?, |x| -x),
        Expr::Bin(op, a, b) => binary(*op, value(a, env, grid)?, value(b, env, grid)?)?,
        Expr::List(items) => {
            let mut all = Vec::new();
            for item in items {
                match value(item, env, grid)? {
                    Val::Series(s) => all.push(s),
                    Val::Array(a) => all.extend(a),
                    Val::Scalar(_) => return Err("An array may hold time series only".into()),
                }
            }
            Val::Array(all)
        }
        Expr::Call(name, args) => call(name, args, env, grid)?,
    })
}

fn call(name: &str, args: &[Expr], env: &mut dyn Env, grid: &[i64]) -> Result<Val, String> {
    match (name, args) {
        ("METRICS", []) => Ok(Val::Array(env.metrics(None)?)),
        ("METRICS", [Expr::Str(filter)]) => Ok(Val::Array(env.metrics(Some(filter))?)),
        ("SUM", [a]) => Ok(reduce(value(a, env, grid)?, |v| v.iter().sum())),
        ("AVG", [a]) => Ok(reduce(value(a, env, grid)?, |v| v.iter().sum::<f64>() / v.len() as f64)),
        ("MIN", [a]) => Ok(reduce(value(a, env, grid)?, |v| v.iter().copied().fold(f64::INFINITY, f64::min))),
        ("MAX", [a]) => Ok(reduce(value(a, env, grid)?, |v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max))),
        ("ABS", [a]) => Ok(unary(value(a, env, grid)?, f64::abs)),
        ("FILL", [a, b]) => {
            let Val::Scalar(with) = value(b, env, grid)? else { return Err("FILL takes a number as its second argument".into()) };
            let fill = |mut s: Series| {
                for t in grid {
                    s.entry(*t).or_insert(with);
                }
                s
            };
            match value(a, env, grid)? {
                Val::Series(s) => Ok(Val::Series(fill(s))),
                Val::Array(all) => Ok(Val::Array(all.into_iter().map(fill).collect())),
                Val::Scalar(_) => Err("FILL takes a time series as its first argument".into()),
            }
        }
        (known @ ("METRICS" | "SUM" | "AVG" | "MIN" | "MAX" | "ABS" | "FILL"), _) => {
            Err(format!("Invalid number of arguments for {known}"))
        }
        (other, _) => Err(format!("Unsupported function {other}")),
    }
}

/// A function of values: of an array, per timestamp across its series; of one series,
/// over its values (a scalar).
fn reduce(v: Val, f: impl Fn(&[f64]) -> f64) -> Val {
    match v {
        Val::Scalar(x) => Val::Scalar(f(&[x])),
        Val::Series(s) => {
            let values: Vec<f64> = s.values().copied().collect();
            Val::Scalar(if values.is_empty() { f64::NAN } else { f(&values) })
        }
        Val::Array(all) => {
            let mut at: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for s in &all {
                for (t, x) in s {
                    at.entry(*t).or_default().push(*x);
                }
            }
            Val::Series(at.into_iter().map(|(t, v)| (t, f(&v))).filter(|(_, v)| v.is_finite()).collect())
        }
    }
}

fn unary(v: Val, f: impl Fn(f64) -> f64 + Copy) -> Val {
    let map = |s: Series| s.into_iter().map(|(t, x)| (t, f(x))).filter(|(_, v)| v.is_finite()).collect();
    match v {
        Val::Scalar(x) => Val::Scalar(f(x)),
        Val::Series(s) => Val::Series(map(s)),
        Val::Array(all) => Val::Array(all.into_iter().map(map).collect()),
    }
}

fn apply(op: char, a: f64, b: f64) -> f64 {
    match op {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        '/' => a / b,
        _ => a.powf(b),
    }
}

fn binary(op: char, a: Val, b: Val) -> Result<Val, String> {
    let keep = |s: Series| -> Series { s.into_iter().filter(|(_, v)| v.is_finite()).collect() };
    Ok(match (a, b) {
        (Val::Scalar(x), Val::Scalar(y)) => Val::Scalar(apply(op, x, y)),
        (Val::Series(s), Val::Scalar(y)) => Val::Series(keep(s.into_iter().map(|(t, x)| (t, apply(op, x, y))).collect())),
        (Val::Scalar(x), Val::Series(s)) => Val::Series(keep(s.into_iter().map(|(t, y)| (t, apply(op, x, y))).collect())),
        (Val::Series(s), Val::Series(r)) => Val::Series(pairwise(op, &s, &r)),
        (Val::Array(all), Val::Scalar(y)) => {
            Val::Array(all.into_iter().map(|s| keep(s.into_iter().map(|(t, x)| (t, apply(op, x, y))).collect())).collect())
        }
        (Val::Scalar(x), Val::Array(all)) => {
            Val::Array(all.into_iter().map(|s| keep(s.into_iter().map(|(t, y)| (t, apply(op, x, y))).collect())).collect())
        }
        (Val::Array(all), Val::Series(r)) => Val::Array(all.iter().map(|s| pairwise(op, s, &r)).collect()),
        (Val::Series(s), Val::Array(all)) => Val::Array(all.iter().map(|r| pairwise(op, &s, r)).collect()),
        (Val::Array(_), Val::Array(_)) => return Err("Cannot combine two arrays of time series".into()),
    })
}

fn pairwise(op: char, a: &Series, b: &Series) -> Series {
    a.iter().filter_map(|(t, x)| b.get(t).map(|y| (*t, apply(op, *x, *y)))).filter(|(_, v)| v.is_finite()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fixed(HashMap<String, Series>);

    impl Env for Fixed {
        fn series(&mut self, id: &str) -> Result<Series, String> {
            self.0.get(id).cloned().ok_or_else(|| format!("Unknown id {id}"))
        }
        fn metrics(&mut self, filter: Option<&str>) -> Result<Vec<Series>, String> {
            let mut ids: Vec<&String> = self.0.keys().filter(|k| filter.is_none_or(|f| k.contains(f))).collect();
            ids.sort();
            Ok(ids.into_iter().map(|k| self.0[k].clone()).collect())
        }
    }

    fn env() -> Fixed {
        let m1: Series = [(0, 1.0), (60, 2.0), (120, 3.0)].into();
        let m2: Series = [(0, 10.0), (120, 30.0)].into();
        Fixed([("m1".to_owned(), m1), ("m2".to_owned(), m2)].into())
    }

    fn run(src: &str) -> Result<Series, String> {
        eval(&parse(src)?, &mut env(), &[0, 60, 120])
    }

    #[test]
    fn arithmetic_on_series() {
        assert_eq!(run("m1 + m2").unwrap(), [(0, 11.0), (120, 33.0)].into());
        assert_eq!(run("m1 * 100").unwrap(), [(0, 100.0), (60, 200.0), (120, 300.0)].into());
        assert_eq!(run("-(m1 - 1) ^ 2 / 2").unwrap(), [(0, -0.0), (60, -0.5), (120, -2.0)].into());
        assert_eq!(run("m2 / (m1 - 1)").unwrap(), [(120, 15.0)].into());
    }

    #[test]
    fn functions() {
        assert_eq!(run("SUM(METRICS())").unwrap(), [(0, 11.0), (60, 2.0), (120, 33.0)].into());
        assert_eq!(run("MAX([m1, m2])").unwrap(), [(0, 10.0), (60, 2.0), (120, 30.0)].into());
        assert_eq!(run("m1 / SUM(m1) * 100").unwrap()[&120], 50.0);
        assert_eq!(run("FILL(m2, 0)").unwrap(), [(0, 10.0), (60, 0.0), (120, 30.0)].into());
        assert_eq!(run("AVG(METRICS('2'))").unwrap(), [(0, 10.0), (120, 30.0)].into());
        assert_eq!(run("5").unwrap(), [(0, 5.0), (60, 5.0), (120, 5.0)].into());
    }

    #[test]
    fn errors() {
        assert!(run("m1 +").is_err());
        assert!(run("m3").is_err());
        assert!(run("SEARCH('x', 'Sum', 60)").is_err());
        assert!(run("METRICS()").is_err());
        assert!(run("m1 $ m2").is_err());
        assert!(run("(m1").is_err());
    }
}
