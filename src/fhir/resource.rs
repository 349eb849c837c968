//! Operations on resource JSON as received: setting the fields the server owns (`id`,
//! `meta.versionId`, `meta.lastUpdated`) while keeping every other key in its place, and
//! rewriting references (transaction `urn:uuid:` resolution), and tagging a resource
//! returned reduced (SUBSETTED).

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Sets `id`, `meta.versionId` and `meta.lastUpdated`, placing `resourceType`, `id` and
/// `meta` first and leaving the order of every other element as received.
pub fn set_server_fields(
    resource: &mut Map<String, Value>,
    id: &str,
    version: i64,
    last_updated: &str,
) {
    let mut meta = match resource.shift_remove("meta") {
        Some(Value::Object(meta)) => meta,
        _ => Map::new(),
    };
    meta.insert("versionId".to_owned(), Value::String(version.to_string()));
    meta.insert(
        "lastUpdated".to_owned(),
        Value::String(last_updated.to_owned()),
    );
    let mut ordered_meta = Map::with_capacity(meta.len());
    for key in ["versionId", "lastUpdated"] {
        if let Some(v) = meta.shift_remove(key) {
            ordered_meta.insert(key.to_owned(), v);
        }
    }
    ordered_meta.extend(meta);

    let resource_type = resource.shift_remove("resourceType");
    resource.shift_remove("id");
    let rest = std::mem::take(resource);
    if let Some(t) = resource_type {
        resource.insert("resourceType".to_owned(), t);
    }
    resource.insert("id".to_owned(), Value::String(id.to_owned()));
    resource.insert("meta".to_owned(), Value::Object(ordered_meta));
    resource.extend(rest);
}

/// Replaces every string that equals a key of `replacements` (references, and uri-typed
/// elements that hold the same temporary id) by its value, everywhere in `value`; inside
/// the narrative `div`, `href`/`src` attributes that hold such an id are rewritten too.
/// Returns how many strings changed.
pub fn rewrite_references(value: &mut Value, replacements: &HashMap<String, String>) -> usize {
    match value {
        Value::String(text) => match replacements.get(text.as_str()) {
            Some(new) => {
                *text = new.clone();
                1
            }
            None => 0,
        },
        Value::Array(items) => items
            .iter_mut()
            .map(|item| rewrite_references(item, replacements))
            .sum(),
        Value::Object(map) => {
            let mut changed = 0;
            for (key, item) in map.iter_mut() {
                if key == "div" {
                    if let Value::String(html) = item {
                        changed += rewrite_narrative_links(html, replacements);
                    }
                } else {
                    changed += rewrite_references(item, replacements);
                }
            }
            changed
        }
        _ => 0,
    }
}

fn rewrite_narrative_links(html: &mut String, replacements: &HashMap<String, String>) -> usize {
    let mut changed = 0;
    for (old, new) in replacements {
        for attribute in ["href", "src"] {
            for quote in ['"', '\''] {
                let from = format!("{attribute}={quote}{old}{quote}");
                if html.contains(&from) {
                    *html = html.replace(&from, &format!("{attribute}={quote}{new}{quote}"));
                    changed += 1;
                }
            }
        }
    }
    changed
}

/// Tags `resource` (a JSON object) as SUBSETTED: it is returned without some of its
/// elements (search.html `_elements`/`_summary`, an identity-only lookup).
pub fn mark_subsetted(resource: &mut serde_json::Map<String, Value>) {
    let meta = resource
        .entry("meta")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Value::Object(meta) = meta {
        let tags = meta
            .entry("tag")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(tags) = tags {
            tags.push(serde_json::json!({
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "SUBSETTED"
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_fields_go_first_and_keep_the_rest_in_order() {
        let mut value = json!({"resourceType": "Patient", "gender": "female", "id": "old",
            "meta": {"tag": [{"code": "x"}], "versionId": "9"}, "active": true});
        let Value::Object(map) = &mut value else {
            unreachable!()
        };
        set_server_fields(map, "p1", 2, "2026-01-01T00:00:00.000Z");
        assert_eq!(
            serde_json::to_string(&value).unwrap_or_default(),
            r#"{"resourceType":"Patient","id":"p1","meta":{"versionId":"2","lastUpdated":"2026-01-01T00:00:00.000Z","tag":[{"code":"x"}]},"gender":"female","active":true}"#
        );
    }

    #[test]
    fn decimals_keep_their_digits() {
        let value: Value =
            serde_json::from_str(r#"{"v": 1.50, "w": 0.000100, "x": 1e3}"#).unwrap_or_default();
        // Digits and precision are kept; only an exponent's sign is spelled out.
        assert_eq!(
            serde_json::to_string(&value).unwrap_or_default(),
            r#"{"v":1.50,"w":0.000100,"x":1e+3}"#
        );
    }

    #[test]
    fn references_and_narrative_links_are_rewritten() {
        let mut value = json!({"subject": {"reference": "urn:uuid:1"}, "other": "urn:uuid:2",
            "text": {"div": "<div><a href=\"urn:uuid:1\">p</a></div>"}});
        let map = HashMap::from([("urn:uuid:1".to_owned(), "Patient/a".to_owned())]);
        assert_eq!(rewrite_references(&mut value, &map), 2);
        assert_eq!(value["subject"]["reference"], "Patient/a");
        assert_eq!(value["other"], "urn:uuid:2");
        assert_eq!(
            value["text"]["div"],
            "<div><a href=\"Patient/a\">p</a></div>"
        );
    }
}
