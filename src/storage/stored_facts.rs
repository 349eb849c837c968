//! What the consent engine reads of stored resources beyond their JSON, for a whole page
//! of search results at once: the patients whose compartment holds each, who created it,
//! and when each of its labels was set. Three queries per page and type instead of three
//! per resource.

use std::collections::HashMap;

use diesel::prelude::*;

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
            resource_compartment::res_id,
            resource_compartment::patient_id,
        ))
        .order((
            resource_compartment::res_id,
            resource_compartment::patient_id,
        ));
    for (id, patient) in on_conn!(conn, c => compartments.load::<(String, String)>(c))? {
        if let Some(entry) = facts.get_mut(&id) {
            entry.compartment.push(patient);
        }
    }
    if !with_creators_and_labels {
        return Ok(facts);
    }
    let creators = resource_versions::table
        .filter(resource_versions::res_type.eq(res_type))
        .filter(resource_versions::res_id.eq_any(ids))
        .filter(resource_versions::version_id.eq(1))
        .select((resource_versions::res_id, resource_versions::author));
    for (id, author) in on_conn!(conn, c => creators.load::<(String, Option<String>)>(c))? {
        if let Some(entry) = facts.get_mut(&id) {
            entry.creator = author;
        }
    }
    let labels = resource_label::table
        .filter(resource_label::res_type.eq(res_type))
        .filter(resource_label::res_id.eq_any(ids))
        .select((
            resource_label::res_id,
            resource_label::system,
            resource_label::code,
            resource_label::set_at,
        ))
        .order((
            resource_label::res_id,
            resource_label::system,
            resource_label::code,
        ));
    for (id, system, code, set_at) in
        on_conn!(conn, c => labels.load::<(String, String, String, i64)>(c))?
    {
        if let Some(entry) = facts.get_mut(&id) {
            entry.label_times.push((system, code, set_at));
        }
    }
    Ok(facts)
}
