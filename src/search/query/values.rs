//! The values of a search parameter, by type (R4 search.html §3.1.1.4): splitting on
//! unescaped separators (`,` between OR-ed values, `$` between composite components, `|`
//! inside tokens and quantities; `\,` `\$` `\|` `\\` are escapes), prefixes, and the typed
//! values with the same ranges (`extract::date_range`, `decimal_range`) and normalisation
//! (`extract::normalize`) as the index. Pure; no registry lookups except what is passed in.

use super::error::QueryError;
use super::model::{
    DateValue, NumberValue, OfTypeValue, Prefix, QuantityValue, ReferenceValue, StringValue,
    TokenValue, TypedValue,
};
use crate::fhir::ids::is_valid_id;
use crate::search::extract::{date_range, decimal_range, normalize};
use crate::search::registry::SearchParamType;

/// The characters a backslash escapes in a search value.
const ESCAPED: [char; 4] = [',', '$', '|', '\\'];

/// `text` split on every `sep` not escaped by a backslash; escapes are kept.
pub(super) fn split_unescaped(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

/// `text` with the escapes of `ESCAPED` removed (other backslashes stay).
pub(super) fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(next)) if ESCAPED.contains(next) => {
                out.push(*next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// `text` with the characters of `ESCAPED` escaped, for the canonical query string.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if ESCAPED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The OR-ed alternatives of a value; an empty value or alternative is an error.
pub(super) fn alternatives<'a>(name: &str, value: &'a str) -> Result<Vec<&'a str>, QueryError> {
    if value.is_empty() {
        return Err(QueryError::bad(name, value, "the value is empty"));
    }
    let parts = split_unescaped(value, ',');
    if parts.iter().any(|p| p.is_empty()) {
        return Err(QueryError::bad(
            name,
            value,
            "one of its comma-separated values is empty",
        ));
    }
    Ok(parts)
}

/// `true` or `false`, for `:missing`.
pub(super) fn boolean(name: &str, value: &str) -> Result<bool, QueryError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(QueryError::bad(name, value, "expected `true` or `false`")),
    }
}

pub(super) fn string(name: &str, raw: &str) -> Result<StringValue, QueryError> {
    let text = unescape(raw);
    let normalized = normalize(&text);
    if normalized.is_empty() {
        return Err(QueryError::bad(name, raw, "the text is blank"));
    }
    Ok(StringValue { text, normalized })
}

pub(super) fn token(name: &str, raw: &str) -> Result<TokenValue, QueryError> {
    let parts = split_unescaped(raw, '|');
    match parts.as_slice() {
        [code] => Ok(TokenValue {
            system: None,
            code: Some(unescape(code)),
        }),
        ["", ""] => Err(QueryError::bad(name, raw, "it has neither system nor code")),
        [system, code] => Ok(TokenValue {
            system: Some(unescape(system)),
            code: (!code.is_empty()).then(|| unescape(code)),
        }),
        _ => Err(QueryError::bad(
            name,
            raw,
            "a token is `code`, `system|code`, `|code` or `system|`",
        )),
    }
}

pub(super) fn of_type(name: &str, raw: &str) -> Result<OfTypeValue, QueryError> {
    match split_unescaped(raw, '|').as_slice() {
        [system, code, value] if !code.is_empty() && !value.is_empty() => Ok(OfTypeValue {
            type_system: unescape(system),
            type_code: unescape(code),
            value: unescape(value),
        }),
        _ => Err(QueryError::bad(
            name,
            raw,
            "`:of-type` takes `system|code|value`",
        )),
    }
}

/// A reference value; `type_modifier` is the `:[type]` modifier, `is_type` tells resource
/// types.
pub(super) fn reference(
    name: &str,
    raw: &str,
    type_modifier: Option<&str>,
    is_type: &dyn Fn(&str) -> bool,
) -> Result<ReferenceValue, QueryError> {
    let text = unescape(raw);
    if text.contains("://") || text.starts_with("urn:") {
        if type_modifier.is_some() {
            return Err(QueryError::bad(
                name,
                raw,
                "a type modifier takes a relative reference or an id",
            ));
        }
        let (url, version) = match text.rsplit_once('|') {
            Some((url, version)) if !version.is_empty() => (url, Some(version.to_owned())),
            _ => (text.trim_end_matches('|'), None),
        };
        return Ok(ReferenceValue::Url {
            url: url.to_owned(),
            version,
        });
    }
    let parts: Vec<&str> = text.split('/').collect();
    let (target_type, id, version) = match parts.as_slice() {
        [id] => (type_modifier, *id, None),
        [ty, id] => (Some(*ty), *id, None),
        [ty, id, "_history", version] if !version.is_empty() => {
            (Some(*ty), *id, Some((*version).to_owned()))
        }
        _ => {
            return Err(QueryError::bad(
                name,
                raw,
                "a reference is `Type/id`, an id or an absolute url",
            ));
        }
    };
    if let Some(ty) = target_type {
        if !is_type(ty) {
            return Err(QueryError::bad(
                name,
                raw,
                format!("`{ty}` is not a resource type"),
            ));
        }
        if type_modifier.is_some_and(|m| m != ty) {
            return Err(QueryError::bad(
                name,
                raw,
                "the type differs from the type modifier",
            ));
        }
    }
    if !is_valid_id(id) {
        return Err(QueryError::bad(
            name,
            raw,
            format!("`{id}` is not a valid id"),
        ));
    }
    Ok(ReferenceValue::Local {
        target_type: target_type.map(str::to_owned),
        id: id.to_owned(),
        version,
    })
}

/// The prefix of a date, number or quantity value, and the rest.
fn prefix<'a>(name: &str, raw: &'a str) -> Result<(Prefix, &'a str), QueryError> {
    let b = raw.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic() {
        let (code, rest) = raw.split_at(2);
        return match Prefix::from_code(code) {
            Some(p) => Ok((p, rest)),
            None => Err(QueryError::bad(
                name,
                raw,
                format!("`{code}` is not a prefix (eq, ne, gt, lt, ge, le, sa, eb, ap)"),
            )),
        };
    }
    Ok((Prefix::Eq, raw))
}

pub(super) fn date(name: &str, raw: &str) -> Result<DateValue, QueryError> {
    let (prefix, rest) = prefix(name, raw)?;
    // A `+` of a time zone offset that was not percent-encoded arrives as a space.
    let text = unescape(rest).replace(' ', "+");
    let Some((low, high)) = date_range(&text) else {
        return Err(QueryError::bad(
            name,
            raw,
            "expected a date `YYYY[-MM[-DD[Thh:mm[:ss[.fff]][Z|+hh:mm]]]]`",
        ));
    };
    Ok(DateValue {
        prefix,
        text,
        low,
        high,
    })
}

pub(super) fn number(name: &str, raw: &str) -> Result<NumberValue, QueryError> {
    let (prefix, rest) = prefix(name, raw)?;
    let text = unescape(rest);
    let bad = || QueryError::bad(name, raw, "expected a decimal number");
    if !text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return Err(bad());
    }
    let (mut low, mut high) = decimal_range(&text).ok_or_else(bad)?;
    if prefix == Prefix::Ap {
        let value: f64 = text.parse().map_err(|_| bad())?;
        let margin = value.abs() / 10.0;
        low = low.min(value - margin);
        high = high.max(value + margin);
    }
    Ok(NumberValue {
        prefix,
        text,
        low,
        high,
    })
}

pub(super) fn quantity(name: &str, raw: &str) -> Result<QuantityValue, QueryError> {
    let parts = split_unescaped(raw, '|');
    let non_empty = |s: &str| (!s.is_empty()).then(|| unescape(s));
    match parts.as_slice() {
        [value] => Ok(QuantityValue {
            number: number(name, value)?,
            system: None,
            code: None,
        }),
        [value, system, code] => Ok(QuantityValue {
            number: number(name, value)?,
            system: non_empty(system),
            code: non_empty(code),
        }),
        _ => Err(QueryError::bad(
            name,
            raw,
            "a quantity is `number`, `number|system|code` or `number||code`",
        )),
    }
}

pub(super) fn uri(name: &str, raw: &str) -> Result<String, QueryError> {
    let text = unescape(raw);
    if text.trim().is_empty() {
        return Err(QueryError::bad(name, raw, "the uri is blank"));
    }
    Ok(text)
}

/// One value of a composite component, by the component's type (no modifiers).
pub(super) fn typed(
    name: &str,
    ty: SearchParamType,
    raw: &str,
    is_type: &dyn Fn(&str) -> bool,
) -> Result<TypedValue, QueryError> {
    if raw.is_empty() {
        return Err(QueryError::bad(name, raw, "a component is empty"));
    }
    Ok(match ty {
        SearchParamType::String => TypedValue::String(string(name, raw)?),
        SearchParamType::Token => TypedValue::Token(token(name, raw)?),
        SearchParamType::Reference => TypedValue::Reference(reference(name, raw, None, is_type)?),
        SearchParamType::Date => TypedValue::Date(date(name, raw)?),
        SearchParamType::Number => TypedValue::Number(number(name, raw)?),
        SearchParamType::Quantity => TypedValue::Quantity(quantity(name, raw)?),
        SearchParamType::Uri => TypedValue::Uri(uri(name, raw)?),
        SearchParamType::Composite | SearchParamType::Special => {
            return Err(QueryError::UnsupportedParameter {
                name: name.to_owned(),
            });
        }
    })
}
