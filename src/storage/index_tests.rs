//! The index rows computed for one resource version (no database).

use super::{IndexRows, all_rows};
use crate::search::extract::IndexEntry;

/// `(param, target type, target id, version)` of one reference.
type Reference<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);
/// `(param, target_type, target_id, version)` of one reference row.
type Row<'a> = (&'a str, &'a str, &'a str, &'a str);

/// Asserts that the references `given` (of an AuditEvent) are indexed as the rows `expected`
/// (sorted).
fn assert_reference_rows(given: &[Reference<'_>], expected: &[Row<'_>]) {
    let entries: Vec<IndexEntry> = given
        .iter()
        .map(|(param, res_type, id, version)| IndexEntry::Reference {
            param: (*param).to_owned(),
            reference_type: Some((*res_type).to_owned()),
            reference_id: Some((*id).to_owned()),
            version: version.map(str::to_owned),
            url: None,
            identifier: None,
        })
        .collect();
    let index = IndexRows {
        entries: &entries,
        patients: &[],
        labels: &[],
        version_time: 0,
        facts: &[],
    };
    let all = all_rows("AuditEvent", "a1", &index, &[]);
    let mut rows: Vec<Row<'_>> = all
        .search_reference
        .iter()
        .map(|r| (r.param, r.target_type, r.target_id, r.version))
        .collect();
    rows.sort();
    assert_eq!(rows, expected);
}

#[test]
fn a_reference_named_with_and_without_version_is_one_row_with_its_version() {
    assert_reference_rows(
        &[
            ("entity", "Patient", "x", None),
            ("entity", "Patient", "x", Some("1")),
            ("entity", "Patient", "y", None),
            ("entity", "Patient", "y", None),
            ("entity", "DocumentReference", "d", Some("2")),
            ("patient", "Patient", "x", None),
        ],
        &[
            ("entity", "DocumentReference", "d", "2"),
            ("entity", "Patient", "x", "1"),
            ("entity", "Patient", "y", ""),
            ("patient", "Patient", "x", ""),
        ],
    );
}

#[test]
fn every_version_named_keeps_its_row() {
    assert_reference_rows(
        &[
            ("entity", "Patient", "z", Some("1")),
            ("entity", "Patient", "z", None),
            ("entity", "Patient", "z", Some("2")),
            ("entity", "Observation", "z", None),
        ],
        &[
            ("entity", "Observation", "z", ""),
            ("entity", "Patient", "z", "1"),
            ("entity", "Patient", "z", "2"),
        ],
    );
}
