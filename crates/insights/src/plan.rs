//! A parsed CWLI query as a DataFusion DataFrame over the events.
//!
//! The commands apply in order. Semantics taken from AWS's documents, and the choices made where
//! they are silent:
//! - Fields are loosely typed. Discovered and parsed fields are text; a comparison or arithmetic
//!   with a number reads them as numbers (a value that is not one is missing), and two text
//!   fields compare as numbers when both are numbers, as text otherwise.
//! - `fields` adds to the displayed fields, `display` replaces them. Without either a query shows
//!   `@timestamp` and `@message`, as the console does; the other fields of an event are what
//!   GetLogRecord with its `@ptr` is for. Non-aggregating rows end with `@ptr`.
//! - Without `sort`, events come newest first (`@timestamp desc`), and that order applies before
//!   `limit`. `stats` rows come ordered by their `bin()` group descending (newest bin first), then
//!   by the other groups ascending, unless a `sort` follows.
//! - `dedup` keeps the first row (in the current order) of each combination of values; rows where
//!   one of the fields is missing are never duplicates.
//! - `pct`/`percentile` interpolate between the two nearest values (exactly, where AWS
//!   approximates); `min`/`max` compare text fields as numbers; `stddev` is the sample's.
//! - Booleans show as `1` and `0`, as JSON booleans do.
//! - Records matched are the events that reach the first `stats`, `limit` or `dedup` (or the end).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use arrow_schema::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::functions::core as df_core;
use datafusion::functions::{math, string, unicode};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::expr::Sort;
use datafusion::logical_expr::{ExprFunctionExt, ExprSchemable, Operator, binary_expr};
use datafusion::prelude::{DataFrame, Expr, cast, ident, in_list, lit, not, try_cast, when};

use crate::functions::{Capture, Discover, IpTest, IpVersion, MatchCounter, NumberOf, TIME, TimeRound};
use crate::parse::{self, AGGREGATES, BinOp, Command, Item, Period, SortKey, Stats};
use crate::source::ROW;

/// The built-in fields every event has (`@ptr` is computed at the end).
const BUILT_IN: [&str; 5] = ["@timestamp", "@ingestionTime", "@logStream", "@message", "@log"];

/// What a query displays when it names nothing.
const DEFAULT_DISPLAY: [&str; 2] = ["@timestamp", "@message"];

/// The planned query.
pub struct Planned {
    /// The rows to return, already limited.
    pub frame: DataFrame,
    /// The result fields in order (the frame's columns, less the row identity).
    pub columns: Vec<String>,
    /// True when rows end with `@ptr` (queries without `stats`); the frame's last column is then
    /// the row identity.
    pub with_ptr: bool,
}

/// How a value behaves in comparisons and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Time,
    Bool,
    Other,
}

fn kind_of(data_type: &DataType) -> Kind {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => Kind::Text,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => Kind::Time,
        DataType::Boolean => Kind::Bool,
        t if t.is_numeric() => Kind::Number,
        _ => Kind::Other,
    }
}

fn plan_error<T>(message: String) -> Result<T> {
    Err(DataFusionError::Plan(message))
}

/// Plans `query` over `source` (the events with their row identity); `counter` receives the
/// records matched; `limit` is StartQuery's.
pub fn plan(query: &parse::Query, source: DataFrame, counter: Arc<AtomicU64>, limit: usize) -> Result<Planned> {
    let mut planner = Planner {
        frame: source,
        aggregated: false,
        display: None,
        ordering: vec![Sort::new(ident("@timestamp"), false, false)],
        applied: false,
        counted: false,
        counter,
        hidden: 0,
    };
    for command in &query.commands {
        planner.command(command)?;
    }
    planner.finish(limit)
}

struct Planner {
    frame: DataFrame,
    /// True after a `stats`: the events are gone, only its rows remain.
    aggregated: bool,
    /// The fields `fields`/`display`/`stats` chose to show, when any did.
    display: Option<Vec<String>>,
    /// The order rows are in, or are to be put in (see `applied`).
    ordering: Vec<Sort>,
    /// False when `ordering` is still to be applied before a `limit` and at the end.
    applied: bool,
    /// True once the records-matched counter is in the plan.
    counted: bool,
    counter: Arc<AtomicU64>,
    /// Hidden columns made so far (for unique names).
    hidden: usize,
}

impl Planner {
    fn schema(&self) -> &DFSchema {
        self.frame.schema()
    }

    fn has(&self, name: &str) -> bool {
        self.schema().fields().iter().any(|f| f.name() == name)
    }

    fn hidden_name(&mut self, prefix: &str) -> String {
        self.hidden += 1;
        format!("__{prefix}{}", self.hidden)
    }

    fn update(&mut self, step: impl FnOnce(DataFrame) -> Result<DataFrame>) -> Result<()> {
        self.frame = step(self.frame.clone())?;
        Ok(())
    }

    fn command(&mut self, command: &Command) -> Result<()> {
        match command {
            Command::Filter(e) => {
                self.discover(fields_of([e]))?;
                let predicate = self.truthy(self.expr(e)?)?;
                self.update(|f| f.filter(predicate))
            }
            Command::Fields(items) => self.fields(items, false),
            Command::Display(items) => self.fields(items, true),
            Command::Parse(p) => self.parse(p),
            Command::Stats(s) => self.stats(s),
            Command::Sort(keys) => self.sort(keys),
            Command::Limit(n) => {
                self.count_matched()?;
                self.apply_ordering()?;
                self.update(|f| f.limit(0, Some(*n)))
            }
            Command::Dedup(names) => self.dedup(names),
            Command::Unmask => Ok(()),
        }
    }

    /// Replaces or adds columns, keeping every other column.
    fn add_columns(&mut self, new: Vec<(String, Expr)>) -> Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        let replaced: HashSet<&str> = new.iter().map(|(n, _)| n.as_str()).collect();
        let mut columns: Vec<Expr> =
            self.schema().fields().iter().filter(|f| !replaced.contains(f.name().as_str())).map(|f| ident(f.name())).collect();
        columns.extend(new.into_iter().map(|(name, e)| e.alias(name)));
        self.update(|f| f.select(columns))
    }

    /// Adds the discovered fields among `names` that are not columns yet, read from the message
    /// in one pass. After `stats` there are no messages left to read.
    fn discover(&mut self, names: Vec<String>) -> Result<()> {
        if self.aggregated {
            return Ok(());
        }
        let missing: Vec<String> = names.into_iter().filter(|n| n != "@ptr" && !self.has(n)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let hidden = self.hidden_name("discovered");
        self.add_columns(vec![(hidden.clone(), Discover::call(missing.clone(), ident("@message")))])?;
        let fields = missing.into_iter().map(|n| (n.clone(), df_core::expr_fn::get_field(ident(&hidden), n.as_str()))).collect();
        self.add_columns(fields)
    }

    /// Counts the events that passed the filters so far (once, before anything drops events).
    fn count_matched(&mut self) -> Result<()> {
        if self.counted || self.aggregated {
            return Ok(());
        }
        self.counted = true;
        let predicate = MatchCounter::call(self.counter.clone(), ident(ROW));
        self.update(|f| f.filter(predicate))
    }

    fn apply_ordering(&mut self) -> Result<()> {
        if self.applied || self.ordering.is_empty() {
            return Ok(());
        }
        self.applied = true;
        let ordering = self.ordering.clone();
        self.update(|f| f.sort(ordering))
    }

    fn fields(&mut self, items: &[Item], replace: bool) -> Result<()> {
        self.discover(fields_of(items.iter().map(|i| &i.expr)))?;
        let mut computed = Vec::new();
        for item in items {
            if !matches!(&item.expr, parse::Expr::Field(name) if *name == item.name) {
                computed.push((item.name.clone(), self.expr(&item.expr)?));
            }
        }
        self.add_columns(computed)?;
        let names = items.iter().map(|i| i.name.clone());
        match (&mut self.display, replace) {
            (Some(display), false) => display.extend(names),
            (display, _) => *display = Some(names.collect()),
        }
        Ok(())
    }

    fn parse(&mut self, p: &parse::Parse) -> Result<()> {
        self.discover(fields_of([&p.source]))?;
        let source = self.text(self.expr(&p.source)?)?;
        let hidden = self.hidden_name("parsed");
        self.add_columns(vec![(hidden.clone(), Capture::call(&p.regex, p.names.clone(), source)?)])?;
        let fields = p.names.iter().map(|n| (n.clone(), df_core::expr_fn::get_field(ident(&hidden), n.as_str()))).collect();
        self.add_columns(fields)
    }

    fn sort(&mut self, keys: &[SortKey]) -> Result<()> {
        self.discover(fields_of(keys.iter().map(|k| &k.expr)))?;
        let mut ordering = Vec::new();
        for key in keys {
            let e = self.expr(&key.expr)?;
            // Text that holds numbers sorts by number first: AWS's fields are loosely typed.
            if self.kind(&e)? == Kind::Text && !matches!(e, Expr::Literal(..)) {
                ordering.push(Sort::new(NumberOf::call(self.text(e.clone())?), !key.desc, false));
            }
            ordering.push(Sort::new(e, !key.desc, false));
        }
        self.ordering = ordering;
        self.applied = false;
        self.apply_ordering()
    }

    fn dedup(&mut self, names: &[String]) -> Result<()> {
        self.count_matched()?;
        self.discover(names.to_vec())?;
        let keys: Vec<Expr> = names.iter().map(|n| self.field(n)).collect();
        let hidden = self.hidden_name("dedup");
        let number = row_number().partition_by(keys.clone()).order_by(self.ordering.clone()).build()?.alias(&hidden);
        self.update(|f| f.window(vec![number]))?;
        let keep = keys.into_iter().fold(ident(&hidden).eq(lit(1u64)), |keep, key| keep.or(key.is_null()));
        self.update(|f| f.filter(keep))?;
        // The window reorders rows: the order must be applied again.
        self.applied = self.ordering.is_empty();
        Ok(())
    }

    fn stats(&mut self, stats: &Stats) -> Result<()> {
        self.count_matched()?;
        let exprs = stats.aggs.iter().chain(&stats.by).map(|i| &i.expr);
        self.discover(fields_of(exprs))?;
        let mut groups = Vec::new();
        let mut bin = None;
        for item in &stats.by {
            groups.push(self.expr(&item.expr)?.alias(&item.name));
            if bin.is_none() && matches!(&item.expr, parse::Expr::Call { name, .. } if name == "bin") {
                bin = Some(item.name.clone());
            }
        }
        let mut aggregates = Vec::new();
        let mut outputs = Vec::new();
        for item in &stats.aggs {
            match &item.expr {
                parse::Expr::Call { name, args } if AGGREGATES.contains(&name.as_str()) => {
                    aggregates.push(self.aggregate(name, args)?.alias(&item.name));
                    outputs.push((item.name.clone(), None));
                }
                other => outputs.push((item.name.clone(), Some(self.hoist(other, &mut aggregates)?))),
            }
        }
        self.update(|f| f.aggregate(groups, aggregates))?;
        self.aggregated = true;
        let group_names: Vec<String> = stats.by.iter().map(|i| i.name.clone()).collect();
        if outputs.iter().any(|(_, e)| e.is_some()) {
            let mut columns: Vec<Expr> = group_names.iter().map(ident).collect();
            for (name, e) in &outputs {
                columns.push(match e {
                    Some(e) => self.expr(e)?.alias(name),
                    None => ident(name),
                });
            }
            self.update(|f| f.select(columns))?;
        }
        let mut display = group_names.clone();
        display.extend(outputs.into_iter().map(|(n, _)| n));
        self.display = Some(display);
        self.ordering = stats_ordering(&group_names, bin.as_deref());
        self.applied = self.ordering.is_empty();
        Ok(())
    }

    /// `e` with each aggregate call replaced by a hidden field holding its result.
    fn hoist(&mut self, e: &parse::Expr, aggregates: &mut Vec<Expr>) -> Result<parse::Expr> {
        use parse::Expr as A;
        Ok(match e {
            A::Call { name, args } if AGGREGATES.contains(&name.as_str()) => {
                let hidden = self.hidden_name("aggregate");
                aggregates.push(self.aggregate(name, args)?.alias(&hidden));
                A::Field(hidden)
            }
            A::Call { name, args } => {
                let args = args.iter().map(|a| self.hoist(a, aggregates)).collect::<Result<_>>()?;
                A::Call { name: name.clone(), args }
            }
            A::Binary(op, a, b) => A::Binary(*op, Box::new(self.hoist(a, aggregates)?), Box::new(self.hoist(b, aggregates)?)),
            A::Neg(a) => A::Neg(Box::new(self.hoist(a, aggregates)?)),
            A::Not(a) => A::Not(Box::new(self.hoist(a, aggregates)?)),
            other => other.clone(),
        })
    }

    fn finish(mut self, limit: usize) -> Result<Planned> {
        self.count_matched()?;
        self.apply_ordering()?;
        self.update(|f| f.limit(0, Some(limit.max(1))))?;
        let display = self.display.take().unwrap_or_else(|| DEFAULT_DISPLAY.iter().map(|s| s.to_string()).collect());
        let mut columns: Vec<String> = Vec::new();
        for name in display {
            if name != "@ptr" && self.has(&name) && !columns.contains(&name) {
                columns.push(name);
            }
        }
        let with_ptr = !self.aggregated;
        let mut exprs: Vec<Expr> = columns.iter().map(ident).collect();
        if with_ptr {
            exprs.push(ident(ROW));
        }
        self.update(|f| f.select(exprs))?;
        Ok(Planned { frame: self.frame, columns, with_ptr })
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    fn kind(&self, e: &Expr) -> Result<Kind> {
        Ok(kind_of(&e.get_type(self.schema())?))
    }

    /// A field's column; a missing field is NULL.
    fn field(&self, name: &str) -> Expr {
        if self.has(name) {
            return ident(name);
        }
        if name == "@ptr" && self.has(ROW) {
            return ident(ROW);
        }
        lit(ScalarValue::Utf8(None))
    }

    /// `e` as a number: text is read as one (NULL when it is not), times as epoch milliseconds,
    /// booleans as 1 and 0.
    fn numeric(&self, e: Expr) -> Result<Expr> {
        Ok(match self.kind(&e)? {
            Kind::Text => try_cast(e, DataType::Float64),
            Kind::Time | Kind::Bool => cast(e, DataType::Int64),
            _ => e,
        })
    }

    fn float(&self, e: Expr) -> Result<Expr> {
        let e = self.numeric(e)?;
        if e.get_type(self.schema())? == DataType::Float64 {
            return Ok(e);
        }
        Ok(cast(e, DataType::Float64))
    }

    fn text(&self, e: Expr) -> Result<Expr> {
        Ok(match e.get_type(self.schema())? {
            DataType::Utf8 => e,
            _ => cast(e, DataType::Utf8),
        })
    }

    fn time(&self, e: Expr) -> Result<Expr> {
        Ok(match self.kind(&e)? {
            Kind::Time => cast(e, TIME),
            Kind::Number => cast(cast(e, DataType::Int64), TIME),
            _ => try_cast(e, TIME),
        })
    }

    /// `e` as a condition: numbers are true when not 0, text when present and not empty.
    fn truthy(&self, e: Expr) -> Result<Expr> {
        Ok(match self.kind(&e)? {
            Kind::Bool => e,
            Kind::Number => e.not_eq(lit(0)),
            Kind::Text => e.clone().is_not_null().and(e.not_eq(lit(""))),
            Kind::Time | Kind::Other => e.is_not_null(),
        })
    }

    fn expr(&self, e: &parse::Expr) -> Result<Expr> {
        use parse::Expr as A;
        match e {
            A::Field(name) => Ok(self.field(name)),
            A::Str(s) => Ok(lit(s.clone())),
            A::Num { value, int: true } if value.abs() < 9e15 => Ok(lit(*value as i64)),
            A::Num { value, .. } => Ok(lit(*value)),
            A::Regex(r) => Ok(lit(r.clone())),
            A::Period(_) => plan_error("A time period can only be an argument of bin, datefloor or dateceiling".to_string()),
            A::Star => plan_error("* can only be an argument of count".to_string()),
            A::Neg(inner) => Ok(Expr::Negative(Box::new(self.numeric(self.expr(inner)?)?))),
            A::Not(inner) => Ok(not(self.truthy(self.expr(inner)?)?)),
            A::Binary(op, a, b) => self.binary(*op, a, b),
            A::Like { expr, pattern, negated } => self.like(expr, pattern, *negated),
            A::In { expr, list, negated } => self.in_list(expr, list, *negated),
            A::Call { name, args } => self.call(name, args),
        }
    }

    fn binary(&self, op: BinOp, a: &parse::Expr, b: &parse::Expr) -> Result<Expr> {
        let (left, right) = (self.expr(a)?, self.expr(b)?);
        let arithmetic =
            |operator| -> Result<Expr> { Ok(binary_expr(self.numeric(left.clone())?, operator, self.numeric(right.clone())?)) };
        match op {
            BinOp::And => Ok(self.truthy(left)?.and(self.truthy(right)?)),
            BinOp::Or => Ok(self.truthy(left)?.or(self.truthy(right)?)),
            BinOp::Add => arithmetic(Operator::Plus),
            BinOp::Sub => arithmetic(Operator::Minus),
            BinOp::Mul => arithmetic(Operator::Multiply),
            // Division and remainder are in floating point: no integer division, no error on 0.
            BinOp::Div => Ok(binary_expr(self.float(left)?, Operator::Divide, self.float(right)?)),
            BinOp::Rem => Ok(binary_expr(self.float(left)?, Operator::Modulo, self.float(right)?)),
            BinOp::Pow => Ok(math::power().call(vec![self.float(left)?, self.float(right)?])),
            BinOp::Eq => self.compare(Operator::Eq, left, right),
            BinOp::Ne => self.compare(Operator::NotEq, left, right),
            BinOp::Lt => self.compare(Operator::Lt, left, right),
            BinOp::Le => self.compare(Operator::LtEq, left, right),
            BinOp::Gt => self.compare(Operator::Gt, left, right),
            BinOp::Ge => self.compare(Operator::GtEq, left, right),
        }
    }

    fn compare(&self, operator: Operator, left: Expr, right: Expr) -> Result<Expr> {
        let literal = matches!(left, Expr::Literal(..)) || matches!(right, Expr::Literal(..));
        match (self.kind(&left)?, self.kind(&right)?) {
            (Kind::Text, Kind::Text) if literal => Ok(binary_expr(left, operator, right)),
            // Two text fields: as numbers when both are, as text otherwise.
            (Kind::Text, Kind::Text) => {
                let numbers = binary_expr(self.float(left.clone())?, operator, self.float(right.clone())?);
                Ok(df_core::coalesce().call(vec![numbers, binary_expr(left, operator, right)]))
            }
            (Kind::Text | Kind::Bool | Kind::Time, Kind::Number) | (Kind::Number, Kind::Text | Kind::Bool | Kind::Time) => {
                Ok(binary_expr(self.numeric(left)?, operator, self.numeric(right)?))
            }
            (Kind::Bool, _) | (_, Kind::Bool) => Ok(binary_expr(self.numeric(left)?, operator, self.numeric(right)?)),
            _ => Ok(binary_expr(left, operator, right)),
        }
    }

    /// `like "substring"` (case-sensitive containment) and `like /regex/`, `=~ /regex/`.
    fn like(&self, e: &parse::Expr, pattern: &parse::Expr, negated: bool) -> Result<Expr> {
        let value = self.text(self.expr(e)?)?;
        let matched = match pattern {
            parse::Expr::Str(s) => string::contains().call(vec![value, lit(s.clone())]),
            parse::Expr::Regex(r) => binary_expr(value, Operator::RegexMatch, lit(r.clone())),
            _ => return plan_error("like takes a string or a regular expression".to_string()),
        };
        Ok(if negated { not(matched) } else { matched })
    }

    fn in_list(&self, e: &parse::Expr, list: &[parse::Expr], negated: bool) -> Result<Expr> {
        let value = self.expr(e)?;
        if !list.is_empty() && list.iter().all(|i| matches!(i, parse::Expr::Num { .. })) {
            let numbers = list.iter().map(|i| self.expr(i).and_then(|n| self.float(n))).collect::<Result<_>>()?;
            return Ok(in_list(self.float(value)?, numbers, negated));
        }
        let texts = list.iter().map(|i| self.expr(i).and_then(|t| self.text(t))).collect::<Result<_>>()?;
        Ok(in_list(self.text(value)?, texts, negated))
    }

    fn args(&self, args: &[parse::Expr], convert: impl Fn(&Self, Expr) -> Result<Expr>) -> Result<Vec<Expr>> {
        args.iter().map(|a| convert(self, self.expr(a)?)).collect()
    }

    fn call(&self, name: &str, args: &[parse::Expr]) -> Result<Expr> {
        if AGGREGATES.contains(&name) {
            return plan_error(format!("The aggregate function {name} can only be used in stats"));
        }
        let text = |s: &Self, e| s.text(e);
        let float = |s: &Self, e| s.float(e);
        let first = || self.expr(&args[0]);
        Ok(match name {
            "strlen" => unicode::character_length().call(self.args(args, text)?),
            "toupper" => string::upper().call(self.args(args, text)?),
            "tolower" => string::lower().call(self.args(args, text)?),
            "trim" => string::btrim().call(self.args(args, text)?),
            "ltrim" => string::ltrim().call(self.args(args, text)?),
            "rtrim" => string::rtrim().call(self.args(args, text)?),
            "concat" => string::concat().call(self.args(args, text)?),
            "replace" => string::replace().call(self.args(args, text)?),
            "substr" => self.substr(args)?,
            "strcontains" => when(string::contains().call(self.args(args, text)?), lit(1i64)).otherwise(lit(0i64))?,
            "isempty" => {
                let value = first()?;
                value.clone().is_null().or(self.text(value)?.eq(lit("")))
            }
            "isblank" => {
                let value = first()?;
                value.clone().is_null().or(binary_expr(self.text(value)?, Operator::RegexMatch, lit(r"^\s*$")))
            }
            "ispresent" => first()?.is_not_null(),
            "coalesce" => self.coalesce(args)?,
            "unmask" => first()?,
            "abs" => math::abs().call(vec![self.numeric(first()?)?]),
            "ceil" => math::ceil().call(self.args(args, float)?),
            "floor" => math::floor().call(self.args(args, float)?),
            "sqrt" => math::sqrt().call(self.args(args, float)?),
            "log" => math::ln().call(self.args(args, float)?),
            "greatest" => df_core::greatest().call(self.args(args, float)?),
            "least" => df_core::least().call(self.args(args, float)?),
            "bin" => TimeRound::call(period(&args[0])?, false, self.time(self.field("@timestamp"))?),
            "datefloor" => TimeRound::call(period(&args[1])?, false, self.time(first()?)?),
            "dateceiling" => TimeRound::call(period(&args[1])?, true, self.time(first()?)?),
            "frommillis" => cast(cast(self.numeric(first()?)?, DataType::Int64), TIME),
            "tomillis" => cast(self.time(first()?)?, DataType::Int64),
            "isvalidip" | "isipinsubnet" => IpTest::call(IpVersion::Any, self.args(args, text)?),
            "isvalidipv4" | "isipv4insubnet" => IpTest::call(IpVersion::V4, self.args(args, text)?),
            "isvalidipv6" | "isipv6insubnet" => IpTest::call(IpVersion::V6, self.args(args, text)?),
            _ => return plan_error(format!("Unrecognized function name: {name}")),
        })
    }

    /// `substr(s, start[, length])`: AWS counts from 0, DataFusion from 1.
    fn substr(&self, args: &[parse::Expr]) -> Result<Expr> {
        let value = self.text(self.expr(&args[0])?)?;
        let start = cast(self.numeric(self.expr(&args[1])?)?, DataType::Int64) + lit(1i64);
        let mut call = vec![value, start];
        if let Some(length) = args.get(2) {
            call.push(cast(self.numeric(self.expr(length)?)?, DataType::Int64));
        }
        Ok(unicode::substr().call(call))
    }

    /// `coalesce`: the first present value; mixed kinds are compared as text.
    fn coalesce(&self, args: &[parse::Expr]) -> Result<Expr> {
        let values: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect::<Result<_>>()?;
        let kinds: HashSet<DataType> = values.iter().map(|v| v.get_type(self.schema())).collect::<Result<_>>()?;
        if kinds.len() <= 1 {
            return Ok(df_core::coalesce().call(values));
        }
        let texts = values.into_iter().map(|v| self.text(v)).collect::<Result<_>>()?;
        Ok(df_core::coalesce().call(texts))
    }

    /// An aggregate function of `stats`.
    fn aggregate(&self, name: &str, args: &[parse::Expr]) -> Result<Expr> {
        if args.first() == Some(&parse::Expr::Star) {
            return Ok(agg::count(lit(1i64)));
        }
        let value = self.expr(&args[0])?;
        let by_time = || -> Result<Vec<Sort>> {
            if !self.has("@timestamp") {
                return plan_error(format!("{name} needs @timestamp, which is gone after stats"));
            }
            Ok(vec![Sort::new(ident("@timestamp"), true, false)])
        };
        Ok(match name {
            "count" => agg::count(value),
            "count_distinct" => agg::count_distinct(value),
            "sum" => agg::sum(self.numeric(value)?),
            "avg" => agg::avg(self.float(value)?),
            "stddev" => agg::stddev(self.float(value)?),
            "min" => agg::min(self.orderable(value)?),
            "max" => agg::max(self.orderable(value)?),
            "sortsfirst" => agg::min(value),
            "sortslast" => agg::max(value),
            "pct" | "percentile" => agg::percentile_cont(Sort::new(self.float(value)?, true, false), lit(percent(&args[1])? / 100.0)),
            "earliest" => agg::first_value(value, by_time()?),
            "latest" => agg::last_value(value, by_time()?),
            _ => return plan_error(format!("Unrecognized function name: {name}")),
        })
    }

    /// min and max compare numbers and times as such, and text fields as numbers.
    fn orderable(&self, e: Expr) -> Result<Expr> {
        match self.kind(&e)? {
            Kind::Text | Kind::Bool => self.numeric(e),
            _ => Ok(e),
        }
    }
}

/// `stats` rows: newest bin first, then the other groups in ascending order.
fn stats_ordering(groups: &[String], bin: Option<&str>) -> Vec<Sort> {
    let mut ordering: Vec<Sort> = bin.map(|b| Sort::new(ident(b), false, false)).into_iter().collect();
    ordering.extend(groups.iter().filter(|g| Some(g.as_str()) != bin).map(|g| Sort::new(ident(g), true, false)));
    ordering
}

fn period(e: &parse::Expr) -> Result<Period> {
    match e {
        parse::Expr::Period(p) => Ok(*p),
        _ => plan_error("Expected a time period such as 5m".to_string()),
    }
}

/// The percentile of `pct`: a number from 0 to 100.
fn percent(e: &parse::Expr) -> Result<f64> {
    match e {
        parse::Expr::Num { value, .. } if (0.0..=100.0).contains(value) => Ok(*value),
        _ => plan_error("The percentile must be a number from 0 to 100".to_string()),
    }
}

/// The distinct field names the expressions read, built-in fields included.
fn fields_of<'a>(exprs: impl IntoIterator<Item = &'a parse::Expr>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for e in exprs {
        e.visit_fields(&mut |name| {
            if !names.iter().any(|n| n == name) && !BUILT_IN.contains(&name) {
                names.push(name.to_string());
            }
        });
    }
    names
}
