//! search: `GET [base]/[type]?…`, `POST [base]/[type]/_search`, `GET [base]?…` (FHIR R4
//! search.html). The query is parsed into a typed `SearchQuery` (every error names its
//! parameter), run in SQL by storage with its total and page, then `_include` /
//! `_revinclude` are followed from the page. Consent narrowing will be added to the same
//! SQL (consent issue).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::access::{self, Gate, TypeGrant};
use super::context::{RequestContext, Services};
use super::deferred_index;
use super::error::InteractionError;
use super::page_token;
use super::stored::StoredResource;
use super::target;
use crate::audit::QueryTrail;
use crate::auth::Permission;
use crate::fhir::resource::mark_subsetted;
use crate::search::query::{
    Criterion, EVERYTHING_PARAMS, Handling, Include, SearchQuery, SummaryMode, TotalMode,
    everything_criterion, parse_search,
};
use crate::search::query_string::join_pairs;
use crate::search::registry::SearchParamType;
use crate::storage::search::{
    self, AccessAlternative, AccessFilter, FoundRow, PagePosition, PageRequest,
};

/// What a search found.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// The query as understood (its canonical string makes the `self` link).
    pub query: SearchQuery,
    pub matches: Vec<StoredResource>,
    pub included: Vec<StoredResource>,
    pub total: Option<i64>,
    pub count: i64,
    /// The `_page` token of this page (`None` for the first).
    pub page: Option<String>,
    pub previous_page: Option<String>,
    pub next_page: Option<String>,
}

/// Where to search: a type, every type (`None`), and optionally inside the compartment of
/// one patient (`GET [base]/Patient/{id}/{type}`, `…/*`).
#[derive(Debug, Clone, Copy)]
pub struct SearchScope<'a> {
    pub type_name: Option<&'a str>,
    pub patient_compartment: Option<&'a str>,
    /// `Patient/{id}/$everything`: its own parameters (`start`, `end`, `_since`) are
    /// taken besides search's.
    pub everything: bool,
}

/// The query of a search as it will run: parsed, limited to a patient's compartment, and
/// narrowed to the token's scopes (the consent filter is added inside the read
/// transaction); the grants recheck the rows found.
fn planned(
    services: &Services,
    context: &RequestContext,
    scope: SearchScope<'_>,
    pairs: &[(String, String)],
    handling: Handling,
) -> Result<(SearchQuery, AccessFilter, SearchGrants), InteractionError> {
    let (operation_pairs, search_pairs): (Vec<&(String, String)>, Cow<'_, [_]>) =
        if scope.everything {
            let (operation, search): (Vec<_>, Vec<_>) = pairs
                .iter()
                .partition(|(name, _)| EVERYTHING_PARAMS.contains(&name.as_str()));
            (operation, Cow::Owned(search.into_iter().cloned().collect()))
        } else {
            (Vec::new(), Cow::Borrowed(pairs))
        };
    let mut query = parse_search(&services.registry, scope.type_name, &search_pairs, handling)
        .map_err(|e| InteractionError::invalid(e.to_string()))?;
    for (name, value) in operation_pairs {
        let criterion = everything_criterion(name, value)
            .map_err(|e| InteractionError::invalid(e.to_string()))?;
        query.criteria.push(criterion);
    }
    let mut access = AccessFilter::default();
    if let Some(patient) = scope.patient_compartment {
        let patient = target::resource_id(patient)?;
        let in_compartment =
            |t: &str| t == "Patient" || !services.registry.patient_compartment_params(t).is_empty();
        match scope.type_name {
            Some(t) if !in_compartment(t) => {
                return Err(InteractionError::invalid(format!(
                    "`{t}` is not in the Patient compartment"
                )));
            }
            Some(_) => {}
            None if query.types.is_empty() => {
                query.types = services
                    .schema
                    .resource_types()
                    .filter(|t| in_compartment(t))
                    .map(str::to_owned)
                    .collect();
            }
            None => query.types.retain(|t| in_compartment(t)),
        }
        access.patients = Some(vec![patient.as_str().to_owned()]);
    }
    let grants = SearchGrants::of(services, context, &mut query)?;
    access.alternatives = grants.alternatives();
    Ok((query, access, grants))
}

/// The page size of `query`: its `_count`, or the default, within the server's maximum.
fn page_size(services: &Services, query: &SearchQuery) -> i64 {
    query
        .result
        .count
        .map_or(services.limits.default_page_size, |c| c as usize)
        .min(services.limits.max_page_size) as i64
}

/// The database's plan for the first page of a search, exactly as `search` would run it
/// for `context` (scopes and consent included): for benchmarks and operators checking that
/// searches use indexes.
pub fn explain(
    services: &Services,
    context: &RequestContext,
    scope: SearchScope<'_>,
    pairs: &[(String, String)],
) -> Result<Vec<String>, InteractionError> {
    let (query, mut access, _) = planned(services, context, scope, pairs, Handling::Strict)?;
    let count = page_size(services, &query);
    services.store.read(|conn| {
        let mut gate = Gate::open(conn, services, context)?;
        access::searching::narrow(
            conn,
            &mut gate,
            &query,
            scope.patient_compartment,
            &mut access,
        )?;
        Ok(search::explain(
            conn,
            &query,
            &access,
            count,
            context.now_millis,
        )?)
    })
}

/// Runs a search for `context`: one page of matches (narrowed in SQL to what the scopes
/// and the consent engine let the subject see, each decided again), its includes, total
/// and the tokens of the neighbouring pages.
pub fn search(
    services: &Services,
    context: &RequestContext,
    scope: SearchScope<'_>,
    pairs: &[(String, String)],
    handling: Handling,
) -> Result<SearchResult, InteractionError> {
    let (mut query, mut access, grants) = planned(services, context, scope, pairs, handling)?;
    deferred_index::catch_up_for(services, &query, access.patients.as_deref())?;
    let mut count = page_size(services, &query);
    query.result.count = Some(count as u32);
    let (position, first_read) = match &query.result.page {
        None => (PagePosition::Offset(0), None),
        Some(token) => {
            let token = page_token::parse(token)?;
            (token.position, Some(token.first_read))
        }
    };
    let view = match query.result.summary {
        Some(SummaryMode::Count) => {
            count = 0;
            View::Full
        }
        Some(SummaryMode::True) => View::Summary,
        Some(SummaryMode::Text) => View::Text,
        Some(SummaryMode::Data) => View::Data,
        Some(SummaryMode::False) | None if !query.result.elements.is_empty() => {
            View::Elements(query.result.elements.clone())
        }
        Some(SummaryMode::False) | None => View::Full,
    };
    let with_total = query.result.total != Some(TotalMode::None) || count == 0;
    let page = PageRequest {
        position: position.clone(),
        count,
        with_total,
        first_read,
    };
    let now = context.now_millis;
    let compartment = scope.patient_compartment;
    let query_string = join_pairs(pairs);
    let (found, included) = services.store.read(|conn| {
        let mut gate = Gate::open(conn, services, context)?;
        access::searching::narrow(conn, &mut gate, &query, compartment, &mut access)?;
        let mut found = search::search(conn, &query, &access, page, now)?;
        let included = if query.result.include.is_empty() && query.result.revinclude.is_empty() {
            Vec::new()
        } else {
            let include_access = AccessFilter {
                records: access.records.clone(),
                ..AccessFilter::default()
            };
            search::included(
                conn,
                &found.rows,
                &query.result.include,
                &query.result.revinclude,
                &wildcard_sources(services, &query.result.revinclude),
                &include_access,
                now,
            )?
        };
        let mut trail = QueryTrail::default();
        let rows = std::mem::take(&mut found.rows);
        found.rows = access::searching::recheck(conn, &mut gate, rows, &mut trail)?;
        let included = access::searching::recheck(conn, &mut gate, included, &mut trail)?;
        let identities =
            access::identity::identity_matches(conn, &gate, &query, &found.rows, now, &mut trail)?;
        found.total = found.total.map(|t| t + identities.len() as i64);
        if count > 0 {
            found.rows.extend(identities);
        }
        gate.audit_query(trail, Some(query_string.clone()));
        Ok::<_, InteractionError>((found, included))
    })?;
    let mut readable = ReadGrants::default();
    let matches: Vec<FoundRow> = found
        .rows
        .iter()
        .filter(|row| {
            let permitted = grants.permits(services, row);
            if !permitted {
                log::error!(
                    "BUG: `{}/{}` matched a search outside the subject's grant and was dropped",
                    row.res_type,
                    row.res_id
                );
            }
            permitted
        })
        .cloned()
        .collect();
    let included: Vec<FoundRow> = included
        .into_iter()
        .filter(|row| readable.permits(services, context, row))
        .collect();
    let shape = |rows: Vec<FoundRow>| -> Vec<StoredResource> {
        rows.into_iter()
            .filter_map(|row| {
                let json = view.apply(services, &row.res_type, row.content?);
                Some(StoredResource {
                    res_type: row.res_type,
                    id: row.res_id,
                    version_id: row.version_id,
                    last_updated: row.last_updated,
                    json,
                })
            })
            .collect()
    };
    let (previous_page, next_page) =
        page_token::neighbours(&position, &found, first_read.unwrap_or(now));
    Ok(SearchResult {
        matches: shape(matches),
        included: shape(included),
        total: found.total,
        count,
        page: query.result.page.clone(),
        previous_page,
        next_page,
        query,
    })
}

/// Every reference parameter of the registry as `(type, code)`, when a revinclude is a
/// wildcard (`*`, `Type:*`) that follows them all; empty otherwise.
fn wildcard_sources(services: &Services, revinclude: &[Include]) -> Vec<(String, String)> {
    if revinclude.iter().all(|spec| spec.param.is_some()) {
        return Vec::new();
    }
    let registry = &services.registry;
    registry
        .resource_types()
        .flat_map(|res_type| {
            registry
                .params_of(res_type)
                .filter(|def| def.is_supported() && def.param_type() == SearchParamType::Reference)
                .map(move |def| (res_type.to_owned(), def.code().to_owned()))
        })
        .collect()
}

/// What the scopes allow a search to see: a grant per type searched.
struct SearchGrants {
    grants: HashMap<String, TypeGrant>,
}

impl SearchGrants {
    /// Type search needs `s` on the type; system search on every type it names (403 for a
    /// `_type` the scopes exclude) or, without `_type`, covers the types the scopes allow.
    /// Chains and reverse chains need `s` on the types they go through.
    fn of(
        services: &Services,
        context: &RequestContext,
        query: &mut SearchQuery,
    ) -> Result<Self, InteractionError> {
        let principal = &context.principal;
        let require = |t: &str| access::require(services, principal, t, Permission::Search);
        let mut grants = HashMap::new();
        if let Some(t) = &query.resource_type {
            grants.insert(t.clone(), require(t)?);
        } else if !query.types.is_empty() {
            for t in &query.types {
                grants.insert(t.clone(), require(t)?);
            }
        } else {
            let mut all = true;
            for t in services.schema.resource_types() {
                match require(t) {
                    Ok(grant) => {
                        grants.insert(t.to_owned(), grant);
                    }
                    Err(_) => all = false,
                }
            }
            if grants.is_empty() {
                return Err(InteractionError::Forbidden(
                    "the access token's scopes do not allow searching any resource type".to_owned(),
                ));
            }
            if !all {
                let mut types: Vec<String> = grants.keys().cloned().collect();
                types.sort();
                query.types = types;
            }
        }
        for traversed in traversed_types(&query.criteria) {
            require(&traversed)?;
        }
        Ok(Self { grants })
    }

    /// The SQL alternatives: `None` when no type is restricted.
    fn alternatives(&self) -> Option<Vec<AccessAlternative>> {
        if self.grants.values().all(TypeGrant::is_unrestricted) {
            return None;
        }
        let mut alternatives = Vec::new();
        let mut free: Vec<String> = Vec::new();
        for (t, grant) in &self.grants {
            match grant.alternatives() {
                None => free.push(t.clone()),
                Some(restricted) => alternatives.extend(restricted),
            }
        }
        if !free.is_empty() {
            free.sort();
            alternatives.push(AccessAlternative {
                types: free,
                patient: None,
                criteria: Vec::new(),
            });
        }
        Some(alternatives)
    }

    fn permits(&self, services: &Services, row: &FoundRow) -> bool {
        self.grants.get(&row.res_type).is_some_and(|grant| {
            row.content
                .as_deref()
                .is_some_and(|json| grant.permits_json(services, &row.res_id, json))
        })
    }
}

/// The types that chains and reverse chains of `criteria` go through.
fn traversed_types(criteria: &[Criterion]) -> Vec<String> {
    let mut types = Vec::new();
    let mut pending: Vec<&Criterion> = criteria.iter().collect();
    while let Some(criterion) = pending.pop() {
        match criterion {
            Criterion::Chain {
                target_type,
                criterion,
                ..
            } => {
                types.push(target_type.clone());
                pending.push(criterion);
            }
            Criterion::Has {
                source_type,
                criterion,
                ..
            } => {
                types.push(source_type.clone());
                pending.push(criterion);
            }
            Criterion::Param(_) | Criterion::List(_) => {}
        }
    }
    types
}

/// Read grants of included resources, by type, asked once per type: an included resource
/// the subject may not read is left out.
#[derive(Default)]
struct ReadGrants {
    grants: HashMap<String, Option<TypeGrant>>,
}

impl ReadGrants {
    fn permits(&mut self, services: &Services, context: &RequestContext, row: &FoundRow) -> bool {
        let grant = self.grants.entry(row.res_type.clone()).or_insert_with(|| {
            access::require(
                services,
                &context.principal,
                &row.res_type,
                Permission::Read,
            )
            .ok()
        });
        grant.as_ref().is_some_and(|grant| {
            row.content
                .as_deref()
                .is_some_and(|json| grant.permits_json(services, &row.res_id, json))
        })
    }
}

/// Which part of each resource a search returns (search.html §3.1.1.5.7–9).
#[derive(Debug, Clone, PartialEq, Eq)]
enum View {
    Full,
    /// `_elements`: the listed top-level elements.
    Elements(Vec<String>),
    /// `_summary=true`: the elements marked as summary in the definitions.
    Summary,
    /// `_summary=text`: the narrative and the mandatory elements.
    Text,
    /// `_summary=data`: everything but the narrative.
    Data,
}

impl View {
    /// The resource reduced to this view; `resourceType`, `id` and `meta` are always kept
    /// and a reduced resource carries the SUBSETTED tag.
    fn apply(&self, services: &Services, resource_type: &str, json: String) -> String {
        if *self == View::Full {
            return json;
        }
        let Ok(Value::Object(resource)) = serde_json::from_str::<Value>(&json) else {
            return json;
        };
        let mut kept = Map::new();
        for (key, value) in resource {
            let base = key.trim_start_matches('_');
            let flags = services.schema.top_level_flags(resource_type, base);
            let keep = matches!(key.as_str(), "resourceType" | "id" | "meta")
                || match self {
                    View::Full => true,
                    View::Elements(list) => list.iter().any(|e| e == base),
                    View::Summary => flags.is_some_and(|(summary, _)| summary),
                    View::Text => base == "text" || flags.is_some_and(|(_, mandatory)| mandatory),
                    View::Data => base != "text",
                };
            if keep {
                kept.insert(key, value);
            }
        }
        mark_subsetted(&mut kept);
        serde_json::to_string(&Value::Object(kept)).unwrap_or(json)
    }
}
