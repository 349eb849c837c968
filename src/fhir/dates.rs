//! The period a FHIR `date`, `dateTime` or `instant` covers (R4 search.html §3.1.1.4.2):
//! the whole period of its precision (`2013` is the whole year, `2013-01-14` the whole
//! day, `10:00:00` the whole second), as an inclusive range of milliseconds since the Unix
//! epoch, UTC (a time without zone is taken as UTC). Shared by search (indexed and searched
//! values), history (`_since`, `_at`) and consent (Consent periods, clinical dates). Pure;
//! `std` only.

pub(crate) const MS_PER_SECOND: i64 = 1_000;
pub(crate) const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
pub(crate) const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
pub(crate) const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// The inclusive millisecond range covered by a FHIR `date`, `dateTime` or `instant`
/// (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]`); `None` when
/// `text` is not one.
pub fn date_range(text: &str) -> Option<(i64, i64)> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    if b.len() == 4 {
        let low = days_from_civil(year, 1, 1);
        return Some((
            low * MS_PER_DAY,
            days_from_civil(year + 1, 1, 1) * MS_PER_DAY - 1,
        ));
    }
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if b.len() == 7 {
        let (ny, nm) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let low = days_from_civil(year, month, 1) * MS_PER_DAY;
        return Some((low, days_from_civil(ny, nm, 1) * MS_PER_DAY - 1));
    }
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let midnight = days_from_civil(year, month, day) * MS_PER_DAY;
    if b.len() == 10 {
        return Some((midnight, midnight + MS_PER_DAY - 1));
    }
    expect(b, 10, b'T')?;
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    if hour > 23 || minute > 59 {
        return None;
    }
    let mut at = 16;
    let mut low = midnight + hour * MS_PER_HOUR + minute * MS_PER_MINUTE;
    let mut width = MS_PER_MINUTE;
    if b.get(at) == Some(&b':') {
        let second = digits(b, at + 1, 2)?;
        if second > 60 {
            return None;
        }
        low += second * MS_PER_SECOND;
        width = MS_PER_SECOND;
        at += 3;
        if b.get(at) == Some(&b'.') {
            let start = at + 1;
            at = start;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            let fraction = &b[start..at];
            if fraction.is_empty() {
                return None;
            }
            let mut ms = 0;
            for (i, d) in fraction.iter().take(3).enumerate() {
                ms += i64::from(d - b'0') * [100, 10, 1][i];
            }
            low += ms;
            width = [100, 10, 1][fraction.len().min(3) - 1];
        }
    }
    let offset = match b.get(at) {
        None => 0,
        Some(b'Z') if b.len() == at + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == at + 6 => {
            let hours = digits(b, at + 1, 2)?;
            expect(b, at + 3, b':')?;
            let minutes = digits(b, at + 4, 2)?;
            if hours > 14 || minutes > 59 {
                return None;
            }
            let offset = hours * MS_PER_HOUR + minutes * MS_PER_MINUTE;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    let low = low - offset;
    Some((low, low + width - 1))
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

fn expect(b: &[u8], at: usize, c: u8) -> Option<()> {
    (b.get(at) == Some(&c)).then_some(())
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
