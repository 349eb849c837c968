//! batch and transaction: `POST [base]` with a Bundle (FHIR R4 http.html#transaction).
//! A transaction is all-or-nothing: entries are validated first, `urn:uuid:` full URLs and
//! conditional references are resolved, then everything runs in one database transaction
//! in the spec's order (DELETE, POST, PUT/PATCH, GET). A batch runs each entry on its own.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::access;
use super::audit_trail;
use super::bundle_entry::{
    Entry, EntryMethod, conditional_reference, parse_entry, patch_document, patch_values,
};
use super::bundle_placeholders::{Resolvable, check_distinct_full_urls, unresolved_placeholders};
use super::conditional::{Match, single_match};
use super::context::{RequestContext, Services};
use super::create::{CreateOutcome, IfNoneExist, create_in};
use super::delete::{delete_conditional_in, delete_in};
use super::error::InteractionError;
use super::patch::{parse_patch, patch_conditional_in, patch_in};
use super::stored::StoredResource;
use super::target;
use super::update::{check_body_id, conditional_update_target, update_in};
use super::write::{Extracted, NewResource, check_incoming};
use super::{delete, patch, read, update, vread};
use crate::auth::Permission;
use crate::fhir::ids::{ResourceId, ResourceType};
use crate::fhir::outcome::OutcomeIssue;
use crate::fhir::resource::rewrite_references;
use crate::storage::Conn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    Batch,
    Transaction,
}

/// What happened to one entry.
#[derive(Debug)]
pub enum EntryResult {
    Created(StoredResource),
    /// A conditional create matched an existing resource.
    Existing(StoredResource),
    Updated(StoredResource),
    Read(StoredResource),
    Deleted,
    /// Only in a batch: the entry failed, the others went on.
    Failed(InteractionError),
}

/// The results, in the order of the request's entries.
#[derive(Debug)]
pub struct BundleOutcome {
    pub kind: BundleKind,
    pub entries: Vec<EntryResult>,
}

/// A bundle checked and, for a transaction, planned: its entries parsed, its resources
/// validated and its new ids assigned. Everything a bundle needs before the database.
pub struct PreparedBundle {
    kind: BundleKind,
    body: PreparedEntries,
}

enum PreparedEntries {
    Transaction(Vec<Planned>),
    Batch(Vec<Value>),
}

/// Runs a batch or transaction `bundle` (`POST [base]`).
pub fn process_bundle(
    services: &Services,
    context: &RequestContext,
    bundle: Value,
) -> Result<BundleOutcome, InteractionError> {
    let prepared = prepare_bundle(services, bundle)?;
    run_prepared(services, context, prepared, || ())
}

/// Checks `bundle` and plans a transaction, without the database (so that a bulk load can
/// prepare the next bundle while the previous one is written).
pub fn prepare_bundle(
    services: &Services,
    bundle: Value,
) -> Result<PreparedBundle, InteractionError> {
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(InteractionError::invalid(
            "the body of `POST [base]` must be a Bundle",
        ));
    }
    let kind = match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => BundleKind::Transaction,
        Some("batch") => BundleKind::Batch,
        other => {
            return Err(InteractionError::invalid(format!(
                "the Bundle type must be `transaction` or `batch`, not `{}`",
                other.unwrap_or("")
            )));
        }
    };
    let raw_entries = match bundle {
        Value::Object(mut bundle) => match bundle.remove("entry") {
            Some(Value::Array(list)) => list,
            None => Vec::new(),
            Some(_) => return Err(InteractionError::invalid("`Bundle.entry` must be a list")),
        },
        _ => Vec::new(),
    };
    if raw_entries.len() > services.limits.max_bundle_entries {
        return Err(InteractionError::invalid(format!(
            "the bundle has {} entries; at most {} are accepted",
            raw_entries.len(),
            services.limits.max_bundle_entries
        )));
    }
    let body = match kind {
        BundleKind::Transaction => {
            PreparedEntries::Transaction(plan_transaction(services, &raw_entries)?)
        }
        BundleKind::Batch => PreparedEntries::Batch(raw_entries),
    };
    Ok(PreparedBundle { kind, body })
}

impl PreparedBundle {
    /// Whether it runs as one transaction (one write), rather than entry by entry.
    pub fn is_transaction(&self) -> bool {
        matches!(self.body, PreparedEntries::Transaction(_))
    }
}

/// Runs a prepared bundle; `visible` is called once the next writer sees its outcome (a
/// transaction's commit or rollback, the last entry of a batch), on every path.
pub fn run_prepared(
    services: &Services,
    context: &RequestContext,
    prepared: PreparedBundle,
    visible: impl FnOnce(),
) -> Result<BundleOutcome, InteractionError> {
    let PreparedBundle { kind, body } = prepared;
    let entries = match body {
        PreparedEntries::Transaction(planned) => {
            run_transaction(services, context, planned, visible)?
        }
        PreparedEntries::Batch(raw_entries) => {
            let results = raw_entries
                .iter()
                .enumerate()
                .map(|(index, raw)| match parse_entry(index, raw) {
                    Ok(entry) => run_batch_entry(services, context, entry),
                    Err(error) => EntryResult::Failed(error),
                })
                .collect();
            visible();
            results
        }
    };
    Ok(BundleOutcome { kind, entries })
}

fn run_batch_entry(services: &Services, context: &RequestContext, entry: Entry) -> EntryResult {
    let written = match (&entry.method, &entry.resource) {
        (EntryMethod::Patch, _) => patch_document(&entry)
            .ok()
            .map(|d| Cow::Owned(patch_values(&d))),
        (_, Some(Value::Object(resource))) => Some(Cow::Borrowed(resource)),
        _ => None,
    };
    if let Some(written) = written {
        let issues = unresolved_placeholders(entry.index, &written, Resolvable::Batch);
        if !issues.is_empty() {
            return EntryResult::Failed(InteractionError::Invalid(issues));
        }
    }
    let url = &entry.url;
    let outcome = match (entry.method, &url.id, &url.query) {
        (EntryMethod::Get | EntryMethod::Head, Some(id), None) => match &url.version {
            Some(v) => {
                vread::vread(services, context, &url.type_name, id, v).map(EntryResult::Read)
            }
            None => read::read(services, context, &url.type_name, id).map(EntryResult::Read),
        },
        (EntryMethod::Post, None, None) => super::create::create(
            services,
            context,
            &url.type_name,
            entry.resource.unwrap_or(Value::Null),
            entry.if_none_exist.as_deref(),
        )
        .map(created),
        (EntryMethod::Put, Some(id), None) => update::update(
            services,
            context,
            &url.type_name,
            id,
            entry.resource.unwrap_or(Value::Null),
            entry.if_match,
        )
        .map(updated),
        (EntryMethod::Put, None, Some(query)) => update::update_conditional(
            services,
            context,
            &url.type_name,
            query,
            entry.resource.unwrap_or(Value::Null),
            entry.if_match,
        )
        .map(updated),
        (EntryMethod::Patch, id, query) => patch_document(&entry)
            .and_then(|document| match (id, query) {
                (Some(id), None) => patch::patch(
                    services,
                    context,
                    &url.type_name,
                    id,
                    document,
                    entry.if_match,
                ),
                (None, Some(q)) => patch::patch_conditional(
                    services,
                    context,
                    &url.type_name,
                    q,
                    document,
                    entry.if_match,
                ),
                _ => Err(unsupported_entry(&entry)),
            })
            .map(EntryResult::Updated),
        (EntryMethod::Delete, Some(id), None) => {
            delete::delete(services, context, &url.type_name, id, entry.if_match)
                .map(|_| EntryResult::Deleted)
        }
        (EntryMethod::Delete, None, Some(query)) => {
            delete::delete_conditional(services, context, &url.type_name, query)
                .map(|_| EntryResult::Deleted)
        }
        _ => Err(unsupported_entry(&entry)),
    };
    outcome.unwrap_or_else(EntryResult::Failed)
}

fn created(outcome: CreateOutcome) -> EntryResult {
    match outcome {
        CreateOutcome::Created(r) => EntryResult::Created(r),
        CreateOutcome::Existing(r) => EntryResult::Existing(r),
    }
}

fn updated(outcome: update::UpdateOutcome) -> EntryResult {
    if outcome.created {
        EntryResult::Created(outcome.resource)
    } else {
        EntryResult::Updated(outcome.resource)
    }
}

fn unsupported_entry(entry: &Entry) -> InteractionError {
    InteractionError::Invalid(vec![OutcomeIssue::error(
        "not-supported",
        format!(
            "entry {} asks for an interaction this server does not support in bundles (search and history come with the search feature)",
            entry.index
        ),
    )
    .at(format!("Bundle.entry[{}].request.url", entry.index))])
}

/// A transaction entry ready to run: its target and its validated resource.
struct Planned {
    entry: Entry,
    res_type: ResourceType,
    content: Option<Map<String, Value>>,
    /// The JSON Patch document of a PATCH entry (checked when planned, parsed again once
    /// its references are resolved).
    patch: Option<Value>,
    new_id: Option<ResourceId>,
    /// The id a conditional update writes, once resolved for its `fullUrl`
    /// (`resolve_references`), so that its criteria are not matched twice.
    target_id: Option<ResourceId>,
    /// What a conditional create's `ifNoneExist` matched, once resolved for its `fullUrl`
    /// (`Some(None)`: nothing), for the same reason.
    if_none_exist_match: Option<Option<ResourceId>>,
    /// The search values of `content`, extracted while planning (`extract_in_advance`).
    extracted: Option<Extracted>,
}

/// Parses and plans the entries of a transaction (no database).
fn plan_transaction(
    services: &Services,
    raw_entries: &[Value],
) -> Result<Vec<Planned>, InteractionError> {
    let entries: Vec<Entry> = raw_entries
        .iter()
        .enumerate()
        .map(|(index, raw)| parse_entry(index, raw))
        .collect::<Result<_, _>>()?;
    check_distinct_full_urls(
        entries
            .iter()
            .filter_map(|e| e.full_url.as_deref().map(|url| (e.index, url))),
    )?;
    let mut planned = plan(services, entries)?;
    check_distinct_targets(&planned)?;
    check_placeholders(&planned)?;
    extract_in_advance(services, &mut planned);
    Ok(planned)
}

/// Extracts the search values of the resources the transaction will store, as they will
/// be once their references to other entries are resolved, so that the transaction
/// itself, inside the lock of the shared writer, does not (a bulk load prepares the next
/// bundles on the other cores). Done for the entries whose id is known before the
/// database is read, resolving the references to entries whose id is known too; where
/// the transaction resolves references otherwise (a conditional reference, an entry
/// whose id depends on a match), the stored content differs and `save` extracts again.
fn extract_in_advance(services: &Services, planned: &mut [Planned]) {
    let known: HashMap<String, String> = planned
        .iter()
        .filter_map(|item| Some((item.entry.full_url.clone()?, known_reference(item)?)))
        .collect();
    for item in planned.iter_mut() {
        let (Some(content), Some(id)) = (&item.content, known_id(item)) else {
            continue;
        };
        let mut value = Value::Object(content.clone());
        rewrite_references(&mut value, &known);
        if let Value::Object(resolved) = value {
            let extracted = Extracted::of(&services.registry, item.res_type.as_str(), id, resolved);
            item.extracted = Some(extracted);
        }
    }
}

/// The id an entry writes when it is known without the database: a create without
/// `ifNoneExist`, an update of a given id (`resolve_references` finds the others).
fn known_id(item: &Planned) -> Option<&str> {
    match (item.entry.method, &item.new_id, &item.entry.url.id) {
        (EntryMethod::Post, Some(new_id), _) if item.entry.if_none_exist.is_none() => {
            Some(new_id.as_str())
        }
        (EntryMethod::Put, _, Some(id)) => Some(id.as_str()),
        _ => None,
    }
}

/// `Type/id` of what an entry writes, when its id is known without the database.
fn known_reference(item: &Planned) -> Option<String> {
    known_id(item).map(|id| format!("{}/{id}", item.res_type))
}

/// Every placeholder reference (`urn:uuid:…`) of the transaction's resources names an
/// entry it creates or updates (`resolve_references` replaces them all).
fn check_placeholders(planned: &[Planned]) -> Result<(), InteractionError> {
    let full_urls: HashSet<&str> = planned
        .iter()
        .filter(|item| matches!(item.entry.method, EntryMethod::Post | EntryMethod::Put))
        .filter_map(|item| item.entry.full_url.as_deref())
        .collect();
    let issues: Vec<OutcomeIssue> = planned
        .iter()
        .flat_map(|item| {
            let written = match (&item.content, &item.patch) {
                (Some(resource), _) => Some(Cow::Borrowed(resource)),
                (None, Some(document)) => Some(Cow::Owned(patch_values(document))),
                (None, None) => None,
            };
            written
                .map(|w| {
                    let resolvable = Resolvable::Transaction(&full_urls);
                    unresolved_placeholders(item.entry.index, &w, resolvable)
                })
                .unwrap_or_default()
        })
        .collect();
    if issues.is_empty() {
        Ok(())
    } else {
        Err(InteractionError::Invalid(issues))
    }
}

fn run_transaction(
    services: &Services,
    context: &RequestContext,
    mut planned: Vec<Planned>,
    visible: impl FnOnce(),
) -> Result<Vec<EntryResult>, InteractionError> {
    let results = audit_trail::write_audited_then(
        services,
        context,
        |conn| {
            resolve_references(conn, services, context, &mut planned)?;
            let mut order: Vec<usize> = (0..planned.len()).collect();
            order.sort_by_key(|&i| (planned[i].entry.method.rank(), i));
            let mut results: Vec<Option<EntryResult>> = (0..planned.len()).map(|_| None).collect();
            for i in order {
                let item = &mut planned[i];
                let result = run_planned(conn, services, context, item)
                    .map_err(|e| in_entry(e, item.entry.index))?;
                results[i] = Some(result);
            }
            Ok::<_, InteractionError>(results)
        },
        visible,
    )?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(EntryResult::Deleted))
        .collect())
}

/// Validates every entry up front (outside the database lock) and assigns new ids.
fn plan(services: &Services, entries: Vec<Entry>) -> Result<Vec<Planned>, InteractionError> {
    let mut issues = Vec::new();
    let mut planned = Vec::with_capacity(entries.len());
    for mut entry in entries {
        let index = entry.index;
        let res_type = target::resource_type(services, &entry.url.type_name)
            .map_err(|e| in_entry(e, index))?;
        let mut content = None;
        let mut patch = None;
        match entry.method {
            EntryMethod::Post | EntryMethod::Put => {
                let resource = entry.resource.take().unwrap_or(Value::Null);
                match check_incoming(services, resource, &res_type) {
                    Ok(map) => content = Some(map),
                    Err(InteractionError::Invalid(found)) => {
                        issues.extend(found.into_iter().map(|issue| prefix_issue(issue, index)));
                    }
                    Err(other) => return Err(in_entry(other, index)),
                }
            }
            EntryMethod::Patch => {
                let document = patch_document(&entry)?;
                parse_patch(document.clone()).map_err(|e| in_entry(e, index))?;
                patch = Some(document);
            }
            _ => {}
        }
        let new_id = (entry.method == EntryMethod::Post).then(ResourceId::generate);
        planned.push(Planned {
            entry,
            res_type,
            content,
            patch,
            new_id,
            target_id: None,
            if_none_exist_match: None,
            extracted: None,
        });
    }
    if !issues.is_empty() {
        return Err(InteractionError::Invalid(issues));
    }
    Ok(planned)
}

/// Two entries may not act on the same resource (FHIR R4 http.html#trules).
fn check_distinct_targets(planned: &[Planned]) -> Result<(), InteractionError> {
    let mut seen = HashSet::new();
    for item in planned {
        let writes = matches!(
            item.entry.method,
            EntryMethod::Put | EntryMethod::Patch | EntryMethod::Delete
        );
        if let (true, Some(id)) = (writes, &item.entry.url.id)
            && !seen.insert((item.res_type.clone(), id.clone()))
        {
            return Err(InteractionError::invalid(format!(
                "entry {} acts on `{}/{id}`, which another entry of the transaction also changes",
                item.entry.index, item.res_type
            )));
        }
    }
    Ok(())
}

/// Resolves full URLs of created resources (`urn:uuid:…`) and conditional references in
/// every resource of the transaction.
fn resolve_references(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    planned: &mut [Planned],
) -> Result<(), InteractionError> {
    let mut replacements: HashMap<String, String> = HashMap::new();
    for item in planned.iter_mut() {
        let Some(full_url) = item.entry.full_url.clone() else {
            continue;
        };
        if let Some(reference) = known_reference(item) {
            replacements.insert(full_url, reference);
            continue;
        }
        let url = &item.entry.url;
        let reference = match (
            item.entry.method,
            &item.new_id,
            &item.entry.if_none_exist,
            &url.query,
        ) {
            (EntryMethod::Post, Some(new_id), Some(criteria), _) => {
                let found = match single_match(conn, services, context, &item.res_type, criteria)
                    .map_err(|e| in_entry(e, item.entry.index))?
                {
                    Match::None => None,
                    Match::One(found) => Some(found),
                };
                let id = found.as_ref().unwrap_or(new_id);
                let reference = format!("{}/{id}", item.res_type);
                item.if_none_exist_match = Some(found);
                reference
            }
            (EntryMethod::Put, _, _, Some(criteria)) if url.id.is_none() => {
                let no_body = Map::new();
                let id = conditional_update_target(
                    conn,
                    services,
                    context,
                    &item.res_type,
                    criteria,
                    item.content.as_ref().unwrap_or(&no_body),
                )
                .map_err(|e| in_entry(e, item.entry.index))?;
                let reference = format!("{}/{id}", item.res_type);
                item.target_id = Some(id);
                reference
            }
            _ => continue,
        };
        replacements.insert(full_url, reference);
    }
    for item in planned.iter_mut() {
        let index = item.entry.index;
        if let Some(content) = item.content.as_mut() {
            let mut value = Value::Object(std::mem::take(content));
            let resolved = resolutions(conn, services, context, index, &value, &replacements)?;
            rewrite_references(&mut value, &resolved);
            if let Value::Object(map) = value {
                *content = map;
            }
        } else if let Some(document) = item.patch.as_mut() {
            let written = Value::Object(patch_values(document));
            let resolved = resolutions(conn, services, context, index, &written, &replacements)?;
            rewrite_references(document, &resolved);
        }
    }
    Ok(())
}

/// What each reference of `value` (entry `index`) becomes: the `fullUrl`s of the
/// transaction's entries their `replacements`, and each conditional reference
/// (`Patient?identifier=…`) the one resource it matches (412 unless exactly one).
fn resolutions(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    index: usize,
    value: &Value,
    replacements: &HashMap<String, String>,
) -> Result<HashMap<String, String>, InteractionError> {
    let mut conditional = HashMap::new();
    collect_conditional_references(value, &mut conditional);
    for (reference, resolved) in conditional.iter_mut() {
        let Some((type_name, query)) = conditional_reference(reference) else {
            continue;
        };
        let res_type =
            target::resource_type(services, type_name).map_err(|e| in_entry(e, index))?;
        *resolved = match single_match(conn, services, context, &res_type, query) {
            Ok(Match::One(found)) => format!("{type_name}/{found}"),
            Ok(Match::None) | Err(InteractionError::PreconditionFailed(_)) => {
                return Err(in_entry(
                    InteractionError::PreconditionFailed(format!(
                        "the conditional reference `{reference}` must match exactly one resource"
                    )),
                    index,
                ));
            }
            Err(other) => return Err(other),
        };
    }
    conditional.extend(replacements.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(conditional)
}

fn collect_conditional_references(value: &Value, found: &mut HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("reference", Value::String(r)) if conditional_reference(r).is_some() => {
                        found.insert(r.clone(), String::new());
                    }
                    _ => collect_conditional_references(item, found),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|i| collect_conditional_references(i, found)),
        _ => {}
    }
}

fn run_planned(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    item: &mut Planned,
) -> Result<EntryResult, InteractionError> {
    let url = item.entry.url.clone();
    let res_type = item.res_type.clone();
    match (item.entry.method, &url.id, &url.query) {
        (EntryMethod::Post, None, None) => {
            let content = new_resource(item);
            let new_id = item.new_id.clone().unwrap_or_else(ResourceId::generate);
            create_in(
                conn,
                services,
                context,
                &res_type,
                content,
                match &item.if_none_exist_match {
                    Some(found) => IfNoneExist::Matched(found.as_ref()),
                    None => IfNoneExist::from_criteria(item.entry.if_none_exist.as_deref()),
                },
                new_id,
            )
            .map(created)
        }
        (EntryMethod::Put, Some(id), None) => {
            let id = target::resource_id(id)?;
            let content = new_resource(item);
            check_body_id(&content.content, &res_type, Some(&id))?;
            update_in(
                conn,
                services,
                context,
                &res_type,
                &id,
                content,
                item.entry.if_match,
            )
            .map(updated)
        }
        (EntryMethod::Put, None, Some(query)) => {
            let content = new_resource(item);
            let id = match item.target_id.take() {
                Some(id) => id,
                None => conditional_update_target(
                    conn,
                    services,
                    context,
                    &res_type,
                    query,
                    &content.content,
                )?,
            };
            update_in(
                conn,
                services,
                context,
                &res_type,
                &id,
                content,
                item.entry.if_match,
            )
            .map(updated)
        }
        (EntryMethod::Patch, id, query) => {
            let operations = match item.patch.take() {
                Some(document) => parse_patch(document)?,
                None => json_patch::Patch(Vec::new()),
            };
            let if_match = item.entry.if_match;
            match (id, query) {
                (Some(id), None) => {
                    let id = target::resource_id(id)?;
                    patch_in(
                        conn,
                        services,
                        context,
                        &res_type,
                        &id,
                        &operations,
                        if_match,
                    )
                }
                (None, Some(query)) => patch_conditional_in(
                    conn,
                    services,
                    context,
                    &res_type,
                    query,
                    &operations,
                    if_match,
                ),
                _ => Err(unsupported_entry(&item.entry)),
            }
            .map(EntryResult::Updated)
        }
        (EntryMethod::Delete, Some(id), None) => {
            let id = target::resource_id(id)?;
            delete_in(conn, services, context, &res_type, &id, item.entry.if_match)
                .map(|_| EntryResult::Deleted)
        }
        (EntryMethod::Delete, None, Some(query)) => {
            delete_conditional_in(conn, services, context, &res_type, query)
                .map(|_| EntryResult::Deleted)
        }
        (EntryMethod::Get | EntryMethod::Head, Some(id), None) => {
            read_in(conn, &res_type, id, url.version.as_deref())
                .and_then(|(resource, current)| {
                    access::require(
                        services,
                        &context.principal,
                        res_type.as_str(),
                        Permission::Read,
                    )?;
                    access::readable_in(conn, services, context, resource, current)
                })
                .map(EntryResult::Read)
        }
        _ => Err(unsupported_entry(&item.entry)),
    }
}

/// The resource an entry stores, with its search values if extracted while planning.
fn new_resource(item: &mut Planned) -> NewResource {
    NewResource {
        content: item.content.take().unwrap_or_default(),
        extracted: item.extracted.take(),
    }
}

fn read_in(
    conn: &mut Conn<'_>,
    res_type: &ResourceType,
    id: &str,
    version: Option<&str>,
) -> Result<(StoredResource, bool), InteractionError> {
    let id = target::resource_id(id)?;
    let missing = || InteractionError::NotFound(format!("resource `{res_type}/{id}` is not known"));
    let current = crate::storage::versions::current(conn, res_type.as_str(), id.as_str())?;
    match version {
        Some(v) => {
            let v = target::version_id(v)?;
            let is_current = current.is_some_and(|c| c.version_id == v.0);
            crate::storage::versions::version(conn, res_type.as_str(), id.as_str(), v.0)?
                .and_then(StoredResource::from_version)
                .map(|resource| (resource, is_current))
                .ok_or_else(missing)
        }
        None => current
            .and_then(StoredResource::from_current)
            .map(|resource| (resource, true))
            .ok_or_else(missing),
    }
}

/// Prefixes the locations of an entry's problems with `Bundle.entry[i].resource.`.
fn prefix_issue(mut issue: OutcomeIssue, index: usize) -> OutcomeIssue {
    issue.expression = Some(match issue.expression {
        Some(path) => {
            let inner = path.split_once('.').map_or("", |(_, rest)| rest);
            if inner.is_empty() {
                format!("Bundle.entry[{index}].resource")
            } else {
                format!("Bundle.entry[{index}].resource.{inner}")
            }
        }
        None => format!("Bundle.entry[{index}].resource"),
    });
    issue
}

/// Says which entry of a transaction failed, keeping the error's category.
fn in_entry(error: InteractionError, index: usize) -> InteractionError {
    let prefix = |m: String| format!("transaction entry {index}: {m}");
    match error {
        InteractionError::Invalid(issues) => InteractionError::Invalid(
            issues
                .into_iter()
                .map(|mut i| {
                    if !i.message.starts_with("transaction entry") {
                        i.message = prefix(i.message);
                    }
                    i
                })
                .collect(),
        ),
        InteractionError::NotFound(m) => InteractionError::NotFound(prefix(m)),
        InteractionError::Conflict(m) => InteractionError::Conflict(prefix(m)),
        InteractionError::PreconditionFailed(m) if !m.starts_with("transaction entry") => {
            InteractionError::PreconditionFailed(prefix(m))
        }
        InteractionError::Unprocessable(m) => InteractionError::Unprocessable(prefix(m)),
        other => other,
    }
}
