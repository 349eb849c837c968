//! History (FHIR R4 http.html#history): versions of one resource, one type or the whole
//! server, newest first, in pages keyed by the commit sequence so that concurrent writes
//! never shift a page that was already served.

use diesel::dsl::{exists, not};
use diesel::prelude::*;

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::resource_versions;
use super::versions::VersionRow;

/// Whose history.
#[derive(Debug, Clone, Copy)]
pub enum HistoryScope<'a> {
    System,
    Type(&'a str),
    Instance(&'a str, &'a str),
}

/// The filters of a history request; times are milliseconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub struct HistoryFilter<'a> {
    pub scope: HistoryScope<'a>,
    /// `_since`: versions created at or after this instant.
    pub since: Option<i64>,
    /// `_at`: versions that were current at some point in `[start, end]`.
    pub at: Option<(i64, i64)>,
    /// Only versions of these types (what the caller may see), when set.
    pub types: Option<&'a [String]>,
}

diesel::alias!(resource_versions as successor: SuccessorVersions);

/// Builds the filtered, boxed query on the backend of the arm it is expanded in.
macro_rules! filtered {
    ($filter:expr) => {{
        let filter: &HistoryFilter<'_> = $filter;
        let mut query = resource_versions::table.into_boxed();
        match filter.scope {
            HistoryScope::System => {}
            HistoryScope::Type(t) => query = query.filter(resource_versions::res_type.eq(t)),
            HistoryScope::Instance(t, id) => {
                query = query
                    .filter(resource_versions::res_type.eq(t))
                    .filter(resource_versions::res_id.eq(id))
            }
        }
        if let Some(types) = filter.types {
            query = query.filter(resource_versions::res_type.eq_any(types));
        }
        if let Some(since) = filter.since {
            query = query.filter(resource_versions::last_updated.ge(since));
        }
        if let Some((start, end)) = filter.at {
            let superseded_before_start = successor
                .filter(
                    successor
                        .field(resource_versions::res_type)
                        .eq(resource_versions::res_type),
                )
                .filter(
                    successor
                        .field(resource_versions::res_id)
                        .eq(resource_versions::res_id),
                )
                .filter(
                    successor
                        .field(resource_versions::version_id)
                        .eq(resource_versions::version_id + 1),
                )
                .filter(successor.field(resource_versions::last_updated).le(start));
            query = query
                .filter(resource_versions::last_updated.le(end))
                .filter(not(exists(superseded_before_start)));
        }
        query
    }};
}

/// One page of versions, newest first, strictly older than `before_seq` when given.
pub fn page(
    conn: &mut Conn<'_>,
    filter: &HistoryFilter<'_>,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<VersionRow>, StorageError> {
    Ok(on_conn!(conn, c => {
        let mut query = filtered!(filter);
        if let Some(seq) = before_seq {
            query = query.filter(resource_versions::seq.lt(seq));
        }
        query
            .order(resource_versions::seq.desc())
            .limit(limit)
            .select(VersionRow::as_select())
            .load(c)
    })?)
}

/// How many versions match `filter` (all pages).
pub fn count(conn: &mut Conn<'_>, filter: &HistoryFilter<'_>) -> Result<i64, StorageError> {
    Ok(on_conn!(conn, c => filtered!(filter).count().get_result(c))?)
}
