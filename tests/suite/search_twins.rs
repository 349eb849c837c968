//! Twin search parameters through HTTP on every backend: a parameter whose expression is
//! another's (Patient's `phonetic` and `name` are both `Patient.name`; CodeSystem's
//! `system` and `url` both `CodeSystem.url`) has no index rows of its own and reads those
//! of its twin named after the element (`name`, `url`), with its modifiers, `:missing`,
//! `_sort` and chains finding what rows of its own would give.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::storage::index;

use crate::common::{each_backend, fhir_request, get, put_all, send};

fn world() -> Vec<Value> {
    vec![
        json!({"resourceType": "Patient", "id": "helene",
               "name": [{"family": "Durand", "given": ["Hélène"]}]}),
        json!({"resourceType": "Patient", "id": "jean",
               "name": [{"family": "Martin", "given": ["Jean"]}, {"text": "Jean-Pierre Martin"}]}),
        json!({"resourceType": "Patient", "id": "nameless", "gender": "unknown"}),
        json!({"resourceType": "Observation", "id": "weight", "status": "final",
               "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
               "subject": {"reference": "Patient/helene"}}),
        json!({"resourceType": "CodeSystem", "id": "tre-a07", "status": "active", "content": "complete",
               "url": "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument"}),
        json!({"resourceType": "CodeSystem", "id": "g15", "status": "active", "content": "complete",
               "url": "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"}),
    ]
}

/// The ids of a searchset's entries, in the bundle's order.
fn ids_in_order(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_rt::test]
async fn twin_parameters_read_the_rows_of_the_twin_named_after_the_element() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        put_all(&app, &token, &world()).await;
        let cases: Vec<(&str, Vec<&str>)> = vec![
            // `phonetic` finds what `name` finds: starts-with, accent- and case-insensitive.
            ("Patient?phonetic=helene", vec!["helene"]),
            ("Patient?name=helene", vec!["helene"]),
            ("Patient?phonetic=durand", vec!["helene"]),
            ("Patient?phonetic:exact=H%C3%A9l%C3%A8ne", vec!["helene"]),
            ("Patient?phonetic:exact=helene", vec![]),
            ("Patient?phonetic:contains=pierre", vec!["jean"]),
            ("Patient?phonetic=mar,dur", vec!["helene", "jean"]),
            ("Patient?phonetic=jean&phonetic=martin", vec!["jean"]),
            ("Patient?phonetic:missing=true", vec!["nameless"]),
            ("Patient?phonetic:missing=false", vec!["helene", "jean"]),
            ("Patient?_sort=phonetic,_id", vec!["helene", "jean", "nameless"]),
            ("Patient?_sort=-phonetic,_id", vec!["jean", "helene", "nameless"]),
            // Through a chain too.
            ("Observation?subject:Patient.phonetic=hel", vec!["weight"]),
            ("Observation?subject:Patient.phonetic=jean", vec![]),
            // `system` finds what `url` finds (uri: exact, `:below`).
            ("CodeSystem?system=https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante", vec!["g15"]),
            ("CodeSystem?url=https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante", vec!["g15"]),
            ("CodeSystem?system:below=https://mos.esante.gouv.fr/NOS", vec!["g15", "tre-a07"]),
            ("CodeSystem?system=https://mos.esante.gouv.fr/NOS", vec![]),
            ("CodeSystem?system:below=https://mos.esante.gouv.fr/NOS/TRE_A07", vec!["tre-a07"]),
            ("CodeSystem?system:missing=true", vec![]),
            ("CodeSystem?system:missing=false", vec!["g15", "tre-a07"]),
        ];
        for (query, expected) in cases {
            let reply = get(&app, &format!("/fhir/{query}"), &token).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}");
            let mut found = ids_in_order(&reply.json());
            if !query.contains("_sort") {
                found.sort();
            }
            assert_eq!(found, expected, "{query}");
        }
        // The twins named after the element have rows; the others have none.
        let params = t.services.store.read(|c| index::indexed_params(c, "Patient", "jean")).unwrap();
        assert!(params.contains("name"), "{params:?}");
        assert!(!params.contains("phonetic"), "{params:?}");
        let params = t.services.store.read(|c| index::indexed_params(c, "CodeSystem", "g15")).unwrap();
        assert!(params.contains("url"), "{params:?}");
        assert!(!params.contains("system"), "{params:?}");
        // A modifier its type has not is still a 400 naming the twin (strict handling).
        let request = fhir_request(Method::GET, "/fhir/Patient?phonetic:below=x", &token, None)
            .insert_header(("Prefer", "handling=strict"));
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.issues().iter().any(|(_, text)| text.contains("phonetic")));
    })
    .await;
}
