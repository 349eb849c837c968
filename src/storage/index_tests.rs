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
    let mut rows: Vec<[String; 4]> = rows_of("AuditEvent", &entries, |all| {
        all.search_reference
            .iter()
            .map(|r| [r.param, r.target_type, r.target_id, r.version].map(str::to_owned))
            .collect()
    });
    rows.sort();
    let expected: Vec<[String; 4]> = expected
        .iter()
        .map(|(p, t, i, v)| [p, t, i, v].map(|s| (*s).to_owned()))
        .collect();
    assert_eq!(rows, expected);
}

/// `read` of the rows of `entries`, as those of a resource of `res_type` with no
/// compartment, labels or facts.
fn rows_of<T>(
    res_type: &str,
    entries: &[IndexEntry],
    read: impl FnOnce(&super::AllRows<'_>) -> T,
) -> T {
    let index = IndexRows {
        entries,
        patients: &[],
        labels: &[],
        version_time: 0,
        facts: &[],
    };
    read(&all_rows(res_type, "r1", &index, &[]))
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

/// A token entry of `param`.
fn token(param: &str, system: &str, code: &str, text: Option<&str>) -> IndexEntry {
    IndexEntry::Token {
        param: param.to_owned(),
        system: (!system.is_empty()).then(|| system.to_owned()),
        code: code.to_owned(),
        text: text.map(str::to_owned),
        of_type: None,
    }
}

#[test]
fn the_same_words_of_a_code_are_one_text_row_per_parameter() {
    // A CodeableConcept whose text is its coding's display: two values, one row each.
    let entries = [
        token("code", "http://loinc.org", "8867-4", Some("heart rate")),
        token("code", "", "", Some("Heart rate")),
        token(
            "combo-code",
            "http://loinc.org",
            "8867-4",
            Some("heart rate"),
        ),
        token("code", "http://loinc.org", "8480-6", Some("systolic")),
    ];
    let mut rows: Vec<(String, String)> = rows_of("Observation", &entries, |all| {
        all.search_token_text
            .iter()
            .map(|r| (r.param.to_owned(), r.normalized.clone()))
            .collect()
    });
    rows.sort();
    let expected = [
        ("code", "heart rate"),
        ("code", "systolic"),
        ("combo-code", "heart rate"),
    ];
    assert_eq!(rows, expected.map(|(p, n)| (p.to_owned(), n.to_owned())));
}

#[test]
fn a_composite_value_whose_token_has_no_code_has_no_rows() {
    let quantity = || IndexEntry::Quantity {
        param: "value-quantity".to_owned(),
        value: "72".to_owned(),
        low: 71.5,
        high: 72.5,
        system: Some("http://unitsofmeasure.org".to_owned()),
        code: Some("/min".to_owned()),
        unit: Some("/min".to_owned()),
    };
    let composite = |code: &str| IndexEntry::Composite {
        param: "code-value-quantity".to_owned(),
        components: vec![
            token("code", "http://loinc.org", code, Some("heart rate")),
            quantity(),
        ],
    };
    // The coding's value and the text's (no code): only the first is a composite value.
    let entries = [composite("8867-4"), composite("")];
    let rows: Vec<(i32, i32, String)> = rows_of("Observation", &entries, |all| {
        all.search_composite
            .iter()
            .map(|r| (r.grp, r.pos, r.code.to_owned()))
            .collect()
    });
    assert_eq!(
        rows,
        [(1, 0, "8867-4".to_owned()), (1, 1, "/min".to_owned())]
    );
}
