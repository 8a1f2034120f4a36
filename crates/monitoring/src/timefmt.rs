//! Times as CloudWatch reads and writes them: request timestamps, output timestamps in
//! epoch seconds, and the text forms of alarm reasons and notifications.

use serde_json::Value;
use time::OffsetDateTime;

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A request timestamp, epoch ms: epoch seconds (the JSON form) or any text form AWS takes.
pub(crate) fn parse(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as i64),
        Value::String(s) => wire::rest_xml::parse_timestamp(s).map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64),
        _ => None,
    }
}

/// An output timestamp: epoch seconds, with milliseconds only when there are any.
pub(crate) fn secs(ms: i64) -> Value {
    if ms % 1000 == 0 { Value::from(ms / 1000) } else { Value::from(ms as f64 / 1000.0) }
}

/// `2021-11-26T23:51:22.613+0000`: CloudWatch's form inside alarm JSON documents.
pub(crate) fn cloudwatch(ms: i64) -> String {
    let t = at(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `2021-11-26T23:51:22.613Z`: SNS's notification timestamp.
pub(crate) fn sns(ms: i64) -> String {
    wire::rest_xml::format_iso(at(ms))
}

/// `26/11/21 23:50:00`: how a datapoint's time appears in an alarm's state reason.
pub(crate) fn reason(ms: i64) -> String {
    let t = at(ms);
    format!("{:02}/{:02}/{:02} {:02}:{:02}:{:02}", t.day(), u8::from(t.month()), t.year() % 100, t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms() {
        let ms = 1_637_970_682_613;
        assert_eq!(cloudwatch(ms), "2021-11-26T23:51:22.613+0000");
        assert_eq!(sns(ms), "2021-11-26T23:51:22.613Z");
        assert_eq!(reason(1_637_970_600_000), "26/11/21 23:50:00");
        assert_eq!(secs(1_637_970_600_000), json!(1_637_970_600));
        assert_eq!(parse(&json!("2021-11-26T23:50:00Z")), Some(1_637_970_600_000));
        assert_eq!(parse(&json!(1_637_970_600.5)), Some(1_637_970_600_500));
    }
}
