//! Matching for conditional interactions (FHIR R4 http.html#ccreate, #cond-update,
//! #cdelete, #patch, transaction conditional references): the ids of live resources of a
//! type that meet the criteria of a query string.

use std::collections::BTreeSet;

use super::error::InteractionError;
use crate::fhir::ids::{ResourceId, ResourceType};
use crate::search::criteria::{Criterion, parse_criteria};
use crate::storage::{Conn, tokens, versions};

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
    res_type: &ResourceType,
    criteria: &str,
) -> Result<Match, InteractionError> {
    match matching_ids(conn, res_type, criteria)?.as_slice() {
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

/// Ids (sorted, at most 2) of live `res_type` resources matching `query`.
fn matching_ids(
    conn: &mut Conn<'_>,
    res_type: &ResourceType,
    query: &str,
) -> Result<Vec<String>, InteractionError> {
    let criteria = parse_criteria(query)?;
    let mut result: Option<BTreeSet<String>> = None;
    for criterion in &criteria {
        let ids = ids_for(conn, res_type, criterion)?;
        result = Some(match result {
            None => ids,
            Some(previous) => previous.intersection(&ids).cloned().collect(),
        });
    }
    Ok(result
        .unwrap_or_default()
        .into_iter()
        .take(MATCH_LIMIT as usize)
        .collect())
}

fn ids_for(
    conn: &mut Conn<'_>,
    res_type: &ResourceType,
    criterion: &Criterion,
) -> Result<BTreeSet<String>, InteractionError> {
    let mut ids = BTreeSet::new();
    match criterion {
        Criterion::Id(alternatives) => {
            for id in alternatives {
                if let Some(row) = versions::current(conn, res_type.as_str(), id)?
                    && !row.is_deleted
                {
                    ids.insert(row.res_id);
                }
            }
        }
        Criterion::Identifier(alternatives) => {
            for token in alternatives {
                // Enough ids to intersect with other criteria correctly.
                let found = tokens::matching_ids(
                    conn,
                    res_type.as_str(),
                    "identifier",
                    token.system.as_deref(),
                    &token.code,
                    10_000,
                )?;
                ids.extend(found);
            }
        }
    }
    Ok(ids)
}
