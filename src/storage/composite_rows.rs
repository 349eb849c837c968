//! The rows of `search_composite` for the composite index entries of one resource: one row
//! per component of each value, numbered by value (`grp`) and component (`pos`), with the
//! component's value in the columns its type uses elsewhere (see the migration). Dates are
//! kept in ms in `low`/`high`, exact for every instant a search can name.

use diesel::prelude::*;

use super::schema::search_composite;
use crate::search::extract::IndexEntry;

#[derive(Insertable, Default)]
#[diesel(table_name = search_composite)]
pub(super) struct CompositeRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    pub(super) grp: i32,
    pub(super) pos: i32,
    system: &'a str,
    pub(super) code: &'a str,
    normalized: &'a str,
    exact: &'a str,
    target_type: &'a str,
    target_id: &'a str,
    version: &'a str,
    url: &'a str,
    value: &'a str,
    unit: &'a str,
    low: f64,
    high: f64,
}

super::index_row::index_row!(CompositeRow => search_composite: res_type: Text, res_id: Text,
    param: Text, grp: Integer, pos: Integer, system: Text, code: Text, normalized: Text,
    exact: Text, target_type: Text, target_id: Text, version: Text, url: Text, value: Text,
    unit: Text, low: Double, high: Double);

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

/// The rows of every composite entry of `entries`.
pub(super) fn composite_rows<'a>(
    res_type: &'a str,
    res_id: &'a str,
    entries: &'a [IndexEntry],
) -> Vec<CompositeRow<'a>> {
    let mut rows = Vec::new();
    let mut grp = 0;
    for entry in entries {
        let IndexEntry::Composite { param, components } = entry else {
            continue;
        };
        if components.iter().any(is_token_without_code) {
            continue;
        }
        grp += 1;
        for (pos, component) in components.iter().enumerate() {
            let mut row = CompositeRow {
                res_type,
                res_id,
                param,
                grp,
                pos: i32::try_from(pos).unwrap_or(i32::MAX),
                ..CompositeRow::default()
            };
            fill(&mut row, component);
            rows.push(row);
        }
    }
    rows
}

/// A token component without a code (the text alone of a CodeableConcept, whose codings
/// make values of their own): no token search names it, and `search_token` keeps no row
/// for it either, so a composite value holding it could match no composite search. An
/// Observation's code with a text made as many such values (each with its rows) as real
/// ones.
fn is_token_without_code(component: &IndexEntry) -> bool {
    matches!(component, IndexEntry::Token { code, .. } if code.is_empty())
}

/// Puts the value of one component in the columns of its type.
fn fill<'a>(row: &mut CompositeRow<'a>, component: &'a IndexEntry) {
    match component {
        IndexEntry::String {
            normalized, exact, ..
        } => {
            row.normalized = normalized;
            row.exact = exact;
        }
        IndexEntry::Token { system, code, .. } => {
            row.system = text(system);
            row.code = code;
        }
        IndexEntry::Reference {
            reference_type,
            reference_id,
            version,
            url,
            ..
        } => {
            row.target_type = text(reference_type);
            row.target_id = text(reference_id);
            row.version = text(version);
            row.url = text(url);
        }
        IndexEntry::Date {
            low_ms, high_ms, ..
        } => {
            row.low = *low_ms as f64;
            row.high = *high_ms as f64;
        }
        IndexEntry::Number {
            value, low, high, ..
        } => {
            row.value = value;
            row.low = *low;
            row.high = *high;
        }
        IndexEntry::Quantity {
            value,
            low,
            high,
            system,
            code,
            unit,
            ..
        } => {
            row.value = value;
            row.low = *low;
            row.high = *high;
            row.system = text(system);
            row.code = text(code);
            row.unit = text(unit);
        }
        IndexEntry::Uri { value, .. } => row.value = value,
        // Never components: composites are made of value parameters only.
        IndexEntry::Composite { .. } | IndexEntry::Text { .. } | IndexEntry::Position { .. } => {}
    }
}
