//! Tests of the criteria: every parameter type with its modifiers, `_id`, `_lastUpdated`,
//! `_list`, strict/lenient handling and the error messages.

use super::*;
use crate::search::query_string::parse_pairs;
use crate::search::registry::{SearchParamType, SearchRegistry};

pub(super) fn registry() -> SearchRegistry {
    SearchRegistry::r4().expect("registry")
}

pub(super) fn parse(
    registry: &SearchRegistry,
    ty: &str,
    query: &str,
) -> Result<SearchQuery, QueryError> {
    parse_search(registry, Some(ty), &parse_pairs(query), Handling::Strict)
}

pub(super) fn lenient(registry: &SearchRegistry, ty: &str, query: &str) -> SearchQuery {
    parse_search(registry, Some(ty), &parse_pairs(query), Handling::Lenient).expect("lenient")
}

/// The only criterion of a query, as a parameter.
pub(super) fn param(registry: &SearchRegistry, ty: &str, query: &str) -> ParamCriterion {
    let q = parse(registry, ty, query).expect("query");
    assert_eq!(q.criteria.len(), 1, "{query}");
    match q.criteria.into_iter().next() {
        Some(Criterion::Param(p)) => p,
        other => panic!("not a parameter: {other:?}"),
    }
}

pub(super) fn message(registry: &SearchRegistry, ty: &str, query: &str) -> String {
    parse(registry, ty, query).expect_err(query).to_string()
}

fn sv(text: &str, normalized: &str) -> StringValue {
    StringValue {
        text: text.into(),
        normalized: normalized.into(),
    }
}

pub(super) fn tv(system: Option<&str>, code: Option<&str>) -> TokenValue {
    TokenValue {
        system: system.map(Into::into),
        code: code.map(Into::into),
    }
}

#[test]
fn string_modes_and_or_values_with_escaped_commas() {
    let r = registry();
    let p = param(&r, "Patient", "name=H%C3%A9l%C3%A8ne,Smith\\,%20J");
    assert_eq!(p.code, "name");
    assert_eq!(p.param_type, SearchParamType::String);
    assert_eq!(p.column, Column::Index);
    assert_eq!(
        p.matcher,
        Match::String {
            mode: StringMode::StartsWith,
            values: vec![sv("Hélène", "helene"), sv("Smith, J", "smith, j")]
        }
    );
    let exact = param(&r, "Patient", "family:exact=Dupont");
    assert!(matches!(
        exact.matcher,
        Match::String {
            mode: StringMode::Exact,
            ..
        }
    ));
    let contains = param(&r, "Patient", "name:contains=upo");
    assert!(matches!(
        contains.matcher,
        Match::String {
            mode: StringMode::Contains,
            ..
        }
    ));
    assert!(message(&r, "Patient", "name:below=x").contains("`name:below`"));
}

#[test]
fn token_forms_and_modifiers() {
    let r = registry();
    let p = param(
        &r,
        "Patient",
        "identifier=urn:oid:1%7C42,43,%7C44,urn:oid:2%7C",
    );
    assert_eq!(
        p.matcher,
        Match::Token {
            not: false,
            values: vec![
                tv(Some("urn:oid:1"), Some("42")),
                tv(None, Some("43")),
                tv(Some(""), Some("44")),
                tv(Some("urn:oid:2"), None),
            ]
        }
    );
    let not = param(&r, "Patient", "gender:not=male");
    assert_eq!(
        not.matcher,
        Match::Token {
            not: true,
            values: vec![tv(None, Some("male"))]
        }
    );
    let text = param(&r, "Observation", "code:text=Gluc%C3%B4se");
    assert_eq!(
        text.matcher,
        Match::TokenText(vec![sv("Glucôse", "glucose")])
    );
    let of_type = param(
        &r,
        "Patient",
        "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203%7CMR%7C446053",
    );
    assert_eq!(
        of_type.matcher,
        Match::OfType(vec![OfTypeValue {
            type_system: "http://terminology.hl7.org/CodeSystem/v2-0203".into(),
            type_code: "MR".into(),
            value: "446053".into()
        }])
    );
    let escaped = param(&r, "Patient", "identifier=a\\%7Cb%7Cc");
    assert_eq!(
        escaped.matcher,
        Match::Token {
            not: false,
            values: vec![tv(Some("a|b"), Some("c"))]
        }
    );
    assert!(message(&r, "Patient", "identifier=%7C").contains("`identifier`"));
    assert!(message(&r, "Patient", "identifier=a%7Cb%7Cc").contains("`a|b|c`"));
    assert!(message(&r, "Patient", "identifier:of-type=a%7Cb").contains("`identifier:of-type`"));
}

#[test]
fn missing_applies_to_every_type() {
    let r = registry();
    for (ty, query) in [
        ("Patient", "name:missing=true"),
        ("Patient", "gender:missing=true"),
        ("Patient", "organization:missing=true"),
        ("Patient", "birthdate:missing=true"),
        ("RiskAssessment", "probability:missing=true"),
        ("Observation", "value-quantity:missing=true"),
        ("Observation", "code-value-quantity:missing=true"),
        ("ValueSet", "url:missing=true"),
    ] {
        assert_eq!(
            param(&r, ty, query).matcher,
            Match::Missing(true),
            "{query}"
        );
    }
    assert_eq!(
        param(&r, "Patient", "name:missing=false").matcher,
        Match::Missing(false)
    );
    let e = message(&r, "Patient", "name:missing=yes");
    assert_eq!(
        e,
        "search parameter `name:missing` has an invalid value `yes`: expected `true` or `false`"
    );
}

#[test]
fn references_in_all_forms() {
    let r = registry();
    let p = param(
        &r,
        "Observation",
        "subject=Patient/1,2,Patient/3/_history/4,http://other.org/fhir/Patient/5",
    );
    assert_eq!(
        p.matcher,
        Match::Reference(vec![
            ReferenceValue::Local {
                target_type: Some("Patient".into()),
                id: "1".into(),
                version: None
            },
            ReferenceValue::Local {
                target_type: None,
                id: "2".into(),
                version: None
            },
            ReferenceValue::Local {
                target_type: Some("Patient".into()),
                id: "3".into(),
                version: Some("4".into())
            },
            ReferenceValue::Url {
                url: "http://other.org/fhir/Patient/5".into(),
                version: None
            },
        ])
    );
    let typed = param(&r, "Observation", "subject:Patient=7");
    assert_eq!(
        typed.matcher,
        Match::Reference(vec![ReferenceValue::Local {
            target_type: Some("Patient".into()),
            id: "7".into(),
            version: None
        }])
    );
    let canonical = param(&r, "Questionnaire", "definition=http://x.org/Q%7C2.0");
    assert_eq!(canonical.param_type, SearchParamType::Uri);
    let identifier = param(&r, "Observation", "subject:identifier=urn:oid:1%7C42");
    assert_eq!(
        identifier.matcher,
        Match::ReferenceIdentifier(vec![tv(Some("urn:oid:1"), Some("42"))])
    );
    assert!(message(&r, "Observation", "subject=Nothing/1").contains("`Nothing`"));
    assert!(message(&r, "Observation", "subject=Patient/a%20b").contains("not a valid id"));
    assert!(message(&r, "Observation", "subject:Patient=Group/1").contains("`subject:Patient`"));
    assert_eq!(
        parse(&r, "Observation", "subject:Medication=1"),
        Err(QueryError::UnknownModifier {
            name: "subject:Medication".into(),
            modifier: "Medication".into()
        })
    );
}

#[test]
fn canonical_references_keep_their_version() {
    let r = registry();
    let p = param(
        &r,
        "QuestionnaireResponse",
        "questionnaire=http://x.org/Q%7C2.0",
    );
    assert_eq!(
        p.matcher,
        Match::Reference(vec![ReferenceValue::Url {
            url: "http://x.org/Q".into(),
            version: Some("2.0".into())
        }])
    );
}

#[test]
fn dates_numbers_and_quantities_are_ranges() {
    let r = registry();
    let p = param(&r, "Patient", "birthdate=ge2013-01-14,1974");
    let Match::Date(dates) = &p.matcher else {
        panic!("not dates");
    };
    assert_eq!(dates[0].prefix, Prefix::Ge);
    assert_eq!(dates[0].text, "2013-01-14");
    assert_eq!(
        (dates[0].low, dates[0].high),
        crate::search::extract::date_range("2013-01-14").expect("date")
    );
    assert_eq!(dates[1].prefix, Prefix::Eq);
    let p = param(&r, "RiskAssessment", "probability=gt0.8");
    assert_eq!(
        p.matcher,
        Match::Number(vec![NumberValue {
            prefix: Prefix::Gt,
            text: "0.8".into(),
            low: 0.75,
            high: 0.85
        }])
    );
    let p = param(
        &r,
        "Observation",
        "value-quantity=le5.4%7Chttp://unitsofmeasure.org%7Cmg,5.4%7C%7Cmg,100",
    );
    let Match::Quantity(q) = &p.matcher else {
        panic!("not quantities");
    };
    assert_eq!(q[0].number.prefix, Prefix::Le);
    assert_eq!(q[0].system.as_deref(), Some("http://unitsofmeasure.org"));
    assert_eq!(q[0].code.as_deref(), Some("mg"));
    assert_eq!(
        (q[1].system.as_deref(), q[1].code.as_deref()),
        (None, Some("mg"))
    );
    assert_eq!((q[2].number.low, q[2].number.high), (99.5, 100.5));
    assert_eq!((q[2].system.as_deref(), q[2].code.as_deref()), (None, None));
    for m in ["birthdate:exact=2000", "probability:contains=1"] {
        let ty = if m.starts_with("birth") {
            "Patient"
        } else {
            "RiskAssessment"
        };
        assert!(
            matches!(parse(&r, ty, m), Err(QueryError::UnknownModifier { .. })),
            "{m}"
        );
    }
}

#[test]
fn bad_values_name_the_parameter_and_the_value() {
    let r = registry();
    for (ty, query, expected) in [
        (
            "Patient",
            "birthdate=xx2013",
            "search parameter `birthdate` has an invalid value `xx2013`: `xx` is not a prefix (eq, ne, gt, lt, ge, le, sa, eb, ap)",
        ),
        (
            "Patient",
            "birthdate=2013-13-01",
            "search parameter `birthdate` has an invalid value `2013-13-01`: expected a date `YYYY[-MM[-DD[Thh:mm[:ss[.fff]][Z|+hh:mm]]]]`",
        ),
        (
            "RiskAssessment",
            "probability=gtabc",
            "search parameter `probability` has an invalid value `gtabc`: expected a decimal number",
        ),
        (
            "Patient",
            "name=",
            "search parameter `name` has an invalid value ``: the value is empty",
        ),
        (
            "Patient",
            "name=a,,b",
            "search parameter `name` has an invalid value `a,,b`: one of its comma-separated values is empty",
        ),
        (
            "Observation",
            "value-quantity=5%7Cmg",
            "search parameter `value-quantity` has an invalid value `5|mg`: a quantity is `number`, `number|system|code` or `number||code`",
        ),
    ] {
        let e = parse(&r, ty, query).expect_err(query);
        assert_eq!(e.to_string(), expected);
        assert_eq!(
            crate::error::Categorized::category(&e),
            crate::error::ErrorCategory::Invalid
        );
        // Bad values are refused under lenient handling too.
        let pairs = parse_pairs(query);
        assert!(
            parse_search(&r, Some(ty), &pairs, Handling::Lenient).is_err(),
            "{query}"
        );
    }
}

#[test]
fn uris_above_and_below() {
    let r = registry();
    let p = param(&r, "ValueSet", "url:below=http://acme.org/fhir/");
    assert_eq!(
        p.matcher,
        Match::Uri {
            mode: UriMode::Below,
            values: vec!["http://acme.org/fhir/".into()]
        }
    );
    assert!(matches!(
        param(&r, "ValueSet", "url:above=http://acme.org/fhir/ValueSet/x").matcher,
        Match::Uri {
            mode: UriMode::Above,
            ..
        }
    ));
    assert!(matches!(
        param(&r, "ValueSet", "url=http://acme.org").matcher,
        Match::Uri {
            mode: UriMode::Equals,
            ..
        }
    ));
    assert!(matches!(
        parse(&r, "ValueSet", "url:contains=x"),
        Err(QueryError::UnknownModifier { .. })
    ));
}

#[test]
fn id_last_updated_and_meta_parameters() {
    let r = registry();
    let id = param(&r, "Patient", "_id=a,b");
    assert_eq!(id.column, Column::Id);
    assert_eq!(
        id.matcher,
        Match::Token {
            not: false,
            values: vec![tv(None, Some("a")), tv(None, Some("b"))]
        }
    );
    let updated = param(&r, "Patient", "_lastUpdated=gt2024-01-01T10:00:00Z");
    assert_eq!(updated.column, Column::LastUpdated);
    assert!(matches!(&updated.matcher, Match::Date(d) if d[0].prefix == Prefix::Gt));
    for (query, ty) in [
        ("_tag=http://x%7Cy", SearchParamType::Token),
        (
            "_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality%7CR",
            SearchParamType::Token,
        ),
        (
            "_profile=http://x.org/StructureDefinition/p",
            SearchParamType::Uri,
        ),
        ("_source=http://x.org/src", SearchParamType::Uri),
    ] {
        let p = param(&r, "DocumentReference", query);
        assert_eq!((p.param_type, p.column), (ty, Column::Index), "{query}");
    }
    let q = parse(&r, "Patient", "_list=42,43").expect("_list");
    assert_eq!(
        q.criteria,
        vec![Criterion::List(vec!["42".into(), "43".into()])]
    );
    assert!(matches!(
        parse(&r, "Patient", "_list=$current-allergies"),
        Err(QueryError::UnsupportedParameter { .. })
    ));
}

#[test]
fn filter_and_query_are_unsupported() {
    let r = registry();
    for query in ["_filter=name eq x", "_query=x"] {
        let e = parse(&r, "Condition", query).expect_err(query);
        assert!(
            matches!(e, QueryError::UnsupportedParameter { .. }),
            "{query}"
        );
        assert!(e.to_string().ends_with("is not supported"));
        let q = lenient(&r, "Condition", query);
        assert!(q.criteria.is_empty() && q.ignored.len() == 1);
    }
}

#[test]
fn strict_refuses_and_lenient_drops_unknown_parameters_and_modifiers() {
    let r = registry();
    assert_eq!(
        message(&r, "Patient", "nope=1"),
        "unknown search parameter `nope` for `Patient`"
    );
    assert_eq!(
        message(&r, "Patient", "name:fuzzy=x"),
        "search parameter `name:fuzzy` has an unknown modifier `fuzzy`"
    );
    let q = lenient(
        &r,
        "Patient",
        "nope=1&name:fuzzy=x&name=ok&_format=json&_pretty=true",
    );
    assert_eq!(q.criteria.len(), 1);
    let names: Vec<&str> = q.ignored.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["nope", "name:fuzzy"]);
    assert_eq!(q.ignored[0].value, "1");
    assert_eq!(q.canonical_query_string(), "name=ok");
    // Format parameters are ignored silently, even under strict handling.
    let q = parse(&r, "Patient", "_format=json&_pretty=true").expect("format");
    assert!(q.criteria.is_empty() && q.ignored.is_empty());
}

#[test]
fn repeated_parameters_are_anded() {
    let r = registry();
    let q = parse(&r, "Patient", "birthdate=ge2000&birthdate=lt2010&name=a,b").expect("and");
    assert_eq!(q.criteria.len(), 3);
    assert_eq!(
        q.canonical_query_string(),
        "birthdate=ge2000&birthdate=lt2010&name=a,b"
    );
}
