//! Turning one file into the bundle Carnet processes: a batch or transaction Bundle as is;
//! a collection Bundle, a single resource or an NDJSON file as a transaction that writes
//! each resource (PUT when it has an id, POST otherwise), so that a file lands whole or not
//! at all. The entries of a collection keep their `fullUrl`, so that references to
//! `urn:uuid:` placeholders resolve as they would in a transaction.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// Why a file could not be read as FHIR.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("line {line}: not valid JSON: {error}")]
    NdjsonLine {
        line: usize,
        error: serde_json::Error,
    },
    #[error("{0}")]
    Shape(String),
}

/// The `.json` and `.ndjson` files under `paths` (folders searched recursively), sorted.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, FileError)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        walk(path, &mut files, &mut errors);
    }
    files.sort();
    (files, errors)
}

fn walk(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, FileError)>) {
    if path.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    walk(&entry.path(), files, errors);
                }
            }
            Err(e) => errors.push((path.to_owned(), FileError::Io(e))),
        }
    } else if is_fhir_file(path) {
        files.push(path.to_owned());
    } else if !path.exists() {
        errors.push((
            path.to_owned(),
            FileError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file or folder",
            )),
        ));
    }
}

fn is_fhir_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "ndjson")
    )
}

/// The bundle to process for `path`.
pub fn bundle_of_file(path: &Path) -> Result<Value, FileError> {
    let text = std::fs::read_to_string(path)?;
    if path.extension().and_then(|e| e.to_str()) == Some("ndjson") {
        let mut resources = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let resource = serde_json::from_str(line).map_err(|error| FileError::NdjsonLine {
                line: index + 1,
                error,
            })?;
            resources.push((None, resource));
        }
        return Ok(transaction_of(resources));
    }
    let value: Value = serde_json::from_str(&text).map_err(FileError::Json)?;
    match value.get("resourceType").and_then(Value::as_str) {
        Some("Bundle") => match value.get("type").and_then(Value::as_str) {
            Some("transaction" | "batch") => Ok(value),
            Some("collection" | "searchset" | "document" | "message" | "history") | None => {
                let resources = value
                    .get("entry")
                    .and_then(Value::as_array)
                    .map(|entries| {
                        entries
                            .iter()
                            .filter_map(|e| {
                                let full_url = e.get("fullUrl").and_then(Value::as_str);
                                Some((full_url.map(str::to_owned), e.get("resource")?.clone()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(transaction_of(resources))
            }
            Some(other) => Err(FileError::Shape(format!(
                "unsupported Bundle type `{other}`"
            ))),
        },
        Some(_) => Ok(transaction_of(vec![(None, value)])),
        None => Err(FileError::Shape(
            "no `resourceType`: not a FHIR resource".to_owned(),
        )),
    }
}

/// A transaction writing each resource: PUT `Type/id` when it has an id, else POST `Type`;
/// each with its `fullUrl` when it had one.
fn transaction_of(resources: Vec<(Option<String>, Value)>) -> Value {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|(full_url, resource)| {
            let resource_type = resource
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let request = match resource.get("id").and_then(Value::as_str) {
                Some(id) => json!({"method": "PUT", "url": format!("{resource_type}/{id}")}),
                None => json!({"method": "POST", "url": resource_type}),
            };
            let mut entry = json!({"resource": resource, "request": request});
            if let Some(full_url) = full_url {
                entry["fullUrl"] = Value::String(full_url);
            }
            entry
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_with_ids_are_put_and_others_posted() {
        let bundle = transaction_of(vec![
            (None, json!({"resourceType": "Patient", "id": "a"})),
            (
                Some("urn:uuid:o1".to_owned()),
                json!({"resourceType": "Observation"}),
            ),
        ]);
        assert_eq!(bundle["entry"][0].get("fullUrl"), None);
        assert_eq!(bundle["entry"][1]["fullUrl"], "urn:uuid:o1");
        assert_eq!(bundle["entry"][0]["request"]["method"], "PUT");
        assert_eq!(bundle["entry"][0]["request"]["url"], "Patient/a");
        assert_eq!(bundle["entry"][1]["request"]["method"], "POST");
        assert_eq!(bundle["entry"][1]["request"]["url"], "Observation");
    }
}
