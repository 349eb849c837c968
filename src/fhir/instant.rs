//! FHIR time values: server instants (milliseconds since the epoch, UTC) rendered as
//! `instant` and as HTTP dates. (The range a `date`/`dateTime` text covers is
//! `search::extract::date_range`, shared by search and history.)

use chrono::{DateTime, TimeZone, Utc};

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
}
