//! Security labels of a resource, wherever they are: `meta.security` on any resource and
//! `DocumentReference.securityLabel`. Code systems are normalised: the ANS typo of the
//! TRE_A07 URL is an alias of the official one, and TRE_A08 confidentiality is the same code
//! system as HL7 v3-Confidentiality (DMP-RULES.md §2).

use serde_json::Value;

pub const TRE_A07: &str = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument";
const TRE_A07_TYPO: &str = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument";
pub const V3_CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
const TRE_A08: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality";

/// The canonical URL of a label code system.
pub fn canonical_system(system: &str) -> &str {
    match system {
        TRE_A07_TYPO => TRE_A07,
        TRE_A08 => V3_CONFIDENTIALITY,
        other => other,
    }
}

/// The `(system, code)` labels of `resource`, with canonical systems, sorted, without repeats.
pub fn security_labels(resource: &Value) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut add = |coding: &Value| {
        if let Some(code) = coding.get("code").and_then(Value::as_str) {
            let system = coding.get("system").and_then(Value::as_str).unwrap_or("");
            labels.push((canonical_system(system).to_owned(), code.to_owned()));
        }
    };
    if let Some(codings) = resource.pointer("/meta/security").and_then(Value::as_array) {
        codings.iter().for_each(&mut add);
    }
    if resource.get("resourceType").and_then(Value::as_str) == Some("DocumentReference") {
        for concept in resource
            .get("securityLabel")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            concept
                .get("coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .for_each(&mut add);
        }
    }
    labels.sort();
    labels.dedup();
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_come_from_meta_and_document_security_labels_with_canonical_systems() {
        let document = json!({"resourceType": "DocumentReference",
            "meta": {"security": [{"system": TRE_A07_TYPO, "code": "MASQUE_PS"}]},
            "securityLabel": [{"coding": [{"system": TRE_A08, "code": "R"}, {"system": TRE_A07, "code": "MASQUE_PS"}]}]});
        assert_eq!(
            security_labels(&document),
            vec![
                (V3_CONFIDENTIALITY.to_owned(), "R".to_owned()),
                (TRE_A07.to_owned(), "MASQUE_PS".to_owned())
            ]
        );
        let patient =
            json!({"resourceType": "Patient", "securityLabel": [{"coding": [{"code": "x"}]}]});
        assert!(
            security_labels(&patient).is_empty(),
            "securityLabel counts only on DocumentReference"
        );
    }
}
