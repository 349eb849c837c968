//! Tests of the registry loaded from the embedded R4 definitions.

use super::*;

#[test]
fn loads_every_r4_parameter() {
    let registry = SearchRegistry::r4().expect("the embedded registry loads");
    assert_eq!(registry.fhir_version(), "4.0.1");
    let definitions: Vec<_> = registry.definitions().collect();
    // 1375 SearchParameters, 1706 (parameter, base) pairs.
    assert_eq!(definitions.len(), 1706);
    let unsupported: Vec<_> = definitions
        .iter()
        .filter(|d| !d.is_supported())
        .map(|d| d.code())
        .collect();
    assert_eq!(unsupported, ["_query"]);
}

#[test]
fn finds_parameters_by_type_and_code() {
    let registry = SearchRegistry::r4().expect("registry");
    let patient = registry
        .param("Patient", "general-practitioner")
        .expect("param");
    assert_eq!(patient.param_type(), SearchParamType::Reference);
    assert_eq!(
        patient.expression_text(),
        Some("Patient.generalPractitioner")
    );
    assert_eq!(
        patient.targets(),
        ["Organization", "Practitioner", "PractitionerRole"]
    );
    assert!(patient.modifiers().iter().any(|m| m == "identifier"));

    let shared = registry
        .param("Observation", "patient")
        .expect("clinical-patient");
    assert_eq!(shared.id(), "clinical-patient");
    assert_eq!(
        shared.expression_text(),
        Some("Observation.subject.where(resolve() is Patient)")
    );
    assert_eq!(shared.base(), "Observation");

    let date = registry.param("Observation", "date").expect("date");
    assert_eq!(date.comparators().len(), 9);

    let composite = registry
        .param("Observation", "code-value-quantity")
        .expect("cvq");
    let codes: Vec<_> = composite.components().iter().map(|c| c.code()).collect();
    assert_eq!(codes, ["code", "value-quantity"]);
    assert_eq!(
        composite.components()[1].param_type(),
        SearchParamType::Quantity
    );

    assert!(registry.param("Patient", "nope").is_none());
    assert!(registry.param("Nope", "name").is_none());
    assert_eq!(registry.params_of("Nope").count(), 0);
}

#[test]
fn common_parameters_apply_to_every_type() {
    let registry = SearchRegistry::r4().expect("registry");
    for ty in registry.resource_types() {
        for code in [
            "_id",
            "_lastUpdated",
            "_tag",
            "_security",
            "_profile",
            "_source",
        ] {
            let def = registry.param(ty, code).expect(code);
            assert!(def.is_common() && def.is_supported(), "{ty} {code}");
        }
    }
    assert!(registry.param("Patient", "_text").is_some());
    assert!(registry.param("Bundle", "_text").is_none());
    let codes: Vec<_> = registry.params_of("Patient").map(|p| p.code()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted);
    assert!(codes.contains(&"_tag") && codes.contains(&"birthdate"));
}

#[test]
fn keeps_the_corrected_relationship_components() {
    let registry = SearchRegistry::r4().expect("registry");
    let def = registry
        .param("DocumentReference", "relationship")
        .expect("param");
    let parts: Vec<_> = def
        .components()
        .iter()
        .map(|c| (c.code(), c.expression().map(Expression::text)))
        .collect();
    assert_eq!(
        parts,
        [("relatesto", Some("target")), ("relation", Some("code"))]
    );
}

#[test]
fn the_unions_of_other_parameters_read_their_rows() {
    let registry = SearchRegistry::r4().expect("registry");
    let mut unions: Vec<(String, String, Vec<String>)> = registry
        .resource_types()
        .flat_map(|ty| {
            registry
                .params_of(ty)
                .filter(|d| !d.has_own_rows())
                .map(move |d| (ty.to_owned(), d.code().to_owned(), d.index_params()))
        })
        .collect();
    unions.sort();
    fn observation<'a>(code: &'a str, members: [&'a str; 2]) -> (&'a str, &'a str, Vec<&'a str>) {
        ("Observation", code, members.to_vec())
    }
    fn twin<'a>(ty: &'a str, code: &'a str, kept: &'a str) -> (&'a str, &'a str, Vec<&'a str>) {
        (ty, code, vec![kept])
    }
    let expected = [
        // Twins: the same expression as another parameter of the type, named after the
        // element (R4's `fhirversion` is `CapabilityStatement.version`).
        twin("CapabilityStatement", "fhirversion", "version"),
        twin("CodeSystem", "system", "url"),
        observation("combo-code", ["code", "component-code"]),
        observation(
            "combo-code-value-concept",
            ["code-value-concept", "component-code-value-concept"],
        ),
        observation(
            "combo-code-value-quantity",
            ["code-value-quantity", "component-code-value-quantity"],
        ),
        observation(
            "combo-data-absent-reason",
            ["component-data-absent-reason", "data-absent-reason"],
        ),
        observation(
            "combo-value-concept",
            ["component-value-concept", "value-concept"],
        ),
        observation(
            "combo-value-quantity",
            ["component-value-quantity", "value-quantity"],
        ),
        twin("Patient", "phonetic", "name"),
        twin("Person", "phonetic", "name"),
        twin("Practitioner", "phonetic", "name"),
        twin("RelatedPerson", "phonetic", "name"),
    ]
    .map(|(ty, code, members)| {
        let members = members.into_iter().map(str::to_owned).collect();
        (ty.to_owned(), code.to_owned(), members)
    });
    assert_eq!(unions, expected);
    // Everything else reads its own rows; so do the members and the twins that keep theirs.
    let code = registry.param("Observation", "code").expect("code");
    assert!(code.has_own_rows());
    assert_eq!(code.index_params(), ["code"]);
    let name = registry.param("Patient", "name").expect("name");
    assert!(name.has_own_rows());
    assert_eq!(name.index_params(), ["name"]);
}
