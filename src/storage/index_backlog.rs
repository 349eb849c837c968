//! The backlog of deferred search rows (`index_backlog`, migration 15): the resources whose
//! current version has no rows in the `search_*` tables yet. Its one invariant: a resource
//! is in the backlog exactly when its search rows are missing. `index::insert_created`
//! adds it when told to defer them, `index::write_deferred` writes them and removes it in
//! one transaction, and `index::clear` (any change or deletion) removes it.

use diesel::prelude::*;

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::{current_resources, index_backlog, resource_compartment};
use super::versions::CurrentRow;

/// The resource types whose search rows may be deferred: the AuditEvents of reads and
/// searches. A search of any other type never reads the backlog.
pub const DEFERRABLE_TYPES: [&str; 1] = ["AuditEvent"];

#[derive(Insertable)]
#[diesel(table_name = index_backlog)]
pub(super) struct BacklogRow<'a> {
    pub(super) res_type: &'a str,
    pub(super) res_id: &'a str,
}

#[cfg(feature = "sqlite")]
mod sqlite_rows {
    //! How a backlog row inserts itself on SQLite (`sqlite_insert`).
    use super::BacklogRow;
    use crate::storage::sqlite_insert::sqlite_insert;

    sqlite_insert!(BacklogRow => index_backlog: res_type, res_id);
}

/// At most `limit` resources of the backlog, in key order (for server-assigned ids, the
/// order they were created), with their current version.
pub fn pending(conn: &mut Conn<'_>, limit: i64) -> Result<Vec<CurrentRow>, StorageError> {
    Ok(on_conn!(conn, c => {
        index_backlog::table
            .inner_join(
                current_resources::table.on(current_resources::res_type
                    .eq(index_backlog::res_type)
                    .and(current_resources::res_id.eq(index_backlog::res_id))),
            )
            .order((index_backlog::res_type, index_backlog::res_id))
            .limit(limit)
            .select(CurrentRow::as_select())
            .load(c)
    })?)
}

/// At most `limit` `res_type` resources of the backlog whose id comes after `after`, in id
/// order, with their current version.
pub fn pending_after(
    conn: &mut Conn<'_>,
    res_type: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<CurrentRow>, StorageError> {
    Ok(on_conn!(conn, c => {
        let mut query = index_backlog::table
            .inner_join(
                current_resources::table.on(current_resources::res_type
                    .eq(index_backlog::res_type)
                    .and(current_resources::res_id.eq(index_backlog::res_id))),
            )
            .filter(index_backlog::res_type.eq(res_type))
            .order(index_backlog::res_id)
            .limit(limit)
            .select(CurrentRow::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(index_backlog::res_id.gt(after));
        }
        query.load(c)
    })?)
}

/// Ids looked up in the backlog per statement.
const IDS_PER_LOOKUP: usize = 500;

/// The `res_type` resources of the backlog in the compartment of one of `patients`, in id
/// order, with their current version. Two steps, whatever the planners think of the
/// backlog's size: the ids in those compartments (by the compartment's patient index),
/// then each looked up by the backlog's key. (As one statement, PostgreSQL may walk the
/// whole backlog and look each resource up in the compartments; SQLite enters the
/// compartments by their type when asked for it.)
pub fn pending_in(
    conn: &mut Conn<'_>,
    res_type: &str,
    patients: &[String],
) -> Result<Vec<CurrentRow>, StorageError> {
    let in_compartments: Vec<(String, String)> = on_conn!(conn, c => {
        resource_compartment::table
            .filter(resource_compartment::patient_id.eq_any(patients))
            .select((resource_compartment::res_type, resource_compartment::res_id))
            .load(c)
    })?;
    let mut ids: Vec<String> = in_compartments
        .into_iter()
        .filter(|(t, _)| t == res_type)
        .map(|(_, id)| id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = Vec::new();
    for chunk in ids.chunks(IDS_PER_LOOKUP) {
        rows.extend(on_conn!(conn, c => {
            index_backlog::table
                .inner_join(
                    current_resources::table.on(current_resources::res_type
                        .eq(index_backlog::res_type)
                        .and(current_resources::res_id.eq(index_backlog::res_id))),
                )
                .filter(index_backlog::res_type.eq(res_type))
                .filter(index_backlog::res_id.eq_any(chunk))
                .select(CurrentRow::as_select())
                .load::<CurrentRow>(c)
        })?);
    }
    rows.sort_unstable_by(|a, b| a.res_id.cmp(&b.res_id));
    Ok(rows)
}

/// How many resources the backlog holds.
pub fn size(conn: &mut Conn<'_>) -> Result<i64, StorageError> {
    Ok(on_conn!(conn, c => index_backlog::table.count().get_result(c))?)
}

/// Removes the resources `ids` of `res_type` from the backlog; returns those that were
/// there (one statement).
pub(super) fn take(
    conn: &mut Conn<'_>,
    res_type: &str,
    ids: &[&str],
) -> Result<Vec<String>, StorageError> {
    let rows = index_backlog::table
        .filter(index_backlog::res_type.eq(res_type))
        .filter(index_backlog::res_id.eq_any(ids));
    Ok(on_conn!(conn, c => diesel::delete(rows)
        .returning(index_backlog::res_id)
        .get_results(c))?)
}
