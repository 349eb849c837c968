//! Tests of extraction over the official R4 examples (`hl7.fhir.r4.examples@4.0.1`), when
//! the package is unpacked in `target/r4-examples/package`; skipped otherwise.

use std::path::Path;

use serde_json::Value;

use super::tests::{DAY, date, of, reference, registry, string, token};
use super::{IndexEntry, extract, extract_with_issues};

/// The unpacked official package, if present.
fn package() -> Option<&'static Path> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/r4-examples/package"
    ));
    dir.is_dir().then_some(dir)
}

fn example(name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(package()?.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

#[test]
fn the_patient_examples_yield_the_expected_values() {
    let (Some(patient), Some(glossy)) = (
        example("Patient-example.json"),
        example("Patient-glossy.json"),
    ) else {
        eprintln!("the R4 examples package is not unpacked: skipped");
        return;
    };
    let r = registry();
    let family = of(&r, &patient, "family");
    assert_eq!(
        family,
        [
            string("family", "chalmers", "Chalmers"),
            string("family", "windsor", "Windsor")
        ]
    );
    let given: Vec<_> = of(&r, &patient, "given")
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    assert_eq!(given.len(), 3, "Peter, James, Jim: {given:?}");
    assert_eq!(of(&r, &patient, "name").len(), 5);
    assert_eq!(
        of(&r, &patient, "birthdate"),
        [date("birthdate", 1_819 * DAY, 1_820 * DAY - 1)]
    );
    assert_eq!(
        of(&r, &patient, "gender"),
        [token("gender", None, "male", None)]
    );
    assert_eq!(
        of(&r, &patient, "deceased"),
        [token("deceased", None, "false", None)]
    );
    assert_eq!(
        of(&r, &patient, "identifier"),
        [IndexEntry::Token {
            param: "identifier".into(),
            system: Some("urn:oid:1.2.36.146.595.217.0.1".into()),
            code: "12345".into(),
            text: None,
            of_type: Some((
                Some("http://terminology.hl7.org/CodeSystem/v2-0203".into()),
                "MR".into()
            )),
        }]
    );
    assert!(of(&r, &patient, "general-practitioner").is_empty());
    assert_eq!(
        of(&r, &patient, "organization"),
        [reference(
            "organization",
            Some("Organization"),
            Some("1"),
            None
        )]
    );
    assert_eq!(of(&r, &patient, "phone").len(), 3);
    assert_eq!(
        of(&r, &glossy, "general-practitioner"),
        [reference(
            "general-practitioner",
            Some("Practitioner"),
            Some("example"),
            None
        )]
    );
    assert_eq!(
        of(&r, &glossy, "birthdate"),
        [date("birthdate", -1_176_163_200_000, -1_176_076_800_001)]
    );
}

/// Conformance resources are definitions, not examples of data.
const CONFORMANCE: [&str; 14] = [
    "CapabilityStatement",
    "CodeSystem",
    "CompartmentDefinition",
    "ConceptMap",
    "GraphDefinition",
    "ImplementationGuide",
    "MessageDefinition",
    "NamingSystem",
    "OperationDefinition",
    "SearchParameter",
    "StructureDefinition",
    "StructureMap",
    "TerminologyCapabilities",
    "ValueSet",
];

#[test]
fn every_example_of_the_package_is_extracted_without_error() {
    let Some(dir) = package() else {
        eprintln!("the R4 examples package is not unpacked: skipped");
        return;
    };
    let r = registry();
    let mut files = 0;
    let mut entries = 0;
    let mut problems = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    paths.sort();
    for path in paths {
        let Some(resource) = path
            .extension()
            .filter(|e| *e == "json")
            .and_then(|_| std::fs::read_to_string(&path).ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        else {
            continue;
        };
        let Some(ty) = resource.get("resourceType").and_then(Value::as_str) else {
            continue;
        };
        if CONFORMANCE.contains(&ty) || !r.model().schema().is_resource_type(ty) {
            continue;
        }
        files += 1;
        let (found, issues) = extract_with_issues(&r, ty, &resource);
        entries += found.len();
        assert_eq!(extract(&r, ty, &resource), found);
        problems.extend(
            issues
                .into_iter()
                .map(|i| format!("{}: {i:?}", path.display())),
        );
    }
    assert!(files > 700, "{files} examples");
    assert!(entries > 5_000, "{entries} entries");
    assert!(problems.is_empty(), "{problems:#?}");
}
