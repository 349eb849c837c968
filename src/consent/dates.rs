//! FHIR `date`/`dateTime`/`instant` text -> the inclusive millisecond range it covers, for
//! Consent periods and resource dates (DMP-RULES.md §4: "in their period"). A smaller twin
//! of `search::extract::date_range`, which `consent` may not use (ARCHITECTURE.md); both
//! read a time without zone as UTC.

use chrono::{DateTime, NaiveDate};

const MS_PER_DAY: i64 = 86_400_000;

/// The inclusive range of `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a full
/// `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`; `None` when `text` is none of these.
pub fn date_range(text: &str) -> Option<(i64, i64)> {
    let day = |y: i32, m: u32, d: u32| -> Option<i64> {
        let date = NaiveDate::from_ymd_opt(y, m, d)?;
        Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
    };
    let number = |s: &str| -> Option<u32> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    match text.len() {
        4 => {
            let y = i32::try_from(number(text)?).ok()?;
            Some((day(y, 1, 1)?, day(y + 1, 1, 1)? - 1))
        }
        7 if text.as_bytes()[4] == b'-' => {
            let y = i32::try_from(number(&text[..4])?).ok()?;
            let m = number(&text[5..])?;
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            Some((day(y, m, 1)?, day(ny, nm, 1)? - 1))
        }
        10 => {
            let low = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            let low = low.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
            Some((low, low + MS_PER_DAY - 1))
        }
        _ => {
            let at = DateTime::parse_from_rfc3339(text).ok()?.timestamp_millis();
            // An instant covers its last written digit: seconds, or milliseconds.
            let width = if text.contains('.') { 1 } else { 1_000 };
            Some((at, at + width - 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_their_precision() {
        assert_eq!(date_range("1970"), Some((0, 365 * MS_PER_DAY - 1)));
        assert_eq!(
            date_range("1970-02"),
            Some((31 * MS_PER_DAY, 59 * MS_PER_DAY - 1))
        );
        assert_eq!(
            date_range("1970-01-02"),
            Some((MS_PER_DAY, 2 * MS_PER_DAY - 1))
        );
        assert_eq!(date_range("1970-01-01T00:00:01Z"), Some((1_000, 1_999)));
        assert_eq!(date_range("1970-01-01T01:00:00.5+01:00"), Some((500, 500)));
        for bad in [
            "",
            "19x0",
            "1970-13",
            "1970-02-30",
            "1970-01-01T00:00",
            "soon",
        ] {
            assert_eq!(date_range(bad), None, "{bad}");
        }
    }
}
