//! Checks one FHIR primitive value: its JSON type, the spec's regex for the type, and
//! what a regex cannot say (real calendar dates, 32-bit integer ranges, 1 MB strings,
//! narrative `<div`). Depends on `schema` and `serde_json` only.

use serde_json::Value;

use super::issue::{IssueType, quote};
use crate::fhir::schema::{PrimitiveType, Schema};

/// FHIR strings shall not exceed 1 MB (`string.value` maxLength).
const MAX_STRING_BYTES: usize = 1_048_576;

/// Check a non-null primitive value; `Err` holds the issue type and message.
pub(crate) fn check(
    schema: &Schema,
    ty: PrimitiveType,
    value: &Value,
) -> Result<(), (IssueType, String)> {
    match ty {
        PrimitiveType::Boolean => match value {
            Value::Bool(_) => Ok(()),
            other => Err(wrong_json(ty, "a json boolean", other)),
        },
        PrimitiveType::Integer
        | PrimitiveType::PositiveInt
        | PrimitiveType::UnsignedInt
        | PrimitiveType::Decimal => match value {
            Value::Number(n) => number(schema, ty, n.as_str()),
            other => Err(wrong_json(ty, "a json number", other)),
        },
        _ => match value {
            Value::String(s) => string(schema, ty, s),
            other => Err(wrong_json(ty, "a json string", other)),
        },
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_json(ty: PrimitiveType, expected: &str, found: &Value) -> (IssueType, String) {
    let code = if matches!(found, Value::Array(_) | Value::Object(_)) {
        IssueType::Structure
    } else {
        IssueType::Value
    };
    (
        code,
        format!(
            "a `{}` must be {expected}, found {}",
            ty.name(),
            json_kind(found)
        ),
    )
}

fn bad_format(ty: PrimitiveType, text: &str) -> (IssueType, String) {
    (
        IssueType::Value,
        format!("{} is not a valid `{}`", quote(text), ty.name()),
    )
}

fn matches_regex(schema: &Schema, ty: PrimitiveType, text: &str) -> bool {
    schema.regex(ty).is_none_or(|re| re.is_match(text))
}

fn number(schema: &Schema, ty: PrimitiveType, text: &str) -> Result<(), (IssueType, String)> {
    if !matches_regex(schema, ty, text) {
        return Err(bad_format(ty, text));
    }
    let (low, what) = match ty {
        PrimitiveType::Integer => (i64::from(i32::MIN), "a 32-bit integer"),
        PrimitiveType::PositiveInt => (1, "an integer from 1 to 2147483647"),
        PrimitiveType::UnsignedInt => (0, "an integer from 0 to 2147483647"),
        _ => return Ok(()),
    };
    match text.parse::<i64>() {
        Ok(n) if n >= low && n <= i64::from(i32::MAX) => Ok(()),
        _ => Err((
            IssueType::Value,
            format!(
                "{} is out of range for `{}`: it must be {what}",
                quote(text),
                ty.name()
            ),
        )),
    }
}

fn string(schema: &Schema, ty: PrimitiveType, text: &str) -> Result<(), (IssueType, String)> {
    if text.is_empty() {
        return Err((
            IssueType::Value,
            format!("a `{}` must not be an empty string", ty.name()),
        ));
    }
    if matches!(ty, PrimitiveType::String | PrimitiveType::Markdown)
        && text.len() > MAX_STRING_BYTES
    {
        return Err((
            IssueType::Value,
            format!(
                "a `{}` must not exceed 1 mb, this one has {} bytes",
                ty.name(),
                text.len()
            ),
        ));
    }
    if ty == PrimitiveType::Xhtml {
        return if text.starts_with("<div") {
            Ok(())
        } else {
            Err((
                IssueType::Value,
                "narrative xhtml must be a `<div>` element".to_owned(),
            ))
        };
    }
    if !matches_regex(schema, ty, text) {
        return Err(bad_format(ty, text));
    }
    match ty {
        PrimitiveType::Date | PrimitiveType::DateTime | PrimitiveType::Instant => {
            if real_calendar_date(text) {
                Ok(())
            } else {
                Err((
                    IssueType::Value,
                    format!("{} is not a real calendar date", quote(text)),
                ))
            }
        }
        _ => Ok(()),
    }
}

/// Whether the `YYYY[-MM[-DD]]` start of a text that already matched the type's regex
/// names a day that exists (no 2023-02-29, no 2023-04-31).
fn real_calendar_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return true; // year or year-month only: the regex is enough
    }
    let digits =
        |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    day >= 1 && day <= days_in_month(year, month)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> &'static Schema {
        super::super::tests::schema()
    }

    fn ok(ty: PrimitiveType, json: &str) -> bool {
        let value: Value = serde_json::from_str(json).expect("test json");
        check(schema(), ty, &value).is_ok()
    }

    fn code(ty: PrimitiveType, json: &str) -> Option<IssueType> {
        let value: Value = serde_json::from_str(json).expect("test json");
        check(schema(), ty, &value).err().map(|(c, _)| c)
    }

    #[test]
    fn booleans() {
        assert!(ok(PrimitiveType::Boolean, "true"));
        assert_eq!(
            code(PrimitiveType::Boolean, r#""true""#),
            Some(IssueType::Value)
        );
        assert_eq!(
            code(PrimitiveType::Boolean, "[true]"),
            Some(IssueType::Structure)
        );
    }

    #[test]
    fn integers() {
        use PrimitiveType::{Integer, PositiveInt, UnsignedInt};
        assert!(ok(Integer, "-2147483648"));
        assert!(ok(Integer, "2147483647"));
        assert!(ok(Integer, "0"));
        assert_eq!(code(Integer, "2147483648"), Some(IssueType::Value));
        assert_eq!(code(Integer, "1.0"), Some(IssueType::Value));
        assert_eq!(code(Integer, "1e3"), Some(IssueType::Value));
        assert_eq!(code(Integer, r#""1""#), Some(IssueType::Value));
        assert!(ok(PositiveInt, "1"));
        assert_eq!(code(PositiveInt, "0"), Some(IssueType::Value));
        assert_eq!(code(PositiveInt, "-1"), Some(IssueType::Value));
        assert!(ok(UnsignedInt, "0"));
        assert_eq!(code(UnsignedInt, "-1"), Some(IssueType::Value));
        assert_eq!(
            code(UnsignedInt, "99999999999999999999999"),
            Some(IssueType::Value)
        );
    }

    #[test]
    fn decimals_keep_their_text() {
        use PrimitiveType::Decimal;
        assert!(ok(Decimal, "1.50"));
        assert!(ok(Decimal, "-0.0001"));
        assert!(ok(Decimal, "6.02e23"));
        assert!(ok(Decimal, "123456789012345678901234567890.123456789"));
        assert_eq!(code(Decimal, r#""1.5""#), Some(IssueType::Value));
        let value: Value = serde_json::from_str("1.50").expect("json");
        assert_eq!(value.to_string(), "1.50");
    }

    #[test]
    fn strings() {
        use PrimitiveType::{Code, Markdown, String};
        assert!(ok(String, r#""hello world""#));
        assert!(ok(String, r#""line\nbreak\ttab and\u00a0nbsp""#));
        assert_eq!(code(String, r#""""#), Some(IssueType::Value));
        assert_eq!(code(String, r#""a\u000bb""#), Some(IssueType::Value));
        assert_eq!(code(String, "12"), Some(IssueType::Value));
        assert!(ok(Markdown, r##""# title""##));
        assert!(ok(Code, r#""in-progress""#));
        assert_eq!(code(Code, r#""two  spaces""#), Some(IssueType::Value));
        assert_eq!(code(Code, r#"" leading""#), Some(IssueType::Value));
        let big = format!("\"{}\"", "a".repeat(MAX_STRING_BYTES + 1));
        assert_eq!(code(String, &big), Some(IssueType::Value));
    }

    #[test]
    fn uris_and_identifiers() {
        use PrimitiveType::{Canonical, Id, Oid, Uri, Url, Uuid};
        assert!(ok(Uri, r#""http://example.org/a""#));
        assert_eq!(code(Uri, r#""has space""#), Some(IssueType::Value));
        assert_eq!(code(Uri, r#""""#), Some(IssueType::Value));
        assert!(ok(Url, r#""https://example.org""#));
        assert!(ok(Canonical, r#""http://hl7.org/fhir/ValueSet/x|4.0.1""#));
        assert!(ok(Oid, r#""urn:oid:1.2.250.1.213""#));
        assert_eq!(code(Oid, r#""1.2.3""#), Some(IssueType::Value));
        assert!(ok(
            Uuid,
            r#""urn:uuid:c757873d-ec9a-4326-a141-556f43239520""#
        ));
        assert_eq!(
            code(Uuid, r#""urn:uuid:C757873D-EC9A-4326-A141-556F43239520""#),
            Some(IssueType::Value)
        );
        assert!(ok(Id, r#""a-B.9""#));
        assert_eq!(code(Id, r#""a_b""#), Some(IssueType::Value));
        assert_eq!(
            code(Id, &format!("\"{}\"", "a".repeat(65))),
            Some(IssueType::Value)
        );
    }

    #[test]
    fn dates_and_times() {
        use PrimitiveType::{Date, DateTime, Instant, Time};
        assert!(ok(Date, r#""2023""#));
        assert!(ok(Date, r#""2023-02""#));
        assert!(ok(Date, r#""2024-02-29""#));
        assert_eq!(code(Date, r#""2023-02-29""#), Some(IssueType::Value));
        assert_eq!(code(Date, r#""2023-02-30""#), Some(IssueType::Value));
        assert_eq!(code(Date, r#""1900-02-29""#), Some(IssueType::Value));
        assert!(ok(Date, r#""2000-02-29""#));
        assert_eq!(code(Date, r#""2023-04-31""#), Some(IssueType::Value));
        assert_eq!(code(Date, r#""2023-13""#), Some(IssueType::Value));
        assert_eq!(
            code(Date, r#""2023-01-01T10:00:00Z""#),
            Some(IssueType::Value)
        );
        assert!(ok(DateTime, r#""2023-01-01T10:00:00+01:00""#));
        assert!(ok(DateTime, r#""2023-01""#));
        assert_eq!(
            code(DateTime, r#""2023-01-01T10:00:00""#),
            Some(IssueType::Value)
        );
        assert_eq!(
            code(DateTime, r#""2023-02-30T10:00:00Z""#),
            Some(IssueType::Value)
        );
        assert!(ok(Instant, r#""2023-01-01T10:00:00.123Z""#));
        assert_eq!(code(Instant, r#""2023-01-01""#), Some(IssueType::Value));
        assert!(ok(Time, r#""23:59:59""#));
        assert_eq!(code(Time, r#""24:00:00""#), Some(IssueType::Value));
    }

    #[test]
    fn binary_and_xhtml() {
        use PrimitiveType::{Base64Binary, Xhtml};
        assert!(ok(Base64Binary, r#""aGVsbG8=""#));
        assert_eq!(
            code(Base64Binary, r#""not base64!""#),
            Some(IssueType::Value)
        );
        assert!(ok(
            Xhtml,
            r#""<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>""#
        ));
        assert_eq!(code(Xhtml, r#""<p>x</p>""#), Some(IssueType::Value));
    }
}
