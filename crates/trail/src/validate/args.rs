//! The arguments of `validate-logs` as the aws CLI reads them: the trail ARN, time
//! values, and public keys as ListPublicKeys returns them.

/// A trail's identity, from its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    /// The trail's home region.
    pub region: String,
    /// The trail's account.
    pub account_id: String,
    /// The trail's name.
    pub name: String,
}

impl TrailArn {
    /// Checks an ARN as the aws CLI does (`arn:.+:cloudtrail:.+:\d{12}:trail/.+`) and splits it.
    pub fn parse(arn: &str) -> Result<TrailArn, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let valid = parts.len() == 6
            && parts[0] == "arn"
            && !parts[1].is_empty()
            && parts[2] == "cloudtrail"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && parts[5].strip_prefix("trail/").is_some_and(|n| !n.is_empty());
        if !valid {
            return Err(format!("Invalid trail ARN provided: {arn}"));
        }
        let name = arn.rsplit('/').next().unwrap_or_default();
        Ok(TrailArn { region: parts[3].to_owned(), account_id: parts[4].to_owned(), name: name.to_owned() })
    }
}

/// The DER bytes of a ListPublicKeys Value; tolerates a server that base64-encoded them twice.
pub fn public_key_der(value: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    if value.first() != Some(&0x30)
        && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(value)
    {
        return decoded;
    }
    value.to_vec()
}

/// Parses a time argument as the aws CLI accepts them: ISO 8601 dates and times, with
/// `T` or a space, optional seconds and fraction, and `Z`, `UTC`, `±HH[:MM]` or no zone
/// (UTC); also the compact `YYYYMMDDTHHMMSSZ` and whole epoch seconds. Returns epoch ms.
pub fn parse_time_arg(text: &str) -> Result<i64, String> {
    parse_time(text.trim()).ok_or_else(|| format!("Unable to parse date value: {text}"))
}

fn parse_time(s: &str) -> Option<i64> {
    if !s.is_empty() && s.len() >= 9 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok()?.checked_mul(1000);
    }
    let mut cur = Cursor { s: s.as_bytes(), at: 0 };
    let year = cur.digits(4)? as i32;
    let compact = !cur.eat(b'-');
    let month = cur.digits(2)? as u8;
    if !compact && !cur.eat(b'-') {
        return None;
    }
    let day = cur.digits(2)? as u8;
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let (mut hour, mut minute, mut second, mut nanos) = (0u8, 0u8, 0u8, 0u32);
    if cur.eat(b'T') || cur.eat(b't') || (cur.peek() == Some(b' ') && cur.peek_at(1).is_some_and(|b| b.is_ascii_digit()) && cur.eat(b' ')) {
        hour = cur.digits(2)? as u8;
        let colon = cur.eat(b':');
        minute = cur.digits(2)? as u8;
        let more = if colon { cur.eat(b':') } else { cur.peek().is_some_and(|b| b.is_ascii_digit()) };
        if more {
            second = cur.digits(2)? as u8;
            if cur.eat(b'.') || cur.eat(b',') {
                let start = cur.at;
                while cur.peek().is_some_and(|b| b.is_ascii_digit()) {
                    cur.at += 1;
                }
                let frac = std::str::from_utf8(&cur.s[start..cur.at]).ok()?;
                if frac.is_empty() {
                    return None;
                }
                let padded: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
                nanos = padded.parse().ok()?;
            }
        }
    }
    let time = time::Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    while cur.peek() == Some(b' ') {
        cur.at += 1;
    }
    let rest = std::str::from_utf8(&cur.s[cur.at..]).ok()?;
    let offset_secs: i64 = match rest {
        "" | "Z" | "z" | "UTC" | "GMT" | "+00:00" => 0,
        zone => {
            let (sign, digits) = match zone.as_bytes().first()? {
                b'+' => (1, &zone[1..]),
                b'-' => (-1, &zone[1..]),
                _ => return None,
            };
            let digits = digits.replace(':', "");
            if !digits.bytes().all(|b| b.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let utc = time::PrimitiveDateTime::new(date, time).assume_utc();
    let ms = i64::try_from(utc.unix_timestamp_nanos() / 1_000_000).ok()?;
    Some(ms - offset_secs * 1000)
}

struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.s.get(self.at + ahead).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.s.get(self.at..self.at + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += n;
        std::str::from_utf8(part).ok()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-21T10:00:00Z
    const T0: i64 = 1_795_255_200_000;

    #[test]
    fn time_arguments() {
        for ok in [
            "2026-11-21T10:00:00Z",
            "2026-11-21T10:00:00",
            "2026-11-21T10:00Z",
            "2026-11-21 10:00:00",
            "2026-11-21T10:00:00.000Z",
            "2026-11-21T10:00:00+00:00",
            "2026-11-21T11:00:00+01:00",
            "2026-11-21T05:30:00-0430",
            "2026-11-21T12:00:00+02",
            "20261121T100000Z",
            "2026-11-21T10:00:00 UTC",
            " 2026-11-21T10:00:00Z ",
            "1795255200",
        ] {
            assert_eq!(parse_time_arg(ok), Ok(T0), "{ok}");
        }
        assert_eq!(parse_time_arg("2026-11-21"), Ok(T0 - 10 * 3_600_000));
        assert_eq!(parse_time_arg("2026-11-21T10:00:00.25Z"), Ok(T0 + 250));
        for bad in ["", "yesterday", "2026-13-01", "2026-11-21T25:00:00Z", "2026-11-21T10:00:00Q", "2026-11-21T10:00:00+2", "2026/11/21"] {
            assert_eq!(parse_time_arg(bad), Err(format!("Unable to parse date value: {bad}")));
        }
    }

    #[test]
    fn trail_arns() {
        assert_eq!(
            TrailArn::parse("arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit"),
            Ok(TrailArn { region: "eu-west-1".into(), account_id: "123456789012".into(), name: "audit".into() })
        );
        for bad in [
            "audit",
            "arn:aws:cloudtrail:eu-west-1:1234:trail/audit",
            "arn:aws:logs:eu-west-1:123456789012:trail/audit",
            "arn:aws:cloudtrail:eu-west-1:123456789012:trail/",
        ] {
            assert_eq!(TrailArn::parse(bad), Err(format!("Invalid trail ARN provided: {bad}")));
        }
    }

    #[test]
    fn public_key_values() {
        assert_eq!(public_key_der(&[0x30, 0x82, 1]), vec![0x30, 0x82, 1]);
        assert_eq!(public_key_der(b"MIIB"), vec![0x30, 0x82, 0x01]);
    }
}
