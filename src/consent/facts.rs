//! The facts the policy decides on (DMP-RULES.md §4–§5): of a patient's record
//! (`RecordFacts`) and of one resource (`ResourceFacts`: type, compartment, document
//! class/type, categories, authors, clinical date, security labels and when each was set),
//! read from FHIR JSON by `ResourceFacts::from_json`.
//!
//! When a label was set is not in FHIR. `from_json` takes `meta.lastUpdated` of the
//! version at hand, which is never earlier than the true time, so an `INVISIBLE_PATIENT`
//! label never expires too early (fail closed). The caller gives the exact time from
//! storage (`resource_label.set_at`) or from the version history (`label_set_times`).

use serde_json::Value;

use super::policy::ConsentPolicy;
use crate::fhir::labels::{self, TRE_A07, V3_CONFIDENTIALITY};

/// The TRE_A03 document class code system (`DocumentReference.category`).
pub const TRE_A03: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument";

/// A security label: canonical system (see `crate::fhir::labels::canonical_system`) and code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelCode {
    pub system: String,
    pub code: String,
}

impl LabelCode {
    /// A label; the system is canonicalised.
    pub fn new(system: &str, code: &str) -> Self {
        Self {
            system: labels::canonical_system(system).to_owned(),
            code: code.to_owned(),
        }
    }

    /// TRE_A07 `MASQUE_PS`.
    pub fn masque_ps() -> Self {
        Self::new(TRE_A07, "MASQUE_PS")
    }

    /// TRE_A07 `INVISIBLE_PATIENT`.
    pub fn invisible_patient() -> Self {
        Self::new(TRE_A07, "INVISIBLE_PATIENT")
    }

    /// TRE_A07 `INVISIBLE_REPRESENTANTS_LEGAUX`.
    pub fn invisible_representatives() -> Self {
        Self::new(TRE_A07, "INVISIBLE_REPRESENTANTS_LEGAUX")
    }

    /// v3-Confidentiality `R` and `V`: not visible under break-glass alone.
    pub fn restricted_confidentiality() -> [Self; 2] {
        [
            Self::new(V3_CONFIDENTIALITY, "R"),
            Self::new(V3_CONFIDENTIALITY, "V"),
        ]
    }
}

/// A label on a resource and when it was set (ms since the epoch; `None` = unknown, which
/// keeps `INVISIBLE_PATIENT` in force).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub code: LabelCode,
    pub set_at_millis: Option<i64>,
}

/// The state of a record (§7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    Open,
    /// Closed by the patient or on death; may be reactivated.
    Closed,
    /// Destroyed: answered as no record.
    Destroyed,
}

/// The facts of one patient's record.
#[derive(Debug, Clone)]
pub struct RecordFacts {
    pub patient_id: String,
    pub status: RecordStatus,
    /// The médecin traitant: `Practitioner/{id}` references of `Patient.generalPractitioner`
    /// (see `general_practitioners_of`; a PractitionerRole is resolved by the caller).
    pub general_practitioners: Vec<String>,
    /// Every Consent of the patient, parsed once (`ConsentPolicy::from_json`), inactive
    /// ones included (they have no effect); an unreadable one as `ConsentPolicy::unreadable`.
    pub consents: Vec<ConsentPolicy>,
    /// When the patient comes of age (see `majority_of`); `None` when `Patient.birthDate`
    /// is absent.
    pub majority_millis: Option<i64>,
}

/// The age of majority, in months (18 years, §7).
const MAJORITY_MONTHS: u32 = 18 * 12;

/// When the patient of `patient` (a Patient resource) comes of age: 18 years after the
/// earliest instant `birthDate` allows (midnight UTC; `1990` counts from 1 January, so a
/// partial date ends a parental representative's access early rather than late). A
/// 29 February birthday comes of age on 28 February. `None` without a readable birthDate.
pub fn majority_of(patient: &Value) -> Option<i64> {
    let birth = patient.get("birthDate").and_then(Value::as_str)?;
    let (earliest, _) = crate::fhir::dates::date_range(birth)?;
    chrono::DateTime::from_timestamp_millis(earliest)?
        .checked_add_months(chrono::Months::new(MAJORITY_MONTHS))
        .map(|at| at.timestamp_millis())
}

/// The `Practitioner/{id}` references of `Patient.generalPractitioner`.
pub fn general_practitioners_of(patient: &Value) -> Vec<String> {
    patient
        .get("generalPractitioner")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("reference").and_then(Value::as_str))
        .filter(|r| r.starts_with("Practitioner/"))
        .map(str::to_owned)
        .collect()
}

/// The facts of one resource. For a `Binary` (or a contained resource), pass the facts of
/// the DocumentReference (container) it belongs to (§5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFacts {
    pub resource_type: String,
    pub id: Option<String>,
    /// The patient whose compartment holds the resource (the caller computes it with
    /// `search::compartment`); `None` = directory data, outside every patient compartment.
    pub patient: Option<String>,
    /// DocumentReference: the TRE_A03 code of `category`.
    pub document_class: Option<String>,
    /// DocumentReference: `type` codings as `(system, code)` (LOINC, TRE_A05).
    pub document_types: Vec<(String, String)>,
    /// Other resources: the codes of `category` (any system), e.g. `laboratory`.
    pub categories: Vec<String>,
    /// Author references (`Practitioner/…`, `Patient/…`, `RelatedPerson/…`), see `from_json`.
    pub authors: Vec<String>,
    /// The clinical date (start), for Consent `dataPeriod`; see `from_json`.
    pub date_millis: Option<i64>,
    pub labels: Vec<Label>,
}

/// Where `from_json` reads the authors of a resource type.
const AUTHOR_PATHS: &[(&str, &[&str])] = &[
    ("DocumentReference", &["author"]),
    ("AllergyIntolerance", &["recorder", "asserter"]),
    ("Condition", &["recorder", "asserter"]),
    ("Observation", &["performer"]),
    ("MedicationStatement", &["informationSource"]),
    ("MedicationRequest", &["requester", "recorder"]),
    ("Immunization", &["performer.actor"]),
    ("DiagnosticReport", &["performer", "resultsInterpreter"]),
    ("Procedure", &["recorder", "asserter", "performer.actor"]),
    ("FamilyMemberHistory", &[]),
    ("Composition", &["author"]),
    ("CarePlan", &["author"]),
    ("ServiceRequest", &["requester"]),
    ("Consent", &["performer"]),
];

/// Where `from_json` reads the clinical date of a resource type (first present wins).
const DATE_PATHS: &[(&str, &[&str])] = &[
    ("DocumentReference", &["context.period.start", "date"]),
    (
        "Observation",
        &["effectiveDateTime", "effectivePeriod.start", "issued"],
    ),
    ("Condition", &["onsetDateTime", "recordedDate"]),
    ("AllergyIntolerance", &["onsetDateTime", "recordedDate"]),
    ("Immunization", &["occurrenceDateTime"]),
    (
        "MedicationStatement",
        &["effectiveDateTime", "effectivePeriod.start", "dateAsserted"],
    ),
    ("DiagnosticReport", &["effectiveDateTime", "issued"]),
    ("Encounter", &["period.start"]),
    ("Procedure", &["performedDateTime", "performedPeriod.start"]),
];

impl ResourceFacts {
    /// The facts of a FHIR resource in the compartment of `patient` (or directory data when
    /// `None`). Authors: `author` of DocumentReference/Composition/CarePlan; `recorder` and
    /// `asserter` of AllergyIntolerance/Condition/Procedure; `performer` of Observation;
    /// `informationSource` of MedicationStatement; … (`AUTHOR_PATHS`); only relative
    /// references count. The caller should add the subject who created the resource (the
    /// stored author of its first version), so that types without an author element
    /// (RelatedPerson, FamilyMemberHistory…) have one. Labels: `meta.security` and DocumentReference
    /// `securityLabel`, canonical, each set at `meta.lastUpdated` (see the module header).
    pub fn from_json(resource: &Value, patient: Option<&str>) -> Self {
        let resource_type = text(resource.get("resourceType")).unwrap_or_default();
        let codings = |key: &str| -> Vec<&Value> {
            let concepts: Vec<&Value> = match resource.get(key) {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(single) => vec![single],
                None => Vec::new(),
            };
            concepts
                .into_iter()
                .filter_map(|c| c.get("coding").and_then(Value::as_array))
                .flatten()
                .collect()
        };
        let is_document = resource_type == "DocumentReference";
        let document_class = if is_document {
            codings("category")
                .into_iter()
                .find(|c| text(c.get("system")).as_deref() == Some(TRE_A03))
                .and_then(|c| text(c.get("code")))
        } else {
            None
        };
        let document_types = if is_document {
            codings("type")
                .into_iter()
                .filter_map(|c| {
                    Some((
                        text(c.get("system")).unwrap_or_default(),
                        text(c.get("code"))?,
                    ))
                })
                .collect()
        } else {
            Vec::new()
        };
        let categories = if is_document {
            Vec::new()
        } else {
            let mut codes: Vec<String> = codings("category")
                .into_iter()
                .filter_map(|c| text(c.get("code")))
                .collect();
            // AllergyIntolerance.category is a list of codes, not concepts.
            if let Some(Value::Array(items)) = resource.get("category") {
                codes.extend(items.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
            codes
        };
        let mut authors = Vec::new();
        for (_, paths) in AUTHOR_PATHS.iter().filter(|(t, _)| *t == resource_type) {
            for path in *paths {
                collect_references(resource, path, &mut authors);
            }
        }
        authors.sort();
        authors.dedup();
        let date_millis = DATE_PATHS
            .iter()
            .filter(|(t, _)| *t == resource_type)
            .flat_map(|(_, paths)| paths.iter())
            .find_map(|path| {
                let value = at_path(resource, path).into_iter().next()?;
                crate::fhir::dates::date_range(value.as_str()?).map(|(low, _)| low)
            });
        let set_at = text(resource.pointer("/meta/lastUpdated"))
            .and_then(|t| crate::fhir::dates::date_range(&t))
            .map(|(low, _)| low);
        let labels = labels::security_labels(resource)
            .into_iter()
            .map(|(system, code)| Label {
                code: LabelCode { system, code },
                set_at_millis: set_at,
            })
            .collect();
        Self {
            id: text(resource.get("id")),
            patient: patient.map(str::to_owned),
            document_class,
            document_types,
            categories,
            authors,
            date_millis,
            labels,
            resource_type,
        }
    }

    /// Whether the resource carries `label`.
    pub fn has_label(&self, label: &LabelCode) -> bool {
        self.labels.iter().any(|l| &l.code == label)
    }

    /// When `label` was set, if the resource carries it (`Some(None)`: carried, time unknown).
    pub fn label_set_at(&self, label: &LabelCode) -> Option<Option<i64>> {
        self.labels
            .iter()
            .find(|l| &l.code == label)
            .map(|l| l.set_at_millis)
    }

    /// `{type}/{id}`, when the resource has an id.
    pub fn reference(&self) -> Option<String> {
        self.id
            .as_ref()
            .map(|id| format!("{}/{id}", self.resource_type))
    }
}

/// When each label of the newest version was set, from the versions of a resource oldest
/// first (`(lastUpdated millis, labels of that version)`): the time of the first version
/// of the last unbroken run of versions carrying it. Give the result to
/// `ResourceFacts::labels`.
pub fn label_set_times(versions: &[(i64, Vec<LabelCode>)]) -> Vec<Label> {
    let Some((_, current)) = versions.last() else {
        return Vec::new();
    };
    current
        .iter()
        .map(|code| {
            let mut set_at = None;
            for (at, codes) in versions.iter().rev() {
                if codes.contains(code) {
                    set_at = Some(*at);
                } else {
                    break;
                }
            }
            Label {
                code: code.clone(),
                set_at_millis: set_at,
            }
        })
        .collect()
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

/// The values at a dotted path, through arrays.
fn at_path<'a>(value: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![value];
    for key in path.split('.') {
        current = current
            .into_iter()
            .filter_map(|v| v.get(key))
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .collect();
    }
    current
}

fn collect_references(resource: &Value, path: &str, found: &mut Vec<String>) {
    for value in at_path(resource, path) {
        if let Some(reference) = value.get("reference").and_then(Value::as_str)
            && reference
                .split_once('/')
                .is_some_and(|(t, id)| !t.contains(':') && crate::fhir::ids::is_valid_id(id))
        {
            found.push(reference.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn document_facts_come_from_json() {
        let document = json!({"resourceType": "DocumentReference", "id": "d1",
            "meta": {"lastUpdated": "2026-01-01T00:00:00Z",
                "security": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument", "code": "MASQUE_PS"}]},
            "category": [{"coding": [{"system": TRE_A03, "code": "10"}]}],
            "type": {"coding": [{"system": "http://loinc.org", "code": "34112-3"}]},
            "author": [{"reference": "Practitioner/pr1"}, {"reference": "https://x.org/Practitioner/2"}],
            "context": {"period": {"start": "2025-12-01"}},
            "securityLabel": [{"coding": [{"system": V3_CONFIDENTIALITY, "code": "R"}]}]});
        let facts = ResourceFacts::from_json(&document, Some("p1"));
        assert_eq!(facts.reference().as_deref(), Some("DocumentReference/d1"));
        assert_eq!(facts.document_class.as_deref(), Some("10"));
        assert_eq!(
            facts.document_types,
            [("http://loinc.org".into(), "34112-3".into())]
        );
        assert_eq!(facts.authors, ["Practitioner/pr1"]);
        assert!(
            facts.has_label(&LabelCode::masque_ps()),
            "the typo is an alias"
        );
        assert!(facts.has_label(&LabelCode::new(V3_CONFIDENTIALITY, "R")));
        let set = crate::fhir::dates::date_range("2026-01-01T00:00:00Z").map(|r| r.0);
        assert_eq!(facts.label_set_at(&LabelCode::masque_ps()), Some(set));
        assert_eq!(
            facts.date_millis,
            crate::fhir::dates::date_range("2025-12-01").map(|r| r.0)
        );
    }

    #[test]
    fn other_resources_have_categories_and_authors() {
        let observation = json!({"resourceType": "Observation",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "performer": [{"reference": "Practitioner/lab"}, {"reference": "Organization/o"}]});
        let facts = ResourceFacts::from_json(&observation, Some("p1"));
        assert_eq!(facts.categories, ["laboratory"]);
        assert_eq!(facts.authors, ["Organization/o", "Practitioner/lab"]);
        let allergy = json!({"resourceType": "AllergyIntolerance", "category": ["food"],
            "recorder": {"reference": "Patient/p1"}});
        let facts = ResourceFacts::from_json(&allergy, Some("p1"));
        assert_eq!(facts.categories, ["food"]);
        assert_eq!(facts.authors, ["Patient/p1"]);
        assert_eq!(facts.document_class, None);
    }

    #[test]
    fn general_practitioners_are_practitioner_references() {
        let patient = json!({"resourceType": "Patient", "generalPractitioner": [
            {"reference": "Practitioner/gp"}, {"reference": "Organization/o"}]});
        assert_eq!(general_practitioners_of(&patient), ["Practitioner/gp"]);
    }

    #[test]
    fn majority_is_eighteen_years_after_the_earliest_birth_instant() {
        let at = |birth: &str| majority_of(&json!({"resourceType": "Patient", "birthDate": birth}));
        let day = |d: &str| crate::fhir::dates::date_range(d).map(|r| r.0);
        assert_eq!(at("2008-05-17"), day("2026-05-17"));
        assert_eq!(at("2008-05"), day("2026-05-01"));
        assert_eq!(at("2008"), day("2026-01-01"));
        assert_eq!(at("2008-02-29"), day("2026-02-28"));
        assert_eq!(at("not a date"), None);
        assert_eq!(majority_of(&json!({"resourceType": "Patient"})), None);
    }

    #[test]
    fn label_set_times_start_at_the_last_unbroken_run() {
        let ip = LabelCode::invisible_patient();
        let ms = LabelCode::masque_ps();
        let versions = vec![
            (1, vec![ip.clone()]),
            (2, vec![]),
            (3, vec![ip.clone()]),
            (4, vec![ip.clone(), ms.clone()]),
        ];
        let labels = label_set_times(&versions);
        assert_eq!(labels.len(), 2);
        assert_eq!(labels[0].set_at_millis, Some(3));
        assert_eq!(labels[1].set_at_millis, Some(4));
        assert!(label_set_times(&[]).is_empty());
    }
}
