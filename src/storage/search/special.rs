//! The value tests (on alias `x`) of the matches that need more than one value per row:
//! a resolved set of codes (`:in`, `:not-in`, `:above`, `:below` on `search_token`), the
//! words of `_text`/`_content` (`search_text`) and the distance of `near`
//! (`search_position`). Values are bound, never spliced.

use std::collections::BTreeMap;

use super::predicate::like_escape;
use super::sql::Sql;
use super::terminology::{TermKey, Terms};
use crate::search::query::{CodeRef, NearValue, Subsumption, TextValue, ValueSetRef};
use crate::search::terminology::CodeSet;
use crate::storage::error::StorageError;

/// Kilometres per degree of latitude (the mean Earth radius, 6371.0088 km, times π/180).
const KM_PER_DEGREE: f64 = 6_371.008_8 * std::f64::consts::PI / 180.0;
/// The smallest cos(latitude) used, so that a point at a pole still gives a finite box.
const MIN_COS: f64 = 1e-6;

/// The union of the code sets of `keys`, from the resolved `terms`.
fn union_of<'k>(
    terms: &Terms,
    keys: impl Iterator<Item = TermKey> + 'k,
) -> Result<CodeSet, StorageError> {
    let mut set = CodeSet::default();
    for key in keys {
        let found = terms.get(&key).ok_or_else(|| {
            StorageError::Unsupported("an unresolved terminology modifier".into())
        })?;
        set = set.union(found);
    }
    Ok(set)
}

/// A token row is in one of the ValueSets.
pub(super) fn value_sets(terms: &Terms, refs: &[ValueSetRef]) -> Result<Sql, StorageError> {
    let set = union_of(terms, refs.iter().cloned().map(TermKey::ValueSet))?;
    Ok(code_set(&set))
}

/// A token row is subsumed by (or subsumes) one of the codes.
pub(super) fn subsumed(
    terms: &Terms,
    direction: Subsumption,
    values: &[CodeRef],
) -> Result<Sql, StorageError> {
    let keys = values
        .iter()
        .cloned()
        .map(move |v| TermKey::Subsumption(direction, v));
    let set = union_of(terms, keys)?;
    Ok(code_set(&set))
}

/// A token row (`x.system`, `x.code`) is a member of `set`. A row without a system (a
/// `code` element, whose system is implied by its binding) matches an explicit member with
/// the same code.
fn code_set(set: &CodeSet) -> Sql {
    let mut by_system: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (system, code) in set.codes() {
        by_system.entry(system).or_default().push(code);
    }
    let mut parts = Vec::new();
    for (system, codes) in &by_system {
        let mut sql = Sql::new("(x.system = ");
        sql.text(*system).push(" AND x.code IN (");
        sql.texts(codes.iter().copied()).push("))");
        parts.push(sql);
    }
    if !set.codes().is_empty() {
        let mut sql = Sql::new("(x.system = '' AND x.code IN (");
        let mut codes: Vec<&str> = set.codes().iter().map(|(_, c)| c.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        sql.texts(codes).push("))");
        parts.push(sql);
    }
    for system in set.systems() {
        let mut sql = Sql::new("(x.system = ");
        sql.text(system.clone());
        let excluded: Vec<&str> = set
            .excluded()
            .iter()
            .filter(|(s, _)| s == system)
            .map(|(_, c)| c.as_str())
            .collect();
        if !excluded.is_empty() {
            sql.push(" AND x.code NOT IN (").texts(excluded).push(")");
        }
        sql.push(")");
        parts.push(sql);
    }
    if parts.is_empty() {
        return Sql::new("1 = 0");
    }
    Sql::join(parts, " OR ")
}

/// Every word of one of the values is a word of `x.words`.
pub(super) fn text(values: &[TextValue]) -> Sql {
    let parts = values
        .iter()
        .map(|value| {
            let words = value
                .words
                .iter()
                .map(|word| {
                    let mut sql = Sql::new("x.words LIKE ");
                    sql.text(format!("% {} %", like_escape(word)))
                        .push(" ESCAPE '\\'");
                    sql
                })
                .collect();
            Sql::join(words, " AND ")
        })
        .collect();
    Sql::join(parts, " OR ")
}

/// The position is within the distance of one of the points: a bounding box (on the
/// lookup index) and the equirectangular distance, `Δlat² + (Δlon·cos φ)² ≤ r²` in degrees
/// with φ the searched latitude (cos computed here: SQLite has no trigonometry). Boxes
/// crossing the antimeridian are also tried shifted by ±360°.
pub(super) fn near(values: &[NearValue]) -> Sql {
    let mut parts = Vec::new();
    for value in values {
        let radius = value.distance_km / KM_PER_DEGREE;
        let cos = value.latitude.to_radians().cos().max(MIN_COS);
        let half_width = (radius / cos).min(360.0);
        for shift in [-360.0, 0.0, 360.0] {
            let center = value.longitude + shift;
            let (west, east) = (center - half_width, center + half_width);
            if east < -180.0 || west > 180.0 {
                continue;
            }
            let mut sql = Sql::new("(x.latitude >= ");
            sql.double(value.latitude - radius)
                .push(" AND x.latitude <= ")
                .double(value.latitude + radius);
            sql.push(" AND x.longitude >= ")
                .double(west)
                .push(" AND x.longitude <= ")
                .double(east);
            sql.push(" AND (x.latitude - ")
                .double(value.latitude)
                .push(") * (x.latitude - ")
                .double(value.latitude)
                .push(") + ((x.longitude - ")
                .double(center)
                .push(") * ")
                .double(cos)
                .push(") * ((x.longitude - ")
                .double(center)
                .push(") * ")
                .double(cos)
                .push(") <= ")
                .double(radius * radius)
                .push(")");
            parts.push(sql);
        }
    }
    Sql::join(parts, " OR ")
}
