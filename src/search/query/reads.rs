//! Which resource types' index rows a query may read: the types it searches, the targets of
//! its chains, the sources of its reverse chains, the Lists of `_list`, and the sources of
//! its includes (any type for `*`). Deferred search rows (`interaction::deferred_index`)
//! are written before a query that may read them, only those in the patients'
//! compartments the query is bound to when it is (`compartments_bounding`).

use super::model::{Column, Criterion, Match, ReferenceValue, SearchQuery};

impl SearchQuery {
    /// Whether running this query (criteria, sort, total, includes) may read the search
    /// rows of `res_type` resources. A system-level search without `_type` reads every type.
    pub fn may_read_index_of(&self, res_type: &str) -> bool {
        let searched = match &self.resource_type {
            Some(t) => t == res_type,
            None => self.types.is_empty() || self.types.iter().any(|t| t == res_type),
        };
        searched || self.reads_index_of_others(res_type)
    }

    /// Whether this query may read the search rows of `res_type` resources other than those
    /// it matches: through a chain, a reverse chain or an include.
    pub fn reads_index_of_others(&self, res_type: &str) -> bool {
        self.result
            .include
            .iter()
            .chain(&self.result.revinclude)
            .any(|spec| spec.source_type.as_deref().is_none_or(|t| t == res_type))
            || self
                .criteria
                .iter()
                .any(|criterion| criterion_reads(criterion, res_type))
    }

    /// The patients in whose compartments lies every `res_type` resource whose search rows
    /// this query may read, when the query alone tells: it searches `res_type` and nothing
    /// else, reads no other `res_type` rows (`reads_index_of_others`), and one of its
    /// criteria is a reference to local Patients (`patient=p1,Patient/p2`) on one of
    /// `compartment_params`, the parameters whose Patients are the resource's compartment.
    /// A resource it may match is then in one of those compartments, and so is every row
    /// its sort and total read.
    pub fn compartments_bounding(
        &self,
        res_type: &str,
        compartment_params: &[String],
    ) -> Option<Vec<String>> {
        if self.resource_type.as_deref() != Some(res_type) || self.reads_index_of_others(res_type) {
            return None;
        }
        self.criteria.iter().find_map(|criterion| match criterion {
            Criterion::Param(param)
                if param.column == Column::Index && compartment_params.contains(&param.code) =>
            {
                local_patients(&param.matcher)
            }
            _ => None,
        })
    }
}

/// The ids of a reference match whose every value is a local Patient (`p1`, `Patient/p1`,
/// `Patient/p1/_history/2`).
fn local_patients(matcher: &Match) -> Option<Vec<String>> {
    let Match::Reference(values) = matcher else {
        return None;
    };
    values
        .iter()
        .map(|value| match value {
            ReferenceValue::Local {
                target_type, id, ..
            } if target_type.as_deref().is_none_or(|t| t == "Patient") => Some(id.clone()),
            _ => None,
        })
        .collect()
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
