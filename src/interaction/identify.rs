//! Identifying the holder of a professional card certificate: the Practitioner that carries
//! the holder's IdNatPS (`urn:oid:1.2.250.1.71.4.2.1`) or RPPS number
//! (`https://rpps.esante.gouv.fr`), and their TRE_G15 profession from
//! `Practitioner.qualification.code`. An internal lookup made before any principal exists:
//! it reads the search index directly, with no access filter.

use serde_json::Value;

use super::context::Services;
use super::error::InteractionError;
use crate::auth::CertificateHolder;
use crate::search::query::{Handling, parse_search};
use crate::storage::search::{self, AccessFilter, PagePosition, PageRequest};

/// The code system of professions (TRE_G15).
pub const PROFESSION_SYSTEM: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante";

/// A Practitioner found for a certificate holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PractitionerIdentity {
    /// The Practitioner's id.
    pub id: String,
    /// Its TRE_G15 profession code, when a qualification states one.
    pub profession: Option<String>,
}

/// The live Practitioners that carry one of the holder's identifiers (at most two are
/// read: one is an identification, two an ambiguity).
pub fn practitioners_of(
    services: &Services,
    holder: &CertificateHolder,
) -> Result<Vec<PractitionerIdentity>, InteractionError> {
    let identifiers = holder
        .identifiers()
        .iter()
        .map(|(system, value)| format!("{system}|{value}"))
        .collect::<Vec<_>>()
        .join(",");
    let pairs = [("identifier".to_owned(), identifiers)];
    let query = parse_search(
        &services.registry,
        Some("Practitioner"),
        &pairs,
        Handling::Strict,
    )
    .map_err(|e| InteractionError::invalid(e.to_string()))?;
    let page = PageRequest {
        position: PagePosition::Offset(0),
        count: 2,
        with_total: false,
        first_read: None,
    };
    let now = services.clock.now_millis();
    let found = services.store.read(|conn| {
        search::search(conn, &query, &AccessFilter::default(), page, now)
            .map_err(InteractionError::from)
    })?;
    Ok(found
        .rows
        .into_iter()
        .map(|row| PractitionerIdentity {
            profession: row.content.as_deref().and_then(profession_of),
            id: row.res_id,
        })
        .collect())
}

/// The first TRE_G15 code of a Practitioner's qualifications.
fn profession_of(json: &str) -> Option<String> {
    let practitioner: Value = serde_json::from_str(json).ok()?;
    practitioner["qualification"]
        .as_array()?
        .iter()
        .filter_map(|q| q["code"]["coding"].as_array())
        .flatten()
        .find(|coding| coding["system"] == PROFESSION_SYSTEM)
        .and_then(|coding| coding["code"].as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profession_is_the_first_tre_g15_qualification() {
        let practitioner = serde_json::json!({
            "resourceType": "Practitioner",
            "qualification": [
                {"code": {"coding": [{"system": "urn:other", "code": "x"}]}},
                {"code": {"coding": [
                    {"system": "urn:other", "code": "y"},
                    {"system": PROFESSION_SYSTEM, "code": "60"}
                ]}},
                {"code": {"coding": [{"system": PROFESSION_SYSTEM, "code": "10"}]}}
            ]
        });
        assert_eq!(
            profession_of(&practitioner.to_string()).as_deref(),
            Some("60")
        );
        let none = serde_json::json!({"resourceType": "Practitioner"});
        assert_eq!(profession_of(&none.to_string()), None);
    }
}
