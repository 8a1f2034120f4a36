//! The scalar functions DataFusion lacks, as UDFs: discovered fields, `parse` captures, time
//! bins, IP address tests, and the counter of matched records.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMillisecondType;
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, StringArray, StructArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Fields, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::fields::Extractor;
use crate::parse::Period;

/// The type every time value has inside a query: epoch milliseconds, UTC.
pub const TIME: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

fn text_fields(names: &[String]) -> Fields {
    names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect()
}

/// The struct of `names` built from one optional value per row and name.
fn struct_of(names: &[String], builders: Vec<StringBuilder>) -> ColumnarValue {
    let arrays: Vec<ArrayRef> = builders.into_iter().map(|mut b| Arc::new(b.finish()) as ArrayRef).collect();
    ColumnarValue::Array(Arc::new(StructArray::new(text_fields(names), arrays, None)))
}

/// The first argument as one string array of `rows` values.
fn strings(args: &ScalarFunctionArgs, index: usize) -> Result<ArrayRef> {
    args.args[index].clone().into_array(args.number_rows)
}

// ---------------------------------------------------------------------------------------------

/// `discover(@message)`: a struct of the discovered fields a query names, read in one pass over
/// each message. Volatile so that no optimizer rule moves or duplicates it (each copy would read
/// every message again).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Discover {
    names: Vec<String>,
    signature: Signature,
}

impl Discover {
    /// The call of a discovery of `names` on `message`.
    pub fn call(names: Vec<String>, message: Expr) -> Expr {
        let udf = Discover { names, signature: Signature::exact(vec![DataType::Utf8], Volatility::Volatile) };
        ScalarUDF::new_from_impl(udf).call(vec![message])
    }
}

impl ScalarUDFImpl for Discover {
    fn name(&self) -> &str {
        "discover"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(text_fields(&self.names)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let messages = strings(&args, 0)?;
        let messages = messages.as_string::<i32>();
        let extractor = Extractor::new(&self.names);
        let mut builders: Vec<StringBuilder> = self.names.iter().map(|_| StringBuilder::with_capacity(messages.len(), 0)).collect();
        let mut values: Vec<Option<Cow<str>>> = vec![None; self.names.len()];
        for message in messages.iter() {
            match message {
                Some(message) => extractor.extract(message, &mut values),
                None => values.iter_mut().for_each(|v| *v = None),
            }
            for (builder, value) in builders.iter_mut().zip(&values) {
                builder.append_option(value.as_deref());
            }
        }
        Ok(struct_of(&self.names, builders))
    }
}

// ---------------------------------------------------------------------------------------------

/// `parse`: the capture groups of a regular expression as a struct of the created fields.
#[derive(Debug)]
pub struct Capture {
    regex: regex::Regex,
    names: Vec<String>,
    signature: Signature,
}

impl PartialEq for Capture {
    fn eq(&self, other: &Capture) -> bool {
        self.regex.as_str() == other.regex.as_str() && self.names == other.names
    }
}

impl Eq for Capture {}

impl Hash for Capture {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.regex.as_str().hash(state);
        self.names.hash(state);
    }
}

impl Capture {
    /// The call of `regex`'s captures, named `names` in group order, on `source`.
    pub fn call(regex: &str, names: Vec<String>, source: Expr) -> Result<Expr> {
        let regex = regex::Regex::new(regex).map_err(|e| datafusion::error::DataFusionError::Plan(e.to_string()))?;
        let udf = Capture { regex, names, signature: Signature::exact(vec![DataType::Utf8], Volatility::Volatile) };
        Ok(ScalarUDF::new_from_impl(udf).call(vec![source]))
    }
}

impl ScalarUDFImpl for Capture {
    fn name(&self) -> &str {
        "parse"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(text_fields(&self.names)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let sources = strings(&args, 0)?;
        let sources = sources.as_string::<i32>();
        let mut builders: Vec<StringBuilder> = self.names.iter().map(|_| StringBuilder::with_capacity(sources.len(), 0)).collect();
        let mut locations = self.regex.capture_locations();
        for source in sources.iter() {
            let matched = source.and_then(|s| self.regex.captures_read(&mut locations, s).map(|_| s));
            for (group, builder) in builders.iter_mut().enumerate() {
                let value = matched.and_then(|s| locations.get(group + 1).map(|(a, b)| &s[a..b]));
                builder.append_option(value);
            }
        }
        Ok(struct_of(&self.names, builders))
    }
}

// ---------------------------------------------------------------------------------------------

/// Counts the rows it sees and lets every one through: placed as a filter after the query's
/// filters, it gives the statistics' records matched.
#[derive(Debug)]
pub struct MatchCounter {
    counter: Arc<AtomicU64>,
    signature: Signature,
}

impl PartialEq for MatchCounter {
    fn eq(&self, other: &MatchCounter) -> bool {
        Arc::ptr_eq(&self.counter, &other.counter)
    }
}

impl Eq for MatchCounter {}

impl Hash for MatchCounter {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.counter) as usize).hash(state);
    }
}

impl MatchCounter {
    /// A predicate (always true) that adds each row of `column` to `counter`.
    pub fn call(counter: Arc<AtomicU64>, column: Expr) -> Expr {
        let udf = MatchCounter { counter, signature: Signature::any(1, Volatility::Volatile) };
        ScalarUDF::new_from_impl(udf).call(vec![column])
    }
}

impl ScalarUDFImpl for MatchCounter {
    fn name(&self) -> &str {
        "records_matched"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.counter.fetch_add(args.number_rows as u64, Ordering::Relaxed);
        Ok(ColumnarValue::Array(Arc::new(BooleanArray::from(vec![true; args.number_rows]))))
    }
}

// ---------------------------------------------------------------------------------------------

/// The number a text holds (NULL when it holds none), as a sort key. A cast would do the same,
/// but DataFusion takes the order of a cast for the order of its input and then drops the text
/// itself from the sort keys that follow.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NumberOf {
    signature: Signature,
}

impl NumberOf {
    /// The call reading `text` as a number.
    pub fn call(text: Expr) -> Expr {
        ScalarUDF::new_from_impl(NumberOf { signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable) }).call(vec![text])
    }
}

impl ScalarUDFImpl for NumberOf {
    fn name(&self) -> &str {
        "number_of"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let texts = strings(&args, 0)?;
        let numbers: Float64Array = texts.as_string::<i32>().iter().map(|t| t.and_then(|t| t.trim().parse::<f64>().ok())).collect();
        Ok(ColumnarValue::Array(Arc::new(numbers)))
    }
}

// ---------------------------------------------------------------------------------------------

/// `bin(period)`, `datefloor(t, period)` and `dateceiling(t, period)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TimeRound {
    period: Period,
    ceiling: bool,
    signature: Signature,
}

impl TimeRound {
    /// The call rounding `time` down (or up) to a multiple of `period`.
    pub fn call(period: Period, ceiling: bool, time: Expr) -> Expr {
        let udf = TimeRound { period, ceiling, signature: Signature::exact(vec![TIME], Volatility::Immutable) };
        ScalarUDF::new_from_impl(udf).call(vec![time])
    }
}

impl ScalarUDFImpl for TimeRound {
    fn name(&self) -> &str {
        if self.ceiling { "dateceiling" } else { "datefloor" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(TIME)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let times = strings(&args, 0)?;
        let times = times.as_primitive::<TimestampMillisecondType>();
        let rounded: TimestampMillisecondArray = times.unary(|t| if self.ceiling { ceil(t, self.period) } else { floor(t, self.period) });
        Ok(ColumnarValue::Array(Arc::new(rounded)))
    }
}

/// The ISO week starts on Monday; 1970-01-05 was one.
const MONDAY: i64 = 4 * 86_400_000;

/// `t` rounded down to a multiple of `period` (weeks from Mondays, months from January 1970).
pub fn floor(t: i64, period: Period) -> i64 {
    match period {
        Period::Millis(p) => t - t.rem_euclid(p),
        Period::Weeks(n) => {
            let p = n * 7 * 86_400_000;
            t - (t - MONDAY).rem_euclid(p)
        }
        Period::Months(n) => {
            let Some(months) = months_since_year_zero(t) else { return t };
            month_start(months - months.rem_euclid(n)).unwrap_or(t)
        }
    }
}

/// `t` rounded up to a multiple of `period`.
pub fn ceil(t: i64, period: Period) -> i64 {
    let down = floor(t, period);
    if down == t {
        return t;
    }
    match period {
        Period::Millis(p) => down + p,
        Period::Weeks(n) => down + n * 7 * 86_400_000,
        Period::Months(n) => months_since_year_zero(down).and_then(|months| month_start(months + n)).unwrap_or(t),
    }
}

/// The UTC date of epoch milliseconds, within the years `time` represents (±9999).
pub fn utc(millis: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
}

/// Whole months from January of year 0 to the month holding `t`.
fn months_since_year_zero(t: i64) -> Option<i64> {
    let date = utc(t)?.date();
    Some(i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1)
}

/// Epoch milliseconds of the first day of a month counted as [`months_since_year_zero`] does.
fn month_start(months: i64) -> Option<i64> {
    let year = i32::try_from(months.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(months.rem_euclid(12) + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, 1).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

// ---------------------------------------------------------------------------------------------

/// Which IP versions an IP function accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4 or IPv6.
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl IpVersion {
    fn accepts(self, ip: &IpAddr) -> bool {
        match self {
            IpVersion::Any => true,
            IpVersion::V4 => ip.is_ipv4(),
            IpVersion::V6 => ip.is_ipv6(),
        }
    }
}

/// `isValidIp*(ip)` with one argument, `isIp*InSubnet(ip, subnet)` with two.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpTest {
    version: IpVersion,
    subnet: bool,
    signature: Signature,
}

impl IpTest {
    /// The call of the test on `args` (the address, then the subnet for subnet tests).
    pub fn call(version: IpVersion, args: Vec<Expr>) -> Expr {
        let subnet = args.len() == 2;
        let signature = Signature::exact(vec![DataType::Utf8; args.len()], Volatility::Immutable);
        ScalarUDF::new_from_impl(IpTest { version, subnet, signature }).call(args)
    }
}

impl ScalarUDFImpl for IpTest {
    fn name(&self) -> &str {
        if self.subnet { "isipinsubnet" } else { "isvalidip" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ips = strings(&args, 0)?;
        let ips = ips.as_string::<i32>();
        let subnets: Option<ArrayRef> = if self.subnet { Some(strings(&args, 1)?) } else { None };
        let subnets: Option<&StringArray> = subnets.as_ref().map(|s| s.as_string::<i32>());
        let result: BooleanArray = (0..ips.len())
            .map(|row| {
                let ip = ips.is_valid(row).then(|| ips.value(row))?;
                let Some(subnets) = subnets else {
                    return Some(ip.parse::<IpAddr>().is_ok_and(|a| self.version.accepts(&a)));
                };
                let subnet = subnets.is_valid(row).then(|| subnets.value(row))?;
                Some(in_subnet(ip, subnet, self.version))
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(result)))
    }
}

/// True when `ip` lies in the CIDR block `subnet` and both are of an accepted version.
pub fn in_subnet(ip: &str, subnet: &str, version: IpVersion) -> bool {
    let Ok(ip) = ip.parse::<IpAddr>() else { return false };
    let (network, bits) = subnet.split_once('/').unwrap_or((subnet, ""));
    let Ok(network) = network.parse::<IpAddr>() else { return false };
    if !version.accepts(&ip) {
        return false;
    }
    match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => prefix_matches(u32::from(a).into(), u32::from(n).into(), bits, 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => prefix_matches(u128::from(a), u128::from(n), bits, 128),
        _ => false,
    }
}

fn prefix_matches(ip: u128, network: u128, bits: &str, width: u32) -> bool {
    let prefix = if bits.is_empty() { width } else { bits.parse::<u32>().unwrap_or(u32::MAX) };
    if prefix > width {
        return false;
    }
    let shift = width - prefix;
    shift >= 128 || ip >> shift == network >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch milliseconds of midnight UTC on a date.
    fn day(year: i32, month: u8, day: u8) -> i64 {
        let date = time::Date::from_calendar_date(year, time::Month::try_from(month).unwrap(), day).unwrap();
        date.midnight().assume_utc().unix_timestamp() * 1000
    }

    #[test]
    fn calendar() {
        assert_eq!(months_since_year_zero(0), Some(1970 * 12));
        assert_eq!(months_since_year_zero(-1), Some(1969 * 12 + 11));
        assert_eq!(month_start(2022 * 12 + 4), Some(day(2022, 5, 1)));
        assert_eq!(month_start(-1), Some(day(-1, 12, 1)));
        assert_eq!(month_start(i64::MAX), None);
        // Beyond the years `time` represents, rounding leaves the instant as it is.
        assert_eq!(floor(i64::MAX, Period::Months(1)), i64::MAX);
    }

    #[test]
    fn rounding() {
        let t = day(2022, 5, 20) + 13 * 3_600_000 + 31 * 60_000 + 7_123;
        assert_eq!(floor(t, Period::Millis(300_000)), t - 60_000 - 7_123);
        assert_eq!(ceil(t, Period::Millis(3_600_000)), t - 31 * 60_000 - 7_123 + 3_600_000);
        // 2022-05-20 is a Friday; its week started on Monday the 16th.
        assert_eq!(floor(t, Period::Weeks(1)), day(2022, 5, 16));
        assert_eq!(floor(t, Period::Months(3)), day(2022, 4, 1));
        assert_eq!(ceil(t, Period::Months(12)), day(2023, 1, 1));
    }

    #[test]
    fn subnets() {
        assert!(in_subnet("192.0.2.17", "192.0.2.0/24", IpVersion::Any));
        assert!(!in_subnet("192.0.3.17", "192.0.2.0/24", IpVersion::V4));
        assert!(!in_subnet("192.0.2.17", "192.0.2.0/24", IpVersion::V6));
        assert!(in_subnet("2001:db8::1", "2001:db8::/32", IpVersion::V6));
        assert!(in_subnet("10.1.2.3", "0.0.0.0/0", IpVersion::Any));
        assert!(!in_subnet("not an ip", "10.0.0.0/8", IpVersion::Any));
    }
}
