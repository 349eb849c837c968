//! What the consent engine reads of stored resources beyond their JSON, for a whole page
//! of search results at once: the patients whose compartment holds each, who created it,
//! and when each of its labels was set. One query per page and type (a `UNION ALL` of the
//! three lookups) instead of three per resource.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::{resource_compartment, resource_label, resource_versions};

/// The stored facts of one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredFacts {
    /// Patients whose compartment holds it, sorted.
    pub compartment: Vec<String>,
    /// The author of its first version.
    pub creator: Option<String>,
    /// `(system, code, set_at)` of its labels, sorted.
    pub label_times: Vec<(String, String, i64)>,
}

/// Which lookup a row of the union answers.
const COMPARTMENT: i32 = 0;
const CREATOR: i32 = 1;
const LABEL: i32 = 2;

// The constant columns are bound values, not SQL text, so that the statement stays
// cacheable (prepared once per connection).

/// A row of the union: `(lookup, id, first value, second value, time)`.
type FactRow = (i32, String, Option<String>, Option<String>, i64);

/// The stored facts of the resources `ids` of type `res_type` (every id has an entry);
/// their compartments only unless `with_creators_and_labels`.
pub fn stored_facts_of(
    conn: &mut Conn<'_>,
    res_type: &str,
    ids: &[String],
    with_creators_and_labels: bool,
) -> Result<HashMap<String, StoredFacts>, StorageError> {
    let mut facts: HashMap<String, StoredFacts> = ids
        .iter()
        .map(|id| (id.clone(), StoredFacts::default()))
        .collect();
    if ids.is_empty() {
        return Ok(facts);
    }
    let compartments = resource_compartment::table
        .filter(resource_compartment::res_type.eq(res_type))
        .filter(resource_compartment::res_id.eq_any(ids))
        .select((
            COMPARTMENT.into_sql::<Integer>(),
            resource_compartment::res_id,
            resource_compartment::patient_id.nullable(),
            None::<String>.into_sql::<Nullable<Text>>(),
            0_i64.into_sql::<BigInt>(),
        ));
    let rows: Vec<FactRow> = if with_creators_and_labels {
        let creators = resource_versions::table
            .filter(resource_versions::res_type.eq(res_type))
            .filter(resource_versions::res_id.eq_any(ids))
            .filter(resource_versions::version_id.eq(1))
            .select((
                CREATOR.into_sql::<Integer>(),
                resource_versions::res_id,
                resource_versions::author,
                None::<String>.into_sql::<Nullable<Text>>(),
                0_i64.into_sql::<BigInt>(),
            ));
        let labels = resource_label::table
            .filter(resource_label::res_type.eq(res_type))
            .filter(resource_label::res_id.eq_any(ids))
            .select((
                LABEL.into_sql::<Integer>(),
                resource_label::res_id,
                resource_label::system.nullable(),
                resource_label::code.nullable(),
                resource_label::set_at,
            ));
        on_conn!(conn, c => compartments
            .union_all(creators)
            .union_all(labels)
            .load::<FactRow>(c))?
    } else {
        on_conn!(conn, c => compartments.load::<FactRow>(c))?
    };
    for (lookup, id, first, second, time) in rows {
        let Some(entry) = facts.get_mut(&id) else {
            continue;
        };
        match (lookup, first, second) {
            (COMPARTMENT, Some(patient), _) => entry.compartment.push(patient),
            (CREATOR, author, _) => entry.creator = author,
            (LABEL, Some(system), Some(code)) => entry.label_times.push((system, code, time)),
            _ => {}
        }
    }
    for entry in facts.values_mut() {
        entry.compartment.sort();
        entry.label_times.sort();
    }
    Ok(facts)
}
