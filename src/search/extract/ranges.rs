//! The implicit ranges of FHIR values (R4 search.html §3.1.1.4.2–4): a date, dateTime or
//! instant covers the whole period of its precision (`crate::fhir::dates::date_range`,
//! re-exported here); a decimal covers half a unit of its last significant digit (`100` is [99.5, 100.5], `1.50` is [1.495, 1.505],
//! `1e2` is [50, 150]). The same functions serve the indexed values and the searched ones.
//! Pure; `std` only.

pub use crate::fhir::dates::date_range;

/// The implicit range of a decimal as written: its value plus or minus half a unit of its
/// last significant digit; `None` when `text` is not a decimal.
pub fn decimal_range(text: &str) -> Option<(f64, f64)> {
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let decimals = mantissa.find('.').map_or(0, |i| mantissa.len() - i - 1);
    let scale = exponent - i32::try_from(decimals).ok()?;
    // Exactly: (10 m -/+ 5) x 10^(scale - 1) with m the digits, each bound then rounded
    // once to the nearest f64 (5.4 gives 5.35, not 5.4 - 0.05 = 5.3500000000000005).
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if let Some(m) = digits
        .parse::<i128>()
        .ok()
        .and_then(|m| m.checked_mul(10))
        .filter(|m| *m < i128::MAX - 5)
    {
        let m = if mantissa.starts_with('-') { -m } else { m };
        let low = format!("{}e{}", m - 5, scale - 1).parse().ok()?;
        let high = format!("{}e{}", m + 5, scale - 1).parse().ok()?;
        return Some((low, high));
    }
    let half = 0.5 * 10f64.powi(scale);
    Some((value - half, value + half))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::dates::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE};

    const DAY: i64 = MS_PER_DAY;

    #[test]
    fn partial_dates_cover_their_whole_period() {
        assert_eq!(date_range("1970"), Some((0, 365 * DAY - 1)));
        assert_eq!(date_range("1970-02"), Some((31 * DAY, 59 * DAY - 1)));
        assert_eq!(
            date_range("2000-02"),
            Some((10_988 * DAY, 11_017 * DAY - 1))
        );
        assert_eq!(date_range("1970-01-02"), Some((DAY, 2 * DAY - 1)));
        assert_eq!(date_range("1969-12-31"), Some((-DAY, -1)));
        assert_eq!(
            date_range("1974-12-25"),
            Some((1_819 * DAY, 1_820 * DAY - 1))
        );
    }

    #[test]
    fn times_have_the_precision_they_are_written_with() {
        let t = 1_819 * DAY + 14 * MS_PER_HOUR + 35 * MS_PER_MINUTE;
        assert_eq!(
            date_range("1974-12-25T14:35"),
            Some((t, t + MS_PER_MINUTE - 1))
        );
        assert_eq!(
            date_range("1974-12-25T14:35:45Z"),
            Some((t + 45_000, t + 45_999))
        );
        assert_eq!(
            date_range("1974-12-25T14:35:45"),
            Some((t + 45_000, t + 45_999))
        );
        assert_eq!(
            date_range("1974-12-25T14:35:45.1Z"),
            Some((t + 45_100, t + 45_199))
        );
        assert_eq!(
            date_range("1974-12-25T14:35:45.12Z"),
            Some((t + 45_120, t + 45_129))
        );
        assert_eq!(
            date_range("1974-12-25T14:35:45.1234Z"),
            Some((t + 45_123, t + 45_123))
        );
        let paris = t + 45_000 - MS_PER_HOUR;
        assert_eq!(
            date_range("1974-12-25T14:35:45+01:00"),
            Some((paris, paris + 999))
        );
        let quebec = t + 45_000 + 5 * MS_PER_HOUR;
        assert_eq!(
            date_range("1974-12-25T14:35:45-05:00"),
            Some((quebec, quebec + 999))
        );
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            "",
            "19",
            "1970-13",
            "1970-02-30",
            "2001-02-29",
            "1970-01-01T25:00",
            "1970-01-01T",
            "1970-01-01T10:00:00.",
            "1970-01-01T10:00:00+1",
            "1970-01-01Z",
            "abcd",
            "1970/01",
            "1970-01-01T10:00:00Zx",
        ] {
            assert_eq!(date_range(bad), None, "{bad}");
        }
        assert!(date_range("2000-02-29").is_some());
    }

    #[test]
    fn decimals_carry_their_precision() {
        assert_eq!(decimal_range("100"), Some((99.5, 100.5)));
        assert_eq!(decimal_range("1.50"), Some((1.495, 1.505)));
        assert_eq!(decimal_range("5.4"), Some((5.35, 5.45)));
        assert_eq!(decimal_range("-0.020"), Some((-0.0205, -0.0195)));
        assert_eq!(decimal_range("1.5E-3"), Some((0.00145, 0.00155)));
        let huge = "1234567890123456789012345678901234567890.5";
        // Beyond i128 the bounds are computed in f64, where ±0.05 is below the resolution.
        assert!(decimal_range(huge).is_some_and(|(l, h)| l <= h));
        assert_eq!(decimal_range("1e2"), Some((50.0, 150.0)));
        assert_eq!(decimal_range("-3"), Some((-3.5, -2.5)));
        assert_eq!(decimal_range("x"), None);
        assert_eq!(decimal_range("inf"), None);
    }

    #[test]
    fn history_times_follow_precision() {
        assert_eq!(date_range("1970"), Some((0, 365 * 86_400_000 - 1)));
        assert_eq!(
            date_range("1970-02"),
            Some((31 * 86_400_000, 59 * 86_400_000 - 1))
        );
        assert_eq!(
            date_range("1970-01-02"),
            Some((86_400_000, 2 * 86_400_000 - 1))
        );
        assert_eq!(date_range("1970-01-01T00:00:01Z"), Some((1000, 1999)));
        assert_eq!(date_range("1970-01-01T00:00:01.5Z"), Some((1500, 1599)));
        assert_eq!(date_range("1970-01-01T01:00:00+01:00"), Some((0, 999)));
        assert_eq!(date_range("1970-01-01T00:01"), Some((60_000, 119_999)));
        assert_eq!(date_range("1970-13"), None);
        assert_eq!(date_range("yesterday"), None);
    }
}
