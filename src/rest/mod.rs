//! The HTTP layer: the only user of actix-web. Routes, extractors (principal, Prefer,
//! If-Match, formats), one handler per interaction calling `interaction` on the blocking
//! pool, the single table from error category to status and OperationOutcome, bundles and
//! paging links, the CapabilityStatement. Must not reach storage except through `interaction`.

pub mod bundles;
pub mod capability;
pub mod client_certificate;
pub mod errors;
pub mod format;
mod handlers;
pub mod headers;
pub mod principal;
mod respond;
pub mod routes;
pub mod state;

pub use state::AppState;
