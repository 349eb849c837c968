//! One FHIRPath result item -> the index entries of one parameter type, following the
//! value tables of FHIR R4 search.html §3.1.1.4 (which datatypes each parameter type
//! indexes, and how). The item's FHIR type comes from the schema; when it is unknown the
//! JSON shape decides. Pure; depends on `serde_json` and `crate::search`.

use serde_json::{Map, Value};

use super::IndexEntry;
use super::ranged::{date, number, quantity};
use super::text::normalize;
use crate::search::fhirpath::{Item, Model, reference_target};
use crate::search::registry::SearchParamType;

pub(super) type Out = Vec<IndexEntry>;

pub(super) fn text<'v>(v: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn owned(v: &Map<String, Value>, key: &str) -> Option<String> {
    text(v, key).map(str::to_owned)
}

/// The strings of a property that may repeat (`given`, `line`).
pub(super) fn texts<'v>(v: &'v Map<String, Value>, key: &str) -> impl Iterator<Item = &'v str> {
    let (one, many) = match v.get(key) {
        Some(Value::String(s)) => (Some(s.as_str()), None),
        Some(Value::Array(a)) => (None, Some(a.iter().filter_map(Value::as_str))),
        _ => (None, None),
    };
    one.into_iter().chain(many.into_iter().flatten())
}

/// Why an item gave no entry.
#[derive(Debug)]
pub(super) enum NoEntry {
    /// A value of a known FHIR type that the parameter type does not index, such as the
    /// `string` choice of `Immunization.occurrence[x]` for `date`: skipped.
    NotApplicable(String),
    /// A malformed value (a bad date), or a value of unknown type: an issue.
    Invalid(String),
}

pub(super) fn cannot(type_name: Option<&str>, as_what: &str) -> NoEntry {
    match type_name {
        Some(t) => NoEntry::NotApplicable(format!("a `{t}` is not indexed as {as_what}")),
        None => NoEntry::Invalid(format!(
            "a value of unknown type is not indexed as {as_what}"
        )),
    }
}

pub(super) fn not_a_date(s: &str) -> NoEntry {
    NoEntry::Invalid(format!("`{s}` is not a date"))
}

/// Append the entries of `item` for a parameter of type `ty` named `param`.
pub(super) fn convert(
    model: &Model,
    resource: &Value,
    ty: SearchParamType,
    param: &str,
    item: &Item<'_>,
    out: &mut Out,
) -> Result<(), NoEntry> {
    let type_name = model.item_type(item);
    let object = match item.json() {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    match ty {
        SearchParamType::String => string(param, item, object, type_name, out),
        SearchParamType::Token => token(param, item, object, type_name, out),
        SearchParamType::Reference => reference(model, resource, param, item, object, out),
        SearchParamType::Date => date(param, item, object, type_name, out),
        SearchParamType::Number => number(param, item, object, type_name, out),
        SearchParamType::Quantity => quantity(param, item, object, type_name, out),
        SearchParamType::Uri => match item.json() {
            Some(Value::String(s)) => {
                out.push(IndexEntry::Uri {
                    param: param.to_owned(),
                    value: s.clone(),
                });
                Ok(())
            }
            _ => Err(cannot(type_name, "a uri")),
        },
        SearchParamType::Composite | SearchParamType::Special => Err(NoEntry::Invalid(format!(
            "`{param}` is not a value parameter"
        ))),
    }
}

fn push_string(param: &str, value: &str, out: &mut Out) {
    let normalized = normalize(value);
    if !normalized.is_empty() {
        out.push(IndexEntry::String {
            param: param.to_owned(),
            normalized,
            exact: value.to_owned(),
        });
    }
}

const HUMAN_NAME_PARTS: [&str; 5] = ["text", "family", "given", "prefix", "suffix"];
const ADDRESS_PARTS: [&str; 7] = [
    "text",
    "line",
    "city",
    "district",
    "state",
    "postalCode",
    "country",
];

/// Strings: string-like primitives, and each part (and the text) of HumanName and Address.
fn string(
    param: &str,
    item: &Item<'_>,
    object: Option<&Map<String, Value>>,
    type_name: Option<&str>,
    out: &mut Out,
) -> Result<(), NoEntry> {
    if let Some(s) = item.as_str() {
        push_string(param, s, out);
        return Ok(());
    }
    let parts: &[&str] = match (object, type_name) {
        (Some(_), Some("HumanName")) => &HUMAN_NAME_PARTS,
        (Some(_), Some("Address")) => &ADDRESS_PARTS,
        (Some(o), None) if o.contains_key("family") || o.contains_key("given") => &HUMAN_NAME_PARTS,
        (Some(_), None) => &ADDRESS_PARTS,
        _ => return Err(cannot(type_name, "a string")),
    };
    let Some(object) = object else {
        return Err(cannot(type_name, "a string"));
    };
    for key in parts {
        for s in texts(object, key) {
            push_string(param, s, out);
        }
    }
    Ok(())
}

fn token_entry(
    param: &str,
    system: Option<String>,
    code: String,
    text: Option<String>,
) -> IndexEntry {
    IndexEntry::Token {
        param: param.to_owned(),
        system,
        code,
        text,
        of_type: None,
    }
}

/// Tokens: code/string/uri/id (the value), boolean, Coding, CodeableConcept (each coding,
/// plus a text-only entry for its `text`), Identifier (system|value, one entry per type
/// coding for `:of-type`), ContactPoint (the value).
fn token(
    param: &str,
    item: &Item<'_>,
    object: Option<&Map<String, Value>>,
    type_name: Option<&str>,
    out: &mut Out,
) -> Result<(), NoEntry> {
    let code = match (item.as_bool(), item.as_str(), item.json()) {
        (Some(b), _, _) => Some(b.to_string()),
        (_, Some(s), _) => Some(s.to_owned()),
        (_, _, Some(Value::Number(n))) => Some(n.to_string()),
        _ => None,
    };
    if let Some(code) = code {
        out.push(token_entry(param, None, code, None));
        return Ok(());
    }
    let Some(o) = object else {
        return Err(cannot(type_name, "a token"));
    };
    let shape = match type_name {
        Some(t) => t,
        None if o.contains_key("coding") || o.len() == 1 && o.contains_key("text") => {
            "CodeableConcept"
        }
        None if o.contains_key("code") => "Coding",
        None => "Identifier",
    };
    match shape {
        "Coding" => coding(param, o, out),
        "CodeableConcept" => {
            if let Some(Value::Array(codings)) = o.get("coding") {
                for c in codings.iter().filter_map(Value::as_object) {
                    coding(param, c, out);
                }
            }
            if let Some(t) = owned(o, "text") {
                out.push(token_entry(param, None, String::new(), Some(t)));
            }
        }
        "Identifier" => identifier(param, o, out),
        "ContactPoint" => {
            if let Some(value) = owned(o, "value") {
                out.push(token_entry(param, None, value, None));
            }
        }
        _ => return Err(cannot(type_name, "a token")),
    }
    Ok(())
}

fn coding(param: &str, c: &Map<String, Value>, out: &mut Out) {
    let display = owned(c, "display");
    match owned(c, "code") {
        Some(code) => out.push(token_entry(param, owned(c, "system"), code, display)),
        None if display.is_some() => out.push(token_entry(param, None, String::new(), display)),
        None => {}
    }
}

fn identifier(param: &str, o: &Map<String, Value>, out: &mut Out) {
    let Some(value) = owned(o, "value") else {
        return;
    };
    let system = owned(o, "system");
    let ty = o.get("type").and_then(Value::as_object);
    let text = ty.and_then(|t| owned(t, "text"));
    let types: Vec<(Option<String>, String)> = ty
        .and_then(|t| t.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .filter_map(|c| Some((owned(c, "system"), owned(c, "code")?)))
        .collect();
    if types.is_empty() {
        out.push(token_entry(param, system, value, text));
        return;
    }
    for of_type in types {
        out.push(IndexEntry::Token {
            param: param.to_owned(),
            system: system.clone(),
            code: value.clone(),
            text: text.clone(),
            of_type: Some(of_type),
        });
    }
}

/// References: Reference (literal `Type/id`, absolute URL, contained `#id`, and
/// `identifier`), canonical and uri (a URL with an optional `|version`), and a resource
/// itself (`Bundle.entry[0].resource`).
fn reference(
    model: &Model,
    resource: &Value,
    param: &str,
    item: &Item<'_>,
    object: Option<&Map<String, Value>>,
    out: &mut Out,
) -> Result<(), NoEntry> {
    let is_resource_type = |t: &&str| model.schema().is_resource_type(t);
    let (mut reference_type, mut reference_id, mut version, mut url) = (None, None, None, None);
    let mut identifier = None;
    match (item.json(), object) {
        (Some(Value::String(canonical)), _) => {
            let (base, v) = match canonical.split_once('|') {
                Some((base, v)) => (base, Some(v.to_owned())),
                None => (canonical.as_str(), None),
            };
            let target = reference_target(base).filter(|(t, _)| is_resource_type(t));
            reference_type = target.map(|(t, _)| t.to_owned());
            // A relative canonical (`Library/example`) reads as a relative reference too:
            // `depends-on=Library/example` finds it as it finds a `Reference.reference`.
            if !base.contains(':') {
                reference_id = target.map(|(_, id)| id.to_owned());
            }
            url = Some(base.to_owned());
            version = v;
        }
        (_, Some(o)) if o.contains_key("resourceType") => {
            reference_type = owned(o, "resourceType");
            reference_id = owned(o, "id");
        }
        (_, Some(o)) => {
            match text(o, "reference") {
                Some(r) if r.starts_with('#') => {
                    reference_type = contained_type(resource, &r[1..]);
                    url = Some(r.to_owned());
                }
                Some(r) => match reference_target(r).filter(|(t, _)| is_resource_type(t)) {
                    Some((t, id)) => {
                        reference_type = Some(t.to_owned());
                        reference_id = Some(id.to_owned());
                        version = r.split_once("/_history/").map(|(_, v)| v.to_owned());
                        // Absolute (`http://…/Patient/1`) rather than relative (`Patient/1`).
                        url = r.contains(':').then(|| r.to_owned());
                    }
                    None => url = Some(r.to_owned()),
                },
                None => {
                    reference_type = text(o, "type")
                        .map(|t| t.rsplit('/').next().unwrap_or(t))
                        .filter(is_resource_type)
                        .map(str::to_owned);
                }
            }
            identifier = o
                .get("identifier")
                .and_then(Value::as_object)
                .and_then(|i| Some((owned(i, "system"), owned(i, "value")?)));
            if url.is_none() && reference_id.is_none() && identifier.is_none() {
                // A display-only reference, or one with only a type: nothing to match.
                return Ok(());
            }
        }
        _ => return Err(cannot(model.item_type(item), "a reference")),
    }
    out.push(IndexEntry::Reference {
        param: param.to_owned(),
        reference_type,
        reference_id,
        version,
        url,
        identifier,
    });
    Ok(())
}

fn contained_type(resource: &Value, id: &str) -> Option<String> {
    resource
        .get("contained")?
        .as_array()?
        .iter()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(id))?
        .get("resourceType")?
        .as_str()
        .map(str::to_owned)
}
