//! `Filter`: a boolean expression over `ResourceFacts` that storage can turn into SQL
//! (DESIGN.md: consent runs inside the query). Every leaf is a fact the index already
//! holds (type, DocumentReference `category` TRE_A03 and `type` tokens, `category` token
//! codes, labels with the time each was set, author references, ids, the clinical date).
//! The access matrix, the labels and the Consent provisions all compile to it, and
//! `matches` evaluates it on facts, so a search narrowed by it and `decide` agree.

use super::facts::{LabelCode, ResourceFacts};
use super::policy::Span;

/// A condition on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Every resource.
    All,
    /// No resource.
    Nothing,
    /// The resource type is one of these.
    ResourceTypeIn(Vec<String>),
    /// A DocumentReference whose TRE_A03 class is one of these.
    DocumentClassIn(Vec<String>),
    /// A DocumentReference with a `type` coding among these `(system, code)`; an empty
    /// system matches any system.
    DocumentTypeIn(Vec<(String, String)>),
    /// A resource (not a DocumentReference) with a `category` code among these
    /// `(resource type, code)`; a `None` type matches any type.
    CategoryIn(Vec<(Option<String>, String)>),
    /// The resource carries one of these labels.
    HasLabel(Vec<LabelCode>),
    /// The resource carries `label`, set after `cutoff_millis` or at an unknown time.
    LabelSetAfter {
        label: LabelCode,
        cutoff_millis: i64,
    },
    /// An author of the resource is one of these references.
    AuthoredBy(Vec<String>),
    /// The resource is one of these (`Type/id`).
    IdIn(Vec<String>),
    /// The clinical date is known and within the span.
    DateWithin(Span),
    Not(Box<Filter>),
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

impl Filter {
    /// `a AND b`, folding constants.
    pub fn and(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::Nothing, _) | (_, Filter::Nothing) => Filter::Nothing,
            (Filter::All, f) | (f, Filter::All) => f,
            (Filter::And(mut a), Filter::And(b)) => {
                a.extend(b);
                Filter::And(a)
            }
            (Filter::And(mut a), f) | (f, Filter::And(mut a)) => {
                a.push(f);
                Filter::And(a)
            }
            (a, b) => Filter::And(vec![a, b]),
        }
    }

    /// `a OR b`, folding constants.
    pub fn or(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::All, _) | (_, Filter::All) => Filter::All,
            (Filter::Nothing, f) | (f, Filter::Nothing) => f,
            (Filter::Or(mut a), Filter::Or(b)) => {
                a.extend(b);
                Filter::Or(a)
            }
            (Filter::Or(mut a), f) | (f, Filter::Or(mut a)) => {
                a.push(f);
                Filter::Or(a)
            }
            (a, b) => Filter::Or(vec![a, b]),
        }
    }

    /// `NOT a`, folding constants.
    pub fn negate(self) -> Filter {
        match self {
            Filter::All => Filter::Nothing,
            Filter::Nothing => Filter::All,
            Filter::Not(inner) => *inner,
            other => Filter::Not(Box::new(other)),
        }
    }

    /// `All` when `condition`, else `Nothing`.
    pub fn from_bool(condition: bool) -> Filter {
        if condition {
            Filter::All
        } else {
            Filter::Nothing
        }
    }

    /// Whether the resource with these facts passes.
    pub fn matches(&self, facts: &ResourceFacts) -> bool {
        let is_document = facts.resource_type == "DocumentReference";
        match self {
            Filter::All => true,
            Filter::Nothing => false,
            Filter::ResourceTypeIn(types) => types.contains(&facts.resource_type),
            Filter::DocumentClassIn(classes) => {
                is_document
                    && facts
                        .document_class
                        .as_ref()
                        .is_some_and(|c| classes.contains(c))
            }
            Filter::DocumentTypeIn(types) => {
                is_document
                    && facts.document_types.iter().any(|(system, code)| {
                        types
                            .iter()
                            .any(|(s, c)| c == code && (s.is_empty() || s == system))
                    })
            }
            Filter::CategoryIn(pairs) => {
                !is_document
                    && facts.categories.iter().any(|code| {
                        pairs.iter().any(|(t, c)| {
                            c == code && t.as_ref().is_none_or(|t| *t == facts.resource_type)
                        })
                    })
            }
            Filter::HasLabel(labels) => labels.iter().any(|l| facts.has_label(l)),
            Filter::LabelSetAfter {
                label,
                cutoff_millis,
            } => match facts.label_set_at(label) {
                None => false,
                Some(None) => true,
                Some(Some(at)) => at > *cutoff_millis,
            },
            Filter::AuthoredBy(references) => facts.authors.iter().any(|a| references.contains(a)),
            Filter::IdIn(references) => facts.reference().is_some_and(|r| references.contains(&r)),
            Filter::DateWithin((start, end)) => {
                facts.date_millis.is_some_and(|d| *start <= d && d <= *end)
            }
            Filter::Not(inner) => !inner.matches(facts),
            Filter::And(all) => all.iter().all(|f| f.matches(facts)),
            Filter::Or(any) => any.iter().any(|f| f.matches(facts)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(class: &str, label: Option<(LabelCode, Option<i64>)>) -> ResourceFacts {
        ResourceFacts {
            resource_type: "DocumentReference".into(),
            id: Some("d".into()),
            patient: Some("p".into()),
            document_class: Some(class.into()),
            document_types: vec![("http://loinc.org".into(), "11502-2".into())],
            categories: vec![],
            authors: vec!["Practitioner/a".into()],
            date_millis: Some(10),
            labels: label
                .into_iter()
                .map(|(code, set_at_millis)| super::super::facts::Label {
                    code,
                    set_at_millis,
                })
                .collect(),
        }
    }

    #[test]
    fn constants_fold() {
        let leaf = Filter::ResourceTypeIn(vec!["Observation".into()]);
        assert_eq!(Filter::All.and(leaf.clone()), leaf);
        assert_eq!(Filter::Nothing.and(leaf.clone()), Filter::Nothing);
        assert_eq!(Filter::All.or(leaf.clone()), Filter::All);
        assert_eq!(leaf.clone().negate().negate(), leaf);
    }

    #[test]
    fn leaves_match_facts() {
        let d = document("10", Some((LabelCode::invisible_patient(), Some(100))));
        assert!(Filter::DocumentClassIn(vec!["10".into()]).matches(&d));
        assert!(Filter::DocumentTypeIn(vec![("".into(), "11502-2".into())]).matches(&d));
        assert!(!Filter::DocumentTypeIn(vec![("urn:x".into(), "11502-2".into())]).matches(&d));
        assert!(!Filter::CategoryIn(vec![(None, "laboratory".into())]).matches(&d));
        assert!(Filter::AuthoredBy(vec!["Practitioner/a".into()]).matches(&d));
        assert!(Filter::IdIn(vec!["DocumentReference/d".into()]).matches(&d));
        assert!(Filter::DateWithin((0, 10)).matches(&d));
        assert!(!Filter::DateWithin((11, 20)).matches(&d));
        let after = |cutoff| Filter::LabelSetAfter {
            label: LabelCode::invisible_patient(),
            cutoff_millis: cutoff,
        };
        assert!(after(99).matches(&d));
        assert!(!after(100).matches(&d));
        let unknown = document("10", Some((LabelCode::invisible_patient(), None)));
        assert!(after(i64::MAX - 1).matches(&unknown));
        assert!(!after(0).matches(&document("10", None)));
    }
}
