//! The index rows computed for one resource version (no database).

use super::{IndexRows, all_rows};
use crate::search::extract::IndexEntry;

fn reference(param: &str, res_type: &str, id: &str, version: Option<&str>) -> IndexEntry {
    IndexEntry::Reference {
        param: param.to_owned(),
        reference_type: Some(res_type.to_owned()),
        reference_id: Some(id.to_owned()),
        version: version.map(str::to_owned),
        url: None,
        identifier: None,
    }
}

/// `(param, target_type, target_id, version)` of the reference rows of `entries`.
fn reference_rows(entries: &[IndexEntry]) -> Vec<(String, String, String, String)> {
    let index = IndexRows {
        entries,
        patients: &[],
        labels: &[],
        version_time: 0,
        facts: &[],
    };
    let mut rows: Vec<_> = all_rows("AuditEvent", "a1", &index, &[])
        .search_reference
        .iter()
        .map(|r| {
            (
                r.param.to_owned(),
                r.target_type.to_owned(),
                r.target_id.to_owned(),
                r.version.to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn row(param: &str, res_type: &str, id: &str, version: &str) -> (String, String, String, String) {
    (
        param.to_owned(),
        res_type.to_owned(),
        id.to_owned(),
        version.to_owned(),
    )
}

#[test]
fn a_reference_named_with_and_without_version_is_one_row_with_its_version() {
    let entries = [
        reference("entity", "Patient", "x", None),
        reference("entity", "Patient", "x", Some("1")),
        reference("entity", "Patient", "y", None),
        reference("entity", "Patient", "y", None),
        reference("entity", "DocumentReference", "d", Some("2")),
        reference("patient", "Patient", "x", None),
    ];
    assert_eq!(
        reference_rows(&entries),
        vec![
            row("entity", "DocumentReference", "d", "2"),
            row("entity", "Patient", "x", "1"),
            row("entity", "Patient", "y", ""),
            row("patient", "Patient", "x", ""),
        ]
    );
}

#[test]
fn every_version_named_keeps_its_row() {
    let entries = [
        reference("entity", "Patient", "z", Some("1")),
        reference("entity", "Patient", "z", None),
        reference("entity", "Patient", "z", Some("2")),
        reference("entity", "Observation", "z", None),
    ];
    assert_eq!(
        reference_rows(&entries),
        vec![
            row("entity", "Observation", "z", ""),
            row("entity", "Patient", "z", "1"),
            row("entity", "Patient", "z", "2"),
        ]
    );
}
