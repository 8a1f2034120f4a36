//! MariaDB's server_audit records turned into Aurora MySQL's Advanced Auditing records.
//!
//! Both carry `timestamp,serverhost,username,host,connectionid,queryid,operation,database,object,retcode`,
//! but MariaDB writes `YYYYMMDD HH:MM:SS` (UTC here, as the servers run with TZ=UTC)
//! where Aurora writes Unix microseconds, names the machine where Aurora names the DB
//! instance, and leaves TABLE records' retcode empty where Aurora writes 0.

/// Rewrites one MariaDB audit record as Aurora writes it, with `instance` as serverhost.
/// A line that is not an audit record is returned as it is.
pub fn to_aurora(line: &str, instance: &str) -> String {
    match parse(line) {
        Some(r) => {
            let retcode = if r.retcode.is_empty() { "0" } else { r.retcode };
            format!(
                "{},{instance},{},{},{},{},{},{},{},{retcode}",
                r.micros, r.username, r.host, r.connection_id, r.query_id, r.operation, r.database, r.object
            )
        }
        None => line.to_owned(),
    }
}

/// One record's fields, borrowed from the line.
#[derive(Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub micros: i64,
    pub serverhost: &'a str,
    pub username: &'a str,
    pub host: &'a str,
    pub connection_id: &'a str,
    pub query_id: &'a str,
    pub operation: &'a str,
    pub database: &'a str,
    /// The table, or the query in single quotes with its escapes kept.
    pub object: &'a str,
    pub retcode: &'a str,
}

/// Splits a record quote-aware: the first eight fields hold no commas; the object is a
/// single-quoted query (backslash escapes; commas and double quotes unescaped) or a
/// table name; the retcode is a number or empty.
pub fn parse(line: &str) -> Option<Record<'_>> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let mut fields = line.splitn(9, ',');
    let micros = timestamp_micros(fields.next()?)?;
    let (serverhost, username, host) = (fields.next()?, fields.next()?, fields.next()?);
    let (connection_id, query_id, operation, database) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    let rest = fields.next()?;
    let (object, retcode) = split_object(rest)?;
    if !is_retcode(retcode) {
        return None;
    }
    Some(Record { micros, serverhost, username, host, connection_id, query_id, operation, database, object, retcode })
}

/// `object,retcode`: a quoted object ends at its closing quote; a query cut short (at
/// server_audit_query_log_limit) or an unquoted name ends at the last comma.
fn split_object(rest: &str) -> Option<(&str, &str)> {
    if let Some(body) = rest.strip_prefix('\'') {
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'\'' => {
                    let end = i + 2; // the opening quote and this one
                    if rest.as_bytes().get(end) == Some(&b',') && is_retcode(&rest[end + 1..]) {
                        return Some((&rest[..end], &rest[end + 1..]));
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }
    let comma = rest.rfind(',')?;
    Some((&rest[..comma], &rest[comma + 1..]))
}

/// A retcode: a number, or empty (TABLE records).
fn is_retcode(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

/// `YYYYMMDD HH:MM:SS` (UTC) as Unix microseconds.
fn timestamp_micros(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 17 || b[8] != b' ' || b[11] != b':' || b[14] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(12..14)?, num(15..17)?);
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let t = date.with_hms(u8::try_from(hour).ok()?, u8::try_from(minute).ok()?, u8::try_from(second).ok()?).ok()?;
    Some(t.assume_utc().unix_timestamp() * 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_records_keep_their_text() {
        let line = r#"20261121 20:55:17,vm,admin,127.0.0.1,4,7,QUERY,d,'insert into d.t values (1,\'x,"y\'\'z\\nw\')',0"#;
        assert_eq!(
            to_aurora(line, "db-1"),
            r#"1795294517000000,db-1,admin,127.0.0.1,4,7,QUERY,d,'insert into d.t values (1,\'x,"y\'\'z\\nw\')',0"#
        );
    }

    #[test]
    fn table_records_get_retcode_zero() {
        assert_eq!(
            to_aurora("20261121 20:55:17,vm,admin,127.0.0.1,4,6,CREATE,d,t,", "i"),
            "1795294517000000,i,admin,127.0.0.1,4,6,CREATE,d,t,0"
        );
    }

    #[test]
    fn connects_and_failures() {
        assert_eq!(
            to_aurora("20261121 20:55:17,vm,admin,127.0.0.1,5,0,FAILED_CONNECT,,,1045", "i"),
            "1795294517000000,i,admin,127.0.0.1,5,0,FAILED_CONNECT,,,1045"
        );
    }

    #[test]
    fn a_quoted_comma_then_quote_is_not_the_end() {
        let r = parse(r"20261121 20:55:17,h,u,l,1,2,QUERY,,'select \',\' , 1',1064").unwrap();
        assert_eq!(r.object, r"'select \',\' , 1'");
        assert_eq!(r.retcode, "1064");
        let r = parse("20261121 20:55:17,h,u,l,1,2,QUERY,,'select ',5',0").unwrap();
        assert_eq!(r.object, "'select ',5'");
        assert_eq!(r.retcode, "0");
    }

    #[test]
    fn a_query_cut_in_a_character_still_parses() {
        // server_audit_query_log_limit cut a UTF-8 sequence; the reader made it U+FFFD.
        let r = parse("20261121 20:55:17,h,u,l,1,2,QUERY,db,'select \"caf\u{FFFD}',0").unwrap();
        assert_eq!(r.object, "'select \"caf\u{FFFD}'");
        assert_eq!(r.retcode, "0");
    }

    #[test]
    fn other_lines_pass_through() {
        assert_eq!(to_aurora("not a record", "i"), "not a record");
        assert_eq!(to_aurora("20261121 20:55:17,h,u", "i"), "20261121 20:55:17,h,u");
    }
}
