//! Which resource types' index rows a query may read: the types it searches, the targets of
//! its chains, the sources of its reverse chains, the Lists of `_list`, and the sources of
//! its includes (any type for `*`). Deferred search rows (`interaction::deferred_index`)
//! are written before a query that may read them.

use super::model::{Criterion, SearchQuery};

impl SearchQuery {
    /// Whether running this query (criteria, sort, total, includes) may read the search
    /// rows of `res_type` resources. A system-level search without `_type` reads every type.
    pub fn may_read_index_of(&self, res_type: &str) -> bool {
        let searched = match &self.resource_type {
            Some(t) => t == res_type,
            None => self.types.is_empty() || self.types.iter().any(|t| t == res_type),
        };
        let included = self
            .result
            .include
            .iter()
            .chain(&self.result.revinclude)
            .any(|spec| spec.source_type.as_deref().is_none_or(|t| t == res_type));
        searched
            || included
            || self
                .criteria
                .iter()
                .any(|criterion| criterion_reads(criterion, res_type))
    }
}

/// Whether `criterion` reads rows of `res_type` besides those of the resources searched.
fn criterion_reads(criterion: &Criterion, res_type: &str) -> bool {
    match criterion {
        Criterion::Param(_) => false,
        Criterion::List(_) => res_type == "List",
        Criterion::Chain {
            target_type: through,
            criterion,
            ..
        }
        | Criterion::Has {
            source_type: through,
            criterion,
            ..
        } => through == res_type || criterion_reads(criterion, res_type),
    }
}
