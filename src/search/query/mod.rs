//! The query side of FHIR search (R4 search.html): a request's decoded name/value pairs
//! (from `query_string::parse_pairs` or a form body) parsed into a typed, validated
//! `SearchQuery` that a SQL translator walks directly — AND-ed criteria with OR-ed typed
//! values (normalised and ranged exactly as `search::extract` indexes them), chains,
//! reverse chains, and the result parameters — and rendered back as the canonical query
//! string of the `self` link. Unknown or unsupported parameters and modifiers are refused
//! under `Handling::Strict` and dropped (listed in `SearchQuery::ignored`) under
//! `Handling::Lenient`; bad values are always refused.
//!
//! Pure: depends on `std`, `crate::search::{registry, extract}`, `crate::fhir` and
//! `crate::error`; no SQL, no HTTP, no clock (`DateValue::approximate` takes the time).

mod control;
mod error;
mod everything;
mod model;
mod model_terms;
mod parse;
mod reads;
mod render;
mod terms;
mod values;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_chains;
#[cfg(test)]
mod tests_control;
#[cfg(test)]
mod tests_terms;
#[cfg(test)]
mod tests_values;

pub use error::QueryError;
pub use everything::{EVERYTHING_PARAMS, everything_criterion};
pub use model::{
    Column, ComponentValue, CompositeValue, Criterion, DateValue, Handling, Ignored, Include,
    Match, NumberValue, OfTypeValue, ParamCriterion, Prefix, QuantityValue, ReferenceValue,
    ResultParams, SearchQuery, SortKey, StringMode, StringValue, SummaryMode, TokenValue,
    TotalMode, TypedValue, UriMode,
};
pub use model_terms::{CodeRef, NearValue, Subsumption, TextScope, TextValue, ValueSetRef};

use crate::search::registry::SearchRegistry;
use control::RESULT_PARAMS;

/// Parameters about the response format, ignored silently (`rest` reads them).
const FORMAT_PARAMS: [&str; 2] = ["_format", "_pretty"];

/// The state of one parse: the registry, the handling asked for and what it dropped.
struct Ctx<'r> {
    registry: &'r SearchRegistry,
    handling: Handling,
    ignored: Vec<Ignored>,
}

impl Ctx<'_> {
    /// Under lenient handling, record an ignorable error and go on; otherwise fail.
    fn soft(&mut self, name: &str, value: &str, error: QueryError) -> Result<(), QueryError> {
        if self.handling == Handling::Lenient && error.is_ignorable() {
            self.ignored.push(Ignored {
                name: name.to_owned(),
                value: value.to_owned(),
                reason: error,
            });
            Ok(())
        } else {
            Err(error)
        }
    }

    /// `_type=Patient,Observation` of a system-level search.
    fn types(
        &self,
        resource_type: Option<&str>,
        name: &str,
        value: &str,
        types: &mut Vec<String>,
        seen: &mut bool,
    ) -> Result<(), QueryError> {
        if let Some(ty) = resource_type {
            return Err(QueryError::UnknownParameter {
                name: name.to_owned(),
                code: "_type".to_owned(),
                scope: format!("`{ty}`: it is for system-level search"),
            });
        }
        if let Some((_, modifier)) = name.split_once(':') {
            return Err(QueryError::UnknownModifier {
                name: name.to_owned(),
                modifier: modifier.to_owned(),
            });
        }
        if *seen {
            return Err(QueryError::Repeated {
                name: name.to_owned(),
            });
        }
        let mut parsed = Vec::new();
        for ty in values::alternatives(name, value)? {
            if !self.is_type(ty) {
                return Err(QueryError::bad(
                    name,
                    value,
                    format!("`{ty}` is not a resource type"),
                ));
            }
            parsed.push(ty.to_owned());
        }
        parsed.sort();
        parsed.dedup();
        *types = parsed;
        *seen = true;
        Ok(())
    }
}

/// Parse the search of `resource_type` (`None`: system-level search, where `_type` may
/// name the types) given as decoded `pairs`, in request order. `_count` is not capped:
/// the caller caps `result.count` (before rendering the `self` link).
pub fn parse_search(
    registry: &SearchRegistry,
    resource_type: Option<&str>,
    pairs: &[(String, String)],
    handling: Handling,
) -> Result<SearchQuery, QueryError> {
    let mut ctx = Ctx {
        registry,
        handling,
        ignored: Vec::new(),
    };
    if let Some(ty) = resource_type
        && !ctx.is_type(ty)
    {
        return Err(QueryError::UnknownType {
            resource_type: ty.to_owned(),
        });
    }
    let mut types = Vec::new();
    let mut seen_type = false;
    for (name, value) in pairs {
        if name.split(':').next() == Some("_type")
            && let Err(e) = ctx.types(resource_type, name, value, &mut types, &mut seen_type)
        {
            ctx.soft(name, value, e)?;
        }
    }
    let scope: Vec<String> = match resource_type {
        Some(ty) => vec![ty.to_owned()],
        None => types.clone(),
    };
    let mut criteria = Vec::new();
    let mut result = ResultParams::default();
    let mut seen = Vec::new();
    for (name, value) in pairs {
        let (base, modifier) = match name.split_once(':') {
            Some((base, modifier)) => (base, Some(modifier)),
            None => (name.as_str(), None),
        };
        if FORMAT_PARAMS.contains(&base) || base == "_type" {
            continue;
        }
        let outcome = if RESULT_PARAMS.contains(&base) {
            ctx.result_param(&scope, &mut result, &mut seen, name, base, modifier, value)
        } else {
            ctx.criterion(&scope, name, name, value)
                .map(|c| criteria.push(c))
        };
        if let Err(e) = outcome {
            ctx.soft(name, value, e)?;
        }
    }
    Ok(SearchQuery {
        resource_type: resource_type.map(str::to_owned),
        types,
        criteria,
        result,
        ignored: ctx.ignored,
    })
}
