//! The queries a client would write to find a resource by one value of one search
//! parameter, derived from that value's JSON as written in the resource and the parameter's
//! type, following FHIR R4 search.html: token `system|code`, `code`, `|code`, `:text`;
//! string prefixes in another case or without accents, `:exact`, `:contains`; reference
//! `Type/id`, `:[type]`, absolute URLs and canonicals, `:identifier`; date `eq` on the value
//! as written and `ge`/`le` around it (Period and Timing too); number and quantity (with
//! `system|code` units, Money, Range); uri; composite `a$b`. Each value also gives a query
//! that must not find the resource. Independent of Carnet's extraction: only the JSON and
//! the specification decide what must match.

use serde_json::Value;

/// What is appended to a value to make one that no official example holds.
const ABSENT: &str = "-not-in-the-example";

/// One query: its `(name, value)` pairs, values as written in FHIR search syntax (escaped
/// with `\`), not yet percent-encoded.
#[derive(Debug, Clone)]
pub struct Probe {
    pub label: &'static str,
    pub pairs: Vec<(String, String)>,
}

impl Probe {
    fn one(label: &'static str, name: String, value: String) -> Probe {
        Probe {
            label,
            pairs: vec![(name, value)],
        }
    }

    /// The percent-encoded query string (`a=x%7Cy&b=1`).
    pub fn query_string(&self) -> String {
        self.pairs
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The queries derived from one value.
#[derive(Debug, Clone)]
pub struct Derived {
    /// Each must find the resource.
    pub matching: Vec<Probe>,
    /// Must not find it.
    pub not_matching: Probe,
}

/// A value in search syntax (the part after `=`, without prefix or modifier), and one
/// that does not match it: what a composite joins with `$`.
#[derive(Debug, Clone)]
pub struct ValueText {
    pub matching: String,
    pub not_matching: String,
}

/// FHIR search escaping of one value part (search.html §3.1.1.1.7).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | ',' | '$' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The queries for `value` (of FHIR type `fhir_type` when known) of parameter `code` of
/// type `param_type`; `Err` says why this value gives none.
pub fn derive(
    param_type: &str,
    code: &str,
    targets: &[String],
    value: &Value,
    fhir_type: Option<&str>,
) -> Result<Derived, String> {
    match param_type {
        "token" => token(code, value, fhir_type),
        "string" => string(code, value, fhir_type),
        "reference" => reference(code, targets, value),
        "date" => date(code, value, fhir_type),
        "number" => number(code, value),
        "quantity" => quantity(code, value),
        "uri" => uri(code, value),
        other => Err(format!("no value query for a {other} parameter")),
    }
}

/// The value of one component of a composite, in search syntax.
pub fn component_value(
    param_type: &str,
    value: &Value,
    fhir_type: Option<&str>,
) -> Result<ValueText, String> {
    let derived = match param_type {
        "date" => {
            let s = value
                .as_str()
                .ok_or("a date component that is not a date")?;
            let year = year_of(s).ok_or("a date component that is not a date")?;
            return Ok(ValueText {
                matching: s.to_owned(),
                not_matching: far_year(year),
            });
        }
        other => derive(other, "c", &[], value, fhir_type)?,
    };
    let first = &derived.matching[0].pairs[0];
    if first.0 != "c" {
        return Err(format!(
            "a {param_type} component needs a modifier ({})",
            first.0
        ));
    }
    Ok(ValueText {
        matching: first.1.clone(),
        not_matching: derived.not_matching.pairs[0].1.clone(),
    })
}

struct TokenValue {
    system: Option<String>,
    code: Option<String>,
    text: Option<String>,
    /// The value says it has no system (a Coding or Identifier without one), so `|code`
    /// applies; a bare code, boolean or string says nothing of a system.
    explicitly_no_system: bool,
}

fn token_value(value: &Value, fhir_type: Option<&str>) -> Option<TokenValue> {
    let bare = |code: String| TokenValue {
        system: None,
        code: Some(code),
        text: None,
        explicitly_no_system: false,
    };
    match value {
        Value::String(s) => return Some(bare(s.clone())),
        Value::Bool(b) => return Some(bare(b.to_string())),
        Value::Number(n) => return Some(bare(n.to_string())),
        Value::Object(_) => {}
        _ => return None,
    }
    let shape = fhir_type.unwrap_or(if value.get("coding").is_some() {
        "CodeableConcept"
    } else if value.get("code").is_some() {
        "Coding"
    } else {
        "Identifier"
    });
    let owned = |v: &Value, key: &str| text(v, key).map(str::to_owned);
    match shape {
        "Coding" => Some(TokenValue {
            system: owned(value, "system"),
            code: owned(value, "code"),
            text: owned(value, "display"),
            explicitly_no_system: text(value, "system").is_none(),
        }),
        "CodeableConcept" => {
            let codings = value.get("coding").and_then(Value::as_array);
            let coded = codings.and_then(|c| c.iter().find(|c| text(c, "code").is_some()));
            match coded {
                Some(coding) => token_value(coding, Some("Coding")),
                // Text only: the concept's text, or else a coding's display.
                None => Some(TokenValue {
                    system: None,
                    code: None,
                    text: owned(value, "text")
                        .or_else(|| codings?.iter().find_map(|c| owned(c, "display")))?
                        .into(),
                    explicitly_no_system: false,
                }),
            }
        }
        "Identifier" => Some(TokenValue {
            system: owned(value, "system"),
            code: Some(owned(value, "value")?),
            text: value.get("type").and_then(|t| owned(t, "text")),
            explicitly_no_system: text(value, "system").is_none(),
        }),
        "ContactPoint" => Some(bare(owned(value, "value")?)),
        _ => None,
    }
}

fn token(code: &str, value: &Value, fhir_type: Option<&str>) -> Result<Derived, String> {
    let t = token_value(value, fhir_type)
        .ok_or_else(|| format!("no code in a {}", fhir_type.unwrap_or("value")))?;
    let mut matching = Vec::new();
    let name = code.to_owned();
    let not_matching = match (&t.code, &t.system) {
        (Some(c), Some(system)) => {
            let system = escape(system);
            matching.push(Probe::one(
                "system|code",
                name.clone(),
                format!("{system}|{}", escape(c)),
            ));
            matching.push(Probe::one("code", name.clone(), escape(c)));
            Probe::one(
                "system|other code",
                name.clone(),
                format!("{system}|{}{ABSENT}", escape(c)),
            )
        }
        (Some(c), None) => {
            matching.push(Probe::one("code", name.clone(), escape(c)));
            if t.explicitly_no_system {
                matching.push(Probe::one("|code", name.clone(), format!("|{}", escape(c))));
            }
            Probe::one("other code", name.clone(), format!("{}{ABSENT}", escape(c)))
        }
        (None, _) => Probe::one(
            ":text other",
            format!("{code}:text"),
            format!("{}{ABSENT}", escape(t.text.as_deref().unwrap_or(""))),
        ),
    };
    if let Some(display) = &t.text {
        matching.push(Probe::one(":text", format!("{code}:text"), escape(display)));
    }
    if matching.is_empty() {
        return Err("a token without code or text".into());
    }
    Ok(Derived {
        matching,
        not_matching,
    })
}

/// The parts of a HumanName and an Address a query is derived from, first present first.
const HUMAN_NAME_PARTS: [&str; 3] = ["family", "given", "text"];
const ADDRESS_PARTS: [&str; 3] = ["city", "line", "text"];

/// The first string of a string value, or of a HumanName or Address part.
fn string_value(value: &Value, fhir_type: Option<&str>) -> Option<String> {
    if let Some(s) = value.as_str() {
        return Some(s.to_owned());
    }
    let parts: &[&str] = match fhir_type {
        Some("HumanName") => &HUMAN_NAME_PARTS,
        Some("Address") => &ADDRESS_PARTS,
        _ => return None,
    };
    parts.iter().find_map(|key| match value.get(*key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(list)) => list.iter().find_map(Value::as_str).map(str::to_owned),
        _ => None,
    })
}

/// Latin letters with diacritics and their base letter: enough to write an accent-free
/// query for the official examples' names and places.
const UNACCENTED: [(&str, char); 12] = [
    ("àáâãäåÀÁÂÃÄÅ", 'a'),
    ("çÇ", 'c'),
    ("èéêëÈÉÊË", 'e'),
    ("ìíîïÌÍÎÏ", 'i'),
    ("ñÑ", 'n'),
    ("òóôõöøÒÓÔÕÖØ", 'o'),
    ("ùúûüÙÚÛÜ", 'u'),
    ("ýÿÝ", 'y'),
    ("šŠ", 's'),
    ("žŽ", 'z'),
    ("čČ", 'c'),
    ("řŘ", 'r'),
];

fn unaccented(text: &str) -> String {
    text.chars()
        .map(|c| {
            UNACCENTED
                .iter()
                .find(|(accented, _)| accented.contains(c))
                .map_or(c, |(_, base)| *base)
        })
        .collect()
}

fn string(code: &str, value: &Value, fhir_type: Option<&str>) -> Result<Derived, String> {
    let s = string_value(value, fhir_type)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("no text in a {}", fhir_type.unwrap_or("value")))?;
    let chars: Vec<char> = s.chars().collect();
    let half: String = chars[..chars.len().div_ceil(2)].iter().collect();
    let mut matching = vec![
        Probe::one(
            "prefix, upper case",
            code.to_owned(),
            escape(&half.to_uppercase()),
        ),
        Probe::one(":exact", format!("{code}:exact"), escape(&s)),
    ];
    let plain = unaccented(&half);
    if plain != half {
        matching.push(Probe::one(
            "prefix without accents",
            code.to_owned(),
            escape(&plain.to_lowercase()),
        ));
    }
    if chars.len() >= 3 {
        let middle: String = chars[1..chars.len() - 1].iter().collect();
        if !middle.trim().is_empty() {
            matching.push(Probe::one(
                ":contains",
                format!("{code}:contains"),
                escape(&middle),
            ));
        }
    }
    Ok(Derived {
        matching,
        not_matching: Probe::one("longer", code.to_owned(), escape(&format!("{s}{ABSENT}"))),
    })
}

/// `(type, id)` of a relative literal reference `Type/id` (or `Type/id/_history/v`).
fn relative(reference: &str) -> Option<(&str, &str)> {
    let path = reference.split("/_history/").next()?;
    let (ty, id) = path.split_once('/')?;
    let is_type = ty.starts_with(|c: char| c.is_ascii_uppercase())
        && ty.chars().all(|c| c.is_ascii_alphabetic());
    let is_id = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    (is_type && is_id).then_some((ty, id))
}

fn reference(code: &str, targets: &[String], value: &Value) -> Result<Derived, String> {
    let typed = |ty: &str, id: &str| {
        let mut matching = vec![Probe::one("Type/id", code.to_owned(), format!("{ty}/{id}"))];
        if targets.iter().any(|t| t == ty) {
            matching.push(Probe::one(
                ":Type id",
                format!("{code}:{ty}"),
                id.to_owned(),
            ));
        }
        Derived {
            matching,
            not_matching: Probe::one(
                "other id",
                code.to_owned(),
                format!("{ty}/{}", &ABSENT[1..]),
            ),
        }
    };
    let as_written = |label: &'static str, url: &str| Derived {
        matching: vec![Probe::one(label, code.to_owned(), escape(url))],
        not_matching: Probe::one(
            "other url",
            code.to_owned(),
            escape(&format!("{url}{ABSENT}")),
        ),
    };
    if let Some(canonical) = value.as_str() {
        let url = canonical.split('|').next().unwrap_or(canonical);
        if url.starts_with('#') {
            return Err("a canonical of a contained resource".into());
        }
        if let Some((ty, id)) = relative(url) {
            return Ok(typed(ty, id));
        }
        if !url.contains(':') {
            // `predecessor=library-fhir-helpers-predecessor` reads as an id (search.html).
            return Err(format!(
                "a canonical `{url}` that is neither a URL nor Type/id"
            ));
        }
        return Ok(as_written("canonical", url));
    }
    if let (Some(ty), Some(id)) = (text(value, "resourceType"), text(value, "id")) {
        return Ok(typed(ty, id));
    }
    if let Some(r) = text(value, "reference") {
        if r.starts_with('#') {
            return Err("a reference to a contained resource".into());
        }
        return Ok(match relative(r) {
            Some((ty, id)) => typed(ty, id),
            None => as_written("absolute reference", r),
        });
    }
    if let Some(identifier) = value.get("identifier")
        && let Some(v) = text(identifier, "value")
    {
        let system = text(identifier, "system").map(escape).unwrap_or_default();
        let name = format!("{code}:identifier");
        return Ok(Derived {
            matching: vec![Probe::one(
                ":identifier",
                name.clone(),
                format!("{system}|{}", escape(v)),
            )],
            not_matching: Probe::one(
                ":identifier other",
                name,
                format!("{system}|{}{ABSENT}", escape(v)),
            ),
        });
    }
    Err("a reference with neither a literal nor an identifier".into())
}

/// The year of a date, dateTime or instant as written (`2013`, `2013-04-02T09:30:10+01:00`).
fn year_of(s: &str) -> Option<i32> {
    let bytes = s.as_bytes();
    let shaped = bytes.len() >= 4
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && (bytes.len() == 4 || bytes[4] == b'-');
    shaped.then(|| s[..4].parse().ok()).flatten()
}

/// A year no official example reaches.
fn far_year(year: i32) -> String {
    format!("{}", year + 300)
}

fn date(code: &str, value: &Value, fhir_type: Option<&str>) -> Result<Derived, String> {
    let probe = |label, pairs: Vec<(&str, &str)>| Probe {
        label,
        pairs: pairs
            .into_iter()
            .map(|(prefix, v)| (code.to_owned(), format!("{prefix}{v}")))
            .collect(),
    };
    let not_matching = |year: i32| probe("eq far year", vec![("eq", &far_year(year))]);
    if let Some(s) = value.as_str() {
        // search.html: date parameters index date, dateTime and instant, not a string that
        // reads like one (`CarePlan.activity.detail.scheduledString`).
        if let Some(other) = fhir_type.filter(|t| !matches!(*t, "date" | "dateTime" | "instant")) {
            return Err(format!("a {other} is not a date"));
        }
        let year = year_of(s).ok_or_else(|| format!("`{s}` is not a date"))?;
        return Ok(Derived {
            matching: vec![
                probe("eq as written", vec![("eq", s)]),
                probe("ge and le as written", vec![("ge", s), ("le", s)]),
            ],
            not_matching: not_matching(year),
        });
    }
    let period = match fhir_type {
        Some("Timing") => {
            if let Some(event) = value.get("event").and_then(|e| e.get(0)) {
                return date(code, event, Some("dateTime"));
            }
            value.get("repeat").and_then(|r| r.get("boundsPeriod"))
        }
        _ => Some(value),
    };
    let (start, end) = period
        .map(|p| (text(p, "start"), text(p, "end")))
        .unwrap_or_default();
    let year = start
        .or(end)
        .and_then(year_of)
        .ok_or_else(|| format!("no date in a {}", fhir_type.unwrap_or("value")))?;
    let mut bounds = Vec::new();
    if let Some(start) = start {
        bounds.push(("ge", start));
    }
    if let Some(end) = end {
        bounds.push(("le", end));
    }
    Ok(Derived {
        matching: vec![probe("period ge start, le end", bounds)],
        not_matching: not_matching(year),
    })
}

/// The decimal `literal` plus 1000, for a value that does not match.
fn shifted(literal: &str) -> Result<String, String> {
    let n: f64 = literal
        .parse()
        .map_err(|_| format!("`{literal}` is not a number"))?;
    Ok(format!("{}", n + 1000.0))
}

fn number(code: &str, value: &Value) -> Result<Derived, String> {
    let Value::Number(n) = value else {
        return Err("not a number".into());
    };
    let literal = n.to_string();
    Ok(Derived {
        matching: vec![
            Probe::one("as written", code.to_owned(), literal.clone()),
            Probe {
                label: "ge and le as written",
                pairs: vec![
                    (code.to_owned(), format!("ge{literal}")),
                    (code.to_owned(), format!("le{literal}")),
                ],
            },
        ],
        not_matching: Probe::one("plus 1000", code.to_owned(), shifted(&literal)?),
    })
}

/// `|system|code` of a Quantity's unit (Money's currency is ISO 4217), or `||unit`, or
/// nothing.
fn units(quantity: &Value) -> String {
    if let Some(currency) = text(quantity, "currency") {
        return format!("|urn:iso:std:iso:4217|{}", escape(currency));
    }
    match (text(quantity, "system"), text(quantity, "code")) {
        (Some(system), Some(code)) => format!("|{}|{}", escape(system), escape(code)),
        (None, Some(code)) => format!("||{}", escape(code)),
        _ => text(quantity, "unit").map_or(String::new(), |u| format!("||{}", escape(u))),
    }
}

fn quantity(code: &str, value: &Value) -> Result<Derived, String> {
    let name = code.to_owned();
    if let Some(Value::Number(n)) = value.get("value") {
        let literal = n.to_string();
        let units = units(value);
        let mut matching = vec![Probe::one(
            "value|system|code",
            name.clone(),
            format!("{literal}{units}"),
        )];
        if !units.is_empty() {
            matching.push(Probe::one("value", name.clone(), literal.clone()));
        }
        return Ok(Derived {
            matching,
            not_matching: Probe::one("plus 1000", name, format!("{}{units}", shifted(&literal)?)),
        });
    }
    // A Range: `ge` its low end, or `le` its high end.
    let (bound, prefix) = match (value.get("low"), value.get("high")) {
        (Some(low), _) => (low, "ge"),
        (None, Some(high)) => (high, "le"),
        _ => return Err("a quantity without value".into()),
    };
    let Some(Value::Number(n)) = bound.get("value") else {
        return Err("a range bound without value".into());
    };
    let literal = n.to_string();
    let units = units(bound);
    Ok(Derived {
        matching: vec![Probe::one(
            "range bound",
            name.clone(),
            format!("{prefix}{literal}{units}"),
        )],
        not_matching: Probe::one(
            "range plus 1000",
            name,
            format!("eq{}{units}", shifted(&literal)?),
        ),
    })
}

fn uri(code: &str, value: &Value) -> Result<Derived, String> {
    let s = value.as_str().ok_or("a uri that is not a string")?;
    Ok(Derived {
        matching: vec![Probe::one("as written", code.to_owned(), escape(s))],
        not_matching: Probe::one("longer", code.to_owned(), escape(&format!("{s}{ABSENT}"))),
    })
}
