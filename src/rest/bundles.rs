//! Bundles the server answers with: history (with paging links) and batch/transaction
//! responses. Stored resources are embedded as raw JSON text, never re-parsed.

use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::errors::{RestError, status_of};
use super::headers::ReturnPreference;
use super::respond::etag;
use crate::error::Categorized;
use crate::fhir::instant::format_instant;
use crate::fhir::outcome::operation_outcome;
use crate::interaction::StoredResource;
use crate::interaction::bundle::{BundleKind, BundleOutcome, EntryResult};
use crate::interaction::history::{HistoryPage, PAGE_PARAMETER};
use crate::search::query_string::parse_pairs;

#[derive(Serialize)]
struct Bundle {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    link: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entry: Vec<Entry>,
}

#[derive(Serialize)]
struct Link {
    relation: &'static str,
    url: String,
}

#[derive(Serialize, Default)]
struct Entry {
    #[serde(rename = "fullUrl", skip_serializing_if = "Option::is_none")]
    full_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search: Option<EntrySearch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<EntryRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<EntryResponse>,
}

#[derive(Serialize)]
struct EntrySearch {
    mode: &'static str,
}

#[derive(Serialize)]
struct EntryRequest {
    method: String,
    url: String,
}

#[derive(Serialize, Default)]
struct EntryResponse {
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<Value>,
}

fn raw(json: String) -> Option<Box<RawValue>> {
    RawValue::from_string(json).ok()
}

fn status_line(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}

/// `base` + `path?query` with the `_page` token replaced (or removed when `page` is
/// `None`): the paging links of history and search bundles.
fn page_url(base: &str, path: &str, query: &str, page: Option<&str>) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in parse_pairs(query) {
        if name != PAGE_PARAMETER {
            serializer.append_pair(&name, &value);
        }
    }
    if let Some(page) = page {
        serializer.append_pair(PAGE_PARAMETER, page);
    }
    let query = serializer.finish();
    let path = path.strip_prefix("/fhir").unwrap_or(path);
    if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    }
}

/// A `history` Bundle for one page.
pub fn history_bundle(
    base: &str,
    path: &str,
    query: &str,
    page: HistoryPage,
) -> Result<String, RestError> {
    let mut link = vec![
        Link {
            relation: "self",
            url: page_url(
                base,
                path,
                query,
                parse_pairs(query)
                    .iter()
                    .find(|(n, _)| n == PAGE_PARAMETER)
                    .map(|(_, v)| v.as_str()),
            ),
        },
        Link {
            relation: "first",
            url: page_url(base, path, query, None),
        },
    ];
    if let Some(cursor) = page.next_cursor {
        link.push(Link {
            relation: "next",
            url: page_url(base, path, query, Some(&cursor.to_string())),
        });
    }
    let entry = page
        .entries
        .into_iter()
        .map(|row| {
            let reference = format!("{}/{}", row.res_type, row.res_id);
            let (url, status) = match row.method.as_str() {
                "POST" => (row.res_type.clone(), "201 Created"),
                "DELETE" => (reference.clone(), "204 No Content"),
                _ => (reference.clone(), "200 OK"),
            };
            Entry {
                full_url: Some(format!("{base}/{reference}")),
                resource: row.content.and_then(raw),
                search: None,
                request: Some(EntryRequest {
                    method: row.method.clone(),
                    url,
                }),
                response: Some(EntryResponse {
                    status: status.to_owned(),
                    etag: Some(etag(row.version_id)),
                    last_modified: Some(format_instant(row.last_updated)),
                    ..EntryResponse::default()
                }),
            }
        })
        .collect();
    serialize(&Bundle {
        resource_type: "Bundle",
        kind: "history",
        total: page.total,
        link,
        entry,
    })
}

/// The `batch-response` or `transaction-response` Bundle.
pub fn bundle_response(
    base: &str,
    outcome: BundleOutcome,
    preference: ReturnPreference,
) -> Result<String, RestError> {
    let kind = match outcome.kind {
        BundleKind::Batch => "batch-response",
        BundleKind::Transaction => "transaction-response",
    };
    let entry = outcome
        .entries
        .into_iter()
        .map(|result| response_entry(base, result, preference))
        .collect();
    serialize(&Bundle {
        resource_type: "Bundle",
        kind,
        total: None,
        link: Vec::new(),
        entry,
    })
}

fn response_entry(base: &str, result: EntryResult, preference: ReturnPreference) -> Entry {
    let resource_entry =
        |resource: StoredResource, status: StatusCode, location: bool, always_body: bool| {
            let include = always_body || preference == ReturnPreference::Representation;
            Entry {
                full_url: Some(format!("{base}/{}", resource.reference())),
                response: Some(EntryResponse {
                    status: status_line(status),
                    location: location.then(|| {
                        crate::fhir::ids::versioned_reference(
                            &resource.res_type,
                            &resource.id,
                            resource.version_id,
                        )
                    }),
                    etag: Some(etag(resource.version_id)),
                    last_modified: Some(format_instant(resource.last_updated)),
                    outcome: None,
                }),
                search: None,
                resource: if include { raw(resource.json) } else { None },
                request: None,
            }
        };
    match result {
        EntryResult::Created(r) => resource_entry(r, StatusCode::CREATED, true, false),
        EntryResult::Existing(r) => resource_entry(r, StatusCode::OK, true, false),
        EntryResult::Updated(r) => resource_entry(r, StatusCode::OK, true, false),
        EntryResult::Read(r) => resource_entry(r, StatusCode::OK, false, true),
        EntryResult::Deleted => Entry {
            response: Some(EntryResponse {
                status: status_line(StatusCode::NO_CONTENT),
                ..EntryResponse::default()
            }),
            ..Entry::default()
        },
        EntryResult::Failed(error) => {
            let status = status_of(error.category());
            let error = RestError::from(error);
            Entry {
                response: Some(EntryResponse {
                    status: status_line(status),
                    outcome: Some(operation_outcome(&error.issues)),
                    ..EntryResponse::default()
                }),
                ..Entry::default()
            }
        }
    }
}

fn serialize(bundle: &Bundle) -> Result<String, RestError> {
    serde_json::to_string(bundle).map_err(|e| {
        log::error!("bundle serialisation failed: {e}");
        RestError::new(
            crate::error::ErrorCategory::Fault,
            "internal error, the cause is in the server log",
        )
    })
}

/// A `searchset` Bundle: matches then included resources, total, and paging links.
pub fn searchset_bundle(
    base: &str,
    path: &str,
    result: crate::interaction::search::SearchResult,
) -> Result<String, RestError> {
    let canonical = result.query.canonical_query_string();
    let path = path.trim_end_matches("/_search");
    let link_at = |token: Option<&str>| page_url(base, path, &canonical, token);
    let mut link = vec![
        Link {
            relation: "self",
            url: link_at(result.page.as_deref()),
        },
        Link {
            relation: "first",
            url: link_at(None),
        },
    ];
    if let Some(previous) = &result.previous_page {
        link.push(Link {
            relation: "previous",
            url: link_at(Some(previous)),
        });
    }
    if let Some(next) = &result.next_page {
        link.push(Link {
            relation: "next",
            url: link_at(Some(next)),
        });
    }
    let entry = |resource: StoredResource, mode: &'static str| Entry {
        full_url: Some(format!("{base}/{}", resource.reference())),
        resource: raw(resource.json),
        search: Some(EntrySearch { mode }),
        ..Entry::default()
    };
    let mut entries: Vec<Entry> = result
        .matches
        .into_iter()
        .map(|r| entry(r, "match"))
        .collect();
    entries.extend(result.included.into_iter().map(|r| entry(r, "include")));
    serialize(&Bundle {
        resource_type: "Bundle",
        kind: "searchset",
        total: result.total,
        link,
        entry: entries,
    })
}
