//! The INS lookup (DMP-RULES.md §4): "a professional may always look a patient up by exact
//! INS (`Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|…`) to learn whether a record
//! exists and what their status is — identity only, nothing else of the record without
//! access". A Patient search made only of exact INS values finds, besides the Patients the
//! professional may read (searched as usual), the other Patients with that INS, reduced to
//! their identity — id, INS identifiers, name, gender, birth date — and tagged SUBSETTED;
//! `Patient/{id}/$access` then tells the professional their status. The lookup is audited
//! with the search (`dmp.record.identity-lookup`).

use serde_json::{Map, Value};

use super::gate::Gate;
use crate::audit::QueryTrail;
use crate::consent::{Reason, RuleId};
use crate::fhir::ids::versioned_reference;
use crate::fhir::resource::mark_subsetted;
use crate::interaction::error::InteractionError;
use crate::search::query::{Criterion, Match, SearchQuery};
use crate::storage::Conn;
use crate::storage::search::{AccessFilter, FoundRow, PagePosition, PageRequest, search};

/// The INS (identifiant national de santé) identifier system.
pub(crate) const INS_SYSTEM: &str = "urn:oid:1.2.250.1.213.1.4.8";

/// Most Patients one INS lookup returns (an INS names one person).
const LOOKUP_LIMIT: i64 = 10;

/// The identity elements an INS lookup shows.
const IDENTITY: [&str; 4] = ["identifier", "name", "gender", "birthDate"];

/// Whether `query` is a Patient search made only of exact INS identifiers.
fn is_ins_lookup(query: &SearchQuery) -> bool {
    query.resource_type.as_deref() == Some("Patient")
        && query.types.is_empty()
        && !query.criteria.is_empty()
        && query.criteria.iter().all(|criterion| {
            let Criterion::Param(param) = criterion else {
                return false;
            };
            let Match::Token { not: false, values } = &param.matcher else {
                return false;
            };
            param.code == "identifier"
                && values.iter().all(|value| {
                    value.system.as_deref() == Some(INS_SYSTEM) && value.code.is_some()
                })
        })
}

/// The Patients an INS lookup by a professional finds beyond `found` (those they may
/// read), reduced to their identity; each is shown on the search's `trail` with the rule
/// that let its identity through.
pub(crate) fn identity_matches(
    conn: &mut Conn<'_>,
    gate: &Gate<'_>,
    query: &SearchQuery,
    found: &[FoundRow],
    now_millis: i64,
    trail: &mut QueryTrail,
) -> Result<Vec<FoundRow>, InteractionError> {
    if !gate.is_professional() || !is_ins_lookup(query) {
        return Ok(Vec::new());
    }
    let page = PageRequest {
        position: PagePosition::Offset(0),
        count: LOOKUP_LIMIT,
        with_total: false,
        first_read: None,
    };
    let rows = search(conn, query, &AccessFilter::default(), page, now_millis)?.rows;
    let mut identities = Vec::new();
    for row in rows {
        if found.iter().any(|f| f.res_id == row.res_id) {
            continue;
        }
        let Some(content) = row.content.as_deref().and_then(identity_of) else {
            continue;
        };
        trail.show(
            versioned_reference("Patient", &row.res_id, row.version_id),
            vec![row.res_id.clone()],
            vec![Reason::new(
                RuleId::RecordIdentityLookup,
                "a patient looked up by exact INS: identity only",
            )],
            false,
        );
        identities.push(FoundRow {
            content: Some(content),
            ..row
        });
    }
    Ok(identities)
}

/// The identity of a Patient (its JSON): INS identifiers, name, gender, birth date.
fn identity_of(json: &str) -> Option<String> {
    let Ok(Value::Object(patient)) = serde_json::from_str::<Value>(json) else {
        return None;
    };
    let mut identity = Map::new();
    for (key, value) in patient {
        match key.as_str() {
            "resourceType" | "id" => {
                identity.insert(key, value);
            }
            "meta" => {
                let mut meta = Map::new();
                for kept in ["versionId", "lastUpdated"] {
                    if let Some(v) = value.get(kept) {
                        meta.insert(kept.to_owned(), v.clone());
                    }
                }
                identity.insert(key, Value::Object(meta));
            }
            "identifier" => {
                let ins: Vec<Value> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|i| i.get("system").and_then(Value::as_str) == Some(INS_SYSTEM))
                    .cloned()
                    .collect();
                identity.insert(key, Value::Array(ins));
            }
            other if IDENTITY.contains(&other) => {
                identity.insert(key, value);
            }
            _ => {}
        }
    }
    mark_subsetted(&mut identity);
    serde_json::to_string(&Value::Object(identity)).ok()
}
