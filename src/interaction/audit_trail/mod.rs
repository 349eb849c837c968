//! The audit trail of access decisions (DMP-RULES.md §8): the `AccessEvent`s an
//! interaction pushed on `RequestContext.audit` become IHE BALP AuditEvents
//! (`audit::balp`), stored through the ordinary write path (version, search index, patient
//! compartment: `AuditEvent?patient=` and `?entity=` find them) by a service principal
//! that may only create AuditEvents. A write calls `record_in` inside its own transaction
//! (the audit commits with the change, or not at all); reads, searches, history and
//! operations call `flush`, which commits the events durably in a short transaction of
//! their own before the answer is sent (SQLite: group commit shares the fsync with the
//! concurrent writers; PostgreSQL: one small transaction, no lock beyond its rows).
//! Both also notify the patient of a professional's first access and of every break-glass
//! access (`notify.rs`), in the same transaction.

mod known_accesses;
mod notify;

pub use known_accesses::KnownAccesses;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::stored::StoredResource;
use super::write::{NextVersion, PreparedCreate, insert_prepared, prepare_create, save};
use crate::audit::balp::{AccessRequest, Requestor, access_event};
use crate::audit::{AccessEvent, AuditSink};
use crate::auth::{Principal, PurposeOfUse, Subject};
use crate::fhir::ids::ResourceId;
use crate::storage::Conn;
use crate::storage::versions::WriteMethod;

/// The name of the audit service, as the author of the AuditEvents it stores.
const SERVICE: &str = "carnet-audit";

/// Stores one AuditEvent per pending access event of `context` (taken from its sink) and
/// the notifications they call for, inside the caller's transaction. Call it on the
/// success path of a write, before its transaction commits: if the transaction rolls
/// back, its audit goes with it.
pub fn record_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
) -> Result<(), InteractionError> {
    record(conn, services, context).map(drop)
}

/// `record_in`; returns how many AuditEvents it left to the backlog of deferred search rows.
fn record(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
) -> Result<usize, InteractionError> {
    let events = context.audit.take();
    let prepared = prepare_events(services, context, &events)?;
    // The caller commits: what this stores is not known to be stored yet.
    store_events(conn, services, context, &events, prepared, &mut Vec::new())
}

/// Stores the pending access events of `context` in a transaction of their own, durably,
/// before the caller answers (for reads, searches, history, operations, and refusals). An
/// error means the request's audit is lost and the request must fail. The AuditEvents are
/// built and indexed in memory first: the transaction (on SQLite, the shared writer of the
/// group commit) only inserts their rows.
pub fn flush(services: &Services, context: &RequestContext) -> Result<(), InteractionError> {
    let events = context.audit.take();
    if events.is_empty() {
        return Ok(());
    }
    let mut stored = Vec::new();
    prepare_events(services, context, &events)
        .and_then(|prepared| {
            services.store.write(|conn| {
                stored.clear();
                store_events(conn, services, context, &events, prepared, &mut stored)
            })
        })
        .map(|deferred| {
            services.deferred_index.added(deferred);
            services.known_accesses.remember(stored);
        })
        .inspect_err(|error| {
            log::error!(
                "the audit of request `{}` ({} events) could not be stored: {error}",
                context.request_id,
                events.len()
            );
        })
}

/// Builds the AuditEvents of `events` and their index rows, outside any transaction.
fn prepare_events(
    services: &Services,
    context: &RequestContext,
    events: &[AccessEvent],
) -> Result<Vec<PreparedCreate>, InteractionError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let principal = &context.principal;
    let reference = principal.subject.reference();
    // `Other` purposes are kept as read: `system|code` for another system's code.
    let purposes: Vec<&str> = principal.purposes.iter().map(PurposeOfUse::code).collect();
    let request = AccessRequest {
        requestor: Requestor {
            reference: reference.as_deref(),
            name: principal.subject.id(),
            purposes: &purposes,
            profession: principal.profession.as_deref(),
            organization: principal.organization.as_deref(),
        },
        request_id: &context.request_id,
        recorded_millis: context.now_millis,
    };
    let service = service_context(SERVICE, &context.request_id, context.now_millis);
    let search_rows = services.deferred_index.search_rows();
    events
        .iter()
        .map(|event| {
            let audit = access_event(event, &request);
            let id = ResourceId::generate();
            prepare_create(
                services,
                &service,
                "AuditEvent",
                id.as_str(),
                audit,
                search_rows,
            )
        })
        .collect()
}

/// Stores the prepared AuditEvents of `events` and the notifications they call for;
/// returns how many were left to the backlog of deferred search rows.
fn store_events(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    events: &[AccessEvent],
    pending: Vec<PreparedCreate>,
    first_accesses: &mut Vec<(String, String)>,
) -> Result<usize, InteractionError> {
    let hiding = hiding_labels(conn, events)?;
    let mut plain = Vec::with_capacity(pending.len());
    for (prepared, labels) in pending.into_iter().zip(hiding) {
        if labels.is_empty() {
            plain.push(prepared);
        } else {
            // Rare: stored anew (another id) with the labels, all rows now.
            let mut audit: Map<String, Value> =
                serde_json::from_str(prepared.json()).map_err(|e| {
                    crate::storage::StorageError::Corrupt(format!("a prepared AuditEvent: {e}"))
                })?;
            label(&mut audit, &labels);
            save_audit_event(
                conn,
                services,
                SERVICE,
                &context.request_id,
                context.now_millis,
                audit,
            )?;
        }
    }
    let deferred = insert_prepared(conn, &plain)?;
    notify::notify_patients(
        conn,
        context,
        events,
        &services.known_accesses,
        first_accesses,
    )?;
    Ok(deferred)
}

/// Labels that hide a resource from the patient or their representative (DMP-RULES §5).
const HIDING_LABELS: [&str; 2] = ["INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX"];

/// For each of `events`, the hiding labels of the resources it names: an AuditEvent naming
/// a resource hidden from the patient (or their representative) carries the same label,
/// so that reading the trail never reveals that it exists. One query per resource type
/// for all the events.
fn hiding_labels(
    conn: &mut Conn<'_>,
    events: &[AccessEvent],
) -> Result<Vec<Vec<&'static str>>, InteractionError> {
    let type_and_id = |reference: &str| -> Option<(String, String)> {
        let mut parts = reference.split('/');
        Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
    };
    let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (res_type, id) in events
        .iter()
        .flat_map(|event| event.resources.iter().filter_map(|r| type_and_id(r)))
    {
        by_type.entry(res_type).or_default().push(id);
    }
    let mut hidden: HashMap<(String, String), Vec<&'static str>> = HashMap::new();
    for (res_type, mut ids) in by_type {
        ids.sort_unstable();
        ids.dedup();
        for (id, system, code) in crate::storage::index::labels_of_each(conn, &res_type, &ids)? {
            if system == crate::fhir::labels::TRE_A07
                && let Some(label) = HIDING_LABELS.iter().find(|l| **l == code)
            {
                hidden
                    .entry((res_type.clone(), id))
                    .or_default()
                    .push(label);
            }
        }
    }
    Ok(events
        .iter()
        .map(|event| {
            let mut labels: Vec<&'static str> = Vec::new();
            let found = event
                .resources
                .iter()
                .filter_map(|r| type_and_id(r))
                .filter_map(|key| hidden.get(&key));
            for label in found.flatten() {
                if !labels.contains(label) {
                    labels.push(label);
                }
            }
            labels
        })
        .collect())
}

/// Adds the TRE_A07 `labels` to `audit.meta.security`.
fn label(audit: &mut Map<String, Value>, labels: &[&str]) {
    let meta = audit
        .entry("meta")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let serde_json::Value::Object(meta) = meta {
        let security = meta
            .entry("security")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(security) = security {
            for label in labels {
                security.push(serde_json::json!({
                    "system": crate::fhir::labels::TRE_A07,
                    "code": label
                }));
            }
        }
    }
}

/// Stores `event` (an AuditEvent without id) as a new resource written at `now` by the
/// service `service` for request `request_id`, inside the caller's transaction. The
/// service may create AuditEvents and nothing else.
pub(crate) fn save_audit_event(
    conn: &mut Conn<'_>,
    services: &Services,
    service: &str,
    request_id: &str,
    now: i64,
    event: Map<String, Value>,
) -> Result<StoredResource, InteractionError> {
    let service_context = service_context(service, request_id, now);
    let id = ResourceId::generate();
    save(
        conn,
        services,
        &service_context,
        NextVersion {
            res_type: "AuditEvent",
            id: id.as_str(),
            previous: None,
            method: WriteMethod::Create,
        },
        event.into(),
    )
}

/// The context in which the service `service` writes the audit of request `request_id`.
fn service_context(service: &str, request_id: &str, now: i64) -> RequestContext {
    RequestContext {
        principal: service_principal(service),
        request_id: request_id.to_owned(),
        now_millis: now,
        // The audit of the audit is not recorded.
        audit: AuditSink::default(),
    }
}

/// A server-internal system principal named `service` whose only right is to create
/// AuditEvents.
fn service_principal(service: &str) -> Principal {
    Principal {
        subject: Subject::System(service.to_owned()),
        issuer: service.to_owned(),
        token_id: None,
        scopes: vec!["system/AuditEvent.c".to_owned()],
        purposes: vec![PurposeOfUse::Operations],
        profession: None,
        organization: None,
        patient: None,
        expires_at: 0,
    }
}

/// Runs `work` in a write transaction and stores the access events it recorded in that
/// same transaction: the audit of a write commits with it, or not at all.
pub(crate) fn write_audited<T>(
    services: &Services,
    context: &RequestContext,
    work: impl FnOnce(&mut Conn<'_>) -> Result<T, InteractionError>,
) -> Result<T, InteractionError> {
    write_audited_then(services, context, work, || ())
}

/// `write_audited`, calling `visible` once the next writer sees the outcome
/// (`Store::write_then`).
pub(crate) fn write_audited_then<T>(
    services: &Services,
    context: &RequestContext,
    work: impl FnOnce(&mut Conn<'_>) -> Result<T, InteractionError>,
    visible: impl FnOnce(),
) -> Result<T, InteractionError> {
    let (value, deferred) = services.store.write_then(
        |conn| {
            let value = work(conn)?;
            let deferred = record(conn, services, context)?;
            Ok::<_, InteractionError>((value, deferred))
        },
        visible,
    )?;
    services.deferred_index.added(deferred);
    Ok(value)
}

/// Runs `work` (an interaction), then stores the access events still pending (reads,
/// searches, refusals) before the answer leaves: a request whose audit cannot be stored
/// fails.
pub fn audited<T>(
    services: &Services,
    context: &RequestContext,
    work: impl FnOnce() -> Result<T, InteractionError>,
) -> Result<T, InteractionError> {
    let result = work();
    flush(services, context)?;
    result
}

/// Records a refused authentication (a bad, expired or untrusted token; an unknown card
/// holder) as an AuditEvent (DICOM User Authentication, outcome 4), in a transaction of its
/// own. Errors are logged: the 401 answer does not wait for them.
pub fn authentication_failure(
    services: &Services,
    request_id: &str,
    reason: &str,
    client_address: Option<&str>,
) {
    let now = services.clock.now_millis();
    let event = crate::audit::login::login_event(&crate::audit::login::LoginEvent {
        outcome: crate::audit::login::LoginOutcome::Failure,
        reason,
        subject: None,
        patient: None,
        identifier: None,
        client_address,
        request_id,
        recorded_millis: now,
    });
    let stored = services.store.write(|conn| {
        save_audit_event(
            conn,
            services,
            "carnet-authentication",
            request_id,
            now,
            event,
        )
    });
    if let Err(error) = stored {
        log::error!(
            "the audit of a refused authentication (request `{request_id}`) could not be stored: {error}"
        );
    }
}
