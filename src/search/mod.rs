//! FHIR search semantics without SQL. For now: reading a query string into parameters and
//! the `identifier`/`_id` criteria conditional interactions use; the search issue adds the
//! parameter registry and the typed `SearchQuery`. Depends on `fhir` and `error` only.

pub mod criteria;
pub mod query_string;
