//! Typed access to the DMP core resources (Patient, Practitioner, RelatedPerson,
//! DocumentReference, Consent, AuditEvent, AllergyIntolerance) through fhir-sdk's R4B models,
//! whose elements and required codes are identical to R4 for these types.
//!
//! This crate is kept apart from `carnet` because the deserialisers of fhir-sdk are costly to
//! compile; here they are compiled once. fhir-sdk silently drops unknown elements and bad
//! choice values and turns decimals into floats, so typed values are for **reading** facts
//! (the consent engine's inputs); they never decide what is stored or served: Carnet stores
//! and serves the validated JSON as received.

use fhir_sdk::r4b::resources;
use serde_json::Value;

pub use resources::{
    AllergyIntolerance, AuditEvent, Consent, DocumentReference, Patient, Practitioner,
    RelatedPerson,
};

/// Why a resource could not be read as its typed model, with the path of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedError {
    /// Where the problem is, e.g. `provision.provision[0].actor[0].reference`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for TypedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for TypedError {}

fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, TypedError> {
    serde_path_to_error::deserialize(value).map_err(|error| TypedError {
        path: error.path().to_string(),
        message: error.inner().to_string(),
    })
}

// One non-generic function per type, so that each deserialiser is instantiated here only.

pub fn patient(value: &Value) -> Result<Patient, TypedError> {
    typed(value)
}

pub fn practitioner(value: &Value) -> Result<Practitioner, TypedError> {
    typed(value)
}

pub fn related_person(value: &Value) -> Result<RelatedPerson, TypedError> {
    typed(value)
}

pub fn document_reference(value: &Value) -> Result<DocumentReference, TypedError> {
    typed(value)
}

pub fn consent(value: &Value) -> Result<Consent, TypedError> {
    typed(value)
}

pub fn audit_event(value: &Value) -> Result<AuditEvent, TypedError> {
    typed(value)
}

pub fn allergy_intolerance(value: &Value) -> Result<AllergyIntolerance, TypedError> {
    typed(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patient_is_read_with_its_general_practitioner() {
        let value = json!({"resourceType": "Patient", "id": "p1", "gender": "female",
            "generalPractitioner": [{"reference": "Practitioner/gp"}]});
        let patient = patient(&value).expect("a valid patient");
        let reference = patient
            .general_practitioner
            .first()
            .and_then(|r| r.as_ref())
            .and_then(|r| r.reference.clone());
        assert_eq!(reference.as_deref(), Some("Practitioner/gp"));
    }

    #[test]
    fn errors_carry_the_path() {
        let value = json!({"resourceType": "Consent", "status": "active", "scope": {"text": "x"},
            "category": [{"text": "x"}], "provision": {"provision": [{"type": "sometimes"}]}});
        let error = consent(&value).expect_err("an unknown provision type");
        assert!(
            error.path.starts_with("provision.provision[0].type"),
            "{error}"
        );
    }
}
