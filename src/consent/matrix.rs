//! The DMP access matrix as data (DMP-RULES.md §5): profession x category of the record,
//! loaded from `conformance/dmp-access-matrix.json` (its `description` says the format and
//! which rows are the law's), plus what the patient may create (§6). Each profession's row
//! is compiled once into a `Filter`, the same one `decide` evaluates and a search narrows
//! by. An unknown profession sees nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::error::ConsentError;
use super::facts::ResourceFacts;
use super::filter::Filter;

/// The matrix shipped with Carnet.
const BUNDLED: &str = include_str!("../../conformance/dmp-access-matrix.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MatrixFile {
    #[serde(rename = "description")]
    _description: String,
    #[serde(rename = "version")]
    _version: String,
    #[serde(rename = "professionSystem")]
    _profession_system: String,
    categories: Vec<CategoryFile>,
    professions: Vec<ProfessionFile>,
    patient_entered: PatientEnteredFile,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CategoryFile {
    id: String,
    #[serde(rename = "display")]
    _display: String,
    #[serde(default)]
    document_classes: Vec<String>,
    #[serde(default)]
    document_types: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    explicit_only: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfessionFile {
    code: String,
    display: String,
    health: bool,
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(rename = "source")]
    _source: String,
    #[serde(default, rename = "note")]
    _note: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PatientEnteredFile {
    #[serde(rename = "description")]
    _description: String,
    resource_types: Vec<String>,
    document_classes: Vec<String>,
    document_types: Vec<String>,
}

/// One profession's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfessionRow {
    pub code: String,
    pub display: String,
    /// A health profession (TRE_G15); non-health categories have `false` and no break-glass.
    pub health: bool,
    /// The resources this profession may see.
    pub filter: Filter,
    /// The category filters the row denies (for explanations): `(category id, filter)`.
    denied: Vec<(String, Filter)>,
}

/// The access matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessMatrix {
    professions: BTreeMap<String, ProfessionRow>,
    patient_entered: Filter,
}

impl AccessMatrix {
    /// The matrix of `conformance/dmp-access-matrix.json`, compiled into Carnet.
    pub fn bundled() -> Result<Self, ConsentError> {
        Self::from_json(BUNDLED)
    }

    /// Reads a matrix in the format of `conformance/dmp-access-matrix.json`. Unknown keys,
    /// unknown category ids, repeated codes or ids and malformed keys are errors.
    pub fn from_json(text: &str) -> Result<Self, ConsentError> {
        let file: MatrixFile = serde_json::from_str(text).map_err(|e| invalid(&format!("{e}")))?;
        let mut categories = BTreeMap::new();
        for category in &file.categories {
            let filter = keys_filter(
                &category.document_classes,
                &category.document_types,
                &category.resources,
            )?;
            if categories
                .insert(category.id.clone(), (filter, category.explicit_only))
                .is_some()
            {
                return Err(invalid(&format!("category `{}` is repeated", category.id)));
            }
        }
        let category = |id: &str| {
            categories
                .get(id)
                .ok_or_else(|| invalid(&format!("category `{id}` is not defined")))
        };
        let mut professions = BTreeMap::new();
        for row in file.professions {
            let all = row.allow.iter().any(|a| a == "*");
            let mut allowed = Filter::from_bool(all);
            let mut named = BTreeSet::new();
            for id in row.allow.iter().filter(|a| *a != "*") {
                allowed = allowed.or(category(id)?.0.clone());
                named.insert(id.as_str());
            }
            let mut denied = Vec::new();
            for id in &row.deny {
                denied.push((id.clone(), category(id)?.0.clone()));
            }
            if all {
                for (id, (filter, explicit_only)) in &categories {
                    if *explicit_only && !named.contains(id.as_str()) {
                        denied.push((id.clone(), filter.clone()));
                    }
                }
            }
            let filter = denied
                .iter()
                .fold(allowed, |f, (_, d)| f.and(d.clone().negate()));
            let code = row.code.clone();
            let entry = ProfessionRow {
                code: row.code,
                display: row.display,
                health: row.health,
                filter,
                denied,
            };
            if professions.insert(code.clone(), entry).is_some() {
                return Err(invalid(&format!("profession `{code}` is repeated")));
            }
        }
        let entered = &file.patient_entered;
        let patient_entered = keys_filter(&entered.document_classes, &entered.document_types, &[])?
            .or(Filter::ResourceTypeIn(entered.resource_types.clone()));
        Ok(Self {
            professions,
            patient_entered,
        })
    }

    /// The row of a profession code; `None` for an unknown profession.
    pub fn profession(&self, code: &str) -> Option<&ProfessionRow> {
        self.professions.get(code)
    }

    /// Whether the patient or representative may create this resource (§6).
    pub fn is_patient_entered(&self, facts: &ResourceFacts) -> bool {
        self.patient_entered.matches(facts)
    }
}

impl ProfessionRow {
    /// The id of the first category that denies this resource to the profession, or
    /// `"(not allowed)"` when no allowed category holds it; `None` when it is visible.
    pub fn refusal(&self, facts: &ResourceFacts) -> Option<String> {
        if self.filter.matches(facts) {
            return None;
        }
        Some(
            self.denied
                .iter()
                .find(|(_, f)| f.matches(facts))
                .map_or_else(|| "(not allowed)".to_owned(), |(id, _)| id.clone()),
        )
    }
}

fn invalid(text: &str) -> ConsentError {
    ConsentError::InvalidMatrix(text.to_owned())
}

/// The filter of a category's keys: any key matches.
fn keys_filter(
    classes: &[String],
    types: &[String],
    resources: &[String],
) -> Result<Filter, ConsentError> {
    let mut filter = Filter::Nothing;
    if !classes.is_empty() {
        filter = filter.or(Filter::DocumentClassIn(classes.to_vec()));
    }
    let mut document_types = Vec::new();
    for key in types {
        match key.rsplit_once('|') {
            Some((system, code)) if !system.is_empty() && !code.is_empty() => {
                document_types.push((system.to_owned(), code.to_owned()));
            }
            _ => {
                return Err(invalid(&format!(
                    "document type `{key}` is not `system|code`"
                )));
            }
        }
    }
    if !document_types.is_empty() {
        filter = filter.or(Filter::DocumentTypeIn(document_types));
    }
    let mut resource_types = Vec::new();
    let mut pairs = Vec::new();
    for key in resources {
        match key.split_once(':') {
            None if !key.is_empty() => resource_types.push(key.clone()),
            Some((t, code)) if !t.is_empty() && !code.is_empty() => {
                pairs.push((Some(t.to_owned()), code.to_owned()));
            }
            _ => {
                return Err(invalid(&format!(
                    "resource key `{key}` is not `Type[:category]`"
                )));
            }
        }
    }
    if !resource_types.is_empty() {
        filter = filter.or(Filter::ResourceTypeIn(resource_types));
    }
    if !pairs.is_empty() {
        filter = filter.or(Filter::CategoryIn(pairs));
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOINC: &str = "http://loinc.org";

    fn document(class: &str, loinc: &str) -> ResourceFacts {
        ResourceFacts {
            resource_type: "DocumentReference".into(),
            id: Some("d".into()),
            patient: Some("p".into()),
            document_class: Some(class.into()),
            document_types: vec![(LOINC.into(), loinc.into())],
            categories: vec![],
            authors: vec![],
            date_millis: None,
            labels: vec![],
        }
    }

    fn resource(resource_type: &str, category: &str) -> ResourceFacts {
        ResourceFacts {
            resource_type: resource_type.into(),
            document_class: None,
            document_types: vec![],
            categories: vec![category.into()],
            ..document("", "")
        }
    }

    fn sees(matrix: &AccessMatrix, profession: &str, facts: &ResourceFacts) -> bool {
        matrix.profession(profession).unwrap().filter.matches(facts)
    }

    #[test]
    fn matrix_law_rows_pedicure_does_not_see_hospitalization_reports() {
        let matrix = AccessMatrix::bundled().unwrap();
        let report = document("10", "34112-3");
        assert!(!sees(&matrix, "80", &report));
        let row = matrix.profession("80").unwrap();
        assert_eq!(row.refusal(&report).as_deref(), Some("hospital-reports"));
        assert!(
            sees(&matrix, "80", &document("10", "11488-4")),
            "other reports"
        );
    }

    #[test]
    fn matrix_law_rows_opticien_does_not_see_biology_reports() {
        let matrix = AccessMatrix::bundled().unwrap();
        assert!(!sees(&matrix, "28", &document("10", "11502-2")));
        assert!(!sees(&matrix, "28", &resource("Observation", "laboratory")));
        assert!(sees(&matrix, "28", &resource("Observation", "vital-signs")));
    }

    #[test]
    fn matrix_law_rows_medecin_sees_all_but_the_audit_trail() {
        let matrix = AccessMatrix::bundled().unwrap();
        for facts in [
            document("10", "34112-3"),
            document("10", "11502-2"),
            document("52", "x"),
            resource("Observation", "laboratory"),
            resource("Consent", "x"),
            resource("Encounter", "x"),
        ] {
            assert!(sees(&matrix, "10", &facts), "{facts:?}");
        }
        assert!(!sees(&matrix, "10", &resource("AuditEvent", "x")));
        assert!(
            !sees(&matrix, "60", &resource("Consent", "x")),
            "explicit only"
        );
        assert!(matrix.profession("10").unwrap().health);
        assert!(!matrix.profession("PSYCHOLOGUE").unwrap().health);
        assert!(matrix.profession("99").is_none());
    }

    #[test]
    fn matrix_allow_lists_show_only_their_categories() {
        let matrix = AccessMatrix::bundled().unwrap();
        assert!(sees(&matrix, "86", &resource("Observation", "laboratory")));
        assert!(!sees(&matrix, "86", &document("10", "34112-3")));
        assert!(
            !sees(&matrix, "86", &resource("Encounter", "x")),
            "unmapped"
        );
    }

    #[test]
    fn matrix_patient_entered_data() {
        let matrix = AccessMatrix::bundled().unwrap();
        assert!(matrix.is_patient_entered(&resource("AllergyIntolerance", "food")));
        assert!(matrix.is_patient_entered(&document("90", "x")));
        let mut directives = document("", "");
        directives.document_class = None;
        directives.document_types = vec![(
            "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire".into(),
            "EXPPAT_3".into(),
        )];
        assert!(matrix.is_patient_entered(&directives));
        assert!(!matrix.is_patient_entered(&document("10", "34112-3")));
        assert!(!matrix.is_patient_entered(&resource("Encounter", "x")));
    }

    #[test]
    fn malformed_matrices_are_refused() {
        let good: serde_json::Value = serde_json::from_str(BUNDLED).unwrap();
        let mutate = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut m = good.clone();
            f(&mut m);
            AccessMatrix::from_json(&m.to_string())
        };
        assert!(mutate(&|_| {}).is_ok());
        let cases: [&dyn Fn(&mut serde_json::Value); 6] = [
            &|m| m["professions"][0]["allow"] = serde_json::json!(["nope"]),
            &|m| m["professions"][0]["unknown"] = serde_json::json!(1),
            &|m| m["categories"][0]["documentTypes"] = serde_json::json!(["34112-3"]),
            &|m| m["categories"][0]["resources"] = serde_json::json!([":x"]),
            &|m| {
                let first = m["professions"][0].clone();
                m["professions"].as_array_mut().unwrap().push(first);
            },
            &|m| m["professions"][0]["health"] = serde_json::json!("yes"),
        ];
        for case in cases {
            assert!(matches!(mutate(case), Err(ConsentError::InvalidMatrix(_))));
        }
        assert!(AccessMatrix::from_json("{").is_err());
    }
}
