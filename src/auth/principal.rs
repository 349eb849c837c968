//! Who is asking: the authenticated `Principal` (its `Subject`, scopes and purposes of use)
//! and how it is read from the claims of a verified token (DMP-RULES.md §3, CONTRACT.md
//! "Tokens"). `auth` does authentication only: it may use `crate::error`, std and crates,
//! never storage, HTTP or consent.

use serde_json::{Map, Value};

use super::error::AuthError;
use super::scopes::{SmartScope, parse_scopes};

/// The subject of a request: a FHIR user (by id) or a system client (by name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Patient(String),
    Practitioner(String),
    RelatedPerson(String),
    /// A backend service acting with `system/` scopes; the string is its client name.
    System(String),
}

impl Subject {
    /// The subject of a relative reference `Patient/{id}`, `Practitioner/{id}` or
    /// `RelatedPerson/{id}` (`{id}` a valid FHIR id); `None` for anything else, including
    /// absolute URLs and versioned references.
    pub fn from_reference(reference: &str) -> Option<Self> {
        let (resource_type, id) = reference.split_once('/')?;
        if !is_fhir_id(id) {
            return None;
        }
        let id = id.to_owned();
        match resource_type {
            "Patient" => Some(Self::Patient(id)),
            "Practitioner" => Some(Self::Practitioner(id)),
            "RelatedPerson" => Some(Self::RelatedPerson(id)),
            _ => None,
        }
    }

    /// The subject as a FHIR reference (`Patient/123`); `None` for a system client.
    pub fn reference(&self) -> Option<String> {
        let resource_type = self.resource_type()?;
        Some(format!("{resource_type}/{}", self.id()))
    }

    /// `Patient`, `Practitioner` or `RelatedPerson`; `None` for a system client.
    pub fn resource_type(&self) -> Option<&'static str> {
        match self {
            Self::Patient(_) => Some("Patient"),
            Self::Practitioner(_) => Some("Practitioner"),
            Self::RelatedPerson(_) => Some("RelatedPerson"),
            Self::System(_) => None,
        }
    }

    /// The resource id, or the system client's name.
    pub fn id(&self) -> &str {
        match self {
            Self::Patient(id) | Self::Practitioner(id) | Self::RelatedPerson(id) => id,
            Self::System(name) => name,
        }
    }
}

/// Why the subject acts: a v3-ActReason code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PurposeOfUse {
    /// TREAT, the default.
    Treat,
    /// ETREAT, emergency treatment.
    EmergencyTreat,
    /// BTG, break the glass.
    BreakTheGlass,
    /// HPAYMT, payment.
    Payment,
    /// HOPERAT, operations.
    Operations,
    /// Any other code: a bare v3-ActReason code, or `system|code` for a code of another
    /// system (never to be taken for one of the codes above).
    Other(String),
}

impl PurposeOfUse {
    /// The code system of the codes above.
    pub const SYSTEM: &'static str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
    /// The same code system by OID.
    const SYSTEM_OID: &'static str = "urn:oid:2.16.840.1.113883.5.8";

    /// The purpose of a v3-ActReason code (case-sensitive, as codes are).
    pub fn from_code(code: &str) -> Self {
        match code {
            "TREAT" => Self::Treat,
            "ETREAT" => Self::EmergencyTreat,
            "BTG" => Self::BreakTheGlass,
            "HPAYMT" => Self::Payment,
            "HOPERAT" => Self::Operations,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code (for `Other`, as it was read).
    pub fn code(&self) -> &str {
        match self {
            Self::Treat => "TREAT",
            Self::EmergencyTreat => "ETREAT",
            Self::BreakTheGlass => "BTG",
            Self::Payment => "HPAYMT",
            Self::Operations => "HOPERAT",
            Self::Other(code) => code,
        }
    }
}

/// An authenticated subject and what its credentials say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: Subject,
    /// The `iss` of the token.
    pub issuer: String,
    /// The `jti` of the token, when it has one.
    pub token_id: Option<String>,
    /// SMART scopes, as written in the token.
    pub scopes: Vec<String>,
    /// Never empty: TREAT when the token states none.
    pub purposes: Vec<PurposeOfUse>,
    /// TRE_G15 profession code, when the token states one.
    pub profession: Option<String>,
    /// `Organization/{id}` the subject acts for, when the token states one.
    pub organization: Option<String>,
    /// The patient in context (an id): the SMART launch context `patient` claim, or the
    /// subject itself for a patient. `patient/` scopes give access to this patient's data
    /// only, and to nothing without it.
    pub patient: Option<String>,
    /// `exp`, in Unix seconds.
    pub expires_at: i64,
}

impl Principal {
    /// The principal of a token whose signature, issuer and times were checked already.
    pub(crate) fn from_claims(
        issuer: &str,
        claims: &Map<String, Value>,
        expires_at: i64,
    ) -> Result<Self, AuthError> {
        let scopes = match claims.get("scope") {
            None => Vec::new(),
            Some(Value::String(scope)) => scope.split_whitespace().map(str::to_owned).collect(),
            Some(_) => return Err(invalid("the `scope` claim is not a string")),
        };
        let subject = subject_from_claims(claims, &scopes)?;
        let organization = optional_text(claims, "organization")?;
        if organization
            .as_deref()
            .is_some_and(|o| !is_reference_to("Organization", o))
        {
            return Err(invalid(
                "the `organization` claim is not an `Organization/{id}` reference",
            ));
        }
        let patient = patient_in_context(claims, &subject)?;
        Ok(Self {
            subject,
            patient,
            issuer: issuer.to_owned(),
            token_id: optional_text(claims, "jti")?,
            scopes,
            purposes: purposes_from_claims(claims)?,
            profession: optional_text(claims, "profession")?,
            organization,
            expires_at,
        })
    }
}

/// The subject: `fhirUser` when present, else `sub` when it is a reference, else a system
/// client named by `sub` when every scope is a `system/` scope.
fn subject_from_claims(
    claims: &Map<String, Value>,
    scopes: &[String],
) -> Result<Subject, AuthError> {
    let sub = match claims.get("sub") {
        Some(Value::String(sub)) if is_token_text(sub) => sub,
        _ => return Err(invalid("the `sub` claim is missing or not a usable string")),
    };
    let from_sub = Subject::from_reference(sub);
    match claims.get("fhirUser") {
        Some(Value::String(fhir_user)) => {
            let subject = Subject::from_reference(fhir_user).ok_or_else(|| {
                invalid("the `fhirUser` claim is not a Patient, Practitioner or RelatedPerson reference")
            })?;
            if from_sub.is_some_and(|other| other != subject) {
                return Err(invalid(
                    "the `sub` and `fhirUser` claims name different subjects",
                ));
            }
            Ok(subject)
        }
        Some(_) => Err(invalid("the `fhirUser` claim is not a string")),
        None => match from_sub {
            Some(subject) => Ok(subject),
            None if !scopes.is_empty() && scopes.iter().all(|s| s.starts_with("system/")) => {
                Ok(Subject::System(sub.clone()))
            }
            None => Err(invalid(
                "the token names no FHIR user, and a system client's token must have only `system/` scopes",
            )),
        },
    }
}

/// The `patient` claim (a FHIR id), which for a patient must be their own id when given.
fn patient_in_context(
    claims: &Map<String, Value>,
    subject: &Subject,
) -> Result<Option<String>, AuthError> {
    let claimed = optional_text(claims, "patient")?;
    if claimed.as_deref().is_some_and(|id| !is_fhir_id(id)) {
        return Err(invalid("the `patient` claim is not a patient id"));
    }
    match subject {
        Subject::Patient(own) => {
            if claimed.as_deref().is_some_and(|id| id != own) {
                return Err(invalid(
                    "the `patient` claim names another patient than the subject",
                ));
            }
            Ok(Some(own.clone()))
        }
        _ => Ok(claimed),
    }
}

impl Principal {
    /// The resource scopes of the token (`parse_scopes`), the malformed ones logged.
    pub fn smart_scopes(&self) -> Vec<SmartScope> {
        let (scopes, malformed) = parse_scopes(&self.scopes);
        if !malformed.is_empty() {
            log::info!(
                "scopes of `{}` that grant nothing: {}",
                self.subject.id(),
                malformed.join(" ")
            );
        }
        scopes
    }
}

/// The purposes of use from `purpose_of_use` and `extensions.ihe_iua.purpose_of_use`
/// (each a code, a Coding-like object, or an array of them), without repeats; TREAT when
/// there are none.
fn purposes_from_claims(claims: &Map<String, Value>) -> Result<Vec<PurposeOfUse>, AuthError> {
    let mut purposes = Vec::new();
    let iua = claims
        .get("extensions")
        .and_then(|extensions| extensions.get("ihe_iua"))
        .and_then(|iua| iua.get("purpose_of_use"));
    for value in [claims.get("purpose_of_use"), iua].into_iter().flatten() {
        let items = match value {
            Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        for item in items {
            let purpose = purpose_from_value(item)?;
            if !purposes.contains(&purpose) {
                purposes.push(purpose);
            }
        }
    }
    if purposes.is_empty() {
        purposes.push(PurposeOfUse::Treat);
    }
    Ok(purposes)
}

fn purpose_from_value(value: &Value) -> Result<PurposeOfUse, AuthError> {
    let unusable = || invalid("a purpose of use is neither a code nor a coding with a `code`");
    let (system, code) = match value {
        Value::String(code) => (None, code),
        Value::Object(coding) => {
            let system = match coding.get("system") {
                None => None,
                Some(Value::String(system)) => Some(system.as_str()),
                Some(_) => return Err(unusable()),
            };
            match coding.get("code") {
                Some(Value::String(code)) => (system, code),
                _ => return Err(unusable()),
            }
        }
        _ => return Err(unusable()),
    };
    if !is_token_text(code) {
        return Err(unusable());
    }
    Ok(match system {
        None | Some(PurposeOfUse::SYSTEM | PurposeOfUse::SYSTEM_OID) => {
            PurposeOfUse::from_code(code)
        }
        Some(other) => PurposeOfUse::Other(format!("{other}|{code}")),
    })
}

/// An optional claim that, when present, is a non-empty string without spaces.
fn optional_text(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(text)) if is_token_text(text) => Ok(Some(text.clone())),
        Some(_) => Err(invalid(&format!(
            "the `{name}` claim is not a non-empty string without spaces"
        ))),
    }
}

fn invalid(detail: &str) -> AuthError {
    AuthError::InvalidClaims(detail.to_owned())
}

/// A FHIR id: 1 to 64 of `A-Z a-z 0-9 - .`.
pub(crate) fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Whether `reference` is `{resource_type}/{id}` with a valid id.
pub(crate) fn is_reference_to(resource_type: &str, reference: &str) -> bool {
    reference
        .split_once('/')
        .is_some_and(|(t, id)| t == resource_type && is_fhir_id(id))
}

/// Non-empty, at most 256 characters, no whitespace or control characters.
pub(crate) fn is_token_text(text: &str) -> bool {
    !text.is_empty()
        && text.chars().count() <= 256
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal(claims: Value) -> Result<Principal, AuthError> {
        let Value::Object(claims) = claims else {
            panic!("claims are an object")
        };
        Principal::from_claims("https://carnet.test", &claims, 2_000_000_000)
    }

    fn purposes(claims: Value) -> Vec<PurposeOfUse> {
        let mut claims = claims;
        claims["sub"] = json!("Practitioner/1");
        principal(claims).unwrap().purposes
    }

    #[test]
    fn subject_references_parse_and_print() {
        for (reference, subject) in [
            ("Patient/123", Subject::Patient("123".into())),
            ("Practitioner/a-b.c", Subject::Practitioner("a-b.c".into())),
            ("RelatedPerson/789", Subject::RelatedPerson("789".into())),
        ] {
            assert_eq!(Subject::from_reference(reference), Some(subject.clone()));
            assert_eq!(subject.reference().as_deref(), Some(reference));
        }
        for bad in [
            "Patient",
            "Patient/",
            "Organization/1",
            "patient/1",
            "Patient/1/_history/2",
            "https://example.org/fhir/Patient/1",
            "Patient/a b",
            "Patient/é",
            &format!("Patient/{}", "1".repeat(65)),
        ] {
            assert_eq!(Subject::from_reference(bad), None, "{bad}");
        }
        let system = Subject::System("insurer-feed".into());
        assert_eq!(system.reference(), None);
        assert_eq!(system.id(), "insurer-feed");
    }

    #[test]
    fn subject_comes_from_fhir_user_then_sub_then_system_scopes() {
        let p = principal(json!({"sub": "opaque-42", "fhirUser": "Practitioner/7"})).unwrap();
        assert_eq!(p.subject, Subject::Practitioner("7".into()));
        let p = principal(json!({"sub": "Patient/9", "scope": "patient/*.rs"})).unwrap();
        assert_eq!(p.subject, Subject::Patient("9".into()));
        let p =
            principal(json!({"sub": "feed", "scope": "system/Claim.c system/Coverage.c"})).unwrap();
        assert_eq!(p.subject, Subject::System("feed".into()));
        assert_eq!(p.scopes, ["system/Claim.c", "system/Coverage.c"]);
        // A bare sub is refused unless every scope is a system scope.
        for claims in [
            json!({"sub": "feed"}),
            json!({"sub": "feed", "scope": "system/Claim.c user/*.rs"}),
            json!({"sub": "feed", "scope": ""}),
            json!({"sub": "Patient/1", "fhirUser": "Patient/2"}),
            json!({"sub": "x", "fhirUser": "Organization/2"}),
            json!({"sub": "x", "fhirUser": 7}),
            json!({"fhirUser": "Patient/2"}),
            json!({"sub": "", "scope": "system/*.rs"}),
        ] {
            let error = principal(claims.clone()).unwrap_err();
            assert!(matches!(error, AuthError::InvalidClaims(_)), "{claims}");
        }
    }

    #[test]
    fn patient_in_context_comes_from_the_claim_or_the_patient_subject() {
        let p = principal(json!({"sub": "Patient/9"})).unwrap();
        assert_eq!(p.patient.as_deref(), Some("9"));
        let p = principal(json!({"sub": "Practitioner/1", "patient": "9"})).unwrap();
        assert_eq!(p.patient.as_deref(), Some("9"));
        for claims in [
            json!({"sub": "Patient/9", "patient": "8"}),
            json!({"sub": "Practitioner/1", "patient": "Patient/9"}),
            json!({"sub": "Practitioner/1", "patient": 9}),
        ] {
            assert!(principal(claims.clone()).is_err(), "{claims}");
        }
    }

    #[test]
    fn purpose_defaults_to_treat() {
        assert_eq!(purposes(json!({})), [PurposeOfUse::Treat]);
        assert_eq!(
            purposes(json!({"purpose_of_use": []})),
            [PurposeOfUse::Treat]
        );
    }

    #[test]
    fn purpose_reads_the_top_level_claim() {
        assert_eq!(
            purposes(json!({"purpose_of_use": "BTG"})),
            [PurposeOfUse::BreakTheGlass]
        );
        assert_eq!(
            purposes(json!({"purpose_of_use": ["ETREAT", "HPAYMT", "ETREAT", "HOPERAT"]})),
            [
                PurposeOfUse::EmergencyTreat,
                PurposeOfUse::Payment,
                PurposeOfUse::Operations
            ]
        );
        assert_eq!(
            purposes(json!({"purpose_of_use": "PUBHLTH"})),
            [PurposeOfUse::Other("PUBHLTH".into())]
        );
    }

    #[test]
    fn purpose_reads_the_ihe_iua_extension() {
        let iua = |value: Value| json!({"extensions": {"ihe_iua": {"purpose_of_use": value}}});
        assert_eq!(
            purposes(iua(json!("ETREAT"))),
            [PurposeOfUse::EmergencyTreat]
        );
        assert_eq!(
            purposes(iua(json!({"system": PurposeOfUse::SYSTEM, "code": "BTG"}))),
            [PurposeOfUse::BreakTheGlass]
        );
        assert_eq!(
            purposes(iua(json!([
                {"system": "urn:oid:2.16.840.1.113883.5.8", "code": "TREAT"},
                {"code": "HPAYMT"},
                "BTG"
            ]))),
            [
                PurposeOfUse::Treat,
                PurposeOfUse::Payment,
                PurposeOfUse::BreakTheGlass
            ]
        );
        // A code of another system is never one of ActReason's.
        assert_eq!(
            purposes(iua(json!({"system": "urn:other", "code": "BTG"}))),
            [PurposeOfUse::Other("urn:other|BTG".into())]
        );
        // Both claims together.
        let mut both = iua(json!("BTG"));
        both["purpose_of_use"] = json!("TREAT");
        assert_eq!(
            purposes(both),
            [PurposeOfUse::Treat, PurposeOfUse::BreakTheGlass]
        );
    }

    #[test]
    fn unusable_purposes_are_refused() {
        for value in [
            json!(7),
            json!(""),
            json!([["TREAT"]]),
            json!({"system": PurposeOfUse::SYSTEM}),
            json!({"code": 1}),
            json!("TRE AT"),
        ] {
            let claims = json!({"sub": "Patient/1", "purpose_of_use": value});
            assert!(principal(claims).is_err(), "{value}");
        }
    }

    #[test]
    fn optional_claims_are_read_and_checked() {
        let p = principal(json!({
            "sub": "Practitioner/1", "jti": "abc", "profession": "10",
            "organization": "Organization/org-1"
        }))
        .unwrap();
        assert_eq!(p.token_id.as_deref(), Some("abc"));
        assert_eq!(p.profession.as_deref(), Some("10"));
        assert_eq!(p.organization.as_deref(), Some("Organization/org-1"));
        assert_eq!(p.issuer, "https://carnet.test");
        assert_eq!(p.expires_at, 2_000_000_000);
        assert_eq!(p.patient, None);
        for claims in [
            json!({"sub": "Practitioner/1", "organization": "Practitioner/2"}),
            json!({"sub": "Practitioner/1", "profession": 10}),
            json!({"sub": "Practitioner/1", "scope": ["user/*.rs"]}),
        ] {
            assert!(principal(claims.clone()).is_err(), "{claims}");
        }
    }
}
