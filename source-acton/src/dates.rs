//! Act-On's date formats, one parser each (api-updates B5: "five date formats in one API").
//!
//! | format | example | where | parser |
//! |---|---|---|---|
//! | epoch ms, a number | `1724800487518` | `tsLastModified`, `lastOpenTS`, drilldown `ts` | [`epoch_ms`] |
//! | epoch ms, a string | `"1725641452528"` | message `timeStamp`, page `creation_time` | [`epoch_ms`] |
//! | text with a zone abbreviation and a year | `2024-09-03 12:47:01 PDT`, `Aug 27 2024 4:14 PM PDT` | record values, `sourceTS`, media `tstamp` | [`zoned_text_ms`] |
//! | Unix seconds | `1725641452` | `/ucl/v2` contact fields | [`unix_seconds_ms`] |
//! | relative text | `2 days ago` | report `lastOpen`, `lastClick` | none: stays text |
//!
//! `timeWhen` (`Fri Sep 6 9:50 AM PDT`) has no year, so no instant can be read from it: it
//! stays a text column, and `Timestamp` (from `timeStamp`) is the instant. `/ucl/v2` seconds
//! and `/api/1` milliseconds are never guessed from the size of a number: a column says which
//! it holds (the scan converts the UCL fields listed for the view, see `views::UCL_SECONDS`).
//!
//! A zone abbreviation this module does not know (the table in [`zone_offset_minutes`]) makes
//! the value NULL rather than failing the query: one odd cell should not cost the user the
//! rest of the rows, and guessing an offset would store a wrong instant.

use serde_json::Value as J;
use source_core::datetime::{DAY_MS, days_from_civil, parse_utc_ms};

/// Epoch milliseconds from a JSON number or a string of digits (`"1725641452528"`).
pub(crate) fn epoch_ms(v: &J) -> Option<i64> {
    match v {
        J::String(s) => digits(s).and_then(|t| t.parse().ok()),
        other => source_core::json::as_i64(other),
    }
}

/// Unix seconds (a JSON number or a string of digits) as epoch milliseconds, for the
/// `/ucl/v2` family (api-updates D5).
pub(crate) fn unix_seconds_ms(v: &J) -> Option<i64> {
    epoch_ms(v).and_then(|s| s.checked_mul(1000))
}

/// The text when it is an optionally signed run of ASCII digits.
fn digits(s: &str) -> Option<&str> {
    let t = s.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    (!body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

/// The UTC offset of a zone abbreviation, in minutes east of UTC. The US zones Act-On's
/// accounts print (`time_zone` is e.g. `US/Pacific`), UTC/GMT, and the zones of the EU
/// gateway's accounts. Ambiguous abbreviations (`IST`: India or Ireland) are left out.
pub(crate) fn zone_offset_minutes(zone: &str) -> Option<i32> {
    let hours = match zone.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" | "WET" => 0,
        "PDT" | "MST" => -7,
        "PST" | "AKDT" => -8,
        "MDT" | "CST" => -6,
        "CDT" | "EST" => -5,
        "EDT" | "AST" => -4,
        "ADT" => -3,
        "AKST" | "HDT" => -9,
        "HST" => -10,
        "BST" | "CET" | "WEST" => 1,
        "CEST" | "EET" => 2,
        "EEST" => 3,
        "AEST" => 10,
        "AEDT" => 11,
        _ => return numeric_offset_minutes(zone),
    };
    Some(hours * 60)
}

/// `+0200`, `-07:00`: a numeric offset in place of an abbreviation.
fn numeric_offset_minutes(zone: &str) -> Option<i32> {
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if rest.len() != 4 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = rest[..2].parse().ok()?;
    let m: i32 = rest[2..].parse().ok()?;
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Epoch milliseconds of a text with a zone abbreviation and a year:
/// `2024-09-03 12:47:01 PDT` or `Aug 27 2024 4:14 PM PDT` (also `Aug 27, 2024`). Texts without
/// a year (`Fri Sep 6 9:50 AM PDT`), relative texts and unknown zones give `None`.
pub(crate) fn zoned_text_ms(s: &str) -> Option<i64> {
    let tokens: Vec<&str> = s
        .split_whitespace()
        .map(|t| t.trim_end_matches(','))
        .collect();
    let (local_ms, zone) = match tokens.as_slice() {
        [date, time, zone] => (iso_local_ms(date, time)?, *zone),
        [month, day, year, time, meridiem, zone] => {
            (month_first_ms(month, day, year, time, meridiem)?, *zone)
        }
        _ => return None,
    };
    let offset = i64::from(zone_offset_minutes(zone)?);
    Some(local_ms - offset * 60_000)
}

/// `2024-09-03` and `12:47[:01]` as milliseconds of that wall-clock time read as UTC.
fn iso_local_ms(date: &str, time: &str) -> Option<i64> {
    let day = parse_utc_ms(date)?;
    Some(day + clock_ms(time)?)
}

/// `Aug`, `27`, `2024`, `4:14`, `PM` as milliseconds of that wall-clock time read as UTC.
fn month_first_ms(month: &str, day: &str, year: &str, time: &str, meridiem: &str) -> Option<i64> {
    let m = MONTHS
        .iter()
        .position(|name| month.get(..3).is_some_and(|m| m.eq_ignore_ascii_case(name)))?;
    let d: i64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let y: i64 = year.parse().ok().filter(|_| year.len() == 4)?;
    let clock = clock_ms(time)?;
    if !(3_600_000..13 * 3_600_000).contains(&clock) {
        return None;
    }
    // 12:xx AM is just after midnight, 12:xx PM just after noon.
    let hour_12 = clock % (12 * 3_600_000);
    let clock = match meridiem.to_ascii_uppercase().as_str() {
        "AM" => hour_12,
        "PM" => hour_12 + 12 * 3_600_000,
        _ => return None,
    };
    let m = i64::try_from(m).ok()? + 1;
    Some(days_from_civil(y, m, d) * DAY_MS + clock)
}

/// `H:MM` or `HH:MM:SS` as milliseconds into the day.
fn clock_ms(time: &str) -> Option<i64> {
    let mut parts = time.split(':');
    let h: i64 = parts.next()?.parse().ok().filter(|h| (0..24).contains(h))?;
    let m: i64 = parts.next()?.parse().ok().filter(|m| (0..60).contains(m))?;
    let s: i64 = match parts.next() {
        Some(s) => s.parse().ok().filter(|s| (0..60).contains(s))?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(((h * 60 + m) * 60 + s) * 1000)
}

/// An `/api/1` timestamp cell in any of its spellings: epoch ms (number or string), a text
/// with a zone abbreviation, or `YYYY-MM-DD[ HH:MM[:SS]]` in UTC. Anything else is `None`.
pub(crate) fn api_time_ms(v: &J) -> Option<i64> {
    match v {
        J::String(s) => epoch_ms(v)
            .or_else(|| zoned_text_ms(s))
            .or_else(|| parse_utc_ms(s)),
        other => epoch_ms(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2024-09-03 19:47:01 UTC.
    const SEP_3: i64 = 1_725_392_821_000;

    #[test]
    fn epoch_milliseconds_as_numbers_and_strings() {
        assert_eq!(
            epoch_ms(&json!(1_724_800_487_518i64)),
            Some(1_724_800_487_518)
        );
        assert_eq!(epoch_ms(&json!("1725641452528")), Some(1_725_641_452_528));
        assert_eq!(epoch_ms(&json!(" 1725641452528 ")), Some(1_725_641_452_528));
        assert_eq!(epoch_ms(&json!("17256x")), None);
        assert_eq!(epoch_ms(&json!("")), None);
    }

    #[test]
    fn unix_seconds_are_a_separate_reading() {
        assert_eq!(
            unix_seconds_ms(&json!(1_725_641_452)),
            Some(1_725_641_452_000)
        );
        assert_eq!(
            unix_seconds_ms(&json!("1725641452")),
            Some(1_725_641_452_000)
        );
        // The same digits read as /api/1 milliseconds are a date in January 1970.
        assert_eq!(api_time_ms(&json!(1_725_641_452)), Some(1_725_641_452));
    }

    #[test]
    fn iso_text_with_a_zone_abbreviation() {
        assert_eq!(zoned_text_ms("2024-09-03 12:47:01 PDT"), Some(SEP_3));
        assert_eq!(zoned_text_ms("2024-09-03 15:47:01 EDT"), Some(SEP_3));
        assert_eq!(zoned_text_ms("2024-09-03 19:47:01 UTC"), Some(SEP_3));
        assert_eq!(zoned_text_ms("2024-09-03 19:47:01 GMT"), Some(SEP_3));
        assert_eq!(zoned_text_ms("2024-09-03 14:47:01 CDT"), Some(SEP_3));
        assert_eq!(zoned_text_ms("2024-09-03 13:47:01 MDT"), Some(SEP_3));
        assert_eq!(zoned_text_ms("2024-09-03 21:47:01 +02:00"), Some(SEP_3));
        // Winter: PST is UTC-8, EST UTC-5, CST UTC-6, MST UTC-7.
        let jan_5_0030 = 1_704_414_600_000;
        for text in [
            "2024-01-04 16:30:00 PST",
            "2024-01-04 19:30:00 EST",
            "2024-01-04 18:30:00 CST",
            "2024-01-04 17:30:00 MST",
        ] {
            assert_eq!(zoned_text_ms(text), Some(jan_5_0030), "{text}");
        }
    }

    #[test]
    fn month_first_text_with_a_twelve_hour_clock() {
        // The spec's `sourceTS` of `tsSource` 1724800487518 (to the minute).
        assert_eq!(
            zoned_text_ms("Aug 27 2024 4:14 PM PDT"),
            Some(1_724_800_440_000)
        );
        assert_eq!(
            zoned_text_ms("Sep 6 2024 12:55 PM PDT"),
            Some(1_725_652_500_000)
        );
        assert_eq!(
            zoned_text_ms("Aug 27, 2024 4:14 PM PDT"),
            Some(1_724_800_440_000)
        );
        // 12 AM is midnight.
        assert_eq!(
            zoned_text_ms("Jan 1 2024 12:00 AM UTC"),
            Some(1_704_067_200_000)
        );
        assert_eq!(zoned_text_ms("Jan 1 2024 13:00 PM UTC"), None);
    }

    #[test]
    fn an_unknown_zone_abbreviation_gives_no_instant() {
        assert_eq!(zoned_text_ms("2024-09-03 12:47:01 XYZ"), None);
        assert_eq!(zoned_text_ms("Aug 27 2024 4:14 PM IST"), None, "ambiguous");
        assert_eq!(api_time_ms(&json!("2024-09-03 12:47:01 XYZ")), None);
    }

    #[test]
    fn texts_without_a_year_and_relative_texts_stay_text() {
        assert_eq!(zoned_text_ms("Fri Sep 6 9:50 AM PDT"), None);
        assert_eq!(api_time_ms(&json!("Fri Sep 6 9:50 AM PDT")), None);
        assert_eq!(api_time_ms(&json!("2 days ago")), None);
    }

    #[test]
    fn api_cells_read_every_absolute_spelling() {
        assert_eq!(api_time_ms(&json!(SEP_3)), Some(SEP_3));
        assert_eq!(api_time_ms(&json!(SEP_3.to_string())), Some(SEP_3));
        assert_eq!(api_time_ms(&json!("2024-09-03 12:47:01 PDT")), Some(SEP_3));
        assert_eq!(api_time_ms(&json!("2024-09-03 19:47:01")), Some(SEP_3));
        assert_eq!(api_time_ms(&json!(null)), None);
    }
}
