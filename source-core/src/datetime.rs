//! Date and time texts as APIs send them → Unix milliseconds, without a calendar crate.

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
///
/// ```
/// assert_eq!(source_core::datetime::days_from_civil(1970, 1, 1), 0);
/// assert_eq!(source_core::datetime::days_from_civil(2024, 3, 1), 19_783);
/// ```
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][Z|±HH:MM]` into Unix milliseconds (UTC when
/// no offset is given).
///
/// ```
/// use source_core::datetime::parse_iso_ms;
/// assert_eq!(parse_iso_ms("1970-01-01T00:00:00Z"), Some(0));
/// assert_eq!(parse_iso_ms("2024-01-01T01:00:00+01:00"), Some(1_704_067_200_000));
/// assert_eq!(parse_iso_ms("2024-13-01"), None);
/// ```
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    parse(s, true)
}

/// Like [`parse_iso_ms`], but only UTC texts (`Z` or nothing after the time): a text with an
/// offset is not read.
///
/// ```
/// use source_core::datetime::parse_utc_ms;
/// assert_eq!(parse_utc_ms("2024-01-01 10:00:05"), Some(1_704_067_200_000 + 36_005_000));
/// assert_eq!(parse_utc_ms("2024-01-01T01:00:00+01:00"), None);
/// ```
pub fn parse_utc_ms(s: &str) -> Option<i64> {
    parse(s, false)
}

fn parse(s: &str, offsets: bool) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * DAY_MS;
    let mut rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(ms);
    }
    if !(rest.starts_with('T') || rest.starts_with(' ')) || rest.len() < 6 {
        return None;
    }
    let hh: i64 = rest.get(1..3)?.parse().ok()?;
    let mi: i64 = rest.get(4..6)?.parse().ok()?;
    rest = rest.get(6..)?;
    let mut ss = 0;
    if let Some(r) = rest.strip_prefix(':') {
        ss = r.get(0..2)?.parse().ok()?;
        rest = r.get(2..)?;
    }
    ms += (hh * 3600 + mi * 60 + ss) * 1000;
    if let Some(r) = rest.strip_prefix('.') {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        let frac: String = digits.chars().chain("000".chars()).take(3).collect();
        ms += frac.parse::<i64>().ok()?;
        rest = r.get(digits.len()..)?;
    }
    match rest {
        "" | "Z" | "z" => Some(ms),
        tz if offsets && tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            let oh: i64 = tz.get(1..3)?.parse().ok()?;
            let om: i64 = tz.get(4..6)?.parse().ok()?;
            Some(ms - sign * (oh * 3600 + om * 60) * 1000)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(parse_iso_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso_ms("1970-01-02"), Some(DAY_MS));
        assert_eq!(
            parse_iso_ms("2024-01-01T00:00:00.250Z"),
            Some(1_704_067_200_250)
        );
        assert_eq!(
            parse_iso_ms("2024-01-01T01:00:00+01:00"),
            Some(1_704_067_200_000)
        );
        assert_eq!(parse_iso_ms("2024-13-01"), None);
        assert_eq!(parse_iso_ms("yesterday"), None);
    }

    #[test]
    fn utc_times() {
        assert_eq!(parse_utc_ms("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(
            parse_utc_ms("2024-01-01 10:00:05"),
            Some(1_704_067_200_000 + 36_005_000)
        );
        assert_eq!(
            parse_utc_ms("2024-01-01T10:00:05.5z"),
            Some(1_704_103_205_500)
        );
        assert_eq!(parse_utc_ms("2024-01-01T01:00:00+01:00"), None);
        assert_eq!(parse_utc_ms("yesterday"), None);
        assert_eq!(parse_utc_ms("2024-13-01"), None);
    }
}
