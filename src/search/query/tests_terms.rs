//! Parsing of the terminology modifiers of tokens, `_text`/`_content` and `near`: the
//! typed values, their canonical rendering, and the 400s of bad values.

use super::tests::{message, param, parse, registry};
use super::*;

#[test]
fn terminology_modifiers_parse_their_values() {
    let r = registry();
    let p = param(&r, "Observation", "code:in=http://x/vs%7C2,ValueSet/vs1");
    assert_eq!(
        p.matcher,
        Match::TokenIn {
            not: false,
            value_sets: vec![
                ValueSetRef::Canonical {
                    url: "http://x/vs".into(),
                    version: Some("2".into())
                },
                ValueSetRef::Local("vs1".into())
            ]
        }
    );
    let p = param(&r, "Observation", "code:not-in=urn:oid:1.2.3");
    assert!(matches!(p.matcher, Match::TokenIn { not: true, .. }));
    let p = param(&r, "Observation", "code:below=http://snomed.info/sct%7C123");
    assert_eq!(
        p.matcher,
        Match::TokenSubsumption {
            direction: Subsumption::Below,
            values: vec![CodeRef {
                system: "http://snomed.info/sct".into(),
                code: "123".into()
            }]
        }
    );
    let q = parse(&r, "Observation", "code:above=s%7Cc&code:not-in=ValueSet/v").unwrap();
    assert_eq!(
        q.canonical_query_string(),
        "code:above=s%7Cc&code:not-in=ValueSet/v"
    );
    assert!(message(&r, "Observation", "code:in=vs").contains("`code:in`"));
    assert!(message(&r, "Observation", "code:in=ValueSet/a%20b").contains("`code:in`"));
    assert!(message(&r, "Observation", "code:below=123").contains("`code:below`"));
    assert!(message(&r, "Observation", "code:above=%7C123").contains("`code:above`"));
}

#[test]
fn text_searches_split_words() {
    let r = registry();
    let p = param(&r, "Condition", "_text=Fi%C3%A8vre%20AIGU%C3%8B,toux");
    let Match::Text { scope, values } = p.matcher else {
        panic!("{:?}", p.matcher);
    };
    assert_eq!(scope, TextScope::Narrative);
    assert_eq!(values[0].words, ["fievre", "aigue"]);
    assert_eq!(values[1].words, ["toux"]);
    let p = param(&r, "Bundle", "_content=x");
    assert!(matches!(
        p.matcher,
        Match::Text {
            scope: TextScope::Content,
            ..
        }
    ));
    assert!(message(&r, "Condition", "_text=%2D%2D").contains("`_text`"));
    assert!(message(&r, "Condition", "_text:exact=a").contains("`_text:exact`"));
    // `_text` is a DomainResource parameter: not on Bundle.
    assert!(message(&r, "Bundle", "_text=a").contains("`_text`"));
}

#[test]
fn near_reads_point_distance_and_unit() {
    let r = registry();
    let near = |query: &str| match param(&r, "Location", query).matcher {
        Match::Near(values) => values[0].clone(),
        other => panic!("{other:?}"),
    };
    let v = near("near=48.85%7C2.35%7C5%7Cm");
    assert_eq!((v.latitude, v.longitude), (48.85, 2.35));
    assert!((v.distance_km - 0.005).abs() < 1e-12);
    assert!((near("near=1%7C2%7C3").distance_km - 3.0).abs() < 1e-12);
    assert!((near("near=1%7C2").distance_km - terms::DEFAULT_NEAR_KM).abs() < 1e-12);
    assert!((near("near=1%7C2%7C1%7C%5Bmi_i%5D").distance_km - 1.609_344).abs() < 1e-9);
    for bad in [
        "near=x%7C2",
        "near=91%7C0",
        "near=0%7C181",
        "near=1",
        "near=1%7C2%7Cx",
        "near=1%7C2%7C3%7Cft",
    ] {
        assert!(message(&r, "Location", bad).contains("`near`"), "{bad}");
    }
    let q = parse(&r, "Location", "near=1%7C2%7C3%7Ckm").unwrap();
    assert_eq!(q.canonical_query_string(), "near=1%7C2%7C3%7Ckm");
}
