//! Interactions: one file per FHIR interaction, HTTP-free and synchronous, each citing its
//! section of the spec. This is the only place where storage (and, later, consent and audit)
//! meet; every interaction takes the `RequestContext` with the caller's `Principal`. Must
//! not depend on `rest`.

mod access;
pub mod audit_trail;
pub mod bundle;
pub mod bundle_entry;
mod bundle_placeholders;
mod conditional;
pub mod consent_operations;
pub mod context;
pub mod create;
pub mod deferred_index;
pub mod delete;
pub mod error;
pub mod history;
pub mod identify;
mod immutable;
pub mod login;
pub mod outbox;
mod page_token;
pub mod patch;
pub mod read;
pub mod reindex;
mod representatives;
pub mod search;
pub mod stored;
mod target;
pub mod update;
pub mod validate;
pub mod vread;
mod write;

pub use access::RecordCache;
pub use context::{Clock, Limits, RequestContext, Services, SystemClock};
pub use error::InteractionError;
pub use stored::StoredResource;
