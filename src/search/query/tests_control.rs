//! Tests of the result parameters (`_count`, `_sort`, `_total`, `_summary`, `_elements`,
//! `_include`, `_revinclude`, `_contained`, `_page`) and of the canonical query string.

use super::tests::{lenient, parse, registry};
use super::*;
use crate::search::query_string::parse_pairs;
use crate::search::registry::SearchParamType;

#[test]
fn count_total_summary_and_page() {
    let r = registry();
    let q = parse(
        &r,
        "Patient",
        "_count=0&_total=accurate&_summary=count&_page=opaque%2Btoken",
    )
    .expect("result");
    assert_eq!(q.result.count, Some(0));
    assert_eq!(q.result.total, Some(TotalMode::Accurate));
    assert_eq!(q.result.summary, Some(SummaryMode::Count));
    assert_eq!(q.result.page.as_deref(), Some("opaque+token"));
    for (value, mode) in [
        ("true", SummaryMode::True),
        ("text", SummaryMode::Text),
        ("data", SummaryMode::Data),
        ("false", SummaryMode::False),
    ] {
        let q = parse(&r, "Patient", &format!("_summary={value}")).expect("summary");
        assert_eq!(q.result.summary, Some(mode));
    }
    for (value, mode) in [("none", TotalMode::None), ("estimate", TotalMode::Estimate)] {
        let q = parse(&r, "Patient", &format!("_total={value}")).expect("total");
        assert_eq!(q.result.total, Some(mode));
    }
    for (query, expected) in [
        (
            "_count=-1",
            "search parameter `_count` has an invalid value `-1`: expected a non-negative integer",
        ),
        (
            "_total=maybe",
            "search parameter `_total` has an invalid value `maybe`: expected `none`, `estimate` or `accurate`",
        ),
        (
            "_summary=yes",
            "search parameter `_summary` has an invalid value `yes`: expected `true`, `text`, `data`, `count` or `false`",
        ),
    ] {
        assert_eq!(
            parse(&r, "Patient", query)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(expected.into())
        );
    }
    assert_eq!(
        parse(&r, "Patient", "_count=1&_count=2"),
        Err(QueryError::Repeated {
            name: "_count".into()
        })
    );
    let q = lenient(&r, "Patient", "_count=1&_count=2");
    assert_eq!(q.result.count, Some(1));
    assert_eq!(q.ignored[0].name, "_count");
}

#[test]
fn sort_keys_in_order_with_direction() {
    let r = registry();
    let q = parse(
        &r,
        "Observation",
        "_sort=-date,code,_id,-_lastUpdated,value-quantity",
    )
    .expect("sort");
    let keys: Vec<(&str, bool, Column)> = q
        .result
        .sort
        .iter()
        .map(|k| (k.code.as_str(), k.descending, k.column))
        .collect();
    assert_eq!(
        keys,
        [
            ("date", true, Column::Index),
            ("code", false, Column::Index),
            ("_id", false, Column::Id),
            ("_lastUpdated", true, Column::LastUpdated),
            ("value-quantity", false, Column::Index),
        ]
    );
    assert_eq!(q.result.sort[0].param_type, SearchParamType::Date);
    assert_eq!(
        parse(&r, "Observation", "_sort=nope").map_err(|e| e.to_string()),
        Err("unknown search parameter `nope` for `Observation` in `_sort`".into())
    );
    let q = lenient(&r, "Observation", "_sort=nope,-date");
    assert_eq!(q.result.sort.len(), 1);
    assert_eq!(q.ignored.len(), 1);
    assert_eq!(q.canonical_query_string(), "_sort=-date");
    assert!(matches!(
        parse(&r, "Observation", "_sort=code-value-quantity"),
        Err(QueryError::UnsupportedParameter { .. })
    ));
    assert!(matches!(
        parse(&r, "Observation", "_sort=-"),
        Err(QueryError::BadValue { .. })
    ));
    assert!(matches!(
        parse(&r, "Observation", "_sort:desc=date"),
        Err(QueryError::UnknownModifier { .. })
    ));
}

#[test]
fn elements_are_checked_against_the_type() {
    let r = registry();
    let q = parse(
        &r,
        "Observation",
        "_elements=status,value,valueQuantity,id,status",
    )
    .expect("elements");
    assert_eq!(
        q.result.elements,
        ["id", "status", "value", "valueQuantity"]
    );
    assert_eq!(
        parse(&r, "Patient", "_elements=name,colour").map_err(|e| e.to_string()),
        Err("`_elements` names `colour`, which is not an element of `Patient`".into())
    );
    let q = lenient(&r, "Patient", "_elements=name,colour");
    assert_eq!(q.result.elements, ["name"]);
    assert_eq!(q.ignored.len(), 1);
    // System-level: not checked.
    let q = parse_search(
        &r,
        None,
        &parse_pairs("_elements=anything"),
        Handling::Strict,
    )
    .expect("system");
    assert_eq!(q.result.elements, ["anything"]);
}

#[test]
fn includes_and_revincludes() {
    let r = registry();
    let q = parse(
        &r,
        "Observation",
        "_include=Observation:subject&_include=Observation:subject:Patient&_include:iterate=Patient:general-practitioner&_include=*&_include=Observation:*&_revinclude=Provenance:target&_revinclude:iterate=Observation:has-member",
    )
    .expect("includes");
    let inc = |s: Option<&str>, p: Option<&str>, t: Option<&str>, iterate| Include {
        source_type: s.map(Into::into),
        param: p.map(Into::into),
        target_type: t.map(Into::into),
        iterate,
    };
    assert_eq!(
        q.result.include,
        [
            inc(Some("Observation"), Some("subject"), None, false),
            inc(Some("Observation"), Some("subject"), Some("Patient"), false),
            inc(Some("Patient"), Some("general-practitioner"), None, true),
            inc(None, None, None, false),
            inc(Some("Observation"), None, None, false),
        ]
    );
    assert_eq!(
        q.result.revinclude,
        [
            inc(Some("Provenance"), Some("target"), None, false),
            inc(Some("Observation"), Some("has-member"), None, true),
        ]
    );
    let q = parse(&r, "Observation", "_include:recurse=Observation:subject").expect("recurse");
    assert!(q.result.include[0].iterate);
    for (query, fragment) in [
        ("_include=Observation", "`Observation`"),
        ("_include=Nope:subject", "`Nope` is not a resource type"),
        (
            "_include=Observation:code",
            "`Observation:code` is not a reference",
        ),
        (
            "_include=Observation:subject:Medication",
            "`Medication` is not a target",
        ),
    ] {
        let e = parse(&r, "Observation", query)
            .expect_err(query)
            .to_string();
        assert!(
            e.starts_with("search parameter `_include` has an invalid value"),
            "{e}"
        );
        assert!(e.contains(fragment), "{e}");
    }
    assert_eq!(
        parse(&r, "Observation", "_include=Observation:nope").map_err(|e| e.to_string()),
        Err("unknown search parameter `nope` for `Observation` in `_include`".into())
    );
    let q = lenient(&r, "Observation", "_include=Observation:nope");
    assert!(q.result.include.is_empty());
    assert_eq!(q.ignored.len(), 1);
}

#[test]
fn contained_is_supported_only_by_default() {
    let r = registry();
    let q = parse(
        &r,
        "Observation",
        "_contained=false&_containedType=container",
    )
    .expect("default");
    assert_eq!(q.canonical_query_string(), "");
    for query in [
        "_contained=true",
        "_contained=both",
        "_containedType=contained",
    ] {
        assert!(
            matches!(
                parse(&r, "Observation", query),
                Err(QueryError::UnsupportedParameter { .. })
            ),
            "{query}"
        );
        assert!(lenient(&r, "Observation", query).ignored.len() == 1);
    }
    assert!(matches!(
        parse(&r, "Observation", "_contained=maybe"),
        Err(QueryError::BadValue { .. })
    ));
}

#[test]
fn canonical_query_string_is_deterministic_and_escaped() {
    let r = registry();
    let a = parse(
        &r,
        "Observation",
        "_count=10&code=http://loinc.org%7C1234-5&subject:Patient=1&date=ge2020-01-01T10:00:00%2B01:00&_sort=-date&_include=Observation:subject&_total=accurate&value-string=a\\,b&_elements=status",
    )
    .expect("a");
    let b = parse(
        &r,
        "Observation",
        "value-string=a\\,b&_elements=status&_total=accurate&_include=Observation:subject&_sort=-date&date=ge2020-01-01T10:00:00%2B01:00&subject=Patient/1&code=http://loinc.org%7C1234-5&_count=10",
    )
    .expect("b");
    let expected = "code=http://loinc.org%7C1234-5&date=ge2020-01-01T10:00:00%2B01:00&subject=Patient/1&value-string=a%5C,b&_sort=-date&_count=10&_total=accurate&_elements=status&_include=Observation:subject";
    assert_eq!(a.canonical_query_string(), expected);
    assert_eq!(b.canonical_query_string(), expected);
    // The canonical string parses back to the same query.
    let again = parse(&r, "Observation", expected).expect("again");
    assert_eq!(again.canonical_query_string(), expected);
    assert_eq!(again.result, a.result);
    // An unencoded `+` of a time zone (read as a space) is understood.
    let c = parse(&r, "Observation", "date=ge2020-01-01T10:00:00+01:00").expect("plus");
    assert_eq!(
        c.criteria,
        parse(&r, "Observation", "date=ge2020-01-01T10:00:00%2B01:00")
            .expect("d")
            .criteria
    );
}

#[test]
fn canonical_strings_of_every_value_kind() {
    let r = registry();
    for (ty, query) in [
        ("Patient", "name:exact=Ren%C3%A9e"),
        ("Patient", "name:contains=a%20b"),
        ("Patient", "identifier=%7C44,s%7C,s%7C1,2"),
        ("Patient", "gender:not=male"),
        ("Observation", "code:text=abc"),
        ("Patient", "identifier:of-type=s%7CMR%7C1"),
        ("Observation", "subject:identifier=s%7C1"),
        (
            "Observation",
            "subject=Patient/1/_history/2,http://x/Patient/1",
        ),
        (
            "QuestionnaireResponse",
            "questionnaire=http://x.org/Q%7C2.0",
        ),
        ("RiskAssessment", "probability=ap0.5"),
        (
            "Observation",
            "value-quantity=5.4%7Chttp://unitsofmeasure.org%7Cmg,5.4%7C%7Cmg",
        ),
        ("ValueSet", "url:below=http://acme.org/"),
        ("Patient", "organization:missing=true"),
        (
            "Observation",
            "code-value-quantity=http://loinc.org%7C1$lt5%7C%7Cmg",
        ),
        ("Patient", "_list=42"),
        ("Patient", "_id=a"),
        (
            "Patient",
            "_include:iterate=Patient:organization:Organization&_revinclude=Observation:*",
        ),
    ] {
        let q = parse(&r, ty, query).expect(query);
        assert_eq!(q.canonical_query_string(), query, "{query}");
    }
}
