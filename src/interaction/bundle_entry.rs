//! Reading the entries of a batch or transaction bundle (FHIR R4 http.html#transaction):
//! each entry's method, target URL, headers and resource, with errors that name the entry.

use base64::Engine;
use serde_json::{Map, Value};

use super::error::InteractionError;
use crate::fhir::outcome::OutcomeIssue;
use crate::search::query_string::parse_pairs;

/// The HTTP method of an entry, in the order a transaction processes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryMethod {
    Delete,
    Post,
    Put,
    Patch,
    Get,
    Head,
}

impl EntryMethod {
    fn parse(text: &str) -> Option<EntryMethod> {
        Some(match text {
            "DELETE" => EntryMethod::Delete,
            "POST" => EntryMethod::Post,
            "PUT" => EntryMethod::Put,
            "PATCH" => EntryMethod::Patch,
            "GET" => EntryMethod::Get,
            "HEAD" => EntryMethod::Head,
            _ => return None,
        })
    }

    /// Processing rank in a transaction: DELETE, POST, PUT/PATCH, GET/HEAD.
    pub fn rank(self) -> u8 {
        match self {
            EntryMethod::Delete => 0,
            EntryMethod::Post => 1,
            EntryMethod::Put | EntryMethod::Patch => 2,
            EntryMethod::Get | EntryMethod::Head => 3,
        }
    }
}

/// The target of an entry URL: `Type`, `Type/id`, `Type/id/_history/vid`, or `Type?criteria`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryUrl {
    pub type_name: String,
    pub id: Option<String>,
    pub version: Option<String>,
    /// The query string (criteria), without `?`.
    pub query: Option<String>,
}

/// One parsed entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub index: usize,
    pub method: EntryMethod,
    pub url: EntryUrl,
    pub full_url: Option<String>,
    pub resource: Option<Value>,
    pub if_match: Option<i64>,
    pub if_none_exist: Option<String>,
}

/// Reads entry `index` of a bundle.
pub fn parse_entry(index: usize, entry: &Value) -> Result<Entry, InteractionError> {
    let at = |field: &str| format!("Bundle.entry[{index}].{field}");
    let invalid = |field: &str, message: String| {
        InteractionError::Invalid(vec![OutcomeIssue::error("invalid", message).at(at(field))])
    };
    let request = entry
        .get("request")
        .ok_or_else(|| invalid("request", format!("entry {index} has no `request`")))?;
    let method_text = request.get("method").and_then(Value::as_str).unwrap_or("");
    let method = EntryMethod::parse(method_text).ok_or_else(|| {
        invalid(
            "request.method",
            format!("entry {index} has an unknown method `{method_text}`"),
        )
    })?;
    let url_text = request.get("url").and_then(Value::as_str).unwrap_or("");
    let url = parse_entry_url(url_text).ok_or_else(|| {
        invalid(
            "request.url",
            format!("entry {index} has an invalid url `{url_text}`"),
        )
    })?;
    let if_match = match request.get("ifMatch").and_then(Value::as_str) {
        None => None,
        Some(text) => Some(parse_etag(text).ok_or_else(|| {
            invalid(
                "request.ifMatch",
                format!("entry {index} has an invalid ifMatch `{text}`"),
            )
        })?),
    };
    let resource = entry.get("resource").cloned();
    if matches!(
        method,
        EntryMethod::Post | EntryMethod::Put | EntryMethod::Patch
    ) && resource.is_none()
    {
        return Err(invalid(
            "resource",
            format!("entry {index} ({method_text}) has no resource"),
        ));
    }
    Ok(Entry {
        index,
        method,
        url,
        full_url: entry
            .get("fullUrl")
            .and_then(Value::as_str)
            .map(str::to_owned),
        resource,
        if_match,
        if_none_exist: request
            .get("ifNoneExist")
            .and_then(Value::as_str)
            .map(|s| s.trim_start_matches('?').to_owned()),
    })
}

/// Parses a weak or strong ETag (`W/"3"`, `"3"`) or a bare version into the version number.
pub fn parse_etag(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    text.parse::<i64>().ok().filter(|v| *v >= 1)
}

/// Reads an entry URL, relative (`Patient/1`) or absolute (`http://host/fhir/Patient/1`).
pub fn parse_entry_url(text: &str) -> Option<EntryUrl> {
    let relative = if text.starts_with("http://") || text.starts_with("https://") {
        let start = text.find("/fhir/")? + "/fhir/".len();
        &text[start..]
    } else {
        text.trim_start_matches('/')
    };
    let (path, query) = match relative.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (relative, None),
    };
    let segments: Vec<&str> = path.split('/').collect();
    let (type_name, id, version) = match segments.as_slice() {
        [t] if !t.is_empty() => (*t, None, None),
        [t, id] => (*t, Some(*id), None),
        [t, id, "_history", v] => (*t, Some(*id), Some(*v)),
        _ => return None,
    };
    if !type_name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
    {
        return None;
    }
    Some(EntryUrl {
        type_name: type_name.to_owned(),
        id: id.map(str::to_owned),
        version: version.map(str::to_owned),
        query,
    })
}

/// The JSON Patch document of a PATCH entry: a Binary holding `application/json-patch+json`.
pub fn patch_document(entry: &Entry) -> Result<Value, InteractionError> {
    let invalid = |message: &str| {
        InteractionError::Invalid(vec![
            OutcomeIssue::error("invalid", message)
                .at(format!("Bundle.entry[{}].resource", entry.index)),
        ])
    };
    let resource = entry
        .resource
        .as_ref()
        .ok_or_else(|| invalid("a PATCH entry needs a resource"))?;
    let is_json_patch = resource.get("resourceType").and_then(Value::as_str) == Some("Binary")
        && resource
            .get("contentType")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("application/json-patch+json"));
    if !is_json_patch {
        return Err(invalid(
            "a PATCH entry needs a Binary resource with contentType `application/json-patch+json`",
        ));
    }
    let data = resource.get("data").and_then(Value::as_str).unwrap_or("");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| invalid("the Binary data of a PATCH entry is not valid base64"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| invalid("the Binary data of a PATCH entry is not JSON"))
}

/// The references a JSON Patch document writes, in the shape of a resource so that the
/// checks and resolutions of a resource's references apply to it: the `value` of each
/// operation (under `value`), where an operation on a `…/reference` path with a string value
/// stands for `{"reference": value}`.
pub fn patch_values(document: &Value) -> Map<String, Value> {
    let values: Vec<Value> = document
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|operation| {
            let value = operation.get("value")?;
            let path = operation.get("path").and_then(Value::as_str).unwrap_or("");
            Some(match value {
                Value::String(reference) if path.ends_with("/reference") => {
                    serde_json::json!({"reference": reference})
                }
                other => other.clone(),
            })
        })
        .collect();
    Map::from_iter([("value".to_owned(), Value::Array(values))])
}

/// True when a reference names a resource by search criteria (`Patient?identifier=…`).
pub fn conditional_reference(reference: &str) -> Option<(&str, &str)> {
    let (type_name, query) = reference.split_once('?')?;
    (!type_name.contains('/') && !parse_pairs(query).is_empty()).then_some((type_name, query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_urls() {
        let url = parse_entry_url("Patient/1/_history/2").unwrap();
        assert_eq!(
            (url.id.as_deref(), url.version.as_deref()),
            (Some("1"), Some("2"))
        );
        let url = parse_entry_url("http://x/fhir/Patient?identifier=a|b").unwrap();
        assert_eq!(
            (url.type_name.as_str(), url.query.as_deref()),
            ("Patient", Some("identifier=a|b"))
        );
        assert!(parse_entry_url("").is_none());
        assert!(parse_entry_url("patient/1").is_none());
        assert!(parse_entry_url("Patient/1/2").is_none());
    }

    #[test]
    fn etags() {
        assert_eq!(parse_etag("W/\"3\""), Some(3));
        assert_eq!(parse_etag("\"4\""), Some(4));
        assert_eq!(parse_etag("5"), Some(5));
        assert_eq!(parse_etag("W/\"x\""), None);
        assert_eq!(parse_etag("0"), None);
    }

    #[test]
    fn the_references_a_patch_writes_look_like_those_of_a_resource() {
        let document = serde_json::json!([
            {"op": "replace", "path": "/subject/reference", "value": "urn:uuid:a"},
            {"op": "add", "path": "/performer/-", "value": {"reference": "Practitioner?identifier=x|1"}},
            {"op": "add", "path": "/note/0/text", "value": "urn:uuid:not-a-reference"},
            {"op": "remove", "path": "/code"}
        ]);
        assert_eq!(
            Value::Object(patch_values(&document)),
            serde_json::json!({"value": [
                {"reference": "urn:uuid:a"},
                {"reference": "Practitioner?identifier=x|1"},
                "urn:uuid:not-a-reference"
            ]})
        );
        assert_eq!(
            Value::Object(patch_values(&serde_json::json!({"op": "add"}))),
            serde_json::json!({"value": []})
        );
    }

    #[test]
    fn conditional_references() {
        assert_eq!(
            conditional_reference("Patient?identifier=a|b"),
            Some(("Patient", "identifier=a|b"))
        );
        assert_eq!(conditional_reference("Patient/1"), None);
    }
}
