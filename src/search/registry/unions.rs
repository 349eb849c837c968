//! Parameters whose values are exactly those of other parameters of the same resource type
//! together: their expression is a union (`a | b | c`) whose terms are split among
//! parameters of the same type (Observation's `combo-code` is `Observation.code |
//! Observation.component.code`, which are `code` and `component-code`). The index keeps no
//! rows of such a parameter: a search of it reads its members' rows, which hold the same
//! values (the same expressions evaluated the same way), so every search finds what it
//! would find in rows of its own, and a resource is written with fewer rows.
//!
//! The same holds for a parameter whose expression is another's, term for term, with the
//! same type (Patient's `phonetic` and `name` are both `Patient.name`): of such twins the
//! one named after the element keeps its rows (`name`), the others read them.

use std::collections::BTreeSet;

use super::{SearchParamDef, SearchParamType};

/// The terms of a top-level union, or `None` when a term is not a whole expression (a
/// `|` inside parentheses: `(a | b).where(…)`).
fn terms(expression: &str) -> Option<BTreeSet<&str>> {
    let terms: BTreeSet<&str> = expression.split(" | ").map(str::trim).collect();
    let balanced = |term: &&str| {
        let mut depth = 0i32;
        for c in term.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return false;
            }
        }
        depth == 0
    };
    terms.iter().all(balanced).then_some(terms)
}

/// Whether `a` and `b`, composites, have the same components: the same types and
/// expressions in the same order (so their rows hold the same values in the same places).
fn same_components(a: &SearchParamDef, b: &SearchParamDef) -> bool {
    a.components.len() == b.components.len()
        && a.components
            .iter()
            .zip(&b.components)
            .all(|(x, y)| x.ty == y.ty && x.expression_text == y.expression_text)
}

/// The parameters of `resource_type` (`params`, indexes into `defs`, sorted by code) that
/// are unions of others or twins of another, each with the codes (sorted) of the
/// parameters whose rows hold its values.
pub(super) fn unions_of(
    defs: &[SearchParamDef],
    resource_type: &str,
    params: &[usize],
) -> Vec<(usize, Vec<String>)> {
    // Only parameters of this type itself: a common one (`_id`, `_tag`) is shared by all.
    let own = |index: &usize| {
        let def = &defs[*index];
        def.base == resource_type && def.is_supported() && def.expression_text.is_some()
    };
    let candidates: Vec<(usize, BTreeSet<&str>)> = params
        .iter()
        .filter(|i| own(i))
        .filter_map(|i| Some((*i, terms(defs[*i].expression_text.as_deref()?)?)))
        .collect();
    let mut unions = Vec::new();
    for (union, whole) in &candidates {
        let def = &defs[*union];
        // References are followed by includes and chains by parameter; specials have no rows.
        if whole.len() < 2
            || matches!(
                def.ty,
                SearchParamType::Reference | SearchParamType::Special
            )
        {
            continue;
        }
        let members: Vec<(usize, &BTreeSet<&str>)> = candidates
            .iter()
            .filter(|(member, part)| {
                let other = &defs[*member];
                member != union
                    && other.ty == def.ty
                    && part.len() < whole.len()
                    && part.is_subset(whole)
                    && (def.ty != SearchParamType::Composite || same_components(def, other))
            })
            .map(|(member, part)| (*member, part))
            .collect();
        let covered: BTreeSet<&str> = members
            .iter()
            .flat_map(|(_, part)| part.iter().copied())
            .collect();
        // A member made of several terms could itself be a union of the others: only
        // members whose rows are their own.
        let nested = members.iter().any(|(member, part)| {
            part.len() > 1
                && members
                    .iter()
                    .any(|(other, smaller)| other != member && smaller.is_subset(part))
        });
        if covered == *whole && !nested {
            let mut codes: Vec<String> = members
                .iter()
                .map(|(member, _)| defs[*member].code.clone())
                .collect();
            codes.sort();
            unions.push((*union, codes));
        }
    }
    let unions_found: BTreeSet<usize> = unions.iter().map(|(union, _)| *union).collect();
    let with_rows: Vec<&(usize, BTreeSet<&str>)> = candidates
        .iter()
        .filter(|(param, _)| !unions_found.contains(param))
        .collect();
    // A union's members may include twins: the twin that keeps their rows has the same
    // terms, so it is a member too, and the union's rows are all read.
    unions.extend(twins_among(defs, &with_rows));
    unions
}

/// Whether `code` names the element its only term ends with (`name` for `Patient.name`):
/// of twins, the one named after the element keeps the rows (storage finds a canonical
/// resource by its `url` rows, `storage/search/terminology.rs`).
fn named_after_element(code: &str, terms: &BTreeSet<&str>) -> bool {
    match terms.iter().collect::<Vec<_>>().as_slice() {
        [term] => term.rsplit('.').next() == Some(code),
        _ => false,
    }
}

/// The twins among `params` (with their terms, sorted by code): each parameter whose terms
/// and type are those of another, with the code of the twin whose rows hold their values
/// (the one named after the element its expression ends with, else the first by code).
fn twins_among(
    defs: &[SearchParamDef],
    params: &[&(usize, BTreeSet<&str>)],
) -> Vec<(usize, Vec<String>)> {
    let mut twins = Vec::new();
    for (twin, terms) in params {
        let def = &defs[*twin];
        if matches!(
            def.ty,
            SearchParamType::Reference | SearchParamType::Special
        ) {
            continue;
        }
        let kept = params
            .iter()
            .filter(|(other, other_terms)| {
                let other_def = &defs[*other];
                other_def.ty == def.ty
                    && other_terms == terms
                    && (def.ty != SearchParamType::Composite || same_components(def, other_def))
            })
            .min_by_key(|(other, other_terms)| {
                let code = defs[*other].code.as_str();
                (!named_after_element(code, other_terms), code)
            });
        if let Some((kept, _)) = kept.filter(|(kept, _)| kept != twin) {
            twins.push((*twin, vec![defs[*kept].code.clone()]));
        }
    }
    twins
}
