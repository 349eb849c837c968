//! The placeholders of a bundle (FHIR R4 bundle.html#references, http.html#trules): an
//! entry's `fullUrl` names it within the bundle, and a reference to a `urn:uuid:` or
//! `urn:oid:` is a reference to the entry of that `fullUrl`. Such a reference means
//! nothing outside the bundle, so one that names no entry the transaction creates or
//! updates is the client's mistake (400), not a reference to store: the resource would
//! point nowhere and, for a `subject`, escape its patient's record. Two entries with the
//! same `fullUrl` make every reference to it ambiguous (bdl-7): 400 as well.
//! Pure: no database.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::error::InteractionError;
use crate::fhir::outcome::OutcomeIssue;

/// Whether `reference` is a bundle placeholder (`urn:uuid:…`, `urn:oid:…`).
pub fn is_placeholder(reference: &str) -> bool {
    reference.starts_with("urn:uuid:") || reference.starts_with("urn:oid:")
}

/// 400 when two entries share a `fullUrl`. `full_urls` are the entries' `fullUrl`s, by
/// entry index.
pub fn check_distinct_full_urls<'a>(
    full_urls: impl IntoIterator<Item = (usize, &'a str)>,
) -> Result<(), InteractionError> {
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    let mut issues = Vec::new();
    for (index, full_url) in full_urls {
        let first = *first_of.entry(full_url).or_insert(index);
        if first != index {
            issues.push(
                OutcomeIssue::error(
                    "invalid",
                    format!(
                        "entries {first} and {index} have the same fullUrl `{full_url}`: a reference to it would be ambiguous"
                    ),
                )
                .at(format!("Bundle.entry[{index}].fullUrl")),
            );
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(InteractionError::Invalid(issues))
    }
}

/// Where the placeholders of an entry may point.
#[derive(Debug, Clone, Copy)]
pub enum Resolvable<'a> {
    /// A transaction: the `fullUrl`s of the entries it creates or updates.
    Transaction(&'a HashSet<&'a str>),
    /// A batch: nowhere, its entries may not refer to each other.
    Batch,
}

/// The problems of the resource of entry `index`: one per placeholder reference in it
/// that `resolvable` does not hold.
pub fn unresolved_placeholders(
    index: usize,
    resource: &Map<String, Value>,
    resolvable: Resolvable<'_>,
) -> Vec<OutcomeIssue> {
    let mut found = Vec::new();
    resource
        .values()
        .for_each(|value| collect_placeholders(value, &mut found));
    found.sort_unstable();
    found.dedup();
    found
        .into_iter()
        .filter(|reference| match resolvable {
            Resolvable::Transaction(full_urls) => !full_urls.contains(reference),
            Resolvable::Batch => true,
        })
        .map(|reference| {
            let why = match resolvable {
                Resolvable::Transaction(_) => {
                    "which is the fullUrl of no entry this transaction creates or updates"
                }
                Resolvable::Batch => {
                    "a placeholder: the entries of a batch may not refer to each other"
                }
            };
            OutcomeIssue::error(
                "invalid",
                format!("entry {index} refers to `{reference}`, {why}"),
            )
            .at(format!("Bundle.entry[{index}].resource"))
        })
        .collect()
}

/// The `reference` strings of `value` (contained resources included) that are
/// placeholders.
fn collect_placeholders<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("reference", Value::String(r)) if is_placeholder(r) => found.push(r),
                    _ => collect_placeholders(item, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_placeholders(i, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_placeholder_no_entry_names_is_reported_once_with_its_entry() {
        let resource = json!({
            "resourceType": "Observation",
            "subject": {"reference": "urn:uuid:404"},
            "performer": [{"reference": "urn:uuid:404"}, {"reference": "urn:uuid:known"}],
            "contained": [{"resourceType": "Patient", "link": [{"other": {"reference": "urn:oid:1.2.3"}}]}],
            "note": [{"text": "urn:uuid:404 in text is no reference"}]
        });
        let full_urls = HashSet::from(["urn:uuid:known"]);
        let issues = unresolved_placeholders(
            3,
            resource.as_object().expect("object"),
            Resolvable::Transaction(&full_urls),
        );
        let messages: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("`urn:oid:1.2.3`"), "{messages:?}");
        assert!(messages[1].contains("entry 3 refers to `urn:uuid:404`"));
        assert_eq!(
            issues[0].expression.as_deref(),
            Some("Bundle.entry[3].resource")
        );
    }

    #[test]
    fn ordinary_references_are_not_placeholders() {
        let resource = json!({
            "subject": {"reference": "Patient/1"},
            "performer": [{"reference": "http://example.org/fhir/Practitioner/2"}, {"reference": "#c1"}],
            "basedOn": [{"reference": "ServiceRequest?identifier=a|b"}]
        });
        let resource = resource.as_object().expect("object");
        assert!(unresolved_placeholders(0, resource, Resolvable::Batch).is_empty());
        let in_batch = json!({"subject": {"reference": "urn:uuid:a"}});
        let issues =
            unresolved_placeholders(1, in_batch.as_object().expect("object"), Resolvable::Batch);
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("may not refer to each other"));
    }

    #[test]
    fn a_repeated_full_url_is_refused_with_both_entries() {
        let error =
            check_distinct_full_urls([(0, "urn:uuid:a"), (1, "urn:uuid:b"), (2, "urn:uuid:a")])
                .expect_err("duplicate");
        let InteractionError::Invalid(issues) = error else {
            panic!("not invalid: {error:?}");
        };
        assert_eq!(issues.len(), 1);
        assert!(
            issues[0].message.contains("entries 0 and 2"),
            "{}",
            issues[0].message
        );
        assert_eq!(
            issues[0].expression.as_deref(),
            Some("Bundle.entry[2].fullUrl")
        );
        assert!(check_distinct_full_urls([(0, "urn:uuid:a"), (1, "urn:uuid:b")]).is_ok());
    }
}
