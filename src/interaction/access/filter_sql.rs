//! The consent engine's search `Filter` as storage's neutral `Condition`: each leaf reads
//! the index rows written from the same facts the decision point reads (`resource_fact`,
//! `resource_label`), so a search narrowed by it and `decide` agree.

use super::facts::{AUTHOR, CATEGORY, CLASS, DATE, DOCTYPE};
use crate::consent::Filter;
use crate::storage::search::{Condition, FactMatch};

/// The condition of `filter`.
pub(crate) fn condition_of(filter: &Filter) -> Condition {
    let fact = |kind: &str, matches: Vec<FactMatch>| Condition::Fact {
        kind: kind.to_owned(),
        matches,
    };
    let code = |code: &str| FactMatch {
        code: code.to_owned(),
        system: None,
        resource_type: None,
    };
    match filter {
        Filter::All => Condition::All,
        Filter::Nothing => Condition::Nothing,
        Filter::ResourceTypeIn(types) => Condition::TypeIn(types.clone()),
        Filter::DocumentClassIn(classes) => fact(CLASS, classes.iter().map(|c| code(c)).collect()),
        Filter::DocumentTypeIn(types) => fact(
            DOCTYPE,
            types
                .iter()
                .map(|(system, c)| FactMatch {
                    code: c.clone(),
                    system: (!system.is_empty()).then(|| system.clone()),
                    resource_type: None,
                })
                .collect(),
        ),
        Filter::CategoryIn(pairs) => fact(
            CATEGORY,
            pairs
                .iter()
                .map(|(resource_type, c)| FactMatch {
                    code: c.clone(),
                    system: None,
                    resource_type: resource_type.clone(),
                })
                .collect(),
        ),
        Filter::HasLabel(labels) => Condition::Label(
            labels
                .iter()
                .map(|l| (l.system.clone(), l.code.clone()))
                .collect(),
        ),
        Filter::LabelSetAfter {
            label,
            cutoff_millis,
        } => Condition::LabelSetAfter {
            system: label.system.clone(),
            code: label.code.clone(),
            cutoff: *cutoff_millis,
        },
        Filter::AuthoredBy(references) => {
            fact(AUTHOR, references.iter().map(|r| code(r)).collect())
        }
        Filter::IdIn(references) => Condition::IdIn(
            references
                .iter()
                .filter_map(|r| r.split_once('/'))
                .map(|(t, id)| (t.to_owned(), id.to_owned()))
                .collect(),
        ),
        Filter::DateWithin((low, high)) => Condition::FactAtWithin {
            kind: DATE.to_owned(),
            low: *low,
            high: *high,
        },
        Filter::Not(inner) => match condition_of(inner) {
            Condition::All => Condition::Nothing,
            Condition::Nothing => Condition::All,
            other => Condition::Not(Box::new(other)),
        },
        Filter::And(all) => Condition::And(all.iter().map(condition_of).collect()),
        Filter::Or(any) => Condition::Or(any.iter().map(condition_of).collect()),
    }
}
