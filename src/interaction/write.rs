//! What every write shares: checking an incoming resource (type of the URL, strict R4
//! validation with every problem listed), and storing a new version with its index rows
//! inside the caller's transaction.

use serde_json::{Map, Value};

use super::access;
use super::access::writing::NewContent;
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::immutable;
use super::representatives;
use super::stored::StoredResource;
use crate::auth::Permission;
use crate::fhir::ids::ResourceType;
use crate::fhir::instant::format_instant;
use crate::fhir::labels::security_labels;
use crate::fhir::outcome::{OutcomeIssue, Severity};
use crate::fhir::resource::set_server_fields;
use crate::fhir::validate::validate_resource;
use crate::search::compartment::patient_ids;
use crate::search::extract::{IndexEntry, extract, extract_params, retain_indexed};
use crate::search::registry::SearchRegistry;
use crate::storage::Conn;
use crate::storage::index::{self, IndexRows, SearchRows};
use crate::storage::index_backlog::DEFERRABLE_TYPES;
use crate::storage::versions::{self, CurrentRow, NewVersion, WriteMethod};

/// Validates `body` as a resource of `expected` type; returns its JSON object.
pub fn check_incoming(
    services: &Services,
    body: Value,
    expected: &ResourceType,
) -> Result<Map<String, Value>, InteractionError> {
    let issues = validation_issues(services, &body);
    if !issues.is_empty() {
        return Err(InteractionError::Invalid(issues));
    }
    let found = body
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if found != expected.as_str() {
        return Err(InteractionError::Invalid(vec![
            OutcomeIssue::error(
                "invalid",
                format!(
                    "the resource type `{found}` does not match the type `{expected}` of the url"
                ),
            )
            .at(format!("{found}.resourceType")),
        ]));
    }
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(InteractionError::invalid("the body is not a JSON object")),
    }
}

/// Every problem strict R4 validation finds in `body`, as OperationOutcome issues.
pub fn validation_issues(services: &Services, body: &Value) -> Vec<OutcomeIssue> {
    validate_resource(&services.schema, body)
        .into_iter()
        .map(|issue| OutcomeIssue {
            severity: Severity::Error,
            code: issue.code.as_code(),
            expression: Some(issue.expression),
            message: issue.message,
        })
        .collect()
}

/// A checked resource for `save` to store, maybe with its search values extracted already.
pub struct NewResource {
    pub content: Map<String, Value>,
    pub extracted: Option<Extracted>,
}

impl From<Map<String, Value>> for NewResource {
    fn from(content: Map<String, Value>) -> NewResource {
        NewResource {
            content,
            extracted: None,
        }
    }
}

/// The search values of a resource extracted before its transaction (a create's or an
/// update's body before the transaction opens, a transaction's entries while the bundle
/// is planned: outside the lock of the shared writer), with the id and content they were
/// extracted for. `save` uses them only for that same id
/// and content (a reference resolved otherwise in the transaction means extracting
/// again), so they are always the values of what is stored.
pub struct Extracted {
    id: String,
    content: Map<String, Value>,
    entries: Vec<IndexEntry>,
}

impl Extracted {
    /// The search values `content` will have once stored as `res_type/id`.
    pub fn of(
        registry: &SearchRegistry,
        res_type: &str,
        id: &str,
        content: Map<String, Value>,
    ) -> Extracted {
        let mut stored = content.clone();
        // What `save` adds; the version and time are not search values.
        set_server_fields(&mut stored, id, 1, "");
        let entries = extract(registry, res_type, &Value::Object(stored));
        Extracted {
            id: id.to_owned(),
            content,
            entries,
        }
    }

    /// The values, if they were extracted for `id` and `content`.
    fn entries_for(self, id: &str, content: &Map<String, Value>) -> Option<Vec<IndexEntry>> {
        (self.id == id && &self.content == content).then_some(self.entries)
    }
}

/// Which version `save` writes: of which resource, after which current row (`None` for a
/// resource never stored), and how it came to be.
#[derive(Debug, Clone, Copy)]
pub struct NextVersion<'a> {
    pub res_type: &'a str,
    pub id: &'a str,
    pub previous: Option<&'a CurrentRow>,
    pub method: WriteMethod,
}

/// Stores `content` as the next version of `res_type/id` after `previous` (or as version 1)
/// and replaces its index rows (search values, patient compartment, security labels); all
/// inside the caller's transaction.
pub fn save(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    next: NextVersion<'_>,
    resource: NewResource,
) -> Result<StoredResource, InteractionError> {
    let NextVersion {
        res_type,
        id,
        previous,
        method,
    } = next;
    let NewResource {
        mut content,
        extracted,
    } = resource;
    let extracted = extracted.and_then(|e| e.entries_for(id, &content));
    let version_id = previous.map_or(1, |p| p.version_id + 1);
    let last_updated = previous.map_or(context.now_millis, |p| {
        p.last_updated.max(context.now_millis)
    });
    set_server_fields(&mut content, id, version_id, &format_instant(last_updated));
    let value = Value::Object(content);
    immutable::check(&context.principal, res_type, method, previous.is_some())?;
    check_write_scopes(services, context, next, &value)?;
    let creator = match previous {
        None => context.principal.subject.reference(),
        Some(_) => versions::creator(conn, res_type, id)?,
    };
    // Extracted once: the consent check needs its compartment, the index all of it.
    let entries = extracted.unwrap_or_else(|| extract(&services.registry, res_type, &value));
    let index = ComputedIndex::of(services, res_type, id, &value, creator.as_deref(), entries);
    access::writing::check_save(
        conn,
        services,
        context,
        previous,
        NewContent {
            res_type,
            id,
            value: &value,
            compartment: &index.patients,
        },
    )?;
    representatives::check_one_active(conn, services, context, res_type, id, &value)?;
    let json = serde_json::to_string(&value).map_err(|e| {
        InteractionError::invalid(format!("the resource cannot be serialised: {e}"))
    })?;
    versions::put_version(
        conn,
        &NewVersion {
            res_type,
            res_id: id,
            version_id,
            replaces: previous.map(|p| p.version_id),
            last_updated,
            method,
            content: Some(&json),
            author: context.principal.subject.reference().as_deref(),
        },
    )?;
    index::replace(
        conn,
        res_type,
        id,
        &index.rows(last_updated),
        previous.is_some(),
    )?;
    Ok(StoredResource {
        res_type: res_type.to_owned(),
        id: id.to_owned(),
        version_id,
        last_updated,
        json,
    })
}

/// The scopes of the request must allow the write: `u` on a live resource (whose current
/// content must be within the grant too), `u` or `c` when there is none (update-as-create;
/// `create` itself also asks for `c` first), and the new content within the grant.
fn check_write_scopes(
    services: &Services,
    context: &RequestContext,
    next: NextVersion<'_>,
    value: &Value,
) -> Result<(), InteractionError> {
    let principal = &context.principal;
    let live = next.previous.filter(|p| !p.is_deleted);
    let grant = match live {
        Some(_) => access::require(services, principal, next.res_type, Permission::Update)?,
        None => access::require(services, principal, next.res_type, Permission::Update)
            .or_else(|_| access::require(services, principal, next.res_type, Permission::Create))?,
    };
    let previous_permitted = live.is_none_or(|p| {
        p.content
            .as_deref()
            .is_some_and(|json| grant.permits_json(services, next.id, json))
    });
    if !previous_permitted || !grant.permits(services, next.id, value) {
        return Err(InteractionError::Forbidden(format!(
            "the access token's scopes do not allow this change of `{}`",
            next.res_type
        )));
    }
    Ok(())
}

/// Which resource `index_resource` indexes: its type and id, whether it had index rows
/// already, the time of the version, and who created the resource.
#[derive(Debug, Clone, Copy)]
pub struct IndexTarget<'a> {
    pub res_type: &'a str,
    pub id: &'a str,
    pub replacing: bool,
    pub version_time: i64,
    pub creator: Option<&'a str>,
}

/// Writes the index rows of a resource for `value`: its search values, its patient
/// compartment, its security labels and its consent facts (clearing earlier rows when
/// `replacing`).
pub fn index_resource(
    conn: &mut Conn<'_>,
    services: &Services,
    target: IndexTarget<'_>,
    value: &Value,
) -> Result<(), InteractionError> {
    let IndexTarget {
        res_type,
        id,
        replacing,
        version_time,
        creator,
    } = target;
    let entries = extract(&services.registry, res_type, value);
    let computed = ComputedIndex::of(services, res_type, id, value, creator, entries);
    let rows = computed.rows(version_time);
    Ok(index::replace(conn, res_type, id, &rows, replacing)?)
}

/// The index rows of one resource version, computed from its JSON (no I/O): search
/// values, patient compartment, security labels and consent facts.
pub(crate) struct ComputedIndex {
    entries: Vec<IndexEntry>,
    patients: Vec<String>,
    labels: Vec<(String, String)>,
    facts: Vec<(String, String, String, i64)>,
}

impl ComputedIndex {
    /// The rows of `value`, the resource `res_type/id` created by `creator`.
    fn of(
        services: &Services,
        res_type: &str,
        id: &str,
        value: &Value,
        creator: Option<&str>,
        mut entries: Vec<IndexEntry>,
    ) -> ComputedIndex {
        let patients = patient_ids(&services.registry, res_type, id, &entries);
        retain_indexed(&services.registry, res_type, &mut entries);
        let mut facts = access::fact_rows(&access::facts_of(value, None, creator));
        facts.extend(access::attachment_rows(value));
        ComputedIndex {
            entries,
            patients,
            labels: security_labels(value),
            facts,
        }
    }

    /// The rows as `storage::index` writes them, for a version written at `version_time`.
    fn rows(&self, version_time: i64) -> IndexRows<'_> {
        IndexRows {
            entries: &self.entries,
            patients: &self.patients,
            labels: &self.labels,
            version_time,
            facts: &self.facts,
        }
    }
}

/// A resource created by Carnet itself (an AuditEvent), made ready before its transaction:
/// its JSON, search values, compartment, labels and facts are computed outside the lock of
/// the shared writer, so that the transaction only inserts rows (`insert_prepared`).
pub(crate) struct PreparedCreate {
    res_type: String,
    id: String,
    last_updated: i64,
    author: Option<String>,
    json: String,
    index: ComputedIndex,
    /// Whether its search rows are left to `deferred_index` (then `index` holds only the
    /// values its compartment is made of).
    search_rows: SearchRows,
}

impl PreparedCreate {
    /// The JSON stored.
    pub(crate) fn json(&self) -> &str {
        &self.json
    }
}

/// Prepares `content` as version 1 of a new `res_type/id` written by `context`'s principal
/// (which must be allowed to create it: the same immutability and scope checks as `save`;
/// the principal is a system service, outside consent). With `SearchRows::Deferred`, a
/// resource of a deferrable type (`index_backlog::DEFERRABLE_TYPES`) gets only the values
/// of its compartment now: `deferred_index` extracts the rest later.
pub(crate) fn prepare_create(
    services: &Services,
    context: &RequestContext,
    res_type: &str,
    id: &str,
    mut content: Map<String, Value>,
    search_rows: SearchRows,
) -> Result<PreparedCreate, InteractionError> {
    immutable::check(&context.principal, res_type, WriteMethod::Create, false)?;
    let next = NextVersion {
        res_type,
        id,
        previous: None,
        method: WriteMethod::Create,
    };
    set_server_fields(&mut content, id, 1, &format_instant(context.now_millis));
    let value = Value::Object(content);
    check_write_scopes(services, context, next, &value)?;
    let json = serde_json::to_string(&value).map_err(|e| {
        InteractionError::invalid(format!("the resource cannot be serialised: {e}"))
    })?;
    let author = context.principal.subject.reference();
    let search_rows = match search_rows {
        SearchRows::Deferred if DEFERRABLE_TYPES.contains(&res_type) => SearchRows::Deferred,
        _ => SearchRows::Now,
    };
    let entries = match search_rows {
        SearchRows::Now => extract(&services.registry, res_type, &value),
        SearchRows::Deferred => extract_params(
            &services.registry,
            res_type,
            &value,
            services.registry.patient_compartment_params(res_type),
        ),
    };
    let index = ComputedIndex::of(services, res_type, id, &value, author.as_deref(), entries);
    Ok(PreparedCreate {
        res_type: res_type.to_owned(),
        id: id.to_owned(),
        last_updated: context.now_millis,
        author,
        json,
        index,
        search_rows,
    })
}

/// Stores prepared resources inside the caller's transaction: their versions, current
/// rows and index rows (on PostgreSQL, each table's rows of them all in one statement),
/// their search rows now or later (as prepared, see `deferred_index`); returns how many
/// were left to the backlog.
pub(crate) fn insert_prepared(
    conn: &mut Conn<'_>,
    prepared: &[PreparedCreate],
) -> Result<usize, InteractionError> {
    let created: Vec<NewVersion<'_>> = prepared
        .iter()
        .map(|prepared| NewVersion {
            res_type: &prepared.res_type,
            res_id: &prepared.id,
            version_id: 1,
            replaces: None,
            last_updated: prepared.last_updated,
            method: WriteMethod::Create,
            content: Some(&prepared.json),
            author: prepared.author.as_deref(),
        })
        .collect();
    versions::put_created(conn, &created)?;
    let rows: Vec<_> = prepared
        .iter()
        .map(|prepared| prepared.index.rows(prepared.last_updated))
        .collect();
    let mut deferred = 0;
    for search_rows in [SearchRows::Now, SearchRows::Deferred] {
        let indexed: Vec<(&str, &str, &_)> = prepared
            .iter()
            .zip(&rows)
            .filter(|(prepared, _)| prepared.search_rows == search_rows)
            .map(|(prepared, rows)| (prepared.res_type.as_str(), prepared.id.as_str(), rows))
            .collect();
        if !indexed.is_empty() {
            index::insert_created(conn, &indexed, search_rows)?;
        }
        if search_rows == SearchRows::Deferred {
            deferred = indexed.len();
        }
    }
    Ok(deferred)
}

/// Records the deletion of the live resource `current` as a new version; returns it.
pub fn save_deletion(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    current: &CurrentRow,
) -> Result<i64, InteractionError> {
    immutable::check(
        &context.principal,
        &current.res_type,
        WriteMethod::Delete,
        true,
    )?;
    let grant = access::require(
        services,
        &context.principal,
        &current.res_type,
        Permission::Delete,
    )?;
    let permitted = current
        .content
        .as_deref()
        .is_some_and(|json| grant.permits_json(services, &current.res_id, json));
    if !permitted {
        return Err(InteractionError::Forbidden(format!(
            "the access token's scopes do not allow this change of `{}`",
            current.res_type
        )));
    }
    access::writing::check_delete(conn, services, context, current)?;
    let version_id = current.version_id + 1;
    versions::put_version(
        conn,
        &NewVersion {
            res_type: &current.res_type,
            res_id: &current.res_id,
            version_id,
            replaces: Some(current.version_id),
            last_updated: current.last_updated.max(context.now_millis),
            method: WriteMethod::Delete,
            content: None,
            author: context.principal.subject.reference().as_deref(),
        },
    )?;
    index::clear(conn, &current.res_type, &current.res_id)?;
    Ok(version_id)
}

/// Checks an `If-Match` version against the current one (412 when they differ).
pub fn check_if_match(
    if_match: Option<i64>,
    current: Option<&CurrentRow>,
) -> Result<(), InteractionError> {
    let Some(expected) = if_match else {
        return Ok(());
    };
    match current {
        Some(row) if !row.is_deleted && row.version_id == expected => Ok(()),
        Some(row) if !row.is_deleted => Err(InteractionError::PreconditionFailed(format!(
            "the current version is `{}`, not `{expected}` as If-Match requires",
            row.version_id
        ))),
        _ => Err(InteractionError::PreconditionFailed(format!(
            "If-Match names version `{expected}` but the resource does not exist"
        ))),
    }
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
