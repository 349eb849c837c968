//! ValueSet expansion and CodeSystem subsumption for the token modifiers `:in`, `:not-in`,
//! `:above` and `:below` (R4 valueset.html, codesystem.html), against the terminology
//! resources a `TermSource` finds (storage: those stored in Carnet). A ValueSet's
//! `expansion.contains` (nested) is used when present; otherwise its `compose`: each
//! include is its concepts, or its filters (`is-a`, `descendent-of`, `is-not-a`,
//! `generalizes`, `in` on `concept`, against the stored CodeSystem's hierarchy), or the
//! whole system, intersected with the ValueSets it names; excludes are removed. What cannot
//! be expanded is a `TermError::Cannot` with the reason. Pure.

use serde_json::Value;

use super::code_set::{Code, CodeSet};
use super::hierarchy::Hierarchy;
use crate::search::query::{CodeRef, Subsumption, ValueSetRef};

/// ValueSets including ValueSets deeper than this are refused (it also stops cycles).
const MAX_DEPTH: usize = 8;
/// An expansion listing more codes than this is refused: a query binds every listed code.
pub const MAX_LISTED: usize = 10_000;

/// Finds terminology resources.
pub trait TermSource {
    type Error;
    /// The CodeSystem whose `url` is `url`.
    fn code_system(&mut self, url: &str) -> std::result::Result<Option<Value>, Self::Error>;
    /// The ValueSet `reference` names.
    fn value_set(
        &mut self,
        reference: &ValueSetRef,
    ) -> std::result::Result<Option<Value>, Self::Error>;
}

/// Why a set of codes could not be computed.
#[derive(Debug)]
pub enum TermError<E> {
    /// The source failed.
    Source(E),
    /// The terminology needed is missing or beyond what Carnet expands: the reason, for
    /// the client.
    Cannot(String),
}

type Result<T, E> = std::result::Result<T, TermError<E>>;

fn cannot<T, E>(reason: impl Into<String>) -> Result<T, E> {
    Err(TermError::Cannot(reason.into()))
}

/// How a ValueSet reference is named in messages.
pub fn describe(reference: &ValueSetRef) -> String {
    match reference {
        ValueSetRef::Local(id) => format!("`ValueSet/{id}`"),
        ValueSetRef::Canonical { url, version: None } => format!("`{url}`"),
        ValueSetRef::Canonical {
            url,
            version: Some(v),
        } => format!("`{url}|{v}`"),
    }
}

/// The members of the ValueSet `reference` names.
pub fn expand<S: TermSource>(source: &mut S, reference: &ValueSetRef) -> Result<CodeSet, S::Error> {
    let set = expand_at(source, reference, 0)?;
    if set.listed() > MAX_LISTED {
        return cannot(format!(
            "the expansion of {} lists more than {MAX_LISTED} codes",
            describe(reference)
        ));
    }
    Ok(set)
}

fn expand_at<S: TermSource>(
    source: &mut S,
    reference: &ValueSetRef,
    depth: usize,
) -> Result<CodeSet, S::Error> {
    if depth > MAX_DEPTH {
        return cannot(format!(
            "{} is nested more than {MAX_DEPTH} ValueSets deep (or includes itself)",
            describe(reference)
        ));
    }
    let Some(value_set) = source.value_set(reference).map_err(TermError::Source)? else {
        return cannot(format!(
            "no ValueSet {} is stored in Carnet",
            describe(reference)
        ));
    };
    if let Some(expansion) = value_set.get("expansion") {
        let mut codes = Vec::new();
        contained(expansion, &mut codes);
        return Ok(CodeSet::of_codes(codes));
    }
    let Some(compose) = value_set.get("compose") else {
        return cannot(format!(
            "the ValueSet {} has neither an expansion nor a compose",
            describe(reference)
        ));
    };
    let mut members = CodeSet::default();
    for include in array(compose, "include") {
        members = members.union(&component(source, include, depth)?);
    }
    for exclude in array(compose, "exclude") {
        members = members.minus(&component(source, exclude, depth)?);
    }
    Ok(members)
}

fn array<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

/// The codes of `expansion.contains`, nested ones included.
fn contained(node: &Value, out: &mut Vec<Code>) {
    for entry in array(node, "contains") {
        if let (Some(system), Some(code)) = (text(entry, "system"), text(entry, "code")) {
            out.push((system.to_owned(), code.to_owned()));
        }
        contained(entry, out);
    }
}

/// One `compose.include` or `compose.exclude`.
fn component<S: TermSource>(
    source: &mut S,
    part: &Value,
    depth: usize,
) -> Result<CodeSet, S::Error> {
    let system = text(part, "system");
    let mut set = match system {
        Some(system) => Some(system_part(source, system, part)?),
        None => None,
    };
    for canonical in array(part, "valueSet").filter_map(Value::as_str) {
        let reference = match canonical.split_once('|') {
            Some((url, version)) => ValueSetRef::Canonical {
                url: url.to_owned(),
                version: Some(version.to_owned()),
            },
            None => ValueSetRef::Canonical {
                url: canonical.to_owned(),
                version: None,
            },
        };
        let nested = expand_at(source, &reference, depth + 1)?;
        set = Some(match set {
            Some(set) => set.intersection(&nested),
            None => nested,
        });
    }
    match set {
        Some(set) => Ok(set),
        None => cannot("a compose include or exclude names neither a system nor a valueSet"),
    }
}

/// The codes of `system` an include selects: its concepts, its filters, or all of them.
fn system_part<S: TermSource>(
    source: &mut S,
    system: &str,
    part: &Value,
) -> Result<CodeSet, S::Error> {
    let concepts: Vec<Code> = array(part, "concept")
        .filter_map(|c| text(c, "code"))
        .map(|code| (system.to_owned(), code.to_owned()))
        .collect();
    let filters: Vec<&Value> = array(part, "filter").collect();
    if filters.is_empty() {
        return Ok(if part.get("concept").is_some() {
            CodeSet::of_codes(concepts)
        } else {
            CodeSet::whole_system(system)
        });
    }
    let hierarchy = hierarchy(source, system)?;
    let mut set: Option<CodeSet> = (!concepts.is_empty()).then(|| CodeSet::of_codes(concepts));
    for filter in filters {
        let codes = filtered(&hierarchy, system, filter)?;
        let selected = CodeSet::of_codes(codes.into_iter().map(|c| (system.to_owned(), c)));
        set = Some(match set {
            Some(set) => set.intersection(&selected),
            None => selected,
        });
    }
    Ok(set.unwrap_or_default())
}

/// The codes one `filter` selects.
fn filtered<E>(
    hierarchy: &Hierarchy,
    system: &str,
    filter: &Value,
) -> Result<std::collections::BTreeSet<String>, E> {
    let (property, op, value) = (
        text(filter, "property").unwrap_or_default(),
        text(filter, "op").unwrap_or_default(),
        text(filter, "value").unwrap_or_default(),
    );
    if !matches!(property, "concept" | "code") {
        return cannot(format!(
            "the filter `{property} {op} {value}` on `{system}` is not supported (only filters on `concept`)"
        ));
    }
    Ok(match op {
        "is-a" => hierarchy.self_and_descendants(value),
        "descendent-of" => {
            let mut below = hierarchy.self_and_descendants(value);
            below.remove(value);
            below
        }
        "is-not-a" => {
            let below = hierarchy.self_and_descendants(value);
            hierarchy.codes().difference(&below).cloned().collect()
        }
        "generalizes" => hierarchy.self_and_ancestors(value),
        "in" => value.split(',').map(|c| c.trim().to_owned()).collect(),
        "=" => std::collections::BTreeSet::from([value.to_owned()]),
        _ => {
            return cannot(format!(
                "the filter operator `{op}` (on `{system}`) is not supported"
            ));
        }
    })
}

/// The hierarchy of the stored CodeSystem of `system`.
fn hierarchy<S: TermSource>(source: &mut S, system: &str) -> Result<Hierarchy, S::Error> {
    let Some(code_system) = source.code_system(system).map_err(TermError::Source)? else {
        return cannot(format!(
            "no CodeSystem `{system}` is stored in Carnet to give its hierarchy"
        ));
    };
    let hierarchy = Hierarchy::of(&code_system);
    if hierarchy.is_empty() {
        return cannot(format!(
            "the CodeSystem `{system}` stored in Carnet defines no concept"
        ));
    }
    Ok(hierarchy)
}

/// The codes `:above` (the value and its ancestors) or `:below` (the value and its
/// descendants) match, by the hierarchy of the stored CodeSystem of the value's system.
pub fn subsumption<S: TermSource>(
    source: &mut S,
    direction: Subsumption,
    value: &CodeRef,
) -> Result<CodeSet, S::Error> {
    let hierarchy = hierarchy(source, &value.system)?;
    let codes = match direction {
        Subsumption::Above => hierarchy.self_and_ancestors(&value.code),
        Subsumption::Below => hierarchy.self_and_descendants(&value.code),
    };
    if codes.len() > MAX_LISTED {
        return cannot(format!(
            "`{}|{}` subsumes more than {MAX_LISTED} codes",
            value.system, value.code
        ));
    }
    Ok(CodeSet::of_codes(
        codes.into_iter().map(|c| (value.system.clone(), c)),
    ))
}
