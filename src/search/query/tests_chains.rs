//! Tests of chains (with and without type, several levels, ambiguous), reverse chains
//! (`_has`, nested), composites and system-level search with `_type`.

use super::tests::{lenient, message, param, parse, registry, tv};
use super::*;
use crate::search::query_string::parse_pairs;

#[test]
fn chains_with_and_without_type_on_several_levels() {
    let r = registry();
    let q = parse(&r, "Observation", "subject:Patient.name=peter").expect("chain");
    let Criterion::Chain {
        param,
        target_type,
        criterion,
    } = &q.criteria[0]
    else {
        panic!("not a chain");
    };
    assert_eq!(
        (param.as_str(), target_type.as_str()),
        ("subject", "Patient")
    );
    assert!(matches!(&**criterion, Criterion::Param(p) if p.code == "name"));
    // Only Patient among the targets of `subject` has `birthdate`.
    let q = parse(&r, "Observation", "subject.birthdate=ge2000").expect("implicit type");
    assert!(
        matches!(&q.criteria[0], Criterion::Chain { target_type, .. } if target_type == "Patient")
    );
    let q = parse(
        &r,
        "Observation",
        "subject:Patient.organization.name:exact=Acme",
    )
    .expect("two levels");
    let Criterion::Chain { criterion, .. } = &q.criteria[0] else {
        panic!("not a chain");
    };
    let Criterion::Chain {
        param,
        target_type,
        criterion,
    } = &**criterion
    else {
        panic!("not a second chain");
    };
    assert_eq!(
        (param.as_str(), target_type.as_str()),
        ("organization", "Organization")
    );
    assert!(matches!(
        &**criterion,
        Criterion::Param(ParamCriterion {
            matcher: Match::String {
                mode: StringMode::Exact,
                ..
            },
            ..
        })
    ));
    assert_eq!(
        q.canonical_query_string(),
        "subject:Patient.organization:Organization.name:exact=Acme"
    );
}

#[test]
fn ambiguous_and_unknown_chains_are_refused() {
    let r = registry();
    let e = parse(&r, "Observation", "subject.name=peter").expect_err("ambiguous");
    assert!(matches!(&e, QueryError::AmbiguousChain { candidates, .. }
        if candidates.contains(&"Patient".to_owned()) && candidates.contains(&"Location".to_owned())));
    assert!(
        e.to_string()
            .starts_with("chained search parameter `subject.name` is ambiguous")
    );
    // Still refused under lenient handling: it is not an unknown parameter.
    let pairs = parse_pairs("subject.name=peter");
    assert!(parse_search(&r, Some("Observation"), &pairs, Handling::Lenient).is_err());
    assert_eq!(
        message(&r, "Observation", "subject.nope=1"),
        "unknown search parameter `nope` for the targets of `subject` in `subject.nope`"
    );
    assert_eq!(
        message(&r, "Observation", "code.name=1"),
        "search parameter `code.name` is malformed: `code` is not a reference and cannot be chained"
    );
    let q = lenient(&r, "Observation", "subject:Patient.nope=1&code=x");
    assert_eq!(q.criteria.len(), 1);
    assert_eq!(q.ignored[0].name, "subject:Patient.nope");
}

#[test]
fn reverse_chains_nest() {
    let r = registry();
    let q = parse(&r, "Patient", "_has:Observation:patient:code=1234-5").expect("_has");
    let Criterion::Has {
        source_type,
        param,
        criterion,
    } = &q.criteria[0]
    else {
        panic!("not _has");
    };
    assert_eq!(
        (source_type.as_str(), param.as_str()),
        ("Observation", "patient")
    );
    assert!(matches!(&**criterion, Criterion::Param(p) if p.code == "code"));
    let q = parse(
        &r,
        "Patient",
        "_has:Observation:patient:_has:AuditEvent:entity:agent=MyUserId",
    )
    .expect("nested");
    let Criterion::Has { criterion, .. } = &q.criteria[0] else {
        panic!("not _has");
    };
    assert!(
        matches!(&**criterion, Criterion::Has { source_type, param, .. }
        if source_type == "AuditEvent" && param == "entity")
    );
    assert_eq!(
        q.canonical_query_string(),
        "_has:Observation:patient:_has:AuditEvent:entity:agent=MyUserId"
    );
    let q = parse(
        &r,
        "Patient",
        "_has:Observation:subject:subject:Patient.name=x",
    )
    .expect("chain");
    assert!(matches!(&q.criteria[0], Criterion::Has { criterion, .. }
        if matches!(&**criterion, Criterion::Chain { .. })));
    assert!(message(&r, "Patient", "_has:Observation:patient").contains("malformed"));
    assert!(message(&r, "Patient", "_has:Nothing:patient:code=1").contains("`Nothing`"));
    assert!(
        message(&r, "Practitioner", "_has:Observation:patient:code=1")
            .contains("does not reference `Practitioner`")
    );
    assert!(message(&r, "Patient", "_has:Observation:code:code=1").contains("not a reference"));
    assert_eq!(
        message(&r, "Patient", "_has:Observation:patient:nope=1"),
        "unknown search parameter `nope` for `Observation` in `_has:Observation:patient:nope`"
    );
}

#[test]
fn composites_split_into_typed_components() {
    let r = registry();
    let p = param(
        &r,
        "Observation",
        "code-value-quantity=http://loinc.org%7C8480-6$gt150%7Chttp://unitsofmeasure.org%7Cmm[Hg],x$5",
    );
    let Match::Composite(values) = &p.matcher else {
        panic!("not a composite");
    };
    assert_eq!(values.len(), 2);
    let first = &values[0].components;
    assert_eq!(first[0].code, "code");
    assert_eq!(
        first[0].value,
        TypedValue::Token(tv(Some("http://loinc.org"), Some("8480-6")))
    );
    assert_eq!(first[1].code, "value-quantity");
    assert!(matches!(&first[1].value, TypedValue::Quantity(q)
        if q.number.prefix == Prefix::Gt && q.code.as_deref() == Some("mm[Hg]")));
    let e = message(&r, "Observation", "code-value-quantity=x");
    assert!(
        e.contains("`code-value-quantity`") && e.contains("2 components"),
        "{e}"
    );
    let e = message(&r, "Observation", "code-value-quantity=$gt100");
    assert!(
        e.contains("`code-value-quantity`") && e.contains("`code` component is empty"),
        "{e}"
    );
    let e = message(&r, "Observation", "code-value-date=x$notadate");
    assert!(e.contains("`x$notadate`"), "{e}");
    assert_eq!(
        parse(&r, "Observation", "code-value-string=a\\$b$c").map(|q| q.canonical_query_string()),
        Ok("code-value-string=a\\$b$c".replace('\\', "%5C"))
    );
}

#[test]
fn system_level_search_uses_common_parameters_or_those_of_type() {
    let r = registry();
    let q = parse_search(
        &r,
        None,
        &parse_pairs("_type=Patient,Observation,Patient&_lastUpdated=gt2020&_tag=x"),
        Handling::Strict,
    )
    .expect("system");
    assert_eq!(q.types, ["Observation", "Patient"]);
    assert_eq!(q.criteria.len(), 2);
    assert_eq!(
        q.canonical_query_string(),
        "_type=Observation,Patient&_lastUpdated=gt2020&_tag=x"
    );
    // `patient` is not a parameter of Patient: refused for `_type=Patient,Observation`.
    let e = parse_search(
        &r,
        None,
        &parse_pairs("_type=Observation,Patient&patient=1"),
        Handling::Strict,
    )
    .expect_err("not common");
    assert_eq!(
        e.to_string(),
        "unknown search parameter `patient` for `Observation`, `Patient`"
    );
    let q = parse_search(
        &r,
        None,
        &parse_pairs("_type=Observation,Condition&code=x"),
        Handling::Strict,
    )
    .expect("shared code");
    assert_eq!(q.criteria.len(), 1);
    let e = parse_search(&r, None, &parse_pairs("name=x"), Handling::Strict).expect_err("no type");
    assert_eq!(
        e.to_string(),
        "unknown search parameter `name` for every resource type"
    );
    let e = parse_search(&r, None, &parse_pairs("_type=Nope"), Handling::Strict).expect_err("type");
    assert!(e.to_string().contains("`Nope` is not a resource type"));
    assert!(matches!(
        parse(&r, "Patient", "_type=Patient"),
        Err(QueryError::UnknownParameter { .. })
    ));
    assert_eq!(
        parse_search(&r, Some("Nope"), &[], Handling::Strict),
        Err(QueryError::UnknownType {
            resource_type: "Nope".into()
        })
    );
}

#[test]
fn the_types_whose_index_a_query_may_read() {
    let r = registry();
    let reads = |ty: Option<&str>, query: &str| -> SearchQuery {
        parse_search(&r, ty, &parse_pairs(query), Handling::Strict).expect(query)
    };
    let audit = |q: &SearchQuery| q.may_read_index_of("AuditEvent");
    // The type searched, and nothing else.
    assert!(!audit(&reads(
        Some("Patient"),
        "name=peter&_sort=birthdate"
    )));
    assert!(audit(&reads(Some("AuditEvent"), "patient=Patient/1")));
    // Every type without `_type`; the types named with it.
    assert!(audit(&reads(None, "_id=1")));
    assert!(!audit(&reads(None, "_type=Patient,Observation&_id=1")));
    assert!(audit(&reads(None, "_type=Patient,AuditEvent&_id=1")));
    // Chains through it, at any level; reverse chains from it, nested too.
    assert!(audit(&reads(
        Some("Provenance"),
        "target:AuditEvent.outcome=0"
    )));
    assert!(audit(&reads(
        Some("Patient"),
        "_has:Observation:subject:_has:AuditEvent:entity:outcome=0"
    )));
    assert!(!audit(&reads(
        Some("Patient"),
        "_has:Observation:subject:code=1"
    )));
    // Includes from it or from any type; `_list` reads Lists.
    assert!(audit(&reads(
        Some("Patient"),
        "_revinclude=AuditEvent:patient"
    )));
    assert!(audit(&reads(Some("Patient"), "_revinclude=*")));
    assert!(!audit(&reads(
        Some("Patient"),
        "_revinclude=Observation:subject"
    )));
    let listed = reads(Some("Patient"), "_list=l1");
    assert!(!audit(&listed) && listed.may_read_index_of("List"));
}

#[test]
fn the_compartments_an_audit_event_search_is_bound_to() {
    let r = registry();
    let params = r.patient_compartment_params("AuditEvent").to_vec();
    assert_eq!(params, vec!["patient".to_owned()]);
    let bound = |ty: Option<&str>, query: &str| -> Option<Vec<String>> {
        parse_search(&r, ty, &parse_pairs(query), Handling::Strict)
            .expect(query)
            .compartments_bounding("AuditEvent", &params)
    };
    let ids = |ids: &[&str]| Some(ids.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>());
    // A patient's trail, by id, by typed reference, several patients (OR), any version.
    assert_eq!(bound(Some("AuditEvent"), "patient=p1"), ids(&["p1"]));
    assert_eq!(
        bound(
            Some("AuditEvent"),
            "subtype=read&patient=Patient/p1,p2&_sort=-date"
        ),
        ids(&["p1", "p2"])
    );
    assert_eq!(
        bound(Some("AuditEvent"), "patient=Patient/p1/_history/2"),
        ids(&["p1"])
    );
    // Not bound: no patient named, a reference that is no local Patient, `:missing`,
    // another parameter naming the patient, a system search, rows of other AuditEvents
    // read through includes or reverse chains.
    assert_eq!(bound(Some("AuditEvent"), "subtype=read"), None);
    assert_eq!(
        bound(
            Some("AuditEvent"),
            "patient=http://other.org/fhir/Patient/p1"
        ),
        None
    );
    assert_eq!(bound(Some("AuditEvent"), "patient:missing=false"), None);
    assert_eq!(bound(Some("AuditEvent"), "entity=Patient/p1"), None);
    assert_eq!(bound(None, "_type=AuditEvent&_id=1"), None);
    assert_eq!(
        bound(
            Some("AuditEvent"),
            "patient=p1&_revinclude=AuditEvent:entity"
        ),
        None
    );
    assert_eq!(bound(Some("AuditEvent"), "patient=p1&_include=*"), None);
    assert_eq!(
        bound(
            Some("AuditEvent"),
            "patient=p1&_has:AuditEvent:entity:outcome=0"
        ),
        None
    );
    // Includes of other types' rows do not unbind it.
    assert_eq!(
        bound(
            Some("AuditEvent"),
            "patient=p1&_revinclude=Provenance:target"
        ),
        ids(&["p1"])
    );
}
