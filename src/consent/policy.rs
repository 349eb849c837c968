//! A FHIR R4 Consent parsed once into a `ConsentPolicy` (DMP-RULES.md §4, IHE PCF): status,
//! patient, scope, and the provision tree (type, period, actor with role, action, purpose,
//! class, code, securityLabel, data with meaning, dataPeriod, nested provisions). How a
//! policy applies to a request is `provision.rs`.
//!
//! Choices where R4/PCF leave room: only `active` Consents count; `scope` absent or
//! `patient-privacy` governs access, other scopes (`treatment`, `research`, `adr`) are kept
//! but have no effect on access; `category` is not checked (PCF and DMP use LOINC 59284-0,
//! others exist) and `policyRule` is informative. A provision without `type` takes its
//! parent's; the root provision must have one. A Consent without provision has no effect.

use serde_json::{Map, Value};

use super::error::ConsentError;
use super::facts::LabelCode;
use super::requester::TRE_G15;
use crate::fhir::dates::date_range;

/// `Consent.scope` code of privacy consents.
pub const SCOPE_PATIENT_PRIVACY: &str = "patient-privacy";

/// permit or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionType {
    Permit,
    Deny,
}

/// `provision.data.meaning`. `related` and `dependents` are matched like `instance`
/// (Carnet does not follow references to decide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataMeaning {
    Instance,
    Related,
    Dependents,
    /// The data authored by the referenced actor.
    AuthoredBy,
}

/// `provision.data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRef {
    pub meaning: DataMeaning,
    /// A relative reference, `Type/id`.
    pub reference: String,
}

/// `provision.actor`: who the provision is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `actor.role` codings as `(system, code)`. A TRE_G15 coding restricts the actor to
    /// that profession; other role systems (v3-ParticipationType…) are descriptive.
    pub roles: Vec<(String, String)>,
    /// `Practitioner/{id}` or `Organization/{id}` (others never match a professional);
    /// `None` only when absent (R4 requires it): then the role alone identifies the actor.
    pub reference: Option<String>,
}

/// A period as an inclusive millisecond range; an open end is `i64::MIN`/`i64::MAX`.
pub type Span = (i64, i64);

/// One provision of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    /// Where it is: `Consent/{id}#provision.provision[1]`.
    pub path: String,
    pub kind: ProvisionType,
    pub period: Option<Span>,
    pub actors: Vec<Actor>,
    /// `action` codes (consentaction: collect, access, use, disclose, correct).
    pub actions: Vec<String>,
    pub security_labels: Vec<LabelCode>,
    /// `purpose` codings as `(system, code)`; the system may be empty.
    pub purposes: Vec<(String, String)>,
    /// `class` codings as `(system, code)`.
    pub classes: Vec<(String, String)>,
    /// `code` codings as `(system, code)`.
    pub codes: Vec<(String, String)>,
    pub data_period: Option<Span>,
    pub data: Vec<DataRef>,
    pub children: Vec<Provision>,
}

impl Provision {
    /// Whether it carries an element about the resource (class, code, securityLabel, data,
    /// dataPeriod): then it is about some resources, not the whole record.
    pub fn is_resource_scoped(&self) -> bool {
        !self.classes.is_empty()
            || !self.codes.is_empty()
            || !self.security_labels.is_empty()
            || !self.data.is_empty()
            || self.data_period.is_some()
    }
}

/// A patient's Consent, ready to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPolicy {
    /// `Consent.id`.
    pub id: Option<String>,
    /// `Consent.status`; only `active` counts.
    pub status: String,
    /// The id of `Consent.patient` (`Patient/{id}`).
    pub patient_id: Option<String>,
    /// Whether `scope` is absent or `patient-privacy`.
    pub governs_access: bool,
    /// The root provision.
    pub root: Option<Provision>,
    /// Set by `unreadable`: the Consent could not be parsed, and every decision that
    /// depends on consents fails closed.
    pub unreadable: Option<String>,
}

impl ConsentPolicy {
    /// Parses a FHIR R4 Consent.
    pub fn from_json(consent: &Value) -> Result<Self, ConsentError> {
        let object = consent
            .as_object()
            .ok_or_else(|| invalid("the consent is not a json object"))?;
        if object.get("resourceType").and_then(Value::as_str) != Some("Consent") {
            return Err(invalid("the resource is not a `Consent`"));
        }
        let id = optional_string(object, "id")?;
        let status = optional_string(object, "status")?
            .ok_or_else(|| invalid("the consent has no `status`"))?;
        let patient_id = match object.get("patient") {
            None => None,
            Some(patient) => {
                let reference = patient
                    .get("reference")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("`patient` has no `reference`"))?;
                let id = reference
                    .strip_prefix("Patient/")
                    .filter(|id| crate::fhir::ids::is_valid_id(id))
                    .ok_or_else(|| invalid("`patient` is not a `Patient/{id}` reference"))?;
                Some(id.to_owned())
            }
        };
        let governs_access = match object.get("scope") {
            None => true,
            Some(scope) => codings(scope, "scope")?
                .iter()
                .any(|(_, code)| code == SCOPE_PATIENT_PRIVACY),
        };
        let base = format!(
            "Consent{}#",
            id.as_ref().map(|i| format!("/{i}")).unwrap_or_default()
        );
        let root = match object.get("provision") {
            None => None,
            Some(provision) => Some(parse_provision(
                provision,
                None,
                format!("{base}provision"),
            )?),
        };
        Ok(Self {
            id,
            status,
            patient_id,
            governs_access,
            root,
            unreadable: None,
        })
    }

    /// A stored Consent that `from_json` refused (`error`): kept so that decisions about its
    /// patient's record fail closed for professionals instead of ignoring a possible block.
    pub fn unreadable(
        id: Option<String>,
        patient_id: Option<String>,
        error: &ConsentError,
    ) -> Self {
        Self {
            id,
            status: String::new(),
            patient_id,
            governs_access: true,
            root: None,
            unreadable: Some(error.to_string()),
        }
    }

    /// Whether the Consent can have an effect at all (active, privacy scope, a provision).
    /// Its root `period` is checked at evaluation.
    pub fn is_in_force(&self) -> bool {
        self.unreadable.is_none()
            && self.status == "active"
            && self.governs_access
            && self.root.is_some()
    }
}

fn invalid(text: &str) -> ConsentError {
    ConsentError::InvalidConsent(text.to_owned())
}

fn optional_string(object: &Map<String, Value>, key: &str) -> Result<Option<String>, ConsentError> {
    match object.get(key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(invalid(&format!("`{key}` is not a string"))),
    }
}

/// The values of a repeating element (an array, or a single value tolerated).
fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
    }
}

fn coding(value: &Value, element: &str) -> Result<(String, String), ConsentError> {
    let system = value.get("system").map_or(Some(""), Value::as_str);
    let code = value.get("code").and_then(Value::as_str);
    match (system, code) {
        (Some(system), Some(code)) if !code.is_empty() => Ok((system.to_owned(), code.to_owned())),
        _ => Err(invalid(&format!(
            "a coding of `{element}` has no usable `code`"
        ))),
    }
}

/// The codings of a CodeableConcept or a list of them.
fn codings(value: &Value, element: &str) -> Result<Vec<(String, String)>, ConsentError> {
    let mut found = Vec::new();
    for concept in items(Some(value)) {
        for c in items(concept.get("coding")) {
            found.push(coding(c, element)?);
        }
    }
    Ok(found)
}

fn period(value: Option<&Value>, element: &str) -> Result<Option<Span>, ConsentError> {
    let Some(value) = value else { return Ok(None) };
    let bound = |key: &str| -> Result<Option<Span>, ConsentError> {
        match value.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(date_range)
                .map(Some)
                .ok_or_else(|| invalid(&format!("`{element}.{key}` is not a date"))),
        }
    };
    let start = bound("start")?.map_or(i64::MIN, |(low, _)| low);
    let end = bound("end")?.map_or(i64::MAX, |(_, high)| high);
    if start > end {
        return Err(invalid(&format!("`{element}` ends before it starts")));
    }
    Ok(Some((start, end)))
}

fn parse_provision(
    value: &Value,
    parent: Option<ProvisionType>,
    path: String,
) -> Result<Provision, ConsentError> {
    if !value.is_object() {
        return Err(invalid("a `provision` is not an object"));
    }
    let kind = match value.get("type").map(Value::as_str) {
        None => parent.ok_or_else(|| invalid("the root `provision` has no `type`"))?,
        Some(Some("permit")) => ProvisionType::Permit,
        Some(Some("deny")) => ProvisionType::Deny,
        Some(_) => return Err(invalid("a provision `type` is neither `permit` nor `deny`")),
    };
    let mut actors = Vec::new();
    for actor in items(value.get("actor")) {
        let roles = match actor.get("role") {
            Some(role) => codings(role, "actor.role")?,
            None => Vec::new(),
        };
        // R4 requires `actor.reference`; a patient blocking a whole profession (§4.2 "their
        // role") names no one: a reference with a `display` only, next to a TRE_G15 role,
        // leaves the role alone to identify the actor.
        let names_a_profession = roles.iter().any(|(system, _)| system == TRE_G15);
        let reference = match actor.get("reference") {
            None => None,
            Some(r) => match r.get("reference").and_then(Value::as_str) {
                Some(reference) => Some(reference.to_owned()),
                None if names_a_profession && r.get("identifier").is_none() => None,
                None => return Err(invalid("an `actor.reference` has no `reference`")),
            },
        };
        if roles.is_empty() && reference.is_none() {
            return Err(invalid("an `actor` has neither `role` nor `reference`"));
        }
        actors.push(Actor { roles, reference });
    }
    let mut actions = Vec::new();
    for action in items(value.get("action")) {
        actions.extend(codings(action, "action")?.into_iter().map(|(_, code)| code));
    }
    let codes_of = |key: &str| -> Result<Vec<(String, String)>, ConsentError> {
        items(value.get(key))
            .into_iter()
            .map(|c| coding(c, key))
            .collect()
    };
    let security_labels = codes_of("securityLabel")?
        .into_iter()
        .map(|(system, code)| LabelCode::new(&system, &code))
        .collect();
    let mut codes = Vec::new();
    for concept in items(value.get("code")) {
        codes.extend(codings(concept, "code")?);
    }
    let mut data = Vec::new();
    for item in items(value.get("data")) {
        let meaning = match item.get("meaning").and_then(Value::as_str) {
            Some("instance") => DataMeaning::Instance,
            Some("related") => DataMeaning::Related,
            Some("dependents") => DataMeaning::Dependents,
            Some("authoredby") => DataMeaning::AuthoredBy,
            _ => {
                return Err(invalid(
                    "a `data.meaning` is not a consent-data-meaning code",
                ));
            }
        };
        let reference = item
            .pointer("/reference/reference")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("a `data` has no `reference.reference`"))?;
        data.push(DataRef {
            meaning,
            reference: reference.to_owned(),
        });
    }
    let mut children = Vec::new();
    for (index, child) in items(value.get("provision")).into_iter().enumerate() {
        children.push(parse_provision(
            child,
            Some(kind),
            format!("{path}.provision[{index}]"),
        )?);
    }
    Ok(Provision {
        kind,
        period: period(value.get("period"), "period")?,
        actors,
        actions,
        security_labels,
        purposes: codes_of("purpose")?,
        classes: codes_of("class")?,
        codes,
        data_period: period(value.get("dataPeriod"), "dataPeriod")?,
        data,
        children,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pcf_consent_parses_into_a_provision_tree() {
        let consent = json!({"resourceType": "Consent", "id": "c1", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "Patient/p1"},
        "provision": {"type": "deny", "period": {"start": "2026-01-01", "end": "2026-12-31"},
            "provision": [
                {"type": "permit", "actor": [{"role": {"coding": [{"code": "PRCP"}]},
                    "reference": {"reference": "Practitioner/pr1"}}],
                 "action": [{"coding": [{"code": "access"}]}],
                 "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}],
                 "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "DocumentReference"}],
                 "code": [{"coding": [{"system": "http://loinc.org", "code": "11488-4"}]}],
                 "securityLabel": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality", "code": "R"}],
                 "dataPeriod": {"start": "2020"},
                 "data": [{"meaning": "authoredby", "reference": {"reference": "Practitioner/pr2"}}],
                 "provision": [{"securityLabel": [{"code": "V"}]}]}
            ]}});
        let policy = ConsentPolicy::from_json(&consent).unwrap();
        assert!(policy.is_in_force());
        assert_eq!(policy.patient_id.as_deref(), Some("p1"));
        let root = policy.root.unwrap();
        assert_eq!(root.path, "Consent/c1#provision");
        assert_eq!(root.kind, ProvisionType::Deny);
        assert!(!root.is_resource_scoped());
        let child = &root.children[0];
        assert_eq!(child.path, "Consent/c1#provision.provision[0]");
        assert_eq!(child.kind, ProvisionType::Permit);
        assert_eq!(
            child.actors[0].reference.as_deref(),
            Some("Practitioner/pr1")
        );
        assert_eq!(child.actions, ["access"]);
        assert_eq!(
            child.security_labels[0].system,
            crate::fhir::labels::V3_CONFIDENTIALITY
        );
        assert_eq!(child.data[0].meaning, DataMeaning::AuthoredBy);
        assert_eq!(child.data_period.map(|p| p.1), Some(i64::MAX));
        assert!(child.is_resource_scoped());
        let grandchild = &child.children[0];
        assert_eq!(
            grandchild.kind,
            ProvisionType::Permit,
            "the type is inherited"
        );
        assert_eq!(
            grandchild.path,
            "Consent/c1#provision.provision[0].provision[0]"
        );
    }

    #[test]
    fn a_profession_alone_may_name_the_actor() {
        let role = json!({"coding": [{"system": TRE_G15, "code": "70"}]});
        let consent = json!({"resourceType": "Consent", "status": "active",
            "provision": {"type": "deny", "actor": [{"role": role,
                "reference": {"display": "tout masseur-kinésithérapeute"}}]}});
        let root = ConsentPolicy::from_json(&consent).unwrap().root.unwrap();
        assert_eq!(root.actors[0].reference, None);
        assert_eq!(
            root.actors[0].roles,
            [(TRE_G15.to_owned(), "70".to_owned())]
        );
        // Without a profession, or with an identifier Carnet cannot match, it is refused.
        for actor in [
            json!({"role": {"coding": [{"code": "PRCP"}]}, "reference": {"display": "x"}}),
            json!({"role": role, "reference": {"identifier": {"value": "8100"}}}),
        ] {
            let mut bad = consent.clone();
            bad["provision"]["actor"] = json!([actor]);
            assert!(ConsentPolicy::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scope_status_and_provision_decide_whether_a_consent_is_in_force() {
        let base = json!({"resourceType": "Consent", "status": "active",
            "provision": {"type": "deny"}});
        assert!(ConsentPolicy::from_json(&base).unwrap().is_in_force());
        for (key, value) in [
            ("status", json!("inactive")),
            ("status", json!("draft")),
            ("scope", json!({"coding": [{"code": "research"}]})),
        ] {
            let mut consent = base.clone();
            consent[key] = value;
            assert!(
                !ConsentPolicy::from_json(&consent).unwrap().is_in_force(),
                "{key}"
            );
        }
        let mut bare = base.clone();
        bare.as_object_mut().unwrap().remove("provision");
        assert!(!ConsentPolicy::from_json(&bare).unwrap().is_in_force());
        let error = ConsentError::InvalidConsent("x".into());
        assert!(!ConsentPolicy::unreadable(None, None, &error).is_in_force());
    }

    #[test]
    fn malformed_consents_are_refused() {
        for bad in [
            json!([]),
            json!({"resourceType": "Patient"}),
            json!({"resourceType": "Consent"}),
            json!({"resourceType": "Consent", "status": 1}),
            json!({"resourceType": "Consent", "status": "active", "patient": {"reference": "Group/1"}}),
            json!({"resourceType": "Consent", "status": "active", "provision": {}}),
            json!({"resourceType": "Consent", "status": "active", "provision": {"type": "maybe"}}),
            json!({"resourceType": "Consent", "status": "active", "provision": {"type": "deny", "period": {"start": "soon"}}}),
            json!({"resourceType": "Consent", "status": "active", "provision": {"type": "deny", "period": {"start": "2026", "end": "2025"}}}),
            json!({"resourceType": "Consent", "status": "active", "provision": {"type": "deny", "actor": [{}]}}),
            json!({"resourceType": "Consent", "status": "active", "provision": {"type": "deny", "purpose": [{"system": "s"}]}}),
            json!({"resourceType": "Consent", "status": "active", "provision": {"type": "deny", "data": [{"meaning": "all", "reference": {"reference": "Observation/1"}}]}}),
            json!({"resourceType": "Consent", "status": "active", "provision": {"type": "deny", "provision": [{"type": "nope"}]}}),
        ] {
            assert!(
                matches!(
                    ConsentPolicy::from_json(&bad),
                    Err(ConsentError::InvalidConsent(_))
                ),
                "{bad}"
            );
        }
    }
}
