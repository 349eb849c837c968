//! Values of the search features `model_terms` describes: the ValueSet of `:in`/`:not-in`
//! (a canonical url, `url|version`, or `ValueSet/id`), the `system|code` of `:above`/
//! `:below` on a token, the words of `_text`/`_content`, and the point and distance of
//! `near` (`latitude|longitude|distance|unit`, R4 Location `near`: WGS84 degrees, the unit a
//! UCUM length code, km when omitted). Pure.

use super::error::QueryError;
use super::model_terms::{CodeRef, NearValue, TextValue, ValueSetRef};
use super::values::{split_unescaped, token, unescape};
use crate::fhir::ids::is_valid_id;
use crate::search::extract::words;

/// The distance `near` uses when the value gives none (the spec leaves it to the server).
pub const DEFAULT_NEAR_KM: f64 = 10.0;

/// The UCUM length units `near` accepts, with their length in km.
const NEAR_UNITS: [(&str, f64); 4] = [
    ("km", 1.0),
    ("m", 0.001),
    ("[mi_i]", 1.609_344),
    ("[nmi_i]", 1.852),
];

/// The ValueSet an `:in` / `:not-in` value names.
pub(super) fn value_set(name: &str, raw: &str) -> Result<ValueSetRef, QueryError> {
    let text = unescape(raw);
    if let Some(id) = text.strip_prefix("ValueSet/") {
        return if is_valid_id(id) {
            Ok(ValueSetRef::Local(id.to_owned()))
        } else {
            Err(QueryError::bad(name, raw, "`ValueSet/` needs a valid id"))
        };
    }
    let (url, version) = match split_unescaped(raw, '|').as_slice() {
        [url] => (unescape(url), None),
        [url, version] if !version.is_empty() => (unescape(url), Some(unescape(version))),
        _ => {
            return Err(QueryError::bad(
                name,
                raw,
                "expected a ValueSet's canonical url (with an optional `|version`) or `ValueSet/id`",
            ));
        }
    };
    if !url.contains(':') || url.contains(char::is_whitespace) {
        return Err(QueryError::bad(
            name,
            raw,
            "expected a ValueSet's canonical url (an absolute uri) or `ValueSet/id`",
        ));
    }
    Ok(ValueSetRef::Canonical { url, version })
}

/// The `system|code` of `:above` / `:below` on a token: both are needed to find the
/// hierarchy.
pub(super) fn code_ref(name: &str, raw: &str) -> Result<CodeRef, QueryError> {
    let parsed = token(name, raw)?;
    match (parsed.system, parsed.code) {
        (Some(system), Some(code)) if !system.is_empty() => Ok(CodeRef { system, code }),
        _ => Err(QueryError::bad(
            name,
            raw,
            "subsumption needs `system|code`: the system names the CodeSystem whose hierarchy is used",
        )),
    }
}

/// A `_text` / `_content` alternative: its words.
pub(super) fn text(name: &str, raw: &str) -> Result<TextValue, QueryError> {
    let text = unescape(raw);
    let words = words(&text);
    if words.is_empty() {
        return Err(QueryError::bad(name, raw, "the text has no word to search"));
    }
    Ok(TextValue { text, words })
}

/// A `near` alternative.
pub(super) fn near(name: &str, raw: &str) -> Result<NearValue, QueryError> {
    let bad = |reason: &str| QueryError::bad(name, raw, reason);
    let parts = split_unescaped(raw, '|');
    if !(2..=4).contains(&parts.len()) {
        return Err(bad(
            "expected `latitude|longitude`, `latitude|longitude|distance` or `latitude|longitude|distance|unit`",
        ));
    }
    let number = |text: &str| text.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    let latitude = number(parts[0])
        .filter(|v| (-90.0..=90.0).contains(v))
        .ok_or_else(|| bad("the latitude must be a number of degrees from -90 to 90"))?;
    let longitude = number(parts[1])
        .filter(|v| (-180.0..=180.0).contains(v))
        .ok_or_else(|| bad("the longitude must be a number of degrees from -180 to 180"))?;
    let distance = match parts.get(2) {
        None | Some(&"") => None,
        Some(text) => Some(
            number(text)
                .filter(|v| *v >= 0.0)
                .ok_or_else(|| bad("the distance must be a number, 0 or more"))?,
        ),
    };
    let unit_km = match parts.get(3) {
        None | Some(&"") => 1.0,
        Some(unit) => NEAR_UNITS
            .iter()
            .find(|(code, _)| code == unit)
            .map(|(_, km)| *km)
            .ok_or_else(|| bad("the unit must be one of `km`, `m`, `[mi_i]`, `[nmi_i]`"))?,
    };
    Ok(NearValue {
        text: raw.to_owned(),
        latitude,
        longitude,
        distance_km: distance.map_or(DEFAULT_NEAR_KM, |d| d * unit_km),
    })
}
