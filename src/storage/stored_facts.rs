//! What the consent engine reads of stored resources beyond their JSON, for a whole page
//! of search results at once: the patients whose compartment holds each, who created it,
//! and when each of its labels was set. One query per page and type (a `UNION ALL` of the
//! three lookups) instead of three per resource; for a single resource, the stamps of its
//! records come with them.

use std::collections::HashMap;

use super::conn::Conn;
use super::error::StorageError;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::record_stamp::{RecordStamp, collect_stamps, stamp_rows};
use super::search::sql::{Sql, load_raw};

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

/// A row of the lookups (`storage::record_stamp` writes its stamp rows in this shape too):
/// which lookup answers it, the resource (or patient) id, up to two values and a number.
#[derive(Debug, QueryableByName)]
pub(crate) struct FactRow {
    #[diesel(sql_type = Integer)]
    pub lookup: i32,
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub first: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub second: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub at: i64,
}

/// Runs a query of the lookups' shape.
pub(crate) fn load_fact_rows(conn: &mut Conn<'_>, sql: &Sql) -> Result<Vec<FactRow>, StorageError> {
    Ok(load_raw!(conn, sql, FactRow, true)?)
}

/// Most ids in one query (each is bound three times; SQLite binds at most 32,766 values).
const MOST_IDS_PER_QUERY: usize = 1_000;

/// Which lookup a row of the union answers.
const COMPARTMENT: i32 = 0;
const CREATOR: i32 = 1;
const LABEL: i32 = 2;

/// The stored facts of the resources `ids` of type `res_type` (every id has an entry);
/// their compartments only unless `with_creators_and_labels`.
pub fn stored_facts_of(
    conn: &mut Conn<'_>,
    res_type: &str,
    ids: &[String],
    with_creators_and_labels: bool,
) -> Result<HashMap<String, StoredFacts>, StorageError> {
    if ids.len() > MOST_IDS_PER_QUERY {
        let mut facts = HashMap::new();
        for chunk in ids.chunks(MOST_IDS_PER_QUERY) {
            facts.extend(stored_facts_of(
                conn,
                res_type,
                chunk,
                with_creators_and_labels,
            )?);
        }
        return Ok(facts);
    }
    let mut facts = empty_facts(ids);
    if ids.is_empty() {
        return Ok(facts);
    }
    let sql = facts_sql(res_type, ids, with_creators_and_labels);
    let rows = load_fact_rows(conn, &sql)?;
    collect_facts(rows, &mut facts);
    Ok(facts)
}

/// What a decision on the current version of `res_type/id` reads: its stored facts (with
/// creator and label times) and the stamps of the records its compartment names
/// (`storage::record_stamp`; every patient of the compartment has one), in one query.
pub fn decision_facts_of(
    conn: &mut Conn<'_>,
    res_type: &str,
    id: &str,
) -> Result<(StoredFacts, HashMap<String, RecordStamp>), StorageError> {
    let ids = [id.to_owned()];
    let mut sql = facts_sql(res_type, &ids, true);
    let mut compartment = Sql::new("SELECT patient_id FROM resource_compartment WHERE res_type = ");
    compartment.text(res_type).push(" AND res_id = ").text(id);
    sql.push(" UNION ALL ").append(stamp_rows(&compartment));
    let rows = load_fact_rows(conn, &sql)?;
    let mut stamps = HashMap::new();
    collect_stamps(&rows, &mut stamps);
    let mut facts = empty_facts(&ids);
    collect_facts(rows, &mut facts);
    let stored = facts.remove(id).unwrap_or_default();
    for patient in &stored.compartment {
        stamps.entry(patient.clone()).or_default();
    }
    Ok((stored, stamps))
}

/// An empty entry for each of `ids`.
fn empty_facts(ids: &[String]) -> HashMap<String, StoredFacts> {
    ids.iter()
        .map(|id| (id.clone(), StoredFacts::default()))
        .collect()
}

/// The union of the lookups of `ids` (1 to `MOST_IDS_PER_QUERY`) of type `res_type`.
fn facts_sql(res_type: &str, ids: &[String], with_creators_and_labels: bool) -> Sql {
    // The ids are bound one by one (`IN (?, ?, …)`), not as one array: the statement of a
    // page size is prepared once and PostgreSQL's generic plan, probing the primary keys,
    // is cheaper than planning it again for each page.
    let part = |sql: &mut Sql, select: &str, table: &str, extra: &str| {
        sql.push(select)
            .push(" FROM ")
            .push(table)
            .push(" WHERE res_type = ");
        sql.text(res_type).push(" AND res_id IN (");
        sql.texts(ids.iter().cloned()).push(")").push(extra);
    };
    let mut sql = Sql::new("");
    part(
        &mut sql,
        &format!(
            "SELECT {COMPARTMENT} AS lookup, res_id AS id, patient_id AS first, \
             NULL AS second, CAST(0 AS BIGINT) AS at"
        ),
        "resource_compartment",
        "",
    );
    if with_creators_and_labels {
        sql.push(" UNION ALL ");
        part(
            &mut sql,
            &format!("SELECT {CREATOR}, res_id, author, NULL, CAST(0 AS BIGINT)"),
            "resource_versions",
            " AND version_id = 1",
        );
        sql.push(" UNION ALL ");
        part(
            &mut sql,
            &format!("SELECT {LABEL}, res_id, system, code, set_at"),
            "resource_label",
            "",
        );
    }
    sql
}

/// Adds the facts among `rows` to the entries of `facts` (rows of other lookups or of
/// resources without an entry are ignored).
fn collect_facts(rows: Vec<FactRow>, facts: &mut HashMap<String, StoredFacts>) {
    for FactRow {
        lookup,
        id,
        first,
        second,
        at: time,
    } in rows
    {
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
}
