//! Matching for conditional interactions (FHIR R4 http.html#ccreate, #cond-update,
//! #cdelete, #patch, transaction conditional references): the ids of live resources of a
//! type that meet the search criteria of a query string (the full FHIR search).

use super::access;
use super::context::{RequestContext, Services};
use super::deferred_index;
use super::error::InteractionError;
use crate::auth::Permission;
use crate::fhir::ids::{ResourceId, ResourceType};
use crate::search::query::{Handling, parse_search};
use crate::search::query_string::parse_pairs;
use crate::storage::Conn;
use crate::storage::search::{AccessFilter, PagePosition, PageRequest, search as storage_search};

/// The outcome of criteria that may match at most one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    None,
    One(ResourceId),
}

/// The one live `res_type` matching `criteria`, if any; more than one is 412, as the
/// conditional interactions of the spec require.
pub fn single_match(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    criteria: &str,
) -> Result<Match, InteractionError> {
    match matching_ids(conn, services, context, res_type, criteria)?.as_slice() {
        [] => Ok(Match::None),
        [one] => ResourceId::parse(one).map(Match::One).ok_or_else(|| {
            InteractionError::Storage(crate::storage::StorageError::Corrupt(format!(
                "stored id `{one}` is not a valid id"
            )))
        }),
        _ => Err(InteractionError::PreconditionFailed(format!(
            "the criteria `{criteria}` match more than one `{res_type}`"
        ))),
    }
}

/// How many matches we look at: conditional operations only distinguish 0, 1 and "more".
const MATCH_LIMIT: i64 = 2;

/// Ids (at most 2) of live `res_type` resources matching the search `query`. Handling is
/// strict: an unknown parameter must not silently widen what a conditional write touches.
fn matching_ids(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    query: &str,
) -> Result<Vec<String>, InteractionError> {
    let pairs = parse_pairs(query);
    let search = parse_search(
        &services.registry,
        Some(res_type.as_str()),
        &pairs,
        Handling::Strict,
    )
    .map_err(|e| InteractionError::invalid(e.to_string()))?;
    if search.criteria.is_empty() {
        return Err(InteractionError::invalid(format!(
            "the conditional criteria `{query}` hold no search parameter"
        )));
    }
    // Matching is a search: it needs `s` and sees only what the scopes let it see.
    let grant = access::require(
        services,
        &context.principal,
        res_type.as_str(),
        Permission::Search,
    )?;
    // …and the consent engine: a conditional write never matches (so never reveals) a
    // resource its subject may not see.
    let mut filter = AccessFilter {
        alternatives: grant.alternatives(),
        ..AccessFilter::default()
    };
    deferred_index::catch_up_in(conn, services, &search)?;
    let mut gate = access::Gate::open(conn, services, context)?;
    access::searching::narrow(conn, &mut gate, &search, None, &mut filter)?;
    let page = PageRequest {
        position: PagePosition::Offset(0),
        count: MATCH_LIMIT,
        with_total: false,
        first_read: None,
    };
    let found = storage_search(conn, &search, &filter, page, context.now_millis)?;
    Ok(found.rows.into_iter().map(|row| row.res_id).collect())
}
