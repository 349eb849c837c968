//! FHIR knowledge without I/O: the R4 definitions in `schemas/` (types, elements,
//! bindings), strict validation, typed ids, time values, resource JSON handling and
//! OperationOutcome. Depends on `error` only; the typed fhir-sdk models live in the
//! `carnet-typed` crate so that their costly deserialisers are not rebuilt with this one.

pub mod dates;
pub mod ids;
pub mod instant;
pub mod labels;
pub mod outcome;
pub mod resource;
pub mod schema;
pub mod validate;

/// Typed fhir-sdk models of the DMP core resources, for reading facts (never for storing).
pub use carnet_typed as typed;
