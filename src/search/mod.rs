//! FHIR search semantics without SQL: the R4 SearchParameter registry, a FHIRPath subset to
//! evaluate their expressions, the extraction of index values from a resource, the patient
//! compartment, query-string parsing (and the `Parameters` body of a POSTed operation), the
//! typed `SearchQuery` parsed from a request, and the terminology (ValueSet expansion,
//! CodeSystem subsumption) of the token modifiers `:in`, `:not-in`, `:above`, `:below`.
//! Depends on `fhir` and `error` only.

pub mod compartment;
pub mod extract;
pub mod fhirpath;
pub mod operation_parameters;
pub mod query;
pub mod query_string;
pub mod registry;
pub mod terminology;
