//! The consent facts of a resource (`consent::ResourceFacts`): what the decision point
//! reads, computed once from the resource JSON plus what storage knows (the subject who
//! created it, when each label was set), and the same facts as `resource_fact` index rows
//! so that the SQL access filter reads exactly what the decision point reads.

use serde_json::Value;

use crate::consent::{Label, LabelCode, ResourceFacts};

/// Index row kinds of `resource_fact`.
pub(crate) const CLASS: &str = "class";
pub(crate) const DOCTYPE: &str = "doctype";
pub(crate) const CATEGORY: &str = "category";
pub(crate) const AUTHOR: &str = "author";
pub(crate) const DATE: &str = crate::storage::search::CARE_DATE_KIND;
/// A DocumentReference's attachment: the `Binary/{id}` it points to.
pub(crate) const ATTACHMENT: &str = "attachment";

/// The facts of `resource` with `creator` among its authors (when known).
pub(crate) fn facts_of(
    resource: &Value,
    patient: Option<&str>,
    creator: Option<&str>,
) -> ResourceFacts {
    let mut facts = ResourceFacts::from_json(resource, patient);
    if let Some(creator) = creator
        && !facts.authors.iter().any(|a| a == creator)
    {
        facts.authors.push(creator.to_owned());
        facts.authors.sort();
    }
    facts
}

/// The facts of `resource` with `creator` among its authors and, when known (`times`: the
/// current version's `(system, code, set_at)`), the time each label was set.
pub(crate) fn facts_with(
    resource: &Value,
    patient: Option<&str>,
    creator: Option<&str>,
    times: Option<&[(String, String, i64)]>,
) -> ResourceFacts {
    let mut facts = facts_of(resource, patient, creator);
    if let Some(times) = times {
        facts.labels = facts
            .labels
            .into_iter()
            .map(|label| {
                let set_at = times
                    .iter()
                    .find(|(s, c, _)| *s == label.code.system && *c == label.code.code)
                    .map(|(_, _, at)| *at)
                    // Rows indexed before set times were kept say 0: unknown, which
                    // keeps a time-limited label in force (as the SQL filter does).
                    .filter(|at| *at > 0);
                Label {
                    code: LabelCode {
                        system: label.code.system,
                        code: label.code.code,
                    },
                    set_at_millis: set_at,
                }
            })
            .collect();
    }
    facts
}

/// The facts as `resource_fact` rows `(kind, system, code, at)`.
pub(crate) fn fact_rows(facts: &ResourceFacts) -> Vec<(String, String, String, i64)> {
    let mut rows = Vec::new();
    if let Some(class) = &facts.document_class {
        rows.push((CLASS.to_owned(), String::new(), class.clone(), 0));
    }
    for (system, code) in &facts.document_types {
        rows.push((DOCTYPE.to_owned(), system.clone(), code.clone(), 0));
    }
    for code in &facts.categories {
        rows.push((CATEGORY.to_owned(), String::new(), code.clone(), 0));
    }
    for author in &facts.authors {
        rows.push((AUTHOR.to_owned(), String::new(), author.clone(), 0));
    }
    if let Some(at) = facts.date_millis {
        rows.push((DATE.to_owned(), String::new(), String::new(), at));
    }
    rows
}

/// The `attachment` rows of a DocumentReference: the Binaries its `content.attachment.url`
/// points to (`Binary/{id}`, relative or at the end of an absolute URL).
pub(crate) fn attachment_rows(resource: &Value) -> Vec<(String, String, String, i64)> {
    if resource.get("resourceType").and_then(Value::as_str) != Some("DocumentReference") {
        return Vec::new();
    }
    resource
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.pointer("/attachment/url").and_then(Value::as_str))
        .filter_map(binary_reference)
        .map(|binary| (ATTACHMENT.to_owned(), String::new(), binary, 0))
        .collect()
}

/// `Binary/{id}` of a URL that names a Binary.
pub(crate) fn binary_reference(url: &str) -> Option<String> {
    let start = url.rfind("Binary/")?;
    let reference = &url[start..];
    let at_boundary = start == 0 || url[..start].ends_with('/');
    let id = reference.strip_prefix("Binary/")?;
    (at_boundary && !id.is_empty() && !id.contains('/')).then(|| reference.to_owned())
}
