//! Who asks, as the policy sees it (DMP-RULES.md §3): the `Requester` built from the
//! authenticated `auth::Principal` plus the facts the caller looked up (the patient a
//! RelatedPerson legally represents, the profession of a stored Practitioner), and the
//! `Context` of one request (requester, purposes of use, the time). Pure: the caller reads
//! the RelatedPerson and Practitioner; the helpers below read their JSON.

use serde_json::Value;

use crate::auth::{Principal, PurposeOfUse, Subject};

/// The TRE_G15 profession code system.
pub const TRE_G15: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante";
/// The FR Core contact-relationship code system (legal representatives).
pub const FR_CORE_RELATIONSHIP: &str =
    "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-contact-relationship";
/// Relationship codes of a legal representative: représentant légal, tuteur, curatelle.
pub const LEGAL_REPRESENTATIVE_CODES: [&str; 3] = ["CUR", "GRD", "CURTL"];
/// The relationship code of a minor's representative (représentant légal, parental
/// authority): their access ends at the patient's majority (§7). GRD and CURTL represent
/// protected adults and continue.
pub const PARENTAL_REPRESENTATIVE_CODE: &str = "CUR";

/// A professional (health or not: the access matrix says which professions are health
/// professions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Professional {
    /// The id of the `Practitioner`.
    pub practitioner_id: String,
    /// The profession code (TRE_G15, or a non-health category of the access matrix);
    /// `None` = no profession: administrative staff, always denied medical data.
    pub profession: Option<String>,
    /// `Organization/{id}` the professional acts for.
    pub organization: Option<String>,
}

impl Professional {
    /// `Practitioner/{id}`.
    pub fn reference(&self) -> String {
        format!("Practitioner/{}", self.practitioner_id)
    }
}

/// The subject of a request, as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// A patient (`Patient/{id}`).
    Patient { patient_id: String },
    /// The legal representative (`RelatedPerson/{id}`, active, CUR/GRD/CURTL) of one
    /// patient; acts as that patient except for what is hidden from representatives.
    Representative {
        related_person_id: String,
        patient_id: String,
        /// A parental representative only (CUR, no GRD/CURTL): their access ends when the
        /// patient comes of age (§7, `dmp.representative.majority`).
        until_majority: bool,
    },
    /// A `Practitioner`.
    Professional(Professional),
    /// A backend service with `system/` scopes: outside consent, governed by its scopes.
    System { name: String },
    /// An authenticated user Carnet cannot place (e.g. a RelatedPerson who is no legal
    /// representative): directory data only.
    Unrecognised { reference: String },
}

/// What the caller looked up to build a `Requester` from a `Principal`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectLookup {
    /// For a `RelatedPerson` subject: the patient it is the active legal representative
    /// of, and how (see `legal_representation_of`); `None` if it is none.
    pub representation: Option<Representation>,
    /// For a `Practitioner` subject: the profession of the stored Practitioner (see
    /// `profession_of`), used when the token states none.
    pub stored_profession: Option<String>,
}

impl Requester {
    /// The requester of `principal`. The token's `profession` claim wins over the stored
    /// one; a RelatedPerson is a representative only when `lookup` names its patient.
    pub fn from_principal(principal: &Principal, lookup: &SubjectLookup) -> Self {
        match &principal.subject {
            Subject::Patient(id) => Self::Patient {
                patient_id: id.clone(),
            },
            Subject::RelatedPerson(id) => match &lookup.representation {
                Some(representation) => Self::Representative {
                    related_person_id: id.clone(),
                    patient_id: representation.patient_id.clone(),
                    until_majority: representation.until_majority,
                },
                None => Self::Unrecognised {
                    reference: format!("RelatedPerson/{id}"),
                },
            },
            Subject::Practitioner(id) => Self::Professional(Professional {
                practitioner_id: id.clone(),
                profession: principal
                    .profession
                    .clone()
                    .or_else(|| lookup.stored_profession.clone()),
                organization: principal.organization.clone(),
            }),
            Subject::System(name) => Self::System { name: name.clone() },
        }
    }

    /// The FHIR references that name this requester as an author: `Practitioner/{id}`;
    /// for the patient and the representative both `Patient/{id}` and
    /// `RelatedPerson/{id}` (the representative acts as the patient, §3).
    pub fn author_references(&self) -> Vec<String> {
        match self {
            Self::Patient { patient_id } => vec![format!("Patient/{patient_id}")],
            Self::Representative {
                related_person_id,
                patient_id,
                ..
            } => vec![
                format!("Patient/{patient_id}"),
                format!("RelatedPerson/{related_person_id}"),
            ],
            Self::Professional(p) => vec![p.reference()],
            Self::System { .. } | Self::Unrecognised { .. } => Vec::new(),
        }
    }

    /// The patient whose own record this is, for a patient or representative.
    pub fn own_patient(&self) -> Option<&str> {
        match self {
            Self::Patient { patient_id } | Self::Representative { patient_id, .. } => {
                Some(patient_id)
            }
            _ => None,
        }
    }
}

/// The context of one request: who asks, why, and when (the PDP has no clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub requester: Requester,
    /// The purposes of use of the request (never empty in a `Principal`; TREAT by default).
    pub purposes: Vec<PurposeOfUse>,
    /// The time of the request, in milliseconds since the Unix epoch.
    pub now_millis: i64,
}

impl Context {
    /// The context of `principal` at `now_millis`.
    pub fn from_principal(principal: &Principal, lookup: &SubjectLookup, now_millis: i64) -> Self {
        Self {
            requester: Requester::from_principal(principal, lookup),
            purposes: principal.purposes.clone(),
            now_millis,
        }
    }

    /// ETREAT or BTG among the purposes.
    pub fn is_break_glass(&self) -> bool {
        self.purposes.iter().any(|p| {
            matches!(
                p,
                PurposeOfUse::EmergencyTreat | PurposeOfUse::BreakTheGlass
            )
        })
    }

    /// HPAYMT or HOPERAT among the purposes: payers and operations (§3).
    pub fn is_administrative_purpose(&self) -> bool {
        self.purposes
            .iter()
            .any(|p| matches!(p, PurposeOfUse::Payment | PurposeOfUse::Operations))
    }
}

/// The legal representation a `RelatedPerson` holds (§3, §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    /// The id of the patient represented.
    pub patient_id: String,
    /// CUR without GRD or CURTL: the representative of a minor, whose access ends at the
    /// patient's majority.
    pub until_majority: bool,
}

/// The representation of a `RelatedPerson` resource that is an active legal
/// representative: it is not `active: false`, has a relationship CUR, GRD or CURTL (FR
/// Core), and its `patient` is `Patient/{id}`. (§3 allows one active representative per
/// patient; the write path checks it, `interaction::representatives`.)
pub fn legal_representation_of(related_person: &Value) -> Option<Representation> {
    if related_person.get("resourceType").and_then(Value::as_str) != Some("RelatedPerson")
        || related_person.get("active").and_then(Value::as_bool) == Some(false)
    {
        return None;
    }
    let codes: Vec<&str> = related_person
        .get("relationship")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|concept| concept.get("coding").and_then(Value::as_array))
        .flatten()
        .filter(|coding| coding.get("system").and_then(Value::as_str) == Some(FR_CORE_RELATIONSHIP))
        .filter_map(|coding| coding.get("code").and_then(Value::as_str))
        .filter(|code| LEGAL_REPRESENTATIVE_CODES.contains(code))
        .collect();
    let reference = related_person.pointer("/patient/reference")?.as_str()?;
    let id = reference.strip_prefix("Patient/")?;
    if codes.is_empty() || !crate::fhir::ids::is_valid_id(id) {
        return None;
    }
    Some(Representation {
        patient_id: id.to_owned(),
        until_majority: codes.iter().all(|c| *c == PARENTAL_REPRESENTATIVE_CODE),
    })
}

/// The patient id a `RelatedPerson` resource is the active legal representative of (see
/// `legal_representation_of`).
pub fn legal_representative_of(related_person: &Value) -> Option<String> {
    legal_representation_of(related_person).map(|r| r.patient_id)
}

/// The TRE_G15 profession of a stored `Practitioner` (`qualification.code.coding`), the
/// first one found.
pub fn profession_of(practitioner: &Value) -> Option<String> {
    practitioner
        .get("qualification")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|q| q.pointer("/code/coding").and_then(Value::as_array))
        .flatten()
        .find(|coding| coding.get("system").and_then(Value::as_str) == Some(TRE_G15))
        .and_then(|coding| coding.get("code").and_then(Value::as_str))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal(subject: Subject, profession: Option<&str>) -> Principal {
        Principal {
            subject,
            issuer: "https://carnet.test".into(),
            token_id: None,
            scopes: vec![],
            purposes: vec![PurposeOfUse::Treat],
            profession: profession.map(str::to_owned),
            organization: Some("Organization/o1".into()),
            patient: None,
            expires_at: 0,
        }
    }

    #[test]
    fn requester_comes_from_principal_and_lookup() {
        let p = principal(Subject::Practitioner("pr1".into()), None);
        let lookup = SubjectLookup {
            stored_profession: Some("60".into()),
            ..SubjectLookup::default()
        };
        let Requester::Professional(pro) = Requester::from_principal(&p, &lookup) else {
            panic!("a professional")
        };
        assert_eq!(pro.profession.as_deref(), Some("60"));
        assert_eq!(pro.organization.as_deref(), Some("Organization/o1"));
        let p = principal(Subject::Practitioner("pr1".into()), Some("10"));
        let Requester::Professional(pro) = Requester::from_principal(&p, &lookup) else {
            panic!("a professional")
        };
        assert_eq!(pro.profession.as_deref(), Some("10"), "the token wins");

        let rp = principal(Subject::RelatedPerson("rp1".into()), None);
        assert_eq!(
            Requester::from_principal(&rp, &SubjectLookup::default()),
            Requester::Unrecognised {
                reference: "RelatedPerson/rp1".into()
            }
        );
        let lookup = SubjectLookup {
            representation: Some(Representation {
                patient_id: "p1".into(),
                until_majority: true,
            }),
            ..SubjectLookup::default()
        };
        let rep = Requester::from_principal(&rp, &lookup);
        assert_eq!(rep.own_patient(), Some("p1"));
        assert_eq!(rep.author_references(), ["Patient/p1", "RelatedPerson/rp1"]);
    }

    #[test]
    fn legal_representative_is_active_with_a_legal_relationship() {
        let rp = |active: bool, code: &str| {
            json!({"resourceType": "RelatedPerson", "active": active,
                "patient": {"reference": "Patient/p1"},
                "relationship": [{"coding": [{"system": FR_CORE_RELATIONSHIP, "code": code}]}]})
        };
        assert_eq!(
            legal_representative_of(&rp(true, "GRD")).as_deref(),
            Some("p1")
        );
        assert_eq!(
            legal_representative_of(&rp(true, "CURTL")).as_deref(),
            Some("p1")
        );
        assert_eq!(legal_representative_of(&rp(false, "CUR")), None);
        let until_majority = |rp: &Value| legal_representation_of(rp).map(|r| r.until_majority);
        assert_eq!(until_majority(&rp(true, "CUR")), Some(true));
        assert_eq!(until_majority(&rp(true, "GRD")), Some(false));
        assert_eq!(until_majority(&rp(true, "CURTL")), Some(false));
        let mut both = rp(true, "CUR");
        both["relationship"][0]["coding"]
            .as_array_mut()
            .unwrap()
            .push(json!({"system": FR_CORE_RELATIONSHIP, "code": "GRD"}));
        assert_eq!(
            until_majority(&both),
            Some(false),
            "a guardian too continues"
        );
        assert_eq!(legal_representative_of(&rp(true, "ECON")), None);
        let mut other = rp(true, "CUR");
        other["patient"]["reference"] = json!("Group/g");
        assert_eq!(legal_representative_of(&other), None);
    }

    #[test]
    fn profession_comes_from_a_tre_g15_qualification() {
        let practitioner = json!({"resourceType": "Practitioner", "qualification": [
            {"code": {"coding": [{"system": "urn:other", "code": "x"}]}},
            {"code": {"coding": [{"system": TRE_G15, "code": "21"}]}}]});
        assert_eq!(profession_of(&practitioner).as_deref(), Some("21"));
        assert_eq!(
            profession_of(&json!({"resourceType": "Practitioner"})),
            None
        );
    }

    #[test]
    fn break_glass_and_administrative_purposes() {
        let context = |purposes: Vec<PurposeOfUse>| Context {
            requester: Requester::System { name: "s".into() },
            purposes,
            now_millis: 0,
        };
        assert!(context(vec![PurposeOfUse::BreakTheGlass]).is_break_glass());
        assert!(context(vec![PurposeOfUse::Treat, PurposeOfUse::EmergencyTreat]).is_break_glass());
        assert!(!context(vec![PurposeOfUse::Treat]).is_break_glass());
        assert!(context(vec![PurposeOfUse::Operations]).is_administrative_purpose());
        assert!(!context(vec![PurposeOfUse::Treat]).is_administrative_purpose());
    }
}
