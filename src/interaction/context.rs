//! What every interaction receives: the shared services (storage, schema, clock, limits)
//! and the request context (who asks, the request id, the time of the request).

use std::sync::Arc;

use crate::audit::AuditSink;
use crate::auth::Principal;
use crate::consent::Policy;
use crate::fhir::schema::Schema;
use crate::search::registry::SearchRegistry;
use crate::storage::Store;

/// A source of the current time, injectable so that tests control it.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// Limits that protect the server from oversized requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Page size when `_count` is absent.
    pub default_page_size: usize,
    /// Largest page size served (bigger `_count` values are reduced to it).
    pub max_page_size: usize,
    /// Most entries accepted in one batch or transaction bundle.
    pub max_bundle_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_page_size: 50,
            max_page_size: 1000,
            max_bundle_entries: 10_000,
        }
    }
}

/// The long-lived services interactions use; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub schema: Arc<Schema>,
    pub registry: Arc<SearchRegistry>,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    /// The consent policy: the access matrix and its settings, loaded once.
    pub policy: Arc<Policy>,
    /// Parsed patient records kept across requests, checked against their stamp.
    pub records: Arc<super::access::RecordCache>,
    /// Professionals' first accesses known to be stored (audit notifications).
    pub known_accesses: Arc<super::audit_trail::KnownAccesses>,
    /// The writers of deferred search rows (the AuditEvents of reads and searches).
    pub deferred_index: Arc<super::deferred_index::DeferredIndex>,
}

/// One request: who asks, its correlation id and when it arrived.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub principal: Principal,
    pub request_id: String,
    pub now_millis: i64,
    /// The access decisions of this request, for the audit trail.
    pub audit: AuditSink,
}

impl RequestContext {
    /// The context of a request by `principal`, with an empty audit sink.
    pub fn new(principal: Principal, request_id: String, now_millis: i64) -> Self {
        Self {
            principal,
            request_id,
            now_millis,
            audit: AuditSink::default(),
        }
    }

    /// The context of a bulk load (`carnet import`): its access events are coalesced, one
    /// AuditEvent per action and transaction.
    pub fn bulk(principal: Principal, request_id: String, now_millis: i64) -> Self {
        Self {
            principal,
            request_id,
            now_millis,
            audit: AuditSink::coalescing(),
        }
    }
}
