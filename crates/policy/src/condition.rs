//! The Condition element: operators, their values, and how a clause is decided.
//!
//! Rules (IAM User Guide, "Condition operators", "Creating a condition with multiple keys or
//! values", "Single-valued vs. multivalued context keys"):
//! - several operators in a Condition, and several keys under one operator, are ANDed;
//!   several policy values for one key are ORed; for a negated operator (`StringNotEquals`,
//!   `NotIpAddress`, …) the clause holds when the request value matches *none* of them;
//! - a key absent from the request: the clause is false, except for negated operators (true),
//!   `…IfExists` (true), `ForAllValues:` (true), `ForAnyValue:` (false), and `Null`, which
//!   tests exactly that;
//! - `ForAllValues:` holds when every request value passes, `ForAnyValue:` when one does;
//!   without a qualifier a multivalued key passes a positive operator when any value matches
//!   and a negated one when no value matches;
//! - keys are case-insensitive; values are case-sensitive except for the `IgnoreCase`
//!   operators (and `Bool`, whose `true`/`false` are compared without case);
//! - policy variables are substituted in String, ARN and Bool values only.

use std::net::IpAddr;

use base64::Engine as _;

use crate::context::RequestContext;
use crate::matching::{ArnPattern, ArnView, Glob};
use crate::variables::{Syntax, Var};

/// The family of a condition operator, without qualifier, negation or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Test {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    ArnLike,
    Null,
}

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    ForAllValues,
    ForAnyValue,
}

/// A parsed condition operator such as `ForAnyValue:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) test: Test,
    /// The operator is the negation of `test` (`StringNotEquals`, `NotIpAddress`, …).
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    pub(crate) qualifier: Option<Qualifier>,
}

impl Operator {
    /// Parses an operator name; `None` for names IAM does not know. Names are case-sensitive.
    pub(crate) fn parse(name: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(Qualifier::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(Qualifier::ForAnyValue), r)
        } else {
            (None, name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        use Test::*;
        let (test, negated) = match base {
            "StringEquals" => (StringEquals, false),
            "StringNotEquals" => (StringEquals, true),
            "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
            "StringLike" => (StringLike, false),
            "StringNotLike" => (StringLike, true),
            "NumericEquals" => (NumericEquals, false),
            "NumericNotEquals" => (NumericEquals, true),
            "NumericLessThan" => (NumericLessThan, false),
            "NumericLessThanEquals" => (NumericLessThanEquals, false),
            "NumericGreaterThan" => (NumericGreaterThan, false),
            "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
            "DateEquals" => (DateEquals, false),
            "DateNotEquals" => (DateEquals, true),
            "DateLessThan" => (DateLessThan, false),
            "DateLessThanEquals" => (DateLessThanEquals, false),
            "DateGreaterThan" => (DateGreaterThan, false),
            "DateGreaterThanEquals" => (DateGreaterThanEquals, false),
            "Bool" => (Bool, false),
            "BinaryEquals" => (BinaryEquals, false),
            "IpAddress" => (IpAddress, false),
            "NotIpAddress" => (IpAddress, true),
            "ArnEquals" | "ArnLike" => (ArnLike, false),
            "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
            // "You can add IfExists to the end of any condition operator name except the Null condition".
            "Null" if !if_exists => (Null, false),
            _ => return None,
        };
        Some(Operator { test, negated, if_exists, qualifier })
    }

    /// Whether the operator compares dates (their values are checked when a document is parsed).
    pub(crate) fn is_date(&self) -> bool {
        matches!(
            self.test,
            Test::DateEquals | Test::DateLessThan | Test::DateLessThanEquals | Test::DateGreaterThan | Test::DateGreaterThanEquals
        )
    }
}

/// The policy values of one clause, compiled for the operator's family.
#[derive(Debug, Clone)]
enum Values {
    /// String and Bool operators: patterns (with wildcards only for StringLike).
    Text(Vec<Glob>),
    Numbers(Vec<Option<f64>>),
    Dates(Vec<Option<i128>>),
    Binary(Vec<Option<Vec<u8>>>),
    Ips(Vec<Option<Cidr>>),
    Arns(Vec<ArnPattern>),
    /// `Null`: `true` means "the key must be absent".
    Null(Vec<Option<bool>>),
}

/// One `operator: { key: values }` entry of a Condition element.
#[derive(Debug, Clone)]
pub(crate) struct Clause {
    pub(crate) operator: Operator,
    /// The key, lowercased.
    pub(crate) key: Box<str>,
    values: Values,
}

impl Clause {
    /// Compiles a clause; `variables` is whether the document substitutes `${…}`.
    pub(crate) fn new(operator: Operator, key: &str, values: &[String], variables: bool) -> Clause {
        let text = |wildcards: bool, fold: bool| {
            let syntax = Syntax { wildcards, variables, fold };
            Values::Text(values.iter().map(|v| Glob::new(v, syntax)).collect())
        };
        let values = match operator.test {
            Test::StringEquals => text(false, false),
            Test::StringEqualsIgnoreCase | Test::Bool => text(false, true),
            Test::StringLike => text(true, false),
            Test::NumericEquals
            | Test::NumericLessThan
            | Test::NumericLessThanEquals
            | Test::NumericGreaterThan
            | Test::NumericGreaterThanEquals => Values::Numbers(values.iter().map(|v| parse_number(v)).collect()),
            Test::DateEquals | Test::DateLessThan | Test::DateLessThanEquals | Test::DateGreaterThan | Test::DateGreaterThanEquals => {
                Values::Dates(values.iter().map(|v| parse_date(v)).collect())
            }
            Test::BinaryEquals => Values::Binary(values.iter().map(|v| decode_base64(v)).collect()),
            Test::IpAddress => Values::Ips(values.iter().map(|v| Cidr::parse(v)).collect()),
            Test::ArnLike => Values::Arns(values.iter().map(|v| ArnPattern::new(v, variables)).collect()),
            Test::Null => Values::Null(values.iter().map(|v| parse_bool(v)).collect()),
        };
        Clause { operator, key: key.to_lowercase().into_boxed_str(), values }
    }

    /// Whether the clause holds for `ctx`.
    pub(crate) fn holds(&self, ctx: &RequestContext) -> bool {
        let found = ctx.get_lowercase(&self.key);
        if let Values::Null(wanted) = &self.values {
            let absent = found.is_none();
            return wanted.contains(&Some(absent));
        }
        let op = self.operator;
        let Some(request_values) = found else {
            return op.if_exists
                || match op.qualifier {
                    Some(Qualifier::ForAllValues) => true,
                    Some(Qualifier::ForAnyValue) => false,
                    None => op.negated,
                };
        };
        // A request value passes when it matches one of the policy values (positive operators)
        // or none of them (negated operators).
        let passes = |v: &String| self.matches_any(v, ctx) != op.negated;
        match op.qualifier {
            Some(Qualifier::ForAllValues) => request_values.iter().all(passes),
            Some(Qualifier::ForAnyValue) => request_values.iter().any(passes),
            None if op.negated => !request_values.iter().any(|v| self.matches_any(v, ctx)),
            None => request_values.iter().any(|v| self.matches_any(v, ctx)),
        }
    }

    /// Whether the request value `v` matches at least one policy value.
    fn matches_any(&self, v: &str, ctx: &RequestContext) -> bool {
        let test = self.operator.test;
        match &self.values {
            Values::Text(globs) => globs.iter().any(|g| g.matches(v, ctx)),
            Values::Numbers(ns) => {
                let Some(x) = parse_number(v) else { return false };
                ns.iter().flatten().any(|n| compare(test, x.partial_cmp(n)))
            }
            Values::Dates(ds) => {
                let Some(x) = parse_date(v) else { return false };
                ds.iter().flatten().any(|d| compare(test, Some(x.cmp(d))))
            }
            Values::Binary(bs) => {
                let Some(x) = decode_base64(v) else { return false };
                bs.iter().flatten().any(|b| *b == x)
            }
            Values::Ips(cidrs) => {
                let Some(ip) = parse_ip(v) else { return false };
                cidrs.iter().flatten().any(|c| c.contains(ip))
            }
            Values::Arns(arns) => {
                let view = ArnView::new(v);
                arns.iter().any(|a| a.matches(&view, ctx))
            }
            Values::Null(_) => false,
        }
    }

    /// The variables the clause's values read.
    pub(crate) fn variables(&self) -> Vec<&Var> {
        match &self.values {
            Values::Text(globs) => globs.iter().flat_map(Glob::variables).collect(),
            Values::Arns(arns) => arns.iter().flat_map(ArnPattern::variables).collect(),
            _ => Vec::new(),
        }
    }
}

/// Applies an ordering test: `request <op> policy`.
fn compare(test: Test, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    let Some(ord) = ord else { return false };
    match test {
        Test::NumericEquals | Test::DateEquals => ord == Equal,
        Test::NumericLessThan | Test::DateLessThan => ord == Less,
        Test::NumericLessThanEquals | Test::DateLessThanEquals => ord != Greater,
        Test::NumericGreaterThan | Test::DateGreaterThan => ord == Greater,
        Test::NumericGreaterThanEquals | Test::DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An integer or decimal (`-12`, `3.5`, `.5`); no exponents, `inf` or `NaN`.
///
/// Compared as `f64`: integers beyond 2^53 lose precision, which no AWS numeric key reaches.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !(int.is_empty() && frac.is_empty()) && int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    t.parse().ok()
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

/// Reads an address as a request carries it, unwrapping IPv4-mapped IPv6 (`::ffff:a.b.c.d`).
fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.trim().parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// An address range: `203.0.113.0/24`, `2001:DB8:1234:5678::/64`, or a bare address
/// (`/32` or `/128`, "If you specify an IP address without the associated routing prefix,
/// IAM uses the default prefix value of /32").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses a range; host bits after the prefix are ignored, as IAM does for `10.1.2.3/8`.
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u8>().ok().filter(|&p| p <= max)?,
            Some(_) => return None,
            None => max,
        };
        Some(Cidr { network, prefix })
    }

    /// Whether `ip` is in the range (IPv4 and IPv6 never match each other).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => masked(u32::from(n).into(), u32::from(a).into(), 32, self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => masked(u128::from(n), u128::from(a), 128, self.prefix),
            _ => false,
        }
    }
}

fn masked(network: u128, addr: u128, bits: u32, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = bits - u32::from(prefix);
    (network >> shift) == (addr >> shift)
}

/// Parses a date as IAM reads Date condition values: epoch seconds when the text has no `T`
/// and no `-` (so `2020` is a number of seconds), otherwise one of the W3C profiles of ISO 8601
/// (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then `Thh:mm`, `Thh:mm:ss`, `Thh:mm:ss.s…`, with `Z`,
/// `±hh:mm`, `±hhmm` or nothing for UTC). Returns nanoseconds since 1970-01-01T00:00:00Z.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    if !s.contains(['t', 'T', '-']) {
        return parse_epoch(s);
    }
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut fields = date.splitn(3, '-');
    let year: i64 = digits(fields.next()?, 4, 4)?;
    let month: i64 = fields.next().map_or(Some(1), |m| digits(m, 2, 2))?;
    let day: i64 = fields.next().map_or(Some(1), |d| digits(d, 2, 2))?;
    let date = calendar_date(year, month, day)?;
    let mut nanos: i128 = 0;
    let mut offset_secs: i64 = 0;
    if let Some(time) = time {
        let (clock, offset) = split_offset(time)?;
        offset_secs = offset;
        let mut parts = clock.splitn(3, ':');
        let hour: i64 = digits(parts.next()?, 2, 2)?;
        let minute: i64 = digits(parts.next()?, 2, 2)?;
        let (second, frac) = match parts.next() {
            Some(sec) => {
                let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
                if sec.contains('.') && frac.is_empty() {
                    return None;
                }
                (digits(whole, 2, 2)?, frac)
            }
            None => (0, ""),
        };
        if hour > 23 || minute > 59 || second > 59 || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac_nanos: i128 = if frac.is_empty() { 0 } else { frac.parse::<i128>().ok()? * 10i128.pow(9 - frac.len() as u32) };
        nanos = i128::from(hour * 3600 + minute * 60 + second) * 1_000_000_000 + frac_nanos;
    }
    let days = i128::from(date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY);
    Some(days * 86_400 * 1_000_000_000 + nanos - i128::from(offset_secs) * 1_000_000_000)
}

/// Epoch seconds, optionally with a fraction.
fn parse_epoch(s: &str) -> Option<i128> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 18 || frac.len() > 9 {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let secs: i128 = whole.parse().ok()?;
    let frac_nanos: i128 = if frac.is_empty() { 0 } else { frac.parse::<i128>().ok()? * 10i128.pow(9 - frac.len() as u32) };
    Some(secs * 1_000_000_000 + frac_nanos)
}

/// Splits `hh:mm:ss…` from its zone designator; returns the zone's offset east of UTC in seconds.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match time.rfind(['+', '-']) {
        Some(i) => {
            let (clock, zone) = (&time[..i], &time[i + 1..]);
            let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
            let (h, m) = match zone.split_once(':') {
                Some((h, m)) => (digits(h, 2, 2)?, digits(m, 2, 2)?),
                None if zone.len() == 4 && zone.is_ascii() => (digits(&zone[..2], 2, 2)?, digits(&zone[2..], 2, 2)?),
                None => (digits(zone, 2, 2)?, 0),
            };
            if h > 23 || m > 59 {
                return None;
            }
            Some((clock, sign * (h * 3600 + m * 60)))
        }
        None => Some((time, 0)),
    }
}

/// Parses `min..=max` ASCII digits.
fn digits(s: &str, min: usize, max: usize) -> Option<i64> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// A valid proleptic Gregorian date, or `None` (month 13, February 30th, …).
fn calendar_date(year: i64, month: i64, day: i64) -> Option<time::Date> {
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_parse() {
        let op = Operator::parse("ForAnyValue:StringNotLikeIfExists").unwrap();
        assert_eq!((op.test, op.negated, op.if_exists, op.qualifier), (Test::StringLike, true, true, Some(Qualifier::ForAnyValue)));
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("stringequals").is_none());
        assert_eq!(Operator::parse("ArnEquals").unwrap().test, Test::ArnLike);
    }

    #[test]
    fn dates() {
        let epoch = |s| parse_date(s).map(|n| n / 1_000_000_000);
        assert_eq!(epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch("2020-01-01T00:00:00Z"), Some(1_577_836_800));
        assert_eq!(epoch("2020-01-01"), Some(1_577_836_800));
        assert_eq!(epoch("2020-01-01T01:00:00+01:00"), Some(1_577_836_800));
        assert_eq!(epoch("2019-12-31T23:00:00-0100"), Some(1_577_836_800));
        assert_eq!(epoch("2020-01-01T00:00Z"), Some(1_577_836_800));
        assert_eq!(epoch("1577836800"), Some(1_577_836_800));
        assert_eq!(parse_date("2020-01-01T00:00:00.5Z").map(|n| n % 1_000_000_000), Some(500_000_000));
        assert_eq!(epoch("2020-02-30"), None);
        assert_eq!(epoch("yesterday"), None);
        assert_eq!(epoch("2020-13-01"), None);
    }

    #[test]
    fn numbers_and_ips() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e3"), None);
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains("203.0.113.9".parse().unwrap()));
        assert!(!c.contains("203.0.114.9".parse().unwrap()));
        assert!(Cidr::parse("2001:DB8:1234:5678::/64").unwrap().contains("2001:db8:1234:5678::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert_eq!(parse_ip("::ffff:10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
    }
}
