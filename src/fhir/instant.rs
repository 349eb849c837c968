//! FHIR time values: server instants (milliseconds since the epoch, UTC) rendered as
//! `instant`, and `date`/`dateTime`/`instant` texts turned into the range of milliseconds
//! they cover (a date means the whole day, per FHIR precision rules).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Renders a server time as a FHIR instant with milliseconds, e.g. `2026-11-28T17:30:00.123Z`.
pub fn format_instant(millis: i64) -> String {
    match Utc.timestamp_millis_opt(millis).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// Renders a server time as an HTTP date (`Last-Modified`), e.g. `Sat, 28 Nov 2026 17:30:00 GMT`.
pub fn format_http_date(millis: i64) -> String {
    match Utc.timestamp_millis_opt(millis).single() {
        Some(t) => t.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        None => "Thu, 01 Jan 1970 00:00:00 GMT".to_owned(),
    }
}

/// Parses an HTTP date (`If-Modified-Since`) into milliseconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The inclusive range `[start, end]` in milliseconds covered by a FHIR date, dateTime or
/// instant. Times without a zone are taken as UTC. `None` when the text is not one of them.
pub fn parse_range(text: &str) -> Option<(i64, i64)> {
    let day_start = |d: NaiveDate| Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN));
    match text.len() {
        4 => {
            let year: i32 = text.parse().ok()?;
            let start = day_start(NaiveDate::from_ymd_opt(year, 1, 1)?);
            let end = day_start(NaiveDate::from_ymd_opt(year + 1, 1, 1)?);
            Some((start.timestamp_millis(), end.timestamp_millis() - 1))
        }
        7 => {
            let date = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()?;
            let next = date.checked_add_months(chrono::Months::new(1))?;
            Some((
                day_start(date).timestamp_millis(),
                day_start(next).timestamp_millis() - 1,
            ))
        }
        10 => {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            let start = day_start(date).timestamp_millis();
            Some((start, start + 86_400_000 - 1))
        }
        _ => parse_date_time(text),
    }
}

fn parse_date_time(text: &str) -> Option<(i64, i64)> {
    let (instant, precision_ms) = match DateTime::parse_from_rfc3339(text) {
        Ok(t) => (t.with_timezone(&Utc), fraction_precision(text)),
        Err(_) => {
            let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
                .ok()?;
            let precision = if text.len() == 16 {
                60_000
            } else {
                fraction_precision(text)
            };
            (Utc.from_utc_datetime(&naive), precision)
        }
    };
    let start = instant.timestamp_millis();
    Some((start, start + precision_ms - 1))
}

/// How many milliseconds the last written digit of a time covers (1000 for whole seconds).
fn fraction_precision(text: &str) -> i64 {
    let Some(dot) = text.find('.') else {
        return 1000;
    };
    let digits = text[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    match digits {
        1 => 100,
        2 => 10,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_have_milliseconds_and_utc() {
        assert_eq!(format_instant(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_instant(1_796_232_600_123),
            "2026-12-02T17:30:00.123Z"
        );
        assert_eq!(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:01 GMT"), Some(1000));
    }

    #[test]
    fn ranges_follow_precision() {
        assert_eq!(parse_range("1970"), Some((0, 365 * 86_400_000 - 1)));
        assert_eq!(
            parse_range("1970-02"),
            Some((31 * 86_400_000, 59 * 86_400_000 - 1))
        );
        assert_eq!(
            parse_range("1970-01-02"),
            Some((86_400_000, 2 * 86_400_000 - 1))
        );
        assert_eq!(parse_range("1970-01-01T00:00:01Z"), Some((1000, 1999)));
        assert_eq!(parse_range("1970-01-01T00:00:01.5Z"), Some((1500, 1599)));
        assert_eq!(parse_range("1970-01-01T01:00:00+01:00"), Some((0, 999)));
        assert_eq!(parse_range("1970-01-01T00:01"), Some((60_000, 119_999)));
        assert_eq!(parse_range("1970-13"), None);
        assert_eq!(parse_range("yesterday"), None);
    }
}
