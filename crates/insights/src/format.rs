//! Result values as GetQueryResults returns them: every value a string.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, TimestampMillisecondType, UInt64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use base64::Engine;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// The text of `array[row]`, or None when it is null (AWS leaves null fields out of a row).
pub fn value(array: &ArrayRef, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let text = match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
        DataType::Utf8View => array.as_string_view().value(row).to_string(),
        DataType::Boolean => if array.as_boolean().value(row) { "1" } else { "0" }.to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::Float64 => number(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => number(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::Timestamp(TimeUnit::Millisecond, _) => time(array.as_primitive::<TimestampMillisecondType>().value(row)),
        _ => other(array, row)?,
    };
    Some(text)
}

/// Any other type through Arrow's display, timestamps of other units as milliseconds.
fn other(array: &ArrayRef, row: usize) -> Option<String> {
    if let DataType::Timestamp(_, _) = array.data_type() {
        let millis = datafusion::arrow::compute::cast(array, &DataType::Timestamp(TimeUnit::Millisecond, None)).ok()?;
        return Some(time(millis.as_primitive::<TimestampMillisecondType>().value(row)));
    }
    if array.data_type().is_integer() {
        let wide = datafusion::arrow::compute::cast(array, &DataType::Int64).ok()?;
        return Some(wide.as_primitive::<Int64Type>().value(row).to_string());
    }
    let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default()).ok()?;
    Some(formatter.value(row).to_string())
}

/// A number as Logs Insights prints it: integers without a fraction (`42`, not `42.0`), others
/// in their shortest exact form.
pub fn number(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    format!("{value}")
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmm` (UTC), the form of `@timestamp` and bins;
/// an instant beyond year 9999 stays a number.
pub fn time(millis: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
    crate::functions::utc(millis).and_then(|t| t.format(FORMAT).ok()).unwrap_or_else(|| millis.to_string())
}

/// The `@ptr` of a row: opaque to callers; base64 of the group's index and the row's position.
pub fn ptr(row_id: i64) -> String {
    let group = (row_id >> crate::source::ROW_BITS) as u32;
    let position = row_id & ((1 << crate::source::ROW_BITS) - 1);
    let mut bytes = Vec::with_capacity(12);
    bytes.extend_from_slice(&group.to_be_bytes());
    bytes.extend_from_slice(&(position as u64).to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(42.0), "42");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(1.0 / 3.0), "0.3333333333333333");
    }

    #[test]
    fn times() {
        assert_eq!(time(0), "1970-01-01 00:00:00.000");
        assert_eq!(time(1_653_053_459_680), "2022-05-20 13:30:59.680");
        assert_eq!(time(-1), "1969-12-31 23:59:59.999");
    }
}
