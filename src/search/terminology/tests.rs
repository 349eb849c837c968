//! Expansion against an in-memory source: expansion.contains, compose with concepts,
//! whole systems, filters on a CodeSystem's hierarchy, nested ValueSets, excludes, and
//! the reasons given when Carnet cannot expand.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::*;
use crate::search::query::{CodeRef, Subsumption, ValueSetRef};

#[derive(Default)]
struct Source {
    value_sets: HashMap<String, Value>,
    code_systems: HashMap<String, Value>,
}

impl TermSource for Source {
    type Error = ();
    fn code_system(&mut self, url: &str) -> Result<Option<Value>, ()> {
        Ok(self.code_systems.get(url).cloned())
    }
    fn value_set(&mut self, reference: &ValueSetRef) -> Result<Option<Value>, ()> {
        Ok(match reference {
            ValueSetRef::Canonical { url, .. } => self.value_sets.get(url).cloned(),
            ValueSetRef::Local(_) => None,
        })
    }
}

fn url(u: &str) -> ValueSetRef {
    ValueSetRef::Canonical {
        url: u.to_owned(),
        version: None,
    }
}

fn code(s: &str, c: &str) -> Code {
    (s.to_owned(), c.to_owned())
}

fn source() -> Source {
    let mut source = Source::default();
    source.code_systems.insert(
        "urn:cs".into(),
        json!({"url": "urn:cs", "concept": [
            {"code": "root", "concept": [{"code": "mid", "concept": [{"code": "leaf"}]}]},
            {"code": "other"}
        ]}),
    );
    source.value_sets.insert(
        "urn:expanded".into(),
        json!({"expansion": {"contains": [
            {"system": "urn:a", "code": "1", "contains": [{"system": "urn:a", "code": "2"}]}
        ]}}),
    );
    source.value_sets.insert(
        "urn:composed".into(),
        json!({"compose": {
            "include": [
                {"system": "urn:cs", "filter": [{"property": "concept", "op": "is-a", "value": "mid"}]},
                {"system": "urn:whole"},
                {"system": "urn:b", "concept": [{"code": "x"}, {"code": "y"}]}
            ],
            "exclude": [{"system": "urn:b", "concept": [{"code": "y"}]}, {"system": "urn:whole", "concept": [{"code": "no"}]}]
        }}),
    );
    source.value_sets.insert(
        "urn:nested".into(),
        json!({"compose": {"include": [{"valueSet": ["urn:expanded"]}, {"system": "urn:a", "valueSet": ["urn:expanded"], "concept": [{"code": "2"}]}]}}),
    );
    source.value_sets.insert(
        "urn:loop".into(),
        json!({"compose": {"include": [{"valueSet": ["urn:loop"]}]}}),
    );
    source.value_sets.insert(
        "urn:unknown-cs".into(),
        json!({"compose": {"include": [{"system": "urn:none", "filter": [{"property": "concept", "op": "is-a", "value": "x"}]}]}}),
    );
    source
}

#[test]
fn expansion_and_compose() {
    let mut s = source();
    let set = expand(&mut s, &url("urn:expanded")).unwrap();
    assert_eq!(
        set,
        CodeSet::of_codes([code("urn:a", "1"), code("urn:a", "2")])
    );
    let set = expand(&mut s, &url("urn:composed")).unwrap();
    for member in [
        code("urn:cs", "mid"),
        code("urn:cs", "leaf"),
        code("urn:b", "x"),
        code("urn:whole", "anything"),
    ] {
        assert!(set.contains(&member), "{member:?}");
    }
    for outside in [
        code("urn:cs", "root"),
        code("urn:b", "y"),
        code("urn:whole", "no"),
    ] {
        assert!(!set.contains(&outside), "{outside:?}");
    }
    let set = expand(&mut s, &url("urn:nested")).unwrap();
    assert_eq!(
        set,
        CodeSet::of_codes([code("urn:a", "1"), code("urn:a", "2")])
    );
}

#[test]
fn what_cannot_be_expanded_says_why() {
    let mut s = source();
    let reason = |r: Result<CodeSet, TermError<()>>| match r {
        Err(TermError::Cannot(reason)) => reason,
        other => panic!("{other:?}"),
    };
    assert!(reason(expand(&mut s, &url("urn:missing"))).contains("no ValueSet `urn:missing`"));
    assert!(reason(expand(&mut s, &url("urn:loop"))).contains("nested more than"));
    assert!(reason(expand(&mut s, &url("urn:unknown-cs"))).contains("no CodeSystem `urn:none`"));
    let value = CodeRef {
        system: "urn:none".into(),
        code: "x".into(),
    };
    assert!(reason(subsumption(&mut s, Subsumption::Below, &value)).contains("urn:none"));
}

#[test]
fn subsumption_both_ways() {
    let mut s = source();
    let value = CodeRef {
        system: "urn:cs".into(),
        code: "mid".into(),
    };
    let below = subsumption(&mut s, Subsumption::Below, &value).unwrap();
    assert_eq!(
        below,
        CodeSet::of_codes([code("urn:cs", "leaf"), code("urn:cs", "mid")])
    );
    let above = subsumption(&mut s, Subsumption::Above, &value).unwrap();
    assert_eq!(
        above,
        CodeSet::of_codes([code("urn:cs", "mid"), code("urn:cs", "root")])
    );
}
