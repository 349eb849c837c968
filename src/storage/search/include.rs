//! `_include` and `_revinclude` (FHIR R4 search.html#include): the resources the
//! references of a page reach, or that reach it, under the search's access filter (its
//! scope alternatives and records filter), followed again for `:iterate` a few levels deep.
//!
//! Both directions read `search_reference` through an index whose key starts with the
//! type and parameter holding the reference: forward from the owner (`res_type, res_id`),
//! reverse from the lookup index (`res_type, param, target_id`). A reverse include names
//! its source type and parameter, or is a wildcard (`*`, `Type:*`) that the caller expands
//! into every reference parameter of the registry (`reference_params`); there is no index
//! on the target alone, which every reference row (the AuditEvent of a search names each
//! patient it returned) would pay for at each write.

use std::collections::HashSet;

use super::access::{self, AccessFilter};
use super::predicate::Aliases;
use super::sql::{FoundRow, Sql, load_found};
use super::{Include, dialect_of};
use crate::storage::conn::Conn;
use crate::storage::error::StorageError;

/// Most rounds of `:iterate`.
const MAX_ITERATIONS: usize = 4;

/// Resources that `include`s and `revinclude`s reach from `rows` (`:iterate` follows them
/// again, a few levels deep), without those already in `rows`. `reference_params`: every
/// reference parameter of the registry as `(type, code)`, for wildcard revincludes (may be
/// empty when there is none).
pub fn included(
    conn: &mut Conn<'_>,
    rows: &[FoundRow],
    include: &[Include],
    revinclude: &[Include],
    reference_params: &[(String, String)],
    access: &AccessFilter,
    now_ms: i64,
) -> Result<Vec<FoundRow>, StorageError> {
    let mut seen: HashSet<(String, String)> = rows
        .iter()
        .map(|r| (r.res_type.clone(), r.res_id.clone()))
        .collect();
    let mut found = Vec::new();
    let mut frontier: Vec<FoundRow> = rows.to_vec();
    for round in 0..MAX_ITERATIONS {
        if frontier.is_empty() {
            break;
        }
        let mut next = Vec::new();
        let specs = include
            .iter()
            .map(|i| (i, false))
            .chain(revinclude.iter().map(|i| (i, true)));
        for (spec, reverse) in specs {
            if round > 0 && !spec.iterate {
                continue;
            }
            let references = if reverse {
                reverse_references(&frontier, spec, reference_params)
            } else {
                forward_references(&frontier, spec)
            };
            let Some(sql) = references else {
                continue;
            };
            for row in reachable(conn, sql, access, now_ms)? {
                if seen.insert((row.res_type.clone(), row.res_id.clone())) {
                    next.push(row);
                }
            }
        }
        found.extend(next.iter().cloned());
        frontier = next;
    }
    Ok(found)
}

/// The live resources `references` (a `SELECT … FROM … search_reference x JOIN
/// current_resources t … WHERE …`) reaches that `access` lets through.
fn reachable(
    conn: &mut Conn<'_>,
    mut sql: Sql,
    access: &AccessFilter,
    now_ms: i64,
) -> Result<Vec<FoundRow>, StorageError> {
    let mut aliases = Aliases::new(dialect_of(conn));
    sql.append(access::scope_and_records_clause(
        access,
        "t",
        &mut aliases,
        now_ms,
    )?);
    load_found(conn, &sql)
}

const SELECT_REACHED: &str =
    "SELECT DISTINCT t.res_type, t.res_id, t.version_id, t.last_updated, t.content";

/// The resources the references of `from` (those of the include's source type) point to;
/// `None` when no row of `from` can hold them.
fn forward_references(from: &[FoundRow], spec: &Include) -> Option<Sql> {
    let owners: Vec<&FoundRow> = from
        .iter()
        .filter(|row| spec.source_type.as_ref().is_none_or(|t| *t == row.res_type))
        .collect();
    if owners.is_empty() {
        return None;
    }
    let mut sql = Sql::new(SELECT_REACHED);
    sql.push(
        " FROM search_reference x JOIN current_resources t ON t.res_type = x.target_type \
         AND t.res_id = x.target_id AND NOT t.is_deleted WHERE (",
    );
    sql.append(one_of(&owners, "x.res_type", "x.res_id"));
    sql.push(")");
    if let Some(param) = &spec.param {
        sql.push(" AND x.param = ").text(param.clone());
    }
    if let Some(target) = &spec.target_type {
        sql.push(" AND x.target_type = ").text(target.clone());
    }
    Some(sql)
}

/// The resources whose references (of the revinclude's source type and parameter, or of
/// every reference parameter for a wildcard) point to rows of `from` (those of its target
/// type); `None` when there are none to look for. The `(type, parameter)` pairs drive
/// (`CROSS JOIN` keeps that order on SQLite), each probing the lookup index with the
/// targets' ids; the exact (type, id) pairs are checked after.
fn reverse_references(
    from: &[FoundRow],
    spec: &Include,
    reference_params: &[(String, String)],
) -> Option<Sql> {
    let targets: Vec<&FoundRow> = from
        .iter()
        .filter(|row| spec.target_type.as_ref().is_none_or(|t| *t == row.res_type))
        .collect();
    let sources: Vec<(&str, &str)> = match (&spec.source_type, &spec.param) {
        (Some(source), Some(param)) => vec![(source.as_str(), param.as_str())],
        (source, _) => reference_params
            .iter()
            .filter(|(t, _)| source.as_ref().is_none_or(|s| s == t))
            .map(|(t, p)| (t.as_str(), p.as_str()))
            .collect(),
    };
    if targets.is_empty() || sources.is_empty() {
        return None;
    }
    let mut sql = Sql::new("WITH sources (src_type, src_param) AS (VALUES ");
    for (i, (source, param)) in sources.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .text(*source)
            .push(", ")
            .text(*param)
            .push(")");
    }
    sql.push(") ").push(SELECT_REACHED);
    sql.push(
        " FROM sources s CROSS JOIN search_reference x JOIN current_resources t \
         ON t.res_type = x.res_type AND t.res_id = x.res_id AND NOT t.is_deleted \
         WHERE x.res_type = s.src_type AND x.param = s.src_param AND x.target_id IN (",
    );
    let mut ids: Vec<&str> = targets.iter().map(|row| row.res_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    sql.texts(ids.into_iter().map(str::to_owned));
    sql.push(") AND (");
    sql.append(one_of(&targets, "x.target_type", "x.target_id"));
    sql.push(")");
    Some(sql)
}

/// `(type_column = ? AND id_column = ?) OR …`, one term per row.
fn one_of(rows: &[&FoundRow], type_column: &str, id_column: &str) -> Sql {
    let mut sql = Sql::new("");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push(&format!("({type_column} = "))
            .text(row.res_type.clone())
            .push(&format!(" AND {id_column} = "))
            .text(row.res_id.clone())
            .push(")");
    }
    sql
}
